//! Rows written to standard output while the script still runs, so that a
//! run emitting hundreds of thousands of rows holds only a few thousand.
//!
//! A run streams only when nothing needs every row first (`run_file`
//! decides: no `--write`/`--dry-run`, whose changes may still be refused; no
//! `-o` file or `--out` folder, written whole or not at all; no table, whose
//! widths need every row; CSV or JSON Lines) and only once the script has
//! fixed its columns with `columns([…])` (without them the columns come from
//! every row's keys). Rows wait in the host's output until [`FLUSH_ROWS`]
//! have gathered, so a run of a few rows prints them at the end as before.
//!
//! A run that fails after rows were written cannot take them back: it ends
//! the output with a line saying it is incomplete (JSON Lines: an object
//! with an `"error"` key; CSV: a record starting `# error:`), and stderr and
//! the exit code say so too. Changing the columns after rows went out is
//! an error of `columns()` at the script's line.

use std::io::Write;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use super::output::{write_rows_from, RowFormat};
use super::state::{Output, Rows};

/// Rows gathered before they are written.
pub const FLUSH_ROWS: usize = 4096;

/// Gathered rows waiting for the writing thread, at most: enough to keep
/// it busy, few enough that a slow reader of stdout holds the run back
/// rather than letting rows pile up in memory.
const QUEUED: usize = 4;

/// One lot of rows for the writing thread: the columns, the rows, and
/// whether the header goes first.
type Lot = (Vec<String>, Rows, bool);

/// What the writing thread gives back: the writer, and its first error.
type Ended = (Box<dyn Write + Send>, Option<std::io::Error>);

/// The rows writer of a streaming run. Rows are formatted, written and
/// dropped on a thread of their own: the script's threads hand them over
/// in order and go on (a parallel map's workers hand them over while
/// holding the merge, which they would otherwise hold for the writing too).
pub struct RowStream {
    fmt: RowFormat,
    /// The columns of the rows written so far (`None`: none written).
    cols: Option<Vec<String>>,
    /// Rows written (or, after a write error, that would have been).
    pub written: usize,
    /// Where lots go, in order; `None` once finished.
    lots: Option<SyncSender<Lot>>,
    /// The writing thread. The first write error stops the writing: later
    /// rows are dropped, the run goes on, and the caller reports it at the
    /// end (a closed pipe is no error).
    writer: Option<JoinHandle<Ended>>,
}

impl RowStream {
    /// A stream of `fmt` rows to the process's standard output.
    pub fn stdout(fmt: RowFormat) -> RowStream {
        RowStream::new(
            Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )),
            fmt,
        )
    }

    /// A stream of `fmt` rows to `w`.
    pub fn new(mut w: Box<dyn Write + Send>, fmt: RowFormat) -> RowStream {
        let (lots, rx) = sync_channel::<Lot>(QUEUED);
        let writer = std::thread::spawn(move || {
            let mut err = None;
            for (cols, rows, header) in rx {
                if err.is_none() {
                    if let Err(e) = write_rows_from(&mut w, fmt, &cols, &rows, usize::MAX, header) {
                        err = Some(e);
                    }
                }
            }
            (w, err)
        });
        RowStream {
            fmt,
            cols: None,
            written: 0,
            lots: Some(lots),
            writer: Some(writer),
        }
    }

    /// Whether the run may set its columns to `cols` now.
    pub fn allows_columns(&self, cols: &[String]) -> Result<(), String> {
        match &self.cols {
            Some(c) if c.as_slice() != cols => Err(format!(
                "columns() changed after {} rows were already written with other columns; \
                 call columns([…]) before emitting rows",
                self.written
            )),
            _ => Ok(()),
        }
    }

    /// Writes `out`'s rows when enough have gathered and the columns are fixed.
    pub fn drain(&mut self, out: &mut Output) {
        if out.rows.len() >= FLUSH_ROWS && out.columns.is_some() && !out.columns_from_emit {
            self.write(out);
        }
    }

    /// Hands `out`'s rows (columns fixed by `columns()`) to the writing
    /// thread, leaving none.
    fn write(&mut self, out: &mut Output) {
        let Some(cols) = out.columns.clone() else {
            return;
        };
        let rows = std::mem::take(&mut out.rows);
        let header = self.cols.is_none();
        self.cols = Some(cols.clone());
        self.written += rows.len();
        if let Some(lots) = &self.lots {
            // A send fails only if the thread is gone: its error is at `end`.
            let _ = lots.send((cols, rows, header));
        }
    }

    /// Waits for the writing thread to write what it was given.
    fn end(&mut self) -> Ended {
        drop(self.lots.take());
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(ended)) => ended,
            Some(Err(p)) => std::panic::resume_unwind(p),
            None => unreachable!("a stream ends once"),
        }
    }

    /// After a successful run: writes the rows left (`out` with the final
    /// columns) and flushes.
    pub fn finish(mut self, out: &mut Output) -> std::io::Result<()> {
        if let Some(c) = &out.columns {
            self.allows_columns(c).map_err(std::io::Error::other)?;
        }
        if !out.rows.is_empty() {
            self.write(out);
        }
        let (mut w, err) = self.end();
        if let Some(e) = err {
            return Err(e);
        }
        w.flush()
    }

    /// After a failed run that had written rows: ends the output with a line
    /// no reader takes for a row, saying it is incomplete.
    pub fn fail(mut self) {
        let (mut w, err) = self.end();
        if err.is_some() {
            return;
        }
        let what = format!(
            "the run failed after {} rows were written; this output is incomplete",
            self.written
        );
        let line = match self.fmt {
            RowFormat::Csv => format!("\"# error: {what}\"\n"),
            _ => format!("{{\"error\":\"{what}\"}}\n"),
        };
        let _ = w.write_all(line.as_bytes());
        let _ = w.flush();
    }
}

impl Drop for RowStream {
    /// A stream left without `finish` or `fail` (a run that wrote nothing)
    /// still lets its thread write and flush what it was given.
    fn drop(&mut self) {
        drop(self.lots.take());
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}
