//! The data model of SPEC §2 and its validation.
//!
//! Every enum is declared once, with its English name, its Chinese names and a
//! description, and that one table is used by import, export, scripts, `:help`
//! and validation alike. Validation lives here and nowhere else: import and
//! script writes both call [`Institution::validate`] and friends.
//!
//! One file per record (institution, inspection, finding, and the platform's
//! applications and courses); `values.rs` holds what they are made of.

use std::fmt;

mod finding;
mod inspection;
mod institution;
mod platform;
mod values;

pub use finding::{Finding, FindingCore, FindingDays, FindingKind, FindingStatus};
pub use inspection::{Department, Inspection};
pub use institution::{Category, Institution, InstitutionOf, Status};
pub use platform::{AppStatus, Application, Course, CourseOf, CourseStatus, Mode};
pub use values::{
    check_uscc, district_name, fmt_date, fmt_hhmm, fmt_num, fmt_yuan, parse_bool, parse_date,
    parse_hhmm, parse_yuan, uscc_check_char, without_currency, Values, DEFAULT_DISTRICTS,
    USCC_CHARSET,
};

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
    /// The error of `field`, holding `value`, and why it is refused.
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

/// A kind of record: the one name for it on the command line (`casebook
/// import findings …`), in files, on printed registers and in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum RecordKind {
    Institutions,
    Inspections,
    Findings,
    /// Licence applications (办学许可证申请).
    Applications,
    /// Course filings (课程备案).
    Courses,
}

impl RecordKind {
    /// Every kind, in the order the ledger's tables were added.
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Institutions,
        RecordKind::Inspections,
        RecordKind::Findings,
        RecordKind::Applications,
        RecordKind::Courses,
    ];

    /// The name used on the command line (plural: `casebook import findings`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Institutions => "institutions",
            RecordKind::Inspections => "inspections",
            RecordKind::Findings => "findings",
            RecordKind::Applications => "applications",
            RecordKind::Courses => "courses",
        }
    }

    /// The Chinese name, as the register of `casebook show` titles its sections.
    pub fn zh(self) -> &'static str {
        match self {
            RecordKind::Institutions => "培训机构",
            RecordKind::Inspections => "检查记录",
            RecordKind::Findings => "整改项",
            RecordKind::Applications => "办学许可证申请",
            RecordKind::Courses => "课程备案",
        }
    }

    /// The name of one record of the kind in the audit log (singular:
    /// `finding F-1 inserted`).
    pub fn audit_name(self) -> &'static str {
        match self {
            RecordKind::Institutions => "institution",
            RecordKind::Inspections => "inspection",
            RecordKind::Findings => "finding",
            RecordKind::Applications => "application",
            RecordKind::Courses => "course",
        }
    }

    /// The kind whose [`audit_name`](Self::audit_name) is `name`, as the
    /// audit log is read back; none for a change of something else (a
    /// list, a run, a notice).
    pub fn from_audit_name(name: &str) -> Option<RecordKind> {
        Self::ALL.into_iter().find(|k| k.audit_name() == name)
    }

    /// Parses a command-line word: the English name (any case, surrounding
    /// blanks ignored) or the Chinese one.
    pub fn parse(word: &str) -> Option<RecordKind> {
        let t = word.trim();
        Self::ALL
            .into_iter()
            .find(|k| t.eq_ignore_ascii_case(k.as_str()) || t == k.zh())
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a text field for control characters. A name holding `ESC ] 0;…`
/// or `ESC [2J` would retitle or clear the terminal of whoever later looks at
/// it, and a NUL cuts the text short in other programs. Tabs and line breaks
/// are text: Excel writes a cell's line breaks (Alt+Enter) into its CSV.
pub(crate) fn check_text(e: &mut Vec<FieldError>, field: &'static str, s: &str) {
    // Every import row passes here: look at bytes first. A control character
    // is a byte below 0x20 or 0x7F (C0), or starts with 0xC2 (C1, U+0080–009F).
    if !s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return;
    }
    if let Some(c) = s.chars().find(|c| is_unsafe_control(*c)) {
        e.push(FieldError::new(
            field,
            escape_controls(s),
            format!(
                "contains the control character U+{:04X}, which text may not hold (tabs and line breaks are fine)",
                c as u32
            ),
        ));
    }
}

/// A control character other than a tab or a line break.
fn is_unsafe_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// `s` as it may be shown on a terminal: control characters other than tabs
/// and line breaks written as `\u{1b}` escapes, and a carriage return that
/// does not end a line escaped too (alone it moves the cursor back over what
/// was shown), so text from the ledger or a file never reaches a terminal raw.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\t' && c != '\n') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out.into()
}

/// Checks an id field: not empty, letters, digits and '-' only.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_names_read_back_as_their_kind() {
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::from_audit_name(k.audit_name()), Some(k));
        }
        assert_eq!(RecordKind::from_audit_name("notice"), None);
        assert_eq!(RecordKind::from_audit_name("institutions"), None);
    }

    #[test]
    fn record_kinds_parse_from_their_names() {
        for k in RecordKind::ALL {
            assert_eq!(RecordKind::parse(k.as_str()), Some(k));
            assert_eq!(RecordKind::parse(k.zh()), Some(k));
            assert_eq!(
                <RecordKind as clap::ValueEnum>::from_str(k.as_str(), false),
                Ok(k)
            );
        }
        assert_eq!(RecordKind::parse(" Findings "), Some(RecordKind::Findings));
        assert_eq!(RecordKind::Courses.audit_name(), "course");
        assert_eq!(RecordKind::parse("finding"), None);
    }
}
