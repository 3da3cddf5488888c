//! What rules read and record when they decide: `deduct` (the reasons of a
//! score), an institution's saved grades, and the named lists.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map, INT};

use super::common::as_f64;
use crate::ledger::Owner;
use crate::script::errors::{ledger_err, RResult};
use crate::script::records::{type_name, Date, InstitutionRef};
use crate::script::state::Host;

/// Registers `deduct`, the grade history and the list functions.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn(
        "deduct",
        move |points: Dynamic, reason: &str| -> RResult<Dynamic> {
            let p = as_f64(&points).ok_or_else(|| {
                format!("deduct: {} is not a number of points", type_name(&points))
            })?;
            h.trace.lock().unwrap().push((p, reason.to_string()));
            Ok(points)
        },
    );
    register_grades(engine);
    register_lists(engine, host);
}

/// `inst.past_grades()` and `inst.last_grade()`, from saved scoring runs.
fn register_grades(engine: &mut Engine) {
    engine.register_fn("past_grades", |i: &mut InstitutionRef| -> RResult<Array> {
        let mut out = Array::new();
        for (run, d) in i.snap.past_runs() {
            if let Some(r) = i
                .snap
                .reader
                .run_result(*run, &i.institution.id)
                .map_err(ledger_err)?
            {
                let mut m = Map::new();
                m.insert("run".into(), (*run as INT).into());
                m.insert("as_of".into(), Dynamic::from(Date(*d)));
                m.insert("grade".into(), r["grade"].as_str().unwrap_or("").into());
                m.insert("score".into(), json_num(&r["score"]));
                out.push(Dynamic::from_map(m));
            }
        }
        Ok(out)
    });
    engine.register_fn("last_grade", |i: &mut InstitutionRef| -> RResult<Dynamic> {
        for (run, _) in i.snap.past_runs() {
            if let Some(r) = i
                .snap
                .reader
                .run_result(*run, &i.institution.id)
                .map_err(ledger_err)?
            {
                return Ok(r["grade"]
                    .as_str()
                    .map(|g| g.to_string().into())
                    .unwrap_or(Dynamic::UNIT));
            }
        }
        Ok(Dynamic::UNIT)
    });
}

/// `list_entries(name)` (with each entry's owner, and `mine`: whether this
/// rule or person put it there) and `on_list(name)` as of the snapshot's date.
fn register_lists(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("list_entries", move |name: &str| -> RResult<Array> {
        let snap = h.snap();
        let v = snap.reader.list_entries(name).map_err(ledger_err)?;
        let me = h.owner();
        Ok(v.into_iter()
            .filter(|e| e.on(snap.as_of))
            .map(|e| {
                let mut m = Map::new();
                m.insert("owner".into(), Owner::describe(e.owner.as_ref()).into());
                m.insert(
                    "mine".into(),
                    e.owner.as_ref().is_some_and(|o| o.same(&me)).into(),
                );
                m.insert("id".into(), e.institution_id.into());
                m.insert("since".into(), Dynamic::from(Date(e.added)));
                m.insert("reason".into(), e.reason.into());
                m.insert("operator".into(), e.operator.into());
                Dynamic::from_map(m)
            })
            .collect())
    });
    let h = host.clone();
    engine.register_fn("on_list", move |name: &str| -> RResult<Array> {
        let snap = h.snap();
        let v = snap.reader.list_entries(name).map_err(ledger_err)?;
        Ok(v.into_iter()
            .filter(|e| e.on(snap.as_of))
            .map(|e| e.institution_id.into())
            .collect())
    });
}

/// A number from a saved run's JSON, integer if it is one.
fn json_num(v: &serde_json::Value) -> Dynamic {
    match v.as_i64() {
        Some(i) => (i as INT).into(),
        None => v.as_f64().map(Dynamic::from).unwrap_or(Dynamic::UNIT),
    }
}
