//! Scripts that change the ledger (SPEC §5): only with `--write`, effective on
//! the run's as-of date, all or nothing, audited with the script's SHA-256,
//! and refused with an error naming the field when the change is wrong.
//!
//! Every test builds a small ledger from CSV files and drives the real binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::common::{casebook_on, parse_jsonl, sha256_file, LedgerDir, Ws};

/// A ledger in a temporary directory, driven through the `casebook` binary.
struct Fixture {
    dir: TempDir,
    db: PathBuf,
}

impl Fixture {
    /// Two institutions; F1 open, F2 rectified but not closed out, F3 closed.
    fn city() -> Fixture {
        let Ws { dir, db } = Ws::new();
        let f = Fixture { dir, db };
        f.cmd().arg("init").assert().success();
        f.import(
            "institutions",
            "id,name,district,category,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date\n\
             A1,甲培训学校,天河,subject,100,10,8,400,0,true,operating,2018-01-01\n\
             A2,乙艺术工作室,海珠,non_subject,20,2,2,80,0,false,operating,2018-01-01\n",
        );
        f.import(
            "findings",
            "id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
             F1,A1,fire_hazard,2,2019-01-10,2019-02-10,,,通道堵塞\n\
             F2,A1,false_advertising,1,2019-01-10,2019-02-10,2019-02-01,,虚假宣传\n\
             F3,A2,late_hours,1,2019-01-10,2019-02-10,2019-01-20,2019-01-25,超时培训\n",
        );
        f
    }

    fn run_file(&self, p: &PathBuf, as_of: &str, write: bool) -> Output {
        let mut c = self.cmd();
        c.arg("run")
            .arg(p)
            .args(["--as-of", as_of, "--format", "jsonl"]);
        if write {
            c.arg("--write");
        }
        c.output().unwrap()
    }

    fn run(&self, src: &str, as_of: &str, write: bool) -> Output {
        let p = self.script(src);
        self.run_file(&p, as_of, write)
    }

    /// Runs with `--write`; the run must succeed. Returns stdout.
    fn write_ok(&self, src: &str, as_of: &str) -> String {
        let out = self.run(src, as_of, true);
        assert!(
            out.status.success(),
            "script failed:\n{src}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs (with `--write` if asked); the run must fail with exit 1. Returns stderr.
    fn fails(&self, src: &str, as_of: &str, write: bool) -> String {
        let out = self.run(src, as_of, write);
        assert_eq!(
            out.status.code(),
            Some(1),
            "expected exit 1:\n{src}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// The one row a read-only script emits.
    fn row(&self, src: &str, as_of: &str) -> Value {
        let out = self.run(src, as_of, false);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = parse_jsonl(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.into_iter().next().unwrap()
    }

    fn export(&self, kind: &str) -> String {
        let out = self.cmd().args(["export", kind]).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    /// Everything a write could have touched, to compare before and after.
    fn state(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.export("institutions"),
            self.export("findings"),
            self.export("inspections"),
            self.audit_text()
        )
    }

    fn audit_text(&self) -> String {
        let out = self
            .cmd()
            .args(["audit", "--last", "1000"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    /// Audit entries as JSON (piped, one JSON line each).
    fn audit(&self) -> Vec<Value> {
        self.audit_text()
            .lines()
            .map(|j| serde_json::from_str(j).unwrap())
            .collect()
    }
}

impl LedgerDir for Fixture {
    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Command {
        casebook_on(&self.db, "王科长")
    }
}

const FINDING_ROW: &str = r#"
let f = findings().filter(|f| f.id == args.id);
if f.is_empty() { emit(#{id: args.id, seen: false}); } else {
    let f = f[0];
    emit(#{id: f.id, seen: true, status: f.status, rectified_on: f.rectified_on,
           verified_on: f.verified_on});
}
"#;

impl Fixture {
    fn finding(&self, id: &str, as_of: &str) -> Value {
        let p = self.script(FINDING_ROW);
        let out = self
            .cmd()
            .arg("run")
            .arg(&p)
            .args(["--as-of", as_of, "--format", "jsonl", "--arg"])
            .arg(format!("id={id}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_jsonl(&String::from_utf8(out.stdout).unwrap()).remove(0)
    }
}

// ------------------------------------------------------------ no --write

#[test]
fn without_write_every_write_function_fails_and_changes_nothing() {
    let f = Fixture::city();
    let before = f.state();
    for (name, call) in [
        ("set_status", r#"set_status("A1", "closed", "无证办学")"#),
        (
            "open_finding",
            r#"open_finding(#{institution_id: "A1", kind: "other", severity: 1, deadline: as_of() + 10})"#,
        ),
        ("rectify", r#"rectify("F1")"#),
        ("close_out", r#"close_out("F2")"#),
        ("list_add", r#"list_add("blacklist", "A1", "无证办学")"#),
        (
            "list_remove",
            r#"list_remove("blacklist", "A1", "整改完成")"#,
        ),
    ] {
        let src = format!("emit(#{{before: 1}});\n{call};\nemit(#{{after: 1}});\n");
        let err = f.fails(&src, "2019-02-20", false);
        assert!(err.contains("--write"), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(":2:"), "{name} names the line: {err}");
        assert_eq!(
            f.state(),
            before,
            "{name} changed the ledger without --write"
        );
    }
    assert_eq!(
        f.row(r#"emit(#{n: on_list("blacklist").len()});"#, "2019-02-20"),
        json!({"n": 0})
    );
}

// -------------------------------------------------------------- --write

#[test]
fn with_write_changes_take_effect_on_the_as_of_date_and_are_audited() {
    let f = Fixture::city();
    let src = r#"// 2019-02-20 周例行处理
let id = open_finding(#{institution_id: "A2", kind: "fire_hazard", severity: 2,
                        deadline: as_of() + 15, note: "灭火器过期"});
rectify("F1");
close_out("F2");
set_status("A1", "rectifying", "责令限期整改");
list_add("blacklist", "A2", "消防隐患");
emit(#{new_finding: id});
"#;
    let p = f.script(src);
    let out = f.run_file(&p, "2019-02-20", true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = parse_jsonl(&String::from_utf8(out.stdout).unwrap());
    let new_id = rows[0]["new_finding"].as_str().unwrap().to_string();
    assert_eq!(new_id, "F20190220-0001");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("committed 5 change(s)"), "{stderr}");

    // The day before, nothing has happened yet.
    assert_eq!(
        f.finding(&new_id, "2019-02-19"),
        json!({"id": new_id, "seen": false})
    );
    assert_eq!(
        f.finding("F1", "2019-02-19"),
        json!({"id": "F1", "seen": true, "status": "open", "rectified_on": null, "verified_on": null})
    );
    assert_eq!(
        f.finding("F2", "2019-02-19"),
        json!({"id": "F2", "seen": true, "status": "rectified", "rectified_on": "2019-02-01", "verified_on": null})
    );
    let inst = r#"emit(#{status: institution("A1").status, black: on_list("blacklist")});"#;
    assert_eq!(
        f.row(inst, "2019-02-19"),
        json!({"status": "operating", "black": []})
    );

    // On the as-of date, everything has.
    assert_eq!(
        f.finding(&new_id, "2019-02-20"),
        json!({"id": new_id, "seen": true, "status": "open", "rectified_on": null, "verified_on": null})
    );
    assert_eq!(
        f.finding("F1", "2019-02-20"),
        json!({"id": "F1", "seen": true, "status": "rectified", "rectified_on": "2019-02-20", "verified_on": null})
    );
    assert_eq!(
        f.finding("F2", "2019-02-20"),
        json!({"id": "F2", "seen": true, "status": "closed", "rectified_on": "2019-02-01", "verified_on": "2019-02-20"})
    );
    assert_eq!(
        f.row(inst, "2019-02-20"),
        json!({"status": "rectifying", "black": ["A2"]})
    );
    let reason = f.row(
        r#"let h = institution("A1").status_history(); emit(#{r: h[h.len() - 1].reason, d: h[h.len() - 1].date});"#,
        "2019-03-01",
    );
    assert_eq!(reason, json!({"r": "责令限期整改", "d": "2019-02-20"}));

    // The new finding has what open_finding was given, with opened_on the as-of date.
    let exported = f.export("findings");
    assert!(
        exported
            .lines()
            .any(|l| l == format!("{new_id},A2,,fire_hazard,2,2019-02-20,2019-03-07,,,灭火器过期")),
        "{exported}"
    );

    // The audit log names the operator, the command and the script's SHA-256.
    let audit = f.audit();
    let last = audit.last().unwrap();
    assert_eq!(last["script_sha256"], json!(sha256_file(&p)));
    assert_eq!(last["operator"], "王科长");
    let command = last["command"].as_str().unwrap();
    assert!(command.contains("--write"), "{command}");
    assert!(command.contains("2019-02-20"), "{command}");
    assert!(
        command.contains(p.file_name().unwrap().to_str().unwrap()),
        "{command}"
    );
    // One run, one audit entry.
    assert_eq!(audit.len(), 3, "two imports and one run: {audit:?}");
}

#[test]
fn a_run_with_many_changes_lists_a_sample_and_counts_the_rest() {
    let f = Fixture::city();
    // 60 list entries: two institutions on 30 lists each.
    let src = r#"
        for n in 0..30 {
            list_add(`list${n}`, "A1", "测试");
            list_add(`list${n}`, "A2", "测试");
        }
    "#;
    let out = f.run(src, "2019-01-10", true);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("committed 60 change(s):"), "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("  ") && !l.contains("more"))
            .count(),
        50,
        "{err}"
    );
    assert!(err.contains("… and 10 more: `casebook audit`"), "{err}");
}

#[test]
fn a_run_without_writes_leaves_no_audit_entry() {
    let f = Fixture::city();
    let before = f.state();
    f.write_ok(r#"emit(#{n: findings().len()});"#, "2019-02-20");
    assert_eq!(f.state(), before);
}

#[test]
fn a_script_that_writes_and_then_fails_writes_nothing() {
    let f = Fixture::city();
    let before = f.state();
    let src = r#"
set_status("A1", "closed", "无证办学");
open_finding(#{institution_id: "A1", kind: "other", severity: 1, deadline: as_of() + 10});
rectify("F1");
close_out("F2");
list_add("blacklist", "A1", "无证办学");
let n = findings().len();
if n > 0 { throw "核对数字不符，停止"; }
"#;
    let err = f.fails(src, "2019-02-20", true);
    assert!(err.contains("核对数字不符"), "{err}");
    assert_eq!(f.state(), before);

    // The same with a runtime error rather than a throw.
    let err = f.fails(
        "set_status(\"A1\", \"closed\", \"x\");\nlet x = institution(\"A1\").students / 0;\n",
        "2019-02-20",
        true,
    );
    assert!(err.contains(":2:"), "{err}");
    assert_eq!(f.state(), before);
}

#[test]
fn open_finding_gives_ids_and_defaults_opened_on_to_the_as_of_date() {
    let f = Fixture::city();
    let out = f.write_ok(
        r#"let a = open_finding(#{institution_id: "A1", kind: "late_hours", severity: 1, deadline: date("2019-03-01")});
           let b = open_finding(#{institution_id: "A1", kind: "其他", severity: 3, deadline: "2019-03-15",
                                  opened_on: date("2019-02-18"), note: "补录"});
           let c = open_finding(#{id: "TH-2019-001", institution_id: "A2", kind: "fire_hazard",
                                  severity: 2, deadline: date("2019-03-01")});
           emit(#{a: a, b: b, c: c});"#,
        "2019-02-20",
    );
    assert_eq!(
        parse_jsonl(&out),
        vec![json!({"a": "F20190220-0001", "b": "F20190220-0002", "c": "TH-2019-001"})]
    );
    let exported = f.export("findings");
    for line in [
        "F20190220-0001,A1,,late_hours,1,2019-02-20,2019-03-01,,,",
        "F20190220-0002,A1,,other,3,2019-02-18,2019-03-15,,,补录",
        "TH-2019-001,A2,,fire_hazard,2,2019-02-20,2019-03-01,,,",
    ] {
        assert!(
            exported.lines().any(|l| l == line),
            "no {line} in\n{exported}"
        );
    }
    // A second run the same day continues the numbering.
    let out = f.write_ok(
        r#"emit(#{id: open_finding(#{institution_id: "A2", kind: "other", severity: 1, deadline: as_of() + 7})});"#,
        "2019-02-20",
    );
    assert_eq!(parse_jsonl(&out), vec![json!({"id": "F20190220-0003"})]);
}

#[test]
fn open_finding_with_a_bad_field_names_the_field_and_writes_nothing() {
    let f = Fixture::city();
    let before = f.state();
    for (map, field, why) in [
        (
            r#"#{institution_id: "A1", kind: "other", severity: 1, deadline: date("2019-02-01")}"#,
            "deadline",
            "before opened_on",
        ),
        (
            r#"#{institution_id: "NOPE", kind: "other", severity: 1, deadline: date("2019-03-01")}"#,
            "institution_id",
            "no such institution",
        ),
        (
            r#"#{institution_id: "A1", kind: "other", severity: 5, deadline: date("2019-03-01")}"#,
            "severity",
            "5",
        ),
        (
            r#"#{institution_id: "A1", kind: "bad_kind", severity: 1, deadline: date("2019-03-01")}"#,
            "kind",
            "bad_kind",
        ),
        (
            r#"#{institution_id: "A1", kind: "other", severity: 1}"#,
            "deadline",
            "",
        ),
        (
            r#"#{institution_id: "A1", kind: "other", severity: 1, deadline: date("2019-03-01"), colour: "red"}"#,
            "colour",
            "unknown field",
        ),
        (
            r#"#{id: "F1", institution_id: "A1", kind: "other", severity: 1, deadline: date("2019-03-01")}"#,
            "id",
            "exists already",
        ),
    ] {
        let src = format!("let id = open_finding({map});\n");
        let err = f.fails(&src, "2019-02-20", true);
        assert!(err.contains("open_finding"), "{map}: {err}");
        assert!(err.contains(field), "{map}: {field} not named in {err}");
        assert!(err.contains(why), "{map}: {why} not in {err}");
        assert!(err.contains(":1:"), "{map}: no location in {err}");
        assert_eq!(f.state(), before, "{map}");
    }
}

#[test]
fn open_finding_refuses_an_id_already_opened_in_the_same_run() {
    let f = Fixture::city();
    let err = f.fails(
        r#"open_finding(#{id: "FX", institution_id: "A1", kind: "other", severity: 1, deadline: date("2019-03-01")});
open_finding(#{id: "FX", institution_id: "A2", kind: "other", severity: 1, deadline: date("2019-03-01")});"#,
        "2019-02-20",
        true,
    );
    assert!(err.contains("FX"), "{err}");
    assert!(err.contains(":2:"), "{err}");
}

#[test]
fn close_out_of_a_finding_not_rectified_says_to_rectify_first() {
    let f = Fixture::city();
    let before = f.state();
    let err = f.fails(r#"close_out("F1");"#, "2019-02-20", true);
    assert!(err.contains("not rectified"), "{err}");
    assert!(err.contains(r#"rectify("F1") first"#), "{err}");
    assert_eq!(f.state(), before);
    // F2 is rectified on 2019-02-01: closing it out before that is the same mistake.
    let err = f.fails(r#"close_out("F2");"#, "2019-01-31", true);
    assert!(err.contains(r#"rectify("F2") first"#), "{err}");
    assert_eq!(f.state(), before);
}

#[test]
fn rectify_and_close_out_in_one_run() {
    let f = Fixture::city();
    f.write_ok(r#"rectify("F1"); close_out("F1");"#, "2019-02-20");
    assert_eq!(
        f.finding("F1", "2019-02-20"),
        json!({"id": "F1", "seen": true, "status": "closed", "rectified_on": "2019-02-20", "verified_on": "2019-02-20"})
    );
}

/// Repeating a decision is "unchanged": counted, never an error (it was
/// `rectify: finding F2 was already rectified`, exit 1).
#[test]
fn a_finding_rectified_or_closed_out_again_is_unchanged() {
    let f = Fixture::city();
    let before = f.state();
    for src in [r#"rectify("F2");"#, r#"close_out("F3");"#] {
        let out = f.run(src, "2019-02-20", true);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{src}: {err}");
        assert!(err.contains("committed 0 change(s), 1 unchanged"), "{err}");
    }
    assert_eq!(f.state(), before);
    // Conflicting decisions still fail.
    let err = f.fails(r#"close_out("F1");"#, "2019-02-20", true);
    assert!(err.contains("not rectified yet"), "{err}");
    let err = f.fails(r#"rectify("NOPE");"#, "2019-02-20", true);
    assert!(err.contains("no finding with id \"NOPE\""), "{err}");
    // Not yet opened on the as-of date.
    let err = f.fails(r#"rectify("F1");"#, "2019-01-09", true);
    assert!(err.contains("opened on 2019-01-10"), "{err}");
}

#[test]
fn a_finding_opened_in_a_run_can_be_rectified_in_it() {
    let f = Fixture::city();
    f.write_ok(
        r#"let id = open_finding(#{institution_id: "A1", kind: "other", severity: 1, deadline: as_of() + 1});
           rectify(id);"#,
        "2019-02-20",
    );
}

#[test]
fn set_status_checks_its_arguments() {
    let f = Fixture::city();
    let before = f.state();
    let err = f.fails(r#"set_status("A1", "停业", "x");"#, "2019-02-20", true);
    assert!(err.contains("not a status"), "{err}");
    assert!(err.contains("self_closed"), "lists the choices: {err}");
    let err = f.fails(r#"set_status("NOPE", "closed", "x");"#, "2019-02-20", true);
    assert!(err.contains("no institution with id \"NOPE\""), "{err}");
    let err = f.fails(r#"set_status("A1", "closed", "  ");"#, "2019-02-20", true);
    assert!(err.contains("reason"), "{err}");
    assert_eq!(f.state(), before);
    // Chinese status names are accepted, as in imports.
    f.write_ok(
        r#"set_status("A2", "主动关停", "举办者申请注销");"#,
        "2019-02-20",
    );
    assert_eq!(
        f.row(r#"emit(#{s: institution("A2").status});"#, "2019-02-20"),
        json!({"s": "self_closed"})
    );
}

#[test]
fn list_add_checks_its_arguments() {
    let f = Fixture::city();
    let before = f.state();
    let err = f.fails(r#"list_add("blacklist", "NOPE", "x");"#, "2019-02-20", true);
    assert!(err.contains("no institution with id \"NOPE\""), "{err}");
    let err = f.fails(r#"list_add("", "A1", "x");"#, "2019-02-20", true);
    assert!(err.contains("list needs a name"), "{err}");
    assert_eq!(f.state(), before);
}

/// Taking off an institution that is not on the list is "unchanged".
#[test]
fn list_remove_of_an_institution_not_on_the_list_is_unchanged() {
    let f = Fixture::city();
    let before = f.state();
    let out = f.run(
        r#"list_remove("blacklist", "A1", "整改完成");"#,
        "2019-02-20",
        true,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 unchanged"), "{err}");
    assert_eq!(f.state(), before);
}

/// A script's file (`publish`, or the rows of `--out`) never replaces a
/// ledger: it used to print `wrote ./casebook.redb` over the ledger itself,
/// taking its audit log with it, in a run without `--write`.
#[test]
fn a_script_cannot_write_a_file_over_the_ledger() {
    let ws = crate::common::populated();
    let before = ws.snapshot();
    let ledger = std::fs::read(&ws.db).unwrap();
    let name = ws.db.file_name().unwrap().to_str().unwrap().to_string();
    let dir = ws.db.parent().unwrap().to_str().unwrap().to_string();
    std::fs::create_dir_all(format!("{dir}/templates")).unwrap();
    std::fs::write(format!("{dir}/templates/x.html.j2"), "<p>{{ name }}</p>").unwrap();
    let s = ws.write(
        "publish.rhai",
        format!("publish(\"x.html\", \"{name}\", #{{name: \"x\"}});\n"),
    );
    let r = ws.run(&["run", &s, "--as-of", "2019-06-01", "--out", &dir]);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains("is a casebook ledger"), "{}", r.stderr);
    assert!(r.stderr.contains("publish.rhai:1:"), "{}", r.stderr);
    assert!(!r.stdout.contains("wrote"), "{}", r.stdout);
    assert_eq!(std::fs::read(&ws.db).unwrap(), ledger);
    assert_eq!(ws.snapshot(), before);
}

/// A script cannot store control characters either (a reason, a list name).
#[test]
fn a_write_with_control_characters_is_refused_at_its_call() {
    let ws = crate::common::populated();
    let before = ws.snapshot();
    let s = ws.write(
        "esc.rhai",
        "list_add(\"watch\", \"GZ-0001\", \"see \\x1b[2J\");\n",
    );
    let r = ws.run(&["run", &s, "--as-of", "2019-06-01", "--write"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("esc.rhai:1:"), "{}", r.stderr);
    assert!(r.stderr.contains("U+001B"), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    assert_eq!(ws.snapshot(), before);
}
