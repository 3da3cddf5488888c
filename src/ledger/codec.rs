//! The record encoding stored in the ledger.
//!
//! Each record is a format byte followed by tagged fields, protobuf-style: a
//! field is `tag = number << 2 | wire type`, then its value. A reader skips
//! tags it does not know and leaves fields it does not find at their default,
//! so adding a field later needs no rewrite of existing records: old records
//! read with the new field empty, and the schema version (see `ledger`) only
//! changes when a change cannot be expressed that way. Decoding is a single
//! forward pass with no allocation beyond the strings themselves, which is
//! what a script scanning a million findings needs. Tables keyed by
//! `(institution, id)` store their records without those two fields (format
//! 2, see [`KEYED`]).
//!
//! This file holds the wire format (writing and reading fields) and the keyed
//! tables' format 2; [`tag`] names every record's fields, and `records` (its
//! functions re-exported here) encodes and decodes each kind of record.

use chrono::NaiveDate;

use crate::model::*;

pub mod tag;

mod records;
pub use records::*;
use records::{application_from, course_from, finding_from, inspection_from};

const VARINT: u8 = 0;
const BYTES: u8 = 1;
const F64: u8 = 2;

/// The format byte every record starts with.
const FORMAT: u8 = 1;

/// The format byte of a record as a table keyed by `(institution, id)` stores
/// it (inspections, findings, applications, courses): format 1 without its
/// first two fields, the id and the institution, which the key holds. The
/// benchmark city's ledger file is half the size so (143 MB, not 286), and
/// its million findings import 13 % faster. [`rejoin_into`] puts the fields back wherever such a record
/// leaves the ledger's tables, so everything past them (decoders, scripts,
/// the audit log's before-images) sees whole format-1 records; the one
/// exception is a script's scan of findings, which keeps the stored bytes
/// and the key apart ([`decode_finding_days`], [`stored_text_field`]). Ledgers of
/// schema 1 hold format-1 records in those tables, which read as they are.
const KEYED: u8 = 2;

/// A record that could not be decoded: the ledger is damaged or was written by something else.
#[derive(Debug, thiserror::Error)]
#[error("a stored {what} record could not be decoded: {why}")]
pub struct DecodeError {
    pub what: &'static str,
    pub why: String,
}

/// Writes one record: the format byte, then fields in the order the
/// encoder calls for them. Empty texts and absent options are left out.
struct RecordWriter(Vec<u8>);

impl RecordWriter {
    fn new() -> Self {
        let mut v = Vec::with_capacity(96);
        v.push(FORMAT);
        RecordWriter(v)
    }
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn tag(&mut self, n: u8, wire: u8) {
        self.0.push(n << 2 | wire);
    }
    fn uint(&mut self, n: u8, v: u64) {
        self.tag(n, VARINT);
        self.varint(v);
    }
    fn int(&mut self, n: u8, v: i64) {
        self.uint(n, ((v << 1) ^ (v >> 63)) as u64);
    }
    fn text(&mut self, n: u8, v: &str) {
        if !v.is_empty() {
            self.tag(n, BYTES);
            self.varint(v.len() as u64);
            self.0.extend_from_slice(v.as_bytes());
        }
    }
    fn opt_text(&mut self, n: u8, v: &Option<String>) {
        if let Some(v) = v {
            self.tag(n, BYTES);
            self.varint(v.len() as u64);
            self.0.extend_from_slice(v.as_bytes());
        }
    }
    fn date(&mut self, n: u8, d: NaiveDate) {
        self.int(n, date_num(d));
    }
    fn opt_date(&mut self, n: u8, d: Option<NaiveDate>) {
        if let Some(d) = d {
            self.date(n, d)
        }
    }
    fn float(&mut self, n: u8, v: f64) {
        self.tag(n, F64);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// Days from the common era, the integer a date is stored as.
pub fn date_num(d: NaiveDate) -> i64 {
    use chrono::Datelike;
    d.num_days_from_ce() as i64
}

fn num_date(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(n).ok()?)
}

/// A field's value as its wire type gives it; the decoder that knows the
/// tag says what it means.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Float(f64),
}

/// Reads one record's fields in a single forward pass; `what` names the
/// record in a [`DecodeError`].
struct RecordReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> RecordReader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Result<Self, DecodeError> {
        match bytes.first() {
            Some(&FORMAT) => Ok(RecordReader {
                bytes,
                pos: 1,
                what,
            }),
            Some(f) => Err(DecodeError {
                what,
                why: format!("unknown record format {f}"),
            }),
            None => Err(DecodeError {
                what,
                why: "empty record".into(),
            }),
        }
    }
    /// A record as a keyed table stores it, in either format. Only
    /// [`decode_stored`] reads one, filling the id and institution that
    /// format 2 leaves out from the key: every other decoder refuses format
    /// 2, so a path that forgot to [`rejoin`] fails instead of handing on a
    /// record without them.
    fn stored(bytes: &'a [u8], what: &'static str) -> Result<Self, DecodeError> {
        match bytes.first() {
            Some(&KEYED) => Ok(RecordReader {
                bytes,
                pos: 1,
                what,
            }),
            _ => RecordReader::new(bytes, what),
        }
    }
    fn err(&self, why: &str) -> DecodeError {
        DecodeError {
            what: self.what,
            why: why.into(),
        }
    }
    /// Inlined everywhere: the loop that reads a million findings' dates
    /// (`records::decode_finding_days`) calls it for every field.
    #[inline(always)]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or_else(|| self.err("truncated"))?;
            self.pos += 1;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte < 0x80 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(self.err("bad varint"));
            }
        }
    }
    fn next_field(&mut self) -> Result<Option<(u8, Value<'a>)>, DecodeError> {
        let Some(&t) = self.bytes.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let v = match t & 3 {
            VARINT => Value::Varint(self.varint()?),
            BYTES => {
                let n = self.varint()? as usize;
                let s = self
                    .bytes
                    .get(self.pos..self.pos + n)
                    .ok_or_else(|| self.err("truncated"))?;
                self.pos += n;
                Value::Bytes(s)
            }
            F64 => {
                let s = self
                    .bytes
                    .get(self.pos..self.pos + 8)
                    .ok_or_else(|| self.err("truncated"))?;
                self.pos += 8;
                Value::Float(f64::from_le_bytes(s.try_into().unwrap()))
            }
            _ => return Err(self.err("bad wire type")),
        };
        Ok(Some((t >> 2, v)))
    }
}

impl Value<'_> {
    fn uint(&self) -> u64 {
        match self {
            Value::Varint(v) => *v,
            _ => 0,
        }
    }
    fn int(&self) -> i64 {
        let u = self.uint();
        ((u >> 1) as i64) ^ -((u & 1) as i64)
    }
    fn text(&self) -> String {
        self.text_as()
    }
    /// The text as `S`; bytes that are no UTF-8 read as the lossy conversion gives them.
    fn text_as<S: DecodedText>(&self) -> S {
        match self {
            Value::Bytes(b) => S::from_bytes(b),
            _ => S::default(),
        }
    }
    fn date(&self) -> Option<NaiveDate> {
        num_date(self.int())
    }
    fn float(&self) -> f64 {
        match self {
            Value::Float(v) => *v,
            _ => 0.0,
        }
    }
}

/// The type a decoder gives a record's texts as: `String`, or
/// `CompactString`, which keeps a text of up to 24 bytes inline, so a record
/// of short texts costs no allocation per text (the courses scripts hold).
pub trait DecodedText: Default {
    /// The text of a field's bytes; bytes that are no UTF-8 read as
    /// `String::from_utf8_lossy` gives them.
    fn from_bytes(b: &[u8]) -> Self;
    /// A text given whole (a key's field).
    fn from_text(s: &str) -> Self;
}

impl DecodedText for String {
    fn from_bytes(b: &[u8]) -> String {
        // Checked the fast way first: the lossy walk over its chunks
        // was a visible part of reading a hundred thousand institutions.
        match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(b).into_owned(),
        }
    }
    fn from_text(s: &str) -> String {
        s.to_owned()
    }
}

impl DecodedText for compact_str::CompactString {
    fn from_bytes(b: &[u8]) -> Self {
        match std::str::from_utf8(b) {
            Ok(s) => s.into(),
            Err(_) => compact_str::CompactString::from_utf8_lossy(b),
        }
    }
    fn from_text(s: &str) -> Self {
        s.into()
    }
}

/// Where the id and institution fields ([`tag::KEY_ID`] and
/// [`tag::KEY_INSTITUTION`], which the encoder of every keyed record writes first) end in the format-1 record `full`.
fn key_fields_end(full: &[u8]) -> Option<usize> {
    let mut r = RecordReader::new(full, "record").ok()?;
    match (r.next_field(), r.next_field()) {
        (Ok(Some((tag::KEY_ID, _))), Ok(Some((tag::KEY_INSTITUTION, _)))) => Some(r.pos),
        _ => None,
    }
}

/// The bytes a table keyed by `(institution, id)` stores for the format-1
/// record `full`, in two parts to write one after the other: the format byte
/// and the fields after the key's. A record without both key fields (none is
/// encoded so) is stored whole.
pub fn stored_parts(full: &[u8]) -> [&[u8]; 2] {
    match key_fields_end(full) {
        Some(end) => [&[KEYED], &full[end..]],
        None => [full, &[]],
    }
}

/// [`stored_parts`] joined.
pub fn to_stored(full: &[u8]) -> Vec<u8> {
    stored_parts(full).concat()
}

/// Appends to `out` the whole format-1 record that a table keyed by
/// `(inst, id)` stores as `stored` (either format).
pub fn rejoin_into(out: &mut Vec<u8>, inst: &str, id: &str, stored: &[u8]) {
    match stored.split_first() {
        Some((&KEYED, rest)) => {
            let mut w = RecordWriter(std::mem::take(out));
            w.0.push(FORMAT);
            w.text(tag::KEY_ID, id);
            w.text(tag::KEY_INSTITUTION, inst);
            w.0.extend_from_slice(rest);
            *out = w.0;
        }
        _ => out.extend_from_slice(stored),
    }
}

/// [`rejoin_into`] a new buffer.
pub fn rejoin(inst: &str, id: &str, stored: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len() + inst.len() + id.len() + 5);
    rejoin_into(&mut out, inst, id, stored);
    out
}

/// Whether `stored`, kept under the key of the format-1 record `full` (the
/// caller compares the institutions), is that record, in either format.
pub fn same_stored(stored: &[u8], full: &[u8]) -> bool {
    match stored.split_first() {
        Some((&KEYED, rest)) => key_fields_end(full).is_some_and(|end| rest == &full[end..]),
        _ => stored == full,
    }
}

/// A record kept in a table keyed by `(institution, id)`.
pub trait KeyedRecord: Sized {
    /// Decodes the record from a keyed table's bytes (either format),
    /// leaving the id and institution empty when format 2 left them out.
    fn from_stored(b: &[u8]) -> Result<Self, DecodeError>;
    fn set_key(&mut self, inst: &str, id: &str);
}

macro_rules! keyed_record {
    ($($t:ty => $from:ident, $what:literal;)*) => {$(
        impl KeyedRecord for $t {
            fn from_stored(b: &[u8]) -> Result<Self, DecodeError> {
                $from(RecordReader::stored(b, $what)?)
            }
            fn set_key(&mut self, inst: &str, id: &str) {
                self.institution_id = inst.to_string();
                self.id = id.to_string();
            }
        }
    )*};
}
keyed_record! {
    Inspection => inspection_from, "inspection";
    Finding => finding_from, "finding";
    Application => application_from, "application";
}

impl<S: DecodedText> KeyedRecord for CourseOf<S> {
    fn from_stored(b: &[u8]) -> Result<Self, DecodeError> {
        course_from(RecordReader::stored(b, "course")?)
    }
    fn set_key(&mut self, inst: &str, id: &str) {
        self.institution_id = S::from_text(inst);
        self.id = S::from_text(id);
    }
}

/// Decodes a record stored under the key `(inst, id)`.
pub fn decode_stored<T: KeyedRecord>(
    inst: &str,
    id: &str,
    stored: &[u8],
) -> Result<T, DecodeError> {
    let mut x = T::from_stored(stored)?;
    if stored.first() == Some(&KEYED) {
        x.set_key(inst, id);
    }
    Ok(x)
}

/// The text stored under `tag` in an encoded record, if the record has one.
/// Tags are those of the record's `encode_*` function, named in [`tag`]
/// (a finding's: [`tag::finding`]).
pub fn text_field(b: &[u8], tag: u8) -> Option<String> {
    first_text(RecordReader::new(b, "record").ok()?, tag)
}

/// [`text_field`] of a record as a keyed table stores it (either format):
/// format 2 has no id or institution field, which the key holds.
pub fn stored_text_field(stored: &[u8], tag: u8) -> Option<String> {
    first_text(RecordReader::stored(stored, "record").ok()?, tag)
}

/// The text of the first field tagged `tag` that `r` reads.
fn first_text(mut r: RecordReader<'_>, tag: u8) -> Option<String> {
    while let Ok(Some((t, v))) = r.next_field() {
        if t == tag {
            return Some(v.text());
        }
    }
    None
}

/// Whether a keyed table's `stored` record is format 2, without its id and
/// institution (which its key holds), rather than a whole format-1 record.
pub fn is_keyed(stored: &[u8]) -> bool {
    stored.first() == Some(&KEYED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_round_trips_and_unknown_fields_are_skipped() {
        let f = a_finding();
        let mut b = encode_finding(&f);
        assert_eq!(decode_finding(&b).unwrap(), f);
        // A field added by a later version: tag 30, bytes.
        b.push(30 << 2 | BYTES);
        b.push(2);
        b.extend_from_slice(b"xy");
        assert_eq!(decode_finding(&b).unwrap(), f);
    }

    fn a_finding() -> Finding {
        Finding {
            id: "F-甲1".into(),
            institution_id: "91440101MA5CXXXX0X".into(),
            inspection_id: Some("N1".into()),
            kind: FindingKind::LateHours,
            severity: 3,
            opened_on: parse_date("2018-05-01").unwrap(),
            deadline: parse_date("2018-05-31").unwrap(),
            rectified_on: parse_date("2018-05-20").ok(),
            verified_on: None,
            note: "夜间 21:30 仍在上课".into(),
        }
    }

    #[test]
    fn a_keyed_record_is_stored_without_its_key_and_rejoined_whole() {
        let f = a_finding();
        let full = encode_finding(&f);
        let stored = to_stored(&full);
        assert_eq!(stored[0], KEYED);
        assert_eq!(
            stored.len(),
            full.len() - (2 + f.id.len()) - (2 + f.institution_id.len())
        );
        assert!(!stored.windows(f.id.len()).any(|w| w == f.id.as_bytes()));
        // Back to the very bytes format 1 has, whatever reads them next.
        assert_eq!(rejoin(&f.institution_id, &f.id, &stored), full);
        assert_eq!(
            decode_stored::<Finding>(&f.institution_id, &f.id, &stored).unwrap(),
            f
        );
        // A record of schema 1 is read as it is.
        assert_eq!(rejoin(&f.institution_id, &f.id, &full), full);
        assert_eq!(
            decode_stored::<Finding>(&f.institution_id, &f.id, &full).unwrap(),
            f
        );
        let mut out = b"before".to_vec();
        rejoin_into(&mut out, &f.institution_id, &f.id, &stored);
        assert_eq!(&out[6..], &full[..]);
    }

    #[test]
    fn long_ids_and_institutions_survive_the_round_trip() {
        // Lengths of 128 bytes and more take two bytes of varint.
        let mut f = a_finding();
        f.id = "编".repeat(100);
        f.institution_id = "I".repeat(300);
        let full = encode_finding(&f);
        let stored = to_stored(&full);
        assert_eq!(stored.len(), full.len() - (3 + 300) - (3 + 300));
        assert_eq!(rejoin(&f.institution_id, &f.id, &stored), full);
        assert!(same_stored(&stored, &full));
    }

    #[test]
    fn other_decoders_refuse_a_record_stored_without_its_key() {
        let full = encode_finding(&a_finding());
        let stored = to_stored(&full);
        assert!(decode_finding(&stored).is_err());
        assert!(decode_finding_core(&stored).is_err());
        assert_eq!(text_field(&stored, tag::finding::NOTE), None);
        assert!(decode_finding_core(&full).is_ok());
    }

    #[test]
    fn a_stored_record_compares_equal_only_to_the_same_record() {
        let f = a_finding();
        let full = encode_finding(&f);
        for stored in [to_stored(&full), full.clone()] {
            assert!(same_stored(&stored, &full));
            let mut g = f.clone();
            g.severity = 4;
            assert!(!same_stored(&stored, &encode_finding(&g)));
            let mut g = f.clone();
            g.note.push('.');
            assert!(!same_stored(&stored, &encode_finding(&g)));
        }
    }

    #[test]
    fn every_keyed_record_starts_with_its_id_and_institution() {
        // `stored_parts` relies on it; a record that did not would be stored whole.
        let f = a_finding();
        let i = Inspection {
            id: "N1".into(),
            institution_id: "I1".into(),
            date: parse_date("2018-05-01").unwrap(),
            operation: None,
            departments: vec![],
            inspectors: 2,
            note: String::new(),
        };
        for full in [encode_finding(&f), encode_inspection(&i)] {
            assert_eq!(stored_parts(&full)[0], &[KEYED]);
        }
        let d = parse_date("2018-05-01").unwrap();
        let a = Application {
            id: "A1".into(),
            institution_id: "I1".into(),
            submitted_on: d,
            site_area_m2: 120.0,
            fire_approved: true,
            teachers: 3,
            qualified_teachers: 3,
            status: AppStatus::Submitted,
            decided_on: None,
            decision_reason: String::new(),
            licence_no: None,
            licence_expires: None,
        };
        let c = Course {
            id: "C1".into(),
            institution_id: "I1".into(),
            name: "奥数".into(),
            subject: "数学".into(),
            subject_type: Category::Subject,
            grade: "五年级".into(),
            mode: Mode::Offline,
            class_hours: 40,
            fee_fen: 400_000,
            prepay_months: 3,
            starts_on: d,
            ends_on: d,
            daily_end_min: 20 * 60,
            filed_on: d,
            status: CourseStatus::Filed,
            decision_reason: String::new(),
            decided_on: None,
        };
        for full in [encode_application(&a), encode_course(&c)] {
            assert_eq!(stored_parts(&full)[0], &[KEYED]);
        }
    }

    /// What `decode_finding_core` says of `full` (a format-1 record),
    /// with dates as day numbers.
    fn core_days(full: &[u8]) -> Result<FindingDays, String> {
        decode_finding_core(full)
            .map(FindingDays::from)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_day_decoder_reads_what_the_core_decoder_reads() {
        let base = a_finding();
        let d = |s: &str| parse_date(s).unwrap();
        let mut cases = Vec::new();
        for (rect, ver, insp, note) in [
            (None, None, None, ""),
            (Some(d("2018-05-20")), None, Some("N1"), "夜间"),
            (Some(d("2018-05-20")), Some(d("2018-06-02")), None, "x"),
            (None, Some(d("2019-01-01")), Some("N2"), ""),
        ] {
            let mut f = base.clone();
            f.rectified_on = rect;
            f.verified_on = ver;
            f.inspection_id = insp.map(String::from);
            f.note = note.into();
            cases.push(encode_finding(&f));
            // Dates at both ends of what a date can be, and every kind.
            f.opened_on = NaiveDate::MIN;
            f.deadline = NaiveDate::MAX;
            f.kind = FindingKind::ALL[cases.len() % FindingKind::ALL.len()];
            f.severity = -7;
            cases.push(encode_finding(&f));
        }
        // Records no encoder writes: day numbers no date has, fields given
        // twice, out of order, unknown, or with the wrong wire type, long
        // varints, and damaged ones.
        let mut odd = Vec::new();
        let head = |w: &mut RecordWriter| {
            w.text(tag::KEY_ID, "F1");
            w.text(tag::KEY_INSTITUTION, "I1");
        };
        use tag::finding as field;
        for n in [i64::MIN, -95_746_130, 95_745_400, 1 << 40, i64::MAX] {
            let mut w = RecordWriter::new();
            head(&mut w);
            w.int(field::OPENED_ON, n);
            w.int(field::DEADLINE, n);
            w.int(field::RECTIFIED_ON, n);
            w.int(field::VERIFIED_ON, n);
            odd.push(w.0);
        }
        let mut w = RecordWriter::new();
        head(&mut w);
        w.int(field::VERIFIED_ON, 700_000);
        w.uint(field::KIND, 3);
        w.int(field::SEVERITY, 2);
        w.int(field::SEVERITY, 300);
        w.text(30, "later");
        w.float(31, 2.5);
        w.uint(32, u64::MAX);
        w.float(field::DEADLINE, 1.0);
        w.text(field::RECTIFIED_ON, "not a date");
        odd.push(w.0.clone());
        w.uint(field::KIND, 200);
        odd.push(w.0);
        let mut w = RecordWriter::new();
        head(&mut w);
        w.text(field::KIND, "wrong type");
        odd.push(w.0);
        let whole = cases[1].clone();
        for cut in 1..whole.len() {
            odd.push(whole[..cut].to_vec());
        }
        odd.push(vec![
            FORMAT,
            field::NOTE << 2 | BYTES,
            0xff,
            0xff,
            0xff,
            0xff,
            0x7f,
        ]);
        odd.push(vec![
            FORMAT,
            field::SEVERITY << 2 | VARINT,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0x01,
        ]);
        odd.push(vec![FORMAT, field::SEVERITY << 2 | 3, 1]);
        odd.push(vec![FORMAT, field::SEVERITY << 2 | F64, 1, 2]);
        odd.push(vec![FORMAT]);
        odd.push(vec![9, 1, 2]);
        odd.push(vec![]);
        let (mut ok, mut bad) = (0, 0);
        for full in cases.iter().chain(&odd) {
            let want = core_days(full);
            let days = |b: &[u8]| decode_finding_days(b).map_err(|e| e.to_string());
            assert_eq!(days(full), want, "{full:?}");
            // The same record as a keyed table stores it.
            if key_fields_end(full).is_some() {
                assert_eq!(days(&to_stored(full)), want, "{full:?}");
            }
            match want {
                Ok(_) => ok += 1,
                Err(_) => bad += 1,
            }
        }
        assert!(ok > 10 && bad > 10, "{ok} {bad}");
        let f = decode_finding_days(&cases[2]).unwrap();
        assert_eq!(f.core(), decode_finding_core(&cases[2]).unwrap());
        assert_eq!(f.rectified_on, Some(date_num(d("2018-05-20")) as i32));
    }

    #[test]
    fn the_day_decoder_knows_the_range_of_dates() {
        use records::day;
        for n in [date_num(NaiveDate::MIN), date_num(NaiveDate::MAX)] {
            let u = ((n << 1) ^ (n >> 63)) as u64;
            assert_eq!(day(u), Some(n as i32));
            for m in [n - 1, n + 1] {
                let u = ((m << 1) ^ (m >> 63)) as u64;
                assert_eq!(day(u).is_some(), num_date(m).is_some(), "{m}");
            }
        }
    }

    #[test]
    fn a_stored_records_texts_read_without_its_key() {
        let f = a_finding();
        let full = encode_finding(&f);
        let stored = to_stored(&full);
        assert!(is_keyed(&stored) && !is_keyed(&full));
        for t in [tag::finding::INSPECTION, tag::finding::NOTE] {
            assert_eq!(stored_text_field(&stored, t), text_field(&full, t));
            assert_eq!(stored_text_field(&full, t), text_field(&full, t));
        }
        assert_eq!(stored_text_field(&stored, tag::finding::ID), None);
        // Bytes that are no UTF-8 read as the lossy conversion gives them.
        let mut w = RecordWriter::new();
        w.tag(tag::finding::NOTE, BYTES);
        w.varint(4);
        w.0.extend_from_slice(b"a\xffb\xe5");
        assert_eq!(
            text_field(&w.0, tag::finding::NOTE).unwrap(),
            "a\u{fffd}b\u{fffd}"
        );
    }

    #[test]
    fn negative_numbers_survive() {
        let mut w = RecordWriter::new();
        w.int(1, -5);
        let mut r = RecordReader::new(&w.0, "t").unwrap();
        let (_, v) = r.next_field().unwrap().unwrap();
        assert_eq!(v.int(), -5);
    }
}
