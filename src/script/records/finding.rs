//! `finding`: a problem found at an institution, as of the run's date.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::props::{p, t, Prop};
use super::{opt_date, opt_str, sym, Date, ScriptRecord};
use crate::ledger::codec::{self, tag};
use crate::ledger::{LedgerError, RawSpan};
use crate::model::{Finding, FindingDays, FindingStatus};

/// A finding as of a date.
///
/// Its kind, severity and dates (as day numbers) are decoded; its texts
/// (id, institution, inspection, note) stay in the stored bytes and the key
/// until a script asks for one, and its dates become dates only when read.
/// The bytes of all the findings one scan reads share one buffer, so a
/// finding costs no allocation of its own beyond its script value: the
/// credit rule reads a million findings and not one of their texts.
#[derive(Clone)]
pub struct FindingRef {
    /// The decoded kind, severity and day numbers.
    pub core: FindingDays,
    /// The buffer holding the encoded finding (and, from a scan, its neighbours and keys).
    raw: Arc<Vec<u8>>,
    /// Where in `raw` this finding's bytes are: a whole record, or one
    /// stored without its id and institution (see [`codec::is_keyed`]).
    span: (u32, u32),
    /// Where in `raw` the key's id and institution are (for a record stored without them).
    key: [u32; 4],
    /// The date the finding is seen as of.
    pub as_of: NaiveDate,
    /// `as_of` as a day number.
    day: i32,
}

impl FindingRef {
    /// The finding's status as of the run's date.
    pub fn status(&self) -> FindingStatus {
        self.core.status_on(self.day)
    }

    /// A date of the finding's life, or `()` while it is still ahead of the as-of date.
    fn upto(&self, v: Option<i32>) -> Dynamic {
        opt_date(v.filter(|v| *v <= self.day).map(FindingDays::date))
    }

    /// A finding held in memory (a fixture, a notice) as the script sees it on `as_of`.
    pub fn new(f: &Finding, as_of: NaiveDate) -> FindingRef {
        let raw = codec::encode_finding(f);
        let n = raw.len() as u32;
        FindingRef {
            core: f.core().into(),
            raw: Arc::new(raw),
            span: (0, n),
            key: [0; 4],
            as_of,
            day: FindingDays::day(as_of),
        }
    }

    /// A finding from its encoded bytes `raw[span]` (a whole record, as the ledger's walks hand them out).
    pub(crate) fn stored(
        raw: &Arc<Vec<u8>>,
        span: (usize, usize),
        as_of: NaiveDate,
    ) -> Result<FindingRef, LedgerError> {
        let at = RawSpan {
            record: span,
            id: (0, 0),
            inst: (0, 0),
        };
        FindingRef::keyed(raw, &at, FindingDays::day(as_of), as_of)
    }

    /// A finding from a keyed table's bytes and key in `raw` (see
    /// [`RawRecords`](crate::ledger::RawRecords)), as of `as_of`, whose day number is `day`.
    pub(crate) fn keyed(
        raw: &Arc<Vec<u8>>,
        at: &RawSpan,
        day: i32,
        as_of: NaiveDate,
    ) -> Result<FindingRef, LedgerError> {
        let core = codec::decode_finding_days(&raw[at.record.0..at.record.1])?;
        Ok(FindingRef::of(core, raw, at, day, as_of))
    }

    /// [`FindingRef::keyed`] if the finding is visible on `as_of`, else
    /// `None` (without sharing the buffer).
    pub(crate) fn keyed_visible(
        raw: &Arc<Vec<u8>>,
        at: &RawSpan,
        day: i32,
        as_of: NaiveDate,
    ) -> Result<Option<FindingRef>, LedgerError> {
        let core = codec::decode_finding_days(&raw[at.record.0..at.record.1])?;
        Ok(core
            .visible_on(day)
            .then(|| FindingRef::of(core, raw, at, day, as_of)))
    }

    /// A finding with no texts, seen on `as_of`, whose `core` its holder
    /// sets: the compiled loop over `inst.findings()` whose body reads only
    /// properties that are not texts holds its findings in one of these.
    /// Its text getters read as empty.
    pub(crate) fn without_texts(as_of: NaiveDate) -> FindingRef {
        thread_local! {
            // One empty buffer per thread: nothing allocated, no count shared between threads.
            static EMPTY: Arc<Vec<u8>> = Arc::new(Vec::new());
        }
        FindingRef {
            core: FindingDays {
                kind: crate::model::FindingKind::Other,
                severity: 0,
                opened_on: 0,
                deadline: 0,
                rectified_on: None,
                verified_on: None,
            },
            raw: EMPTY.with(Arc::clone),
            span: (0, 0),
            key: [0; 4],
            as_of,
            day: FindingDays::day(as_of),
        }
    }

    fn of(core: FindingDays, raw: &Arc<Vec<u8>>, at: &RawSpan, day: i32, as_of: NaiveDate) -> Self {
        FindingRef {
            core,
            raw: raw.clone(),
            span: (at.record.0 as u32, at.record.1 as u32),
            key: [at.id.0, at.id.1, at.inst.0, at.inst.1].map(|n| n as u32),
            as_of,
            day,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.raw[self.span.0 as usize..self.span.1 as usize]
    }

    fn text(&self, tag: u8) -> Option<String> {
        let b = self.bytes();
        if !codec::is_keyed(b) {
            return codec::text_field(b, tag);
        }
        let (start, end) = match tag {
            tag::KEY_ID => (self.key[0], self.key[1]),
            tag::KEY_INSTITUTION => (self.key[2], self.key[3]),
            _ => return codec::stored_text_field(b, tag),
        };
        // An empty text is a field left out, as a whole record has it.
        let k = &self.raw[start as usize..end as usize];
        (!k.is_empty()).then(|| String::from_utf8_lossy(k).into_owned())
    }

    /// The finding's id.
    pub fn id(&self) -> String {
        self.text(tag::finding::ID).unwrap_or_default()
    }

    /// The id of the institution the finding belongs to.
    pub fn institution_id(&self) -> String {
        self.text(tag::finding::INSTITUTION).unwrap_or_default()
    }

    /// Whether the finding exists on its as-of date.
    pub fn visible(&self) -> bool {
        self.core.visible_on(self.day)
    }
}

/// Finding properties (see [`ScriptRecord::PROPS`]).
pub const FINDING_PROPS: &[Prop] = &[
    p("id", t::TEXT, "finding id"),
    p("institution_id", t::TEXT, "institution's ledger number"),
    p("inspection_id", t::TEXT, "inspection that found it, or ()"),
    p(
        "kind",
        t::FINDING_KIND,
        "kind of problem, e.g. \"fire_hazard\"",
    ),
    p("severity", t::INT, "1 (minor) to 3 (serious)"),
    p("opened_on", t::DATE, "date found"),
    p("deadline", t::DATE, "rectification deadline"),
    p(
        "rectified_on",
        t::DATE,
        "date reported fixed, or () (also () if after the as-of date)",
    ),
    p(
        "verified_on",
        t::DATE,
        "date closed out (销号), or () (also () if after the as-of date)",
    ),
    p("note", t::TEXT, "note"),
    p(
        "status",
        t::FINDING_STATUS,
        "\"open\", \"rectified\" or \"closed\" on the as-of date",
    ),
    p(
        "overdue",
        t::BOOL,
        "not closed and past its deadline on the as-of date (bool)",
    ),
    p(
        "days_overdue",
        t::INT,
        "days past the deadline if overdue, else 0",
    ),
];

/// The properties a finding answers from its decoded `core` and the date
/// alone, never from its texts: what a [`FindingRef::without_texts`] reads
/// as the whole finding does (the compiled findings loop relies on this
/// list; a unit test holds it to the getters).
pub(crate) const FINDING_DECODED: &[&str] = &[
    "kind",
    "severity",
    "opened_on",
    "deadline",
    "rectified_on",
    "verified_on",
    "status",
    "overdue",
    "days_overdue",
];

impl ScriptRecord for FindingRef {
    const TYPE_NAME: &'static str = "finding";
    const FRIENDLY: &'static str = "a finding";
    const PROPS: &'static [Prop] = FINDING_PROPS;
    const DEFAULT_COLUMNS: &'static [&'static str] = &[
        "id",
        "institution_id",
        "kind",
        "severity",
        "opened_on",
        "deadline",
        "status",
        "overdue",
    ];

    fn getter(name: &str) -> Option<fn(&Self) -> Dynamic> {
        let get: fn(&Self) -> Dynamic = match name {
            "id" => |r| r.id().into(),
            "institution_id" => |r| r.institution_id().into(),
            "inspection_id" => |r| opt_str(&r.text(tag::finding::INSPECTION)),
            "kind" => |r| sym(r.core.kind.as_str()),
            "severity" => |r| (r.core.severity as INT).into(),
            "opened_on" => |r| Dynamic::from(Date(FindingDays::date(r.core.opened_on))),
            "deadline" => |r| Dynamic::from(Date(FindingDays::date(r.core.deadline))),
            "rectified_on" => |r| r.upto(r.core.rectified_on),
            "verified_on" => |r| r.upto(r.core.verified_on),
            "note" => |r| r.text(tag::finding::NOTE).unwrap_or_default().into(),
            "status" => |r| sym(r.status().as_str()),
            "overdue" => |r| r.core.overdue_on(r.day).into(),
            "days_overdue" => |r| {
                (if r.core.overdue_on(r.day) {
                    r.day as i64 - r.core.deadline as i64
                } else {
                    0
                } as INT)
                    .into()
            },
            _ => return None,
        };
        Some(get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_date, FindingKind};

    fn findings() -> Vec<Finding> {
        let d = |s: &str| parse_date(s).unwrap();
        let f = Finding {
            id: "F-甲1".into(),
            institution_id: "I-01".into(),
            inspection_id: Some("N1".into()),
            kind: FindingKind::LateHours,
            severity: 3,
            opened_on: d("2018-05-01"),
            deadline: d("2018-05-31"),
            rectified_on: Some(d("2018-05-20")),
            verified_on: Some(d("2018-07-01")),
            note: "夜间 21:30 仍在上课".into(),
        };
        let mut g = f.clone();
        g.inspection_id = None;
        g.rectified_on = None;
        g.verified_on = None;
        g.note = String::new();
        let mut h = f.clone();
        h.verified_on = None;
        vec![f, g, h]
    }

    #[test]
    fn the_decoded_properties_read_the_same_without_the_texts() {
        let as_of = parse_date("2018-06-15").unwrap();
        for f in findings() {
            let whole = FindingRef::new(&f, as_of);
            let mut bare = FindingRef::without_texts(as_of);
            bare.core = whole.core;
            for p in FINDING_PROPS {
                let get = FindingRef::getter(p.name).unwrap();
                let (a, b) = (get(&whole).to_string(), get(&bare).to_string());
                if FINDING_DECODED.contains(&p.name) {
                    assert_eq!(a, b, "{}", p.name);
                } else {
                    // Every other property is a text: one of these findings has it.
                    assert!(
                        findings()
                            .iter()
                            .any(|g| { get(&FindingRef::new(g, as_of)).to_string() != b }),
                        "{} reads as a decoded property",
                        p.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_finding_read_from_its_stored_bytes_and_key_reads_as_the_finding() {
        for f in findings() {
            let full = codec::encode_finding(&f);
            // As a ledger of schema 3 stores it, and as one of schema 1 did.
            for stored in [codec::to_stored(&full), full.clone()] {
                let mut buf = b"xx".to_vec();
                let inst = (buf.len(), buf.len() + f.institution_id.len());
                buf.extend_from_slice(f.institution_id.as_bytes());
                let id = (buf.len(), buf.len() + f.id.len());
                buf.extend_from_slice(f.id.as_bytes());
                let record = (buf.len(), buf.len() + stored.len());
                buf.extend_from_slice(&stored);
                let buf = Arc::new(buf);
                let at = RawSpan { record, id, inst };
                for on in [
                    "2018-04-30",
                    "2018-05-01",
                    "2018-05-25",
                    "2018-06-15",
                    "2019-01-01",
                ] {
                    let as_of = parse_date(on).unwrap();
                    let want = FindingRef::new(&f, as_of);
                    let got = FindingRef::keyed(&buf, &at, FindingDays::day(as_of), as_of).unwrap();
                    let whole = FindingRef::stored(&Arc::new(full.clone()), (0, full.len()), as_of)
                        .unwrap();
                    let seen = FindingRef::keyed_visible(&buf, &at, FindingDays::day(as_of), as_of)
                        .unwrap();
                    assert_eq!(seen.is_some(), f.visible(as_of));
                    for x in [&got, &whole].into_iter().chain(seen.as_ref()) {
                        assert_eq!(x.visible(), f.visible(as_of));
                        assert_eq!(x.core.core(), f.core());
                        for p in FINDING_PROPS {
                            let get = FindingRef::getter(p.name).unwrap();
                            assert_eq!(
                                format!("{:?}", get(x)),
                                format!("{:?}", get(&want)),
                                "{} on {on}",
                                p.name
                            );
                        }
                    }
                }
            }
        }
    }
}
