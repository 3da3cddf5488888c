//! The management platform (issue 6): licence applications and course filings
//! imported from the bureau's spreadsheets, decided by scripts with `--write`,
//! shown in the register and audited; and the three platform rules
//! (licence_review, course_check, annual_evaluation) on the demo city, which
//! must find exactly the cases the generator planted.
//!
//! The helpers here are the ones both halves use.

mod course_dates;
mod demo_rules;
mod records;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

/// Exported rows of a kind by id.
pub(super) fn exported(ws: &Ws, kind: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    csv_maps(&ws.export(kind, "csv"))
        .into_iter()
        .map(|r| (r["id"].clone(), r))
        .collect()
}

/// The JSON rows among the lines of `stdout` (other lines are skipped).
pub(super) fn jsonl(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
