//! The rule author's tools: `test --coverage`, `run --profile` and `score
//! --profile`, `explain`, `definitions`, and the REPL's `:output`, `:once`
//! and `:break`, on the sample scripts and small rules of the tests' own.

use crate::common::*;

/// A rule with a branch and a function its test never reaches.
const GAPPY: &str = r#"fn kind_name(k) {
    switch k {
        "a" => "A",
        "b" => "B",
        _ => "other"
    }
}

fn score(inst) {
    let s = 100;
    if inst.students > 100 {
        s -= deduct(10, "big");
        s -= 1;
    }
    if !inst.fire_approved {
        s -= deduct(20, "fire");
    }
    s
}

fn never(x) {
    let y = x + 1;
    y * 2
}

fn test_small() {
    let i = fixture_institution(#{id: "T1", students: 10, fire_approved: true});
    assert_eq(score(i), 100);
    assert_eq(kind_name("a"), "A");
}

let top = 1;
"#;

#[test]
fn coverage_names_the_lines_never_run_and_the_functions_no_test_reaches() {
    let ws = Ws::new();
    let f = ws.write("gappy.rhai", GAPPY);
    let r = ws.run(&["test", "--coverage", &f]).ok();
    let r = r.stdout_has(&[
        "1 passed, 0 failed",
        "gappy.rhai: 46.2% of 13 statements (6 ran)",
        // 12-13: the big branch; 4-5: the switch arms never taken; 16: fire.
        "never run: gappy.rhai:4-5, gappy.rhai:12-13, gappy.rhai:16, gappy.rhai:22-23",
        "no test reaches fn never",
    ]);
    assert!(!r.stdout.contains("fn test_small"), "{}", r.stdout);
    // JSON per line for an editor, the test results on stderr.
    let r = ws
        .run(&["test", "--coverage", "--format", "json", &f])
        .ok()
        .stderr_has(&["1 passed"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let file = &v["files"][0];
    assert_eq!(file["statements"], 13);
    assert_eq!(file["ran"], 6);
    assert_eq!(file["unreached_functions"], serde_json::json!(["never"]));
    assert_eq!(file["never_run"][1], "12-13");
    let line = |n: i64| {
        file["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["line"] == n)
            .cloned()
    };
    assert_eq!(line(11).unwrap()["ran"], 1);
    assert_eq!(line(12).unwrap()["ran"], 0);
    // The top-level code is not the tests' to run.
    assert!(line(32).is_none());
    // --format needs --coverage.
    ws.run(&["test", "--format", "json", &f]).code(2);
}

#[test]
fn the_credit_rules_tests_reach_every_line() {
    let ws = Ws::new();
    let r = ws
        .run(&["test", "--coverage", &script("credit_score.rhai")])
        .ok();
    assert!(
        r.stdout.contains("credit_score.rhai: 100.0% of "),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("never run"), "{}", r.stdout);
    // Several files, each with its own figure.
    let f = ws.write("gappy.rhai", GAPPY);
    ws.run(&["test", "--coverage", &script("credit_score.rhai"), &f])
        .ok()
        .stdout_has(&["credit_score.rhai: 100.0%", "gappy.rhai: 46.2%"]);
}

#[test]
fn coverage_runs_the_same_tests_as_a_plain_test_run() {
    // A helper file with no tests beside a tested one: a plain run passes, so
    // --coverage must too (it once ran the files one by one and failed this
    // one for having no tests), and still reports the helper's figure.
    let ws = Ws::new();
    let f = ws.write("gappy.rhai", GAPPY);
    let helper = ws.write("helper.rhai", "fn half(n) {\n    n / 2\n}\n");
    ws.run(&["test", &f, &helper])
        .ok()
        .stdout_has(&["1 passed, 0 failed"]);
    ws.run(&["test", "--coverage", &f, &helper])
        .ok()
        .stdout_has(&[
            "1 passed, 0 failed",
            "gappy.rhai: 46.2% of 13 statements (6 ran)",
            "helper.rhai: 0.0% of 1 statements (0 ran)",
            "no test reaches fn half",
        ]);
}

#[test]
fn profile_counts_calls_and_lines_in_a_parallel_map_too() {
    let ws = Ws::init();
    // Enough institutions for the parallel map (and a sequential loop beside it).
    let f = ws.write("many.csv", institutions_csv("P", 2500, "subject"));
    ws.import("institutions", &f);
    let rule = ws.write(
        "p.rhai",
        "fn weight(i) {\n    i.students + 1\n}\n\nfn twice(n) { n * 2 }\n\nlet v = institutions().map(|i| weight(i));\nlet t = 0;\nfor x in v { t += twice(x); }\nt\n",
    );
    let r = ws
        .run(&["run", &rule, "--as-of", "2019-02-20", "--profile"])
        .ok();
    assert_eq!(r.stdout.trim(), "5000");
    let line_of = |name: &str| {
        r.stderr
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in\n{}", r.stderr))
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // Every call counted, whichever thread made it.
    assert_eq!(line_of("weight")[1], "2500", "{}", r.stderr);
    assert_eq!(line_of("twice")[1], "2500", "{}", r.stderr);
    let r = r.stderr_has(&["profile: ", "most expensive lines:", "p.rhai:2 ", "%"]);
    // The main thread's wait for the workers is shown apart, not as the map line's time.
    if std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
        assert!(r.stderr.contains("p.rhai:7 waited "), "{}", r.stderr);
    }
    // Without --profile: no report.
    let r = ws.run(&["run", &rule, "--as-of", "2019-02-20"]).ok();
    assert!(!r.stderr.contains("profile"), "{}", r.stderr);
}

#[test]
fn score_profile_times_the_rule() {
    let ws = populated();
    let r = ws
        .run(&[
            "score",
            &script("credit_score.rhai"),
            "--as-of",
            "2019-02-20",
            "--format",
            "csv",
            "--profile",
        ])
        .ok();
    assert_eq!(csv_rows(&r.stdout).len(), 4);
    let score = r
        .stderr
        .lines()
        .find(|l| l.starts_with("score "))
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert_eq!(score.split_whitespace().nth(1), Some("3"), "{score}");
    r.stderr_has(&["扣分明细", "credit_score.rhai:"]);
}

#[test]
fn explain_shows_the_branches_values_and_deductions_of_one_decision() {
    let ws = populated();
    let rule = script("credit_score.rhai");
    // GZ-0002: a non-subject studio without fire approval, with an overdue finding.
    let r = ws
        .run(&["explain", &rule, "GZ-0002", "--as-of", "2019-02-20"])
        .ok();
    let r = r.stdout_has(&[
        "score(GZ-0002) as of 2019-02-20",
        "fn score(GZ-0002)",
        "fn 扣分明细(GZ-0002)",
        "if !inst.fire_approved → true   (inst.fire_approved = false)",
        "if 学科类 && !inst.licensed → false   (学科类 = false, inst.licensed = false)",
        "if f.overdue → true   (f = F-2, f.overdue = true)",
        "deduct 10: 消防验收未通过",
        "deduct 20: 无证办学 / no licence (F-2) 逾期未整改",
        "fn grade(70)",
        "score 70 → grade C",
    ]);
    // Every line is named with the script's line.
    let at = format!("{rule}:60");
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(&at) && l.contains("fire_approved")),
        "{}",
        r.stdout
    );
    // The decision explained is the one `score` makes.
    let s = ws
        .run(&["score", &rule, "--as-of", "2019-02-20", "--format", "jsonl"])
        .ok();
    let d = jsonl(&s.stdout)
        .into_iter()
        .find(|d| d["id"] == "GZ-0002")
        .unwrap();
    assert_eq!(d["score"], 70);
    assert_eq!(d["grade"], "C");
}

#[test]
fn explain_another_function_and_its_errors() {
    let ws = populated();
    let rule = ws.write(
        "crit.rhai",
        "fn blacklisted(inst) {\n    let open = inst.findings().filter(|f| f.status != \"closed\").len();\n    if open > 0 && !inst.licensed { true } else { false }\n}\nfn score(inst) { 100 }\n",
    );
    ws.run(&[
        "explain",
        &rule,
        "GZ-0002",
        "--as-of",
        "2019-02-20",
        "--fn",
        "blacklisted",
    ])
    .ok()
    .stdout_has(&[
        "blacklisted(GZ-0002)",
        // A condition calling a method is shown with its values all the same.
        "if open > 0 && !inst.licensed → true   (open = 1, inst.licensed = false)",
        "blacklisted returned true",
    ]);
    // Without --fn: fn score, and the default grades.
    ws.run(&["explain", &rule, "GZ-0001", "--as-of", "2019-02-20"])
        .ok()
        .stdout_has(&["score 100 → grade A"]);
    ws.run(&["explain", &rule, "GZ-9999", "--as-of", "2019-02-20"])
        .code(1)
        .stderr_has(&["no institution with id \"GZ-9999\""]);
    ws.run(&["explain", &rule, "GZ-0001", "--fn", "nosuch"])
        .code(1)
        .stderr_has(&["defines no fn nosuch(inst)"]);
    // A failing rule fails with its line.
    let bad = ws.write("bad.rhai", "fn score(inst) {\n    inst.nosuch + 1\n}\n");
    ws.run(&["explain", &bad, "GZ-0001", "--as-of", "2019-02-20"])
        .code(1)
        .stderr_has(&["bad.rhai:2:"]);
}

#[test]
fn definitions_document_every_casebook_function_and_property() {
    let ws = Ws::new();
    let r = ws.run(&["definitions", "defs"]).ok();
    r.stderr_has(&["wrote defs/__static__.d.rhai"]);
    let s = std::fs::read_to_string(ws.path().join("defs/__static__.d.rhai")).unwrap();
    assert!(s.starts_with("module static;"), "{}", &s[..100]);
    for want in [
        "/// `institutions()`: every institution",
        "fn institutions() -> records;",
        "/// `deduct(points, reason)`: in fn score",
        "/// .days_overdue: days past the deadline if overdue, else 0\nfn get days_overdue(_: finding)",
    ] {
        assert!(s.contains(want), "{want} missing");
    }
    assert!(!s.contains("EvalAltResult"), "a mangled type");
    let scope = std::fs::read_to_string(ws.path().join("defs/__scope__.d.rhai")).unwrap();
    assert!(scope.contains("args"), "{scope}");
}

/// A REPL session fed from a pipe in the workspace; its output.
fn piped_repl(ws: &Ws, input: &str) -> (Option<i32>, String) {
    let o = ws
        .cmd()
        .args(["repl", "--as-of", "2019-02-20"])
        .write_stdin(input)
        .output()
        .unwrap();
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
}

#[test]
fn repl_output_and_once_send_results_to_a_file() {
    let ws = populated();
    let (code, out) = piped_repl(
        &ws,
        "institutions().len()\n:once one.txt\nfindings().len()\n1 + 1\n:output all.txt\n\"a\"\n:help as-of\n:output\n\"back\"\n:once\n",
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("\n3\n"), "{out}");
    assert!(out.contains("\n2\n") && out.contains("back"), "{out}");
    assert!(!out.contains("\"a\"") && !out.contains("\na\n"), "{out}");
    assert!(out.contains("error: :once FILE"), "{out}");
    let one = std::fs::read_to_string(ws.path().join("one.txt")).unwrap();
    assert_eq!(one, "3\n");
    let all = std::fs::read_to_string(ws.path().join("all.txt")).unwrap();
    assert!(all.starts_with("a\n:as-of DATE"), "{all}");
}

#[test]
fn repl_break_step_next_locals_continue() {
    let ws = populated();
    ws.write(
        "rules.rhai",
        "fn risk(i) {\n    let r = 0;\n    if i.students > 100 {\n        r += 1;\n    }\n    r += helper(i);\n    r\n}\n\nfn helper(i) {\n    let h = 2;\n    h\n}\n",
    );
    let (code, out) = piped_repl(
        &ws,
        ":break rules.rhai:3\n:load rules.rhai\n:break rules.rhai:3\n:break\n\
         risk(institution(\"GZ-0001\"))\nlocals\nn\nn\ns\nl\nc\n\
         risk(institution(\"GZ-0003\"))\nc\n:break clear\nrisk(institution(\"GZ-0001\"))\n",
    );
    // The first :break, before the file was loaded, failed.
    assert_eq!(code, Some(1), "{out}");
    for want in [
        "error: rules.rhai has not been run in with :load FILE",
        "break point 1 at rules.rhai:3",
        "1: rules.rhai:3",
        "stopped at rules.rhai:3: if i.students > 100 {",
        "  i = GZ-0001\n  r = 0\n",
        "stopped at rules.rhai:4: r += 1;",
        "stopped at rules.rhai:6: r += helper(i);",
        // `s` steps into the called function, to its first line.
        "stopped at rules.rhai:11: let h = 2;",
    ] {
        assert!(out.contains(want), "{want:?} not in\n{out}");
    }
    // Each call stops at the break point; after :break clear, none does.
    assert_eq!(out.matches("stopped at rules.rhai:3").count(), 2, "{out}");
    assert!(out.trim_end().ends_with('3'), "{out}");
}
