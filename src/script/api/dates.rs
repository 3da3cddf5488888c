//! Dates: `date("…")`, `as_of()`, arithmetic in days and months, comparison,
//! and the messages for comparing a date with text or with nothing.

use std::sync::Arc;

use chrono::{Datelike, Duration};
use rhai::{Engine, ImmutableString, INT};

use crate::model::{fmt_date, parse_date};
use crate::script::errors::{err, RResult};
use crate::script::records::Date;
use crate::script::state::Host;

/// Registers the date functions and operators.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_fn("date", |s: &str| -> RResult<Date> {
        parse_date(s)
            .map(Date)
            .or_else(|why| err(format!("date(\"{s}\"): \"{s}\" {why}")))
    });
    engine.register_fn("to_string", |d: &mut Date| fmt_date(d.0));
    engine.register_fn("to_debug", |d: &mut Date| fmt_date(d.0));
    engine.register_get("year", |d: &mut Date| d.0.year() as INT);
    engine.register_get("month", |d: &mut Date| d.0.month() as INT);
    engine.register_get("day", |d: &mut Date| d.0.day() as INT);
    engine.register_get("weekday", |d: &mut Date| {
        d.0.weekday().number_from_monday() as INT
    });
    engine.register_fn("+", |d: Date, n: INT| -> RResult<Date> {
        d.0.checked_add_signed(Duration::days(n))
            .map(Date)
            .ok_or_else(|| "date out of range".into())
    });
    engine.register_fn("-", |d: Date, n: INT| -> RResult<Date> {
        d.0.checked_sub_signed(Duration::days(n))
            .map(Date)
            .ok_or_else(|| "date out of range".into())
    });
    engine.register_fn("-", |a: Date, b: Date| (a.0 - b.0).num_days() as INT);
    engine.register_fn("==", |a: Date, b: Date| a == b);
    engine.register_fn("!=", |a: Date, b: Date| a != b);
    engine.register_fn("<", |a: Date, b: Date| a < b);
    engine.register_fn("<=", |a: Date, b: Date| a <= b);
    engine.register_fn(">", |a: Date, b: Date| a > b);
    engine.register_fn(">=", |a: Date, b: Date| a >= b);
    engine.register_fn("add_months", add_months);
    register_mismatches(engine);
    let h = host.clone();
    engine.register_fn("as_of", move || Date(h.snap().as_of));
}

/// `add_months(date, n)` (compiled code calls it too).
pub(crate) fn add_months(d: Date, n: INT) -> RResult<Date> {
    let m = chrono::Months::new(n.unsigned_abs() as u32);
    let r = if n >= 0 {
        d.0.checked_add_months(m)
    } else {
        d.0.checked_sub_months(m)
    };
    r.map(Date).ok_or_else(|| "date out of range".into())
}

/// Comparisons of a date with text or with nothing.
fn register_mismatches(engine: &mut Engine) {
    // Comparing a date with text is the commonest slip: say what to write instead.
    for op in ["==", "!=", "<", "<=", ">", ">="] {
        engine.register_fn(op, move |_: Date, s: ImmutableString| -> RResult<bool> {
            err(format!(
                "cannot compare a date with a string: use date(\"{s}\")"
            ))
        });
        engine.register_fn(op, move |s: ImmutableString, _: Date| -> RResult<bool> {
            err(format!(
                "cannot compare a string with a date: use date(\"{s}\")"
            ))
        });
    }
    // Optional dates are (): comparing them answers false rather than stopping the run.
    for op in ["<", "<=", ">", ">="] {
        engine.register_fn(op, |_: Date, _: ()| false);
        engine.register_fn(op, |_: (), _: Date| false);
    }
    engine.register_fn("==", |_: Date, _: ()| false);
    engine.register_fn("==", |_: (), _: Date| false);
    engine.register_fn("!=", |_: Date, _: ()| true);
    engine.register_fn("!=", |_: (), _: Date| true);
}
