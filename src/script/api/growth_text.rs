//! Rhai's string built-ins whose result can be many times the string they
//! start from, checked against `--max-memory` before they allocate (see
//! `growth`): `split` of 8 MB of commas made 8 million strings, 530 MB under
//! `--max-memory 64`; `replace` and `to_chars` multiply the same way, and
//! `parse_json` turns each short token into a value.
//!
//! Each does the same work as Rhai's function of the same signature, which
//! it takes precedence over.

use rhai::{Array, Dynamic, Engine, ImmutableString, INT};

use super::growth::{fits, SLOT};
use crate::script::errors::RResult;

/// What one piece of a split costs besides its text: its slot in the array
/// and the shared string it is (a reference count and a 24-byte inline
/// string, rounded up by the allocator).
const PIECE: usize = SLOT + 48;

/// What parsed JSON may take per byte of its text: `[[],[],…]` makes an
/// array of three bytes into a slot and an empty array (48 bytes).
const JSON_PER_BYTE: usize = 24;

/// Registers the checked string built-ins.
pub fn register(engine: &mut Engine, max: usize) {
    register_splits(engine, max);
    register_replace(engine, max);
    engine.register_fn("to_chars", move |s: &str| -> RResult<Array> {
        fits(max, s.chars().count().saturating_mul(SLOT))?;
        Ok(s.chars().map(Into::into).collect())
    });
    engine.register_fn("parse_json", move |json: &str| -> RResult<Dynamic> {
        fits(max, json.len().saturating_mul(JSON_PER_BYTE))?;
        serde_json::from_str(json).map_err(|e| e.to_string().into())
    });
}

/// Checks that `pieces` pieces of `s` fit: their slots and strings, and at
/// most the text itself again.
fn pieces_fit(max: usize, s: &str, pieces: usize) -> RResult<()> {
    fits(max, pieces.saturating_mul(PIECE).saturating_add(s.len()))
}

/// How many pieces `split(delim)` makes: Rust's split by "" gives one per
/// character and an empty one at each end.
fn count_str(s: &str, delim: &str) -> usize {
    if delim.is_empty() {
        s.chars().count() + 2
    } else {
        s.matches(delim).count() + 1
    }
}

/// At most `segments` of `count` pieces (`segments` ≤ 1 gives the whole string).
fn at_most(count: usize, segments: INT) -> usize {
    usize::try_from(segments).map_or(1, |n| count.min(n.max(1)))
}

/// Splits as Rhai does: an empty string, or one without the delimiter, is
/// one piece (the string itself, shared).
fn whole(s: &ImmutableString) -> Array {
    vec![s.clone().into()]
}

/// `split` and `split_rev`, by text or character, whole or into at most n segments.
fn register_splits(engine: &mut Engine, max: usize) {
    engine.register_fn("split", move |s: ImmutableString| -> RResult<Array> {
        if s.is_empty() {
            return Ok(whole(&s));
        }
        pieces_fit(max, &s, s.split_whitespace().count())?;
        Ok(s.split_whitespace().map(Into::into).collect())
    });
    for rev in [false, true] {
        let name = if rev { "split_rev" } else { "split" };
        engine.register_fn(name, move |s: ImmutableString, d: &str| -> RResult<Array> {
            if s.is_empty() || (!d.is_empty() && !s.contains(d)) {
                return Ok(whole(&s));
            }
            pieces_fit(max, &s, count_str(&s, d))?;
            Ok(if rev {
                s.rsplit(d).map(Into::into).collect()
            } else {
                s.split(d).map(Into::into).collect()
            })
        });
        engine.register_fn(
            name,
            move |s: ImmutableString, d: &str, segments: INT| -> RResult<Array> {
                if segments <= 1 || s.is_empty() || (!d.is_empty() && !s.contains(d)) {
                    return Ok(whole(&s));
                }
                pieces_fit(max, &s, at_most(count_str(&s, d), segments))?;
                let n = usize::try_from(segments).unwrap_or(usize::MAX);
                Ok(if rev {
                    s.rsplitn(n, d).map(Into::into).collect()
                } else {
                    s.splitn(n, d).map(Into::into).collect()
                })
            },
        );
        engine.register_fn(name, move |s: ImmutableString, d: char| -> RResult<Array> {
            if s.is_empty() || !s.contains(d) {
                return Ok(whole(&s));
            }
            pieces_fit(max, &s, s.matches(d).count() + 1)?;
            Ok(if rev {
                s.rsplit(d).map(Into::into).collect()
            } else {
                s.split(d).map(Into::into).collect()
            })
        });
        engine.register_fn(
            name,
            move |s: ImmutableString, d: char, segments: INT| -> RResult<Array> {
                if segments <= 1 || s.is_empty() || !s.contains(d) {
                    return Ok(whole(&s));
                }
                pieces_fit(max, &s, at_most(s.matches(d).count() + 1, segments))?;
                let n = usize::try_from(segments).unwrap_or(usize::MAX);
                Ok(if rev {
                    s.rsplitn(n, d).map(Into::into).collect()
                } else {
                    s.splitn(n, d).map(Into::into).collect()
                })
            },
        );
    }
}

/// `replace` of text or a character by text or a character: the new string
/// is made while the old one is held.
fn register_replace(engine: &mut Engine, max: usize) {
    let replace = move |s: &mut ImmutableString, find: &str, with: &str| -> RResult<()> {
        if s.is_empty() {
            return Ok(());
        }
        let n = count_str(s, find).saturating_sub(1);
        let longer = n.saturating_mul(with.len().saturating_sub(find.len()));
        fits(max, s.len().saturating_add(longer))?;
        *s = s.replace(find, with).into();
        Ok(())
    };
    engine.register_fn("replace", replace);
    engine.register_fn(
        "replace",
        move |s: &mut ImmutableString, find: &str, with: char| {
            replace(s, find, with.encode_utf8(&mut [0; 4]))
        },
    );
    engine.register_fn(
        "replace",
        move |s: &mut ImmutableString, find: char, with: &str| {
            replace(s, find.encode_utf8(&mut [0; 4]), with)
        },
    );
    engine.register_fn(
        "replace",
        move |s: &mut ImmutableString, find: char, with: char| {
            replace(
                s,
                find.encode_utf8(&mut [0; 4]),
                with.encode_utf8(&mut [0; 4]),
            )
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_counted_as_rust_splits() {
        for (s, d) in [("a,b,,c", ","), ("abc", ""), (",,", ","), ("x", "y")] {
            assert_eq!(count_str(s, d), s.split(d).count(), "{s:?} by {d:?}");
        }
        assert_eq!(at_most(10, 3), 3);
        assert_eq!(at_most(2, 30), 2);
        assert_eq!(at_most(5, -1), 1);
    }
}
