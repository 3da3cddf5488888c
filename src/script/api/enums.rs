//! Comparing an enumerated property with text in either language. In a
//! comparison that needs it, `script::compare` reads the property through
//! its hidden twin `PROP__v`, whose value is an [`EnumVal`]; `==` and `!=`
//! (and so `in`, which compares item by item) of an `EnumVal` with text
//! compare what the text names, and text that is no value of the property is
//! a runtime error naming every allowed value. The property itself still
//! reads (and prints) as the English code.

use std::sync::Arc;

use rhai::{Dynamic, Engine, ImmutableString, Map};

use crate::script::compare::{EnumVal, TWIN};
use crate::script::errors::{err, RResult};
use crate::script::records::props::{describe_districts, district_code};
use crate::script::records::{
    ApplicationRef, CourseRef, FindingRef, InspectionRef, InstitutionRef, PropType, ScriptRecord,
};
use crate::script::state::Host;

/// Registers the twins of every enumerated property and their comparisons.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_type_with_name::<EnumVal>("enum value");
    register_for::<InstitutionRef>(engine);
    register_for::<FindingRef>(engine);
    register_for::<InspectionRef>(engine);
    register_for::<ApplicationRef>(engine);
    register_for::<CourseRef>(engine);
    // A map with the same key (a row): its value, compared as it is.
    let mut done = std::collections::HashSet::new();
    for t in crate::script::records::RECORD_TYPES {
        for p in t.props.iter().filter(|p| p.ty.is_enumerated()) {
            if done.insert(p.name) {
                let name = p.name;
                engine.register_get(format!("{name}{TWIN}"), move |m: &mut Map| {
                    m.get(name).cloned().unwrap_or(Dynamic::UNIT)
                });
            }
        }
    }
    let h = host.clone();
    engine.register_fn("==", move |a: &mut EnumVal, b: ImmutableString| {
        same(&h, a, &b)
    });
    let h = host.clone();
    engine.register_fn("!=", move |a: &mut EnumVal, b: ImmutableString| {
        same(&h, a, &b).map(|x| !x)
    });
    let h = host.clone();
    engine.register_fn("==", move |b: ImmutableString, a: EnumVal| same(&h, &a, &b));
    let h = host.clone();
    engine.register_fn("!=", move |b: ImmutableString, a: EnumVal| {
        same(&h, &a, &b).map(|x| !x)
    });
    engine.register_fn("==", |a: &mut EnumVal, _: ()| a.value.is_unit());
    engine.register_fn("!=", |a: &mut EnumVal, _: ()| !a.value.is_unit());
    engine.register_fn("==", |_: (), a: EnumVal| a.value.is_unit());
    engine.register_fn("!=", |_: (), a: EnumVal| !a.value.is_unit());
    engine.register_fn("==", |a: &mut EnumVal, b: EnumVal| {
        eq_values(&a.value, &b.value)
    });
    engine.register_fn("!=", |a: &mut EnumVal, b: EnumVal| {
        !eq_values(&a.value, &b.value)
    });
    engine.register_fn("to_string", |a: &mut EnumVal| a.value.to_string());
    engine.register_fn("to_debug", |a: &mut EnumVal| format!("{:?}", a.value));
}

fn eq_values(a: &Dynamic, b: &Dynamic) -> bool {
    match (
        a.read_lock::<ImmutableString>(),
        b.read_lock::<ImmutableString>(),
    ) {
        (Some(x), Some(y)) => x.as_str() == y.as_str(),
        _ => a.is_unit() && b.is_unit(),
    }
}

/// Whether the property's value is what `rhs` names; an error if `rhs` is
/// no value of the property.
fn same(h: &Host, a: &EnumVal, rhs: &str) -> RResult<bool> {
    let v = a.value.read_lock::<ImmutableString>();
    // The common case: the English code as the property reads it.
    if v.as_deref().is_some_and(|s| s.as_str() == rhs) {
        return Ok(true);
    }
    let p = a.prop;
    let bad = |allowed: String| {
        err(format!(
            "\"{rhs}\" is not a value of .{}: the values are {allowed}",
            p.name
        ))
    };
    let code: ImmutableString = match p.ty {
        PropType::Enum(vs) => match vs.code_of(rhs) {
            Some(c) => c.into(),
            None => return bad(vs.describe()),
        },
        PropType::District => {
            let snap = h.snap();
            let ds = snap.reader.districts();
            match district_code(rhs, ds) {
                Some(c) => c.into(),
                None => return bad(describe_districts(ds)),
            }
        }
        _ => rhs.into(),
    };
    Ok(v.is_some_and(|s| s.as_str() == code.as_str()))
}

/// The twin `PROP__v` of every enumerated property of `R`.
fn register_for<R: ScriptRecord>(engine: &mut Engine) {
    for p in R::PROPS.iter().filter(|p| p.ty.is_enumerated()) {
        let get = R::getter(p.name).expect("every listed property has a getter");
        engine.register_get(format!("{}{TWIN}", p.name), move |r: &mut R| EnumVal {
            prop: p,
            value: get(r),
        });
    }
}
