//! [`IdMap`]: a hash map keyed by record id, for the id sets of an import.
//!
//! It stays in the ledger rather than in `import/`: its one user is the
//! ledger's [`Stager`](super::Stager) (the institutions an import has found
//! so far), and it packs ids with the ledger's [`pack_id`]. Moved to
//! `import/`, it would make the ledger depend on the import that uses it.

use super::bulk::{pack_id, packed_is_long};

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

#[cfg(test)]
mod tests {
    use super::*;

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
