//! The platform's licence applications: one approved per new licence (some
//! after a rejected first attempt), rejected ones at institutions that then
//! closed or converted, and the applications pending on the report date, with
//! a planted case for each criterion of `scripts/licence_review.rhai`.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::plan::{Plan, Role};
use super::planted::{Pending, PENDING_CASES, PLANTED};
use super::report_date;
use super::rng::{days, workday, ymd, Rng};
use super::rules::{review_breaches, severe_open};
use crate::model::{
    AppStatus, Application, Category, Finding, FindingKind, FindingStatus, Institution,
};

/// Licence applications: approved ones for the new licences, rejected ones,
/// and pending ones with a planted case for each criterion.
pub(super) fn applications(
    rng: &mut Rng,
    plans: &[Plan],
    insts: &[Institution],
    findings: &[Finding],
) -> Vec<Application> {
    let files = Files::of(findings);
    let mut apps: Vec<Application> = Vec::new();
    approved(rng, plans, insts, &files, &mut apps);
    rejected(rng, plans, insts, &files, &mut apps);
    pending(rng, plans, insts, &files, &mut apps);
    number_applications(&mut apps);
    apps
}

/// Each institution's findings, as the reviewers see them.
struct Files<'a> {
    by_inst: HashMap<&'a str, Vec<&'a Finding>>,
    none: Vec<&'a Finding>,
}

impl<'a> Files<'a> {
    fn of(findings: &'a [Finding]) -> Self {
        let mut by_inst: HashMap<&str, Vec<&Finding>> = HashMap::new();
        for f in findings {
            by_inst
                .entry(f.institution_id.as_str())
                .or_default()
                .push(f);
        }
        Files {
            by_inst,
            none: Vec::new(),
        }
    }

    fn of_inst(&self, id: &str) -> &[&'a Finding] {
        self.by_inst.get(id).unwrap_or(&self.none)
    }

    /// The day the campaign found the institution (its first finding), if it did.
    fn found(&self, id: &str) -> Option<NaiveDate> {
        self.of_inst(id).iter().map(|f| f.opened_on).min()
    }

    /// Whether every finding of the institution is closed out on the report date.
    fn clean_now(&self, id: &str) -> bool {
        let as_of = report_date();
        self.of_inst(id)
            .iter()
            .all(|f| f.status(as_of) == FindingStatus::Closed)
    }

    /// Rejects `a` on `decided`, giving the criteria it fails as the reason.
    fn reject(&self, a: &mut Application, x: &Institution, subject: bool, decided: NaiveDate) {
        let b = review_breaches(
            a,
            x.students,
            subject,
            severe_open(self.of_inst(&x.id), decided),
        );
        assert!(b.any(), "a rejected application fails a criterion: {a:?}");
        a.status = AppStatus::Rejected;
        a.decided_on = Some(decided);
        a.decision_reason = b.reasons(a, x.students);
    }
}

/// An application with the institution's own figures, submitted and undecided.
fn blank(x: &Institution, submitted: NaiveDate) -> Application {
    Application {
        id: String::new(),
        institution_id: x.id.clone(),
        submitted_on: submitted,
        site_area_m2: x.area_m2,
        fire_approved: x.fire_approved,
        teachers: x.teachers,
        qualified_teachers: x.qualified_teachers,
        status: AppStatus::Submitted,
        decided_on: None,
        decision_reason: String::new(),
        licence_no: None,
        licence_expires: None,
    }
}

fn round_half(x: f64) -> f64 {
    (x * 2.0).round() / 2.0
}

/// Approved: one per new licence; some had a first attempt rejected.
fn approved(
    rng: &mut Rng,
    plans: &[Plan],
    insts: &[Institution],
    files: &Files<'_>,
    apps: &mut Vec<Application>,
) {
    let mut new_licence: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].role == Role::NewLicence)
        .collect();
    rng.shuffle(&mut new_licence);
    let mut second_tries = 0;
    for &i in &new_licence {
        let x = &insts[i];
        let issued = x.licence_issued.expect("a new licence");
        let o = files.found(&x.id).expect("found in the campaign");
        let submitted = workday(issued - days(rng.range(12, 25))).max(o);
        if second_tries < 12 && (issued - o).num_days() >= 60 {
            second_tries += 1;
            let s1 = workday(o + days(rng.range(3, 8)));
            let mut a = blank(x, s1);
            if second_tries % 2 == 0 {
                a.fire_approved = false;
            } else {
                a.site_area_m2 = round_half(x.students as f64 * rng.range(15, 27) as f64 / 10.0);
            }
            files.reject(&mut a, x, true, workday(s1 + days(rng.range(10, 20))));
            apps.push(a);
        }
        let mut a = blank(x, submitted);
        // The qualified teachers are the ones listed; more were hired later.
        a.teachers = x.qualified_teachers;
        a.status = AppStatus::Approved;
        a.decided_on = Some(issued);
        a.decision_reason = "符合设置标准，准予办学".to_string();
        a.licence_no = x.licence_no.clone();
        a.licence_expires = x.licence_expires;
        apps.push(a);
    }
    assert_eq!(
        second_tries, 12,
        "enough new licences a while after the check"
    );
}

/// Rejected: unlicensed subject-type institutions that then closed or converted.
fn rejected(
    rng: &mut Rng,
    plans: &[Plan],
    insts: &[Institution],
    files: &Files<'_>,
    apps: &mut Vec<Application>,
) {
    let mut gone: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            matches!(
                plans[i].role,
                Role::Closed | Role::SelfClosed | Role::Converted
            )
        })
        .collect();
    rng.shuffle(&mut gone);
    for &i in &gone[..PLANTED.rejected - 12] {
        let x = &insts[i];
        let nl = files
            .of_inst(&x.id)
            .iter()
            .find(|f| f.kind == FindingKind::NoLicence)
            .expect("found without a licence");
        let (o, end) = (nl.opened_on, nl.rectified_on.expect("rectified"));
        let span = (end - o).num_days().max(2);
        let s1 = o + days(rng.range(1, span / 2));
        let decided = s1 + days(rng.range(1, (end - s1).num_days().max(1)));
        let mut a = blank(x, s1);
        files.reject(&mut a, x, true, decided);
        apps.push(a);
    }
}

/// Pending on the report date: the cases of [`PENDING_CASES`], each at an
/// institution that fits it.
fn pending(
    rng: &mut Rng,
    plans: &[Plan],
    insts: &[Institution],
    files: &Files<'_>,
    apps: &mut Vec<Application>,
) {
    let as_of = report_date();
    let mut new_ns: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            matches!(
                plans[i].role,
                Role::Ns2018 { .. } | Role::Ns2019 | Role::NsClean
            ) && insts[i].licence_no.is_none()
                && files.clean_now(&insts[i].id)
                && insts[i].students >= 10
        })
        .collect();
    let mut severe: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            plans[i].category() == Category::NonSubject
                && insts[i].licence_no.is_none()
                && severe_open(files.of_inst(&insts[i].id), as_of)
        })
        .collect();
    let end_2019 = ymd(2019, 12, 31);
    let mut renewals: Vec<usize> = (0..plans.len())
        .filter(|&i| {
            matches!(plans[i].role, Role::SubjectClean | Role::LicensedProblem)
                && insts[i].licence_expires.is_some_and(|e| e <= end_2019)
                && insts[i].teachers >= 3
        })
        .collect();
    rng.shuffle(&mut new_ns);
    rng.shuffle(&mut severe);
    rng.shuffle(&mut renewals);
    let (mut new_ns, mut severe, mut renewals) =
        (new_ns.into_iter(), severe.into_iter(), renewals.into_iter());
    for (case, n) in PENDING_CASES {
        for _ in 0..n {
            let i = match case {
                Pending::Renewal | Pending::RenewalFire | Pending::RenewalTeachers => {
                    renewals.next()
                }
                Pending::SevereFinding => severe.next(),
                Pending::AreaPerStudent | Pending::AreaAndFire => {
                    new_ns.by_ref().find(|&i| insts[i].students >= 100)
                }
                Pending::AreaTotal => new_ns.by_ref().find(|&i| insts[i].students <= 60),
                Pending::Pass | Pending::Fire => new_ns.next(),
            }
            .expect("enough candidates");
            let subject = plans[i].category() == Category::Subject;
            apps.push(pending_application(rng, case, &insts[i], subject));
        }
    }
}

/// An application of `x` pending on the report date, planted as `case`.
fn pending_application(
    rng: &mut Rng,
    case: Pending,
    x: &Institution,
    subject: bool,
) -> Application {
    let mut a = blank(x, workday(rng.date(ymd(2019, 1, 7), ymd(2019, 2, 19))));
    let need = (200.0f64).max(3.0 * x.students as f64);
    a.site_area_m2 = round_half(need * rng.range(105, 160) as f64 / 100.0);
    a.fire_approved = true;
    if subject {
        a.qualified_teachers = a.teachers;
    }
    match case {
        Pending::AreaPerStudent | Pending::AreaAndFire => {
            let s3 = 3.0 * x.students as f64;
            a.site_area_m2 = round_half(
                (s3 * rng.range(60, 90) as f64 / 100.0).max(205.0 + rng.range(0, 40) as f64),
            );
            assert!(a.site_area_m2 < s3);
        }
        Pending::AreaTotal => {
            let lo = (3 * x.students).max(120);
            a.site_area_m2 = rng.range(lo, 195) as f64;
        }
        Pending::RenewalTeachers => {
            a.qualified_teachers = a.teachers - rng.range(1, 2);
        }
        _ => {}
    }
    if matches!(
        case,
        Pending::Fire | Pending::RenewalFire | Pending::AreaAndFire
    ) {
        a.fire_approved = false;
    }
    a
}

/// Ids in order of submission, numbered per year.
fn number_applications(apps: &mut [Application]) {
    apps.sort_by(|a, b| {
        (a.submitted_on, &a.institution_id).cmp(&(b.submitted_on, &b.institution_id))
    });
    let mut year = 0;
    let mut n = 0;
    for a in apps.iter_mut() {
        if a.submitted_on.year() != year {
            year = a.submitted_on.year();
            n = 0;
        }
        n += 1;
        a.id = format!("SQ{year}-{n:04}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::tests::{d, statuses_as_of};
    use crate::demo::{generate, DemoCity, ReviewBreaches};
    use crate::model::Status;
    use std::collections::HashSet;

    #[test]
    fn demo_applications_are_valid_and_match_the_new_licences() {
        let city = generate();
        let as_of = d("2019-02-20");
        let by_id: HashMap<&str, &Institution> = city
            .institutions
            .iter()
            .map(|x| (x.id.as_str(), x))
            .collect();
        let mut ids = HashSet::new();
        let mut approved = HashSet::new();
        let (mut rejected, mut pending) = (0, 0);
        for a in &city.applications {
            assert!(a.validate().is_empty(), "{a:?}: {:?}", a.validate());
            assert!(ids.insert(a.id.as_str()), "duplicate id {}", a.id);
            assert!(a.id.starts_with(&format!("SQ{}-", a.submitted_on.year())));
            let x = by_id[a.institution_id.as_str()];
            assert!(a.submitted_on <= as_of && a.decided_on.is_none_or(|d| d <= as_of));
            assert!(a.submitted_on >= x.status_date, "{a:?}");
            match a.status {
                AppStatus::Approved => {
                    assert!(approved.insert(a.institution_id.as_str()), "{a:?}");
                    assert_eq!(a.decided_on, x.licence_issued, "{a:?}");
                    assert_eq!(a.licence_no, x.licence_no);
                    assert_eq!(a.licence_expires, x.licence_expires);
                    // An approved application met the standard it was approved on.
                    let b = review_breaches(a, x.students, true, false);
                    assert!(!b.any(), "{a:?} {b:?}");
                }
                AppStatus::Rejected => {
                    rejected += 1;
                    assert!(!a.decision_reason.is_empty());
                    assert!(a.decided_on.unwrap() < d("2019-02-16"));
                }
                AppStatus::Submitted => pending += 1,
            }
        }
        // Exactly the 156 licences of 2018–19 came through an approved application.
        let new: HashSet<&str> = city
            .institutions
            .iter()
            .filter(|x| x.licence_issued.is_some_and(|i| i >= d("2018-01-01")))
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(approved, new);
        assert_eq!(approved.len(), PLANTED.approved);
        assert_eq!(rejected, PLANTED.rejected);
        assert_eq!(pending, PLANTED.pending);
    }

    /// The pending applications as licence_review.rhai sees them on the report date.
    fn pending_breaches(city: &DemoCity) -> Vec<(&Application, &Institution, ReviewBreaches)> {
        let as_of = d("2019-02-20");
        let st = statuses_as_of(city, as_of);
        city.applications
            .iter()
            .filter(|a| a.status == AppStatus::Submitted)
            .map(|a| {
                let x = city
                    .institutions
                    .iter()
                    .find(|x| x.id == a.institution_id)
                    .unwrap();
                let fs: Vec<&Finding> = city
                    .findings
                    .iter()
                    .filter(|f| f.institution_id == x.id)
                    .collect();
                let subject =
                    x.category == Category::Subject && st[x.id.as_str()] != Status::Converted;
                assert!(!matches!(
                    st[x.id.as_str()],
                    Status::Closed | Status::SelfClosed
                ));
                (
                    a,
                    x,
                    review_breaches(a, x.students, subject, severe_open(&fs, as_of)),
                )
            })
            .collect()
    }

    #[test]
    fn demo_plants_a_pending_case_for_every_licence_criterion() {
        let city = generate();
        let v = pending_breaches(&city);
        let count = |f: fn(&ReviewBreaches) -> bool| v.iter().filter(|x| f(&x.2)).count();
        assert_eq!(count(|b| !b.any()), PLANTED.pending_approve);
        assert_eq!(count(|b| b.any()), PLANTED.pending_reject);
        assert_eq!(
            count(|b| b.site_area_per_student),
            PLANTED.site_area_per_student
        );
        assert_eq!(count(|b| b.site_area_total), PLANTED.site_area_total);
        assert_eq!(count(|b| b.fire), PLANTED.fire);
        assert_eq!(count(|b| b.subject_teachers), PLANTED.subject_teachers);
        assert_eq!(count(|b| b.severe_finding), PLANTED.severe_finding);
        let renewals = v
            .iter()
            .filter(|x| !x.2.any() && x.1.licence_no.is_some())
            .count();
        assert_eq!(renewals, PLANTED.pending_renewals);
        for (a, _, _) in &v {
            assert!(a.submitted_on >= d("2019-01-01"));
        }
    }
}
