//! The institutions scripts hold (texts as `CompactString`s) against the
//! `String` decoder: the same institution, or the same error, from the same bytes.

use compact_str::CompactString as C;

use super::super::{FORMAT, VARINT};
use super::*;

fn an_institution() -> Institution {
    Institution {
        id: "GZ-TH-00001".into(),
        name: "天河奥数".into(),
        uscc: Some("91440101MA5CXXXX0X".into()),
        district: "天河".into(),
        street: "石牌街".into(),
        address: "天河路1号".into(),
        category: Category::Subject,
        licence_no: Some("教民144010670000001".into()),
        licence_issued: parse_date("2017-03-01").ok(),
        licence_expires: parse_date("2022-02-28").ok(),
        organizer: "张三".into(),
        students: 320,
        teachers: 18,
        qualified_teachers: 11,
        area_m2: 412.5,
        prepaid_fen: 123_456_789,
        fire_approved: true,
        status: Status::Rectifying,
        status_date: parse_date("2018-11-29").unwrap(),
    }
}

/// `x`'s texts as `String`s, to compare with what the `String` decoder gives.
fn as_strings(x: InstitutionOf<C>) -> Institution {
    x.texts_as(|s| s.to_string())
}

/// What both institution decoders say of `b`; they must agree, error for error.
fn both_decoders(b: &[u8]) -> Result<Institution, String> {
    let want = decode_institution(b).map_err(|e| e.to_string());
    let compact = decode_institution_as::<C>(b)
        .map(as_strings)
        .map_err(|e| e.to_string());
    assert_eq!(compact, want, "{b:?}");
    // Methods scripts use read the same from either form.
    if let (Ok(s), Ok(c)) = (decode_institution(b), decode_institution_as::<C>(b)) {
        let d = parse_date("2019-02-20").unwrap();
        assert_eq!(s.licensed(d), c.licensed(d));
        assert_eq!(s.prepaid_yuan().to_bits(), c.prepaid_yuan().to_bits());
    }
    want
}

#[test]
fn an_institution_with_compact_texts_reads_as_the_string_decoder_reads_it() {
    let x = an_institution();
    assert_eq!(both_decoders(&encode_institution(&x)).unwrap(), x);
    // No uscc, no licence number, and empty texts.
    let mut bare = x.clone();
    bare.uscc = None;
    bare.licence_no = None;
    bare.licence_issued = None;
    bare.licence_expires = None;
    bare.street = String::new();
    bare.organizer = String::new();
    assert_eq!(both_decoders(&encode_institution(&bare)).unwrap(), bare);
    // Texts longer than a compact string holds inline.
    let mut long = x.clone();
    long.name = "广州市天河区某某教育培训中心有限公司（石牌校区）".into();
    long.address = "天河路".repeat(50);
    long.licence_no = Some("L".repeat(25));
    long.organizer = "举".repeat(9);
    assert_eq!(both_decoders(&encode_institution(&long)).unwrap(), long);
    let d = decode_institution_as::<C>(&encode_institution(&long)).unwrap();
    assert!(d.name.is_heap_allocated() && d.address.is_heap_allocated());
    assert!(!d.id.is_heap_allocated() && !d.district.is_heap_allocated());
}

#[test]
fn invalid_utf8_in_each_text_field_reads_as_the_lossy_conversion_gives_it() {
    use tag::institution as field;
    for t in [
        field::ID,
        field::NAME,
        field::USCC,
        field::DISTRICT,
        field::STREET,
        field::ADDRESS,
        field::LICENCE_NO,
        field::ORGANIZER,
    ] {
        for bad in [&b"a\xffb\xe5"[..], b"\xe4\xbd", b"\xc0\x80x", &[b'y'; 40]] {
            let mut w = RecordWriter::new();
            w.text(field::ID, "I1");
            w.tag(t, BYTES);
            w.varint(bad.len() as u64);
            w.0.extend_from_slice(bad);
            w.uint(field::CATEGORY, 1);
            let got = both_decoders(&w.0).unwrap();
            let text = match t {
                field::ID => got.id,
                field::NAME => got.name,
                field::USCC => got.uscc.unwrap(),
                field::DISTRICT => got.district,
                field::STREET => got.street,
                field::ADDRESS => got.address,
                field::LICENCE_NO => got.licence_no.unwrap(),
                _ => got.organizer,
            };
            assert_eq!(text, String::from_utf8_lossy(bad), "tag {t}");
        }
    }
}

#[test]
fn a_damaged_institution_gives_the_same_error_to_both_decoders() {
    let full = encode_institution(&an_institution());
    let (mut ok, mut bad) = (0, 0);
    // Every truncation: cut inside a text, a varint, a float or a tag.
    for cut in 1..full.len() {
        match both_decoders(&full[..cut]) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(e.contains("institution") && e.contains("truncated"), "{e}");
                bad += 1
            }
        }
    }
    assert!(ok > 5 && bad > 5, "{ok} {bad}");
    use tag::institution as field;
    for odd in [
        vec![FORMAT, field::CATEGORY << 2 | VARINT, 9],
        vec![FORMAT, field::STATUS << 2 | VARINT, 100],
        vec![FORMAT, field::NAME << 2 | 3, 1],
        vec![FORMAT, field::NAME << 2 | BYTES, 0xff, 0xff, 0x7f],
        vec![FORMAT, field::AREA_M2 << 2 | F64, 1, 2],
        vec![FORMAT, field::USCC << 2 | VARINT, 5],
        vec![FORMAT],
        vec![9, 1, 2],
        vec![],
    ] {
        let _ = both_decoders(&odd);
    }
    assert!(both_decoders(&[]).unwrap_err().contains("empty record"));
    assert!(both_decoders(&[FORMAT, field::CATEGORY << 2 | VARINT, 9])
        .unwrap_err()
        .contains("bad category"));
    assert!(both_decoders(&[FORMAT, field::STATUS << 2 | VARINT, 100])
        .unwrap_err()
        .contains("bad status"));
}
