//! A record as a row of text, in column order: what `casebook export`
//! writes, and what import reads back into the same record.

use chrono::NaiveDate;

use crate::model::*;

/// A date cell, empty when there is no date.
fn date_or_blank(v: Option<NaiveDate>) -> String {
    v.map(fmt_date).unwrap_or_default()
}

/// The row of an institution, in column order.
pub fn institution_row(x: &Institution) -> Vec<String> {
    vec![
        x.id.clone(),
        x.name.clone(),
        x.uscc.clone().unwrap_or_default(),
        x.district.clone(),
        x.street.clone(),
        x.address.clone(),
        x.category.as_str().into(),
        x.licence_no.clone().unwrap_or_default(),
        date_or_blank(x.licence_issued),
        date_or_blank(x.licence_expires),
        x.organizer.clone(),
        x.students.to_string(),
        x.teachers.to_string(),
        x.qualified_teachers.to_string(),
        fmt_num(x.area_m2),
        fmt_yuan(x.prepaid_fen),
        x.fire_approved.to_string(),
        x.status.as_str().into(),
        fmt_date(x.status_date),
    ]
}

/// The row of an inspection, in column order.
pub fn inspection_row(x: &Inspection) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        fmt_date(x.date),
        x.operation.clone().unwrap_or_default(),
        x.departments
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        x.inspectors.to_string(),
        x.note.clone(),
    ]
}

/// The row of a finding, in column order.
pub fn finding_row(x: &Finding) -> Vec<String> {
    finding_row_of(x.clone())
}

/// [`finding_row`] of a finding the caller is done with: its texts move into
/// the row rather than being copied (an export's million findings).
pub fn finding_row_of(x: Finding) -> Vec<String> {
    vec![
        x.id,
        x.institution_id,
        x.inspection_id.unwrap_or_default(),
        x.kind.as_str().into(),
        x.severity.to_string(),
        fmt_date(x.opened_on),
        fmt_date(x.deadline),
        date_or_blank(x.rectified_on),
        date_or_blank(x.verified_on),
        x.note,
    ]
}

/// The row of a licence application, in column order.
pub fn application_row(x: &Application) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        fmt_date(x.submitted_on),
        fmt_num(x.site_area_m2),
        x.fire_approved.to_string(),
        x.teachers.to_string(),
        x.qualified_teachers.to_string(),
        x.status.as_str().into(),
        date_or_blank(x.decided_on),
        x.decision_reason.clone(),
        x.licence_no.clone().unwrap_or_default(),
        date_or_blank(x.licence_expires),
    ]
}

/// The row of a course filing, in column order.
pub fn course_row(x: &Course) -> Vec<String> {
    vec![
        x.id.clone(),
        x.institution_id.clone(),
        x.name.clone(),
        x.subject.clone(),
        x.subject_type.as_str().into(),
        x.grade.clone(),
        x.mode.as_str().into(),
        x.class_hours.to_string(),
        fmt_yuan(x.fee_fen),
        x.prepay_months.to_string(),
        fmt_date(x.starts_on),
        fmt_date(x.ends_on),
        fmt_hhmm(x.daily_end_min),
        fmt_date(x.filed_on),
        x.status.as_str().into(),
        x.decision_reason.clone(),
        date_or_blank(x.decided_on),
    ]
}
