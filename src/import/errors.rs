//! The bad rows of a file, every one of them, in memory that does not grow
//! with the file: a file of a million rows each with two errors would
//! otherwise hold 300 MB of them before printing a line.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;

use super::runs::{run_reader, RunReader, RunWriter};

/// One problem in one row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row number: a line of a JSON Lines file, a row as Excel counts
    /// them in a CSV or spreadsheet file.
    pub line: u64,
    /// The record's id as the row gives it ("" if it has none).
    pub id: String,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// Errors held in memory before they are written to a temporary file as a
/// run in order of line (about 10 MB of them).
const IN_MEMORY: usize = 65_536;

/// Or fewer, if their texts are long (a value can be a whole cell).
const MEM_BYTES: usize = 16 << 20;

#[cfg(test)]
thread_local! {
    /// [`IN_MEMORY`] for the imports a test runs on its thread.
    pub(super) static TEST_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(IN_MEMORY) };
}

/// Every error of a file, in order of line when read: those in memory and
/// runs written to a temporary file.
#[derive(Debug, Default)]
pub struct RowErrors {
    mem: Vec<RowError>,
    /// About the bytes `mem` takes.
    mem_bytes: usize,
    /// The file runs are written to, once there is one.
    file: Option<File>,
    /// Each run's first byte and length in bytes.
    runs: Vec<(u64, u64)>,
    len: u64,
    /// [`IN_MEMORY`], smaller in tests.
    limit: usize,
}

impl RowErrors {
    pub(super) fn new() -> Self {
        #[cfg(test)]
        let limit = TEST_LIMIT.get();
        #[cfg(not(test))]
        let limit = IN_MEMORY;
        Self::with_limit(limit)
    }

    fn with_limit(limit: usize) -> Self {
        RowErrors {
            limit,
            ..Default::default()
        }
    }

    /// How many errors there are.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an error. If the temporary file cannot be written, the errors
    /// stay in memory from then on: all of them are still reported.
    pub(super) fn push(&mut self, e: RowError) {
        self.mem_bytes += std::mem::size_of::<RowError>()
            + e.id.len()
            + e.field.len()
            + e.value.len()
            + e.reason.len();
        self.mem.push(e);
        self.len += 1;
        let full = self.mem.len() >= self.limit || self.mem_bytes >= MEM_BYTES;
        if full && self.write_out().is_err() {
            self.limit = usize::MAX;
        }
    }

    /// Writes the errors in memory out as one run, or leaves them there if
    /// it cannot.
    fn write_out(&mut self) -> io::Result<()> {
        // Stable: a row's errors keep the order they were found in.
        self.mem.sort_by_key(|e| e.line);
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let start = self.runs.last().map_or(0, |&(at, len)| at + len);
        let mut w = RunWriter::new(self.file.as_ref().unwrap(), start);
        for e in &self.mem {
            w.put(&e.line.to_le_bytes())?;
            for s in [&e.id, &e.field, &e.value, &e.reason] {
                w.put_text(s)?;
            }
        }
        // Counted only once all of it is written.
        self.runs.push(w.finish()?);
        self.mem.clear();
        self.mem_bytes = 0;
        Ok(())
    }

    /// Ends adding: afterwards the errors are read in order of line.
    pub(super) fn finish(&mut self) {
        self.mem.sort_by_key(|e| e.line);
    }

    /// Calls `f` with every error in order of line (a row's own in the order
    /// they were found).
    pub fn for_each(&self, mut f: impl FnMut(&RowError) -> fmt::Result) -> io::Result<fmt::Result> {
        let mut runs: Vec<RunReader> = match &self.file {
            Some(f) => self
                .runs
                .iter()
                .map(|&(at, len)| run_reader(f, at, len))
                .collect(),
            None => Vec::new(),
        };
        // The heads of the runs, least line first, ties to the earlier run;
        // then the errors in memory (found last).
        let mut heads: Vec<Option<RowError>> = Vec::with_capacity(runs.len());
        let mut heap = std::collections::BinaryHeap::new();
        for (i, r) in runs.iter_mut().enumerate() {
            let h = next_error(r)?;
            if let Some(e) = &h {
                heap.push(std::cmp::Reverse((e.line, i)));
            }
            heads.push(h);
        }
        let mut mem = self.mem.iter().peekable();
        loop {
            let from_mem = match (heap.peek(), mem.peek()) {
                (None, None) => return Ok(Ok(())),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(std::cmp::Reverse((line, _))), Some(m)) => m.line < *line,
            };
            let r = if from_mem {
                f(mem.next().unwrap())
            } else {
                let std::cmp::Reverse((_, b)) = heap.pop().unwrap();
                let next = next_error(&mut runs[b])?;
                if let Some(e) = &next {
                    heap.push(std::cmp::Reverse((e.line, b)));
                }
                let e = std::mem::replace(&mut heads[b], next);
                f(e.as_ref().unwrap())
            };
            if r.is_err() {
                return Ok(r);
            }
        }
    }

    /// The errors as a list (for tests and small files).
    pub fn to_vec(&self) -> io::Result<Vec<RowError>> {
        let mut v = Vec::new();
        // The closure never fails, so neither does the walk but for reading.
        let _ = self.for_each(|e| {
            v.push(e.clone());
            Ok(())
        })?;
        Ok(v)
    }

    /// Writes every error as `path:line: field = "value": reason`, then a
    /// line that counts them.
    pub(super) fn render(&self, path: &Path, rows: u64, w: &mut dyn fmt::Write) -> fmt::Result {
        let mut lines = 0u64;
        let mut last = None;
        let read = self.for_each(|e| {
            if last != Some(e.line) {
                lines += 1;
                last = Some(e.line);
            }
            // The record's id too, unless the value shown is that id.
            let id = if e.id.is_empty() || (e.field == "id" && e.value == e.id) {
                String::new()
            } else {
                format!(" (record {})", e.id)
            };
            if e.value.is_empty() {
                writeln!(
                    w,
                    "{}:{}: {}: {}{id}",
                    path.display(),
                    e.line,
                    e.field,
                    e.reason
                )
            } else {
                writeln!(
                    w,
                    "{}:{}: {} = \"{}\": {}{id}",
                    path.display(),
                    e.line,
                    e.field,
                    e.value,
                    e.reason
                )
            }
        });
        match read {
            Ok(r) => r?,
            Err(e) => writeln!(w, "(the rest of the errors cannot be read back: {e})")?,
        }
        write!(
            w,
            "{} error{} in {} of {} rows of {}; nothing was written",
            self.len,
            if self.len == 1 { "" } else { "s" },
            lines,
            rows,
            path.display()
        )
    }
}

/// The next error of a run.
fn next_error(r: &mut RunReader<'_>) -> io::Result<Option<RowError>> {
    if r.is_done() {
        return Ok(None);
    }
    Ok(Some(RowError {
        line: u64::from_le_bytes(r.array()?),
        id: r.text()?,
        field: r.text()?,
        value: r.text()?,
        reason: r.text()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: u64, field: &str, reason: &str) -> RowError {
        RowError {
            line,
            id: String::new(),
            field: field.into(),
            value: format!("v{line}"),
            reason: reason.into(),
        }
    }

    /// Room for three errors: runs that overlap in lines, read back in
    /// order of line, a row's own in the order found.
    #[test]
    fn errors_written_out_come_back_in_order_of_line() {
        let mut parser = RowErrors::with_limit(3);
        for line in [2, 3, 3, 5, 8, 9, 9, 11] {
            parser.push(err(line, "a", "first"));
        }
        parser.push(err(11, "b", "second"));
        // Found later, on earlier lines (as the repeats of ids are).
        for line in [10, 4, 7, 6, 1] {
            parser.push(err(line, "w", "written"));
        }
        parser.finish();
        assert_eq!(parser.len(), 14);
        let got: Vec<(u64, String)> = parser
            .to_vec()
            .unwrap()
            .into_iter()
            .map(|e| (e.line, e.field))
            .collect();
        let want: Vec<(u64, String)> = [
            (1, "w"),
            (2, "a"),
            (3, "a"),
            (3, "a"),
            (4, "w"),
            (5, "a"),
            (6, "w"),
            (7, "w"),
            (8, "a"),
            (9, "a"),
            (9, "a"),
            (10, "w"),
            (11, "a"),
            (11, "b"),
        ]
        .into_iter()
        .map(|(l, f)| (l, f.to_string()))
        .collect();
        assert_eq!(got, want);
        let mut s = String::new();
        parser.render(Path::new("f.csv"), 20, &mut s).unwrap();
        assert!(
            s.starts_with("f.csv:1: w = \"v1\": written\nf.csv:2: a = \"v2\": first\n"),
            "{s}"
        );
        assert!(
            s.ends_with("\n14 errors in 11 of 20 rows of f.csv; nothing was written"),
            "{s}"
        );
    }

    #[test]
    fn long_and_chinese_texts_survive_being_written_out() {
        let mut log = RowErrors::with_limit(1);
        let long = "错".repeat(40_000); // longer than a read block
        log.push(RowError {
            line: 7,
            id: "机构-7".into(),
            field: "名称".into(),
            value: long.clone(),
            reason: String::new(),
        });
        log.push(err(8, "x", "y"));
        log.finish();
        let v = log.to_vec().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].value, long);
        assert_eq!(v[0].field, "名称");
        assert_eq!(v[1], err(8, "x", "y"));
    }
}
