//! `casebook demo`: builds the demo city ledger and prints the 2019 campaign
//! summary of SPEC §1; piped, the rows are JSON Lines.

use crate::common::*;

/// The figures of SPEC §1, in the order the summary prints them.
const FIGURES: [(&str, i64); 12] = [
    ("institutions surveyed", 8562),
    ("subject-type", 2263),
    ("non-subject", 6299),
    ("subject-type with problems", 1890),
    ("  of which all handled", 1890),
    ("closed in total", 575),
    ("  of which closed themselves", 529),
    ("promised to stop K-12 subject training", 1108),
    ("new school-running licences", 156),
    ("joint enforcement operations", 5),
    ("staff-times", 2511),
    ("on-site checks", 809),
];

/// The campaign-summary rows among the JSON Lines the demo prints (titles go
/// to stderr when stdout is piped; other sample scripts print other rows).
fn json_rows(stdout: &str) -> Vec<serde_json::Value> {
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v: &serde_json::Value| v.get("figure").is_some())
        .collect();
    assert!(!rows.is_empty(), "no campaign summary in:\n{stdout}");
    rows
}

fn assert_summary(stdout: &str) {
    let rows = json_rows(stdout);
    assert_eq!(rows.len(), FIGURES.len(), "{stdout}");
    for (row, (figure, value)) in rows.iter().zip(FIGURES) {
        assert_eq!(row["figure"], figure, "{row}");
        assert_eq!(row["value"], value, "{row}");
    }
    assert_eq!(rows[0]["指标"], "摸查机构");
}

#[test]
fn demo_builds_the_city_and_prints_the_campaign_summary() {
    let ws = Ws::new();
    let r = ws.run(&["demo"]).ok();
    assert!(
        r.stderr.contains("8562 institutions, 809 inspections"),
        "{}",
        r.stderr
    );
    assert_summary(&r.stdout);
    assert!(ws.db.exists());

    // A second run uses the ledger it finds and gives the same figures.
    let again = ws.run(&["demo"]).ok();
    assert!(
        again.stderr.contains("using the existing demo ledger"),
        "{}",
        again.stderr
    );
    assert_summary(&again.stdout);
}

#[test]
fn the_demo_leaves_a_ledger_it_did_not_build_alone() {
    // An empty ledger, and one holding the bureau's own records.
    for ws in [Ws::init(), populated()] {
        let (before, audit) = (ws.snapshot(), ws.audit_len());
        ws.run(&["demo"]).code(1).stderr_has(&[
            "was not built by `casebook demo`",
            "casebook demo --db demo.redb",
        ]);
        assert_eq!(ws.snapshot(), before);
        assert_eq!(ws.audit_len(), audit);
        let runs = ws.run(&["runs"]).ok().stdout;
        assert!(!runs.contains("credit_score"), "{runs}");
    }
}

#[test]
fn the_demo_ledger_is_an_ordinary_ledger_for_export_and_show() {
    let ws = Ws::new();
    ws.run(&["demo"]).ok();
    let inst = ws.export("institutions", "csv");
    let rows = csv_maps(&inst);
    assert_eq!(rows.len(), 8562);
    assert_eq!(
        rows.iter().filter(|r| r["category"] == "subject").count(),
        2263
    );
    // Every demo record survives a CSV round trip into a fresh ledger.
    let to = Ws::init();
    for kind in ["institutions", "inspections", "findings"] {
        let text = ws.export(kind, "csv");
        let f = to.write(&format!("{kind}.csv"), &text);
        to.import(kind, &f);
        assert_eq!(to.export(kind, "csv"), text, "{kind}");
    }
    // And its registers can be shown.
    let id = &rows[0]["id"];
    let out = ws
        .run(&["show", "--format", "table", id, "--as-of", "2019-02-20"])
        .ok()
        .stdout;
    assert!(out.starts_with(id.as_str()), "{out}");
}

/// BUG (src/cli/cmd/demo.rs): with stdout piped, the rows are JSON Lines
/// but each script's title ("\n== campaign_summary.rhai (as of …)") is printed
/// to stdout between them, so `casebook demo | jq .` fails on the first line.
/// The title belongs on stderr (or should be left out) when stdout is not a
/// terminal.
#[test]
fn demo_piped_prints_nothing_but_json_lines() {
    let ws = Ws::new();
    let r = ws.run(&["demo"]).ok();
    for l in r.stdout.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "not JSON: {l:?}"
        );
    }
}

/// Reading the first lines and closing the pipe (`… | head`) ends casebook
/// quietly with exit code 0: no panic, no "Broken pipe" error (`audit --entry
/// 1 | head` panicked).
#[test]
fn output_cut_short_by_the_reader_ends_quietly() {
    let ws = Ws::new();
    ws.run(&["demo"]).ok();
    for args in [&["export", "findings"][..], &["audit", "--entry", "1"][..]] {
        let (code, err) = ws.run_into_a_closed_pipe(args);
        assert!(err.is_empty(), "{args:?}: {err}");
        assert_eq!(code, Some(0), "{args:?}");
    }
}
