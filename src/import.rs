//! `casebook import`: CSV and JSON Lines into the ledger, one file = one transaction.
//!
//! A file is read twice. The first pass hashes it (for the audit log) and
//! decides its encoding: UTF-8 (with or without BOM) when every byte is valid
//! UTF-8, else GB18030 (a superset of GBK, what Excel writes on Chinese
//! Windows) when every byte is valid GB18030, else the file is refused. The
//! second pass streams rows through the parser and the ledger's validating
//! write path; rows are never all held in memory. Every bad row is collected,
//! and if there is any the transaction is dropped, so nothing is written.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::format::{self, Kind, Row};
use crate::ledger::{
    Batch, Counts, Keyed, Ledger, LedgerError, NewInstitutions, Operation, Reader, Stager,
};
use crate::model::{FieldError, Institution};

mod errors;
mod runs;
mod seen;
pub use errors::{RowError, RowErrors};
use seen::SeenIds;

/// Why an import failed. In every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    // `err` is deliberately not a `source`: the message already says it, and
    // `{:#}` would print it a second time.
    #[error("cannot read {path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{path}: cannot tell the file type from its name: use a .csv or .jsonl file")]
    UnknownType { path: PathBuf },
    #[error("{path}: the file is neither UTF-8 nor GB18030/GBK (line {line} has bytes valid in neither): save it from the spreadsheet as \"CSV UTF-8\"")]
    Encoding { path: PathBuf, line: u64 },
    #[error("{path}:{line}: {message}")]
    Header {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// Every error, then a line that counts them.
    #[error("{}", BadRowsMessage(.path, .errors, .rows))]
    BadRows {
        path: PathBuf,
        errors: RowErrors,
        rows: u64,
    },
    /// The ids of a large file are merged from a temporary file at the end.
    #[error("cannot use a temporary file in {dir}: {err} (point TMPDIR at a directory with room)")]
    Temp { dir: PathBuf, err: std::io::Error },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Writes the errors one at a time: there may be millions.
struct BadRowsMessage<'a>(&'a Path, &'a RowErrors, &'a u64);

impl std::fmt::Display for BadRowsMessage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.1.render(self.0, *self.2, f)
    }
}

/// What a successful import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub rows: u64,
    pub counts: Counts,
    pub encoding: &'static str,
    pub dry_run: bool,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
    pub operator: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Enc {
    Utf8,
    Utf8Bom,
    Gb18030,
}

impl Enc {
    fn name(self) -> &'static str {
        match self {
            Enc::Utf8 => "UTF-8",
            Enc::Utf8Bom => "UTF-8 with BOM",
            Enc::Gb18030 => "GB18030",
        }
    }
}

/// First pass: SHA-256 of the file, its encoding and its CSV column separator.
fn sniff(path: &Path) -> Result<(String, Enc, u8), ImportError> {
    let io = |err| ImportError::Io {
        path: path.into(),
        err,
    };
    let mut f = File::open(path).map_err(io)?;
    // The file's hash (for the audit log) is taken on a second thread while
    // this one checks the encoding: both read the whole file before parsing
    // can start, and each takes about as long.
    let hashing = {
        let mut f = File::open(path).map_err(io)?;
        std::thread::spawn(move || -> std::io::Result<String> {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(format!("{:x}", hasher.finalize()));
                }
                hasher.update(&buf[..n]);
            }
        })
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut utf8 = true;
    let mut first = true;
    let mut bom = false;
    let mut delimiter = b',';
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        if first {
            bom = buf[..n].starts_with(b"\xEF\xBB\xBF");
            // Separators are ASCII, and no GB18030 multi-byte sequence contains
            // these bytes, so the raw bytes tell in every accepted encoding.
            delimiter = sniff_delimiter(&buf[..n]);
            first = false;
        }
        if utf8 {
            carry.extend_from_slice(&buf[..n]);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                Err(e) if e.error_len().is_none() => {
                    let keep = carry.split_off(e.valid_up_to());
                    carry = keep;
                }
                Err(_) => utf8 = false,
            }
        }
    }
    if utf8 && !carry.is_empty() {
        utf8 = false;
    }
    let sha = hashing
        .join()
        .expect("the hashing thread panicked")
        .map_err(io)?;
    if utf8 {
        return Ok((sha, if bom { Enc::Utf8Bom } else { Enc::Utf8 }, delimiter));
    }
    // Check that the whole file is valid GB18030 and say where it is not.
    let bytes = std::fs::read(path).map_err(io)?;
    let mut dec = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 16);
    let (res, read) = dec.decode_to_string_without_replacement(&bytes, &mut out, true);
    if let encoding_rs::DecoderResult::Malformed(..) = res {
        let line = bytes[..read].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        return Err(ImportError::Encoding {
            path: path.into(),
            line,
        });
    }
    Ok((sha, Enc::Gb18030, delimiter))
}

/// Counts bytes read so a progress bar can follow the file.
struct Counting<R> {
    inner: R,
    bar: Option<indicatif::ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

fn open_decoded(
    path: &Path,
    enc: Enc,
    bar: Option<indicatif::ProgressBar>,
) -> Result<Box<dyn Read + Send>, ImportError> {
    let f = File::open(path).map_err(|err| ImportError::Io {
        path: path.into(),
        err,
    })?;
    let raw = Counting { inner: f, bar };
    Ok(match enc {
        Enc::Utf8 => Box::new(raw),
        Enc::Utf8Bom => {
            let mut r = raw;
            let mut bom = [0u8; 3];
            r.read_exact(&mut bom).map_err(|err| ImportError::Io {
                path: path.into(),
                err,
            })?;
            Box::new(r)
        }
        Enc::Gb18030 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GB18030))
                .build(raw),
        ),
    })
}

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

struct MapRow(Vec<(&'static str, String)>);

impl Row for MapRow {
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }
}

/// Parsed records of any kind, so one loop drives all three.
enum Rec {
    Institution(crate::model::Institution),
    Inspection(crate::model::Inspection),
    Finding(crate::model::Finding),
    Application(crate::model::Application),
    Course(crate::model::Course),
}

/// Parses a row; on a parse error the record's own checks still run, so a
/// row's every problem is reported at once, not one per attempt.
///
/// A file need not have every column. For a record already in the ledger, a
/// field whose column the file lacks (or, in JSON Lines, whose key is absent)
/// keeps its stored value, so a file of just `id,…,status,status_date` updates
/// the status without wiping licence, counts and the rest. An empty cell (or
/// JSON `null`) does clear the field.
fn parse_row(
    kind: Kind,
    row: &dyn Row,
    districts: &[String],
    stored: &Reader,
) -> Result<Result<Rec, Vec<FieldError>>, LedgerError> {
    fn merge(mut errs: Vec<FieldError>, more: Vec<FieldError>) -> Vec<FieldError> {
        for e in more {
            if !errs.iter().any(|x| x.field == e.field) {
                errs.push(e);
            }
        }
        errs
    }
    let has = |f: &str| row.get(f).is_some();
    let partial = !row.complete(kind.columns());
    Ok(match kind {
        Kind::Institutions => {
            let (mut x, e) = format::institution_from(row);
            // Clerks write a district's full name (天河区); the ledger keeps the configured one.
            if let Some(d) = crate::model::district_name(&x.district, districts) {
                if d != x.district {
                    x.district = d.to_string();
                }
            }
            if partial && !x.id.is_empty() {
                if let Some(old) = stored.institution(&x.id)? {
                    format::keep_absent_institution(&mut x, &old, &has);
                }
            }
            let checks = x.validate(districts);
            if e.is_empty() && checks.is_empty() {
                Ok(Rec::Institution(x))
            } else if e.is_empty() {
                // All of them: one field may break two rules (a negative
                // count of qualified teachers, also above the teachers).
                Err(checks)
            } else {
                Err(merge(e, checks))
            }
        }
        Kind::Inspections => {
            let (mut x, e) = format::inspection_from(row);
            if partial && !x.id.is_empty() {
                if let Some(old) = stored.inspection(&x.id)? {
                    format::keep_absent_inspection(&mut x, &old, &has);
                }
            }
            if e.is_empty() {
                Ok(Rec::Inspection(x))
            } else {
                Err(merge(e, x.validate()))
            }
        }
        Kind::Findings => {
            let (mut x, e) = format::finding_from(row);
            if partial && !x.id.is_empty() {
                if let Some(old) = stored.finding(&x.id)? {
                    format::keep_absent_finding(&mut x, &old, &has);
                }
            }
            if e.is_empty() {
                Ok(Rec::Finding(x))
            } else {
                Err(merge(e, x.validate()))
            }
        }
        Kind::Applications => match format::application_from(row) {
            (x, e) if e.is_empty() => Ok(Rec::Application(x)),
            (x, e) => Err(merge(e, x.validate())),
        },
        Kind::Courses => match format::course_from(row) {
            (x, e) if e.is_empty() => Ok(Rec::Course(x)),
            (x, e) => Err(merge(e, x.validate())),
        },
    })
}

impl Row for &dyn Row {
    fn get(&self, field: &str) -> Option<&str> {
        (**self).get(field)
    }

    fn complete(&self, columns: &[(&str, &[&str])]) -> bool {
        (**self).complete(columns)
    }
}

/// Rows buffered before they are written in key order (bounded, so memory
/// stays flat: a staged finding is about 100 bytes, and at most three chunks
/// are alive, one parsing, one handed over, one writing). Larger chunks put
/// more rows into each B-tree page they touch: for a million findings,
/// 65,536 rows a chunk wrote in 1.78 s what 262,144 write in 1.42 s.
const CHUNK: usize = 262_144;

/// What a chunk of keyed records may take however many rows it has:
/// 262,144 findings take 28 MB.
const CHUNK_BYTES: usize = 32 << 20;

/// What a chunk of institutions may take. Institutions are three times the
/// size of findings, and their B-tree gains less from long chunks: a million
/// new ones import as fast with 16 MB chunks as with 32 (2.25 s, 2.32 s) and
/// peak 46 MB lower (27 MB lower when they update ones the ledger holds).
const INSTITUTION_CHUNK_BYTES: usize = 16 << 20;

/// About what an institution the ledger holds takes while it waits to be
/// written: the record and its texts.
const PENDING_BYTES: usize = std::mem::size_of::<Institution>() + 256;

impl Rec {
    /// The record's own checks (the ledger adds references when it writes).
    fn validate(&self, districts: &[String]) -> Vec<FieldError> {
        match self {
            Rec::Institution(x) => x.validate(districts),
            Rec::Inspection(x) => x.validate(),
            Rec::Finding(x) => x.validate(),
            Rec::Application(x) => x.validate(),
            Rec::Course(x) => x.validate(),
        }
    }
}

/// The keyed table a kind is stored in; institutions are not keyed.
fn keyed(kind: Kind) -> Option<Keyed> {
    match kind {
        Kind::Institutions => None,
        Kind::Inspections => Some(Keyed::Inspections),
        Kind::Findings => Some(Keyed::Findings),
        Kind::Applications => Some(Keyed::Applications),
        Kind::Courses => Some(Keyed::Courses),
    }
}

/// What a repeated id is told. Not "first on line N": a repeat found while
/// parsing is told the last line the id was on that is still in memory.
fn repeat_reason(earlier: u32) -> String {
    format!("repeats the id on line {earlier}: an id may appear once in a file")
}

/// Parsed rows on their way from the parsing thread to the writing one.
enum Chunk {
    /// Institutions: new ones staged, and ones the ledger holds (whose
    /// status history the writer reads); each in id order.
    Institutions(NewInstitutions, Vec<Institution>),
    /// Records of a keyed kind, checked, encoded and in key order.
    Keyed(Keyed, Batch),
}

/// The state one import carries from row to row (on the parsing thread).
struct Sink<'p> {
    /// Rows to gather before sending them (grows to [`CHUNK`]).
    chunk: usize,
    /// Institutions the ledger holds, checked and not yet sent.
    pending: Vec<Institution>,
    /// New institutions staged and not yet sent.
    fresh: NewInstitutions,
    /// The status history's reason for new institutions, and the audit entry.
    reason: &'p str,
    audit: u64,
    /// Keyed records checked and not yet sent.
    batch: Batch,
    /// Where full chunks go to be written; `None` once the writer has stopped.
    out: Option<std::sync::mpsc::SyncSender<Chunk>>,
    districts: Vec<String>,
    path: &'p Path,
    kind: Kind,
    errors: RowErrors,
    seen: SeenIds,
    rows: u64,
    /// Checks references and stages keyed records against the ledger as this
    /// import's transaction began; that snapshot also gives the fields a file
    /// leaves out.
    stager: Stager,
}

impl Sink<'_> {
    fn push(&mut self, line: u64, errs: Vec<FieldError>) {
        for e in errs {
            self.errors.push(RowError {
                line,
                field: e.field.to_string(),
                value: e.value,
                reason: e.reason,
            });
        }
    }

    fn row(&mut self, line: u64, row: &dyn Row) -> Result<(), LedgerError> {
        self.rows += 1;
        let id = row.get("id").unwrap_or("").trim();
        let mut twice = None;
        if !id.is_empty() {
            if let Some(first) = self.seen.first_line(id, line) {
                twice = Some(FieldError::new("id", id, repeat_reason(first)))
            }
        }
        // A repeated row is still checked, so all its problems are reported at once.
        let parsed = parse_row(self.kind, &row, &self.districts, self.stager.reader())?;
        let rec = match (parsed, twice) {
            (Ok(r), None) => r,
            (Ok(r), Some(t)) => {
                let mut errs = vec![t];
                errs.extend(r.validate(&self.districts));
                self.push(line, errs);
                return Ok(());
            }
            (Err(e), t) => {
                self.push(line, t.into_iter().chain(e).collect());
                return Ok(());
            }
        };
        let staged = match rec {
            Rec::Institution(x) => {
                if !self
                    .stager
                    .new_institution(&x, self.reason, self.audit, &mut self.fresh)?
                {
                    self.pending.push(x);
                }
                Ok(())
            }
            Rec::Inspection(x) => self.stager.inspection(&x, &mut self.batch)?,
            Rec::Finding(x) => self.stager.finding(&x, &mut self.batch)?,
            Rec::Application(x) => self.stager.application(&x, &mut self.batch)?,
            Rec::Course(x) => self.stager.course(&x, &mut self.batch)?,
        };
        if let Err(errs) = staged {
            self.push(line, errs);
        }
        let full = self.batch.len() >= self.chunk
            || self.batch.bytes() >= CHUNK_BYTES
            || self.pending.len() + self.fresh.len() >= self.chunk
            || self.fresh.bytes() + self.pending.len() * PENDING_BYTES >= INSTITUTION_CHUNK_BYTES;
        if full {
            self.send();
        }
        Ok(())
    }

    /// Hands the pending rows to the writer. If the writer has stopped (it met
    /// a storage error, which it reports), the rows are dropped and parsing
    /// goes on only to finish reading.
    fn send(&mut self) {
        // The writer waits for the first chunk, so the first are small: it
        // starts after a few thousand rows, not after 65,536.
        self.chunk = (self.chunk * 2).min(CHUNK);
        let chunk = match keyed(self.kind) {
            None => {
                let mut held = std::mem::take(&mut self.pending);
                held.sort_unstable_by(|a, b| a.id.cmp(&b.id));
                let mut fresh = std::mem::take(&mut self.fresh);
                fresh.sort();
                Chunk::Institutions(fresh, held)
            }
            Some(k) => {
                let next = self.batch.lengths();
                let mut batch = std::mem::replace(&mut self.batch, Batch::with_capacity(next));
                batch.sort();
                Chunk::Keyed(k, batch)
            }
        };
        if let Some(out) = &self.out {
            if out.send(chunk).is_err() {
                self.out = None;
            }
        }
    }

    fn header_error(&self, line: u64, message: String) -> ImportError {
        ImportError::Header {
            path: self.path.into(),
            line,
            message,
        }
    }
}

/// Writes one chunk, which the parsing thread checked and put in key order
/// (on the writing thread). Nothing here refuses a row: every check ran on
/// the parsing thread.
fn write_chunk(
    tx: &mut crate::ledger::Tx<'_>,
    chunk: Chunk,
    reason: &str,
) -> Result<(), LedgerError> {
    match chunk {
        Chunk::Keyed(kind, batch) => tx.write_batch(kind, &batch),
        Chunk::Institutions(fresh, held) => {
            tx.insert_new_institutions(&fresh)?;
            for x in &held {
                tx.upsert_valid_institution(x, reason)?;
            }
            Ok(())
        }
    }
}

/// What the ledger's pages may take in memory during an import, beside
/// the file's ids, the chunks in flight and the rest (about 140 MB at most
/// together). With 112 MiB, eight million findings in random order
/// imported into a ledger of a million peak at 269 MB, the most measured.
const PAGE_BUDGET: usize = 112 << 20;

/// Rows a file of `len` bytes is taken to hold, for sizing the list of its
/// ids: rows of 64 bytes or more (the benchmark city's findings average 75).
fn rows_in(len: u64) -> usize {
    (len / 64).min(1 << 23) as usize
}

/// The page cache to open the ledger at `db` with for an import. redb
/// holds at most half its cache in changed pages and fills the rest with
/// pages it reads, which come from what the ledger held before the import.
/// So a ledger file smaller than [`PAGE_BUDGET`] is given a cache of up to
/// twice the budget, less twice the file, and the import keeps more changed
/// pages until the commit instead of writing them out and reading them back:
/// the benchmark city's million findings, imported into its ledger of 36 MB
/// with a cache of 154 MiB, take 2.11 s; with 224 MiB 1.96 s.
pub fn cache_bytes(db: &Path) -> usize {
    let held = std::fs::metadata(db).map(|m| m.len()).unwrap_or(u64::MAX);
    let held = held.min(PAGE_BUDGET as u64) as usize;
    PAGE_BUDGET.max(2 * (PAGE_BUDGET - held))
}

/// Imports one file of `kind` into the ledger as one transaction.
pub fn import_file(
    ledger: &Ledger,
    kind: Kind,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let jsonl = match ext.as_str() {
        "csv" | "txt" => false,
        "jsonl" | "ndjson" => true,
        _ => return Err(ImportError::UnknownType { path: path.into() }),
    };
    let (sha, enc, delimiter) = sniff(path)?;
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = (opts.progress && std::io::stderr().is_terminal() && len > 4 << 20).then(|| {
        let b = indicatif::ProgressBar::new(len);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
                .unwrap()
                .progress_chars("=> "),
        );
        b.set_message(format!("importing {}", kind.as_str()));
        b
    });
    let reader = open_decoded(path, enc, bar.clone())?;
    let op = Operation {
        operator: opts.operator.clone(),
        command: format!("import {} {}", kind.as_str(), path.display()),
        script_sha256: None,
        file: Some((path.display().to_string(), sha)),
    };
    let reason = format!("import {}", path.display());
    let mut rows = 0;
    // One thread reads and parses while this one writes what it parsed: the
    // two halves of an import take about as long as each other.
    let result = ledger.transact(&op, opts.dry_run, |tx| -> Result<(), ImportError> {
        let (send, chunks) = std::sync::mpsc::sync_channel::<Chunk>(0);
        // What the ledger held when this transaction began.
        let before = ledger.reader()?;
        let mut sink = Sink {
            chunk: 4096,
            pending: Vec::new(),
            fresh: NewInstitutions::default(),
            reason: &reason,
            audit: tx.audit_seq(),
            batch: Batch::default(),
            out: Some(send),
            districts: tx.districts().to_vec(),
            path,
            kind,
            errors: RowErrors::new(),
            // Sized for the file (rows of 64 bytes or more), not grown a million ids at a time.
            seen: SeenIds::with_capacity(rows_in(len)),
            rows: 0,
            stager: Stager::new(before),
        };
        let (parsed, written) = std::thread::scope(|s| {
            // Named so that a profile or a debugger tells the threads apart.
            let parse = std::thread::Builder::new().name("import-parse".into());
            let parser = parse.spawn_scoped(s, move || -> Result<Sink, ImportError> {
                if jsonl {
                    read_jsonl(reader, &mut sink)?;
                } else {
                    read_csv(reader, delimiter, &mut sink)?;
                }
                sink.send();
                sink.out = None;
                Ok(sink)
            });
            // As `s.spawn` does when the system has no thread to give.
            let parser = parser.expect("cannot start the parsing thread");
            let mut written = Ok(());
            for chunk in chunks.iter() {
                written = write_chunk(tx, chunk, &reason);
                if written.is_err() {
                    break;
                }
            }
            // Dropping the receiver tells the parser to stop sending.
            drop(chunks);
            (parser.join().expect("the parsing thread panicked"), written)
        });
        let sink = parsed?;
        rows = sink.rows;
        // Repeats of ids the parser had written out of memory. The writer
        // may have met one first (an id's index entry written twice) and
        // stopped; the rows' errors say better what is wrong.
        let mut errors = sink.errors;
        sink.seen
            .finish(|r| {
                errors.push(RowError {
                    line: r.line.into(),
                    field: "id".into(),
                    value: r.id,
                    reason: repeat_reason(r.first),
                })
            })
            .map_err(|err| ImportError::Temp {
                dir: std::env::temp_dir(),
                err,
            })?;
        if errors.is_empty() {
            written?;
        } else {
            errors.finish();
            return Err(ImportError::BadRows {
                path: path.into(),
                errors,
                rows: sink.rows,
            });
        }
        Ok(())
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let ((), counts) = result?;
    Ok(ImportReport {
        rows,
        counts,
        encoding: enc.name(),
        dry_run: opts.dry_run,
    })
}

fn read_csv(
    reader: Box<dyn Read + Send>,
    delimiter: u8,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(CrlfToLf::new(reader));
    let mut rec = csv::StringRecord::new();
    let csv_err = |sink: &Sink<'_>, e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        match e.kind() {
            csv::ErrorKind::Io(_) => sink.header_error(line, format!("cannot read the file: {e}")),
            _ => sink.header_error(line, format!("not a well-formed CSV file: {e}")),
        }
    };
    if !rdr.read_record(&mut rec).map_err(|e| csv_err(sink, e))? {
        return Err(sink.header_error(
            1,
            "the file is empty: the first line must be the column headers".into(),
        ));
    }
    let (cols, unnamed) = header_map(sink, rec.iter())?;
    let width = rec.len();
    let free: Vec<bool> = cols.iter().map(|(f, _)| format::is_free_text(f)).collect();
    let complete = sink
        .kind
        .columns()
        .iter()
        .all(|(f, _)| cols.iter().any(|(c, _)| c == f));
    while rdr.read_record(&mut rec).map_err(|e| csv_err(sink, e))? {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        // The cells one after another: blank if all of them are.
        if rec.as_slice().trim().is_empty() {
            // A blank line, or a row of empty cells as spreadsheets write
            // below the data (",,,,,").
            continue;
        }
        // Spreadsheets pad rows with empty cells past the last named column.
        let extra_blank = rec.len() > width && rec.iter().skip(width).all(|c| c.trim().is_empty());
        if rec.len() != width && !extra_blank {
            sink.rows += 1;
            sink.push(
                line,
                vec![FieldError::new(
                    "row",
                    "",
                    format!("has {} fields but the header has {width}", rec.len()),
                )],
            );
            continue;
        }
        if let Some((i, v)) = unnamed
            .iter()
            .filter_map(|&i| rec.get(i).map(|v| (i, v.trim())))
            .find(|(_, v)| !v.is_empty())
        {
            sink.rows += 1;
            sink.push(
                line,
                vec![FieldError::new(
                    "row",
                    v,
                    format!(
                        "is in column {} which has no header: name the column or delete it",
                        i + 1
                    ),
                )],
            );
            continue;
        }
        sink.row(
            line,
            &CsvRow {
                rec: &rec,
                cols: &cols,
                free: &free,
                complete,
            },
        )?;
    }
    Ok(())
}

/// The column separator, judged from the header line: a comma, unless the
/// header has none but has tabs (Excel's "Text (Tab delimited)", 文本文件(制表符分隔))
/// or semicolons (Excel in locales that write decimal commas). A header
/// without commas could not be read as comma-separated anyway.
fn sniff_delimiter(start: &[u8]) -> u8 {
    let line = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    if count(b',') > 0 {
        b','
    } else if count(b'\t') > 0 {
        b'\t'
    } else if count(b';') > 0 {
        b';'
    } else {
        b','
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
fn header_map<'h>(
    sink: &Sink<'_>,
    headers: impl Iterator<Item = &'h str>,
) -> Result<(Columns, Vec<usize>), ImportError> {
    let mut cols: Columns = Vec::new();
    let mut unknown = Vec::new();
    let mut unnamed = Vec::new();
    let mut named = Vec::new();
    for (i, h) in headers.enumerate() {
        if h.trim().trim_start_matches('\u{feff}').is_empty() {
            unnamed.push(i);
            continue;
        }
        named.push(h);
        match sink.kind.field_of_header(h) {
            Some(f) if cols.iter().any(|(g, _)| *g == f) => {
                return Err(sink.header_error(
                    1,
                    format!("column \"{h}\" ({f}) appears twice in the header"),
                ))
            }
            Some(f) => cols.push((f, i)),
            None => unknown.push(h.to_string()),
        }
    }
    if !unknown.is_empty() {
        let known: Vec<String> = sink
            .kind
            .columns()
            .iter()
            .map(|(en, zh)| format!("{en}/{}", zh[0]))
            .collect();
        // A file of another kind is the likeliest reason for many unknown columns.
        let other = [Kind::Institutions, Kind::Inspections, Kind::Findings]
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
            None => String::new(),
        };
        return Err(sink.header_error(
            1,
            format!(
                "unknown column{} {} for {}; the columns are: {}{hint}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown
                    .iter()
                    .map(|u| format!("\"{u}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                sink.kind.as_str(),
                known.join(", ")
            ),
        ));
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
            1,
            format!("missing required column(s): {}", missing.join(", ")),
        ));
    }
    Ok((cols, unnamed))
}

fn read_jsonl(reader: Box<dyn Read + Send>, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let r = BufReader::with_capacity(1 << 16, reader);
    for (n, line) in r.lines().enumerate() {
        let line_no = n as u64 + 1;
        let line =
            line.map_err(|e| sink.header_error(line_no, format!("cannot read the file: {e}")))?;
        let t = line.trim().trim_start_matches('\u{feff}');
        if t.is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(t) {
            Ok(o) => o,
            Err(e) => {
                sink.rows += 1;
                sink.push(
                    line_no,
                    vec![FieldError::new(
                        "row",
                        "",
                        format!("is not a JSON object: {e}"),
                    )],
                );
                continue;
            }
        };
        let mut fields = Vec::with_capacity(obj.len());
        let mut errs = Vec::new();
        for (k, v) in obj {
            let Some(f) = sink.kind.field_of_header(&k) else {
                errs.push(FieldError::new(
                    "row",
                    "",
                    format!("has an unknown key \"{k}\""),
                ));
                continue;
            };
            let s = match v {
                // An explicit null clears the field; an absent key keeps it.
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            fields.push((f, s));
        }
        if !errs.is_empty() {
            sink.rows += 1;
            sink.push(line_no, errs);
            continue;
        }
        sink.row(line_no, &MapRow(fields))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_ledger_gets_a_larger_page_cache_for_an_import() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("l.redb");
        let sized = |len: u64| {
            std::fs::File::create(&db).unwrap().set_len(len).unwrap();
            cache_bytes(&db) >> 20
        };
        assert_eq!(sized(0), 224);
        assert_eq!(sized(36 << 20), 152);
        assert_eq!(sized(100 << 20), 112);
        assert_eq!(sized(1 << 30), 112);
        assert_eq!(cache_bytes(&dir.path().join("missing.redb")) >> 20, 112);
    }

    /// Imports with room for 64 ids and 16 errors in memory, so both are
    /// written out: a repeat of an id long written out is still refused, in
    /// a file in id order and in one shuffled, every error comes back in
    /// order of line, and nothing is written.
    #[test]
    fn an_import_past_what_it_keeps_in_memory_still_finds_every_repeat_and_error() {
        seen::TEST_LIMIT.set(64);
        errors::TEST_LIMIT.set(16);
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create(&dir.path().join("l.redb")).unwrap();
        let inst = dir.path().join("inst.csv");
        std::fs::write(
            &inst,
            "id,name,district,category,status,status_date\nGZ-1,A,天河,subject,operating,2018-01-01\n",
        )
        .unwrap();
        let opts = ImportOptions::default();
        import_file(&ledger, Kind::Institutions, &inst, &opts).unwrap();
        let row = |id: &str, date: &str| format!("{id},GZ-1,fire_hazard,2,{date},2019-03-01\n");
        let header = "id,institution_id,kind,severity,opened_on,deadline\n";
        let mut rows: Vec<String> = (0..1000)
            .map(|n| row(&format!("F{n:04}"), "2019-01-01"))
            .collect();
        // Lines 1002-1003: ids from line 11 and (long, hashed) line 501.
        rows[500] = row("F-A-LONG-ID-OF-SOME-KIND", "2019-01-01");
        rows.push(row("F0009", "2019-01-01"));
        rows.push(row("F-A-LONG-ID-OF-SOME-KIND", "2019-01-01"));
        let check = |rows: &[String], name: &str, want: usize| {
            let f = dir.path().join(name);
            std::fs::write(&f, format!("{header}{}", rows.concat())).unwrap();
            let Err(ImportError::BadRows {
                errors, rows: n, ..
            }) = import_file(&ledger, Kind::Findings, &f, &opts)
            else {
                panic!("{name} was not refused");
            };
            assert_eq!(n, 1002);
            let errors = errors.to_vec().unwrap();
            assert_eq!(errors.len(), want, "{errors:#?}");
            assert!(errors.windows(2).all(|w| w[0].line <= w[1].line));
            errors
        };
        // The repeats alone: the writer meets the second F0009 first (its
        // index entry written twice), and the repeat is what is reported.
        let errors = check(&rows, "repeats.csv", 2);
        assert!(errors.iter().all(|e| e.field == "id"), "{errors:#?}");
        // Forty bad dates, more than fit in memory.
        for n in (100..500).step_by(10) {
            rows[n] = row(&format!("F{n:04}"), "2019-02-30");
        }
        let errors = check(&rows, "in-order.csv", 42);
        let late: Vec<_> = errors.iter().filter(|e| e.field == "id").collect();
        assert_eq!(late.len(), 2, "{errors:#?}");
        assert_eq!((late[0].line, late[0].value.as_str()), (1002, "F0009"));
        assert!(late[0].reason.contains("line 11"), "{}", late[0].reason);
        assert_eq!(late[1].value, "F-A-LONG-ID-OF-SOME-KIND");
        assert!(late[1].reason.contains("line 502"), "{}", late[1].reason);
        // The same rows shuffled: the same ids are refused, wherever they land.
        let mut shuffled = rows.clone();
        let n = shuffled.len();
        for i in 0..n {
            shuffled.swap(i, (i * 7919 + 13) % n);
        }
        let errors = check(&shuffled, "shuffled.csv", 42);
        let mut ids: Vec<_> = errors
            .iter()
            .filter(|e| e.field == "id")
            .map(|e| e.value.as_str())
            .collect();
        ids.sort();
        assert_eq!(ids, ["F-A-LONG-ID-OF-SOME-KIND", "F0009"]);
        // A late repeat on a row with a problem of its own: both are reported.
        let mut both = rows.clone();
        both[1000] = row("F0009", "2019-02-31");
        let errors = check(&both, "both.csv", 43);
        let last: Vec<&str> = errors
            .iter()
            .filter(|e| e.line == 1002)
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(last, ["opened_on", "id"], "{errors:#?}");
        assert_eq!(ledger.reader().unwrap().counts().unwrap(), (1, 0, 0));
    }

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
