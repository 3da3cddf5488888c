//! Random small scripts that grow strings and arrays (pad, split, replace,
//! ranges collected into arrays, to_chars, sort_by_key, doubling, blobs,
//! join, parse_json) with random sizes, under a small `--max-memory` and
//! `--timeout`: exit 0 or 1 only (never 101, 134 or a signal), an error
//! that names its limit, and never far past the time limit.

use std::cell::Cell;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use crate::common::Ws;

/// Sizes from nothing to far past any limit, and a negative one.
const SIZES: &[i64] = &[
    -5,
    0,
    1,
    10,
    1_000,
    100_000,
    1_000_000,
    10_000_000,
    1_000_000_000,
    1_000_000_000_000,
];

/// One statement growing something by `n` (or `k` doublings).
fn statement() -> impl Strategy<Value = String> {
    let n = || proptest::sample::select(SIZES);
    let k = || 0u32..40;
    prop_oneof![
        n().prop_map(|n| format!("s.pad({n}, \"xy\");")),
        n().prop_map(|n| format!("s.pad({n}, '字');")),
        n().prop_map(|n| format!("a.pad({n}, s);")),
        n().prop_map(|n| format!("let b = blob({n}, 1); a.push(b.len());")),
        Just("a = s.split(\",\");".to_string()),
        Just("a = s.split(\"\");".to_string()),
        Just("a = s.to_chars();".to_string()),
        Just("s.replace(\"x\", \"0123456789abcdef\");".to_string()),
        Just("s.replace(\"\", \"--\");".to_string()),
        n().prop_map(|n| format!("for i in 0..{n} {{ a.push(i); }}")),
        n().prop_map(|n| format!("for i in range(0, {n}) {{ s += \"ab\"; }}")),
        k().prop_map(|k| format!("for i in 0..{k} {{ s += s; }}")),
        k().prop_map(|k| format!("for i in 0..{k} {{ a += a; }}")),
        k().prop_map(|k| format!("for i in 0..{k} {{ a = a + a; }}")),
        Just("a.sort_by_key(|x| [x, x]);".to_string()),
        Just("s = join(a, \",\");".to_string()),
        Just("s = a.to_string();".to_string()),
        Just("let j = parse_json(\"[\" + join(a, \",\") + \"]\");".to_string()),
        Just("s = s.sub_string(0, 10);".to_string()),
        Just("a.clear();".to_string()),
    ]
}

#[test]
fn random_growing_scripts_end_with_exit_0_or_1_within_their_limits() {
    let ws = Ws::init();
    let timeout = 2.0;
    let (tried, ok, memory, time, other) = (
        Cell::new(0),
        Cell::new(0),
        Cell::new(0),
        Cell::new(0),
        Cell::new(0),
    );
    let mut runner = TestRunner::new(super::config(64));
    let strategy = proptest::collection::vec(statement(), 1..6);
    runner
        .run(&strategy, |stmts| {
            let src = format!(
                "let s = \"x,y\";\nlet a = [1, 2];\n{}\nprint(s.len() + a.len());\n",
                stmts.join("\n")
            );
            let file = ws.write("random.rhai", &src);
            let started = Instant::now();
            let r = ws.run(&[
                "run",
                &file,
                "--as-of",
                "2019-02-20",
                "--max-memory",
                "16",
                "--timeout",
                &timeout.to_string(),
            ]);
            let took = started.elapsed();
            tried.set(tried.get() + 1);
            prop_assert!(
                r.code == 0 || r.code == 1,
                "exit {} for\n{src}\n{}",
                r.code,
                r.stderr
            );
            prop_assert!(!r.stderr.contains("panicked"), "{src}\n{}", r.stderr);
            // Generous: a stuck step, not a slow machine, is what this catches.
            prop_assert!(
                took < Duration::from_secs(60),
                "ran {took:?} under --timeout {timeout}:\n{src}"
            );
            if r.code == 1 {
                if r.stderr.contains("memory limit of 16 MiB") {
                    memory.set(memory.get() + 1);
                } else if r.stderr.contains("time limit") {
                    time.set(time.get() + 1);
                } else {
                    // Any other script error (a wrong type, say) must still be located.
                    prop_assert!(r.stderr.contains("random.rhai"), "{src}\n{}", r.stderr);
                    other.set(other.get() + 1);
                }
            } else {
                ok.set(ok.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "random scripts: {} tried, {} ran, {} stopped at the memory limit, {} at the time limit, {} other errors, 0 failed",
        tried.get(),
        ok.get(),
        memory.get(),
        time.get(),
        other.get()
    );
}
