//! Who the operator is, for the audit log: every change the ledger records
//! says who made it.

/// The operator: `--operator`, else `$USER`, else `$LOGNAME`, else the
/// name of the account the process runs as (cron sets neither variable on
/// some systems, and the nightly job's audit entries must still say who).
pub fn operator(o: &Option<String>) -> String {
    let set = |s: &String| !s.trim().is_empty();
    o.clone()
        .filter(set)
        .or_else(|| std::env::var("USER").ok().filter(set))
        .or_else(|| std::env::var("LOGNAME").ok().filter(set))
        .or_else(crate::ledger::who::current_account)
        .unwrap_or_else(|| "unknown".into())
}
