//! `casebook test --coverage`: the rule tests, run with the coverage tracer,
//! and per file the share of its rule functions' statements they ran, the
//! lines they never ran (`credit_score.rhai:88-91`) and the rule functions no
//! test reaches; as text or, for an editor, as JSON per line.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;

use super::ruletest::{run_tests_then, Outcome};
use crate::script::debug::coverage::{analyse, Coverage, FileCoverage};
use crate::script::debug::{self, fmt_range};

/// One file's coverage.
pub struct FileReport {
    pub file: String,
    /// `None` when the file does not compile (its test outcome says why).
    pub coverage: Option<FileCoverage>,
}

/// Runs the tests of each file with the coverage tracer installed.
pub fn run_with_coverage(
    files: &[PathBuf],
    filter: Option<&str>,
    as_of: NaiveDate,
) -> anyhow::Result<(Vec<Outcome>, Vec<FileReport>)> {
    let cov = Arc::new(Coverage::default());
    debug::install(Some(cov.clone()));
    let mut reports = Vec::new();
    let r = run_tests_then(files, filter, as_of, |path, ast| {
        // What ran since the last file is this file's.
        let hits = cov.take();
        reports.push(FileReport {
            file: path.display().to_string(),
            coverage: ast.map(|ast| analyse(ast, &hits)),
        });
    });
    debug::install(None);
    Ok((r?, reports))
}

fn percent(ran: usize, n: usize) -> f64 {
    if n == 0 {
        100.0
    } else {
        (1000.0 * ran as f64 / n as f64).round() / 10.0
    }
}

/// The coverage as text: a line per file, its missed lines and unreached functions.
pub fn write_text(reports: &[FileReport], w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        w,
        "coverage (statements of the rule functions the tests ran; top-level code is not counted):"
    )?;
    for r in reports {
        let Some(c) = &r.coverage else {
            writeln!(w, "{}: does not compile", r.file)?;
            continue;
        };
        let (ran, n) = c.counts();
        writeln!(
            w,
            "{}: {:.1}% of {n} statements ({ran} ran)",
            r.file,
            percent(ran, n)
        )?;
        let missed = c.missed_ranges();
        if !missed.is_empty() {
            let ls: Vec<String> = missed
                .iter()
                .map(|m| format!("{}:{}", r.file, fmt_range(*m)))
                .collect();
            writeln!(w, "  never run: {}", ls.join(", "))?;
        }
        for f in c.unreached() {
            writeln!(w, "  no test reaches fn {f}")?;
        }
    }
    Ok(())
}

/// The coverage as one JSON document: per file its figures and every line
/// holding statements (`{"line", "statements", "ran"}`), for an editor.
pub fn write_json(reports: &[FileReport], w: &mut dyn Write) -> std::io::Result<()> {
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| match &r.coverage {
            None => serde_json::json!({"file": r.file, "error": "does not compile"}),
            Some(c) => {
                let (ran, n) = c.counts();
                let lines: Vec<serde_json::Value> = c
                    .lines()
                    .into_iter()
                    .map(
                        |(l, (n, ran))| serde_json::json!({"line": l, "statements": n, "ran": ran}),
                    )
                    .collect();
                serde_json::json!({
                    "file": r.file,
                    "statements": n,
                    "ran": ran,
                    "percent": percent(ran, n),
                    "never_run": c.missed_ranges().into_iter().map(fmt_range).collect::<Vec<_>>(),
                    "unreached_functions": c.unreached(),
                    "lines": lines,
                })
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &serde_json::json!({ "files": files }))?;
    writeln!(w)
}
