//! Where a row of any file becomes a record: the format's parser, the
//! district's configured name, the fields a file leaves out kept from the
//! stored record, and the record's own checks, all errors at once.

use crate::format::{self, Row};
use crate::ledger::{LedgerError, Reader};
use crate::model::FieldError;
use crate::model::RecordKind;

/// Parsed records of any kind, so one loop drives all five.
pub(super) enum Rec {
    Institution(crate::model::Institution),
    Inspection(crate::model::Inspection),
    Finding(crate::model::Finding),
    Application(crate::model::Application),
    Course(crate::model::Course),
}

/// Parses a row; on a parse error the record's own checks still run, so a
/// row's every problem is reported at once, not one per attempt.
///
/// A file need not have every column. For a record already in the ledger, a
/// field whose column the file lacks (or, in JSON Lines, whose key is absent)
/// keeps its stored value, so a file of just `id,…,status,status_date` updates
/// the status without wiping licence, counts and the rest. An empty cell (or
/// JSON `null`) does clear the field.
pub(super) fn parse_row(
    kind: RecordKind,
    row: &dyn Row,
    districts: &[String],
    stored: &Reader,
) -> Result<Result<Rec, Vec<FieldError>>, LedgerError> {
    fn merge(mut errs: Vec<FieldError>, more: Vec<FieldError>) -> Vec<FieldError> {
        for e in more {
            if !errs.iter().any(|x| x.field == e.field) {
                errs.push(e);
            }
        }
        errs
    }
    let has = |f: &str| row.get(f).is_some();
    let partial = !row.complete(kind.columns());
    Ok(match kind {
        RecordKind::Institutions => {
            let (mut x, e) = format::institution_from(row);
            // Clerks write a district's full name (天河区); the ledger keeps the configured one.
            if let Some(d) = crate::model::district_name(&x.district, districts) {
                if d != x.district {
                    x.district = d.to_string();
                }
            }
            if partial && !x.id.is_empty() {
                if let Some(old) = stored.institution(&x.id)? {
                    format::keep_absent_institution(&mut x, &old, &has);
                }
            }
            let checks = x.validate(districts);
            if e.is_empty() && checks.is_empty() {
                Ok(Rec::Institution(x))
            } else if e.is_empty() {
                // All of them: one field may break two rules (a negative
                // count of qualified teachers, also above the teachers).
                Err(checks)
            } else {
                Err(merge(e, checks))
            }
        }
        RecordKind::Inspections => {
            let (mut x, e) = format::inspection_from(row);
            if partial && !x.id.is_empty() {
                if let Some(old) = stored.inspection(&x.id)? {
                    format::keep_absent_inspection(&mut x, &old, &has);
                }
            }
            if e.is_empty() {
                Ok(Rec::Inspection(x))
            } else {
                Err(merge(e, x.validate()))
            }
        }
        RecordKind::Findings => {
            let (mut x, e) = format::finding_from(row);
            if partial && !x.id.is_empty() {
                if let Some(old) = stored.finding(&x.id)? {
                    format::keep_absent_finding(&mut x, &old, &has);
                }
            }
            if e.is_empty() {
                Ok(Rec::Finding(x))
            } else {
                Err(merge(e, x.validate()))
            }
        }
        RecordKind::Applications => match format::application_from(row) {
            (x, e) if e.is_empty() => Ok(Rec::Application(x)),
            (x, e) => Err(merge(e, x.validate())),
        },
        RecordKind::Courses => match format::course_from(row) {
            (x, e) if e.is_empty() => Ok(Rec::Course(x)),
            (x, e) => Err(merge(e, x.validate())),
        },
    })
}

impl Row for &dyn Row {
    fn get(&self, field: &str) -> Option<&str> {
        (**self).get(field)
    }

    fn complete(&self, columns: &[(&str, &[&str])]) -> bool {
        (**self).complete(columns)
    }
}

impl Rec {
    /// The record's own checks (the ledger adds references when it writes).
    pub(super) fn validate(&self, districts: &[String]) -> Vec<FieldError> {
        match self {
            Rec::Institution(x) => x.validate(districts),
            Rec::Inspection(x) => x.validate(),
            Rec::Finding(x) => x.validate(),
            Rec::Application(x) => x.validate(),
            Rec::Course(x) => x.validate(),
        }
    }
}
