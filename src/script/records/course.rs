//! `course`: a course filing.

use std::sync::Arc;

use rhai::{Dynamic, INT};

use super::{sym, Date, ScriptRecord};
use crate::model::{fmt_hhmm, Course};

/// A course filing.
#[derive(Clone)]
pub struct CourseRef {
    /// The stored course filing.
    pub course: Arc<Course>,
}

/// Course filing properties (see [`ScriptRecord::PROPS`]).
pub const COURSE_PROPS: &[(&str, &str)] = &[
    ("id", "course id"),
    ("institution_id", "institution's ledger number"),
    ("name", "course name"),
    ("subject", "subject, e.g. 数学"),
    ("subject_type", "\"subject\" or \"non_subject\""),
    ("grade", "grade, e.g. 小学三年级"),
    ("mode", "\"offline\" or \"online\""),
    ("class_hours", "class hours"),
    ("fee_total", "total fee, yuan (float)"),
    ("prepay_months", "months paid in advance"),
    ("starts_on", "first day"),
    ("ends_on", "last day"),
    ("daily_end_time", "\"HH:MM\" the last class of a day ends"),
    (
        "end_minutes",
        "daily_end_time as minutes after midnight (20:30 is 1230)",
    ),
    ("filed_on", "date filed"),
    ("status", "\"filed\", \"accepted\" or \"rejected\""),
    ("decision_reason", "reasons of the decision"),
];

impl ScriptRecord for CourseRef {
    const TYPE_NAME: &'static str = "course";
    const FRIENDLY: &'static str = "a course filing";
    const PROPS: &'static [(&'static str, &'static str)] = COURSE_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id",
        "institution_id",
        "name",
        "subject_type",
        "mode",
        "daily_end_time",
        "prepay_months",
        "fee_total",
        "filed_on",
        "status",
    ];

    fn get(&self, k: usize) -> Dynamic {
        let c = &self.course;
        match k {
            0 => c.id.clone().into(),
            1 => c.institution_id.clone().into(),
            2 => c.name.clone().into(),
            3 => c.subject.clone().into(),
            4 => sym(c.subject_type.as_str()),
            5 => c.grade.clone().into(),
            6 => sym(c.mode.as_str()),
            7 => (c.class_hours as INT).into(),
            8 => c.fee_yuan().into(),
            9 => (c.prepay_months as INT).into(),
            10 => Dynamic::from(Date(c.starts_on)),
            11 => Dynamic::from(Date(c.ends_on)),
            12 => fmt_hhmm(c.daily_end_min).into(),
            13 => (c.daily_end_min as INT).into(),
            14 => Dynamic::from(Date(c.filed_on)),
            15 => sym(c.status.as_str()),
            16 => c.decision_reason.clone().into(),
            _ => Dynamic::UNIT,
        }
    }
}
