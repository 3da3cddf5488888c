//! `application`: a licence application, as of the run's date.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::{opt_date, opt_str, sym, Date, ScriptRecord};
use crate::model::Application;

/// A licence application.
#[derive(Clone)]
pub struct ApplicationRef {
    /// The stored application.
    pub application: Arc<Application>,
    /// The date it is seen as of: a decision after it has not happened yet.
    pub as_of: NaiveDate,
}

impl ApplicationRef {
    /// Whether the application was decided by the as-of date: a decision
    /// after it has not happened yet.
    fn decided(&self) -> bool {
        self.application.decided_on.is_some_and(|d| d <= self.as_of)
    }
}

/// Application properties (see [`ScriptRecord::PROPS`]).
pub const APPLICATION_PROPS: &[(&str, &str)] = &[
    ("id", "application id"),
    ("institution_id", "institution's ledger number"),
    ("submitted_on", "date submitted"),
    ("site_area_m2", "site area in m² (float)"),
    ("fire_approved", "fire-safety acceptance passed (bool)"),
    ("teachers", "number of teachers"),
    ("qualified_teachers", "teachers holding a qualification"),
    (
        "status",
        "\"submitted\", \"approved\" or \"rejected\" on the as-of date",
    ),
    ("decided_on", "date decided, or ()"),
    ("decision_reason", "reasons of the decision"),
    ("licence_no", "licence number issued, or ()"),
    ("licence_expires", "licence expiry date, or ()"),
];

impl ScriptRecord for ApplicationRef {
    const TYPE_NAME: &'static str = "application";
    const FRIENDLY: &'static str = "a licence application";
    const PROPS: &'static [(&'static str, &'static str)] = APPLICATION_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id",
        "institution_id",
        "submitted_on",
        "status",
        "site_area_m2",
        "fire_approved",
        "qualified_teachers",
    ];

    fn getter(name: &str) -> Option<fn(&Self) -> Dynamic> {
        let get: fn(&Self) -> Dynamic = match name {
            "id" => |r| r.application.id.clone().into(),
            "institution_id" => |r| r.application.institution_id.clone().into(),
            "submitted_on" => |r| Dynamic::from(Date(r.application.submitted_on)),
            "site_area_m2" => |r| r.application.site_area_m2.into(),
            "fire_approved" => |r| r.application.fire_approved.into(),
            "teachers" => |r| (r.application.teachers as INT).into(),
            "qualified_teachers" => |r| (r.application.qualified_teachers as INT).into(),
            "status" => |r| {
                sym(if r.decided() {
                    r.application.status.as_str()
                } else {
                    "submitted"
                })
            },
            "decided_on" => |r| {
                if r.decided() {
                    opt_date(r.application.decided_on)
                } else {
                    Dynamic::UNIT
                }
            },
            "decision_reason" => |r| {
                if r.decided() {
                    r.application.decision_reason.clone().into()
                } else {
                    "".into()
                }
            },
            "licence_no" => |r| {
                if r.decided() {
                    opt_str(&r.application.licence_no)
                } else {
                    Dynamic::UNIT
                }
            },
            "licence_expires" => |r| {
                if r.decided() {
                    opt_date(r.application.licence_expires)
                } else {
                    Dynamic::UNIT
                }
            },
            _ => return None,
        };
        Some(get)
    }
}
