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

    fn get(&self, k: usize) -> Dynamic {
        let a = &self.application;
        // A decision after the as-of date has not happened yet.
        let decided = a.decided_on.is_some_and(|d| d <= self.as_of);
        match k {
            0 => a.id.clone().into(),
            1 => a.institution_id.clone().into(),
            2 => Dynamic::from(Date(a.submitted_on)),
            3 => a.site_area_m2.into(),
            4 => a.fire_approved.into(),
            5 => (a.teachers as INT).into(),
            6 => (a.qualified_teachers as INT).into(),
            7 => sym(if decided {
                a.status.as_str()
            } else {
                "submitted"
            }),
            8 => {
                if decided {
                    opt_date(a.decided_on)
                } else {
                    Dynamic::UNIT
                }
            }
            9 => {
                if decided {
                    a.decision_reason.clone().into()
                } else {
                    "".into()
                }
            }
            10 => {
                if decided {
                    opt_str(&a.licence_no)
                } else {
                    Dynamic::UNIT
                }
            }
            11 => {
                if decided {
                    opt_date(a.licence_expires)
                } else {
                    Dynamic::UNIT
                }
            }
            _ => Dynamic::UNIT,
        }
    }
}
