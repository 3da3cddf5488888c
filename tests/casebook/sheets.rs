//! What clerks bring: .xlsx workbooks read by import (the first sheet or
//! `--sheet`), extra columns ignored with a warning, full-width digits and
//! letters, Excel serial dates, and row errors that give the record's id and
//! the row number Excel shows, in CSV, JSON Lines and .xlsx alike.

use crate::common::*;
use rust_xlsxwriter::{Format, Workbook};

/// Every kind, exported as .xlsx and imported into a new ledger, exports
/// the same CSV as the original.
#[test]
fn an_xlsx_export_imports_back_as_the_same_records_for_every_kind() {
    let ws = populated();
    for (name, kind, text) in [
        ("pi.csv", "institutions", INSTITUTIONS_ZH),
        ("pa.csv", "applications", APPLICATIONS_ZH),
        ("pc.csv", "courses", COURSES_ZH),
    ] {
        let f = ws.write(name, text);
        ws.import(kind, &f);
    }
    let other = Ws::init();
    let kinds = [
        "institutions",
        "inspections",
        "findings",
        "applications",
        "courses",
    ];
    for kind in kinds {
        for headers in ["zh", "en"] {
            let name = format!("{kind}-{headers}.xlsx");
            ws.run(&["export", kind, "--headers", headers, "-o", &name])
                .ok();
            let f = other.write(&name, std::fs::read(ws.path().join(&name)).unwrap());
            other
                .import(kind, &f)
                .stdout_has(&[&format!("from {f} (Excel)")]);
        }
    }
    for kind in kinds {
        assert_eq!(other.export(kind, "csv"), ws.export(kind, "csv"), "{kind}");
    }
    // The workbook's SHA-256 is in the audit log.
    let sha = sha256_file(other.path().join("findings-zh.xlsx"));
    let audit = other.run(&["audit"]).ok().stdout;
    assert!(audit.contains(&sha), "{audit}");
}

/// A clerk's workbook: an instructions sheet first, the findings on a sheet
/// named 整改项 below a blank row, a column of the clerk's own, dates as date cells, as
/// text and as bare serial numbers, full-width digits, and a bad row whose
/// error gives the row Excel shows and the record's id.
#[test]
fn a_clerks_workbook_is_read_from_the_sheet_named() {
    let ws = populated();
    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("说明")
        .unwrap()
        .write(0, 0, "请在“整改项”表填写")
        .unwrap();
    let date = Format::new().set_num_format("yyyy/m/d");
    let s = book.add_worksheet().set_name("整改项").unwrap();
    // Row 1 left blank: the header is on Excel's row 2.
    for (c, h) in [
        "整改项编号",
        "机构编号",
        "问题类型",
        "严重程度",
        "发现日期",
        "整改期限",
        "经办人",
    ]
    .iter()
    .enumerate()
    {
        s.write(1, c as u16, *h).unwrap();
    }
    let d = |y, m, day| rust_xlsxwriter::ExcelDateTime::from_ymd(y, m, day).unwrap();
    // Row 3: real date cells, a full-width severity.
    s.write(2, 0, "F-10").unwrap();
    s.write(2, 1, "GZ-0001").unwrap();
    s.write(2, 2, "消防隐患").unwrap();
    s.write(2, 3, "２").unwrap();
    s.write_datetime_with_format(2, 4, d(2019, 1, 1), &date)
        .unwrap();
    s.write_datetime_with_format(2, 5, d(2019, 3, 1), &date)
        .unwrap();
    s.write(2, 6, "复查时再看").unwrap();
    // Row 4: a date as text, a date as a bare serial number.
    s.write(3, 0, "F-11").unwrap();
    s.write(3, 1, "GZ-0002").unwrap();
    s.write(3, 2, "fire_hazard").unwrap();
    s.write(3, 3, 1).unwrap();
    s.write(3, 4, "2019年1月1日").unwrap();
    s.write(3, 5, 43525).unwrap();
    let f = ws.write("clerk.xlsx", book.save_to_buffer().unwrap());
    // The first sheet is the instructions: not findings.
    ws.run(&["import", "findings", &f])
        .code(1)
        .stderr_has(&["clerk.xlsx:1: unknown column \"请在“整改项”表填写\""]);
    ws.run(&["import", "findings", &f, "--sheet", "没有"])
        .code(1)
        .stderr_has(&["no sheet \"没有\"", "\"说明\", \"整改项\""]);
    ws.run(&["import", "findings", &f, "--sheet", "整改项"])
        .ok()
        .stdout_has(&["2 new"])
        .stderr_has(&["column \"经办人\" is not a column of findings: ignored"]);
    ws.run(&["import", "findings", "find.csv", "--sheet", "整改项"])
        .code(2)
        .stderr_has(&["--sheet is for .xlsx and .xls files"]);
    let out = csv_maps(&ws.export("findings", "csv"));
    let row = |id: &str| out.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(row("F-10")["severity"], "2");
    assert_eq!(row("F-10")["opened_on"], "2019-01-01");
    assert_eq!(row("F-11")["opened_on"], "2019-01-01");
    assert_eq!(row("F-11")["deadline"], "2019-03-01");

    // Row 6 (after a blank row 5) is bad: Excel's row number and the id.
    let s = book.worksheet_from_name("整改项").unwrap();
    s.write(5, 0, "F-12").unwrap();
    s.write(5, 1, "GZ-0001").unwrap();
    s.write(5, 2, "消防隐患").unwrap();
    s.write(5, 3, 2).unwrap();
    s.write(5, 4, "2019-02-30").unwrap();
    s.write(5, 5, "2019-03-01").unwrap();
    let f = ws.write("clerk2.xlsx", book.save_to_buffer().unwrap());
    // A header error gives the header's row too.
    let mut twice = Workbook::new();
    let t = twice.add_worksheet();
    for (c, h) in ["id", "机构编号", "机构编号"].iter().enumerate() {
        t.write(1, c as u16, *h).unwrap();
    }
    let t = ws.write("twice.xlsx", twice.save_to_buffer().unwrap());
    ws.run(&["import", "findings", &t])
        .code(1)
        .stderr_has(&["twice.xlsx:2: column \"机构编号\" (institution_id) appears twice"]);
    ws.run(&["import", "findings", &f, "--sheet", "整改项"])
        .code(1)
        .stderr_has(&[
            "clerk2.xlsx:6: opened_on = \"2019-02-30\": ",
            "(record F-12)",
        ]);
}

/// An .xlsx sheet is read cell by cell: a table that starts in column B
/// imports, and a value right of the last header, further down, is an error
/// giving Excel's row and column (as when the sheet was read whole).
#[test]
fn a_sheet_read_cell_by_cell_keeps_excels_rows_and_columns() {
    let ws = populated();
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in [
        "id",
        "institution_id",
        "kind",
        "severity",
        "opened_on",
        "deadline",
    ]
    .iter()
    .enumerate()
    {
        s.write(0, c as u16 + 1, *h).unwrap();
    }
    for (r, id) in [(1, "F-20"), (2, "F-21"), (4, "F-22")] {
        for (c, v) in [
            id,
            "GZ-0001",
            "fire_hazard",
            "2",
            "2019-01-01",
            "2019-03-01",
        ]
        .iter()
        .enumerate()
        {
            s.write(r, c as u16 + 1, *v).unwrap();
        }
    }
    let f = ws.write("offset.xlsx", book.save_to_buffer().unwrap());
    ws.run(&["import", "findings", &f])
        .ok()
        .stdout_has(&["3 new"]);
    // Excel's row 5 gets a value in column I, which has no header.
    let s = book.worksheet_from_index(0).unwrap();
    s.write(4, 8, "补充").unwrap();
    let f = ws.write("stray.xlsx", book.save_to_buffer().unwrap());
    ws.run(&["import", "findings", &f]).code(1).stderr_has(&[
        "stray.xlsx:5:",
        "is in column 9 which has no header",
        "(record F-22)",
    ]);
}

/// A CSV as clerks save it: a remarks column, full-width digits and a
/// full-width USCC, serial dates, and a note with line breaks above a bad
/// row, whose error still gives the row Excel shows.
#[test]
fn a_clerks_csv_is_read_and_its_errors_give_excels_row() {
    // An empty ledger: populated()'s GZ-0001 holds GOOD_USCC already.
    let ws = Ws::init();
    let wide_uscc: String = GOOD_USCC
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
        .collect();
    let f = ws.write(
        "clerk.csv",
        format!(
            "机构编号,机构名称,统一社会信用代码,所属区,类别,学员数,状态,状态日期,备注\n\
             N-1,新星,{wide_uscc},天河,学科类,２６０,经营中,43466,\"第一行\n第二行\n第三行\"\n\
             N-2,旧城,,海珠,学科类,10,经营中,43466,\n"
        ),
    );
    ws.import("institutions", &f)
        .stderr_has(&["column \"备注\" is not a column of institutions: ignored"]);
    let out = csv_maps(&ws.export("institutions", "csv"));
    let n1 = out.iter().find(|r| r["id"] == "N-1").unwrap();
    assert_eq!(n1["uscc"], GOOD_USCC);
    assert_eq!(n1["students"], "260");
    assert_eq!(n1["status_date"], "2019-01-01");
    // Free text keeps its full-width characters.
    assert_eq!(n1["name"], "新星");

    // Excel shows the three-line note as one row: row 3 is N-2, row 4 N-3.
    let f = ws.write(
        "clerk-bad.csv",
        "机构编号,机构名称,所属区,类别,状态,状态日期,备注\r\n\
         N-1,新星,天河,学科类,经营中,2019-01-01,\"第一行\r\n第二行\r\n第三行\"\r\n\
         N-2,旧城,海珠,学科类,经营中,2019-02-30,\r\n\
         N-3,旧城,海珠,学科类,经营中,2019-01-01,\"a\nb\"\r\n\
         N-4,旧城,海珠,学科类,开张,2019-01-01,\r\n",
    );
    ws.run(&["import", "institutions", &f])
        .code(1)
        .stderr_has(&[
            "clerk-bad.csv:3: status_date = \"2019-02-30\": ",
            "(record N-2)",
            "clerk-bad.csv:5: status = \"开张\"",
            "(record N-4)",
        ]);
}

/// JSON Lines take full-width values and ignore unknown keys with one warning.
#[test]
fn json_lines_take_full_width_values_and_ignore_unknown_keys() {
    let ws = populated();
    let f = ws.write(
        "w.jsonl",
        "{\"id\":\"J-1\",\"name\":\"a\",\"district\":\"天河\",\"category\":\"subject\",\"students\":\"１２\",\"status\":\"operating\",\"status_date\":\"２０１９-０１-０１\",\"备注\":\"x\"}\n\
         {\"id\":\"J-2\",\"name\":\"b\",\"district\":\"天河\",\"category\":\"subject\",\"status\":\"operating\",\"status_date\":43466,\"备注\":\"y\"}\n",
    );
    let r = ws.import("institutions", &f);
    assert_eq!(r.stderr.matches("备注").count(), 1, "{}", r.stderr);
    let out = csv_maps(&ws.export("institutions", "csv"));
    let j = |id: &str| out.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(j("J-1")["students"], "12");
    assert_eq!(j("J-1")["status_date"], "2019-01-01");
    assert_eq!(j("J-2")["status_date"], "2019-01-01");
}
