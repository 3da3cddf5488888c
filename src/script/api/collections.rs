//! The lazy collections (`institutions()`, `findings()`, …) and what scripts
//! do with them: count, filter, map (on every core, see `par`), test, index,
//! turn into arrays; and `districts()`, the ledger's own list.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FnPtr, NativeCallContext, INT};

use super::common::key_text;
use super::growth::{collect_checked, fits, grow_checked};
use crate::model::RecordKind;
use crate::script::errors::{err, ledger_err, RResult};
use crate::script::par::{self, BuildEngine};
use crate::script::records::{type_name, Records};
use crate::script::state::Host;

/// Registers the collections; `build` makes the engines of a parallel map's workers.
pub fn register(engine: &mut Engine, host: &Arc<Host>, build: BuildEngine) {
    register_sources(engine, host);
    register_walks(engine, host.limits.max_memory);
    register_tests(engine);
    let h = host.clone();
    engine.register_fn(
        "map",
        move |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<Array> {
            map(&ctx, &h, build, r, f)
        },
    );
    let max = host.limits.max_memory;
    engine.register_fn("join", move |a: Array, sep: &str| -> RResult<String> {
        join(max, &a, sep)
    });
    engine.register_indexer_get(|r: &mut Records, i: INT| -> RResult<Dynamic> {
        // Walks to the i-th record: fine for a look, slow in a loop (use `for` or to_array()).
        let n = usize::try_from(i).map_err(|_| format!("index {i} is negative"))?;
        match r.iter().nth(n) {
            Some(x) => x,
            None => err(format!("index {i} is past the end of the collection")),
        }
    });
}

/// `join(array, separator)` within a heap limit of `max` bytes (compiled
/// code calls it too).
pub(crate) fn join(max: usize, a: &[Dynamic], sep: &str) -> RResult<String> {
    // An array may hold one long string many times over, shared: the
    // joined text is each copy in full (twice while it is made).
    let text: usize = a.iter().map(text_len).fold(0, usize::saturating_add);
    let seps = sep.len().saturating_mul(a.len());
    fits(max, text.saturating_add(seps).saturating_mul(2))?;
    // Text items (a list of reasons) straight into the result; the same
    // text `key_text` gives them (a shared one prints as "… (shared)").
    let mut out = String::with_capacity(text.saturating_add(seps));
    for (n, v) in a.iter().enumerate() {
        let Some(s) = (!v.is_shared())
            .then(|| v.as_immutable_string_ref().ok())
            .flatten()
        else {
            return Ok(a.iter().map(key_text).collect::<Vec<_>>().join(sep));
        };
        if n > 0 {
            out.push_str(sep);
        }
        out.push_str(&s);
    }
    Ok(out)
}

/// `institutions()`, `findings()`, `inspections()`, `applications()`,
/// `courses()` over the host's current snapshot, and `districts()`.
fn register_sources(engine: &mut Engine, host: &Arc<Host>) {
    for (name, kind) in [
        ("institutions", RecordKind::Institutions),
        ("findings", RecordKind::Findings),
        ("inspections", RecordKind::Inspections),
        ("applications", RecordKind::Applications),
        ("courses", RecordKind::Courses),
    ] {
        let h = host.clone();
        engine.register_fn(name, move || Records {
            kind,
            snap: h.snap(),
        });
    }
    let h = host.clone();
    engine.register_fn("districts", move || -> Array {
        h.snap()
            .reader
            .districts()
            .iter()
            .map(|d| d.clone().into())
            .collect()
    });
}

/// `len`, `is_empty`, `to_array`, `filter`; the arrays they make are checked
/// against the memory limit as they grow (`max` bytes).
fn register_walks(engine: &mut Engine, max: usize) {
    engine.register_fn("len", |r: &mut Records| -> RResult<INT> {
        match r.kind {
            RecordKind::Institutions => Ok(r.snap.reader.counts().map_err(ledger_err)?.0 as INT),
            _ => {
                let mut n = 0;
                for x in r.iter() {
                    let _ = x?;
                    n += 1;
                }
                Ok(n)
            }
        }
    });
    engine.register_fn("is_empty", |r: &mut Records| -> RResult<bool> {
        Ok(r.iter().next().transpose()?.is_none())
    });
    engine.register_fn("to_array", move |r: &mut Records| -> RResult<Array> {
        collect_checked(max, r.iter())
    });
    // `findings().filter(…)` is already an array; asking again is harmless.
    engine.register_fn("to_array", |a: Array| a);
    engine.register_fn(
        "filter",
        move |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<Array> {
            let mut out = Array::new();
            for x in r.iter() {
                let x = x?;
                if call_bool(&ctx, &f, x.clone())? {
                    grow_checked(max, &mut out)?;
                    out.push(x);
                }
            }
            Ok(out)
        },
    );
}

/// `count`, `any` and `all` with a test function, on collections and arrays.
fn register_tests(engine: &mut Engine) {
    engine.register_fn(
        "count",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<INT> {
            let mut n = 0;
            for x in r.iter() {
                if call_bool(&ctx, &f, x?)? {
                    n += 1;
                }
            }
            Ok(n)
        },
    );
    engine.register_fn(
        "count",
        |ctx: NativeCallContext, r: Array, f: FnPtr| -> RResult<INT> {
            let mut n = 0;
            for x in r {
                if call_bool(&ctx, &f, x)? {
                    n += 1;
                }
            }
            Ok(n)
        },
    );
    engine.register_fn(
        "any",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<bool> {
            for x in r.iter() {
                if call_bool(&ctx, &f, x?)? {
                    return Ok(true);
                }
            }
            Ok(false)
        },
    );
    engine.register_fn(
        "all",
        |ctx: NativeCallContext, r: &mut Records, f: FnPtr| -> RResult<bool> {
            for x in r.iter() {
                if !call_bool(&ctx, &f, x?)? {
                    return Ok(false);
                }
            }
            Ok(true)
        },
    );
    engine.register_fn(
        "any",
        |ctx: NativeCallContext, a: Array, f: FnPtr| -> RResult<bool> {
            for x in a {
                if call_bool(&ctx, &f, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        },
    );
}

/// `records.map(f)`: on every core when that gives exactly the sequential
/// result (see `par`), else one record after another.
fn map(
    ctx: &NativeCallContext,
    h: &Arc<Host>,
    build: BuildEngine,
    r: &mut Records,
    f: FnPtr,
) -> RResult<Array> {
    let at = (ctx.call_source().unwrap_or(""), ctx.call_position());
    // Top-level constants, which functions read as `global::NAME`.
    let consts: Vec<(String, Dynamic)> = ctx
        .global_runtime_state()
        .constants
        .as_ref()
        .map(|c| {
            c.read()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(out) = par::try_par_map(h, build, r, &f, at, &consts)? {
        return Ok(out);
    }
    let mut out = Array::new();
    for x in r.iter() {
        grow_checked(h.limits.max_memory, &mut out)?;
        out.push(f.call_within_context(ctx, (x?,))?);
    }
    Ok(out)
}

/// About how long an item is as text: strings exactly, anything else as a
/// short value (a number, a date); arrays and maps are rare in a join.
fn text_len(v: &Dynamic) -> usize {
    v.as_immutable_string_ref().map_or(24, |s| s.len())
}

/// Calls a test function, which must answer true or false.
fn call_bool(ctx: &NativeCallContext, f: &FnPtr, v: Dynamic) -> RResult<bool> {
    let r: Dynamic = f.call_within_context(ctx, (v,))?;
    r.as_bool().or_else(|_| {
        err(format!(
            "the function passed to filter must return true or false, not {}",
            type_name(&r)
        ))
    })
}

#[cfg(test)]
mod join_tests {
    use super::*;

    #[test]
    fn joined_text_is_each_items_key_text() {
        let shared = Dynamic::from("共享").into_shared();
        for a in [
            vec![],
            vec!["一".into(), "二 \"x\"".into(), "".into()],
            vec!["a".into(), Dynamic::UNIT, 2.5.into(), 7.into()],
            vec![shared.clone(), "b".into(), shared],
        ] {
            let want = a.iter().map(key_text).collect::<Vec<_>>().join("；");
            assert_eq!(join(usize::MAX, &a, "；").unwrap(), want);
        }
    }
}
