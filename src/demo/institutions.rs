//! The institutions' records, drawn from the plan once their findings are
//! known (a fire hazard left open means no fire approval, and so on): founding,
//! licence, registration, name, USCC, address, size, and the licence numbers.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::plan::{Plan, Reg, Role};
use super::rng::{days, workday, years_after, ymd, Rng};
use super::vocab::{
    institution_name, make_uscc, person_name, District, BRANDS, DISTRICTS, ROAD_KINDS, ROAD_WORDS,
};
use crate::model::{Category, Finding, FindingKind, Institution, Status};

/// The institution records, in the order of the plan; sets each plan's `licence`.
pub(super) fn institutions(
    rng: &mut Rng,
    plans: &mut [Plan],
    findings: &[Finding],
) -> Vec<Institution> {
    let marks = Marks::of(findings);
    let mut used = Used::default();
    let mut institutions = Vec::with_capacity(plans.len());
    let mut licences: Vec<(NaiveDate, usize)> = Vec::new();
    for (idx, p) in plans.iter_mut().enumerate() {
        let founded = found_and_license(rng, p);
        if let Some((issued, _)) = p.licence {
            licences.push((issued, idx));
        }
        institutions.push(record(rng, p, founded, &marks, &mut used));
    }
    number_licences(rng, licences, plans, &mut institutions);
    institutions
}

/// What an institution's findings say about its record.
struct Marks<'a> {
    fire_open: HashSet<&'a str>,
    fire_closed: HashSet<&'a str>,
    unqualified: HashSet<&'a str>,
    prepaid: HashSet<&'a str>,
}

impl<'a> Marks<'a> {
    fn of(findings: &'a [Finding]) -> Self {
        let mut m = Marks {
            fire_open: HashSet::new(),
            fire_closed: HashSet::new(),
            unqualified: HashSet::new(),
            prepaid: HashSet::new(),
        };
        for f in findings {
            let id = f.institution_id.as_str();
            match f.kind {
                FindingKind::FireHazard => {
                    if f.verified_on.is_some() {
                        m.fire_closed.insert(id);
                    } else {
                        m.fire_open.insert(id);
                    }
                }
                FindingKind::UnqualifiedTeachers => {
                    m.unqualified.insert(id);
                }
                FindingKind::PrepaidExcess => {
                    m.prepaid.insert(id);
                }
                _ => {}
            }
        }
        m
    }
}

/// Names and USCCs already given: each is unique in the city.
#[derive(Default)]
struct Used {
    names: HashSet<String>,
    uscc: HashSet<String>,
}

/// Draws the founding date and sets the plan's licence (a pre-2018 one, or
/// the new one). Returns the founding date.
fn found_and_license(rng: &mut Rng, p: &mut Plan) -> NaiveDate {
    let old_licence = match p.role {
        Role::SubjectClean | Role::LicensedProblem => true,
        Role::Ns2018 { .. } | Role::Ns2019 | Role::NsClean => rng.chance(0.07),
        _ => false,
    };
    let founded = if old_licence {
        rng.recent_date(ymd(2006, 1, 1), ymd(2016, 12, 31))
    } else {
        rng.recent_date(ymd(2008, 1, 1), ymd(2018, 2, 28))
    };
    if old_licence {
        let from = (founded + days(20)).max(ymd(2014, 3, 1));
        let issued = workday(rng.date(from, ymd(2017, 12, 28)));
        let years = if issued >= ymd(2016, 3, 1) && rng.chance(0.3) {
            3
        } else {
            5
        };
        p.licence = Some((issued, years_after(issued, years)));
    } else if let Some(l) = p.new_licence_on {
        p.licence = Some((l, years_after(l, 3)));
    }
    founded
}

/// One institution's record, without its licence number.
fn record(
    rng: &mut Rng,
    p: &Plan,
    founded: NaiveDate,
    marks: &Marks<'_>,
    used: &mut Used,
) -> Institution {
    let dist = &DISTRICTS[p.district];
    let category = p.category();
    let reg = registration(rng, p);
    let name = loop {
        let n = institution_name(rng, dist, category, reg);
        if used.names.insert(n.clone()) {
            break n;
        }
    };
    let uscc = match reg {
        Reg::None => None,
        _ => Some(loop {
            let u = make_uscc(rng, dist.division, reg);
            if used.uscc.insert(u.clone()) {
                break u;
            }
        }),
    };
    let street = rng.pick(dist.streets).to_string();
    let address = address(rng, dist);
    let organizer = if reg == Reg::Civil && rng.chance(0.2) {
        format!("广州{}教育投资有限公司", rng.pick(BRANDS))
    } else {
        person_name(rng)
    };
    let licensed_ever = p.licence.is_some();
    let (students, teachers) = size(rng, category, licensed_ever);
    let share = match (
        category,
        licensed_ever,
        marks.unqualified.contains(p.id.as_str()),
    ) {
        (_, _, true) => rng.range(0, 40),
        (Category::Subject, true, _) => rng.range(70, 100),
        (Category::Subject, false, _) => rng.range(30, 90),
        (Category::NonSubject, _, _) => rng.range(0, 60),
    };
    let qualified_teachers = teachers * share / 100;
    let area_m2 = area(rng, licensed_ever, students);
    let prepaid_fen = prepaid_fen(
        rng,
        category,
        students,
        marks.prepaid.contains(p.id.as_str()),
    );
    let fire_approved = if licensed_ever {
        true
    } else if marks.fire_open.contains(p.id.as_str()) {
        false
    } else if marks.fire_closed.contains(p.id.as_str()) {
        rng.chance(0.6)
    } else {
        rng.chance(0.9)
    };
    Institution {
        id: p.id.clone(),
        name,
        uscc,
        district: dist.name.to_string(),
        street,
        address,
        category,
        licence_no: None,
        licence_issued: p.licence.map(|l| l.0),
        licence_expires: p.licence.map(|l| l.1),
        organizer,
        students,
        teachers,
        qualified_teachers,
        area_m2,
        prepaid_fen,
        fire_approved,
        status: Status::Operating,
        status_date: founded,
    }
}

/// How the institution is registered: a licensed school with civil affairs,
/// else a company, or (more often at those the campaign closed) not at all.
fn registration(rng: &mut Rng, p: &Plan) -> Reg {
    if p.licence.is_some() {
        Reg::Civil
    } else {
        let none = match p.role {
            Role::Closed | Role::SelfClosed => 0.35,
            Role::Converted | Role::NewLicence => 0.15,
            _ => 0.08,
        };
        if rng.chance(none) {
            Reg::None
        } else {
            Reg::Company
        }
    }
}

fn address(rng: &mut Rng, dist: &District) -> String {
    format!(
        "广州市{}区{}{}{}号{}",
        dist.name,
        rng.pick(ROAD_WORDS),
        rng.pick(ROAD_KINDS),
        rng.range(1, 488),
        match rng.below(4) {
            0 => format!("{}楼", rng.range(2, 6)),
            1 => format!("{}室", rng.range(2, 12) * 100 + rng.range(1, 20)),
            2 => format!(
                "{}栋{}层",
                rng.pick(&["A", "B", "C", "1", "2", "3"]),
                rng.range(1, 5)
            ),
            _ => String::new(),
        }
    )
}

/// (students, teachers): licensed subject-type schools are the largest.
fn size(rng: &mut Rng, category: Category, licensed_ever: bool) -> (i64, i64) {
    match (category, licensed_ever) {
        (Category::Subject, true) => {
            let s = rng.range(80, 800);
            (s, (s / rng.range(12, 25)).clamp(3, 60))
        }
        (Category::Subject, false) => {
            let s = rng.range(15, 400);
            (s, (s / rng.range(10, 30)).clamp(1, 20))
        }
        (Category::NonSubject, _) => {
            let s = if rng.chance(0.01) {
                0
            } else {
                rng.range(8, 500)
            };
            (s, (s / rng.range(10, 35)).clamp(1, 30))
        }
    }
}

fn area(rng: &mut Rng, licensed_ever: bool, students: i64) -> f64 {
    // A licensed school met the setting standard when it was licensed: at
    // least 3 m² per student and 200 m² in all (DOMAIN.md).
    let area_m2 = if licensed_ever {
        (200.0f64).max(students as f64 * rng.range(30, 45) as f64 / 10.0)
    } else {
        40.0 + students as f64 * rng.range(5, 18) as f64 / 10.0
    };
    (area_m2 * 2.0).round() / 2.0
}

/// Prepaid fees held, in fen: doubled where prepayment was a finding.
fn prepaid_fen(rng: &mut Rng, category: Category, students: i64, excess: bool) -> i64 {
    let per_student = match category {
        Category::Subject => rng.range(1500, 6000),
        Category::NonSubject => rng.range(800, 5000),
    };
    let mut prepaid_yuan = students * per_student * rng.range(30, 90) / 100;
    if excess {
        prepaid_yuan *= 2;
    }
    prepaid_yuan * 100 + if rng.chance(0.2) { rng.range(1, 99) } else { 0 }
}

/// Licence numbers in order of issue within each district.
fn number_licences(
    rng: &mut Rng,
    mut licences: Vec<(NaiveDate, usize)>,
    plans: &[Plan],
    institutions: &mut [Institution],
) {
    licences.sort();
    let mut serial = [0i64; 11];
    for (_, idx) in licences {
        let d = plans[idx].district;
        serial[d] += rng.range(1, 3);
        institutions[idx].licence_no = Some(format!(
            "教民1{}{:07}号",
            DISTRICTS[d].division,
            10000 + serial[d]
        ));
    }
}
