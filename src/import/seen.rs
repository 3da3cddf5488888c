//! The ids of a file's rows so far, to refuse one that repeats, in memory
//! that does not grow with the file.
//!
//! Files mostly come in id order (exports, spreadsheets sorted by their first
//! column): an id above every one before it cannot repeat, so it is appended
//! to a sorted list; the others are kept in a hash map. Both together hold at
//! most [`IN_MEMORY`] ids. When they are full they are written to a temporary
//! file as two sorted runs and emptied. An id at or below the greatest one
//! written out may repeat one of them: that is only known at the end, when
//! [`SeenIds::finish`] merges the runs. A file in id order whose ids have at
//! most 15 bytes never needs the merge, whatever its size (longer ids are
//! keyed by a hash, in no order). Runs carry the text of long ids, so a
//! repeat found at the end is named.

use std::collections::hash_map::Entry;
use std::fs::File;
use std::io;

use sha2::{Digest, Sha256};

use super::runs::{run_reader, RunReader, RunWriter};
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
    /// The text of every id over 15 bytes held, so that a run can name it.
    long: rustc_hash::FxHashMap<[u8; 16], Box<str>>,
    /// Ids held, a long one counting as [`LONG_WEIGHT`].
    held: usize,
    spill: Option<Spill>,
    /// An id recorded since the first spill was at or below the greatest one
    /// written out, so the runs must be merged at the end.
    unresolved: bool,
    /// [`IN_MEMORY`], smaller in tests; unbounded once the temporary file
    /// cannot be written (the ids then stay in memory, and repeats are still found).
    limit: usize,
}

/// What a long id weighs against [`IN_MEMORY`]: its text and map entry
/// take about four times what a short id does.
const LONG_WEIGHT: usize = 4;

/// Writes entries in increasing order of key as a run: each a 16-byte key
/// (big-endian), a 4-byte line and, for a long id, its text.
fn write_run(
    w: &mut RunWriter<'_>,
    entries: impl Iterator<Item = (u128, u32)>,
    long: &rustc_hash::FxHashMap<[u8; 16], Box<str>>,
    max: &mut u128,
) -> io::Result<()> {
    for (k, line) in entries {
        w.put(&k.to_be_bytes())?;
        w.put(&line.to_le_bytes())?;
        if packed_is_long(k) {
            w.put_text(long.get(&k.to_be_bytes()).map_or("", |t| t))?;
        }
        *max = (*max).max(k);
    }
    Ok(())
}

/// The next key, line and, for a long id, its text, of a run.
fn next_entry(r: &mut RunReader<'_>) -> io::Result<Option<(u128, u32, Option<String>)>> {
    if r.is_done() {
        return Ok(None);
    }
    let k = u128::from_be_bytes(r.array()?);
    let line = u32::from_le_bytes(r.array()?);
    let text = if packed_is_long(k) {
        Some(r.text()?)
    } else {
        None
    };
    Ok(Some((k, line, text)))
}

/// The temporary file runs are written to.
struct Spill {
    file: File,
    /// Each run's first byte and length in bytes.
    bounds: Vec<(u64, u64)>,
    /// The greatest key written out.
    max: u128,
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
            long: Default::default(),
            held: 0,
            spill: None,
            unresolved: false,
            limit,
        }
    }

    /// Records `id` on `line`; if it was seen before among the ids still in
    /// memory, the line it was last recorded on. A repeat of an id already
    /// written out is found by [`SeenIds::finish`].
    pub(super) fn first_line(&mut self, id: &str, line: u64) -> Option<u32> {
        // Lines past 4,294,967,295 are remembered as that (a 4 GB file of empty rows).
        let line = line.min(u32::MAX as u64) as u32;
        let k = key(id);
        if let Some(s) = &self.spill {
            self.unresolved |= k <= s.max;
        }
        if self.sorted.last().is_none_or(|&last| k > last) {
            self.sorted.push(k);
            self.lines.push(line);
        } else if let Ok(i) = self.sorted.binary_search(&k) {
            return Some(self.lines[i]);
        } else {
            match self.other.entry(k.to_be_bytes()) {
                Entry::Occupied(e) => return Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(line);
                }
            }
        }
        self.held += 1;
        if packed_is_long(k) {
            self.long.insert(k.to_be_bytes(), id.into());
            self.held += LONG_WEIGHT - 1;
        }
        if self.held >= self.limit && self.write_out().is_err() {
            self.limit = usize::MAX;
        }
        None
    }

    /// Writes the ids in memory out as two runs and empties the list and
    /// the maps; if that fails, leaves them as they were.
    fn write_out(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            self.spill = Some(Spill {
                file: tempfile::tempfile()?,
                bounds: Vec::new(),
                max: 0,
            });
        }
        let s = self.spill.as_mut().unwrap();
        // The map's entries sorted: 20 bytes each, 9 MB at most.
        let mut rest: Vec<([u8; 16], u32)> = self.other.iter().map(|(k, l)| (*k, *l)).collect();
        rest.sort_unstable_by_key(|e| e.0);
        let mut max = s.max;
        let start = s.bounds.last().map_or(0, |&(at, len)| at + len);
        let mut w = RunWriter::new(&s.file, start);
        let ordered = self.sorted.iter().copied().zip(self.lines.iter().copied());
        write_run(&mut w, ordered, &self.long, &mut max)?;
        let first = w.finish()?;
        let mut w = RunWriter::new(&s.file, first.0 + first.1);
        let others = rest.iter().map(|&(k, l)| (u128::from_be_bytes(k), l));
        write_run(&mut w, others, &self.long, &mut max)?;
        let second = w.finish()?;
        // Only now, with both runs on disk, are they counted.
        s.bounds
            .extend([first, second].into_iter().filter(|r| r.1 > 0));
        s.max = max;
        self.sorted.clear();
        self.lines.clear();
        // The map keeps its table for the next ids.
        self.other.clear();
        self.long.clear();
        self.held = 0;
        Ok(())
    }

    /// Calls `found` with each repeat of an id written out that
    /// [`SeenIds::first_line`] could not see, with the first line its id was
    /// on, in order of id.
    pub(super) fn finish(mut self, mut found: impl FnMut(Repeat)) -> io::Result<()> {
        if self.spill.is_none() || !self.unresolved {
            return Ok(());
        }
        self.write_out()?;
        // Nothing more is held in memory while the runs are merged.
        (self.sorted, self.lines, self.other, self.long) = Default::default();
        let s = self.spill.take().unwrap();
        let mut readers: Vec<RunReader> = s
            .bounds
            .iter()
            .map(|&(start, len)| run_reader(&s.file, start, len))
            .collect();
        // A k-way merge: entries come out in order of key, then of line, so
        // the first of a key is the line its id was first on. A run holds a
        // key at most once.
        let mut heap = std::collections::BinaryHeap::new();
        let mut texts: Vec<Option<String>> = vec![None; readers.len()];
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((k, line, text)) = next_entry(r)? {
                texts[i] = text;
                heap.push(std::cmp::Reverse((k, line, i)));
            }
        }
        let mut first: Option<(u128, u32)> = None;
        while let Some(std::cmp::Reverse((k, line, i))) = heap.pop() {
            let text = texts[i].take();
            match first {
                Some((fk, fl)) if fk == k => found(Repeat {
                    id: text.unwrap_or_else(|| unpack(k)),
                    line,
                    first: fl,
                }),
                _ => first = Some((k, line)),
            }
            if let Some((k, line, text)) = next_entry(&mut readers[i])? {
                texts[i] = text;
                heap.push(std::cmp::Reverse((k, line, i)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finish(seen: SeenIds) -> Vec<Repeat> {
        let mut v = Vec::new();
        seen.finish(|r| v.push(r)).unwrap();
        v.sort_by_key(|r| r.line);
        v
    }

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
                seen.first_line(id, n as u64 + 1),
                *want,
                "line {}: {id}",
                n + 1
            );
        }
        let repeats = finish(seen);
        assert!(repeats.is_empty(), "nothing was written out: {repeats:?}");
    }

    /// With room for six ids in memory (a long one counts four), repeats of
    /// ids written out in every way: in order, out of order, long, and met
    /// a third time.
    #[test]
    fn a_repeat_of_an_id_written_out_is_found_at_the_end() {
        let long = "APPLICATION-000000000001";
        let mut seen = SeenIds::with_limit(0, 6);
        let rows = [
            ("F01", None),
            ("F03", None),
            (long, None), // written out with lines 1-3
            ("F02", None),
            ("F05", None),
            ("F01", None),    // a repeat of line 1, found at the end
            ("F01", Some(6)), // found at once, told line 6
            (long, None),     // a repeat of line 3, found at the end; written out with lines 4-8
            ("F07", None),
            ("F02", None), // a repeat of line 4, found at the end
            ("F08", None),
        ];
        for (n, (id, want)) in rows.iter().enumerate() {
            assert_eq!(
                seen.first_line(id, n as u64 + 1),
                *want,
                "line {}: {id}",
                n + 1
            );
        }
        let repeat = |id: &str, line, first| Repeat {
            id: id.into(),
            line,
            first,
        };
        assert_eq!(
            finish(seen),
            vec![
                repeat("F01", 6, 1),
                repeat(long, 8, 3),
                repeat("F02", 10, 4)
            ]
        );
    }

    #[test]
    fn a_file_in_id_order_is_never_merged() {
        let mut seen = SeenIds::with_limit(0, 1000);
        for i in 0..3500 {
            assert_eq!(seen.first_line(&format!("I{i:010}"), i + 1), None);
        }
        assert!(seen.spill.as_ref().is_some_and(|s| s.bounds.len() == 3));
        assert!(!seen.unresolved);
        assert!(finish(seen).is_empty());
    }
}
