//! `institution`: an institution as of the run's date.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::props::{p, t, Prop};
use super::{opt_date, sym, Date, ScriptRecord};
use crate::model::{Institution, InstitutionOf, Status};
use crate::script::state::Snapshot;

/// An institution as scripts hold it: its texts are `CompactString`s, so an
/// institution whose texts are 24 bytes or shorter (every one of the
/// benchmark city's) is decoded without an allocation per text.
pub type ScriptInstitution = InstitutionOf<compact_str::CompactString>;

/// An institution as of a date.
#[derive(Clone)]
pub struct InstitutionRef {
    /// The stored institution.
    pub institution: Arc<ScriptInstitution>,
    /// The snapshot it was read from, whose date its derived fields are for.
    pub snap: Arc<Snapshot>,
}

impl InstitutionRef {
    /// The `institution` as seen from `snap`.
    pub fn new(institution: Arc<ScriptInstitution>, snap: Arc<Snapshot>) -> InstitutionRef {
        InstitutionRef { institution, snap }
    }

    /// An institution held as an [`Institution`] (one being scored) as seen from `snap`.
    pub fn of(x: &Institution, snap: Arc<Snapshot>) -> InstitutionRef {
        InstitutionRef::new(Arc::new(compact(x)), snap)
    }

    /// The licence held on the snapshot's date, if any.
    fn licence_entry(&self) -> Option<(String, NaiveDate, Option<NaiveDate>)> {
        let d = self.snap.as_of;
        self.institution.licence_issued?;
        self.snap
            .reader
            .licence_as_of(&self.institution, d)
            .ok()
            .flatten()
    }

    /// The status in force on the snapshot's date and the date it took effect.
    fn status_entry(&self) -> Option<(NaiveDate, Status)> {
        let d = self.snap.as_of;
        if self.institution.status_date <= d {
            return Some((self.institution.status_date, self.institution.status));
        }
        let hist = self.snap.reader.status_history(&self.institution.id).ok()?;
        hist.into_iter()
            .rev()
            .find(|c| c.date <= d)
            .map(|c| (c.date, c.status))
    }
}

/// `x` with its texts as a script holds them.
fn compact(x: &Institution) -> ScriptInstitution {
    x.texts_as(|s| compact_str::CompactString::from(s.as_str()))
}

/// Institution properties (see [`ScriptRecord::PROPS`]).
pub const INSTITUTION_PROPS: &[Prop] = &[
    p("id", t::TEXT, "ledger number"),
    p("name", t::TEXT, "name (机构名称)"),
    p("uscc", t::TEXT, "unified social credit code, or ()"),
    p("district", t::DISTRICT, "district (所属区)"),
    p("street", t::TEXT, "street or town (街镇)"),
    p("address", t::TEXT, "address"),
    p("category", t::CATEGORY, "\"subject\" or \"non_subject\""),
    p(
        "licence_no",
        t::TEXT,
        "school-running licence number, or ()",
    ),
    p("licence_issued", t::DATE, "licence issue date, or ()"),
    p("licence_expires", t::DATE, "licence expiry date, or ()"),
    p("organizer", t::TEXT, "organizer (举办者)"),
    p("students", t::INT, "number of students"),
    p("teachers", t::INT, "number of teachers"),
    p(
        "qualified_teachers",
        t::INT,
        "teachers holding a teacher qualification",
    ),
    p("area_m2", t::FLOAT, "teaching area in m² (float)"),
    p(
        "prepaid_balance",
        t::FLOAT,
        "prepaid fees held, yuan (float)",
    ),
    p(
        "fire_approved",
        t::BOOL,
        "fire-safety acceptance passed (bool)",
    ),
    p(
        "status",
        t::STATUS,
        "status in force on the as-of date, or () if none yet",
    ),
    p(
        "status_date",
        t::DATE,
        "date the status in force took effect, or ()",
    ),
    p(
        "licensed",
        t::BOOL,
        "licence valid on the as-of date (bool)",
    ),
];

impl ScriptRecord for InstitutionRef {
    const TYPE_NAME: &'static str = "institution";
    const FRIENDLY: &'static str = "an institution";
    const PROPS: &'static [Prop] = INSTITUTION_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id", "name", "district", "category", "status", "licensed", "students",
    ];

    fn getter(name: &str) -> Option<fn(&Self) -> Dynamic> {
        let get: fn(&Self) -> Dynamic = match name {
            "id" => |r| r.institution.id.as_str().into(),
            "name" => |r| r.institution.name.as_str().into(),
            "uscc" => |r| match &r.institution.uscc {
                Some(s) => s.as_str().into(),
                None => Dynamic::UNIT,
            },
            "district" => |r| r.institution.district.as_str().into(),
            "street" => |r| r.institution.street.as_str().into(),
            "address" => |r| r.institution.address.as_str().into(),
            "category" => |r| sym(r.institution.category.as_str()),
            "licence_no" => |r| match r.licence_entry() {
                Some((no, _, _)) => no.into(),
                None => Dynamic::UNIT,
            },
            "licence_issued" => |r| opt_date(r.licence_entry().map(|l| l.1)),
            "licence_expires" => |r| opt_date(r.licence_entry().and_then(|l| l.2)),
            "organizer" => |r| r.institution.organizer.as_str().into(),
            "students" => |r| (r.institution.students as INT).into(),
            "teachers" => |r| (r.institution.teachers as INT).into(),
            "qualified_teachers" => |r| (r.institution.qualified_teachers as INT).into(),
            "area_m2" => |r| r.institution.area_m2.into(),
            "prepaid_balance" => |r| r.institution.prepaid_yuan().into(),
            "fire_approved" => |r| r.institution.fire_approved.into(),
            "status" => |r| match r.status_entry() {
                Some((_, s)) => sym(s.as_str()),
                None => Dynamic::UNIT,
            },
            "status_date" => |r| match r.status_entry() {
                Some((dt, _)) => Dynamic::from(Date(dt)),
                None => Dynamic::UNIT,
            },
            // The current licence answers for dates since it was issued; an earlier
            // date looks in the licence history (renewals keep the old licence there).
            "licensed" => |r| {
                if r.institution
                    .licence_issued
                    .is_none_or(|i| i <= r.snap.as_of)
                {
                    r.institution.licensed(r.snap.as_of).into()
                } else {
                    r.licence_entry()
                        .is_some_and(|(no, _, exp)| {
                            !no.is_empty() && exp.is_some_and(|e| e >= r.snap.as_of)
                        })
                        .into()
                }
            },
            _ => return None,
        };
        Some(get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::codec::{decode_institution_as, encode_institution};
    use crate::model::{parse_date, Category};

    #[test]
    fn an_institution_held_as_strings_is_the_one_the_compact_decoder_reads() {
        let mut x = Institution {
            id: "GZ-TH-00001".into(),
            name: "广州市天河区某某教育培训中心有限公司".into(),
            uscc: Some("91440101MA5CXXXX0X".into()),
            district: "天河".into(),
            street: String::new(),
            address: "天河路".repeat(20),
            category: Category::Subject,
            licence_no: None,
            licence_issued: None,
            licence_expires: parse_date("2022-02-28").ok(),
            organizer: "张三".into(),
            students: 320,
            teachers: 18,
            qualified_teachers: 11,
            area_m2: 412.5,
            prepaid_fen: -5,
            fire_approved: true,
            status: Status::Closed,
            status_date: parse_date("2018-11-29").unwrap(),
        };
        for licence in [None, Some(String::new()), Some("教民1440106".repeat(4))] {
            x.licence_no = licence;
            let read = decode_institution_as(&encode_institution(&x)).unwrap();
            assert_eq!(compact(&x), read);
        }
    }
}
