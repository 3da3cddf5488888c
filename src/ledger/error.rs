//! The ledger's errors: what opening, reading and writing can fail with,
//! and a record refused by validation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::DatabaseError;

use super::codec::DecodeError;
use crate::model::FieldError;

/// Errors of opening, reading and writing the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("no ledger at {0}: create one with `casebook init` (or `casebook demo` for the demo city), or point --db / CASEBOOK_DB at an existing one")]
    Missing(PathBuf),
    #[error("{0} already exists; `init` never overwrites a ledger")]
    Exists(PathBuf),
    #[error("{path} is not a casebook ledger ({why})")]
    NotALedger { path: PathBuf, why: String },
    /// The account may not open the file: said as such, not as a file that
    /// is no ledger (the file may well be one).
    #[error("cannot open the ledger {path}: permission denied (this account may not read it, or may not write it for a command that writes; see `ls -l {path}`)")]
    PermissionDenied { path: PathBuf },
    /// redb could not open the file as a database of its own.
    #[error("{path} is not a casebook ledger ({err})")]
    NotADatabase { path: PathBuf, err: DatabaseError },
    #[error("{path} was written by a newer casebook (schema {found}, this build knows up to {supported}): upgrade casebook to open it")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the ledger {path} is busy: another casebook process is writing to it; gave up after waiting {waited:.1?} (set CASEBOOK_BUSY_TIMEOUT=SECONDS to wait longer)")]
    Busy { path: PathBuf, waited: Duration },
    /// Compaction waits for other processes' read transactions to end, as
    /// it must not move pages under them.
    #[error("the ledger {path} is busy: another casebook process is reading it, and compaction waits for readers to finish; gave up after waiting {waited:.1?} (set CASEBOOK_BUSY_TIMEOUT=SECONDS to wait longer, or compact when nothing reads it)")]
    ReadersBusy { path: PathBuf, waited: Duration },
    /// A failure casebook itself detects in the file or around it.
    #[error("ledger storage error: {0}")]
    Storage(String),
    /// A failure redb reports, kept as redb gave it.
    #[error("ledger storage error: {0}")]
    Redb(RedbError),
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

/// An error of redb, of whichever of its types the failing call returns.
///
/// Neither this nor the redb errors in [`LedgerError`] are a `#[source]`:
/// every message that holds one already says what it says, and the command
/// line prints an error with its sources (`{:#}`), which would say it twice.
#[derive(Debug, thiserror::Error)]
pub enum RedbError {
    #[error("{0}")]
    Any(redb::Error),
    #[error("{0}")]
    Storage(redb::StorageError),
    #[error("{0}")]
    Table(redb::TableError),
    #[error("{0}")]
    Transaction(redb::TransactionError),
    #[error("{0}")]
    Commit(redb::CommitError),
}

macro_rules! redb_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for LedgerError {
            fn from(e: $t) -> Self {
                LedgerError::Redb(RedbError::$v(e))
            }
        }
    )*};
}
redb_from!(
    redb::Error => Any,
    redb::StorageError => Storage,
    redb::TableError => Table,
    redb::TransactionError => Transaction,
    redb::CommitError => Commit
);

/// A rejection with these reasons.
pub(super) fn reject(e: Vec<FieldError>) -> LedgerError {
    LedgerError::Rejected(Rejection(e))
}

/// What redb refusing to open `path` means for the user.
pub(super) fn open_error(path: &Path, e: DatabaseError) -> LedgerError {
    match e {
        DatabaseError::UpgradeRequired(v) => LedgerError::NotALedger {
            path: path.into(),
            why: format!("an old redb file format {v}"),
        },
        DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            LedgerError::PermissionDenied { path: path.into() }
        }
        err => LedgerError::NotADatabase {
            path: path.into(),
            err,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_the_account_may_not_open_is_said_to_be_so() {
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = open_error(
            Path::new("l.redb"),
            DatabaseError::Storage(redb::StorageError::Io(denied)),
        );
        let msg = e.to_string();
        assert!(msg.contains("permission denied"), "{msg}");
        assert!(!msg.contains("not a casebook ledger"), "{msg}");
    }
}
