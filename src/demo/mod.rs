//! The demo city of SPEC §7: a deterministic generator (fixed seed, no I/O) of a
//! Guangzhou-like ledger whose aggregates, as of 2019-02-20 (the day the bureau
//! reported), reproduce every figure of SPEC §1 exactly.
//!
//! How the figures are met, so that a change here keeps them:
//! - 8,562 institutions, 2,263 subject-type and 6,299 non-subject, spread over
//!   the 11 districts by fixed weights (exact counts by largest remainder).
//! - The 1,890 subject-type institutions with problems are one group, and the
//!   report's outcomes partition it: 575 closed (529 of them self-closed, 46
//!   closed by the authorities), 1,108 converted (promised to stop K-12 subject
//!   training), and 207 that rectified and kept operating — 156 of these by
//!   obtaining a school-running licence in 2018–19 (the report's "newly
//!   licensed"), 51 already licensed before 2018 and fined for other problems.
//!   Every finding of the group is verified (销号) on or before 2019-02-20.
//!   The other 373 subject-type institutions are licensed before 2018 and clean.
//! - Only those 156 licences are issued between 2018-01-01 and 2019-02-20;
//!   every other licence is issued before 2018.
//! - 809 inspections, one per institution checked on site (实地清查809家), in
//!   5 joint operations, with inspectors adjusted to total exactly 2,511.
//! - Non-subject institutions get their own findings, some opened in
//!   January–February 2019, and some still open, rectified but not verified, or
//!   overdue on 2019-02-20, so weekly reports have something to show.
//! - The management platform's records (generated last, from a random stream
//!   of their own, so the figures above do not move): one approved licence
//!   application per new licence, decided on the day the licence was issued
//!   and carrying its number and expiry; rejected applications; applications
//!   pending on 2019-02-20 with a planted case for each criterion of
//!   `scripts/licence_review.rhai`; and about 12,000 course filings of
//!   January–February 2019, a few planted to break each rule of
//!   `scripts/course_check.rhai`. [`PLANTED`] says how many of each; the tests
//!   beside the generator check the generator against it with the rules' own arithmetic
//!   ([`review_breaches`], [`course_breaches`]).
//!
//! Nothing is dated after 2019-02-20 except what a course filing plans (its
//! starts_on and ends_on): the ledger is the city as the bureau saw it that day.

mod applications;
mod blacklist;
mod bundle;
mod courses;
mod findings;
mod inspections;
mod institutions;
mod plan;
mod planted;
mod rng;
mod rules;
mod vocab;

use chrono::NaiveDate;

use crate::model::{
    Application, Course, Finding, Inspection, Institution, Status, DEFAULT_DISTRICTS,
};
use rng::{ymd, Rng};

pub use bundle::{build, DemoSummary, SAMPLE_SCRIPTS};
pub use inspections::{CampaignOperation, OPERATIONS};
pub use planted::{Planted, PLANTED};
pub use rules::{course_breaches, prepaid_share, review_breaches, CourseBreaches, ReviewBreaches};

/// The generated city, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCity {
    pub institutions: Vec<Institution>,
    pub inspections: Vec<Inspection>,
    pub findings: Vec<Finding>,
    /// Later status changes: (institution id, effective date, status, reason),
    /// in date order. Each institution's first status is the one in its record.
    pub status_changes: Vec<(String, NaiveDate, Status, String)>,
    /// Licence applications: one approved per new licence, some rejected
    /// earlier, some pending on the report date (see [`PLANTED`]).
    pub applications: Vec<Application>,
    /// Course filings of January–February 2019, all still `filed` (see [`PLANTED`]).
    pub courses: Vec<Course>,
}

/// The date of the bureau's report (2019-02-20): every figure of SPEC §1
/// holds as of this day.
pub fn report_date() -> NaiveDate {
    ymd(2019, 2, 20)
}

const SEED: u64 = 0x2019_0220_0857_5110;

/// Builds the demo city. Deterministic: every call returns the same city.
///
/// Each step draws from the one random stream in turn, so their order is the
/// city: reordering them (or the draws inside them) changes every record.
pub fn generate() -> DemoCity {
    debug_assert!(vocab::DISTRICTS
        .iter()
        .zip(DEFAULT_DISTRICTS)
        .all(|(a, b)| a.name == b));
    let mut rng = Rng(SEED);
    let mut plans = plan::plan_city(&mut rng);
    let mut inspections = inspections::inspections(&mut rng, &mut plans);
    let (mut findings, mut changes) = findings::findings(&mut rng, &mut plans, &inspections);
    let institutions = institutions::institutions(&mut rng, &mut plans, &findings);
    // The notes list the findings in the order they were drawn: before numbering.
    inspections::write_notes(&mut rng, &mut inspections, &findings);
    findings::number_findings(&mut findings);
    changes.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));

    // The platform's records come last, from a stream of their own, so that
    // everything above (and so every figure of SPEC §1) stays as it was.
    let mut prng = Rng(SEED ^ 0x0006_A991_1CA7_1045);
    let applications = applications::applications(&mut prng, &plans, &institutions, &findings);
    let courses = courses::courses(&mut prng, &plans, &institutions);

    let mut city = DemoCity {
        institutions,
        inspections,
        findings,
        status_changes: changes,
        applications,
        courses,
    };
    blacklist::plant(&mut city, report_date());
    city
}

#[cfg(test)]
mod tests {
    use super::vocab::DISTRICTS;
    use super::*;
    use crate::model::{check_uscc, Category, Department, FindingStatus};
    use chrono::Datelike;
    use std::collections::{HashMap, HashSet};

    pub(super) fn d(s: &str) -> NaiveDate {
        crate::model::parse_date(s).unwrap()
    }

    /// Status as of `as_of`: the latest entry dated on or before it (ties: the later entry).
    pub(super) fn statuses_as_of(city: &DemoCity, as_of: NaiveDate) -> HashMap<&str, Status> {
        let mut cur: HashMap<&str, (NaiveDate, Status)> = city
            .institutions
            .iter()
            .filter(|x| x.status_date <= as_of)
            .map(|x| (x.id.as_str(), (x.status_date, x.status)))
            .collect();
        for (id, date, status, _) in &city.status_changes {
            if *date > as_of {
                continue;
            }
            match cur.get(id.as_str()) {
                Some((cd, _)) if cd > date => {}
                _ => {
                    cur.insert(id.as_str(), (*date, *status));
                }
            }
        }
        cur.into_iter().map(|(k, v)| (k, v.1)).collect()
    }

    #[test]
    fn demo_reproduces_every_figure_of_the_2019_report() {
        let city = generate();
        let as_of = d("2019-02-20");

        // 8,562 surveyed: 2,263 subject / 6,299 non-subject.
        assert_eq!(city.institutions.len(), 8562);
        let subject: HashSet<&str> = city
            .institutions
            .iter()
            .filter(|x| x.category == Category::Subject)
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(subject.len(), 2263);
        let non_subject = city
            .institutions
            .iter()
            .filter(|x| x.category == Category::NonSubject)
            .count();
        assert_eq!(non_subject, 6299);

        // 1,890 subject-type institutions with problems, all handled.
        let subject_findings: Vec<&Finding> = city
            .findings
            .iter()
            .filter(|f| f.visible(as_of) && subject.contains(f.institution_id.as_str()))
            .collect();
        let with_problems: HashSet<&str> = subject_findings
            .iter()
            .map(|f| f.institution_id.as_str())
            .collect();
        assert_eq!(with_problems.len(), 1890);
        let unhandled = subject_findings
            .iter()
            .filter(|f| f.status(as_of) != FindingStatus::Closed)
            .count();
        assert_eq!(
            unhandled, 0,
            "every finding of a subject-type institution is closed out"
        );

        // 575 closed, 529 of them self-closed; 1,108 converted.
        let st = statuses_as_of(&city, as_of);
        let count = |s: Status| st.values().filter(|&&x| x == s).count();
        assert_eq!(count(Status::Closed) + count(Status::SelfClosed), 575);
        assert_eq!(count(Status::SelfClosed), 529);
        assert_eq!(count(Status::Converted), 1108);

        // 156 newly licensed.
        let new_licences = city
            .institutions
            .iter()
            .filter(|x| {
                x.licence_issued
                    .is_some_and(|i| (d("2018-01-01")..=as_of).contains(&i))
            })
            .count();
        assert_eq!(new_licences, 156);

        // 5 operations, 2,511 staff-times, 809 on-site checks.
        let ops: HashSet<&str> = city
            .inspections
            .iter()
            .filter_map(|x| x.operation.as_deref())
            .collect();
        assert_eq!(ops.len(), 5);
        assert_eq!(
            city.inspections.iter().map(|x| x.inspectors).sum::<i64>(),
            2511
        );
        assert_eq!(city.inspections.len(), 809);
    }

    #[test]
    fn demo_records_are_valid_and_consistent() {
        let city = generate();
        let as_of = d("2019-02-20");
        let districts: Vec<String> = DEFAULT_DISTRICTS.iter().map(|s| s.to_string()).collect();
        for (i, dist) in DISTRICTS.iter().enumerate() {
            assert_eq!(dist.name, DEFAULT_DISTRICTS[i]);
        }
        let id_ok =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let mut by_id: HashMap<&str, &Institution> = HashMap::new();
        let mut with_uscc = 0;
        for x in &city.institutions {
            assert!(
                x.validate(&districts).is_empty(),
                "{x:?}: {:?}",
                x.validate(&districts)
            );
            assert!(id_ok(&x.id));
            assert!(
                by_id.insert(x.id.as_str(), x).is_none(),
                "duplicate id {}",
                x.id
            );
            assert!(x.status_date < d("2018-03-01"));
            assert!(matches!(x.status, Status::Operating | Status::Rectifying));
            assert!((0..=800).contains(&x.students) && (1..=60).contains(&x.teachers));
            if let Some(u) = &x.uscc {
                assert_eq!(check_uscc(u), Ok(()));
                with_uscc += 1;
            }
            if let Some(i) = x.licence_issued {
                assert!(i >= x.status_date, "licensed after founding: {x:?}");
                assert!(x.licence_no.as_deref().unwrap().starts_with("教民1440"));
            }
        }
        assert!(
            with_uscc * 10 > city.institutions.len() * 8,
            "most have a USCC"
        );
        for name in DEFAULT_DISTRICTS {
            let n = city
                .institutions
                .iter()
                .filter(|x| x.district == name)
                .count();
            assert!(n > 200, "{name} has {n}");
        }
        let mut insp: HashMap<&str, &Inspection> = HashMap::new();
        for x in &city.inspections {
            assert!(x.validate().is_empty(), "{x:?}");
            assert!(id_ok(&x.id));
            assert!(by_id.contains_key(x.institution_id.as_str()));
            assert!(insp.insert(x.id.as_str(), x).is_none());
            assert!(x.departments.contains(&Department::Education));
            assert!(x.inspectors >= x.departments.len() as i64);
            assert!((d("2018-03-01")..=d("2018-12-31")).contains(&x.date));
        }
        let mut finding_ids = HashSet::new();
        let mut open = 0;
        let mut rectified = 0;
        let mut overdue = 0;
        let mut opened_2019 = 0;
        for f in &city.findings {
            assert!(f.validate().is_empty(), "{f:?}: {:?}", f.validate());
            assert!(id_ok(&f.id) && finding_ids.insert(f.id.as_str()));
            let inst = by_id[f.institution_id.as_str()];
            if let Some(n) = &f.inspection_id {
                let i = insp[n.as_str()];
                assert_eq!(i.institution_id, f.institution_id, "{f:?}");
                assert_eq!(i.date, f.opened_on);
            }
            assert!(f.opened_on >= d("2018-03-01") && f.opened_on <= as_of);
            assert!(f.rectified_on.is_none_or(|r| r <= as_of));
            assert!(f.verified_on.is_none_or(|r| r <= as_of));
            let days = (f.deadline - f.opened_on).num_days();
            assert!((7..=60).contains(&days));
            if inst.category == Category::Subject {
                assert!(f.opened_on <= d("2018-12-31"));
            }
            match f.status(as_of) {
                FindingStatus::Open => open += 1,
                FindingStatus::Rectified => rectified += 1,
                FindingStatus::Closed => {}
            }
            overdue += f.overdue(as_of) as usize;
            opened_2019 += (f.opened_on.year() == 2019) as usize;
        }
        assert!(
            open > 50 && rectified > 50 && overdue > 50 && opened_2019 > 100,
            "open {open} rectified {rectified} overdue {overdue} opened in 2019 {opened_2019}"
        );
        for (id, date, _, reason) in &city.status_changes {
            let x = by_id[id.as_str()];
            assert!(*date > x.status_date && *date <= as_of && !reason.is_empty());
        }
        // Final statuses come after the institution's findings were opened, by 2019-02-15.
        for (id, date, s, _) in &city.status_changes {
            if matches!(s, Status::Closed | Status::SelfClosed | Status::Converted) {
                assert!(*date >= d("2018-03-01") && *date <= d("2019-02-15"));
                assert_eq!(by_id[id.as_str()].category, Category::Subject);
            }
        }
    }

    #[test]
    fn demo_is_deterministic() {
        let a = generate();
        let b = generate();
        assert_eq!(a, b);
        assert_eq!(a.institutions[0].id, "GZ-YX-00001");
        assert_eq!(a.findings[0].id, "F2018-000001");
        assert_eq!(a.inspections[0].id, "JC2018-0001");
    }
}
