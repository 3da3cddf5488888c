//! The script API of SPEC §5 as a policy script sees it: every function of
//! `FUNCTIONS` and every record property is exercised here (or, for the write
//! functions, in `writes.rs`); a last test checks that none is missed.
//!
//! Every test builds a small ledger from CSV files and drives the real binary.
//! `--arg` values and the rows a script emits are in `rows.rs`.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use casebook::script::api::FUNCTIONS;
use casebook::script::records::{FINDING_PROPS, INSPECTION_PROPS, INSTITUTION_PROPS};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::common::{casebook_on, parse_jsonl, LedgerDir, Ws};

mod rows;

const AS_OF: &str = "2018-12-31";

/// A ledger in a temporary directory, driven through the `casebook` binary.
struct Fixture {
    dir: TempDir,
    db: PathBuf,
}

impl Fixture {
    /// Three institutions, three inspections, four findings.
    fn city() -> Fixture {
        let Ws { dir, db } = Ws::new();
        let f = Fixture { dir, db };
        f.cmd().arg("init").assert().success();
        f.import(
            "institutions",
            "id,name,uscc,district,street,address,category,licence_no,licence_issued,licence_expires,organizer,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date\n\
             A1,甲培训学校,91440101MA5CJQ4N59,天河,石牌街道,天河路1号,subject,L-001,2018-03-01,2021-02-28,张三,100,10,8,400.5,250000.5,true,operating,2018-01-01\n\
             A2,乙艺术工作室,,海珠,南华西街道,海珠路2号,non_subject,,,,李四,20,2,2,80,0,false,rectifying,2018-06-01\n\
             A3,丙学堂,,天河,五山街道,五山路3号,subject,,,,王五,50,5,1,120,300000,true,operating,2018-01-01\n",
        );
        f.import(
            "inspections",
            "id,institution_id,date,operation,departments,inspectors,note\n\
             J1,A1,2018-05-10,春季行动,education;fire,3,现场检查\n\
             J2,A1,2018-09-01,,education,1,回头看\n\
             J3,A3,2018-09-01,秋季行动,education;police;market,4,发现超纲\n",
        );
        f.import(
            "findings",
            "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
             F1,A1,J1,fire_hazard,2,2018-05-10,2018-05-20,2018-05-25,2018-06-01,通道堵塞\n\
             F2,A2,,no_licence,3,2018-05-10,2018-05-20,,,无证\n\
             F3,A3,J3,ahead_of_syllabus,1,2018-09-01,2018-09-30,2018-09-20,,超纲\n\
             F4,A1,,late_hours,1,2018-10-01,2018-10-15,,,超时\n",
        );
        f
    }

    /// `casebook run SCRIPT --as-of AS_OF EXTRA...`
    fn run(&self, src: &str, extra: &[&str]) -> Output {
        let p = self.script(src);
        let mut c = self.cmd();
        c.arg("run").arg(&p);
        if !extra.contains(&"--as-of") {
            c.args(["--as-of", AS_OF]);
        }
        c.args(extra).output().unwrap()
    }

    /// Runs and returns stdout; the run must succeed.
    fn ok(&self, src: &str, extra: &[&str]) -> String {
        let out = self.run(src, extra);
        assert!(
            out.status.success(),
            "script failed:\n{src}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and returns stderr; the run must fail with exit code 1.
    fn fails(&self, src: &str, extra: &[&str]) -> String {
        let out = self.run(src, extra);
        assert_eq!(
            out.status.code(),
            Some(1),
            "expected exit 1 for:\n{src}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Rows as JSON values (`--format jsonl`).
    fn rows(&self, src: &str) -> Vec<Value> {
        self.rows_with(src, &[])
    }

    fn rows_with(&self, src: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["--format", "jsonl"];
        args.extend_from_slice(extra);
        parse_jsonl(&self.ok(src, &args))
    }

    /// The only row.
    fn row(&self, src: &str) -> Value {
        let mut r = self.rows(src);
        assert_eq!(r.len(), 1, "expected one row, got {r:?}");
        r.remove(0)
    }
}

impl LedgerDir for Fixture {
    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Command {
        let mut c = casebook_on(&self.db, "tester");
        c.current_dir(self.dir.path());
        c
    }
}

/// The keys of a JSON Lines row in the order they were printed.
fn key_order(line: &str) -> Vec<String> {
    let v: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
    v.keys().cloned().collect()
}

// ---------------------------------------------------------------- records

#[test]
fn every_institution_property_reads_its_field() {
    let f = Fixture::city();
    let src = r#"
        for id in ["A1", "A2"] {
            let i = institution(id);
            emit(#{id: i.id, name: i.name, uscc: i.uscc, district: i.district,
                   street: i.street, address: i.address, category: i.category,
                   licence_no: i.licence_no, licence_issued: i.licence_issued,
                   licence_expires: i.licence_expires, organizer: i.organizer,
                   students: i.students, teachers: i.teachers,
                   qualified_teachers: i.qualified_teachers, area_m2: i.area_m2,
                   prepaid_balance: i.prepaid_balance, fire_approved: i.fire_approved,
                   status: i.status, status_date: i.status_date, licensed: i.licensed});
        }
    "#;
    let rows = f.rows(src);
    assert_eq!(
        rows[0],
        json!({"id": "A1", "name": "甲培训学校", "uscc": "91440101MA5CJQ4N59",
               "district": "天河", "street": "石牌街道", "address": "天河路1号",
               "category": "subject", "licence_no": "L-001",
               "licence_issued": "2018-03-01", "licence_expires": "2021-02-28",
               "organizer": "张三", "students": 100, "teachers": 10,
               "qualified_teachers": 8, "area_m2": 400.5, "prepaid_balance": 250000.5,
               "fire_approved": true, "status": "operating",
               "status_date": "2018-01-01", "licensed": true})
    );
    // Missing optional values are ().
    assert_eq!(
        rows[1],
        json!({"id": "A2", "name": "乙艺术工作室", "uscc": null,
               "district": "海珠", "street": "南华西街道", "address": "海珠路2号",
               "category": "non_subject", "licence_no": null,
               "licence_issued": null, "licence_expires": null,
               "organizer": "李四", "students": 20, "teachers": 2,
               "qualified_teachers": 2, "area_m2": 80.0, "prepaid_balance": 0.0,
               "fire_approved": false, "status": "rectifying",
               "status_date": "2018-06-01", "licensed": false})
    );
    // Numbers are numbers a script can compute with.
    let r = f.row(
        r#"let i = institution("A1");
           emit(#{per_student: i.area_m2 / i.students, unqualified: i.teachers - i.qualified_teachers,
                  prepaid_per_student: i.prepaid_balance / i.students,
                  is_unit: institution("A2").uscc == ()});"#,
    );
    assert_eq!(
        r,
        json!({"per_student": 4.005, "unqualified": 2, "prepaid_per_student": 2500.005, "is_unit": true})
    );
}

#[test]
fn every_finding_property_reads_its_field() {
    let f = Fixture::city();
    let src = r#"
        for f in findings() {
            emit(#{id: f.id, institution_id: f.institution_id, inspection_id: f.inspection_id,
                   kind: f.kind, severity: f.severity, opened_on: f.opened_on,
                   deadline: f.deadline, rectified_on: f.rectified_on,
                   verified_on: f.verified_on, note: f.note, status: f.status,
                   overdue: f.overdue, days_overdue: f.days_overdue});
        }
    "#;
    // The order of findings() is the ledger's; compare by id.
    let mut rows = f.rows(src);
    rows.sort_by_key(|r| r["id"].as_str().unwrap().to_string());
    assert_eq!(
        rows,
        vec![
            json!({"id": "F1", "institution_id": "A1", "inspection_id": "J1",
                   "kind": "fire_hazard", "severity": 2, "opened_on": "2018-05-10",
                   "deadline": "2018-05-20", "rectified_on": "2018-05-25",
                   "verified_on": "2018-06-01", "note": "通道堵塞", "status": "closed",
                   "overdue": false, "days_overdue": 0}),
            json!({"id": "F2", "institution_id": "A2", "inspection_id": null,
                   "kind": "no_licence", "severity": 3, "opened_on": "2018-05-10",
                   "deadline": "2018-05-20", "rectified_on": null,
                   "verified_on": null, "note": "无证", "status": "open",
                   "overdue": true, "days_overdue": 225}),
            json!({"id": "F3", "institution_id": "A3", "inspection_id": "J3",
                   "kind": "ahead_of_syllabus", "severity": 1, "opened_on": "2018-09-01",
                   "deadline": "2018-09-30", "rectified_on": "2018-09-20",
                   "verified_on": null, "note": "超纲", "status": "rectified",
                   "overdue": true, "days_overdue": 92}),
            json!({"id": "F4", "institution_id": "A1", "inspection_id": null,
                   "kind": "late_hours", "severity": 1, "opened_on": "2018-10-01",
                   "deadline": "2018-10-15", "rectified_on": null,
                   "verified_on": null, "note": "超时", "status": "open",
                   "overdue": true, "days_overdue": 77}),
        ]
    );
}

#[test]
fn every_inspection_property_reads_its_field() {
    let f = Fixture::city();
    let src = r#"
        for x in inspections() {
            emit(#{id: x.id, institution_id: x.institution_id, date: x.date,
                   operation: x.operation, departments: x.departments,
                   inspectors: x.inspectors, note: x.note});
        }
    "#;
    assert_eq!(
        f.rows(src),
        vec![
            json!({"id": "J1", "institution_id": "A1", "date": "2018-05-10",
                   "operation": "春季行动", "departments": ["education", "fire"],
                   "inspectors": 3, "note": "现场检查"}),
            json!({"id": "J2", "institution_id": "A1", "date": "2018-09-01",
                   "operation": null, "departments": ["education"],
                   "inspectors": 1, "note": "回头看"}),
            json!({"id": "J3", "institution_id": "A3", "date": "2018-09-01",
                   "operation": "秋季行动", "departments": ["education", "police", "market"],
                   "inspectors": 4, "note": "发现超纲"}),
        ]
    );
    // departments is an array a script can search.
    let r = f.row(
        r#"emit(#{with_fire: inspections().count(|x| x.departments.contains("fire")),
                  staff_times: sum_by(inspections(), "inspectors")});"#,
    );
    assert_eq!(r, json!({"with_fire": 1, "staff_times": 8}));
}

#[test]
fn emitting_a_record_gives_a_row_of_all_its_properties() {
    let f = Fixture::city();
    let names = |props: &[casebook::script::records::Prop]| -> Vec<String> {
        let mut v: Vec<String> = props.iter().map(|p| p.name.to_string()).collect();
        v.sort();
        v
    };
    for (src, props) in [
        (r#"emit(institution("A1"));"#, INSTITUTION_PROPS),
        (r#"emit(findings().to_array()[0]);"#, FINDING_PROPS),
        (r#"emit(inspections().to_array()[0]);"#, INSPECTION_PROPS),
    ] {
        let row = f.row(src);
        let mut keys: Vec<String> = row.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, names(props), "{src}");
        assert!(row["id"].is_string());
    }
}

#[test]
fn a_finding_knows_its_institution() {
    let f = Fixture::city();
    let r = f.row(
        r#"let f = findings().filter(|f| f.id == "F3")[0];
           emit(#{name: f.institution().name, district: f.institution().district});"#,
    );
    assert_eq!(r, json!({"name": "丙学堂", "district": "天河"}));
}

// ------------------------------------------------------------ collections

#[test]
fn institutions_can_be_looped_filtered_mapped_and_counted() {
    let f = Fixture::city();
    let src = r#"
        let n = 0;
        for i in institutions() { n += 1; }
        let th = institutions().filter(|i| i.district == "天河");
        emit(#{loop_count: n, len: institutions().len(),
               filtered: th.len(), filtered_ids: th.map(|i| i.id),
               names: institutions().map(|i| i.name),
               count_subject: institutions().count(|i| i.category == "subject"),
               any_licensed: institutions().any(|i| i.licensed),
               any_huge: institutions().any(|i| i.students > 1000),
               all_have_teachers: institutions().all(|i| i.teachers > 0),
               all_licensed: institutions().all(|i| i.licensed),
               array_len: institutions().to_array().len(),
               is_empty: institutions().is_empty()});
    "#;
    assert_eq!(
        f.row(src),
        json!({"loop_count": 3, "len": 3, "filtered": 2, "filtered_ids": ["A1", "A3"],
               "names": ["甲培训学校", "乙艺术工作室", "丙学堂"],
               "count_subject": 2, "any_licensed": true, "any_huge": false,
               "all_have_teachers": true, "all_licensed": false, "array_len": 3,
               "is_empty": false})
    );
}

#[test]
fn one_institution_by_id_or_unit_if_unknown() {
    let f = Fixture::city();
    let r = f.row(
        r#"emit(#{name: institution("A2").name, nope: institution("nope"),
                  nope_is_unit: institution("nope") == ()});"#,
    );
    assert_eq!(
        r,
        json!({"name": "乙艺术工作室", "nope": null, "nope_is_unit": true})
    );
}

#[test]
fn findings_and_inspections_support_the_same_operations() {
    let f = Fixture::city();
    let src = r#"
        let n = 0;
        for f in findings() { n += 1; }
        let m = 0;
        for x in inspections() { m += 1; }
        let open = findings().filter(|f| f.status == "open").map(|f| f.id);
        open.sort();
        emit(#{f_loop: n, f_len: findings().len(),
               f_open: open,
               f_overdue: findings().count(|f| f.overdue),
               f_any_closed: findings().any(|f| f.status == "closed"),
               f_all_severe: findings().all(|f| f.severity == 3),
               f_array: findings().to_array().len(),
               f_empty: findings().is_empty(),
               i_loop: m, i_len: inspections().len(),
               i_sept: inspections().filter(|x| x.date >= date("2018-09-01")).map(|x| x.id),
               i_count: inspections().count(|x| x.inspectors > 2),
               i_any: inspections().any(|x| x.operation == ()),
               i_all: inspections().all(|x| x.departments.contains("education")),
               i_array: inspections().to_array().len()});
    "#;
    assert_eq!(
        f.row(src),
        json!({"f_loop": 4, "f_len": 4, "f_open": ["F2", "F4"], "f_overdue": 3,
               "f_any_closed": true, "f_all_severe": false, "f_array": 4, "f_empty": false,
               "i_loop": 3, "i_len": 3, "i_sept": ["J2", "J3"], "i_count": 2,
               "i_any": true, "i_all": true, "i_array": 3})
    );
    // Before anything was found the collections are empty.
    let out = f.ok(
        r#"emit(#{f: findings().is_empty(), i: inspections().is_empty(), n: findings().len()});"#,
        &["--format", "jsonl", "--as-of", "2018-01-01"],
    );
    assert_eq!(
        parse_jsonl(&out),
        vec![json!({"f": true, "i": true, "n": 0})]
    );
}

#[test]
fn an_institution_lists_only_its_own_findings_and_inspections() {
    let f = Fixture::city();
    let src = r#"
        for i in institutions() {
            let id = i.id;
            emit(#{id: i.id, findings: i.findings().map(|f| f.id),
                   own: i.findings().all(|f| f.institution_id == id),
                   inspections: i.inspections().map(|x| x.id)});
        }
    "#;
    assert_eq!(
        f.rows(src),
        vec![
            json!({"id": "A1", "findings": ["F1", "F4"], "own": true, "inspections": ["J1", "J2"]}),
            json!({"id": "A2", "findings": ["F2"], "own": true, "inspections": []}),
            json!({"id": "A3", "findings": ["F3"], "own": true, "inspections": ["J3"]}),
        ]
    );
}

#[test]
fn a_closure_may_use_the_record_whose_method_it_is_passed_to() {
    let f = Fixture::city();
    let out = f.run(
        r#"for i in institutions() {
               emit(#{id: i.id, own: i.findings().all(|f| f.institution_id == i.id)});
           }"#,
        &["--format", "jsonl"],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() || err.contains("let "),
        "neither works nor says what to do: {err}"
    );
}

#[test]
fn arrays_can_be_sorted_after_to_array() {
    let f = Fixture::city();
    let r = f.row(
        r#"let a = findings().to_array();
           a.sort(|x, y| y.days_overdue - x.days_overdue);
           emit(#{ids: a.map(|f| f.id)});"#,
    );
    assert_eq!(r, json!({"ids": ["F2", "F3", "F4", "F1"]}));
}

#[test]
fn status_history_and_districts() {
    let f = Fixture::city();
    let r = f.row(
        r#"let h = institution("A2").status_history();
           emit(#{n: h.len(), date: h[0].date, status: h[0].status,
                  has_reason: type_of(h[0].reason) == "string",
                  districts: districts(), as_of: as_of()});"#,
    );
    assert_eq!(
        r,
        json!({"n": 1, "date": "2018-06-01", "status": "rectifying", "has_reason": true,
               "districts": ["越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城"],
               "as_of": AS_OF})
    );
}

#[test]
fn named_lists_are_dated_like_everything_else() {
    let f = Fixture::city();
    let add = f.run(
        r#"list_add("blacklist", "A2", "无证办学");
           list_add("whitelist", "A1", "持证规范");"#,
        &["--as-of", "2019-01-10", "--write"],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    // Another script than the one that added it: it says so (list owners).
    let remove = f.run(
        r#"list_remove_other("blacklist", "A2", "整改完成");"#,
        &["--as-of", "2019-03-01", "--write"],
    );
    assert!(
        remove.status.success(),
        "{}",
        String::from_utf8_lossy(&remove.stderr)
    );
    let q = r#"emit(#{black: on_list("blacklist"), white: on_list("whitelist"),
                      a2: institution("A2").lists(), a1: institution("A1").lists(),
                      none: on_list("no-such-list")});"#;
    let at = |d: &str| parse_jsonl(&f.ok(q, &["--format", "jsonl", "--as-of", d]));
    assert_eq!(
        at("2019-01-09"),
        vec![json!({"black": [], "white": [], "a2": [], "a1": [], "none": []})]
    );
    assert_eq!(
        at("2019-01-10"),
        vec![
            json!({"black": ["A2"], "white": ["A1"], "a2": ["blacklist"], "a1": ["whitelist"], "none": []})
        ]
    );
    assert_eq!(
        at("2019-03-01"),
        vec![json!({"black": [], "white": ["A1"], "a2": [], "a1": ["whitelist"], "none": []})]
    );
}

// ------------------------------------------------------------------ dates

#[test]
fn dates_add_subtract_compare_and_print_as_iso() {
    let f = Fixture::city();
    let src = r#"
        let d = date("2019-02-20");
        let d2 = date("2019-03-01");
        emit(#{plus: d + 7, minus: d - 7, between: d2 - d, back: d - d2,
               year: d.year, month: d.month, day: d.day, weekday: d.weekday,
               text: d.to_string(), interpolated: `截至${d}`, concat: "as of " + d,
               eq: d == date("2019-02-20"), ne: d != d2, lt: d < d2, le: d <= d,
               gt: d2 > d, ge: d >= d2, next_month: d.add_months(1),
               month_end: date("2019-01-31").add_months(1),
               leap: date("2020-02-28") + 1, new_year: date("2018-12-31") + 1,
               as_of: as_of(), week_ago: as_of() - 7,
               unit_lt: d < (), unit_eq: d == (), unit_ne: d != ()});
    "#;
    assert_eq!(
        f.row(src),
        json!({"plus": "2019-02-27", "minus": "2019-02-13", "between": 9, "back": -9,
               "year": 2019, "month": 2, "day": 20, "weekday": 3,
               "text": "2019-02-20", "interpolated": "截至2019-02-20",
               "concat": "as of 2019-02-20",
               "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": false,
               "next_month": "2019-03-20", "month_end": "2019-02-28",
               "leap": "2020-02-29", "new_year": "2019-01-01",
               "as_of": "2018-12-31", "week_ago": "2018-12-24",
               "unit_lt": false, "unit_eq": false, "unit_ne": true})
    );
}

#[test]
fn comparing_a_date_with_a_string_is_an_error_that_says_what_to_write() {
    let f = Fixture::city();
    let err = f.fails(
        "let d = as_of();\nif d < \"2019-02-20\" { print(1); }\n",
        &[],
    );
    assert!(
        err.contains(r#"cannot compare a date with a string: use date("2019-02-20")"#),
        "{err}"
    );
    assert!(err.contains(":2:"), "the message names line 2: {err}");
    // The other way round too, and with findings' dates.
    let err = f.fails(
        r#"findings().filter(|f| "2018-06-01" >= f.opened_on).len()"#,
        &[],
    );
    // Written as a literal, it is found before the script runs, at the text.
    assert!(
        err.contains("cannot compare .opened_on, a date, with the text \"2018-06-01\""),
        "{err}"
    );
    assert!(err.contains(r#"use date("2018-06-01")"#), "{err}");
    assert!(err.contains(":1:23"), "{err}");
}

#[test]
fn a_bad_date_names_the_text() {
    let f = Fixture::city();
    let err = f.fails(r#"let d = date("2019-02-30");"#, &[]);
    assert!(err.contains("2019-02-30"), "{err}");
    assert!(err.contains("day 30"), "{err}");
}

// ------------------------------------------------------------ aggregation

#[test]
fn count_group_and_sum_by_property() {
    let f = Fixture::city();
    let src = r#"
        let by_district = group_by(institutions(), "district");
        emit(#{by_kind: count_by(findings(), "kind"),
               by_status: count_by(findings().to_array(), "status"),
               by_key: count_by([#{k: "a"}, #{k: "b"}, #{k: "a"}], "k"),
               groups: by_district.keys(),
               tianhe: by_district["天河"].map(|i| i.id),
               haizhu: by_district.海珠.len(),
               students: sum_by(institutions(), "students"),
               area: sum_by(institutions().to_array(), "area_m2"),
               map_sum: sum_by([#{n: 1}, #{n: 2.5}], "n"),
               ints: sum([1, 2, 3]), mixed: sum([1, 2.5]), empty: sum([])});
    "#;
    let r = f.row(src);
    assert_eq!(
        r["by_kind"],
        json!({"ahead_of_syllabus": 1, "fire_hazard": 1, "late_hours": 1, "no_licence": 1})
    );
    assert_eq!(
        r["by_status"],
        json!({"closed": 1, "open": 2, "rectified": 1})
    );
    assert_eq!(r["by_key"], json!({"a": 2, "b": 1}));
    let mut groups: Vec<String> = serde_json::from_value(r["groups"].clone()).unwrap();
    groups.sort();
    assert_eq!(groups, vec!["天河", "海珠"]);
    assert_eq!(r["tianhe"], json!(["A1", "A3"]));
    assert_eq!(r["haizhu"], json!(1));
    assert_eq!(r["students"], json!(170));
    assert_eq!(r["area"], json!(600.5));
    assert_eq!(r["map_sum"], json!(3.5));
    assert_eq!(r["ints"], json!(6));
    assert_eq!(r["mixed"], json!(3.5));
    assert_eq!(r["empty"], json!(0));
}

#[test]
fn aggregating_by_a_missing_property_names_what_there_is() {
    let f = Fixture::city();
    let err = f.fails(r#"count_by(institutions(), "distrct")"#, &[]);
    assert!(err.contains("no property \"distrct\""), "{err}");
    assert!(err.contains("district"), "{err}");
    let err = f.fails(r#"sum_by(institutions(), "name")"#, &[]);
    assert!(err.contains("not a number"), "{err}");
}

#[test]
fn sort_by_key_a_property_several_properties_or_a_function() {
    let f = Fixture::city();
    // Findings: F1 (sev 2, deadline 05-20), F2 (3, 05-20), F3 (1, 09-30), F4 (1, 10-15).
    let src = r#"
        let v = findings().to_array();
        v.sort_by_key("severity");
        let by_sev = v.map(|x| x.id);
        v.sort_by_key("severity", "desc");
        let by_sev_desc = v.map(|x| x.id);
        v.sort_by_key(["deadline", "severity"]);
        let by_two = v.map(|x| x.id);
        v.sort_by_key(|x| x.institution().name + x.id);
        let by_fn = v.map(|x| x.id);
        let m = [#{k: 2, n: "b"}, #{n: "none"}, #{k: 1, n: "a"}, #{k: 2, n: "c"}, #{k: 1.5, n: "x"}];
        m.sort_by_key("k");
        let maps = m.map(|x| x.n);
        let d = [date("2019-01-02"), date("2018-12-31"), (), date("2019-01-01")];
        d.sort_by_key(|x| x);
        emit(#{by_sev: by_sev, by_sev_desc: by_sev_desc, by_two: by_two, by_fn: by_fn,
               maps: maps, dates: d.map(|x| `${x}`)});
    "#;
    let r = f.row(src);
    // findings() gives F1 F4 F2 F3 (by institution); ties keep their order
    // (F4 before F3 both ways): the sort is stable.
    assert_eq!(r["by_sev"], json!(["F4", "F3", "F1", "F2"]));
    assert_eq!(r["by_sev_desc"], json!(["F2", "F1", "F4", "F3"]));
    assert_eq!(r["by_two"], json!(["F1", "F2", "F3", "F4"]));
    // 丙学堂 (A3) < 乙艺术工作室 (A2) < 甲培训学校 (A1) in code-point order.
    assert_eq!(r["by_fn"], json!(["F3", "F2", "F1", "F4"]));
    // A map without the key sorts first, like (); ints and floats compare as numbers.
    assert_eq!(r["maps"], json!(["none", "a", "x", "b", "c"]));
    assert_eq!(
        r["dates"],
        json!(["", "2018-12-31", "2019-01-01", "2019-01-02"])
    );
}

#[test]
fn sort_by_key_an_unknown_property_or_order_says_what_there_is() {
    let f = Fixture::city();
    let err = f.fails(
        r#"let v = institutions().to_array(); v.sort_by_key("distrct");"#,
        &[],
    );
    assert!(err.contains("no property \"distrct\""), "{err}");
    assert!(err.contains("district"), "{err}");
    let err = f.fails(r#"let v = [1, 2]; v.sort_by_key(|x| x, "down");"#, &[]);
    assert!(err.contains("\"asc\" or \"desc\""), "{err}");
    let err = f.fails(r#"let v = [1, 2]; v.sort_by_key(42);"#, &[]);
    assert!(
        err.contains("a property name, a list of names or a function"),
        "{err}"
    );
}

#[test]
fn sort_by_key_that_fails_leaves_the_array_and_mixed_numbers_sort_exactly() {
    let f = Fixture::city();
    let src = r#"
        let v = [3, 1, 2];
        try { v.sort_by_key(|x| if x == 2 { throw "no" } else { x }); } catch { }
        // 2^53 + 1 is above 2^53 although both read 2^53 as a float.
        let big = [9007199254740993, 9007199254740992.0, 9007199254740992];
        big.sort_by_key(|x| x);
        emit(#{v: v, big: big.map(|x| type_of(x))});
    "#;
    let r = f.row(src);
    assert_eq!(r["v"], json!([3, 1, 2]));
    assert_eq!(r["big"], json!(["f64", "i64", "i64"]));
}

#[test]
fn can_write_says_whether_the_run_may_change_the_ledger() {
    let f = Fixture::city();
    assert_eq!(f.row("emit(#{w: can_write()});"), json!({"w": false}));
    assert_eq!(
        f.rows_with("emit(#{w: can_write()});", &["--write"]),
        vec![json!({"w": true})]
    );
}

#[test]
fn money_numbers_and_percentages_as_text() {
    let f = Fixture::city();
    let src = r#"
        emit(#{yuan: yuan(1234567.5), yuan_int: yuan(5000), yuan_neg: yuan(-1234.5),
               prepaid: yuan(institution("A1").prepaid_balance),
               num0: fmt_num(12345, 0), num2: fmt_num(1234.567, 2), small: fmt_num(7, 0),
               pct: pct(3, 8), pct_all: pct(5, 5), pct_none: pct(1, 0),
               pct_float: pct(1.0, 3)});
    "#;
    assert_eq!(
        f.row(src),
        json!({"yuan": "1,234,567.50", "yuan_int": "5,000.00", "yuan_neg": "-1,234.50",
               "prepaid": "250,000.50", "num0": "12,345", "num2": "1,234.57", "small": "7",
               "pct": "37.5%", "pct_all": "100.0%", "pct_none": "—", "pct_float": "33.3%"})
    );
    let err = f.fails(r#"yuan("abc")"#, &[]);
    assert!(err.contains("not a number"), "{err}");
}

// ------------------------------------------------------------- rough edges

#[test]
fn every_function_is_listed_under_the_name_scripts_call() {
    for (name, sig, _, _) in FUNCTIONS {
        assert_eq!(
            *name,
            call_name(sig),
            "FUNCTIONS entry {name} has signature {sig}"
        );
    }
}

#[test]
fn indexing_a_collection_gives_that_record() {
    let f = Fixture::city();
    let first = f.ok("institutions()[0].id", &["--format", "jsonl"]);
    let all = f.ok("institutions().to_array()[0].id", &["--format", "jsonl"]);
    assert_eq!(first, all);
    assert!(!first.trim().is_empty());
}

// ------------------------------------------------------------------ meta

/// The name a script calls for a FUNCTIONS signature: `inst.lists()` → `lists`.
fn call_name(sig: &str) -> &str {
    let head = sig.split('(').next().unwrap();
    head.rsplit('.').next().unwrap().trim()
}

/// Whether `src` contains `needle` not followed by an identifier character.
fn mentions(src: &str, needle: &str) -> bool {
    src.match_indices(needle).any(|(i, _)| {
        src[i + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[test]
fn every_api_function_and_property_is_exercised() {
    let sources = [
        include_str!("mod.rs"),
        include_str!("rows.rs"),
        include_str!("../writes.rs"),
        include_str!("../../publish/notices.rs"),
        include_str!("../../decisions/rule_city.rs"),
        include_str!("../../decisions/score.rs"),
        include_str!("../../decisions/runs.rs"),
        include_str!("../../../../scripts/notices.rhai"),
        include_str!("../../../../scripts/publish_lists.rhai"),
        include_str!("../../../../scripts/credit_score.rhai"),
        include_str!("../../../../scripts/whitelist.rhai"),
        include_str!("../../platform/mod.rs"),
        include_str!("../../platform/records.rs"),
        include_str!("../../platform/demo_rules.rs"),
        include_str!("../../rules/values.rs"),
        include_str!("../../charts.rs"),
    ]
    .concat();
    let mut missing = Vec::new();
    for (_, sig, _, _) in FUNCTIONS {
        let name = call_name(sig);
        if !sources.contains(&format!("{name}(")) {
            missing.push(format!("function {name}"));
        }
    }
    for (kind, props) in [
        ("institution", INSTITUTION_PROPS),
        ("finding", FINDING_PROPS),
        ("inspection", INSPECTION_PROPS),
    ] {
        for p in props.iter().map(|p| p.name) {
            if !mentions(&sources, &format!(".{p}")) {
                missing.push(format!("{kind} property .{p}"));
            }
        }
    }
    assert!(missing.is_empty(), "not exercised by any test: {missing:?}");
}

/// CSV rows neutralise text a spreadsheet would run as a formula, and only
/// text: a negative number used to come out as the text `'-5`.
#[test]
fn csv_rows_keep_negative_numbers_as_numbers_and_neutralise_only_text() {
    let ws = crate::common::populated();
    let s = ws.write(
        "neg.rhai",
        "emit(#{n: -5, x: -1.5, t: \"-5\", f: \"=1+1\"});\n",
    );
    let r = ws
        .run(&["run", &s, "--as-of", "2019-06-01", "--format", "csv"])
        .ok();
    assert_eq!(r.stdout, "n,x,t,f\n-5,-1.5,'-5,'=1+1\n");
}
