//! casebook's own native functions that compiled code calls without asking
//! Rhai to resolve them: a call through Rhai's native context looks the
//! function up afresh every time (hashes, the engine's function tables, a
//! copy of the runtime state), a fifth of the course check's time.
//!
//! Each entry is the function the engine registers for exactly these
//! argument types (the same Rust function: `api::…`), taken only when the
//! script has no function of the name and the arguments are of the types;
//! anything else goes to Rhai as before.

use rhai::{Array, Dynamic, ImmutableString, Map, INT};

use super::rt::R;
use crate::script::api::{aggregation, collections, dates, records as api_records, rows};
use crate::script::records::{ApplicationRef, CourseRef, Date, FindingRef};
use crate::script::state::Host;

/// A native function called directly.
#[derive(Clone, Copy, Debug)]
pub enum Direct {
    /// `can_write()`
    CanWrite,
    /// `dry_run()`
    DryRun,
    /// `join(array, text)`
    Join,
    /// `add_months(date, integer)`
    AddMonths,
    /// `yuan(value)`
    Yuan,
    /// `emit(map)`
    Emit,
    /// `institution(text)`, or `x.institution()` of a finding, course or application
    Institution,
}

impl Direct {
    /// The direct call of `name` with `args` arguments (the target counted
    /// for a method), if there is one.
    pub fn of(name: &str, args: usize) -> Option<Direct> {
        Some(match (name, args) {
            ("can_write", 0) => Direct::CanWrite,
            ("dry_run", 0) => Direct::DryRun,
            ("join", 2) => Direct::Join,
            ("add_months", 2) => Direct::AddMonths,
            ("yuan", 1) => Direct::Yuan,
            ("emit", 1) => Direct::Emit,
            ("institution", 1) => Direct::Institution,
            _ => return None,
        })
    }

    /// The result, or `None` when the arguments are not of the types (Rhai
    /// is called). Errors come without a position, as the function's own.
    /// `by_ref`: the first argument is a variable (a value taken is copied,
    /// as Rhai copies it).
    pub fn call(self, host: &Host, by_ref: bool, args: &mut [&mut Dynamic]) -> Option<R<Dynamic>> {
        use Direct::*;
        // A variable captured by a closure: Rhai's to read.
        if args.iter().any(|a| a.is_shared()) {
            return None;
        }
        Some(match (self, args) {
            (CanWrite, []) => Ok(host.write.load(std::sync::atomic::Ordering::Relaxed).into()),
            (DryRun, []) => Ok(host
                .dry_run
                .load(std::sync::atomic::Ordering::Relaxed)
                .into()),
            (Join, [a, sep]) => {
                let a = a.read_lock::<Array>()?;
                let sep = sep.read_lock::<ImmutableString>()?;
                collections::join(host.limits.max_memory, &a, &sep).map(Dynamic::from)
            }
            (AddMonths, [d, n]) => {
                let d = *d.read_lock::<Date>()?;
                let n = n.as_int().ok()? as INT;
                dates::add_months(d, n).map(Dynamic::from)
            }
            (Yuan, [v]) => aggregation::yuan(v).map(Dynamic::from),
            (Emit, [m]) => {
                if !m.is_map() {
                    return None;
                }
                let m = match by_ref {
                    true => m.clone_cast::<Map>(),
                    false => std::mem::take(*m).cast::<Map>(),
                };
                rows::emit_map(host, m);
                Ok(Dynamic::UNIT)
            }
            (Institution, [x]) => {
                if let Some(c) = x.read_lock::<CourseRef>() {
                    return Some(api_records::institution_by_id(
                        host,
                        &c.course.institution_id,
                    ));
                }
                let id = if let Some(f) = x.read_lock::<FindingRef>() {
                    f.institution_id()
                } else if let Some(a) = x.read_lock::<ApplicationRef>() {
                    a.application.institution_id.clone()
                } else if let Some(s) = x.read_lock::<ImmutableString>() {
                    s.to_string()
                } else {
                    return None;
                };
                api_records::institution_by_id(host, &id)
            }
            _ => return None,
        })
    }
}
