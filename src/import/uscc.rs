//! Who holds each USCC while an institutions file is imported: the
//! ledger's institutions and the file's rows so far, so that a code two
//! institutions would share is refused with the line (or "the ledger") that
//! gave it first.
//!
//! A province's ledger holds a million codes, so they are kept as numbers,
//! not texts: a code of 18 characters of [`USCC_CHARSET`] (every code that
//! passed validation) packs into a `u128`, and each holder's id into a
//! `u128` too (see [`pack_id`]; an id over 15 bytes is kept once as text
//! and stands by its index). A map of texts took two allocations an entry
//! and 128 MB for a million codes, its random lookups were a cache miss a
//! row, and freeing it took a second at the end of the 10x import; this one
//! is two allocations in all and about 66 MB.

use crate::ledger::{pack_id, packed_is_long};
use crate::model::USCC_CHARSET;

/// Each USCC seen and who holds it (see the module's documentation).
#[derive(Default)]
pub(super) struct UsccHolders {
    /// Packed code (big-endian, so the entry needs no 16-byte alignment) →
    /// index into `holders`, and the line that gave it (0: the ledger).
    packed: rustc_hash::FxHashMap<[u8; 16], (u32, u32)>,
    /// Codes that do not pack (only a ledger written outside validation
    /// could hold one): the same, by text.
    other: rustc_hash::FxHashMap<Box<str>, (u32, u32)>,
    /// Each holder's id: [`pack_id`] of one of up to 15 bytes, else its
    /// index into `long` shifted left by 8 and 0xFF (the mark of a long id).
    holders: Vec<u128>,
    long: Vec<Box<str>>,
}

/// A code of 18 characters of [`USCC_CHARSET`] as a number (31^18 < 2^90),
/// or `None` for any other text.
fn pack_code(code: &str) -> Option<[u8; 16]> {
    let b = code.as_bytes();
    if b.len() != 18 {
        return None;
    }
    // Each byte's place in the charset (31: not in it), by table.
    const PLACE: [u8; 256] = {
        let mut t = [31u8; 256];
        let cs = USCC_CHARSET.as_bytes();
        let mut i = 0;
        while i < cs.len() {
            t[cs[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    let mut n: u128 = 0;
    for &c in b {
        let v = PLACE[c as usize];
        if v == 31 {
            return None;
        }
        n = n * 31 + v as u128;
    }
    Some(n.to_be_bytes())
}

/// The line as it is kept: lines past 4,294,967,295 are remembered as that.
fn line32(line: u64) -> u32 {
    line.min(u32::MAX as u64) as u32
}

impl UsccHolders {
    /// Room for about `n` codes before the map grows.
    pub(super) fn with_capacity(n: usize) -> Self {
        UsccHolders {
            packed: rustc_hash::FxHashMap::with_capacity_and_hasher(n, Default::default()),
            holders: Vec::with_capacity(n),
            ..Default::default()
        }
    }

    /// Records that institution `id` on `line` holds `code`, unless the code
    /// already has a holder: then, if that is another institution, its id
    /// and the line it came from (0 for the ledger).
    pub(super) fn claim(&mut self, code: &str, id: &str, line: u64) -> Option<(String, u64)> {
        let next = self.holders.len() as u32;
        let (holder, at) = match pack_code(code) {
            Some(k) => *self.packed.entry(k).or_insert((next, line32(line))),
            None => *self
                .other
                .entry(code.into())
                .or_insert((next, line32(line))),
        };
        if holder == next {
            let p = pack_id(id.as_bytes());
            self.holders.push(if packed_is_long(p) {
                self.long.push(id.into());
                (((self.long.len() - 1) as u128) << 8) | 0xFF
            } else {
                p
            });
            return None;
        }
        let other = self.id(holder);
        (other != id).then(|| (other, at.into()))
    }

    /// The id of holder `i`.
    fn id(&self, i: u32) -> String {
        let h = self.holders[i as usize];
        if packed_is_long(h) {
            return self.long[(h >> 8) as usize].to_string();
        }
        let b = h.to_be_bytes();
        String::from_utf8_lossy(&b[..b[15] as usize]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_names_its_first_holder_and_the_line_it_came_from() {
        let mut u = UsccHolders::default();
        let long = "GZ-一个很长很长的机构编号-0001";
        u.claim("91440101MA5CJQ4N59", "GZ-001", 0);
        u.claim("91440101MA5CJQ4N59", "GZ-002", 0);
        assert_eq!(u.claim("52440117P3MPWH2JDC", long, 7), None);
        assert_eq!(u.claim("X-not-a-code", "GZ-003", 9), None);
        // The ledger's first holder is kept, whoever else held the code.
        assert_eq!(
            u.claim("91440101MA5CJQ4N59", "GZ-009", 12),
            Some(("GZ-001".into(), 0))
        );
        // The same institution again (a file that repeats it) is no clash.
        assert_eq!(u.claim("91440101MA5CJQ4N59", "GZ-001", 13), None);
        assert_eq!(
            u.claim("52440117P3MPWH2JDC", "GZ-004", 20),
            Some((long.to_string(), 7))
        );
        assert_eq!(u.claim("52440117P3MPWH2JDC", long, 21), None);
        assert_eq!(
            u.claim("X-not-a-code", "GZ-005", 22),
            Some(("GZ-003".into(), 9))
        );
        // Codes one character apart stay apart.
        assert_eq!(u.claim("52440117P3MPWH2JDD", "GZ-006", 23), None);
        assert_eq!(u.claim("52440117P3MPWH2JD", "GZ-007", 24), None);
    }

    #[test]
    fn only_codes_of_the_charset_pack_and_none_pack_alike() {
        assert!(pack_code("91440101MA5CJQ4N59").is_some());
        assert!(pack_code("91440101MA5CJQ4NI9").is_none());
        assert!(pack_code("９1440101MA5CJQ4N59").is_none());
        assert_ne!(
            pack_code("000000000000000001"),
            pack_code("100000000000000000")
        );
        assert_eq!(
            u128::from_be_bytes(pack_code("YYYYYYYYYYYYYYYYYY").unwrap()),
            31u128.pow(18) - 1
        );
    }
}
