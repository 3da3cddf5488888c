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

/// A number, integer or decimal, as `f64`; `None` for anything else.
pub fn as_f64(v: &Dynamic) -> Option<f64> {
    v.as_int()
        .map(|i| i as f64)
        .ok()
        .or_else(|| v.as_float().ok())
}
