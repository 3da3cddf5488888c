//! Rhai's built-ins whose allocation grows with an argument, checked against
//! `--max-memory` before they allocate. The limit is otherwise read between
//! operations, and one call is one operation: `"x".pad(1000000000000, "y")`
//! ran past `--timeout 5` for 20 s and took 2.9 GB, and `[].pad(1e11, 0)`
//! ran the machine out of memory, and `blob(100000000000)` asked for 100 GB,
//! before the next operation came.
//!
//! Registered on the engine, these take precedence over Rhai's own
//! functions of the same signature, and do the same work once checked.
//! Strings' are in `growth_text`. What cannot be overridden (the operators
//! `+` and `+=` on strings, arrays and blobs are built into Rhai's
//! evaluator) is bounded by the allocator's ceiling (`alloc::Ceiling`).

use std::sync::Arc;

use rhai::{Array, Blob, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position, INT};

use crate::script::errors::RResult;
use crate::script::state::Host;

/// Registers the checked built-ins.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let max = host.limits.max_memory;
    engine.register_fn(
        "pad",
        move |a: &mut Array, len: INT, item: Dynamic| -> RResult<()> {
            let Ok(len) = usize::try_from(len) else {
                return Ok(());
            };
            if len <= a.len() {
                return Ok(());
            }
            let each = std::mem::size_of::<Dynamic>() + deep_bytes(&item);
            fits(max, (len - a.len()).saturating_mul(each))?;
            a.resize(len, item);
            Ok(())
        },
    );
    engine.register_fn(
        "pad",
        move |s: &mut ImmutableString, len: INT, c: char| -> RResult<()> {
            let have = s.chars().count();
            let Some(more) = usize::try_from(len).ok().and_then(|l| l.checked_sub(have)) else {
                return Ok(());
            };
            let mut b = [0; 4];
            pad_text(max, s, c.encode_utf8(&mut b), more)
        },
    );
    engine.register_fn(
        "pad",
        move |s: &mut ImmutableString, len: INT, p: &str| -> RResult<()> {
            let have = s.chars().count();
            let Some(more) = usize::try_from(len).ok().and_then(|l| l.checked_sub(have)) else {
                return Ok(());
            };
            if p.is_empty() {
                return Ok(());
            }
            pad_text(max, s, p, more)
        },
    );
    register_blobs(engine, max);
    register_arrays(engine, max);
    super::growth_text::register(engine, max);
}

/// Appends `more` characters of `p`, repeated, to `s`: sized first (one
/// allocation, refused at once under an address-space cap) and copied by
/// doubling, where pushing a billion characters one by one took minutes.
fn pad_text(max: usize, s: &mut ImmutableString, p: &str, more: usize) -> RResult<()> {
    if more == 0 {
        return Ok(());
    }
    let n = p.chars().count();
    let (whole, rest) = (more / n, more % n);
    let tail = p.char_indices().nth(rest).map_or(p.len(), |(i, _)| i);
    let bytes = whole.saturating_mul(p.len()).saturating_add(tail);
    // Made as a String, then copied into the script's string type: twice held.
    fits(max, s.len().saturating_add(bytes).saturating_mul(2))?;
    let mut t = String::with_capacity(s.len() + bytes);
    t.push_str(s);
    let start = t.len();
    if whole > 0 {
        t.push_str(p);
        while t.len() - start < whole * p.len() {
            let have = t.len() - start;
            let copy = have.min(whole * p.len() - have);
            t.extend_from_within(start..start + copy);
        }
    }
    t.push_str(&p[..tail]);
    *s = t.into();
    Ok(())
}

/// An array slot: what one more item costs an array before its own contents.
pub(super) const SLOT: usize = std::mem::size_of::<Dynamic>();

/// `array + array` and `array.append(array)`: the joined array is made while
/// both are held.
fn register_arrays(engine: &mut Engine, max: usize) {
    engine.register_fn("+", move |a: Array, b: Array| -> RResult<Array> {
        fits(max, (a.len() + b.len()).saturating_mul(SLOT))?;
        let mut a = a;
        a.extend(b);
        Ok(a)
    });
    engine.register_fn("append", move |a: &mut Array, b: Array| -> RResult<()> {
        if !b.is_empty() {
            fits(max, (a.len() + b.len()).saturating_mul(SLOT))?;
            a.extend(b);
        }
        Ok(())
    });
}

/// Collects records or items into an array, checking the limit whenever the
/// array is about to double: a collection is as large as the ledger, not as
/// the script, and collecting it is one step.
pub(super) fn collect_checked<I>(max: usize, items: I) -> RResult<Array>
where
    I: IntoIterator<Item = RResult<Dynamic>>,
{
    let mut out = Array::new();
    for x in items {
        grow_checked(max, &mut out)?;
        out.push(x?);
    }
    Ok(out)
}

/// Before `out` grows by one item: when it is full (the next push doubles
/// it), checks that the bigger copy fits.
pub(super) fn grow_checked(max: usize, out: &mut Array) -> RResult<()> {
    if out.len() == out.capacity() {
        fits(max, out.capacity().max(4).saturating_mul(2 * SLOT))?;
    }
    Ok(())
}

/// Registers `blob(len)`, `blob(len, value)` and a blob's `pad`, checked the
/// same way: `blob(100000000000)` asked for 100 GB in one call.
fn register_blobs(engine: &mut Engine, max: usize) {
    let sized = move |len: INT, value: INT| -> RResult<Blob> {
        let len = usize::try_from(len).unwrap_or(0);
        fits(max, len)?;
        // As Rhai's own `blob`: the value's low byte.
        Ok(vec![(value & 0xff) as u8; len])
    };
    engine.register_fn("blob", move |len: INT| sized(len, 0));
    engine.register_fn("blob", sized);
    // A byte becomes a 16-byte number.
    engine.register_fn("to_array", move |b: &mut Blob| -> RResult<Array> {
        fits(max, b.len().saturating_mul(SLOT))?;
        Ok(b.iter().map(|&x| (x as INT).into()).collect())
    });
    engine.register_fn(
        "pad",
        move |b: &mut Blob, len: INT, value: INT| -> RResult<()> {
            let len = usize::try_from(len).unwrap_or(0);
            if len > b.len() {
                fits(max, len - b.len())?;
                b.resize(len, (value & 0xff) as u8);
            }
            Ok(())
        },
    );
}

/// Bytes a copy of `v` holds beyond its own slot: strings are shared when
/// copied, arrays and maps are copied whole.
fn deep_bytes(v: &Dynamic) -> usize {
    if let Some(a) = v.read_lock::<Array>() {
        a.iter()
            .map(|x| std::mem::size_of::<Dynamic>() + deep_bytes(x))
            .sum()
    } else if let Some(m) = v.read_lock::<Map>() {
        m.iter()
            .map(|(k, x)| k.len() + 2 * std::mem::size_of::<Dynamic>() + deep_bytes(x))
            .sum()
    } else {
        0
    }
}

/// Refuses to allocate `extra` bytes more than the memory limit leaves, with
/// the memory-limit error every other overrun gets.
pub(super) fn fits(max: usize, extra: usize) -> RResult<()> {
    let need = crate::alloc::heap_bytes().saturating_add(extra);
    if need > max {
        return Err(EvalAltResult::ErrorTerminated(
            format!("memory:{need}").into(),
            Position::NONE,
        )
        .into());
    }
    Ok(())
}
