//! `course`: a course filing.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::props::{p, t, Prop};
use super::{opt_date, sym, Date, ScriptRecord};
use crate::model::{fmt_hhmm, Course, CourseOf, CourseStatus};

/// A course filing as scripts hold it: its texts are `CompactString`s, so
/// the usual course (every text 24 bytes or shorter) is decoded without an
/// allocation per text; half a million courses cost one each, not six.
pub type ScriptCourse = CourseOf<compact_str::CompactString>;

/// A course filing, as of the run's date.
#[derive(Clone)]
pub struct CourseRef {
    /// The stored course filing.
    pub course: Arc<ScriptCourse>,
    /// The date it is seen as of: a decision after it has not happened yet.
    pub as_of: NaiveDate,
}

impl CourseRef {
    /// A course held as a [`Course`] (read by id, or one institution's) as the script sees it on `as_of`.
    pub fn of(c: Course, as_of: NaiveDate) -> CourseRef {
        let course = c.texts_as(|s| compact_str::CompactString::from(s.as_str()));
        CourseRef {
            course: Arc::new(course),
            as_of,
        }
    }

    /// Whether the course was decided by the as-of date.
    fn decided(&self) -> bool {
        self.course.status_on(self.as_of) != CourseStatus::Filed
    }
}

/// Course filing properties (see [`ScriptRecord::PROPS`]).
pub const COURSE_PROPS: &[Prop] = &[
    p("id", t::TEXT, "course id"),
    p("institution_id", t::TEXT, "institution's ledger number"),
    p("name", t::TEXT, "course name"),
    p("subject", t::TEXT, "subject, e.g. 数学"),
    p(
        "subject_type",
        t::CATEGORY,
        "\"subject\" or \"non_subject\"",
    ),
    p("grade", t::TEXT, "grade, e.g. 小学三年级"),
    p("mode", t::MODE, "\"offline\" or \"online\""),
    p("class_hours", t::INT, "class hours"),
    p("fee_total", t::FLOAT, "total fee, yuan (float)"),
    p("prepay_months", t::INT, "months paid in advance"),
    p("starts_on", t::DATE, "first day"),
    p("ends_on", t::DATE, "last day"),
    p(
        "daily_end_time",
        t::TEXT,
        "\"HH:MM\" the last class of a day ends",
    ),
    p(
        "end_minutes",
        t::INT,
        "daily_end_time as minutes after midnight (20:30 is 1230)",
    ),
    p("filed_on", t::DATE, "date filed"),
    p(
        "status",
        t::COURSE_STATUS,
        "\"filed\", \"accepted\" or \"rejected\"",
    ),
    p("decision_reason", t::TEXT, "reasons of the decision"),
    p(
        "decided_on",
        t::DATE,
        "审核日期: date accepted or rejected, or () (also for decisions recorded without a date)",
    ),
];

impl ScriptRecord for CourseRef {
    const TYPE_NAME: &'static str = "course";
    const FRIENDLY: &'static str = "a course filing";
    const PROPS: &'static [Prop] = COURSE_PROPS;
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

    fn getter(name: &str) -> Option<fn(&Self) -> Dynamic> {
        let get: fn(&Self) -> Dynamic = match name {
            "id" => |r| r.course.id.as_str().into(),
            "institution_id" => |r| r.course.institution_id.as_str().into(),
            "name" => |r| r.course.name.as_str().into(),
            "subject" => |r| r.course.subject.as_str().into(),
            "subject_type" => |r| sym(r.course.subject_type.as_str()),
            "grade" => |r| r.course.grade.as_str().into(),
            "mode" => |r| sym(r.course.mode.as_str()),
            "class_hours" => |r| (r.course.class_hours as INT).into(),
            "fee_total" => |r| r.course.fee_yuan().into(),
            "prepay_months" => |r| (r.course.prepay_months as INT).into(),
            "starts_on" => |r| Dynamic::from(Date(r.course.starts_on)),
            "ends_on" => |r| Dynamic::from(Date(r.course.ends_on)),
            "daily_end_time" => |r| fmt_hhmm(r.course.daily_end_min).into(),
            "end_minutes" => |r| (r.course.daily_end_min as INT).into(),
            "filed_on" => |r| Dynamic::from(Date(r.course.filed_on)),
            "status" => |r| sym(r.course.status_on(r.as_of).as_str()),
            "decision_reason" => |r| {
                if r.decided() {
                    r.course.decision_reason.as_str().into()
                } else {
                    "".into()
                }
            },
            "decided_on" => |r| {
                if r.decided() {
                    opt_date(r.course.decided_on)
                } else {
                    Dynamic::UNIT
                }
            },
            _ => return None,
        };
        Some(get)
    }
}
