//! The data model of SPEC §2 and its validation.
//!
//! Every enum is declared once, with its English name, its Chinese names and a
//! description, and that one table is used by import, export, scripts, `:help`
//! and validation alike. Validation lives here and nowhere else: import and
//! script writes both call [`Institution::validate`] and friends.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with one field of one record: what the field is, what was given, why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The English field name of SPEC §2.
    pub field: &'static str,
    /// The value as given (empty for a missing value).
    pub value: String,
    /// Why it was rejected, in plain words, with the fix where there is one.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field,
            value: value.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "field `{}`: {}", self.field, self.reason)
        } else {
            write!(
                f,
                "field `{}`, value \"{}\": {}",
                self.field, self.value, self.reason
            )
        }
    }
}

/// Declares an enum with its English name, Chinese names (the first is used for display) and description.
macro_rules! domain_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($variant:ident => $en:literal, [$($zh:literal),*], $desc:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// What the enum is, for error messages.
            pub const WHAT: &'static str = $what;
            /// The English name used in files and scripts.
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            /// The Chinese name used on printed registers and notices.
            pub fn zh(self) -> &'static str { match self { $($name::$variant => [$($zh),*][0]),+ } }
            /// A one-line description.
            pub fn description(self) -> &'static str { match self { $($name::$variant => $desc),+ } }
            /// Parses the English name or any of the Chinese names (surrounding blanks ignored).
            pub fn parse(s: &str) -> Option<$name> {
                let t = s.trim();
                $( if t.eq_ignore_ascii_case($en) $(|| t == $zh)* { return Some($name::$variant); } )+
                None
            }
            /// The code stored in the ledger.
            pub fn code(self) -> u8 { self as u8 }
            /// The value for a stored code.
            pub fn from_code(c: u8) -> Option<$name> { Self::ALL.get(c as usize).copied() }
            /// "a, b or c": the accepted values, for error messages.
            pub fn choices() -> String {
                let v: Vec<String> = Self::ALL.iter().map(|e| format!("{} ({})", e.as_str(), e.zh())).collect();
                v.join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

domain_enum!(
    /// Whether an institution trains K-12 school subjects (学科类) or not.
    Category, "category", {
    Subject => "subject", ["学科类"], "K-12 school-subject training; needs a school-running licence";
    NonSubject => "non_subject", ["非学科类"], "arts, sports, science and other non-subject training";
});

domain_enum!(
    /// An institution's operating status.
    Status, "status", {
    Operating => "operating", ["经营中"], "operating normally";
    Rectifying => "rectifying", ["整改中"], "ordered to rectify problems";
    Closed => "closed", ["已关停"], "closed by the authorities";
    SelfClosed => "self_closed", ["主动关停"], "closed of its own accord";
    Converted => "converted", ["已转型"], "promised to stop K-12 subject training";
});

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

/// A course filing (课程备案).
#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub id: String,
    pub institution_id: String,
    pub name: String,
    pub subject: String,
    pub subject_type: Category,
    pub grade: String,
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
    pub decision_reason: String,
}

/// Parses `HH:MM` (24-hour) into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let bad = || "is not a time of day: write it as HH:MM, e.g. 20:30".to_string();
    let (h, m) = t.split_once([':', '：']).ok_or_else(bad)?;
    // Minutes in two digits: "20:5" could mean 20:05 or 20:50, and the 20:30 rule turns on it.
    if m.trim().len() != 2 {
        return Err(format!(
            "\"{t}\" has the minutes in {} digit(s): write them as two, e.g. 20:05 or 20:50",
            m.trim().chars().count()
        ));
    }
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let m: u32 = m.trim().parse().map_err(|_| bad())?;
    if h > 23 || m > 59 || t.chars().count() > 5 {
        return Err(format!(
            "\"{t}\" is not a real time of day (00:00 to 23:59)"
        ));
    }
    Ok(h * 60 + m)
}

/// Formats minutes after midnight as `HH:MM`.
pub fn fmt_hhmm(min: u32) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

impl Application {
    /// Checks the application on its own (the institution is checked by the ledger).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        check_id(&mut e, "institution_id", &self.institution_id);
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
        e
    }

    /// Yuan, as scripts and files see the fee.
    pub fn fee_yuan(&self) -> f64 {
        self.fee_fen as f64 / 100.0
    }
}

/// The 11 districts a new ledger is configured with (Guangzhou).
pub const DEFAULT_DISTRICTS: [&str; 11] = [
    "越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城",
];

/// An off-campus training institution: one register (一户一册).
#[derive(Debug, Clone, PartialEq)]
pub struct Institution {
    pub id: String,
    pub name: String,
    pub uscc: Option<String>,
    pub district: String,
    pub street: String,
    pub address: String,
    pub category: Category,
    pub licence_no: Option<String>,
    pub licence_issued: Option<NaiveDate>,
    pub licence_expires: Option<NaiveDate>,
    pub organizer: String,
    pub students: i64,
    pub teachers: i64,
    pub qualified_teachers: i64,
    pub area_m2: f64,
    /// Prepaid fees held, in fen (1/100 yuan); scripts and files see yuan.
    pub prepaid_fen: i64,
    pub fire_approved: bool,
    /// The status as of `status_date`, as given in the latest import. The dated
    /// history in the ledger is what scripts see.
    pub status: Status,
    pub status_date: NaiveDate,
}

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
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Rectified => "rectified",
            FindingStatus::Closed => "closed",
        }
    }
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
        if self.verified_on.is_some_and(|v| v <= d) {
            FindingStatus::Closed
        } else if self.rectified_on.is_some_and(|r| r <= d) {
            FindingStatus::Rectified
        } else {
            FindingStatus::Open
        }
    }
    /// Not closed and past its deadline as of `d`.
    pub fn overdue(&self, d: NaiveDate) -> bool {
        self.status(d) != FindingStatus::Closed && self.deadline < d
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

impl Inspection {
    /// Checks the inspection on its own (references are checked by the ledger).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        check_id(&mut e, "institution_id", &self.institution_id);
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

impl Institution {
    /// Prepaid balance in yuan, as scripts and files see it.
    pub fn prepaid_yuan(&self) -> f64 {
        self.prepaid_fen as f64 / 100.0
    }

    /// Whether the licence is valid on `d`: a number, issued on or before `d`, expiring on or after it.
    pub fn licensed(&self, d: NaiveDate) -> bool {
        self.licence_no.as_deref().is_some_and(|s| !s.is_empty())
            && self.licence_issued.is_some_and(|i| i <= d)
            && self.licence_expires.is_some_and(|x| x >= d)
    }

    /// Checks the institution against the ledger's configured districts.
    pub fn validate(&self, districts: &[String]) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_id(&mut e, "id", &self.id);
        if self.name.trim().is_empty() {
            e.push(FieldError::new("name", "", "must not be empty"));
        }
        if let Some(u) = &self.uscc {
            if let Err(why) = check_uscc(u) {
                e.push(FieldError::new("uscc", u.clone(), why));
            }
        }
        if !districts.iter().any(|d| d == &self.district) {
            e.push(FieldError::new(
                "district",
                self.district.clone(),
                format!(
                    "is not one of the ledger's districts ({})",
                    districts.join(" ")
                ),
            ));
        }
        for (field, v) in [
            ("students", self.students),
            ("teachers", self.teachers),
            ("qualified_teachers", self.qualified_teachers),
            ("prepaid_balance", self.prepaid_fen),
        ] {
            if v < 0 {
                e.push(FieldError::new(
                    field,
                    v.to_string(),
                    "must not be negative",
                ));
            }
        }
        if self.area_m2.is_nan() || self.area_m2 < 0.0 || !self.area_m2.is_finite() {
            e.push(FieldError::new(
                "area_m2",
                self.area_m2.to_string(),
                "must be a number not below 0",
            ));
        }
        if self.qualified_teachers > self.teachers {
            e.push(FieldError::new(
                "qualified_teachers",
                self.qualified_teachers.to_string(),
                format!("is more than teachers ({})", self.teachers),
            ));
        }
        if let (Some(i), Some(x)) = (self.licence_issued, self.licence_expires) {
            if x <= i {
                e.push(FieldError::new(
                    "licence_expires",
                    x.to_string(),
                    format!("must be after licence_issued {i}"),
                ));
            }
        }
        let has_no = self.licence_no.as_deref().is_some_and(|s| !s.is_empty());
        if !has_no && (self.licence_issued.is_some() || self.licence_expires.is_some()) {
            e.push(FieldError::new(
                "licence_no",
                "",
                "is empty but licence dates are given",
            ));
        }
        e
    }
}

fn check_id(e: &mut Vec<FieldError>, field: &'static str, id: &str) {
    if id.is_empty() {
        e.push(FieldError::new(field, "", "must not be empty"));
    } else if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        e.push(FieldError::new(
            field,
            id,
            "may contain only letters A-Z, digits and '-'",
        ));
    }
}

/// The character set of the unified social credit code (no I, O, S, V, Z).
pub const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The check character a 17-character USCC body must end with, or `None` if the body has a bad character.
pub fn uscc_check_char(body: &str) -> Option<char> {
    let cs = USCC_CHARSET.as_bytes();
    let mut sum = 0u32;
    let mut w = 1u32;
    for b in body.bytes() {
        let v = uscc_value(b)? as u32;
        sum += v * w;
        w = w * 3 % 31;
    }
    Some(cs[((31 - sum % 31) % 31) as usize] as char)
}

/// A byte's value in [`USCC_CHARSET`] (its position), by table: an import
/// checks 18 characters of each of a hundred thousand codes.
fn uscc_value(b: u8) -> Option<u8> {
    const TABLE: [u8; 256] = {
        let mut t = [u8::MAX; 256];
        let cs = USCC_CHARSET.as_bytes();
        let mut i = 0;
        while i < cs.len() {
            t[cs[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    Some(TABLE[b as usize]).filter(|&v| v != u8::MAX)
}

/// Checks a unified social credit code (GB 32100-2015).
pub fn check_uscc(code: &str) -> Result<(), String> {
    let n = code.chars().count();
    if n != 18 {
        return Err(format!("must be 18 characters, has {n}"));
    }
    if let Some((i, c)) = code
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii() || uscc_value(*c as u8).is_none())
    {
        return Err(format!(
            "character {} '{c}' is not allowed (digits and capitals except I O S V Z)",
            i + 1
        ));
    }
    let expect = uscc_check_char(&code[..17]).expect("charset checked");
    let got = code.as_bytes()[17] as char;
    if got != expect {
        return Err(format!(
            "check character is '{got}' but the first 17 characters give '{expect}' (GB 32100-2015): a typing error?"
        ));
    }
    Ok(())
}

/// Parses a calendar date. ISO `YYYY-MM-DD` is the format; `YYYY/M/D`, `YYYY-M-D` and
/// `YYYY年M月D日` are also accepted because spreadsheet programs rewrite dates so.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    // Fast path for the canonical form: imports parse millions of these.
    let b = t.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| {
            b[r].iter().try_fold(0u32, |a, &c| {
                c.is_ascii_digit().then(|| a * 10 + (c - b'0') as u32)
            })
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) {
            if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(date);
            }
        }
    }
    let norm: String = t.replace(['年', '月', '/'], "-").replace('日', "");
    let parts: Vec<&str> = norm.split('-').collect();
    let bad = || "is not a date: write it as YYYY-MM-DD, e.g. 2019-02-20".to_string();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let y: i32 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) {
        return Err(format!("has month {m}: there is no such month"));
    }
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| format!("is not a real calendar date ({y}-{m:02} has no day {d})"))
}

/// Formats a date as ISO `YYYY-MM-DD`.
pub fn fmt_date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Parses a yes/no value: true/false, 是/否, yes/no, 1/0, and the words an
/// inspection form uses for an acceptance (通过/未通过, 合格/不合格, √/×).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "是" | "yes" | "y" | "1" | "t" | "通过" | "合格" | "√" | "✓" => {
            Some(true)
        }
        "false" | "否" | "no" | "n" | "0" | "f" | "未通过" | "不通过" | "不合格" | "×" | "✗" => {
            Some(false)
        }
        _ => None,
    }
}

/// The ledger's name of a district written `v`: as configured (天河), or
/// with the 区 that its full name ends in (天河区).
pub fn district_name<'d>(v: &str, districts: &'d [String]) -> Option<&'d str> {
    let v = v.trim();
    let short = v.strip_suffix('区').unwrap_or(v);
    districts
        .iter()
        .find(|d| d.as_str() == v || d.as_str() == short)
        .map(|d| d.as_str())
}

/// An amount without the currency sign or unit a spreadsheet may show
/// with it (`¥1,000`, `1000元`).
pub fn without_currency(s: &str) -> &str {
    let t = s.trim();
    let t = t.strip_prefix(['¥', '￥']).unwrap_or(t);
    t.strip_suffix('元').unwrap_or(t).trim()
}

/// Parses an amount in yuan with at most two decimals into fen.
pub fn parse_yuan(s: &str) -> Result<i64, String> {
    let t = s.trim().replace(',', "");
    let bad = || "is not an amount in yuan (e.g. 1500 or 1500.50)".to_string();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
        return Err("has more than two decimals (fen is the smallest unit)".into());
    }
    let i: i64 = int.parse().map_err(|_| bad())?;
    let mut f: i64 = 0;
    for (k, b) in frac.bytes().take(2).enumerate() {
        f += (b - b'0') as i64 * if k == 0 { 10 } else { 1 };
    }
    let v = i
        .checked_mul(100)
        .and_then(|v| v.checked_add(f))
        .ok_or_else(bad)?;
    Ok(if neg { -v } else { v })
}

/// Formats fen as yuan: whole yuan without decimals, else two decimals.
pub fn fmt_yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        let sign = if fen < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", (fen / 100).abs(), (fen % 100).abs())
    }
}

/// Formats an area: no decimals when whole.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_need_two_digit_minutes() {
        assert_eq!(parse_hhmm("20:30"), Ok(1230));
        assert_eq!(parse_hhmm("9:05"), Ok(545));
        assert_eq!(parse_hhmm("21：00"), Ok(1260));
        let e = parse_hhmm("20:5").unwrap_err();
        assert!(e.contains("two, e.g. 20:05 or 20:50"), "{e}");
        assert!(parse_hhmm("20:300").is_err());
        assert!(parse_hhmm("24:00").is_err());
        assert!(parse_hhmm("20.30").is_err());
    }

    #[test]
    fn uscc_example_from_domain_md_is_valid() {
        assert_eq!(check_uscc("91440101MA5CJQ4N59"), Ok(()));
    }

    #[test]
    fn uscc_wrong_check_character_is_explained() {
        let e = check_uscc("91440101MA5CJQ4N58").unwrap_err();
        assert!(e.contains("'8'") && e.contains("'9'"), "{e}");
        assert!(check_uscc("91440101MA5CJQ4N5").unwrap_err().contains("18"));
        assert!(check_uscc("91440101MA5CJQ4NI9")
            .unwrap_err()
            .contains("'I'"));
    }

    #[test]
    fn uscc_characters_outside_the_set_are_named_wherever_they_are() {
        // Lower case, a full-width digit, a Chinese character: none is in the set.
        let e = check_uscc("91440101ma5CJQ4N59").unwrap_err();
        assert!(e.contains("character 9 'm'"), "{e}");
        let e = check_uscc("9144010１MA5CJQ4N59").unwrap_err();
        assert!(e.contains("character 8 '１'"), "{e}");
        let e = check_uscc("中1440101MA5CJQ4N59").unwrap_err();
        assert!(e.contains("character 1 '中'"), "{e}");
        assert_eq!(uscc_check_char("91440101MA5CJQ4N5"), Some('9'));
        assert_eq!(uscc_check_char("91440101MA5CJQ4Nz"), None);
    }

    #[test]
    fn dates_are_real_calendar_dates() {
        assert_eq!(parse_date("2019-02-20").unwrap().to_string(), "2019-02-20");
        assert_eq!(parse_date("2019/2/5").unwrap().to_string(), "2019-02-05");
        assert_eq!(
            parse_date("2019年2月5日").unwrap().to_string(),
            "2019-02-05"
        );
        assert!(parse_date("2019-02-30")
            .unwrap_err()
            .contains("real calendar"));
        assert!(parse_date("2019-13-01").unwrap_err().contains("month"));
        assert!(parse_date("20/02/2019").is_err());
        assert!(parse_date("").is_err());
    }

    #[test]
    fn yuan_parses_to_fen() {
        assert_eq!(parse_yuan("1500"), Ok(150000));
        assert_eq!(parse_yuan("1500.5"), Ok(150050));
        assert_eq!(parse_yuan("1,500.05"), Ok(150005));
        assert_eq!(without_currency(" ¥1,500.05 "), "1,500.05");
        assert_eq!(without_currency("￥20000元"), "20000");
        assert_eq!(without_currency("1500"), "1500");
        assert!(parse_yuan("1.005").is_err());
        assert!(parse_yuan("abc").is_err());
        assert_eq!(fmt_yuan(150050), "1500.50");
        assert_eq!(fmt_yuan(150000), "1500");
    }

    #[test]
    fn enums_parse_english_and_chinese() {
        assert_eq!(Category::parse("学科类"), Some(Category::Subject));
        assert_eq!(Status::parse("主动关停"), Some(Status::SelfClosed));
        assert_eq!(Status::parse("self_closed"), Some(Status::SelfClosed));
        assert_eq!(FindingKind::parse("密考"), Some(FindingKind::SecretExam));
        assert_eq!(
            Status::from_code(Status::Converted.code()),
            Some(Status::Converted)
        );
        assert_eq!(Status::parse("bogus"), None);
    }

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
