//! The field tags of every record, as its `encode_*` function writes them
//! and its decoder reads them. A tag keeps its meaning for good: records
//! written by older builds hold it, so a field that goes away leaves its tag
//! unused rather than handed to another field.

/// The record's own id, the first field of every record a table keyed by
/// `(institution, id)` stores (see `KEYED`).
pub const KEY_ID: u8 = 1;
/// The institution's id, the second field of every such record.
pub const KEY_INSTITUTION: u8 = 2;

/// Tags of an institution.
pub mod institution {
    pub const ID: u8 = 1;
    pub const NAME: u8 = 2;
    pub const USCC: u8 = 3;
    pub const DISTRICT: u8 = 4;
    pub const STREET: u8 = 5;
    pub const ADDRESS: u8 = 6;
    pub const CATEGORY: u8 = 7;
    pub const LICENCE_NO: u8 = 8;
    pub const LICENCE_ISSUED: u8 = 9;
    pub const LICENCE_EXPIRES: u8 = 10;
    pub const ORGANIZER: u8 = 11;
    pub const STUDENTS: u8 = 12;
    pub const TEACHERS: u8 = 13;
    pub const QUALIFIED_TEACHERS: u8 = 14;
    pub const AREA_M2: u8 = 15;
    pub const PREPAID_FEN: u8 = 16;
    pub const FIRE_APPROVED: u8 = 17;
    pub const STATUS: u8 = 18;
    pub const STATUS_DATE: u8 = 19;
}

/// Tags of an inspection (a keyed record).
pub mod inspection {
    pub const ID: u8 = super::KEY_ID;
    pub const INSTITUTION: u8 = super::KEY_INSTITUTION;
    pub const DATE: u8 = 3;
    pub const OPERATION: u8 = 4;
    /// A bit mask of the departments' codes.
    pub const DEPARTMENTS: u8 = 5;
    pub const INSPECTORS: u8 = 6;
    pub const NOTE: u8 = 7;
}

/// Tags of a finding (a keyed record).
pub mod finding {
    pub const ID: u8 = super::KEY_ID;
    pub const INSTITUTION: u8 = super::KEY_INSTITUTION;
    pub const INSPECTION: u8 = 3;
    pub const KIND: u8 = 4;
    pub const SEVERITY: u8 = 5;
    pub const OPENED_ON: u8 = 6;
    pub const DEADLINE: u8 = 7;
    pub const RECTIFIED_ON: u8 = 8;
    pub const VERIFIED_ON: u8 = 9;
    pub const NOTE: u8 = 10;
}

/// Tags of a status-history entry.
pub mod status {
    pub const DATE: u8 = 1;
    pub const STATUS: u8 = 2;
    pub const REASON: u8 = 3;
    pub const AUDIT: u8 = 4;
}

/// Tags of an audit change.
pub mod change {
    pub const KIND: u8 = 1;
    pub const ID: u8 = 2;
    pub const ACTION: u8 = 3;
    pub const BEFORE: u8 = 4;
}

/// Tags of a licence application (a keyed record).
pub mod application {
    pub const ID: u8 = super::KEY_ID;
    pub const INSTITUTION: u8 = super::KEY_INSTITUTION;
    pub const SUBMITTED_ON: u8 = 3;
    pub const SITE_AREA_M2: u8 = 4;
    pub const FIRE_APPROVED: u8 = 5;
    pub const TEACHERS: u8 = 6;
    pub const QUALIFIED_TEACHERS: u8 = 7;
    pub const STATUS: u8 = 8;
    pub const DECIDED_ON: u8 = 9;
    pub const DECISION_REASON: u8 = 10;
    pub const LICENCE_NO: u8 = 11;
    pub const LICENCE_EXPIRES: u8 = 12;
}

/// Tags of a course filing (a keyed record).
pub mod course {
    pub const ID: u8 = super::KEY_ID;
    pub const INSTITUTION: u8 = super::KEY_INSTITUTION;
    pub const NAME: u8 = 3;
    pub const SUBJECT: u8 = 4;
    pub const SUBJECT_TYPE: u8 = 5;
    pub const GRADE: u8 = 6;
    pub const MODE: u8 = 7;
    pub const CLASS_HOURS: u8 = 8;
    pub const FEE_FEN: u8 = 9;
    pub const PREPAY_MONTHS: u8 = 10;
    pub const STARTS_ON: u8 = 11;
    pub const ENDS_ON: u8 = 12;
    pub const DAILY_END_MIN: u8 = 13;
    pub const FILED_ON: u8 = 14;
    pub const STATUS: u8 = 15;
    pub const DECISION_REASON: u8 = 16;
    pub const DECIDED_ON: u8 = 17;
}
