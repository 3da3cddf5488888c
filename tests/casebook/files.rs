//! Files people open and rows programs read: `-o FILE` on every command that
//! prints data (the format from the extension, written whole then renamed,
//! never over the ledger), `--format` on every listing, Excel-ready CSV,
//! .xlsx and .parquet exports, and the audit log as a table.

use crate::common::*;

#[test]
fn output_files_take_their_format_from_the_extension() {
    let ws = populated();
    for (name, starts) in [
        ("f.csv", &b"id,institution_id"[..]),
        ("f.jsonl", &b"{\"id\":"[..]),
        ("f.xlsx", &b"PK"[..]),
        ("f.parquet", &b"PAR1"[..]),
    ] {
        ws.run(&["export", "findings", "-o", name]).ok();
        let bytes = std::fs::read(ws.path().join(name)).unwrap();
        assert!(bytes.starts_with(starts), "{name}");
    }
    // No temporary is left beside them.
    let left: Vec<_> = std::fs::read_dir(ws.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Listings too: the register as JSON, one key per section.
    ws.run(&["show", "GZ-0001", "-o", "r.json", "--as-of", "2019-01-01"])
        .ok();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.path().join("r.json")).unwrap()).unwrap();
    assert!(v["findings"].as_array().unwrap().len() == 2, "{v}");
    ws.run(&["show", "GZ-0001", "-o", "r.xlsx"]).ok();
    ws.run(&["audit", "-o", "a.csv"]).ok();
    let a = std::fs::read_to_string(ws.path().join("a.csv")).unwrap();
    assert!(a.starts_with("entry,when,operator,command"), "{a}");
    // A name without a known extension needs --format.
    ws.run(&["export", "findings", "-o", "f.dat"]).ok();
    ws.run(&["audit", "-o", "a.dat"])
        .code(1)
        .stderr_has(&["cannot tell the format"]);
    ws.run(&["audit", "-o", "a.dat", "--format", "csv"]).ok();
}

#[test]
fn an_output_file_never_replaces_the_ledger() {
    let ws = populated();
    let before = std::fs::read(&ws.db).unwrap();
    let db = ws.db.to_str().unwrap().to_string();
    for args in [
        vec!["export", "findings", "-o", &db],
        vec!["audit", "-o", &db, "--format", "csv"],
        vec!["show", "GZ-0001", "-o", &db, "--format", "json"],
    ] {
        ws.run(&args).code(1).stderr_has(&["refusing to write"]);
    }
    // Nor a copy of it under another name.
    std::fs::copy(&ws.db, ws.path().join("copy.xlsx")).unwrap();
    ws.run(&["export", "findings", "-o", "copy.xlsx"])
        .code(1)
        .stderr_has(&["it is a casebook ledger"]);
    assert_eq!(std::fs::read(&ws.db).unwrap(), before);
}

#[test]
fn listings_take_a_format() {
    let ws = populated();
    let out = ws
        .run(&[
            "show",
            "GZ-0001",
            "--format",
            "jsonl",
            "--as-of",
            "2019-01-01",
        ])
        .ok()
        .stdout;
    let rows = jsonl(&out);
    assert!(rows
        .iter()
        .any(|r| r["table"] == "findings" && r["id"] == "F-1"));
    let csv = ws.run(&["audit", "--format", "csv"]).ok().stdout;
    assert_eq!(csv.lines().count(), 4, "{csv}");
    // Piped without --format: JSON Lines, each entry's whole header.
    let entries = jsonl(&ws.run(&["audit"]).ok().stdout);
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["changes"]["institution insert"], 3);
    assert_eq!(entries[0]["operator"], "tester");
    // xlsx, parquet and html need a file.
    ws.run(&["audit", "--format", "xlsx"])
        .code(1)
        .stderr_has(&["-o FILE"]);
}

#[test]
fn the_audit_table_says_when_who_what_and_filters() {
    let ws = populated();
    let t = ws.run(&["audit", "--format", "table"]).ok().stdout;
    for part in ["when", "operator", "command", "changes", "finding insert 3"] {
        assert!(t.contains(part), "{part}: {t}");
    }
    let n = |args: &[&str]| {
        let mut a = vec!["audit"];
        a.extend_from_slice(args);
        jsonl(&ws.run(&a).ok().stdout).len()
    };
    assert_eq!(n(&["--since", "2999-01-01"]), 0);
    assert_eq!(n(&["--since", "2000-01-01"]), 3);
    assert_eq!(n(&["--institution", "GZ-0002"]), 3);
    assert_eq!(n(&["--institution", "GZ-0003"]), 1);
    assert_eq!(n(&["--institution", "NOPE"]), 0);
    // An import that changes something (one that changes nothing adds no entry).
    let f = ws.write(
        "more.csv",
        "id,institution_id,kind,severity,opened_on,deadline\nF-9,GZ-0003,fire_hazard,1,2019-01-02,2019-02-02\n",
    );
    ws.run(&["--operator", "王科长", "import", "findings", &f])
        .ok();
    assert_eq!(n(&["--operator", "王科长"]), 1);
}

#[test]
fn an_audit_entry_shows_each_changed_field_before_and_after() {
    let ws = populated();
    let f = ws.write(
        "fix.csv",
        "id,institution_id,kind,severity,opened_on,deadline,rectified_on\n\
         F-2,GZ-0002,no_licence,3,2018-05-10,2018-08-10,2018-07-01\n",
    );
    ws.import("findings", &f);
    let n = last_entry(&ws.run(&["audit", "--last", "1"]).ok().stdout);
    let rows = jsonl(&ws.run(&["audit", "--entry", &n]).ok().stdout);
    let field = |f: &str| rows.iter().find(|r| r["field"] == f).cloned().unwrap();
    assert_eq!(field("severity")["before"], "2");
    assert_eq!(field("severity")["after"], "3");
    assert_eq!(field("rectified_on")["after"], "2018-07-01");
    // The note was not in the file: kept, so not listed.
    assert!(rows.iter().all(|r| r["field"] != "note"), "{rows:?}");
}

#[test]
fn show_prints_amounts_with_separators_and_statuses_in_both_languages() {
    let ws = populated();
    ws.run(&[
        "show",
        "--format",
        "table",
        "GZ-0001",
        "--as-of",
        "2019-01-01",
    ])
    .ok()
    .stdout_has(&["128,000.50 元", "已销号 closed", "已整改待验收 rectified"]);
}

#[test]
fn csv_for_excel_has_a_bom_chinese_headers_and_values_and_crlf() {
    let ws = populated();
    ws.run(&["export", "institutions", "--excel", "-o", "x.csv"])
        .ok();
    let bytes = std::fs::read(ws.path().join("x.csv")).unwrap();
    assert!(bytes.starts_with("\u{feff}机构编号,机构名称".as_bytes()));
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\r\n"), "{text}");
    assert!(text.contains(",学科类,") && text.contains(",是,"), "{text}");
    assert!(text.contains("经营中"), "{text}");
    // It imports back into a new ledger as the same records.
    let other = Ws::init();
    other.write("x.csv", std::fs::read(ws.path().join("x.csv")).unwrap());
    other.import("institutions", "x.csv");
    assert_eq!(
        other.export("institutions", "csv"),
        ws.export("institutions", "csv")
    );
}

#[test]
fn score_and_runs_write_files() {
    let ws = populated();
    let rule = ws.write("rule.rhai", "fn score(inst) { inst.students }\n");
    ws.run(&[
        "score",
        &rule,
        "--as-of",
        "2019-01-01",
        "--save",
        "-o",
        "s.xlsx",
    ])
    .ok();
    assert!(std::fs::read(ws.path().join("s.xlsx"))
        .unwrap()
        .starts_with(b"PK"));
    ws.run(&["runs", "show", "1", "-o", "r.csv"]).ok();
    let r = std::fs::read_to_string(ws.path().join("r.csv")).unwrap();
    assert!(r.starts_with("id,name,district,score,grade,reasons"), "{r}");
    assert_eq!(r.lines().count(), 4, "{r}");
    let runs = jsonl(&ws.run(&["runs"]).ok().stdout);
    assert_eq!(runs[0]["run"], 1);
}
