//! `casebook test [DIR]`: runs every `fn test_*()` of the scripts in DIR, each
//! against a scratch ledger of its own that the test fills with fixture
//! helpers, like `opa test`. Nothing touches the real ledger.
//!
//! In a test: `fixture_institution(#{..})`, `fixture_inspection(#{..})` and
//! `fixture_finding(#{..})` add records (fields of SPEC §2; anything left out
//! gets a harmless default) and return them; `set_as_of(date)` moves the date;
//! `assert(cond)`, `assert(cond, msg)`, `assert_eq(got, want)` check.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, Engine, EvalAltResult, Map};

use crate::format::{self, FieldRow};
use crate::ledger::{Ledger, LedgerError, LedgerWriter, Operation};
use crate::model::RecordKind;
use crate::script::records::{Date, FindingRef, InspectionRef, InstitutionRef};
use crate::script::state::{Host, Snapshot};
use crate::script::{diag, engine, Limits, ScriptHost};

type RResult<T> = Result<T, Box<EvalAltResult>>;

/// The result of one test function.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub file: String,
    pub name: String,
    /// `None` when it passed; the rendered failure otherwise.
    pub failure: Option<String>,
}

fn text(v: &Dynamic) -> String {
    if let Some(d) = v.read_lock::<Date>() {
        crate::model::fmt_date(d.0)
    } else if v.is_unit() {
        String::new()
    } else {
        v.to_string()
    }
}

/// Map entries as a row, with defaults for what the test left out.
fn row(kind: RecordKind, m: &Map, defaults: &[(&'static str, String)]) -> RResult<FieldRow> {
    let mut fields = Vec::new();
    for (k, v) in m {
        let Some(f) = kind.field_of_header(k) else {
            return Err(format!(
                "fixture: unknown field \"{k}\" for {}; the fields are {}",
                kind.as_str(),
                kind.columns()
                    .iter()
                    .map(|c| c.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .into());
        };
        fields.push((f, text(v)));
    }
    for (f, v) in defaults {
        if !fields.iter().any(|(g, _)| g == f) {
            fields.push((f, v.clone()));
        }
    }
    Ok(FieldRow(fields))
}

fn refresh(h: &Host, ledger: &Ledger, as_of: NaiveDate) -> RResult<()> {
    let r = ledger.reader().map_err(|e| format!("fixture: {e}"))?;
    h.set_snap(Arc::new(Snapshot::new(r, as_of)));
    Ok(())
}

fn write(
    ledger: &LedgerWriter,
    f: impl FnOnce(&mut crate::ledger::Tx<'_>) -> Result<(), LedgerError>,
) -> RResult<()> {
    let op = Operation {
        operator: "casebook test".into(),
        command: "fixture".into(),
        ..Default::default()
    };
    ledger
        .transact(&op, false, f)
        .map(|_| ())
        .map_err(|e| match e {
            LedgerError::Rejected(r) => format!("fixture refused: {r}").into(),
            e => format!("fixture: {e}").into(),
        })
}

fn same(a: &Dynamic, b: &Dynamic) -> bool {
    let num = |v: &Dynamic| {
        v.as_int()
            .map(|i| i as f64)
            .ok()
            .or_else(|| v.as_float().ok())
    };
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.read_lock::<Date>(), b.read_lock::<Date>()) {
        return *x == *y;
    }
    if a.is_array() && b.is_array() {
        let (x, y) = (
            a.read_lock::<rhai::Array>().unwrap(),
            b.read_lock::<rhai::Array>().unwrap(),
        );
        return x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q));
    }
    a.type_name() == b.type_name() && text(a) == text(b)
}

fn shown(v: &Dynamic) -> String {
    if v.is_string() {
        format!("{:?}", v.to_string())
    } else {
        crate::script::output::cell(v)
    }
}

/// Registers the fixture and assertion helpers for a test bound to `ledger`.
fn register_test_api(engine: &mut Engine, h: Arc<Host>, ledger: Arc<LedgerWriter>) {
    engine.register_fn("assert", |c: bool| -> RResult<()> {
        if c {
            Ok(())
        } else {
            Err("assertion failed".into())
        }
    });
    engine.register_fn("assert", |c: bool, msg: &str| -> RResult<()> {
        if c {
            Ok(())
        } else {
            Err(format!("assertion failed: {msg}").into())
        }
    });
    engine.register_fn("assert_eq", |got: Dynamic, want: Dynamic| -> RResult<()> {
        if same(&got, &want) {
            Ok(())
        } else {
            Err(format!(
                "assert_eq failed: got {}, want {}",
                shown(&got),
                shown(&want)
            )
            .into())
        }
    });
    engine.register_fn(
        "assert_eq",
        |got: Dynamic, want: Dynamic, msg: &str| -> RResult<()> {
            if same(&got, &want) {
                Ok(())
            } else {
                Err(format!(
                    "assert_eq failed ({msg}): got {}, want {}",
                    shown(&got),
                    shown(&want)
                )
                .into())
            }
        },
    );
    let hh = h.clone();
    let l = ledger.clone();
    engine.register_fn("set_as_of", move |d: Date| refresh(&hh, &l, d.0));
    let hh = h.clone();
    let l = ledger.clone();
    engine.register_fn("fixture_institution", move |m: Map| -> RResult<Dynamic> {
        let snap = hh.snap();
        let id = m
            .get("id")
            .map(text)
            .ok_or("fixture_institution needs an id")?;
        let first = snap.reader.districts().first().cloned().unwrap_or_default();
        let defaults = [
            ("name", id.clone()),
            ("district", first),
            ("category", "non_subject".to_string()),
            ("status", "operating".to_string()),
            ("status_date", "2000-01-01".to_string()),
        ];
        let r = row(RecordKind::Institutions, &m, &defaults)?;
        let (x, errs) = format::institution_from(&r);
        if !errs.is_empty() {
            return Err(format!("fixture_institution: {}", crate::ledger::Rejection(errs)).into());
        }
        write(&l, |tx| tx.upsert_institution(&x, "fixture").map(|_| ()))?;
        refresh(&hh, &l, snap.as_of)?;
        let snap = hh.snap();
        let x = snap
            .reader
            .institution_as(&id)
            .map_err(|e| e.to_string())?
            .ok_or("fixture vanished")?;
        Ok(Dynamic::from(InstitutionRef {
            institution: Arc::new(x),
            snap,
        }))
    });
    let hh = h.clone();
    let l = ledger.clone();
    engine.register_fn("fixture_inspection", move |m: Map| -> RResult<Dynamic> {
        let snap = hh.snap();
        let (_, n, _) = snap.reader.counts().map_err(|e| e.to_string())?;
        let defaults = [
            ("id", format!("T-N{}", n + 1)),
            ("date", crate::model::fmt_date(snap.as_of)),
        ];
        let r = row(RecordKind::Inspections, &m, &defaults)?;
        let (x, errs) = format::inspection_from(&r);
        if !errs.is_empty() {
            return Err(format!("fixture_inspection: {}", crate::ledger::Rejection(errs)).into());
        }
        write(&l, |tx| tx.upsert_inspection(&x).map(|_| ()))?;
        refresh(&hh, &l, snap.as_of)?;
        Ok(Dynamic::from(InspectionRef {
            inspection: Arc::new(x),
        }))
    });
    let hh = h;
    let l = ledger;
    engine.register_fn("fixture_finding", move |m: Map| -> RResult<Dynamic> {
        let snap = hh.snap();
        let (_, _, n) = snap.reader.counts().map_err(|e| e.to_string())?;
        let opened = match m.get("opened_on").map(text) {
            Some(o) => crate::model::parse_date(&o)
                .map_err(|why| format!("fixture_finding: opened_on \"{o}\" {why}"))?,
            None => snap.as_of,
        };
        let defaults = [
            ("id", format!("T-F{}", n + 1)),
            ("kind", "other".to_string()),
            ("severity", "1".to_string()),
            ("opened_on", crate::model::fmt_date(opened)),
            (
                "deadline",
                crate::model::fmt_date(opened + chrono::Duration::days(30)),
            ),
        ];
        let r = row(RecordKind::Findings, &m, &defaults)?;
        let (x, errs) = format::finding_from(&r);
        if !errs.is_empty() {
            return Err(format!("fixture_finding: {}", crate::ledger::Rejection(errs)).into());
        }
        write(&l, |tx| tx.upsert_finding(&x).map(|_| ()))?;
        refresh(&hh, &l, snap.as_of)?;
        let snap = hh.snap();
        Ok(Dynamic::from(FindingRef::new(&x, snap.as_of)))
    });
}

/// The `.rhai` files of a directory, or the file itself.
pub fn script_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    v.sort();
    Ok(v)
}

/// Runs every `test_*` function of every script; `filter` keeps tests whose name contains it.
pub fn run_tests(
    files: &[PathBuf],
    filter: Option<&str>,
    as_of: NaiveDate,
) -> anyhow::Result<Vec<Outcome>> {
    run_tests_then(files, filter, as_of, |_, _| {})
}

/// [`run_tests`], calling `after_file` once each file's tests have run, with
/// the file's compiled script (`None` when it does not compile), so that
/// `--coverage` reads the runner's own compilation rather than making another.
pub fn run_tests_then(
    files: &[PathBuf],
    filter: Option<&str>,
    as_of: NaiveDate,
    mut after_file: impl FnMut(&Path, Option<&rhai::AST>),
) -> anyhow::Result<Vec<Outcome>> {
    let scratch = std::env::temp_dir().join(format!("casebook-test-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut out = Vec::new();
    let mut n = 0usize;
    for path in files {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path)?;
        // Compile once against an empty ledger to find the tests.
        n += 1;
        let probe_path = scratch.join(format!("probe-{n}.redb"));
        let probe = LedgerWriter::create(&probe_path)?;
        let probe_host = ScriptHost::new(&probe, as_of, Map::new(), false, Limits::default())?;
        let ast = match probe_host.compile(&src) {
            Ok(a) => a,
            Err(e) => {
                out.push(Outcome {
                    file: file.clone(),
                    name: "(compile)".into(),
                    failure: Some(diag::parse_diag(&e).render(&file, &src)),
                });
                after_file(path, None);
                continue;
            }
        };
        let tests: Vec<String> = ast
            .iter_functions()
            .filter(|f| f.name.starts_with("test_") && f.params.is_empty())
            .filter(|f| filter.is_none_or(|s| f.name.contains(s)))
            .map(|f| f.name.to_string())
            .collect();
        // In the order they are written, as a reader of the file expects.
        let mut tests = tests;
        tests.sort_by_key(|n| src.find(&format!("fn {n}(")).unwrap_or(usize::MAX));
        drop(probe_host);
        drop(probe);
        let _ = std::fs::remove_file(&probe_path);
        for name in tests {
            n += 1;
            let db = scratch.join(format!("t{n}.redb"));
            let ledger = Arc::new(LedgerWriter::create(&db)?);
            let snap = Arc::new(Snapshot::new(ledger.reader()?, as_of));
            let h = Arc::new(Host::new(snap, Map::new(), false, Limits::default()));
            let mut engine = engine::build_engine(h.clone());
            register_test_api(&mut engine, h.clone(), ledger.clone());
            *h.ast.write().unwrap() = Some(Arc::new(ast.clone()));
            *h.started.lock().unwrap() = std::time::Instant::now();
            let opts = rhai::CallFnOptions::new().eval_ast(false);
            let mut scope = rhai::Scope::new();
            let r = engine.call_fn_with_options::<Dynamic>(opts, &mut scope, &ast, &name, ());
            let failure = r.err().map(|e| {
                let mut d = diag::runtime_diag(&e, &Limits::default());
                // The failing line inside the test, not the call made by the runner.
                if let Some((_, l, c)) = d.stack.first().cloned().filter(|_| d.line == 0) {
                    d.line = l;
                    d.column = c;
                }
                d.stack.retain(|(f, _, _)| f != &name);
                d.render(&file, &src)
            });
            out.push(Outcome {
                file: file.clone(),
                name,
                failure,
            });
            drop(engine);
            drop(h);
            drop(ledger);
            let _ = std::fs::remove_file(&db);
        }
        after_file(path, Some(&ast));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    // Nothing tested is no pass (as `opa test` says when it finds no tests).
    if out.is_empty() {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let what = match filter {
            Some(f) => format!("no test_* function whose name contains \"{f}\""),
            None => "no test_* functions".to_string(),
        };
        out.push(Outcome {
            file: names.join(", "),
            name: "(no tests)".into(),
            failure: Some(format!(
                "error: {what} in {}: write fn test_something() {{ … }} for casebook test to run\n",
                names.join(", ")
            )),
        });
    }
    Ok(out)
}

/// Prints outcomes like a test runner; returns (passed, failed).
pub fn report(outcomes: &[Outcome], w: &mut dyn std::io::Write) -> std::io::Result<(usize, usize)> {
    let (mut p, mut f) = (0, 0);
    for o in outcomes {
        match &o.failure {
            None => {
                p += 1;
                writeln!(w, "ok   {}::{}", o.file, o.name)?;
            }
            Some(msg) => {
                f += 1;
                writeln!(w, "FAIL {}::{}", o.file, o.name)?;
                for line in msg.lines() {
                    writeln!(w, "     {line}")?;
                }
            }
        }
    }
    writeln!(w, "{p} passed, {f} failed")?;
    Ok((p, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_and_failing_tests_are_told_apart_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rule.rhai");
        std::fs::write(
            &p,
            "fn score(i) { if i.licensed { 100 } else { 80 } }\n\
             fn test_unlicensed() {\n  let i = fixture_institution(#{id: \"T1\"});\n  assert_eq(score(i), 80);\n}\n\
             fn test_wrong() {\n  let i = fixture_institution(#{id: \"T2\"});\n  assert_eq(score(i), 100);\n}\n\
             fn test_dates() {\n  set_as_of(date(\"2019-02-20\"));\n  let f = fixture_finding(#{institution_id: fixture_institution(#{id: \"T3\"}).id, opened_on: date(\"2019-01-01\"), deadline: date(\"2019-02-01\")});\n  assert(f.overdue, \"past its deadline\");\n}\n",
        )
        .unwrap();
        let out = run_tests(&[p], None, NaiveDate::from_ymd_opt(2019, 2, 20).unwrap()).unwrap();
        let by = |n: &str| out.iter().find(|o| o.name == n).unwrap();
        assert!(
            by("test_unlicensed").failure.is_none(),
            "{:?}",
            by("test_unlicensed")
        );
        assert!(by("test_dates").failure.is_none(), "{:?}", by("test_dates"));
        let f = by("test_wrong").failure.clone().unwrap();
        assert!(f.contains("got 80, want 100"), "{f}");
        assert!(f.contains("rule.rhai:8:"), "{f}");
    }
}
