//! Importing the files users really have: spreadsheet exports in UTF-8, UTF-8
//! with a BOM, GB18030/GBK from Excel on Chinese Windows, Chinese headers and
//! values, quoted commas and newlines, CRLF line endings, and JSON Lines.

use crate::common::*;

#[test]
fn user_imports_a_plain_utf8_csv_and_export_gives_it_back_unchanged() {
    let ws = Ws::init();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    let r = ws.import("institutions", &f);
    assert_eq!(
        r.stdout.trim(),
        "imported institutions 3 rows from inst.csv (UTF-8): 3 new, 0 updated, 0 unchanged"
    );
    assert_eq!(ws.export("institutions", "csv"), THREE_INSTITUTIONS);
}

#[test]
fn user_imports_a_utf8_csv_with_a_byte_order_mark() {
    let ws = Ws::init();
    let f = ws.write("bom.csv", format!("\u{feff}{THREE_INSTITUTIONS}"));
    let r = ws.import("institutions", &f);
    assert!(
        r.stdout
            .contains("3 rows from bom.csv (UTF-8 with BOM): 3 new, 0 updated, 0 unchanged"),
        "{}",
        r.stdout
    );
    // The BOM belongs to the file, not to the first header or the first id.
    assert_eq!(ws.export("institutions", "csv"), THREE_INSTITUTIONS);
}

/// The fixture was written by Python (`"\r\n".join(rows).encode("gb18030")`), as
/// Excel "CSV (逗号分隔)" saves on Chinese Windows: GBK bytes, CRLF rows, Chinese
/// headers and values, a thousands separator, and a quoted cell holding a comma
/// and a line break.
#[test]
fn user_imports_a_gbk_csv_saved_by_excel_on_chinese_windows() {
    let ws = Ws::init();
    let f = ws.fixture("institutions_excel_gbk.csv");
    assert!(std::str::from_utf8(&std::fs::read(ws.path().join(&f)).unwrap()).is_err());
    let r = ws.import("institutions", &f);
    assert!(
        r.stdout.contains(
            "3 rows from institutions_excel_gbk.csv (GB18030): 3 new, 0 updated, 0 unchanged"
        ),
        "{}",
        r.stdout
    );
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows.len(), 3);
    let a = &rows[0];
    assert_eq!(a["id"], "GBK-001");
    assert_eq!(a["name"], "博雅教育（天河校区）");
    assert_eq!(a["address"], "天河路100号, 3楼\n（近地铁站）");
    assert_eq!(a["category"], "subject");
    assert_eq!(a["licence_no"], "教民144010620180001");
    assert_eq!(a["organizer"], "广州博雅教育有限公司");
    assert_eq!(a["prepaid_balance"], "35000");
    assert_eq!(a["fire_approved"], "true");
    assert_eq!(a["status"], "operating");
    assert_eq!(a["status_date"], "2018-01-15");
    let b = &rows[1];
    assert_eq!(
        (b["category"].as_str(), b["fire_approved"].as_str()),
        ("non_subject", "false")
    );
    assert_eq!(b["status"], "rectifying");
    assert_eq!(b["area_m2"], "60.5");
    let c = &rows[2];
    assert_eq!(c["status"], "self_closed");
    assert_eq!(c["prepaid_balance"], "8800.50");
    assert_eq!(c["district"], "白云");
}

#[test]
fn user_imports_gbk_inspections_and_findings_with_chinese_headers() {
    let ws = Ws::init();
    let f = ws.write("inst.csv", THREE_INSTITUTIONS);
    ws.import("institutions", &f);

    let insp = "检查编号,机构编号,检查日期,行动名称,参与部门,检查人次,备注\r\n\
                J-1,GZ-0001,2018/4/2,春季联合执法,教育、消防、市场监管,6,\"发现问题, 责令整改\"\r\n\
                J-2,GZ-0002,2018年5月10日,春季联合执法,教育;公安,4,\r\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(insp);
    assert!(!unmappable);
    let f = ws.write("insp_gbk.csv", &bytes);
    ws.import("inspections", &f)
        .stdout_has(&["2 rows from insp_gbk.csv (GB18030): 2 new"]);

    let fnd = "整改项编号,机构编号,检查编号,问题类型,严重程度,发现日期,整改期限,整改日期,销号日期,备注\r\n\
               K-1,GZ-0001,J-1,消防隐患,3,2018-04-02,2018-05-02,2018-04-20,2018-05-05,安全出口堵塞\r\n\
               K-2,GZ-0002,J-2,无证办学,2,2018-05-10,2018-08-10,,,\r\n\
               K-3,GZ-0001,,超纲教学,1,2018-09-01,2018-10-01,2018-09-15,,\r\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(fnd);
    assert!(!unmappable);
    let f = ws.write("find_gbk.csv", &bytes);
    ws.import("findings", &f)
        .stdout_has(&["3 rows from find_gbk.csv (GB18030): 3 new"]);

    assert_eq!(
        ws.export("inspections", "csv"),
        "id,institution_id,date,operation,departments,inspectors,note\n\
         J-1,GZ-0001,2018-04-02,春季联合执法,education;market;fire,6,\"发现问题, 责令整改\"\n\
         J-2,GZ-0002,2018-05-10,春季联合执法,education;police,4,\n"
    );
    assert_eq!(
        ws.export("findings", "csv"),
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         K-1,GZ-0001,J-1,fire_hazard,3,2018-04-02,2018-05-02,2018-04-20,2018-05-05,安全出口堵塞\n\
         K-3,GZ-0001,,ahead_of_syllabus,1,2018-09-01,2018-10-01,2018-09-15,,\n\
         K-2,GZ-0002,J-2,no_licence,2,2018-05-10,2018-08-10,,,\n"
    );
}

#[test]
fn user_imports_a_gb18030_file_with_characters_beyond_gbk() {
    // 𠮷 (U+20BB7) and 䶮 (U+4DAE) exist only in GB18030 (four-byte sequences).
    let ws = Ws::init();
    let text = "机构编号,机构名称,所属区,类别,状态,状态日期\r\nX-1,𠮷野家䶮艺术,荔湾,非学科类,经营中,2018-01-01\r\n";
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    let f = ws.write("gb18030.csv", &bytes);
    ws.import("institutions", &f)
        .stdout_has(&["(GB18030): 1 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows[0]["name"], "𠮷野家䶮艺术");
}

#[test]
fn user_imports_chinese_headers_and_chinese_values_in_utf8() {
    let ws = Ws::init();
    let f = ws.write(
        "zh.csv",
        "机构编号,机构名称,所属区,类别,消防验收,状态,状态日期\n\
         Z-1,甲,天河,学科类,是,经营中,2018-01-01\n\
         Z-2,乙,海珠,非学科类,否,整改中,2018-02-01\n\
         Z-3,丙,增城,学科类,是,已关停,2018-03-01\n\
         Z-4,丁,从化,非学科类,否,主动关停,2018-04-01\n\
         Z-5,戊,南沙,学科类,否,已转型,2018-05-01\n",
    );
    ws.import("institutions", &f)
        .stdout_has(&["5 rows from zh.csv (UTF-8): 5 new, 0 updated, 0 unchanged"]);
    let got: Vec<(String, String, String)> = csv_maps(&ws.export("institutions", "csv"))
        .into_iter()
        .map(|m| {
            (
                m["category"].clone(),
                m["fire_approved"].clone(),
                m["status"].clone(),
            )
        })
        .collect();
    let want = [
        ("subject", "true", "operating"),
        ("non_subject", "false", "rectifying"),
        ("subject", "true", "closed"),
        ("non_subject", "false", "self_closed"),
        ("subject", "false", "converted"),
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
    }
}

#[test]
fn user_imports_quoted_fields_holding_commas_quotes_and_line_breaks() {
    let ws = Ws::init();
    let f = ws.write(
        "quoted.csv",
        "id,name,district,address,category,status,status_date\n\
         Q-1,\"Star, Maths & \"\"Olympiad\"\"\",天河,\"Room 301,\nBuilding 2\n天河路\",subject,operating,2018-01-01\n\
         Q-2,Plain,海珠,,non_subject,operating,2018-01-01\n",
    );
    ws.import("institutions", &f)
        .stdout_has(&["2 rows from quoted.csv (UTF-8): 2 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows[0]["name"], "Star, Maths & \"Olympiad\"");
    assert_eq!(rows[0]["address"], "Room 301,\nBuilding 2\n天河路");
    assert_eq!(rows[1]["name"], "Plain");
    let json = ws.export("institutions", "jsonl");
    assert!(
        json.contains(r#""address":"Room 301,\nBuilding 2\n天河路""#),
        "{json}"
    );
}

#[test]
fn user_imports_a_csv_with_crlf_line_endings() {
    let ws = Ws::init();
    let crlf = THREE_INSTITUTIONS.replace('\n', "\r\n");
    let f = ws.write("crlf.csv", &crlf);
    ws.import("institutions", &f)
        .stdout_has(&["3 rows from crlf.csv (UTF-8): 3 new"]);
    // No stray \r at the end of the last column (status_date would not parse) or anywhere else.
    assert_eq!(ws.export("institutions", "csv"), THREE_INSTITUTIONS);
}

#[test]
fn user_imports_a_csv_whose_last_line_has_no_line_break_and_blank_lines_between() {
    let ws = Ws::init();
    let body = THREE_INSTITUTIONS
        .trim_end()
        .replacen("\nGZ-0002", "\n\nGZ-0002", 1);
    let f = ws.write("ragged.csv", &body);
    ws.import("institutions", &f)
        .stdout_has(&["3 rows from ragged.csv (UTF-8): 3 new"]);
    assert_eq!(ws.export("institutions", "csv"), THREE_INSTITUTIONS);
}

#[test]
fn user_imports_dates_and_numbers_as_spreadsheets_rewrite_them() {
    let ws = Ws::init();
    let f = ws.write(
        "excel.csv",
        "id,name,district,category,students,teachers,qualified_teachers,area_m2,prepaid_balance,status,status_date,licence_no,licence_issued,licence_expires\n\
         E-1,Excel,天河,subject,\"1,200\",12.0,3,\"1,024.5\",\"12,000.5\",operating,2018/3/1,L-9,2018年3月1日,2021/2/28\n",
    );
    ws.import("institutions", &f).stdout_has(&["1 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    let r = &rows[0];
    assert_eq!(r["students"], "1200");
    assert_eq!(r["teachers"], "12");
    assert_eq!(r["area_m2"], "1024.5");
    assert_eq!(r["prepaid_balance"], "12000.50");
    assert_eq!(r["status_date"], "2018-03-01");
    assert_eq!(r["licence_issued"], "2018-03-01");
    assert_eq!(r["licence_expires"], "2021-02-28");
}

#[test]
fn user_imports_a_csv_with_only_some_columns_in_any_order() {
    let ws = Ws::init();
    let f = ws.write(
        "few.csv",
        "status_date,Status,DISTRICT,category,Name,id\n2018-01-01,operating,天河,subject,Few,P-1\n",
    );
    ws.import("institutions", &f).stdout_has(&["1 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows[0]["name"], "Few");
    assert_eq!(rows[0]["students"], "0");
    assert_eq!(rows[0]["uscc"], "");
}

#[test]
fn user_imports_json_lines_of_every_kind() {
    let ws = Ws::init();
    let inst = r#"{"id":"J-1","name":"Json Maths","uscc":"91440101MA5CJQ4N59","district":"天河","category":"subject","students":10,"teachers":2,"qualified_teachers":2,"area_m2":55.5,"prepaid_balance":1200.5,"fire_approved":true,"status":"operating","status_date":"2018-01-01","licence_no":null}
{"机构编号":"J-2","机构名称":"中文键","所属区":"海珠","类别":"非学科类","消防验收":"否","状态":"整改中","状态日期":"2018-02-01"}

"#;
    let f = ws.write("inst.jsonl", inst);
    ws.import("institutions", &f).stdout_has(&[
        "imported institutions 2 rows from inst.jsonl (UTF-8): 2 new, 0 updated, 0 unchanged",
    ]);
    let insp = r#"{"id":"JI-1","institution_id":"J-1","date":"2018-04-01","operation":"春季","departments":["education","fire"],"inspectors":5,"note":"ok"}
{"id":"JI-2","institution_id":"J-2","date":"2018-04-02","departments":"教育;公安","inspectors":"3"}
"#;
    let f = ws.write("insp.jsonl", insp);
    ws.import("inspections", &f)
        .stdout_has(&["2 rows from insp.jsonl (UTF-8): 2 new"]);
    let fnd = r#"{"id":"JF-1","institution_id":"J-1","inspection_id":"JI-1","kind":"消防隐患","severity":2,"opened_on":"2018-04-01","deadline":"2018-05-01","rectified_on":null,"verified_on":null,"note":""}
"#;
    let f = ws.write("find.jsonl", fnd);
    ws.import("findings", &f)
        .stdout_has(&["1 rows from find.jsonl (UTF-8): 1 new"]);

    let csv = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(csv[0]["prepaid_balance"], "1200.50");
    assert_eq!(csv[0]["area_m2"], "55.5");
    assert_eq!(csv[0]["fire_approved"], "true");
    assert_eq!(csv[1]["name"], "中文键");
    assert_eq!(csv[1]["category"], "non_subject");
    assert_eq!(csv[1]["status"], "rectifying");
    assert_eq!(
        ws.export("inspections", "jsonl"),
        "{\"id\":\"JI-1\",\"institution_id\":\"J-1\",\"date\":\"2018-04-01\",\"operation\":\"春季\",\"departments\":[\"education\",\"fire\"],\"inspectors\":5,\"note\":\"ok\"}\n\
         {\"id\":\"JI-2\",\"institution_id\":\"J-2\",\"date\":\"2018-04-02\",\"operation\":null,\"departments\":[\"education\",\"police\"],\"inspectors\":3,\"note\":\"\"}\n"
    );
    assert_eq!(
        ws.export("findings", "csv"),
        "id,institution_id,inspection_id,kind,severity,opened_on,deadline,rectified_on,verified_on,note\n\
         JF-1,J-1,JI-1,fire_hazard,2,2018-04-01,2018-05-01,,,\n"
    );
}

#[test]
fn user_imports_json_lines_with_a_bom_and_crlf() {
    let ws = Ws::init();
    let f = ws.write(
        "bom.jsonl",
        "\u{feff}{\"id\":\"B-1\",\"name\":\"Bom\",\"district\":\"天河\",\"category\":\"subject\",\"status\":\"operating\",\"status_date\":\"2018-01-01\"}\r\n",
    );
    ws.import("institutions", &f)
        .stdout_has(&["1 rows from bom.jsonl (UTF-8 with BOM): 1 new"]);
    assert_eq!(csv_maps(&ws.export("institutions", "csv"))[0]["id"], "B-1");
}

#[test]
fn user_imports_an_excel_csv_with_empty_columns_and_rows_after_the_data() {
    // Excel keeps cells that were once touched: ",," after the last column and
    // rows of empty cells below the data.
    let ws = Ws::init();
    let f = ws.write(
        "padded.csv",
        "id,name,district,category,status,status_date,,\r\n\
         A-1,甲,天河,subject,operating,2019-01-01,,\r\n\
         A-2,乙,海珠,non_subject,operating,2019-01-01,,,\r\n\
         ,,,,,,,\r\n\
         ,,,,,,,\r\n",
    );
    ws.import("institutions", &f)
        .stdout_has(&["2 rows from padded.csv (UTF-8): 2 new, 0 updated, 0 unchanged"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows.len(), 2);
}

#[test]
fn user_imports_a_tab_delimited_text_file_saved_by_excel() {
    // Excel's 文本文件(制表符分隔) (*.txt) on Chinese Windows: GBK, tabs, CRLF.
    let ws = Ws::init();
    let text = "机构编号\t机构名称\t所属区\t类别\t状态\t状态日期\t地址\r\n\
                T-1\t星辰, 数学\t天河\t学科类\t经营中\t2019-01-01\t天河路1号\r\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let f = ws.write("tabs.txt", &bytes);
    ws.import("institutions", &f)
        .stdout_has(&["1 rows from tabs.txt (GB18030): 1 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows[0]["name"], "星辰, 数学");
    assert_eq!(rows[0]["address"], "天河路1号");
}

#[test]
fn user_imports_a_semicolon_separated_csv() {
    let ws = Ws::init();
    let f = ws.write(
        "semi.csv",
        "id;name;district;category;status;status_date;area_m2\nS-1;Semi, colon;天河;subject;operating;2019-01-01;12.5\n",
    );
    ws.import("institutions", &f).stdout_has(&["1 new"]);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    assert_eq!(rows[0]["name"], "Semi, colon");
    assert_eq!(rows[0]["area_m2"], "12.5");
}

#[test]
fn the_words_clerks_write_for_districts_acceptance_and_codes_are_understood() {
    let ws = Ws::init();
    let f = ws.write(
        "机构.csv",
        "机构编号,机构名称,统一社会信用代码,所属区,类别,消防验收,预收费余额,状态,状态日期\n\
         Q-1,甲,91440101ma5cjq4n59,天河区,学科类,通过,\"¥1,000\",经营中,2018-01-01\n\
         Q-2,乙,,海珠,非学科类,未通过,20000元,经营中,2018-01-01\n\
         Q-3,丙,,番禺区,非学科类,√,0,经营中,2018-01-01\n",
    );
    ws.import("institutions", &f);
    let rows = csv_maps(&ws.export("institutions", "csv"));
    let got: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| ["district", "fire_approved", "uscc", "prepaid_balance"].map(|k| r[k].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ["天河", "true", "91440101MA5CJQ4N59", "1000"],
            ["海珠", "false", "", "20000"],
            ["番禺", "true", "", "0"]
        ]
    );
    // A place that is not a district is still refused, 区 or not.
    let f = ws.write(
        "bad.csv",
        "机构编号,机构名称,所属区,类别,状态,状态日期\nQ-4,丁,火星区,学科类,经营中,2018-01-01\n",
    );
    ws.run(&["import", "institutions", &f])
        .code(1)
        .stderr_has(&["district = \"火星区\": is not one of the ledger's districts"]);
}
