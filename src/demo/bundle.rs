//! What `casebook demo` ships beside the generator: writing the city into a
//! new ledger, and the sample scripts it runs on it, bundled into the binary.

use std::path::Path;

use super::generate;
use crate::ledger::{LedgerError, LedgerWriter, Operation};

/// What [`build`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    pub institutions: u64,
    pub inspections: u64,
    pub findings: u64,
    pub applications: u64,
    pub courses: u64,
}

/// Writes the demo city into a new ledger at `path` (which must not exist yet)
/// in one audited transaction.
pub fn build(path: &Path, operator: &str) -> Result<DemoSummary, LedgerError> {
    let city = generate();
    let ledger = LedgerWriter::create(path)?;
    let op = Operation {
        operator: operator.to_string(),
        command: "casebook demo".to_string(),
        ..Operation::default()
    };
    ledger.transact(&op, false, |tx| -> Result<(), LedgerError> {
        for x in &city.institutions {
            tx.upsert_institution(x, "摸查登记（演示数据）")?;
        }
        for x in &city.inspections {
            tx.upsert_inspection(x)?;
        }
        for x in &city.findings {
            tx.upsert_finding(x)?;
        }
        for (id, date, status, reason) in &city.status_changes {
            tx.set_status(id, *status, *date, reason)?;
        }
        for x in &city.applications {
            tx.upsert_application(x)?;
        }
        for x in &city.courses {
            tx.upsert_course(x)?;
        }
        Ok(())
    })?;
    Ok(DemoSummary {
        institutions: city.institutions.len() as u64,
        inspections: city.inspections.len() as u64,
        findings: city.findings.len() as u64,
        applications: city.applications.len() as u64,
        courses: city.courses.len() as u64,
    })
}

/// The sample scripts `casebook demo` runs, bundled into the binary.
pub const SAMPLE_SCRIPTS: &[(&str, &str)] = &[
    (
        "campaign_summary.rhai",
        include_str!("../../scripts/campaign_summary.rhai"),
    ),
    (
        "weekly_report.rhai",
        include_str!("../../scripts/weekly_report.rhai"),
    ),
    // The platform's rules, in their preview mode (no --write): what they would decide.
    (
        "licence_review.rhai",
        include_str!("../../scripts/licence_review.rhai"),
    ),
    (
        "course_check.rhai",
        include_str!("../../scripts/course_check.rhai"),
    ),
    (
        "annual_evaluation.rhai",
        include_str!("../../scripts/annual_evaluation.rhai"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::tests::d;
    use crate::ledger::Ledger;
    use crate::model::Status;
    use std::collections::HashMap;

    #[test]
    fn demo_builds_a_ledger_with_the_report_figures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.redb");
        let summary = build(&path, "tester").unwrap();
        assert_eq!((summary.institutions, summary.inspections), (8562, 809));
        let ledger = Ledger::open_read(&path).unwrap();
        let reader = ledger.reader().unwrap();
        assert_eq!(reader.counts().unwrap(), (8562, 809, summary.findings));
        let as_of = d("2019-02-20");
        let mut n = HashMap::new();
        for x in reader.institutions().unwrap() {
            let x = x.unwrap();
            let s = reader.status_as_of(&x, as_of).unwrap().expect("a status");
            *n.entry(s).or_insert(0) += 1;
        }
        assert_eq!(n[&Status::SelfClosed], 529);
        assert_eq!(n[&Status::Closed], 46);
        assert_eq!(n[&Status::Converted], 1108);
        // Before the campaign every institution was operating.
        let x = reader.institution("GZ-TH-00001").unwrap().unwrap();
        assert_eq!(
            reader.status_as_of(&x, d("2018-02-28")).unwrap(),
            Some(Status::Operating)
        );
        let audit = reader.audit().unwrap();
        assert_eq!(audit.len(), 1);
        assert!(audit[0].1.contains("casebook demo") && audit[0].1.contains("tester"));
    }
}
