//! Reading a snapshot: [`Reader`], the walks over findings that a script
//! drives ([`FindingCursor`], [`RawRecords`], [`RawIter`]), and the helpers
//! that read the tables keyed by `(institution, id)`.

use chrono::NaiveDate;
use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata};

use super::codec::{self, Change, StatusChange};
use super::schema::*;
use super::seal::{Bytes, Text};
use super::{LedgerError, ListEntry};
use crate::model::*;

/// A consistent, read-only snapshot of the ledger. Cheap to create; every read
/// of one snapshot sees the same committed state whatever writers do meanwhile.
pub struct Reader {
    pub(super) institutions: ReadOnlyTable<&'static str, Bytes>,
    pub(super) inspections: ReadOnlyTable<(&'static str, &'static str), Bytes>,
    pub(super) inspection_ids: ReadOnlyTable<&'static str, Text>,
    pub(super) findings: ReadOnlyTable<(&'static str, &'static str), Bytes>,
    pub(super) finding_ids: ReadOnlyTable<&'static str, Text>,
    pub(super) history: ReadOnlyTable<(&'static str, u64), Bytes>,
    pub(super) audit: ReadOnlyTable<u64, Text>,
    pub(super) audit_changes: ReadOnlyTable<(u64, u64), Bytes>,
    // Tables added after the first release are optional here: a read-only
    // handle cannot create them in a ledger an older build wrote.
    pub(super) lists: Option<ReadOnlyTable<(&'static str, &'static str, u64), Text>>,
    pub(super) runs: Option<ReadOnlyTable<u64, Text>>,
    pub(super) run_results: Option<ReadOnlyTable<(u64, &'static str), Text>>,
    pub(super) notices: Option<ReadOnlyTable<(&'static str, &'static str, i64), Text>>,
    pub(super) applications: Option<ReadOnlyTable<(&'static str, &'static str), Bytes>>,
    pub(super) application_ids: Option<ReadOnlyTable<&'static str, Text>>,
    pub(super) courses: Option<ReadOnlyTable<(&'static str, &'static str), Bytes>>,
    pub(super) course_ids: Option<ReadOnlyTable<&'static str, Text>>,
    pub(super) licence_history: Option<ReadOnlyTable<(&'static str, u64), Text>>,
    pub(super) districts: Vec<String>,
    pub(super) _txn: ReadTransaction,
}

type FindingEntry = (
    redb::AccessGuard<'static, (&'static str, &'static str)>,
    redb::AccessGuard<'static, Bytes>,
);

/// See [`Reader::findings_cursor`].
pub struct FindingCursor {
    it: redb::Range<'static, (&'static str, &'static str), Bytes>,
    /// The next entry, read but not yet handed out.
    pending: Option<FindingEntry>,
    /// The institutions the walk covers.
    first: String,
    last: String,
    /// The institution served last: the walk has passed everything up to it.
    served: Option<String>,
    /// An error stopped the walk part-way: it answers nothing more.
    broken: bool,
}

impl FindingCursor {
    /// Appends the bytes of each finding of `inst` to `out`, in id order, and
    /// returns true; or returns false, having added nothing, when the walk
    /// cannot answer (it has passed `inst` or does not reach it), so the caller
    /// does its own range scan.
    pub fn take(&mut self, inst: &str, out: &mut RawRecords) -> Result<bool, LedgerError> {
        self.take_each(inst, |id, stored| {
            out.push(inst, id, stored);
            Ok(())
        })
    }

    /// [`FindingCursor::take`], handing each finding's id and stored bytes
    /// (checked against their CRC) to `each` straight from the ledger's page:
    /// nothing is copied. An error from `each` stops the walk for good.
    pub fn take_each<E: From<LedgerError>>(
        &mut self,
        inst: &str,
        mut each: impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<bool, E> {
        if self.broken
            || inst < self.first.as_str()
            || inst > self.last.as_str()
            || self.served.as_deref().is_some_and(|s| inst <= s)
        {
            return Ok(false);
        }
        // Whatever happens next, the walk has moved past what it was asked before.
        self.broken = true;
        loop {
            let (k, v) = match self.pending.take() {
                Some(e) => e,
                None => match self.it.next() {
                    Some(e) => e.map_err(LedgerError::from)?,
                    None => break,
                },
            };
            let (ki, id) = k.value();
            match ki.cmp(inst) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => each(id, v.value())?,
                std::cmp::Ordering::Greater => {
                    // Past `inst` (or past `last`: the range is open at its end).
                    self.pending = Some((k, v));
                    break;
                }
            }
        }
        self.broken = false;
        // One string for the whole walk, not one per institution.
        match &mut self.served {
            Some(s) => {
                s.clear();
                s.push_str(inst);
            }
            None => self.served = Some(inst.to_string()),
        }
        Ok(true)
    }
}

/// Records' bytes as their table stores them (format 2 without the id and
/// institution, or a whole format-1 record from a ledger of schema 1), one
/// after another with their keys' texts, and where each one is: what the
/// walks over one institution's findings fill for a script. Nothing is
/// re-encoded: the id and institution are put back only if a script asks
/// for a field that needs them.
#[derive(Default)]
pub struct RawRecords {
    pub buf: Vec<u8>,
    pub spans: Vec<RawSpan>,
}

/// Where one record of a [`RawRecords`] and its key are in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawSpan {
    /// The stored bytes (see [`codec::is_keyed`]).
    pub record: (usize, usize),
    /// The id's UTF-8 bytes, from the key.
    pub id: (usize, usize),
    /// The institution's UTF-8 bytes, from the key (shared by its records).
    pub inst: (usize, usize),
}

impl RawRecords {
    /// Adds the record stored under `(inst, id)` as `stored`.
    pub fn push(&mut self, inst: &str, id: &str, stored: &[u8]) {
        // Room for a usual institution's findings at once: growing from empty
        // reallocated the buffer five or six times for each institution.
        if self.spans.capacity() == 0 {
            self.buf.reserve(2048);
            self.spans.reserve(16);
        }
        let inst = match self.spans.last() {
            Some(s) if &self.buf[s.inst.0..s.inst.1] == inst.as_bytes() => s.inst,
            _ => self.append(inst.as_bytes()),
        };
        let id = self.append(id.as_bytes());
        let record = self.append(stored);
        self.spans.push(RawSpan { record, id, inst });
    }

    /// The key's institution and id of the record at `at` (empty for a
    /// table keyed by id alone: its id only).
    pub fn key(&self, at: &RawSpan) -> (&str, &str) {
        // Pushed as `str`s: the check cannot fail, and costs little on the short keys.
        let text = |(a, b): (usize, usize)| {
            std::str::from_utf8(&self.buf[a..b]).expect("a key is pushed as a str")
        };
        (text(at.inst), text(at.id))
    }

    /// The bytes of the record at `at`, as its table stores them.
    pub fn record(&self, at: &RawSpan) -> &[u8] {
        &self.buf[at.record.0..at.record.1]
    }

    fn append(&mut self, b: &[u8]) -> (usize, usize) {
        let start = self.buf.len();
        self.buf.extend_from_slice(b);
        (start, self.buf.len())
    }
}

fn optional<T>(r: Result<T, redb::TableError>) -> Result<Option<T>, LedgerError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

type IdIndex = ReadOnlyTable<&'static str, Text>;
type ByInstitution = ReadOnlyTable<(&'static str, &'static str), Bytes>;

/// A record kept under `(institution, id)`, found through its id index.
fn by_id<T: codec::KeyedRecord>(
    ids: &IdIndex,
    table: &ByInstitution,
    id: &str,
) -> Result<Option<T>, LedgerError> {
    let Some(inst) = ids.get(id)?.map(|g| g.value().to_string()) else {
        return Ok(None);
    };
    match table.get((inst.as_str(), id))? {
        Some(g) => Ok(Some(codec::decode_stored(&inst, id, g.value())?)),
        None => Ok(None),
    }
}

/// One institution's records of a table kept under `(institution, id)`, by id: a range scan.
fn of_institution<T: codec::KeyedRecord>(
    table: &ByInstitution,
    inst: &str,
) -> Result<Vec<T>, LedgerError> {
    let mut out = Vec::new();
    for e in table.range((inst, "")..(inst, MAX_ID))? {
        let (k, v) = e?;
        out.push(decode_entry(&k, &v)?);
    }
    Ok(out)
}

/// Decodes an entry of a table kept under `(institution, id)`.
fn decode_entry<T: codec::KeyedRecord>(
    k: &redb::AccessGuard<'_, (&'static str, &'static str)>,
    v: &redb::AccessGuard<'_, Bytes>,
) -> Result<T, LedgerError> {
    let (inst, id) = k.value();
    Ok(codec::decode_stored(inst, id, v.value())?)
}

/// An entry of a table kept under `(institution, id)` as the whole record's bytes.
fn entry_bytes(
    k: &redb::AccessGuard<'_, (&'static str, &'static str)>,
    v: &redb::AccessGuard<'_, Bytes>,
) -> Vec<u8> {
    let (inst, id) = k.value();
    codec::rejoin(inst, id, v.value())
}

/// A table scan another thread may drive, a batch at a time: each call adds
/// the next records, at most `n`, to `out` as [`RawRecords::push`] does (a
/// table keyed by id alone gives each record an empty institution), and
/// returns how many it added: 0 once the scan is over. One buffer per batch
/// rather than one per record, and no record re-encoded with its key.
pub type RawIter<'a> =
    Box<dyn FnMut(&mut RawRecords, usize) -> Result<usize, LedgerError> + Send + 'a>;

/// Records decoded one by one as a table scan reads them.
pub type Records<'a, T> = Box<dyn Iterator<Item = Result<T, LedgerError>> + 'a>;

/// Upper bound for a string key range: no id contains this character.
const MAX_ID: &str = "\u{10FFFF}";

impl Reader {
    /// The snapshot `txn` reads, with every table open.
    pub(super) fn open(txn: ReadTransaction) -> Result<Reader, LedgerError> {
        let meta = txn.open_table(META)?;
        let districts = meta
            .get("districts")?
            .map(|g| g.value().split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        Ok(Reader {
            institutions: txn.open_table(INSTITUTIONS)?,
            inspections: txn.open_table(INSPECTIONS)?,
            inspection_ids: txn.open_table(INSPECTION_IDS)?,
            findings: txn.open_table(FINDINGS)?,
            finding_ids: txn.open_table(FINDING_IDS)?,
            history: txn.open_table(STATUS_HISTORY)?,
            audit: txn.open_table(AUDIT)?,
            audit_changes: txn.open_table(AUDIT_CHANGES)?,
            lists: optional(txn.open_table(LISTS))?,
            runs: optional(txn.open_table(RUNS))?,
            run_results: optional(txn.open_table(RUN_RESULTS))?,
            notices: optional(txn.open_table(NOTICES))?,
            applications: optional(txn.open_table(APPLICATIONS))?,
            application_ids: optional(txn.open_table(APPLICATION_IDS))?,
            courses: optional(txn.open_table(COURSES))?,
            course_ids: optional(txn.open_table(COURSE_IDS))?,
            licence_history: optional(txn.open_table(LICENCE_HISTORY))?,
            districts,
            _txn: txn,
        })
    }

    /// The configured districts, in order.
    pub fn districts(&self) -> &[String] {
        &self.districts
    }

    /// One institution, if it exists.
    pub fn institution(&self, id: &str) -> Result<Option<Institution>, LedgerError> {
        self.institution_as(id)
    }

    /// [`Reader::institution`] with its texts as `S` (see [`codec::DecodedText`]).
    pub fn institution_as<S: codec::DecodedText>(
        &self,
        id: &str,
    ) -> Result<Option<InstitutionOf<S>>, LedgerError> {
        match self.institutions.get(id)? {
            Some(g) => Ok(Some(codec::decode_institution_as(g.value())?)),
            None => Ok(None),
        }
    }

    /// Numbers of records: institutions, inspections, findings.
    pub fn counts(&self) -> Result<(u64, u64, u64), LedgerError> {
        Ok((
            self.institutions.len()?,
            self.inspection_ids.len()?,
            self.finding_ids.len()?,
        ))
    }

    /// Every institution in id order.
    pub fn institutions(
        &self,
    ) -> Result<impl Iterator<Item = Result<Institution, LedgerError>> + '_, LedgerError> {
        self.institutions_as()
    }

    /// [`Reader::institutions`] with their texts as `S` (see [`codec::DecodedText`]).
    pub fn institutions_as<S: codec::DecodedText>(
        &self,
    ) -> Result<impl Iterator<Item = Result<InstitutionOf<S>, LedgerError>> + '_, LedgerError> {
        Ok(self.institutions.iter()?.map(|e| {
            let (_, v) = e?;
            Ok(codec::decode_institution_as(v.value())?)
        }))
    }

    /// Every institution's stored bytes in id order, for callers that decode on other threads.
    pub fn institutions_raw(&self) -> Result<RawIter<'_>, LedgerError> {
        let mut it = self.institutions.iter()?;
        Ok(Box::new(move |out, n| {
            for added in 0..n {
                let Some(e) = it.next() else {
                    return Ok(added);
                };
                let (k, v) = e?;
                out.push("", k.value(), v.value());
            }
            Ok(n)
        }))
    }

    /// Institution ids that start with `prefix`, at most `limit` (for completion).
    pub fn institution_ids_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, LedgerError> {
        let mut out = Vec::new();
        for e in self.institutions.range(prefix..)? {
            let (k, _) = e?;
            let k = k.value();
            if !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push(k.to_string());
        }
        Ok(out)
    }

    /// One institution's findings, by id, as a range scan.
    pub fn findings_of(&self, inst: &str) -> Result<Vec<Finding>, LedgerError> {
        of_institution(&self.findings, inst)
    }

    /// Appends the bytes of each finding of one institution to `out` (no allocation per record).
    pub fn findings_raw_of(&self, inst: &str, out: &mut RawRecords) -> Result<(), LedgerError> {
        self.findings_each_of(inst, |id, stored| {
            out.push(inst, id, stored);
            Ok(())
        })
    }

    /// Hands the id and stored bytes of each finding of one institution, by
    /// id, to `each` straight from the ledger's page (nothing copied).
    pub fn findings_each_of<E: From<LedgerError>>(
        &self,
        inst: &str,
        mut each: impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let range = self
            .findings
            .range((inst, "")..(inst, MAX_ID))
            .map_err(LedgerError::from)?;
        for e in range {
            let (k, v) = e.map_err(LedgerError::from)?;
            each(k.value().1, v.value())?;
        }
        Ok(())
    }

    /// A walk over the findings of the institutions `first` to `last` (ids, inclusive),
    /// for a caller that asks for them institution by institution, in id order:
    /// one range scan instead of one per institution.
    pub fn findings_cursor(&self, first: &str, last: &str) -> Result<FindingCursor, LedgerError> {
        Ok(FindingCursor {
            // Open at its end: the walk stops at the first key past the
            // institution asked for, so redb need not compare every key with
            // `last` as well. It reads at most one entry past `last`.
            it: self.findings.range((first, "")..)?,
            pending: None,
            first: first.to_string(),
            last: last.to_string(),
            served: None,
            broken: false,
        })
    }

    /// One institution's inspections, by id, as a range scan.
    pub fn inspections_of(&self, inst: &str) -> Result<Vec<Inspection>, LedgerError> {
        of_institution(&self.inspections, inst)
    }

    /// Every finding, grouped by institution.
    pub fn findings(
        &self,
    ) -> Result<impl Iterator<Item = Result<Finding, LedgerError>> + '_, LedgerError> {
        Ok(self.findings.iter()?.map(|e| {
            let (k, v) = e?;
            decode_entry::<Finding>(&k, &v)
        }))
    }

    /// Every finding's encoded bytes (whole, key fields included), grouped by institution.
    pub fn findings_raw(
        &self,
    ) -> Result<impl Iterator<Item = Result<Vec<u8>, LedgerError>> + '_, LedgerError> {
        Ok(self.findings.iter()?.map(|e| {
            let (k, v) = e?;
            Ok(entry_bytes(&k, &v))
        }))
    }

    /// Every inspection, grouped by institution.
    pub fn inspections(
        &self,
    ) -> Result<impl Iterator<Item = Result<Inspection, LedgerError>> + '_, LedgerError> {
        Ok(self.inspections.iter()?.map(|e| {
            let (k, v) = e?;
            decode_entry::<Inspection>(&k, &v)
        }))
    }

    /// The institution a finding id belongs to, if the id is in use.
    pub fn finding_institution(&self, id: &str) -> Result<Option<String>, LedgerError> {
        Ok(self.finding_ids.get(id)?.map(|g| g.value().to_string()))
    }

    /// One finding by its id.
    pub fn finding(&self, id: &str) -> Result<Option<Finding>, LedgerError> {
        by_id(&self.finding_ids, &self.findings, id)
    }

    /// One institution's licence applications, by id.
    pub fn applications_of(&self, inst: &str) -> Result<Vec<Application>, LedgerError> {
        match &self.applications {
            Some(t) => of_institution(t, inst),
            None => Ok(Vec::new()),
        }
    }

    /// Every licence application, grouped by institution.
    pub fn applications(&self) -> Result<Vec<Application>, LedgerError> {
        let mut out = Vec::new();
        let Some(t) = &self.applications else {
            return Ok(out);
        };
        for e in t.iter()? {
            let (k, v) = e?;
            out.push(decode_entry::<Application>(&k, &v)?);
        }
        Ok(out)
    }

    /// One licence application by id.
    pub fn application(&self, id: &str) -> Result<Option<Application>, LedgerError> {
        match (&self.application_ids, &self.applications) {
            (Some(ids), Some(t)) => by_id(ids, t, id),
            _ => Ok(None),
        }
    }

    /// One institution's course filings, by id.
    pub fn courses_of(&self, inst: &str) -> Result<Vec<Course>, LedgerError> {
        match &self.courses {
            Some(t) => of_institution(t, inst),
            None => Ok(Vec::new()),
        }
    }

    /// Every course filing, grouped by institution, decoded as the caller walks.
    pub fn courses(&self) -> Result<Records<'_, Course>, LedgerError> {
        self.courses_as()
    }

    /// [`Reader::courses`] with their texts as `S` (see [`codec::DecodedText`]).
    pub fn courses_as<S: codec::DecodedText + 'static>(
        &self,
    ) -> Result<Records<'_, CourseOf<S>>, LedgerError> {
        let Some(t) = &self.courses else {
            return Ok(Box::new(std::iter::empty()));
        };
        Ok(Box::new(t.iter()?.map(|e| {
            let (k, v) = e?;
            decode_entry::<CourseOf<S>>(&k, &v)
        })))
    }

    /// Every course filing's stored bytes and key, grouped by institution, for callers
    /// that decode on other threads.
    pub fn courses_raw(&self) -> Result<RawIter<'_>, LedgerError> {
        let Some(t) = &self.courses else {
            return Ok(Box::new(|_, _| Ok(0)));
        };
        let mut it = t.iter()?;
        Ok(Box::new(move |out, n| {
            for added in 0..n {
                let Some(e) = it.next() else {
                    return Ok(added);
                };
                let (k, v) = e?;
                let (inst, id) = k.value();
                out.push(inst, id, v.value());
            }
            Ok(n)
        }))
    }

    /// How many course filings the ledger holds (any date).
    pub fn course_count(&self) -> Result<u64, LedgerError> {
        match &self.courses {
            Some(t) => Ok(t.len()?),
            None => Ok(0),
        }
    }

    /// One course filing by id.
    pub fn course(&self, id: &str) -> Result<Option<Course>, LedgerError> {
        match (&self.course_ids, &self.courses) {
            (Some(ids), Some(t)) => by_id(ids, t, id),
            _ => Ok(None),
        }
    }

    /// One inspection by its id.
    pub fn inspection(&self, id: &str) -> Result<Option<Inspection>, LedgerError> {
        by_id(&self.inspection_ids, &self.inspections, id)
    }

    /// An institution's status history, oldest first (ties in entry order).
    pub fn status_history(&self, inst: &str) -> Result<Vec<StatusChange>, LedgerError> {
        let mut v = Vec::new();
        for e in self.history.range((inst, 0u64)..=(inst, u64::MAX))? {
            let (_, val) = e?;
            v.push(codec::decode_status(val.value())?);
        }
        v.sort_by_key(|c| c.date);
        Ok(v)
    }

    /// The status in force on `d`: the latest entry dated on or before it.
    /// The record carries the latest-dated status, so the history is read only
    /// when `d` is before that.
    pub fn status_as_of(
        &self,
        x: &Institution,
        d: NaiveDate,
    ) -> Result<Option<Status>, LedgerError> {
        if x.status_date <= d {
            return Ok(Some(x.status));
        }
        Ok(self
            .status_history(&x.id)?
            .into_iter()
            .rev()
            .find(|c| c.date <= d)
            .map(|c| c.status))
    }

    /// Every entry ever made on list `list` (all lists if empty), in list/institution order.
    pub fn list_entries(&self, list: &str) -> Result<Vec<ListEntry>, LedgerError> {
        let mut v = Vec::new();
        let Some(lists) = &self.lists else {
            return Ok(v);
        };
        for e in lists.iter()? {
            let (k, val) = e?;
            if list.is_empty() || k.value().0 == list {
                v.push(
                    serde_json::from_str(val.value())
                        .map_err(|e| LedgerError::Storage(format!("bad list entry: {e}")))?,
                );
            }
        }
        Ok(v)
    }

    /// An institution's list entries (every list).
    pub fn list_entries_of(&self, id: &str) -> Result<Vec<ListEntry>, LedgerError> {
        Ok(self
            .list_entries("")?
            .into_iter()
            .filter(|e| e.institution_id == id)
            .collect())
    }

    /// Saved scoring runs (number, JSON header), oldest first.
    pub fn runs(&self) -> Result<Vec<(u64, serde_json::Value)>, LedgerError> {
        let mut v = Vec::new();
        let Some(runs) = &self.runs else { return Ok(v) };
        for e in runs.iter()? {
            let (k, val) = e?;
            v.push((
                k.value(),
                serde_json::from_str(val.value()).unwrap_or_default(),
            ));
        }
        Ok(v)
    }

    /// The results of one saved run, by institution id.
    pub fn run_results(&self, run: u64) -> Result<Vec<(String, serde_json::Value)>, LedgerError> {
        let mut v = Vec::new();
        let Some(rr) = &self.run_results else {
            return Ok(v);
        };
        for e in rr.range((run, "")..(run, MAX_ID))? {
            let (k, val) = e?;
            v.push((
                k.value().1.to_string(),
                serde_json::from_str(val.value()).unwrap_or_default(),
            ));
        }
        Ok(v)
    }

    /// One institution's result in one saved run.
    pub fn run_result(&self, run: u64, id: &str) -> Result<Option<serde_json::Value>, LedgerError> {
        let Some(rr) = &self.run_results else {
            return Ok(None);
        };
        Ok(rr
            .get((run, id))?
            .map(|g| serde_json::from_str(g.value()).unwrap_or_default()))
    }

    /// Notices issued to an institution: (kind, date, JSON record), oldest first per kind.
    pub fn notices_of(
        &self,
        id: &str,
    ) -> Result<Vec<(String, NaiveDate, serde_json::Value)>, LedgerError> {
        let mut v = Vec::new();
        let Some(t) = &self.notices else { return Ok(v) };
        for e in t.range((id, "", i64::MIN)..=(id, MAX_ID, i64::MAX))? {
            let (k, val) = e?;
            let (_, kind, day) = k.value();
            let Some(d) = NaiveDate::from_num_days_from_ce_opt(day as i32) else {
                continue;
            };
            v.push((
                kind.to_string(),
                d,
                serde_json::from_str(val.value()).unwrap_or_default(),
            ));
        }
        Ok(v)
    }

    /// Every notice in the register: the file it was written to, as recorded,
    /// and the SHA-256 of its text.
    pub fn notice_files(&self) -> Result<Vec<(String, String)>, LedgerError> {
        let mut v = Vec::new();
        let Some(t) = &self.notices else { return Ok(v) };
        for e in t.iter()? {
            let (_, val) = e?;
            let j: serde_json::Value = serde_json::from_str(val.value()).unwrap_or_default();
            if let (Some(f), Some(s)) = (j["file"].as_str(), j["sha256"].as_str()) {
                v.push((f.to_string(), s.to_string()));
            }
        }
        Ok(v)
    }

    /// What one audit entry changed, in order.
    pub fn audit_changes(&self, n: u64) -> Result<Vec<Change>, LedgerError> {
        let mut v = Vec::new();
        for e in self.audit_changes.range((n, 0u64)..=(n, u64::MAX))? {
            v.push(codec::decode_change(e?.1.value())?);
        }
        Ok(v)
    }

    /// The licence an institution held on `d`: (number, issued, expires). The
    /// record carries the current licence; earlier ones are in the licence history.
    pub fn licence_as_of<S: std::ops::Deref<Target = str>>(
        &self,
        x: &InstitutionOf<S>,
        d: NaiveDate,
    ) -> Result<Option<(String, NaiveDate, Option<NaiveDate>)>, LedgerError> {
        if x.licence_issued.is_some_and(|i| i <= d) {
            return Ok(Some((
                x.licence_no.as_deref().unwrap_or_default().to_string(),
                x.licence_issued.unwrap(),
                x.licence_expires,
            )));
        }
        let Some(t) = &self.licence_history else {
            return Ok(None);
        };
        let mut best: Option<(String, NaiveDate, Option<NaiveDate>)> = None;
        for e in t.range((&*x.id, 0u64)..=(&*x.id, u64::MAX))? {
            let v: serde_json::Value = serde_json::from_str(e?.1.value()).unwrap_or_default();
            let Some(issued) = v["issued"].as_str().and_then(|s| parse_date(s).ok()) else {
                continue;
            };
            if issued <= d && best.as_ref().is_none_or(|b| b.1 <= issued) {
                let expires = v["expires"].as_str().and_then(|s| parse_date(s).ok());
                best = Some((
                    v["licence_no"].as_str().unwrap_or("").to_string(),
                    issued,
                    expires,
                ));
            }
        }
        Ok(best)
    }

    /// The number of the last audit entry (0 for none): which state of the
    /// ledger this snapshot is.
    pub fn last_audit(&self) -> Result<u64, LedgerError> {
        Ok(self.audit.last()?.map(|(k, _)| k.value()).unwrap_or(0))
    }

    /// One audit entry's JSON header.
    pub fn audit_entry(&self, n: u64) -> Result<Option<String>, LedgerError> {
        Ok(self.audit.get(n)?.map(|g| g.value().to_string()))
    }

    /// Audit entries (number, JSON header), newest last.
    pub fn audit(&self) -> Result<Vec<(u64, String)>, LedgerError> {
        let mut v = Vec::new();
        for e in self.audit.iter()? {
            let (k, val) = e?;
            v.push((k.value(), val.value().to_string()));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_each_records_bytes_and_key_and_shares_an_institution() {
        let mut b = RawRecords::default();
        // A table keyed by id alone (institutions): an empty institution.
        b.push("", "I1", b"\x01one");
        b.push("I1", "C1", b"\x02two");
        b.push("I1", "C2", b"");
        b.push("机构2", "课程3", b"\x02three");
        let got: Vec<_> = b.spans.iter().map(|at| (b.key(at), b.record(at))).collect();
        assert_eq!(
            got,
            [
                (("", "I1"), &b"\x01one"[..]),
                (("I1", "C1"), b"\x02two"),
                (("I1", "C2"), b""),
                (("机构2", "课程3"), b"\x02three"),
            ]
        );
        // Consecutive records of one institution share its text.
        assert_eq!(b.spans[1].inst, b.spans[2].inst);
        assert_ne!(b.spans[2].inst, b.spans[3].inst);
    }
}
