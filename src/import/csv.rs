//! A CSV file's rows: the header mapped to fields, then each row checked for
//! its shape and handed to the sink as a [`Row`] (see `parse.rs` for where it
//! becomes a record). Spreadsheet habits are allowed for here: CRLF row
//! ends, blank columns and rows, padded rows, Chinese headers.

use std::io::Read;

use super::sink::Sink;
use super::ImportError;
use crate::format::{self, Row};
use crate::model::FieldError;
use crate::model::RecordKind;

/// A CSV row seen through the header map.
struct CsvRow<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a [(&'static str, usize)],
    /// For each of `cols`, whether it is free text (may hold a neutralised formula).
    free: &'a [bool],
    /// Whether the header names every column of the kind (the same for every row).
    complete: bool,
}

impl Row for CsvRow<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        // The parsers ask with the same literals the header map holds, so
        // comparing addresses mostly answers without comparing text.
        let same = |f: &&str| std::ptr::eq(f.as_ptr(), field.as_ptr()) && f.len() == field.len();
        let k = match self.cols.iter().position(|(f, _)| same(f)) {
            Some(k) => k,
            None => self.cols.iter().position(|(f, _)| *f == field)?,
        };
        let v = self.rec.get(self.cols[k].1)?;
        Some(if self.free[k] {
            format::unneutralise(v)
        } else {
            v
        })
    }

    fn complete(&self, _: &[(&str, &[&str])]) -> bool {
        self.complete
    }
}

/// Reads every row of a CSV file into `sink`.
pub(super) fn read_csv(
    reader: Box<dyn Read + Send>,
    delimiter: u8,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(CrlfToLf::new(reader));
    let mut rec = ::csv::StringRecord::new();
    let csv_err = |sink: &Sink<'_>, e: ::csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        match e.kind() {
            ::csv::ErrorKind::Io(_) => {
                sink.header_error(line, format!("cannot read the file: {e}"))
            }
            _ => sink.header_error(line, format!("not a well-formed CSV file: {e}")),
        }
    };
    if !rdr.read_record(&mut rec).map_err(|e| csv_err(sink, e))? {
        return Err(sink.header_error(
            1,
            "the file is empty: the first line must be the column headers".into(),
        ));
    }
    let table = Table::new(sink, 1, &rec)?;
    // Line breaks inside quoted cells so far: the parser counts them as
    // lines, Excel keeps such a cell in one row.
    let mut inside = embedded_newlines(&rec);
    while rdr.read_record(&mut rec).map_err(|e| csv_err(sink, e))? {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        table.row(sink, line - inside.min(line), &rec)?;
        inside += embedded_newlines(&rec);
    }
    Ok(())
}

/// The line breaks inside a record's cells.
fn embedded_newlines(rec: &::csv::StringRecord) -> u64 {
    memchr::memchr_iter(b'\n', rec.as_slice().as_bytes()).count() as u64
}

/// A file's header row mapped to fields, and the checks every row of a
/// table goes through before it becomes a record: the same for CSV and
/// spreadsheet files.
pub(super) struct Table {
    cols: Columns,
    /// Blank header cells: their columns must stay empty.
    unnamed: Vec<usize>,
    width: usize,
    /// For each of `cols`, whether it is free text.
    free: Vec<bool>,
    /// For each cell position of a row, whether it holds a code, number or
    /// date (read after NFKC) rather than prose or an ignored column.
    normalised: Vec<bool>,
    /// The cell position of the id column, for error messages.
    id_at: Option<usize>,
    complete: bool,
}

impl Table {
    /// The table whose header row is `rec`, row `line` of the file (header
    /// cells are read after NFKC normalisation, so full-width letters name
    /// columns too).
    pub(super) fn new(
        sink: &Sink<'_>,
        line: u64,
        rec: &::csv::StringRecord,
    ) -> Result<Table, ImportError> {
        let (cols, unnamed) = header_map(sink, line, rec.iter().map(|h| nfkc(h)))?;
        let free: Vec<bool> = cols.iter().map(|(f, _)| format::is_free_text(f)).collect();
        let prose: Vec<bool> = cols.iter().map(|(f, _)| is_prose(f)).collect();
        let complete = sink
            .kind
            .columns()
            .iter()
            .all(|(f, _)| cols.iter().any(|(c, _)| c == f));
        let mut normalised = vec![false; rec.len()];
        for ((_, i), prose) in cols.iter().zip(&prose) {
            normalised[*i] = !prose;
        }
        let id_at = cols.iter().find(|(f, _)| *f == "id").map(|(_, i)| *i);
        Ok(Table {
            cols,
            unnamed,
            width: rec.len(),
            free,
            normalised,
            id_at,
            complete,
        })
    }

    /// The columns of the header row.
    pub(super) fn width(&self) -> usize {
        self.width
    }

    /// Widens the table to `width` columns without headers (their cells
    /// must stay empty), as a sheet read whole is as wide as its widest row.
    pub(super) fn widen(&mut self, width: usize) {
        self.unnamed.extend(self.width..width);
        self.width = self.width.max(width);
    }

    /// Checks a row's shape and hands it to the sink; `line` is the row
    /// number the error messages give.
    pub(super) fn row(
        &self,
        sink: &mut Sink<'_>,
        line: u64,
        rec: &::csv::StringRecord,
    ) -> Result<(), ImportError> {
        let width = self.width;
        // The cells one after another: blank if all of them are.
        if rec.as_slice().trim().is_empty() {
            // A blank line, or a row of empty cells as spreadsheets write
            // below the data (",,,,,").
            return Ok(());
        }
        let id = self.id_at.and_then(|i| rec.get(i)).unwrap_or("").trim();
        // Spreadsheets pad rows with empty cells past the last named column.
        let extra_blank = rec.len() > width && rec.iter().skip(width).all(|c| c.trim().is_empty());
        if rec.len() != width && !extra_blank {
            sink.rows += 1;
            sink.push(
                line,
                id,
                vec![FieldError::new(
                    "row",
                    "",
                    format!("has {} fields but the header has {width}", rec.len()),
                )],
            );
            return Ok(());
        }
        if let Some((i, v)) = self
            .unnamed
            .iter()
            .filter_map(|&i| rec.get(i).map(|v| (i, v.trim())))
            .find(|(_, v)| !v.is_empty())
        {
            sink.rows += 1;
            sink.push(
                line,
                id,
                vec![FieldError::new(
                    "row",
                    v,
                    format!(
                        "is in column {} which has no header: name the column or delete it",
                        i + 1
                    ),
                )],
            );
            return Ok(());
        }
        // Codes, numbers and dates typed in full width (２６０, a full-width
        // USCC) read as their ASCII forms; prose is kept as written.
        // Only when normalising changes a cell: a row of Chinese district
        // names (a code, and already normal) is not copied, which every row
        // of an institutions file was (a tenth of its parsing).
        let wide = rec
            .iter()
            .zip(&self.normalised)
            .any(|(v, code)| *code && matches!(nfkc(v), std::borrow::Cow::Owned(_)));
        let normalised;
        let rec = if wide {
            normalised = rec
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if self.normalised.get(i) == Some(&true) {
                        nfkc(v).into_owned()
                    } else {
                        v.to_string()
                    }
                })
                .collect::<::csv::StringRecord>();
            &normalised
        } else {
            rec
        };
        sink.row(
            line,
            &CsvRow {
                rec,
                cols: &self.cols,
                free: &self.free,
                complete: self.complete,
            },
        )?;
        Ok(())
    }
}

/// Whether a field is prose, kept as written; every other field (ids, codes,
/// numbers, dates, choices) is read after NFKC normalisation.
pub(super) fn is_prose(field: &str) -> bool {
    format::is_free_text(field)
        && !matches!(
            field,
            "id" | "institution_id" | "inspection_id" | "uscc" | "licence_no"
        )
}

/// `v` after NFKC normalisation (full-width digits and letters to ASCII),
/// borrowed when it is already normal.
pub(super) fn nfkc(v: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
    if v.is_ascii() || is_nfkc_quick(v.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(v)
    } else {
        std::borrow::Cow::Owned(v.nfkc().collect())
    }
}

/// Turns CRLF row ends into LF before the CSV parser sees them, leaving
/// quoted cells alone. The parser ends a CRLF row at the CR and counts the
/// LF as the start of the next row, so without this every error in a file
/// saved on Windows (Excel's CSV) was reported one line too early.
struct CrlfToLf<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    in_quotes: bool,
    cr: bool,
    eof: bool,
}

impl<R: Read> CrlfToLf<R> {
    fn new(inner: R) -> Self {
        CrlfToLf {
            inner,
            buf: vec![0; 1 << 16],
            pos: 0,
            len: 0,
            in_quotes: false,
            cr: false,
            eof: false,
        }
    }
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut w = 0;
        while w < out.len() {
            if self.pos == self.len {
                if w > 0 {
                    break;
                }
                if self.eof {
                    if self.cr {
                        self.cr = false;
                        out[w] = b'\r';
                        w += 1;
                    }
                    break;
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                self.eof = self.len == 0;
                continue;
            }
            if !self.cr {
                // Most bytes are neither CR nor quote: copy them in runs.
                let avail = &self.buf[self.pos..self.len];
                let run = memchr::memchr2(b'\r', b'"', avail)
                    .unwrap_or(avail.len())
                    .min(out.len() - w);
                if run > 0 {
                    out[w..w + run].copy_from_slice(&avail[..run]);
                    w += run;
                    self.pos += run;
                    continue;
                }
            }
            let b = self.buf[self.pos];
            if self.cr {
                self.cr = false;
                if b != b'\n' {
                    // A lone CR: keep it, and look at `b` again on the next turn.
                    out[w] = b'\r';
                    w += 1;
                    continue;
                }
            }
            self.pos += 1;
            if b == b'\r' && !self.in_quotes {
                self.cr = true;
                continue;
            }
            if b == b'"' {
                self.in_quotes = !self.in_quotes;
            }
            out[w] = b;
            w += 1;
        }
        Ok(w)
    }
}

/// Field name and column index of every known header cell.
type Columns = Vec<(&'static str, usize)>;

/// Maps header cells to fields; also returns the indices of blank header cells
/// (the empty columns spreadsheets leave after the last one), which are ignored.
fn header_map<S: AsRef<str>>(
    sink: &Sink<'_>,
    line: u64,
    headers: impl Iterator<Item = S>,
) -> Result<(Columns, Vec<usize>), ImportError> {
    let mut cols: Columns = Vec::new();
    let mut unknown = Vec::new();
    let mut unnamed = Vec::new();
    let mut named = Vec::new();
    let headers: Vec<S> = headers.collect();
    for (i, h) in headers.iter().enumerate() {
        let h = h.as_ref();
        if h.trim().trim_start_matches('\u{feff}').is_empty() {
            unnamed.push(i);
            continue;
        }
        named.push(h);
        match sink.kind.field_of_header(h) {
            Some(f) if cols.iter().any(|(g, _)| *g == f) => {
                return Err(sink.header_error(
                    line,
                    format!("column \"{h}\" ({f}) appears twice in the header"),
                ))
            }
            Some(f) => cols.push((f, i)),
            None => unknown.push(h.to_string()),
        }
    }
    if !unknown.is_empty() {
        // A file of another kind is the likeliest reason for many unknown columns.
        let other = [
            RecordKind::Institutions,
            RecordKind::Inspections,
            RecordKind::Findings,
        ]
        .into_iter()
        .find(|k| *k != sink.kind && named.iter().all(|h| k.field_of_header(h).is_some()));
        let hint = match other {
            Some(k) => format!(
                "\nthese are the columns of {k}: to import them, run `casebook import {k} {}`",
                sink.path.display(),
                k = k.as_str()
            ),
            // Not one known column: most often a title row above the headers.
            None if cols.is_empty() => {
                "\nthe first line must be the column headers: delete any title rows above them"
                    .to_string()
            }
            // Clerks add columns of their own (备注, remarks): their cells
            // are not the ledger's, so they are left out, and said so once.
            None => {
                warn_unknown(sink, &unknown);
                String::new()
            }
        };
        if !hint.is_empty() {
            let known: Vec<String> = sink
                .kind
                .columns()
                .iter()
                .map(|(en, zh)| format!("{en}/{}", zh[0]))
                .collect();
            return Err(sink.header_error(
                line,
                format!(
                    "unknown column{} {} for {}; the columns are: {}{hint}",
                    if unknown.len() > 1 { "s" } else { "" },
                    quoted(&unknown),
                    sink.kind.as_str(),
                    known.join(", ")
                ),
            ));
        }
    }
    let missing: Vec<&str> = sink
        .kind
        .required()
        .iter()
        .copied()
        .filter(|r| !cols.iter().any(|(f, _)| f == r))
        .collect();
    if !missing.is_empty() {
        return Err(sink.header_error(
            line,
            format!("missing required column(s): {}", missing.join(", ")),
        ));
    }
    Ok((cols, unnamed))
}

/// Names in quotes, with commas between.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one warning (on stderr) for the columns a file has that are not the kind's.
pub(super) fn warn_unknown(sink: &Sink<'_>, unknown: &[String]) {
    eprintln!(
        "warning: {}: column{} {} {} not a column of {}: ignored",
        sink.path.display(),
        if unknown.len() > 1 { "s" } else { "" },
        quoted(unknown),
        if unknown.len() > 1 { "are" } else { "is" },
        sink.kind.as_str()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crlf(input: &[u8], chunk: usize) -> Vec<u8> {
        // Read through a tiny output buffer too, to cross every boundary.
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(b.len());
                b[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = CrlfToLf::new(Chunked(input, chunk));
        let mut out = Vec::new();
        let mut b = [0u8; 3];
        loop {
            let n = r.read(&mut b).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&b[..n]);
        }
        out
    }

    #[test]
    fn crlf_row_ends_become_lf_but_quoted_cells_keep_theirs() {
        let input = b"a,b\r\n\"x\r\ny\",\"q\"\"\"\r\nlone\rcr,z\r";
        let want = b"a,b\n\"x\r\ny\",\"q\"\"\"\nlone\rcr,z\r";
        for chunk in 1..8 {
            assert_eq!(crlf(input, chunk), want.to_vec(), "chunk {chunk}");
        }
    }
}
