//! The README's import tour runs as written, on the files in `examples/`,
//! and a bad file gives the very errors the README shows.

use std::path::Path;
use std::process::{Command, Output};

fn casebook(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_casebook"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CASEBOOK_DB")
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

#[track_caller]
fn ok(o: Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_import_tour_runs_on_the_shipped_examples() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.redb");
    ok(casebook(&db, &["init"]));
    for (kind, file) in [
        ("institutions", "examples/机构.csv"),
        ("inspections", "examples/inspections.csv"),
        ("findings", "examples/findings.csv"),
        ("applications", "examples/申请.csv"),
        ("courses", "examples/课程备案.csv"),
    ] {
        ok(casebook(&db, &["import", kind, file]));
    }
    let findings = ok(casebook(&db, &["export", "findings", "--format", "jsonl"]));
    assert_eq!(findings.lines().count(), 3, "{findings}");
    let register = ok(casebook(
        &db,
        &["show", "--format", "table", "P-03", "--as-of", "2019-02-20"],
    ));
    assert!(
        register.contains("F-02") && register.contains("K-3"),
        "{register}"
    );

    // The README's bad file, its errors word for word.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let shown = readme
        .split("$ casebook import institutions examples/bad.csv --db city.redb\n")
        .nth(1)
        .and_then(|rest| rest.split("$ echo $?").next())
        .expect("the README shows the bad file's errors");
    let got = casebook(&db, &["import", "institutions", "examples/bad.csv"]);
    assert_eq!(got.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&got.stderr), shown);
}
