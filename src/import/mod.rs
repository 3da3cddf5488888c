//! `casebook import`: CSV, JSON Lines and Excel workbooks into the ledger,
//! one file = one transaction.
//!
//! A file is read twice. The first pass hashes it (for the audit log) and
//! decides its encoding: UTF-8 (with or without BOM) when every byte is valid
//! UTF-8, else GB18030 (a superset of GBK, what Excel writes on Chinese
//! Windows) when every byte is valid GB18030, else the file is refused. The
//! second pass streams rows through the parser and the ledger's validating
//! write path; rows are never all held in memory. Every bad row is collected,
//! and if there is any the transaction is dropped, so nothing is written.
//!
//! The stages, one file each: `sniff.rs` (the first pass: hash, encoding,
//! separator), `csv.rs`, `jsonl.rs` and `xlsx.rs` (a file's rows; a
//! workbook is read whole by calamine and hashed on its own), `parse.rs` (where a
//! row becomes a record), `sink.rs` (staging and the writing thread);
//! `seen.rs` and `errors.rs` keep a file's ids and bad rows in bounded
//! memory, in runs of a temporary file (`runs.rs`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::ledger::{Counts, LedgerError, LedgerWriter, Operation, Spill, Stager};
use crate::model::RecordKind;

mod csv;
mod errors;
mod jsonl;
mod parse;
mod runs;
mod seen;
mod sink;
mod sniff;
mod uscc;
mod xlsx;
pub use errors::{RowError, RowErrors};
use sink::Sink;

/// Why an import failed. In every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    // `err` is deliberately not a `source`: the message already says it, and
    // `{:#}` would print it a second time.
    #[error("cannot read {path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error(
        "{path}: cannot tell the file type from its name: use a .csv, .jsonl, .xlsx or .xls file"
    )]
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
    /// Let an institution share its USCC with another (a branch of one legal
    /// entity); otherwise a second institution with a USCC is refused.
    pub allow_shared_uscc: bool,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
    pub operator: String,
    /// The sheet of a workbook to read (default: the first).
    pub sheet: Option<String>,
}

/// The kinds of file import reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FileType {
    Csv,
    Jsonl,
    Workbook,
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

/// Whether an import of `kind` from a file of `len` bytes merges its
/// records into their table in one pass at the end (`ledger::Spill`) rather
/// than writing them chunk by chunk: a file of more than two chunks does.
/// Chunk by chunk, once the pages the records land on outgrow the page
/// cache, each chunk reads back and writes again the pages the ones before
/// it wrote (ten million findings into a ledger of a million institutions
/// took twice as long); and even where they fit, it leaves the leaves part
/// empty, where one merge packs them. The benchmark city's million findings
/// used to stay chunked: their ledger came out 151 MB, 1.20× sqlite3's file;
/// merged it is 131 MB (1.04×), for 0.6 s more on a 3.5 s import.
fn spills(kind: RecordKind, len: u64) -> bool {
    if kind == RecordKind::Institutions {
        return false;
    }
    #[cfg(test)]
    if let Some(s) = TEST_SPILL.get() {
        return s;
    }
    rows_in(len) > 2 * sink::CHUNK
}

#[cfg(test)]
thread_local! {
    /// Whether the imports a test runs on its thread spill, whatever their size.
    static TEST_SPILL: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
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
    ledger: &LedgerWriter,
    kind: RecordKind,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let ftype = match ext.as_str() {
        "csv" | "txt" => FileType::Csv,
        "jsonl" | "ndjson" => FileType::Jsonl,
        "xlsx" | "xlsm" | "xls" => FileType::Workbook,
        _ => return Err(ImportError::UnknownType { path: path.into() }),
    };
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    // A workbook is read whole by calamine: no encoding, no progress bar.
    let (sha, encoding, mut reader, bar) = if ftype == FileType::Workbook {
        let name = if ext == "xls" {
            "Excel 97-2003"
        } else {
            "Excel"
        };
        (sniff::sha256(path)?, name, None, None)
    } else {
        let (sha, enc, delimiter) = sniff::sniff(path)?;
        let bar = progress_bar(opts, kind, len);
        let reader = sniff::open_decoded(path, enc, bar.clone())?;
        (sha, enc.name(), Some((reader, delimiter)), bar)
    };
    let op = Operation {
        operator: opts.operator.clone(),
        command: format!("import {} {}", kind.as_str(), path.display()),
        script_sha256: None,
        file: Some((path.display().to_string(), sha)),
    };
    let reason = format!("import {}", path.display());
    let mut rows = 0;
    let mut spill = match spills(kind, len) {
        true => Some(Spill::new(kind)?),
        false => None,
    };
    let result = ledger.transact(&op, opts.dry_run, |tx| -> Result<(), ImportError> {
        // What the ledger held when this transaction began.
        let before = ledger.reader()?;
        let (mut sink, chunks) = Sink::new(
            kind,
            path,
            &reason,
            tx.audit_seq(),
            tx.districts().to_vec(),
            rows_in(len),
            Stager::new(before),
        );
        sink.allow_shared_uscc = opts.allow_shared_uscc;
        let (parsed, written) =
            sink::parse_and_write(tx, sink, chunks, &reason, &mut spill, |sink| {
                match (ftype, reader.take()) {
                    (FileType::Jsonl, Some((reader, _))) => jsonl::read_jsonl(reader, sink),
                    (FileType::Csv, Some((reader, delimiter))) => {
                        csv::read_csv(reader, delimiter, sink)
                    }
                    _ => xlsx::read_sheet(path, opts.sheet.as_deref(), sink),
                }
            });
        let sink = parsed?;
        rows = sink.rows;
        let mut errors = sink.into_errors()?;
        if errors.is_empty() {
            written?;
            if let Some(s) = spill.take() {
                tx.write_spilled(s)?;
            }
        } else {
            errors.finish();
            return Err(ImportError::BadRows {
                path: path.into(),
                errors,
                rows,
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
        encoding,
        dry_run: opts.dry_run,
    })
}

/// A progress bar for a large file when stderr is a terminal and it was asked for.
fn progress_bar(
    opts: &ImportOptions,
    kind: RecordKind,
    len: u64,
) -> Option<indicatif::ProgressBar> {
    (opts.progress && std::io::stderr().is_terminal() && len > 4 << 20).then(|| {
        let b = indicatif::ProgressBar::new(len);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
                .unwrap()
                .progress_chars("=> "),
        );
        b.set_message(format!("importing {}", kind.as_str()));
        b
    })
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

    /// Imports `files` (kind, CSV text) into a new ledger, spilling or not;
    /// returns every finding's row, the state digests of the audit entries
    /// and the audit changes' (kind, id, action), in order.
    fn imported(
        dir: &Path,
        name: &str,
        spill: bool,
        files: &[(RecordKind, &str)],
    ) -> (Vec<Vec<String>>, Vec<serde_json::Value>, Vec<String>) {
        TEST_SPILL.set(Some(spill));
        let ledger = LedgerWriter::create(&dir.join(name)).unwrap();
        for (n, (kind, text)) in files.iter().enumerate() {
            // The same names for both ledgers: the path is in the audit.
            let f = dir.join(format!("{n}.csv"));
            std::fs::write(&f, text).unwrap();
            import_file(&ledger, *kind, &f, &ImportOptions::default()).unwrap();
        }
        TEST_SPILL.set(None);
        let r = ledger.reader().unwrap();
        let mut rows = Vec::new();
        crate::export::each_row(&r, RecordKind::Findings, &mut |row| {
            rows.push(row);
            Ok(())
        })
        .unwrap();
        let mut states = Vec::new();
        let mut changes = Vec::new();
        for (n, header) in r.audit().unwrap() {
            let h: serde_json::Value = serde_json::from_str(&header).unwrap();
            states.push(h["state"].clone());
            for c in r.audit_changes(n).unwrap() {
                let mut ids: Vec<&str> = c.id.split('\n').collect();
                ids.sort();
                changes.push(format!("{} {} {}", c.kind, c.action, ids.join(",")));
            }
        }
        changes.sort();
        drop((r, ledger));
        let read = crate::ledger::Ledger::open_read(&dir.join(name)).unwrap();
        assert!(read.verify(None).unwrap().ok());
        (rows, states, changes)
    }

    /// Findings merged from sorted runs at the end of an import leave the
    /// ledger as written chunk by chunk: the same records, state digests
    /// and audit changes, for new findings in no order (more than one run)
    /// and for a second file that updates some and moves others to
    /// another institution.
    #[test]
    fn a_spilled_import_writes_what_a_chunked_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let mut inst = String::from("id,name,district,category,status,status_date\n");
        for i in 0..50 {
            inst.push_str(&format!(
                "GZ-{i:02},A{i},天河,subject,operating,2018-01-01\n"
            ));
        }
        let header = "id,institution_id,kind,severity,opened_on,deadline\n";
        let finding = |n: usize, inst: usize, sev: usize| {
            format!("F{n:05},GZ-{inst:02},fire_hazard,{sev},2019-01-01,2019-03-01\n")
        };
        // 20,000 findings scattered over the institutions: several chunks.
        let mut first = String::from(header);
        for n in 0..20_000 {
            first.push_str(&finding(n, n * 7919 % 50, 2));
        }
        let mut second = String::from(header);
        for n in (0..20_000).step_by(3) {
            // Every third one: a new severity, or (every sixth) a move.
            let inst = n * 7919 % 50 + if n % 2 == 0 { 1 } else { 0 };
            second.push_str(&finding(n, inst % 50, 3));
        }
        for n in 20_000..25_000 {
            second.push_str(&finding(n, n % 50, 1));
        }
        let files = [
            (RecordKind::Institutions, inst.as_str()),
            (RecordKind::Findings, first.as_str()),
            (RecordKind::Findings, second.as_str()),
        ];
        let chunked = imported(dir.path(), "chunked.redb", false, &files);
        let spilled = imported(dir.path(), "spilled.redb", true, &files);
        assert_eq!(chunked.0.len(), 25_000);
        assert!(chunked
            .0
            .iter()
            .any(|r| r[0] == "F00000" && r[1] == "GZ-01"));
        assert_eq!(spilled.0, chunked.0);
        assert_eq!(spilled.1, chunked.1);
        assert_eq!(spilled.2, chunked.2);
    }

    /// A new ledger in `dir` holding institution GZ-1, and default options.
    pub(super) fn with_one_institution(dir: &Path) -> (LedgerWriter, ImportOptions) {
        let ledger = LedgerWriter::create(&dir.join("l.redb")).unwrap();
        let inst = dir.join("inst.csv");
        std::fs::write(
            &inst,
            "id,name,district,category,status,status_date\nGZ-1,A,天河,subject,operating,2018-01-01\n",
        )
        .unwrap();
        let opts = ImportOptions::default();
        import_file(&ledger, RecordKind::Institutions, &inst, &opts).unwrap();
        (ledger, opts)
    }

    /// A file with a repeated id that lands in two runs is refused whole,
    /// as without spilling.
    #[test]
    fn a_spilled_import_with_a_repeat_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        TEST_SPILL.set(Some(true));
        let (ledger, opts) = with_one_institution(dir.path());
        let mut text = String::from("id,institution_id,kind,severity,opened_on,deadline\n");
        for n in 0..10_000 {
            text.push_str(&format!(
                "F{n:05},GZ-1,fire_hazard,2,2019-01-01,2019-03-01\n"
            ));
        }
        text.push_str("F00001,GZ-1,fire_hazard,3,2019-01-01,2019-03-01\n");
        let f = dir.path().join("find.csv");
        std::fs::write(&f, text).unwrap();
        let r = import_file(&ledger, RecordKind::Findings, &f, &opts);
        TEST_SPILL.set(None);
        assert!(matches!(r, Err(ImportError::BadRows { .. })), "{r:?}");
        assert_eq!(ledger.reader().unwrap().counts().unwrap(), (1, 0, 0));
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
        let (ledger, opts) = with_one_institution(dir.path());
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
            }) = import_file(&ledger, RecordKind::Findings, &f, &opts)
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
}
