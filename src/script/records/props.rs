//! What a record's property is: its name, its type and, for enumerated
//! properties, every allowed value in English and Chinese. The one table
//! per record type ([`super::ScriptRecord::PROPS`]) that getters, `:help`,
//! `casebook schema`, completion, `casebook check`, the comparison of a
//! property with a Chinese name and the generated API reference all read.

use crate::model::{
    AppStatus, Category, CourseStatus, Department, FindingKind, FindingStatus, Mode, Status, Values,
};

/// The type of a property's value.
#[derive(Debug, Clone, Copy)]
pub enum PropType {
    /// Text.
    Text,
    /// A whole number.
    Int,
    /// A decimal number.
    Float,
    /// true/false.
    Bool,
    /// A date.
    Date,
    /// One of a fixed set of values, each with an English code and Chinese names.
    Enum(&'static Values),
    /// One of the ledger's configured districts (天河, or 天河区 as written in full).
    District,
    /// An array of values of one enum.
    EnumArray(&'static Values),
}

impl PropType {
    /// The type in words, as `casebook schema` shows it.
    pub fn word(&self) -> &'static str {
        match self {
            PropType::Text => "text",
            PropType::Int => "integer",
            PropType::Float => "decimal",
            PropType::Bool => "bool",
            PropType::Date => "date",
            PropType::Enum(_) => "enum",
            PropType::District => "district",
            PropType::EnumArray(_) => "array of enum",
        }
    }

    /// The enumerated values, if the property has a fixed set.
    pub fn values(&self) -> Option<&'static Values> {
        match self {
            PropType::Enum(v) | PropType::EnumArray(v) => Some(v),
            _ => None,
        }
    }

    /// Whether a string compared with this property must be one of its values.
    pub fn is_enumerated(&self) -> bool {
        matches!(self, PropType::Enum(_) | PropType::District)
    }
}

/// One property of a record type.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    /// Its name in scripts (`i.category`).
    pub name: &'static str,
    /// Its type.
    pub ty: PropType,
    /// One line saying what it is.
    pub doc: &'static str,
}

/// A property (for the tables).
pub const fn p(name: &'static str, ty: PropType, doc: &'static str) -> Prop {
    Prop { name, ty, doc }
}

/// The property types the tables use, by short name.
pub mod t {
    use super::*;
    pub const TEXT: PropType = PropType::Text;
    pub const INT: PropType = PropType::Int;
    pub const FLOAT: PropType = PropType::Float;
    pub const BOOL: PropType = PropType::Bool;
    pub const DATE: PropType = PropType::Date;
    pub const DISTRICT: PropType = PropType::District;
    pub const CATEGORY: PropType = PropType::Enum(&Category::VALUES);
    pub const STATUS: PropType = PropType::Enum(&Status::VALUES);
    pub const FINDING_KIND: PropType = PropType::Enum(&FindingKind::VALUES);
    pub const FINDING_STATUS: PropType = PropType::Enum(&FindingStatus::VALUES);
    pub const DEPARTMENTS: PropType = PropType::EnumArray(&Department::VALUES);
    pub const APP_STATUS: PropType = PropType::Enum(&AppStatus::VALUES);
    pub const COURSE_STATUS: PropType = PropType::Enum(&CourseStatus::VALUES);
    pub const MODE: PropType = PropType::Enum(&Mode::VALUES);
}

/// Every district in both forms, for error messages: "越秀 (越秀区), …".
pub fn describe_districts(districts: &[String]) -> String {
    let v: Vec<String> = districts.iter().map(|d| format!("{d} ({d}区)")).collect();
    v.join(", ")
}

/// `KIND.PROP: doc`, its type and every allowed value: the text of `:help PROP`
/// and of one property in `casebook schema`.
pub fn describe(kind: &str, p: &Prop, districts: &[String]) -> String {
    let mut s = format!("{kind}.{} ({}): {}\n", p.name, p.ty.word(), p.doc);
    match p.ty {
        PropType::Enum(v) | PropType::EnumArray(v) => {
            for (en, zh) in v.values {
                s.push_str(&format!("    {en:<22} {}\n", zh.join(" / ")));
            }
        }
        PropType::District => {
            for d in districts {
                s.push_str(&format!("    {d:<20} {d}区\n"));
            }
        }
        _ => {}
    }
    s
}

/// `casebook schema [KIND]`: every property of every record type (or of one).
pub fn schema(kind: Option<&str>, districts: &[String]) -> Result<String, String> {
    let kinds = super::RECORD_TYPES;
    let chosen: Vec<_> = match kind {
        None => kinds.iter().collect(),
        Some(k) => {
            let k = k.trim().to_lowercase();
            // "findings" as well as "finding".
            let found: Vec<_> = kinds
                .iter()
                .filter(|t| t.name == k || k.strip_suffix('s') == Some(t.name))
                .collect();
            if found.is_empty() {
                let names: Vec<&str> = kinds.iter().map(|t| t.name).collect();
                return Err(format!(
                    "no record kind \"{k}\"; the kinds are: {}",
                    names.join(", ")
                ));
            }
            found
        }
    };
    let mut s = String::new();
    for t in chosen {
        s.push_str(&format!("{} ({})\n", t.name, t.friendly));
        for p in t.props {
            s.push_str("  ");
            s.push_str(&describe(t.name, p, districts));
        }
        s.push('\n');
    }
    Ok(s.trim_end().to_string() + "\n")
}

static DISTRICT_ORDER: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Remembers the ledger's districts, in its order, for [`bureau_order`]
/// (one ledger per process; set when a script host is made).
pub fn set_district_order(districts: &[String]) {
    let mut d = DISTRICT_ORDER.write().unwrap();
    if d.as_slice() != districts {
        *d = districts.to_vec();
    }
}

/// Puts keys in the bureau's order when they are all districts (the ledger's
/// order, 越秀 … 增城) or all codes of one enum (its declared order), with
/// `()` last; other keys keep their order. `count_by`, `group_by` and the
/// tables of their maps show this order.
pub fn bureau_order(keys: &mut [String]) {
    let real: Vec<&String> = keys.iter().filter(|k| k.as_str() != "()").collect();
    if real.is_empty() {
        return;
    }
    // Most maps are neither: answer on the first key.
    let first = real[0].as_str();
    let lists = enum_lists();
    let is_district = DISTRICT_ORDER.read().unwrap().iter().any(|d| d == first);
    if !is_district && !lists.iter().any(|v| v.rank(first).is_some()) {
        return;
    }
    let districts = DISTRICT_ORDER.read().unwrap();
    let ds: Vec<&str> = districts.iter().map(String::as_str).collect();
    // In the districts' order, else in the order of the one enum holding them all.
    if real.iter().all(|k| ds.contains(&k.as_str())) {
        keys.sort_by_key(|k| ds.iter().position(|d| d == k).unwrap_or(usize::MAX));
    } else if let Some(v) = lists
        .iter()
        .find(|v| real.iter().all(|k| v.rank(k).is_some()))
    {
        keys.sort_by_key(|k| v.rank(k).unwrap_or(usize::MAX));
    }
}

/// Every enum a property can hold.
fn enum_lists() -> &'static [&'static Values] {
    static LISTS: std::sync::OnceLock<Vec<&'static Values>> = std::sync::OnceLock::new();
    LISTS.get_or_init(collect_enums)
}

fn collect_enums() -> Vec<&'static Values> {
    let mut v: Vec<&'static Values> = Vec::new();
    for t in super::RECORD_TYPES {
        for p in t.props {
            if let Some(x) = p.ty.values() {
                if !v.iter().any(|y| std::ptr::eq(*y, x)) {
                    v.push(x);
                }
            }
        }
    }
    v
}
