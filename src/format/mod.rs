//! The file formats of SPEC §3: which columns each record kind has, their
//! Chinese headers, and how a record becomes a row of text and back.
//! Import and export both use these tables, so a round trip cannot drift.
//!
//! This file holds the column tables and the formula guard of CSV cells;
//! `to_row.rs` writes a record as a row (export), `from_row.rs` reads a row
//! into a record (import, and the fixtures of `casebook test`).

use crate::model::RecordKind;

mod from_row;
mod to_row;

pub use from_row::{
    application_from, course_from, finding_from, inspection_from, institution_from,
    keep_absent_finding, keep_absent_inspection, keep_absent_institution, FieldRow, Row,
};
pub use to_row::{
    application_row, course_row, finding_row, finding_row_of, inspection_row, institution_row,
};

/// What files say about each record kind.
impl RecordKind {
    /// The columns: English field name and accepted Chinese headers (the first is canonical).
    pub fn columns(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            RecordKind::Institutions => INSTITUTION_COLUMNS,
            RecordKind::Inspections => INSPECTION_COLUMNS,
            RecordKind::Findings => FINDING_COLUMNS,
            RecordKind::Applications => APPLICATION_COLUMNS,
            RecordKind::Courses => COURSE_COLUMNS,
        }
    }

    /// Fields that must have a column in every file.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            RecordKind::Institutions => &[
                "id",
                "name",
                "district",
                "category",
                "status",
                "status_date",
            ],
            RecordKind::Inspections => &["id", "institution_id", "date"],
            RecordKind::Applications => &[
                "id",
                "institution_id",
                "submitted_on",
                "site_area_m2",
                "status",
            ],
            RecordKind::Courses => &[
                "id",
                "institution_id",
                "name",
                "subject_type",
                "mode",
                "class_hours",
                "fee_total",
                "starts_on",
                "ends_on",
                "daily_end_time",
                "filed_on",
                "status",
            ],
            RecordKind::Findings => &[
                "id",
                "institution_id",
                "kind",
                "severity",
                "opened_on",
                "deadline",
            ],
        }
    }

    /// Maps a header (English or Chinese, case and blanks ignored) to its field.
    pub fn field_of_header(self, h: &str) -> Option<&'static str> {
        let t = h.trim().trim_start_matches('\u{feff}');
        self.columns()
            .iter()
            .find(|(en, zh)| t.eq_ignore_ascii_case(en) || zh.contains(&t))
            .map(|(en, _)| *en)
    }
}

const APPLICATION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["申请编号"]),
    ("institution_id", &["机构编号"]),
    ("submitted_on", &["申请日期"]),
    ("site_area_m2", &["场地面积"]),
    ("fire_approved", &["消防验收"]),
    ("teachers", &["教师数"]),
    ("qualified_teachers", &["持证教师数"]),
    ("status", &["审批状态", "状态"]),
    ("decided_on", &["审批日期"]),
    ("decision_reason", &["审批意见"]),
    ("licence_no", &["办学许可证号"]),
    ("licence_expires", &["许可证有效期至"]),
];

const COURSE_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["课程编号"]),
    ("institution_id", &["机构编号"]),
    ("name", &["课程名称"]),
    ("subject", &["科目"]),
    ("subject_type", &["课程类别", "类别"]),
    ("grade", &["年级"]),
    ("mode", &["授课方式"]),
    ("class_hours", &["课时"]),
    ("fee_total", &["收费总额"]),
    ("prepay_months", &["预收月数"]),
    ("starts_on", &["开课日期"]),
    ("ends_on", &["结课日期"]),
    ("daily_end_time", &["每日结束时间"]),
    ("filed_on", &["备案日期"]),
    ("status", &["备案状态", "状态"]),
    ("decision_reason", &["审核意见"]),
    ("decided_on", &["审核日期"]),
];

const INSTITUTION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["机构编号"]),
    ("name", &["机构名称"]),
    ("uscc", &["统一社会信用代码"]),
    ("district", &["所属区"]),
    ("street", &["街镇"]),
    ("address", &["地址"]),
    ("category", &["类别"]),
    ("licence_no", &["办学许可证号"]),
    ("licence_issued", &["发证日期"]),
    ("licence_expires", &["许可证有效期至"]),
    ("organizer", &["举办者"]),
    ("students", &["学员数"]),
    ("teachers", &["教师数"]),
    ("qualified_teachers", &["持证教师数"]),
    ("area_m2", &["场地面积"]),
    ("prepaid_balance", &["预收费余额"]),
    ("fire_approved", &["消防验收"]),
    ("status", &["状态"]),
    ("status_date", &["状态日期"]),
];

const INSPECTION_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["检查编号"]),
    ("institution_id", &["机构编号"]),
    ("date", &["检查日期"]),
    ("operation", &["行动名称", "专项行动"]),
    ("departments", &["参与部门"]),
    ("inspectors", &["检查人次", "检查人数"]),
    ("note", &["备注"]),
];

const FINDING_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["整改项编号", "问题编号"]),
    ("institution_id", &["机构编号"]),
    ("inspection_id", &["检查编号"]),
    ("kind", &["问题类型"]),
    ("severity", &["严重程度"]),
    ("opened_on", &["发现日期"]),
    ("deadline", &["整改期限"]),
    ("rectified_on", &["整改日期"]),
    ("verified_on", &["销号日期"]),
    ("note", &["备注"]),
];

/// Text columns a spreadsheet might read as a formula; dates, numbers and enums never start so.
pub fn is_free_text(field: &str) -> bool {
    matches!(
        field,
        "name"
            | "street"
            | "address"
            | "organizer"
            | "licence_no"
            | "operation"
            | "note"
            | "uscc"
            | "id"
            | "institution_id"
            | "decision_reason"
            | "subject"
            | "grade"
            | "inspection_id"
    )
}

fn starts_formula(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// Neutralises a CSV cell a spreadsheet would run as a formula by prefixing `'`.
/// A cell that already starts with `'` before such a character gets one more,
/// so that [`unneutralise`] restores every value exactly.
pub fn neutralise(s: &str) -> std::borrow::Cow<'_, str> {
    if starts_formula(s)
        || (s.starts_with('\'') && (starts_formula(&s[1..]) || s[1..].starts_with('\'')))
    {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// Undoes [`neutralise`] on import.
pub fn unneutralise(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if starts_formula(rest) || rest.starts_with('\'') => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralise_round_trips() {
        for s in [
            "=SUM(A1)", "+1", "-x", "@a", "'=x", "''", "'", "'abc", "plain", "", "\tx",
        ] {
            let n = neutralise(s);
            assert!(!starts_formula(&n), "{s:?} -> {n:?}");
            assert_eq!(unneutralise(&n), s, "{s:?}");
        }
    }

    #[test]
    fn headers_map_in_both_languages() {
        assert_eq!(
            RecordKind::Institutions.field_of_header("机构名称"),
            Some("name")
        );
        assert_eq!(
            RecordKind::Institutions.field_of_header(" Name "),
            Some("name")
        );
        assert_eq!(
            RecordKind::Findings.field_of_header("机构编号"),
            Some("institution_id")
        );
        assert_eq!(RecordKind::Findings.field_of_header("bogus"), None);
    }
}
