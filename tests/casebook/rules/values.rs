//! A value means the same in either language, and a string that is no value
//! of the property is an error, at run time and from `casebook check`.

use crate::common::{populated, Run, Ws};

const AS_OF: &str = "2019-02-20";

/// Runs `src` as a script on `ws` as of [`AS_OF`] with `extra` flags.
fn run(ws: &Ws, src: &str, extra: &[&str]) -> Run {
    let f = ws.write("rule.rhai", src);
    let mut a = vec!["run", f.as_str(), "--as-of", AS_OF, "--format", "jsonl"];
    a.extend_from_slice(extra);
    ws.run(&a)
}

/// The one value a script returns, as printed.
fn value(ws: &Ws, src: &str, extra: &[&str]) -> String {
    run(ws, src, extra).ok().stdout.trim().to_string()
}

// populated(): GZ-0001 天河 subject operating, GZ-0002 海珠 non_subject
// rectifying, GZ-0003 番禺 subject self_closed; findings F-1 (GZ-0001,
// fire_hazard, closed), F-2 (GZ-0002, no_licence, open), F-3 (GZ-0001,
// late_hours, rectified).

#[test]
fn chinese_names_compare_as_the_english_codes_do() {
    let ws = populated();
    let src = r#"
        let n = |p| institutions().filter(p).len();
        [
            n.call(|i| i.category == "学科类"), n.call(|i| i.category == "subject"),
            n.call(|i| i.category != "学科类"), n.call(|i| "非学科类" == i.category),
            n.call(|i| i.district == "天河区"), n.call(|i| i.district == "天河"),
            n.call(|i| i.status == "主动关停"), n.call(|i| i.status in ["经营中", "整改中"]),
            findings().filter(|f| f.kind == "消防隐患").len(),
            findings().filter(|f| f.status in ["未整改", "rectified"]).len(),
        ]
    "#;
    assert_eq!(value(&ws, src, &[]), "2;2;1;1;1;1;1;2;1;2");
}

#[test]
fn a_value_from_a_variable_compares_by_meaning_too() {
    let ws = populated();
    let src = r#"
        let c = "学科类";
        for f in findings() { if f.kind == "无证办学" { print(f.id); } }
        institutions().filter(|i| i.category == c).len()
    "#;
    let r = run(&ws, src, &[]).ok();
    assert_eq!(r.stdout.trim(), "2");
    assert!(r.stderr.contains("F-2"), "{}", r.stderr);
}

#[test]
fn switch_arms_may_be_written_in_chinese() {
    let ws = populated();
    let src = r#"
        let out = [];
        for i in institutions() {
            out.push(switch i.category { "学科类" => "学科", "非学科类" => "非学科", _ => "?" });
        }
        out
    "#;
    assert_eq!(value(&ws, src, &[]), "学科;非学科;学科");
}

#[test]
fn arg_values_may_be_written_in_chinese() {
    let ws = populated();
    let src = "institutions().filter(|i| i.district == args.district).map(|i| i.id)";
    assert_eq!(value(&ws, src, &["--arg", "district=天河区"]), "GZ-0001");
    let src = r#"value_of("district", args.district)"#;
    assert_eq!(value(&ws, src, &["--arg", "district=番禺区"]), "番禺");
    // The sample script takes the full name (it refused it before).
    let script = crate::common::script("overdue.rhai");
    let r = ws
        .run(&[
            "run",
            &script,
            "--as-of",
            AS_OF,
            "--arg",
            "district=海珠区",
            "--format",
            "csv",
        ])
        .ok();
    assert!(
        r.stdout.contains("F-2") && r.stdout.contains("海珠"),
        "{}",
        r.stdout
    );
}

#[test]
fn properties_still_print_their_english_code() {
    let ws = populated();
    let src = r#"let i = institution("GZ-0001"); emit(#{c: i.category, d: i.district, t: type_of(i.category)});"#;
    assert_eq!(
        value(&ws, src, &[]),
        r#"{"c":"subject","d":"天河","t":"string"}"#
    );
}

// (A script's last value prints as a table cell: an array's items joined by ';'.)

/// Every way of writing a value that is no value of the property: exit 1,
/// the allowed values in both languages, file:line:col and a caret.
#[test]
fn a_string_that_is_no_value_stops_the_run_naming_the_values() {
    let ws = populated();
    for (src, col, values) in [
        (
            r#"institutions().filter(|i| i.category == "学科").len()"#,
            41,
            "subject (学科类), non_subject (非学科类)",
        ),
        (
            r#"institutions().filter(|i| i.status == "open").len()"#,
            36,
            "operating (经营中)",
        ),
        (
            r#"institutions().filter(|i| i.district == "Tianhe district").len()"#,
            41,
            "天河 (天河区)",
        ),
        (
            r#"let s = "open"; institutions().filter(|i| i.status == s).len()"#,
            52,
            "self_closed (主动关停)",
        ),
        (
            r#"institutions().filter(|i| i.category in ["学科类", "学科"]).len()"#,
            49,
            "non_subject (非学科类)",
        ),
        (
            r#"for i in institutions() { switch i.category { "学科" => 1, _ => 0 } }"#,
            47,
            "subject (学科类)",
        ),
    ] {
        let r = run(&ws, src, &[]).code(1);
        assert!(
            r.stderr.contains("is not a value of ."),
            "{src}\n{}",
            r.stderr
        );
        assert!(r.stderr.contains(values), "{src}\n{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("rule.rhai:1:{col}")),
            "{src}\n{}",
            r.stderr
        );
        assert!(
            r.stderr.lines().any(|l| l.trim_end().ends_with('^')),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    // An --arg that is no district.
    let src = "institutions().filter(|i| i.district == args.district).len()";
    run(&ws, src, &["--arg", "district=Tianhe"])
        .code(1)
        .stderr_has(&["\"Tianhe\" is not a value of .district", "越秀 (越秀区)"]);
}

#[test]
fn check_finds_the_same_mistakes_before_the_run() {
    let ws = populated();
    for src in [
        r#"institutions().filter(|i| i.category == "学科").len()"#,
        r#"institutions().filter(|i| i.status == "open").len()"#,
        r#"institutions().filter(|i| i.district == "Tianhe district").len()"#,
        r#"findings().filter(|f| f.status == "overdue").len()"#,
        r#"for inst in institutions() { if inst.status != "rectified" { print(1); } }"#,
    ] {
        let f = ws.write("c.rhai", src);
        ws.run(&["check", &f]).code(1).stderr_has(&[
            "error: ",
            "is not a value of .",
            "c.rhai:1:",
            "1 error(s)",
        ]);
    }
    // overdue is a flag of its own, and the message says so.
    let f = ws.write(
        "c.rhai",
        r#"findings().filter(|f| f.status == "overdue").len()"#,
    );
    ws.run(&["check", &f])
        .code(1)
        .stderr_has(&[".overdue is a property of its own"]);
}

#[test]
fn counts_and_groups_keep_the_bureau_order() {
    let ws = populated();
    // Districts in the ledger's order (海珠 before 天河 before 番禺), not by code point.
    assert_eq!(
        value(&ws, r#"count_by(institutions(), "district").keys()"#, &[]),
        "海珠;天河;番禺"
    );
    assert_eq!(
        value(&ws, r#"count_by(institutions(), "district")"#, &[]),
        r#"#{"海珠": 1, "天河": 1, "番禺": 1}"#
    );
    // Enums as declared: no_licence, fire_hazard … late_hours; subject before non_subject.
    assert_eq!(
        value(&ws, r#"count_by(findings(), "kind").keys()"#, &[]),
        "no_licence;fire_hazard;late_hours"
    );
    assert_eq!(
        value(&ws, r#"group_by(institutions(), "category").keys()"#, &[]),
        "subject;non_subject"
    );
    let f = ws.write("g.rhai", r#"emit(count_by(institutions(), "district"));"#);
    let r = ws
        .run(&["run", &f, "--format", "jsonl", "--as-of", AS_OF])
        .ok();
    assert_eq!(r.stdout.trim(), r#"{"海珠":1,"天河":1,"番禺":1}"#);
}
