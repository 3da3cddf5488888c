//! Black and white lists (issue 5 item 4) and rule tests (item 7):
//! `scripts/blacklist.rhai` and `scripts/whitelist.rhai` keeping their lists in
//! sync with `--write` (idempotent on the same day, dynamic as institutions
//! rectify), `casebook lists` / `lists show NAME --as-of D [--history]`, and
//! `casebook test` on the shipped scripts and on failing tests of its own.
//!
//! Every ledger is imported from CSV written here; the real binary is driven.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{institutions_csv, jsonl, script, sha256_file, Run, Ws};

pub(super) const AS_OF: &str = "2019-02-20";

/// As of 2019-02-20:
/// - B1 unlicensed subject-type, operating → black list (criterion 1)
/// - B2 licensed, a severity-3 finding overdue since 2019-02-01 → black list (criterion 2)
/// - B3 closed itself but still has 40 students → black list (criterion 3)
/// - B4 closed with no students → neither
/// - B5 unlicensed, with an overdue severity-3 finding, but under rectification → neither
/// - W1 non-subject, W3 licensed subject-type: clean, fire approved → white list (with a grade)
/// - W2 licensed, clean now, but a finding closed out late in 2018-10 → not white
/// - W4 non-subject without fire approval → not white
const INSTITUTIONS: &str = "\
id,name,district,category,licence_no,licence_issued,licence_expires,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date
B1,无证数学,天河,subject,,,,60,3,3,200,0,true,operating,2018-01-01
B2,启明英语,海珠,subject,教民2,2018-01-01,2021-12-31,80,4,4,300,0,true,operating,2018-01-01
B3,关门作文,番禺,subject,,,,40,2,2,120,0,false,self_closed,2018-09-01
B4,已停物理,白云,subject,,,,0,0,0,100,0,false,closed,2018-09-01
B5,整改化学,越秀,subject,,,,30,2,2,100,0,true,rectifying,2019-01-15
W1,小画家美术,天河,non_subject,,,,30,2,2,100,0,true,operating,2018-01-01
W2,晚归编程,海珠,subject,教民7,2018-01-01,2021-12-31,50,3,3,200,0,true,operating,2018-01-01
W3,星辰语文,番禺,subject,教民8,2018-01-01,2021-12-31,90,5,5,400,0,true,operating,2018-01-01
W4,跳跳舞蹈,天河,non_subject,,,,20,2,2,150,0,false,operating,2018-01-01
";

const FINDINGS: &str = "\
id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note
FB2,B2,fire_hazard,3,2019-01-02,2019-02-01,,,安全出口堵塞
FB5,B5,fire_hazard,3,2018-12-01,2019-01-01,,,消防隐患
FW2,W2,late_hours,1,2018-09-01,2018-10-01,2018-10-15,2018-10-20,晚上九点后上课
";

pub(super) fn city() -> Ws {
    let ws = Ws::init();
    let f = ws.write("institutions.csv", INSTITUTIONS);
    ws.import("institutions", &f);
    let f = ws.write("findings.csv", FINDINGS);
    ws.import("findings", &f);
    ws
}

/// Runs a sample list script; returns its rows.
#[track_caller]
pub(super) fn sync(ws: &Ws, name: &str, as_of: &str, write: bool) -> Vec<Value> {
    let path = script(name);
    let mut args = vec![
        "--operator",
        "李科员",
        "run",
        &path,
        "--as-of",
        as_of,
        "--format",
        "jsonl",
    ];
    if write {
        args.push("--write");
    }
    let r = ws.run(&args).ok();
    jsonl(&r.stdout)
}

/// (id, action, applied) of each row.
fn changes(rows: &[Value]) -> Vec<(String, String, bool)> {
    rows.iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
                r["applied"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn ch(id: &str, action: &str, applied: bool) -> (String, String, bool) {
    (id.to_string(), action.to_string(), applied)
}

/// The table rows of `text` as maps from column to cell.
fn table_maps(text: &str) -> Vec<BTreeMap<String, String>> {
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with('│'))
        .map(|l| {
            l.trim_matches('│')
                .split('┆')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    let Some((head, body)) = rows.split_first() else {
        return Vec::new();
    };
    body.iter()
        .map(|r| head.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

/// `casebook lists show NAME --as-of D [--history]`: (first line, rows).
#[track_caller]
fn list_show(
    ws: &Ws,
    name: &str,
    as_of: &str,
    history: bool,
) -> (String, Vec<BTreeMap<String, String>>) {
    let mut args = vec!["lists", "show", "--format", "table", name, "--as-of", as_of];
    if history {
        args.push("--history");
    }
    let out = ws.run(&args).ok().stdout;
    let first = out.lines().next().unwrap_or("").to_string();
    (first, table_maps(&out))
}

fn ids(rows: &[BTreeMap<String, String>]) -> Vec<&str> {
    rows.iter().map(|r| r["id"].as_str()).collect()
}

// ---- blacklist.rhai

#[test]
fn without_write_the_blacklist_script_previews_and_changes_nothing() {
    let ws = city();
    let before = ws.audit_len();
    let rows = sync(&ws, "blacklist.rhai", AS_OF, false);
    assert_eq!(
        changes(&rows),
        [
            ch("B1", "add", false),
            ch("B2", "add", false),
            ch("B3", "add", false)
        ]
    );
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["id", "name", "district", "action", "reason", "applied"]
    );
    assert_eq!(rows[0]["name"], "无证数学");
    assert_eq!(rows[0]["district"], "天河");
    assert_eq!(ws.audit_len(), before, "nothing written");
    ws.run(&["lists"]).ok().stdout_has(&["no lists yet"]);
}

#[test]
fn the_blacklist_gets_the_right_institutions_with_their_reasons() {
    let ws = city();
    let rows = sync(&ws, "blacklist.rhai", AS_OF, true);
    assert_eq!(
        changes(&rows),
        [
            ch("B1", "add", true),
            ch("B2", "add", true),
            ch("B3", "add", true)
        ]
    );
    let reason = |id: &str| {
        rows.iter().find(|r| r["id"] == id).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason("B1").contains("学科类无证仍在经营") && reason("B1").contains("unlicensed"));
    assert!(
        reason("B2").contains("FB2") && reason("B2").contains("overdue 19 days"),
        "{}",
        reason("B2")
    );
    assert!(
        reason("B3").contains("still enrolling 40 students"),
        "{}",
        reason("B3")
    );

    let (first, on) = list_show(&ws, "blacklist", AS_OF, false);
    assert_eq!(first, "blacklist as of 2019-02-20: 3 on the list");
    assert_eq!(ids(&on), ["B1", "B2", "B3"]);
    let sha: String = sha256_file(script("blacklist.rhai"))
        .chars()
        .take(12)
        .collect();
    for r in &on {
        assert_eq!(r["since"], AS_OF);
        assert_eq!(r["until"], "");
        assert_eq!(r["operator"], "李科员");
        assert!(r["decided by"].contains("blacklist.rhai"), "{r:?}");
        assert!(r["decided by"].contains(&sha), "the script's hash: {r:?}");
        assert_eq!(r["reason"], reason(&r["id"]));
    }
    ws.run(&["lists"])
        .ok()
        .stdout_has(&["blacklist: 3 on the list today, 3 entries in its history"]);
}

#[test]
fn a_rerun_on_the_same_day_changes_nothing() {
    let ws = city();
    let first = ws
        .run(&[
            "run",
            &script("blacklist.rhai"),
            "--as-of",
            AS_OF,
            "--write",
            "--format",
            "jsonl",
        ])
        .ok();
    assert!(
        first.stderr.contains("committed 3 change(s)"),
        "{}",
        first.stderr
    );
    let audit = ws.audit_len();
    let before = list_show(&ws, "blacklist", AS_OF, true);
    let again = ws
        .run(&[
            "run",
            &script("blacklist.rhai"),
            "--as-of",
            AS_OF,
            "--write",
            "--format",
            "jsonl",
        ])
        .ok();
    assert_eq!(again.stdout, "", "no rows: nothing to change");
    assert!(!again.stderr.contains("committed"), "{}", again.stderr);
    assert_eq!(ws.audit_len(), audit, "no audit entry");
    assert_eq!(list_show(&ws, "blacklist", AS_OF, true), before);
    // A preview agrees.
    assert!(sync(&ws, "blacklist.rhai", AS_OF, false).is_empty());
}

#[test]
fn after_rectification_a_later_run_takes_it_off_and_history_remembers() {
    let ws = city();
    sync(&ws, "blacklist.rhai", AS_OF, true);
    // B2 reports the fire exit cleared on 03-01; the bureau verifies (销号) on 03-05.
    let fixed = ws.write(
        "fixed.csv",
        "id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         FB2,B2,fire_hazard,3,2019-01-02,2019-02-01,2019-03-01,2019-03-05,安全出口堵塞\n",
    );
    ws.import("findings", &fixed);
    // Before the close-out it still qualifies: no change.
    assert!(sync(&ws, "blacklist.rhai", "2019-03-04", true).is_empty());
    let rows = sync(&ws, "blacklist.rhai", "2019-03-10", true);
    assert_eq!(changes(&rows), [ch("B2", "remove", true)]);
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no longer meets"),
        "{}",
        rows[0]
    );
    assert!(sync(&ws, "blacklist.rhai", "2019-03-10", true).is_empty());

    // Who was blacklisted on a past date.
    let (first, on) = list_show(&ws, "blacklist", "2019-03-01", false);
    assert_eq!(first, "blacklist as of 2019-03-01: 3 on the list");
    assert_eq!(ids(&on), ["B1", "B2", "B3"]);
    let (_, on) = list_show(&ws, "blacklist", "2019-03-10", false);
    assert_eq!(ids(&on), ["B1", "B3"]);
    let (first, on) = list_show(&ws, "blacklist", "2019-02-19", false);
    assert_eq!(first, "blacklist as of 2019-02-19: 0 on the list");
    assert!(on.is_empty());
    let (first, all) = list_show(&ws, "blacklist", "2019-03-10", true);
    assert_eq!(
        first,
        "blacklist as of 2019-03-10: 3 entries (with history)"
    );
    let b2 = all.iter().find(|r| r["id"] == "B2").unwrap();
    assert_eq!(b2["since"], AS_OF);
    assert_eq!(b2["until"], "2019-03-10");
    ws.run(&["lists"])
        .ok()
        .stdout_has(&["blacklist: 2 on the list today, 3 entries in its history"]);
    // The register of B2 shows the entry too.
    ws.run(&["show", "--format", "table", "B2", "--as-of", "2019-03-10"])
        .ok()
        .stdout_has(&["blacklist"]);
}

#[test]
fn an_institution_that_relapses_goes_back_on_as_a_new_entry() {
    let ws = city();
    sync(&ws, "blacklist.rhai", AS_OF, true);
    let fixed = ws.write(
        "fixed.csv",
        "id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         FB2,B2,fire_hazard,3,2019-01-02,2019-02-01,2019-03-01,2019-03-05,安全出口堵塞\n\
         FB2b,B2,secret_exam,3,2019-04-01,2019-04-15,,,密考\n",
    );
    ws.import("findings", &fixed);
    assert_eq!(
        changes(&sync(&ws, "blacklist.rhai", "2019-03-10", true)),
        [ch("B2", "remove", true)]
    );
    let rows = sync(&ws, "blacklist.rhai", "2019-05-01", true);
    assert_eq!(changes(&rows), [ch("B2", "add", true)]);
    assert!(rows[0]["reason"].as_str().unwrap().contains("FB2b"));
    let (_, all) = list_show(&ws, "blacklist", "2019-05-01", true);
    let b2: Vec<(&str, &str)> = all
        .iter()
        .filter(|r| r["id"] == "B2")
        .map(|r| (r["since"].as_str(), r["until"].as_str()))
        .collect();
    assert_eq!(b2, [(AS_OF, "2019-03-10"), ("2019-05-01", "")]);
    let (_, on) = list_show(&ws, "blacklist", "2019-04-01", false);
    assert_eq!(
        ids(&on),
        ["B1", "B3"],
        "off the list between the two entries"
    );
}

#[test]
fn an_institution_under_rectification_comes_off_the_blacklist() {
    let ws = Ws::init();
    // B5 operated unlicensed until it went into rectification on 2019-01-15.
    let f = ws.write(
        "a.csv",
        "id,name,district,category,students,fire_approved,status,status_date\n\
         B5,整改化学,越秀,subject,30,true,operating,2018-01-01\n",
    );
    ws.import("institutions", &f);
    assert_eq!(
        changes(&sync(&ws, "blacklist.rhai", "2019-01-10", true)),
        [ch("B5", "add", true)]
    );
    let f = ws.write(
        "b.csv",
        "id,name,district,category,students,fire_approved,status,status_date\n\
         B5,整改化学,越秀,subject,30,true,rectifying,2019-01-15\n",
    );
    ws.import("institutions", &f);
    let rows = sync(&ws, "blacklist.rhai", "2019-01-15", true);
    assert_eq!(changes(&rows), [ch("B5", "remove", true)]);
    assert!(rows[0]["reason"]
        .as_str()
        .unwrap()
        .contains("under rectification"));
}

// ---- whitelist.rhai

#[test]
fn without_a_saved_credit_run_nobody_is_white_listed_and_it_says_so() {
    let ws = city();
    let r = ws
        .run(&[
            "run",
            &script("whitelist.rhai"),
            "--as-of",
            AS_OF,
            "--write",
            "--format",
            "jsonl",
        ])
        .ok();
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("no saved credit run"), "{}", r.stderr);
    ws.run(&["lists"]).ok().stdout_has(&["no lists yet"]);
}

#[test]
fn the_whitelist_gets_the_clean_graded_institutions_and_stays_in_sync() {
    let ws = city();
    ws.run(&[
        "score",
        &script("credit_score.rhai"),
        "--as-of",
        AS_OF,
        "--save",
    ])
    .ok();
    let preview = sync(&ws, "whitelist.rhai", AS_OF, false);
    assert_eq!(
        changes(&preview),
        [ch("W1", "add", false), ch("W3", "add", false)]
    );
    let rows = sync(&ws, "whitelist.rhai", AS_OF, true);
    assert_eq!(
        changes(&rows),
        [ch("W1", "add", true), ch("W3", "add", true)]
    );
    assert!(rows[0]["reason"]
        .as_str()
        .unwrap()
        .contains("credit grade A"));
    assert!(
        sync(&ws, "whitelist.rhai", AS_OF, true).is_empty(),
        "idempotent"
    );

    // The two lists never share an institution.
    sync(&ws, "blacklist.rhai", AS_OF, true);
    let (_, white) = list_show(&ws, "whitelist", AS_OF, false);
    let (_, black) = list_show(&ws, "blacklist", AS_OF, false);
    assert_eq!(ids(&white), ["W1", "W3"]);
    assert!(ids(&black).iter().all(|b| !ids(&white).contains(b)));

    // W3 gets a minor finding: off the white list (not onto the black one).
    let f = ws.write(
        "new.csv",
        "id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         FW3,W3,false_advertising,1,2019-03-01,2019-03-31,,,虚假宣传\n",
    );
    ws.import("findings", &f);
    let rows = sync(&ws, "whitelist.rhai", "2019-03-05", true);
    assert_eq!(changes(&rows), [ch("W3", "remove", true)]);
    let why = rows[0]["reason"].as_str().unwrap();
    assert!(
        why.contains("no longer qualifies") && why.contains("FW3"),
        "{why}"
    );
    assert!(sync(&ws, "blacklist.rhai", "2019-03-05", true).is_empty());
    let (_, white) = list_show(&ws, "whitelist", "2019-03-05", false);
    assert_eq!(ids(&white), ["W1"]);
    let (_, white) = list_show(&ws, "whitelist", "2019-03-04", false);
    assert_eq!(ids(&white), ["W1", "W3"]);
}

#[test]
fn the_whitelist_follows_the_latest_saved_grade() {
    let ws = city();
    // A run that grades W3 D: W3 stays off.
    let harsh = ws.write(
        "harsh.rhai",
        "fn score(i) { if i.id == \"W3\" { 10 - deduct(0, \"试用 / trial\") } else { 100 } }\n",
    );
    ws.run(&["score", &harsh, "--as-of", "2019-02-01", "--save"])
        .ok();
    assert_eq!(
        changes(&sync(&ws, "whitelist.rhai", AS_OF, true)),
        [ch("W1", "add", true)]
    );
    // A later run grades it A: on it goes.
    ws.run(&[
        "score",
        &script("credit_score.rhai"),
        "--as-of",
        AS_OF,
        "--save",
    ])
    .ok();
    assert_eq!(
        changes(&sync(&ws, "whitelist.rhai", AS_OF, true)),
        [ch("W3", "add", true)]
    );
}

// ---- casebook lists

#[test]
fn lists_names_every_list_with_its_counts() {
    let ws = city();
    ws.run(&["lists"]).ok().stdout_has(&["no lists yet"]);
    ws.run(&[
        "score",
        &script("credit_score.rhai"),
        "--as-of",
        AS_OF,
        "--save",
    ])
    .ok();
    sync(&ws, "whitelist.rhai", AS_OF, true);
    sync(&ws, "blacklist.rhai", AS_OF, true);
    let out = ws.run(&["lists"]).ok().stdout;
    assert_eq!(
        out,
        "blacklist: 3 on the list today, 3 entries in its history\n\
         whitelist: 2 on the list today, 2 entries in its history\n"
    );
}

// ---- casebook test

#[test]
fn the_shipped_scripts_pass_their_own_tests() {
    let o = assert_cmd::Command::cargo_bin("casebook")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CASEBOOK_DB")
        .args(["test", "scripts"])
        .output()
        .unwrap();
    let r = Run {
        code: o.status.code().unwrap(),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    }
    .ok();
    let last = r.stdout.lines().last().unwrap();
    let (passed, failed) = last
        .split_once(" passed, ")
        .unwrap_or_else(|| panic!("no summary: {last}"));
    assert_eq!(failed, "0 failed", "{}", r.stdout);
    let passed: usize = passed.parse().unwrap();
    assert!(passed >= 40, "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("ok   ")).count(),
        passed
    );
    // Every sample rule ships tests.
    for name in [
        "credit_score.rhai",
        "blacklist.rhai",
        "whitelist.rhai",
        "overdue.rhai",
        "weekly_report.rhai",
        "monthly_report.rhai",
    ] {
        let n = r
            .stdout
            .lines()
            .filter(|l| l.starts_with(&format!("ok   scripts/{name}::test_")))
            .count();
        assert!(n >= 4, "{name} has {n} tests:\n{}", r.stdout);
    }
}

#[test]
fn a_failing_test_exits_1_and_names_file_and_line() {
    let ws = Ws::new();
    ws.write(
        "rule.rhai",
        "fn score(i) { if i.licensed { 100 } else { 80 } }\n\
         fn test_unlicensed() {\n\
         \x20   let i = fixture_institution(#{id: \"T1\", category: \"subject\"});\n\
         \x20   assert_eq(score(i), 80);\n\
         }\n\
         fn test_wrong() {\n\
         \x20   let i = fixture_institution(#{id: \"T2\"});\n\
         \x20   assert_eq(score(i), 100, \"licensed\");\n\
         }\n\
         fn helper_not_a_test() { assert(false); }\n",
    );
    let r = ws.run(&["test", "."]).code(1);
    let out = &r.stdout;
    assert!(out.contains("ok   ./rule.rhai::test_unlicensed"), "{out}");
    assert!(out.contains("FAIL ./rule.rhai::test_wrong"), "{out}");
    assert!(out.contains("rule.rhai:8:"), "the failing line: {out}");
    assert!(
        out.contains("assert_eq(score(i), 100, \"licensed\");"),
        "{out}"
    );
    assert!(out.contains("got 80, want 100"), "{out}");
    assert!(
        !out.contains("helper_not_a_test"),
        "only test_ functions run: {out}"
    );
    assert_eq!(out.lines().last().unwrap(), "1 passed, 1 failed");
}

#[test]
fn a_failure_inside_a_helper_names_the_helper_s_line() {
    let ws = Ws::new();
    ws.write(
        "rule.rhai",
        "fn check(x) {\n    assert(x > 1, \"x is big\");\n}\nfn test_small() {\n    check(0);\n}\n",
    );
    let r = ws.run(&["test", "rule.rhai"]).code(1);
    assert!(
        r.stdout.contains("assertion failed: x is big"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("rule.rhai:2:"), "{}", r.stdout);
    assert!(
        r.stdout.contains("rule.rhai:5"),
        "called from: {}",
        r.stdout
    );
    assert!(r.stdout.ends_with("0 passed, 1 failed\n"), "{}", r.stdout);
}

#[test]
fn a_script_that_does_not_compile_is_a_failure() {
    let ws = Ws::new();
    ws.write("good.rhai", "fn test_ok() { assert(true); }\n");
    ws.write("broken.rhai", "fn test_x() {\n    let = 1;\n}\n");
    let r = ws.run(&["test", "."]).code(1);
    assert!(
        r.stdout.contains("FAIL ./broken.rhai::(compile)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("broken.rhai:2:"), "{}", r.stdout);
    assert!(
        r.stdout.contains("ok   ./good.rhai::test_ok"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("1 passed, 1 failed\n"), "{}", r.stdout);
}

#[test]
fn each_test_has_a_scratch_ledger_of_its_own_and_the_real_one_is_untouched() {
    let ws = city();
    let before = ws.snapshot();
    let audit = ws.audit_len();
    ws.write(
        "t.rhai",
        "fn test_a() {\n\
         \x20   fixture_institution(#{id: \"B1\", name: \"fixture\"});\n\
         \x20   assert_eq(institutions().len(), 1);\n\
         \x20   assert_eq(institution(\"B1\").name, \"fixture\");\n\
         }\n\
         fn test_b() {\n\
         \x20   assert_eq(institutions().len(), 0);\n\
         \x20   assert_eq(institution(\"B1\"), ());\n\
         }\n\
         fn test_dates() {\n\
         \x20   assert_eq(as_of(), date(\"2019-02-20\"));\n\
         \x20   set_as_of(date(\"2019-03-01\"));\n\
         \x20   assert_eq(as_of(), date(\"2019-03-01\"));\n\
         }\n",
    );
    let r = ws.run(&["test", "t.rhai"]).ok();
    assert!(r.stdout.ends_with("3 passed, 0 failed\n"), "{}", r.stdout);
    assert_eq!(ws.snapshot(), before);
    assert_eq!(ws.audit_len(), audit);
}

#[test]
fn filter_runs_only_matching_tests_and_as_of_sets_the_start_date() {
    let ws = Ws::new();
    ws.write(
        "t.rhai",
        "fn test_one() { assert_eq(as_of(), date(\"2020-01-01\")); }\n\
         fn test_two() { assert(false); }\n",
    );
    let r = ws
        .run(&["test", "t.rhai", "--filter", "one", "--as-of", "2020-01-01"])
        .ok();
    assert_eq!(r.stdout.lines().last().unwrap(), "1 passed, 0 failed");
    assert!(!r.stdout.contains("test_two"), "{}", r.stdout);
}

#[test]
fn writes_in_a_test_are_refused_like_any_run_without_write() {
    let ws = Ws::new();
    ws.write(
        "t.rhai",
        "fn test_write() {\n\
         \x20   let i = fixture_institution(#{id: \"T1\"});\n\
         \x20   list_add(\"blacklist\", i.id, \"x\");\n\
         }\n",
    );
    let r = ws.run(&["test", "t.rhai"]).code(1);
    assert!(r.stdout.contains("--write"), "{}", r.stdout);
    assert!(r.stdout.contains("t.rhai:3:"), "{}", r.stdout);
}

#[test]
fn a_directory_without_scripts_is_an_error() {
    let ws = Ws::new();
    std::fs::create_dir(ws.path().join("empty")).unwrap();
    ws.run(&["test", "empty"])
        .code(1)
        .stderr_has(&["no .rhai scripts"]);
}

// ---- rough edges found while writing these tests (expected behaviour; fails today)

#[test]
fn check_knows_the_test_helpers() {
    let ws = Ws::new();
    ws.write(
        "t.rhai",
        "fn test_x() {\n\
         \x20   let i = fixture_institution(#{id: \"T1\"});\n\
         \x20   let f = fixture_finding(#{institution_id: i.id});\n\
         \x20   let n = fixture_inspection(#{institution_id: i.id});\n\
         \x20   assert_eq(f.institution_id, n.institution_id);\n\
         }\n",
    );
    ws.run(&["check", "t.rhai"])
        .ok()
        .stderr_has(&["0 error(s), 0 warning(s)"]);
    // And the shipped scripts.
    let files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".rhai"))
        .collect();
    let mut args = vec!["check"];
    args.extend(files.iter().map(|s| s.as_str()));
    ws.run(&args).ok().stderr_has(&[" 0 warning(s)"]);
}

#[test]
fn check_fails_on_an_unknown_function_called_as_a_statement() {
    let ws = Ws::new();
    ws.write("t.rhai", "emit_row(#{a: 1});\n");
    ws.run(&["check", "t.rhai"])
        .code(1)
        .stderr_has(&["emit_row", "1 error(s)"]);
}

#[test]
#[ignore = "bug: a record returned by fixture_institution does not see fixtures added after it (its snapshot is the one it was made in): score(i) misses a finding added with fixture_finding; expected the current fixture ledger, or a documented need to re-fetch with institution(id)"]
fn a_fixture_record_sees_later_fixtures() {
    let ws = Ws::new();
    ws.write(
        "t.rhai",
        "fn test_x() {\n\
         \x20   let i = fixture_institution(#{id: \"T1\"});\n\
         \x20   fixture_finding(#{institution_id: \"T1\"});\n\
         \x20   assert_eq(i.findings().len(), 1);\n\
         }\n",
    );
    ws.run(&["test", "t.rhai"]).ok();
}

#[test]
fn tests_run_in_source_order() {
    let ws = Ws::new();
    let names: Vec<String> = (0..12)
        .map(|n| format!("test_{}", (b'a' + n) as char))
        .collect();
    let src: String = names
        .iter()
        .map(|n| format!("fn {n}() {{ assert(true); }}\n"))
        .collect();
    ws.write("t.rhai", src);
    let r = ws.run(&["test", "t.rhai"]).ok();
    let got: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok   t.rhai::"))
        .collect();
    assert_eq!(got, names);
}

#[test]
fn inst_lists_is_fast_in_a_loop() {
    let ws = Ws::init();
    let f = ws.write("many.csv", institutions_csv("X", 3000, "non_subject"));
    ws.import("institutions", &f);
    let add = ws.write(
        "add.rhai",
        "for i in institutions() { list_add(\"whitelist\", i.id, \"x\"); }\n",
    );
    ws.run(&["run", &add, "--as-of", AS_OF, "--write"]).ok();
    let q = ws.write(
        "q.rhai",
        "let n = 0;\nfor i in institutions() { if i.lists().contains(\"whitelist\") { n += 1; } }\nn\n",
    );
    ws.run(&["run", &q, "--as-of", AS_OF, "--timeout", "5"])
        .ok()
        .stdout_has(&["3000"]);
}

#[test]
fn debug_output_names_the_script_file() {
    let ws = Ws::init();
    let f = ws.write("note.rhai", "debug(\"提示 / note\");\n");
    ws.run(&["run", &f])
        .ok()
        .stderr_has(&["note.rhai:1: 提示 / note"]);
}

#[test]
fn list_history_shows_why_an_entry_ended() {
    let ws = city();
    sync(&ws, "blacklist.rhai", AS_OF, true);
    let fixed = ws.write(
        "fixed.csv",
        "id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         FB2,B2,fire_hazard,3,2019-01-02,2019-02-01,2019-03-01,2019-03-05,安全出口堵塞\n",
    );
    ws.import("findings", &fixed);
    sync(&ws, "blacklist.rhai", "2019-03-10", true);
    let out = ws
        .run(&[
            "lists",
            "show",
            "blacklist",
            "--as-of",
            "2019-03-10",
            "--history",
        ])
        .ok()
        .stdout;
    assert!(out.contains("no longer meets"), "{out}");
}

#[test]
fn list_add_of_a_listed_institution_is_unchanged() {
    let ws = city();
    sync(&ws, "blacklist.rhai", AS_OF, true);
    let f = ws.write(
        "again.rhai",
        "let x = 1;\nlist_add(\"blacklist\", \"B1\", \"again\");\n",
    );
    // The second night's run of a rule: not an error, counted.
    ws.run(&["run", &f, "--as-of", AS_OF, "--write"])
        .ok()
        .stderr_has(&["committed 0 change(s), 1 unchanged (already so)"]);
}
