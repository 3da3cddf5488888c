//! The decision log: a scoring saved as a numbered run (`casebook score
//! --save`), and a saved run's decisions loaded back (for `casebook runs show`
//! and `casebook diff`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Decision, Rule};
use crate::ledger::{Ledger, LedgerError, LedgerWriter, Operation};
use crate::script::RunError;

/// Saves decisions as a run in the decision log; returns the run number.
pub fn save_run(
    ledger: &LedgerWriter,
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
        // Stored in UTC; `casebook runs` shows it in local time.
        "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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
