//! DuckDB reads the Parquet exports: every kind with the same rows and
//! values as the CSV export, typed (dates as DATE, counts as BIGINT,
//! amounts as DOUBLE, booleans as BOOLEAN), and several cities' exports
//! queried as one folder, as the README shows. Uses DuckDB's Python
//! package, which `.ci/run` installs; without it the test says it was
//! skipped, unless CASEBOOK_REQUIRE_DUCKDB is set (as CI sets it).

use crate::common::*;
use serde_json::Value;

/// Reads each Parquet file with DuckDB: one JSON line per row (`file`,
/// `row`), then one per file with its column types (`file`, `types`).
const READ: &str = r#"
import datetime, json, sys, duckdb
for path in sys.argv[1:]:
    rel = duckdb.read_parquet(path)
    cols = rel.columns
    print(json.dumps({"file": path, "types": dict(zip(cols, [str(t) for t in rel.types]))}))
    for r in rel.fetchall():
        row = {c: (v.isoformat() if isinstance(v, datetime.date) else v) for c, v in zip(cols, r)}
        print(json.dumps({"file": path, "row": row}, ensure_ascii=False))
"#;

/// Runs Python with `args`, or `None` when DuckDB's package is missing.
fn python(ws: &Ws, script: &str, args: &[&str]) -> Option<String> {
    let have = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CASEBOOK_REQUIRE_DUCKDB").is_none(),
            "DuckDB's Python package is required here: pip install duckdb"
        );
        eprintln!("skipped: DuckDB's Python package is not installed (pip install duckdb)");
        return None;
    }
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Whether DuckDB's value is the CSV export's cell.
fn same(duck: &Value, csv: &str) -> bool {
    match duck {
        Value::Null => csv.is_empty(),
        Value::Bool(b) => csv == b.to_string(),
        Value::Number(n) => csv
            .parse::<f64>()
            .is_ok_and(|x| (x - n.as_f64().unwrap()).abs() < 1e-9),
        Value::String(s) => s == csv,
        _ => false,
    }
}

#[test]
fn duckdb_reads_the_parquet_export_with_the_same_rows_and_values() {
    let ws = populated();
    for (name, kind, text) in [
        ("pi.csv", "institutions", INSTITUTIONS_ZH),
        ("pa.csv", "applications", APPLICATIONS_ZH),
        ("pc.csv", "courses", COURSES_ZH),
    ] {
        let f = ws.write(name, text);
        ws.import(kind, &f);
    }
    let kinds = [
        "institutions",
        "inspections",
        "findings",
        "applications",
        "courses",
    ];
    let files: Vec<String> = kinds.iter().map(|k| format!("{k}.parquet")).collect();
    for (kind, f) in kinds.iter().zip(&files) {
        ws.run(&["export", kind, "-o", f]).ok();
    }
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let Some(out) = python(&ws, READ, &args) else {
        return;
    };
    let lines = jsonl(&out);
    for (kind, f) in kinds.iter().zip(&files) {
        let want = csv_maps(&ws.export(kind, "csv"));
        let rows: Vec<&Value> = lines
            .iter()
            .filter(|l| l["file"] == f.as_str() && l.get("row").is_some())
            .map(|l| &l["row"])
            .collect();
        assert_eq!(rows.len(), want.len(), "{kind}");
        for (row, csv) in rows.iter().zip(&want) {
            for (col, v) in csv {
                assert!(same(&row[col], v), "{kind} {col}: {} vs {v:?}", row[col]);
            }
        }
        let types = lines
            .iter()
            .find(|l| l["file"] == f.as_str() && l.get("types").is_some())
            .unwrap();
        let t = &types["types"];
        match *kind {
            "institutions" => {
                assert_eq!(t["status_date"], "DATE");
                assert_eq!(t["students"], "BIGINT");
                assert_eq!(t["prepaid_balance"], "DOUBLE");
                assert_eq!(t["fire_approved"], "BOOLEAN");
                assert_eq!(t["status"], "VARCHAR");
            }
            "findings" => assert_eq!(t["opened_on"], "DATE"),
            _ => {}
        }
    }
}

/// The README's query: open findings by city and kind over a folder of
/// several cities' exports, each city a file named after it.
#[test]
fn duckdb_queries_a_folder_of_several_cities_exports() {
    let gz = populated();
    let sz = Ws::init();
    let f = sz.write("inst.csv", THREE_INSTITUTIONS.replace("GZ-", "SZ-"));
    sz.import("institutions", &f);
    for (name, kind, text) in [
        ("insp.csv", "inspections", TWO_INSPECTIONS),
        ("find.csv", "findings", THREE_FINDINGS),
    ] {
        let f = sz.write(name, text.replace("GZ-", "SZ-"));
        sz.import(kind, &f);
    }
    std::fs::create_dir_all(gz.path().join("exports")).unwrap();
    gz.run(&[
        "export",
        "findings",
        "-o",
        "exports/guangzhou-findings.parquet",
    ])
    .ok();
    let sz_out = gz.path().join("exports/shenzhen-findings.parquet");
    sz.run(&["export", "findings", "-o", sz_out.to_str().unwrap()])
        .ok();
    // The README's query, as it is written there.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let sql = readme
        .split("```sql\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the README shows a DuckDB query");
    let query = format!("import duckdb\nprint(duckdb.sql('''{sql}''').fetchall())\n");
    let Some(out) = python(&gz, &query, &[]) else {
        return;
    };
    assert_eq!(
        out.trim(),
        "[('guangzhou', 'fire_hazard', 1, 0), ('guangzhou', 'late_hours', 1, 0), \
         ('guangzhou', 'no_licence', 1, 1), ('shenzhen', 'fire_hazard', 1, 0), \
         ('shenzhen', 'late_hours', 1, 0), ('shenzhen', 'no_licence', 1, 1)]"
    );
}
