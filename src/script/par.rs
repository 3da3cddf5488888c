//! Running `institutions().map(f)` on every core.
//!
//! One Rhai engine shared by two threads gives no speed-up, so each worker
//! builds its own engine (same API, same snapshot, same limits and stop flag)
//! and calls the script's function from the shared AST. Results, emitted rows,
//! queued writes and printed lines are put back in institution order, so a
//! parallel run gives exactly what a sequential one would.

use std::sync::Arc;

use rhai::{Array, Dynamic, EvalAltResult, FnPtr};

use super::api::{Host, Inst, Output, RecKind, Records};

/// What one worker hands back: its results, its output, its printed lines.
type Chunk = (Array, Output, Vec<String>);

/// Below this many institutions the threads cost more than they save.
const MIN_PARALLEL: usize = 2_000;

/// Maps `f` over the institutions on several threads, or returns `None` when
/// that would not be exactly equivalent or worth it (the function captures
/// variables it might change, or there is one core, or few records).
pub fn try_par_map(
    host: &Arc<Host>,
    r: &Records,
    f: &FnPtr,
) -> Result<Option<Array>, Box<EvalAltResult>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if r.kind != RecKind::Institutions
        || threads < 2
        || !f.curry().is_empty()
        || host.prints.is_some()
    {
        return Ok(None);
    }
    let Some(ast) = host.ast.read().unwrap().clone() else {
        return Ok(None);
    };
    let snap = r.snap.clone();
    // Only the raw records are read here; each worker decodes its own share.
    let raw: Vec<Vec<u8>> = snap
        .reader
        .institutions_raw()
        .map_err(|e| format!("ledger: {e}"))?;
    if raw.len() < MIN_PARALLEL {
        return Ok(None);
    }
    let total = raw.len();
    let chunk = total.div_ceil(threads);
    let mut parts: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut it = raw.into_iter();
    loop {
        let part: Vec<Vec<u8>> = it.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    let results: Vec<Result<Chunk, Box<EvalAltResult>>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let ast = ast.clone();
                let snap = snap.for_worker();
                let f = f.clone();
                s.spawn(move || {
                    let worker = Arc::new(host.worker());
                    let engine = super::host::build_engine(worker.clone());
                    // One call context for the whole chunk: FnPtr::call would build a
                    // fresh global state for every institution.
                    let mut global = engine.new_global_runtime_state();
                    global.lib.push(ast.shared_lib().clone());
                    let ctx = rhai::NativeCallContext::new_with_all_fields(
                        &engine,
                        f.fn_name(),
                        None,
                        &global,
                        rhai::Position::NONE,
                    );
                    let mut out = Array::with_capacity(part.len());
                    for bytes in part {
                        let x = crate::codec::decode_institution(&bytes)
                            .map_err(|e| format!("ledger: {e}"))?;
                        let v = Dynamic::from(Inst {
                            x: Arc::new(x),
                            snap: snap.clone(),
                        });
                        out.push(f.call_raw(&ctx, None, [v])?);
                    }
                    let o = std::mem::take(&mut *worker.out.lock().unwrap());
                    let p = std::mem::take(&mut *worker.prints.as_ref().unwrap().lock().unwrap());
                    Ok((out, o, p))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread panicked"))
            .collect()
    });
    let mut all = Array::with_capacity(total);
    let mut main_out = host.out.lock().unwrap();
    for r in results {
        let (a, o, p) = r?;
        all.extend(a);
        main_out.rows.extend(o.rows);
        main_out.writes.extend(o.writes);
        if o.columns.is_some() {
            main_out.columns = o.columns;
        }
        for line in p {
            println!("{line}");
        }
    }
    Ok(Some(all))
}
