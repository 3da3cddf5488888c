//! What the demo city is built to show: the figures of the bureau's 2019
//! report (SPEC §1) the city's aggregates reproduce, and the cases planted on
//! the management platform for each criterion of `scripts/licence_review.rhai`
//! and each rule of `scripts/course_check.rhai`.

/// The figures of SPEC §1 the generator is built to.
pub(super) const N_SUBJECT: usize = 2263;
pub(super) const N_NON_SUBJECT: usize = 6299;
pub(super) const N_PROBLEM_SUBJECT: usize = 1890;
pub(super) const N_CLOSED: usize = 575;
pub(super) const N_SELF_CLOSED: usize = 529;
pub(super) const N_CONVERTED: usize = 1108;
pub(super) const N_NEW_LICENCES: usize = 156;
pub(super) const N_INSPECTIONS: usize = 809;
pub(super) const N_INSPECTORS: i64 = 2511;

/// The black list on the report date (`scripts/blacklist.rhai`), one
/// criterion each: subject-type institutions operating on a licence that ran
/// out, severity-3 findings overdue, and closed institutions still enrolling.
pub(super) const BL_UNLICENSED: usize = 6;
pub(super) const BL_SEVERE_OVERDUE: usize = 8;
pub(super) const BL_CLOSED_ENROLLING: usize = 12;

/// Non-subject institutions with findings: opened in the 2018 campaign, opened
/// only in 2019, and of the first group those with a 2019 follow-up.
pub(super) const N_NS_2018: usize = 820;
pub(super) const N_NS_2019: usize = 180;
pub(super) const N_NS_FOLLOW_UP: usize = 130;
/// How the 809 on-site checks are spread.
pub(super) const INSPECT_PROBLEM_SUBJECT: usize = 560;
pub(super) const INSPECT_CLEAN_SUBJECT: usize = 40;
pub(super) const INSPECT_NS_2018: usize = 170;
pub(super) const INSPECT_NS_CLEAN: usize =
    N_INSPECTIONS - INSPECT_PROBLEM_SUBJECT - INSPECT_CLEAN_SUBJECT - INSPECT_NS_2018;

/// The cases the demo city plants for `scripts/licence_review.rhai` and
/// `scripts/course_check.rhai`, as of the report date: run on the demo city,
/// the rules must find exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planted {
    /// Applications approved in 2018–19: one per new licence, decided on the
    /// day the licence was issued, with its number and expiry.
    pub approved: usize,
    /// Applications rejected before the report date (at institutions that
    /// later closed or converted, and first attempts of newly licensed ones).
    pub rejected: usize,
    /// Applications still `submitted` on the report date.
    pub pending: usize,
    /// Of the pending, those meeting every criterion of licence_review.rhai.
    pub pending_approve: usize,
    /// Of those, renewals: the institution already holds a licence (the number stays).
    pub pending_renewals: usize,
    /// Of the pending, those failing at least one criterion.
    pub pending_reject: usize,
    /// Pending applications failing each criterion (one application may fail
    /// several: `pending_reject` is less than their sum).
    pub site_area_per_student: usize,
    pub site_area_total: usize,
    pub fire: usize,
    pub subject_teachers: usize,
    pub severe_finding: usize,
    /// Course filings, every one `filed`.
    pub courses: usize,
    /// Courses breaking at least one rule of course_check.rhai.
    pub courses_rejected: usize,
    /// Courses breaking each rule (one course may break two).
    pub late_offline: usize,
    pub late_online: usize,
    pub prepay_months: usize,
    pub prepay_hours: usize,
    pub subject_unlicensed: usize,
    pub fee_over_5000: usize,
}

/// What the demo city plants (checked by the tests of the `applications` and
/// `courses` modules).
pub const PLANTED: Planted = Planted {
    approved: N_NEW_LICENCES,
    rejected: 42,
    pending: 38,
    pending_approve: 20,
    pending_renewals: 6,
    pending_reject: 18,
    site_area_per_student: 6,
    site_area_total: 3,
    fire: 5,
    subject_teachers: 3,
    severe_finding: 3,
    courses: 11_846,
    courses_rejected: 82,
    late_offline: 19,
    late_online: 6,
    prepay_months: 17,
    prepay_hours: 12,
    subject_unlicensed: 17,
    fee_over_5000: 17,
};

/// The pending applications planted for licence_review.rhai, and how many of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pending {
    Pass,
    Renewal,
    AreaPerStudent,
    AreaTotal,
    Fire,
    RenewalFire,
    RenewalTeachers,
    SevereFinding,
    AreaAndFire,
}

pub(super) const PENDING_CASES: [(Pending, usize); 9] = [
    (Pending::Pass, 14),
    (Pending::Renewal, 6),
    (Pending::AreaPerStudent, 4),
    (Pending::AreaTotal, 3),
    (Pending::Fire, 2),
    (Pending::RenewalFire, 1),
    (Pending::RenewalTeachers, 3),
    (Pending::SevereFinding, 3),
    (Pending::AreaAndFire, 2),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plant {
    LateOffline,
    LateOnline,
    Months,
    Hours,
    Unlicensed,
    Fee,
    LateAndFee,
    MonthsAndUnlicensed,
}

pub(super) const COURSE_PLANTS: [(Plant, usize); 8] = [
    (Plant::LateOffline, 16),
    (Plant::LateOnline, 6),
    (Plant::Months, 14),
    (Plant::Hours, 12),
    (Plant::Unlicensed, 14),
    (Plant::Fee, 14),
    (Plant::LateAndFee, 3),
    (Plant::MonthsAndUnlicensed, 3),
];
