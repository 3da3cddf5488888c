//! The redb ledger: tables, schema version, the one write path and its audit log.
//!
//! Architecture invariant: every change goes through [`Ledger::transact`], which
//! opens one redb write transaction, hands the caller a [`Tx`] whose every write
//! method validates the record and appends an audit change, and commits only if
//! the caller succeeds. A crash at any moment leaves the ledger as it was before
//! or after the commit, never between (redb commits are atomic and durable).
//!
//! Processes share the file in redb's `SingleWriter` mode: one writer at a time,
//! any number of readers beside it, each reading the last committed snapshot.
//! A second writer waits a bounded time and then fails with [`LedgerError::Busy`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use redb::{
    ConcurrencyMode, Database, DatabaseError, ReadOnlyDatabase, ReadOnlyTable, ReadTransaction,
    ReadableDatabase, ReadableTable, ReadableTableMetadata, Table, TableDefinition,
    WriteTransaction,
};

pub mod codec;

use crate::model::*;
use codec::{Change, DecodeError, StatusChange};

/// The schema this build writes. Bump it only for a change the record encoding
/// cannot absorb (a new field never needs it), and add the step to [`MIGRATIONS`].
///
/// 2: inspections, findings, applications and courses are stored without the
/// id and institution their key holds (`codec`'s format 2), which a build
/// that knows only schema 1 cannot decode: the version makes it refuse the
/// ledger with a message that says why, instead of failing on a record.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema this build reads as it is, without migrating: a ledger
/// from this version on is read as it is and migrated by its first committed
/// write; an older one is migrated when it is opened for writing, and a
/// read-only open refuses it until then. Schema 1's records are read as they are.
const READS_FROM: u32 = 1;

/// Steps that bring a ledger from version `i + 1` to `i + 2`, run by
/// [`migrate`] in one write transaction (see [`READS_FROM`] for which).
type Migration = fn(&WriteTransaction) -> Result<(), redb::Error>;
// One step for every version before this one.
const _: () = assert!(MIGRATIONS.len() == SCHEMA_VERSION as usize - 1);
const MIGRATIONS: &[Migration] = &[
    // 1 → 2: nothing to rewrite. Records of schema 1 stay as they are until
    // they are next written; the version keeps older builds away from the
    // records written from now on.
    |_| Ok(()),
];

const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const INSTITUTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("institutions");
/// Keyed (institution_id, id) so that one institution's inspections are one range.
const INSPECTIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("inspections");
/// id → institution_id, to find an inspection by its own id.
const INSPECTION_IDS: TableDefinition<&str, &str> = TableDefinition::new("inspection_ids");
/// Keyed (institution_id, id): `inst.findings()` is a range scan of adjacent pages.
const FINDINGS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("findings");
const FINDING_IDS: TableDefinition<&str, &str> = TableDefinition::new("finding_ids");
/// (institution_id, sequence) → status change; sorted by date when read.
const STATUS_HISTORY: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("status_history");
/// Audit entry number → JSON header of one operation. Append-only.
const AUDIT: TableDefinition<u64, &str> = TableDefinition::new("audit");
/// (audit entry, n) → one changed record with its before-image. Append-only.
const AUDIT_CHANGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("audit_changes");

/// (list name, institution_id, sequence) → one spell on a black/white list.
const LISTS: TableDefinition<(&str, &str, u64), &str> = TableDefinition::new("lists");

/// Run number → JSON header of a saved scoring run (the decision log). Never modified.
const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
/// (run, institution_id) → JSON {score, grade, reasons}. Never modified.
const RUN_RESULTS: TableDefinition<(u64, &str), &str> = TableDefinition::new("run_results");

/// (institution_id, kind, day number) → JSON {date, file, sha256, audit, operator}: the notice register.
const NOTICES: TableDefinition<(&str, &str, i64), &str> = TableDefinition::new("notices");

/// (institution_id, id) → licence application; `application_ids` maps id → institution.
const APPLICATIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("applications");
const APPLICATION_IDS: TableDefinition<&str, &str> = TableDefinition::new("application_ids");
/// (institution_id, id) → course filing; `course_ids` maps id → institution.
const COURSES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("courses");
const COURSE_IDS: TableDefinition<&str, &str> = TableDefinition::new("course_ids");

/// (institution_id, sequence) → JSON {licence_no, issued, expires, audit}: licences an
/// institution held before its current one, so "licensed on date D" stays answerable.
const LICENCE_HISTORY: TableDefinition<(&str, u64), &str> = TableDefinition::new("licence_history");

const MAGIC: &str = "casebook ledger";

/// Errors of opening, reading and writing the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("no ledger at {0}: create one with `casebook init` (or `casebook demo` for the demo city), or point --db / CASEBOOK_DB at an existing one")]
    Missing(PathBuf),
    #[error("{0} already exists; `init` never overwrites a ledger")]
    Exists(PathBuf),
    #[error("{path} is not a casebook ledger ({why})")]
    NotALedger { path: PathBuf, why: String },
    #[error("{path} was written by a newer casebook (schema {found}, this build knows up to {supported}): upgrade casebook to open it")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the ledger {path} is busy: another casebook process is writing to it; gave up after waiting {waited:.1?} (set CASEBOOK_BUSY_TIMEOUT=SECONDS to wait longer)")]
    Busy { path: PathBuf, waited: Duration },
    #[error("ledger storage error: {0}")]
    Storage(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{0}")]
    Rejected(Rejection),
}

/// A record refused by validation, with every reason.
#[derive(Debug, Clone)]
pub struct Rejection(pub Vec<FieldError>);

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        f.write_str(&v.join("; "))
    }
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for LedgerError {
            fn from(e: $t) -> Self { LedgerError::Storage(e.to_string()) }
        }
    )*};
}
storage_from!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError
);

fn reject(e: Vec<FieldError>) -> LedgerError {
    LedgerError::Rejected(Rejection(e))
}

/// One spell of an institution on a black or white list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListEntry {
    pub list: String,
    pub institution_id: String,
    pub added: NaiveDate,
    pub reason: String,
    pub removed: Option<NaiveDate>,
    pub removed_reason: Option<String>,
    /// The audit entry that added it.
    pub audit: u64,
    pub operator: String,
}

impl ListEntry {
    /// Whether the institution was on the list on `d`.
    pub fn on(&self, d: NaiveDate) -> bool {
        self.added <= d && self.removed.is_none_or(|r| r > d)
    }
}

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

/// What one upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// Counts of an operation's changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub other: u64,
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Inserted => self.inserted += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

enum Db {
    W(Database),
    R(ReadOnlyDatabase),
}

/// An open ledger file.
pub struct Ledger {
    db: Db,
    path: PathBuf,
}

/// The page cache a ledger is opened with unless the opener says otherwise.
pub const CACHE_BYTES: usize = 160 << 20;

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

fn open_error(path: &Path, e: DatabaseError) -> LedgerError {
    match e {
        DatabaseError::UpgradeRequired(v) => LedgerError::NotALedger {
            path: path.into(),
            why: format!("an old redb file format {v}"),
        },
        other => LedgerError::NotALedger {
            path: path.into(),
            why: other.to_string(),
        },
    }
}

impl Ledger {
    /// Creates a new, empty ledger configured with Guangzhou's 11 districts.
    pub fn create(path: &Path) -> Result<Ledger, LedgerError> {
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
        {
            let mut meta = txn.open_table(META)?;
            meta.insert("magic", MAGIC)?;
            meta.insert("schema_version", SCHEMA_VERSION.to_string().as_str())?;
            meta.insert("districts", DEFAULT_DISTRICTS.join(" ").as_str())?;
            meta.insert("created_at", chrono::Local::now().to_rfc3339().as_str())?;
            txn.open_table(INSTITUTIONS)?;
            txn.open_table(INSPECTIONS)?;
            txn.open_table(INSPECTION_IDS)?;
            txn.open_table(FINDINGS)?;
            txn.open_table(FINDING_IDS)?;
            txn.open_table(STATUS_HISTORY)?;
            txn.open_table(AUDIT)?;
            txn.open_table(AUDIT_CHANGES)?;
            txn.open_table(LISTS)?;
            txn.open_table(RUNS)?;
            txn.open_table(RUN_RESULTS)?;
            txn.open_table(NOTICES)?;
            txn.open_table(APPLICATIONS)?;
            txn.open_table(APPLICATION_IDS)?;
            txn.open_table(COURSES)?;
            txn.open_table(COURSE_IDS)?;
            txn.open_table(LICENCE_HISTORY)?;
        }
        txn.commit()?;
        Ok(Ledger {
            db: Db::W(db),
            path: path.into(),
        })
    }

    /// Opens for reading only: never blocks and is never blocked by a writer.
    pub fn open_read(path: &Path) -> Result<Ledger, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Missing(path.into()));
        }
        let db = match builder().open_read_only(path) {
            Ok(db) => db,
            // A ledger left by a crash must be repaired by a writable open first.
            Err(DatabaseError::RepairAborted) => {
                drop(Self::open_write(path, busy_timeout())?);
                builder()
                    .open_read_only(path)
                    .map_err(|e| open_error(path, e))?
            }
            Err(e) => return Err(open_error(path, e)),
        };
        let l = Ledger {
            db: Db::R(db),
            path: path.into(),
        };
        l.check_schema()?;
        Ok(l)
    }

    /// Opens for writing, waiting up to `wait` for another writer to finish.
    pub fn open_write(path: &Path, wait: Duration) -> Result<Ledger, LedgerError> {
        Self::open_write_cached(path, wait, CACHE_BYTES)
    }

    /// [`Ledger::open_write`] with a page cache of `cache` bytes. A write
    /// transaction keeps the pages it changed in the cache until it commits,
    /// as far as the cache holds them; past that it writes them out and reads
    /// them back, so a bulk import runs faster with a bigger one.
    pub fn open_write_cached(
        path: &Path,
        wait: Duration,
        cache: usize,
    ) -> Result<Ledger, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Missing(path.into()));
        }
        let start = Instant::now();
        let db = loop {
            match sized_builder(cache).open(path) {
                Ok(db) => break db,
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
        };
        let l = Ledger {
            db: Db::W(db),
            path: path.into(),
        };
        l.check_schema()?;
        l.ensure_tables()?;
        Ok(l)
    }

    /// Creates tables a newer build added, so that readers always find them.
    /// Adding an empty table needs no schema bump.
    fn ensure_tables(&self) -> Result<(), LedgerError> {
        let Db::W(db) = &self.db else { return Ok(()) };
        let txn = db.begin_read()?;
        if txn.open_table(LISTS).is_ok()
            && txn.open_table(RUN_RESULTS).is_ok()
            && txn.open_table(NOTICES).is_ok()
            && txn.open_table(COURSE_IDS).is_ok()
            && txn.open_table(LICENCE_HISTORY).is_ok()
        {
            return Ok(());
        }
        drop(txn);
        let w = db.begin_write()?;
        w.open_table(LISTS)?;
        w.open_table(RUNS)?;
        w.open_table(RUN_RESULTS)?;
        w.open_table(NOTICES)?;
        w.open_table(APPLICATIONS)?;
        w.open_table(APPLICATION_IDS)?;
        w.open_table(COURSES)?;
        w.open_table(COURSE_IDS)?;
        w.open_table(LICENCE_HISTORY)?;
        w.commit()?;
        Ok(())
    }

    /// The file this ledger lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn begin_read(&self) -> Result<ReadTransaction, LedgerError> {
        Ok(match &self.db {
            Db::W(d) => d.begin_read()?,
            Db::R(d) => d.begin_read()?,
        })
    }

    /// Refuses what is not a ledger or is newer than this build. An older
    /// ledger that this build reads as it is waits for its first committed
    /// write to be migrated (see [`Ledger::transact`]), so that a dry run or
    /// a reader leaves it as it was; one it cannot read is migrated now if
    /// it was opened for writing.
    fn check_schema(&self) -> Result<(), LedgerError> {
        let not = |why: &str| LedgerError::NotALedger {
            path: self.path.clone(),
            why: why.into(),
        };
        let txn = self.begin_read()?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(not("a redb file without casebook's tables"))
            }
            Err(e) => return Err(e.into()),
        };
        if meta.get("magic")?.map(|g| g.value() == MAGIC) != Some(true) {
            return Err(not("no casebook marker"));
        }
        let v = schema_version(&meta)?.ok_or_else(|| not("no schema version"))?;
        if v > SCHEMA_VERSION {
            return Err(LedgerError::NewerSchema {
                path: self.path.clone(),
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        if v >= READS_FROM {
            return Ok(());
        }
        let Db::W(db) = &self.db else {
            return Err(LedgerError::Storage(format!(
                "{} has schema {v}; run any writing command (e.g. `casebook init` is refused, but `casebook import`) once to migrate it to {SCHEMA_VERSION}",
                self.path.display()
            )));
        };
        let w = db.begin_write()?;
        migrate(&w, v, "casebook")?;
        w.commit()?;
        Ok(())
    }

    /// A consistent snapshot for reading.
    pub fn reader(&self) -> Result<Reader, LedgerError> {
        let txn = self.begin_read()?;
        let meta = txn.open_table(META)?;
        let districts = meta
            .get("districts")?
            .map(|g| g.value().split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        Ok(Reader {
            institutions: txn.open_table(INSTITUTIONS)?,
            inspections: txn.open_table(INSPECTIONS)?,
            inspection_ids: txn.open_table(INSPECTION_IDS)?,
            findings: txn.open_table(FINDINGS)?,
            finding_ids: txn.open_table(FINDING_IDS)?,
            history: txn.open_table(STATUS_HISTORY)?,
            audit: txn.open_table(AUDIT)?,
            audit_changes: txn.open_table(AUDIT_CHANGES)?,
            lists: optional(txn.open_table(LISTS))?,
            runs: optional(txn.open_table(RUNS))?,
            run_results: optional(txn.open_table(RUN_RESULTS))?,
            notices: optional(txn.open_table(NOTICES))?,
            applications: optional(txn.open_table(APPLICATIONS))?,
            application_ids: optional(txn.open_table(APPLICATION_IDS))?,
            courses: optional(txn.open_table(COURSES))?,
            course_ids: optional(txn.open_table(COURSE_IDS))?,
            licence_history: optional(txn.open_table(LICENCE_HISTORY))?,
            districts,
            _txn: txn,
        })
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
        let Db::W(db) = &self.db else {
            return Err(LedgerError::Storage("the ledger was opened read-only".into()).into());
        };
        let txn = db.begin_write().map_err(LedgerError::from)?;
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
        let (out, counts, seq, detail) = {
            let seq = {
                let audit = txn.open_table(AUDIT).map_err(LedgerError::from)?;
                let last = audit.last().map_err(LedgerError::from)?;
                last.map(|(k, _)| k.value() + 1).unwrap_or(1)
            };
            let mut tx = Tx::open(&txn, seq, districts)?;
            let out = f(&mut tx)?;
            tx.flush_inserts()?;
            (out, tx.counts, seq, tx.detail.take())
        };
        if dry_run {
            txn.abort().map_err(LedgerError::from)?;
            return Ok((out, counts));
        }
        {
            let header = serde_json::json!({
                "at": chrono::Local::now().to_rfc3339(),
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
            });
            let mut audit = txn.open_table(AUDIT).map_err(LedgerError::from)?;
            audit
                .insert(seq, header.to_string().as_str())
                .map_err(LedgerError::from)?;
        }
        txn.commit().map_err(LedgerError::from)?;
        Ok((out, counts))
    }
}

/// The schema version `meta` records, if it records one (versions start at 1).
fn schema_version(
    meta: &impl ReadableTable<&'static str, &'static str>,
) -> Result<Option<u32>, redb::StorageError> {
    Ok(meta
        .get("schema_version")?
        .and_then(|g| g.value().parse().ok())
        .filter(|&v| v >= 1))
}

/// Brings the ledger `w` writes from schema `from` to this build's, and says
/// so in the audit log as done by `operator`: a migration is a write like any
/// other.
fn migrate(w: &WriteTransaction, from: u32, operator: &str) -> Result<(), LedgerError> {
    for step in &MIGRATIONS[(from as usize - 1)..] {
        step(w)?;
    }
    w.open_table(META)?
        .insert("schema_version", SCHEMA_VERSION.to_string().as_str())?;
    let mut audit = w.open_table(AUDIT)?;
    let seq = audit.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
    let header = serde_json::json!({
        "at": chrono::Local::now().to_rfc3339(),
        "operator": operator,
        "command": format!("migrate schema {from} to {SCHEMA_VERSION}"),
        "script_sha256": null,
        "file": null,
        "file_sha256": null,
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
        "other": 0,
        "detail": null,
    });
    audit.insert(seq, header.to_string().as_str())?;
    Ok(())
}

/// Open tables of one write transaction. Every write method validates first,
/// then writes the record and its audit change.
pub struct Tx<'t> {
    institutions: Table<'t, &'static str, &'static [u8]>,
    inspections: Table<'t, (&'static str, &'static str), &'static [u8]>,
    inspection_ids: Table<'t, &'static str, &'static str>,
    findings: Table<'t, (&'static str, &'static str), &'static [u8]>,
    finding_ids: Table<'t, &'static str, &'static str>,
    history: Table<'t, (&'static str, u64), &'static [u8]>,
    changes: Table<'t, (u64, u64), &'static [u8]>,
    lists: Table<'t, (&'static str, &'static str, u64), &'static str>,
    runs: Table<'t, u64, &'static str>,
    run_results: Table<'t, (u64, &'static str), &'static str>,
    notices: Table<'t, (&'static str, &'static str, i64), &'static str>,
    applications: Table<'t, (&'static str, &'static str), &'static [u8]>,
    application_ids: Table<'t, &'static str, &'static str>,
    courses: Table<'t, (&'static str, &'static str), &'static [u8]>,
    course_ids: Table<'t, &'static str, &'static str>,
    licence_history: Table<'t, (&'static str, u64), &'static str>,
    audit_seq: u64,
    n_changes: u64,
    districts: Vec<String>,
    /// Institutions known to exist in this transaction.
    known: rustc_hash::FxHashSet<String>,
    /// Inspections looked up in this transaction and their institution: a
    /// findings file names the same inspection for each of its findings.
    inspection_of: rustc_hash::FxHashMap<String, String>,
    /// Inserted ids not yet written to the audit: (kind, ids, count).
    inserted: (&'static str, String, u32),
    /// What this transaction has done so far.
    pub counts: Counts,
    /// A line for the audit entry beyond counts (e.g. "saved scoring run 3").
    pub detail: Option<String>,
}

impl<'t> Tx<'t> {
    fn open(
        txn: &'t WriteTransaction,
        audit_seq: u64,
        districts: Vec<String>,
    ) -> Result<Self, LedgerError> {
        Ok(Tx {
            institutions: txn.open_table(INSTITUTIONS)?,
            inspections: txn.open_table(INSPECTIONS)?,
            inspection_ids: txn.open_table(INSPECTION_IDS)?,
            findings: txn.open_table(FINDINGS)?,
            finding_ids: txn.open_table(FINDING_IDS)?,
            history: txn.open_table(STATUS_HISTORY)?,
            changes: txn.open_table(AUDIT_CHANGES)?,
            lists: txn.open_table(LISTS)?,
            runs: txn.open_table(RUNS)?,
            run_results: txn.open_table(RUN_RESULTS)?,
            notices: txn.open_table(NOTICES)?,
            applications: txn.open_table(APPLICATIONS)?,
            application_ids: txn.open_table(APPLICATION_IDS)?,
            courses: txn.open_table(COURSES)?,
            course_ids: txn.open_table(COURSE_IDS)?,
            licence_history: txn.open_table(LICENCE_HISTORY)?,
            audit_seq,
            n_changes: 0,
            districts,
            known: Default::default(),
            inspection_of: Default::default(),
            inserted: ("", String::new(), 0),
            counts: Counts::default(),
            detail: None,
        })
    }

    /// The audit entry this transaction will commit as.
    pub fn audit_seq(&self) -> u64 {
        self.audit_seq
    }

    /// The ledger's configured districts.
    pub fn districts(&self) -> &[String] {
        &self.districts
    }

    fn record_change(
        &mut self,
        kind: &str,
        id: &str,
        action: &str,
        before: Vec<u8>,
    ) -> Result<(), LedgerError> {
        self.n_changes += 1;
        let c = Change {
            kind: kind.into(),
            id: id.into(),
            action: action.into(),
            before,
        };
        self.changes.insert(
            (self.audit_seq, self.n_changes),
            codec::encode_change(&c).as_slice(),
        )?;
        Ok(())
    }

    /// Whether an institution exists (in this transaction's view). Institutions
    /// are never deleted, so a positive answer is cached for the transaction.
    pub fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError> {
        if self.known.contains(id) {
            return Ok(true);
        }
        let found = self.institutions.get(id)?.is_some();
        if found {
            self.known.insert(id.to_string());
        }
        Ok(found)
    }

    /// Reads an institution as this transaction sees it.
    pub fn institution(&self, id: &str) -> Result<Option<Institution>, LedgerError> {
        match self.institutions.get(id)? {
            Some(g) => Ok(Some(codec::decode_institution(g.value())?)),
            None => Ok(None),
        }
    }

    /// Reads a finding by id as this transaction sees it.
    pub fn finding(&self, id: &str) -> Result<Option<Finding>, LedgerError> {
        let Some(inst) = self.finding_ids.get(id)?.map(|g| g.value().to_string()) else {
            return Ok(None);
        };
        match self.findings.get((inst.as_str(), id))? {
            Some(g) => Ok(Some(codec::decode_stored(&inst, id, g.value())?)),
            None => Ok(None),
        }
    }

    /// Inserts or updates an institution by id. A change of status or status
    /// date adds a dated entry to its status history.
    pub fn upsert_institution(
        &mut self,
        x: &Institution,
        reason: &str,
    ) -> Result<Outcome, LedgerError> {
        let errs = x.validate(&self.districts);
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        self.upsert_valid_institution(x, reason)
    }

    /// [`Tx::upsert_institution`] for a record the caller has validated
    /// against [`Tx::districts`] (an import does that on its parsing thread).
    pub fn upsert_valid_institution(
        &mut self,
        x: &Institution,
        reason: &str,
    ) -> Result<Outcome, LedgerError> {
        let old = self
            .institutions
            .get(x.id.as_str())?
            .map(|g| g.value().to_vec());
        let stored = old.as_deref().map(codec::decode_institution).transpose()?;
        let mut new = x.clone();
        let outcome = match &stored {
            None => {
                self.push_status(&x.id, x.status_date, x.status, reason)?;
                Outcome::Inserted
            }
            Some(o) => {
                // Push only a status the history does not hold yet, so that
                // re-importing an old row after later changes stays idempotent.
                if (o.status, o.status_date) != (x.status, x.status_date) {
                    if !self.has_status(&x.id, x.status_date, x.status)? {
                        self.push_status(&x.id, x.status_date, x.status, reason)?;
                    }
                    // The record carries the latest-dated status, whatever order entries
                    // came in: an older file re-imported never rolls it back.
                    let (d, s) = self
                        .current_status(&x.id)?
                        .unwrap_or((x.status_date, x.status));
                    new.status_date = d;
                    new.status = s;
                }
                Outcome::Updated
            }
        };
        if let Some(o) = &stored {
            if o.licence_issued.is_some()
                && (o.licence_no.as_deref(), o.licence_issued)
                    != (new.licence_no.as_deref(), new.licence_issued)
            {
                self.keep_licence(o)?;
            }
        }
        let enc = codec::encode_institution(&new);
        if old.as_deref() == Some(enc.as_slice()) {
            self.counts.add(Outcome::Unchanged);
            return Ok(Outcome::Unchanged);
        }
        self.institutions.insert(x.id.as_str(), enc.as_slice())?;
        debug_assert_eq!(outcome == Outcome::Inserted, old.is_none());
        self.changed("institution", &x.id, old)
    }

    fn push_status(
        &mut self,
        id: &str,
        date: NaiveDate,
        status: Status,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let next = {
            let mut r = self.history.range((id, 0u64)..=(id, u64::MAX))?;
            r.next_back()
                .transpose()?
                .map(|(k, _)| k.value().1 + 1)
                .unwrap_or(1)
        };
        let c = StatusChange {
            date,
            status,
            reason: reason.into(),
            audit: self.audit_seq,
        };
        self.history
            .insert((id, next), codec::encode_status(&c).as_slice())?;
        Ok(())
    }

    fn has_status(&self, id: &str, date: NaiveDate, status: Status) -> Result<bool, LedgerError> {
        for e in self.history.range((id, 0u64)..=(id, u64::MAX))? {
            let c = codec::decode_status(e?.1.value())?;
            if c.date == date && c.status == status {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn current_status(&self, id: &str) -> Result<Option<(NaiveDate, Status)>, LedgerError> {
        let mut best: Option<(NaiveDate, u64, Status)> = None;
        for e in self.history.range((id, 0u64)..=(id, u64::MAX))? {
            let (k, v) = e?;
            let c = codec::decode_status(v.value())?;
            let key = (c.date, k.value().1);
            if best.is_none_or(|b| (b.0, b.1) <= key) {
                best = Some((c.date, key.1, c.status));
            }
        }
        Ok(best.map(|b| (b.0, b.2)))
    }

    /// Changes an institution's status effective `date`, with a reason (audited).
    pub fn set_status(
        &mut self,
        id: &str,
        status: Status,
        date: NaiveDate,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let Some(ob) = self.institutions.get(id)?.map(|g| g.value().to_vec()) else {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                "no such institution",
            )]));
        };
        let mut x = codec::decode_institution(&ob)?;
        self.push_status(id, date, status, reason)?;
        let (d, s) = self.current_status(id)?.unwrap_or((date, status));
        x.status = s;
        x.status_date = d;
        self.institutions
            .insert(id, codec::encode_institution(&x).as_slice())?;
        self.record_change(
            "institution",
            id,
            &format!("status {status} from {date}: {reason}"),
            ob,
        )?;
        self.counts.other += 1;
        Ok(())
    }

    /// Inserts or updates an inspection by id; its institution must exist.
    pub fn upsert_inspection(&mut self, x: &Inspection) -> Result<Outcome, LedgerError> {
        let errs = owned_errors(x.validate(), &x.institution_id, self)?;
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        let enc = codec::encode_inspection(x);
        let w = write_keyed(
            &mut self.inspections,
            &mut self.inspection_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        // Findings written later in this transaction must see where it is now.
        self.inspection_of.remove(x.id.as_str());
        self.keyed_outcome("inspection", &x.id, w)
    }

    /// Inserts or updates a finding by id; its institution (and inspection, if
    /// given, of the same institution) must exist.
    pub fn upsert_finding(&mut self, x: &Finding) -> Result<Outcome, LedgerError> {
        let errs = finding_errors(x, self)?;
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        let enc = codec::encode_finding(x);
        let w = write_keyed(
            &mut self.findings,
            &mut self.finding_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        self.keyed_outcome("finding", &x.id, w)
    }

    /// Writes institutions [`Stager::new_institution`] staged: each record and
    /// its first status entry, as [`Tx::upsert_valid_institution`] would for a
    /// new one. One the ledger already holds (staged against an older state)
    /// is refused, not overwritten.
    pub fn insert_new_institutions(&mut self, b: &NewInstitutions) -> Result<(), LedgerError> {
        for (id, enc, first) in &b.rows {
            if self
                .institutions
                .insert(id.as_str(), enc.as_slice())?
                .is_some()
            {
                return Err(LedgerError::Storage(format!(
                    "institution {id} was written twice in one import; nothing was written"
                )));
            }
            // A history without its institution cannot arise (institutions are
            // never deleted); if one did, it is refused rather than overwritten.
            if self
                .history
                .insert((id.as_str(), 1u64), first.as_slice())?
                .is_some()
            {
                return Err(LedgerError::Storage(format!(
                    "institution {id} is new but has a status history; nothing was written"
                )));
            }
        }
        for (id, _, _) in &b.rows {
            self.changed("institution", id, None)?;
        }
        Ok(())
    }

    /// Writes a batch [`Stager`] prepared: records already checked, encoded,
    /// compared with the stored ones and put in key order, so this thread does
    /// B-tree inserts and nothing else. The id index is written on a second
    /// thread meanwhile; where each id pointed before came from the snapshot
    /// the stager read, and is checked against what the index held, so a
    /// batch staged against an older state is refused, not half-applied.
    pub fn write_batch(&mut self, kind: Keyed, b: &Batch) -> Result<(), LedgerError> {
        assert_eq!(
            b.by_key.len(),
            b.rows.len(),
            "Batch::sort runs before write_batch"
        );
        let (data, ids) = match kind {
            Keyed::Inspections => (&mut self.inspections, &mut self.inspection_ids),
            Keyed::Findings => (&mut self.findings, &mut self.finding_ids),
            Keyed::Applications => (&mut self.applications, &mut self.application_ids),
            Keyed::Courses => (&mut self.courses, &mut self.course_ids),
        };
        let (indexed, written) = std::thread::scope(|s| {
            let index = std::thread::Builder::new().name("import-index".into());
            let index = index.spawn_scoped(s, || -> Result<bool, LedgerError> {
                for r in b.in_order(&b.by_id) {
                    let was = r.prev.map(|(pi, _)| pi);
                    if was == Some(r.inst) {
                        continue;
                    }
                    if ids.insert(r.id, r.inst)?.as_ref().map(|g| g.value()) != was {
                        return Ok(false);
                    }
                }
                Ok(true)
            });
            let index = index.expect("cannot start the index thread");
            let written = (|| -> Result<(), LedgerError> {
                for r in b.in_order(&b.by_key) {
                    if let Some((pi, _)) = r.prev.filter(|(pi, _)| *pi != r.inst) {
                        data.remove((pi, r.id))?;
                    }
                    data.insert((r.inst, r.id), r.enc)?;
                }
                Ok(())
            })();
            (index.join().expect("the index thread panicked"), written)
        });
        written?;
        if !indexed? {
            return Err(LedgerError::Storage(format!(
                "{} ids changed while an import was checked, or one was written twice in it; nothing was written",
                kind.name()
            )));
        }
        if kind == Keyed::Inspections {
            self.inspection_of.clear();
        }
        self.counts.unchanged += b.unchanged;
        for r in b.in_order(&b.by_id) {
            let old = r
                .prev
                .map(|(_, old)| old.to_vec())
                .filter(|o| !o.is_empty());
            self.changed(kind.name(), r.id, old)?;
        }
        Ok(())
    }

    /// Records an insert (batched: ids only) or an update (with its before-image) and counts it.
    fn changed(
        &mut self,
        kind: &'static str,
        id: &str,
        old: Option<Vec<u8>>,
    ) -> Result<Outcome, LedgerError> {
        match old {
            Some(before) => {
                self.record_change(kind, id, "update", before)?;
                self.counts.add(Outcome::Updated);
                Ok(Outcome::Updated)
            }
            None => {
                if self.inserted.0 != kind {
                    self.flush_inserts()?;
                    self.inserted.0 = kind;
                }
                self.inserted.1.push_str(id);
                self.inserted.1.push('\n');
                self.inserted.2 += 1;
                if self.inserted.2 >= 4096 {
                    self.flush_inserts()?;
                }
                self.counts.add(Outcome::Inserted);
                Ok(Outcome::Inserted)
            }
        }
    }

    /// Writes the pending batch of inserted ids as one audit change (newline-separated ids).
    fn flush_inserts(&mut self) -> Result<(), LedgerError> {
        if self.inserted.2 > 0 {
            let ids = std::mem::take(&mut self.inserted.1);
            let kind = self.inserted.0;
            self.record_change(kind, ids.trim_end(), "insert", Vec::new())?;
            self.inserted.2 = 0;
        }
        Ok(())
    }

    /// Puts an institution on a named list from `date`. Being on the list already is an error.
    pub fn list_add(
        &mut self,
        list: &str,
        id: &str,
        date: NaiveDate,
        reason: &str,
        operator: &str,
    ) -> Result<(), LedgerError> {
        if !self.has_institution(id)? {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                "no such institution",
            )]));
        }
        let (last, open) = self.list_last(list, id)?;
        if let Some(e) = open {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                format!("is already on list {list} since {}", e.added),
            )]));
        }
        let e = ListEntry {
            list: list.into(),
            institution_id: id.into(),
            added: date,
            reason: reason.into(),
            removed: None,
            removed_reason: None,
            audit: self.audit_seq,
            operator: operator.into(),
        };
        self.lists.insert(
            (list, id, last + 1),
            serde_json::to_string(&e).unwrap().as_str(),
        )?;
        self.record_change("list", id, &format!("add to {list}: {reason}"), Vec::new())?;
        self.counts.other += 1;
        Ok(())
    }

    /// Takes an institution off a named list from `date`; the entry is kept with its removal.
    pub fn list_remove(
        &mut self,
        list: &str,
        id: &str,
        date: NaiveDate,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let (last, open) = self.list_last(list, id)?;
        let Some(mut e) = open else {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                format!("is not on list {list}"),
            )]));
        };
        if date < e.added {
            return Err(reject(vec![FieldError::new(
                "date",
                fmt_date(date),
                format!("is before the entry was added ({})", e.added),
            )]));
        }
        let before = serde_json::to_string(&e).unwrap();
        e.removed = Some(date);
        e.removed_reason = Some(reason.into());
        self.lists.insert(
            (list, id, last),
            serde_json::to_string(&e).unwrap().as_str(),
        )?;
        self.record_change(
            "list",
            id,
            &format!("remove from {list}: {reason}"),
            before.into_bytes(),
        )?;
        self.counts.other += 1;
        Ok(())
    }

    fn list_last(&self, list: &str, id: &str) -> Result<(u64, Option<ListEntry>), LedgerError> {
        let mut r = self.lists.range((list, id, 0u64)..=(list, id, u64::MAX))?;
        match r.next_back().transpose()? {
            None => Ok((0, None)),
            Some((k, v)) => {
                let e: ListEntry = serde_json::from_str(v.value())
                    .map_err(|e| LedgerError::Storage(format!("bad list entry: {e}")))?;
                Ok((k.value().2, e.removed.is_none().then_some(e)))
            }
        }
    }

    /// Saves a scoring run in the decision log; returns its number. Runs are
    /// only ever added: nothing in casebook changes or removes one.
    pub fn save_run<'a>(
        &mut self,
        header: &serde_json::Value,
        results: impl Iterator<Item = (&'a str, serde_json::Value)>,
    ) -> Result<u64, LedgerError> {
        let run = {
            let last = self.runs.last()?;
            last.map(|(k, _)| k.value() + 1).unwrap_or(1)
        };
        let mut h = header.clone();
        h["run"] = run.into();
        h["audit"] = self.audit_seq.into();
        self.runs.insert(run, h.to_string().as_str())?;
        let mut n = 0u64;
        for (id, v) in results {
            self.run_results.insert((run, id), v.to_string().as_str())?;
            n += 1;
        }
        self.detail = Some(format!("saved scoring run {run} ({n} institutions)"));
        self.record_change(
            "run",
            &run.to_string(),
            &format!("saved scoring run {run} ({n} institutions)"),
            Vec::new(),
        )?;
        self.counts.other += 1;
        Ok(run)
    }

    /// Records a notice issued on `date`; returns false (and records nothing) if
    /// the same kind of notice was already issued to the institution that day.
    pub fn record_notice(
        &mut self,
        id: &str,
        kind: &str,
        date: NaiveDate,
        file: &str,
        sha256: &str,
        operator: &str,
    ) -> Result<bool, LedgerError> {
        let key = (id, kind, codec::date_num(date));
        if self.notices.get(key)?.is_some() {
            return Ok(false);
        }
        let v = serde_json::json!({"date": fmt_date(date), "file": file, "sha256": sha256,
            "audit": self.audit_seq, "operator": operator});
        self.notices.insert(key, v.to_string().as_str())?;
        self.record_change(
            "notice",
            id,
            &format!("{kind} issued on {date}: {file}"),
            Vec::new(),
        )?;
        self.counts.other += 1;
        Ok(true)
    }

    /// Inserts or updates a licence application; its institution must exist.
    pub fn upsert_application(&mut self, x: &Application) -> Result<Outcome, LedgerError> {
        self.check_owned(x.validate(), &x.institution_id)?;
        let enc = codec::encode_application(x);
        let w = write_keyed(
            &mut self.applications,
            &mut self.application_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        self.keyed_outcome("application", &x.id, w)
    }

    /// Inserts or updates a course filing; its institution must exist.
    pub fn upsert_course(&mut self, x: &Course) -> Result<Outcome, LedgerError> {
        self.check_owned(x.validate(), &x.institution_id)?;
        let enc = codec::encode_course(x);
        let w = write_keyed(
            &mut self.courses,
            &mut self.course_ids,
            &x.institution_id,
            &x.id,
            &enc,
        )?;
        self.keyed_outcome("course", &x.id, w)
    }

    /// Counts and audits what [`write_keyed`] did.
    fn keyed_outcome(
        &mut self,
        kind: &'static str,
        id: &str,
        w: Written,
    ) -> Result<Outcome, LedgerError> {
        match w {
            Written::Unchanged => {
                self.counts.add(Outcome::Unchanged);
                Ok(Outcome::Unchanged)
            }
            Written::Changed(old) => self.changed(kind, id, old),
        }
    }

    /// The record's own errors plus a missing institution, as one rejection.
    fn check_owned(&mut self, errs: Vec<FieldError>, inst: &str) -> Result<(), LedgerError> {
        let errs = owned_errors(errs, inst, self)?;
        if errs.is_empty() {
            Ok(())
        } else {
            Err(reject(errs))
        }
    }

    /// A licence application by id, as this transaction sees it.
    pub fn application(&self, id: &str) -> Result<Option<Application>, LedgerError> {
        let Some(inst) = self.application_ids.get(id)?.map(|g| g.value().to_string()) else {
            return Ok(None);
        };
        Ok(match self.applications.get((inst.as_str(), id))? {
            Some(g) => Some(codec::decode_stored(&inst, id, g.value())?),
            None => None,
        })
    }

    /// A course filing by id, as this transaction sees it.
    pub fn course(&self, id: &str) -> Result<Option<Course>, LedgerError> {
        let Some(inst) = self.course_ids.get(id)?.map(|g| g.value().to_string()) else {
            return Ok(None);
        };
        Ok(match self.courses.get((inst.as_str(), id))? {
            Some(g) => Some(codec::decode_stored(&inst, id, g.value())?),
            None => None,
        })
    }

    /// Approves a pending application on `date`: the application records the
    /// licence, and the institution's licence fields take it from that date.
    pub fn approve(
        &mut self,
        app_id: &str,
        licence_no: &str,
        expires: NaiveDate,
        date: NaiveDate,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let mut a = self.application(app_id)?.ok_or_else(|| {
            reject(vec![FieldError::new(
                "application_id",
                app_id,
                "no such application",
            )])
        })?;
        if a.status != AppStatus::Submitted {
            return Err(reject(vec![FieldError::new("status", a.status.as_str(), format!("application {app_id} is {} already; only a submitted application can be decided", a.status))]));
        }
        a.status = AppStatus::Approved;
        a.decided_on = Some(date);
        a.decision_reason = reason.to_string();
        a.licence_no = Some(licence_no.to_string());
        a.licence_expires = Some(expires);
        self.upsert_application(&a)?;
        let Some(ob) = self
            .institutions
            .get(a.institution_id.as_str())?
            .map(|g| g.value().to_vec())
        else {
            return Err(reject(vec![FieldError::new(
                "institution_id",
                a.institution_id.clone(),
                "no such institution",
            )]));
        };
        let mut x = codec::decode_institution(&ob)?;
        self.keep_licence(&x)?;
        x.licence_no = Some(licence_no.to_string());
        x.licence_issued = Some(date);
        x.licence_expires = Some(expires);
        let errs = x.validate(&self.districts);
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        self.institutions
            .insert(x.id.as_str(), codec::encode_institution(&x).as_slice())?;
        self.record_change(
            "institution",
            &x.id,
            &format!(
                "licence {licence_no} issued {date}, valid to {expires} (application {app_id})"
            ),
            ob,
        )?;
        Ok(())
    }

    /// Files the institution's current licence (if any) in its licence history
    /// before it is replaced.
    fn keep_licence(&mut self, x: &Institution) -> Result<(), LedgerError> {
        let (Some(no), Some(issued)) = (&x.licence_no, x.licence_issued) else {
            return Ok(());
        };
        let next = {
            let mut r = self
                .licence_history
                .range((x.id.as_str(), 0u64)..=(x.id.as_str(), u64::MAX))?;
            r.next_back()
                .transpose()?
                .map(|(k, _)| k.value().1 + 1)
                .unwrap_or(1)
        };
        let v = serde_json::json!({"licence_no": no, "issued": fmt_date(issued),
            "expires": x.licence_expires.map(fmt_date), "audit": self.audit_seq});
        self.licence_history
            .insert((x.id.as_str(), next), v.to_string().as_str())?;
        Ok(())
    }

    /// Rejects a pending application on `date` with reasons.
    pub fn reject_application(
        &mut self,
        app_id: &str,
        reason: &str,
        date: NaiveDate,
    ) -> Result<(), LedgerError> {
        let mut a = self.application(app_id)?.ok_or_else(|| {
            reject(vec![FieldError::new(
                "application_id",
                app_id,
                "no such application",
            )])
        })?;
        if a.status != AppStatus::Submitted {
            return Err(reject(vec![FieldError::new("status", a.status.as_str(), format!("application {app_id} is {} already; only a submitted application can be decided", a.status))]));
        }
        a.status = AppStatus::Rejected;
        a.decided_on = Some(date);
        a.decision_reason = reason.to_string();
        self.upsert_application(&a).map(|_| ())
    }

    /// Accepts or rejects a filed course; the institution's record is never touched.
    pub fn decide_course(
        &mut self,
        id: &str,
        accept: bool,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let mut c = self
            .course(id)?
            .ok_or_else(|| reject(vec![FieldError::new("course_id", id, "no such course")]))?;
        if c.status != CourseStatus::Filed {
            return Err(reject(vec![FieldError::new(
                "status",
                c.status.as_str(),
                format!(
                    "course {id} is {} already; only a filed course can be decided",
                    c.status
                ),
            )]));
        }
        c.status = if accept {
            CourseStatus::Accepted
        } else {
            CourseStatus::Rejected
        };
        c.decision_reason = reason.to_string();
        self.upsert_course(&c).map(|_| ())
    }

    /// A finding id not yet used, of the form `F<date>-<n>`.
    pub fn next_finding_id(&self, date: NaiveDate) -> Result<String, LedgerError> {
        let base = format!("F{}", date.format("%Y%m%d"));
        for n in 1.. {
            let id = format!("{base}-{n:04}");
            if self.finding_ids.get(id.as_str())?.is_none() {
                return Ok(id);
            }
        }
        unreachable!()
    }

    /// Count of stored findings (for generated ids and summaries).
    pub fn finding_count(&self) -> Result<u64, LedgerError> {
        Ok(self.finding_ids.len()?)
    }
}

/// A consistent, read-only snapshot of the ledger. Cheap to create; every read
/// of one snapshot sees the same committed state whatever writers do meanwhile.
pub struct Reader {
    institutions: ReadOnlyTable<&'static str, &'static [u8]>,
    inspections: ReadOnlyTable<(&'static str, &'static str), &'static [u8]>,
    inspection_ids: ReadOnlyTable<&'static str, &'static str>,
    findings: ReadOnlyTable<(&'static str, &'static str), &'static [u8]>,
    finding_ids: ReadOnlyTable<&'static str, &'static str>,
    history: ReadOnlyTable<(&'static str, u64), &'static [u8]>,
    audit: ReadOnlyTable<u64, &'static str>,
    audit_changes: ReadOnlyTable<(u64, u64), &'static [u8]>,
    // Tables added after the first release are optional here: a read-only
    // handle cannot create them in a ledger an older build wrote.
    lists: Option<ReadOnlyTable<(&'static str, &'static str, u64), &'static str>>,
    runs: Option<ReadOnlyTable<u64, &'static str>>,
    run_results: Option<ReadOnlyTable<(u64, &'static str), &'static str>>,
    notices: Option<ReadOnlyTable<(&'static str, &'static str, i64), &'static str>>,
    applications: Option<ReadOnlyTable<(&'static str, &'static str), &'static [u8]>>,
    application_ids: Option<ReadOnlyTable<&'static str, &'static str>>,
    courses: Option<ReadOnlyTable<(&'static str, &'static str), &'static [u8]>>,
    course_ids: Option<ReadOnlyTable<&'static str, &'static str>>,
    licence_history: Option<ReadOnlyTable<(&'static str, u64), &'static str>>,
    districts: Vec<String>,
    _txn: ReadTransaction,
}

type FindingEntry = (
    redb::AccessGuard<'static, (&'static str, &'static str)>,
    redb::AccessGuard<'static, &'static [u8]>,
);

/// See [`Reader::findings_cursor`].
pub struct FindingCursor {
    it: redb::Range<'static, (&'static str, &'static str), &'static [u8]>,
    /// The next entry, read but not yet handed out.
    pending: Option<FindingEntry>,
    /// The institutions the walk covers.
    first: String,
    last: String,
    /// The institution served last: the walk has passed everything up to it.
    served: Option<String>,
    /// An error stopped the walk part-way: it answers nothing more.
    broken: bool,
}

impl FindingCursor {
    /// Appends the bytes of each finding of `inst` to `out`, in id order, and
    /// returns true; or returns false, having added nothing, when the walk
    /// cannot answer (it has passed `inst` or does not reach it), so the caller
    /// does its own range scan.
    pub fn take(&mut self, inst: &str, out: &mut RawRecords) -> Result<bool, LedgerError> {
        if self.broken
            || inst < self.first.as_str()
            || inst > self.last.as_str()
            || self.served.as_deref().is_some_and(|s| inst <= s)
        {
            return Ok(false);
        }
        // Whatever happens next, the walk has moved past what it was asked before.
        self.broken = true;
        loop {
            if self.pending.is_none() {
                match self.it.next() {
                    Some(e) => self.pending = Some(e?),
                    None => break,
                }
            }
            let (k, v) = self.pending.as_ref().unwrap();
            let (ki, id) = k.value();
            match ki.cmp(inst) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => out.push(inst, id, v.value()),
                std::cmp::Ordering::Greater => break,
            }
            self.pending = None;
        }
        self.broken = false;
        self.served = Some(inst.to_string());
        Ok(true)
    }
}

/// Whole records' bytes one after another, and where each one is: what the
/// walks over one institution's findings fill for a script.
#[derive(Default)]
pub struct RawRecords {
    pub buf: Vec<u8>,
    pub spans: Vec<(usize, usize)>,
}

impl RawRecords {
    /// Adds the record stored under `(inst, id)` as `stored`.
    fn push(&mut self, inst: &str, id: &str, stored: &[u8]) {
        let start = self.buf.len();
        codec::rejoin_into(&mut self.buf, inst, id, stored);
        self.spans.push((start, self.buf.len()));
    }
}

/// What [`write_keyed`] did.
enum Written {
    Unchanged,
    /// Written; the bytes it replaced, if any.
    Changed(Option<Vec<u8>>),
}

/// An id as an integer that orders as its bytes do: up to 15 bytes and the
/// length (which keeps "A" and "A\0" apart), or, for a longer id, its first
/// 15 bytes and 0xFF, after every length as a longer text sorts after its
/// prefix. Equal integers are equal ids unless [`packed_is_long`].
pub fn pack_id(b: &[u8]) -> u128 {
    let mut p = [0u8; 16];
    let n = b.len().min(15);
    p[..n].copy_from_slice(&b[..n]);
    p[15] = if b.len() <= 15 { b.len() as u8 } else { 0xFF };
    u128::from_be_bytes(p)
}

/// Whether [`pack_id`] kept only the first 15 bytes.
pub fn packed_is_long(p: u128) -> bool {
    p as u8 == 0xFF
}

/// A map keyed by record id that holds ids of up to 15 bytes (all of the
/// bureau's) packed into the key itself: a lookup among a million ids
/// compares integers instead of following a pointer to each candidate's
/// text, and an entry of a short id is 16 bytes of key, no allocation.
pub struct IdMap<V> {
    short: rustc_hash::FxHashMap<[u8; 16], V>,
    long: rustc_hash::FxHashMap<Box<str>, V>,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap::with_capacity(0)
    }
}

impl<V> IdMap<V> {
    /// An empty map with room for `n` short ids.
    pub fn with_capacity(n: usize) -> Self {
        IdMap {
            short: rustc_hash::FxHashMap::with_capacity_and_hasher(n, Default::default()),
            long: Default::default(),
        }
    }

    fn pack(id: &str) -> Option<[u8; 16]> {
        let p = pack_id(id.as_bytes());
        (!packed_is_long(p)).then(|| p.to_be_bytes())
    }

    /// The value of `id`.
    pub fn get(&self, id: &str) -> Option<&V> {
        match Self::pack(id) {
            Some(k) => self.short.get(&k),
            None => self.long.get(id),
        }
    }

    /// Whether `id` is in the map.
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Inserts `id` with `v` unless it is there; returns the value it had.
    pub fn insert_new(&mut self, id: &str, v: V) -> Option<&V> {
        use std::collections::hash_map::Entry;
        match Self::pack(id) {
            Some(k) => match self.short.entry(k) {
                Entry::Occupied(e) => Some(e.into_mut()),
                Entry::Vacant(e) => {
                    e.insert(v);
                    None
                }
            },
            None => match self.long.entry(id.into()) {
                Entry::Occupied(e) => Some(e.into_mut()),
                Entry::Vacant(e) => {
                    e.insert(v);
                    None
                }
            },
        }
    }
}

/// What the reference checks of a record need to know of the others. A write
/// transaction answers from its own tables; an import's checking thread from
/// the snapshot the transaction began with (see [`Stager`]).
trait Refs {
    fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError>;
    /// The institution an inspection was of, if the inspection exists.
    fn inspection_institution(&mut self, id: &str) -> Result<Option<String>, LedgerError>;
}

impl Refs for Tx<'_> {
    fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError> {
        Tx::has_institution(self, id)
    }

    fn inspection_institution(&mut self, id: &str) -> Result<Option<String>, LedgerError> {
        if let Some(i) = self.inspection_of.get(id) {
            return Ok(Some(i.clone()));
        }
        let i = self.inspection_ids.get(id)?.map(|g| g.value().to_string());
        if let Some(i) = &i {
            self.inspection_of.insert(id.to_string(), i.clone());
        }
        Ok(i)
    }
}

fn no_institution(id: &str) -> FieldError {
    FieldError::new(
        "institution_id",
        id,
        "no institution with this id in the ledger (import institutions first)",
    )
}

/// A record's own errors plus a missing institution (looked for only when
/// the record is otherwise sound).
fn owned_errors(
    mut errs: Vec<FieldError>,
    inst: &str,
    refs: &mut impl Refs,
) -> Result<Vec<FieldError>, LedgerError> {
    if errs.is_empty() && !refs.has_institution(inst)? {
        errs.push(no_institution(inst));
    }
    Ok(errs)
}

/// A finding's own errors plus its references: the institution must exist,
/// and its inspection, if it names one, must exist and be of that institution.
fn finding_errors(x: &Finding, refs: &mut impl Refs) -> Result<Vec<FieldError>, LedgerError> {
    let mut errs = x.validate();
    if errs.iter().all(|e| e.field != "institution_id")
        && !refs.has_institution(&x.institution_id)?
    {
        errs.push(no_institution(&x.institution_id));
    }
    if let Some(n) = &x.inspection_id {
        match refs.inspection_institution(n)? {
            None => errs.push(FieldError::new(
                "inspection_id",
                n.clone(),
                "no inspection with this id in the ledger (import inspections first)",
            )),
            Some(i) if i != x.institution_id => errs.push(FieldError::new(
                "inspection_id",
                n.clone(),
                format!(
                    "this inspection was of institution {i}, not {}",
                    x.institution_id
                ),
            )),
            _ => {}
        }
    }
    Ok(errs)
}

/// The record kinds stored under `(institution, id)` with an `id → institution` index.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Keyed {
    Inspections,
    Findings,
    Applications,
    Courses,
}

impl Keyed {
    /// The kind's name in the audit log.
    fn name(self) -> &'static str {
        match self {
            Keyed::Inspections => "inspection",
            Keyed::Findings => "finding",
            Keyed::Applications => "application",
            Keyed::Courses => "course",
        }
    }
}

/// Keyed records of one kind, checked, encoded and compared with the stored
/// ones by a [`Stager`], in key order once [`Batch::sort`] has run; what
/// [`Tx::write_batch`] writes. One buffer holds every row's bytes, so a batch
/// of 65,536 rows is two allocations to hand between threads and to free.
#[derive(Default)]
pub struct Batch {
    buf: Vec<u8>,
    rows: Vec<StagedRow>,
    /// Positions in `rows` in key order, and in id order (the id index's key).
    by_key: Vec<u32>,
    by_id: Vec<u32>,
    /// Rows identical to the stored record: counted, not written.
    pub unchanged: u64,
}

/// Offsets into [`Batch::buf`]: institution, id, the bytes to store, then,
/// for a record already stored, the institution it is under and the whole
/// record there (its before-image).
#[derive(Clone, Copy)]
struct StagedRow {
    at: usize,
    inst: u32,
    id: u32,
    enc: u32,
    prev: Option<(u32, u32)>,
}

/// One row of a [`Batch`].
struct Staged<'b> {
    inst: &'b str,
    id: &'b str,
    enc: &'b [u8],
    /// Where the record is stored now, and the whole record there.
    prev: Option<(&'b str, &'b [u8])>,
}

/// A length that `Batch` can keep in 32 bits. `row` relies on the lengths
/// being exact, so a record of 4 GiB (no CSV cell holds one) stops the
/// import, which then writes nothing, rather than being cut short.
fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("a record or id of 4 GiB or more cannot be imported")
}

impl Batch {
    /// Adds a row: `enc` is the bytes to store in two parts (see
    /// [`codec::stored_parts`]); `prev`, the institution the record is
    /// stored under now and the whole record there, its before-image.
    fn push(&mut self, inst: &str, id: &str, enc: [&[u8]; 2], prev: Option<(&str, &[u8])>) {
        let at = self.buf.len();
        for part in [inst.as_bytes(), id.as_bytes(), enc[0], enc[1]] {
            self.buf.extend_from_slice(part);
        }
        if let Some((pi, old)) = prev {
            self.buf.extend_from_slice(pi.as_bytes());
            self.buf.extend_from_slice(old);
        }
        self.rows.push(StagedRow {
            at,
            inst: len32(inst.len()),
            id: len32(id.len()),
            enc: len32(enc[0].len() + enc[1].len()),
            prev: prev.map(|(pi, old)| (len32(pi.len()), len32(old.len()))),
        });
    }

    /// An empty batch with room for one like `c` (see [`Batch::lengths`]).
    pub fn with_capacity(c: (usize, usize)) -> Self {
        Batch {
            buf: Vec::with_capacity(c.0),
            rows: Vec::with_capacity(c.1),
            ..Default::default()
        }
    }

    /// Bytes and rows this batch holds (what [`Batch::with_capacity`] takes
    /// to make room for the next one like it).
    pub fn lengths(&self) -> (usize, usize) {
        (self.buf.len(), self.rows.len())
    }

    /// Rows to write (unchanged ones are not kept).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// About the memory the batch takes.
    pub fn bytes(&self) -> usize {
        self.buf.len() + self.rows.len() * (std::mem::size_of::<StagedRow>() + 8)
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&self, r: &StagedRow) -> Staged<'_> {
        let text = |from: usize, len: u32| {
            let b = &self.buf[from..from + len as usize];
            // SAFETY: `buf` is private and `push` is all that writes it: the
            // ids and institutions at these offsets were copied from `&str`s
            // whole, so they are UTF-8. (Checking again was 3% of an import.)
            unsafe { std::str::from_utf8_unchecked(b) }
        };
        let mut at = r.at;
        let inst = text(at, r.inst);
        at += r.inst as usize;
        let id = text(at, r.id);
        at += r.id as usize;
        let enc = &self.buf[at..at + r.enc as usize];
        at += r.enc as usize;
        let prev = r.prev.map(|(pi, old)| {
            let p = text(at, pi);
            let o = &self.buf[at + pi as usize..at + pi as usize + old as usize];
            (p, o)
        });
        Staged {
            inst,
            id,
            enc,
            prev,
        }
    }

    /// The rows in the order of `order` (see [`Batch::sort`]).
    fn in_order<'b>(&'b self, order: &'b [u32]) -> impl Iterator<Item = Staged<'b>> + 'b {
        order.iter().enumerate().map(move |(n, &i)| {
            // Rows in key order are scattered over the buffer: ask for the
            // ones a few steps ahead before they are needed.
            if let Some(&far) = order.get(n + 16) {
                prefetch(&self.rows[far as usize] as *const StagedRow);
            }
            if let Some(&near) = order.get(n + 8) {
                // A pointer, not an index: an empty last row starts at the end.
                prefetch(self.buf.as_ptr().wrapping_add(self.rows[near as usize].at));
            }
            self.row(&self.rows[i as usize])
        })
    }

    /// Orders the rows by key for the records and by id for the id index:
    /// B-tree inserts in key order touch each page once per batch instead of
    /// once per row. (A file in id order is already in the second, which
    /// the sort sees at once.)
    pub fn sort(&mut self) {
        // Bytes, not text: UTF-8 sorts the same, and this is the inner loop.
        let part = |r: &StagedRow, skip: u32, len: u32| {
            let from = r.at + skip as usize;
            &self.buf[from..from + len as usize]
        };
        let key = |i: u32| {
            let r = &self.rows[i as usize];
            (part(r, 0, r.inst), part(r, r.inst, r.id))
        };
        // Most comparisons are of packed ids held in the array being sorted;
        // only two long ones equal in their first 15 bytes need their bytes.
        use std::cmp::Ordering;
        let (prefix, long) = (pack_id, packed_is_long);
        let mut by_key: Vec<(u128, u128, u32)> = (0..self.rows.len() as u32)
            .map(|i| {
                let (inst, id) = key(i);
                (prefix(inst), prefix(id), i)
            })
            .collect();
        by_key.sort_unstable_by(|a, b| {
            // The bytes are looked at only when the integers cannot tell.
            match a.0.cmp(&b.0) {
                Ordering::Equal if long(a.0) => key(a.2).cmp(&key(b.2)),
                Ordering::Equal => match a.1.cmp(&b.1) {
                    Ordering::Equal if long(a.1) => key(a.2).1.cmp(key(b.2).1),
                    o => o,
                },
                o => o,
            }
        });
        let mut by_id: Vec<(u128, u32)> = by_key.iter().map(|&(_, id, i)| (id, i)).collect();
        by_id.sort_unstable_by(|a, b| match a.0.cmp(&b.0) {
            Ordering::Equal if long(a.0) => key(a.1).1.cmp(key(b.1).1),
            o => o,
        });
        self.by_key = by_key.into_iter().map(|k| k.2).collect();
        self.by_id = by_id.into_iter().map(|k| k.1).collect();
    }
}

/// Hints the processor to bring the memory at `p` into its cache.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache: it reads nothing and does not
    // fault, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Institutions new to the ledger, staged by [`Stager::new_institution`]:
/// id, encoded record and encoded first status. [`Tx::insert_new_institutions`]
/// writes them.
#[derive(Default)]
pub struct NewInstitutions {
    rows: Vec<(String, Vec<u8>, Vec<u8>)>,
    /// The bytes of the texts in `rows`.
    text: usize,
}

impl NewInstitutions {
    /// Institutions staged.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// About the memory they take (each text is a separate allocation).
    pub fn bytes(&self) -> usize {
        self.text + self.rows.len() * (std::mem::size_of::<(String, Vec<u8>, Vec<u8>)>() + 48)
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Puts them in id order (the table's key order).
    pub fn sort(&mut self) {
        self.rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
}

/// Checks keyed records and stages them into [`Batch`]es on an import's
/// parsing thread, against a snapshot taken after the import's write
/// transaction began: an import writes one kind, so the institutions and
/// inspections it refers to are as the snapshot has them, and the records it
/// replaces are the snapshot's (checked again by [`Tx::write_batch`]).
pub struct Stager {
    before: Reader,
    /// Institutions found to exist (they are never deleted).
    known: IdMap<()>,
    /// Lookups `known` could not answer. After [`Stager::LOOKUPS`] of them
    /// every institution id is read into `known` in one walk of the table,
    /// which is then the whole answer: a large file names most institutions,
    /// and a walk reads each page once where lookups read each several times.
    lookups: u32,
    all_known: bool,
    inspection_of: rustc_hash::FxHashMap<String, String>,
}

impl Refs for Stager {
    fn has_institution(&mut self, id: &str) -> Result<bool, LedgerError> {
        if self.known.contains(id) {
            return Ok(true);
        }
        if self.all_known {
            return Ok(false);
        }
        self.lookups += 1;
        if self.lookups >= Self::LOOKUPS {
            for e in self.before.institutions.iter()? {
                self.known.insert_new(e?.0.value(), ());
            }
            self.all_known = true;
            return Ok(self.known.contains(id));
        }
        let found = self.before.institutions.get(id)?.is_some();
        if found {
            self.known.insert_new(id, ());
        }
        Ok(found)
    }

    fn inspection_institution(&mut self, id: &str) -> Result<Option<String>, LedgerError> {
        if let Some(i) = self.inspection_of.get(id) {
            return Ok(Some(i.clone()));
        }
        let i = self
            .before
            .inspection_ids
            .get(id)?
            .map(|g| g.value().to_string());
        if let Some(i) = &i {
            self.inspection_of.insert(id.to_string(), i.clone());
        }
        Ok(i)
    }
}

impl Stager {
    const LOOKUPS: u32 = 4096;

    /// A stager reading from `before`.
    pub fn new(before: Reader) -> Self {
        Stager {
            before,
            known: Default::default(),
            lookups: 0,
            all_known: false,
            inspection_of: Default::default(),
        }
    }

    /// The snapshot it checks against.
    pub fn reader(&self) -> &Reader {
        &self.before
    }

    /// Stages an institution the ledger does not hold, already validated:
    /// its record and its first status entry, recorded with `reason` by
    /// audit entry `audit`. Returns false, staging nothing, for one the
    /// ledger holds: updating needs its history, which [`Tx::upsert_valid_institution`] reads.
    pub fn new_institution(
        &mut self,
        x: &Institution,
        reason: &str,
        audit: u64,
        b: &mut NewInstitutions,
    ) -> Result<bool, LedgerError> {
        // A point lookup, not `has_institution`: a file names each
        // institution once, and the walk that answers a large file of
        // findings would hold every id of a large ledger (40 MB a million).
        if self.before.institutions.get(x.id.as_str())?.is_some() {
            return Ok(false);
        }
        let first = StatusChange {
            date: x.status_date,
            status: x.status,
            reason: reason.into(),
            audit,
        };
        let row = (
            x.id.clone(),
            codec::encode_institution(x),
            codec::encode_status(&first),
        );
        b.text += row.0.len() + row.1.len() + row.2.len();
        b.rows.push(row);
        Ok(true)
    }

    /// Checks an inspection; if sound, adds it to `b` (or counts it unchanged).
    pub fn inspection(&mut self, x: &Inspection, b: &mut Batch) -> Staging {
        let errs = owned_errors(x.validate(), &x.institution_id, self)?;
        self.stage(
            Keyed::Inspections,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_inspection(x),
            b,
        )
    }

    /// Checks a finding; if sound, adds it to `b` (or counts it unchanged).
    pub fn finding(&mut self, x: &Finding, b: &mut Batch) -> Staging {
        let errs = finding_errors(x, self)?;
        self.stage(
            Keyed::Findings,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_finding(x),
            b,
        )
    }

    /// Checks a licence application; if sound, adds it to `b` (or counts it unchanged).
    pub fn application(&mut self, x: &Application, b: &mut Batch) -> Staging {
        let errs = owned_errors(x.validate(), &x.institution_id, self)?;
        self.stage(
            Keyed::Applications,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_application(x),
            b,
        )
    }

    /// Checks a course filing; if sound, adds it to `b` (or counts it unchanged).
    pub fn course(&mut self, x: &Course, b: &mut Batch) -> Staging {
        let errs = owned_errors(x.validate(), &x.institution_id, self)?;
        self.stage(
            Keyed::Courses,
            errs,
            &x.institution_id,
            &x.id,
            || codec::encode_course(x),
            b,
        )
    }

    fn stage(
        &mut self,
        kind: Keyed,
        errs: Vec<FieldError>,
        inst: &str,
        id: &str,
        encode: impl FnOnce() -> Vec<u8>,
        b: &mut Batch,
    ) -> Staging {
        if !errs.is_empty() {
            return Ok(Err(errs));
        }
        let enc = encode();
        let r = &self.before;
        let (data, ids) = match kind {
            Keyed::Inspections => (Some(&r.inspections), Some(&r.inspection_ids)),
            Keyed::Findings => (Some(&r.findings), Some(&r.finding_ids)),
            Keyed::Applications => (r.applications.as_ref(), r.application_ids.as_ref()),
            Keyed::Courses => (r.courses.as_ref(), r.course_ids.as_ref()),
        };
        let prev = match ids {
            Some(ids) => ids.get(id)?.map(|g| g.value().to_string()),
            None => None,
        };
        let old = match (&prev, data) {
            (Some(pi), Some(data)) => data.get((pi.as_str(), id))?.map(|g| g.value().to_vec()),
            _ => None,
        };
        let stored = codec::stored_parts(&enc);
        match (&prev, &old) {
            (Some(pi), Some(o)) if pi == inst && codec::same_stored(o, &enc) => b.unchanged += 1,
            (Some(pi), Some(o)) => b.push(inst, id, stored, Some((pi, &codec::rejoin(pi, id, o)))),
            // An index entry without its record: the entry is replaced, the
            // record written as new (an empty before-image).
            (Some(pi), None) => b.push(inst, id, stored, Some((pi, &[]))),
            (None, _) => b.push(inst, id, stored, None),
        }
        Ok(Ok(()))
    }
}

/// What staging a record gives: a storage error, the record's problems, or done.
pub type Staging = Result<Result<(), Vec<FieldError>>, LedgerError>;

/// Upserts a record stored under `(institution, id)` with an `id → institution`
/// index, moving it if its institution changed. `enc` is the whole (format-1)
/// record; the table keeps it without the key's fields.
fn write_keyed(
    data: &mut Table<'_, (&'static str, &'static str), &'static [u8]>,
    ids: &mut Table<'_, &'static str, &'static str>,
    inst: &str,
    id: &str,
    enc: &[u8],
) -> Result<Written, LedgerError> {
    let prev = ids.insert(id, inst)?.map(|g| g.value().to_string());
    let old = match &prev {
        Some(pi) => data.get((pi.as_str(), id))?.map(|g| g.value().to_vec()),
        None => None,
    };
    if let (Some(pi), Some(o)) = (&prev, &old) {
        if pi == inst && codec::same_stored(o, enc) {
            return Ok(Written::Unchanged);
        }
    }
    if let Some(pi) = prev.as_deref().filter(|pi| *pi != inst) {
        data.remove((pi, id))?;
    }
    data.insert((inst, id), codec::to_stored(enc).as_slice())?;
    // The audit log keeps whole records: its before-image names the institution.
    let before = prev
        .as_deref()
        .zip(old)
        .map(|(pi, o)| codec::rejoin(pi, id, &o));
    Ok(Written::Changed(before))
}

fn optional<T>(r: Result<T, redb::TableError>) -> Result<Option<T>, LedgerError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

type IdIndex = ReadOnlyTable<&'static str, &'static str>;
type ByInstitution = ReadOnlyTable<(&'static str, &'static str), &'static [u8]>;

/// A record kept under `(institution, id)`, found through its id index.
fn by_id<T: codec::KeyedRecord>(
    ids: &IdIndex,
    table: &ByInstitution,
    id: &str,
) -> Result<Option<T>, LedgerError> {
    let Some(inst) = ids.get(id)?.map(|g| g.value().to_string()) else {
        return Ok(None);
    };
    match table.get((inst.as_str(), id))? {
        Some(g) => Ok(Some(codec::decode_stored(&inst, id, g.value())?)),
        None => Ok(None),
    }
}

/// One institution's records of a table kept under `(institution, id)`, by id: a range scan.
fn of_institution<T: codec::KeyedRecord>(
    table: &ByInstitution,
    inst: &str,
) -> Result<Vec<T>, LedgerError> {
    let mut out = Vec::new();
    for e in table.range((inst, "")..(inst, MAX_ID))? {
        let (k, v) = e?;
        out.push(decode_entry(&k, &v)?);
    }
    Ok(out)
}

/// Decodes an entry of a table kept under `(institution, id)`.
fn decode_entry<T: codec::KeyedRecord>(
    k: &redb::AccessGuard<'_, (&'static str, &'static str)>,
    v: &redb::AccessGuard<'_, &'static [u8]>,
) -> Result<T, LedgerError> {
    let (inst, id) = k.value();
    Ok(codec::decode_stored(inst, id, v.value())?)
}

/// An entry of a table kept under `(institution, id)` as the whole record's bytes.
fn entry_bytes(
    k: &redb::AccessGuard<'_, (&'static str, &'static str)>,
    v: &redb::AccessGuard<'_, &'static [u8]>,
) -> Vec<u8> {
    let (inst, id) = k.value();
    codec::rejoin(inst, id, v.value())
}

/// Records' encoded bytes (whole, key fields included), one after another, from a table scan another thread may drive.
pub type RawIter<'a> = Box<dyn Iterator<Item = Result<Vec<u8>, LedgerError>> + Send + 'a>;

/// Upper bound for a string key range: no id contains this character.
const MAX_ID: &str = "\u{10FFFF}";

impl Reader {
    /// The configured districts, in order.
    pub fn districts(&self) -> &[String] {
        &self.districts
    }

    /// One institution, if it exists.
    pub fn institution(&self, id: &str) -> Result<Option<Institution>, LedgerError> {
        match self.institutions.get(id)? {
            Some(g) => Ok(Some(codec::decode_institution(g.value())?)),
            None => Ok(None),
        }
    }

    /// Numbers of records: institutions, inspections, findings.
    pub fn counts(&self) -> Result<(u64, u64, u64), LedgerError> {
        Ok((
            self.institutions.len()?,
            self.inspection_ids.len()?,
            self.finding_ids.len()?,
        ))
    }

    /// Every institution in id order.
    pub fn institutions(
        &self,
    ) -> Result<impl Iterator<Item = Result<Institution, LedgerError>> + '_, LedgerError> {
        Ok(self.institutions.iter()?.map(|e| {
            let (_, v) = e?;
            Ok(codec::decode_institution(v.value())?)
        }))
    }

    /// Every institution's stored bytes in id order, for callers that decode on other threads.
    pub fn institutions_raw(&self) -> Result<RawIter<'_>, LedgerError> {
        Ok(Box::new(
            self.institutions.iter()?.map(|e| Ok(e?.1.value().to_vec())),
        ))
    }

    /// Institution ids that start with `prefix`, at most `limit` (for completion).
    pub fn institution_ids_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, LedgerError> {
        let mut out = Vec::new();
        for e in self.institutions.range(prefix..)? {
            let (k, _) = e?;
            let k = k.value();
            if !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push(k.to_string());
        }
        Ok(out)
    }

    /// One institution's findings, by id, as a range scan.
    pub fn findings_of(&self, inst: &str) -> Result<Vec<Finding>, LedgerError> {
        of_institution(&self.findings, inst)
    }

    /// Appends the bytes of each finding of one institution to `out` (no allocation per record).
    pub fn findings_raw_of(&self, inst: &str, out: &mut RawRecords) -> Result<(), LedgerError> {
        for e in self.findings.range((inst, "")..(inst, MAX_ID))? {
            let (k, v) = e?;
            out.push(inst, k.value().1, v.value());
        }
        Ok(())
    }

    /// A walk over the findings of the institutions `first` to `last` (ids, inclusive),
    /// for a caller that asks for them institution by institution, in id order:
    /// one range scan instead of one per institution.
    pub fn findings_cursor(&self, first: &str, last: &str) -> Result<FindingCursor, LedgerError> {
        Ok(FindingCursor {
            it: self.findings.range((first, "")..(last, MAX_ID))?,
            pending: None,
            first: first.to_string(),
            last: last.to_string(),
            served: None,
            broken: false,
        })
    }

    /// One institution's inspections, by id, as a range scan.
    pub fn inspections_of(&self, inst: &str) -> Result<Vec<Inspection>, LedgerError> {
        of_institution(&self.inspections, inst)
    }

    /// Every finding, grouped by institution.
    pub fn findings(
        &self,
    ) -> Result<impl Iterator<Item = Result<Finding, LedgerError>> + '_, LedgerError> {
        Ok(self.findings.iter()?.map(|e| {
            let (k, v) = e?;
            decode_entry::<Finding>(&k, &v)
        }))
    }

    /// Every finding's encoded bytes (whole, key fields included), grouped by institution.
    pub fn findings_raw(
        &self,
    ) -> Result<impl Iterator<Item = Result<Vec<u8>, LedgerError>> + '_, LedgerError> {
        Ok(self.findings.iter()?.map(|e| {
            let (k, v) = e?;
            Ok(entry_bytes(&k, &v))
        }))
    }

    /// Every inspection, grouped by institution.
    pub fn inspections(
        &self,
    ) -> Result<impl Iterator<Item = Result<Inspection, LedgerError>> + '_, LedgerError> {
        Ok(self.inspections.iter()?.map(|e| {
            let (k, v) = e?;
            decode_entry::<Inspection>(&k, &v)
        }))
    }

    /// The institution a finding id belongs to, if the id is in use.
    pub fn finding_institution(&self, id: &str) -> Result<Option<String>, LedgerError> {
        Ok(self.finding_ids.get(id)?.map(|g| g.value().to_string()))
    }

    /// One finding by its id.
    pub fn finding(&self, id: &str) -> Result<Option<Finding>, LedgerError> {
        by_id(&self.finding_ids, &self.findings, id)
    }

    /// One institution's licence applications, by id.
    pub fn applications_of(&self, inst: &str) -> Result<Vec<Application>, LedgerError> {
        match &self.applications {
            Some(t) => of_institution(t, inst),
            None => Ok(Vec::new()),
        }
    }

    /// Every licence application, grouped by institution.
    pub fn applications(&self) -> Result<Vec<Application>, LedgerError> {
        let mut out = Vec::new();
        let Some(t) = &self.applications else {
            return Ok(out);
        };
        for e in t.iter()? {
            let (k, v) = e?;
            out.push(decode_entry::<Application>(&k, &v)?);
        }
        Ok(out)
    }

    /// One licence application by id.
    pub fn application(&self, id: &str) -> Result<Option<Application>, LedgerError> {
        match (&self.application_ids, &self.applications) {
            (Some(ids), Some(t)) => by_id(ids, t, id),
            _ => Ok(None),
        }
    }

    /// One institution's course filings, by id.
    pub fn courses_of(&self, inst: &str) -> Result<Vec<Course>, LedgerError> {
        match &self.courses {
            Some(t) => of_institution(t, inst),
            None => Ok(Vec::new()),
        }
    }

    /// Every course filing, grouped by institution, decoded as the caller walks.
    pub fn courses(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<Course, LedgerError>> + '_>, LedgerError> {
        let Some(t) = &self.courses else {
            return Ok(Box::new(std::iter::empty()));
        };
        Ok(Box::new(t.iter()?.map(|e| {
            let (k, v) = e?;
            decode_entry::<Course>(&k, &v)
        })))
    }

    /// Every course filing's encoded bytes (whole, key fields included), grouped by institution, for callers
    /// that decode on other threads.
    pub fn courses_raw(&self) -> Result<RawIter<'_>, LedgerError> {
        let Some(t) = &self.courses else {
            return Ok(Box::new(std::iter::empty()));
        };
        Ok(Box::new(t.iter()?.map(|e| {
            let (k, v) = e?;
            Ok(entry_bytes(&k, &v))
        })))
    }

    /// How many course filings the ledger holds (any date).
    pub fn course_count(&self) -> Result<u64, LedgerError> {
        match &self.courses {
            Some(t) => Ok(t.len()?),
            None => Ok(0),
        }
    }

    /// One course filing by id.
    pub fn course(&self, id: &str) -> Result<Option<Course>, LedgerError> {
        match (&self.course_ids, &self.courses) {
            (Some(ids), Some(t)) => by_id(ids, t, id),
            _ => Ok(None),
        }
    }

    /// One inspection by its id.
    pub fn inspection(&self, id: &str) -> Result<Option<Inspection>, LedgerError> {
        by_id(&self.inspection_ids, &self.inspections, id)
    }

    /// An institution's status history, oldest first (ties in entry order).
    pub fn status_history(&self, inst: &str) -> Result<Vec<StatusChange>, LedgerError> {
        let mut v = Vec::new();
        for e in self.history.range((inst, 0u64)..=(inst, u64::MAX))? {
            let (_, val) = e?;
            v.push(codec::decode_status(val.value())?);
        }
        v.sort_by_key(|c| c.date);
        Ok(v)
    }

    /// The status in force on `d`: the latest entry dated on or before it.
    /// The record carries the latest-dated status, so the history is read only
    /// when `d` is before that.
    pub fn status_as_of(
        &self,
        x: &Institution,
        d: NaiveDate,
    ) -> Result<Option<Status>, LedgerError> {
        if x.status_date <= d {
            return Ok(Some(x.status));
        }
        Ok(self
            .status_history(&x.id)?
            .into_iter()
            .rev()
            .find(|c| c.date <= d)
            .map(|c| c.status))
    }

    /// Every entry ever made on list `list` (all lists if empty), in list/institution order.
    pub fn list_entries(&self, list: &str) -> Result<Vec<ListEntry>, LedgerError> {
        let mut v = Vec::new();
        let Some(lists) = &self.lists else {
            return Ok(v);
        };
        for e in lists.iter()? {
            let (k, val) = e?;
            if list.is_empty() || k.value().0 == list {
                v.push(
                    serde_json::from_str(val.value())
                        .map_err(|e| LedgerError::Storage(format!("bad list entry: {e}")))?,
                );
            }
        }
        Ok(v)
    }

    /// An institution's list entries (every list).
    pub fn list_entries_of(&self, id: &str) -> Result<Vec<ListEntry>, LedgerError> {
        Ok(self
            .list_entries("")?
            .into_iter()
            .filter(|e| e.institution_id == id)
            .collect())
    }

    /// Saved scoring runs (number, JSON header), oldest first.
    pub fn runs(&self) -> Result<Vec<(u64, serde_json::Value)>, LedgerError> {
        let mut v = Vec::new();
        let Some(runs) = &self.runs else { return Ok(v) };
        for e in runs.iter()? {
            let (k, val) = e?;
            v.push((
                k.value(),
                serde_json::from_str(val.value()).unwrap_or_default(),
            ));
        }
        Ok(v)
    }

    /// The results of one saved run, by institution id.
    pub fn run_results(&self, run: u64) -> Result<Vec<(String, serde_json::Value)>, LedgerError> {
        let mut v = Vec::new();
        let Some(rr) = &self.run_results else {
            return Ok(v);
        };
        for e in rr.range((run, "")..(run, MAX_ID))? {
            let (k, val) = e?;
            v.push((
                k.value().1.to_string(),
                serde_json::from_str(val.value()).unwrap_or_default(),
            ));
        }
        Ok(v)
    }

    /// One institution's result in one saved run.
    pub fn run_result(&self, run: u64, id: &str) -> Result<Option<serde_json::Value>, LedgerError> {
        let Some(rr) = &self.run_results else {
            return Ok(None);
        };
        Ok(rr
            .get((run, id))?
            .map(|g| serde_json::from_str(g.value()).unwrap_or_default()))
    }

    /// Notices issued to an institution: (kind, date, JSON record), oldest first per kind.
    pub fn notices_of(
        &self,
        id: &str,
    ) -> Result<Vec<(String, NaiveDate, serde_json::Value)>, LedgerError> {
        let mut v = Vec::new();
        let Some(t) = &self.notices else { return Ok(v) };
        for e in t.range((id, "", i64::MIN)..=(id, MAX_ID, i64::MAX))? {
            let (k, val) = e?;
            let (_, kind, day) = k.value();
            let Some(d) = NaiveDate::from_num_days_from_ce_opt(day as i32) else {
                continue;
            };
            v.push((
                kind.to_string(),
                d,
                serde_json::from_str(val.value()).unwrap_or_default(),
            ));
        }
        Ok(v)
    }

    /// What one audit entry changed, in order.
    pub fn audit_changes(&self, n: u64) -> Result<Vec<Change>, LedgerError> {
        let mut v = Vec::new();
        for e in self.audit_changes.range((n, 0u64)..=(n, u64::MAX))? {
            v.push(codec::decode_change(e?.1.value())?);
        }
        Ok(v)
    }

    /// The licence an institution held on `d`: (number, issued, expires). The
    /// record carries the current licence; earlier ones are in the licence history.
    pub fn licence_as_of(
        &self,
        x: &Institution,
        d: NaiveDate,
    ) -> Result<Option<(String, NaiveDate, Option<NaiveDate>)>, LedgerError> {
        if x.licence_issued.is_some_and(|i| i <= d) {
            return Ok(Some((
                x.licence_no.clone().unwrap_or_default(),
                x.licence_issued.unwrap(),
                x.licence_expires,
            )));
        }
        let Some(t) = &self.licence_history else {
            return Ok(None);
        };
        let mut best: Option<(String, NaiveDate, Option<NaiveDate>)> = None;
        for e in t.range((x.id.as_str(), 0u64)..=(x.id.as_str(), u64::MAX))? {
            let v: serde_json::Value = serde_json::from_str(e?.1.value()).unwrap_or_default();
            let Some(issued) = v["issued"].as_str().and_then(|s| parse_date(s).ok()) else {
                continue;
            };
            if issued <= d && best.as_ref().is_none_or(|b| b.1 <= issued) {
                let expires = v["expires"].as_str().and_then(|s| parse_date(s).ok());
                best = Some((
                    v["licence_no"].as_str().unwrap_or("").to_string(),
                    issued,
                    expires,
                ));
            }
        }
        Ok(best)
    }

    /// One audit entry's JSON header.
    pub fn audit_entry(&self, n: u64) -> Result<Option<String>, LedgerError> {
        Ok(self.audit.get(n)?.map(|g| g.value().to_string()))
    }

    /// Audit entries (number, JSON header), newest last.
    pub fn audit(&self) -> Result<Vec<(u64, String)>, LedgerError> {
        let mut v = Vec::new();
        for e in self.audit.iter()? {
            let (k, val) = e?;
            v.push((k.value(), val.value().to_string()));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(b: &Batch, order: &[u32]) -> Vec<(String, String)> {
        b.in_order(order)
            .map(|r| (r.inst.to_string(), r.id.to_string()))
            .collect()
    }

    #[test]
    fn a_batch_sorts_by_institution_then_id_and_separately_by_id() {
        let mut b = Batch::default();
        // Ids longer than the 16-byte prefixes the sort compares first, equal
        // in those 16 bytes, and ids that are prefixes of each other.
        let rows = [
            ("I2", "F-0000000000000000-b"),
            ("I1", "F-0000000000000000-a"),
            ("I10", "F-1"),
            ("I1", "F-0000000000000000"),
            ("I2", "F-0000000000000000-a"),
            ("I1", "F-"),
            ("机构甲", "F-2"),
            ("GZ-0000000000000-B", "F1"),
            ("GZ-0000000000000-A", "F2"),
            ("GZ-0000000000000", "F3"),
        ];
        for (inst, id) in rows {
            b.push(inst, id, [b"x", b""], None);
        }
        b.sort();
        let mut want: Vec<(String, String)> = rows
            .iter()
            .map(|(i, d)| (i.to_string(), d.to_string()))
            .collect();
        want.sort();
        assert_eq!(keys(&b, &b.by_key), want);
        let ids: Vec<String> = keys(&b, &b.by_id).into_iter().map(|k| k.1).collect();
        let mut want_ids: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
        want_ids.sort();
        assert_eq!(ids, want_ids);
    }

    #[test]
    fn a_batch_row_gives_back_what_was_pushed() {
        let mut b = Batch::default();
        b.push("I1", "F1", [b"ne", b"w"], Some(("I0", b"old bytes")));
        b.push("I2", "F2", [b"", b""], None);
        b.sort();
        let rows: Vec<Staged> = b.in_order(&b.by_key).collect();
        assert_eq!(
            (rows[0].inst, rows[0].id, rows[0].enc),
            ("I1", "F1", &b"new"[..])
        );
        assert_eq!(rows[0].prev, Some(("I0", &b"old bytes"[..])));
        assert_eq!((rows[1].inst, rows[1].id, rows[1].prev), ("I2", "F2", None));
    }

    #[test]
    fn an_id_map_tells_every_id_apart() {
        let ids = [
            "",
            "A",
            "A\0",
            "AB",
            "0123456789abcde",
            "0123456789abcdef",
            "0123456789abcdefg",
            "机构",
            "机构甲乙丙丁戊", // 21 bytes: kept as text
        ];
        let mut m = IdMap::default();
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(m.insert_new(id, n), None, "{id:?}");
        }
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(m.get(id), Some(&n), "{id:?}");
            assert_eq!(m.insert_new(id, 99), Some(&n), "{id:?}");
        }
        assert!(!m.contains("B"));
        assert!(!m.contains("机构甲乙丙丁戊己"));
    }
}
