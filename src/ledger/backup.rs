//! `casebook backup`: a consistent copy of the ledger, taken from one read
//! snapshot while other processes go on writing.
//!
//! Copying the file's bytes while a writer commits can catch it half-way, so
//! the copy is logical: every table is read from one snapshot and written
//! into a new redb file, which is committed, compacted (no free pages left
//! behind), synced, renamed into place and then opened again and compared
//! table by table with the snapshot.

use std::path::{Path, PathBuf};

use redb::{
    ReadTransaction, ReadableDatabase, ReadableTableMetadata, TableDefinition, TableHandle,
};

use super::schema::*;
use super::{Ledger, LedgerError};

/// What a backup copied: each table's name and number of entries.
#[derive(Debug, Default)]
pub struct BackupSummary {
    /// (table, entries) in the order they were copied.
    pub tables: Vec<(&'static str, u64)>,
    /// The last audit entry the copy holds (0 for none).
    pub last_audit: u64,
}

/// Calls `$m!(TABLE)` for every table of the ledger.
macro_rules! each_table {
    ($m:ident) => {
        $m!(META);
        $m!(INSTITUTIONS);
        $m!(INSPECTIONS);
        $m!(INSPECTION_IDS);
        $m!(FINDINGS);
        $m!(FINDING_IDS);
        $m!(STATUS_HISTORY);
        $m!(AUDIT);
        $m!(AUDIT_CHANGES);
        $m!(AUDIT_CHAIN);
        $m!(LISTS);
        $m!(RUNS);
        $m!(RUN_RESULTS);
        $m!(NOTICES);
        $m!(APPLICATIONS);
        $m!(APPLICATION_IDS);
        $m!(COURSES);
        $m!(COURSE_IDS);
        $m!(LICENCE_HISTORY);
    };
}

/// The number of entries of `t` in the snapshot, or `None` if the ledger has
/// no such table (an older ledger, opened read-only).
fn entries<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    t: TableDefinition<K, V>,
) -> Result<Option<u64>, LedgerError> {
    match txn.open_table(t) {
        Ok(table) => Ok(Some(table.len()?)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Ledger {
    /// Copies the ledger as of one snapshot to `dest`, which must not exist:
    /// written beside it, synced, renamed into place, then checked.
    pub fn backup(&self, dest: &Path) -> Result<BackupSummary, LedgerError> {
        if dest.exists() {
            return Err(LedgerError::Storage(format!(
                "{} already exists; a backup is always a new file and never replaces one",
                dest.display()
            )));
        }
        let tmp = partial_name(dest);
        let result = self.copy_to(&tmp).and_then(|summary| {
            // The rename makes the copy appear whole or not at all; the
            // directory is synced so the rename survives a crash.
            std::fs::rename(&tmp, dest).map_err(|e| io_error(dest, e))?;
            if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io_error(dir, e))?;
            }
            Ok(summary)
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        let summary = result?;
        check(dest, &summary)?;
        Ok(summary)
    }

    /// Writes every table of one snapshot into a new redb file at `to`.
    fn copy_to(&self, to: &Path) -> Result<BackupSummary, LedgerError> {
        let src = self.begin_read()?;
        // redb's default page cache is 1 GiB, and the copy writes every page
        // once: a province's backup filled it (peak 1.6 GB). A copy made in
        // key order reads back only the B-trees' branch pages.
        let db = super::sized_builder(super::READ_CACHE_BYTES)
            .create(to)
            .map_err(|e| LedgerError::Storage(format!("cannot create {}: {e}", to.display())))?;
        let w = db.begin_write()?;
        let mut summary = BackupSummary::default();
        macro_rules! copy {
            ($t:ident) => {
                match src.open_table($t) {
                    Ok(from) => {
                        let mut into = w.open_table($t)?;
                        for entry in redb::ReadableTable::iter(&from)? {
                            let (k, v) = entry?;
                            into.insert(k.value(), v.value())?;
                        }
                        summary.tables.push(($t.name(), from.len()?));
                    }
                    // An older ledger opened read-only may lack a later table.
                    Err(redb::TableError::TableDoesNotExist(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            };
        }
        each_table!(copy);
        summary.last_audit = match src.open_table(AUDIT) {
            Ok(t) => redb::ReadableTable::last(&t)?
                .map(|(k, _)| k.value())
                .unwrap_or(0),
            Err(_) => 0,
        };
        w.commit()?;
        // The copy grew in steps as it was written: its free pages are
        // given back before it is put in place (nothing else has it open).
        super::compact::compact_db(db, to, std::time::Duration::ZERO)?;
        std::fs::File::open(to)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_error(to, e))?;
        Ok(summary)
    }
}

/// Opens the copy on its own and compares every table's entries with what
/// was copied.
fn check(dest: &Path, summary: &BackupSummary) -> Result<(), LedgerError> {
    let db = super::sized_builder(super::READ_CACHE_BYTES)
        .open_read_only(dest)
        .map_err(|e| {
            LedgerError::Storage(format!(
                "the backup {} cannot be opened: {e}",
                dest.display()
            ))
        })?;
    let txn = db.begin_read()?;
    let mut found = Vec::new();
    macro_rules! count {
        ($t:ident) => {
            if let Some(n) = entries(&txn, $t)? {
                found.push(($t.name(), n));
            }
        };
    }
    each_table!(count);
    if found != summary.tables {
        return Err(LedgerError::Storage(format!(
            "the backup {} does not hold what was copied (copied {:?}, found {:?})",
            dest.display(),
            summary.tables,
            found
        )));
    }
    Ok(())
}

/// A name beside `dest` for the copy while it is written.
fn partial_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    dest.with_file_name(format!(".{name}.{}.partial", std::process::id()))
}

fn io_error(p: &Path, e: std::io::Error) -> LedgerError {
    LedgerError::Storage(format!("{}: {e}", p.display()))
}
