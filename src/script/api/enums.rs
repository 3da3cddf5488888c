//! Comparing an enumerated property with text in either language. Where a
//! comparison needs it, `script::compare` compiles `i.status == x` with the
//! operator `eq__status` in place of `==` (`ne__` for `!=`, `in__` for `in`,
//! `eqr__`/`ner__` when the property is on the right): the same comparison,
//! done by meaning. Text naming the property's value in English or Chinese
//! (as import accepts it) is equal to it; text that is no value of the
//! property is a runtime error naming every allowed value. The property
//! itself still reads (and prints) as the English code, and a map with the
//! same key (a row, a test's stand-in) compares as before unless its value
//! is one of the property's codes.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, ImmutableString};

use crate::model::Values;
use crate::script::compare::{allowed_for, code_for, enumerated_props};
use crate::script::errors::{err, RResult};
use crate::script::state::Host;

/// The operators' precedences: as `==`/`!=` and as `in`.
const EQ_PRECEDENCE: u8 = 90;
const IN_PRECEDENCE: u8 = 110;

/// Registers the comparison operators of every enumerated property.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("value_of", move |prop: &str, text: &str| {
        value_of(&h, prop, text)
    });
    let mut names: Vec<&'static str> = enumerated_props().map(|(_, p)| p.name).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        // The enums the property's value can be from, looked up once.
        let vals: Arc<[&'static Values]> = enumerated_props()
            .filter(|(_, p)| p.name == name)
            .filter_map(|(_, p)| p.ty.values())
            .collect();
        for (op, prec) in [
            ("eq", EQ_PRECEDENCE),
            ("ne", EQ_PRECEDENCE),
            ("eqr", EQ_PRECEDENCE),
            ("ner", EQ_PRECEDENCE),
            ("in", IN_PRECEDENCE),
        ] {
            engine
                .register_custom_operator(format!("{op}__{name}"), prec)
                .expect("a custom operator name");
        }
        let (h, e) = (host.clone(), vals.clone());
        engine.register_fn(format!("eq__{name}"), move |v: Dynamic, x: Dynamic| {
            same(&h, name, &e, &v, &x)
        });
        let (h, e) = (host.clone(), vals.clone());
        engine.register_fn(format!("ne__{name}"), move |v: Dynamic, x: Dynamic| {
            same(&h, name, &e, &v, &x).map(|b| !b)
        });
        let (h, e) = (host.clone(), vals.clone());
        engine.register_fn(format!("eqr__{name}"), move |x: Dynamic, v: Dynamic| {
            same(&h, name, &e, &v, &x)
        });
        let (h, e) = (host.clone(), vals.clone());
        engine.register_fn(format!("ner__{name}"), move |x: Dynamic, v: Dynamic| {
            same(&h, name, &e, &v, &x).map(|b| !b)
        });
        let (h, e) = (host.clone(), vals.clone());
        engine.register_fn(format!("in__{name}"), move |v: Dynamic, xs: Dynamic| {
            any_of(&h, name, &e, &v, &xs)
        });
    }
}

/// `value_of(prop, text)`: the code `text` names for property `prop` (an
/// `--arg district=天河区` becomes "天河"), or an error naming every value.
fn value_of(h: &Host, prop: &str, text: &str) -> RResult<String> {
    let snap = h.snap();
    let districts = snap.reader.districts();
    let props: Vec<_> = enumerated_props().filter(|(_, p)| p.name == prop).collect();
    if props.is_empty() {
        let mut names: Vec<&str> = enumerated_props().map(|(_, p)| p.name).collect();
        names.sort_unstable();
        names.dedup();
        return err(format!(
            "value_of: .{prop} has no fixed values; these do: {}",
            names.join(", ")
        ));
    }
    let codes: Vec<&str> = props
        .iter()
        .filter_map(|(_, p)| code_for(&p.ty, text, districts))
        .collect();
    match codes.first() {
        Some(c) if codes.iter().all(|x| x == c) => Ok(c.to_string()),
        Some(_) => err(format!(
            "value_of: \"{text}\" means different values of .{prop} for different records: write the English code"
        )),
        None => err(format!(
            "\"{text}\" is not a value of .{prop}: the values are {}",
            allowed_for(prop, None, districts)
        )),
    }
}

/// Whether property `name`'s value `v` is what `x` names.
fn same(h: &Host, name: &str, vals: &[&Values], v: &Dynamic, x: &Dynamic) -> RResult<bool> {
    let (Some(vs), Some(xs)) = (
        v.read_lock::<ImmutableString>(),
        x.read_lock::<ImmutableString>(),
    ) else {
        return plain_eq(h, name, v, x);
    };
    // The common case: the English code as the property reads it.
    if vs.as_str() == xs.as_str() {
        return Ok(true);
    }
    // The next most common: two English codes of one enum, so plainly different.
    let both_codes = vals
        .iter()
        .any(|v| v.rank(vs.as_str()).is_some() && v.rank(xs.as_str()).is_some());
    if both_codes {
        return Ok(false);
    }
    let snap = h.snap();
    let districts = snap.reader.districts();
    // The enums the value can be from (status is on four kinds of record).
    let mut from = enumerated_props()
        .filter(|(_, p)| p.name == name)
        .filter(|(_, p)| code_for(&p.ty, vs.as_str(), districts) == Some(vs.as_str()))
        .peekable();
    if from.peek().is_none() {
        // Not a value of the property: a map's own value, compared as it is.
        return Ok(false);
    }
    let kinds: Vec<_> = from.collect();
    for (_, p) in &kinds {
        if let Some(c) = code_for(&p.ty, xs.as_str(), districts) {
            return Ok(c == vs.as_str());
        }
    }
    let kind = (kinds.len() == 1).then(|| kinds[0].0);
    err(format!(
        "\"{}\" is not a value of .{name}: the values are {}",
        xs.as_str(),
        allowed_for(name, kind, districts)
    ))
}

/// `==` where one side is not text: `()` (no status yet) equals only `()`;
/// text compared with `()` is still checked.
fn plain_eq(h: &Host, name: &str, v: &Dynamic, x: &Dynamic) -> RResult<bool> {
    if v.is_unit() {
        if let Some(xs) = x.read_lock::<ImmutableString>() {
            let snap = h.snap();
            let districts = snap.reader.districts();
            let known = enumerated_props()
                .filter(|(_, p)| p.name == name)
                .any(|(_, p)| code_for(&p.ty, xs.as_str(), districts).is_some());
            if !known {
                return err(format!(
                    "\"{}\" is not a value of .{name}: the values are {}",
                    xs.as_str(),
                    allowed_for(name, None, districts)
                ));
            }
            return Ok(false);
        }
        return Ok(x.is_unit());
    }
    Ok(match (v.as_int(), x.as_int()) {
        (Ok(a), Ok(b)) => a == b,
        _ => x.is_unit() && v.is_unit(),
    })
}

/// `v in xs`: whether any item names the value; every item is checked, so a
/// misspelt one fails even after a match.
fn any_of(h: &Host, name: &str, vals: &[&Values], v: &Dynamic, xs: &Dynamic) -> RResult<bool> {
    if let Some(items) = xs.read_lock::<Array>() {
        let mut found = false;
        for x in items.iter() {
            found |= same(h, name, vals, v, x)?;
        }
        return Ok(found);
    }
    // `in` a text: a substring, as Rhai's own `in`.
    if let (Some(s), Some(t)) = (
        xs.read_lock::<ImmutableString>(),
        v.read_lock::<ImmutableString>(),
    ) {
        return Ok(s.contains(t.as_str()));
    }
    err(format!(
        ".{name} in …: put the values in an array, e.g. [\"a\", \"b\"]"
    ))
}
