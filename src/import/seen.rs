//! The ids of a file's rows so far, to refuse one that repeats, in memory
//! that does not grow with the file.
//!
//! Files mostly come in id order (exports, spreadsheets sorted by their first
//! column): an id above every one before it cannot repeat, so it is appended
//! to a sorted list; the others are kept in a hash map. Both together hold at
//! most [`IN_MEMORY`] ids. When they are full they are written to a temporary
//! file as two sorted runs and emptied. An id at or below the greatest one
//! written out may repeat one of them: that is only known at the end, when
//! [`SeenIds::finish`] merges the runs. A file in id order never needs the
//! merge, whatever its size.

use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;

use sha2::{Digest, Sha256};

use crate::ledger::{pack_id, packed_is_long};

/// Ids held in memory before they are written out: 7/8 of 2^19, the most a
/// hash map of 2^19 slots holds, so the map stays at 11 MB (2^19 slots of a
/// 16-byte key, a 4-byte line and a control byte) and the sorted list at 9 MB.
pub(super) const IN_MEMORY: usize = 458_752;

/// One id as 16 bytes: its [`pack_id`] if it has up to 15 bytes, else the
/// first 15 bytes of its SHA-256 and 0xFF (which no packed id ends with). Two
/// different long ids share a key with a chance of about n²/2^121 among n of
/// them (10^-24 for a million); the cost of that would be a file refused for a
/// repeat it does not have, never a repeat let through.
fn key(id: &str) -> u128 {
    let k = pack_id(id.as_bytes());
    if !packed_is_long(k) {
        return k;
    }
    let h = Sha256::digest(id.as_bytes());
    let mut b = [0xFF; 16];
    b[..15].copy_from_slice(&h[..15]);
    u128::from_be_bytes(b)
}

/// The text of a short id back from its key.
fn unpack(k: u128) -> String {
    let b = k.to_be_bytes();
    String::from_utf8_lossy(&b[..(b[15] as usize).min(15)]).into_owned()
}

/// A repeat [`SeenIds::finish`] found: the id, the line it repeats on and the
/// first line it was on.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Repeat {
    pub id: String,
    pub line: u32,
    pub first: u32,
}

#[cfg(test)]
thread_local! {
    /// [`IN_MEMORY`] for the imports a test runs on its thread, to write
    /// ids out without a file of a million rows.
    pub(super) static TEST_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(IN_MEMORY) };
}

/// See the module's documentation.
pub(super) struct SeenIds {
    /// Increasing, with `lines` alongside.
    sorted: Vec<u128>,
    lines: Vec<u32>,
    /// Ids that came out of order (big-endian keys, which need no 16-byte alignment).
    other: rustc_hash::FxHashMap<[u8; 16], u32>,
    spill: Option<Spill>,
    /// An id recorded since the first spill was at or below the greatest one
    /// written out, so the runs must be merged at the end.
    unresolved: bool,
    /// [`IN_MEMORY`], smaller in tests.
    limit: usize,
}

/// The temporary file runs are written to, and the ids over 15 bytes with
/// their lines (so a repeat found at the end can name its id).
struct Spill {
    runs: BufWriter<File>,
    /// Each run's first entry and its length, in entries.
    bounds: Vec<(u64, u64)>,
    entries: u64,
    /// The greatest key written out.
    max: u128,
    long: BufWriter<File>,
}

/// An entry of a run: the key big-endian, then the line little-endian.
const ENTRY: usize = 20;

impl Spill {
    fn new() -> io::Result<Spill> {
        Ok(Spill {
            runs: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            bounds: Vec::new(),
            entries: 0,
            max: 0,
            long: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
        })
    }

    /// Writes entries in increasing order of key as one run.
    fn run(&mut self, entries: impl Iterator<Item = (u128, u32)>) -> io::Result<()> {
        let start = self.entries;
        for (k, line) in entries {
            self.runs.write_all(&k.to_be_bytes())?;
            self.runs.write_all(&line.to_le_bytes())?;
            self.max = self.max.max(k);
            self.entries += 1;
        }
        if self.entries > start {
            self.bounds.push((start, self.entries - start));
        }
        Ok(())
    }
}

/// Reads one run back, a block at a time.
struct RunReader<'a> {
    file: &'a File,
    next: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl RunReader<'_> {
    fn next(&mut self) -> io::Result<Option<(u128, u32)>> {
        if self.pos == self.buf.len() {
            let n = (self.end - self.next).min(4096);
            if n == 0 {
                return Ok(None);
            }
            self.buf.resize(n as usize * ENTRY, 0);
            self.file
                .read_exact_at(&mut self.buf, self.next * ENTRY as u64)?;
            self.next += n;
            self.pos = 0;
        }
        let e = &self.buf[self.pos..self.pos + ENTRY];
        self.pos += ENTRY;
        let k = u128::from_be_bytes(e[..16].try_into().unwrap());
        let line = u32::from_le_bytes(e[16..].try_into().unwrap());
        Ok(Some((k, line)))
    }
}

impl SeenIds {
    /// Room for `n` ids in order before the list grows (at most [`IN_MEMORY`]).
    pub(super) fn with_capacity(n: usize) -> Self {
        #[cfg(test)]
        let limit = TEST_LIMIT.get();
        #[cfg(not(test))]
        let limit = IN_MEMORY;
        Self::with_limit(n, limit)
    }

    fn with_limit(n: usize, limit: usize) -> Self {
        let n = n.min(limit);
        SeenIds {
            sorted: Vec::with_capacity(n),
            lines: Vec::with_capacity(n),
            other: Default::default(),
            spill: None,
            unresolved: false,
            limit,
        }
    }

    /// Records `id` on `line`; if it was seen before among the ids still in
    /// memory, the line it was first on there. A repeat of an id already
    /// written out is found by [`SeenIds::finish`].
    pub(super) fn first_line(&mut self, id: &str, line: u64) -> io::Result<Option<u32>> {
        // Lines past 4,294,967,295 are remembered as that (a 4 GB file of empty rows).
        let line = line.min(u32::MAX as u64) as u32;
        let k = key(id);
        if let Some(s) = &mut self.spill {
            self.unresolved |= k <= s.max;
        }
        if self.sorted.last().is_none_or(|&last| k > last) {
            self.sorted.push(k);
            self.lines.push(line);
        } else if let Ok(i) = self.sorted.binary_search(&k) {
            return Ok(Some(self.lines[i]));
        } else {
            match self.other.entry(k.to_be_bytes()) {
                Entry::Occupied(e) => return Ok(Some(*e.get())),
                Entry::Vacant(e) => {
                    e.insert(line);
                }
            }
        }
        if packed_is_long(k) {
            if self.spill.is_none() {
                self.spill = Some(Spill::new()?);
            }
            let long = &mut self.spill.as_mut().unwrap().long;
            long.write_all(&line.to_le_bytes())?;
            long.write_all(&(id.len() as u32).to_le_bytes())?;
            long.write_all(id.as_bytes())?;
        }
        if self.sorted.len() + self.other.len() >= self.limit {
            self.write_out()?;
        }
        Ok(None)
    }

    /// Writes the ids in memory out as two runs and empties the list and the map.
    fn write_out(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            self.spill = Some(Spill::new()?);
        }
        let s = self.spill.as_mut().unwrap();
        s.run(self.sorted.iter().copied().zip(self.lines.iter().copied()))?;
        // The map keeps its table for the next ids; its entries are sorted
        // in a list of 20-byte entries, 18 MB at most.
        let mut rest: Vec<([u8; 16], u32)> = self.other.drain().collect();
        rest.sort_unstable_by_key(|e| e.0);
        s.run(rest.into_iter().map(|(k, l)| (u128::from_be_bytes(k), l)))?;
        self.sorted.clear();
        self.lines.clear();
        Ok(())
    }

    /// The repeats of ids written out that [`SeenIds::first_line`] could not
    /// see, in order of line, each with the first line its id was on.
    pub(super) fn finish(mut self) -> io::Result<Vec<Repeat>> {
        let mut repeats = Vec::new();
        if self.spill.is_none() || !self.unresolved {
            return Ok(repeats);
        }
        self.write_out()?;
        let s = self.spill.take().unwrap();
        let runs = s.runs.into_inner().map_err(|e| e.into_error())?;
        let mut readers: Vec<RunReader> = s
            .bounds
            .iter()
            .map(|&(start, len)| RunReader {
                file: &runs,
                next: start,
                end: start + len,
                buf: Vec::new(),
                pos: 0,
            })
            .collect();
        // A k-way merge: equal keys come out together, one from each run that has it.
        let mut heap = std::collections::BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((k, line)) = r.next()? {
                heap.push(std::cmp::Reverse((k, line, i)));
            }
        }
        // Entries come out in order of key, then of line: the first of a
        // key is the line its id was first on.
        let mut first: Option<(u128, u32)> = None;
        while let Some(std::cmp::Reverse((k, line, i))) = heap.pop() {
            match first {
                Some((fk, fl)) if fk == k => repeats.push(Repeat {
                    // A long id is named below, from the file of long ids.
                    id: if packed_is_long(k) {
                        String::new()
                    } else {
                        unpack(k)
                    },
                    line,
                    first: fl,
                }),
                _ => first = Some((k, line)),
            }
            if let Some((k, line)) = readers[i].next()? {
                heap.push(std::cmp::Reverse((k, line, i)));
            }
        }
        if repeats.iter().any(|r| r.id.is_empty()) {
            let wanted: rustc_hash::FxHashSet<u32> = repeats
                .iter()
                .filter(|r| r.id.is_empty())
                .map(|r| r.line)
                .collect();
            let mut names = rustc_hash::FxHashMap::default();
            let mut long = s.long.into_inner().map_err(|e| e.into_error())?;
            let end = io::Seek::seek(&mut long, io::SeekFrom::Current(0))?;
            let mut r = io::BufReader::new(&long);
            io::Seek::seek(&mut r, io::SeekFrom::Start(0))?;
            let (mut at, mut head) = (0, [0u8; 8]);
            while at < end {
                r.read_exact(&mut head)?;
                let line = u32::from_le_bytes(head[..4].try_into().unwrap());
                let len = u32::from_le_bytes(head[4..].try_into().unwrap()) as usize;
                let mut id = vec![0u8; len];
                r.read_exact(&mut id)?;
                at += 8 + len as u64;
                if wanted.contains(&line) {
                    names.insert(line, String::from_utf8_lossy(&id).into_owned());
                }
            }
            for rep in repeats.iter_mut().filter(|r| r.id.is_empty()) {
                rep.id = names.remove(&rep.line).unwrap_or_default();
            }
        }
        repeats.sort_unstable_by_key(|r| r.line);
        Ok(repeats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_id_is_found_in_any_order_with_the_line_it_was_first_on() {
        let mut seen = SeenIds::with_capacity(0);
        let long = "F-2019-0000000000000001"; // too long to pack
        let rows = [
            ("F2", None),
            ("F3", None),
            ("F1", None), // out of order: kept aside
            ("F3", Some(2)),
            ("F1", Some(3)),
            ("F10", None), // out of order ("F10" < "F3")
            ("F10", Some(6)),
            (long, None),
            ("F4", None), // in order again
            (long, Some(8)),
            ("F2", Some(1)),
            ("F4", Some(9)),
        ];
        for (n, (id, want)) in rows.iter().enumerate() {
            assert_eq!(
                seen.first_line(id, n as u64 + 1).unwrap(),
                *want,
                "line {}: {id}",
                n + 1
            );
        }
        let repeats = seen.finish().unwrap();
        assert!(repeats.is_empty(), "nothing was written out: {repeats:?}");
    }

    /// With room for four ids in memory, repeats of ids written out in
    /// every way: in order, out of order, long, and met a third time.
    #[test]
    fn a_repeat_of_an_id_written_out_is_found_at_the_end() {
        let long = |i: u32| format!("APPLICATION-{i:012}");
        let mut seen = SeenIds::with_limit(0, 4);
        let rows: Vec<(String, Option<u32>)> = vec![
            ("F01".into(), None),
            ("F03".into(), None),
            (long(1), None),
            ("F02".into(), None), // written out with lines 1-4
            ("F05".into(), None),
            ("F02".into(), None),    // a repeat of line 4, found at the end
            ("F02".into(), Some(6)), // found at once, told line 6
            ("F06".into(), None),
            (long(1), None), // a repeat of line 3, found at the end; written out with lines 5-9
            ("F07".into(), None),
            ("F08".into(), None),
        ];
        for (n, (id, want)) in rows.iter().enumerate() {
            assert_eq!(
                seen.first_line(id, n as u64 + 1).unwrap(),
                *want,
                "line {}: {id}",
                n + 1
            );
        }
        let repeats = seen.finish().unwrap();
        let repeat = |id: &str, line, first| Repeat {
            id: id.into(),
            line,
            first,
        };
        assert_eq!(repeats, vec![repeat("F02", 6, 4), repeat(&long(1), 9, 3)]);
    }

    #[test]
    fn a_file_in_id_order_is_never_merged() {
        let mut seen = SeenIds::with_limit(0, 1000);
        for i in 0..3500 {
            assert_eq!(seen.first_line(&format!("I{i:010}"), i + 1).unwrap(), None);
        }
        assert!(seen.spill.is_some());
        assert!(!seen.unresolved);
        assert!(seen.finish().unwrap().is_empty());
    }
}
