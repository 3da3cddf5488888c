//! The campaign's findings and the status changes they bring, one institution
//! at a time by its role in the plan: subject-type institutions found with
//! problems and then closed, converted or rectified; non-subject institutions
//! with findings of 2018 (and maybe a 2019 follow-up) or of 2019 only. Also
//! the kinds, severities and deadlines findings are drawn from.

use chrono::{Datelike, NaiveDate};

use super::plan::{Plan, Role};
use super::report_date;
use super::rng::{days, workday, ymd, Rng};
use super::vocab::finding_note;
use crate::model::{Finding, FindingKind, Inspection, Status};

/// A later status change: (institution id, effective date, status, reason).
pub(super) type StatusChange = (String, NaiveDate, Status, String);

/// A finding's (rectified_on, verified_on), drawn given its deadline.
type Lifecycle<'a> = dyn Fn(&mut Rng, NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) + 'a;

/// How serious a finding of kind `k` is, 1 (minor) to 3 (serious).
fn severity(rng: &mut Rng, k: FindingKind) -> i64 {
    match k {
        FindingKind::NoLicence | FindingKind::SecretExam => 3,
        FindingKind::FireHazard | FindingKind::PrepaidExcess => rng.range(2, 3),
        FindingKind::Competition
        | FindingKind::AheadOfSyllabus
        | FindingKind::IllegalEnrolment
        | FindingKind::UnqualifiedTeachers => 2,
        FindingKind::LateHours | FindingKind::FalseAdvertising => rng.range(1, 2),
        FindingKind::Other => 1,
    }
}

/// Problems besides the missing licence seen at subject-type institutions, with weights.
const SUBJECT_KINDS: &[(FindingKind, u32)] = &[
    (FindingKind::AheadOfSyllabus, 20),
    (FindingKind::UnqualifiedTeachers, 16),
    (FindingKind::LateHours, 12),
    (FindingKind::PrepaidExcess, 12),
    (FindingKind::SecretExam, 10),
    (FindingKind::Competition, 10),
    (FindingKind::FireHazard, 10),
    (FindingKind::FalseAdvertising, 8),
    (FindingKind::IllegalEnrolment, 6),
    (FindingKind::Other, 4),
];

/// Problems seen at non-subject institutions, with weights.
const NON_SUBJECT_KINDS: &[(FindingKind, u32)] = &[
    (FindingKind::FireHazard, 30),
    (FindingKind::FalseAdvertising, 20),
    (FindingKind::Other, 18),
    (FindingKind::PrepaidExcess, 15),
    (FindingKind::IllegalEnrolment, 5),
    (FindingKind::LateHours, 6),
    (FindingKind::UnqualifiedTeachers, 6),
];

/// Adds `n` distinct kinds from `pool` to `kinds`.
fn pick_kinds(rng: &mut Rng, pool: &[(FindingKind, u32)], n: usize, kinds: &mut Vec<FindingKind>) {
    let w: Vec<u32> = pool.iter().map(|p| p.1).collect();
    let want = kinds.len() + n;
    while kinds.len() < want {
        let k = pool[rng.weighted(&w)].0;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
}

/// Days given to rectify a finding; repeats weight the draw.
const DEADLINE_DAYS: &[i64] = &[7, 10, 15, 15, 20, 30, 30, 30, 45, 60];

/// Status changes to a final status happen by this day, so the report can count them.
fn last_change() -> NaiveDate {
    ymd(2019, 2, 15)
}

/// Findings and status changes, one institution at a time; sets the date of
/// each new licence in its plan.
pub(super) fn findings(
    rng: &mut Rng,
    plans: &mut [Plan],
    inspections: &[Inspection],
) -> (Vec<Finding>, Vec<StatusChange>) {
    let mut findings: Vec<Finding> = Vec::new();
    let mut changes: Vec<StatusChange> = Vec::new();
    for p in plans.iter_mut() {
        let check = p
            .inspection
            .map(|n| (inspections[n].id.clone(), inspections[n].date));
        let mut rec = Record {
            id: &p.id,
            check,
            findings: &mut findings,
            changes: &mut changes,
        };
        let licence_on = match p.role {
            Role::Closed
            | Role::SelfClosed
            | Role::Converted
            | Role::NewLicence
            | Role::LicensedProblem => subject_problems(rng, &mut rec, p.role),
            Role::Ns2018 { follow_up } => {
                ns_2018(rng, &mut rec, follow_up);
                None
            }
            Role::Ns2019 => {
                ns_2019(rng, &mut rec);
                None
            }
            Role::SubjectClean | Role::NsClean => None,
        };
        p.new_licence_on = licence_on;
    }
    (findings, changes)
}

/// Where one institution's findings and status changes go.
struct Record<'a> {
    id: &'a str,
    /// The institution's on-site check, if it had one: (id, date).
    check: Option<(String, NaiveDate)>,
    findings: &'a mut Vec<Finding>,
    changes: &'a mut Vec<StatusChange>,
}

impl Record<'_> {
    /// The day the campaign found the institution: its check, else a day of the survey.
    fn found_on(&self, rng: &mut Rng) -> NaiveDate {
        self.check
            .as_ref()
            .map(|x| x.1)
            .unwrap_or_else(|| workday(rng.date(ymd(2018, 3, 1), ymd(2018, 12, 28))))
    }

    /// Adds a finding of `kind` opened on `opened`, its dates drawn by `life`.
    fn add(
        &mut self,
        rng: &mut Rng,
        kind: FindingKind,
        opened: NaiveDate,
        life: &Lifecycle<'_>,
    ) -> Finding {
        let deadline = opened + days(rng.pick(DEADLINE_DAYS));
        let (rectified_on, verified_on) = life(rng, deadline);
        let f = Finding {
            id: String::new(),
            institution_id: self.id.to_string(),
            inspection_id: self
                .check
                .as_ref()
                .filter(|(_, d)| *d == opened)
                .map(|(id, _)| id.clone()),
            kind,
            severity: severity(rng, kind),
            opened_on: opened,
            deadline,
            rectified_on,
            verified_on,
            note: finding_note(rng, kind).to_string(),
        };
        self.findings.push(f.clone());
        f
    }

    fn change(&mut self, d: NaiveDate, s: Status, why: &str) {
        self.changes
            .push((self.id.to_string(), d, s, why.to_string()));
    }
}

/// A subject-type institution with problems: found in the campaign, ordered
/// to rectify, then closed, converted or rectified. Returns the day it
/// obtained its new licence, if it did.
fn subject_problems(rng: &mut Rng, rec: &mut Record<'_>, role: Role) -> Option<NaiveDate> {
    let o = rec.found_on(rng);
    let mut kinds = Vec::new();
    let extra = if role == Role::LicensedProblem {
        1 + rng.below(2) as usize
    } else {
        kinds.push(FindingKind::NoLicence);
        rng.pick(&[
            0usize, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
        ])
    };
    pick_kinds(rng, SUBJECT_KINDS, extra, &mut kinds);
    rec.change(o, Status::Rectifying, "专项治理排查发现问题，责令限期整改");
    match role {
        Role::Closed | Role::SelfClosed => {
            close(rng, rec, o, &kinds, role == Role::Closed);
            None
        }
        Role::Converted => {
            convert(rng, rec, o, &kinds);
            None
        }
        _ => rectify(rng, rec, o, &kinds, role == Role::NewLicence),
    }
}

/// Closed by the authorities (`by_authorities`) or by itself: every finding
/// closed out with the institution.
fn close(
    rng: &mut Rng,
    rec: &mut Record<'_>,
    o: NaiveDate,
    kinds: &[FindingKind],
    by_authorities: bool,
) {
    let as_of = report_date();
    let c = workday((o + days(rng.range(7, 75))).min(last_change()));
    for &k in kinds {
        rec.add(rng, k, o, &|rng, _| {
            (Some(c), Some((c + days(rng.range(0, 10))).min(as_of)))
        });
    }
    if by_authorities {
        rec.change(
            c,
            Status::Closed,
            rng.pick(&[
                "无证开展学科类培训，经联合执法依法取缔",
                "逾期未整改，联合执法责令停止办学",
                "存在重大安全隐患且无法整改，依法关停",
            ]),
        );
    } else {
        rec.change(
            c,
            Status::SelfClosed,
            rng.pick(&[
                "无证办学，整改期内主动停办并完成退费",
                "无法达到设置标准，举办者主动关停",
                "场地不符合要求，主动停止办学并妥善安置学员",
            ]),
        );
    }
}

/// Promised to stop subject training: every finding closed out with the promise.
fn convert(rng: &mut Rng, rec: &mut Record<'_>, o: NaiveDate, kinds: &[FindingKind]) {
    let as_of = report_date();
    let c = workday((o + days(rng.range(10, 90))).min(last_change()));
    for &k in kinds {
        rec.add(rng, k, o, &|rng, _| {
            (Some(c), Some((c + days(rng.range(1, 20))).min(as_of)))
        });
    }
    rec.change(
        c,
        Status::Converted,
        rng.pick(&[
            "承诺不再从事中小学学科类培训，转型素质类培训",
            "签订承诺书，停止学科类培训业务",
            "变更经营范围，转型为非学科类培训",
        ]),
    );
}

/// Rectified and kept operating, with a new licence (`new_licence`) or the
/// one it held. Returns the day of the new licence.
fn rectify(
    rng: &mut Rng,
    rec: &mut Record<'_>,
    o: NaiveDate,
    kinds: &[FindingKind],
    new_licence: bool,
) -> Option<NaiveDate> {
    let as_of = report_date();
    let licence_on =
        new_licence.then(|| workday((o + days(rng.range(30, 160))).min(last_change())));
    let mut last_verified = o;
    for &k in kinds {
        let f = rec.add(rng, k, o, &|rng, deadline| {
            let r = match licence_on {
                Some(l) if k == FindingKind::NoLicence => l,
                _ => (o + days(rng.range(3, (deadline - o).num_days() + 10))).min(as_of),
            };
            (Some(r), Some((r + days(rng.range(0, 15))).min(as_of)))
        });
        last_verified = last_verified.max(f.verified_on.expect("verified"));
    }
    let why = if licence_on.is_some() {
        "取得办学许可证，整改完成，验收销号"
    } else {
        "整改完成，验收销号"
    };
    rec.change(last_verified, Status::Operating, why);
    licence_on
}

/// A non-subject institution with findings of the 2018 campaign, some still
/// open, rectified but not verified, or overdue on the report date.
fn ns_2018(rng: &mut Rng, rec: &mut Record<'_>, follow_up: bool) {
    let as_of = report_date();
    let o = rec.found_on(rng);
    let n = if rng.chance(0.25) { 2 } else { 1 };
    let mut kinds = Vec::new();
    pick_kinds(rng, NON_SUBJECT_KINDS, n, &mut kinds);
    let mut event = Vec::new();
    for &k in &kinds {
        let f = rec.add(rng, k, o, &|rng, deadline| {
            let x = rng.below(100);
            if x < 78 {
                let r =
                    (o + days(rng.range(2, (deadline - o).num_days() + 15))).min(as_of - days(1));
                (Some(r), Some((r + days(rng.range(1, 20))).min(as_of)))
            } else if x < 88 {
                let r = (o + days(rng.range(5, (deadline - o).num_days() + 60))).min(as_of);
                (Some(r), None)
            } else {
                (None, None)
            }
        });
        event.push(f);
    }
    let closed_on = ns_event_status(&event, o, as_of, rec);
    // A follow-up visit in 2019, only after the first round was closed out,
    // so that the status history stays in order.
    let from = closed_on.map(|c| (c + days(1)).max(ymd(2019, 1, 2)));
    if let Some(from) = from.filter(|&f| follow_up && f <= ymd(2019, 2, 15)) {
        let o2 = rng.date(from, ymd(2019, 2, 19));
        let f = ns_2019_finding(rng, o2, as_of, rec);
        ns_event_status(&[f], o2, as_of, rec);
    }
}

/// A non-subject institution with findings opened only in 2019.
fn ns_2019(rng: &mut Rng, rec: &mut Record<'_>) {
    let as_of = report_date();
    let o = workday(rng.date(ymd(2019, 1, 2), ymd(2019, 2, 19)));
    let n = if rng.chance(0.2) { 2 } else { 1 };
    let event: Vec<Finding> = (0..n)
        .map(|_| ns_2019_finding(rng, o, as_of, rec))
        .collect();
    ns_event_status(&event, o, as_of, rec);
}

/// One finding opened in January–February 2019: open, rectified or closed out
/// by the report date, whichever its dates reach.
fn ns_2019_finding(rng: &mut Rng, o: NaiveDate, as_of: NaiveDate, rec: &mut Record<'_>) -> Finding {
    let w: Vec<u32> = NON_SUBJECT_KINDS.iter().map(|p| p.1).collect();
    let kind = NON_SUBJECT_KINDS[rng.weighted(&w)].0;
    rec.add(rng, kind, o, &|rng, _| {
        let r = o + days(rng.range(2, 25));
        if r > as_of || !rng.chance(0.55) {
            return (None, None);
        }
        let v = r + days(rng.range(1, 10));
        if v > as_of || !rng.chance(0.5) {
            (Some(r), None)
        } else {
            (Some(r), Some(v))
        }
    })
}

/// The status changes of one round of findings at a non-subject institution:
/// rectifying from `o` if any finding is serious, operating again when all are
/// closed out. Returns the day the round was closed out, if it was.
fn ns_event_status(
    event: &[Finding],
    o: NaiveDate,
    as_of: NaiveDate,
    rec: &mut Record<'_>,
) -> Option<NaiveDate> {
    let closed = event
        .iter()
        .map(|f| f.verified_on.filter(|&v| v <= as_of))
        .collect::<Option<Vec<NaiveDate>>>()
        .and_then(|v| v.into_iter().max());
    if event.iter().any(|f| f.severity >= 2) {
        rec.change(o, Status::Rectifying, "检查发现问题，责令限期整改");
        if let Some(c) = closed {
            rec.change(c, Status::Operating, "整改完成，验收销号");
        }
    }
    closed
}

/// Finding ids in order of opening, numbered per year.
pub(super) fn number_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.opened_on, &a.institution_id, a.kind).cmp(&(b.opened_on, &b.institution_id, b.kind))
    });
    let mut year = 0;
    let mut n = 0;
    for f in findings.iter_mut() {
        if f.opened_on.year() != year {
            year = f.opened_on.year();
            n = 0;
        }
        n += 1;
        f.id = format!("F{year}-{n:06}");
    }
}
