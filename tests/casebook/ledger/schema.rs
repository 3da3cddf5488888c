//! Ledgers of other schema versions: one written by the build before schema 2
//! is refused by a reader (schema 3 sealed every value, which changed the
//! tables' types) with word of how to migrate it, and is migrated, in an
//! audited transaction of its own, by the first command that opens it for
//! writing; one from a newer build is refused and left alone. Also what schema 2 changed: records keyed by
//! `(institution, id)` are stored without those two fields, and must still
//! come back whole everywhere, the audit log's before-images included.
//!
//! `tests/fixtures/ledger_schema1.redb` was made by casebook at d9fd6ea
//! (schema 1) with `--operator fixture`: `init`, then `import` of
//! `THREE_INSTITUTIONS`, `INSTITUTIONS_ZH`, `TWO_INSPECTIONS`,
//! `THREE_FINDINGS`, `APPLICATIONS_ZH` and `COURSES_ZH` (tests/casebook/common.rs), in
//! that order, each from a file of its own.

use crate::common::*;

const KINDS: [&str; 5] = [
    "institutions",
    "inspections",
    "findings",
    "applications",
    "courses",
];

/// The same records imported by this build into a new ledger.
fn same_records_now() -> Ws {
    let ws = Ws::init();
    for (kind, name, text) in [
        ("institutions", "inst.csv", THREE_INSTITUTIONS),
        ("institutions", "机构.csv", INSTITUTIONS_ZH),
        ("inspections", "insp.csv", TWO_INSPECTIONS),
        ("findings", "find.csv", THREE_FINDINGS),
        ("applications", "申请.csv", APPLICATIONS_ZH),
        ("courses", "课程.csv", COURSES_ZH),
    ] {
        let f = ws.write(name, text);
        ws.import(kind, &f);
    }
    ws
}

/// A directory whose ledger is the schema-1 fixture.
fn schema1() -> Ws {
    let ws = Ws::new();
    let f = ws.fixture("ledger_schema1.redb");
    std::fs::rename(ws.path().join(f), &ws.db).unwrap();
    ws
}

fn exports(ws: &Ws) -> String {
    let mut s = String::new();
    for kind in KINDS {
        for format in ["csv", "jsonl"] {
            s.push_str(&format!("== {kind} {format}\n{}", ws.export(kind, format)));
        }
    }
    s
}

/// Audit entries the schema-1 fixture holds: one per import.
const FIXTURE_ENTRIES: usize = 6;

#[test]
fn a_schema_1_ledger_is_refused_by_a_reader_with_how_to_migrate_and_left_alone() {
    let old = schema1();
    let bytes = std::fs::read(&old.db).unwrap();
    for args in [
        &["export", "findings"][..],
        &["show", "GZ-0001"],
        &["audit"],
    ] {
        old.run(args).code(1).stderr_has(&[
            "has schema 1",
            "casebook import",
            "to migrate it to 3",
        ]);
    }
    assert!(same_bytes(&old.db, &bytes), "reading wrote to the ledger");
}

#[test]
fn the_first_write_migrates_a_schema_1_ledger_and_its_records_stay_unchanged() {
    let ws = schema1();
    let f = ws.write("find.csv", THREE_FINDINGS);
    ws.import("findings", &f)
        .stdout_has(&["0 new, 0 updated, 3 unchanged"]);
    let f = ws.write("课程.csv", COURSES_ZH);
    ws.import("courses", &f)
        .stdout_has(&["0 new, 0 updated, 3 unchanged"]);
    // The migration is audited, once, by whoever wrote first, and says it
    // brought the log into the chain; the imports changed nothing, so they
    // added no entry.
    assert_eq!(ws.audit_len(), FIXTURE_ENTRIES + 1);
    let log = ws.run(&["audit"]).ok().stdout;
    assert_eq!(log.matches("migrate schema 1 to 3").count(), 1, "{log}");
    assert!(
        log.contains(r#""operator":"tester","command":"migrate schema 1 to 3""#),
        "{log}"
    );
    assert!(log.contains("the audit log chained by hash"), "{log}");
    assert_eq!(exports(&ws), exports(&same_records_now()));
    ws.run(&["show", "--format", "table", "P-01"])
        .ok()
        .stdout_has(&["A-2", "A-4", "K-1", "初中数学培优班"]);
    // A script sees each finding whole.
    let script = ws.write(
        "count.rhai",
        "for i in institutions() { for f in i.findings() { emit(#{i: i.id, f: f.id, of: f.institution_id}); } }",
    );
    ws.run(&["run", &script, "--format", "csv"])
        .ok()
        .stdout_has(&[
            "GZ-0001,F-1,GZ-0001",
            "GZ-0001,F-3,GZ-0001",
            "GZ-0002,F-2,GZ-0002",
        ]);
    // From the migration on, the log accounts for every record.
    ws.run(&["verify"]).ok().stdout_has(&["verified"]);
}

#[test]
fn a_dry_run_on_a_schema_1_ledger_migrates_it_but_writes_nothing_else() {
    let ws = schema1();
    let f = ws.write("find.csv", THREE_FINDINGS);
    ws.run(&["import", "findings", &f, "--dry-run"])
        .ok()
        .stdout_has(&["3 unchanged"]);
    // The migration is its own transaction, made when the ledger was opened
    // for writing; the dry run added nothing after it.
    assert_eq!(ws.audit_len(), FIXTURE_ENTRIES + 1);
    let log = ws.run(&["audit"]).ok().stdout;
    assert!(log.contains("migrate schema 1 to 3"), "{log}");
    assert_eq!(exports(&ws), exports(&same_records_now()));
}

/// Moves F-3 from GZ-0001 to GZ-0002 and changes it, in `ws`.
fn move_f3(ws: &Ws) {
    let f = ws.write(
        "move.csv",
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         F-3,GZ-0002,,late_hours,2,2018-09-01,2018-10-01,2018-09-15,,改到海珠\n",
    );
    ws.import("findings", &f)
        .stdout_has(&["0 new, 1 updated, 0 unchanged"]);
}

#[test]
fn an_updated_record_keeps_its_whole_before_image_in_either_schema() {
    for ws in [schema1(), same_records_now()] {
        move_f3(&ws);
        let n = ws.audit_len().to_string();
        // Each changed field, before and after.
        ws.run(&["audit", "--entry", &n]).ok().stdout_has(&[
            r#"{"kind":"finding","id":"F-3","action":"update","field":"institution_id","before":"GZ-0001","after":"GZ-0002"}"#,
            r#""field":"severity","before":"1","after":"2""#,
            r#""field":"note","before":"晚上九点后上课","after":"改到海珠""#,
        ]);
        let now = ws.export("findings", "csv");
        assert!(now.contains("F-3,GZ-0002,,late_hours,2"), "{now}");
        assert!(!now.contains("F-3,GZ-0001"), "{now}");
        let gz1 = ws
            .run(&["show", "--format", "table", "GZ-0001"])
            .ok()
            .stdout;
        assert!(!gz1.contains("F-3"), "{gz1}");
        ws.run(&["show", "--format", "table", "GZ-0002"])
            .ok()
            .stdout_has(&["F-2", "F-3", "改到海珠"]);
        // Importing the moved record again changes nothing.
        ws.import("findings", "move.csv")
            .stdout_has(&["0 new, 0 updated, 1 unchanged"]);
        // A script's write goes the other way in (one record, not a batch).
        let f = ws.write("fix.rhai", "rectify(\"F-2\");\n");
        ws.run(&["run", &f, "--write", "--as-of", "2019-01-10"])
            .ok();
        let n = ws.audit_len().to_string();
        ws.run(&["audit", "--entry", &n]).ok().stdout_has(&[
            r#"{"kind":"finding","id":"F-2","action":"update","field":"rectified_on","before":null,"after":"2019-01-10"}"#,
        ]);
        let now = ws.export("findings", "csv");
        assert!(
            now.contains(
                "F-2,GZ-0002,INS-2,no_licence,2,2018-05-10,2018-08-10,2019-01-10,,无证办学"
            ),
            "{now}"
        );
    }
}

/// Sets the ledger's schema version behind casebook's back.
fn set_schema(ws: &Ws, v: &str) {
    let mut b = redb::Database::builder();
    b.set_concurrency_mode(redb::ConcurrencyMode::SingleWriter);
    let db = b.open(&ws.db).unwrap();
    let t = db.begin_write().unwrap();
    {
        const META: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
        t.open_table(META)
            .unwrap()
            .insert("schema_version", v)
            .unwrap();
    }
    t.commit().unwrap();
}

/// Whether two files hold the same bytes (without printing them when not).
fn same_bytes(a: &std::path::Path, b: &[u8]) -> bool {
    std::fs::read(a).unwrap() == b
}

#[test]
fn a_ledger_of_a_newer_schema_is_refused_and_left_alone() {
    let ws = populated();
    let (records, audit) = (exports(&ws), ws.audit_len());
    set_schema(&ws, "99");
    let bytes = std::fs::read(&ws.db).unwrap();
    for args in [
        &["export", "findings"][..],
        &["show", "--format", "table", "GZ-0001"],
        &["import", "findings", "find.csv"],
    ] {
        ws.run(args).code(1).stderr_has(&[
            "was written by a newer casebook (schema 99, this build knows up to 3)",
            "upgrade casebook",
        ]);
        // redb marks a file open for writing in its header, and unmarks it
        // when it closes: only readers leave every byte as it was.
        if args[0] != "import" {
            assert!(same_bytes(&ws.db, &bytes), "{args:?} changed the file");
        }
    }
    // Nothing was migrated, imported or audited.
    set_schema(&ws, &casebook::ledger::SCHEMA_VERSION.to_string());
    assert_eq!(exports(&ws), records);
    assert_eq!(ws.audit_len(), audit);
}
