//! `array.sort_by_key(key)`: keys are read once per item and compared
//! natively, which is what makes sorting half a million courses take a blink
//! instead of the ten million script calls of `sort(|a, b| …)`.

use std::cmp::Ordering;

use rhai::{Array, Dynamic, Engine, FnPtr, NativeCallContext, INT};

use super::growth::fits;
use crate::script::errors::{err, RResult};
use crate::script::records::{no_prop, prop, type_name, Date};

/// Registers `sort_by_key`, whose keys are held within the memory limit of `max` bytes.
pub fn register(engine: &mut Engine, max: usize) {
    engine.register_fn(
        "sort_by_key",
        move |ctx: NativeCallContext, a: &mut Array, key: Dynamic| -> RResult<()> {
            sort_keyed(&ctx, a, &key, false, max)
        },
    );
    engine.register_fn(
        "sort_by_key",
        move |ctx: NativeCallContext, a: &mut Array, key: Dynamic, order: &str| -> RResult<()> {
            let desc = match order {
                "desc" | "descending" => true,
                "asc" | "ascending" => false,
                _ => {
                    return err(format!(
                        "sort_by_key: the order is \"asc\" or \"desc\", not \"{order}\""
                    ))
                }
            };
            sort_keyed(&ctx, a, &key, desc, max)
        },
    );
}

/// Sorts `a` in place, stably, by `key`: a property name, an array of property
/// names (compared in turn), or a function of the item.
fn sort_keyed(
    ctx: &NativeCallContext,
    a: &mut Array,
    key: &Dynamic,
    desc: bool,
    max: usize,
) -> RResult<()> {
    let key_of = |x: &Dynamic| -> RResult<Dynamic> {
        if let Some(f) = key.read_lock::<FnPtr>() {
            return f.call_within_context(ctx, (x.clone(),));
        }
        if let Ok(p) = key.as_immutable_string_ref() {
            return sort_prop(x, &p);
        }
        if let Some(names) = key.read_lock::<Array>() {
            let mut k = Array::with_capacity(names.len());
            for n in names.iter() {
                let Ok(p) = n.as_immutable_string_ref() else {
                    return err(format!(
                        "sort_by_key: a list of keys holds property names, not {}",
                        type_name(n)
                    ));
                };
                k.push(sort_prop(x, &p)?);
            }
            return Ok(Dynamic::from_array(k));
        }
        err(format!(
            "sort_by_key: sort by a property name, a list of names or a function, not {}",
            type_name(key)
        ))
    };
    // The keys and the pairs sorted are held beside the array (three slots
    // an item), and a list of names makes an array per item: checked first,
    // and as keys are read (a key of one's own may be of any size).
    let slot = std::mem::size_of::<Dynamic>();
    let per_key = match key.read_lock::<Array>() {
        Some(names) => 4 * slot + names.len() * slot,
        None => 3 * slot,
    };
    fits(max, a.len().saturating_mul(per_key))?;
    // Keys first: a key that fails leaves the array as it was.
    let mut keys = Vec::with_capacity(a.len());
    for (n, x) in a.iter().enumerate() {
        if n % 4096 == 4095 {
            fits(max, 0)?;
        }
        keys.push(key_of(x)?);
    }
    let mut keyed: Vec<(Dynamic, Dynamic)> = keys.into_iter().zip(a.drain(..)).collect();
    keyed.sort_by(|(x, _), (y, _)| {
        let o = cmp_keys(x, y);
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    a.extend(keyed.into_iter().map(|(_, x)| x));
    Ok(())
}

/// A property to sort by; a map without the key sorts as `()`, like `m.key` reads.
fn sort_prop(x: &Dynamic, p: &str) -> RResult<Dynamic> {
    match prop(x, p) {
        Some(v) => Ok(v),
        None if x.is_map() => Ok(Dynamic::UNIT),
        None => Err(no_prop(x, p)),
    }
}

/// A total order on sort keys: () first, then true/false, numbers, text,
/// dates, arrays (item by item), anything else (as equal).
fn cmp_keys(a: &Dynamic, b: &Dynamic) -> Ordering {
    fn rank(v: &Dynamic) -> u8 {
        if v.is_unit() {
            0
        } else if v.is_bool() {
            1
        } else if v.is_int() || v.is_float() {
            2
        } else if v.is_string() {
            3
        } else if v.is::<Date>() {
            4
        } else if v.is_array() {
            5
        } else {
            6
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match ra {
        1 => a.as_bool().unwrap().cmp(&b.as_bool().unwrap()),
        2 => match (a.as_int(), b.as_int(), a.as_float(), b.as_float()) {
            (Ok(x), Ok(y), ..) => x.cmp(&y),
            (Ok(x), _, _, Ok(y)) => cmp_int_float(x, y),
            (_, Ok(y), Ok(x), _) => cmp_int_float(y, x).reverse(),
            (_, _, Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
        3 => a
            .as_immutable_string_ref()
            .unwrap()
            .as_str()
            .cmp(b.as_immutable_string_ref().unwrap().as_str()),
        4 => a
            .read_lock::<Date>()
            .unwrap()
            .0
            .cmp(&b.read_lock::<Date>().unwrap().0),
        5 => {
            let (x, y) = (
                a.read_lock::<Array>().unwrap(),
                b.read_lock::<Array>().unwrap(),
            );
            for (p, q) in x.iter().zip(y.iter()) {
                let o = cmp_keys(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => Ordering::Equal,
    }
}

/// An integer against a float, exactly (through f64 two integers above 2^53
/// could compare equal to one float and not to each other, and a sort whose
/// order is not total may panic). NaN sorts after every number.
fn cmp_int_float(i: INT, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    if f >= 9.3e18 {
        return Ordering::Less;
    }
    if f < -9.3e18 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match i.cmp(&(t as INT)) {
        Ordering::Equal if f > t => Ordering::Less,
        Ordering::Equal if f < t => Ordering::Greater,
        o => o,
    }
}
