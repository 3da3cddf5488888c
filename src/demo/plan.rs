//! The plan of the city: every institution's district, ledger number and role
//! in the report's story (closed, converted, newly licensed, ...), decided
//! before any record is drawn, so that the report's groups have exact sizes.

use chrono::NaiveDate;

use super::planted::{
    N_CLOSED, N_CONVERTED, N_NEW_LICENCES, N_NON_SUBJECT, N_NS_2018, N_NS_2019, N_NS_FOLLOW_UP,
    N_PROBLEM_SUBJECT, N_SELF_CLOSED, N_SUBJECT,
};
use super::rng::Rng;
use super::vocab::DISTRICTS;
use crate::model::Category;
/// An institution's part in the report's story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Subject-type, unlicensed, closed by the authorities.
    Closed,
    /// Subject-type, unlicensed, closed itself.
    SelfClosed,
    /// Subject-type, unlicensed, promised to stop subject training.
    Converted,
    /// Subject-type, unlicensed, obtained a licence in 2018–19.
    NewLicence,
    /// Subject-type, licensed before 2018, rectified other problems.
    LicensedProblem,
    /// Subject-type, licensed before 2018, no problems.
    SubjectClean,
    /// Non-subject with findings of the 2018 campaign (and maybe a 2019 follow-up).
    Ns2018 { follow_up: bool },
    /// Non-subject with findings opened only in 2019.
    Ns2019,
    /// Non-subject without findings.
    NsClean,
}

/// How an institution is registered, which decides its USCC and the style of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reg {
    /// 民办非企业单位 with the civil affairs bureau: USCC `52…`, usually a licensed school.
    Civil,
    /// A company with market regulation: USCC `91…`.
    Company,
    /// Not registered at all.
    None,
}

/// One institution of the plan: what is decided about it before its records are drawn.
pub(super) struct Plan {
    pub(super) district: usize,
    pub(super) id: String,
    pub(super) role: Role,
    pub(super) inspection: Option<usize>,
    /// Pre-2018 licence, or the new one.
    pub(super) licence: Option<(NaiveDate, NaiveDate)>,
    pub(super) new_licence_on: Option<NaiveDate>,
}

impl Role {
    /// Which share of the on-site checks the role falls in, in the order of
    /// the `INSPECT_*` counts; none for institutions first seen in 2019.
    pub(super) fn check_group(self) -> Option<usize> {
        match self {
            Role::Closed
            | Role::SelfClosed
            | Role::Converted
            | Role::NewLicence
            | Role::LicensedProblem => Some(0),
            Role::SubjectClean => Some(1),
            Role::Ns2018 { .. } => Some(2),
            Role::NsClean => Some(3),
            Role::Ns2019 => None,
        }
    }
}

impl Plan {
    pub(super) fn category(&self) -> Category {
        match self.role {
            Role::Ns2018 { .. } | Role::Ns2019 | Role::NsClean => Category::NonSubject,
            _ => Category::Subject,
        }
    }
}

/// Splits `n` by `weights` exactly (largest remainder).
fn apportion(n: usize, weights: &[u32]) -> Vec<usize> {
    let total: usize = weights.iter().map(|&w| w as usize).sum();
    let mut out: Vec<usize> = weights.iter().map(|&w| n * w as usize / total).collect();
    let mut rem: Vec<(usize, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| (n * w as usize % total, i))
        .collect();
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let short = n - out.iter().sum::<usize>();
    for &(_, i) in rem.iter().take(short) {
        out[i] += 1;
    }
    out
}

/// The plan of every institution: districts and numbers, then roles cut from
/// shuffled subject and non-subject slots.
pub(super) fn plan_city(rng: &mut Rng) -> Vec<Plan> {
    let mut plans = number_institutions();
    assign_roles(rng, &mut plans);
    plans
}

/// Institutions: districts and numbers.
fn number_institutions() -> Vec<Plan> {
    let weights: Vec<u32> = DISTRICTS.iter().map(|d| d.weight).collect();
    let per_district = apportion(N_SUBJECT + N_NON_SUBJECT, &weights);
    let mut plans: Vec<Plan> = Vec::with_capacity(N_SUBJECT + N_NON_SUBJECT);
    for (di, &count) in per_district.iter().enumerate() {
        for k in 1..=count {
            plans.push(Plan {
                district: di,
                id: format!("GZ-{}-{:05}", DISTRICTS[di].code, k),
                role: Role::NsClean,
                inspection: None,
                licence: None,
                new_licence_on: None,
            });
        }
    }
    plans
}

/// Roles: shuffled subject and non-subject slots, cut into the report's groups.
fn assign_roles(rng: &mut Rng, plans: &mut [Plan]) {
    let mut order: Vec<usize> = (0..plans.len()).collect();
    rng.shuffle(&mut order);
    let (subject, non_subject) = order.split_at(N_SUBJECT);
    let subject_roles = [
        (Role::SelfClosed, N_SELF_CLOSED),
        (Role::Closed, N_CLOSED - N_SELF_CLOSED),
        (Role::Converted, N_CONVERTED),
        (Role::NewLicence, N_NEW_LICENCES),
        (
            Role::LicensedProblem,
            N_PROBLEM_SUBJECT - N_CLOSED - N_CONVERTED - N_NEW_LICENCES,
        ),
        (Role::SubjectClean, N_SUBJECT - N_PROBLEM_SUBJECT),
    ];
    let ns_roles = [
        (Role::Ns2018 { follow_up: true }, N_NS_FOLLOW_UP),
        (
            Role::Ns2018 { follow_up: false },
            N_NS_2018 - N_NS_FOLLOW_UP,
        ),
        (Role::Ns2019, N_NS_2019),
        (Role::NsClean, N_NON_SUBJECT - N_NS_2018 - N_NS_2019),
    ];
    for (slots, roles) in [(subject, &subject_roles[..]), (non_subject, &ns_roles[..])] {
        let mut it = slots.iter();
        for &(role, n) in roles {
            for &i in it.by_ref().take(n) {
                plans[i].role = role;
            }
        }
        assert!(it.next().is_none(), "roles cover every slot");
    }
}
