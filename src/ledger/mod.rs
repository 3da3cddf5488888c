//! The redb ledger: tables, schema version, the one write path and its audit log.
//!
//! Architecture invariant: every change goes through [`LedgerWriter::transact`], which
//! opens one redb write transaction, hands the caller a [`Tx`] whose every write
//! method validates the record and appends an audit change, and commits only if
//! the caller succeeds. A crash at any moment leaves the ledger as it was before
//! or after the commit, never between (redb commits are atomic and durable).
//!
//! Processes share the file in redb's `SingleWriter` mode: one writer at a time,
//! any number of readers beside it, each reading the last committed snapshot.
//! A second writer waits a bounded time and then fails with [`LedgerError::Busy`].
//!
//! A ledger opened for reading is a [`Ledger`]; one opened for writing is a
//! [`LedgerWriter`], which reads too (it derefs to a [`Ledger`]). Writing
//! through a read-only handle is thus a compile error, not a run-time one, as
//! with redb's own `ReadOnlyDatabase`.
//!
//! This file opens the ledger and runs transactions; the parts live beside it:
//! `schema` (tables, version, migrations), `error`, [`codec`] (the record
//! encoding), `reader` (snapshots), `tx` and `tx_decisions` (the write
//! transaction), `bulk` (an import's staged batches), `spill` (a large
//! import's batches as sorted runs, merged into their table), `id_map` (the
//! stager's known ids), `who` (the account, host and command line each audit
//! entry records), `backup` (a checked copy from one snapshot) and `compact`
//! (the file's free pages given back). Everything public is re-exported here, so callers
//! name it `crate::ledger::X`.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::{
    ConcurrencyMode, Database, DatabaseError, ReadTransaction, ReadableDatabase, ReadableTable,
};

mod backup;
mod bulk;
pub mod chain;
pub mod codec;
mod compact;
mod error;
mod id_map;
mod migrate3;
mod reader;
mod schema;
pub mod seal;
mod spill;
mod state;
mod tx;
mod tx_decisions;
mod verify;
pub mod who;

pub use backup::BackupSummary;
pub use bulk::{
    pack_id, packed_is_long, Batch, InstitutionCheck, NewInstitutions, Stager, Staging,
};
pub use compact::{file_len, Compacted};
pub use error::{LedgerError, RedbError, Rejection};
pub use reader::{FindingCursor, RawIter, RawRecords, RawSpan, Reader};
pub use schema::{READS_FROM, SCHEMA_VERSION};
pub use spill::Spill;
pub use tx::{Counts, Outcome, Tx};
pub use tx_decisions::{ListEntry, Owner, UNKNOWN_OWNER};
pub use verify::Verdict;

use error::open_error;
use schema::{migrate, schema_version, AUDIT, META};

/// What an operation is, for its audit entry.
#[derive(Debug, Clone, Default)]
pub struct Operation {
    /// Who: `--operator`, default `$USER`.
    pub operator: String,
    /// The command line or a description of the operation.
    pub command: String,
    /// SHA-256 of the script, for script writes.
    pub script_sha256: Option<String>,
    /// The input file and its SHA-256, for imports.
    pub file: Option<(String, String)>,
}

/// A ledger file open for reading: snapshots only, never a write.
pub struct Ledger {
    /// The redb file, opened read-only or, under a [`LedgerWriter`], the
    /// writer's own database shared with it.
    db: Arc<dyn ReadableDatabase + Send + Sync>,
    path: PathBuf,
}

/// A ledger file open for writing (holding redb's writer lock), and for
/// reading through [`Deref`] to [`Ledger`].
pub struct LedgerWriter {
    db: Arc<Database>,
    ledger: Ledger,
}

impl Deref for LedgerWriter {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

/// A ledger opened for reading or for writing, as decided at run time (the
/// REPL's `:write on|off`, `casebook run --write`).
pub enum AnyLedger {
    /// Opened with [`Ledger::open_read`].
    Read(Ledger),
    /// Opened with [`LedgerWriter::open_write`].
    Write(LedgerWriter),
}

impl AnyLedger {
    /// Opens `path` for writing (waiting [`busy_timeout`] for another writer)
    /// if `write`, else for reading only.
    pub fn open(path: &Path, write: bool) -> Result<AnyLedger, LedgerError> {
        Ok(if write {
            AnyLedger::Write(LedgerWriter::open_write(path, busy_timeout())?)
        } else {
            AnyLedger::Read(Ledger::open_read(path)?)
        })
    }

    /// The writable handle, or the error of writing to a read-only ledger.
    pub fn writer(&self) -> Result<&LedgerWriter, LedgerError> {
        match self {
            AnyLedger::Write(w) => Ok(w),
            AnyLedger::Read(_) => Err(LedgerError::Storage(
                "the ledger was opened read-only".into(),
            )),
        }
    }
}

impl Deref for AnyLedger {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        match self {
            AnyLedger::Read(l) => l,
            AnyLedger::Write(w) => w,
        }
    }
}

/// The page cache a ledger is opened with unless the opener says otherwise.
pub const CACHE_BYTES: usize = 160 << 20;

/// The page cache of a ledger opened for reading only. A reader's commands
/// scan tables once or look up a few records; what it reads again is the
/// B-trees' branch pages, which this holds (a province's ledger has some
/// 10 MB of them). With the writer's 160 MB, a scan of a ledger larger than
/// that evicted a page for every page it read and held 280 MB for nothing:
/// the credit rule over the 10x city ran no faster with 2 GB than with 32 MB.
pub const READ_CACHE_BYTES: usize = 32 << 20;

fn builder() -> redb::Builder {
    sized_builder(CACHE_BYTES)
}

fn sized_builder(cache: usize) -> redb::Builder {
    let mut b = Database::builder();
    // Every process must open in the same mode (see module docs).
    b.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    b.set_cache_size(cache);
    b
}

/// How long a writer waits for another writer: `CASEBOOK_BUSY_TIMEOUT` seconds, default 10.
pub fn busy_timeout() -> Duration {
    let Ok(s) = std::env::var("CASEBOOK_BUSY_TIMEOUT") else {
        return Duration::from_secs(10);
    };
    match s
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|x| Duration::try_from_secs_f64(x.max(0.0)).ok())
    {
        Some(d) => d,
        None => {
            eprintln!(
                "warning: CASEBOOK_BUSY_TIMEOUT=\"{s}\" is not a number of seconds; waiting 10 s"
            );
            Duration::from_secs(10)
        }
    }
}

impl Ledger {
    /// Opens for reading only: never blocks and is never blocked by a writer.
    pub fn open_read(path: &Path) -> Result<Ledger, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Missing(path.into()));
        }
        let db = match sized_builder(READ_CACHE_BYTES).open_read_only(path) {
            Ok(db) => db,
            // A ledger left by a crash must be repaired by a writable open first.
            Err(DatabaseError::RepairAborted) => {
                drop(LedgerWriter::open_write(path, busy_timeout())?);
                sized_builder(READ_CACHE_BYTES)
                    .open_read_only(path)
                    .map_err(|e| open_error(path, e))?
            }
            Err(e) => return Err(open_error(path, e)),
        };
        let l = Ledger {
            db: Arc::new(db),
            path: path.into(),
        };
        if let Some(v) = l.check_schema()? {
            return Err(LedgerError::Storage(format!(
                "{} has schema {v}; run any writing command (e.g. `casebook init` is refused, but `casebook import`) once to migrate it to {SCHEMA_VERSION}",
                l.path.display()
            )));
        }
        Ok(l)
    }

    /// The file this ledger lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn begin_read(&self) -> Result<ReadTransaction, LedgerError> {
        Ok(self.db.begin_read()?)
    }

    /// A consistent snapshot for reading.
    pub fn reader(&self) -> Result<Reader, LedgerError> {
        Reader::open(self.begin_read()?)
    }
}

impl LedgerWriter {
    /// Creates a new, empty ledger configured with Guangzhou's 11 districts.
    pub fn create(path: &Path) -> Result<LedgerWriter, LedgerError> {
        if path.exists() && std::fs::metadata(path).map(|m| m.len() > 0).unwrap_or(true) {
            return Err(LedgerError::Exists(path.into()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(LedgerError::Storage(format!(
                    "cannot create {}: the directory {} does not exist",
                    path.display(),
                    dir.display()
                )));
            }
        }
        let db = builder().create(path).map_err(|e| open_error(path, e))?;
        let txn = db.begin_write()?;
        schema::initialize(&txn)?;
        txn.commit()?;
        Ok(LedgerWriter::wrap(db, path))
    }

    /// Opens for writing, waiting up to `wait` for another writer to finish.
    pub fn open_write(path: &Path, wait: Duration) -> Result<LedgerWriter, LedgerError> {
        Self::open_write_cached(path, wait, CACHE_BYTES)
    }

    /// [`LedgerWriter::open_write`] with a page cache of `cache` bytes. A write
    /// transaction keeps the pages it changed in the cache until it commits,
    /// as far as the cache holds them; past that it writes them out and reads
    /// them back, so a bulk import runs faster with a bigger one.
    pub fn open_write_cached(
        path: &Path,
        wait: Duration,
        cache: usize,
    ) -> Result<LedgerWriter, LedgerError> {
        let db = Self::open_db(path, wait, cache)?;
        let l = LedgerWriter::wrap(db, path);
        if let Some(v) = l.check_schema()? {
            l.migrate_now(v)?;
        }
        l.ensure_tables()?;
        Ok(l)
    }

    /// The redb file at `path` opened for writing with a page cache of
    /// `cache` bytes, waiting up to `wait` for another writer to finish.
    fn open_db(path: &Path, wait: Duration, cache: usize) -> Result<Database, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Missing(path.into()));
        }
        let start = Instant::now();
        loop {
            match sized_builder(cache).open(path) {
                Ok(db) => return Ok(db),
                Err(DatabaseError::DatabaseAlreadyOpen) => {
                    if start.elapsed() >= wait {
                        return Err(LedgerError::Busy {
                            path: path.into(),
                            waited: start.elapsed(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(open_error(path, e)),
            }
        }
    }

    /// The handle of `db`, open for writing, at `path`.
    fn wrap(db: Database, path: &Path) -> LedgerWriter {
        let db = Arc::new(db);
        LedgerWriter {
            ledger: Ledger {
                db: db.clone(),
                path: path.into(),
            },
            db,
        }
    }

    /// Runs `f` in one write transaction. The transaction commits, with one audit
    /// entry for `op` and every change `f` made, only if `f` returns `Ok` and
    /// `dry_run` is false; otherwise nothing is written.
    pub fn transact<T, E: From<LedgerError>>(
        &self,
        op: &Operation,
        dry_run: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<(T, Counts), E> {
        let txn = self.db.begin_write().map_err(LedgerError::from)?;
        let (version, districts) = {
            let meta = txn.open_table(META).map_err(LedgerError::from)?;
            let d = meta.get("districts").map_err(LedgerError::from)?;
            let districts: Vec<String> = d
                .map(|g| g.value().split_whitespace().map(String::from).collect())
                .unwrap_or_default();
            (schema_version(&meta).map_err(LedgerError::from)?, districts)
        };
        // An older ledger is migrated by its first committed write, in the
        // same transaction.
        if let Some(v) = version.filter(|&v| v < SCHEMA_VERSION && !dry_run) {
            migrate(&txn, v, &op.operator)?;
        }
        let (out, counts, seq, detail, state, changes) = {
            let seq = {
                let audit = txn.open_table(AUDIT).map_err(LedgerError::from)?;
                let last = audit.last().map_err(LedgerError::from)?;
                last.map(|(k, _)| k.value() + 1).unwrap_or(1)
            };
            let mut tx = Tx::open(&txn, seq, districts)?;
            let out = f(&mut tx)?;
            tx.flush_inserts()?;
            let state = tx.state_delta();
            let changes = std::mem::take(&mut tx.changes_digest).finish();
            (out, tx.counts, seq, tx.detail.take(), state, changes)
        };
        // An import that changed nothing (every row as stored, no status
        // history added) leaves no entry: the log records changes, and a
        // nightly re-import of the same file would otherwise fill it.
        let nothing =
            op.file.is_some() && state.is_empty() && counts.other == 0 && detail.is_none();
        if dry_run || nothing {
            txn.abort().map_err(LedgerError::from)?;
            return Ok((out, counts));
        }
        {
            let header = serde_json::json!({
                // Stored in UTC; `casebook audit` shows it in local time.
                "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "operator": op.operator,
                "command": op.command,
                "script_sha256": op.script_sha256,
                "file": op.file.as_ref().map(|f| &f.0),
                "file_sha256": op.file.as_ref().map(|f| &f.1),
                "inserted": counts.inserted,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "other": counts.other,
                "detail": detail,
                "who": who::who(),
                "state": state,
            });
            chain::append(&txn, seq, &header.to_string(), changes)?;
        }
        txn.commit().map_err(LedgerError::from)?;
        Ok((out, counts))
    }
}
