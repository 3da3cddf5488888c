//! Giving a ledger's free pages back: `casebook compact`, the compact copy
//! `casebook backup` writes, and the compaction after an import that left
//! much of the file free.
//!
//! redb writes copy-on-write and grows its file in steps (doubling while it
//! is small), so a large write transaction leaves free pages in the file,
//! which redb reuses but never gives back by itself. `redb::Database::compact`
//! moves the pages in use to the front and trims the end, in transactions of
//! its own, each committed whole: a crash leaves the file before or after
//! one of them, with the same contents either way.
//!
//! Compaction changes no record, so it is no write of the ledger's contents:
//! it goes through no [`LedgerWriter::transact`] and leaves no audit entry.
//! The state digest, the hash chain and every head written down before
//! still hold (`verify --head`), and an audit log that records only changes
//! to what the ledger says stays a log of exactly that; an entry for moving
//! pages would be the only entry that changes nothing.
//!
//! It needs the writer's lock (so a writer elsewhere makes it wait and then
//! fail as busy), the database to itself within this process (`&mut
//! Database`), and no read transaction open in another process: redb holds
//! the file's header lock while it moves pages, so a reader that begins
//! meanwhile waits for it, and one already reading makes it wait (and after
//! the busy timeout fail as busy) rather than move pages under it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::{CompactionError, Database};

use super::{LedgerError, LedgerWriter};

/// The page cache compaction runs with.
const COMPACT_CACHE: usize = 32 << 20;

/// What a compaction did to the file's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// The file's length before, in bytes.
    pub before: u64,
    /// The file's length after, in bytes.
    pub after: u64,
}

/// The length of the file at `path` (0 if it cannot be read).
pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

impl LedgerWriter {
    /// Compacts the ledger and closes it. Waits up to `wait` for readers in
    /// other processes to end their read transactions, then fails with
    /// [`LedgerError::ReadersBusy`]. Every [`Ledger`](super::Ledger) handle
    /// and [`Reader`](super::Reader) of this process on the file must have
    /// been dropped.
    pub fn compact(self, wait: Duration) -> Result<Compacted, LedgerError> {
        let path = self.ledger.path.clone();
        let before = file_len(&path);
        let db = self.reopen_small(wait)?;
        compact_db(db, &path, wait)?;
        Ok(Compacted {
            before,
            after: file_len(&path),
        })
    }

    /// As [`LedgerWriter::compact`], but only if `worth(unused, len)` says
    /// so, given the bytes of the file that no page in use takes and its
    /// length; `None` if it was left as it is. The unused bytes come from
    /// redb's own count, which reads every page of every table once (a
    /// fraction of a compaction that was not needed); if they cannot be
    /// counted, it compacts. Pages the last commit freed count as in use.
    pub fn compact_if(
        self,
        wait: Duration,
        worth: impl FnOnce(u64, u64) -> bool,
    ) -> Result<Option<Compacted>, LedgerError> {
        let path = self.ledger.path.clone();
        let before = file_len(&path);
        let db = self.reopen_small(wait)?;
        let used = (|| -> Result<u64, LedgerError> {
            let txn = db.begin_write()?;
            let stats = txn.stats()?;
            txn.abort()?;
            Ok(stats.allocated_pages() * stats.page_size() as u64)
        })();
        if let Ok(used) = used {
            if !worth(before.saturating_sub(used), before) {
                return Ok(None);
            }
        }
        compact_db(db, &path, wait)?;
        Ok(Some(Compacted {
            before,
            after: file_len(&path),
        }))
    }

    /// Closes the ledger and opens its file again with a small page cache,
    /// for this process alone.
    fn reopen_small(self, wait: Duration) -> Result<Database, LedgerError> {
        let path = self.ledger.path.clone();
        let LedgerWriter { db, ledger } = self;
        drop(ledger);
        let db = Arc::try_unwrap(db).map_err(|_| {
            LedgerError::Storage("the ledger is still in use in this process".into())
        })?;
        // Reopened with a small page cache: the writer's (an import's is
        // up to 224 MiB) is full of the pages it wrote, and compaction on
        // top of it passed the import's peak. Another writer may take the
        // file in between; then this one waits for it like any writer.
        drop(db);
        super::LedgerWriter::open_db(&path, wait, COMPACT_CACHE)
    }
}

/// Compacts `db` (the file at `path`) and closes it, waiting up to `wait`
/// for other processes' read transactions.
pub(super) fn compact_db(mut db: Database, path: &Path, wait: Duration) -> Result<(), LedgerError> {
    let start = Instant::now();
    loop {
        match db.compact() {
            Ok(_) => return Ok(()),
            Err(CompactionError::TransactionInProgress) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(CompactionError::TransactionInProgress) => {
                return Err(LedgerError::ReadersBusy {
                    path: path.into(),
                    waited: start.elapsed(),
                })
            }
            Err(e) => return Err(LedgerError::Redb(super::RedbError::Any(e.into()))),
        }
    }
}
