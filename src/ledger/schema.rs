//! What a ledger file holds: its tables, the marker and schema version in
//! `meta`, and the steps that migrate an older schema to this build's.
//!
//! Adding a table needs no new schema version: [`LedgerWriter::ensure_tables`]
//! creates it when a ledger is opened for writing, and a reader finds it
//! missing in a ledger an older build wrote (see `Reader`'s optional tables).

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::seal::{Bytes, Text};
use super::{Ledger, LedgerError, LedgerWriter};
use crate::model::DEFAULT_DISTRICTS;

/// The schema this build writes. Bump it only for a change the record encoding
/// cannot absorb (a new field never needs it), and add the step to [`MIGRATIONS`].
///
/// 2: inspections, findings, applications and courses are stored without the
/// id and institution their key holds (`codec`'s format 2), which a build
/// that knows only schema 1 cannot decode: the version makes it refuse the
/// ledger with a message that says why, instead of failing on a record.
///
/// 3: every value but `meta`'s is sealed with a checksum (`seal`), every
/// audit entry records what it did to the state digest (`state`) and is
/// chained by hash to the one before (`chain`).
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest schema this build reads as it is, without migrating: a ledger
/// from this version on is read as it is and migrated by its first committed
/// write; an older one is migrated when it is opened for writing, and a
/// read-only open refuses it until then. Schema 3 changed the tables' value
/// types, which redb checks on every open, so nothing older reads as it is.
pub const READS_FROM: u32 = 3;

/// Steps that bring a ledger from version `i + 1` to `i + 2`, run by
/// [`migrate`] in one write transaction (see [`READS_FROM`] for which).
type Migration = fn(&WriteTransaction) -> Result<(), LedgerError>;
// One step for every version before this one.
const _: () = assert!(MIGRATIONS.len() == SCHEMA_VERSION as usize - 1);
const MIGRATIONS: &[Migration] = &[
    // 1 → 2: nothing to rewrite. Records of schema 1 stay as they are until
    // they are next written; the version keeps older builds away from the
    // records written from now on.
    |_| Ok(()),
    // 2 → 3: every table rewritten with sealed values. The migration's own
    // audit entry then brings the log into the chain (see [`migrate`]).
    super::migrate3::reseal_all,
];

/// The tables inside the state digest (see `state`): every table of records,
/// that is all but `meta` and the audit log's own.
/// `name` as the `'static` entry of [`TRACKED`]; a table outside it is a bug.
pub(super) fn tracked_name(name: &str) -> &'static str {
    TRACKED
        .iter()
        .copied()
        .find(|n| *n == name)
        .unwrap_or_else(|| panic!("table {name} is not in schema::TRACKED"))
}

pub(super) const TRACKED: &[&str] = &[
    "institutions",
    "inspections",
    "inspection_ids",
    "findings",
    "finding_ids",
    "status_history",
    "lists",
    "runs",
    "run_results",
    "notices",
    "applications",
    "application_ids",
    "courses",
    "course_ids",
    "licence_history",
];

pub(super) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
pub(super) const INSTITUTIONS: TableDefinition<&str, Bytes> = TableDefinition::new("institutions");
/// Keyed (institution_id, id) so that one institution's inspections are one range.
pub(super) const INSPECTIONS: TableDefinition<(&str, &str), Bytes> =
    TableDefinition::new("inspections");
/// id → institution_id, to find an inspection by its own id.
pub(super) const INSPECTION_IDS: TableDefinition<&str, Text> =
    TableDefinition::new("inspection_ids");
/// Keyed (institution_id, id): `inst.findings()` is a range scan of adjacent pages.
pub(super) const FINDINGS: TableDefinition<(&str, &str), Bytes> = TableDefinition::new("findings");
pub(super) const FINDING_IDS: TableDefinition<&str, Text> = TableDefinition::new("finding_ids");
/// (institution_id, sequence) → status change; sorted by date when read.
pub(super) const STATUS_HISTORY: TableDefinition<(&str, u64), Bytes> =
    TableDefinition::new("status_history");
/// Audit entry number → JSON header of one operation. Append-only.
pub(super) const AUDIT: TableDefinition<u64, Text> = TableDefinition::new("audit");
/// (audit entry, n) → one changed record with its before-image. Append-only.
pub(super) const AUDIT_CHANGES: TableDefinition<(u64, u64), Bytes> =
    TableDefinition::new("audit_changes");
/// Audit entry number → the 32-byte hash that chains it to the entry before
/// (see `chain`). Append-only.
pub(super) const AUDIT_CHAIN: TableDefinition<u64, Bytes> = TableDefinition::new("audit_chain");

/// (list name, institution_id, sequence) → one spell on a black/white list.
pub(super) const LISTS: TableDefinition<(&str, &str, u64), Text> = TableDefinition::new("lists");

/// Run number → JSON header of a saved scoring run (the decision log). Never modified.
pub(super) const RUNS: TableDefinition<u64, Text> = TableDefinition::new("runs");
/// (run, institution_id) → JSON {score, grade, reasons}. Never modified.
pub(super) const RUN_RESULTS: TableDefinition<(u64, &str), Text> =
    TableDefinition::new("run_results");

/// (institution_id, kind, day number) → JSON {date, file, sha256, audit, operator}: the notice register.
pub(super) const NOTICES: TableDefinition<(&str, &str, i64), Text> =
    TableDefinition::new("notices");

/// (institution_id, id) → licence application; `application_ids` maps id → institution.
pub(super) const APPLICATIONS: TableDefinition<(&str, &str), Bytes> =
    TableDefinition::new("applications");
pub(super) const APPLICATION_IDS: TableDefinition<&str, Text> =
    TableDefinition::new("application_ids");
/// (institution_id, id) → course filing; `course_ids` maps id → institution.
pub(super) const COURSES: TableDefinition<(&str, &str), Bytes> = TableDefinition::new("courses");
pub(super) const COURSE_IDS: TableDefinition<&str, Text> = TableDefinition::new("course_ids");

/// (institution_id, sequence) → JSON {licence_no, issued, expires, audit}: licences an
/// institution held before its current one, so "licensed on date D" stays answerable.
pub(super) const LICENCE_HISTORY: TableDefinition<(&str, u64), Text> =
    TableDefinition::new("licence_history");

const MAGIC: &str = "casebook ledger";

/// Writes the `meta` of a new ledger and creates every table.
pub(super) fn initialize(txn: &WriteTransaction) -> Result<(), LedgerError> {
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
    txn.open_table(AUDIT_CHAIN)?;
    txn.open_table(LISTS)?;
    txn.open_table(RUNS)?;
    txn.open_table(RUN_RESULTS)?;
    txn.open_table(NOTICES)?;
    txn.open_table(APPLICATIONS)?;
    txn.open_table(APPLICATION_IDS)?;
    txn.open_table(COURSES)?;
    txn.open_table(COURSE_IDS)?;
    txn.open_table(LICENCE_HISTORY)?;
    Ok(())
}

impl LedgerWriter {
    /// Creates tables a newer build added, so that readers always find them.
    /// Adding an empty table needs no schema bump.
    pub(super) fn ensure_tables(&self) -> Result<(), LedgerError> {
        let db = &self.db;
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

    /// Migrates now a ledger of schema `v`, which this build cannot read as
    /// it is (see [`Ledger::check_schema`]).
    pub(super) fn migrate_now(&self, v: u32) -> Result<(), LedgerError> {
        let w = self.db.begin_write()?;
        migrate(&w, v, super::who::declared_operator())?;
        w.commit()?;
        Ok(())
    }
}

impl Ledger {
    /// Refuses what is not a ledger or is newer than this build. An older
    /// ledger that this build reads as it is waits for its first committed
    /// write to be migrated (see [`LedgerWriter::transact`]), so that a dry
    /// run or a reader leaves it as it was; one it cannot read gives its
    /// schema, for the opener to migrate it now (a writer) or refuse it (a
    /// reader).
    pub(super) fn check_schema(&self) -> Result<Option<u32>, LedgerError> {
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
        Ok((v < READS_FROM).then_some(v))
    }
}

/// The schema version `meta` records, if it records one (versions start at 1).
pub(super) fn schema_version(
    meta: &impl ReadableTable<&'static str, &'static str>,
) -> Result<Option<u32>, redb::StorageError> {
    Ok(meta
        .get("schema_version")?
        .and_then(|g| g.value().parse().ok())
        .filter(|&v| v >= 1))
}

/// Brings the ledger `w` writes from schema `from` to this build's, and says
/// so in the audit log as done by `operator`: a migration is a write like any
/// other. One from before the hash chain (schema 3) chains the entries the
/// log holds, and its own entry records the whole state as its change: from
/// it on, the log accounts for every record (see `state`).
pub(super) fn migrate(w: &WriteTransaction, from: u32, operator: &str) -> Result<(), LedgerError> {
    for step in &MIGRATIONS[(from as usize - 1)..] {
        step(w)?;
    }
    w.open_table(META)?
        .insert("schema_version", SCHEMA_VERSION.to_string().as_str())?;
    let mut state = serde_json::Map::new();
    if from < 3 {
        super::chain::backfill(w)?;
        for (name, s) in super::migrate3::live_state(w)? {
            if !s.is_zero() {
                state.insert(name.into(), s.to_hex().into());
            }
        }
    }
    let seq = w
        .open_table(AUDIT)?
        .last()?
        .map(|(k, _)| k.value() + 1)
        .unwrap_or(1);
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
        "detail": (from < 3).then_some("every record sealed with a checksum; the audit log chained by hash from here back to its first entry; this entry's state is the whole ledger's"),
        "who": super::who::who(),
        "state": state,
    });
    let none = super::chain::ChangesDigest::default().finish();
    super::chain::append(w, seq, &header.to_string(), none)
}
