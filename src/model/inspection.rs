//! An inspection visit and the departments that take part in one.

use chrono::NaiveDate;

use super::values::domain_enum;
use super::{check_id, check_text, FieldError};

domain_enum!(
    /// A department taking part in an inspection.
    Department, "department", {
    Education => "education", ["教育"], "education bureau";
    Police => "police", ["公安"], "public security";
    CivilAffairs => "civil_affairs", ["民政"], "civil affairs";
    Hr => "hr", ["人社"], "human resources and social security";
    Market => "market", ["市场监管"], "market regulation";
    Fire => "fire", ["消防"], "fire services";
});

/// An inspection visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub id: String,
    pub institution_id: String,
    pub date: NaiveDate,
    pub operation: Option<String>,
    pub departments: Vec<Department>,
    pub inspectors: i64,
    pub note: String,
}

impl Inspection {
    /// Checks the inspection on its own (references are checked by the ledger).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        check_id(&mut e, "institution_id", &self.institution_id);
        if let Some(o) = &self.operation {
            check_text(&mut e, "operation", o);
        }
        check_text(&mut e, "note", &self.note);
        if self.inspectors < 0 {
            e.push(FieldError::new(
                "inspectors",
                self.inspectors.to_string(),
                "must not be negative",
            ));
        }
        e
    }
}
