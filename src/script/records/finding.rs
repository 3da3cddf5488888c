//! `finding`: a problem found at an institution, as of the run's date.

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Dynamic, INT};

use super::props::{p, t, Prop};
use super::{opt_date, opt_str, sym, Date, ScriptRecord};
use crate::ledger::codec::tag;
use crate::ledger::LedgerError;
use crate::model::{Finding, FindingCore};

/// A finding as of a date.
///
/// Its dates, kind and severity are decoded; its texts (id, institution,
/// inspection, note) stay in the encoded bytes until a script asks for one.
/// The bytes of all the findings one scan reads share one buffer, so a finding
/// costs no allocation of its own beyond its script value: the credit rule
/// reads a million findings and not one of their texts.
#[derive(Clone)]
pub struct FindingRef {
    /// The decoded dates, kind and severity.
    pub core: FindingCore,
    /// The buffer holding the encoded finding (and, from a scan, its neighbours).
    raw: Arc<Vec<u8>>,
    /// Where in `raw` this finding's bytes are.
    span: (u32, u32),
    /// The date the finding is seen as of.
    pub as_of: NaiveDate,
}

impl FindingRef {
    /// A date of the finding's life, or `()` while it is still ahead of the as-of date.
    fn upto(&self, v: Option<NaiveDate>) -> Dynamic {
        opt_date(v.filter(|v| *v <= self.as_of))
    }

    /// A finding held in memory (a fixture, a notice) as the script sees it on `as_of`.
    pub fn new(f: &Finding, as_of: NaiveDate) -> FindingRef {
        let raw = crate::ledger::codec::encode_finding(f);
        let n = raw.len() as u32;
        FindingRef {
            core: f.core(),
            raw: Arc::new(raw),
            span: (0, n),
            as_of,
        }
    }

    /// A finding from its encoded bytes `raw[span]` (a whole record, as the ledger's walks hand them out).
    pub(crate) fn stored(
        raw: &Arc<Vec<u8>>,
        span: (usize, usize),
        as_of: NaiveDate,
    ) -> Result<FindingRef, LedgerError> {
        let core = crate::ledger::codec::decode_finding_core(&raw[span.0..span.1])?;
        Ok(FindingRef {
            core,
            raw: raw.clone(),
            span: (span.0 as u32, span.1 as u32),
            as_of,
        })
    }

    fn bytes(&self) -> &[u8] {
        &self.raw[self.span.0 as usize..self.span.1 as usize]
    }

    fn text(&self, tag: u8) -> Option<String> {
        crate::ledger::codec::text_field(self.bytes(), tag)
    }

    /// The finding's id.
    pub fn id(&self) -> String {
        self.text(tag::finding::ID).unwrap_or_default()
    }

    /// The id of the institution the finding belongs to.
    pub fn institution_id(&self) -> String {
        self.text(tag::finding::INSTITUTION).unwrap_or_default()
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
            "opened_on" => |r| Dynamic::from(Date(r.core.opened_on)),
            "deadline" => |r| Dynamic::from(Date(r.core.deadline)),
            "rectified_on" => |r| r.upto(r.core.rectified_on),
            "verified_on" => |r| r.upto(r.core.verified_on),
            "note" => |r| r.text(tag::finding::NOTE).unwrap_or_default().into(),
            "status" => |r| sym(r.core.status(r.as_of).as_str()),
            "overdue" => |r| r.core.overdue(r.as_of).into(),
            "days_overdue" => |r| {
                (if r.core.overdue(r.as_of) {
                    (r.as_of - r.core.deadline).num_days()
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
