//! Decisions: `casebook score` (a grade with reasons for every institution),
//! the decision log (`--save`, `casebook runs`) and `casebook diff` (what a
//! rule change would change).
//!
//! A rule is a script defining `fn score(inst)`, returning a number or
//! `#{score: n, reasons: [..]}`, and optionally `fn grade(score)`. Reasons can
//! also be recorded as points are lost with `deduct(points, reason)`. Only the
//! functions are called; the script's top-level statements are not run.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, FnPtr, Map, AST};

use crate::ledger::{Ledger, LedgerError, Operation};
use crate::model::Institution;
use crate::script::api::{Host, Inst};
use crate::script::{diag, host, Limits, RunError, ScriptHost};

/// One institution's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub id: String,
    pub name: String,
    pub district: String,
    pub score: f64,
    pub grade: String,
    pub reasons: Vec<String>,
}

impl Decision {
    /// The decision as stored in the decision log.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"score": num_json(self.score), "grade": self.grade, "reasons": self.reasons})
    }
}

fn num_json(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        (x as i64).into()
    } else {
        x.into()
    }
}

/// A score as text: whole numbers without decimals.
pub fn fmt_score(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// The default grades: A ≥ 90, B ≥ 75, C ≥ 60, else D.
pub fn default_grade(score: f64) -> &'static str {
    if score >= 90.0 {
        "A"
    } else if score >= 75.0 {
        "B"
    } else if score >= 60.0 {
        "C"
    } else {
        "D"
    }
}

/// A compiled rule, ready to be called on many threads.
pub struct Rule {
    pub file: String,
    pub src: String,
    pub sha256: String,
    ast: Arc<AST>,
    has_grade: bool,
}

/// Compiles a rule file and checks it defines `fn score(inst)`.
pub fn load_rule(host: &ScriptHost, path: &std::path::Path) -> Result<Rule, RunError> {
    let src = crate::script::read_script(path)?;
    let file = path.display().to_string();
    let ast = host
        .compile(&src)
        .map_err(|e| RunError::Script(diag::parse_diag(&e).render(&file, &src)))?;
    let has = |name: &str, n: usize| {
        ast.iter_functions()
            .any(|f| f.name == name && f.params.len() == n)
    };
    if !has("score", 1) {
        return Err(RunError::Script(format!(
            "error: {file} defines no fn score(inst): a rule for `casebook score` needs one, returning a number or #{{score: n, reasons: [...]}}\n"
        )));
    }
    Ok(Rule {
        sha256: crate::script::sha256_hex(&src),
        has_grade: has("grade", 1),
        file,
        src,
        ast: Arc::new(ast),
    })
}

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
                crate::script::api::type_name(&r)
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
    let parts: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = insts
            .chunks(chunk)
            .map(|part| {
                let done = &done;
                let snap = snap.for_worker();
                s.spawn(move || -> Part {
                    let worker = Arc::new(host.host.worker());
                    let engine = host::build_engine(worker.clone());
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
                            let inst = Dynamic::from(Inst {
                                x: Arc::new(x.clone()),
                                snap: snap.clone(),
                            });
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

/// Writes decisions in a format; a table shows at most `limit` rows.
pub fn write_decisions(
    out: &mut dyn Write,
    fmt: crate::script::RowFormat,
    ds: &[Decision],
    limit: usize,
) -> std::io::Result<()> {
    use crate::script::RowFormat;
    match fmt {
        RowFormat::Jsonl | RowFormat::Json => {
            let one = |d: &Decision| {
                serde_json::json!({"id": d.id, "name": d.name, "district": d.district,
                    "score": num_json(d.score), "grade": d.grade, "reasons": d.reasons})
            };
            if fmt == RowFormat::Json {
                serde_json::to_writer_pretty(&mut *out, &ds.iter().map(one).collect::<Vec<_>>())?;
                writeln!(out)?;
            } else {
                for d in ds {
                    serde_json::to_writer(&mut *out, &one(d))?;
                    writeln!(out)?;
                }
            }
        }
        RowFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["id", "name", "district", "score", "grade", "reasons"])
                .map_err(std::io::Error::other)?;
            for d in ds {
                let name = crate::format::neutralise(&d.name).into_owned();
                let reasons = crate::format::neutralise(&d.reasons.join("；")).into_owned();
                w.write_record([
                    d.id.as_str(),
                    &name,
                    &d.district,
                    &fmt_score(d.score),
                    &d.grade,
                    &reasons,
                ])
                .map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        RowFormat::Table => {
            let cols: Vec<String> = ["id", "name", "district", "score", "grade", "reasons"]
                .map(String::from)
                .into();
            let rows: Vec<Vec<String>> = ds
                .iter()
                .take(limit)
                .map(|d| {
                    vec![
                        d.id.clone(),
                        d.name.clone(),
                        d.district.clone(),
                        fmt_score(d.score),
                        d.grade.clone(),
                        d.reasons.join("；"),
                    ]
                })
                .collect();
            writeln!(out, "{}", crate::script::output::table(&cols, &rows))?;
            if ds.len() > limit {
                writeln!(
                    out,
                    "… showing {limit} of {} institutions (lowest scores first); --format csv or jsonl for all",
                    ds.len()
                )?;
            }
        }
    }
    Ok(())
}

/// Saves decisions as a run in the decision log; returns the run number.
pub fn save_run(
    ledger: &Ledger,
    rule: &Rule,
    as_of: NaiveDate,
    operator: &str,
    ds: &[Decision],
) -> Result<u64, LedgerError> {
    let mut dist: BTreeMap<&str, usize> = BTreeMap::new();
    for d in ds {
        *dist.entry(d.grade.as_str()).or_default() += 1;
    }
    let header = serde_json::json!({
        "script": rule.file,
        "script_sha256": rule.sha256,
        "as_of": crate::model::fmt_date(as_of),
        "operator": operator,
        "at": chrono::Local::now().to_rfc3339(),
        "institutions": ds.len(),
        "grades": dist,
    });
    let op = Operation {
        operator: operator.to_string(),
        command: format!("score {} --as-of {as_of} --save", rule.file),
        script_sha256: Some(rule.sha256.clone()),
        file: None,
    };
    let (run, _) = ledger.transact(&op, false, |tx| {
        tx.save_run(&header, ds.iter().map(|d| (d.id.as_str(), d.to_json())))
    })?;
    Ok(run)
}

/// Decisions of a saved run, in institution id order.
pub fn load_run(ledger: &Ledger, run: u64) -> Result<(serde_json::Value, Vec<Decision>), RunError> {
    let r = ledger.reader()?;
    let Some((_, header)) = r.runs()?.into_iter().find(|(n, _)| *n == run) else {
        return Err(RunError::Script(format!(
            "error: there is no saved run {run}; `casebook runs` lists them\n"
        )));
    };
    let mut out = Vec::new();
    for (id, v) in r.run_results(run)? {
        let x = r.institution(&id)?;
        out.push(Decision {
            name: x.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            district: x.as_ref().map(|x| x.district.clone()).unwrap_or_default(),
            id,
            score: v["score"].as_f64().unwrap_or(0.0),
            grade: v["grade"].as_str().unwrap_or("").to_string(),
            reasons: v["reasons"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok((header, out))
}

/// What changes between two sets of decisions.
pub struct Diff {
    /// (old, new) for institutions whose grade or reasons changed.
    pub changed: Vec<(Decision, Decision)>,
    /// Transition counts: old grade → new grade → count.
    pub matrix: BTreeMap<String, BTreeMap<String, usize>>,
    pub only_old: usize,
    pub only_new: usize,
}

/// Compares decisions by institution.
pub fn diff(old: &[Decision], new: &[Decision]) -> Diff {
    let olds: BTreeMap<&str, &Decision> = old.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut d = Diff {
        changed: Vec::new(),
        matrix: BTreeMap::new(),
        only_old: 0,
        only_new: 0,
    };
    let mut seen = 0;
    for n in new {
        match olds.get(n.id.as_str()) {
            None => d.only_new += 1,
            Some(o) => {
                seen += 1;
                *d.matrix
                    .entry(o.grade.clone())
                    .or_default()
                    .entry(n.grade.clone())
                    .or_default() += 1;
                if o.grade != n.grade || o.reasons != n.reasons || o.score != n.score {
                    d.changed.push(((*o).clone(), n.clone()));
                }
            }
        }
    }
    d.only_old = old.len() - seen;
    d
}

/// Renders a diff for a terminal or a file.
pub fn render_diff(d: &Diff, limit: usize) -> String {
    let mut s = String::new();
    let grades: Vec<String> = {
        let mut g: Vec<String> = d.matrix.keys().cloned().collect();
        for m in d.matrix.values() {
            g.extend(m.keys().cloned());
        }
        g.sort();
        g.dedup();
        g
    };
    let regraded = d.changed.iter().filter(|(o, n)| o.grade != n.grade).count();
    s.push_str(&format!(
        "{regraded} institution(s) change grade; {} more keep their grade but change score or reasons\n\n",
        d.changed.len() - regraded
    ));
    s.push_str("Transitions (rows: old grade, columns: new grade)\n");
    let mut cols = vec!["old \\ new".to_string()];
    cols.extend(grades.iter().cloned());
    let rows: Vec<Vec<String>> = grades
        .iter()
        .map(|o| {
            let mut r = vec![o.clone()];
            for n in &grades {
                r.push(
                    d.matrix
                        .get(o)
                        .and_then(|m| m.get(n))
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                );
            }
            r
        })
        .collect();
    s.push_str(&crate::script::output::table(&cols, &rows));
    s.push('\n');
    if !d.changed.is_empty() {
        s.push_str("\nChanged institutions (grade changes first)\n");
        let mut v: Vec<&(Decision, Decision)> = d.changed.iter().collect();
        v.sort_by_key(|(o, n)| (o.grade == n.grade, o.id.clone()));
        let cols: Vec<String> = [
            "id",
            "name",
            "grade",
            "score",
            "reasons lost",
            "reasons gained",
        ]
        .map(String::from)
        .into();
        let rows: Vec<Vec<String>> = v
            .iter()
            .take(limit)
            .map(|(o, n)| {
                let lost: Vec<&str> = o
                    .reasons
                    .iter()
                    .filter(|r| !n.reasons.contains(r))
                    .map(|s| s.as_str())
                    .collect();
                let gained: Vec<&str> = n
                    .reasons
                    .iter()
                    .filter(|r| !o.reasons.contains(r))
                    .map(|s| s.as_str())
                    .collect();
                vec![
                    n.id.clone(),
                    n.name.clone(),
                    format!("{} → {}", o.grade, n.grade),
                    format!("{} → {}", fmt_score(o.score), fmt_score(n.score)),
                    lost.join("；"),
                    gained.join("；"),
                ]
            })
            .collect();
        s.push_str(&crate::script::output::table(&cols, &rows));
        s.push('\n');
        if v.len() > limit {
            s.push_str(&format!(
                "… {} more not shown (--limit N)\n",
                v.len() - limit
            ));
        }
    }
    if d.only_new + d.only_old > 0 {
        s.push_str(&format!(
            "{} institution(s) only in the new result, {} only in the old\n",
            d.only_new, d.only_old
        ));
    }
    s
}

/// A host for scoring on `ledger` as of a date.
pub fn scoring_host(
    ledger: &Ledger,
    as_of: NaiveDate,
    args: Map,
    limits: Limits,
) -> Result<ScriptHost, LedgerError> {
    ScriptHost::new(ledger, as_of, args, false, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, score: f64, grade: &str, reasons: &[&str]) -> Decision {
        Decision {
            id: id.into(),
            name: id.into(),
            district: "天河".into(),
            score,
            grade: grade.into(),
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn default_grades_follow_the_thresholds() {
        assert_eq!(default_grade(90.0), "A");
        assert_eq!(default_grade(89.9), "B");
        assert_eq!(default_grade(75.0), "B");
        assert_eq!(default_grade(60.0), "C");
        assert_eq!(default_grade(59.0), "D");
    }

    #[test]
    fn diff_counts_transitions_and_lists_changed_reasons() {
        let old = vec![d("A1", 95.0, "A", &[]), d("A2", 80.0, "B", &["-20 无证"])];
        let new = vec![
            d("A1", 95.0, "A", &[]),
            d("A2", 50.0, "D", &["-20 无证", "-30 逾期"]),
        ];
        let x = diff(&old, &new);
        assert_eq!(x.changed.len(), 1);
        assert_eq!(x.matrix["B"]["D"], 1);
        assert_eq!(x.matrix["A"]["A"], 1);
        let text = render_diff(&x, 10);
        assert!(
            text.contains("B → D") && text.contains("-30 逾期"),
            "{text}"
        );
    }
}
