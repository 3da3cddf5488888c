//! Rows emitted from compiled code against the interpreter: `emit(#{…})` of
//! a map literal keeps a record's texts and dates in the row as they are
//! (not as script strings), and every format must come out byte for byte
//! as the interpreter's rows do, whatever the variables hold.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

// The demo city the compiled-against-interpreted tests share (built once).
use super::compiled::demo;

const AS_OF: &str = "2019-02-20";

/// What one run printed, how it ended, and the files it left under `--out`.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    files: Vec<(String, String)>,
}

fn run(script: &Path, args: &[&str], interpret: bool) -> Outcome {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("casebook")
        .unwrap()
        .env_remove("CASEBOOK_DB")
        .env("CASEBOOK_INTERPRET", if interpret { "1" } else { "0" })
        .current_dir(out_dir.path())
        .arg("run")
        .arg(script)
        .args(["--as-of", AS_OF, "--timeout", "600", "--db"])
        .arg(demo())
        .args(args)
        .output()
        .unwrap();
    let mut files: Vec<(String, String)> = walk(out_dir.path())
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(out_dir.path())
                .unwrap()
                .display()
                .to_string();
            (name, std::fs::read_to_string(&p).unwrap_or_default())
        })
        .collect();
    files.sort();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        files,
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all.extend(walk(&p));
        } else {
            all.push(p);
        }
    }
    all
}

/// Runs `script` both ways with `args`; panics, showing both, if they differ.
fn same_both_ways(script: &Path, args: &[&str]) -> Outcome {
    let compiled = run(script, args, false);
    let interpreted = run(script, args, true);
    assert_eq!(
        compiled,
        interpreted,
        "{} {args:?} differs between compiled and interpreted functions:\n{}",
        script.display(),
        std::fs::read_to_string(script).unwrap_or_default()
    );
    compiled
}

/// Record texts and dates (kept as they are), codes, properties no row read
/// covers, maps and other values under the same names, a variable captured
/// by a closure, and rows whose keys differ from the first row's.
const SCRIPT: &str = r#"
fn row(c) {
    let i = c.institution();
    let x = c.class_hours;
    emit(#{id: c.id, institution_id: c.institution_id, name: i.name, district: i.district,
           course: c.name, subject_type: c.subject_type, mode: c.mode, filed_on: c.filed_on,
           starts: c.starts_on, ends: c.ends_on, category: i.category, iid: i.id,
           status: c.status, hours: x, fee: c.fee_total, ok: x > 40});
    if x % 7 == 0 { emit(#{z: c.name, id: c.filed_on, extra: i.name}); }
    let m = if c.mode == "online" { c } else { #{id: "=1+1", name: -1, filed_on: "2019-01-01", mode: ()} };
    if x % 3 == 0 { emit(#{id: m.id, name: m.name, filed_on: m.filed_on, mode: m.mode}); }
    1
}
fn later(c) {
    let f = || c.name;
    emit(#{a: c.name, b: f.call(), c: c.id});
}
let r = courses().map(|c| row(c));
let n = 0;
for c in courses() {
    if n < 40 { later(c); }
    n += 1;
}
emit(#{n: r.len()});
"#;

#[test]
fn rows_of_record_texts_and_dates_come_out_as_the_interpreters_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rows.rhai");
    std::fs::write(&p, SCRIPT).unwrap();
    for fmt in ["jsonl", "csv", "json", "table"] {
        let out = same_both_ways(&p, &["--format", fmt]);
        assert_eq!(out.code, Some(0), "{fmt}: {}", out.stderr);
        assert!(out.stdout.len() > 1000, "{fmt}: {}", out.stdout);
    }
    let jsonl = run(&p, &["--format", "jsonl"], false).stdout;
    // A course's date comes out as a date, its texts as texts, a map's as the map has them.
    assert!(jsonl.contains(r#""filed_on":"20"#), "{jsonl}");
    assert!(jsonl.contains(r#""id":"=1+1""#), "{jsonl}");
    let csv = run(&p, &["--format", "csv"], false).stdout;
    assert!(csv.contains("'=1+1"), "a formula is neutralised:\n{csv}");
    // Rows written to files under --out, in both formats.
    for fmt in ["csv", "jsonl"] {
        let out = same_both_ways(&p, &["--format", fmt, "--out", "reports"]);
        assert_eq!(out.code, Some(0), "{fmt}: {}", out.stderr);
        assert!(
            out.files.iter().any(|(_, text)| text.len() > 1000),
            "{fmt}: {:?}",
            out.files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_sample_course_check_streams_the_same_rows_compiled_and_interpreted() {
    let script = crate::common::root().join("scripts/course_check.rhai");
    for args in [
        &["--format", "jsonl"][..],
        &["--format", "csv", "--arg", "all=1"],
        &["--format", "jsonl", "--arg", "all=1", "--out", "reports"],
    ] {
        let out = same_both_ways(&script, args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
    }
}
