//! The records scripts read: one file per record type, each a handle on a
//! stored record and the date it is seen as of, with its properties computed
//! one at a time when a script asks for them.
//!
//! [`ScriptRecord`] is what every record type says about itself (its name in
//! scripts and in words, its properties, the columns a table of them shows
//! first); the functions here answer the same questions for any script value.

mod application;
mod collection;
mod course;
mod date;
mod finding;
mod inspection;
mod institution;
pub mod props;

use std::cell::RefCell;

use chrono::NaiveDate;
use rhai::{Dynamic, ImmutableString, Map};

pub use application::{ApplicationRef, APPLICATION_PROPS};
pub use collection::{Records, RecordsIter};
pub use course::{CourseRef, ScriptCourse, COURSE_PROPS};
pub use date::Date;
pub(crate) use finding::FINDING_DECODED;
pub use finding::{FindingRef, FINDING_PROPS};
pub use inspection::{InspectionRef, INSPECTION_PROPS};
pub use institution::{InstitutionRef, ScriptInstitution, INSTITUTION_PROPS};
pub use props::{Prop, PropType};

/// A record type as scripts see it.
///
/// Getters are looked up by name once, when the engine is built, so reading a
/// property is a call through a function pointer: no name lookup on the path
/// a rule takes a million times.
pub trait ScriptRecord: Clone + Send + Sync + 'static {
    /// The type's name in scripts: what `type_of` returns.
    const TYPE_NAME: &'static str;
    /// The type in words, for error messages ("an institution").
    const FRIENDLY: &'static str;
    /// Property names with their types and a one-line description: the one
    /// list used by getters, `:help`, `casebook schema`, completion and
    /// `casebook check`.
    const PROPS: &'static [Prop];
    /// The properties a table of these records shows first (the REPL's list).
    const DEFAULT_COLUMNS: &'static [&'static str];

    /// The getter of property `name`, or `None` if the type has no such
    /// property. Asked once per property when the engine is built, so a
    /// script's `i.name` is one call through a function pointer.
    fn getter(name: &str) -> Option<fn(&Self) -> Dynamic>;

    /// A property by name, or `None` if the type has no such property.
    fn prop(&self, name: &str) -> Option<Dynamic> {
        Self::getter(name).map(|get| get(self))
    }
}

/// What [`ScriptRecord`] says about one type, as a value: for code that holds
/// a script value and asks what record, if any, it is.
#[derive(Clone, Copy)]
pub struct RecordType {
    /// [`ScriptRecord::TYPE_NAME`].
    pub name: &'static str,
    /// [`ScriptRecord::FRIENDLY`].
    pub friendly: &'static str,
    /// [`ScriptRecord::PROPS`].
    pub props: &'static [Prop],
    /// [`ScriptRecord::DEFAULT_COLUMNS`].
    pub default_columns: &'static [&'static str],
    is: fn(&Dynamic) -> bool,
    rust_name: fn() -> &'static str,
}

impl RecordType {
    /// The description of `R`.
    pub const fn of<R: ScriptRecord>() -> RecordType {
        RecordType {
            name: R::TYPE_NAME,
            friendly: R::FRIENDLY,
            props: R::PROPS,
            default_columns: R::DEFAULT_COLUMNS,
            is: Dynamic::is::<R>,
            rust_name: std::any::type_name::<R>,
        }
    }

    /// The last segment of the Rust type's name, which Rhai shows where it has
    /// no script name for a type (`InstitutionRef`).
    fn rust_name(&self) -> &'static str {
        let n = (self.rust_name)();
        n.rsplit("::").next().unwrap_or(n)
    }
}

/// Every record type, in the order `:help` lists them.
pub const RECORD_TYPES: [RecordType; 5] = [
    RecordType::of::<InstitutionRef>(),
    RecordType::of::<FindingRef>(),
    RecordType::of::<InspectionRef>(),
    RecordType::of::<ApplicationRef>(),
    RecordType::of::<CourseRef>(),
];

/// The record type of a script value, or `None` if it is not a record.
pub fn record_type(v: &Dynamic) -> Option<&'static RecordType> {
    RECORD_TYPES.iter().find(|t| (t.is)(v))
}

/// The property names of a record, for tables and field lists; `None` for other values.
pub fn record_props(v: &Dynamic) -> Option<&'static [Prop]> {
    record_type(v).map(|t| t.props)
}

/// The columns a table of records like `v` shows first; `None` if `v` is not a record.
pub fn default_columns(v: &Dynamic) -> Option<&'static [&'static str]> {
    record_type(v).map(|t| t.default_columns)
}

/// `Some(r.prop(name))` if `v` holds an `R`.
fn prop_of<R: ScriptRecord>(v: &Dynamic, name: &str) -> Option<Option<Dynamic>> {
    v.read_lock::<R>().map(|r| r.prop(name))
}

/// A property of any record or map by name (for `group_by`, `sum_by`, tables); `None` if it has none.
pub fn prop(v: &Dynamic, name: &str) -> Option<Dynamic> {
    prop_of::<InstitutionRef>(v, name)
        .or_else(|| prop_of::<FindingRef>(v, name))
        .or_else(|| prop_of::<InspectionRef>(v, name))
        .or_else(|| prop_of::<ApplicationRef>(v, name))
        .or_else(|| prop_of::<CourseRef>(v, name))
        .unwrap_or_else(|| v.read_lock::<Map>()?.get(name).cloned())
}

/// Every property name any record has.
pub fn all_props() -> impl Iterator<Item = &'static str> {
    RECORD_TYPES
        .iter()
        .flat_map(|t| t.props.iter().map(|p| p.name))
}

/// The plain-words name of a value's type, for error messages.
pub fn type_name(v: &Dynamic) -> String {
    let n = v.type_name();
    friendly_type(n).to_string()
}

/// Maps Rust/Rhai type names to the words scripts use.
pub fn friendly_type(n: &str) -> &str {
    match n {
        "i64" | "int" => "a number",
        "f64" | "float" => "a decimal number",
        "string" | "ImmutableString" | "&str" | "&str | ImmutableString | String" => "a string",
        "bool" => "true/false",
        "()" => "nothing (())",
        "array" => "an array",
        "map" => "a map",
        _ if n.ends_with("Date") || n == "date" => "a date",
        _ => match RECORD_TYPES
            .iter()
            .find(|t| n.ends_with(t.rust_name()) || n == t.name)
        {
            Some(t) => t.friendly,
            None if n.ends_with("Records") || n == "records" => "a collection of records",
            None => n,
        },
    }
}

/// The error for a property `p` that `x` does not have, listing the ones it has.
pub fn no_prop(x: &Dynamic, p: &str) -> Box<rhai::EvalAltResult> {
    let known = record_props(x)
        .map(|ps| ps.iter().map(|p| p.name).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    if known.is_empty() {
        format!("{} has no property \"{p}\"", type_name(x)).into()
    } else {
        format!("{} has no property \"{p}\"; it has: {known}", type_name(x)).into()
    }
}

thread_local! {
    // FxHash: the key is a pointer, and this runs for every enum property read.
    static SYMS: RefCell<rustc_hash::FxHashMap<usize, ImmutableString>> = Default::default();
}

/// A shared string for a `'static` name, so enum getters do not allocate.
pub fn sym(s: &'static str) -> Dynamic {
    SYMS.with(|m| {
        m.borrow_mut()
            .entry(s.as_ptr() as usize ^ (s.len() << 48))
            .or_insert_with(|| ImmutableString::from(s))
            .clone()
            .into()
    })
}

fn opt_str(s: &Option<String>) -> Dynamic {
    match s {
        Some(s) => s.clone().into(),
        None => Dynamic::UNIT,
    }
}

fn opt_date(d: Option<NaiveDate>) -> Dynamic {
    match d {
        Some(d) => Dynamic::from(Date(d)),
        None => Dynamic::UNIT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_property_has_a_getter<R: ScriptRecord>() {
        for p in R::PROPS {
            assert!(R::getter(p.name).is_some(), "{}.{}", R::TYPE_NAME, p.name);
        }
        assert!(R::getter("no_such_property").is_none());
    }

    #[test]
    fn every_listed_property_has_a_getter() {
        every_property_has_a_getter::<InstitutionRef>();
        every_property_has_a_getter::<FindingRef>();
        every_property_has_a_getter::<InspectionRef>();
        every_property_has_a_getter::<ApplicationRef>();
        every_property_has_a_getter::<CourseRef>();
    }
}
