//! `institution`: an institution as of the run's date.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::{opt_date, opt_str, sym, Date, ScriptRecord};
use crate::model::{Institution, Status};
use crate::script::state::Snapshot;

/// An institution as of a date.
#[derive(Clone)]
pub struct InstitutionRef {
    /// The stored institution.
    // layout: keeps its old name `x` (decide.rs and ruletest.rs build this
    // with a struct literal); to be renamed `institution` after merge.
    pub x: Arc<Institution>,
    /// The snapshot it was read from, whose date its derived fields are for.
    pub snap: Arc<Snapshot>,
}

impl InstitutionRef {
    /// The institution `x` as seen from `snap`.
    pub fn new(x: Arc<Institution>, snap: Arc<Snapshot>) -> InstitutionRef {
        InstitutionRef { x, snap }
    }

    /// The licence held on the snapshot's date, if any.
    fn licence_entry(&self) -> Option<(String, NaiveDate, Option<NaiveDate>)> {
        let d = self.snap.as_of;
        self.x.licence_issued?;
        self.snap.reader.licence_as_of(&self.x, d).ok().flatten()
    }

    /// The status in force on the snapshot's date and the date it took effect.
    fn status_entry(&self) -> Option<(NaiveDate, Status)> {
        let d = self.snap.as_of;
        if self.x.status_date <= d {
            return Some((self.x.status_date, self.x.status));
        }
        let hist = self.snap.reader.status_history(&self.x.id).ok()?;
        hist.into_iter()
            .rev()
            .find(|c| c.date <= d)
            .map(|c| (c.date, c.status))
    }
}

/// Institution properties (see [`ScriptRecord::PROPS`]).
pub const INSTITUTION_PROPS: &[(&str, &str)] = &[
    ("id", "ledger number"),
    ("name", "name (机构名称)"),
    ("uscc", "unified social credit code, or ()"),
    ("district", "district (所属区)"),
    ("street", "street or town (街镇)"),
    ("address", "address"),
    ("category", "\"subject\" or \"non_subject\""),
    ("licence_no", "school-running licence number, or ()"),
    ("licence_issued", "licence issue date, or ()"),
    ("licence_expires", "licence expiry date, or ()"),
    ("organizer", "organizer (举办者)"),
    ("students", "number of students"),
    ("teachers", "number of teachers"),
    (
        "qualified_teachers",
        "teachers holding a teacher qualification",
    ),
    ("area_m2", "teaching area in m² (float)"),
    ("prepaid_balance", "prepaid fees held, yuan (float)"),
    ("fire_approved", "fire-safety acceptance passed (bool)"),
    (
        "status",
        "status in force on the as-of date, or () if none yet",
    ),
    ("status_date", "date the status in force took effect, or ()"),
    ("licensed", "licence valid on the as-of date (bool)"),
];

impl ScriptRecord for InstitutionRef {
    const TYPE_NAME: &'static str = "institution";
    const FRIENDLY: &'static str = "an institution";
    const PROPS: &'static [(&'static str, &'static str)] = INSTITUTION_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id", "name", "district", "category", "status", "licensed", "students",
    ];

    fn get(&self, k: usize) -> Dynamic {
        let x = &self.x;
        let d = self.snap.as_of;
        match k {
            0 => x.id.clone().into(),
            1 => x.name.clone().into(),
            2 => opt_str(&x.uscc),
            3 => x.district.clone().into(),
            4 => x.street.clone().into(),
            5 => x.address.clone().into(),
            6 => sym(x.category.as_str()),
            7 => match self.licence_entry() {
                Some((no, _, _)) => no.into(),
                None => Dynamic::UNIT,
            },
            8 => opt_date(self.licence_entry().map(|l| l.1)),
            9 => opt_date(self.licence_entry().and_then(|l| l.2)),
            10 => x.organizer.clone().into(),
            11 => (x.students as INT).into(),
            12 => (x.teachers as INT).into(),
            13 => (x.qualified_teachers as INT).into(),
            14 => x.area_m2.into(),
            15 => x.prepaid_yuan().into(),
            16 => x.fire_approved.into(),
            17 => match self.status_entry() {
                Some((_, s)) => sym(s.as_str()),
                None => Dynamic::UNIT,
            },
            18 => match self.status_entry() {
                Some((dt, _)) => Dynamic::from(Date(dt)),
                None => Dynamic::UNIT,
            },
            // The current licence answers for dates since it was issued; an earlier
            // date looks in the licence history (renewals keep the old licence there).
            19 => {
                if x.licence_issued.is_none_or(|i| i <= d) {
                    x.licensed(d).into()
                } else {
                    self.licence_entry()
                        .is_some_and(|(no, _, exp)| !no.is_empty() && exp.is_some_and(|e| e >= d))
                        .into()
                }
            }
            _ => Dynamic::UNIT,
        }
    }
}
