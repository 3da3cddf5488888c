//! `institutions().map(f)` and `courses().map(f)` run on every core once there
//! are enough records; these tests hold the parallel run to exactly what a
//! sequential one gives: the same results in the same order, rows emitted and
//! lines printed in record order, each institution's own findings (the workers
//! walk the findings table once per batch instead of once per institution),
//! and the first error in record order.
//!
//! A function that captures a variable runs sequentially (its closure could
//! change it), which is how each test gets its sequential twin.

use crate::common::{self, Ws};

const AS_OF: &str = "2019-02-20";
/// Enough for several batches of 1,024 on every worker.
const N: usize = 5000;

/// N institutions; institution n has n % 4 findings (some opened after AS_OF)
/// and n % 3 courses (some filed after AS_OF).
fn city() -> Ws {
    let ws = Ws::init();
    let mut inst = String::from("id,name,district,category,students,status,status_date\n");
    let mut find = String::from("id,institution_id,kind,severity,opened_on,deadline,note\n");
    let mut crs = String::from(
        "id,institution_id,name,subject,subject_type,grade,mode,class_hours,fee_total,prepay_months,starts_on,ends_on,daily_end_time,filed_on,status\n",
    );
    for n in 0..N {
        inst.push_str(&format!(
            "I{n:05},机构{n},天河,non_subject,{},operating,2018-01-01\n",
            n % 90
        ));
        for k in 0..n % 4 {
            let opened = if (n + k) % 5 == 0 {
                "2019-03-01"
            } else {
                "2018-06-01"
            };
            find.push_str(&format!(
                "F{n:05}-{k},I{n:05},fire_hazard,{},{opened},2019-04-01,问题{k}\n",
                1 + k % 3
            ));
        }
        for k in 0..n % 3 {
            let filed = if (n + k) % 7 == 0 {
                "2019-03-01"
            } else {
                "2019-01-10"
            };
            crs.push_str(&format!(
                "C{n:05}-{k},I{n:05},课程{k},舞蹈,non_subject,小学,offline,{},3000,1,2019-03-01,2019-05-31,20:00,{filed},filed\n",
                10 + k
            ));
        }
    }
    for (kind, csv) in [("institutions", inst), ("findings", find), ("courses", crs)] {
        let f = ws.write(&format!("{kind}.csv"), csv);
        ws.import(kind, &f).ok();
    }
    ws
}

fn run(ws: &Ws, src: &str) -> common::Run {
    let f = ws.write("s.rhai", src);
    ws.run(&["run", &f, "--as-of", AS_OF, "--format", "jsonl"])
}

/// The script's output with `f(x)` mapped in parallel, and with the same map forced sequential.
fn both(ws: &Ws, prelude: &str, coll: &str, tail: &str) -> (String, String) {
    // print() goes to stderr, rows to stdout: both are compared.
    let par = run(
        ws,
        &format!("{prelude}\nlet r = {coll}().map(|x| f(x));\n{tail}"),
    )
    .ok();
    let seq = run(
        ws,
        &format!("{prelude}\nlet zero = 0;\nlet r = {coll}().map(|x| f(x) + zero);\n{tail}"),
    )
    .ok();
    (
        format!("{}{}", par.stderr, par.stdout),
        format!("{}{}", seq.stderr, seq.stdout),
    )
}

#[test]
fn a_parallel_map_gives_what_a_sequential_one_gives() {
    let ws = city();
    let prelude = r#"
        fn f(i) {
            let ids = i.findings().map(|x| x.id);
            // The walk's findings come back whole, institution included.
            for x in i.findings() {
                if x.institution_id != i.id { throw `${x.id} says it is of "${x.institution_id}"`; }
            }
            if i.students % 17 == 0 { print(`p ${i.id}`); }
            if ids.len() == 3 { emit(#{id: i.id, findings: join(ids, "|")}); }
            ids.len() * 1000 + i.findings().len()
        }"#;
    let (par, seq) = both(
        &ws,
        prelude,
        "institutions",
        "emit(#{n: r.len(), sum: sum(r), head: r.extract(0, 20)});",
    );
    assert_eq!(par, seq);
    // Institution n has n % 4 findings, less those opened after the date.
    assert!(
        par.contains(r#"{"id":"I00007","findings":"F00007-0|F00007-1|F00007-2","#),
        "{par}"
    );
    assert!(par.lines().filter(|l| l.starts_with("p ")).count() > 50);
    let last = par.lines().last().unwrap();
    assert!(last.contains(&format!("\"n\":{N}")), "{last}");
}

#[test]
fn findings_of_other_institutions_and_repeated_calls_inside_the_map() {
    let ws = city();
    // Asking for a neighbour's findings, an earlier institution's, and one's own
    // twice: the batch's single walk must answer each like a range scan would.
    let prelude = r#"
        fn pad(s, n) { while s.len() < n { s = "0" + s; } s }
        fn f(i) {
            let n = parse_int(i.id.sub_string(1));
            let prev = if n > 0 { institution("I" + pad((n - 1).to_string(), 5)) } else { i };
            let mine = i.findings().len();
            let again = i.findings().len();
            let before = prev.findings().len();
            if mine != again { throw `twice differs at ${i.id}`; }
            mine * 10 + before
        }"#;
    let (par, seq) = both(
        &ws,
        prelude,
        "institutions",
        "emit(#{sum: sum(r), some: r.extract(3000, 10)});",
    );
    assert_eq!(par, seq);
}

#[test]
fn an_earlier_institutions_findings_asked_first_in_a_later_batch() {
    let ws = city();
    // I00007 sits in the first batch; every later batch asks for it before
    // its own institution's findings.
    let prelude = r#"
        fn f(i) {
            let early = institution("I00007").findings().len();
            early * 100 + i.findings().len()
        }"#;
    let (par, seq) = both(
        &ws,
        prelude,
        "institutions",
        "emit(#{sum: sum(r), some: r.extract(4000, 10)});",
    );
    assert_eq!(par, seq);
    assert!(par.contains("\"some\":[300,"), "{par}");
}

#[test]
fn columns_chosen_before_a_parallel_map_stay_chosen() {
    let ws = city();
    let (par, seq) = both(
        &ws,
        r#"columns(["id", "name"]);
           fn f(i) { if i.students == 7 { emit(i); } 0 }"#,
        "institutions",
        "",
    );
    assert_eq!(par, seq);
    assert!(
        par.lines()
            .next()
            .unwrap()
            .starts_with(r#"{"id":"I00007","name":"机构7"}"#),
        "{par}"
    );
    let (par, seq) = both(
        &ws,
        r#"emit(#{a: 1});
           fn f(i) { if i.students == 7 { emit(i); } 0 }"#,
        "institutions",
        "",
    );
    assert_eq!(par, seq);
}

#[test]
fn top_level_constants_are_seen_by_the_mapped_function() {
    let ws = city();
    let (par, seq) = both(
        &ws,
        "const MANY = 2;\nfn f(i) { if i.findings().len() >= global::MANY { 1 } else { 0 } }",
        "institutions",
        "emit(#{n: sum(r)});",
    );
    assert_eq!(par, seq);
    assert!(par.contains("\"n\":"), "{par}");
}

#[test]
fn a_course_decided_twice_in_one_run_is_refused_in_parallel_too() {
    let ws = city();
    let src = r#"
        accept_course("C00004-0");
        fn f(c) { if c.id == "C00004-0" { accept_course(c.id); } 0 }
        courses().map(|c| f(c));
    "#;
    let s = ws.write("twice.rhai", src);
    let before = ws.export("courses", "csv");
    let err = ws
        .run(&["run", &s, "--as-of", AS_OF, "--write"])
        .code(1)
        .stderr;
    assert!(
        err.contains("C00004-0 was already decided in this run"),
        "{err}"
    );
    assert_eq!(ws.export("courses", "csv"), before);
}

#[test]
fn courses_map_in_parallel_sees_the_courses_filed_by_the_date() {
    let ws = city();
    let prelude = r#"
        fn f(c) {
            let i = c.institution();
            if c.class_hours == 11 { emit(#{id: c.id, inst: i.name}); }
            c.class_hours
        }"#;
    let (par, seq) = both(&ws, prelude, "courses", "emit(#{n: r.len(), sum: sum(r)});");
    assert_eq!(par, seq);
    let filed: usize = (0..N)
        .map(|n| (0..n % 3).filter(|k| (n + k) % 7 != 0).count())
        .sum();
    assert!(par.contains(&format!("\"n\":{filed}")), "{par}");
}

/// A map whose function runs compiled is driven from Rust on each worker:
/// the same results, rows and errors (at the same place) as the interpreter's.
#[test]
fn a_compiled_map_on_every_core_gives_the_interpreters_results_and_errors() {
    let ws = city();
    let ok = r#"fn f(i) {
    let n = 0;
    for x in i.findings() { if x.status != "closed" { n += x.severity; } }
    if i.students == 7 { emit(#{id: i.id, n: n}); }
    n * 100 + i.students
}
let r = institutions().map(|i| f(i));
let t = 0;
for v in r { t += v; }
emit(#{n: r.len(), t: t, head: r.extract(0, 5)});"#;
    let bad = "fn f(i) {\n  if i.id == \"I03000\" || i.id == \"I04000\" { throw `bad ${i.id}`; }\n  i.students\n}\nlet r = institutions().map(|i| f(i));\nr.len()\n";
    let direct = "let r = institutions().map(|i| i.students / (i.students - 7));\nr.len()\n";
    for src in [ok, bad, direct] {
        let f = ws.write("c.rhai", src);
        let plan = ws.cmd().args(["check", "--plan", &f]).output().unwrap();
        let plan = String::from_utf8_lossy(&plan.stdout).into_owned();
        assert!(plan.contains("compiled where map runs it"), "{plan}");
        let run = |interpret: &str| {
            let o = ws
                .cmd()
                .env("CASEBOOK_INTERPRET", interpret)
                .args(["run", &f, "--as-of", AS_OF, "--format", "jsonl"])
                .output()
                .unwrap();
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        let (compiled, interpreted) = (run("0"), run("1"));
        assert_eq!(compiled, interpreted, "{src}");
        if src == ok {
            assert!(compiled.1.contains(&format!("\"n\":{N}")), "{}", compiled.1);
        } else {
            assert_eq!(compiled.0, Some(1), "{}", compiled.2);
        }
    }
}

#[test]
fn the_first_error_in_record_order_is_the_one_reported() {
    let ws = city();
    // Two institutions fail, far apart so that each worker meets one: the run
    // reports the earlier one, whichever worker got there first.
    let src = r#"
        fn f(i) {
            if i.id == "I01499" { print("just before"); }
            if i.id == "I01500" || i.id == "I04800" { throw `bad ${i.id}`; }
            1
        }
        let r = institutions().map(|x| f(x));
        r.len()
    "#;
    for _ in 0..3 {
        let r = run(&ws, src).code(1);
        // Lines printed before the error in the failing batch are printed.
        assert!(r.stderr.contains("just before"), "{}", r.stderr);
        let err = r.stderr;
        assert!(err.contains("bad I01500"), "{err}");
        assert!(!err.contains("bad I04800"), "{err}");
        // The chain of calls points into the script, as a sequential map's does.
        assert!(
            err.contains("in fn |closure|, called at s.rhai:7:"),
            "{err}"
        );
        assert!(!err.contains(":1:"), "{err}");
    }
}

#[test]
fn the_repl_shows_courses_as_a_table_and_helps_with_their_properties() {
    let ws = city();
    let out = ws
        .cmd()
        .args(["repl", "--as-of", AS_OF])
        .env("HOME", ws.path())
        .env("CASEBOOK_HISTORY", ws.path().join("history"))
        .write_stdin("courses()\n:help daily_end_time\n:help\n")
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    for part in [
        "subject_type",
        "daily_end_time",
        "C00001-0",
        "课程0",
        "showing 50 of",
        "course.daily_end_time (text): \"HH:MM\"",
        "Course filing properties: id institution_id",
        "Licence application properties: id",
    ] {
        assert!(out.contains(part), "{part} missing:\n{out}");
    }
}

#[test]
fn messages_name_courses_in_words_and_to_array_takes_an_array() {
    let ws = city();
    let err = run(&ws, r#"count_by(courses(), "mod")"#).code(1).stderr;
    assert!(
        err.contains("a course filing has no property \"mod\""),
        "{err}"
    );
    assert!(!err.contains("::Crs"), "{err}");
    let out = run(
        &ws,
        "findings().filter(|f| f.severity == 1).to_array().len()",
    )
    .ok()
    .stdout;
    assert!(out.trim().parse::<usize>().unwrap() > 0, "{out}");
}

#[test]
fn rows_of_different_keys_merge_from_batches_as_a_sequential_run_emits_them() {
    let ws = city();
    // Rows with the first row's keys, fewer, more and others, in every batch.
    let prelude = r#"
        fn f(i) {
            let n = i.students;
            if n % 5 == 0 { emit(#{id: i.id, n: n}); }
            else if n % 5 == 1 { emit(#{id: i.id}); }
            else if n % 5 == 2 { emit(#{id: i.id, n: n, extra: `e${n}`}); }
            else if n % 5 == 3 { emit(#{other: n, id: i.id}); }
            n
        }"#;
    for tail in ["r.len()", "emit(#{last: r.len()});"] {
        let (par, seq) = both(&ws, prelude, "institutions", tail);
        assert_eq!(par, seq);
        assert!(par.contains(r#""extra":"e2""#), "{par}");
    }
}
