//! Small conversions that several sections of the API share.

use rhai::Dynamic;

use crate::model::fmt_date;
use crate::script::records::Date;

/// A value as the text of a map key or a joined item: dates as ISO, `()` as "()".
pub fn key_text(v: &Dynamic) -> String {
    if v.is_unit() {
        "()".into()
    } else if let Some(d) = v.read_lock::<Date>() {
        fmt_date(d.0)
    } else {
        v.to_string()
    }
}

/// Refuses text with control characters (see `model::check_text`) that a
/// write function `what` would store: a reason, a list's name, a licence number.
pub fn plain_text(what: &str, field: &'static str, s: &str) -> crate::script::errors::RResult<()> {
    let mut e = Vec::new();
    crate::model::check_text(&mut e, field, s);
    match e.pop() {
        Some(f) => {
            crate::script::errors::err(format!("{what}: the {field} {:?} {}", f.value, f.reason))
        }
        None => Ok(()),
    }
}

/// A number, integer or decimal, as `f64`; `None` for anything else.
pub fn as_f64(v: &Dynamic) -> Option<f64> {
    v.as_int()
        .map(|i| i as f64)
        .ok()
        .or_else(|| v.as_float().ok())
}
