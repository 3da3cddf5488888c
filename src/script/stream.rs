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

use super::output::{write_rows_from, RowFormat};
use super::state::Output;

/// Rows gathered before they are written.
pub const FLUSH_ROWS: usize = 4096;

/// The rows writer of a streaming run.
pub struct RowStream {
    w: Box<dyn Write + Send>,
    fmt: RowFormat,
    /// The columns of the rows written so far (`None`: none written).
    cols: Option<Vec<String>>,
    /// Rows written (or, after a write error, that would have been).
    pub written: usize,
    /// The first write error: later rows are dropped, the run goes on, and
    /// the caller reports it at the end (a closed pipe is no error).
    err: Option<std::io::Error>,
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
    pub fn new(w: Box<dyn Write + Send>, fmt: RowFormat) -> RowStream {
        RowStream {
            w,
            fmt,
            cols: None,
            written: 0,
            err: None,
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

    /// Writes `out`'s rows (columns fixed by `columns()`), leaving none.
    fn write(&mut self, out: &mut Output) {
        let Some(cols) = out.columns.clone() else {
            return;
        };
        let rows = std::mem::take(&mut out.rows);
        let header = self.cols.is_none();
        self.cols = Some(cols.clone());
        self.written += rows.len();
        if self.err.is_none() {
            if let Err(e) = write_rows_from(&mut self.w, self.fmt, &cols, &rows, usize::MAX, header)
            {
                self.err = Some(e);
            }
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
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        self.w.flush()
    }

    /// After a failed run that had written rows: ends the output with a line
    /// no reader takes for a row, saying it is incomplete.
    pub fn fail(mut self) {
        if self.err.is_some() {
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
        let _ = self.w.write_all(line.as_bytes());
        let _ = self.w.flush();
    }
}
