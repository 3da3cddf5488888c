//! The sample scripts in `scripts/` on the demo city as of its report date
//! (2019-02-20): they run without error, `casebook check` has nothing to say
//! about them, and their figures agree with each other.
//!
//! Here the demo is the point: these are the scripts staff start from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

use crate::common::{int, root, script};

const AS_OF: &str = "2019-02-20";
const PERIOD_COLUMNS: [&str; 7] = [
    "新增问题",
    "整改",
    "销号",
    "逾期",
    "关停",
    "主动关停",
    "新发证",
];

struct Demo {
    _dir: TempDir,
    db: PathBuf,
}

impl Demo {
    fn build() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.redb");
        let out = Command::cargo_bin("casebook")
            .unwrap()
            .env_remove("CASEBOOK_DB")
            .current_dir(dir.path())
            .arg("--db")
            .arg(&db)
            .arg("demo")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Demo { _dir: dir, db }
    }

    /// Runs `scripts/NAME` as of the report date; returns its rows.
    fn rows(&self, name: &str, args: &[&str]) -> Vec<Value> {
        self.rows_as_of(name, AS_OF, args)
    }

    fn rows_as_of(&self, name: &str, as_of: &str, args: &[&str]) -> Vec<Value> {
        let mut c = Command::cargo_bin("casebook").unwrap();
        c.env_remove("CASEBOOK_DB")
            .arg("--db")
            .arg(&self.db)
            .arg("run")
            .arg(script(name))
            .args(["--as-of", as_of, "--format", "jsonl"]);
        for a in args {
            c.args(["--arg", a]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Runs a script expected to fail; returns stderr.
    fn fails(&self, name: &str, args: &[&str]) -> String {
        let mut c = Command::cargo_bin("casebook").unwrap();
        c.env_remove("CASEBOOK_DB")
            .arg("--db")
            .arg(&self.db)
            .arg("run")
            .arg(script(name))
            .args(["--as-of", AS_OF]);
        for a in args {
            c.args(["--arg", a]);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap()
    }
}

const DISTRICTS: [&str; 11] = [
    "越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城",
];

/// Checks the shape every district report has and returns it by district.
fn check_report(rows: &[Value], from: &str) -> BTreeMap<String, Value> {
    assert_eq!(rows.len(), 12, "11 districts and a total: {rows:?}");
    let names: Vec<&str> = rows.iter().map(|r| r["区"].as_str().unwrap()).collect();
    assert_eq!(names[..11], DISTRICTS);
    assert_eq!(names[11], "合计");
    for r in rows {
        assert_eq!(r["周期"], format!("{from}~{AS_OF}"));
    }
    for c in PERIOD_COLUMNS {
        let sum: i64 = rows[..11].iter().map(|r| int(&r[c])).sum();
        assert_eq!(int(&rows[11][c]), sum, "total of {c}");
    }
    for r in rows {
        assert!(int(&r["主动关停"]) <= int(&r["关停"]), "{r}");
    }
    rows.iter()
        .map(|r| (r["区"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn sample_scripts_pass_check_without_warnings() {
    let dir = root().join("scripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    files.sort();
    for name in [
        "weekly_report.rhai",
        "monthly_report.rhai",
        "overdue.rhai",
        "credit_score.rhai",
    ] {
        assert!(files.contains(&dir.join(name)), "missing {name}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("casebook")
        .unwrap()
        .env_remove("CASEBOOK_DB")
        .current_dir(tmp.path())
        .arg("check")
        .args(&files)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "checked {} script(s): 0 error(s), 0 warning(s)",
            files.len()
        )),
        "{err}"
    );
}

#[test]
fn sample_scripts_start_with_a_header_that_says_how_to_run_them() {
    for name in [
        "weekly_report.rhai",
        "monthly_report.rhai",
        "overdue.rhai",
        "credit_score.rhai",
    ] {
        let text = std::fs::read_to_string(script(name)).unwrap();
        assert!(text.starts_with(&format!("// {name}")), "{name}");
        assert!(
            text.contains(&format!("casebook run scripts/{name}")),
            "{name} header shows how to run it"
        );
    }
}

#[test]
fn weekly_and_monthly_reports_add_up_and_agree() {
    let demo = Demo::build();
    let week = demo.rows("weekly_report.rhai", &[]);
    let week = check_report(&week, "2019-02-14");
    let month = demo.rows("monthly_report.rhai", &[]);
    let month = check_report(&month, "2019-02-01");
    let total = &week["合计"];
    // The demo has activity in the week before the report date.
    for c in ["新增问题", "整改", "销号", "逾期"] {
        assert!(int(&total[c]) > 0, "weekly {c} is 0: {total}");
    }
    for d in DISTRICTS.iter().chain(["合计"].iter()) {
        let (w, m) = (&week[*d], &month[*d]);
        // The week lies inside the month; overdue is as of the same day.
        for c in PERIOD_COLUMNS {
            if c == "逾期" {
                assert_eq!(w[c], m[c], "{d} {c}");
            } else {
                assert!(int(&w[c]) <= int(&m[c]), "{d} {c}: week {w} month {m}");
            }
        }
    }
    // A whole month, run on its last day.
    let january = demo.rows_as_of("monthly_report.rhai", "2019-01-31", &[]);
    assert_eq!(january[11]["周期"], "2019-01-01~2019-01-31");
    assert!(int(&january[11]["新增问题"]) > 0);
}

#[test]
fn a_report_for_one_district_is_that_district_s_row() {
    let demo = Demo::build();
    let all = check_report(&demo.rows("weekly_report.rhai", &[]), "2019-02-14");
    let one = demo.rows("weekly_report.rhai", &["district=天河"]);
    assert_eq!(one.len(), 2, "{one:?}");
    assert_eq!(one[0], all["天河"]);
    for c in PERIOD_COLUMNS {
        assert_eq!(one[1][c], one[0][c]);
    }
    let err = demo.fails("monthly_report.rhai", &["district=北京"]);
    assert!(err.contains("北京"), "{err}");
}

#[test]
fn overdue_list_is_sorted_filtered_and_matches_the_report() {
    let demo = Demo::build();
    let rows = demo.rows("overdue.rhai", &[]);
    let week = check_report(&demo.rows("weekly_report.rhai", &[]), "2019-02-14");
    assert_eq!(rows.len() as i64, int(&week["合计"]["逾期"]));
    assert!(!rows.is_empty());
    let days: Vec<i64> = rows.iter().map(|r| int(&r["逾期天数"])).collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "most overdue first");
    assert!(days.iter().all(|d| *d >= 1));
    for r in &rows {
        assert!(r["整改期限"].as_str().unwrap() < AS_OF, "{r}");
        assert!(["未整改", "已整改待核验"].contains(&r["状态"].as_str().unwrap()));
        for k in ["问题编号", "机构编号", "机构名称", "区", "问题类型"] {
            assert!(!r[k].as_str().unwrap().is_empty(), "{k} in {r}");
        }
    }
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "问题编号",
            "机构编号",
            "机构名称",
            "区",
            "问题类型",
            "严重程度",
            "整改期限",
            "逾期天数",
            "状态"
        ]
    );

    let baiyun = demo.rows("overdue.rhai", &["district=白云", "min_days=30"]);
    assert_eq!(
        baiyun.len(),
        rows.iter()
            .filter(|r| r["区"] == "白云" && int(&r["逾期天数"]) >= 30)
            .count()
    );
    assert!(baiyun.iter().all(|r| r["区"] == "白云"));
    let per_district = int(&week["白云"]["逾期"]) as usize;
    assert_eq!(
        demo.rows("overdue.rhai", &["district=白云"]).len(),
        per_district
    );

    let err = demo.fails("overdue.rhai", &["min_days=abc"]);
    assert!(err.contains("min_days"), "{err}");
}

#[test]
fn credit_scores_follow_their_deductions() {
    let demo = Demo::build();
    let rows = demo.rows("credit_score.rhai", &[]);
    assert_eq!(rows.len(), 8562, "one row per institution");
    let mut grades: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let score = int(&r["分数"]);
        let grade = r["等级"].as_str().unwrap();
        let want = match score {
            90.. => "A",
            75..=89 => "B",
            60..=74 => "C",
            _ => "D",
        };
        assert_eq!(grade, want, "{r}");
        *grades.entry(grade.to_string()).or_default() += 1;
        // The score is 100 less the deductions listed, never below 0.
        let reasons = r["扣分原因"].as_str().unwrap();
        let deducted: i64 = reasons
            .split('；')
            .filter(|s| !s.is_empty())
            .map(|s| s.rsplit('−').next().unwrap().trim().parse::<i64>().unwrap())
            .sum();
        assert_eq!(score, (100 - deducted).max(0), "{r}");
    }
    // Every grade occurs in the demo city.
    assert_eq!(grades.len(), 4, "{grades:?}");

    let d = demo.rows("credit_score.rhai", &["grade=D"]);
    assert_eq!(d.len(), grades["D"]);
    assert!(d.iter().all(|r| r["等级"] == "D"));
    let th = demo.rows("credit_score.rhai", &["grade=D", "district=天河"]);
    assert!(th.iter().all(|r| r["区"] == "天河" && r["等级"] == "D"));
    assert!(th.len() <= d.len());
    let err = demo.fails("credit_score.rhai", &["grade=E"]);
    assert!(err.contains("E"), "{err}");
}
