//! The audit log's hash chain.
//!
//! Entry `n`'s hash is SHA-256 over the hash of entry `n - 1` (32 zero bytes
//! for the first), the SHA-256 of its header as stored, and the digest of its
//! changed records in order ([`ChangesDigest`]). The header holds the
//! entry's `"state"` (what it did to each table's digest, see `state`), so
//! the chain covers the records too. `audit_chain` keeps each entry's hash:
//! the last one is the head (`casebook audit --head`). Changing, removing or
//! reordering any entry changes every hash from it on, which `verify`
//! recomputes; one who rewrites the whole chain to match is caught by a head
//! written down before (`verify --head`).

use redb::{ReadableTable, WriteTransaction};
use sha2::{Digest, Sha256};

use super::schema::{AUDIT, AUDIT_CHAIN, AUDIT_CHANGES};
use super::LedgerError;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The hash of one entry, given the one before.
pub fn entry_hash(prev: &[u8; 32], header: &str, changes: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(Sha256::digest(header.as_bytes()));
    h.update(changes);
    h.finalize().into()
}

/// The digest of one entry's changed records, fed in the order of their
/// numbers within the entry.
#[derive(Clone, Default)]
pub struct ChangesDigest(Sha256);

impl ChangesDigest {
    /// Adds change number `n` with its stored (unsealed) bytes.
    pub fn add(&mut self, n: u64, change: &[u8]) {
        self.0.update(n.to_le_bytes());
        self.0.update((change.len() as u64).to_le_bytes());
        self.0.update(change);
    }

    /// The digest.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// 64 lowercase hex digits.
pub fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes audit entry `seq` with `header` and chains it to the entry
/// before, whose hash must be there (see [`backfill`] for a log that
/// predates the chain).
pub(super) fn append(
    w: &WriteTransaction,
    seq: u64,
    header: &str,
    changes: [u8; 32],
) -> Result<(), LedgerError> {
    let mut chain = w.open_table(AUDIT_CHAIN)?;
    let prev = if seq <= 1 {
        GENESIS
    } else {
        match chain.get(seq - 1)? {
            Some(g) => to_hash(g.value()).ok_or_else(bad_link)?,
            None => {
                return Err(LedgerError::Storage(format!(
                    "the audit log's chain has no entry {}; run casebook verify",
                    seq - 1
                )))
            }
        }
    };
    let h = entry_hash(&prev, header, &changes);
    w.open_table(AUDIT)?.insert(seq, header)?;
    chain.insert(seq, h.as_slice())?;
    Ok(())
}

fn bad_link() -> LedgerError {
    LedgerError::Storage("an audit chain hash is not 32 bytes; run casebook verify".into())
}

/// A stored chain value as a hash.
pub(super) fn to_hash(v: &[u8]) -> Option<[u8; 32]> {
    v.try_into().ok()
}

/// Chains every entry of the log that has no hash yet, in order: how a
/// ledger from before the chain is brought into it (by the migration that
/// says so in its own entry, which is chained after them).
pub(super) fn backfill(w: &WriteTransaction) -> Result<(), LedgerError> {
    let audit = w.open_table(AUDIT)?;
    let changes = w.open_table(AUDIT_CHANGES)?;
    let mut chain = w.open_table(AUDIT_CHAIN)?;
    let mut prev = GENESIS;
    for e in audit.iter()? {
        let (k, v) = e?;
        let seq = k.value();
        if let Some(g) = chain.get(seq)? {
            prev = to_hash(g.value()).ok_or_else(bad_link)?;
            continue;
        }
        let mut d = ChangesDigest::default();
        for c in changes.range((seq, 0)..=(seq, u64::MAX))? {
            let (ck, cv) = c?;
            d.add(ck.value().1, cv.value());
        }
        prev = entry_hash(&prev, v.value(), &d.finish());
        chain.insert(seq, prev.as_slice())?;
    }
    Ok(())
}
