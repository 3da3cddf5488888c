//! The nightly notice job: notices rendered from the templates, written only
//! under --out, recorded in the notice register, never issued twice a day.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{casebook, root};

struct City {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl City {
    /// Two institutions: A1 has an overdue finding and a new one; B1 is clean.
    fn new() -> City {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("n.redb");
        let c = City { dir, db };
        c.ok(&["init"]);
        c.import(
            "institutions",
            "id,name,district,category,status,status_date\n\
             A1,启航艺术培训中心,天河,non_subject,operating,2018-01-01\n\
             B1,明德书法工作室,海珠,non_subject,operating,2018-01-01\n",
        );
        c.import(
            "findings",
            "id,institution_id,kind,severity,opened_on,deadline,note\n\
             F1,A1,fire_hazard,2,2019-01-02,2019-01-20,消防通道堵塞\n\
             F2,A1,false_advertising,1,2019-02-18,2019-03-18,\n",
        );
        c
    }

    fn import(&self, kind: &str, text: &str) {
        let f = self.dir.path().join(format!("{kind}.csv"));
        std::fs::write(&f, text).unwrap();
        self.ok(&["import", kind, f.to_str().unwrap()]);
    }

    fn run(&self, args: &[&str]) -> Output {
        casebook()
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn nightly(&self, day: &str) -> Output {
        let script = root().join("scripts/notices.rhai");
        let templates = root().join("templates");
        let out = self.out();
        self.run(&[
            "run",
            script.to_str().unwrap(),
            "--as-of",
            day,
            "--write",
            "--format",
            "jsonl",
            "--out",
            out.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
        ])
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                v.extend(files_under(&p));
            } else {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

#[test]
fn the_nightly_job_issues_each_notice_once_a_day() {
    let c = City::new();
    let first = c.nightly("2019-02-20");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let rows = String::from_utf8_lossy(&first.stdout);
    assert!(
        rows.contains("整改通知书") && rows.contains("逾期催告书"),
        "{rows}"
    );
    assert!(
        !rows.contains("B1"),
        "a clean institution gets nothing: {rows}"
    );
    let notices: Vec<PathBuf> = files_under(&c.out().join("notices"));
    assert_eq!(notices.len(), 2, "{notices:?}");
    let reminder =
        std::fs::read_to_string(c.out().join("notices/overdue_reminder/A1-2019-02-20.txt"))
            .unwrap();
    assert!(
        reminder.contains("启航艺术培训中心") && reminder.contains("消防隐患"),
        "{reminder}"
    );
    assert!(reminder.contains("已逾期 31 天"), "{reminder}");
    let rect = std::fs::read_to_string(
        c.out()
            .join("notices/rectification_notice/A1-2019-02-20.txt"),
    )
    .unwrap();
    assert!(
        rect.contains("虚假宣传") && rect.contains("整改期限 2019-03-18"),
        "{rect}"
    );

    // A re-run the same night issues nothing and leaves the files alone.
    let again = c.nightly("2019-02-20");
    assert!(again.status.success());
    // print() goes to stderr: stdout carries only the rows (none here).
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), "");
    assert_eq!(
        String::from_utf8_lossy(&again.stderr)
            .lines()
            .next()
            .unwrap_or(""),
        "notices issued on 2019-02-20: 整改通知书 0, 逾期催告 0, 黑名单告知 0"
    );
    assert_eq!(files_under(&c.out().join("notices")), notices);

    // The register is in the ledger: show lists both notices with their file.
    let show = c.ok(&["show", "--format", "table", "A1", "--as-of", "2019-02-20"]);
    assert!(
        show.contains("Notices 文书 (2)") && show.contains("overdue_reminder"),
        "{show}"
    );
    // A week later the overdue reminder is due again, the rectification notice is not.
    let later = c.nightly("2019-02-27");
    let out = String::from_utf8_lossy(&later.stdout);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].contains("逾期催告书"), "{out}");
}

#[test]
fn notices_need_write_and_out_and_nothing_is_written_without_them() {
    let c = City::new();
    let script = root().join("scripts/notices.rhai");
    let o = c.run(&["run", script.to_str().unwrap(), "--as-of", "2019-02-20"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--write"));
    let o = c.run(&[
        "run",
        script.to_str().unwrap(),
        "--as-of",
        "2019-02-20",
        "--write",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--out"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!c
        .ok(&["show", "--format", "table", "A1"])
        .contains("overdue_reminder"));
}

#[test]
fn a_template_error_names_the_template_line_and_writes_nothing() {
    let c = City::new();
    let t = c.dir.path().join("templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("warning.txt.j2"),
        "{{ institution.name }}\n{% for f in findings %}{{ f.kind_zh }\n",
    )
    .unwrap();
    let s = c.dir.path().join("warn.rhai");
    std::fs::write(&s, "notice(\"warning\", institution(\"A1\"));\n").unwrap();
    let out = c.out();
    let o = c.run(&[
        "run",
        s.to_str().unwrap(),
        "--as-of",
        "2019-02-20",
        "--write",
        "--out",
        out.to_str().unwrap(),
        "--templates",
        t.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning.txt.j2:2"), "{err}");
    assert!(err.contains("warn.rhai:1:"), "{err}");
    assert!(files_under(&out).is_empty());
}

#[test]
fn notice_kinds_and_ids_cannot_escape_the_out_directory() {
    let c = City::new();
    let s = c.dir.path().join("evil.rhai");
    std::fs::write(&s, "notice(\"../../etc/x\", institution(\"A1\"));\n").unwrap();
    let out = c.out();
    let o = c.run(&[
        "run",
        s.to_str().unwrap(),
        "--write",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("letters, digits and _"));
}

#[test]
fn notices_sent_counts_what_the_register_holds() {
    let c = City::new();
    assert!(c.nightly("2019-02-20").status.success());
    let s = c.dir.path().join("count.rhai");
    std::fs::write(
        &s,
        "let a = institution(\"A1\");\nemit(#{week: notices_sent(a, \"overdue_reminder\", as_of() - 7), before: notices_sent(\"A1\", \"overdue_reminder\", date(\"2019-02-21\"))});\n",
    )
    .unwrap();
    let rows = c.ok(&[
        "run",
        s.to_str().unwrap(),
        "--as-of",
        "2019-02-22",
        "--format",
        "jsonl",
    ]);
    assert_eq!(rows.trim(), r#"{"week":1,"before":0}"#);
}

/// A run killed between its commit and putting its notices in place leaves
/// them staged under hidden names; the next run puts in place those the
/// register holds and removes the rest, so files on disk and the register
/// agree again and nothing is issued twice. (Before, notices were written
/// before the commit: a run killed in between left notices on disk that the
/// register did not hold, and the rerun issued them all again.)
#[test]
fn notices_a_crashed_run_left_staged_are_put_in_place_or_removed_by_the_next_run() {
    let c = City::new();
    assert!(c.nightly("2019-02-20").status.success());
    let dir = c.out().join("notices/overdue_reminder");
    let issued = dir.join("A1-2019-02-20.txt");
    let text = std::fs::read_to_string(&issued).unwrap();
    // The crash after the commit: the register has the notice, the disk only
    // its staged copy from a process that is gone.
    let staged = dir.join(".A1-2019-02-20.txt.999999.staged");
    std::fs::rename(&issued, &staged).unwrap();
    // The crash before a commit: a staged notice the register never got.
    let orphan = dir.join(".B1-2019-02-20.txt.999999.staged");
    std::fs::write(&orphan, "never issued").unwrap();
    let audit_before = c.run(&["audit", "--last", "1000"]);

    let again = c.nightly("2019-02-20");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&issued).unwrap(), text);
    assert!(!staged.exists() && !orphan.exists());
    assert_eq!(files_under(&c.out().join("notices")).len(), 2);
    // Nothing was issued twice: the register and the audit log are as they were.
    assert_eq!(c.run(&["audit", "--last", "1000"]), audit_before);
}

/// Nothing a night wrote under --out is overwritten by the next (the rows
/// file was `notices.jsonl` for every night: 341 lines after one night, 4
/// after the next, and a rerun emptied it).
#[test]
fn no_night_overwrites_what_an_earlier_one_wrote_under_out() {
    let c = City::new();
    assert!(c.nightly("2019-02-20").status.success());
    let first = c.out().join("notices-2019-02-20.jsonl");
    let night1 = std::fs::read_to_string(&first).unwrap();
    assert_eq!(night1.lines().count(), 2, "{night1}");
    // A rerun that issues nothing leaves the night's files as they are.
    let before = files_under(&c.out());
    assert!(c.nightly("2019-02-20").status.success());
    assert_eq!(files_under(&c.out()), before);
    assert_eq!(std::fs::read_to_string(&first).unwrap(), night1);
    // The next night has a file of its own.
    assert!(c.nightly("2019-02-27").status.success());
    assert_eq!(std::fs::read_to_string(&first).unwrap(), night1);
    let night2 = std::fs::read_to_string(c.out().join("notices-2019-02-27.jsonl")).unwrap();
    assert_eq!(night2.lines().count(), 1, "{night2}");
    // Every file casebook writes there keeps to the rule: a page published
    // twice with different text keeps the first and puts the second beside it.
    let page = |text: &str| {
        let f = c.dir.path().join("p.rhai");
        std::fs::write(&f, format!("publish(\"lists_page.html\", \"page.html\", #{{districts: [], white_total: {text}, black_total: 0}});\n")).unwrap();
        let o = c.run(&[
            "run",
            f.to_str().unwrap(),
            "--as-of",
            "2019-02-20",
            "--out",
            c.out().to_str().unwrap(),
            "--templates",
            root().join("templates").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    page("1");
    let first_page = std::fs::read_to_string(c.out().join("page.html")).unwrap();
    page("1");
    assert!(
        !c.out().join("page.2.html").exists(),
        "the same page is not written twice"
    );
    let said = page("2");
    assert!(said.contains("page.2.html"), "{said}");
    assert_eq!(
        std::fs::read_to_string(c.out().join("page.html")).unwrap(),
        first_page
    );
}
