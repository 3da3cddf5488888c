//! A busy ledger: while another process holds the writer, a writing command
//! waits `CASEBOOK_BUSY_TIMEOUT` seconds and exits with code 3; readers go on
//! reading. The holder here is the test process itself, through the library.

use std::time::Duration;

use casebook::ledger::LedgerWriter;

use crate::common::*;

fn busy_import(ws: &Ws, file: &str, timeout: &str) -> Run {
    let o = ws
        .cmd()
        .env("CASEBOOK_BUSY_TIMEOUT", timeout)
        .args(["import", "institutions", file])
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap(),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    }
}

#[test]
fn an_import_while_another_writer_holds_the_ledger_exits_3_and_says_busy() {
    let ws = populated();
    let before = ws.snapshot();
    let f = ws.write(
        "more.csv",
        "id,name,district,category,status,status_date\nB-1,Busy,天河,subject,operating,2019-01-01\n",
    );
    let holder = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();

    let r = busy_import(&ws, &f, "0.5");
    assert_eq!(r.code, 3, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("is busy: another casebook process is writing to it"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("CASEBOOK_BUSY_TIMEOUT"), "{}", r.stderr);
    assert_eq!(r.stdout, "");

    // Readers are not blocked by the writer.
    assert_eq!(ws.snapshot(), before);
    ws.run(&[
        "show",
        "--format",
        "table",
        "GZ-0001",
        "--as-of",
        "2019-01-01",
    ])
    .ok();
    ws.run(&["audit"]).ok();

    drop(holder);
    ws.import("institutions", &f).stdout_has(&["1 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert!(rows.iter().any(|r| r["id"] == "B-1"));
}

#[test]
fn a_dry_run_while_the_ledger_is_busy_also_exits_3() {
    let ws = populated();
    let holder = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();
    let o = ws
        .cmd()
        .env("CASEBOOK_BUSY_TIMEOUT", "0")
        .args(["import", "institutions", "inst.csv", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    drop(holder);
}

#[test]
fn a_reader_while_the_writer_is_held_exports_the_last_committed_state() {
    let ws = populated();
    let holder = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();
    let out = ws.cmd().args(["export", "institutions"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), THREE_INSTITUTIONS);
    drop(holder);
}

/// BUG (src/ledger/mod.rs, `busy_timeout`): a negative (or infinite / NaN)
/// `CASEBOOK_BUSY_TIMEOUT` reaches `Duration::from_secs_f64`, which panics
/// (exit 101 and a Rust backtrace); text that is not a number is silently
/// replaced by the 10 s default. Either should be a clear error or a
/// documented fallback.
#[test]
fn a_negative_busy_timeout_is_not_a_crash() {
    let ws = populated();
    let r = busy_import(&ws, "inst.csv", "-1");
    assert_ne!(r.code, 101, "panicked: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// Every command that writes exits 3 when the ledger stays busy, so a cron
/// wrapper that retries on 3 retries all of them. `run --write` used to exit 1.
#[test]
fn every_writing_command_exits_3_while_the_ledger_is_busy() {
    let ws = populated();
    let rule = ws.write("rule.rhai", "fn score(inst) { 100 }\n");
    let writer = ws.write(
        "close.rhai",
        "for i in institutions() { set_status(i, \"suspended\", \"check\"); }\n",
    );
    let holder = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();
    for args in [
        vec!["run", writer.as_str(), "--as-of", "2019-06-01", "--write"],
        vec!["score", rule.as_str(), "--as-of", "2019-06-01", "--save"],
        vec!["import", "institutions", "inst.csv"],
    ] {
        let o = ws
            .cmd()
            .env("CASEBOOK_BUSY_TIMEOUT", "0.2")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("is busy"), "{args:?}: {stderr}");
    }
    drop(holder);
}
