//! The licensing platform's records: licence applications (办学许可证申请)
//! and course filings (课程备案), with their statuses and checks.

use chrono::NaiveDate;

use super::values::{domain_enum, fmt_num, fmt_yuan};
use super::{check_id, check_text, Category, FieldError};

domain_enum!(
    /// Where a licence application stands.
    AppStatus, "application status", {
    Submitted => "submitted", ["已提交", "待审批"], "submitted, waiting for a decision";
    Approved => "approved", ["已批准"], "approved: a licence was issued";
    Rejected => "rejected", ["已驳回", "不予批准"], "rejected, with reasons";
});

domain_enum!(
    /// Where a course filing stands.
    CourseStatus, "course status", {
    Filed => "filed", ["已备案", "待审核"], "filed, waiting for the check";
    Accepted => "accepted", ["已通过"], "accepted";
    Rejected => "rejected", ["已驳回", "不予备案"], "rejected, with reasons";
});

domain_enum!(
    /// How a course is taught.
    Mode, "mode", {
    Offline => "offline", ["线下"], "on site";
    Online => "online", ["线上"], "online";
});

/// A school-running licence application (办学许可证申请).
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: String,
    pub institution_id: String,
    pub submitted_on: NaiveDate,
    pub site_area_m2: f64,
    pub fire_approved: bool,
    pub teachers: i64,
    pub qualified_teachers: i64,
    pub status: AppStatus,
    pub decided_on: Option<NaiveDate>,
    pub decision_reason: String,
    pub licence_no: Option<String>,
    pub licence_expires: Option<NaiveDate>,
}

/// A course filing (课程备案), its texts held as `String`s.
pub type Course = CourseOf<String>;

/// A course filing whose texts are of type `S`: `String` ([`Course`]), or
/// a small-string type for the courses scripts hold (one allocation per
/// course instead of one per text: see `script::records::ScriptCourse`).
#[derive(Debug, Clone, PartialEq)]
pub struct CourseOf<S> {
    pub id: S,
    pub institution_id: S,
    pub name: S,
    pub subject: S,
    pub subject_type: Category,
    pub grade: S,
    pub mode: Mode,
    pub class_hours: i64,
    /// Total fee in fen; scripts and files see yuan.
    pub fee_fen: i64,
    pub prepay_months: i64,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Minutes after midnight the last class of a day ends.
    pub daily_end_min: u32,
    pub filed_on: NaiveDate,
    pub status: CourseStatus,
    pub decision_reason: S,
    /// 审核日期: the day it was accepted or rejected. `None` while filed, and
    /// for decisions recorded before the date was (those read as decided
    /// from the day the course was filed: their day is unknown).
    pub decided_on: Option<NaiveDate>,
}

impl<S> CourseOf<S> {
    /// The same course filing with each text made by `t` (another text type).
    pub fn texts_as<T>(&self, t: impl Fn(&S) -> T) -> CourseOf<T> {
        CourseOf {
            id: t(&self.id),
            institution_id: t(&self.institution_id),
            name: t(&self.name),
            subject: t(&self.subject),
            subject_type: self.subject_type,
            grade: t(&self.grade),
            mode: self.mode,
            class_hours: self.class_hours,
            fee_fen: self.fee_fen,
            prepay_months: self.prepay_months,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            daily_end_min: self.daily_end_min,
            filed_on: self.filed_on,
            status: self.status,
            decision_reason: t(&self.decision_reason),
            decided_on: self.decided_on,
        }
    }
}

impl Application {
    /// Checks the application on its own (the institution is checked by the ledger).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        check_id(&mut e, "institution_id", &self.institution_id);
        check_text(&mut e, "decision_reason", &self.decision_reason);
        if let Some(l) = &self.licence_no {
            check_text(&mut e, "licence_no", l);
        }
        if self.site_area_m2.is_nan() || self.site_area_m2 <= 0.0 {
            e.push(FieldError::new(
                "site_area_m2",
                fmt_num(self.site_area_m2),
                "must be a positive area in m²",
            ));
        }
        for (f, v) in [
            ("teachers", self.teachers),
            ("qualified_teachers", self.qualified_teachers),
        ] {
            if v < 0 {
                e.push(FieldError::new(f, v.to_string(), "must not be negative"));
            }
        }
        if self.qualified_teachers > self.teachers {
            e.push(FieldError::new(
                "qualified_teachers",
                self.qualified_teachers.to_string(),
                format!("is more than teachers ({})", self.teachers),
            ));
        }
        match (self.status, self.decided_on) {
            (AppStatus::Submitted, Some(d)) => e.push(FieldError::new(
                "decided_on",
                d.to_string(),
                "is set but the status is submitted",
            )),
            (AppStatus::Approved | AppStatus::Rejected, None) => e.push(FieldError::new(
                "decided_on",
                "",
                format!("is required when the status is {}", self.status),
            )),
            (_, Some(d)) if d < self.submitted_on => e.push(FieldError::new(
                "decided_on",
                d.to_string(),
                format!("is before submitted_on {}", self.submitted_on),
            )),
            _ => {}
        }
        if self.status == AppStatus::Approved {
            if self.licence_no.as_deref().is_none_or(|s| s.is_empty()) {
                e.push(FieldError::new(
                    "licence_no",
                    "",
                    "is required for an approved application",
                ));
            }
            match (self.licence_expires, self.decided_on) {
                (None, _) => e.push(FieldError::new(
                    "licence_expires",
                    "",
                    "is required for an approved application",
                )),
                (Some(x), Some(d)) if x <= d => e.push(FieldError::new(
                    "licence_expires",
                    x.to_string(),
                    format!("must be after decided_on {d}"),
                )),
                _ => {}
            }
        }
        if self.status == AppStatus::Rejected && self.decision_reason.trim().is_empty() {
            e.push(FieldError::new(
                "decision_reason",
                "",
                "a rejection needs its reasons",
            ));
        }
        e
    }
}

impl Course {
    /// Checks the course filing on its own.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        check_id(&mut e, "institution_id", &self.institution_id);
        for (field, v) in [
            ("name", &self.name),
            ("subject", &self.subject),
            ("grade", &self.grade),
        ] {
            check_text(&mut e, field, v);
        }
        check_text(&mut e, "decision_reason", &self.decision_reason);
        if self.name.trim().is_empty() {
            e.push(FieldError::new("name", "", "must not be empty"));
        }
        if self.class_hours <= 0 {
            e.push(FieldError::new(
                "class_hours",
                self.class_hours.to_string(),
                "must be a positive number of class hours",
            ));
        }
        if self.fee_fen <= 0 {
            e.push(FieldError::new(
                "fee_total",
                fmt_yuan(self.fee_fen),
                "must be a positive amount in yuan",
            ));
        }
        if self.prepay_months < 0 {
            e.push(FieldError::new(
                "prepay_months",
                self.prepay_months.to_string(),
                "must not be negative",
            ));
        }
        if self.ends_on < self.starts_on {
            e.push(FieldError::new(
                "ends_on",
                self.ends_on.to_string(),
                format!("is before starts_on {}", self.starts_on),
            ));
        }
        if self.status == CourseStatus::Rejected && self.decision_reason.trim().is_empty() {
            e.push(FieldError::new(
                "decision_reason",
                "",
                "a rejection needs its reasons",
            ));
        }
        match self.decided_on {
            Some(d) if self.status == CourseStatus::Filed => e.push(FieldError::new(
                "decided_on",
                d.to_string(),
                "a course still filed has no decision date; leave it empty, or give the status accepted or rejected",
            )),
            Some(d) if d < self.filed_on => e.push(FieldError::new(
                "decided_on",
                d.to_string(),
                format!("is before filed_on {}", self.filed_on),
            )),
            _ => {}
        }
        e
    }
}

impl<S> CourseOf<S> {
    /// The status on `d`: `filed` until the decision's day. A decision
    /// without a date (recorded before dates were) reads as it is.
    pub fn status_on(&self, d: NaiveDate) -> CourseStatus {
        match self.decided_on {
            Some(x) if x > d => CourseStatus::Filed,
            _ => self.status,
        }
    }

    /// Yuan, as scripts and files see the fee.
    pub fn fee_yuan(&self) -> f64 {
        self.fee_fen as f64 / 100.0
    }
}
