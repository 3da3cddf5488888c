//! `casebook verify`: whether the ledger is what its audit log says it is.
//!
//! Four checks, each reporting every failure it finds rather than the first:
//! 1. redb's own integrity check (its page checksums), run on a copy taken
//!    between two commits, because redb repairs the file it checks;
//! 2. every stored value against its checksum (see `seal`);
//! 3. the audit log's hash chain, entry by entry (see `chain`), and, given
//!    `--head`, that the log still extends a head written down before;
//! 4. for every table, that the state digest of its records equals the sum
//!    of the changes the log's entries recorded for it (see `state`).
//!
//! Values are read raw here (the `Raw*` types below carry the sealed types'
//! names, which redb checks, but do not check the CRC), so a damaged value is
//! a line of the report, not a panic. A panic of redb itself on a damaged
//! page is caught per table. `verify` is a reader: it never opens the ledger
//! for writing, so it neither waits for a writer that is not committing nor
//! changes a byte of the file.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Key, ReadTransaction, ReadableTable, TableDefinition, TableError, Value};

use super::chain::{self, ChangesDigest, GENESIS};
use super::seal::{unseal, RawBytes, RawText};
use super::state::{record_hash, Sum256};
use super::{Ledger, LedgerError};

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Every failure, one line each, naming the table and key or the entry.
    pub problems: Vec<String>,
    /// Records checked.
    pub records: u64,
    /// Audit entries checked.
    pub entries: u64,
    /// The chain's head: the last entry and its hash, if the log has one.
    pub head: Option<(u64, String)>,
    /// What redb's integrity check said.
    pub integrity: String,
}

impl Verdict {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The message of a caught panic.
fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(d) = p.downcast_ref::<super::seal::Damaged>() {
        d.0.clone()
    } else {
        "a panic".into()
    }
}

impl Ledger {
    /// Runs every check of the module docs; `head` is a chain head written
    /// down before (`HASH` or `N:HASH`, as `casebook audit --head` prints).
    pub fn verify(&self, head: Option<&str>) -> Result<Verdict, LedgerError> {
        let txn = self.begin_read()?;
        // redb's check reads its own copy of the file: it runs beside the
        // record checks, on the other core.
        let (integrity, v) = std::thread::scope(|s| {
            let path = &self.path;
            let check = s.spawn(move || integrity(path));
            let v = check_records(&txn, head);
            // A panic of redb's (opening a damaged file for its lock) goes
            // on as it would have on this thread: to the command's boundary.
            let checked = check
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (checked, v)
        });
        let (integrity, mut v) = (integrity?, v?);
        if integrity != "passed" {
            v.problems
                .insert(0, format!("redb's integrity check: {integrity}"));
        }
        v.integrity = integrity;
        Ok(v)
    }
}

/// Checks 2 to 4 of the module docs over the snapshot `txn`.
fn check_records(txn: &ReadTransaction, head: Option<&str>) -> Result<Verdict, LedgerError> {
    let mut v = Verdict::default();
    let mut live = BTreeMap::new();
    macro_rules! scan {
        ($k:ty, $v:ty, $name:literal) => {
            live.insert($name, scan::<$k, $v>(txn, $name, &mut v));
        };
    }
    scan!(&str, RawBytes, "institutions");
    scan!((&str, &str), RawBytes, "inspections");
    scan!(&str, RawText, "inspection_ids");
    scan!((&str, &str), RawBytes, "findings");
    scan!(&str, RawText, "finding_ids");
    scan!((&str, u64), RawBytes, "status_history");
    scan!((&str, &str, u64), RawText, "lists");
    scan!(u64, RawText, "runs");
    scan!((u64, &str), RawText, "run_results");
    scan!((&str, &str, i64), RawText, "notices");
    scan!((&str, &str), RawBytes, "applications");
    scan!(&str, RawText, "application_ids");
    scan!((&str, &str), RawBytes, "courses");
    scan!(&str, RawText, "course_ids");
    scan!((&str, u64), RawText, "licence_history");
    debug_assert_eq!(live.len(), super::schema::TRACKED.len());
    let logged = match catch_unwind(AssertUnwindSafe(|| walk_chain(txn, head, &mut v))) {
        Ok(r) => r?,
        Err(p) => {
            v.problems.push(format!(
                "the audit log cannot be read to its end: {}",
                panic_text(p)
            ));
            return Ok(v);
        }
    };
    for (name, have) in &live {
        let Some(have) = have else { continue };
        let want = logged.get(*name).copied().unwrap_or_default();
        if *have != want {
            v.problems.push(format!(
                "table {name}: its records are not what the audit log says was written to it (a record was changed, added or removed other than by casebook)"
            ));
        }
    }
    Ok(v)
}

/// Checks every value of one table against its checksum and sums its
/// records; `None` if the table could not be read to its end.
fn scan<K: Key + 'static, V>(
    txn: &ReadTransaction,
    name: &'static str,
    v: &mut Verdict,
) -> Option<Sum256>
where
    for<'a> V: Value<SelfType<'a> = &'a [u8]> + 'static,
{
    let def: TableDefinition<K, V> = TableDefinition::new(name);
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<Sum256, String> {
        let t = match txn.open_table(def) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Sum256::default()),
            Err(e) => return Err(e.to_string()),
        };
        let mut sum = Sum256::default();
        for e in t.iter().map_err(|e| e.to_string())? {
            let (k, val) = e.map_err(|e| e.to_string())?;
            let key = K::as_bytes(&k.value()).as_ref().to_vec();
            let raw: &[u8] = val.value();
            v.records += 1;
            // A damaged value is summed as stored: its table then fails too.
            let payload = unseal(raw).unwrap_or_else(|why| {
                v.problems
                    .push(format!("table {name}, key {:?}: {why}", k.value()));
                raw
            });
            sum.add(&record_hash(name, &key, payload));
        }
        Ok(sum)
    }));
    match r {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            v.problems
                .push(format!("table {name} cannot be read to its end: {e}"));
            None
        }
        Err(p) => {
            v.problems.push(format!(
                "table {name} cannot be read to its end: {}",
                panic_text(p)
            ));
            None
        }
    }
}

/// Recomputes the chain entry by entry and sums the state changes the log
/// records, table by table.
fn walk_chain(
    txn: &ReadTransaction,
    head: Option<&str>,
    v: &mut Verdict,
) -> Result<BTreeMap<String, Sum256>, LedgerError> {
    const AUDIT: TableDefinition<u64, RawText> = TableDefinition::new("audit");
    const CHANGES: TableDefinition<(u64, u64), RawBytes> = TableDefinition::new("audit_changes");
    const CHAIN: TableDefinition<u64, RawBytes> = TableDefinition::new("audit_chain");
    let audit = txn.open_table(AUDIT)?;
    let changes = txn.open_table(CHANGES)?;
    let chain_t = match txn.open_table(CHAIN) {
        Ok(t) => Some(t),
        Err(TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let want_head = head.map(parse_head).transpose()?;
    let mut head_seen = false;
    let mut logged: BTreeMap<String, Sum256> = BTreeMap::new();
    let mut prev = GENESIS;
    let mut last = 0u64;
    for e in audit.iter()? {
        let (k, raw) = e?;
        let seq = k.value();
        v.entries += 1;
        if seq != last + 1 {
            v.problems.push(if seq > last + 1 {
                format!("audit entries {} to {} are missing", last + 1, seq - 1)
            } else {
                format!("audit entry {seq} is out of order")
            });
        }
        last = seq;
        let header = match unseal(raw.value()) {
            Ok(h) => String::from_utf8_lossy(h).into_owned(),
            Err(why) => {
                v.problems.push(format!("audit entry {seq}: {why}"));
                String::from_utf8_lossy(&raw.value()[..raw.value().len().saturating_sub(4)])
                    .into_owned()
            }
        };
        let mut d = ChangesDigest::default();
        for c in changes.range((seq, 0)..=(seq, u64::MAX))? {
            let (ck, cv) = c?;
            match unseal(cv.value()) {
                Ok(p) => d.add(ck.value().1, p),
                Err(why) => {
                    v.problems
                        .push(format!("audit entry {seq}, change {}: {why}", ck.value().1));
                    d.add(ck.value().1, cv.value());
                }
            }
        }
        let h = chain::entry_hash(&prev, &header, &d.finish());
        let stored = chain_t
            .as_ref()
            .map(|t| t.get(seq))
            .transpose()?
            .flatten()
            .map(|g| unseal(g.value()).ok().and_then(chain::to_hash));
        match stored {
            None => v.problems.push(format!(
                "audit entry {seq} has no hash in the chain (entries were added outside casebook)"
            )),
            Some(None) => v
                .problems
                .push(format!("audit entry {seq}: its chain hash is damaged")),
            Some(Some(s)) if s != h => {
                v.problems.push(format!(
                    "audit entry {seq} does not match its chain hash: the entry, or its changes, was altered after it was written"
                ));
                // Go on from the stored hash, so one altered entry is one line.
                prev = s;
            }
            Some(Some(_)) => prev = h,
        }
        if let Some((n, hash)) = &want_head {
            if chain::hex(&prev) == *hash && n.is_none_or(|n| n == seq) {
                head_seen = true;
            }
        }
        match serde_json::from_str::<serde_json::Value>(&header) {
            Ok(j) => {
                if let Some(state) = j.get("state").and_then(|s| s.as_object()) {
                    for (table, sum) in state {
                        match sum.as_str().and_then(Sum256::from_hex) {
                            Some(s) => logged.entry(table.clone()).or_default().merge(&s),
                            None => v.problems.push(format!(
                                "audit entry {seq}: its state for table {table} is not a digest"
                            )),
                        }
                    }
                }
            }
            Err(_) => v.problems.push(format!(
                "audit entry {seq}: its header is not readable JSON"
            )),
        }
    }
    if let Some(t) = &chain_t {
        if let Some((k, _)) = t.last()? {
            if k.value() > last {
                v.problems.push(format!(
                    "the chain holds hashes up to entry {} but the log ends at entry {last}: entries were removed",
                    k.value()
                ));
            }
        }
    }
    if last > 0 {
        v.head = Some((last, chain::hex(&prev)));
    }
    if let Some((n, hash)) = &want_head {
        if !head_seen {
            v.problems.push(match n {
                Some(n) => format!("the log does not extend the head {n}:{hash}: entry {n} no longer has that hash (the log was rewritten), or the head is of another ledger"),
                None => format!("no entry of the log has the hash {hash}: the log was rewritten, or the head is of another ledger"),
            });
        }
    }
    Ok(logged)
}

/// `HASH` or `N:HASH` as `audit --head` prints it.
fn parse_head(s: &str) -> Result<(Option<u64>, String), LedgerError> {
    let bad = || {
        LedgerError::Storage(format!(
            "--head {s}: expected the 64 hex digits `casebook audit --head` prints, optionally after the entry number and a colon"
        ))
    };
    let (n, h) = match s.trim().split_once(':') {
        Some((n, h)) => (Some(n.trim().parse::<u64>().map_err(|_| bad())?), h.trim()),
        None => (None, s.trim()),
    };
    let h = h.to_ascii_lowercase();
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((n, h))
}

/// The page cache of the copy redb's integrity check opens.
const INTEGRITY_CACHE: usize = 16 << 20;

/// The bytes of the file that every commit rewrites: redb's super-header
/// (its god byte and both commit slots, 320 bytes), rounded up to a page.
/// Nothing else is ever written there.
const SUPER_HEADER: usize = 4096;

/// redb's integrity check, on a copy of the file (the check repairs what it
/// checks, so the original is never given to it).
fn integrity(path: &Path) -> Result<String, LedgerError> {
    let tmp = tempfile::Builder::new()
        .prefix(".casebook-verify.")
        .tempfile_in(std::env::temp_dir())
        .map_err(|e| LedgerError::Storage(format!("cannot make a temporary copy: {e}")))?;
    if let Err(e) = copy_between_commits(path, tmp.path()) {
        return match e {
            CopyError::Busy(waited) => Err(LedgerError::Busy {
                path: path.into(),
                waited,
            }),
            CopyError::Io(e) => Err(LedgerError::Storage(format!(
                "cannot copy the ledger to check it: {e}"
            ))),
        };
    }
    let r = catch_unwind(|| -> Result<bool, redb::DatabaseError> {
        // redb's default page cache is 1 GiB, and the check reads every page
        // once: a province's ledger filled it (peak 1.5 GB). A small cache
        // holds what the walk reads again (the branch pages) just as well.
        let mut b = super::sized_builder(INTEGRITY_CACHE);
        b.set_check_integrity_on_open(true);
        let mut db = b.open(tmp.path())?;
        db.check_integrity()
    });
    Ok(match r {
        Ok(Ok(true)) => "passed".into(),
        Ok(Ok(false)) => {
            "failed: damaged pages (redb could repair its copy; the ledger itself is unchanged)"
                .into()
        }
        Ok(Err(e)) => format!("failed: {e}"),
        Err(p) => format!("failed: {}", panic_text(p)),
    })
}

enum CopyError {
    /// Commits kept landing while the file was copied, for this long.
    Busy(Duration),
    Io(std::io::Error),
}

/// Copies `path` to `to` at a moment when no commit lands and the last one
/// is wholly in the file: the copy is taken again until the super-header
/// read before it, in it and after it is the same, and *settled* (see
/// [`settled`]). A settled header's commit had its pages written before
/// that header was, and redb never rewrites pages a committed header points
/// to, so the copy holds that commit whole, as a crash then would have.
///
/// This once opened the ledger for writing to keep writers out during the
/// copy; redb then wrote its allocator state into the ledger on close, so
/// `verify` changed the bytes of the file it was vouching for.
fn copy_between_commits(path: &Path, to: &Path) -> Result<(), CopyError> {
    let start = Instant::now();
    let wait = super::busy_timeout();
    loop {
        let before = super_header(path).map_err(CopyError::Io)?;
        std::fs::copy(path, to).map_err(CopyError::Io)?;
        let copied = super_header(to).map_err(CopyError::Io)?;
        let after = super_header(path).map_err(CopyError::Io)?;
        if before == copied && copied == after && settled(&copied) {
            return Ok(());
        }
        if start.elapsed() >= wait {
            return Err(CopyError::Busy(start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a redb super-header describes a finished commit. In the mode
/// casebook opens redb in (several processes, one writer), a commit writes
/// the header twice before its pages reach the file: first its new slot as
/// the secondary, then that slot made primary and marked unflushed (god byte
/// bit 0x08); only after the pages are flushed is the mark cleared. A copy
/// taken under either header could hold the new commit half written, and
/// redb's check of it would quietly fall back to the commit before. So a
/// settled header has the mark clear and its primary slot no older than its
/// secondary. The offsets are redb 4's file format (`header.rs`); a unit
/// test holds them to the redb this is built with.
fn settled(h: &[u8]) -> bool {
    const MAGIC: &[u8] = b"redb\x1A\x0A\xA9\x0D\x0A";
    const GOD_BYTE: usize = 9;
    const PRIMARY_IS_SLOT_1: u8 = 0x01;
    const PRIMARY_UNFLUSHED: u8 = 0x08;
    const SLOTS: [usize; 2] = [64, 192];
    const TRANSACTION_ID: usize = 104;
    if h.len() < SLOTS[1] + 128 || !h.starts_with(MAGIC) {
        return false;
    }
    let god = h[GOD_BYTE];
    if god & PRIMARY_UNFLUSHED != 0 {
        return false;
    }
    let id = |slot: usize| {
        let at = slot + TRANSACTION_ID;
        u64::from_le_bytes(h[at..at + 8].try_into().expect("eight bytes"))
    };
    let primary = usize::from(god & PRIMARY_IS_SLOT_1 != 0);
    id(SLOTS[primary]) >= id(SLOTS[1 - primary])
}

/// The first [`SUPER_HEADER`] bytes of a file (fewer if it is shorter).
fn super_header(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut b = Vec::with_capacity(SUPER_HEADER);
    std::fs::File::open(path)?
        .take(SUPER_HEADER as u64)
        .read_to_end(&mut b)?;
    Ok(b)
}

impl Ledger {
    /// The chain's head as stored: the last entry and its hash, if the log
    /// has one (`verify` recomputes it from the entries).
    pub fn chain_head(&self) -> Result<Option<(u64, String)>, LedgerError> {
        let txn = self.begin_read()?;
        let t = match txn.open_table(super::schema::AUDIT_CHAIN) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let last = t.last()?;
        Ok(match last {
            Some((k, v)) => Some((
                k.value(),
                chain::hex(&chain::to_hash(v.value()).ok_or_else(|| {
                    LedgerError::Storage(
                        "the chain's head is not a hash; run casebook verify".into(),
                    )
                })?),
            )),
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{settled, super_header};

    /// The primary slot's transaction id, as `settled` reads it.
    fn primary_id(h: &[u8]) -> u64 {
        let slot = if h[9] & 1 == 0 { 64 } else { 192 };
        u64::from_le_bytes(h[slot + 104..slot + 112].try_into().unwrap())
    }

    #[test]
    fn settled_reads_the_header_of_the_redb_it_is_built_with() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.redb");
        const T: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("t");
        let db = super::super::sized_builder(1 << 20).create(&path).unwrap();
        let mut last = 0;
        for i in 0..4u64 {
            let w = db.begin_write().unwrap();
            w.open_table(T).unwrap().insert(i, i).unwrap();
            w.commit().unwrap();
            // Between commits, with the writer still open, the header is settled
            // and its primary is the newest commit.
            let h = super_header(&path).unwrap();
            assert!(settled(&h), "after commit {i}");
            let id = primary_id(&h);
            assert!(id > last, "commit {i}: primary {id}, before {last}");
            last = id;
        }
        drop(db);
        let mut h = super_header(&path).unwrap();
        assert!(settled(&h), "after close");
        // Marked unflushed: the commit's pages may not be in the file yet.
        h[9] |= 0x08;
        assert!(!settled(&h));
        h[9] &= !0x08;
        // The secondary newer than the primary: a commit half way.
        h[9] ^= 1;
        assert!(!settled(&h));
        assert!(!settled(b"not a redb file"));
    }
}
