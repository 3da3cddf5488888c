//! `casebook score`: every institution scored by one or more rules, on
//! every core, and the grades counted by district.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rhai::{Dynamic, FnPtr, Map};

use super::{default_grade, fmt_score, Decision, Rule};
use crate::ledger::LedgerError;
use crate::model::Institution;
use crate::script::records::{self, InstitutionRef};
use crate::script::state::Host;
use crate::script::{diag, engine, RunError, ScriptHost};

/// A number the rule returned, integer or float.
fn to_f64(v: &Dynamic) -> Option<f64> {
    v.as_int()
        .map(|i| i as f64)
        .ok()
        .or_else(|| v.as_float().ok())
}

/// Calls the rule on one institution in a worker's engine.
fn decide_one(
    ctx: &rhai::NativeCallContext,
    worker: &Host,
    rule: &Rule,
    score_fn: &FnPtr,
    grade_fn: &FnPtr,
    inst: Dynamic,
    x: &Institution,
) -> Result<Decision, Box<rhai::EvalAltResult>> {
    worker.trace.lock().unwrap().clear();
    let r = score_fn.call_raw(ctx, None, [inst])?;
    let mut reasons: Vec<String> = worker
        .trace
        .lock()
        .unwrap()
        .drain(..)
        .map(|(p, why)| {
            // "扣20分 无证办学": a reason starting with "-" would read as a formula in a spreadsheet.
            if p != 0.0 {
                format!("扣{}分 {why}", fmt_score(p))
            } else {
                why
            }
        })
        .collect();
    let score = if let Some(m) = r.read_lock::<Map>() {
        let s = m
            .get("score")
            .and_then(to_f64)
            .ok_or("fn score returned a map without a number under `score`")?;
        if let Some(a) = m
            .get("reasons")
            .and_then(|a| a.read_lock::<rhai::Array>().map(|a| a.clone()))
        {
            reasons.extend(a.iter().map(|x| x.to_string()));
        }
        s
    } else {
        to_f64(&r).ok_or_else(|| {
            format!(
                "fn score must return a number or #{{score: n, reasons: [...]}}, not {}",
                records::type_name(&r)
            )
        })?
    };
    let grade = if rule.has_grade {
        let g = grade_fn.call_raw(ctx, None, [num_dynamic(score)])?;
        g.to_string()
    } else {
        default_grade(score).to_string()
    };
    Ok(Decision {
        id: x.id.clone(),
        name: x.name.clone(),
        district: x.district.clone(),
        score,
        grade,
        reasons,
    })
}

/// A score for a rule's `fn grade`: whole numbers as integers.
fn num_dynamic(x: f64) -> Dynamic {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        Dynamic::from(x as rhai::INT)
    } else {
        Dynamic::from(x)
    }
}

/// Scores every institution with each rule (one pass over the ledger, on every
/// core); returns, per rule, the decisions in institution id order.
pub fn score_all(
    host: &ScriptHost,
    rules: &[&Rule],
    progress: bool,
) -> Result<Vec<Vec<Decision>>, RunError> {
    let snap = host.host.snap();
    let insts: Vec<Institution> = snap
        .reader
        .institutions()?
        .collect::<Result<_, LedgerError>>()?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = insts.len().div_ceil(threads).max(1);
    let done = AtomicUsize::new(0);
    let bar =
        (progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) && insts.len() > 5000)
            .then(|| {
                let b = indicatif::ProgressBar::new(insts.len() as u64);
                b.set_style(
                    indicatif::ProgressStyle::with_template("scoring [{bar:30}] {pos}/{len} {eta}")
                        .unwrap()
                        .progress_chars("=> "),
                );
                b
            });
    type Part = Result<Vec<Vec<Decision>>, (String, Box<rhai::EvalAltResult>, usize)>;
    // One step of a rule may not take the heap far past --max-memory either.
    let file = rules.first().map_or("", |r| r.file.as_str());
    let ceiling = crate::alloc::Ceiling::set(host.limits.max_memory, file);
    let parts: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = insts
            .chunks(chunk)
            .map(|part| {
                let done = &done;
                let snap = snap.for_worker();
                s.spawn(move || -> Part {
                    let worker = Arc::new(host.host.worker());
                    let engine = engine::build_engine(worker.clone());
                    let mut out: Vec<Vec<Decision>> = rules
                        .iter()
                        .map(|_| Vec::with_capacity(part.len()))
                        .collect();
                    let score_fn = FnPtr::new("score").unwrap();
                    let grade_fn = FnPtr::new("grade").unwrap();
                    for (k, rule) in rules.iter().enumerate() {
                        let mut global = engine.new_global_runtime_state();
                        global.lib.push(rule.ast.shared_lib().clone());
                        let ctx = rhai::NativeCallContext::new_with_all_fields(
                            &engine,
                            "score",
                            None,
                            &global,
                            rhai::Position::NONE,
                        );
                        for x in part {
                            let inst = Dynamic::from(InstitutionRef::of(x, snap.clone()));
                            let d = decide_one(&ctx, &worker, rule, &score_fn, &grade_fn, inst, x)
                                .map_err(|e| (x.id.clone(), e, k))?;
                            out[k].push(d);
                            if k == 0 {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    for line in worker.prints.as_ref().unwrap().lock().unwrap().drain(..) {
                        eprintln!("{line}");
                    }
                    Ok(out)
                })
            })
            .collect();
        if let Some(b) = &bar {
            while !handles.iter().all(|h| h.is_finished()) {
                b.set_position(done.load(Ordering::Relaxed) as u64);
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            b.finish_and_clear();
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("scoring thread panicked"))
            .collect()
    });
    drop(ceiling);
    let mut all: Vec<Vec<Decision>> = rules
        .iter()
        .map(|_| Vec::with_capacity(insts.len()))
        .collect();
    for p in parts {
        match p {
            Ok(v) => {
                for (k, d) in v.into_iter().enumerate() {
                    all[k].extend(d);
                }
            }
            Err((id, e, k)) => {
                let mut d = diag::runtime_diag(&e, &host.limits);
                d.message = format!("while scoring institution {id}: {}", d.message);
                return Err(RunError::Script(d.render(&rules[k].file, &rules[k].src)));
            }
        }
    }
    Ok(all)
}

/// Grade counts by district (and "合计 total"), for the summary a terminal shows.
pub fn distribution(ds: &[Decision], districts: &[String]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut grades: Vec<String> = ds.iter().map(|d| d.grade.clone()).collect();
    grades.sort();
    grades.dedup();
    let mut by: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for d in ds {
        *by.entry(d.district.as_str())
            .or_default()
            .entry(d.grade.as_str())
            .or_default() += 1;
    }
    let mut cols = vec!["district".to_string()];
    cols.extend(grades.iter().cloned());
    cols.push("total".into());
    let mut rows = Vec::new();
    let mut order: Vec<&str> = districts
        .iter()
        .map(|s| s.as_str())
        .filter(|d| by.contains_key(d))
        .collect();
    for d in by.keys() {
        if !order.contains(d) {
            order.push(d);
        }
    }
    let mut totals = vec![0usize; grades.len()];
    for d in order {
        let m = &by[d];
        let mut r = vec![d.to_string()];
        for (i, g) in grades.iter().enumerate() {
            let n = m.get(g.as_str()).copied().unwrap_or(0);
            totals[i] += n;
            r.push(n.to_string());
        }
        r.push(m.values().sum::<usize>().to_string());
        rows.push(r);
    }
    let mut t = vec!["合计 total".to_string()];
    t.extend(totals.iter().map(|n| n.to_string()));
    t.push(ds.len().to_string());
    rows.push(t);
    (cols, rows)
}
