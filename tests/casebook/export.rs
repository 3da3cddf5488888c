//! Export writes what import reads: import → export → import into a fresh
//! ledger → export gives the same bytes, in CSV and in JSON Lines, and CSV
//! cells a spreadsheet would run as formulas are neutralised and come back.

use crate::common::*;

/// Institutions with every awkward value: Chinese, commas, quotes, line breaks,
/// formula-like text, decimals, empty optionals, every status.
const RICH_INSTITUTIONS: &str = "\
id,name,uscc,district,street,address,category,licence_no,licence_issued,licence_expires,organizer,students,teachers,qualified_teachers,area_m2,prepaid_balance,fire_approved,status,status_date
R-1,\"Star, Maths \"\"Olympiad\"\"\",91440101MA5CJQ4N59,天河,石牌街,\"Room 301,
Building 2\",subject,教民144010600001,2017-03-01,2020-02-29,广州星辰教育科技有限公司,320,18,15,450.25,128000.05,true,operating,2017-03-01
R-2,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",,海珠,+86 热线,=1+1,non_subject,,,,@admin,0,0,0,0,0,false,rectifying,2018-05-10
R-3,-减负-,,番禺,,@home,subject,,,,-,1,1,1,0.5,0.01,false,closed,2018-09-01
R-4,'already quoted,,越秀,,'=not a formula,non_subject,,,,'',2,2,0,12,99999999.99,true,self_closed,2018-10-01
R-5,@SUM(A1:A9),,增城,,,subject,L-5,2018-01-01,2019-01-01,+,3,2,2,1000000,0,false,converted,2018-12-31
";

const RICH_INSPECTIONS: &str = "\
id,institution_id,date,operation,departments,inspectors,note
RI-1,R-1,2018-04-02,\"=cmd|' /C calc'!A0\",education;police;civil_affairs;hr;market;fire,12,\"note with, comma
and line\"
RI-2,R-2,2018-05-10,,,0,
RI-3,R-2,2018-06-10,春季联合执法,education,3,-复查-
";

const RICH_FINDINGS: &str = "\
id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note
RF-1,R-1,RI-1,fire_hazard,3,2018-04-02,2018-05-02,2018-04-20,2018-05-05,=2+3
RF-2,R-2,RI-2,no_licence,2,2018-05-10,2018-08-10,,,@all 无证
RF-3,R-2,,secret_exam,1,2018-06-10,2018-06-10,2018-06-10,,+1
RF-4,R-3,,other,1,2018-09-01,2018-10-01,,,
";

fn rich() -> Ws {
    let ws = Ws::init();
    let f = ws.write("i.csv", RICH_INSTITUTIONS);
    ws.import("institutions", &f);
    let f = ws.write("s.csv", RICH_INSPECTIONS);
    ws.import("inspections", &f);
    let f = ws.write("f.csv", RICH_FINDINGS);
    ws.import("findings", &f);
    ws
}

/// Exports every kind from `from` in `format`, imports them into a fresh
/// ledger, and returns (first exports, second exports).
fn round_trip(from: &Ws, format: &str) -> (Vec<String>, Vec<String>) {
    let to = Ws::init();
    let mut first = Vec::new();
    let mut second = Vec::new();
    for kind in ["institutions", "inspections", "findings"] {
        let text = from.export(kind, format);
        let f = to.write(&format!("{kind}.{format}"), &text);
        to.import(kind, &f);
        first.push(text);
    }
    for kind in ["institutions", "inspections", "findings"] {
        second.push(to.export(kind, format));
    }
    (first, second)
}

#[test]
fn csv_export_imported_into_a_fresh_ledger_exports_the_same_bytes() {
    let ws = rich();
    let (first, second) = round_trip(&ws, "csv");
    assert_eq!(first, second);
    assert_eq!(csv_rows(&first[0]).len(), 6);
    assert_eq!(csv_rows(&first[1]).len(), 4);
    assert_eq!(csv_rows(&first[2]).len(), 5);
}

#[test]
fn jsonl_export_imported_into_a_fresh_ledger_exports_the_same_bytes() {
    let ws = rich();
    let (first, second) = round_trip(&ws, "jsonl");
    assert_eq!(first, second);
    for text in &first {
        for line in text.lines() {
            assert!(
                line.starts_with('{') && line.ends_with('}'),
                "one JSON object per line: {line}"
            );
        }
    }
}

#[test]
fn csv_and_jsonl_exports_describe_the_same_ledger() {
    // A ledger rebuilt from the JSON Lines export exports the same CSV.
    let ws = rich();
    let to = Ws::init();
    for kind in ["institutions", "inspections", "findings"] {
        let f = to.write(&format!("{kind}.jsonl"), ws.export(kind, "jsonl"));
        to.import(kind, &f);
    }
    for kind in ["institutions", "inspections", "findings"] {
        assert_eq!(to.export(kind, "csv"), ws.export(kind, "csv"), "{kind}");
    }
}

#[test]
fn the_rich_csv_exports_exactly_as_it_was_written() {
    let ws = rich();
    let inst = ws.export("institutions", "csv");
    let rows = csv_maps(&inst);
    assert_eq!(rows[0]["name"], "Star, Maths \"Olympiad\"");
    assert_eq!(rows[0]["address"], "Room 301,\nBuilding 2");
    assert_eq!(rows[0]["area_m2"], "450.25");
    assert_eq!(rows[0]["prepaid_balance"], "128000.05");
    assert_eq!(rows[2]["prepaid_balance"], "0.01");
    assert_eq!(rows[3]["prepaid_balance"], "99999999.99");
    assert_eq!(rows[4]["area_m2"], "1000000");
    assert_eq!(
        csv_maps(&ws.export("inspections", "csv"))[0]["departments"],
        "education;police;civil_affairs;hr;market;fire"
    );
}

#[test]
fn formula_like_cells_are_written_with_a_leading_apostrophe_in_csv() {
    let ws = rich();
    let inst = csv_maps(&ws.export("institutions", "csv"));
    let cell = |id: &str, col: &str| inst.iter().find(|r| r["id"] == id).unwrap()[col].clone();
    assert_eq!(
        cell("R-2", "name"),
        "'=HYPERLINK(\"http://evil.example\",\"click\")"
    );
    assert_eq!(cell("R-2", "street"), "'+86 热线");
    assert_eq!(cell("R-2", "address"), "'=1+1");
    assert_eq!(cell("R-2", "organizer"), "'@admin");
    assert_eq!(cell("R-3", "name"), "'-减负-");
    assert_eq!(cell("R-3", "address"), "'@home");
    assert_eq!(cell("R-3", "organizer"), "'-");
    assert_eq!(cell("R-5", "name"), "'@SUM(A1:A9)");
    assert_eq!(cell("R-5", "organizer"), "'+");
    // Text that merely starts with an apostrophe is left alone; one that starts
    // with an apostrophe and a formula character gets one more, so that the
    // value comes back exactly.
    assert_eq!(cell("R-4", "name"), "'already quoted");
    // The CSV file R-4 came from said '=not a formula: import took the
    // apostrophe as a neutraliser, so the stored value is "=not a formula".
    assert_eq!(cell("R-4", "address"), "'=not a formula");
    // No other cell of any export starts with a formula character.
    for kind in ["institutions", "inspections", "findings"] {
        for row in csv_rows(&ws.export(kind, "csv")) {
            for c in row {
                assert!(
                    !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{kind}: cell {c:?} would run as a formula"
                );
            }
        }
    }
    let insp = csv_maps(&ws.export("inspections", "csv"));
    assert_eq!(insp[0]["operation"], "'=cmd|' /C calc'!A0");
    assert_eq!(insp[2]["note"], "'-复查-");
    let fnd = csv_maps(&ws.export("findings", "csv"));
    assert_eq!(fnd[0]["note"], "'=2+3");
    assert_eq!(fnd[1]["note"], "'@all 无证");
    assert_eq!(fnd[2]["note"], "'+1");
}

#[test]
fn neutralised_cells_come_back_exactly_on_re_import() {
    let ws = rich();
    // JSON Lines carries values as they are: no apostrophes.
    let json = ws.export("institutions", "jsonl");
    assert!(
        json.contains(r#""name":"=HYPERLINK(\"http://evil.example\",\"click\")""#),
        "{json}"
    );
    assert!(json.contains(r#""name":"-减负-""#), "{json}");
    assert!(json.contains(r#""name":"@SUM(A1:A9)""#), "{json}");
    assert!(json.contains(r#""name":"'already quoted""#), "{json}");
    // The source CSV said '' : the first apostrophe was read as a neutraliser.
    assert!(json.contains(r#""organizer":"'""#), "{json}");
    // Re-imported from CSV, the values are the same (JSON Lines shows them raw).
    let to = Ws::init();
    let f = to.write("back.csv", ws.export("institutions", "csv"));
    to.import("institutions", &f);
    assert_eq!(to.export("institutions", "jsonl"), json);
    let f = to.write("back_insp.csv", ws.export("inspections", "csv"));
    to.import("inspections", &f);
    let json = to.export("inspections", "jsonl");
    assert!(
        json.contains(r#""operation":"=cmd|' /C calc'!A0""#),
        "{json}"
    );
}

#[test]
fn exporting_an_empty_ledger_gives_just_the_header() {
    let ws = Ws::init();
    assert_eq!(
        ws.export("institutions", "csv"),
        format!("{INSTITUTION_HEADER}\n")
    );
    assert_eq!(
        ws.export("inspections", "csv"),
        "id,institution_id,date,operation,departments,inspectors,note\n"
    );
    assert_eq!(ws.export("findings", "jsonl"), "");
}

#[test]
fn export_to_a_file_writes_the_file_and_leaves_no_partial_file() {
    let ws = rich();
    let r = ws
        .run(&["export", "institutions", "--output", "out.csv"])
        .ok();
    assert_eq!(r.stdout, "");
    let written = std::fs::read_to_string(ws.path().join("out.csv")).unwrap();
    assert_eq!(written, ws.export("institutions", "csv"));
    let names: Vec<String> = std::fs::read_dir(ws.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("partial")),
        "left behind: {names:?}"
    );
    // -o and jsonl as well
    ws.run(&["export", "findings", "--format", "jsonl", "-o", "f.jsonl"])
        .ok();
    assert_eq!(
        std::fs::read_to_string(ws.path().join("f.jsonl")).unwrap(),
        ws.export("findings", "jsonl")
    );
}

#[test]
fn export_to_a_directory_that_does_not_exist_fails_clearly() {
    let ws = rich();
    let r = ws
        .run(&["export", "institutions", "-o", "no/such/dir/out.csv"])
        .code(1);
    assert!(r.stderr.contains("no/such/dir/out"), "{}", r.stderr);
    assert!(
        r.stderr.contains("No such file or directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn export_piped_into_a_reader_that_stops_early_is_not_an_error() {
    // Like `casebook export institutions | head -1`: more output than a pipe
    // holds, and the reader goes away after one line.
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let ws = Ws::init();
    let mut big = format!("{INSTITUTION_HEADER}\n");
    for i in 0..12_000 {
        big.push_str(&format!(
            "P-{i:05},机构{i}号 培训中心,,天河,石牌街,天河路{i}号 大厦 {i} 室,subject,,,,举办者{i},10,2,1,100,0,false,operating,2018-01-01\n"
        ));
    }
    let f = ws.write("big.csv", &big);
    ws.import("institutions", &f);
    for format in ["csv", "jsonl"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("casebook"))
            .current_dir(ws.path())
            .arg("--db")
            .arg(&ws.db)
            .args(["export", "institutions", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(!line.is_empty());
        drop(out);
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: {stderr}");
    }
}

#[test]
fn a_cell_holding_a_windows_line_break_survives_a_csv_round_trip() {
    let ws = Ws::init();
    let f = ws.write(
        "crlf.jsonl",
        "{\"id\":\"W-1\",\"name\":\"Windows\",\"district\":\"天河\",\"address\":\"一楼\\r\\n二楼\\n三楼\",\"category\":\"subject\",\"status\":\"operating\",\"status_date\":\"2019-01-01\"}\n",
    );
    ws.import("institutions", &f);
    let json = ws.export("institutions", "jsonl");
    assert!(json.contains(r#""address":"一楼\r\n二楼\n三楼""#), "{json}");
    let to = Ws::init();
    let f = to.write("back.csv", ws.export("institutions", "csv"));
    to.import("institutions", &f);
    assert_eq!(to.export("institutions", "jsonl"), json);
}

/// BUG (src/cli/cmd/export.rs): `--output` naming the ledger file itself
/// renames the CSV over the ledger: exit 0, and the ledger is gone ("not a
/// casebook ledger" on the next command).
#[test]
fn export_to_the_ledger_file_itself_is_refused() {
    let ws = rich();
    let before = ws.snapshot();
    let db = ws.db.to_str().unwrap().to_string();
    ws.run(&["export", "institutions", "-o", &db]).code(1);
    assert_eq!(ws.snapshot(), before);
}
