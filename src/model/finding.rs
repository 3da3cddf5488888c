//! A finding (整改项): what kind of problem it is, and its life from opened
//! through rectified to closed out, as of any date.

use chrono::NaiveDate;

use super::values::domain_enum;
use super::{check_id, check_text, FieldError};

domain_enum!(
    /// The kind of problem a finding records.
    FindingKind, "finding kind", {
    NoLicence => "no_licence", ["无证办学"], "training without a school-running licence";
    FireHazard => "fire_hazard", ["消防隐患"], "fire-safety hazard";
    FalseAdvertising => "false_advertising", ["虚假宣传"], "false or misleading advertising";
    IllegalEnrolment => "illegal_enrolment", ["违规招生"], "illegal enrolment";
    Competition => "competition", ["组织竞赛"], "organising competitions or rankings";
    SecretExam => "secret_exam", ["密考"], "secret entrance exams";
    AheadOfSyllabus => "ahead_of_syllabus", ["超前超纲", "超纲教学"], "teaching ahead of the school syllabus";
    LateHours => "late_hours", ["超时培训", "夜间培训"], "classes ending after 20:30 (online 21:00)";
    PrepaidExcess => "prepaid_excess", ["超额预收费"], "prepaid fees beyond 3 months or 60 class hours";
    UnqualifiedTeachers => "unqualified_teachers", ["教师无资质"], "teachers without a teacher qualification";
    Other => "other", ["其他"], "any other problem";
});

/// One rectification item (整改项).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: String,
    pub institution_id: String,
    pub inspection_id: Option<String>,
    pub kind: FindingKind,
    pub severity: i64,
    pub opened_on: NaiveDate,
    pub deadline: NaiveDate,
    pub rectified_on: Option<NaiveDate>,
    pub verified_on: Option<NaiveDate>,
    pub note: String,
}

/// A finding's state as of a date (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingStatus {
    Open,
    Rectified,
    Closed,
}

impl FindingStatus {
    /// Every status with its English and Chinese names.
    pub const VALUES: crate::model::Values = crate::model::Values {
        what: "finding status",
        values: &[
            ("open", &["未整改"]),
            ("rectified", &["已整改待验收", "已整改"]),
            ("closed", &["已销号"]),
        ],
    };
    /// The status's code, as scripts and files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Rectified => "rectified",
            FindingStatus::Closed => "closed",
        }
    }
    /// The status in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            FindingStatus::Open => "未整改",
            FindingStatus::Rectified => "已整改待验收",
            FindingStatus::Closed => "已销号",
        }
    }
}

/// The fields of a finding that decide what it is on a date, without its
/// texts: what a rule scanning a million findings reads, so a scan can decode
/// these and leave the texts in the stored bytes until someone asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingCore {
    pub kind: FindingKind,
    pub severity: i64,
    pub opened_on: NaiveDate,
    pub deadline: NaiveDate,
    pub rectified_on: Option<NaiveDate>,
    pub verified_on: Option<NaiveDate>,
}

impl FindingCore {
    /// Whether the finding exists as of `d` (it is invisible before it was opened).
    pub fn visible(&self, d: NaiveDate) -> bool {
        self.opened_on <= d
    }
    /// `closed` if verified on or before `d`, else `rectified` if rectified on or before `d`, else `open`.
    pub fn status(&self, d: NaiveDate) -> FindingStatus {
        status_of(self.verified_on, self.rectified_on, d)
    }
    /// Not closed and past its deadline as of `d`.
    pub fn overdue(&self, d: NaiveDate) -> bool {
        overdue_of(self.verified_on, self.rectified_on, self.deadline, d)
    }
}

/// A finding's status on day `d`, from its dates as dates or as day numbers
/// (one rule for [`FindingCore`] and [`FindingDays`]).
fn status_of<T: PartialOrd + Copy>(
    verified: Option<T>,
    rectified: Option<T>,
    d: T,
) -> FindingStatus {
    if verified.is_some_and(|v| v <= d) {
        FindingStatus::Closed
    } else if rectified.is_some_and(|r| r <= d) {
        FindingStatus::Rectified
    } else {
        FindingStatus::Open
    }
}

/// Not closed and past its deadline on day `d`.
fn overdue_of<T: PartialOrd + Copy>(
    verified: Option<T>,
    rectified: Option<T>,
    deadline: T,
    d: T,
) -> bool {
    status_of(verified, rectified, d) != FindingStatus::Closed && deadline < d
}

/// A date as the ledger stores it: days from the common era.
fn day_of(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce()
}

/// The date of a day number that [`FindingDays`] holds (always one a date has).
fn date_of(n: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(NaiveDate::MIN)
}

/// [`FindingCore`] with its dates as the day numbers they are stored as:
/// what a scan decodes, comparing days as integers and making a date only
/// when a script reads one (turning a day number into a date costs more
/// than the rest of a finding's decoding). Every day number in it is one a
/// [`NaiveDate`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingDays {
    pub kind: FindingKind,
    pub severity: i64,
    pub opened_on: i32,
    pub deadline: i32,
    pub rectified_on: Option<i32>,
    pub verified_on: Option<i32>,
}

impl FindingDays {
    /// The day number of `d`, to compare with the day numbers held here.
    pub fn day(d: NaiveDate) -> i32 {
        day_of(d)
    }
    /// [`FindingCore::visible`] on day number `d`.
    pub fn visible_on(&self, d: i32) -> bool {
        self.opened_on <= d
    }
    /// [`FindingCore::status`] on day number `d`.
    pub fn status_on(&self, d: i32) -> FindingStatus {
        status_of(self.verified_on, self.rectified_on, d)
    }
    /// [`FindingCore::overdue`] on day number `d`.
    pub fn overdue_on(&self, d: i32) -> bool {
        overdue_of(self.verified_on, self.rectified_on, self.deadline, d)
    }
    /// The date of one of the day numbers held here.
    pub fn date(n: i32) -> NaiveDate {
        date_of(n)
    }
    /// The same fields with dates.
    pub fn core(&self) -> FindingCore {
        FindingCore {
            kind: self.kind,
            severity: self.severity,
            opened_on: date_of(self.opened_on),
            deadline: date_of(self.deadline),
            rectified_on: self.rectified_on.map(date_of),
            verified_on: self.verified_on.map(date_of),
        }
    }
}

impl From<FindingCore> for FindingDays {
    fn from(c: FindingCore) -> FindingDays {
        FindingDays {
            kind: c.kind,
            severity: c.severity,
            opened_on: day_of(c.opened_on),
            deadline: day_of(c.deadline),
            rectified_on: c.rectified_on.map(day_of),
            verified_on: c.verified_on.map(day_of),
        }
    }
}

impl Finding {
    /// The finding's fields other than its texts.
    pub fn core(&self) -> FindingCore {
        FindingCore {
            kind: self.kind,
            severity: self.severity,
            opened_on: self.opened_on,
            deadline: self.deadline,
            rectified_on: self.rectified_on,
            verified_on: self.verified_on,
        }
    }
    /// Whether the finding exists as of `d` (it is invisible before it was opened).
    pub fn visible(&self, d: NaiveDate) -> bool {
        self.core().visible(d)
    }
    /// `closed` if verified on or before `d`, else `rectified` if rectified on or before `d`, else `open`.
    pub fn status(&self, d: NaiveDate) -> FindingStatus {
        self.core().status(d)
    }
    /// Not closed and past its deadline as of `d`.
    pub fn overdue(&self, d: NaiveDate) -> bool {
        self.core().overdue(d)
    }

    /// Checks the finding on its own (references are checked by the ledger).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        check_id(&mut e, "institution_id", &self.institution_id);
        if let Some(i) = &self.inspection_id {
            check_id(&mut e, "inspection_id", i);
        }
        check_text(&mut e, "note", &self.note);
        if !(1..=3).contains(&self.severity) {
            e.push(FieldError::new(
                "severity",
                self.severity.to_string(),
                "must be 1, 2 or 3",
            ));
        }
        if self.deadline < self.opened_on {
            e.push(FieldError::new(
                "deadline",
                self.deadline.to_string(),
                format!("is before opened_on {}", self.opened_on),
            ));
        }
        if let Some(r) = self.rectified_on {
            if r < self.opened_on {
                e.push(FieldError::new(
                    "rectified_on",
                    r.to_string(),
                    format!("is before opened_on {}", self.opened_on),
                ));
            }
        }
        if let Some(v) = self.verified_on {
            if v < self.opened_on {
                e.push(FieldError::new(
                    "verified_on",
                    v.to_string(),
                    format!("is before opened_on {}", self.opened_on),
                ));
            }
            match self.rectified_on {
                Some(r) if v < r => e.push(FieldError::new(
                    "verified_on",
                    v.to_string(),
                    format!("is before rectified_on {r}: a finding is closed out after it is rectified"),
                )),
                None => e.push(FieldError::new(
                    "verified_on",
                    v.to_string(),
                    "is set but rectified_on is empty: a finding is closed out after it is rectified",
                )),
                _ => {}
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_date;

    fn finding() -> Finding {
        Finding {
            id: "F1".into(),
            institution_id: "I1".into(),
            inspection_id: None,
            kind: FindingKind::FireHazard,
            severity: 2,
            opened_on: parse_date("2019-01-10").unwrap(),
            deadline: parse_date("2019-01-20").unwrap(),
            rectified_on: Some(parse_date("2019-01-15").unwrap()),
            verified_on: Some(parse_date("2019-01-25").unwrap()),
            note: String::new(),
        }
    }

    #[test]
    fn finding_status_follows_the_as_of_date() {
        let f = finding();
        let d = |s| parse_date(s).unwrap();
        assert!(!f.visible(d("2019-01-09")));
        assert_eq!(f.status(d("2019-01-14")), FindingStatus::Open);
        assert_eq!(f.status(d("2019-01-15")), FindingStatus::Rectified);
        assert!(
            !f.overdue(d("2019-01-20")),
            "the deadline day itself is not overdue"
        );
        assert!(
            f.overdue(d("2019-01-21")),
            "rectified but not verified is still overdue"
        );
        assert_eq!(f.status(d("2019-01-25")), FindingStatus::Closed);
        assert!(!f.overdue(d("2019-01-25")));
    }

    #[test]
    fn finding_lifecycle_order_is_checked() {
        let mut f = finding();
        f.verified_on = Some(parse_date("2019-01-12").unwrap());
        let e = f.validate();
        assert!(e.iter().any(|e| e.field == "verified_on"), "{e:?}");
        let mut f = finding();
        f.deadline = parse_date("2019-01-01").unwrap();
        assert!(f.validate().iter().any(|e| e.field == "deadline"));
    }
}
