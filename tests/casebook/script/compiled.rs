//! Compiled script functions against the interpreter: every sample script,
//! and random rules over the API, run both ways on the demo city
//! (`CASEBOOK_INTERPRET=1` forces the interpreter) must print the same rows,
//! the same errors at the same file:line:col, and exit the same.
//!
//! `CASEBOOK_DIFF_CASES=N` runs N random rules instead of the bounded
//! number CI runs (BENCHMARKS.md has the longer run).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::root;

const AS_OF: &str = "2019-02-20";

/// The demo city, built once for this module and `compiled_rows`.
pub(super) fn demo() -> &'static Path {
    static DEMO: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DEMO
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("demo.redb");
            let out = Command::cargo_bin("casebook")
                .unwrap()
                .env_remove("CASEBOOK_DB")
                .current_dir(dir.path())
                .arg("--db")
                .arg(&db)
                .arg("demo")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            (dir, db)
        })
        .1
}

/// What one run printed and how it ended.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(script: &Path, args: &[&str], interpret: bool) -> Outcome {
    let out = Command::cargo_bin("casebook")
        .unwrap()
        .env_remove("CASEBOOK_DB")
        .env("CASEBOOK_INTERPRET", if interpret { "1" } else { "0" })
        .arg("run")
        .arg(script)
        // A generous limit: a run stopped by the clock on a loaded machine
        // would differ from its twin for no fault of either.
        .args([
            "--as-of",
            AS_OF,
            "--format",
            "jsonl",
            "--timeout",
            "600",
            "--db",
        ])
        .arg(demo())
        .args(args)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `script` both ways; panics, showing both, if they differ.
fn same_both_ways(script: &Path, args: &[&str]) -> Outcome {
    let compiled = run(script, args, false);
    let interpreted = run(script, args, true);
    assert_eq!(
        compiled,
        interpreted,
        "{} differs between compiled and interpreted functions:\n{}",
        script.display(),
        std::fs::read_to_string(script).unwrap_or_default()
    );
    compiled
}

#[test]
fn every_sample_script_runs_the_same_compiled_and_interpreted() {
    let mut n = 0;
    for e in std::fs::read_dir(root().join("scripts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rhai") {
            same_both_ways(&p, &[]);
            n += 1;
        }
    }
    same_both_ways(
        &root().join("scripts/course_check.rhai"),
        &["--arg", "all=1"],
    );
    same_both_ways(
        &root().join("scripts/course_check.rhai"),
        &["--arg", "district=天河"],
    );
    same_both_ways(
        &root().join("scripts/course_check.rhai"),
        &["--arg", "district=nowhere"],
    );
    assert!(n >= 10, "only {n} sample scripts");
}

#[test]
fn the_benchmark_rule_is_compiled_and_gives_the_interpreters_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("rule.rhai");
    std::fs::copy(root().join("../shared/bench/rule.rhai"), &rule)
        .or_else(|_| std::fs::write(&rule, BENCH_RULE).map(|_| 0))
        .unwrap();
    let out = same_both_ways(&rule, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("\"n\":"), "{}", out.stdout);
}

#[test]
fn a_loop_over_findings_reads_every_property_as_the_interpreter_does() {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in [
        // Only decoded properties: the findings are read without their bytes.
        "fn f(i) { let r = []; for x in i.findings() { r.push([x.kind, x.severity, x.opened_on, x.deadline, x.rectified_on, x.verified_on, x.status, x.overdue, x.days_overdue, x.kind == \"fire_hazard\", x.status == \"open\"]); } r }\nlet r = institutions().map(|i| f(i));\nemit(#{v: r, n: r.len()});",
        // Texts as well: the same loop keeps each finding's bytes.
        "fn f(i) { let r = []; for x in i.findings() { r.push([x.id, x.institution_id, x.inspection_id, x.note, x.severity, x.status]); } r }\nlet r = institutions().map(|i| f(i));\nemit(#{v: r, n: r.len()});",
        // break, return, and a loop over another institution's findings inside.
        "fn g(i) { let n = 0; for x in i.findings() { n += x.severity; } n }\nfn f(i) { let n = 0; for x in i.findings() { if x.severity > 2 { break; } n += g(institution(\"GZ-BY-00001\")) + x.days_overdue; if n > 500 { return -n; } } n }\nlet r = institutions().map(|i| f(i));\nlet t = 0; for v in r { t += v; }\nemit(#{t: t, n: r.len(), one: f(institution(\"GZ-BY-00002\"))});",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.path().join(format!("loop{i}.rhai"));
        std::fs::write(&p, body).unwrap();
        let out = same_both_ways(&p, &[]);
        assert_eq!(out.code, Some(0), "{body}\n{}", out.stderr);
    }
}

/// The benchmark rule, for a checkout without the shared folder beside it.
const BENCH_RULE: &str = r#"fn score(inst) {
    let s = 100;
    if inst.category == "subject" && !inst.licensed { s -= 20; }
    for f in inst.findings() {
        if f.status != "closed" {
            s -= 5 * f.severity;
            if f.overdue { s -= 10; }
        }
    }
    if inst.prepaid_balance > 5000 * inst.students { s -= 15; }
    if s < 0 { 0 } else { s }
}
let scores = institutions().map(|i| score(i));
let total = 0;
for s in scores { total += s; }
emit(#{n: scores.len(), total: total});
"#;

#[test]
fn errors_in_compiled_functions_come_out_as_the_interpreters() {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in [
        "fn f(x) { let y = x + 9223372036854775807; y }\nemit(#{v: f(1)});",
        "fn f(x) { if x > 0 { throw `no ${x}`; } x }\nfn g(x) { f(x) + 1 }\nemit(#{v: g(2)});",
        "fn f(x) { x.no_such_property }\nemit(#{v: f(institution(\"GZ-BY-00001\"))});",
        "fn f(x) { if x { 1 } else { 2 } }\nemit(#{v: f(3)});",
        "fn f(x) { x / 0 }\nemit(#{v: f(3)});",
        "fn f(x) { f(x + 1) }\nemit(#{v: f(0)});",
        "fn f(x) { no_such_function(x) }\nemit(#{v: f(0)});",
        "fn f(x) { let a = [1, 2]; a.push(x); a.len() + `${x}`.len() }\nemit(#{v: f(\"ab\")});",
        "fn f(d) { d + 3 - date(\"2019-01-01\") }\nemit(#{v: f(date(\"2019-02-01\"))});",
        "fn f(x) { let a = [1]; a.push(x); a.push(a.len()); let y = 2.6; [a, a.is_empty(), y.round(), y.floor(), y.to_int(), 3.to_float()] }\nemit(#{v: f(5)});",
        "fn f(x) { x.to_int() }\nemit(#{v: f(1e30)});",
        "fn f(x) { const C = [1]; C.push(x); C }\nemit(#{v: f(5)});",
        "const A = [1];\nfn f(x) { x.push(2); x }\nfn g(x) { x = 5; x }\nemit(#{a: g(A), b: f(A)});",
        "fn f(i) { i.findings().len() + i.students }\nlet r = institutions().map(|i| f(i));\nemit(#{v: r.len()});",
        // The natives compiled code calls without Rhai, their errors, and their fallbacks.
        "fn f(d) { add_months(d, 1) - add_months(d, -14) }\nfn g(d) { add_months(d, 9999999999) }\nemit(#{v: f(date(\"2019-01-31\"))});\nemit(#{v: g(date(\"2019-01-31\"))});",
        "fn f(x) { `${yuan(x)} ${yuan(12)}` }\nemit(#{v: f(1234567.5)});\nemit(#{v: f(\"a\")});",
        "fn f(a) { join(a, \", \") + join([1, 2.5, \"x\", ()], \"-\") + can_write() + dry_run() }\nemit(#{v: f([\"a\", \"b\"])});\nfn g() { join(\"ab\", \",\") }\nemit(#{v: g()});",
        "fn f() { let m = #{a: 1, b: \"x\"}; emit(m); emit(m); m.a + add_months(date(\"2019-01-01\"), 2.5) }\nemit(#{v: f()});",
        "fn f(c) { let i = c.institution(); [i.name, institution(c.institution_id).id, institution(\"nope\"), institution(c.id)] }\nlet r = courses().map(|c| f(c));\nemit(#{v: r[0], n: r.len()});",
        "fn f(i) { let x = i.findings(); if x.is_empty() { 0 } else { emit(x[0]); x[0].institution().name } }\nlet r = institutions().map(|i| f(i));\nemit(#{v: r[0]});",
        "fn f(x) { [x == (), () != x, x < (), () >= x, () == 1.5, \"a\" != (), () > \"a\", () == true, () != date(\"2019-01-01\")] }\nemit(#{v: f(())});\nemit(#{v: f(1)});\nemit(#{v: f(\"s\")});\nemit(#{v: f(2.5)});\nfn g(x) { x + () }\nemit(#{v: g(1)});",
        // A record's text property compared with a literal without a script
        // string: English codes, Chinese names, texts, either side, `!=`;
        // maps and `()` in the same variable; a property `()` has not.
        "fn f(c) { [c.status == \"filed\", \"filed\" != c.status, c.mode == \"online\", c.mode != \"offline\", c.subject_type == \"subject\", \"non_subject\" == c.subject_type, c.mode == \"线上\", c.status != \"待审核\", c.subject_type == \"学科类\", c.name == \"x\", c.id != c.id, c.institution_id == \"GZ-BY-00001\"] }\nlet r = courses().map(|c| f(c));\nemit(#{v: r[0], n: r.len(), on: r.filter(|x| x[2]).len(), s: r.filter(|x| x[4]).len()});\nemit(#{v: f(#{status: \"filed\", mode: \"online\", subject_type: 1, name: (), id: \"a\"})});",
        "fn f(c) { [c.institution_id == \"a\", c.status == \"filed\"] }\nemit(#{v: f(())});",
        "fn f(c) { [\"待审核\" == c.status, \"accepted\" != c.status, c.status == \"已驳回\", \"offline\" == c.mode, c.mode != \"线下\"] }\nlet r = courses().map(|c| f(c));\nemit(#{v: r[0], n: r.filter(|x| x[0]).len()});\nemit(#{v: f(#{status: \"待审核\", mode: \"x\"})});",
        "fn f(c) { c.status == \"operating\" }\nlet r = courses().map(|c| f(c));\nemit(#{v: r.len()});",
        "fn f(i) { [i.status == \"operating\", i.category == \"非学科类\"] }\nfn g(c) { \"rejected\" == c.status }\nemit(#{v: f(institution(\"GZ-BY-00001\")), w: g(#{status: ()})});\nemit(#{v: g(())});",
        "fn f(i) { [i.category == \"subject\", i.category != \"学科类\", i.district == \"天河\", \"越秀\" != i.district, i.name == \"\", i.id == \"GZ-BY-00001\", i.status == \"operating\"] }\nlet r = institutions().map(|i| f(i));\nemit(#{v: r[0], n: r.len(), t: r.filter(|x| x[2]).len()});\nemit(#{v: f(#{category: \"subject\"})});",
        "fn f(i) { i.district == \"天河\" }\nemit(#{v: f(institution(\"nope\"))});",
        "fn f(c) { c.mode == \"hybrid\" }\nemit(#{v: f(())});",
        "fn f(c, x) { if x { c.status == \"filed\" } else { c.id != \"a\" } }\nemit(#{v: f(5, true)});",
        "fn f(c, x) { c.id != \"a\" }\nemit(#{v: f(#{}, 1)});\nemit(#{v: f(\"s\", 1)});",
        // NaN against 0 (Rhai's comparison answers before its epsilon test).
        "fn f(z) { let n = 0.0 / z; [n == 0, n != 0, n > 0, n >= 0, n < 0, n <= 0, 0 == n, n == 0.0, n == n, n == 1, 0.0 >= n] }\nemit(#{v: f(0.0)});",
        // Numbers in interpolated strings, as Rhai prints them.
        "fn f(x) { `${x} ${x * 1.0} ${x / 3.0} ${-x} ${x * 1e20} ${1.0 / (x * 1e9)} ${0.1 + 0.2} ${x - x} ${-0.0}` }\nemit(#{v: f(7)});\nemit(#{v: f(9223372036854775807)});\nemit(#{v: f(0)});",
        // Frames kept for the next call (round 5): recursion, an error in
        // the middle of a call's arguments, then more calls on the same thread.
        "fn f(n) { let a = n * 2; let b = `${a}`; if n > 0 { a + f(n - 1) + b.len() } else { a } }\nfn g(n) { let x = [n]; x.push(if n > 3 { n / 0 } else { n }); x }\nemit(#{v: f(30), w: g(1)});\nemit(#{v: f(5), w: g(7)});",
        "fn f(c) { let a = 1; let b = 2; let t = c.name; [a + b, t, c.id] }\nfn g(c) { let i = c.institution(); [f(c), i.name, f(c)[1] == c.name] }\nlet r = courses().map(|c| g(c));\nemit(#{v: r[0], n: r.len()});",
        // Calls of five or more arguments (past the few kept on the stack),
        // natives and interpreted functions, by value and by reference.
        "fn h(a, b, c, d, e) { const K = 1; `${a}${b}${c}${d}${e}${K}` }\nfn f(x) { let s = \"培训机构\"; [h(x, s, (), 2.5, [1]), h(s, x, x, x, x), s.sub_string(1, 2), s.pad(6, \"文\"), s.len(), s] }\nemit(#{v: f(7)});\nemit(#{v: f(\"机构\")});",
        // Text into JSON Lines: Chinese, quotes, backslashes, control characters, `()`, dates.
        "fn f(x) { #{a: x, b: `引号\"${x}\"\\ 反斜杠`, c: \"tab\\tnl\\ncr\\r\", d: (), e: date(\"2019-02-20\"), g: [\"下课\", ()], h: join([\"一\", \"二\", `${x}`], \"；\"), y: yuan(-1234567.895)} }\nlet m = f(\"培训\");\nemit(#{a: m.a, b: m.b, c: m.c, d: m.d, e: m.e, g: m.g, h: m.h, y: m.y});\nemit(#{j: join([\"a\", 1, 2.5, (), date(\"2019-01-01\")], \"、\"), y: yuan(1e300), z: yuan(0.005), n: yuan(-0.0)});",
        // Dates read without boxing (round 6): every record type's date
        // properties, in differences and comparisons, either side, nested
        // `add_months`, a date variable; maps, `()` and numbers in the same
        // places; errors from `add_months` and from a date against text.
        "fn f(c) { let d = c.filed_on; [c.ends_on - c.starts_on + 1, add_months(c.starts_on, c.prepay_months) - c.starts_on, add_months(add_months(c.starts_on, 1), -1) == c.starts_on, c.filed_on <= d, d > c.starts_on, c.starts_on != c.ends_on, c.ends_on >= add_months(c.starts_on, 3), c.starts_on < c.ends_on, c.filed_on - 3, c.ends_on - d] }\nlet r = courses().map(|c| f(c));\nemit(#{v: r[0], n: r.len(), s: r.reduce(|a, x| a + x[0] + x[1], 0), t: r.filter(|x| x[2] && x[6]).len()});\nemit(#{v: f(#{filed_on: date(\"2019-01-01\"), starts_on: date(\"2019-03-31\"), ends_on: date(\"2019-05-01\"), prepay_months: 1})});",
        "fn f(i) { let n = 0; for x in i.inspections() { if x.date >= date(\"2018-06-01\") { n += x.date - date(\"2018-01-01\"); } } for a in i.applications() { n += as_of() - a.submitted_on; } for g in i.findings() { n += g.deadline - g.opened_on; if g.opened_on < date(\"2018-09-01\") { n += 1; } } n }\nlet r = institutions().map(|i| f(i));\nemit(#{n: r.len(), s: r.reduce(|a, x| a + x, 0)});",
        "fn f(g) { [g.deadline - g.opened_on, g.opened_on <= as_of(), add_months(g.deadline, 2) - g.deadline] }\nlet r = findings().map(|g| f(g));\nemit(#{n: r.len(), v: r[0], s: r.reduce(|a, x| a + x[0] + x[2], 0)});",
        "fn f(c) { c.starts_on - c.ends_on }\nemit(#{v: f(#{starts_on: 5, ends_on: 2})});\nemit(#{v: f(#{starts_on: 5.5, ends_on: 2})});\nemit(#{v: f(#{starts_on: \"a\", ends_on: \"b\"})});",
        "fn f(c) { c.starts_on == \"2019-03-01\" }\nlet r = courses().map(|c| f(c));\nemit(#{v: r.len()});",
        "fn f(c) { c.starts_on < () }\nlet r = courses().map(|c| f(c));\nemit(#{v: r.len(), w: f(#{})});",
        "fn f(c) { add_months(c.starts_on, c.name) - c.starts_on }\nlet r = courses().map(|c| f(c));\nemit(#{v: r.len()});",
        "fn f(c) { add_months(c.starts_on, 99999999999) - c.starts_on }\nlet r = courses().map(|c| f(c));\nemit(#{v: r.len()});",
        "fn f(c) { add_months(c.starts_on, 1) + c.starts_on }\nlet r = courses().map(|c| f(c));\nemit(#{v: r.len()});",
        "fn f(c, k) { add_months(c.starts_on, k) - c.starts_on }\nlet r = courses().map(|c| f(c, 2));\nemit(#{v: r[0], n: r.len()});",
        "fn f(c, k) { add_months(c.starts_on, k) - c.starts_on }\nemit(#{v: f(courses()[0], 1.5)});",
        // Interpolated strings: literal parts, numbers, texts, dates, `()`, maps.
        "fn f(x) { `甲${x}乙丙${()}丁${date(\"2019-02-20\")}${[x, \"s\"]}${#{a: x}}${\"\"}` }\nfn g(x) { `${x * 1.5}元${x}` }\nemit(#{v: f(3), w: g(3)});\nemit(#{v: f(\"长文本长文本长文本长文本长文本长文本长文本\"), w: g(2.5)});",
        "fn g(x) { `${x * 1.5}元` }\nemit(#{w: g(\"a\")});",
        // Rows streamed before the error (more than a flush), then the incomplete mark.
        "fn f(k) { if k == 4500 { throw `stop ${k}`; } k }\ncolumns([\"n\"]);\nfor k in 0..5000 { emit(#{n: f(k)}); }",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.path().join(format!("e{i}.rhai"));
        std::fs::write(&p, body).unwrap();
        same_both_ways(&p, &[]);
    }
}

/// A random integer, float, boolean, string or date expression over `x`
/// (an integer), `s` (a string) and `inst` (an institution), `depth` deep.
fn expr(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (-5i64..300).prop_map(|n| n.to_string()),
        Just("9223372036854775807".to_string()),
        Just("x".to_string()),
        Just("s.len()".to_string()),
        Just("(x.to_float() / 3.0).round().to_int()".to_string()),
        Just("inst.students".to_string()),
        Just("inst.prepaid_balance".to_string()),
        Just("inst.findings().len()".to_string()),
        Just("(date(\"2019-03-01\") - date(\"2019-01-31\"))".to_string()),
        (0.0f64..100.0).prop_map(|f| format!("{f:.2}")),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let sub = || expr(depth - 1);
    let op = proptest::sample::select(vec!["+", "-", "*", "/", "%"]);
    let cmp = proptest::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]);
    prop_oneof![
        3 => leaf,
        2 => (sub(), op, sub()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
        1 => (sub(), cmp, sub(), sub(), sub())
            .prop_map(|(a, c, b, t, e)| format!("(if {a} {c} {b} {{ {t} }} else {{ {e} }})")),
        1 => (sub(), sub()).prop_map(|(a, b)| format!("[{a}, {b}].len()")),
        1 => sub().prop_map(|a| format!("`v${{{a}}}`.len()")),
        1 => (sub(), sub()).prop_map(|(a, b)| format!("#{{k: {a}, j: {b}}}.k")),
        1 => sub().prop_map(|a| format!("(-{a})")),
        1 => (sub(), sub()).prop_map(|(a, b)| format!("max({a}, {b})")),
        1 => sub().prop_map(|a| format!("g({a})")),
    ]
    .boxed()
}

/// A random statement of the body of `f`.
fn statement() -> impl Strategy<Value = String> {
    let cmp = || proptest::sample::select(vec!["==", "!=", "<", ">="]);
    prop_oneof![
        6 => expr(2).prop_map(|e| format!("r += {e};")),
        1 => expr(2).prop_map(|e| format!("let t = {e}; r = t;")),
        1 => (expr(1), cmp(), expr(1)).prop_map(|(a, c, b)| format!("if {a} {c} {b} {{ return r; }}")),
        1 => (expr(1), cmp(), expr(1)).prop_map(|(a, c, b)| format!("if {a} {c} {b} {{ throw `stop ${{r}}`; }}")),
        1 => (0i64..6).prop_map(|n| format!("for i in 0..{n} {{ r += i; if i == 3 {{ break; }} }}")),
        1 => Just("for f in inst.findings() { if f.status != \"closed\" { r += f.severity; } if f.overdue { continue; } r -= 1; }".to_string()),
        1 => (1i64..5).prop_map(|n| format!("let k = 0; while k < {n} {{ k += 1; r *= 2; }}")),
        1 => (0i64..14, cmp()).prop_map(|(n, c)| format!("for f in inst.findings() {{ r += f.deadline - f.opened_on; if add_months(f.opened_on, x % {n} - 2) {c} f.deadline {{ r += 1; }} }}")),
        1 => expr(1).prop_map(|e| format!("switch r % 3 {{ 0 => r += 1, 1 => r -= {e}, _ => () }}")),
        1 => Just("let a = []; a.push(r); a.push(s); r = a.len() + r;".to_string()),
        1 => Just("let m = #{}; m.x = r; r = m.x;".to_string()),
        1 => Just("let c = |v| v + 1; r = c.call(r);".to_string()),
        1 => Just("s += `${r}`;".to_string()),
        1 => expr(1).prop_map(|e| format!("r = if {e} > 10 {{ r }} else {{ r + 1 }};")),
    ]
}

/// A random rule: `f` over every institution (on every core), `g` a helper,
/// and random statements at top level too (over top-level variables of the
/// same names, one of them shadowed).
fn rule() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(statement(), 1..8),
        expr(1),
        proptest::collection::vec(statement(), 0..4),
    )
        .prop_map(|(body, h, top)| {
            format!(
                "fn g(x) {{ {h} }}\nfn f(inst) {{\n let x = inst.students; let s = inst.name; let r = 0;\n {}\n r\n}}\n\
                 let all = institutions().map(|i| f(i));\nlet total = 0;\nfor v in all {{ total += v; }}\n\
                 let inst = institution(\"GZ-BY-00001\"); let x = 1; let x = inst.students; let s = inst.name; let r = total;\n\
                 {}\n\
                 emit(#{{n: all.len(), total: total, r: r, first: f(inst)}});\n",
                body.join("\n "),
                top.join("\n")
            )
        })
}

#[test]
fn random_rules_run_the_same_compiled_and_interpreted() {
    let cases = std::env::var("CASEBOOK_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("random.rhai");
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&rule(), |src| {
            std::fs::write(&p, &src).unwrap();
            let compiled = run(&p, &[], false);
            let interpreted = run(&p, &[], true);
            prop_assert_eq!(compiled, interpreted, "{}", src);
            Ok(())
        })
        .unwrap();
}

/// Top-level code runs compiled when it can: its variables, shadowing,
/// closures (capturing ones stay with the interpreter), its value, and its
/// errors at the same file:line:col, unwrapped as the interpreter gives them.
#[test]
fn top_level_code_runs_the_same_compiled_and_interpreted() {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in [
        "let x = 1;\nlet x = x + 1;\n{ let x = 10; x += 1; }\nx",
        "fn f(a) { a * 2 }\nlet t = 0;\nfor i in 0..5 { t += f(i); }\nlet m = #{a: t, b: [t, `${t}`]};\nemit(m);",
        "let k = 3;\nlet c = |v| v + k;\nemit(#{v: c.call(2)});",
        "let k = 3;\nlet a = [1, 2, 3].map(|v| v * 2);\nemit(#{v: a, k: k});",
        "let x = 1;\nif x > 0 {\n    throw `bad ${x}`;\n}",
        "let x = 9223372036854775807;\nlet y = x + 1;\nemit(#{y: y});",
        "let a = 1;\nno_such(a);",
        "let i = institution(\"GZ-BY-00001\");\nemit(#{v: i.no_such});",
        "let x = 5;\nif x > 1 { return x * 2; }\n7",
        "fn f(x) { if x > 2 { throw `deep ${x}`; } x }\nlet t = 0;\nfor i in 0..5 {\n  t += f(i);\n}",
        "fn f(i) { i.students }\nlet r = institutions().map(|i| f(i) / (f(i) - f(i)));\nr.len()",
        "let r = institutions().filter(|i| i.students > 100).map(|i| i.students);\nlet n = 0;\nfor v in r { n += v; }\nemit(#{n: n, len: r.len()});",
        "const C = 2;\nfn f(i) { i.students * global::C }\nemit(#{v: f(institution(\"GZ-BY-00001\"))});",
        "let t = 0;\nfor i in institutions() { t += i.students; }\nemit(#{t: t});",
        "let s = \"a\";\nlet n = 0;\nwhile n < 3 { s += s; n += 1; if n == 2 { break; } }\nswitch n { 2 => emit(#{s: s}), _ => () }",
        "print(1);\nlet x = 2;\nx",
        "let x = 1;\nx.no_method(2);",
        "emit(#{v: args.len()});",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.path().join(format!("t{i}.rhai"));
        std::fs::write(&p, body).unwrap();
        same_both_ways(&p, &[]);
    }
}

/// What `casebook check --plan` prints for `script` on the demo city.
fn plan(script: &Path) -> String {
    let out = Command::cargo_bin("casebook")
        .unwrap()
        .env_remove("CASEBOOK_DB")
        .env_remove("CASEBOOK_INTERPRET")
        .args(["check", "--plan", "--db"])
        .arg(demo())
        .arg(script)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_plan_says_which_functions_run_compiled_and_why_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.rhai");
    std::fs::write(
        &p,
        "fn fast(x) { x + 1 }\nfn slow(m) { m.k = 1; m }\nfn ptr(a) { a.sort(fast2); a }\nfn fast2(a, b) { a - b }\nprint(fast(1));\n",
    )
    .unwrap();
    let text = plan(&p);
    assert!(text.contains("fast/1: compiled"), "{text}");
    assert!(
        text.contains("slow/1: interpreted (assignment to a property or an index (line 2))"),
        "{text}"
    );
    assert!(
        text.contains("fast2/2: interpreted (used as a function pointer)"),
        "{text}"
    );
    assert!(
        text.contains("ptr/1: interpreted (a variable the function does not define (line 3))"),
        "{text}"
    );
    assert!(
        text.contains("top-level statements: interpreted (a call of print (line 5))"),
        "{text}"
    );
    std::fs::write(
        &p,
        "fn f(i) { i.students }\nlet r = institutions().map(|i| f(i));\nemit(#{n: r.len()});\n",
    )
    .unwrap();
    let text = plan(&p);
    assert!(text.contains("top-level statements: compiled"), "{text}");
    assert!(
        text.contains("/1: a closure: compiled where map runs it on every core"),
        "{text}"
    );
}

/// The limits hold inside compiled functions: each stops the run with
/// exit 1 and names its limit (checked to run compiled by `check --plan`).
#[test]
fn the_limits_hold_inside_compiled_functions() {
    let f = super::limits::Fixture::new();
    let plan = |src: &str| {
        let p = f.file("plan.rhai", src);
        let out = f.cmd().args(["check", "--plan"]).arg(&p).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let endless = "fn spin() {\n    let n = 0;\n    loop { n += 1; }\n}\nspin();\n";
    assert!(
        plan(endless).contains("spin/0: compiled"),
        "{}",
        plan(endless)
    );
    let err = f.fails("endless.rhai", endless, &["--timeout", "1"]);
    assert!(
        err.contains("time limit") && err.contains("--timeout"),
        "{err}"
    );
    assert!(err.contains("endless.rhai:"), "{err}");

    let err = f.fails("ops.rhai", endless, &["--max-operations", "1000"]);
    assert!(
        err.contains("--max-operations") && err.contains("1000"),
        "{err}"
    );

    let grow = "fn grow() {\n    let s = \"ab\";\n    loop { s += s; }\n}\ngrow();\n";
    assert!(plan(grow).contains("grow/0: compiled"), "{}", plan(grow));
    let err = f.fails(
        "grow.rhai",
        grow,
        &["--timeout", "30", "--max-memory", "64"],
    );
    assert!(err.contains("--max-memory"), "{err}");

    let deep = "fn down(n) {\n    down(n + 1)\n}\ndown(0);\n";
    assert!(plan(deep).contains("down/1: compiled"), "{}", plan(deep));
    let err = f.fails("deep.rhai", deep, &[]);
    assert!(err.contains("called each other"), "{err}");
}
