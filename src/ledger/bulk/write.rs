//! The writing half of the bulk path: [`Tx`]'s writes of staged batches
//! and new institutions, on the import's writing thread, and the id index
//! entries a batch writes in id order.

use super::super::seal::Text;
use super::super::spill::Spill;
use super::super::state::{InOrder, Prehashed};
use super::super::{LedgerError, Tx};
use super::{Batch, NewInstitutions, Staged};
use crate::model::*;

impl Tx<'_> {
    /// Writes institutions [`Stager::new_institution`](super::Stager::new_institution) staged: each record and
    /// its first status entry, as [`Tx::upsert_valid_institution`] would for a
    /// new one. One the ledger already holds (staged against an older state)
    /// is refused, not overwritten.
    pub fn insert_new_institutions(&mut self, b: &NewInstitutions) -> Result<(), LedgerError> {
        for (id, enc, first) in b.iter() {
            if self.institutions.insert(id, enc)?.is_some() {
                return Err(LedgerError::Storage(format!(
                    "institution {id} was written twice in one import; nothing was written"
                )));
            }
            // A history without its institution cannot arise (institutions are
            // never deleted); if one did, it is refused rather than overwritten.
            if self.history.insert((id, 1u64), first)?.is_some() {
                return Err(LedgerError::Storage(format!(
                    "institution {id} is new but has a status history; nothing was written"
                )));
            }
        }
        for (id, _, _) in b.iter() {
            self.changed(RecordKind::Institutions, id, None)?;
        }
        Ok(())
    }

    /// Writes a batch [`Stager`](super::Stager) prepared: records already checked, encoded,
    /// compared with the stored ones and put in key order, so this thread does
    /// B-tree inserts and nothing else. The id index is written on a second
    /// thread meanwhile; where each id pointed before came from the snapshot
    /// the stager read, and is checked against what the index held, so a
    /// batch staged against an older state is refused, not half-applied.
    ///
    /// `kind` is one stored under `(institution, id)`: not institutions,
    /// which [`Tx::insert_new_institutions`] writes.
    pub fn write_batch(&mut self, kind: RecordKind, b: &Batch) -> Result<(), LedgerError> {
        self.write_batch_or_spill(kind, b, None)
    }

    /// [`Tx::write_batch`], but the records go to `spill` (in a run of
    /// their own) instead of their table, which [`Tx::write_spilled`] then
    /// fills in one pass over every run. The id index and the audit changes
    /// are written at once, as by `write_batch`.
    pub fn spill_batch(
        &mut self,
        kind: RecordKind,
        b: &Batch,
        spill: &mut Spill,
    ) -> Result<(), LedgerError> {
        self.write_batch_or_spill(kind, b, Some(spill))
    }

    fn write_batch_or_spill(
        &mut self,
        kind: RecordKind,
        b: &Batch,
        spill: Option<&mut Spill>,
    ) -> Result<(), LedgerError> {
        assert_eq!(
            b.by_key.len(),
            b.rows.len(),
            "Batch::sort runs before write_batch"
        );
        let (data, ids) = match kind {
            RecordKind::Inspections => (&mut self.inspections, &mut self.inspection_ids),
            RecordKind::Findings => (&mut self.findings, &mut self.finding_ids),
            RecordKind::Applications => (&mut self.applications, &mut self.application_ids),
            RecordKind::Courses => (&mut self.courses, &mut self.course_ids),
            RecordKind::Institutions => {
                panic!("write_batch writes keyed kinds; institutions go through insert_new_institutions")
            }
        };
        let table = data.delta().0;
        let (indexed, written) = std::thread::scope(|s| {
            let index = std::thread::Builder::new().name("import-index".into());
            let index = index.spawn_scoped(s, || -> Result<(), LedgerError> {
                let mut rows = IdRows::new(b, ids.delta().0, kind);
                let hashed = rows.hashed;
                ids.insert_in_order(&mut rows, hashed)
            });
            let index = index.expect("cannot start the index thread");
            let written = (|| -> Result<(), LedgerError> {
                // A record that moves to another institution leaves its old
                // key now, spilled or not: the old and the new key differ,
                // and no other row has either (ids are once a file), so the
                // merge's inserts meet the table as they would have.
                for r in b.in_order(&b.by_key) {
                    if let Some((pi, _)) = r.prev.filter(|(pi, _)| *pi != r.inst) {
                        data.remove((pi, r.id))?;
                    }
                    if spill.is_none() {
                        data.insert((r.inst, r.id), r.enc)?;
                    }
                }
                match spill {
                    Some(spill) => spill.add_run(kind, table, b),
                    None => Ok(()),
                }
            })();
            (index.join().expect("the index thread panicked"), written)
        });
        written?;
        indexed?;
        if kind == RecordKind::Inspections {
            self.inspection_of.clear();
        }
        self.counts.unchanged += b.unchanged;
        for r in b.in_order(&b.by_id) {
            let old = r
                .prev
                .map(|(_, old)| old.to_vec())
                .filter(|o| !o.is_empty());
            self.changed(kind, r.id, old)?;
        }
        Ok(())
    }
}

/// The id index entries a [`Batch`] writes, in id order: every row's but
/// those whose record stays under its institution. Each replaces what the
/// snapshot the stager read had under its id, or nothing: anything else
/// means the ledger changed since, or the id is twice in the import.
struct IdRows<'b> {
    b: &'b Batch,
    /// The next position in `b.by_id`, and the row there (skipping ones that stay).
    at: usize,
    kind: RecordKind,
    hashed: Prehashed,
}

impl<'b> IdRows<'b> {
    fn new(b: &'b Batch, table: &str, kind: RecordKind) -> Self {
        let mut hashed = Prehashed::default();
        for r in b.in_order(&b.by_id) {
            if !Self::stays(&r) {
                hashed.add(table, r.id.as_bytes(), r.inst.as_bytes());
            }
        }
        let mut rows = IdRows {
            b,
            at: 0,
            kind,
            hashed,
        };
        rows.skip();
        rows
    }

    /// Whether a row's index entry is already what it is to be.
    fn stays(r: &Staged) -> bool {
        r.prev.map(|(pi, _)| pi) == Some(r.inst)
    }

    fn row(&self) -> Option<Staged<'b>> {
        let i = *self.b.by_id.get(self.at)?;
        Some(self.b.row(&self.b.rows[i as usize]))
    }

    fn skip(&mut self) {
        while self.row().is_some_and(|r| Self::stays(&r)) {
            self.at += 1;
        }
    }
}

impl InOrder<&'static str, Text> for IdRows<'_> {
    fn current(&self) -> Option<(&str, &str)> {
        self.row().map(|r| (r.id, r.inst))
    }

    fn advance(&mut self) -> Result<(), LedgerError> {
        self.at += 1;
        self.skip();
        Ok(())
    }

    fn may_replace(&self, old: Option<&str>) -> Result<(), LedgerError> {
        let was = self.row().and_then(|r| r.prev).map(|(pi, _)| pi);
        if old == was {
            return Ok(());
        }
        Err(LedgerError::Storage(format!(
            "{} ids changed while an import was checked, or one was written twice in it; nothing was written",
            self.kind.audit_name()
        )))
    }
}
