//! Decisions: `casebook score` (a grade with reasons for every institution),
//! the decision log (`--save`, `casebook runs`) and `casebook diff` (what a
//! rule change would change).
//!
//! A rule is a script defining `fn score(inst)`, returning a number or
//! `#{score: n, reasons: [..]}`, and optionally `fn grade(score)`. Reasons can
//! also be recorded as points are lost with `deduct(points, reason)`. Only the
//! functions are called; the script's top-level statements are not run.
//!
//! This file holds a decision and a rule and how decisions are written out;
//! `score.rs` scores, `log.rs` saves runs to the decision log and loads them,
//! `diff.rs` compares two sets of decisions, and `ruletest.rs` runs a rule's
//! tests (`casebook test`).

use std::io::Write;
use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Map, AST};

use crate::ledger::{Ledger, LedgerError};
use crate::script::{diag, Limits, RunError, ScriptHost};

pub mod coverage;
mod diff;
pub mod explain;
mod log;
pub mod ruletest;
mod score;

pub use diff::{diff, diff_sheets, render_diff, Diff};
pub use log::{load_run, same_run, save_run, RunKey};
pub use score::{distribution, score_all};

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

/// A number for the decision log: whole numbers as integers.
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
    let src = crate::script::read_script(path, host.limits.max_memory)?;
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

/// Decisions as a sheet, for files (`score -o`, `runs show -o`).
pub fn decisions_sheet(ds: &[Decision]) -> crate::sheet::Sheet {
    use crate::sheet::{Cell, Sheet};
    let mut s = Sheet::new(
        "decisions",
        &["id", "name", "district", "score", "grade", "reasons"],
    );
    s.rows = ds
        .iter()
        .map(|d| {
            vec![
                Cell::from(d.id.as_str()),
                Cell::from(d.name.as_str()),
                Cell::from(d.district.as_str()),
                Cell::Num(d.score),
                Cell::from(d.grade.as_str()),
                Cell::from(d.reasons.join("；")),
            ]
        })
        .collect();
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

    #[test]
    fn default_grades_follow_the_thresholds() {
        assert_eq!(default_grade(90.0), "A");
        assert_eq!(default_grade(89.9), "B");
        assert_eq!(default_grade(75.0), "B");
        assert_eq!(default_grade(60.0), "C");
        assert_eq!(default_grade(59.0), "D");
    }
}
