//! Every kind of bad input file: the import is refused with exit code 1, one
//! clear message naming file, line, field, value and reason, and the ledger is
//! left exactly as it was.

use crate::common::*;

/// Imports `file` into a populated ledger, expecting refusal: asserts exit code 1,
/// that the ledger (every export, and the audit log) is unchanged, and returns stderr.
#[track_caller]
fn refused(ws: &Ws, kind: &str, file: &str) -> String {
    refused_with(ws, &["import", kind, file])
}

#[track_caller]
fn refused_with(ws: &Ws, args: &[&str]) -> String {
    let before = ws.snapshot();
    let audit = ws.audit_len();
    let r = ws.run(args).code(1);
    assert!(
        r.stdout.is_empty(),
        "a refused import prints no success line: {}",
        r.stdout
    );
    assert_eq!(ws.snapshot(), before, "the ledger changed:\n{}", r.stderr);
    assert_eq!(ws.audit_len(), audit, "an audit entry was written");
    r.stderr
}

/// One institution row with the given overrides of a valid row.
fn inst_csv(rows: &[&str]) -> String {
    let mut s = String::from(
        "id,name,uscc,district,category,teachers,qualified_teachers,status,status_date\n",
    );
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

const GOOD_ROW: &str = "NEW-1,Good,,天河,subject,3,2,operating,2019-01-01";

#[test]
fn a_date_that_does_not_exist_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&[GOOD_ROW, "NEW-2,Bad,,天河,subject,3,2,operating,2019-02-30"]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("bad.csv:3: status_date = \"2019-02-30\": is not a real calendar date"),
        "{e}"
    );
    assert!(
        e.contains("1 error in 1 of 2 rows of bad.csv; nothing was written"),
        "{e}"
    );
}

#[test]
fn a_uscc_with_the_wrong_check_character_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&["NEW-2,Bad,91440101MA5CJQ4N58,天河,subject,3,2,operating,2019-01-01"]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("bad.csv:2: uscc = \"91440101MA5CJQ4N58\": check character is '8' but the first 17 characters give '9'"),
        "{e}"
    );
}

#[test]
fn a_uscc_of_the_wrong_length_or_with_forbidden_letters_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&[
            "NEW-2,Bad,91440101MA5CJQ4N5,天河,subject,3,2,operating,2019-01-01",
            "NEW-3,Bad,91440101MA5CJQ4NI9,天河,subject,3,2,operating,2019-01-01",
        ]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("bad.csv:2: uscc = \"91440101MA5CJQ4N5\": must be 18 characters, has 17"),
        "{e}"
    );
    assert!(
        e.contains("bad.csv:3: uscc = \"91440101MA5CJQ4NI9\": character 17 'I' is not allowed"),
        "{e}"
    );
}

#[test]
fn an_unknown_district_is_refused_and_the_districts_are_listed() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&["NEW-2,Bad,,朝阳,subject,3,2,operating,2019-01-01"]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("bad.csv:2: district = \"朝阳\": is not one of the ledger's districts (越秀 海珠 荔湾 天河 白云 黄埔 番禺 花都 南沙 从化 增城)"),
        "{e}"
    );
}

#[test]
fn more_qualified_teachers_than_teachers_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&["NEW-2,Bad,,天河,subject,3,5,operating,2019-01-01"]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("bad.csv:2: qualified_teachers = \"5\": is more than teachers (3)"),
        "{e}"
    );
}

#[test]
fn an_unknown_category_or_status_is_refused_and_the_choices_are_listed() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&["NEW-2,Bad,,天河,学科,3,2,营业,2019-01-01"]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("bad.csv:2: category = \"学科\": is not one of: subject (学科类), non_subject (非学科类)"),
        "{e}"
    );
    assert!(
        e.contains("bad.csv:2: status = \"营业\": is not one of: operating (经营中)"),
        "{e}"
    );
    assert!(e.contains("2 errors in 1 of 1 rows of bad.csv"), "{e}");
}

#[test]
fn errors_found_while_parsing_and_while_writing_a_large_file_are_all_reported_in_line_order() {
    // More rows than one chunk, so parsing (one thread) and writing (another)
    // overlap: a bad date near the end is found by the parser, a missing
    // institution near the start by the writer; both are reported, by line,
    // and nothing is written.
    let ws = populated();
    let mut csv = String::from("id,institution_id,kind,severity,opened_on,deadline\n");
    for n in 0..150_000 {
        let (inst, opened) = match n {
            10 => ("GZ-9999", "2019-01-01"),
            149_990 => ("GZ-0001", "2019-02-30"),
            _ => ("GZ-0001", "2019-01-01"),
        };
        csv.push_str(&format!(
            "FX-{n},{inst},fire_hazard,2,{opened},2019-03-01\n"
        ));
    }
    let f = ws.write("big.csv", csv);
    let e = refused(&ws, "findings", &f);
    let missing = e
        .find("big.csv:12: institution_id = \"GZ-9999\"")
        .unwrap_or_else(|| panic!("{e}"));
    let bad_date = e
        .find("big.csv:149992: opened_on = \"2019-02-30\"")
        .unwrap_or_else(|| panic!("{e}"));
    assert!(missing < bad_date, "{e}");
    assert!(e.contains("of 150000 rows of big.csv"), "{e}");
}

#[test]
fn more_bad_rows_than_are_kept_in_memory_are_all_listed_in_line_order() {
    // 70,000 bad rows: more than the 65,536 errors an import keeps in
    // memory before it writes them to a temporary file. Every one is still
    // listed, once, in order of line.
    let ws = populated();
    let mut csv = String::from("id,institution_id,kind,severity,opened_on,deadline\n");
    for n in 0..70_000 {
        csv.push_str(&format!(
            "FX-{n},GZ-0001,fire_hazard,x,2019-01-01,2019-03-01\n"
        ));
    }
    let f = ws.write("bad.csv", csv);
    let e = refused(&ws, "findings", &f);
    let lines: Vec<u64> = e
        .lines()
        .filter_map(|l| {
            l.strip_prefix("error: ")
                .unwrap_or(l)
                .strip_prefix("bad.csv:")
        })
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(lines, (2..70_002).collect::<Vec<u64>>());
    assert!(
        e.contains("bad.csv:70001: severity = \"x\": is not a whole number"),
        "{}",
        &e[e.len().saturating_sub(300)..]
    );
    assert!(
        e.trim_end()
            .ends_with("70000 errors in 70000 of 70000 rows of bad.csv; nothing was written"),
        "{}",
        &e[e.len().saturating_sub(300)..]
    );
}

#[test]
fn a_finding_of_an_institution_not_in_the_ledger_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        "id,institution_id,kind,severity,opened_on,deadline\n\
         F-9,GZ-0001,fire_hazard,2,2019-01-01,2019-02-01\n\
         F-10,GZ-9999,fire_hazard,2,2019-01-01,2019-02-01\n",
    );
    let e = refused(&ws, "findings", &f);
    assert!(
        e.contains("bad.csv:3: institution_id = \"GZ-9999\": no institution with this id in the ledger (import institutions first)"),
        "{e}"
    );
}

#[test]
fn a_finding_naming_an_inspection_of_another_institution_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline\n\
         F-9,GZ-0003,INS-1,fire_hazard,2,2019-01-01,2019-02-01\n\
         F-10,GZ-0003,INS-404,fire_hazard,2,2019-01-01,2019-02-01\n",
    );
    let e = refused(&ws, "findings", &f);
    assert!(
        e.contains("bad.csv:2: inspection_id = \"INS-1\": this inspection was of institution GZ-0001, not GZ-0003"),
        "{e}"
    );
    assert!(
        e.contains("bad.csv:3: inspection_id = \"INS-404\": no inspection with this id"),
        "{e}"
    );
}

#[test]
fn an_inspection_of_an_institution_not_in_the_ledger_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        "id,institution_id,date,departments\nINS-9,NOPE-1,2019-01-01,education\n",
    );
    let e = refused(&ws, "inspections", &f);
    assert!(
        e.contains(
            "bad.csv:2: institution_id = \"NOPE-1\": no institution with this id in the ledger"
        ),
        "{e}"
    );
}

#[test]
fn a_finding_closed_out_before_it_was_rectified_is_refused() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        "id,institution_id,kind,severity,opened_on,deadline,rectified_on,verified_on\n\
         F-9,GZ-0001,fire_hazard,4,2019-01-10,2019-01-01,,2019-01-20\n",
    );
    let e = refused(&ws, "findings", &f);
    assert!(
        e.contains("bad.csv:2: severity = \"4\": must be 1, 2 or 3"),
        "{e}"
    );
    assert!(
        e.contains("bad.csv:2: deadline = \"2019-01-01\": is before opened_on 2019-01-10"),
        "{e}"
    );
    assert!(
        e.contains("bad.csv:2: verified_on = \"2019-01-20\": is set but rectified_on is empty"),
        "{e}"
    );
}

#[test]
fn a_duplicate_id_in_one_file_is_refused_naming_the_first_line() {
    let ws = populated();
    let f = ws.write(
        "dup.csv",
        inst_csv(&[
            GOOD_ROW,
            "NEW-2,Other,,天河,subject,3,2,operating,2019-01-01",
            "NEW-1,Again,,天河,subject,3,2,operating,2019-01-01",
            "NEW-2,Third,,天河,subject,3,5,operating,2019-01-01",
        ]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains(
            "dup.csv:4: id = \"NEW-1\": repeats the id on line 2: an id may appear once in a file"
        ),
        "{e}"
    );
    // A repeated row is still checked: its other problems are reported with it.
    assert!(
        e.contains(
            "dup.csv:5: id = \"NEW-2\": repeats the id on line 3: an id may appear once in a file"
        ),
        "{e}"
    );
    assert!(e.contains("dup.csv:5: qualified_teachers = \"5\""), "{e}");
}

#[test]
fn an_unknown_column_is_ignored_with_one_warning() {
    let ws = populated();
    let f = ws.write(
        "cols.csv",
        "id,name,district,category,status,status_date,colour\nNEW-1,a,天河,subject,operating,2019-01-01,red\nNEW-2,b,天河,subject,operating,2019-01-01,blue\n",
    );
    let r = ws.import("institutions", &f).stdout_has(&["2 new"]);
    assert_eq!(
        r.stderr,
        "warning: cols.csv: column \"colour\" is not a column of institutions: ignored\n"
    );
}

#[test]
fn a_missing_required_column_is_refused_and_named() {
    let ws = populated();
    let f = ws.write(
        "cols.csv",
        "id,name,district,category,status\nNEW-1,a,天河,subject,operating\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("cols.csv:1: missing required column(s): status_date"),
        "{e}"
    );
}

#[test]
fn a_required_value_left_empty_is_refused() {
    let ws = populated();
    let f = ws.write(
        "empty_cell.csv",
        inst_csv(&["NEW-1,,,天河,subject,3,2,operating,"]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("empty_cell.csv:2: name: is required but empty"),
        "{e}"
    );
    assert!(
        e.contains("empty_cell.csv:2: status_date: is required but empty"),
        "{e}"
    );
}

#[test]
fn a_column_given_twice_is_refused() {
    let ws = populated();
    let f = ws.write(
        "twice.csv",
        "id,name,机构名称,district,category,status,status_date\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("twice.csv:1: column \"机构名称\" (name) appears twice in the header"),
        "{e}"
    );
}

#[test]
fn a_row_with_too_many_or_too_few_cells_is_refused() {
    let ws = populated();
    let f = ws.write(
        "width.csv",
        inst_csv(&[
            "NEW-1,Good,,天河,subject,3,2,operating,2019-01-01,extra",
            "NEW-2,Good,,天河",
        ]),
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("width.csv:2: row: has 10 fields but the header has 9"),
        "{e}"
    );
    assert!(
        e.contains("width.csv:3: row: has 4 fields but the header has 9"),
        "{e}"
    );
}

#[test]
fn a_bad_row_after_a_multi_line_cell_is_reported_on_its_real_line() {
    let ws = populated();
    let f = ws.write(
        "multi.csv",
        "id,name,district,address,category,status,status_date\n\
         M-1,a,天河,\"line one\nline two\nline three\",subject,operating,2019-01-01\n\
         M-2,b,朝阳,,subject,operating,2019-01-01\n",
    );
    let e = refused(&ws, "institutions", &f);
    // Row 3 as Excel shows it: the three-line cell is one row there.
    assert!(e.contains("multi.csv:3: district = \"朝阳\""), "{e}");
}

#[test]
fn a_file_in_neither_utf8_nor_gb18030_is_refused() {
    let ws = populated();
    // 0xFF 0xFE is a UTF-16 byte order mark; 0xFF is not a GB18030 lead byte either.
    let mut bytes = vec![0xFF, 0xFE, 0x00];
    bytes.extend_from_slice(b"id,name\n");
    let f = ws.write("utf16.csv", &bytes);
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("utf16.csv: the file is neither UTF-8 nor GB18030/GBK (line 1 has bytes valid in neither)"),
        "{e}"
    );
    assert!(
        e.contains("CSV UTF-8"),
        "the message says how to fix it: {e}"
    );
}

#[test]
fn an_invalid_byte_deep_in_a_file_is_reported_on_its_line() {
    let ws = populated();
    let mut bytes = inst_csv(&[GOOD_ROW, GOOD_ROW]).into_bytes();
    bytes.extend_from_slice(
        b"NEW-3,\xFF\xFF,,\xE5\xA4\xA9\xE6\xB2\xB3,subject,3,2,operating,2019-01-01\n",
    );
    let f = ws.write("mixed.csv", &bytes);
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("mixed.csv: the file is neither UTF-8 nor GB18030/GBK (line 4 has bytes valid in neither)"),
        "{e}"
    );
}

#[test]
fn a_missing_file_is_refused_with_one_clear_reason() {
    let ws = populated();
    let e = refused(&ws, "institutions", "nowhere.csv");
    assert!(e.contains("cannot read nowhere.csv"), "{e}");
    assert_eq!(
        e.matches("No such file or directory").count(),
        1,
        "the reason is said once: {e}"
    );
}

#[test]
fn a_file_with_an_unknown_extension_is_refused() {
    let ws = populated();
    let f = ws.write("inst.docx", THREE_INSTITUTIONS);
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("inst.docx: cannot tell the file type from its name: use a .csv, .jsonl, .xlsx or .xls file"),
        "{e}"
    );
    // A CSV file named .xlsx is not a workbook.
    let f = ws.write("inst.xlsx", THREE_INSTITUTIONS);
    let e = refused(&ws, "institutions", &f);
    assert!(e.contains("inst.xlsx:1: cannot read the workbook"), "{e}");
    let f = ws.write("noext", THREE_INSTITUTIONS);
    let e = refused(&ws, "institutions", &f);
    assert!(e.contains("noext: cannot tell the file type"), "{e}");
}

#[test]
fn an_empty_file_is_refused() {
    let ws = populated();
    let f = ws.write("empty.csv", "");
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("empty.csv:1: the file is empty: the first line must be the column headers"),
        "{e}"
    );
    let f = ws.write("bom_only.csv", "\u{feff}");
    let e = refused(&ws, "institutions", &f);
    assert!(e.contains("bom_only.csv:1: the file is empty"), "{e}");
}

#[test]
fn all_bad_rows_of_a_file_are_reported_not_just_the_first() {
    let ws = populated();
    let f = ws.write(
        "three_bad.csv",
        inst_csv(&[
            "NEW-1,a,,天河,subject,3,2,operating,2019-02-30",
            GOOD_ROW.replace("NEW-1", "NEW-2").as_str(),
            "NEW-3,c,,朝阳,subject,3,2,operating,2019-01-01",
            GOOD_ROW.replace("NEW-1", "NEW-4").as_str(),
            "NEW-5,e,,天河,subject,3,9,operating,2019-01-01",
        ]),
    );
    let e = refused(&ws, "institutions", &f);
    let reported: Vec<&str> = e.lines().filter(|l| l.contains("three_bad.csv:")).collect();
    assert_eq!(reported.len(), 3, "{e}");
    assert!(
        reported[0].contains("three_bad.csv:2: status_date = \"2019-02-30\""),
        "{e}"
    );
    assert!(
        reported[1].contains("three_bad.csv:4: district = \"朝阳\""),
        "{e}"
    );
    assert!(
        reported[2].contains("three_bad.csv:6: qualified_teachers = \"9\""),
        "{e}"
    );
    assert!(
        e.contains("3 errors in 3 of 5 rows of three_bad.csv; nothing was written"),
        "{e}"
    );
}

#[test]
fn a_dry_run_of_a_bad_file_reports_the_same_errors() {
    let ws = populated();
    let f = ws.write(
        "bad.csv",
        inst_csv(&["NEW-3,c,,朝阳,subject,3,2,operating,2019-01-01"]),
    );
    let e = refused_with(&ws, &["import", "institutions", &f, "--dry-run"]);
    assert!(e.contains("bad.csv:2: district = \"朝阳\""), "{e}");
}

#[test]
fn bad_gbk_rows_are_reported_with_their_chinese_values_readable() {
    let ws = populated();
    let text =
        "机构编号,机构名称,所属区,类别,状态,状态日期\r\nG-1,甲,朝阳区,学科类,经营中,2019-01-01\r\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let f = ws.write("gbk_bad.csv", &bytes);
    let e = refused(&ws, "institutions", &f);
    assert!(e.contains("gbk_bad.csv:2: district = \"朝阳区\""), "{e}");
}

#[test]
fn bad_json_lines_are_reported_by_line() {
    let ws = populated();
    let f = ws.write(
        "bad.jsonl",
        "{\"id\":\"J-1\",\"name\":\"a\",\"district\":\"天河\",\"category\":\"subject\",\"status\":\"operating\",\"status_date\":\"2019-01-01\"}\n\
         not json at all\n\
         {\"id\":\"J-2\",\"name\":\"b\",\"district\":\"天河\",\"category\":\"subject\",\"status\":\"operating\",\"status_date\":\"2019-01-01\",\"colour\":\"red\"}\n\
         \n\
         {\"id\":\"J-3\",\"name\":\"c\",\"district\":\"天河\",\"category\":\"subject\",\"status\":\"operating\",\"status_date\":\"2019-13-01\"}\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert!(e.contains("bad.jsonl:2: row: is not a JSON object"), "{e}");
    // An unknown key is ignored (with a warning), so line 3 is fine.
    assert!(!e.contains("bad.jsonl:3:"), "{e}");
    assert!(
        e.contains("bad.jsonl:5: status_date = \"2019-13-01\": has month 13"),
        "{e}"
    );
}

#[test]
fn importing_into_a_ledger_that_does_not_exist_says_to_run_init() {
    let ws = Ws::new();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    let r = ws.run(&["import", "institutions", &f]).code(1);
    assert!(r.stderr.contains("casebook init"), "{}", r.stderr);
    assert!(!ws.db.exists(), "import must not create a ledger");
}

#[test]
fn a_value_under_a_column_without_a_header_is_refused() {
    let ws = populated();
    let f = ws.write(
        "unnamed.csv",
        "id,name,district,category,status,status_date,\nNEW-1,a,天河,subject,operating,2019-01-01,\nNEW-2,b,天河,subject,operating,2019-01-01,备注?\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("unnamed.csv:3: row = \"备注?\": is in column 7 which has no header"),
        "{e}"
    );
}

#[test]
fn a_decimal_comma_is_refused_rather_than_read_as_thousands() {
    let ws = populated();
    let f = ws.write(
        "comma.csv",
        "id,name,district,category,status,status_date,area_m2,prepaid_balance,students\n\
         NEW-1,a,天河,subject,operating,2019-01-01,\"450,5\",\"1,5\",\"1,2\"\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains(
            "comma.csv:2: area_m2 = \"450,5\": has a comma that is not a thousands separator"
        ),
        "{e}"
    );
    assert!(e.contains("comma.csv:2: prepaid_balance = \"1,5\""), "{e}");
    assert!(e.contains("comma.csv:2: students = \"1,2\""), "{e}");
}

#[test]
fn a_file_of_another_kind_is_refused_with_the_right_command() {
    let ws = populated();
    let f = ws.write("institutions.csv", THREE_INSTITUTIONS);
    let e = refused(&ws, "findings", &f);
    assert!(
        e.contains("institutions.csv:1: unknown columns \"name\""),
        "{e}"
    );
    assert!(
        e.contains("run `casebook import institutions institutions.csv`"),
        "{e}"
    );
}

#[test]
fn a_title_row_above_the_headers_is_refused_with_a_hint() {
    // Government spreadsheets often start with a merged title row.
    let ws = populated();
    let f = ws.write(
        "titled.csv",
        "2019年校外培训机构台账,,,,,\nid,name,district,category,status,status_date\nT-1,a,天河,subject,operating,2019-01-01\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert!(
        e.contains("titled.csv:1: unknown column \"2019年校外培训机构台账\" for institutions"),
        "{e}"
    );
    assert!(e.contains("delete any title rows above them"), "{e}");
}

#[test]
fn a_missing_institution_is_found_among_thousands_named_in_one_file() {
    // Past a few thousand institutions the import reads every institution id
    // once instead of looking each up; a missing one must still be refused,
    // whether it comes before that point or after.
    let ws = Ws::init();
    let f = ws.write("inst.csv", institutions_csv("GZ-", 6_000, "subject"));
    ws.import("institutions", &f);
    let mut csv = String::from("id,institution_id,kind,severity,opened_on,deadline\n");
    for n in 0..6_000 {
        let inst = match n {
            100 => "GZ-X0100".to_string(),
            5_900 => "GZ-X5900".to_string(),
            _ => format!("GZ-{n:05}"),
        };
        csv.push_str(&format!(
            "F-{n},{inst},fire_hazard,2,2019-01-01,2019-03-01\n"
        ));
    }
    let f = ws.write("many.csv", &csv);
    let e = refused(&ws, "findings", &f);
    assert!(
        e.contains("many.csv:102: institution_id = \"GZ-X0100\""),
        "{e}"
    );
    assert!(
        e.contains("many.csv:5902: institution_id = \"GZ-X5900\""),
        "{e}"
    );
    assert_eq!(e.matches("no institution with this id").count(), 2, "{e}");
    // Without the two strays the same file goes in whole.
    let good = csv
        .replace(",GZ-X0100,", ",GZ-00100,")
        .replace(",GZ-X5900,", ",GZ-05900,");
    let f = ws.write("good.csv", good);
    ws.import("findings", &f).stdout_has(&["6000 new"]);
}

/// Past the first few thousand, a row's institution is checked with its
/// chunk, not as it is read: a row missing only its institution, one with a
/// problem of its own as well (both reported, in the order they always
/// were), a long id, and an inspection (the other path), each with its line.
#[test]
fn a_missing_institution_checked_with_its_chunk_is_reported_with_its_line() {
    let ws = Ws::init();
    let f = ws.write("inst.csv", institutions_csv("GZ-", 6_000, "subject"));
    ws.import("institutions", &f);
    let mut csv = String::from("id,institution_id,kind,severity,opened_on,deadline\n");
    for n in 0..6_000 {
        // Newest institutions first: the rows' order is not the table's.
        let (inst, opened) = match n {
            5_000 => ("GZ-X5000".to_string(), "2019-01-01"),
            5_001 => ("GZ-X5001".to_string(), "2019-04-01"),
            5_002 => ("GZ-A-VERY-LONG-INSTITUTION-ID".to_string(), "2019-01-01"),
            _ => (format!("GZ-{:05}", 5_999 - n), "2019-01-01"),
        };
        csv.push_str(&format!("F-{n},{inst},fire_hazard,2,{opened},2019-03-01\n"));
    }
    let f = ws.write("late.csv", &csv);
    let e = refused(&ws, "findings", &f);
    assert_eq!(e.matches("no institution with this id").count(), 3, "{e}");
    let at = |s: &str| e.find(s).unwrap_or_else(|| panic!("{s} not in {e}"));
    at("late.csv:5002: institution_id = \"GZ-X5000\"");
    assert!(
        at("late.csv:5003: deadline = \"2019-03-01\"")
            < at("late.csv:5003: institution_id = \"GZ-X5001\"")
    );
    at("late.csv:5004: institution_id = \"GZ-A-VERY-LONG-INSTITUTION-ID\"");
    assert!(e.contains("4 errors in 3 of 6000 rows"), "{e}");
    let mut csv = String::from("id,institution_id,date,departments\n");
    for n in 0..6_000 {
        let inst = match n {
            5_500 => "GZ-X".to_string(),
            _ => format!("GZ-{n:05}"),
        };
        csv.push_str(&format!("INS-{n},{inst},2019-01-01,education\n"));
    }
    let f = ws.write("insp.csv", &csv);
    let e = refused(&ws, "inspections", &f);
    assert!(
        e.contains("insp.csv:5502: institution_id = \"GZ-X\""),
        "{e}"
    );
    assert_eq!(e.matches("no institution with this id").count(), 1, "{e}");
}

#[test]
fn every_rule_a_field_breaks_is_reported_not_just_the_first() {
    // A negative count of qualified teachers is also more than the teachers:
    // both reasons are reported for the one field.
    let ws = populated();
    let f = ws.write(
        "inst.csv",
        "id,name,district,category,status,status_date,teachers,qualified_teachers\n\
         GZ-1,甲,天河,subject,operating,2018-01-01,-3,-1\n",
    );
    let e = refused(&ws, "institutions", &f);
    assert_eq!(
        e.matches("inst.csv:2: qualified_teachers").count(),
        2,
        "{e}"
    );
    assert!(e.contains("inst.csv:2: teachers"), "{e}");
}

/// A name holding terminal escape sequences (`ESC ] 0;… BEL`, `ESC [2J`) or
/// a NUL is refused with its line and field; it used to import, and `show`
/// then printed it raw, retitling or clearing the viewer's terminal.
#[test]
fn control_characters_in_text_are_refused_with_line_and_field() {
    let ws = Ws::init();
    let csv = THREE_INSTITUTIONS
        .replace("小画家美术工作室", "小画家\u{1b}]0;owned\u{7}\u{1b}[2J")
        .replace("王五", "王\u{0}五");
    let f = ws.write("esc.csv", csv);
    let r = ws.run(&["import", "institutions", &f]).code(1);
    assert!(r.stderr.contains("esc.csv:3: name = "), "{}", r.stderr);
    assert!(r.stderr.contains("U+001B"), "{}", r.stderr);
    assert!(r.stderr.contains("esc.csv:4: organizer = "), "{}", r.stderr);
    assert!(r.stderr.contains("U+0000"), "{}", r.stderr);
    // The message quotes the value with its control characters escaped.
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    assert!(!r.stderr.contains('\u{0}'), "{:?}", r.stderr);
    assert_eq!(csv_maps(&ws.export("institutions", "csv")).len(), 0);
}
