//! What a script is given on the command line (`--arg`) and the rows it
//! emits: column order, formats, files written with `--out`.

use super::*;

#[test]
fn args_are_strings_from_the_command_line() {
    let f = Fixture::city();
    let src = r#"
        let min = parse_int(args.min);
        emit(#{district: args.district, min: min, text: args.min, empty: args.empty,
               missing: args.missing, missing_is_unit: args.missing == (),
               n: institutions().count(|i| i.district == args.district && i.students >= min)});
    "#;
    let rows = f.rows_with(
        src,
        &[
            "--arg",
            "district=天河",
            "--arg",
            "min=60",
            "--arg",
            "empty=",
        ],
    );
    assert_eq!(
        rows,
        vec![
            json!({"district": "天河", "min": 60, "text": "60", "empty": "",
                    "missing": null, "missing_is_unit": true, "n": 1})
        ]
    );
    // A value may itself contain '='.
    let rows = f.rows_with(r#"emit(#{q: args.q});"#, &["--arg", "q=a=b"]);
    assert_eq!(rows, vec![json!({"q": "a=b"})]);
}

#[test]
fn a_malformed_arg_is_a_usage_error() {
    let f = Fixture::city();
    let out = f.run("1", &["--arg", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("K=V"));
}

#[test]
fn emitted_columns_follow_the_map_literal_as_written() {
    let f = Fixture::city();
    let src = r#"
        for i in institutions() {
            emit(#{zeta: i.id, 名称: i.name, alpha: i.students, 区: i.district});
        }
    "#;
    let out = f.ok(src, &["--format", "jsonl"]);
    for line in out.lines() {
        assert_eq!(key_order(line), vec!["zeta", "名称", "alpha", "区"]);
    }
    let csv = f.ok(src, &["--format", "csv"]);
    assert_eq!(csv.lines().next().unwrap(), "zeta,名称,alpha,区");
    // A row built in a variable keeps the order of the literal it started from.
    let src = r#"
        for d in ["天河", "海珠"] {
            let r = #{区: d, 机构数: 0, 学员: 0};
            r.机构数 = institutions().count(|i| i.district == d);
            r.学员 = sum_by(institutions().filter(|i| i.district == d), "students");
            emit(r);
        }
    "#;
    let csv = f.ok(src, &["--format", "csv"]);
    assert_eq!(csv, "区,机构数,学员\n天河,2,150\n海珠,1,20\n");
}

#[test]
fn emitted_columns_follow_a_literal_of_constants_as_written() {
    let f = Fixture::city();
    let csv = f.ok(
        r#"emit(#{zeta: 1, alpha: 2, 区: "天河"});"#,
        &["--format", "csv"],
    );
    assert_eq!(csv.lines().next().unwrap(), "zeta,alpha,区");
    // The usual way to build report rows: a template of zeros, filled in a loop.
    let csv = f.ok(
        r#"let row = #{区: "", 机构数: 0, 学员: 0};
           for d in ["天河", "海珠"] {
               let r = row;
               r.区 = d;
               r.机构数 = institutions().count(|i| i.district == d);
               emit(r);
           }"#,
        &["--format", "csv"],
    );
    assert_eq!(csv.lines().next().unwrap(), "区,机构数,学员");
}

#[test]
fn emitting_a_record_keeps_the_field_order() {
    let f = Fixture::city();
    let out = f.ok(r#"emit(institution("A1"));"#, &["--format", "jsonl"]);
    let want: Vec<String> = INSTITUTION_PROPS
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(key_order(out.lines().next().unwrap()), want);
}

#[test]
fn columns_fixes_the_order_and_the_selection() {
    let f = Fixture::city();
    let src = r#"
        columns(["name", "id", "extra"]);
        for i in institutions() { emit(#{id: i.id, name: i.name, district: i.district}); }
    "#;
    assert_eq!(
        f.ok(src, &["--format", "csv"]),
        "name,id,extra\n甲培训学校,A1,\n乙艺术工作室,A2,\n丙学堂,A3,\n"
    );
    let out = f.ok(src, &["--format", "jsonl"]);
    assert_eq!(
        key_order(out.lines().next().unwrap()),
        vec!["name", "id", "extra"]
    );
    assert_eq!(
        parse_jsonl(&out)[0],
        json!({"name": "甲培训学校", "id": "A1", "extra": null})
    );
}

#[test]
fn rows_whose_keys_differ_get_the_union_of_columns() {
    let f = Fixture::city();
    let src = r#"
        let x = 1;
        emit(#{a: x, b: x});
        emit(#{a: x, c: x});
    "#;
    assert_eq!(f.ok(src, &["--format", "csv"]), "a,b,c\n1,1,\n1,,1\n");
}

const FORMAT_SRC: &str = r#"
for i in institutions().filter(|i| i.district == "天河") {
    emit(#{id: i.id, 名称: i.name, 学员: i.students, 面积: i.area_m2,
           发证: i.licence_issued, 持证: i.licensed});
}
"#;

#[test]
fn rows_print_as_csv_json_jsonl_or_table() {
    let f = Fixture::city();
    assert_eq!(
        f.ok(FORMAT_SRC, &["--format", "csv"]),
        "id,名称,学员,面积,发证,持证\n\
         A1,甲培训学校,100,400.5,2018-03-01,true\n\
         A3,丙学堂,50,120.0,,false\n"
    );
    let want = vec![
        json!({"id": "A1", "名称": "甲培训学校", "学员": 100, "面积": 400.5,
               "发证": "2018-03-01", "持证": true}),
        json!({"id": "A3", "名称": "丙学堂", "学员": 50, "面积": 120.0,
               "发证": null, "持证": false}),
    ];
    assert_eq!(parse_jsonl(&f.ok(FORMAT_SRC, &["--format", "jsonl"])), want);
    let json_out = f.ok(FORMAT_SRC, &["--format", "json"]);
    let v: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(v, Value::Array(want.clone()));
    // Not a terminal: JSON Lines by default.
    assert_eq!(parse_jsonl(&f.ok(FORMAT_SRC, &[])), want);

    let table = f.ok(FORMAT_SRC, &["--format", "table"]);
    for cell in [
        "id",
        "名称",
        "学员",
        "A1",
        "甲培训学校",
        "丙学堂",
        "400.5",
        "2018-03-01",
        "(2 rows)",
    ] {
        assert!(table.contains(cell), "table lacks {cell}:\n{table}");
    }
    let header = table.lines().find(|l| l.contains("名称")).unwrap();
    assert!(
        header.find("id").unwrap() < header.find("名称").unwrap()
            && header.find("名称").unwrap() < header.find("持证").unwrap(),
        "{header}"
    );
}

#[test]
fn no_rows_print_nothing_but_a_table_says_0_rows_and_a_final_value_is_shown() {
    let f = Fixture::city();
    assert_eq!(f.ok("let x = 1;", &["--format", "jsonl"]), "");
    assert_eq!(f.ok("let x = 1;", &["--format", "json"]).trim(), "[]");
    // Empty is said, not silent, to a person reading a table.
    assert_eq!(f.ok("let x = 1;", &["--format", "table"]), "(0 rows)\n");
    assert_eq!(f.ok("institutions().len() * 2", &[]).trim(), "6");
    // A script that set its columns made a table, empty here: no stray last value in it.
    let src = r#"columns(["id"]); institutions().map(|i| 0)"#;
    assert_eq!(f.ok(src, &["--format", "csv"]), "id\n");
    assert_eq!(f.ok(src, &["--format", "jsonl"]), "");
}

#[test]
fn no_rows_as_csv_print_nothing() {
    let f = Fixture::city();
    assert_eq!(f.ok("let x = 1;", &["--format", "csv"]), "");
}

#[test]
fn out_writes_the_rows_file_into_the_directory() {
    let f = Fixture::city();
    let p = f.script(FORMAT_SRC);
    let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
    let dir = f.dir.path().join("reports").join("2019");
    for (fmt, ext) in [
        ("csv", "csv"),
        ("table", "csv"),
        ("json", "json"),
        ("jsonl", "jsonl"),
    ] {
        let out = f
            .cmd()
            .arg("run")
            .arg(&p)
            .args(["--as-of", AS_OF, "--format", fmt, "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = dir.join(format!("{stem}-{AS_OF}.{ext}"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("--format {fmt}: no {}: {e}", file.display()));
        match fmt {
            "csv" => assert_eq!(text, String::from_utf8(out.stdout).unwrap()),
            "table" => assert!(text.starts_with("id,名称,学员"), "{text}"),
            "json" => {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v.as_array().unwrap().len(), 2);
            }
            _ => assert_eq!(parse_jsonl(&text).len(), 2),
        }
    }
    // Nothing but the rows files (no partial files left behind).
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            format!("{stem}-{AS_OF}.csv"),
            format!("{stem}-{AS_OF}.json"),
            format!("{stem}-{AS_OF}.jsonl")
        ]
    );
}

#[test]
fn print_goes_to_stderr_and_stdout_carries_only_rows() {
    let f = Fixture::city();
    let out = f.run(
        r#"print("机构总数：" + institutions().len());
           emit(#{n: institutions().len()});"#,
        &["--format", "jsonl"],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, "{\"n\":3}\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("机构总数：3"));
}

#[test]
fn unicode_identifiers_work() {
    let f = Fixture::city();
    let src = r#"
        fn 逾期天数合计(机构) {
            let 合计 = 0;
            for 问题 in 机构.findings() { 合计 += 问题.days_overdue; }
            合计
        }
        let 逾期 = findings().filter(|问题| 问题.overdue);
        const 区 = "天河";
        let 甲 = institution("A1");
        emit(#{逾期数: 逾期.len(), 合计: 逾期天数合计(甲), 区: 区});
    "#;
    assert_eq!(f.row(src), json!({"逾期数": 3, "合计": 77, "区": "天河"}));
}

#[test]
fn emit_takes_a_map_or_a_record() {
    let f = Fixture::city();
    let err = f.fails("emit(42);", &[]);
    assert!(err.contains("emit takes a map"), "{err}");
}
