//! A large import's records written in one pass in key order: each staged
//! [`Batch`] goes to a temporary file as a sorted run ([`Spill`]), and
//! [`Tx::write_spilled`] merges the runs into the table at the end.
//!
//! Why: a file's records arrive in no order of the table's key (findings in
//! the order they were opened, for institutions all over the table), so
//! every chunk written straight into the B-tree touches nearly every leaf
//! of it. Once the table is larger than the page cache, each chunk reads
//! back and writes out again the pages the previous one touched: with ten
//! million findings, 38 chunks each rewriting the whole table, 20 times the
//! work of a million where the table fits. Merged, each leaf is written once.
//!
//! The temporary file is unnamed (gone when the process ends, however it
//! ends), and nothing is in the ledger's transaction until the merge: the
//! import still commits once, or not at all.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use redb::Value;

use super::bulk::Batch;
use super::seal::Bytes;
use super::state::{InOrder, Prehashed};
use super::{LedgerError, Tx};
use crate::model::RecordKind;
use crate::runfile::RunReader;

/// A record table's key.
type Key2 = (&'static str, &'static str);

/// Bytes each run reads at a time: 40 runs (ten million findings) read side
/// by side take 10 MB.
const BLOCK: usize = 256 << 10;

/// A row's lengths: institution, id, stored bytes.
const HEADER: usize = 12;

/// Sorted runs of one kind's records in a temporary file.
pub struct Spill {
    kind: RecordKind,
    out: BufWriter<File>,
    /// Each run's start and length in the file.
    runs: Vec<(u64, u64)>,
    len: u64,
    /// The state digest's hashes of every record written, summed on the
    /// writing thread while the parser works, not in the merge.
    hashed: Prehashed,
}

impl Spill {
    /// An empty spill in a new temporary file (in `TMPDIR`).
    pub fn new(kind: RecordKind) -> Result<Spill, LedgerError> {
        let file = tempfile::tempfile().map_err(temp_error)?;
        Ok(Spill {
            kind,
            out: BufWriter::with_capacity(BLOCK, file),
            runs: Vec::new(),
            len: 0,
            hashed: Prehashed::default(),
        })
    }

    /// Runs written so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Appends `b`'s rows, in key order, as one run, and adds their hashes
    /// as the state digest of the table named `table` takes them.
    pub(super) fn add_run(
        &mut self,
        kind: RecordKind,
        table: &str,
        b: &Batch,
    ) -> Result<(), LedgerError> {
        assert_eq!(kind, self.kind, "a spill holds one kind");
        let start = self.len;
        for r in b.in_order(&b.by_key) {
            let key = <Key2 as Value>::as_bytes(&(r.inst, r.id));
            self.hashed.add(table, &key, r.enc);
            let lens = [r.inst.len() as u32, r.id.len() as u32, r.enc.len() as u32];
            let mut head = [0u8; HEADER];
            for (i, l) in lens.iter().enumerate() {
                head[i * 4..i * 4 + 4].copy_from_slice(&l.to_le_bytes());
            }
            let parts: [&[u8]; 4] = [&head, r.inst.as_bytes(), r.id.as_bytes(), r.enc];
            for p in parts {
                self.out.write_all(p).map_err(temp_error)?;
                self.len += p.len() as u64;
            }
        }
        if self.len > start {
            self.runs.push((start, self.len - start));
        }
        Ok(())
    }
}

fn temp_error(e: io::Error) -> LedgerError {
    LedgerError::Storage(format!(
        "cannot use a temporary file in {}: {e} (point TMPDIR at a directory with room)",
        std::env::temp_dir().display()
    ))
}

/// One run read back a block at a time, holding its current row.
struct Cursor<'f> {
    run: RunReader<'f>,
    /// The current row: its lengths and where its bytes start in the
    /// reader's bytes.
    lens: [u32; 3],
    row: usize,
}

impl<'f> Cursor<'f> {
    fn new(file: &'f File, (start, len): (u64, u64)) -> Self {
        Cursor {
            run: RunReader::new(file, start, len, BLOCK),
            lens: [0; 3],
            row: 0,
        }
    }

    /// Moves to the next row; false at the end of the run.
    fn advance(&mut self) -> io::Result<bool> {
        if self.run.is_done() {
            return Ok(false);
        }
        let head = self.run.take(HEADER)?;
        for (i, l) in self.lens.iter_mut().enumerate() {
            let b = &head[i * 4..i * 4 + 4];
            *l = u32::from_le_bytes(b.try_into().expect("4 bytes"));
        }
        let body: usize = self.lens.iter().map(|&l| l as usize).sum();
        self.row = self.run.take_range(body)?.start;
        Ok(true)
    }

    fn part(&self, i: usize) -> &[u8] {
        let from = self.row + self.lens[..i].iter().map(|&l| l as usize).sum::<usize>();
        &self.run.bytes()[from..from + self.lens[i] as usize]
    }

    /// The current row's key, as bytes (the order `Batch::sort` used).
    fn key(&self) -> (&[u8], &[u8]) {
        (self.part(0), self.part(1))
    }

    fn text(&self, i: usize) -> &str {
        // SAFETY: written by `add_run` from `&str`s, whole.
        unsafe { std::str::from_utf8_unchecked(self.part(i)) }
    }
}

/// A binary min-heap of cursor positions, ordered by their current keys.
fn sift_down(heap: &mut [usize], cursors: &[Cursor], mut i: usize) {
    loop {
        let less = |a: usize, b: usize| cursors[heap[a]].key() < cursors[heap[b]].key();
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut m = i;
        if l < heap.len() && less(l, m) {
            m = l;
        }
        if r < heap.len() && less(r, m) {
            m = r;
        }
        if m == i {
            return;
        }
        heap.swap(i, m);
        i = m;
    }
}

/// The rows of every run, merged in key order.
struct Merge<'f> {
    cursors: Vec<Cursor<'f>>,
    /// Positions in `cursors`, a heap by their current keys.
    heap: Vec<usize>,
}

impl InOrder<Key2, Bytes> for Merge<'_> {
    fn current(&self) -> Option<((&str, &str), &[u8])> {
        self.heap.first().map(|&top| {
            let c = &self.cursors[top];
            ((c.text(0), c.text(1)), c.part(2))
        })
    }

    fn advance(&mut self) -> Result<(), LedgerError> {
        if let Some(&top) = self.heap.first() {
            if !self.cursors[top].advance().map_err(temp_error)? {
                self.heap.swap_remove(0);
            }
            sift_down(&mut self.heap, &self.cursors, 0);
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// Writes every record of `spill` into its table, merging the runs so
    /// that the table is written in key order once.
    pub fn write_spilled(&mut self, spill: Spill) -> Result<(), LedgerError> {
        let Spill {
            kind,
            out,
            runs,
            hashed,
            ..
        } = spill;
        let file = out.into_inner().map_err(|e| temp_error(e.into_error()))?;
        let data = match kind {
            RecordKind::Inspections => &mut self.inspections,
            RecordKind::Findings => &mut self.findings,
            RecordKind::Applications => &mut self.applications,
            RecordKind::Courses => &mut self.courses,
            RecordKind::Institutions => panic!("institutions are not spilled"),
        };
        let mut cursors = Vec::with_capacity(runs.len());
        for r in runs {
            let mut c = Cursor::new(&file, r);
            if c.advance().map_err(temp_error)? {
                cursors.push(c);
            }
        }
        let mut heap: Vec<usize> = (0..cursors.len()).collect();
        for i in (0..heap.len() / 2).rev() {
            sift_down(&mut heap, &cursors, i);
        }
        let mut merge = Merge { cursors, heap };
        data.insert_in_order(&mut merge, hashed)
    }
}
