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

/// Copies `from` into `to`, folders and all.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// The tour's shell lines: every line of every ```sh block after "## A short
/// tour", with its trailing `# comment` taken off.
fn tour_lines(readme: &str) -> Vec<String> {
    let tour = readme.split("## A short tour").nth(1).expect("the tour");
    let mut lines = Vec::new();
    for block in tour.split("```sh\n").skip(1) {
        let body = block.split("```").next().unwrap();
        for l in body.lines() {
            let l = match l.find("   #") {
                Some(i) => &l[..i],
                None => l,
            };
            if !l.trim().is_empty() {
                lines.push(l.trim().to_string());
            }
        }
    }
    lines
}

/// The README's tour, every section, runs as written: the demo city first
/// (the tour's examples are from it), then each shell line of the tour in
/// order, in a folder holding a copy of `examples/`, `scripts/` and
/// `templates/`, then the REPL transcript. Only the backup folder is moved
/// from /srv/backup into the test's folder.
#[test]
fn every_section_of_the_tour_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for d in ["examples", "scripts", "templates"] {
        copy_tree(&root.join(d), &dir.path().join(d));
    }
    std::fs::create_dir_all(dir.path().join("backup")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_casebook")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let sh = |line: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(dir.path())
            .env("PATH", &path)
            .env_remove("CASEBOOK_DB")
            .env("USER", "tester")
            .output()
            .unwrap()
    };
    let o = sh("casebook demo > /dev/null");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = tour_lines(&readme);
    for want in [
        "casebook init --db city.redb",
        "casebook run scripts/overdue.rhai",
        "new_rule.rhai",
        "casebook import applications examples/申请.csv --db city.redb",
        "examples/casebook-nightly.sh",
        "casebook backup",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "the tour lost {want}"
        );
    }
    for line in &lines {
        let line = line.replace("/srv/backup/", "backup/");
        let o = sh(&line);
        assert!(
            o.status.success(),
            "{line}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The nightly section's two nights each have their folder.
    assert!(dir
        .path()
        .join("out/2019-02-20/notices-2019-02-20.jsonl")
        .exists());
    assert!(dir.path().join("out/2019-02-21").is_dir());

    // The REPL section: its entries, fed to the REPL as typed.
    let repl = readme.split("### The REPL").nth(1).unwrap();
    let transcript = repl.split("```\n").nth(1).unwrap();
    let mut input = String::new();
    let mut in_entry = false;
    for l in transcript.lines() {
        if let Some(e) = l.strip_prefix("casebook 2019-02-20> ") {
            input.push_str(e);
            input.push('\n');
            in_entry = e.ends_with('{');
        } else if in_entry {
            input.push_str(l);
            input.push('\n');
            in_entry = l != "}";
        }
    }
    let o = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["repl", "--as-of", "2019-02-20"])
        .current_dir(dir.path())
        .env_remove("CASEBOOK_DB")
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(input.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{input}\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("371"), "{out}");
}

/// The nightly wrapper (examples/casebook-nightly.sh, which the crontab line
/// and the systemd unit start): exit 3 is retried, then passed on; any other
/// failure is passed on at once. A stand-in for casebook gives the codes.
#[test]
fn the_nightly_wrapper_retries_a_busy_ledger_and_passes_failures_on() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-casebook");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"$@\" >> calls.txt\nexit $(cat code.txt)\n",
    )
    .unwrap();
    let wrapper = root.join("examples/casebook-nightly.sh");
    let night = |code: &str| {
        std::fs::write(dir.path().join("code.txt"), code).unwrap();
        let _ = std::fs::remove_file(dir.path().join("calls.txt"));
        let o = Command::new("sh")
            .arg(&wrapper)
            .current_dir(dir.path())
            .env("CASEBOOK_HOME", dir.path())
            .env("CASEBOOK_BIN", &fake)
            .env("CASEBOOK_TRIES", "3")
            .env("CASEBOOK_RETRY_SECONDS", "0")
            .env("AS_OF", "2019-02-20")
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(dir.path().join("calls.txt")).unwrap_or_default();
        (
            o.status.code(),
            calls.lines().count(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, calls, log) = night("0");
    assert_eq!((code, calls), (Some(0), 1), "{log}");
    assert!(log.contains("done"), "{log}");
    let (code, calls, log) = night("3");
    assert_eq!((code, calls), (Some(3), 3), "{log}");
    assert!(
        log.contains("busy") && log.contains("run again later"),
        "{log}"
    );
    let (code, calls, log) = night("1");
    assert_eq!((code, calls), (Some(1), 1), "{log}");
    assert!(log.contains("nothing was committed"), "{log}");
    // The command it runs: the notices, a folder per date.
    std::fs::write(dir.path().join("code.txt"), "0").unwrap();
    let _ = night("0");
    let call = std::fs::read_to_string(dir.path().join("calls.txt")).unwrap();
    let out = format!("{}/out/2019-02-20", dir.path().display());
    assert_eq!(
        call.trim(),
        format!("run scripts/notices.rhai --as-of 2019-02-20 --write --out {out} --format jsonl")
    );
}
