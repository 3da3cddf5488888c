//! One step that would take the heap past `--max-memory`, parsing a script
//! that is too large, and a run under an address-space cap: each ends with
//! exit 1 and an error naming the limit and the script, never an abort, a
//! stack overflow or the machine's memory.
//!
//! The memory figures these were measured with are in BENCHMARKS.md ("Script
//! memory limits"); the assertions here are about exit codes and messages.

use super::limits::Fixture;

/// Builds an 8 MiB string of commas in 23 steps (none of them near the limit).
const COMMAS: &str = "let s = \",\"; for i in 0..23 { s += s; }";
/// An array of 2^20 zeros (16 MiB of slots).
const ZEROS: &str = "let a = [0]; for i in 0..20 { a += a; }";

/// Built-ins whose result is many times their argument refuse before they
/// allocate, at the call's line (line 2): `split` of 8 MB of commas took
/// 530 MB under `--max-memory 64` and was reported at the next line.
#[test]
fn a_call_whose_result_would_pass_the_limit_is_refused_at_its_line() {
    let f = Fixture::new();
    let cases = [
        ("split_str", COMMAS, "let x = s.split(\",\");"),
        ("split_char", COMMAS, "let x = s.split(',');"),
        ("split_n", COMMAS, "let x = s.split(\",\", 100000000);"),
        ("split_rev", COMMAS, "let x = s.split_rev(',');"),
        (
            "split_ws",
            "let s = \"a \"; for i in 0..22 { s += s; }",
            "let x = s.split();",
        ),
        ("to_chars", COMMAS, "let x = s.to_chars();"),
        ("replace", COMMAS, "s.replace(\",\", \"0123456789\");"),
        ("replace_char", COMMAS, "s.replace(',', \"0123456789\");"),
        (
            "parse_json",
            "let j = \"[],\"; for i in 0..21 { j += j; }",
            "let v = parse_json(\"[\" + j + \"[]]\");",
        ),
        (
            "blob_to_array",
            "let b = blob(8000000, 1);",
            "let x = b.to_array();",
        ),
        ("array_plus", ZEROS, "let c = a + a;"),
        ("array_append", ZEROS, "a.append(a);"),
        (
            "join",
            "let s = \"x\"; for i in 0..10 { s += s; } let a = []; a.pad(100000, s);",
            "let t = join(a, \",\");",
        ),
        ("sort_by_key", ZEROS, "a.sort_by_key(|x| x);"),
    ];
    for (name, setup, call) in cases {
        let file = format!("{name}.rhai");
        let src = format!("{setup}\n{call}\nprint(\"after\");\n");
        let err = f.fails(&file, &src, &["--timeout", "60", "--max-memory", "64"]);
        assert!(err.contains("memory limit of 64 MiB"), "{name}: {err}");
        assert!(err.contains("--max-memory"), "{name}: {err}");
        assert!(err.contains(&format!("{file}:2:")), "{name}: {err}");
    }
}

/// What fits gives the same answers as Rhai's own functions.
#[test]
fn the_checked_built_ins_answer_as_before_within_the_limit() {
    let f = Fixture::new();
    let src = r#"let s = "a,b,,c";
print(s.split(","));
print(s.split(',', 2));
print(s.split_rev(",", 2));
print("a b  c".split());
print("".split(","));
print("abc".split(""));
let t = "aXbXc"; t.replace("X", "--"); print(t);
let u = "hello"; u.replace('l', 'L'); print(u);
let w = "hello"; w.replace("l", '字'); print(w);
print("héllo".to_chars());
print(parse_json("{\"a\": [1, 2.5, null, \"x\"]}"));
print([1, 2] + [3]);
let a = [1]; a.append([2, 3]); print(a);
print(blob(3, 7).to_array());
const C = "x,y"; print(C.split(","));
print(join(["a", 1, ()], "/"));
let k = [3, 1, 2]; k.sort_by_key(|x| -x); print(k);
"#;
    let o = f.run("same.rhai", src, &["--max-memory", "64"]);
    let out = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let want = r#"["a", "b", "", "c"]
["a", "b,,c"]
["c", "a,b,"]
["a", "b", "c"]
[""]
["", "a", "b", "c", ""]
a--b--c
heLLo
he字字o
[h, é, l, l, o]
#{"a": [1, 2.5, (), "x"]}
[1, 2, 3]
[1, 2, 3]
[7, 7, 7]
["x", "y"]
a/1/()
[3, 2, 1]
"#;
    assert_eq!(out, want);
}

/// A step Rhai runs without a call this crate can check (turning an array
/// that holds one long string 200,000 times into text) ends when the heap
/// would pass the ceiling, naming the limit and the file. It used to finish
/// at 1.4 times the limit before the next step stopped it.
#[test]
fn a_step_that_cannot_be_checked_ends_at_the_ceiling() {
    let f = Fixture::new();
    let err = f.fails(
        "to_text.rhai",
        "let s = \"x\"; for i in 0..10 { s += s; } let a = []; a.pad(200000, s);\nlet t = a.to_string();\nprint(t.len());\n",
        &["--timeout", "60", "--max-memory", "64"],
    );
    assert!(err.contains("memory limit of 64 MiB in one step"), "{err}");
    assert!(names_file(&err, "to_text.rhai"), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
}

/// `sleep` is one step: `sleep(30)` under `--timeout 1` slept the 30 s and
/// exited 0.
#[test]
fn sleep_stops_at_the_time_limit() {
    let f = Fixture::new();
    let err = f.fails(
        "sleep.rhai",
        "let n = 1;\nsleep(30);\nprint(\"woke\");\n",
        &["--timeout", "1"],
    );
    assert!(err.contains("time limit of 1 s"), "{err}");
    assert!(err.contains("sleep.rhai:2:"), "{err}");
    // A short sleep still sleeps and returns.
    let o = f.run(
        "nap.rhai",
        "sleep(0.01);\nsleep(0);\nprint(\"woke\");\n",
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim(), "woke");
}

/// Whether the error's `-->` line names `file` (the fixture writes absolute paths).
pub(super) fn names_file(err: &str, file: &str) -> bool {
    err.lines()
        .any(|l| l.trim_start().starts_with("--> ") && l.ends_with(file))
}

// ---------------------------------------------------------------- parsing

/// A script may be an eighth of the memory limit: a 200 MB file took 800 MB
/// and three minutes to parse under `--max-memory 64`. Nor is a device read
/// without end.
#[test]
fn a_script_file_too_large_for_the_limit_is_refused_before_it_is_parsed() {
    let f = Fixture::new();
    let big = format!("let s = \"{}\";\nprint(s.len());\n", "x".repeat(9 << 20));
    let err = f.fails("big.rhai", &big, &["--max-memory", "64"]);
    assert!(err.contains("big.rhai"), "{err}");
    assert!(err.contains("larger than 8 MiB"), "{err}");
    assert!(err.contains("memory limit of 64 MiB"), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
    let o = f
        .cmd()
        .args([
            "run",
            "/dev/zero",
            "--as-of",
            "2019-02-20",
            "--max-memory",
            "64",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("larger than 8 MiB"), "{err}");
    // The same text passes under a limit it fits.
    let o = f.run("big.rhai", &big, &["--max-memory", "256"]);
    assert_eq!(o.status.code(), Some(0));
}

/// A script of a million short lines fits the file-size check but its syntax
/// tree does not fit the limit: parsing stops, with the line it reached.
/// Parsing it took 2.5 GB before.
#[test]
fn parsing_stops_at_the_memory_limit_with_its_line() {
    let f = Fixture::new();
    let src = format!("let x = 0;\n{}", "x += 1;\n".repeat(1_000_000));
    let err = f.fails("lines.rhai", &src, &["--max-memory", "64"]);
    assert!(
        err.contains("parsing the script used more than the memory limit of 64 MiB"),
        "{err}"
    );
    assert!(err.contains("lines.rhai:"), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
}

/// Parsing is held to `--timeout` as well: 100,000 functions took more than a
/// minute to parse, and the time limit only started with the first step.
#[test]
fn parsing_stops_at_the_time_limit() {
    let f = Fixture::new();
    let mut src = String::new();
    for i in 0..100_000 {
        src.push_str(&format!("fn f{i}(x) {{ f{}(x) }}\n", i + 1));
    }
    src.push_str("fn f100000(x) { x }\nprint(f0(1));\n");
    let err = f.fails("many_fns.rhai", &src, &["--timeout", "1"]);
    assert!(
        err.contains("parsing the script took longer than the time limit of 1 s"),
        "{err}"
    );
    assert!(err.contains("many_fns.rhai:"), "{err}");
}

/// Deep nesting is refused by the parser's depth limit with the place, never
/// a stack overflow.
#[test]
fn deeply_nested_scripts_are_refused_not_overflowed() {
    let f = Fixture::new();
    let n = 100_000;
    let cases = [
        (
            "parens",
            format!("let x = {}1{};", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "arrays",
            format!("let x = {}{};", "[".repeat(n), "]".repeat(n)),
        ),
        ("blocks", format!("{}{}", "{".repeat(n), "}".repeat(n))),
        ("nots", format!("let x = {}true;", "!".repeat(n))),
        ("negs", format!("let x = {}1;", "- ".repeat(n))),
        ("sum", format!("let x = {}1;", "1+".repeat(10 * n))),
        (
            "calls",
            format!("let x = {}1{};", "abs(".repeat(n), ")".repeat(n)),
        ),
        (
            "dots",
            format!("let m = #{{}};\nlet y = m{};", ".a".repeat(n)),
        ),
    ];
    for (name, src) in cases {
        let file = format!("{name}.rhai");
        let err = f.fails(&file, &format!("{src}\n"), &[]);
        assert!(err.contains(&format!("{file}:")), "{name}: {err}");
        assert!(err.contains("syntax"), "{name}: {err}");
    }
}

// ------------------------------------------------------ address-space cap

/// Under an address-space cap below `--max-memory`, the system refuses an
/// allocation first: the run ends with the out-of-memory error and exit 1,
/// whichever way the script asks (one call, a built-in, a doubling loop).
#[test]
fn under_an_address_space_cap_every_attack_ends_with_exit_1() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("prlimit is not installed: skipped");
        return;
    }
    let f = Fixture::new();
    let bin = assert_cmd::cargo::cargo_bin("casebook");
    for (name, src) in [
        ("pad.rhai", "let s = \"x\";\ns.pad(1200000000, \"y\");\n"),
        (
            "split.rhai",
            "let s = \",\"; for i in 0..24 { s += s; }\nlet a = s.split(\",\");\n",
        ),
        ("double.rhai", "let a = [1];\nloop { a += a; }\n"),
        ("blob.rhai", "let b = blob(1200000000, 1);\n"),
    ] {
        let p = f.file(name, src);
        let o = std::process::Command::new("prlimit")
            .arg("--as=1000000000")
            .arg(&bin)
            .arg("--db")
            .arg(&f.db)
            .args(["run", p.to_str().unwrap(), "--as-of", "2019-02-20"])
            .args(["--max-memory", "100000", "--timeout", "120"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains("out of memory"), "{name}: {err}");
        assert!(!err.contains("backtrace"), "{name}: {err}");
    }
}
