//! Sealed values: every value the ledger stores carries a CRC-32 of its
//! bytes, checked each time it is read.
//!
//! redb keeps checksums of its pages but checks them only when it repairs a
//! file, so a flipped byte inside a record read back as different data with
//! no error. [`Bytes`] and [`Text`] are the value types of every table but
//! `meta`: they append the CRC when redb asks for the bytes to store, and
//! check it when redb hands a stored value back. A value that fails is not
//! returned: the read panics with [`Damaged`], which the command boundary
//! (`cli::main`) turns into "the ledger is damaged …; run casebook verify"
//! and exit 1, wherever in the program the read happened (a script's
//! parallel map included). A panic, not an error, because redb's `Value`
//! decoding cannot fail and threading a `Result` through every `.value()`
//! of the crate would buy nothing: no caller can do better than stop.
//!
//! The CRC catches damage (a flipped bit, a torn page). Tampering, where
//! whoever changes a value also recomputes its CRC, is caught by `verify`
//! against the audit log's hash chain (see `state`).

use std::fmt;

use redb::{TypeName, Value};

/// The payload of the panic a damaged value raises.
#[derive(Debug, Clone)]
pub struct Damaged(pub String);

impl fmt::Display for Damaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const CRC_LEN: usize = 4;

/// `payload` followed by its CRC-32 (little-endian), as the ledger stores it.
pub fn seal(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + CRC_LEN);
    v.extend_from_slice(payload);
    v.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    v
}

/// The payload of a sealed value, or why it is damaged.
pub fn unseal(stored: &[u8]) -> Result<&[u8], &'static str> {
    let Some(n) = stored.len().checked_sub(CRC_LEN) else {
        return Err("a stored value is shorter than its checksum");
    };
    let (payload, crc) = stored.split_at(n);
    if crc32fast::hash(payload).to_le_bytes() != crc {
        return Err("a stored value does not match its checksum");
    }
    Ok(payload)
}

fn damaged(why: &str) -> ! {
    std::panic::panic_any(Damaged(why.to_string()))
}

/// A sealed value type: what the state digest (`state`) hashes of a value is
/// its payload, the bytes before the checksum, read without sealing again.
pub trait Sealed: Value + 'static {
    /// The payload of a value of this type.
    fn payload<'a>(v: &'a Self::SelfType<'_>) -> &'a [u8];
}

impl Sealed for Bytes {
    fn payload<'a>(v: &'a &[u8]) -> &'a [u8] {
        v
    }
}

impl Sealed for Text {
    fn payload<'a>(v: &'a &str) -> &'a [u8] {
        v.as_bytes()
    }
}

/// A sealed value as stored, checksum and all: the sealed types' names
/// without their check, for `verify` (a damaged value is a line of its
/// report, not a panic) and for programs that inspect a ledger.
macro_rules! raw_value {
    ($(#[$doc:meta])* $t:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $t;

        impl Value for $t {
            type SelfType<'a> = &'a [u8];
            type AsBytes<'a> = &'a [u8];
            fn fixed_width() -> Option<usize> {
                None
            }
            fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
            where
                Self: 'a,
            {
                data
            }
            fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> &'a [u8]
            where
                Self: 'b,
            {
                value
            }
            fn type_name() -> TypeName {
                TypeName::new($name)
            }
        }
    };
}
raw_value!(
    /// [`Bytes`] as stored.
    RawBytes,
    "casebook::sealed_bytes"
);
raw_value!(
    /// [`Text`] as stored.
    RawText,
    "casebook::sealed_text"
);

/// A sealed byte string: the value type of the record tables.
#[derive(Debug)]
pub struct Bytes;

impl Value for Bytes {
    type SelfType<'a> = &'a [u8];
    type AsBytes<'a> = Vec<u8>;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
    where
        Self: 'a,
    {
        unseal(data).unwrap_or_else(|why| damaged(why))
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> Vec<u8>
    where
        Self: 'b,
    {
        seal(value)
    }

    fn type_name() -> TypeName {
        TypeName::new("casebook::sealed_bytes")
    }
}

/// A sealed UTF-8 text: the value type of the tables that hold JSON or ids.
#[derive(Debug)]
pub struct Text;

impl Value for Text {
    type SelfType<'a> = &'a str;
    type AsBytes<'a> = Vec<u8>;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> &'a str
    where
        Self: 'a,
    {
        let payload = unseal(data).unwrap_or_else(|why| damaged(why));
        std::str::from_utf8(payload).unwrap_or_else(|_| damaged("a stored text is not UTF-8"))
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b str) -> Vec<u8>
    where
        Self: 'b,
    {
        seal(value.as_bytes())
    }

    fn type_name() -> TypeName {
        TypeName::new("casebook::sealed_text")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_reads_back_and_any_flipped_bit_is_refused() {
        let s = seal(b"GZ-BY-00001 name");
        assert_eq!(unseal(&s), Ok(&b"GZ-BY-00001 name"[..]));
        for i in 0..s.len() {
            for bit in 0..8 {
                let mut d = s.clone();
                d[i] ^= 1 << bit;
                assert!(unseal(&d).is_err(), "byte {i} bit {bit}");
            }
        }
        assert!(unseal(&[1, 2]).is_err());
    }
}
