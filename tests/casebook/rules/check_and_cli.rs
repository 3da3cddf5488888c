//! `casebook check` on what will certainly fail or mislead, `casebook
//! schema`, stdout carrying only rows, empty results said, times in the
//! local zone, and bad flag values as usage errors (exit 2).

use crate::common::{populated, Ws};

#[test]
fn check_reports_unknown_functions_misspelt_properties_and_dates_compared_with_text() {
    let ws = populated();
    let f = ws.write(
        "c.rhai",
        "let n = institutons().len();\nlet m = findings().filter(|f| f.overdeu).len();\nlet d = findings().filter(|f| f.deadline < \"2019-01-01\").len();\n",
    );
    let r = ws.run(&["check", &f]).code(1);
    // The date comparison is found while compiling: it is reported first, alone.
    r.stderr_has(&[
        "cannot compare .deadline, a date, with the text \"2019-01-01\"",
        "c.rhai:3:",
    ]);
    let f = ws.write(
        "c.rhai",
        "let n = institutons().len();\nlet m = findings().filter(|f| f.overdeu).len();\n",
    );
    ws.run(&["check", &f]).code(1).stderr_has(&[
        "error: there is no function institutons()",
        "did you mean institutions?",
        "c.rhai:1:9",
        "error: no record has the property .overdeu",
        "did you mean .overdue?",
        "c.rhai:2:",
        "2 error(s), 0 warning(s)",
    ]);
    // The shipped scripts are clean.
    let mut args = vec!["check".to_string()];
    for s in [
        "overdue.rhai",
        "credit_score.rhai",
        "blacklist.rhai",
        "notices.rhai",
    ] {
        args.push(crate::common::script(s));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ws.run(&args).ok().stderr_has(&["0 error(s), 0 warning(s)"]);
}

#[test]
fn a_missing_semicolon_is_one_error_where_it_is_missing() {
    let ws = Ws::new();
    let f = ws.write(
        "semi.rhai",
        "let a = 1   // the count\nlet b = 2;\nlet c = a + b;\nprint(c);\n",
    );
    let r = ws.run(&["check", &f]).code(1);
    r.stderr_has(&["';' is missing", "semi.rhai:1:10", "1 error(s)"]);
    // The run says the same.
    ws.run(&["init"]).ok();
    ws.run(&["run", &f]).code(1).stderr_has(&["semi.rhai:1:10"]);
}

#[test]
fn schema_lists_every_property_with_its_type_and_values() {
    let ws = populated();
    let r = ws.run(&["schema"]).ok();
    for part in [
        "institution.category (enum)",
        "subject                学科类",
        "non_subject            非学科类",
        "institution.district (district)",
        "天河区",
        "finding.status (enum)",
        "已销号",
        "course.mode (enum)",
        "application.status (enum)",
        "inspection.departments (array of enum)",
        "finding.deadline (date)",
        "institution.students (integer)",
    ] {
        assert!(r.stdout.contains(part), "{part} missing:\n{}", r.stdout);
    }
    let r = ws.run(&["schema", "findings"]).ok();
    assert!(r.stdout.contains("finding.kind") && !r.stdout.contains("institution."));
    ws.run(&["schema", "bogus"])
        .code(2)
        .stderr_has(&["no record kind \"bogus\"", "institution, finding"]);
}

#[test]
fn print_and_debug_go_to_stderr_and_csv_stays_clean() {
    let ws = populated();
    let f = ws.write("p.rhai", "print(\"hello\"); debug(\"dbg\"); emit(#{a: 1});");
    let r = ws.run(&["run", &f, "--format", "csv"]).ok();
    assert_eq!(r.stdout, "a\n1\n");
    assert!(
        r.stderr.contains("hello") && r.stderr.contains("dbg"),
        "{}",
        r.stderr
    );
    // The notices script's summary line no longer breaks `| jq`: stdout is all JSON.
    let r = ws.run(&["run", &f, "--format", "jsonl"]).ok();
    for line in r.stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("a JSON line");
    }
}

#[test]
fn empty_results_are_said() {
    let ws = populated();
    let f = ws.write(
        "e.rhai",
        "for i in institutions() { if i.students > 10000 { emit(#{id: i.id}); } }",
    );
    ws.run(&["run", &f, "--format", "table"])
        .ok()
        .stdout_has(&["(0 rows)"]);
    let f = ws.write(
        "h.rhai",
        "columns([\"id\", \"name\"]); for i in [] { emit(#{id: 1, name: 2}); }",
    );
    let r = ws.run(&["run", &f, "--format", "csv"]).ok();
    assert_eq!(r.stdout, "id,name\n");
    // casebook test on a file without test_* functions fails, and says why.
    let f = ws.write("no_tests.rhai", "let x = 1;\n");
    ws.run(&["test", &f])
        .code(1)
        .stdout_has(&["no test_* functions in", "no_tests.rhai"]);
}

#[test]
fn audit_and_run_times_are_shown_in_local_time_with_the_offset() {
    let ws = populated();
    let rule = ws.write("r.rhai", "fn score(inst) { 100 }\nfn grade(s) { \"A\" }\n");
    let mut c = ws.cmd();
    c.env("TZ", "UTC").args([
        "score",
        &rule,
        "--as-of",
        "2019-02-20",
        "--save",
        "--format",
        "csv",
    ]);
    assert!(c.output().unwrap().status.success());
    let shown = |tz: &str, args: &[&str]| {
        let o = ws.cmd().env("TZ", tz).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let sh = shown("Asia/Shanghai", &["audit", "--last", "1"]);
    assert!(sh.contains("+08:00\""), "{sh}");
    let utc = shown("UTC", &["audit", "--last", "1"]);
    assert!(utc.contains("+00:00\""), "{utc}");
    let runs = shown("Asia/Shanghai", &["runs"]);
    assert!(runs.contains("+08:00"), "{runs}");
    // The hour differs by the offset: the time is stored once, in UTC.
    let hour = |s: &str| -> u32 {
        let i = s.find("\"at\":\"").unwrap() + 6;
        s[i + 11..i + 13].parse().unwrap()
    };
    assert_eq!((hour(&utc) + 8) % 24, hour(&sh));
}

#[test]
fn bad_flag_values_are_usage_errors_naming_the_flag() {
    let ws = populated();
    let f = ws.write("x.rhai", "1");
    ws.run(&["run", &f, "--as-of", "2019-02-30"])
        .code(2)
        .stderr_has(&["--as-of \"2019-02-30\"", "not a real calendar date"]);
    ws.run(&["run", &f, "--arg", "district"])
        .code(2)
        .stderr_has(&["--arg", "\"district\" is not K=V"]);
}
