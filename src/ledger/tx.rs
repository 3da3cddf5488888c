//! The write transaction: [`Tx`] and its writes of institutions (with their
//! status history), inspections, findings, applications and courses, each
//! validated, then written with its audit change. The decisions and the
//! other registers are written by the methods in `tx_decisions`; an
//! import's staged batches by those in `bulk`.

use chrono::NaiveDate;
use redb::{ReadableTable, ReadableTableMetadata, Table, WriteTransaction};

use super::chain::ChangesDigest;
use super::codec::{self, Change, StatusChange};
use super::error::reject;
use super::schema::*;
use super::seal::{Bytes, Text};
use super::state::Tracked;
use super::LedgerError;
use crate::model::*;

/// What one upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// Counts of an operation's changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub other: u64,
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Inserted => self.inserted += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// Open tables of one write transaction. Every write method validates first,
/// then writes the record and its audit change.
pub struct Tx<'t> {
    pub(super) institutions: Tracked<'t, &'static str, Bytes>,
    pub(super) inspections: Tracked<'t, (&'static str, &'static str), Bytes>,
    pub(super) inspection_ids: Tracked<'t, &'static str, Text>,
    pub(super) findings: Tracked<'t, (&'static str, &'static str), Bytes>,
    pub(super) finding_ids: Tracked<'t, &'static str, Text>,
    pub(super) history: Tracked<'t, (&'static str, u64), Bytes>,
    pub(super) changes: Table<'t, (u64, u64), Bytes>,
    pub(super) lists: Tracked<'t, (&'static str, &'static str, u64), Text>,
    pub(super) runs: Tracked<'t, u64, Text>,
    pub(super) run_results: Tracked<'t, (u64, &'static str), Text>,
    pub(super) notices: Tracked<'t, (&'static str, &'static str, i64), Text>,
    pub(super) applications: Tracked<'t, (&'static str, &'static str), Bytes>,
    pub(super) application_ids: Tracked<'t, &'static str, Text>,
    pub(super) courses: Tracked<'t, (&'static str, &'static str), Bytes>,
    pub(super) course_ids: Tracked<'t, &'static str, Text>,
    pub(super) licence_history: Tracked<'t, (&'static str, u64), Text>,
    pub(super) audit_seq: u64,
    pub(super) n_changes: u64,
    /// The digest of the changes written so far, for the audit chain.
    pub(super) changes_digest: ChangesDigest,
    pub(super) districts: Vec<String>,
    /// Institutions known to exist in this transaction.
    pub(super) known: rustc_hash::FxHashSet<String>,
    /// Inspections looked up in this transaction and their institution: a
    /// findings file names the same inspection for each of its findings.
    pub(super) inspection_of: rustc_hash::FxHashMap<String, String>,
    /// Inserted ids not yet written to the audit: (kind, ids, count).
    pub(super) inserted: (Option<RecordKind>, String, u32),
    /// What this transaction has done so far.
    pub counts: Counts,
    /// A line for the audit entry beyond counts (e.g. "saved scoring run 3").
    pub detail: Option<String>,
}

impl<'t> Tx<'t> {
    pub(super) fn open(
        txn: &'t WriteTransaction,
        audit_seq: u64,
        districts: Vec<String>,
    ) -> Result<Self, LedgerError> {
        Ok(Tx {
            institutions: Tracked::open(txn, INSTITUTIONS)?,
            inspections: Tracked::open(txn, INSPECTIONS)?,
            inspection_ids: Tracked::open(txn, INSPECTION_IDS)?,
            findings: Tracked::open(txn, FINDINGS)?,
            finding_ids: Tracked::open(txn, FINDING_IDS)?,
            history: Tracked::open(txn, STATUS_HISTORY)?,
            changes: txn.open_table(AUDIT_CHANGES)?,
            lists: Tracked::open(txn, LISTS)?,
            runs: Tracked::open(txn, RUNS)?,
            run_results: Tracked::open(txn, RUN_RESULTS)?,
            notices: Tracked::open(txn, NOTICES)?,
            applications: Tracked::open(txn, APPLICATIONS)?,
            application_ids: Tracked::open(txn, APPLICATION_IDS)?,
            courses: Tracked::open(txn, COURSES)?,
            course_ids: Tracked::open(txn, COURSE_IDS)?,
            licence_history: Tracked::open(txn, LICENCE_HISTORY)?,
            audit_seq,
            n_changes: 0,
            changes_digest: ChangesDigest::default(),
            districts,
            known: Default::default(),
            inspection_of: Default::default(),
            inserted: (None, String::new(), 0),
            counts: Counts::default(),
            detail: None,
        })
    }

    /// The audit entry this transaction will commit as.
    pub fn audit_seq(&self) -> u64 {
        self.audit_seq
    }

    /// What this transaction's writes did to each table's state digest (see
    /// `state`), for its audit entry: table name → 64 hex digits, tables it
    /// left as they were omitted.
    pub(super) fn state_delta(&self) -> serde_json::Map<String, serde_json::Value> {
        [
            self.institutions.delta(),
            self.inspections.delta(),
            self.inspection_ids.delta(),
            self.findings.delta(),
            self.finding_ids.delta(),
            self.history.delta(),
            self.lists.delta(),
            self.runs.delta(),
            self.run_results.delta(),
            self.notices.delta(),
            self.applications.delta(),
            self.application_ids.delta(),
            self.courses.delta(),
            self.course_ids.delta(),
            self.licence_history.delta(),
        ]
        .into_iter()
        .filter(|(_, d)| !d.is_zero())
        .map(|(n, d)| (n.to_string(), d.to_hex().into()))
        .collect()
    }

    /// The ledger's configured districts.
    pub fn districts(&self) -> &[String] {
        &self.districts
    }

    pub(super) fn record_change(
        &mut self,
        kind: &str,
        id: &str,
        action: &str,
        before: Vec<u8>,
    ) -> Result<(), LedgerError> {
        self.n_changes += 1;
        let c = Change {
            kind: kind.into(),
            id: id.into(),
            action: action.into(),
            before,
        };
        let enc = codec::encode_change(&c);
        self.changes_digest.add(self.n_changes, &enc);
        self.changes
            .insert((self.audit_seq, self.n_changes), enc.as_slice())?;
        Ok(())
    }

    /// Whether an institution exists (in this transaction's view). Institutions
    /// are never deleted, so a positive answer is cached for the transaction.
    pub fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError> {
        if self.known.contains(id) {
            return Ok(true);
        }
        let found = self.institutions.get(id)?.is_some();
        if found {
            self.known.insert(id.to_string());
        }
        Ok(found)
    }

    /// Reads an institution as this transaction sees it.
    pub fn institution(&self, id: &str) -> Result<Option<Institution>, LedgerError> {
        match self.institutions.get(id)? {
            Some(g) => Ok(Some(codec::decode_institution(g.value())?)),
            None => Ok(None),
        }
    }

    /// Reads a finding by id as this transaction sees it.
    pub fn finding(&self, id: &str) -> Result<Option<Finding>, LedgerError> {
        let Some(inst) = self.finding_ids.get(id)?.map(|g| g.value().to_string()) else {
            return Ok(None);
        };
        match self.findings.get((inst.as_str(), id))? {
            Some(g) => Ok(Some(codec::decode_stored(&inst, id, g.value())?)),
            None => Ok(None),
        }
    }

    /// Inserts or updates an institution by id. A change of status or status
    /// date adds a dated entry to its status history.
    pub fn upsert_institution(
        &mut self,
        x: &Institution,
        reason: &str,
    ) -> Result<Outcome, LedgerError> {
        let errs = x.validate(&self.districts);
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        self.upsert_valid_institution(x, reason)
    }

    /// [`Tx::upsert_institution`] for a record the caller has validated
    /// against [`Tx::districts`] (an import does that on its parsing thread).
    pub fn upsert_valid_institution(
        &mut self,
        x: &Institution,
        reason: &str,
    ) -> Result<Outcome, LedgerError> {
        let old = self
            .institutions
            .get(x.id.as_str())?
            .map(|g| g.value().to_vec());
        let stored = old.as_deref().map(codec::decode_institution).transpose()?;
        let mut new = x.clone();
        let outcome = match &stored {
            None => {
                self.push_status(&x.id, x.status_date, x.status, reason)?;
                Outcome::Inserted
            }
            Some(o) => {
                // Push only a status the history does not hold yet, so that
                // re-importing an old row after later changes stays idempotent.
                if (o.status, o.status_date) != (x.status, x.status_date) {
                    if !self.has_status(&x.id, x.status_date, x.status)? {
                        self.push_status(&x.id, x.status_date, x.status, reason)?;
                    }
                    // The record carries the latest-dated status, whatever order entries
                    // came in: an older file re-imported never rolls it back.
                    let (d, s) = self
                        .current_status(&x.id)?
                        .unwrap_or((x.status_date, x.status));
                    new.status_date = d;
                    new.status = s;
                }
                Outcome::Updated
            }
        };
        if let Some(o) = &stored {
            if o.licence_issued.is_some()
                && (o.licence_no.as_deref(), o.licence_issued)
                    != (new.licence_no.as_deref(), new.licence_issued)
            {
                self.keep_licence(o)?;
            }
        }
        let enc = codec::encode_institution(&new);
        if old.as_deref() == Some(enc.as_slice()) {
            self.counts.add(Outcome::Unchanged);
            return Ok(Outcome::Unchanged);
        }
        self.institutions.insert(x.id.as_str(), enc.as_slice())?;
        debug_assert_eq!(outcome == Outcome::Inserted, old.is_none());
        self.changed(RecordKind::Institutions, &x.id, old)
    }

    fn push_status(
        &mut self,
        id: &str,
        date: NaiveDate,
        status: Status,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let next = {
            let mut r = self.history.range((id, 0u64)..=(id, u64::MAX))?;
            r.next_back()
                .transpose()?
                .map(|(k, _)| k.value().1 + 1)
                .unwrap_or(1)
        };
        let c = StatusChange {
            date,
            status,
            reason: reason.into(),
            audit: self.audit_seq,
        };
        self.history
            .insert((id, next), codec::encode_status(&c).as_slice())?;
        Ok(())
    }

    fn has_status(&self, id: &str, date: NaiveDate, status: Status) -> Result<bool, LedgerError> {
        for e in self.history.range((id, 0u64)..=(id, u64::MAX))? {
            let c = codec::decode_status(e?.1.value())?;
            if c.date == date && c.status == status {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn current_status(&self, id: &str) -> Result<Option<(NaiveDate, Status)>, LedgerError> {
        let mut best: Option<(NaiveDate, u64, Status)> = None;
        for e in self.history.range((id, 0u64)..=(id, u64::MAX))? {
            let (k, v) = e?;
            let c = codec::decode_status(v.value())?;
            let key = (c.date, k.value().1);
            if best.is_none_or(|b| (b.0, b.1) <= key) {
                best = Some((c.date, key.1, c.status));
            }
        }
        Ok(best.map(|b| (b.0, b.2)))
    }

    /// Changes an institution's status effective `date`, with a reason (audited).
    pub fn set_status(
        &mut self,
        id: &str,
        status: Status,
        date: NaiveDate,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let Some(ob) = self.institutions.get(id)?.map(|g| g.value().to_vec()) else {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                "no such institution",
            )]));
        };
        let mut x = codec::decode_institution(&ob)?;
        self.push_status(id, date, status, reason)?;
        let (d, s) = self.current_status(id)?.unwrap_or((date, status));
        x.status = s;
        x.status_date = d;
        self.institutions
            .insert(id, codec::encode_institution(&x).as_slice())?;
        self.record_change(
            RecordKind::Institutions.audit_name(),
            id,
            &format!("status {status} from {date}: {reason}"),
            ob,
        )?;
        self.counts.other += 1;
        Ok(())
    }

    /// Inserts or updates an inspection by id; its institution must exist.
    pub fn upsert_inspection(&mut self, x: &Inspection) -> Result<Outcome, LedgerError> {
        let errs = owned_errors(x.validate(), &x.institution_id, self)?;
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        let enc = codec::encode_inspection(x);
        let w = write_keyed(
            &mut self.inspections,
            &mut self.inspection_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        // Findings written later in this transaction must see where it is now.
        self.inspection_of.remove(x.id.as_str());
        self.keyed_outcome(RecordKind::Inspections, &x.id, w)
    }

    /// Inserts or updates a finding by id; its institution (and inspection, if
    /// given, of the same institution) must exist.
    pub fn upsert_finding(&mut self, x: &Finding) -> Result<Outcome, LedgerError> {
        let errs = finding_errors(x, self)?;
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        let enc = codec::encode_finding(x);
        let w = write_keyed(
            &mut self.findings,
            &mut self.finding_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        self.keyed_outcome(RecordKind::Findings, &x.id, w)
    }

    /// Records an insert (batched: ids only) or an update (with its before-image) and counts it.
    pub(super) fn changed(
        &mut self,
        kind: RecordKind,
        id: &str,
        old: Option<Vec<u8>>,
    ) -> Result<Outcome, LedgerError> {
        match old {
            Some(before) => {
                self.record_change(kind.audit_name(), id, "update", before)?;
                self.counts.add(Outcome::Updated);
                Ok(Outcome::Updated)
            }
            None => {
                if self.inserted.0 != Some(kind) {
                    self.flush_inserts()?;
                    self.inserted.0 = Some(kind);
                }
                self.inserted.1.push_str(id);
                self.inserted.1.push('\n');
                self.inserted.2 += 1;
                if self.inserted.2 >= 4096 {
                    self.flush_inserts()?;
                }
                self.counts.add(Outcome::Inserted);
                Ok(Outcome::Inserted)
            }
        }
    }

    /// Writes the pending batch of inserted ids as one audit change (newline-separated ids).
    pub(super) fn flush_inserts(&mut self) -> Result<(), LedgerError> {
        if self.inserted.2 > 0 {
            let ids = std::mem::take(&mut self.inserted.1);
            let kind = self.inserted.0.map_or("", RecordKind::audit_name);
            self.record_change(kind, ids.trim_end(), "insert", Vec::new())?;
            self.inserted.2 = 0;
        }
        Ok(())
    }

    /// Inserts or updates a licence application; its institution must exist.
    pub fn upsert_application(&mut self, x: &Application) -> Result<Outcome, LedgerError> {
        self.check_owned(x.validate(), &x.institution_id)?;
        let enc = codec::encode_application(x);
        let w = write_keyed(
            &mut self.applications,
            &mut self.application_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        self.keyed_outcome(RecordKind::Applications, &x.id, w)
    }

    /// Inserts or updates a course filing; its institution must exist.
    pub fn upsert_course(&mut self, x: &Course) -> Result<Outcome, LedgerError> {
        self.check_owned(x.validate(), &x.institution_id)?;
        let enc = codec::encode_course(x);
        let w = write_keyed(
            &mut self.courses,
            &mut self.course_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        self.keyed_outcome(RecordKind::Courses, &x.id, w)
    }

    /// Counts and audits what [`write_keyed`] did.
    fn keyed_outcome(
        &mut self,
        kind: RecordKind,
        id: &str,
        w: Written,
    ) -> Result<Outcome, LedgerError> {
        match w {
            Written::Unchanged => {
                self.counts.add(Outcome::Unchanged);
                Ok(Outcome::Unchanged)
            }
            Written::Changed(old) => self.changed(kind, id, old),
        }
    }

    /// The record's own errors plus a missing institution, as one rejection.
    fn check_owned(&mut self, errs: Vec<FieldError>, inst: &str) -> Result<(), LedgerError> {
        let errs = owned_errors(errs, inst, self)?;
        if errs.is_empty() {
            Ok(())
        } else {
            Err(reject(errs))
        }
    }

    /// A licence application by id, as this transaction sees it.
    pub fn application(&self, id: &str) -> Result<Option<Application>, LedgerError> {
        let Some(inst) = self.application_ids.get(id)?.map(|g| g.value().to_string()) else {
            return Ok(None);
        };
        Ok(match self.applications.get((inst.as_str(), id))? {
            Some(g) => Some(codec::decode_stored(&inst, id, g.value())?),
            None => None,
        })
    }

    /// A course filing by id, as this transaction sees it.
    pub fn course(&self, id: &str) -> Result<Option<Course>, LedgerError> {
        let Some(inst) = self.course_ids.get(id)?.map(|g| g.value().to_string()) else {
            return Ok(None);
        };
        Ok(match self.courses.get((inst.as_str(), id))? {
            Some(g) => Some(codec::decode_stored(&inst, id, g.value())?),
            None => None,
        })
    }

    /// A finding id not yet used, of the form `F<date>-<n>`.
    pub fn next_finding_id(&self, date: NaiveDate) -> Result<String, LedgerError> {
        let base = format!("F{}", date.format("%Y%m%d"));
        for n in 1.. {
            let id = format!("{base}-{n:04}");
            if self.finding_ids.get(id.as_str())?.is_none() {
                return Ok(id);
            }
        }
        unreachable!()
    }

    /// Count of stored findings (for generated ids and summaries).
    pub fn finding_count(&self) -> Result<u64, LedgerError> {
        Ok(self.finding_ids.len()?)
    }
}

/// What [`write_keyed`] did.
enum Written {
    Unchanged,
    /// Written; the bytes it replaced, if any.
    Changed(Option<Vec<u8>>),
}

/// What the reference checks of a record need to know of the others. A write
/// transaction answers from its own tables; an import's checking thread from
/// the snapshot the transaction began with (see [`Stager`](super::Stager)).
pub(super) trait Refs {
    fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError>;
    /// The institution an inspection was of, if the inspection exists.
    fn inspection_institution(&mut self, id: &str) -> Result<Option<String>, LedgerError>;
}

impl Refs for Tx<'_> {
    fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError> {
        Tx::has_institution(self, id)
    }

    fn inspection_institution(&mut self, id: &str) -> Result<Option<String>, LedgerError> {
        if let Some(i) = self.inspection_of.get(id) {
            return Ok(Some(i.clone()));
        }
        let i = self.inspection_ids.get(id)?.map(|g| g.value().to_string());
        if let Some(i) = &i {
            self.inspection_of.insert(id.to_string(), i.clone());
        }
        Ok(i)
    }
}

pub(super) fn no_institution(id: &str) -> FieldError {
    FieldError::new(
        "institution_id",
        id,
        "no institution with this id in the ledger (import institutions first)",
    )
}

/// A record's own errors plus a missing institution (looked for only when
/// the record is otherwise sound).
pub(super) fn owned_errors(
    mut errs: Vec<FieldError>,
    inst: &str,
    refs: &mut impl Refs,
) -> Result<Vec<FieldError>, LedgerError> {
    if errs.is_empty() && !refs.has_institution(inst)? {
        errs.push(no_institution(inst));
    }
    Ok(errs)
}

/// A finding's own errors plus its references: the institution must exist,
/// and its inspection, if it names one, must exist and be of that institution.
pub(super) fn finding_errors(
    x: &Finding,
    refs: &mut impl Refs,
) -> Result<Vec<FieldError>, LedgerError> {
    let mut errs = x.validate();
    if errs.iter().all(|e| e.field != "institution_id")
        && !refs.has_institution(&x.institution_id)?
    {
        errs.push(no_institution(&x.institution_id));
    }
    if let Some(n) = &x.inspection_id {
        match refs.inspection_institution(n)? {
            None => errs.push(FieldError::new(
                "inspection_id",
                n.clone(),
                "no inspection with this id in the ledger (import inspections first)",
            )),
            Some(i) if i != x.institution_id => errs.push(FieldError::new(
                "inspection_id",
                n.clone(),
                format!(
                    "this inspection was of institution {i}, not {}",
                    x.institution_id
                ),
            )),
            _ => {}
        }
    }
    Ok(errs)
}

/// Upserts a record stored under `(institution, id)` with an `id → institution`
/// index, moving it if its institution changed. `enc` is the whole (format-1)
/// record; the table keeps it without the key's fields.
fn write_keyed(
    data: &mut Tracked<'_, (&'static str, &'static str), Bytes>,
    ids: &mut Tracked<'_, &'static str, Text>,
    inst: &str,
    id: &str,
    enc: &[u8],
) -> Result<Written, LedgerError> {
    let prev = ids.insert(id, inst)?.map(|g| g.value().to_string());
    let old = match &prev {
        Some(pi) => data.get((pi.as_str(), id))?.map(|g| g.value().to_vec()),
        None => None,
    };
    if let (Some(pi), Some(o)) = (&prev, &old) {
        if pi == inst && codec::same_stored(o, enc) {
            return Ok(Written::Unchanged);
        }
    }
    if let Some(pi) = prev.as_deref().filter(|pi| *pi != inst) {
        data.remove((pi, id))?;
    }
    data.insert((inst, id), codec::to_stored(enc).as_slice())?;
    // The audit log keeps whole records: its before-image names the institution.
    let before = prev
        .as_deref()
        .zip(old)
        .map(|(pi, o)| codec::rejoin(pi, id, &o));
    Ok(Written::Changed(before))
}
