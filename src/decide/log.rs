//! The decision log: a scoring saved as a numbered run (`casebook score
//! --save`), and a saved run's decisions loaded back (for `casebook runs show`
//! and `casebook diff`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Decision, Rule};
use crate::ledger::{Ledger, LedgerError, LedgerWriter, Operation};
use crate::script::RunError;

/// What makes two scorings the same: the rule's SHA-256, the as-of date, the
/// script arguments, and the ledger's state (its last audit entry) they read.
#[derive(Debug, Clone)]
pub struct RunKey {
    pub sha256: String,
    pub as_of: NaiveDate,
    pub args: BTreeMap<String, String>,
    /// The last audit entry of the snapshot scored.
    pub ledger_audit: u64,
}

/// The saved run that is the same as `key`, if any: same rule, date and
/// arguments, scored on the same state of the ledger. The run's own audit
/// entry counts as that state too, since saving it is all that changed.
pub fn same_run(runs: &[(u64, serde_json::Value)], key: &RunKey) -> Option<u64> {
    let args = serde_json::to_value(&key.args).ok()?;
    let date = crate::model::fmt_date(key.as_of);
    runs.iter().rev().find_map(|(n, h)| {
        let same = h["script_sha256"].as_str() == Some(key.sha256.as_str())
            && h["as_of"].as_str() == Some(date.as_str())
            // Runs saved before arguments were recorded had none to record
            // only if they had none: an absent field matches no arguments.
            && h.get("args").unwrap_or(&serde_json::json!({})) == &args
            && (h["ledger_audit"].as_u64() == Some(key.ledger_audit)
                || h["audit"].as_u64() == Some(key.ledger_audit));
        same.then_some(*n)
    })
}

/// Saves decisions as a run in the decision log; returns the run number.
pub fn save_run(
    ledger: &LedgerWriter,
    rule: &Rule,
    key: &RunKey,
    operator: &str,
    ds: &[Decision],
) -> Result<u64, LedgerError> {
    let as_of = key.as_of;
    let mut dist: BTreeMap<&str, usize> = BTreeMap::new();
    for d in ds {
        *dist.entry(d.grade.as_str()).or_default() += 1;
    }
    let header = serde_json::json!({
        "script": rule.file,
        "script_sha256": rule.sha256,
        "as_of": crate::model::fmt_date(as_of),
        "args": key.args,
        "ledger_audit": key.ledger_audit,
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
