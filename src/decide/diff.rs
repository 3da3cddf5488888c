//! `casebook diff`: what a rule change would change, institution by
//! institution, and how grades move from old to new.

use std::collections::BTreeMap;

use super::{fmt_score, Decision};

/// What changes between two sets of decisions.
pub struct Diff {
    /// (old, new) for institutions whose grade or reasons changed.
    pub changed: Vec<(Decision, Decision)>,
    /// Transition counts: old grade → new grade → count.
    pub matrix: BTreeMap<String, BTreeMap<String, usize>>,
    pub only_old: usize,
    pub only_new: usize,
}

/// Compares decisions by institution.
pub fn diff(old: &[Decision], new: &[Decision]) -> Diff {
    let olds: BTreeMap<&str, &Decision> = old.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut d = Diff {
        changed: Vec::new(),
        matrix: BTreeMap::new(),
        only_old: 0,
        only_new: 0,
    };
    let mut seen = 0;
    for n in new {
        match olds.get(n.id.as_str()) {
            None => d.only_new += 1,
            Some(o) => {
                seen += 1;
                *d.matrix
                    .entry(o.grade.clone())
                    .or_default()
                    .entry(n.grade.clone())
                    .or_default() += 1;
                if o.grade != n.grade || o.reasons != n.reasons || o.score != n.score {
                    d.changed.push(((*o).clone(), n.clone()));
                }
            }
        }
    }
    d.only_old = old.len() - seen;
    d
}

/// Renders a diff for a terminal or a file.
pub fn render_diff(d: &Diff, limit: usize) -> String {
    let mut s = String::new();
    let grades: Vec<String> = {
        let mut g: Vec<String> = d.matrix.keys().cloned().collect();
        for m in d.matrix.values() {
            g.extend(m.keys().cloned());
        }
        g.sort();
        g.dedup();
        g
    };
    let regraded = d.changed.iter().filter(|(o, n)| o.grade != n.grade).count();
    s.push_str(&format!(
        "{regraded} institution(s) change grade; {} more keep their grade but change score or reasons\n\n",
        d.changed.len() - regraded
    ));
    s.push_str("Transitions (rows: old grade, columns: new grade)\n");
    let mut cols = vec!["old \\ new".to_string()];
    cols.extend(grades.iter().cloned());
    let rows: Vec<Vec<String>> = grades
        .iter()
        .map(|o| {
            let mut r = vec![o.clone()];
            for n in &grades {
                r.push(
                    d.matrix
                        .get(o)
                        .and_then(|m| m.get(n))
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                );
            }
            r
        })
        .collect();
    s.push_str(&crate::script::output::table(&cols, &rows));
    s.push('\n');
    if !d.changed.is_empty() {
        s.push_str("\nChanged institutions (grade changes first)\n");
        let mut v: Vec<&(Decision, Decision)> = d.changed.iter().collect();
        v.sort_by_key(|(o, n)| (o.grade == n.grade, o.id.clone()));
        let cols: Vec<String> = [
            "id",
            "name",
            "grade",
            "score",
            "reasons lost",
            "reasons gained",
        ]
        .map(String::from)
        .into();
        let rows: Vec<Vec<String>> = v
            .iter()
            .take(limit)
            .map(|(o, n)| {
                let lost: Vec<&str> = o
                    .reasons
                    .iter()
                    .filter(|r| !n.reasons.contains(r))
                    .map(|s| s.as_str())
                    .collect();
                let gained: Vec<&str> = n
                    .reasons
                    .iter()
                    .filter(|r| !o.reasons.contains(r))
                    .map(|s| s.as_str())
                    .collect();
                vec![
                    n.id.clone(),
                    n.name.clone(),
                    format!("{} → {}", o.grade, n.grade),
                    format!("{} → {}", fmt_score(o.score), fmt_score(n.score)),
                    lost.join("；"),
                    gained.join("；"),
                ]
            })
            .collect();
        s.push_str(&crate::script::output::table(&cols, &rows));
        s.push('\n');
        if v.len() > limit {
            s.push_str(&format!(
                "… {} more not shown (--limit N)\n",
                v.len() - limit
            ));
        }
    }
    if d.only_new + d.only_old > 0 {
        s.push_str(&format!(
            "{} institution(s) only in the new result, {} only in the old\n",
            d.only_new, d.only_old
        ));
    }
    s
}

/// A diff for programs and files: the transitions (old grade, new grade,
/// count) and every changed institution, old and new side by side.
pub fn diff_sheets(d: &Diff) -> Vec<crate::sheet::Sheet> {
    use crate::sheet::{Cell, Sheet};
    let mut t = Sheet::new("transitions", &["old_grade", "new_grade", "institutions"]);
    for (o, m) in &d.matrix {
        for (n, count) in m {
            t.rows.push(vec![
                Cell::from(o.as_str()),
                Cell::from(n.as_str()),
                Cell::Int(*count as i64),
            ]);
        }
    }
    let mut c = Sheet::new(
        "changed",
        &[
            "id",
            "name",
            "old_grade",
            "new_grade",
            "old_score",
            "new_score",
            "reasons_lost",
            "reasons_gained",
        ],
    );
    let mut v: Vec<&(Decision, Decision)> = d.changed.iter().collect();
    v.sort_by_key(|(o, n)| (o.grade == n.grade, o.id.clone()));
    for (o, n) in v {
        let not_in = |a: &[String], b: &[String]| {
            a.iter()
                .filter(|r| !b.contains(r))
                .cloned()
                .collect::<Vec<_>>()
                .join("；")
        };
        c.rows.push(vec![
            Cell::from(n.id.as_str()),
            Cell::from(n.name.as_str()),
            Cell::from(o.grade.as_str()),
            Cell::from(n.grade.as_str()),
            Cell::Num(o.score),
            Cell::Num(n.score),
            Cell::from(not_in(&o.reasons, &n.reasons)),
            Cell::from(not_in(&n.reasons, &o.reasons)),
        ]);
    }
    vec![t, c]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, score: f64, grade: &str, reasons: &[&str]) -> Decision {
        Decision {
            id: id.into(),
            name: id.into(),
            district: "天河".into(),
            score,
            grade: grade.into(),
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn diff_counts_transitions_and_lists_changed_reasons() {
        let old = vec![d("A1", 95.0, "A", &[]), d("A2", 80.0, "B", &["-20 无证"])];
        let new = vec![
            d("A1", 95.0, "A", &[]),
            d("A2", 50.0, "D", &["-20 无证", "-30 逾期"]),
        ];
        let x = diff(&old, &new);
        assert_eq!(x.changed.len(), 1);
        assert_eq!(x.matrix["B"]["D"], 1);
        assert_eq!(x.matrix["A"]["A"], 1);
        let text = render_diff(&x, 10);
        assert!(
            text.contains("B → D") && text.contains("-30 逾期"),
            "{text}"
        );
    }
}
