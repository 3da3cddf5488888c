//! Importing again: the same file changes nothing, `--dry-run` writes nothing,
//! and a changed row updates just that record.

use crate::common::*;

#[test]
fn importing_the_same_files_twice_changes_nothing() {
    let ws = populated();
    let before = ws.snapshot();
    let entries = ws.audit_len();
    ws.import("institutions", "inst.csv").stdout_has(&[
        "imported institutions 3 rows from inst.csv (UTF-8): 0 new, 0 updated, 3 unchanged",
    ]);
    ws.import("inspections", "insp.csv")
        .stdout_has(&["2 rows from insp.csv (UTF-8): 0 new, 0 updated, 2 unchanged"]);
    ws.import("findings", "find.csv")
        .stdout_has(&["3 rows from find.csv (UTF-8): 0 new, 0 updated, 3 unchanged"]);
    assert_eq!(ws.snapshot(), before);
    // An import that changed nothing adds no audit entry (before, each one
    // did), and the log still accounts for every record.
    assert_eq!(ws.audit_len(), entries);
    ws.run(&["verify"]).ok();
}

#[test]
fn re_importing_the_ledgers_own_export_changes_nothing() {
    let ws = populated();
    let before = ws.snapshot();
    for kind in ["institutions", "inspections", "findings"] {
        for format in ["csv", "jsonl"] {
            let name = format!("{kind}.{format}");
            let f = ws.write(&name, ws.export(kind, format));
            let r = ws.import(kind, &f);
            assert!(
                r.stdout.contains(": 0 new, 0 updated, "),
                "{name}: {}",
                r.stdout
            );
        }
    }
    assert_eq!(ws.snapshot(), before);
}

#[test]
fn the_same_rows_saved_in_gbk_are_unchanged_too() {
    let ws = populated();
    let before = ws.snapshot();
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(THREE_INSTITUTIONS);
    assert!(!unmappable);
    let f = ws.write("inst_gbk.csv", &bytes);
    ws.import("institutions", &f)
        .stdout_has(&["(GB18030): 0 new, 0 updated, 3 unchanged"]);
    assert_eq!(ws.snapshot(), before);
}

#[test]
fn a_dry_run_checks_every_row_and_writes_nothing() {
    let ws = Ws::init();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    let before = ws.snapshot();
    let audit = ws.audit_len();
    ws.run(&["import", "institutions", &f, "--dry-run"])
        .ok()
        .stdout_has(&["checked institutions 3 rows from inst.csv (UTF-8): 3 new, 0 updated, 0 unchanged; dry run, nothing written"]);
    assert_eq!(ws.snapshot(), before);
    assert_eq!(ws.audit_len(), audit);
    assert_eq!(
        ws.export("institutions", "csv"),
        format!("{INSTITUTION_HEADER}\n")
    );
    // The real import afterwards does what the dry run announced.
    ws.import("institutions", &f)
        .stdout_has(&["3 new, 0 updated, 0 unchanged"]);
    assert_eq!(ws.audit_len(), audit + 1);
}

#[test]
fn a_dry_run_of_findings_sees_institutions_only_in_the_ledger() {
    let ws = populated();
    let f = ws.write(
        "more.csv",
        "id,institution_id,kind,severity,opened_on,deadline\nF-9,GZ-0003,secret_exam,1,2019-01-01,2019-02-01\n",
    );
    let before = ws.snapshot();
    ws.run(&["import", "findings", &f, "--dry-run"])
        .ok()
        .stdout_has(&["1 new, 0 updated, 0 unchanged; dry run, nothing written"]);
    assert_eq!(ws.snapshot(), before);
}

#[test]
fn a_changed_field_updates_just_that_record() {
    let ws = populated();
    let changed = THREE_INSTITUTIONS.replace(
        "小画家美术工作室,,海珠,南华西街,,non_subject,,,,李四,45,",
        "小画家美术工作室,,海珠,南华西街,,non_subject,,,,李四,60,",
    );
    assert_ne!(changed, THREE_INSTITUTIONS);
    let f = ws.write("inst2.csv", &changed);
    ws.import("institutions", &f).stdout_has(&[
        "imported institutions 3 rows from inst2.csv (UTF-8): 0 new, 1 updated, 2 unchanged",
    ]);
    assert_eq!(ws.export("institutions", "csv"), changed);
}

#[test]
fn a_file_with_one_new_and_one_changed_row_counts_both() {
    let ws = populated();
    let f = ws.write(
        "mix.csv",
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         F-2,GZ-0002,INS-2,no_licence,2,2018-05-10,2018-08-10,2018-08-01,,已办证\n\
         F-4,GZ-0003,,prepaid_excess,2,2018-09-01,2018-10-01,,,预收费超过三个月\n",
    );
    ws.import("findings", &f)
        .stdout_has(&["2 rows from mix.csv (UTF-8): 1 new, 1 updated, 0 unchanged"]);
    let rows = csv_maps(&ws.export("findings", "csv"));
    let f2 = rows.iter().find(|r| r["id"] == "F-2").unwrap();
    assert_eq!(f2["rectified_on"], "2018-08-01");
    assert_eq!(f2["note"], "已办证");
    assert_eq!(rows.len(), 4);
}

#[test]
fn a_finding_filed_under_another_institution_moves_there() {
    // The id index is written on one thread while the records are written on
    // another; a finding that changes institution must leave the old one.
    let ws = populated();
    let f = ws.write(
        "moved.csv",
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         F-4,GZ-0001,,prepaid_excess,2,2018-09-01,2018-10-01,,,预收费超过三个月\n",
    );
    ws.import("findings", &f)
        .stdout_has(&["1 new, 0 updated, 0 unchanged"]);
    let f = ws.write(
        "moved2.csv",
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         F-4,GZ-0003,,prepaid_excess,2,2018-09-01,2018-10-01,,,预收费超过三个月\n",
    );
    ws.import("findings", &f)
        .stdout_has(&["0 new, 1 updated, 0 unchanged"]);
    let rows = csv_maps(&ws.export("findings", "csv"));
    let moved: Vec<_> = rows.iter().filter(|r| r["id"] == "F-4").collect();
    assert_eq!(moved.len(), 1, "{rows:?}");
    assert_eq!(moved[0]["institution_id"], "GZ-0003");
    let old = ws
        .run(&[
            "show",
            "--format",
            "table",
            "GZ-0001",
            "--as-of",
            "2019-02-20",
        ])
        .ok()
        .stdout;
    assert!(!old.contains("F-4"), "{old}");
    let new = ws
        .run(&[
            "show",
            "--format",
            "table",
            "GZ-0003",
            "--as-of",
            "2019-02-20",
        ])
        .ok()
        .stdout;
    assert!(new.contains("F-4"), "{new}");
}

#[test]
fn a_file_with_only_some_columns_updates_those_and_keeps_the_rest() {
    // The bureau sends a short file: id, the required columns and a new status.
    // Licence, counts, address... of the stored record must survive.
    let ws = populated();
    let f = ws.write(
        "status_only.csv",
        "id,name,district,category,status,status_date\nGZ-0001,星辰数学培训中心,天河,subject,rectifying,2018-06-01\n",
    );
    ws.import("institutions", &f)
        .stdout_has(&["1 rows from status_only.csv (UTF-8): 0 new, 1 updated, 0 unchanged"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    let g1 = &rows[0];
    assert_eq!(g1["status"], "rectifying");
    assert_eq!(g1["status_date"], "2018-06-01");
    assert_eq!(g1["uscc"], GOOD_USCC);
    assert_eq!(g1["licence_no"], "教民144010600001");
    assert_eq!(g1["licence_expires"], "2020-02-29");
    assert_eq!(g1["students"], "320");
    assert_eq!(g1["qualified_teachers"], "15");
    assert_eq!(g1["prepaid_balance"], "128000.50");
    assert_eq!(g1["fire_approved"], "true");
    assert_eq!(g1["address"], "天河路1号");
    // The same file again is unchanged.
    ws.import("institutions", &f)
        .stdout_has(&["0 new, 0 updated, 1 unchanged"]);
}

#[test]
fn an_empty_cell_clears_a_field_but_a_missing_column_does_not() {
    let ws = populated();
    let f = ws.write(
        "clear.csv",
        "id,institution_id,kind,severity,opened_on,deadline,note\n\
         F-3,GZ-0001,late_hours,1,2018-09-01,2018-10-01,\n",
    );
    ws.import("findings", &f)
        .stdout_has(&["0 new, 1 updated, 0 unchanged"]);
    let rows = csv_maps(&ws.export("findings", "csv"));
    let f3 = rows.iter().find(|r| r["id"] == "F-3").unwrap();
    assert_eq!(f3["note"], "", "the empty note cell cleared the note");
    assert_eq!(
        f3["rectified_on"], "2018-09-15",
        "rectified_on had no column and was kept"
    );
}

#[test]
fn in_json_lines_null_clears_a_field_and_an_absent_key_keeps_it() {
    let ws = populated();
    let f = ws.write(
        "upd.jsonl",
        "{\"id\":\"INS-1\",\"institution_id\":\"GZ-0001\",\"date\":\"2018-04-02\",\"note\":null,\"inspectors\":7}\n",
    );
    ws.import("inspections", &f)
        .stdout_has(&["0 new, 1 updated, 0 unchanged"]);
    let rows = csv_maps(&ws.export("inspections", "csv"));
    let i1 = rows.iter().find(|r| r["id"] == "INS-1").unwrap();
    assert_eq!(i1["note"], "");
    assert_eq!(i1["inspectors"], "7");
    assert_eq!(i1["departments"], "education;market;fire");
    assert_eq!(i1["operation"], "春季联合执法");
}

#[test]
fn the_operator_of_an_import_is_recorded_in_the_audit_log() {
    let ws = Ws::init();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    ws.run(&["--operator", "王科长", "import", "institutions", &f])
        .ok();
    let audit = ws.run(&["audit"]).ok().stdout;
    let last = audit.lines().last().unwrap();
    assert!(last.contains("\"operator\":\"王科长\""), "{audit}");
    assert!(last.contains("\"inserted\":3"), "{audit}");
    assert!(last.contains("import institutions inst.csv"), "{audit}");
}

#[test]
fn the_audit_log_holds_the_sha256_of_the_imported_file() {
    use sha2::{Digest, Sha256};
    let ws = Ws::init();
    // Larger than one read (1 MiB), with a BOM: the hash is of the bytes as stored.
    let text = format!("\u{feff}{}", institutions_csv("GZ-", 30_000, "subject"));
    let f = ws.write("inst.csv", &text);
    ws.import("institutions", &f);
    let audit = ws.run(&["audit", "--last", "1"]).ok().stdout;
    let want = format!("\"file_sha256\":\"{:x}\"", Sha256::digest(text.as_bytes()));
    assert!(audit.contains(&want), "{audit}");
}

#[test]
fn without_user_or_logname_the_audit_names_the_account() {
    let ws = Ws::init();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    ws.cmd()
        .env_remove("USER")
        .env_remove("LOGNAME")
        .args(["import", "institutions", &f])
        .assert()
        .success();
    let account = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let account = String::from_utf8(account.stdout).unwrap();
    if account.trim().is_empty() {
        // An account without a name in the user database: nothing to compare.
        return;
    }
    let log = ws.run(&["audit"]).ok().stdout;
    assert!(
        log.contains(&format!("\"operator\":\"{}\"", account.trim())),
        "{log}"
    );
}

#[test]
fn the_audit_says_how_many_entries_it_leaves_out() {
    let ws = populated();
    let all = ws.run(&["audit"]).ok();
    assert!(!all.stderr.contains("not shown"), "{}", all.stderr);
    let last = ws.run(&["audit", "--last", "1"]).ok();
    assert_eq!(
        last.stdout.lines().filter(|l| l.starts_with('{')).count(),
        1
    );
    assert!(
        last.stderr
            .contains("(2 earlier entries not shown: --last 3 shows them all)"),
        "{}",
        last.stderr
    );
}
