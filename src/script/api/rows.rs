//! The rows a script makes: `emit(map)`, `emit(record)` and `columns([…])`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use crate::script::errors::{err, RResult};
use crate::script::records::{prop, record_props, type_name};
use crate::script::state::{Host, NewRow};

/// Registers `emit` and `columns`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    engine.register_fn("emit", move |m: Map| emit_map(&h, m));
    let h = host.clone();
    engine.register_fn("emit", move |v: Dynamic| -> RResult<()> {
        let Some(props) = record_props(&v) else {
            return err(format!(
                "emit takes a map like #{{id: i.id}} or a record, not {}",
                type_name(&v)
            ));
        };
        let mut m = Map::new();
        for p in props {
            m.insert(p.name.into(), prop(&v, p.name).unwrap_or_default());
        }
        let mut out = h.out.lock().unwrap();
        // A record emitted first fixes the columns in its fields' order (SPEC §2), not alphabetically.
        if out.rows.is_empty() && out.columns.is_none() {
            out.columns = Some(props.iter().map(|p| p.name.to_string()).collect());
            out.columns_from_emit = true;
        }
        out.rows.push(m);
        drain(&h, &mut out);
        Ok(())
    });
    let h = host.clone();
    engine.register_fn("columns", move |a: Array| -> RResult<()> {
        let mut out = h.out.lock().unwrap();
        let cols: Vec<String> = a.iter().map(|v| v.to_string()).collect();
        if let Some(s) = h.stream.lock().unwrap().as_ref() {
            if let Err(e) = s.allows_columns(&cols) {
                return err(e);
            }
        }
        out.columns = Some(cols);
        out.columns_from_emit = false;
        Ok(())
    });
}

/// `emit(map)` (compiled code calls it too).
pub(crate) fn emit_map(h: &Host, m: Map) {
    let mut out = h.out.lock().unwrap();
    out.rows.push(m);
    drain(h, &mut out);
}

/// `emit(#{…})` of a map literal: `row`'s cells for `keys`, the map's
/// (sorted) key order, without building the map (compiled code).
pub(crate) fn emit_row<K: AsRef<str>>(h: &Host, keys: &[K], row: NewRow) {
    let mut out = h.out.lock().unwrap();
    out.rows.push_row(keys, row);
    drain(h, &mut out);
}

/// Hands the rows gathered so far to the run's stream, if it streams.
fn drain(h: &Host, out: &mut crate::script::state::Output) {
    if out.rows.len() >= crate::script::stream::FLUSH_ROWS {
        if let Some(s) = h.stream.lock().unwrap().as_mut() {
            s.drain(out);
        }
    }
}
