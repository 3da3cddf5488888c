//! The black list the demo city is built to give (`scripts/blacklist.rhai`
//! on the report date): institutions planted for each criterion, and no
//! others. An institution closed by or on the report date has no students
//! left, except the few planted as still enrolling after it closed.
//!
//! Planting changes records already drawn, without drawing from the random
//! stream, so every other figure of the city stays as it was. The planted
//! institutions have no licence applications and no course filings, so the
//! platform rules find exactly what they did before.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::planted::{BL_CLOSED_ENROLLING, BL_SEVERE_OVERDUE, BL_UNLICENSED};
use super::rng::ymd;
use super::DemoCity;
use crate::model::{Category, Status};

/// When the licences planted as lapsed ran out (before the report date).
fn lapsed_on() -> NaiveDate {
    ymd(2019, 1, 31)
}

/// Every `len / n`-th of `items`: `n` of them, spread over the city (ids
/// sort by district) rather than all from the first district.
fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    assert!(items.len() >= n, "too few candidates to plant {n}");
    let step = items.len() / n;
    (0..n).map(|k| items[k * step]).collect()
}

/// Plants the black list's cases in `city` as of `report`.
pub(super) fn plant(city: &mut DemoCity, report: NaiveDate) {
    // Each institution's status on the report date.
    // (Owned keys: the records are changed below.)
    let mut status: HashMap<String, Status> = city
        .institutions
        .iter()
        .map(|x| (x.id.clone(), x.status))
        .collect();
    for (id, d, s, _) in &city.status_changes {
        if *d <= report {
            status.insert(id.clone(), *s);
        }
    }
    let on_platform: HashSet<String> = city
        .applications
        .iter()
        .map(|a| a.institution_id.clone())
        .chain(city.courses.iter().map(|c| c.institution_id.clone()))
        .collect();
    let mut closed = Vec::new();
    let mut licensed = Vec::new();
    for (i, x) in city.institutions.iter().enumerate() {
        let s = status[x.id.as_str()];
        if matches!(s, Status::Closed | Status::SelfClosed) {
            closed.push(i);
        } else if s == Status::Operating
            && x.category == Category::Subject
            && x.licence_expires.is_some_and(|e| e > report)
            && !on_platform.contains(x.id.as_str())
        {
            licensed.push(i);
        }
    }
    // Closed means no more students, but for the few caught enrolling after.
    let enrolling: HashSet<usize> = spread(&closed, BL_CLOSED_ENROLLING).into_iter().collect();
    for &i in &closed {
        if !enrolling.contains(&i) {
            city.institutions[i].students = 0;
        }
    }
    for i in spread(&licensed, BL_UNLICENSED) {
        city.institutions[i].licence_expires = Some(lapsed_on());
    }
    // Findings overdue on the report date at operating non-subject
    // institutions off the platform, one per institution.
    let category: HashMap<String, Category> = city
        .institutions
        .iter()
        .map(|x| (x.id.clone(), x.category))
        .collect();
    let mut seen = HashSet::new();
    let overdue: Vec<usize> = (0..city.findings.len())
        .filter(|&k| {
            let f = &city.findings[k];
            let id = f.institution_id.as_str();
            f.overdue(report)
                && f.opened_on <= report
                && category[id] == Category::NonSubject
                && status[id] == Status::Operating
                && !on_platform.contains(id)
                && seen.insert(id.to_string())
        })
        .collect();
    for k in spread(&overdue, BL_SEVERE_OVERDUE) {
        city.findings[k].severity = 3;
    }
}
