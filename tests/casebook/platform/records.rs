//! Applications and course filings as the bureau keeps them: imported from
//! its Chinese spreadsheets, read back by scripts as of a date, shown in the
//! register, and decided by scripts with `--write`, audited and final.

use serde_json::Value;

use super::{exported, jsonl};

use crate::common::*;

/// A ledger with the three institutions, four applications and three courses, all imported from Chinese files.
fn platform() -> Ws {
    let ws = Ws::init();
    let f = ws.write("机构.csv", INSTITUTIONS_ZH);
    ws.import("institutions", &f);
    let f = ws.write("申请.csv", APPLICATIONS_ZH);
    ws.import("applications", &f);
    let f = ws.write("课程.csv", COURSES_ZH);
    ws.import("courses", &f);
    ws
}

/// Every kind the ledger holds, exported in both formats.
fn everything(ws: &Ws) -> String {
    let mut s = ws.snapshot();
    for kind in ["applications", "courses"] {
        for format in ["csv", "jsonl"] {
            s.push_str(&format!("== {kind} {format}\n"));
            s.push_str(&ws.export(kind, format));
        }
    }
    s
}

/// Runs a script (written into the workspace) and returns the run.
fn run_script(ws: &Ws, name: &str, src: &str, args: &[&str]) -> Run {
    let f = ws.write(name, src);
    let mut a = vec!["run", f.as_str(), "--format", "jsonl"];
    a.extend_from_slice(args);
    ws.run(&a)
}

fn one_row(r: Run) -> Value {
    let rows = jsonl(&r.stdout);
    assert_eq!(rows.len(), 1, "{}", r.stdout);
    rows.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------
// Import and export

#[test]
fn applications_and_courses_import_from_chinese_headers_and_values() {
    let ws = platform();
    let apps = exported(&ws, "applications");
    assert_eq!(apps.len(), 4);
    let a = &apps["A-1"];
    assert_eq!(a["institution_id"], "P-03");
    assert_eq!(a["status"], "rejected");
    assert_eq!(a["fire_approved"], "false");
    assert_eq!(a["decided_on"], "2018-06-20");
    assert_eq!(a["decision_reason"], "场地面积不足；消防验收未通过");
    assert_eq!(apps["A-2"]["status"], "approved");
    assert_eq!(apps["A-2"]["licence_no"], "教民14401060001号");
    assert_eq!(apps["A-2"]["licence_expires"], "2019-02-28");
    assert_eq!(apps["A-3"]["status"], "submitted");
    assert_eq!(apps["A-3"]["site_area_m2"], "260");

    let courses = exported(&ws, "courses");
    assert_eq!(courses.len(), 3);
    let k = &courses["K-2"];
    assert_eq!(k["subject_type"], "non_subject");
    assert_eq!(k["mode"], "offline");
    assert_eq!(k["fee_total"], "2880.50");
    assert_eq!(k["daily_end_time"], "20:45");
    assert_eq!(k["status"], "filed");
    assert_eq!(courses["K-1"]["mode"], "online");
    assert_eq!(courses["K-1"]["status"], "filed", "待审核 is filed too");
    assert_eq!(courses["K-3"]["status"], "accepted");

    // Re-importing the same files changes nothing; the export imports back as it is.
    let before = everything(&ws);
    let r = ws.import("applications", "申请.csv");
    assert!(
        r.stdout.contains("0 new, 0 updated, 4 unchanged"),
        "{}",
        r.stdout
    );
    for kind in ["applications", "courses"] {
        let f = ws.write(&format!("{kind}-export.csv"), ws.export(kind, "csv"));
        let r = ws.import(kind, &f);
        assert!(r.stdout.contains("0 new, 0 updated"), "{}", r.stdout);
        let f = ws.write(&format!("{kind}-export.jsonl"), ws.export(kind, "jsonl"));
        ws.import(kind, &f);
    }
    assert_eq!(everything(&ws), before);
}

#[test]
fn a_gb18030_course_file_imports() {
    let ws = platform();
    let text = "课程编号,机构编号,课程名称,科目,课程类别,年级,授课方式,课时,收费总额,预收月数,开课日期,结课日期,每日结束时间,备案日期,备案状态\n\
                K-9,P-02,少儿书法基础班,书法,非学科类,小学低年级,线下,20,1600,2,2019-03-02,2019-05-01,18:30,2019-02-12,已备案\n";
    let (bytes, _, bad) = encoding_rs::GB18030.encode(text);
    assert!(!bad);
    let f = ws.write("gbk.csv", bytes);
    ws.import("courses", &f);
    let k = &exported(&ws, "courses")["K-9"];
    assert_eq!(k["name"], "少儿书法基础班");
    assert_eq!(k["daily_end_time"], "18:30");
    // With a BOM, UTF-8.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.replace("K-9", "K-10").as_bytes());
    let f = ws.write("bom.csv", bom);
    ws.import("courses", &f);
    assert!(exported(&ws, "courses").contains_key("K-10"));
}

#[test]
fn every_bad_application_row_is_reported_with_its_line_and_nothing_is_written() {
    let ws = platform();
    let before = everything(&ws);
    let audit = ws.audit_len();
    let f = ws.write(
        "bad-apps.csv",
        "申请编号,机构编号,申请日期,场地面积,消防验收,教师数,持证教师数,审批状态,审批日期,审批意见,办学许可证号,许可证有效期至\n\
         A-10,P-02,2019-01-05,300,是,4,4,待审批,,,,\n\
         A-11,P-02,2019-01-05,300,是,4,4,已批准,2019-01-20,,,2022-01-19\n\
         A-12,NOBODY,2019-01-05,300,是,4,4,待审批,,,,\n\
         A-13,P-02,2019-01-05,0,也许,4,5,已驳回,2019-01-01,,,\n\
         A-14,P-02,2019-02-30,300,是,4,4,待定,,,,\n",
    );
    let r = ws.run(&["import", "applications", &f]).code(1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let e = r.stderr;
    for want in [
        "bad-apps.csv:3: licence_no: is required for an approved application",
        "bad-apps.csv:4: institution_id = \"NOBODY\": no institution with this id in the ledger",
        "bad-apps.csv:5: site_area_m2 = \"0\": must be a positive area",
        "bad-apps.csv:5: fire_approved = \"也许\"",
        "bad-apps.csv:5: qualified_teachers = \"5\": is more than teachers (4)",
        "bad-apps.csv:5: decided_on = \"2019-01-01\": is before submitted_on 2019-01-05",
        "bad-apps.csv:5: decision_reason: a rejection needs its reasons",
        "bad-apps.csv:6: submitted_on = \"2019-02-30\": is not a real calendar date",
        "bad-apps.csv:6: status = \"待定\"",
        "in 4 of 5 rows of bad-apps.csv; nothing was written",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    assert!(!e.contains("bad-apps.csv:2:"), "line 2 is good:\n{e}");
    assert_eq!(everything(&ws), before);
    assert_eq!(ws.audit_len(), audit);
}

#[test]
fn every_bad_course_row_is_reported_with_its_line_and_nothing_is_written() {
    let ws = platform();
    let before = everything(&ws);
    let audit = ws.audit_len();
    let f = ws.write(
        "bad-courses.csv",
        "课程编号,机构编号,课程名称,科目,课程类别,年级,授课方式,课时,收费总额,预收月数,开课日期,结课日期,每日结束时间,备案日期,备案状态,审核意见\n\
         K-20,P-02,好课,美术,非学科类,不限,线下,10,800,1,2019-03-01,2019-04-30,20:00,2019-02-01,已备案,\n\
         K-21,P-02,晚课,美术,非学科类,不限,线下,10,800,1,2019-03-01,2019-04-30,24:00,2019-02-01,已备案,\n\
         K-22,P-02,乱课,美术,非学科类,不限,线下,10,800,1,2019-03-01,2019-04-30,八点半,2019-02-01,已备案,\n\
         K-23,P-02,倒课,美术,非学科类,不限,线下,10,800,1,2019-05-01,2019-04-30,20:00,2019-02-01,已备案,\n\
         K-24,P-02,零课,美术,非学科类,不限,线下,0,0,1,2019-03-01,2019-04-30,20:00,2019-02-01,已备案,\n\
         K-25,P-02,负课,美术,非学科类,不限,线下,-4,-800,-1,2019-03-01,2019-04-30,20:00,2019-02-01,已备案,\n\
         K-26,NOBODY,无主课,美术,非学科类,不限,线下,10,800,1,2019-03-01,2019-04-30,20:00,2019-02-01,已备案,\n\
         K-27,P-02,怪课,美术,艺术类,不限,面授,10,800,1,2019-03-01,2019-04-30,20:00,2019-02-01,已驳回,\n",
    );
    let r = ws.run(&["import", "courses", &f]).code(1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let e = r.stderr;
    for want in [
        "bad-courses.csv:3: daily_end_time = \"24:00\": \"24:00\" is not a real time of day",
        "bad-courses.csv:4: daily_end_time = \"八点半\": is not a time of day: write it as HH:MM",
        "bad-courses.csv:5: ends_on = \"2019-04-30\": is before starts_on 2019-05-01",
        "bad-courses.csv:6: class_hours = \"0\": must be a positive number of class hours",
        "bad-courses.csv:6: fee_total = \"0\": must be a positive amount in yuan",
        "bad-courses.csv:7: class_hours = \"-4\"",
        "bad-courses.csv:7: fee_total = \"-800\"",
        "bad-courses.csv:7: prepay_months = \"-1\": must not be negative",
        "bad-courses.csv:8: institution_id = \"NOBODY\": no institution with this id in the ledger",
        "bad-courses.csv:9: subject_type = \"艺术类\"",
        "bad-courses.csv:9: mode = \"面授\"",
        "bad-courses.csv:9: decision_reason: a rejection needs its reasons",
        "in 7 of 8 rows of bad-courses.csv; nothing was written",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    assert!(!e.contains("bad-courses.csv:2:"), "line 2 is good:\n{e}");
    assert_eq!(everything(&ws), before);
    assert_eq!(ws.audit_len(), audit);
    // --dry-run of a good file validates and writes nothing either.
    let f = ws.write(
        "good.csv",
        "id,institution_id,name,subject_type,mode,class_hours,fee_total,starts_on,ends_on,daily_end_time,filed_on,status\n\
         K-30,P-02,好课,non_subject,offline,10,800,2019-03-01,2019-04-30,20:00,2019-02-01,filed\n",
    );
    ws.run(&["import", "courses", &f, "--dry-run"]).ok();
    assert_eq!(everything(&ws), before);
}

// ---------------------------------------------------------------------------
// The register and the script API

#[test]
fn show_lists_applications_and_courses_in_date_order() {
    let ws = platform();
    let out = ws
        .run(&["show", "--format", "table", "P-01", "--as-of", "2019-02-20"])
        .ok()
        .stdout;
    let at = |s: &str| {
        out.find(s)
            .unwrap_or_else(|| panic!("{s} not shown:\n{out}"))
    };
    // A-2 (2016) before A-4 (2019); then the course.
    assert!(at("A-2") < at("A-4"), "{out}");
    assert!(at("A-4") < at("K-1"), "{out}");
    assert!(
        out.contains("教民14401060001号") && out.contains("初中数学培优班"),
        "{out}"
    );
    let out = ws.run(&["show", "--format", "table", "P-03"]).ok().stdout;
    assert!(
        out.contains("A-1") && out.contains("场地面积不足") && out.contains("K-3"),
        "{out}"
    );
    // Several courses of one institution, filed out of order, come in date order.
    let f = ws.write(
        "more.csv",
        "id,institution_id,name,subject_type,mode,class_hours,fee_total,starts_on,ends_on,daily_end_time,filed_on,status\n\
         K-LATE,P-02,后备案的课,non_subject,offline,10,800,2019-03-01,2019-04-30,20:00,2019-02-15,filed\n\
         K-EARLY,P-02,先备案的课,non_subject,offline,10,800,2019-03-01,2019-04-30,20:00,2019-01-03,filed\n",
    );
    ws.import("courses", &f);
    let out = ws.run(&["show", "--format", "table", "P-02"]).ok().stdout;
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s}:\n{out}"));
    assert!(
        at("K-EARLY") < at("K-2") && at("K-2") < at("K-LATE"),
        "{out}"
    );
}

#[test]
fn every_property_of_applications_and_courses_reads_back_as_of_the_date() {
    let ws = platform();
    let script = r#"
        let i = institution(args.inst);
        for a in i.applications() {
            if a.id != args.app { continue; }
            emit(#{id: a.id, institution_id: a.institution_id, submitted_on: a.submitted_on,
                   site_area_m2: a.site_area_m2, fire_approved: a.fire_approved, teachers: a.teachers,
                   qualified_teachers: a.qualified_teachers, status: a.status, decided_on: a.decided_on,
                   decision_reason: a.decision_reason, licence_no: a.licence_no,
                   licence_expires: a.licence_expires, all: applications().len()});
        }
    "#;
    let a = one_row(
        run_script(
            &ws,
            "app.rhai",
            script,
            &[
                "--as-of",
                "2018-07-01",
                "--arg",
                "inst=P-03",
                "--arg",
                "app=A-1",
            ],
        )
        .ok(),
    );
    assert_eq!(a["institution_id"], "P-03");
    assert_eq!(a["submitted_on"], "2018-06-01");
    assert_eq!(a["site_area_m2"], 120.0);
    assert_eq!(a["fire_approved"], false);
    assert_eq!(
        (a["teachers"].clone(), a["qualified_teachers"].clone()),
        (3.into(), 2.into())
    );
    assert_eq!(a["status"], "rejected");
    assert_eq!(a["decided_on"], "2018-06-20");
    assert_eq!(a["decision_reason"], "场地面积不足；消防验收未通过");
    assert_eq!(a["licence_no"], Value::Null);
    assert_eq!(
        a["all"], 2,
        "A-2 (2016) and A-1 (2018) were submitted by then"
    );
    // Before its decision day the decision has not happened yet.
    let a = one_row(
        run_script(
            &ws,
            "app.rhai",
            script,
            &[
                "--as-of",
                "2016-02-15",
                "--arg",
                "inst=P-01",
                "--arg",
                "app=A-2",
            ],
        )
        .ok(),
    );
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["decided_on"], Value::Null);
    assert_eq!(a["licence_no"], Value::Null);
    assert_eq!(a["decision_reason"], "");
    assert_eq!(a["all"], 1);
    let a = one_row(
        run_script(
            &ws,
            "app.rhai",
            script,
            &[
                "--as-of",
                "2016-03-01",
                "--arg",
                "inst=P-01",
                "--arg",
                "app=A-2",
            ],
        )
        .ok(),
    );
    assert_eq!(a["status"], "approved");
    assert_eq!(a["licence_no"], "教民14401060001号");
    assert_eq!(a["licence_expires"], "2019-02-28");

    let script = r#"
        for c in institution("P-02").courses() {
            emit(#{id: c.id, institution_id: c.institution_id, name: c.name, subject: c.subject,
                   subject_type: c.subject_type, grade: c.grade, mode: c.mode, class_hours: c.class_hours,
                   fee_total: c.fee_total, prepay_months: c.prepay_months, starts_on: c.starts_on,
                   ends_on: c.ends_on, daily_end_time: c.daily_end_time, end_minutes: c.end_minutes,
                   filed_on: c.filed_on, status: c.status, decision_reason: c.decision_reason,
                   all: courses().len()});
        }
    "#;
    let c = one_row(run_script(&ws, "course.rhai", script, &["--as-of", "2019-02-20"]).ok());
    assert_eq!(c["id"], "K-2");
    assert_eq!(c["name"], "少儿美术启蒙班");
    assert_eq!(c["subject"], "美术");
    assert_eq!(c["subject_type"], "non_subject");
    assert_eq!(c["grade"], "4-6岁");
    assert_eq!(c["mode"], "offline");
    assert_eq!(c["class_hours"], 36);
    assert_eq!(c["fee_total"], 2880.5);
    assert_eq!(c["prepay_months"], 3);
    assert_eq!(
        (c["starts_on"].clone(), c["ends_on"].clone()),
        ("2019-03-01".into(), "2019-05-31".into())
    );
    assert_eq!(c["daily_end_time"], "20:45");
    assert_eq!(c["end_minutes"], 20 * 60 + 45);
    assert_eq!(c["filed_on"], "2019-02-10");
    assert_eq!(c["status"], "filed");
    assert_eq!(c["decision_reason"], "");
    assert_eq!(c["all"], 3);
    // A course is seen from the day it was filed.
    let r = run_script(&ws, "course.rhai", script, &["--as-of", "2019-02-09"]).ok();
    assert!(jsonl(&r.stdout).is_empty(), "{}", r.stdout);
}

// ---------------------------------------------------------------------------
// Decisions with --write

#[test]
fn decisions_without_write_are_refused_and_change_nothing() {
    let ws = platform();
    let before = everything(&ws);
    for call in [
        r#"approve("A-3", "教民144010520190001号", as_of() + 1095);"#,
        r#"reject("A-3", ["消防验收未通过"]);"#,
        r#"accept_course("K-1");"#,
        r#"reject_course("K-1", "下课太晚");"#,
    ] {
        let r = run_script(&ws, "d.rhai", call, &["--as-of", "2019-02-20"]).code(1);
        assert!(
            r.stderr.contains("run with --write"),
            "{call}: {}",
            r.stderr
        );
    }
    assert_eq!(everything(&ws), before);
}

#[test]
fn approve_gives_the_institution_its_licence_from_the_as_of_date() {
    let ws = platform();
    let audit = ws.audit_len();
    let r = run_script(
        &ws,
        "approve.rhai",
        r#"approve("A-3", "教民144010520190001号", add_months(as_of(), 36) - 1);"#,
        &["--as-of", "2019-02-20", "--write", "--operator", "审批科"],
    )
    .ok();
    assert!(
        r.stderr.contains("application A-3: approved"),
        "{}",
        r.stderr
    );
    let a = &exported(&ws, "applications")["A-3"];
    assert_eq!(a["status"], "approved");
    assert_eq!(a["decided_on"], "2019-02-20");
    assert_eq!(a["licence_no"], "教民144010520190001号");
    assert_eq!(a["licence_expires"], "2022-02-19");
    let i = &exported(&ws, "institutions")["P-02"];
    assert_eq!(i["licence_no"], "教民144010520190001号");
    assert_eq!(i["licence_issued"], "2019-02-20");
    assert_eq!(i["licence_expires"], "2022-02-19");
    let licensed = |d: &str| {
        one_row(
            run_script(
                &ws,
                "l.rhai",
                r#"emit(#{licensed: institution("P-02").licensed, status: applications().filter(|a| a.id == "A-3")[0].status});"#,
                &["--as-of", d],
            )
            .ok(),
        )
    };
    assert_eq!(licensed("2019-02-19")["licensed"], false);
    assert_eq!(licensed("2019-02-19")["status"], "submitted");
    assert_eq!(licensed("2019-02-20")["licensed"], true);
    assert_eq!(licensed("2019-02-20")["status"], "approved");
    assert_eq!(licensed("2022-02-19")["licensed"], true);
    assert_eq!(licensed("2022-02-20")["licensed"], false);
    // Audited: who, which script, what changed.
    assert_eq!(ws.audit_len(), audit + 1);
    let last = ws.run(&["audit", "--last", "1"]).ok().stdout;
    assert!(
        last.contains("\"operator\":\"审批科\"")
            && last.contains("approve.rhai")
            && last.contains("script_sha256\":\""),
        "{last}"
    );
    let n = last_entry(&last);
    let entry = ws.run(&["audit", "--entry", &n]).ok().stdout;
    assert!(
        entry.contains(r#""kind":"application","id":"A-3""#)
            && entry.contains(r#""kind":"institution","id":"P-02""#),
        "{entry}"
    );
    assert!(
        entry.contains("licence 教民144010520190001号 issued 2019-02-20"),
        "{entry}"
    );
    // The register shows it.
    let out = ws
        .run(&["show", "--format", "table", "P-02", "--as-of", "2019-02-20"])
        .ok()
        .stdout;
    assert!(out.contains("教民144010520190001号"), "{out}");
}

#[test]
fn a_decided_application_cannot_be_decided_again() {
    let ws = platform();
    let approve = r#"approve("A-3", "教民144010520190001号", as_of() + 1095);"#;
    run_script(
        &ws,
        "a.rhai",
        approve,
        &["--as-of", "2019-02-20", "--write"],
    )
    .ok();
    let before = everything(&ws);
    let audit = ws.audit_len();
    // Approving twice: in a later run, and twice in one run.
    let r = run_script(
        &ws,
        "a.rhai",
        approve,
        &["--as-of", "2019-02-21", "--write"],
    )
    .code(1);
    assert!(
        r.stderr
            .contains("application A-3 is approved already (decided 2019-02-20)"),
        "{}",
        r.stderr
    );
    let r = run_script(
        &ws,
        "twice.rhai",
        r#"approve("A-4", "教民14401060001号", as_of() + 1095); approve("A-4", "教民14401060001号", as_of() + 1095);"#,
        &["--as-of", "2019-02-20", "--write"],
    )
    .code(1);
    assert!(
        r.stderr
            .contains("application A-4 was already decided in this run"),
        "{}",
        r.stderr
    );
    let r = run_script(
        &ws,
        "both.rhai",
        r#"approve("A-4", "教民14401060001号", as_of() + 1095); reject("A-4", "不符合条件");"#,
        &["--as-of", "2019-02-20", "--write"],
    )
    .code(1);
    assert!(
        r.stderr.contains("A-4 was already decided in this run"),
        "{}",
        r.stderr
    );
    // Rejecting a decided one names its status.
    for (id, status) in [
        ("A-3", "approved"),
        ("A-1", "rejected"),
        ("A-2", "approved"),
    ] {
        let r = run_script(
            &ws,
            "r.rhai",
            &format!(r#"reject("{id}", "不符合条件");"#),
            &["--as-of", "2019-02-21", "--write"],
        )
        .code(1);
        assert!(
            r.stderr
                .contains(&format!("application {id} is {status} already")),
            "{}",
            r.stderr
        );
    }
    // Unknown ids, missing reasons, an expiry in the past.
    for (call, want) in [
        (
            r#"approve("NOPE", "x", as_of() + 10);"#,
            "no application with id \"NOPE\"",
        ),
        (r#"reject("A-4", []);"#, "give the reasons"),
        (r#"approve("A-4", "教民1", as_of());"#, "must expire after"),
        (
            r#"reject_course("NOPE", "x");"#,
            "no course with id \"NOPE\"",
        ),
    ] {
        let r = run_script(&ws, "u.rhai", call, &["--as-of", "2019-02-21", "--write"]).code(1);
        assert!(r.stderr.contains(want), "{call}: {}", r.stderr);
    }
    assert_eq!(everything(&ws), before, "a refused run writes nothing");
    assert_eq!(ws.audit_len(), audit);
}

#[test]
fn course_decisions_are_final_audited_and_never_touch_the_institution() {
    let ws = platform();
    let institutions = ws.export("institutions", "csv");
    let audit = ws.audit_len();
    let r = run_script(
        &ws,
        "c.rhai",
        r#"reject_course("K-2", ["下课时间 20:45 晚于 20:30", "预收费超过 5,000 元"]); accept_course("K-1");"#,
        &["--as-of", "2019-02-20", "--write"],
    )
    .ok();
    assert!(r.stderr.contains("course K-2: rejected"), "{}", r.stderr);
    let c = exported(&ws, "courses");
    assert_eq!(c["K-2"]["status"], "rejected");
    assert_eq!(
        c["K-2"]["decision_reason"],
        "下课时间 20:45 晚于 20:30；预收费超过 5,000 元"
    );
    assert_eq!(c["K-1"]["status"], "accepted");
    assert_eq!(
        ws.export("institutions", "csv"),
        institutions,
        "a course decision never changes the institution"
    );
    assert_eq!(ws.audit_len(), audit + 1);
    let n = ws.run(&["audit", "--last", "1"]).ok().stdout;
    let n = last_entry(&n);
    let entry = ws.run(&["audit", "--entry", &n]).ok().stdout;
    assert!(
        entry.contains(r#""kind":"course","id":"K-2""#)
            && entry.contains(r#""kind":"course","id":"K-1""#),
        "{entry}"
    );
    assert!(!entry.contains("institution"), "{entry}");
    // Decided is final: the error names the status.
    let before = everything(&ws);
    let audit = ws.audit_len();
    for (call, want) in [
        (r#"accept_course("K-2");"#, "course K-2 is rejected already"),
        (
            r#"reject_course("K-1", "x");"#,
            "course K-1 is accepted already",
        ),
        (
            r#"reject_course("K-3", "x");"#,
            "course K-3 is accepted already",
        ),
        (r#"accept_course("K-9");"#, "no course with id \"K-9\""),
    ] {
        let r = run_script(
            &ws,
            "again.rhai",
            call,
            &["--as-of", "2019-02-21", "--write"],
        )
        .code(1);
        assert!(r.stderr.contains(want), "{call}: {}", r.stderr);
    }
    assert_eq!(everything(&ws), before);
    assert_eq!(ws.audit_len(), audit);
    let f = ws.write(
        "one.csv",
        "id,institution_id,name,subject_type,mode,class_hours,fee_total,starts_on,ends_on,daily_end_time,filed_on,status\n\
         K-5,P-02,好课,non_subject,offline,10,800,2019-03-01,2019-04-30,20:00,2019-02-01,filed\n",
    );
    ws.import("courses", &f);
    let before = everything(&ws);
    let r = run_script(
        &ws,
        "twice.rhai",
        r#"accept_course("K-5"); reject_course("K-5", "x");"#,
        &["--as-of", "2019-02-21", "--write"],
    )
    .code(1);
    assert!(
        r.stderr
            .contains("course K-5 was already decided in this run"),
        "{}",
        r.stderr
    );
    assert_eq!(everything(&ws), before);
    assert_eq!(exported(&ws, "courses")["K-5"]["status"], "filed");
}

// ---------------------------------------------------------------------------
// Bugs found on the way (in files other engineers own)

#[test]
fn a_time_typed_with_a_full_width_colon_imports() {
    let ws = platform();
    let f = ws.write(
        "fw.csv",
        "课程编号,机构编号,课程名称,课程类别,授课方式,课时,收费总额,开课日期,结课日期,每日结束时间,备案日期,备案状态\n\
         K-9,P-02,少儿书法基础班,非学科类,线下,20,1600,2019-03-02,2019-05-01,18：30,2019-02-12,已备案\n",
    );
    ws.import("courses", &f);
    assert_eq!(exported(&ws, "courses")["K-9"]["daily_end_time"], "18:30");
}

#[test]
fn check_knows_the_properties_of_applications_and_courses() {
    let ws = Ws::new();
    let f = ws.write(
        "c.rhai",
        "for c in courses() { if c.mode == \"online\" && c.end_minutes > 1260 { emit(#{id: c.id}); } }\n",
    );
    let r = ws.run(&["check", &f]).ok();
    assert!(r.stderr.contains("0 warning(s)"), "{}", r.stderr);
}

#[test]
fn an_application_leads_to_its_institution() {
    let ws = platform();
    let r = run_script(
        &ws,
        "i.rhai",
        r#"for a in applications() { emit(#{id: a.id, name: a.institution().name}); }"#,
        &["--as-of", "2019-02-20"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("明德数学培训学校"), "{}", r.stdout);
}

#[test]
fn a_renewal_leaves_the_earlier_licence_in_the_history() {
    let ws = platform();
    // P-01 holds 教民14401060001号 from 2016-03-01 to 2019-02-28; A-4 is its renewal.
    run_script(
        &ws,
        "renew.rhai",
        r#"approve("A-4", "教民14401060001号", add_months(as_of(), 36) - 1);"#,
        &["--as-of", "2019-02-20", "--write"],
    )
    .ok();
    let r = one_row(
        run_script(
            &ws,
            "l.rhai",
            r#"let i = institution("P-01"); emit(#{licensed: i.licensed, issued: i.licence_issued});"#,
            &["--as-of", "2018-06-01"],
        )
        .ok(),
    );
    assert_eq!(r["licensed"], true, "P-01 was licensed on 2018-06-01: {r}");
    assert_eq!(r["issued"], "2016-03-01");
}
