//! The rows a script makes: `emit(map)`, `emit(record)` and `columns([…])`.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Array, Dynamic, Engine, Map};

use crate::script::errors::{err, RResult};
use crate::script::records::{prop, record_props, type_name, CourseRef, InstitutionRef};
use crate::script::state::{Host, NewRow};

/// Registers `emit` and `columns`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("emit", move |m: Map| emit_map(&h, m));
    let h = host.clone();
    engine.register_fn("emit", move |v: Dynamic| -> RResult<()> {
        let Some(props) = record_props(&v) else {
            return err(format!(
                "emit takes a map like #{{id: i.id}} or a record, not {}",
                type_name(&v)
            ));
        };
        let mut m = Map::new();
        for p in props {
            m.insert(p.name.into(), prop(&v, p.name).unwrap_or_default());
        }
        let mut out = h.out.lock().unwrap();
        // A record emitted first fixes the columns in its fields' order (SPEC §2), not alphabetically.
        if out.rows.is_empty() && out.columns.is_none() {
            out.columns = Some(props.iter().map(|p| p.name.to_string()).collect());
            out.columns_from_emit = true;
        }
        out.rows.push(m);
        drain(&h, &mut out);
        Ok(())
    });
    let h = host.clone();
    engine.register_fn("columns", move |a: Array| -> RResult<()> {
        let mut out = h.out.lock().unwrap();
        let cols: Vec<String> = a.iter().map(|v| v.to_string()).collect();
        if let Some(s) = h.stream.lock().unwrap().as_ref() {
            if let Err(e) = s.allows_columns(&cols) {
                return err(e);
            }
        }
        out.columns = Some(cols);
        out.columns_from_emit = false;
        Ok(())
    });
}

/// `emit(map)` (compiled code calls it too).
pub(crate) fn emit_map(h: &Host, m: Map) {
    let mut out = h.out.lock().unwrap();
    out.rows.push(m);
    drain(h, &mut out);
}

/// `emit(#{…})` of a map literal: `row`'s cells for `keys`, the map's
/// (sorted) key order, without building the map (compiled code).
pub(crate) fn emit_row<K: AsRef<str>>(h: &Host, keys: &[K], row: NewRow) {
    let mut out = h.out.lock().unwrap();
    out.rows.push_row(keys, row);
    drain(h, &mut out);
}

/// How a row keeps one property of one record type: its text, borrowed
/// from the record; an enumerated code's text; a date.
enum Read<R> {
    Text(fn(&R) -> &str),
    Code(fn(&R) -> &'static str),
    Date(fn(&R) -> NaiveDate),
}

impl<R> Clone for Read<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Read<R> {}

/// A record property that `emit(#{…})` keeps in the row as the text or
/// date the record holds, without a script string or a boxed date (see
/// [`NewRow`]): for each record type, only where its getter is certain to
/// give a string of that text or a date of that day, and nothing else.
pub(crate) struct CellRead {
    institution: Option<Read<InstitutionRef>>,
    course: Option<Read<CourseRef>>,
}

/// The row reads of property `name`, if a record type has one.
pub(crate) fn cell_read(name: &str) -> Option<CellRead> {
    let institution: Option<Read<InstitutionRef>> = match name {
        "id" => Some(Read::Text(|r| r.institution.id.as_str())),
        "name" => Some(Read::Text(|r| r.institution.name.as_str())),
        "district" => Some(Read::Text(|r| r.institution.district.as_str())),
        "category" => Some(Read::Code(|r| r.institution.category.as_str())),
        _ => None,
    };
    let course: Option<Read<CourseRef>> = match name {
        "id" => Some(Read::Text(|r| r.course.id.as_str())),
        "institution_id" => Some(Read::Text(|r| r.course.institution_id.as_str())),
        "name" => Some(Read::Text(|r| r.course.name.as_str())),
        "subject_type" => Some(Read::Code(|r| r.course.subject_type.as_str())),
        "mode" => Some(Read::Code(|r| r.course.mode.as_str())),
        "filed_on" => Some(Read::Date(|r| r.course.filed_on)),
        "starts_on" => Some(Read::Date(|r| r.course.starts_on)),
        "ends_on" => Some(Read::Date(|r| r.course.ends_on)),
        _ => None,
    };
    (institution.is_some() || course.is_some()).then_some(CellRead {
        institution,
        course,
    })
}

impl CellRead {
    /// Sets cell `i` of `row` to `v`'s property if `v` is a record this
    /// covers; false (and `row` unchanged) otherwise.
    #[inline]
    pub(crate) fn fill(&self, v: &Dynamic, row: &mut NewRow, i: usize) -> bool {
        fn one<R: rhai::Variant + Clone>(
            g: Option<Read<R>>,
            v: &Dynamic,
            row: &mut NewRow,
            i: usize,
        ) -> bool {
            let Some(g) = g else {
                return false;
            };
            let Some(r) = v.read_lock::<R>() else {
                return false;
            };
            match g {
                Read::Text(f) => row.set_text(i, f(&r)),
                Read::Code(f) => row.set_static(i, f(&r)),
                Read::Date(f) => row.set_date(i, f(&r)),
            }
            true
        }
        one(self.course, v, row, i) || one(self.institution, v, row, i)
    }
}

/// Hands the rows gathered so far to the run's stream, if it streams.
fn drain(h: &Host, out: &mut crate::script::state::Output) {
    if out.rows.len() >= crate::script::stream::FLUSH_ROWS {
        if let Some(s) = h.stream.lock().unwrap().as_mut() {
            s.drain(out);
        }
    }
}
