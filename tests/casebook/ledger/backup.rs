//! `casebook backup DEST`: a copy of the ledger as of one moment, taken
//! while another process holds the writer, that answers exactly as the
//! ledger did.

use std::time::Duration;

use casebook::ledger::LedgerWriter;

use crate::common::*;

/// Every kind's export and the audit log, from the ledger at `db`.
fn everything(ws: &Ws, db: &str) -> Vec<String> {
    let mut all: Vec<String> = ["institutions", "inspections", "findings"]
        .iter()
        .map(|k| ws.run_bare(&["--db", db, "export", k]).ok().stdout)
        .collect();
    all.push(
        ws.run_bare(&["--db", db, "audit", "--last", "1000"])
            .ok()
            .stdout,
    );
    all
}

#[test]
fn a_backup_taken_while_another_process_writes_answers_as_the_ledger_did() {
    let ws = populated();
    let db = ws.db.to_str().unwrap().to_string();
    let holder = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();
    let r = ws.run(&["backup", "copy.redb"]).ok();
    assert!(r.stdout.contains("3 institutions"), "{}", r.stdout);
    assert!(r.stdout.contains("checked"), "{}", r.stdout);
    drop(holder);
    let copy = ws.dir.path().join("copy.redb");
    let copy = copy.to_str().unwrap();
    assert_eq!(everything(&ws, copy), everything(&ws, &db));
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(ws.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
    // The copy verifies on its own: checksums, chain, and the records
    // against the log.
    ws.run_bare(&["--db", copy, "verify"])
        .ok()
        .stdout_has(&["verified"]);
    // The copy is an ordinary ledger: it can be written to.
    ws.run_bare(&["--db", copy, "import", "institutions", "inst.csv"])
        .ok()
        .stdout_has(&["3 unchanged"]);
}

#[test]
fn a_backup_never_replaces_an_existing_file() {
    let ws = populated();
    let dest = ws.write("old.redb", "not a ledger");
    let r = ws.run(&["backup", &dest]).code(1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let kept = std::fs::read_to_string(ws.dir.path().join("old.redb")).unwrap();
    assert_eq!(kept, "not a ledger");
}
