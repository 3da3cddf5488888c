//! Course decisions have a date (审核日期, issue 17): set by accept_course and
//! reject_course to the as-of date, imported and exported under both header
//! languages, read as `filed` before it, shown in the register, and counted
//! by the weekly report in the week decided.

use super::{exported, jsonl};
use crate::common::*;

/// The platform ledger of `records.rs`: three institutions, three courses.
fn platform() -> Ws {
    let ws = Ws::init();
    let f = ws.write("机构.csv", INSTITUTIONS_ZH);
    ws.import("institutions", &f);
    let f = ws.write("课程.csv", COURSES_ZH);
    ws.import("courses", &f);
    ws
}

/// K-2's status, decided_on and reason as a script sees them on `as_of`.
fn k2(ws: &Ws, as_of: &str) -> (String, String, String) {
    let f = ws.write(
        "k2.rhai",
        "for c in courses() { if c.id == \"K-2\" { emit(#{s: c.status, d: `${c.decided_on}`, r: c.decision_reason}); } }\n",
    );
    let r = ws
        .run(&["run", &f, "--as-of", as_of, "--format", "jsonl"])
        .ok();
    let row = &jsonl(&r.stdout)[0];
    (
        row["s"].as_str().unwrap().into(),
        row["d"].as_str().unwrap().into(),
        row["r"].as_str().unwrap().into(),
    )
}

#[test]
fn a_course_decision_is_dated_and_before_it_the_course_reads_filed() {
    let ws = platform();
    let f = ws.write("r.rhai", "reject_course(\"K-2\", \"下课时间晚于20:30\");\n");
    ws.run(&["run", &f, "--as-of", "2019-02-20", "--write"])
        .ok();
    assert_eq!(exported(&ws, "courses")["K-2"]["decided_on"], "2019-02-20");
    assert_eq!(
        k2(&ws, "2019-02-19"),
        ("filed".into(), "".into(), "".into()),
        "the day before the decision it is still filed"
    );
    assert_eq!(
        k2(&ws, "2019-02-20"),
        (
            "rejected".into(),
            "2019-02-20".into(),
            "下课时间晚于20:30".into()
        )
    );
    let before = ws
        .run(&["show", "P-02", "--as-of", "2019-02-19"])
        .ok()
        .stdout;
    assert!(
        before.contains("已备案 filed") && !before.contains("驳回"),
        "{before}"
    );
    ws.run(&["show", "P-02", "--as-of", "2019-02-21"])
        .ok()
        .stdout_has(&["驳回 rejected 2019-02-20", "下课时间晚于20:30"]);
    // The same decision again is unchanged; the other one conflicts.
    let again = ws.write("again.rhai", "reject_course(\"K-2\", \"again\");\n");
    ws.run(&["run", &again, "--as-of", "2019-02-21", "--write"])
        .ok()
        .stderr_has(&["committed 0 change(s), 1 unchanged"]);
    let other = ws.write("other.rhai", "accept_course(\"K-2\");\n");
    ws.run(&["run", &other, "--as-of", "2019-02-21", "--write"])
        .code(1)
        .stderr_has(&["course K-2 is rejected already on 2019-02-20"]);
}

#[test]
fn decided_on_imports_under_both_header_languages_and_is_checked() {
    let ws = Ws::init();
    let f = ws.write("机构.csv", INSTITUTIONS_ZH);
    ws.import("institutions", &f);
    let zh = COURSES_ZH
        .replace("审核意见\n", "审核意见,审核日期\n")
        .replace("已备案,\n", "已备案,,\n")
        .replace("待审核,\n", "待审核,,\n")
        .replace("已通过,\n", "已通过,,2019-02-05\n");
    let f = ws.write("课程.csv", zh);
    ws.import("courses", &f);
    let c = exported(&ws, "courses");
    assert_eq!(c["K-3"]["decided_on"], "2019-02-05");
    assert_eq!(c["K-2"]["decided_on"], "");
    // The English header, and the export read back, give the same.
    let csv = ws.export("courses", "csv");
    assert!(
        csv.lines().next().unwrap().ends_with(",decided_on"),
        "{csv}"
    );
    let ws2 = Ws::init();
    let f = ws2.write("机构.csv", INSTITUTIONS_ZH);
    ws2.import("institutions", &f);
    let f = ws2.write("courses.csv", &csv);
    ws2.import("courses", &f);
    assert_eq!(ws2.export("courses", "csv"), csv);
    // A date on a course still filed, or before its filing, is refused with line and field.
    let bad = "id,institution_id,name,subject_type,mode,class_hours,fee_total,starts_on,ends_on,daily_end_time,filed_on,status,decided_on\n\
               K-7,P-02,课,non_subject,offline,10,800,2019-03-01,2019-04-30,20:00,2019-02-01,filed,2019-02-03\n\
               K-8,P-02,课,non_subject,offline,10,800,2019-03-01,2019-04-30,20:00,2019-02-01,accepted,2019-01-03\n";
    let f = ws.write("bad.csv", bad);
    ws.run(&["import", "courses", &f]).code(1).stderr_has(&[
        "bad.csv:2: decided_on = \"2019-02-03\": a course still filed has no decision date",
        "bad.csv:3: decided_on = \"2019-01-03\": is before filed_on 2019-02-01",
    ]);
}

#[test]
fn a_decision_recorded_without_a_date_reads_as_decided_since_filing() {
    // K-3 was imported 已通过 with no 审核日期, as every course decided
    // before the field was.
    let ws = platform();
    let f = ws.write(
        "k3.rhai",
        "for c in courses() { if c.id == \"K-3\" { emit(#{s: c.status, d: `${c.decided_on}`}); } }\n",
    );
    for d in ["2019-02-01", "2019-02-20"] {
        let r = ws.run(&["run", &f, "--as-of", d, "--format", "jsonl"]).ok();
        let row = &jsonl(&r.stdout)[0];
        assert_eq!(row["s"], "accepted", "{d}");
        assert_eq!(row["d"], "", "{d}");
    }
}

#[test]
fn the_weekly_report_counts_a_rejection_in_the_week_it_was_decided() {
    let ws = platform();
    // K-1 was filed on 2019-01-15, weeks before; rejected on 2019-02-20.
    let f = ws.write("r.rhai", "reject_course(\"K-1\", \"下课时间晚于20:30\");\n");
    ws.run(&["run", &f, "--as-of", "2019-02-20", "--write"])
        .ok();
    let weekly = script("weekly_report.rhai");
    let total = |as_of: &str| {
        let r = ws
            .run(&["run", &weekly, "--as-of", as_of, "--format", "jsonl"])
            .ok();
        jsonl(&r.stdout)
            .into_iter()
            .find(|r| r["区"] == "合计")
            .unwrap()
    };
    let t = total("2019-02-20");
    assert_eq!(t["课程驳回"], 1, "{t}");
    assert_eq!(t["驳回:超时"], 1, "{t}");
    // The week before, it was not decided yet.
    assert_eq!(total("2019-02-19")["课程驳回"], 0);
    // A week later it is in no week's count but its own.
    assert_eq!(total("2019-02-27")["课程驳回"], 0);
}
