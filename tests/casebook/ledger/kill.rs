//! kill -9 in the middle of every kind of write: a script's `run --write`,
//! `score --save`, and the nightly notices run with `--out`. Each kill
//! leaves the ledger as it was before the write or as it is after it, never
//! between; the audit log agrees with the data (`verify` passes); and the
//! notice files on disk are never ones the register does not hold.
//!
//! No timing is asserted: the kill comes after a delay that sweeps the
//! write's whole run, and the test asks only that some kills land while the
//! process runs. `CASEBOOK_KILLS=N` sets how many must land (default 3).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// What a reader can see of the decisions and registers: lists, saved
/// runs, the records, the number of audit entries.
fn fingerprint(ws: &Ws) -> (String, usize) {
    let mut s = String::new();
    for args in [
        &["lists", "show", "watch", "--history"][..],
        &["export", "findings"],
        &["export", "institutions"],
    ] {
        let r = ws.run(args);
        s.push_str(&format!("== {args:?} {}\n{}", r.code, r.stdout));
    }
    // Saved runs by number only: their times differ from run to run.
    let runs = ws.run(&["runs"]).stdout;
    s.push_str(&format!("== runs {}\n", runs.lines().count()));
    (s, ws.audit_len())
}

/// A ledger of 400 institutions, each with a finding overdue on 2019-02-20.
fn city() -> Ws {
    let ws = Ws::init();
    let f = ws.write("inst.csv", institutions_csv("K", 400, "non_subject"));
    ws.import("institutions", &f);
    let mut csv = String::from("id,institution_id,kind,severity,opened_on,deadline,note\n");
    for n in 0..400 {
        csv.push_str(&format!(
            "F{n},K{n:05},fire_hazard,2,2019-01-02,2019-01-20,消防通道堵塞\n"
        ));
    }
    let f = ws.write("find.csv", csv);
    ws.import("findings", &f);
    ws
}

/// Runs `args` on a fresh copy of `pristine` at the ledger path, killing it
/// after `delay`; whether the kill landed before the process ended.
fn run_and_kill(ws: &Ws, pristine: &[u8], args: &[String], delay: Duration) -> bool {
    std::fs::write(&ws.db, pristine).unwrap();
    let _ = std::fs::remove_dir_all(ws.path().join("out"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .current_dir(ws.path())
        .env("USER", "tester")
        .env_remove("CASEBOOK_DB")
        .arg("--db")
        .arg(&ws.db)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    status.code().is_none()
}

/// Visible files under `dir` (staged ones are hidden: `.NAME.PID.staged`).
fn visible_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            out.extend(visible_files(&e.path()));
        } else if !name.starts_with('.') {
            out.push(name);
        }
    }
    out.sort();
    out
}

/// Kills the write `args` at delays sweeping its run until `CASEBOOK_KILLS`
/// kills landed, checking after each that the ledger is the before or the
/// after state and verifies; `files` says whether notice files are checked.
fn kill_sweep(ws: &Ws, args: &[&str], files: bool) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let pristine = std::fs::read(&ws.db).unwrap();
    let before = fingerprint(ws);
    // The write run to its end, once, for the after state and its length.
    let t = Instant::now();
    let mut c = ws.cmd();
    let r = c.args(&args).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let took = t.elapsed();
    let after = fingerprint(ws);
    let after_files = visible_files(&ws.path().join("out"));
    assert_ne!(before, after, "the write must change something");
    assert_eq!(after.1, before.1 + 1);
    let want: usize = std::env::var("CASEBOOK_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let (mut landed, mut saw_before, mut saw_after) = (0, 0, 0);
    for attempt in 0..(want * 20) {
        // Delays spread over the run, from start-up to the commit.
        let frac = ((attempt * 7919) % 97) as f64 / 97.0;
        let delay = took.mul_f64(frac);
        if !run_and_kill(ws, &pristine, &args, delay) {
            continue;
        }
        landed += 1;
        let now = fingerprint(ws);
        if now == before {
            saw_before += 1;
        } else {
            assert_eq!(
                now, after,
                "a kill after {delay:?} left the ledger between states"
            );
            saw_after += 1;
        }
        ws.run(&["verify"]).ok();
        if files {
            let on_disk = visible_files(&ws.path().join("out"));
            if now == before {
                assert!(
                    on_disk.iter().all(|f| !f.ends_with(".txt")),
                    "a notice on disk that the register does not hold: {on_disk:?}"
                );
            } else {
                // Notices staged but not yet in place are put there by the
                // next run; none is on disk that the register lacks.
                assert!(
                    on_disk.iter().all(|f| after_files.contains(f)),
                    "{on_disk:?}"
                );
            }
        }
        if landed >= want {
            break;
        }
    }
    assert!(landed >= 1, "no kill landed while {args:?} ran");
    eprintln!("{args:?}: {landed} kills landed ({saw_before} before, {saw_after} after)");
}

#[test]
fn kill_9_during_a_script_write_leaves_the_before_or_the_after() {
    let ws = city();
    let f = ws.write(
        "watch.rhai",
        "for i in institutions() { list_add(\"watch\", i.id, \"kill test\"); }",
    );
    kill_sweep(&ws, &["run", &f, "--write", "--as-of", "2019-02-20"], false);
}

#[test]
fn kill_9_during_score_save_leaves_the_before_or_the_after() {
    let ws = city();
    let f = ws.write(
        "rule.rhai",
        "fn score(i) { let s = 100; for f in i.findings() { if f.overdue { s -= 10; } } s }",
    );
    kill_sweep(
        &ws,
        &["score", &f, "--save", "--as-of", "2019-02-20"],
        false,
    );
}

#[test]
fn kill_9_during_the_notices_run_leaves_no_notice_the_register_lacks() {
    let ws = city();
    let script = root().join("scripts/notices.rhai");
    let templates = root().join("templates");
    kill_sweep(
        &ws,
        &[
            "run",
            script.to_str().unwrap(),
            "--as-of",
            "2019-02-20",
            "--write",
            "--format",
            "jsonl",
            "--out",
            "out",
            "--templates",
            templates.to_str().unwrap(),
        ],
        true,
    );
}
