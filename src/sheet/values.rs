//! What an exported record's columns hold, for the formats that keep types
//! (.xlsx, Parquet) and the ones people read (Chinese headers and values:
//! `是`, `已批准`, `消防隐患` for `true`, `approved`, `fire_hazard`).
//! Import reads every Chinese value back (`domain_enum`'s `parse`).

use std::borrow::Cow;

use crate::model::{
    AppStatus, Category, CourseStatus, Department, FindingKind, Mode, RecordKind, Status,
};

/// What a column of an exported record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    Date,
    Int,
    /// An area or other measure with decimals.
    Num,
    /// An amount in yuan.
    Yuan,
    Bool,
    /// A code with a Chinese name (status, kind, category, mode, departments).
    Enum,
}

/// The type of column `col`.
pub fn col_type(col: &str) -> ColType {
    match col {
        "date" | "opened_on" | "deadline" | "rectified_on" | "verified_on" | "licence_issued"
        | "licence_expires" | "status_date" | "submitted_on" | "decided_on" | "starts_on"
        | "ends_on" | "filed_on" => ColType::Date,
        "students" | "teachers" | "qualified_teachers" | "inspectors" | "severity"
        | "class_hours" | "prepay_months" => ColType::Int,
        "area_m2" | "site_area_m2" => ColType::Num,
        "prepaid_balance" | "fee_total" => ColType::Yuan,
        "fire_approved" => ColType::Bool,
        "category" | "status" | "kind" | "departments" | "subject_type" | "mode" => ColType::Enum,
        _ => ColType::Text,
    }
}

/// The header of column `col`: its canonical Chinese header, or the field name.
pub fn header(kind: RecordKind, col: &str, zh: bool) -> &'static str {
    let (en, names) = kind
        .columns()
        .iter()
        .find(|(en, _)| *en == col)
        .expect("a column of the kind");
    if zh {
        names[0]
    } else {
        en
    }
}

/// A cell's value in Chinese: enum codes by their Chinese names, booleans
/// as 是/否; anything else as it is.
pub fn zh_value<'a>(kind: RecordKind, col: &str, v: &'a str) -> Cow<'a, str> {
    fn named<T: Copy>(
        v: &str,
        parse: fn(&str) -> Option<T>,
        zh: fn(T) -> &'static str,
    ) -> Cow<'_, str> {
        match parse(v) {
            Some(x) => Cow::Borrowed(zh(x)),
            None => Cow::Borrowed(v),
        }
    }
    if v.is_empty() {
        return Cow::Borrowed(v);
    }
    match col {
        "category" | "subject_type" => named(v, Category::parse, Category::zh),
        "kind" => named(v, FindingKind::parse, FindingKind::zh),
        "mode" => named(v, Mode::parse, Mode::zh),
        "status" => match kind {
            RecordKind::Applications => named(v, AppStatus::parse, AppStatus::zh),
            RecordKind::Courses => named(v, CourseStatus::parse, CourseStatus::zh),
            _ => named(v, Status::parse, Status::zh),
        },
        "departments" => Cow::Owned(
            v.split(';')
                .map(|d| Department::parse(d).map(|d| d.zh()).unwrap_or(d))
                .collect::<Vec<_>>()
                .join(";"),
        ),
        "fire_approved" => match v {
            "true" => Cow::Borrowed("是"),
            "false" => Cow::Borrowed("否"),
            _ => Cow::Borrowed(v),
        },
        _ => Cow::Borrowed(v),
    }
}

/// An exported cell, typed by its column (English codes kept as they are).
pub fn typed(t: ColType, v: String) -> super::Cell {
    use super::Cell;
    if v.is_empty() {
        return Cell::Empty;
    }
    let typed = match t {
        ColType::Date => crate::model::parse_date(&v).ok().map(Cell::Date),
        ColType::Int => v.parse().ok().map(Cell::Int),
        ColType::Num => v.parse().ok().map(Cell::Num),
        ColType::Yuan => crate::model::parse_yuan(&v).ok().map(Cell::Yuan),
        ColType::Bool => crate::model::parse_bool(&v).map(Cell::Bool),
        ColType::Text | ColType::Enum => None,
    };
    typed.unwrap_or(Cell::Text(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_from_their_chinese_names() {
        for (kind, col, v) in [
            (RecordKind::Institutions, "status", "operating"),
            (RecordKind::Applications, "status", "approved"),
            (RecordKind::Courses, "status", "filed"),
            (RecordKind::Findings, "kind", "fire_hazard"),
            (RecordKind::Inspections, "departments", "education;fire"),
        ] {
            let zh = zh_value(kind, col, v);
            assert_ne!(zh, v, "{col} {v}");
            assert!(!zh.is_ascii(), "{zh}");
        }
        assert_eq!(
            zh_value(RecordKind::Institutions, "fire_approved", "true"),
            "是"
        );
        assert_eq!(header(RecordKind::Findings, "id", true), "整改项编号");
    }
}
