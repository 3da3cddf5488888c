//! What values each column and property takes, for the generated references:
//! the enum values come from the model's own tables (`Category::ALL`, …), so
//! a new value shows up in the docs when they are regenerated.
//!
//! Which field is which kind of value is said here once; the generator fails
//! (and with it the docs test) on a column this table does not know, so a new
//! column cannot go undocumented.

use crate::model::*;

/// One allowed value of an enumerated field.
pub struct Choice {
    /// The English code, as files and scripts write it.
    pub en: &'static str,
    /// The Chinese names import and scripts accept, the display name first.
    pub zh: &'static [&'static str],
    /// What it means.
    pub desc: &'static str,
}

/// The kind of value a column or property holds.
pub enum Domain {
    /// A ledger number or other id: letters, digits and '-'.
    Id,
    /// Free text.
    Text,
    /// A calendar date.
    Date,
    /// A whole number.
    Int,
    /// A number (decimals allowed), in the unit given.
    Number(&'static str),
    /// Money in yuan, at most two decimals.
    Yuan,
    /// Yes or no.
    Bool,
    /// A time of day, HH:MM.
    Time,
    /// One of the ledger's districts.
    District,
    /// A unified social credit code.
    Uscc,
    /// A severity, 1 to 3.
    Severity,
    /// One of the listed values.
    Enum(Vec<Choice>),
    /// Several of the listed values, separated by `;`.
    List(Vec<Choice>),
}

macro_rules! choices {
    ($e:ty) => {
        <$e>::ALL
            .iter()
            .map(|v| Choice {
                en: v.as_str(),
                zh: v.zh_names(),
                desc: v.description(),
            })
            .collect::<Vec<_>>()
    };
}

/// A finding's derived status (not a stored field, so not a `domain_enum`).
fn finding_status() -> Vec<Choice> {
    let desc = |s| match s {
        FindingStatus::Open => "found, not yet reported fixed",
        FindingStatus::Rectified => "reported fixed, not yet closed out",
        FindingStatus::Closed => "verified and closed out (销号)",
    };
    [
        FindingStatus::Open,
        FindingStatus::Rectified,
        FindingStatus::Closed,
    ]
    .into_iter()
    .map(|s| Choice {
        en: s.as_str(),
        zh: std::slice::from_ref(match s {
            FindingStatus::Open => &"未整改",
            FindingStatus::Rectified => &"已整改待验收",
            FindingStatus::Closed => &"已销号",
        }),
        desc: desc(s),
    })
    .collect()
}

/// The kind of value of column `field` of `kind`, or `None` if this table
/// does not know it (the generator then fails, naming it).
pub fn column(kind: RecordKind, field: &str) -> Option<Domain> {
    use RecordKind::*;
    Some(match (kind, field) {
        (_, "id" | "institution_id" | "inspection_id") => Domain::Id,
        (
            _,
            "name" | "street" | "address" | "organizer" | "licence_no" | "operation" | "note"
            | "decision_reason" | "subject" | "grade",
        ) => Domain::Text,
        (
            _,
            "licence_issued" | "licence_expires" | "status_date" | "date" | "opened_on"
            | "deadline" | "rectified_on" | "verified_on" | "submitted_on" | "decided_on"
            | "starts_on" | "ends_on" | "filed_on",
        ) => Domain::Date,
        (_, "students" | "teachers" | "qualified_teachers" | "inspectors" | "class_hours") => {
            Domain::Int
        }
        (_, "prepay_months") => Domain::Int,
        (_, "area_m2" | "site_area_m2") => Domain::Number("m²"),
        (_, "prepaid_balance" | "fee_total") => Domain::Yuan,
        (_, "fire_approved") => Domain::Bool,
        (_, "daily_end_time") => Domain::Time,
        (_, "district") => Domain::District,
        (_, "uscc") => Domain::Uscc,
        (_, "severity") => Domain::Severity,
        (Institutions, "category") | (Courses, "subject_type") => Domain::Enum(choices!(Category)),
        (Institutions, "status") => Domain::Enum(choices!(Status)),
        (Applications, "status") => Domain::Enum(choices!(AppStatus)),
        (Courses, "status") => Domain::Enum(choices!(CourseStatus)),
        (Courses, "mode") => Domain::Enum(choices!(Mode)),
        (Findings, "kind") => Domain::Enum(choices!(FindingKind)),
        (Inspections, "departments") => Domain::List(choices!(Department)),
        _ => return None,
    })
}

/// The record kind behind a script type name (`institution` → institutions).
pub fn kind_of_type(type_name: &str) -> Option<RecordKind> {
    RecordKind::ALL
        .into_iter()
        .find(|k| k.audit_name() == type_name)
}

/// The kind of value of property `prop` of script type `type_name`, for the
/// properties whose values are worth listing; `None` for the rest.
pub fn property(type_name: &str, prop: &str) -> Option<Domain> {
    match (type_name, prop) {
        ("finding", "status") => Some(Domain::Enum(finding_status())),
        ("finding", "overdue") | ("institution", "licensed") => Some(Domain::Bool),
        ("finding", "days_overdue") | ("course", "end_minutes") => Some(Domain::Int),
        _ => column(kind_of_type(type_name)?, prop),
    }
}

impl Domain {
    /// The kind of value in a few words, for a table cell.
    pub fn short(&self) -> &'static str {
        match self {
            Domain::Id => "id",
            Domain::Text => "text",
            Domain::Date => "date",
            Domain::Int => "whole number",
            Domain::Number(_) => "number",
            Domain::Yuan => "yuan",
            Domain::Bool => "yes/no",
            Domain::Time => "time HH:MM",
            Domain::District => "district",
            Domain::Uscc => "USCC",
            Domain::Severity => "1, 2 or 3",
            Domain::Enum(_) => "one of",
            Domain::List(_) => "list of",
        }
    }

    /// The values a file may hold, in words (for the file-format tables).
    pub fn accepted_in_files(&self) -> String {
        match self {
            Domain::Id => "letters A-Z, digits and `-`".into(),
            Domain::Text => "any text (tabs and line breaks, but no other control characters)".into(),
            Domain::Date => "a date (see [Dates](#dates))".into(),
            Domain::Int => "a whole number (`12`, `1,200`, `12.0`)".into(),
            Domain::Number(unit) => format!("a number of {unit} (`120`, `120.5`, `1,200.5`)"),
            Domain::Yuan => "yuan, at most two decimals (`1500`, `1,500.50`, `¥1500`, `1500元`)".into(),
            Domain::Bool => "yes/no (see [Yes and no](#yes-and-no))".into(),
            Domain::Time => "`HH:MM`, 24-hour, two-digit minutes (`20:30`, `9:05`, `21：00`)".into(),
            Domain::District => format!(
                "a district of the ledger, with or without 区 (a new ledger: {})",
                DEFAULT_DISTRICTS.join(" ")
            ),
            Domain::Uscc => "18 characters of `0-9 A-H J-N P-R T U W-Y` with a valid check character (GB 32100-2015), e.g. `91440101MA5CJQ4N59`".into(),
            Domain::Severity => "`1` (minor), `2` or `3` (serious)".into(),
            Domain::Enum(c) => codes(c),
            Domain::List(c) => format!("{} (several separated by `;`, `,`, `、` or a blank)", codes(c)),
        }
    }

    /// The values a script sees, in words (for the API reference).
    pub fn in_scripts(&self) -> String {
        match self {
            Domain::Id | Domain::Text => "text".into(),
            Domain::Date => "a date".into(),
            Domain::Int => "a whole number".into(),
            Domain::Number(unit) => format!("a decimal number ({unit})"),
            Domain::Yuan => "a decimal number (yuan)".into(),
            Domain::Bool => "`true` or `false`".into(),
            Domain::Time => "text `HH:MM`".into(),
            Domain::District => format!(
                "text: a district of the ledger (a new ledger: {})",
                DEFAULT_DISTRICTS.join(" ")
            ),
            Domain::Uscc => "text (18 characters)".into(),
            Domain::Severity => "`1`, `2` or `3`".into(),
            Domain::Enum(c) => codes(c),
            Domain::List(c) => format!("an array of {}", codes(c)),
        }
    }

    /// The enumerated values, if any.
    pub fn choices(&self) -> Option<&[Choice]> {
        match self {
            Domain::Enum(c) | Domain::List(c) => Some(c),
            _ => None,
        }
    }
}

/// `` `a` (甲), `b` (乙 / 丙) ``.
fn codes(c: &[Choice]) -> String {
    c.iter()
        .map(|c| format!("`{}` ({})", c.en, c.zh.join(" / ")))
        .collect::<Vec<_>>()
        .join(", ")
}
