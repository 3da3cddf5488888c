//! Bulk writes for imports: a [`Stager`] checks and encodes records on the
//! parsing thread into [`Batch`]es (and [`NewInstitutions`]), and
//! [`Tx::write_batch`](super::Tx::write_batch) writes them in key order.

use std::sync::Arc;

use redb::{ReadableTable, ReadableTableMetadata};

use super::codec::{self, StatusChange};
use super::id_map::IdMap;
use super::tx::{finding_errors, no_institution, owned_errors, Refs};
use super::{LedgerError, Reader};
use crate::model::*;

mod write;

/// Keyed records of one kind, checked, encoded and compared with the stored
/// ones by a [`Stager`], in key order once [`Batch::sort`] has run; what
/// [`Tx::write_batch`](super::Tx::write_batch) writes. One buffer holds every row's bytes, so a batch
/// of 65,536 rows is two allocations to hand between threads and to free.
#[derive(Default)]
pub struct Batch {
    buf: Vec<u8>,
    rows: Vec<StagedRow>,
    /// Positions in `rows` in key order, and in id order (the id index's key).
    pub(super) by_key: Vec<u32>,
    by_id: Vec<u32>,
    /// The institutions of `by_key`'s rows, packed ([`pack_id`]), in its
    /// order: what [`InstitutionCheck`] walks without reading the rows.
    inst_keys: Vec<u128>,
    /// Rows identical to the stored record: counted, not written.
    pub unchanged: u64,
    /// The line of the file the next row pushed comes from (see [`Batch::at_line`]).
    line: u64,
}

/// Offsets into [`Batch::buf`]: institution, id, the bytes to store, then,
/// for a record already stored, the institution it is under and the whole
/// record there (its before-image).
#[derive(Clone, Copy)]
struct StagedRow {
    at: usize,
    /// The line of the file it came from, for a reference checked late.
    line: u64,
    inst: u32,
    id: u32,
    enc: u32,
    prev: Option<(u32, u32)>,
}

/// One row of a [`Batch`].
pub(super) struct Staged<'b> {
    pub(super) inst: &'b str,
    pub(super) id: &'b str,
    pub(super) enc: &'b [u8],
    /// Where the record is stored now, and the whole record there.
    pub(super) prev: Option<(&'b str, &'b [u8])>,
}

/// A length that `Batch` can keep in 32 bits. `row` relies on the lengths
/// being exact, so a record of 4 GiB (no CSV cell holds one) stops the
/// import, which then writes nothing, rather than being cut short.
fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("a record or id of 4 GiB or more cannot be imported")
}

impl Batch {
    /// Adds a row: `enc` is the bytes to store in two parts (see
    /// [`codec::stored_parts`]); `prev`, the institution the record is
    /// stored under now and the whole record there, its before-image.
    fn push(&mut self, inst: &str, id: &str, enc: [&[u8]; 2], prev: Option<(&str, &[u8])>) {
        let at = self.buf.len();
        for part in [inst.as_bytes(), id.as_bytes(), enc[0], enc[1]] {
            self.buf.extend_from_slice(part);
        }
        if let Some((pi, old)) = prev {
            self.buf.extend_from_slice(pi.as_bytes());
            self.buf.extend_from_slice(old);
        }
        self.rows.push(StagedRow {
            at,
            line: self.line,
            inst: len32(inst.len()),
            id: len32(id.len()),
            enc: len32(enc[0].len() + enc[1].len()),
            prev: prev.map(|(pi, old)| (len32(pi.len()), len32(old.len()))),
        });
    }

    /// Says which line of the file the rows staged next come from.
    pub fn at_line(&mut self, line: u64) {
        self.line = line;
    }

    /// An empty batch with room for one like `c` (see [`Batch::lengths`]).
    pub fn with_capacity(c: (usize, usize)) -> Self {
        Batch {
            buf: Vec::with_capacity(c.0),
            rows: Vec::with_capacity(c.1),
            ..Default::default()
        }
    }

    /// Bytes and rows this batch holds (what [`Batch::with_capacity`] takes
    /// to make room for the next one like it).
    pub fn lengths(&self) -> (usize, usize) {
        (self.buf.len(), self.rows.len())
    }

    /// Rows to write (unchanged ones are not kept).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// About the memory the batch takes.
    pub fn bytes(&self) -> usize {
        self.buf.len() + self.rows.len() * (std::mem::size_of::<StagedRow>() + 8)
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&self, r: &StagedRow) -> Staged<'_> {
        let text = |from: usize, len: u32| {
            let b = &self.buf[from..from + len as usize];
            // SAFETY: `buf` is private and `push` is all that writes it: the
            // ids and institutions at these offsets were copied from `&str`s
            // whole, so they are UTF-8. (Checking again was 3% of an import.)
            unsafe { std::str::from_utf8_unchecked(b) }
        };
        let mut at = r.at;
        let inst = text(at, r.inst);
        at += r.inst as usize;
        let id = text(at, r.id);
        at += r.id as usize;
        let enc = &self.buf[at..at + r.enc as usize];
        at += r.enc as usize;
        let prev = r.prev.map(|(pi, old)| {
            let p = text(at, pi);
            let o = &self.buf[at + pi as usize..at + pi as usize + old as usize];
            (p, o)
        });
        Staged {
            inst,
            id,
            enc,
            prev,
        }
    }

    /// The rows in the order of `order` (see [`Batch::sort`]).
    pub(super) fn in_order<'b>(
        &'b self,
        order: &'b [u32],
    ) -> impl Iterator<Item = Staged<'b>> + 'b {
        order.iter().enumerate().map(move |(n, &i)| {
            // Rows in key order are scattered over the buffer: ask for the
            // ones a few steps ahead before they are needed.
            if let Some(&far) = order.get(n + 16) {
                prefetch(&self.rows[far as usize] as *const StagedRow);
            }
            if let Some(&near) = order.get(n + 8) {
                // A pointer, not an index: an empty last row starts at the end.
                prefetch(self.buf.as_ptr().wrapping_add(self.rows[near as usize].at));
            }
            self.row(&self.rows[i as usize])
        })
    }

    /// Orders the rows by key for the records and by id for the id index:
    /// B-tree inserts in key order touch each page once per batch instead of
    /// once per row. (A file in id order is already in the second, which
    /// the sort sees at once.)
    pub fn sort(&mut self) {
        // Bytes, not text: UTF-8 sorts the same, and this is the inner loop.
        let part = |r: &StagedRow, skip: u32, len: u32| {
            let from = r.at + skip as usize;
            &self.buf[from..from + len as usize]
        };
        let key = |i: u32| {
            let r = &self.rows[i as usize];
            (part(r, 0, r.inst), part(r, r.inst, r.id))
        };
        // Most comparisons are of packed ids held in the array being sorted;
        // only two long ones equal in their first 15 bytes need their bytes.
        use std::cmp::Ordering;
        let (prefix, long) = (pack_id, packed_is_long);
        let mut by_key: Vec<(u128, u128, u32)> = (0..self.rows.len() as u32)
            .map(|i| {
                let (inst, id) = key(i);
                (prefix(inst), prefix(id), i)
            })
            .collect();
        // Taken in the file's order, before the sort by key scatters it.
        let mut by_id: Vec<(u128, u32)> = by_key.iter().map(|&(_, id, i)| (id, i)).collect();
        by_key.sort_unstable_by(|a, b| {
            // The bytes are looked at only when the integers cannot tell.
            match a.0.cmp(&b.0) {
                Ordering::Equal if long(a.0) => key(a.2).cmp(&key(b.2)),
                Ordering::Equal => match a.1.cmp(&b.1) {
                    Ordering::Equal if long(a.1) => key(a.2).1.cmp(key(b.2).1),
                    o => o,
                },
                o => o,
            }
        });
        by_id.sort_unstable_by(|a, b| match a.0.cmp(&b.0) {
            Ordering::Equal if long(a.0) => key(a.1).1.cmp(key(b.1).1),
            o => o,
        });
        self.inst_keys = by_key.iter().map(|k| k.0).collect();
        self.by_key = by_key.into_iter().map(|k| k.2).collect();
        self.by_id = by_id.into_iter().map(|k| k.1).collect();
    }
}

/// Hints the processor to bring the memory at `p` into its cache.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache: it reads nothing and does not
    // fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Institutions new to the ledger, staged by [`Stager::new_institution`]:
/// id, encoded record and encoded first status. [`Tx::insert_new_institutions`](super::Tx::insert_new_institutions)
/// writes them. One buffer holds every row's bytes (as in [`Batch`]): three
/// allocations a row, made on the parsing thread and freed on the writing
/// one, were a tenth of the 10x institutions import.
#[derive(Default)]
pub struct NewInstitutions {
    buf: Vec<u8>,
    /// Where each row starts in `buf`, and the lengths of its id, record
    /// and first status (one after another).
    rows: Vec<(u32, [u32; 3])>,
}

impl NewInstitutions {
    /// Institutions staged.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// About the memory they take.
    pub fn bytes(&self) -> usize {
        self.buf.len() + self.rows.len() * std::mem::size_of::<(u32, [u32; 3])>()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// These rows, leaving in their place an empty set with room for as
    /// many (chunks are much of a size, so it rarely grows).
    pub fn take(&mut self) -> NewInstitutions {
        let room = NewInstitutions {
            buf: Vec::with_capacity(self.buf.len()),
            rows: Vec::with_capacity(self.rows.len()),
        };
        std::mem::replace(self, room)
    }

    /// Puts them in id order (the table's key order).
    pub fn sort(&mut self) {
        let buf = &self.buf;
        let id = |r: &(u32, [u32; 3])| &buf[r.0 as usize..(r.0 + r.1[0]) as usize];
        self.rows.sort_unstable_by(|a, b| id(a).cmp(id(b)));
    }

    fn push(&mut self, id: &str, enc: &[u8], first: &[u8]) {
        let at = len32(self.buf.len());
        self.buf.extend_from_slice(id.as_bytes());
        self.buf.extend_from_slice(enc);
        self.buf.extend_from_slice(first);
        let lens = [id.len(), enc.len(), first.len()].map(len32);
        self.rows.push((at, lens));
    }

    /// Each row's id, record and first status, in the rows' order.
    fn iter(&self) -> impl Iterator<Item = (&str, &[u8], &[u8])> {
        let b = &self.buf;
        self.rows.iter().map(move |&(at, [id, enc, first])| {
            let at = at as usize;
            let (id, enc, first) = (id as usize, enc as usize, first as usize);
            let id_text = std::str::from_utf8(&b[at..at + id]).expect("pushed as a str");
            (
                id_text,
                &b[at + id..at + id + enc],
                &b[at + id + enc..at + id + enc + first],
            )
        })
    }
}

/// Checks keyed records and stages them into [`Batch`]es on an import's
/// parsing thread, against a snapshot taken after the import's write
/// transaction began: an import writes one kind, so the institutions and
/// inspections it refers to are as the snapshot has them, and the records it
/// replaces are the snapshot's (checked again by [`Tx::write_batch`](super::Tx::write_batch)).
pub struct Stager {
    before: Reader,
    /// Institutions found to exist (they are never deleted), until `every`.
    known: IdMap<()>,
    /// Lookups `known` could not answer. After [`Stager::LOOKUPS`] of them
    /// every institution id is read into `every` in one walk of the table,
    /// which is then the whole answer: a large file names most institutions,
    /// and a walk reads each page once where lookups read each several times.
    lookups: u32,
    every: Option<Arc<EveryInstitution>>,
    /// Whether a reference check may wait for the chunk (see
    /// [`InstitutionCheck::unknown_institutions`]), and whether one did.
    deferring: bool,
    deferred: bool,
    inspection_of: rustc_hash::FxHashMap<String, String>,
}

/// Every institution id of the snapshot, in order: ids of up to 15 bytes
/// packed ([`pack_id`]), longer ones as text.
///
/// Sorted, not hashed: a file's rows name institutions in no order, and a
/// hash lookup among a million ids is a cache miss per row (13% of a ten
/// million findings import). A chunk's rows, sorted by institution, are
/// checked against this list in one forward walk instead.
struct EveryInstitution {
    short: Vec<u128>,
    long: Vec<Box<str>>,
}

impl EveryInstitution {
    fn contains(&self, id: &str) -> bool {
        let p = pack_id(id.as_bytes());
        if packed_is_long(p) {
            self.long.binary_search_by(|x| (**x).cmp(id)).is_ok()
        } else {
            self.short.binary_search(&p).is_ok()
        }
    }
}

impl Refs for Stager {
    fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError> {
        if let Some(every) = &self.every {
            if self.deferring {
                self.deferred = true;
                return Ok(true);
            }
            return Ok(every.contains(id));
        }
        if self.known.contains(id) {
            return Ok(true);
        }
        self.lookups += 1;
        if self.lookups >= Self::LOOKUPS {
            let mut every = EveryInstitution {
                short: Vec::with_capacity(self.before.institutions.len()? as usize),
                long: Vec::new(),
            };
            for e in self.before.institutions.iter()? {
                let e = e?;
                let id = e.0.value();
                let p = pack_id(id.as_bytes());
                match packed_is_long(p) {
                    true => every.long.push(id.into()),
                    false => every.short.push(p),
                }
            }
            // The table's order is the bytes' order, which packing keeps.
            debug_assert!(every.short.windows(2).all(|w| w[0] < w[1]));
            let found = every.contains(id);
            self.every = Some(Arc::new(every));
            self.known = IdMap::default();
            return Ok(found);
        }
        let found = self.before.institutions.get(id)?.is_some();
        if found {
            self.known.insert_new(id, ());
        }
        Ok(found)
    }

    fn inspection_institution(&mut self, id: &str) -> Result<Option<String>, LedgerError> {
        if let Some(i) = self.inspection_of.get(id) {
            return Ok(Some(i.clone()));
        }
        let i = self
            .before
            .inspection_ids
            .get(id)?
            .map(|g| g.value().to_string());
        if let Some(i) = &i {
            self.inspection_of.insert(id.to_string(), i.clone());
        }
        Ok(i)
    }
}

impl Stager {
    const LOOKUPS: u32 = 4096;

    /// A stager reading from `before`.
    pub fn new(before: Reader) -> Self {
        Stager {
            before,
            known: Default::default(),
            lookups: 0,
            every: None,
            deferring: false,
            deferred: false,
            inspection_of: Default::default(),
        }
    }

    /// The snapshot it checks against.
    pub fn reader(&self) -> &Reader {
        &self.before
    }

    /// Stages an institution the ledger does not hold, already validated:
    /// its record and its first status entry, recorded with `reason` by
    /// audit entry `audit`. Returns false, staging nothing, for one the
    /// ledger holds: updating needs its history, which [`Tx::upsert_valid_institution`](super::Tx::upsert_valid_institution) reads.
    pub fn new_institution(
        &mut self,
        x: &Institution,
        reason: &str,
        audit: u64,
        b: &mut NewInstitutions,
    ) -> Result<bool, LedgerError> {
        // A point lookup, not `has_institution`: a file names each
        // institution once, and the walk that answers a large file of
        // findings would hold every id of a large ledger (40 MB a million).
        if self.before.institutions.get(x.id.as_str())?.is_some() {
            return Ok(false);
        }
        let first = StatusChange {
            date: x.status_date,
            status: x.status,
            reason: reason.into(),
            audit,
        };
        b.push(
            &x.id,
            &codec::encode_institution(x),
            &codec::encode_status(&first),
        );
        Ok(true)
    }

    /// A record's errors as `check` finds them, letting its institution be
    /// checked later, with its chunk, when that is all it needs: a row with
    /// problems of its own is checked again at once, so that its report is
    /// whole and in the order it always was.
    fn errors(
        &mut self,
        check: impl Fn(&mut Self) -> Result<Vec<FieldError>, LedgerError>,
    ) -> Result<Vec<FieldError>, LedgerError> {
        self.deferring = true;
        self.deferred = false;
        let errs = check(self);
        self.deferring = false;
        match errs {
            Ok(e) if !e.is_empty() && self.deferred => check(self),
            errs => errs,
        }
    }

    /// What checks the institutions of the rows staged so far whose check
    /// waited (see [`InstitutionCheck`]), on any thread.
    pub fn institution_check(&self) -> InstitutionCheck {
        InstitutionCheck(self.every.clone())
    }

    /// Checks an inspection; if sound, adds it to `b` (or counts it unchanged).
    pub fn inspection(&mut self, x: &Inspection, b: &mut Batch) -> Staging {
        let errs = self.errors(|s| owned_errors(x.validate(), &x.institution_id, s))?;
        self.stage(
            RecordKind::Inspections,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_inspection(x),
            b,
        )
    }

    /// Checks a finding; if sound, adds it to `b` (or counts it unchanged).
    pub fn finding(&mut self, x: &Finding, b: &mut Batch) -> Staging {
        let errs = self.errors(|s| finding_errors(x, s))?;
        self.stage(
            RecordKind::Findings,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_finding(x),
            b,
        )
    }

    /// Checks a licence application; if sound, adds it to `b` (or counts it unchanged).
    pub fn application(&mut self, x: &Application, b: &mut Batch) -> Staging {
        let errs = self.errors(|s| owned_errors(x.validate(), &x.institution_id, s))?;
        self.stage(
            RecordKind::Applications,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_application(x),
            b,
        )
    }

    /// Checks a course filing; if sound, adds it to `b` (or counts it unchanged).
    pub fn course(&mut self, x: &Course, b: &mut Batch) -> Staging {
        let errs = self.errors(|s| owned_errors(x.validate(), &x.institution_id, s))?;
        self.stage(
            RecordKind::Courses,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_course(x),
            b,
        )
    }

    fn stage(
        &mut self,
        kind: RecordKind,
        errs: Vec<FieldError>,
        inst: &str,
        id: &str,
        encode: impl FnOnce() -> Vec<u8>,
        b: &mut Batch,
    ) -> Staging {
        if !errs.is_empty() {
            return Ok(Err(errs));
        }
        let enc = encode();
        let r = &self.before;
        let (data, ids) = match kind {
            RecordKind::Inspections => (Some(&r.inspections), Some(&r.inspection_ids)),
            RecordKind::Findings => (Some(&r.findings), Some(&r.finding_ids)),
            RecordKind::Applications => (r.applications.as_ref(), r.application_ids.as_ref()),
            RecordKind::Courses => (r.courses.as_ref(), r.course_ids.as_ref()),
            RecordKind::Institutions => {
                unreachable!("institutions are staged by Stager::institution")
            }
        };
        let prev = match ids {
            Some(ids) => ids.get(id)?.map(|g| g.value().to_string()),
            None => None,
        };
        let old = match (&prev, data) {
            (Some(pi), Some(data)) => data.get((pi.as_str(), id))?.map(|g| g.value().to_vec()),
            _ => None,
        };
        let stored = codec::stored_parts(&enc);
        match (&prev, &old) {
            (Some(pi), Some(o)) if pi == inst && codec::same_stored(o, &enc) => b.unchanged += 1,
            (Some(pi), Some(o)) => b.push(inst, id, stored, Some((pi, &codec::rejoin(pi, id, o)))),
            // An index entry without its record: the entry is replaced, the
            // record written as new (an empty before-image).
            (Some(pi), None) => b.push(inst, id, stored, Some((pi, &[]))),
            (None, _) => b.push(inst, id, stored, None),
        }
        Ok(Ok(()))
    }
}

/// The institutions a [`Stager`] knows, once it has read them all, for
/// checking a chunk's rows whose institution it did not check when it
/// staged them: on the thread that sorts and writes the chunk, not on the
/// parsing one.
#[derive(Clone)]
pub struct InstitutionCheck(Option<Arc<EveryInstitution>>);

impl InstitutionCheck {
    /// The rows of `b` (sorted) whose institution the ledger does not hold,
    /// each as its line, id and error, for rows whose check waited for their
    /// chunk (a check taken after `b` was staged): one forward walk of the
    /// institutions beside the rows in key order (institution first). Rows
    /// checked when staged are checked again, to the same answer.
    pub fn unknown_institutions(&self, b: &Batch) -> Vec<(u64, String, FieldError)> {
        let Some(every) = &self.0 else {
            return Vec::new();
        };
        assert_eq!(
            b.inst_keys.len(),
            b.rows.len(),
            "Batch::sort runs before the check"
        );
        let mut out = Vec::new();
        let mut at = 0;
        for (&i, &p) in b.by_key.iter().zip(&b.inst_keys) {
            let r = &b.rows[i as usize];
            let known = if packed_is_long(p) {
                every.contains(b.row(r).inst)
            } else {
                // Short ids come in increasing packed order.
                while at < every.short.len() && every.short[at] < p {
                    at += 1;
                }
                every.short.get(at) == Some(&p)
            };
            if !known {
                let row = b.row(r);
                out.push((r.line, row.id.to_string(), no_institution(row.inst)));
            }
        }
        out
    }
}

/// What staging a record gives: a storage error, the record's problems, or done.
pub type Staging = Result<Result<(), Vec<FieldError>>, LedgerError>;

/// An id as an integer that orders as its bytes do: up to 15 bytes and the
/// length (which keeps "A" and "A\0" apart), or, for a longer id, its first
/// 15 bytes and 0xFF, after every length as a longer text sorts after its
/// prefix. Equal integers are equal ids unless [`packed_is_long`].
pub fn pack_id(b: &[u8]) -> u128 {
    let mut p = [0u8; 16];
    let n = b.len().min(15);
    p[..n].copy_from_slice(&b[..n]);
    p[15] = if b.len() <= 15 { b.len() as u8 } else { 0xFF };
    u128::from_be_bytes(p)
}

/// Whether [`pack_id`] kept only the first 15 bytes.
pub fn packed_is_long(p: u128) -> bool {
    p as u8 == 0xFF
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(b: &Batch, order: &[u32]) -> Vec<(String, String)> {
        b.in_order(order)
            .map(|r| (r.inst.to_string(), r.id.to_string()))
            .collect()
    }

    #[test]
    fn a_batch_sorts_by_institution_then_id_and_separately_by_id() {
        let mut b = Batch::default();
        // Ids longer than the 16-byte prefixes the sort compares first, equal
        // in those 16 bytes, and ids that are prefixes of each other.
        let rows = [
            ("I2", "F-0000000000000000-b"),
            ("I1", "F-0000000000000000-a"),
            ("I10", "F-1"),
            ("I1", "F-0000000000000000"),
            ("I2", "F-0000000000000000-a"),
            ("I1", "F-"),
            ("机构甲", "F-2"),
            ("GZ-0000000000000-B", "F1"),
            ("GZ-0000000000000-A", "F2"),
            ("GZ-0000000000000", "F3"),
        ];
        for (inst, id) in rows {
            b.push(inst, id, [b"x", b""], None);
        }
        b.sort();
        let mut want: Vec<(String, String)> = rows
            .iter()
            .map(|(i, d)| (i.to_string(), d.to_string()))
            .collect();
        want.sort();
        assert_eq!(keys(&b, &b.by_key), want);
        let ids: Vec<String> = keys(&b, &b.by_id).into_iter().map(|k| k.1).collect();
        let mut want_ids: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
        want_ids.sort();
        assert_eq!(ids, want_ids);
    }

    #[test]
    fn a_batch_row_gives_back_what_was_pushed() {
        let mut b = Batch::default();
        b.push("I1", "F1", [b"ne", b"w"], Some(("I0", b"old bytes")));
        b.push("I2", "F2", [b"", b""], None);
        b.sort();
        let rows: Vec<Staged> = b.in_order(&b.by_key).collect();
        assert_eq!(
            (rows[0].inst, rows[0].id, rows[0].enc),
            ("I1", "F1", &b"new"[..])
        );
        assert_eq!(rows[0].prev, Some(("I0", &b"old bytes"[..])));
        assert_eq!((rows[1].inst, rows[1].id, rows[1].prev), ("I2", "F2", None));
    }

    #[test]
    fn new_institutions_give_back_what_was_pushed_in_id_order() {
        let mut n = NewInstitutions::default();
        n.push("GZ-2", b"record two", b"s2");
        n.push("GZ-10", b"", b"status ten");
        n.push("GZ-1", b"record one", b"");
        let mut taken = n.take();
        assert!(n.is_empty() && n.buf.capacity() >= taken.buf.len());
        taken.sort();
        let rows: Vec<_> = taken.iter().collect();
        assert_eq!(
            rows,
            [
                ("GZ-1", &b"record one"[..], &b""[..]),
                ("GZ-10", &b""[..], &b"status ten"[..]),
                ("GZ-2", &b"record two"[..], &b"s2"[..]),
            ]
        );
        assert_eq!(taken.len(), 3);
    }
}
