//! Counting, grouping and summing records or maps by a property, and numbers
//! as text: `count_by`, `group_by`, `sum_by`, `sum`, `yuan`, `fmt_num`, `pct`.

use rhai::{Array, Dynamic, Engine, Map, INT};

use super::common::{as_f64, key_text};
use crate::script::errors::{err, RResult};
use crate::script::records::{no_prop, prop, type_name, Records};

/// Registers the aggregation and number-formatting functions; collections
/// are read within the memory limit of `max` bytes.
pub fn register(engine: &mut Engine, max: usize) {
    engine.register_fn("count_by", move |items: Dynamic, p: &str| -> RResult<Map> {
        let mut m = Map::new();
        for x in collect(max, items)? {
            let k = key_text(&prop(&x, p).ok_or_else(|| no_prop(&x, p))?);
            let e = m.entry(k.into()).or_insert(Dynamic::from(0 as INT));
            *e = Dynamic::from(e.as_int().unwrap_or(0) + 1);
        }
        Ok(m)
    });
    engine.register_fn("group_by", move |items: Dynamic, p: &str| -> RResult<Map> {
        let mut m: Map = Map::new();
        for x in collect(max, items)? {
            let k = key_text(&prop(&x, p).ok_or_else(|| no_prop(&x, p))?);
            let e = m
                .entry(k.into())
                .or_insert_with(|| Dynamic::from_array(Array::new()));
            e.write_lock::<Array>().unwrap().push(x);
        }
        Ok(m)
    });
    engine.register_fn(
        "sum_by",
        move |items: Dynamic, p: &str| -> RResult<Dynamic> {
            let (mut i, mut f, mut float) = (0 as INT, 0.0f64, false);
            for x in collect(max, items)? {
                let v = prop(&x, p).ok_or_else(|| no_prop(&x, p))?;
                if let Ok(n) = v.as_int() {
                    i += n;
                } else if let Ok(n) = v.as_float() {
                    f += n;
                    float = true;
                } else if !v.is_unit() {
                    return err(format!(
                        "sum_by: property {p} is {}, not a number",
                        type_name(&v)
                    ));
                }
            }
            Ok(if float {
                Dynamic::from(f + i as f64)
            } else {
                Dynamic::from(i)
            })
        },
    );
    engine.register_fn("sum", |a: Array| -> RResult<Dynamic> {
        let (mut i, mut f, mut float) = (0 as INT, 0.0f64, false);
        for v in a {
            if let Ok(n) = v.as_int() {
                i += n;
            } else if let Ok(n) = v.as_float() {
                f += n;
                float = true;
            } else {
                return err(format!("sum: {} is not a number", type_name(&v)));
            }
        }
        Ok(if float {
            Dynamic::from(f + i as f64)
        } else {
            Dynamic::from(i)
        })
    });
    // A map's keys in the bureau's order (districts 越秀 … 增城, an enum's
    // declared order) where they are such; Rhai's own are by code point.
    engine.register_fn("keys", |m: &mut Map| -> Array {
        ordered_keys(m).into_iter().map(Dynamic::from).collect()
    });
    engine.register_fn("values", |m: &mut Map| -> Array {
        ordered_keys(m)
            .iter()
            .map(|k| m.get(k.as_str()).cloned().unwrap_or_default())
            .collect()
    });
    register_number_text(engine);
}

fn ordered_keys(m: &Map) -> Vec<String> {
    let mut k: Vec<String> = m.keys().map(|k| k.to_string()).collect();
    crate::script::records::props::bureau_order(&mut k);
    k
}

/// `yuan(amount)` (compiled code calls it too).
pub(crate) fn yuan(v: &Dynamic) -> RResult<String> {
    as_f64(v)
        .map(|x| group_digits(x, 2))
        .ok_or_else(|| format!("yuan: {} is not a number", type_name(v)).into())
}

/// `yuan`, `fmt_num`, `pct`.
fn register_number_text(engine: &mut Engine) {
    engine.register_fn("yuan", |v: Dynamic| yuan(&v));
    engine.register_fn("fmt_num", |v: Dynamic, dec: INT| -> RResult<String> {
        as_f64(&v)
            .map(|x| group_digits(x, dec.clamp(0, 10) as usize))
            .ok_or_else(|| format!("fmt_num: {} is not a number", type_name(&v)).into())
    });
    engine.register_fn("pct", |a: Dynamic, b: Dynamic| -> RResult<String> {
        match (as_f64(&a), as_f64(&b)) {
            (Some(_), Some(0.0)) => Ok("—".into()),
            (Some(p), Some(w)) => Ok(format!("{:.1}%", p * 100.0 / w)),
            _ => err("pct: both arguments must be numbers"),
        }
    });
}

/// The items of a collection or an array.
fn collect(max: usize, v: Dynamic) -> RResult<Vec<Dynamic>> {
    if let Some(r) = v.read_lock::<Records>().map(|r| r.clone()) {
        return super::growth::collect_checked(max, r.iter());
    }
    if v.is_array() {
        return Ok(v.into_array().unwrap());
    }
    err(format!(
        "expected an array or a collection of records, got {}",
        type_name(&v)
    ))
}

/// Thousands separators for the integer part.
pub fn group_digits(v: f64, decimals: usize) -> String {
    use std::fmt::Write;
    let s = fixed(v.abs(), decimals).unwrap_or_else(|| {
        let mut s = String::with_capacity(24);
        let _ = write!(s, "{:.*}", decimals, v.abs());
        s
    });
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s.as_str(), None),
    };
    // One string, built once: `yuan` runs for every row of a course check.
    let mut out = String::with_capacity(s.len() + int.len() / 3 + 1);
    if v < 0.0 {
        out.push('-');
    }
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// `format!("{:.*}", decimals, x)` for a finite `x` from 0 to 10^15 with at
/// most four decimals, worked out from its exact binary value (mantissa ×
/// 2^e, scaled by 10^decimals, rounded half to even as Rust's exact
/// formatting rounds) in integers, without the formatting machinery and
/// its big-number fallback; `None` for anything else (`format!` is used).
fn fixed(x: f64, decimals: usize) -> Option<String> {
    if !(x.is_finite() && x > 0.0 && x < 1e15 && decimals <= 4) {
        return None;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = match exp {
        0 => (frac, -1074),
        _ => (frac | (1u64 << 52), exp - 1075),
    };
    let scale = 10u128.pow(decimals as u32);
    let n = m as u128 * scale;
    let q = if e >= 0 {
        n << e
    } else {
        let k = e.unsigned_abs();
        if k > 120 {
            return None;
        }
        let (q, r, half) = (n >> k, n & ((1u128 << k) - 1), 1u128 << (k - 1));
        q + u128::from(r > half || (r == half && q & 1 == 1))
    };
    let mut s = (q / scale).to_string();
    if decimals > 0 {
        use std::fmt::Write;
        let _ = write!(s, ".{:0w$}", q % scale, w = decimals);
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::{fixed, group_digits};

    #[test]
    fn fixed_decimals_are_rusts_own() {
        let mut values: Vec<f64> = Vec::new();
        // Ties (a multiple of a power of two) and decimal fractions.
        for k in 0..20_000u32 {
            for d in [2.0, 8.0, 16.0, 64.0, 100.0, 1000.0, 200.0, 2000.0, 20000.0] {
                values.push(k as f64 / d);
                values.push(k as f64 * 12345.678 / d);
            }
        }
        // Every range of magnitude, from random bits (xorshift, fixed seed).
        let mut r: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..400_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            values.push(f64::from_bits(r >> 1));
            values.push((r % 10_000_000_000) as f64 / 1000.0 * 1.000_000_1);
        }
        values.extend([
            0.0,
            5e-324,
            1e-30,
            0.004_999_999_999_999_999,
            0.005,
            0.015,
            0.025,
            0.125,
            0.375,
            999.995,
            1e15,
            1e15 - 0.125,
            999_999_999_999_999.9,
            4503599627370495.5,
            9007199254740991.0,
            f64::MIN_POSITIVE,
        ]);
        for x in values {
            for d in 0..=4 {
                if let Some(got) = fixed(x, d) {
                    assert_eq!(got, format!("{x:.d$}"), "{x:e} to {d}");
                }
            }
        }
        assert!(fixed(1234.5, 2).is_some() && fixed(f64::NAN, 2).is_none());
    }

    /// `group_digits` as it was before it built one string (five).
    fn before(v: f64, decimals: usize) -> String {
        let s = format!("{:.*}", decimals, v.abs());
        let (int, frac) = s
            .split_once('.')
            .map(|(a, b)| (a.to_string(), Some(b.to_string())))
            .unwrap_or((s.clone(), None));
        let mut out = String::new();
        for (n, c) in int.chars().enumerate() {
            if n > 0 && (int.len() - n) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if let Some(f) = frac {
            out.push('.');
            out.push_str(&f);
        }
        if v < 0.0 {
            format!("-{out}")
        } else {
            out
        }
    }

    #[test]
    fn digits_are_grouped_as_before() {
        let values = [
            0.0,
            -0.0,
            0.005,
            0.015,
            1.0,
            -1.5,
            999.995,
            1000.0,
            14898.0,
            -1234567.891,
            1e15,
            1e21,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            5000.000000001,
        ];
        for v in values {
            for d in [0, 1, 2, 10] {
                assert_eq!(group_digits(v, d), before(v, d), "{v} {d}");
            }
        }
    }
}
