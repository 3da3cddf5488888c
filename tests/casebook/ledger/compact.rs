//! `casebook compact` and the compact copy `casebook backup` writes: the
//! file gives its free pages back, every record, the audit log and its
//! chain stay as they were, a writer elsewhere makes it exit 3, and a reader
//! elsewhere is waited for, never read from under.

use std::time::Duration;

use casebook::import::{import_file, ImportOptions};
use casebook::ledger::{file_len, Ledger, LedgerWriter};
use casebook::model::RecordKind;

use crate::common::*;

/// A ledger grown by a history that leaves pages free: a large import,
/// then every institution updated twice, written through the library (an
/// import through the binary compacts after itself).
fn grown() -> Ws {
    let ws = Ws::init();
    let ledger = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();
    let opts = ImportOptions::default();
    for (n, category) in ["subject", "non_subject", "subject"].iter().enumerate() {
        let f = ws.write(
            &format!("inst{n}.csv"),
            institutions_csv("GZ-", 20_000, category),
        );
        import_file(
            &ledger,
            RecordKind::Institutions,
            &ws.dir.path().join(&f),
            &opts,
        )
        .unwrap();
    }
    ws
}

fn head(ws: &Ws) -> String {
    ws.run(&["audit", "--head"]).ok().stdout.trim().to_string()
}

#[test]
fn compact_gives_the_free_pages_back_and_changes_no_record() {
    let ws = grown();
    let (before, snapshot, entries, old_head) =
        (file_len(&ws.db), ws.snapshot(), ws.audit_len(), head(&ws));
    let r = ws.run(&["compact"]).ok();
    assert!(r.stdout.contains("compacted"), "{}", r.stdout);
    let after = file_len(&ws.db);
    assert!(
        after * 10 < before * 8,
        "{before} -> {after} bytes: less than a fifth given back"
    );
    // The same records, the same log (no entry of its own), the same head,
    // and every check passes, the old head's too.
    assert_eq!(ws.snapshot(), snapshot);
    assert_eq!(ws.audit_len(), entries);
    assert_eq!(head(&ws), old_head);
    ws.run(&["verify", "--head", &old_head])
        .ok()
        .stdout_has(&["verified"]);
    // A second compaction finds nothing more to give back.
    ws.run(&["compact"]).ok();
    assert_eq!(file_len(&ws.db), after);
    // The ledger is written to as before.
    let f = ws.write("more.csv", institutions_csv("NEW-", 10, "subject"));
    ws.import("institutions", &f).stdout_has(&["10 new"]);
    ws.run(&["verify"]).ok();
}

/// `casebook compact` with a short wait, which must exit 3 (busy); its stderr.
fn compact_busy(ws: &Ws) -> String {
    let o = ws
        .cmd()
        .env("CASEBOOK_BUSY_TIMEOUT", "0.3")
        .arg("compact")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    stderr
}

#[test]
fn compact_while_another_writer_holds_the_ledger_exits_3_and_leaves_it_as_it_was() {
    let ws = grown();
    let before = file_len(&ws.db);
    let holder = LedgerWriter::open_write(&ws.db, Duration::from_secs(5)).unwrap();
    let stderr = compact_busy(&ws);
    assert!(
        stderr.contains("is busy: another casebook process is writing"),
        "{stderr}"
    );
    drop(holder);
    assert_eq!(file_len(&ws.db), before);
    ws.run(&["compact"]).ok();
    assert!(file_len(&ws.db) < before);
}

/// A reader in another process keeps its snapshot: compaction waits for its
/// read to end (exit 3 when it does not in time), and a reader that stays
/// open reads the compacted file correctly afterwards.
#[test]
fn compact_waits_for_a_reader_elsewhere_and_the_reader_goes_on_reading() {
    let ws = grown();
    let snapshot = ws.snapshot();
    let ledger = Ledger::open_read(&ws.db).unwrap();
    let reading = ledger.reader().unwrap();
    let stderr = compact_busy(&ws);
    assert!(
        stderr.contains("another casebook process is reading"),
        "{stderr}"
    );
    assert_eq!(reading.counts().unwrap().0, 20_000);
    drop(reading);
    let before = file_len(&ws.db);
    ws.run(&["compact"]).ok();
    assert!(file_len(&ws.db) < before);
    // The handle opened before reads the compacted file.
    let again = ledger.reader().unwrap();
    assert_eq!(again.counts().unwrap().0, 20_000);
    assert_eq!(
        again.institution("GZ-00042").unwrap().unwrap().name,
        "机构42"
    );
    assert_eq!(ws.snapshot(), snapshot);
}

#[test]
fn a_backup_is_a_compact_copy() {
    let ws = grown();
    let db = ws.db.to_str().unwrap().to_string();
    ws.run(&["backup", "copy.redb"]).ok();
    let copy = ws.dir.path().join("copy.redb");
    assert!(
        file_len(&copy) * 10 < file_len(&ws.db) * 8,
        "copy {} bytes, ledger {}",
        file_len(&copy),
        file_len(&ws.db)
    );
    let copy = copy.to_str().unwrap();
    ws.run_bare(&["--db", copy, "verify"])
        .ok()
        .stdout_has(&["verified"]);
    assert_eq!(
        ws.run_bare(&["--db", copy, "export", "institutions"])
            .ok()
            .stdout,
        ws.run_bare(&["--db", &db, "export", "institutions"])
            .ok()
            .stdout
    );
    // Compacting the copy again gives next to nothing back (a few pages of
    // redb's own).
    let len = file_len(copy.as_ref());
    ws.run_bare(&["--db", copy, "compact"]).ok();
    assert!(file_len(copy.as_ref()) * 100 >= len * 99);
}

/// An import through the binary leaves no more free pages behind than
/// compaction would give back.
#[test]
fn an_import_leaves_its_ledger_compact() {
    let ws = Ws::init();
    for (n, category) in ["subject", "non_subject"].iter().enumerate() {
        let f = ws.write(
            &format!("inst{n}.csv"),
            institutions_csv("GZ-", 20_000, category),
        );
        ws.import("institutions", &f);
    }
    let imported = file_len(&ws.db);
    ws.run(&["compact"]).ok();
    let compact = file_len(&ws.db);
    assert!(
        imported * 10 <= compact * 12,
        "{imported} bytes after the import, {compact} compacted"
    );
    ws.run(&["verify"]).ok();
}
