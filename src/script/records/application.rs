//! `application`: a licence application, as of the run's date.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::props::{p, t, Prop};
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
pub const APPLICATION_PROPS: &[Prop] = &[
    p("id", t::TEXT, "application id"),
    p("institution_id", t::TEXT, "institution's ledger number"),
    p("submitted_on", t::DATE, "date submitted"),
    p("site_area_m2", t::FLOAT, "site area in m² (float)"),
    p(
        "fire_approved",
        t::BOOL,
        "fire-safety acceptance passed (bool)",
    ),
    p("teachers", t::INT, "number of teachers"),
    p(
        "qualified_teachers",
        t::INT,
        "teachers holding a qualification",
    ),
    p(
        "status",
        t::APP_STATUS,
        "\"submitted\", \"approved\" or \"rejected\" on the as-of date",
    ),
    p("decided_on", t::DATE, "date decided, or ()"),
    p("decision_reason", t::TEXT, "reasons of the decision"),
    p("licence_no", t::TEXT, "licence number issued, or ()"),
    p("licence_expires", t::DATE, "licence expiry date, or ()"),
];

impl ScriptRecord for ApplicationRef {
    const TYPE_NAME: &'static str = "application";
    const FRIENDLY: &'static str = "a licence application";
    const PROPS: &'static [Prop] = APPLICATION_PROPS;
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
