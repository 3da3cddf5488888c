//! The state digest: what ties every stored record to the audit log.
//!
//! Each record (a table's key and value) hashes to 256 bits; a table's
//! digest is the sum of its records' hashes modulo 2^256. A write
//! transaction adds the hash of each value it stores and subtracts that of
//! each value it replaces or removes, table by table ([`Tracked`] does this
//! for every write, so no write path can forget it), and its audit entry
//! records the difference under `"state"`. The log's entries are chained by
//! hash (see `chain`), so these differences cannot be changed unnoticed
//! either. `verify` then checks that, for every table, the sum of the
//! differences the log holds equals the sum over the records the table holds
//! now: a record changed, added or removed other than by a casebook write —
//! a hex editor, a program of one's own against redb — breaks the equality
//! for its table. The sum is order-free, so `verify` needs one pass over each
//! table and no memory per record.
//!
//! `meta` (marker, schema version, districts) and the audit tables
//! themselves are outside the digest: the chain covers the audit tables.

use std::borrow::Borrow;
use std::ops::Deref;

use redb::{
    AccessGuard, CursorError, Key, StorageError, Table, TableDefinition, TableError, TableHandle,
    Value, WriteTransaction,
};
use sha2::{Digest, Sha256};

use super::seal::Sealed;

/// A sum of record hashes modulo 2^256, as four little-endian 64-bit limbs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum256([u64; 4]);

impl Sum256 {
    /// Adds a record's hash.
    pub fn add(&mut self, h: &[u8; 32]) {
        self.add_limbs(limbs(h));
    }

    /// Subtracts a record's hash (adds its two's complement).
    pub fn sub(&mut self, h: &[u8; 32]) {
        let mut n = limbs(h).map(|l| !l);
        // +1 for the two's complement, carried through the limbs.
        for l in n.iter_mut() {
            let (v, c) = l.overflowing_add(1);
            *l = v;
            if !c {
                break;
            }
        }
        self.add_limbs(n);
    }

    /// Adds another sum.
    pub fn merge(&mut self, other: &Sum256) {
        self.add_limbs(other.0);
    }

    fn add_limbs(&mut self, b: [u64; 4]) {
        let mut carry = false;
        for (a, b) in self.0.iter_mut().zip(b) {
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *a = s2;
            carry = c1 || c2;
        }
    }

    /// Whether nothing was added (or everything added was taken away again).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// 64 hex digits, most significant first.
    pub fn to_hex(self) -> String {
        self.0.iter().rev().map(|l| format!("{l:016x}")).collect()
    }

    /// The sum [`Sum256::to_hex`] wrote, if `s` is one.
    pub fn from_hex(s: &str) -> Option<Sum256> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u64; 4];
        for (i, l) in out.iter_mut().rev().enumerate() {
            *l = u64::from_str_radix(&s[i * 16..i * 16 + 16], 16).ok()?;
        }
        Some(Sum256(out))
    }
}

fn limbs(h: &[u8; 32]) -> [u64; 4] {
    std::array::from_fn(|i| u64::from_le_bytes(h[i * 8..i * 8 + 8].try_into().unwrap()))
}

/// The hash of one record: its table's name, its key's bytes and its value's
/// payload (the bytes before its checksum), each delimited so that no two records hash alike by
/// moving bytes between the parts.
pub fn record_hash(table: &str, key: &[u8], value: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([table.len() as u8]);
    h.update(table.as_bytes());
    h.update((key.len() as u32).to_le_bytes());
    h.update(key);
    h.update(value);
    h.finalize().into()
}

/// A table of a write transaction whose every write goes into its
/// [`Sum256`] delta. Reads go to the redb table through [`Deref`]; writes
/// only through [`Tracked::insert`] and [`Tracked::remove`] (there is no
/// `DerefMut`), so none can bypass the digest.
pub struct Tracked<'t, K: Key + 'static, V: Sealed> {
    table: Table<'t, K, V>,
    name: &'static str,
    delta: Sum256,
}

impl<'t, K: Key + 'static, V: Sealed> Tracked<'t, K, V> {
    /// Opens `def` in `txn` for tracked writing.
    pub fn open(txn: &'t WriteTransaction, def: TableDefinition<K, V>) -> Result<Self, TableError> {
        Ok(Tracked {
            table: txn.open_table(def)?,
            name: super::schema::tracked_name(def.name()),
            delta: Sum256::default(),
        })
    }

    /// Inserts or replaces, as redb's `Table::insert`, and tracks both.
    pub fn insert<'k, 'v>(
        &mut self,
        key: impl Borrow<K::SelfType<'k>>,
        value: impl Borrow<V::SelfType<'v>>,
    ) -> Result<Option<AccessGuard<'_, V>>, StorageError> {
        let kb = K::as_bytes(key.borrow());
        self.delta.add(&record_hash(
            self.name,
            kb.as_ref(),
            V::payload(value.borrow()),
        ));
        let old = self.table.insert(key.borrow(), value.borrow())?;
        if let Some(g) = &old {
            self.delta
                .sub(&record_hash(self.name, kb.as_ref(), V::payload(&g.value())));
        }
        Ok(old)
    }

    /// Removes, as redb's `Table::remove`, and tracks it.
    pub fn remove<'k>(
        &mut self,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<Option<AccessGuard<'_, V>>, StorageError> {
        let kb = K::as_bytes(key.borrow());
        let old = self.table.remove(key.borrow())?;
        if let Some(g) = &old {
            self.delta
                .sub(&record_hash(self.name, kb.as_ref(), V::payload(&g.value())));
        }
        Ok(old)
    }

    /// The table's name and what this transaction's writes did to its digest.
    pub fn delta(&self) -> (&'static str, Sum256) {
        (self.name, self.delta)
    }
}

/// The hashes of records to be written later in one pass, summed as they
/// are staged ([`Tracked::insert_in_order`] then adds the sum instead of
/// hashing each record again): a large import hashes its records on the
/// thread that stages them, while it would otherwise wait, rather than in
/// the final merge, which runs alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prehashed {
    sum: Sum256,
    rows: u64,
}

impl Prehashed {
    /// Adds the hash of the record `key` (as the table stores it), `value`
    /// (its payload) of the table named `table` (a [`Tracked::delta`] name).
    pub fn add(&mut self, table: &str, key: &[u8], value: &[u8]) {
        self.sum.add(&record_hash(table, key, value));
        self.rows += 1;
    }
}

/// Records handed to [`Tracked::insert_in_order`] one at a time, in
/// strictly increasing key order.
pub trait InOrder<K: Key + 'static, V: Value + 'static> {
    /// The current record, or `None` after the last.
    fn current(&self) -> Option<(K::SelfType<'_>, V::SelfType<'_>)>;

    /// Moves to the next record.
    fn advance(&mut self) -> Result<(), super::LedgerError>;

    /// Says whether the current record may replace `old`, the value the
    /// table held under its key (`None`: no record): an error stops the
    /// writes. Any may, unless the source says otherwise.
    fn may_replace(&self, old: Option<V::SelfType<'_>>) -> Result<(), super::LedgerError> {
        let _ = old;
        Ok(())
    }
}

impl<'t, K: Key + 'static, V: Sealed> Tracked<'t, K, V> {
    /// Inserts or replaces every record of `rows`, which come in strictly
    /// increasing key order and whose hashes `hashed` holds, through one
    /// redb cursor: a key that falls in the gap the cursor is at is
    /// buffered and spliced into the leaves a megabyte at a time, where
    /// [`Tracked::insert`] walks down the tree for each. A key that does
    /// not (the table holds keys between, or the key itself) moves the
    /// cursor there; a record it replaces is subtracted from the digest as
    /// `insert` does.
    pub fn insert_in_order(
        &mut self,
        rows: &mut impl InOrder<K, V>,
        hashed: Prehashed,
    ) -> Result<(), super::LedgerError> {
        use std::cmp::Ordering;
        use std::ops::Bound;
        let name = self.name;
        let mut written = 0u64;
        let twice = || {
            super::LedgerError::Storage(format!(
                "{name}: a record was written twice in one import, or out of order; nothing was written"
            ))
        };
        'seek: loop {
            // A key not in the cursor's gap: the table holds keys before it,
            // or the key itself. The cursor moves to the gap before it, and
            // the record there with the same key is replaced (it is not one
            // written here: the key is past every one of those).
            let mut c = {
                let Some((k, v)) = rows.current() else { break };
                let kb = K::as_bytes(&k);
                let mut c = self.table.lower_bound_mut(Bound::Included(&k))?;
                let old = match c.peek_next()? {
                    Some((nk, nv))
                        if K::compare(K::as_bytes(&nk.value()).as_ref(), kb.as_ref())
                            == Ordering::Equal =>
                    {
                        rows.may_replace(Some(nv.value()))?;
                        Some(record_hash(name, kb.as_ref(), V::payload(&nv.value())))
                    }
                    _ => {
                        rows.may_replace(None)?;
                        None
                    }
                };
                if let Some(old) = old {
                    c.remove_next()?;
                    self.delta.sub(&old);
                }
                match c.insert_before(&k, &v) {
                    Ok(()) => written += 1,
                    Err(CursorError::UnorderedKey) => {
                        unreachable!("the gap before the key takes it")
                    }
                    Err(e) => return Err(redb::Error::from(e).into()),
                }
                c
            };
            rows.advance()?;
            loop {
                let taken = {
                    let Some((k, v)) = rows.current() else { break };
                    match c.insert_before(&k, &v) {
                        Ok(()) => {
                            rows.may_replace(None)?;
                            written += 1;
                            true
                        }
                        // redb takes a key past the last one written and
                        // before the table's next: refused, it is at or past
                        // that next one, or else not past the last one.
                        Err(CursorError::UnorderedKey) => {
                            let kb = K::as_bytes(&k);
                            match c.peek_next()? {
                                Some((nk, _))
                                    if K::compare(
                                        K::as_bytes(&nk.value()).as_ref(),
                                        kb.as_ref(),
                                    ) != Ordering::Greater => {}
                                _ => return Err(twice()),
                            }
                            false
                        }
                        Err(e) => return Err(redb::Error::from(e).into()),
                    }
                };
                if !taken {
                    c.close()?;
                    continue 'seek;
                }
                rows.advance()?;
            }
            c.close()?;
        }
        assert_eq!(
            written, hashed.rows,
            "insert_in_order writes the records that were hashed"
        );
        self.delta.merge(&hashed.sum);
        Ok(())
    }
}

impl<'t, K: Key + 'static, V: Sealed> Deref for Tracked<'t, K, V> {
    type Target = Table<'t, K, V>;

    fn deref(&self) -> &Table<'t, K, V> {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_order_free_and_subtraction_undoes_addition() {
        let a = record_hash("t", b"k1", b"v1");
        let b = record_hash("t", b"k2", b"v2");
        let mut x = Sum256::default();
        x.add(&a);
        x.add(&b);
        let mut y = Sum256::default();
        y.add(&b);
        y.add(&a);
        assert_eq!(x, y);
        x.sub(&a);
        x.sub(&b);
        assert!(x.is_zero());
        assert_eq!(Sum256::from_hex(&y.to_hex()), Some(y));
        // The parts are delimited: moving a byte from key to value changes the hash.
        assert_ne!(
            record_hash("t", b"k1", b"v1"),
            record_hash("t", b"k", b"1v1")
        );
    }

    /// Keys and values.
    type Records = Vec<(u64, Vec<u8>)>;

    /// Rows for `insert_in_order` from a sorted list.
    struct Rows(Records, usize);

    impl InOrder<u64, crate::ledger::seal::Bytes> for Rows {
        fn current(&self) -> Option<(u64, &[u8])> {
            self.0.get(self.1).map(|(k, v)| (*k, v.as_slice()))
        }
        fn advance(&mut self) -> Result<(), crate::ledger::LedgerError> {
            self.1 += 1;
            Ok(())
        }
    }

    /// A table holding `held`, then `rows` written by `insert_in_order`
    /// (or one `insert` each): the table's records and the digest delta.
    fn written(
        held: &[u64],
        rows: &[(u64, Vec<u8>)],
        in_order: bool,
    ) -> Result<(Records, Sum256), crate::ledger::LedgerError> {
        use crate::ledger::seal::Bytes;
        use redb::ReadableTable;
        const T: TableDefinition<u64, Bytes> = TableDefinition::new("findings");
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        let mut t = Tracked::open(&txn, T).unwrap();
        for k in held {
            t.insert(k, format!("old {k}").as_bytes()).unwrap();
        }
        let before = t.delta().1;
        if in_order {
            let mut hashed = Prehashed::default();
            for (k, v) in rows {
                hashed.add(t.name, &k.to_le_bytes(), v);
            }
            t.insert_in_order(&mut Rows(rows.to_vec(), 0), hashed)?;
        } else {
            for (k, v) in rows {
                t.insert(k, v.as_slice()).unwrap();
            }
        }
        // What the rows did: the delta less what `held` added.
        let mut delta = t.delta().1;
        let mut held_bytes = [0u8; 32];
        for (i, l) in before.0.iter().enumerate() {
            held_bytes[i * 8..i * 8 + 8].copy_from_slice(&l.to_le_bytes());
        }
        delta.sub(&held_bytes);
        let all = t
            .iter()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.0.value(), e.1.value().to_vec())
            })
            .collect();
        Ok((all, delta))
    }

    #[test]
    fn records_written_in_order_land_and_hash_as_inserted_one_by_one() {
        // Held keys before, between, equal to and after the new ones: the
        // cursor moves past some, replaces others.
        let held: Vec<u64> = vec![1, 5, 6, 10, 20, 21, 22, 40, 100];
        let rows: Vec<(u64, Vec<u8>)> = [0u64, 2, 3, 5, 7, 8, 9, 20, 23, 24, 40, 41, 99, 101]
            .into_iter()
            .chain(200..5_000)
            .map(|k| (k, format!("new {k}").into_bytes()))
            .collect();
        let by_one = written(&held, &rows, false).unwrap();
        let merged = written(&held, &rows, true).unwrap();
        assert_eq!(merged.0, by_one.0);
        assert_eq!(merged.1, by_one.1);
        assert_eq!(merged.0.len(), held.len() + rows.len() - 3);
        // Into an empty table too.
        assert_eq!(
            written(&[], &rows, true).unwrap(),
            written(&[], &rows, false).unwrap()
        );
    }

    #[test]
    fn a_key_repeated_or_out_of_order_is_refused() {
        // Refused by redb as not past the last key, or as past the table's
        // next one and then found not past the last.
        for (held, keys) in [
            (2, [1u64, 2, 2]),
            (2, [1, 3, 2]),
            (5, [1, 3, 2]),
            (5, [6, 7, 6]),
        ] {
            let rows: Vec<(u64, Vec<u8>)> = keys.iter().map(|&k| (k, vec![1])).collect();
            let e = written(&[held], &rows, true).unwrap_err();
            assert!(e.to_string().contains("written twice"), "{e}");
        }
    }
}
