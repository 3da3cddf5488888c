//! The platform's course filings of January–February 2019 at the institutions
//! still running: most within every rule, a few planted to break each rule of
//! `scripts/course_check.rhai` (see [`COURSE_PLANTS`]).

use chrono::Months;

use super::plan::{Plan, Role};
use super::planted::{Plant, COURSE_PLANTS};
use super::report_date;
use super::rng::{days, workday, ymd, Rng};
use super::rules::course_breaches;
use super::vocab::{
    ART_COURSES, ART_GRADES, ART_LEVELS, SUBJECT_COURSES, SUBJECT_GRADES, SUBJECT_LEVELS,
};
use crate::model::{Category, Course, CourseStatus, Institution, Mode};

/// Offline end times (minutes) for fine courses, with weights: none after 20:30.
const OFFLINE_ENDS: &[(u32, u32)] = &[
    (17 * 60, 10),
    (17 * 60 + 30, 12),
    (18 * 60, 14),
    (18 * 60 + 30, 10),
    (19 * 60, 14),
    (19 * 60 + 30, 12),
    (20 * 60, 16),
    (20 * 60 + 30, 12),
];
/// Online end times: up to 21:00.
const ONLINE_ENDS: &[(u32, u32)] = &[
    (19 * 60, 10),
    (19 * 60 + 30, 10),
    (20 * 60, 20),
    (20 * 60 + 30, 25),
    (20 * 60 + 45, 15),
    (21 * 60, 20),
];

/// One of `xs` by its weight.
fn pick_weighted<T: Copy>(rng: &mut Rng, xs: &[(T, u32)]) -> T {
    let w: Vec<u32> = xs.iter().map(|x| x.1).collect();
    xs[rng.weighted(&w)].0
}

/// Makes `c` a subject-type course (`subject`) or a non-subject one, with its name.
fn set_subject(rng: &mut Rng, c: &mut Course, subject: bool) {
    if subject {
        let s = rng.pick(SUBJECT_COURSES);
        let g = rng.pick(SUBJECT_GRADES);
        c.subject = s.to_string();
        c.grade = g.to_string();
        c.name = format!("{g}{s}{}", rng.pick(SUBJECT_LEVELS));
        c.subject_type = Category::Subject;
    } else {
        let s = rng.pick(ART_COURSES);
        c.subject = s.to_string();
        c.grade = rng.pick(ART_GRADES).to_string();
        c.name = format!("少儿{s}{}", rng.pick(ART_LEVELS));
        c.subject_type = Category::NonSubject;
    }
}

/// Sets a course's length, hours, fee per hour and prepayment.
fn set_terms(c: &mut Course, months: u32, hours: i64, per_hour: i64, prepay: i64) {
    c.ends_on = c
        .starts_on
        .checked_add_months(Months::new(months))
        .expect("in range")
        - days(1);
    c.class_hours = hours;
    c.fee_fen = hours * per_hour * 100;
    c.prepay_months = prepay;
}

/// Course filings of January–February 2019 at the institutions still running,
/// most within every rule, some planted to break each rule of course_check.rhai.
pub(super) fn courses(rng: &mut Rng, plans: &[Plan], insts: &[Institution]) -> Vec<Course> {
    let mut out = fine_filings(rng, plans, insts);
    plant_breaches(rng, &mut out);

    // Ids in order of filing.
    let mut out: Vec<Course> = out.into_iter().map(|x| x.0).collect();
    out.sort_by(|a, b| (a.filed_on, &a.institution_id).cmp(&(b.filed_on, &b.institution_id)));
    for (n, c) in out.iter_mut().enumerate() {
        c.id = format!("KC2019-{:05}", n + 1);
    }
    out
}

/// The filings within every rule, each with whether its institution is
/// licensed on the report date.
fn fine_filings(rng: &mut Rng, plans: &[Plan], insts: &[Institution]) -> Vec<(Course, bool)> {
    let as_of = report_date();
    let mut out: Vec<(Course, bool)> = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        if matches!(p.role, Role::Closed | Role::SelfClosed) || !rng.chance(0.65) {
            continue;
        }
        let x = &insts[i];
        let licensed = x.licensed(as_of);
        let subject_school = p.category() == Category::Subject && p.role != Role::Converted;
        let n = pick_weighted(rng, &[(1usize, 30), (2, 30), (3, 22), (4, 18)]);
        for _ in 0..n {
            out.push((fine_course(rng, x, subject_school, licensed), licensed));
        }
    }
    out
}

/// One filing of `x` within every rule.
fn fine_course(rng: &mut Rng, x: &Institution, subject_school: bool, licensed: bool) -> Course {
    let as_of = report_date();
    let mut filed = workday(rng.date(ymd(2019, 1, 2), as_of));
    let subject = subject_school && rng.chance(0.85);
    if subject {
        // A school files its subject courses once it holds the licence.
        filed = filed.max(x.licence_issued.expect("licensed"));
    }
    let mut c = Course {
        id: String::new(),
        institution_id: x.id.clone(),
        name: String::new(),
        subject: String::new(),
        subject_type: Category::NonSubject,
        grade: String::new(),
        mode: if rng.chance(0.15) {
            Mode::Online
        } else {
            Mode::Offline
        },
        class_hours: 0,
        fee_fen: 0,
        prepay_months: 0,
        starts_on: filed + days(rng.range(5, 40)),
        ends_on: filed,
        daily_end_min: 0,
        filed_on: filed,
        status: CourseStatus::Filed,
        decision_reason: String::new(),
        decided_on: None,
    };
    set_subject(rng, &mut c, subject);
    c.daily_end_min = match c.mode {
        Mode::Offline => pick_weighted(rng, OFFLINE_ENDS),
        Mode::Online => pick_weighted(rng, ONLINE_ENDS),
    };
    let months = pick_weighted(
        rng,
        &[(1u32, 10), (2, 15), (3, 30), (4, 20), (5, 10), (6, 15)],
    );
    let per_month = rng.pick(&[4i64, 6, 8, 12, 16]);
    let per_hour = if subject {
        rng.range(10, 25) * 10
    } else {
        rng.range(6, 20) * 10
    };
    let mut prepay = if rng.chance(0.2) {
        0
    } else {
        rng.range(1, 3.min(months as i64))
    };
    set_terms(&mut c, months, months as i64 * per_month, per_hour, prepay);
    while prepay > 0 && course_breaches(&c, licensed).any() {
        prepay -= 1;
        c.prepay_months = prepay;
    }
    debug_assert!(!course_breaches(&c, licensed).any(), "{c:?}");
    c
}

/// Plant the breaches, each in a course of its own.
fn plant_breaches(rng: &mut Rng, out: &mut [(Course, bool)]) {
    let mut order: Vec<usize> = (0..out.len()).collect();
    rng.shuffle(&mut order);
    let mut taken = vec![false; out.len()];
    for (plant, n) in COURSE_PLANTS {
        for _ in 0..n {
            let k = order
                .iter()
                .copied()
                .find(|&k| !taken[k] && fits(plant, &out[k].0, out[k].1))
                .expect("enough courses to plant in");
            taken[k] = true;
            plant_in(rng, plant, &mut out[k].0);
        }
    }
}

/// Whether `plant` can go in course `c` (at an institution `licensed` or not).
fn fits(plant: Plant, c: &Course, licensed: bool) -> bool {
    match plant {
        Plant::LateOffline => c.mode == Mode::Offline,
        Plant::LateOnline => c.mode == Mode::Online,
        Plant::Unlicensed | Plant::MonthsAndUnlicensed => {
            !licensed && c.subject_type == Category::NonSubject
        }
        Plant::Fee => c.subject_type == Category::NonSubject,
        Plant::LateAndFee => c.subject_type == Category::NonSubject && c.mode == Mode::Offline,
        Plant::Months | Plant::Hours => true,
    }
}

/// Makes `c` break what `plant` says.
fn plant_in(rng: &mut Rng, plant: Plant, c: &mut Course) {
    let nonsub = c.subject_type == Category::NonSubject;
    match plant {
        Plant::LateOffline => c.daily_end_min = rng.pick(&[1245, 1260, 1275, 1290]),
        Plant::LateOnline => c.daily_end_min = rng.pick(&[1275, 1290, 1320]),
        Plant::Months => {
            // Six months paid four to six at a time; hours and fee within bounds.
            let per_hour = if nonsub {
                rng.range(6, 10) * 10
            } else {
                rng.range(10, 20) * 10
            };
            set_terms(c, 6, 48, per_hour, rng.range(4, 6));
        }
        Plant::Hours => {
            // Three months of 64–96 hours paid in full.
            let hours = rng.pick(&[64i64, 72, 80, 96]);
            let per_hour = if nonsub {
                4800 / hours / 10 * 10
            } else {
                rng.range(10, 20) * 10
            };
            set_terms(c, 3, hours, per_hour, 3);
        }
        Plant::Unlicensed => set_subject(rng, c, true),
        Plant::Fee => set_terms(c, 3, 36, rng.range(16, 25) * 10, 3),
        Plant::LateAndFee => {
            set_terms(c, 3, 36, rng.range(16, 25) * 10, 3);
            c.daily_end_min = 1260;
        }
        Plant::MonthsAndUnlicensed => {
            set_subject(rng, c, true);
            set_terms(c, 6, 48, rng.range(10, 20) * 10, 6);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::tests::{d, statuses_as_of};
    use crate::demo::{course_breaches, generate, Planted, PLANTED};
    use crate::model::Status;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn demo_courses_are_valid_and_break_the_rules_as_planted() {
        let city = generate();
        let as_of = d("2019-02-20");
        let st = statuses_as_of(&city, as_of);
        let by_id: HashMap<&str, &Institution> = city
            .institutions
            .iter()
            .map(|x| (x.id.as_str(), x))
            .collect();
        let mut ids = HashSet::new();
        let mut n = Planted {
            courses: city.courses.len(),
            courses_rejected: 0,
            late_offline: 0,
            late_online: 0,
            prepay_months: 0,
            prepay_hours: 0,
            subject_unlicensed: 0,
            fee_over_5000: 0,
            ..PLANTED
        };
        let mut per_inst: HashMap<&str, usize> = HashMap::new();
        for c in &city.courses {
            assert!(c.validate().is_empty(), "{c:?}: {:?}", c.validate());
            assert!(ids.insert(c.id.as_str()));
            assert_eq!(c.status, CourseStatus::Filed);
            assert!((d("2019-01-01")..=as_of).contains(&c.filed_on), "{c:?}");
            assert!(c.starts_on > c.filed_on);
            let x = by_id[c.institution_id.as_str()];
            assert!(!matches!(
                st[x.id.as_str()],
                Status::Closed | Status::SelfClosed
            ));
            *per_inst.entry(x.id.as_str()).or_default() += 1;
            let b = course_breaches(c, x.licensed(as_of));
            n.courses_rejected += b.any() as usize;
            n.late_offline += (b.late && c.mode == Mode::Offline) as usize;
            n.late_online += (b.late && c.mode == Mode::Online) as usize;
            n.prepay_months += b.prepay_months as usize;
            n.prepay_hours += b.prepay_hours as usize;
            n.subject_unlicensed += b.subject_unlicensed as usize;
            n.fee_over_5000 += b.fee_over_5000 as usize;
        }
        assert_eq!(n, PLANTED);
        assert!(per_inst.values().all(|&k| (1..=4).contains(&k)));
        assert!(
            per_inst.len() > 4000,
            "{} institutions file courses",
            per_inst.len()
        );
    }
}
