//! Each record's encoder and decoder: which field goes under which of its
//! [`tag`]s, and the value a field the record lacks reads as.

use chrono::NaiveDate;

use super::{tag, DecodeError, DecodedText, RecordReader, RecordWriter, Value, BYTES, F64, VARINT};
use crate::model::*;

/// Encodes an institution.
pub fn encode_institution(x: &Institution) -> Vec<u8> {
    use tag::institution as field;
    let mut w = RecordWriter::new();
    w.text(field::ID, &x.id);
    w.text(field::NAME, &x.name);
    w.opt_text(field::USCC, &x.uscc);
    w.text(field::DISTRICT, &x.district);
    w.text(field::STREET, &x.street);
    w.text(field::ADDRESS, &x.address);
    w.uint(field::CATEGORY, x.category.code() as u64);
    w.opt_text(field::LICENCE_NO, &x.licence_no);
    w.opt_date(field::LICENCE_ISSUED, x.licence_issued);
    w.opt_date(field::LICENCE_EXPIRES, x.licence_expires);
    w.text(field::ORGANIZER, &x.organizer);
    w.int(field::STUDENTS, x.students);
    w.int(field::TEACHERS, x.teachers);
    w.int(field::QUALIFIED_TEACHERS, x.qualified_teachers);
    w.float(field::AREA_M2, x.area_m2);
    w.int(field::PREPAID_FEN, x.prepaid_fen);
    w.uint(field::FIRE_APPROVED, x.fire_approved as u64);
    w.uint(field::STATUS, x.status.code() as u64);
    w.date(field::STATUS_DATE, x.status_date);
    w.0
}

/// Decodes an institution.
pub fn decode_institution(b: &[u8]) -> Result<Institution, DecodeError> {
    decode_institution_as(b)
}

/// Decodes an institution with its texts as `S` (see [`DecodedText`]).
pub fn decode_institution_as<S: DecodedText>(b: &[u8]) -> Result<InstitutionOf<S>, DecodeError> {
    use tag::institution as field;
    let mut r = RecordReader::new(b, "institution")?;
    let mut x = InstitutionOf {
        id: S::default(),
        name: S::default(),
        uscc: None,
        district: S::default(),
        street: S::default(),
        address: S::default(),
        category: Category::NonSubject,
        licence_no: None,
        licence_issued: None,
        licence_expires: None,
        organizer: S::default(),
        students: 0,
        teachers: 0,
        qualified_teachers: 0,
        area_m2: 0.0,
        prepaid_fen: 0,
        fire_approved: false,
        status: Status::Operating,
        status_date: NaiveDate::MIN,
    };
    while let Some((t, v)) = r.next_field()? {
        match t {
            field::ID => x.id = v.text_as(),
            field::NAME => x.name = v.text_as(),
            field::USCC => x.uscc = Some(v.text_as()),
            field::DISTRICT => x.district = v.text_as(),
            field::STREET => x.street = v.text_as(),
            field::ADDRESS => x.address = v.text_as(),
            field::CATEGORY => {
                x.category =
                    Category::from_code(v.uint() as u8).ok_or_else(|| r.err("bad category"))?
            }
            field::LICENCE_NO => x.licence_no = Some(v.text_as()),
            field::LICENCE_ISSUED => x.licence_issued = v.date(),
            field::LICENCE_EXPIRES => x.licence_expires = v.date(),
            field::ORGANIZER => x.organizer = v.text_as(),
            field::STUDENTS => x.students = v.int(),
            field::TEACHERS => x.teachers = v.int(),
            field::QUALIFIED_TEACHERS => x.qualified_teachers = v.int(),
            field::AREA_M2 => x.area_m2 = v.float(),
            field::PREPAID_FEN => x.prepaid_fen = v.int(),
            field::FIRE_APPROVED => x.fire_approved = v.uint() != 0,
            field::STATUS => {
                x.status = Status::from_code(v.uint() as u8).ok_or_else(|| r.err("bad status"))?
            }
            field::STATUS_DATE => x.status_date = v.date().unwrap_or(NaiveDate::MIN),
            _ => {}
        }
    }
    Ok(x)
}

/// Encodes an inspection.
pub fn encode_inspection(x: &Inspection) -> Vec<u8> {
    use tag::inspection as field;
    let mut w = RecordWriter::new();
    w.text(field::ID, &x.id);
    w.text(field::INSTITUTION, &x.institution_id);
    w.date(field::DATE, x.date);
    w.opt_text(field::OPERATION, &x.operation);
    let mut mask = 0u64;
    for d in &x.departments {
        mask |= 1 << d.code();
    }
    w.uint(field::DEPARTMENTS, mask);
    w.int(field::INSPECTORS, x.inspectors);
    w.text(field::NOTE, &x.note);
    w.0
}

/// Decodes an inspection.
pub fn decode_inspection(b: &[u8]) -> Result<Inspection, DecodeError> {
    inspection_from(RecordReader::new(b, "inspection")?)
}

pub(super) fn inspection_from(mut r: RecordReader<'_>) -> Result<Inspection, DecodeError> {
    use tag::inspection as field;
    let mut x = Inspection {
        id: String::new(),
        institution_id: String::new(),
        date: NaiveDate::MIN,
        operation: None,
        departments: Vec::new(),
        inspectors: 0,
        note: String::new(),
    };
    while let Some((t, v)) = r.next_field()? {
        match t {
            field::ID => x.id = v.text(),
            field::INSTITUTION => x.institution_id = v.text(),
            field::DATE => x.date = v.date().unwrap_or(NaiveDate::MIN),
            field::OPERATION => x.operation = Some(v.text()),
            field::DEPARTMENTS => {
                let m = v.uint();
                x.departments = Department::ALL
                    .iter()
                    .copied()
                    .filter(|d| m & (1 << d.code()) != 0)
                    .collect()
            }
            field::INSPECTORS => x.inspectors = v.int(),
            field::NOTE => x.note = v.text(),
            _ => {}
        }
    }
    Ok(x)
}

/// Encodes a finding.
pub fn encode_finding(x: &Finding) -> Vec<u8> {
    use tag::finding as field;
    let mut w = RecordWriter::new();
    w.text(field::ID, &x.id);
    w.text(field::INSTITUTION, &x.institution_id);
    w.opt_text(field::INSPECTION, &x.inspection_id);
    w.uint(field::KIND, x.kind.code() as u64);
    w.int(field::SEVERITY, x.severity);
    w.date(field::OPENED_ON, x.opened_on);
    w.date(field::DEADLINE, x.deadline);
    w.opt_date(field::RECTIFIED_ON, x.rectified_on);
    w.opt_date(field::VERIFIED_ON, x.verified_on);
    w.text(field::NOTE, &x.note);
    w.0
}

/// Decodes a finding.
pub fn decode_finding(b: &[u8]) -> Result<Finding, DecodeError> {
    finding_from(RecordReader::new(b, "finding")?)
}

pub(super) fn finding_from(mut r: RecordReader<'_>) -> Result<Finding, DecodeError> {
    use tag::finding as field;
    let (mut id, mut institution_id, mut inspection_id, mut note) =
        (String::new(), String::new(), None, String::new());
    let mut core = EMPTY_CORE;
    while let Some((t, v)) = r.next_field()? {
        match t {
            field::ID => id = v.text(),
            field::INSTITUTION => institution_id = v.text(),
            field::INSPECTION => inspection_id = Some(v.text()),
            field::NOTE => note = v.text(),
            _ => core_field(&mut core, t, &v, &r)?,
        }
    }
    Ok(Finding {
        id,
        institution_id,
        inspection_id,
        kind: core.kind,
        severity: core.severity,
        opened_on: core.opened_on,
        deadline: core.deadline,
        rectified_on: core.rectified_on,
        verified_on: core.verified_on,
        note,
    })
}

/// A finding's fields before any is read.
const EMPTY_CORE: FindingCore = FindingCore {
    kind: FindingKind::Other,
    severity: 1,
    opened_on: NaiveDate::MIN,
    deadline: NaiveDate::MIN,
    rectified_on: None,
    verified_on: None,
};

/// Reads one of a finding's non-text fields (tags 4–9); others are skipped.
fn core_field(
    x: &mut FindingCore,
    t: u8,
    v: &Value<'_>,
    r: &RecordReader<'_>,
) -> Result<(), DecodeError> {
    use tag::finding as field;
    match t {
        field::KIND => {
            x.kind = FindingKind::from_code(v.uint() as u8).ok_or_else(|| r.err("bad kind"))?
        }
        field::SEVERITY => x.severity = v.int(),
        field::OPENED_ON => x.opened_on = v.date().unwrap_or(NaiveDate::MIN),
        field::DEADLINE => x.deadline = v.date().unwrap_or(NaiveDate::MIN),
        field::RECTIFIED_ON => x.rectified_on = v.date(),
        field::VERIFIED_ON => x.verified_on = v.date(),
        _ => {}
    }
    Ok(())
}

/// A finding's fields other than its texts, without allocating: what
/// [`decode_finding_days`] is tested against (scans use that one).
#[cfg(test)]
pub fn decode_finding_core(b: &[u8]) -> Result<FindingCore, DecodeError> {
    let mut r = RecordReader::new(b, "finding")?;
    let mut x = EMPTY_CORE;
    while let Some((t, v)) = r.next_field()? {
        core_field(&mut x, t, &v, &r)?;
    }
    Ok(x)
}

/// The first and last day numbers a [`NaiveDate`] has: a stored date
/// outside them decodes as `decode_finding_core` decodes it (no date).
const MIN_DAY: i64 = -95_746_129;
const MAX_DAY: i64 = 95_745_399;

/// A stored day number as [`Value::date`] reads it, without making a date.
pub(super) fn day(u: u64) -> Option<i32> {
    let n = ((u >> 1) as i64) ^ -((u & 1) as i64);
    (MIN_DAY..=MAX_DAY).contains(&n).then_some(n as i32)
}

/// `decode_finding_core` of a finding as a keyed table stores it (either
/// format: format 2 lacks only the texts this skips), with its dates left as
/// day numbers: one pass that looks at each field's tag and skips texts by
/// their length. Every check of the general reader stays (format byte, wire
/// types, varints, lengths, the kind's code); a known field stored with the
/// wrong wire type reads as 0, as there.
pub fn decode_finding_days(b: &[u8]) -> Result<FindingDays, DecodeError> {
    use tag::finding as field;
    let mut r = RecordReader::stored(b, "finding")?;
    let mut x = FindingDays {
        kind: FindingKind::Other,
        severity: 1,
        opened_on: MIN_DAY as i32,
        deadline: MIN_DAY as i32,
        rectified_on: None,
        verified_on: None,
    };
    let bytes = r.bytes;
    while let Some(&t) = bytes.get(r.pos) {
        r.pos += 1;
        let u = match t & 3 {
            VARINT => match bytes.get(r.pos) {
                // One byte holds most of a finding's numbers.
                Some(&v) if v < 0x80 => {
                    r.pos += 1;
                    v as u64
                }
                _ => r.varint()?,
            },
            BYTES => {
                let n = r.varint()?;
                r.pos = usize::try_from(n)
                    .ok()
                    .and_then(|n| r.pos.checked_add(n))
                    .filter(|&end| end <= bytes.len())
                    .ok_or_else(|| r.err("truncated"))?;
                0
            }
            F64 => {
                r.pos = Some(r.pos + 8)
                    .filter(|&end| end <= bytes.len())
                    .ok_or_else(|| r.err("truncated"))?;
                0
            }
            _ => return Err(r.err("bad wire type")),
        };
        match t >> 2 {
            field::KIND => {
                x.kind = FindingKind::from_code(u as u8).ok_or_else(|| r.err("bad kind"))?
            }
            field::SEVERITY => x.severity = ((u >> 1) as i64) ^ -((u & 1) as i64),
            field::OPENED_ON => x.opened_on = day(u).unwrap_or(MIN_DAY as i32),
            field::DEADLINE => x.deadline = day(u).unwrap_or(MIN_DAY as i32),
            field::RECTIFIED_ON => x.rectified_on = day(u),
            field::VERIFIED_ON => x.verified_on = day(u),
            _ => {}
        }
    }
    Ok(x)
}

/// One dated entry of an institution's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub date: NaiveDate,
    pub status: Status,
    pub reason: String,
    /// The audit entry that recorded it.
    pub audit: u64,
}

/// Encodes a status-history entry.
pub fn encode_status(x: &StatusChange) -> Vec<u8> {
    use tag::status as field;
    let mut w = RecordWriter::new();
    w.date(field::DATE, x.date);
    w.uint(field::STATUS, x.status.code() as u64);
    w.text(field::REASON, &x.reason);
    w.uint(field::AUDIT, x.audit);
    w.0
}

/// Decodes a status-history entry.
pub fn decode_status(b: &[u8]) -> Result<StatusChange, DecodeError> {
    use tag::status as field;
    let mut r = RecordReader::new(b, "status history")?;
    let mut x = StatusChange {
        date: NaiveDate::MIN,
        status: Status::Operating,
        reason: String::new(),
        audit: 0,
    };
    while let Some((t, v)) = r.next_field()? {
        match t {
            field::DATE => x.date = v.date().unwrap_or(NaiveDate::MIN),
            field::STATUS => {
                x.status = Status::from_code(v.uint() as u8).ok_or_else(|| r.err("bad status"))?
            }
            field::REASON => x.reason = v.text(),
            field::AUDIT => x.audit = v.uint(),
            _ => {}
        }
    }
    Ok(x)
}

/// One record changed by an audited operation, with the record as it was before.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The table: "institution", "inspection", "finding", "status" …
    pub kind: String,
    pub id: String,
    /// "insert", "update", "status" …
    pub action: String,
    /// The encoded record before the change (empty for an insert).
    pub before: Vec<u8>,
}

/// Encodes an audit change.
pub fn encode_change(x: &Change) -> Vec<u8> {
    use tag::change as field;
    let mut w = RecordWriter::new();
    w.text(field::KIND, &x.kind);
    w.text(field::ID, &x.id);
    w.text(field::ACTION, &x.action);
    if !x.before.is_empty() {
        w.tag(field::BEFORE, BYTES);
        w.varint(x.before.len() as u64);
        w.0.extend_from_slice(&x.before);
    }
    w.0
}

/// Decodes an audit change.
pub fn decode_change(b: &[u8]) -> Result<Change, DecodeError> {
    use tag::change as field;
    let mut r = RecordReader::new(b, "audit change")?;
    let mut x = Change {
        kind: String::new(),
        id: String::new(),
        action: String::new(),
        before: Vec::new(),
    };
    while let Some((t, v)) = r.next_field()? {
        match (t, v) {
            (field::KIND, v) => x.kind = v.text(),
            (field::ID, v) => x.id = v.text(),
            (field::ACTION, v) => x.action = v.text(),
            (field::BEFORE, Value::Bytes(b)) => x.before = b.to_vec(),
            _ => {}
        }
    }
    Ok(x)
}

/// Encodes a licence application.
pub fn encode_application(x: &Application) -> Vec<u8> {
    use tag::application as field;
    let mut w = RecordWriter::new();
    w.text(field::ID, &x.id);
    w.text(field::INSTITUTION, &x.institution_id);
    w.date(field::SUBMITTED_ON, x.submitted_on);
    w.float(field::SITE_AREA_M2, x.site_area_m2);
    w.uint(field::FIRE_APPROVED, x.fire_approved as u64);
    w.int(field::TEACHERS, x.teachers);
    w.int(field::QUALIFIED_TEACHERS, x.qualified_teachers);
    w.uint(field::STATUS, x.status.code() as u64);
    w.opt_date(field::DECIDED_ON, x.decided_on);
    w.text(field::DECISION_REASON, &x.decision_reason);
    w.opt_text(field::LICENCE_NO, &x.licence_no);
    w.opt_date(field::LICENCE_EXPIRES, x.licence_expires);
    w.0
}

/// Decodes a licence application.
pub fn decode_application(b: &[u8]) -> Result<Application, DecodeError> {
    application_from(RecordReader::new(b, "application")?)
}

pub(super) fn application_from(mut r: RecordReader<'_>) -> Result<Application, DecodeError> {
    use tag::application as field;
    let mut x = Application {
        id: String::new(),
        institution_id: String::new(),
        submitted_on: NaiveDate::MIN,
        site_area_m2: 0.0,
        fire_approved: false,
        teachers: 0,
        qualified_teachers: 0,
        status: AppStatus::Submitted,
        decided_on: None,
        decision_reason: String::new(),
        licence_no: None,
        licence_expires: None,
    };
    while let Some((t, v)) = r.next_field()? {
        match t {
            field::ID => x.id = v.text(),
            field::INSTITUTION => x.institution_id = v.text(),
            field::SUBMITTED_ON => x.submitted_on = v.date().unwrap_or(NaiveDate::MIN),
            field::SITE_AREA_M2 => x.site_area_m2 = v.float(),
            field::FIRE_APPROVED => x.fire_approved = v.uint() != 0,
            field::TEACHERS => x.teachers = v.int(),
            field::QUALIFIED_TEACHERS => x.qualified_teachers = v.int(),
            field::STATUS => {
                x.status =
                    AppStatus::from_code(v.uint() as u8).ok_or_else(|| r.err("bad status"))?
            }
            field::DECIDED_ON => x.decided_on = v.date(),
            field::DECISION_REASON => x.decision_reason = v.text(),
            field::LICENCE_NO => x.licence_no = Some(v.text()),
            field::LICENCE_EXPIRES => x.licence_expires = v.date(),
            _ => {}
        }
    }
    Ok(x)
}

/// Encodes a course filing.
pub fn encode_course(x: &Course) -> Vec<u8> {
    use tag::course as field;
    let mut w = RecordWriter::new();
    w.text(field::ID, &x.id);
    w.text(field::INSTITUTION, &x.institution_id);
    w.text(field::NAME, &x.name);
    w.text(field::SUBJECT, &x.subject);
    w.uint(field::SUBJECT_TYPE, x.subject_type.code() as u64);
    w.text(field::GRADE, &x.grade);
    w.uint(field::MODE, x.mode.code() as u64);
    w.int(field::CLASS_HOURS, x.class_hours);
    w.int(field::FEE_FEN, x.fee_fen);
    w.int(field::PREPAY_MONTHS, x.prepay_months);
    w.date(field::STARTS_ON, x.starts_on);
    w.date(field::ENDS_ON, x.ends_on);
    w.uint(field::DAILY_END_MIN, x.daily_end_min as u64);
    w.date(field::FILED_ON, x.filed_on);
    w.uint(field::STATUS, x.status.code() as u64);
    w.text(field::DECISION_REASON, &x.decision_reason);
    w.opt_date(field::DECIDED_ON, x.decided_on);
    w.0
}

/// Decodes a course filing.
pub fn decode_course(b: &[u8]) -> Result<Course, DecodeError> {
    course_from(RecordReader::new(b, "course")?)
}

/// Decodes a course filing with its texts as `S` (see [`DecodedText`]).
pub fn decode_course_as<S: DecodedText>(b: &[u8]) -> Result<CourseOf<S>, DecodeError> {
    course_from(RecordReader::new(b, "course")?)
}

pub(super) fn course_from<S: DecodedText>(
    mut r: RecordReader<'_>,
) -> Result<CourseOf<S>, DecodeError> {
    use tag::course as field;
    let mut x = CourseOf {
        id: S::default(),
        institution_id: S::default(),
        name: S::default(),
        subject: S::default(),
        subject_type: Category::NonSubject,
        grade: S::default(),
        mode: Mode::Offline,
        class_hours: 0,
        fee_fen: 0,
        prepay_months: 0,
        starts_on: NaiveDate::MIN,
        ends_on: NaiveDate::MIN,
        daily_end_min: 0,
        filed_on: NaiveDate::MIN,
        status: CourseStatus::Filed,
        decision_reason: S::default(),
        // A course stored before the field was has none: see `Course::status_on`.
        decided_on: None,
    };
    while let Some((t, v)) = r.next_field()? {
        match t {
            field::ID => x.id = v.text_as(),
            field::INSTITUTION => x.institution_id = v.text_as(),
            field::NAME => x.name = v.text_as(),
            field::SUBJECT => x.subject = v.text_as(),
            field::SUBJECT_TYPE => {
                x.subject_type =
                    Category::from_code(v.uint() as u8).ok_or_else(|| r.err("bad subject_type"))?
            }
            field::GRADE => x.grade = v.text_as(),
            field::MODE => {
                x.mode = Mode::from_code(v.uint() as u8).ok_or_else(|| r.err("bad mode"))?
            }
            field::CLASS_HOURS => x.class_hours = v.int(),
            field::FEE_FEN => x.fee_fen = v.int(),
            field::PREPAY_MONTHS => x.prepay_months = v.int(),
            field::STARTS_ON => x.starts_on = v.date().unwrap_or(NaiveDate::MIN),
            field::ENDS_ON => x.ends_on = v.date().unwrap_or(NaiveDate::MIN),
            field::DAILY_END_MIN => x.daily_end_min = v.uint() as u32,
            field::FILED_ON => x.filed_on = v.date().unwrap_or(NaiveDate::MIN),
            field::STATUS => {
                x.status =
                    CourseStatus::from_code(v.uint() as u8).ok_or_else(|| r.err("bad status"))?
            }
            field::DECISION_REASON => x.decision_reason = v.text_as(),
            field::DECIDED_ON => x.decided_on = v.date(),
            _ => {}
        }
    }
    Ok(x)
}

#[cfg(test)]
mod institution_tests;

#[cfg(test)]
mod tests {
    //! The courses scripts hold (texts as `CompactString`s) against the `String` decoder.

    use super::super::{decode_stored, key_fields_end, text_field, to_stored, FORMAT};
    use super::*;

    fn a_course() -> Course {
        let d = parse_date("2019-03-01").unwrap();
        Course {
            id: "C1".into(),
            institution_id: "91440101MA5CXXXX0X".into(),
            name: "奥数".into(),
            subject: "数学".into(),
            subject_type: Category::Subject,
            grade: "五年级".into(),
            mode: Mode::Online,
            class_hours: 40,
            fee_fen: 400_000,
            prepay_months: 3,
            starts_on: d,
            ends_on: parse_date("2019-05-31").unwrap(),
            daily_end_min: 20 * 60 + 30,
            filed_on: parse_date("2019-02-01").unwrap(),
            status: CourseStatus::Rejected,
            decision_reason: "预收超过三个月".into(),
            decided_on: parse_date("2019-02-10").ok(),
        }
    }

    /// `c`'s texts as `String`s, to compare with what the `String` decoder gives.
    fn as_strings(c: CourseOf<compact_str::CompactString>) -> Course {
        c.texts_as(|s| s.to_string())
    }

    /// What both course decoders say of `full` (a format-1 record) and of
    /// it as a keyed table stores it; they must agree, error for error.
    fn both_course_decoders(full: &[u8]) -> Result<Course, String> {
        use compact_str::CompactString as C;
        let want = decode_course(full).map_err(|e| e.to_string());
        let compact = decode_course_as::<C>(full)
            .map(as_strings)
            .map_err(|e| e.to_string());
        assert_eq!(compact, want, "{full:?}");
        if key_fields_end(full).is_some() {
            let stored = to_stored(full);
            let key = |t| text_field(full, t).unwrap();
            let (inst, id) = (key(tag::KEY_INSTITUTION), key(tag::KEY_ID));
            let s = decode_stored::<Course>(&inst, &id, &stored).map_err(|e| e.to_string());
            let c = decode_stored::<CourseOf<C>>(&inst, &id, &stored)
                .map(as_strings)
                .map_err(|e| e.to_string());
            assert_eq!(s, want, "{full:?}");
            assert_eq!(c, want, "{full:?}");
        }
        want
    }

    #[test]
    fn a_course_with_compact_texts_reads_as_the_string_decoder_reads_it() {
        let c = a_course();
        assert_eq!(both_course_decoders(&encode_course(&c)).unwrap(), c);
        // Texts longer than a compact string holds inline, and empty ones.
        let mut long = c.clone();
        long.name = "小学奥数思维拓展提高培优班（寒假）".into();
        long.institution_id = "I".repeat(200);
        long.grade = String::new();
        long.decision_reason = "理由".repeat(100);
        assert_eq!(both_course_decoders(&encode_course(&long)).unwrap(), long);
        let d = decode_course_as::<compact_str::CompactString>(&encode_course(&long)).unwrap();
        assert!(d.name.is_heap_allocated() && !d.id.is_heap_allocated());
        // Invalid UTF-8 in each text field reads as the lossy conversion gives it.
        use tag::course as field;
        for t in [
            field::ID,
            field::INSTITUTION,
            field::NAME,
            field::SUBJECT,
            field::GRADE,
            field::DECISION_REASON,
        ] {
            for bad in [&b"a\xffb\xe5"[..], b"\xe4\xbd", b"\xc0\x80x", &[b'y'; 40]] {
                let mut w = RecordWriter::new();
                // The key's fields come first, bad or not (see `stored_parts`).
                let put = |w: &mut RecordWriter, f: u8, v: &[u8]| {
                    w.tag(f, BYTES);
                    w.varint(v.len() as u64);
                    w.0.extend_from_slice(v);
                };
                put(&mut w, field::ID, if t == field::ID { bad } else { b"C9" });
                put(
                    &mut w,
                    field::INSTITUTION,
                    if t == field::INSTITUTION { bad } else { b"I9" },
                );
                if t != field::ID && t != field::INSTITUTION {
                    put(&mut w, t, bad);
                }
                w.uint(field::MODE, 1);
                let got = both_course_decoders(&w.0).unwrap();
                let text = match t {
                    field::ID => &got.id,
                    field::INSTITUTION => &got.institution_id,
                    field::NAME => &got.name,
                    field::SUBJECT => &got.subject,
                    field::GRADE => &got.grade,
                    _ => &got.decision_reason,
                };
                assert_eq!(*text, String::from_utf8_lossy(bad), "tag {t}");
            }
        }
    }

    #[test]
    fn a_damaged_course_gives_the_same_error_to_both_decoders() {
        let full = encode_course(&a_course());
        let (mut ok, mut bad) = (0, 0);
        // Every truncation: cut inside a text, a varint or a tag.
        for cut in 1..full.len() {
            match both_course_decoders(&full[..cut]) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(e.contains("course") && e.contains("truncated"), "{e}");
                    bad += 1
                }
            }
        }
        assert!(ok > 5 && bad > 5, "{ok} {bad}");
        use tag::course as field;
        for odd in [
            vec![FORMAT, field::MODE << 2 | VARINT, 9],
            vec![FORMAT, field::STATUS << 2 | VARINT, 200],
            vec![FORMAT, field::NAME << 2 | 3, 1],
            vec![FORMAT, field::NAME << 2 | BYTES, 0xff, 0xff, 0x7f],
            vec![FORMAT],
            vec![9, 1, 2],
            vec![],
        ] {
            let _ = both_course_decoders(&odd);
        }
        assert!(both_course_decoders(&[])
            .unwrap_err()
            .contains("empty record"));
        assert!(
            both_course_decoders(&[FORMAT, field::MODE << 2 | VARINT, 9])
                .unwrap_err()
                .contains("bad mode")
        );
        // Format 2 is refused by the format-1 decoders, whatever the texts' type.
        let stored = to_stored(&full);
        assert!(decode_course_as::<compact_str::CompactString>(&stored).is_err());
    }
}
