//! The 2018 campaign's on-site checks: the five joint operations, which
//! institutions were checked, when and by which departments, with head counts
//! adjusted to the report's total, and the notes that say what was found.

use chrono::NaiveDate;

use super::plan::Plan;
use super::planted::{
    INSPECT_CLEAN_SUBJECT, INSPECT_NS_2018, INSPECT_NS_CLEAN, INSPECT_PROBLEM_SUBJECT,
    N_INSPECTIONS, N_INSPECTORS,
};
use super::rng::{workday, Rng};
use crate::model::{Department, Finding, Inspection};

/// A joint enforcement operation of the 2018 campaign and its date window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignOperation {
    /// The operation's name, as inspections record it.
    pub name: &'static str,
    /// Its first day.
    pub from: NaiveDate,
    /// Its last day.
    pub to: NaiveDate,
}

const fn op(name: &'static str, from: (i32, u32, u32), to: (i32, u32, u32)) -> CampaignOperation {
    match (
        NaiveDate::from_ymd_opt(from.0, from.1, from.2),
        NaiveDate::from_ymd_opt(to.0, to.1, to.2),
    ) {
        (Some(from), Some(to)) => CampaignOperation { name, from, to },
        _ => panic!("not a calendar date"),
    }
}

/// The five joint enforcement operations of the 2018 campaign (SPEC §1: 5 operations).
pub const OPERATIONS: [CampaignOperation; 5] = [
    op(
        "2018春季校外培训机构联合执法行动",
        (2018, 3, 12),
        (2018, 4, 27),
    ),
    op("2018无证办学专项整治行动", (2018, 5, 7), (2018, 6, 29)),
    op("2018暑期校外培训专项检查", (2018, 7, 9), (2018, 8, 31)),
    op("2018秋季开学联合执法行动", (2018, 9, 3), (2018, 10, 31)),
    op("2018年末“回头看”联合检查", (2018, 11, 5), (2018, 12, 28)),
];

/// The on-site checks, ids in date order; sets each checked plan's `inspection`.
pub(super) fn inspections(rng: &mut Rng, plans: &mut [Plan]) -> Vec<Inspection> {
    let inspected = choose_inspected(rng, plans);
    // Inspections: operation, date, departments; ids in date order.
    let mut inspections: Vec<(Inspection, usize)> = inspected
        .iter()
        .map(|&i| (inspection(rng, &plans[i].id), i))
        .collect();
    adjust_inspectors(rng, &mut inspections);
    inspections
        .sort_by(|a, b| (a.0.date, &a.0.institution_id).cmp(&(b.0.date, &b.0.institution_id)));
    for (n, (x, i)) in inspections.iter_mut().enumerate() {
        x.id = format!("JC2018-{:04}", n + 1);
        plans[*i].inspection = Some(n);
    }
    inspections.into_iter().map(|x| x.0).collect()
}

/// Which institutions were checked on site: a random share of each group.
fn choose_inspected(rng: &mut Rng, plans: &[Plan]) -> Vec<usize> {
    let mut inspected: Vec<usize> = Vec::with_capacity(N_INSPECTIONS);
    let shares = [
        INSPECT_PROBLEM_SUBJECT,
        INSPECT_CLEAN_SUBJECT,
        INSPECT_NS_2018,
        INSPECT_NS_CLEAN,
    ];
    for (group, n) in shares.into_iter().enumerate() {
        let mut g: Vec<usize> = (0..plans.len())
            .filter(|&i| plans[i].role.check_group() == Some(group))
            .collect();
        rng.shuffle(&mut g);
        inspected.extend_from_slice(&g[..n]);
    }
    inspected
}

/// One check of `institution_id`, not numbered yet and without its note.
fn inspection(rng: &mut Rng, institution_id: &str) -> Inspection {
    let op_weights = [160u32, 190, 150, 170, 139];
    let op = rng.weighted(&op_weights);
    let CampaignOperation { name, from, to } = OPERATIONS[op];
    let date = workday(rng.date(from, to));
    let departments = departments(rng, op);
    let inspectors = departments.len() as i64 + rng.range(0, 2);
    Inspection {
        id: String::new(),
        institution_id: institution_id.to_string(),
        date,
        operation: Some(name.to_string()),
        departments,
        inspectors,
        note: String::new(),
    }
}

/// The departments that joined a check of operation `op` (education always does).
fn departments(rng: &mut Rng, op: usize) -> Vec<Department> {
    let mut departments = vec![Department::Education];
    // Each operation leans on the departments its theme needs.
    let p: [(Department, f64); 5] = match op {
        1 => [
            (Department::Police, 0.35),
            (Department::CivilAffairs, 0.45),
            (Department::Hr, 0.15),
            (Department::Market, 0.7),
            (Department::Fire, 0.25),
        ],
        2 => [
            (Department::Police, 0.3),
            (Department::CivilAffairs, 0.2),
            (Department::Hr, 0.15),
            (Department::Market, 0.4),
            (Department::Fire, 0.6),
        ],
        _ => [
            (Department::Police, 0.35),
            (Department::CivilAffairs, 0.25),
            (Department::Hr, 0.25),
            (Department::Market, 0.5),
            (Department::Fire, 0.4),
        ],
    };
    for (d, q) in p {
        if rng.chance(q) {
            departments.push(d);
        }
    }
    departments
}

/// Staff-times total exactly the report's figure: nudge head counts within
/// one per department and eight per visit.
fn adjust_inspectors(rng: &mut Rng, inspections: &mut [(Inspection, usize)]) {
    let mut sum: i64 = inspections.iter().map(|x| x.0.inspectors).sum();
    while sum != N_INSPECTORS {
        let x = &mut inspections[rng.below(N_INSPECTIONS as u64) as usize].0;
        if sum < N_INSPECTORS && x.inspectors < 8 {
            x.inspectors += 1;
            sum += 1;
        } else if sum > N_INSPECTORS && x.inspectors > x.departments.len() as i64 {
            x.inspectors -= 1;
            sum -= 1;
        }
    }
}

/// Inspection notes say what was found.
pub(super) fn write_notes(rng: &mut Rng, inspections: &mut [Inspection], findings: &[Finding]) {
    for x in inspections.iter_mut() {
        let found: Vec<&str> = findings
            .iter()
            .filter(|f| f.inspection_id.as_deref() == Some(x.id.as_str()))
            .map(|f| f.kind.zh())
            .collect();
        x.note = if found.is_empty() {
            rng.pick(&[
                "现场检查未发现问题",
                "证照齐全，收费公示规范，未发现违规行为",
                "检查消防设施、师资及收费公示，未发现问题",
            ])
            .to_string()
        } else {
            format!("现场发现：{}，已下达整改通知书", found.join("、"))
        };
    }
}
