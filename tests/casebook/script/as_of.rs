//! What a script sees "as of" a date (SPEC §2, §5): findings appear on the
//! day they are opened, the deadline day is not yet overdue, lifecycle dates
//! read as () until they happen, licences are valid through their expiry day,
//! status follows the dated history and inspections after the date are hidden.
//!
//! Every test builds a small ledger from CSV files and drives the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::common::{casebook_on, parse_jsonl, LedgerDir, Ws};

/// A ledger in a temporary directory, driven through the `casebook` binary.
struct Fixture {
    dir: TempDir,
    db: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let Ws { dir, db } = Ws::new();
        let f = Fixture { dir, db };
        f.cmd().arg("init").assert().success();
        f
    }

    /// The fixture city: two institutions, two inspections, two findings.
    fn city() -> Fixture {
        let f = Fixture::new();
        f.import(
            "institutions",
            "id,name,district,category,licence_no,licence_issued,licence_expires,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date\n\
             A1,甲培训学校,天河,subject,L-001,2018-03-01,2019-02-28,100,10,8,400.5,250000.5,true,operating,2018-01-01\n\
             A2,乙艺术工作室,海珠,non_subject,,,,20,2,2,80,0,false,operating,2018-01-01\n",
        );
        f.import(
            "inspections",
            "id,institution_id,date,operation,departments,inspectors,note\n\
             J1,A1,2018-05-10,春季行动,education;fire,3,现场检查\n\
             J2,A1,2018-09-01,,education,1,回头看\n",
        );
        f.import(
            "findings",
            "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
             F1,A1,J1,fire_hazard,2,2018-05-10,2018-05-20,2018-05-25,2018-06-01,通道堵塞\n\
             F2,A2,,no_licence,3,2018-05-10,2018-05-20,,,无证办学\n",
        );
        f
    }

    /// Runs `src` as of `as_of` and returns its rows (JSON Lines); the run must succeed.
    fn rows(&self, src: &str, as_of: &str) -> Vec<Value> {
        let p = self.script(src);
        let out = self
            .cmd()
            .arg("run")
            .arg(&p)
            .args(["--as-of", as_of, "--format", "jsonl"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "script failed as of {as_of}:\n{src}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_jsonl(std::str::from_utf8(&out.stdout).unwrap())
    }

    /// One row: the script must emit exactly one.
    fn row(&self, src: &str, as_of: &str) -> Value {
        let mut r = self.rows(src, as_of);
        assert_eq!(r.len(), 1, "expected one row as of {as_of}, got {r:?}");
        r.remove(0)
    }
}

impl LedgerDir for Fixture {
    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Command {
        casebook_on(&self.db, "tester")
    }
}

const COUNTS: &str = r#"
emit(#{all: findings().len(), of_a1: institution("A1").findings().len(),
       ids: findings().map(|f| f.id)});
"#;

#[test]
fn a_finding_is_invisible_the_day_before_it_is_opened_and_visible_on_that_day() {
    let f = Fixture::city();
    assert_eq!(
        f.row(COUNTS, "2018-05-09"),
        json!({"all": 0, "of_a1": 0, "ids": []})
    );
    assert_eq!(
        f.row(COUNTS, "2018-05-10"),
        json!({"all": 2, "of_a1": 1, "ids": ["F1", "F2"]})
    );
}

const F2: &str = r#"
let f = findings().filter(|f| f.id == "F2")[0];
emit(#{status: f.status, overdue: f.overdue, days: f.days_overdue});
"#;

#[test]
fn the_deadline_day_itself_is_not_overdue_the_day_after_is() {
    let f = Fixture::city();
    // deadline 2018-05-20, never rectified
    assert_eq!(
        f.row(F2, "2018-05-19"),
        json!({"status": "open", "overdue": false, "days": 0})
    );
    assert_eq!(
        f.row(F2, "2018-05-20"),
        json!({"status": "open", "overdue": false, "days": 0})
    );
    assert_eq!(
        f.row(F2, "2018-05-21"),
        json!({"status": "open", "overdue": true, "days": 1})
    );
    assert_eq!(
        f.row(F2, "2018-06-19"),
        json!({"status": "open", "overdue": true, "days": 30})
    );
}

const F1: &str = r#"
let f = findings().filter(|f| f.id == "F1")[0];
emit(#{status: f.status, overdue: f.overdue, rectified_on: f.rectified_on,
       verified_on: f.verified_on, rectified_is_unit: f.rectified_on == (),
       verified_is_unit: f.verified_on == ()});
"#;

#[test]
fn a_rectified_but_unverified_finding_is_rectified_and_still_overdue() {
    let f = Fixture::city();
    // F1: deadline 2018-05-20, rectified 2018-05-25 (late), verified 2018-06-01
    assert_eq!(
        f.row(F1, "2018-05-25"),
        json!({"status": "rectified", "overdue": true, "rectified_on": "2018-05-25",
               "verified_on": null, "rectified_is_unit": false, "verified_is_unit": true})
    );
    assert_eq!(
        f.row(F1, "2018-05-31"),
        json!({"status": "rectified", "overdue": true, "rectified_on": "2018-05-25",
               "verified_on": null, "rectified_is_unit": false, "verified_is_unit": true})
    );
}

#[test]
fn a_verified_finding_is_closed_and_no_longer_overdue() {
    let f = Fixture::city();
    for d in ["2018-06-01", "2019-12-31"] {
        assert_eq!(
            f.row(F1, d),
            json!({"status": "closed", "overdue": false, "rectified_on": "2018-05-25",
                   "verified_on": "2018-06-01", "rectified_is_unit": false,
                   "verified_is_unit": false}),
            "as of {d}"
        );
    }
}

#[test]
fn lifecycle_dates_read_as_unit_before_they_happen() {
    let f = Fixture::city();
    assert_eq!(
        f.row(F1, "2018-05-24"),
        json!({"status": "open", "overdue": true, "rectified_on": null,
               "verified_on": null, "rectified_is_unit": true, "verified_is_unit": true})
    );
    // opened_on and deadline are known from the day the finding is opened.
    let r = f.row(
        r#"let f = findings().filter(|f| f.id == "F1")[0];
           emit(#{opened_on: f.opened_on, deadline: f.deadline});"#,
        "2018-05-10",
    );
    assert_eq!(
        r,
        json!({"opened_on": "2018-05-10", "deadline": "2018-05-20"})
    );
}

const LICENSED: &str = r#"
let i = institution("A1");
emit(#{licensed: i.licensed, other: institution("A2").licensed});
"#;

#[test]
fn a_licence_is_valid_from_its_issue_day_through_its_expiry_day() {
    let f = Fixture::city();
    // A1: licence L-001 issued 2018-03-01, expires 2019-02-28; A2 has none.
    for (d, want) in [
        ("2018-02-28", false),
        ("2018-03-01", true),
        ("2018-10-01", true),
        ("2019-02-28", true),
        ("2019-03-01", false),
    ] {
        assert_eq!(
            f.row(LICENSED, d),
            json!({"licensed": want, "other": false}),
            "as of {d}"
        );
    }
}

const STATUS: &str = r#"
let i = institution("A1");
emit(#{status: i.status, status_date: i.status_date,
       history: i.status_history().map(|h| `${h.date} ${h.status}`),
       reasons: i.status_history().map(|h| h.reason)});
"#;

#[test]
fn institution_status_follows_its_dated_history() {
    let f = Fixture::city();
    // Imported as operating from 2018-01-01; closed by a --write script as of 2018-07-01.
    let p = f.script(r#"set_status("A1", "closed", "无证办学，责令停办");"#);
    let out = f
        .cmd()
        .arg("run")
        .arg(&p)
        .args(["--as-of", "2018-07-01", "--write"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let before = f.row(STATUS, "2018-06-30");
    assert_eq!(before["status"], "operating");
    assert_eq!(before["status_date"], "2018-01-01");
    assert_eq!(before["history"], json!(["2018-01-01 operating"]));

    let on = f.row(STATUS, "2018-07-01");
    assert_eq!(on["status"], "closed");
    assert_eq!(on["status_date"], "2018-07-01");
    assert_eq!(
        on["history"],
        json!(["2018-01-01 operating", "2018-07-01 closed"])
    );
    assert_eq!(on["reasons"][1], "无证办学，责令停办");

    let later = f.row(STATUS, "2019-01-01");
    assert_eq!(later["status"], "closed");
    assert_eq!(later["status_date"], "2018-07-01");

    // Before the first status took effect there is none.
    let none = f.row(STATUS, "2017-12-31");
    assert_eq!(none["status"], Value::Null);
    assert_eq!(none["status_date"], Value::Null);
    assert_eq!(none["history"], json!([]));

    // The other institution is untouched.
    let other = f.row(r#"emit(#{s: institution("A2").status});"#, "2019-01-01");
    assert_eq!(other, json!({"s": "operating"}));
}

#[test]
fn a_backdated_status_change_takes_its_place_in_the_history() {
    let f = Fixture::city();
    for (src, d) in [
        (r#"set_status("A1", "closed", "停办");"#, "2018-07-01"),
        // Entered later, dated earlier: the status in force follows the dates.
        (
            r#"set_status("A1", "rectifying", "补录：责令整改");"#,
            "2018-03-01",
        ),
    ] {
        let p = f.script(src);
        let out = f
            .cmd()
            .arg("run")
            .arg(&p)
            .args(["--as-of", d, "--write"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (d, status, since) in [
        ("2018-02-28", "operating", "2018-01-01"),
        ("2018-03-01", "rectifying", "2018-03-01"),
        ("2018-06-30", "rectifying", "2018-03-01"),
        ("2018-07-01", "closed", "2018-07-01"),
    ] {
        let r = f.row(STATUS, d);
        assert_eq!(r["status"], status, "as of {d}");
        assert_eq!(r["status_date"], since, "as of {d}");
    }
    assert_eq!(
        f.row(STATUS, "2018-12-31")["history"],
        json!([
            "2018-01-01 operating",
            "2018-03-01 rectifying",
            "2018-07-01 closed"
        ])
    );
}

#[test]
fn reimporting_a_later_status_keeps_the_earlier_one_in_the_history() {
    let f = Fixture::city();
    let csv = "id,name,district,category,licence_no,licence_issued,licence_expires,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date\n\
               A1,甲培训学校,天河,subject,L-001,2018-03-01,2019-02-28,100,10,8,400.5,250000.5,true,self_closed,2018-10-01\n";
    f.import("institutions", csv);
    f.import("institutions", csv);
    assert_eq!(f.row(STATUS, "2018-09-30")["status"], "operating");
    let r = f.row(STATUS, "2018-10-01");
    assert_eq!(r["status"], "self_closed");
    assert_eq!(
        r["history"],
        json!(["2018-01-01 operating", "2018-10-01 self_closed"])
    );
}

const INSPECTIONS: &str = r#"
emit(#{all: inspections().len(), of_a1: institution("A1").inspections().len(),
       ids: inspections().map(|x| x.id),
       of_a1_ids: institution("A1").inspections().map(|x| x.id)});
"#;

#[test]
fn inspections_dated_after_the_as_of_date_are_hidden() {
    let f = Fixture::city();
    assert_eq!(
        f.row(INSPECTIONS, "2018-05-09"),
        json!({"all": 0, "of_a1": 0, "ids": [], "of_a1_ids": []})
    );
    assert_eq!(
        f.row(INSPECTIONS, "2018-08-31"),
        json!({"all": 1, "of_a1": 1, "ids": ["J1"], "of_a1_ids": ["J1"]})
    );
    assert_eq!(
        f.row(INSPECTIONS, "2018-09-01"),
        json!({"all": 2, "of_a1": 2, "ids": ["J1", "J2"], "of_a1_ids": ["J1", "J2"]})
    );
}

#[test]
fn as_of_returns_the_run_date_and_overdue_counts_follow_it() {
    let f = Fixture::city();
    let src = r#"emit(#{d: as_of(), overdue: findings().count(|f| f.overdue)});"#;
    assert_eq!(
        f.row(src, "2018-05-20"),
        json!({"d": "2018-05-20", "overdue": 0})
    );
    // F1 (rectified late, not yet verified) and F2 (never rectified)
    assert_eq!(
        f.row(src, "2018-05-28"),
        json!({"d": "2018-05-28", "overdue": 2})
    );
    // F1 closed out on 2018-06-01
    assert_eq!(
        f.row(src, "2018-06-01"),
        json!({"d": "2018-06-01", "overdue": 1})
    );
}

#[test]
fn a_finding_status_never_goes_back_as_the_date_moves_on() {
    let f = Fixture::city();
    let rank = |s: &str| match s {
        "open" => 0,
        "rectified" => 1,
        "closed" => 2,
        other => panic!("unknown status {other}"),
    };
    let mut last = -1;
    for d in [
        "2018-05-10",
        "2018-05-20",
        "2018-05-24",
        "2018-05-25",
        "2018-05-31",
        "2018-06-01",
        "2018-12-31",
    ] {
        let r = f.row(F1, d);
        let now = rank(r["status"].as_str().unwrap());
        assert!(now >= last, "status went back on {d}: {r}");
        last = now;
    }
}

#[test]
fn the_as_of_date_defaults_to_today() {
    let f = Fixture::city();
    let p = f.script(r#"emit(#{d: as_of()});"#);
    let out = f
        .cmd()
        .arg("run")
        .arg(&p)
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let today = chrono::Local::now().date_naive().to_string();
    let yesterday = (chrono::Local::now().date_naive() - chrono::Duration::days(1)).to_string();
    let got = parse_jsonl(std::str::from_utf8(&out.stdout).unwrap())[0]["d"]
        .as_str()
        .unwrap()
        .to_string();
    // Allow for a run that straddles midnight.
    assert!(got == today || got == yesterday, "as_of() was {got}");
}
