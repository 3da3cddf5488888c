//! Rows streamed to stdout as a run emits them (a run without `--write`,
//! with its columns set, in CSV or JSON Lines): the same output as a run
//! that keeps every row to the end (`--dry-run` keeps them), in record order
//! from a parallel map too; a run failing after rows went out ends its output
//! with a line saying it is incomplete; the columns cannot change once rows
//! went out; a reader that goes away early is no error; a failed run leaves
//! no rows file.

use crate::common::{self, Ws};

const AS_OF: &str = "2019-02-20";
/// More than the 4,096 rows a streaming run gathers before writing.
const N: usize = 9000;

/// N institutions: enough for a parallel map and several flushes.
fn city() -> Ws {
    let ws = Ws::init();
    let f = ws.write("i.csv", common::institutions_csv("I", N, "non_subject"));
    ws.import("institutions", &f);
    ws
}

/// Emits a row per institution from a parallel map, then one per number of
/// a loop; `--arg fail=N` throws at institution N (in the map's worker).
const MAP: &str = r#"fn row(i) {
    if global::args.fail == i.name { throw `stop at ${i.id}`; }
    emit(#{id: i.id, name: i.name, n: i.students, note: "a,\"b\""});
    1
}
columns(["id", "name", "n", "note"]);
let r = institutions().map(|i| row(i));
for k in 0..5000 { emit(#{id: `K${k}`, n: k}); }
if args.end == "1" { throw "failed at the end"; }
"#;

fn run(ws: &Ws, args: &[&str]) -> common::Run {
    let mut a = vec!["run", "map.rhai", "--as-of", AS_OF];
    a.extend_from_slice(args);
    ws.run(&a)
}

#[test]
fn streamed_rows_are_those_a_run_keeping_them_all_prints_in_the_same_order() {
    let ws = city();
    ws.write("map.rhai", MAP);
    for fmt in ["jsonl", "csv"] {
        let streamed = run(&ws, &["--format", fmt]).ok();
        let kept = run(&ws, &["--format", fmt, "--dry-run"]).ok();
        assert_eq!(streamed.stdout, kept.stdout, "{fmt}");
        let lines: Vec<&str> = streamed.stdout.lines().collect();
        let header = usize::from(fmt == "csv");
        assert_eq!(lines.len(), N + 5000 + header, "{fmt}");
        // Institutions in ledger order, then the loop's rows.
        assert!(lines[header].contains("I00000"), "{}", lines[header]);
        assert!(lines[header + N - 1].contains("I08999"));
        assert!(lines[header + N].contains("K0"));
    }
    let csv = common::csv_rows(&run(&ws, &["--format", "csv"]).ok().stdout);
    assert_eq!(csv[0], ["id", "name", "n", "note"]);
    assert_eq!(csv[1], ["I00000", "机构0", "0", "a,\"b\""]);
}

#[test]
fn a_run_failing_after_rows_went_out_says_its_output_is_incomplete() {
    let ws = city();
    ws.write("map.rhai", MAP);
    // In a worker of the parallel map, past several batches; and at the end.
    for args in [["--arg", "fail=机构8000"], ["--arg", "end=1"]] {
        let jsonl = run(&ws, &[&args[..], &["--format", "jsonl"]].concat())
            .code(1)
            .stderr_has(&[
                "map.rhai:",
                "rows were written before the error",
                "incomplete",
            ]);
        let last = jsonl.stdout.lines().last().unwrap();
        let v: serde_json::Value = serde_json::from_str(last).unwrap();
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("this output is incomplete"),
            "{last}"
        );
        // Every line before it is a whole row, in order, none after the failure.
        let rows = &jsonl.stdout.lines().collect::<Vec<_>>();
        assert!(rows.len() > 4096);
        if args[1].starts_with("fail") {
            assert!(!jsonl.stdout.contains("I08000"));
        }
        let csv = run(&ws, &[&args[..], &["--format", "csv"]].concat()).code(1);
        let last = csv.stdout.lines().last().unwrap();
        assert!(
            last.starts_with("\"# error: the run failed after"),
            "{last}"
        );
        // One field where rows have four: a strict CSV reader refuses the file.
        let strict = csv::Reader::from_reader(csv.stdout.as_bytes())
            .records()
            .collect::<Result<Vec<_>, _>>();
        assert!(strict.is_err());
    }
    // The same errors at the same place as a run that keeps its rows.
    let kept = run(&ws, &["--arg", "fail=机构8000", "--dry-run"]).code(1);
    assert_eq!(kept.stdout, "");
    let streamed = run(&ws, &["--arg", "fail=机构8000"]).code(1);
    assert!(
        streamed.stderr.starts_with(&kept.stderr),
        "{}\n---\n{}",
        streamed.stderr,
        kept.stderr
    );
}

#[test]
fn a_failed_run_leaves_no_rows_file_and_a_small_one_prints_nothing() {
    let ws = city();
    ws.write("map.rhai", MAP);
    run(
        &ws,
        &["--arg", "end=1", "--format", "csv", "--out", "reports"],
    )
    .code(1);
    let left = std::fs::read_dir(ws.path().join("reports"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "a failed run wrote a rows file");
    // Fewer rows than a flush: nothing goes out before the error.
    ws.write(
        "few.rhai",
        "columns([\"n\"]);\nfor k in 0..10 { emit(#{n: k}); }\nthrow \"no\";\n",
    );
    let r = ws.run(&["run", "few.rhai", "--as-of", AS_OF]).code(1);
    assert_eq!(r.stdout, "");
    assert!(!r.stderr.contains("incomplete"), "{}", r.stderr);
}

#[test]
fn columns_cannot_change_once_rows_went_out() {
    let ws = Ws::init();
    ws.write(
        "cols.rhai",
        "columns([\"n\"]);\nfor k in 0..5000 { emit(#{n: k}); }\ncolumns([\"n\", \"m\"]);\n",
    );
    let r = ws.run(&["run", "cols.rhai", "--as-of", AS_OF]).code(1);
    assert!(
        r.stderr.contains("columns() changed after 4096 rows"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("cols.rhai:3:"), "{}", r.stderr);
    // The same columns again are fine; kept rows may change them.
    ws.write(
        "same.rhai",
        "columns([\"n\"]);\nfor k in 0..5000 { emit(#{n: k}); }\ncolumns([\"n\"]);\n",
    );
    let r = ws.run(&["run", "same.rhai", "--as-of", AS_OF]).ok();
    assert_eq!(r.stdout.lines().count(), 5000);
    let r = ws
        .run(&["run", "cols.rhai", "--as-of", AS_OF, "--dry-run"])
        .ok();
    assert!(r.stdout.starts_with("{\"n\":0,\"m\":null}"), "{}", r.stdout);
}

#[test]
fn a_reader_going_away_early_stops_nothing_and_is_no_error() {
    let ws = city();
    ws.write("map.rhai", MAP);
    let (code, err) = ws.run_into_a_closed_pipe(&["run", "map.rhai", "--as-of", AS_OF]);
    assert_eq!(code, Some(0), "{err}");
}
