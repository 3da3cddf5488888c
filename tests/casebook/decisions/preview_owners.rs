//! Decisions staff can preview, repeat and own (issue 17): `--dry-run` and
//! `:write preview`, repeated decisions counted as unchanged, list entries
//! with owners (a sync rule takes off only its own), and `score --save`
//! keeping one run of the same scoring.

use super::lists_and_rule_tests::{city, sync, AS_OF};
use crate::common::{jsonl, script, Ws};

/// A rule of one's own, as the new user wrote it: it black-lists W4
/// (no fire approval), which no criterion of blacklist.rhai covers.
const MY_RULE: &str = "list_add(\"blacklist\", \"W4\", \"消防未验收 / no fire approval\");\n";

#[test]
fn dry_run_checks_and_lists_every_change_and_commits_nothing() {
    let ws = city();
    let before = ws.snapshot();
    let audit = ws.audit_len();
    let bl = script("blacklist.rhai");
    let r = ws
        .run(&[
            "run",
            &bl,
            "--as-of",
            AS_OF,
            "--dry-run",
            "--format",
            "jsonl",
            "--out",
            "out",
        ])
        .ok()
        .stderr_has(&[
            "dry run: nothing was committed; 3 change(s) would be made:",
            "would add B1 to blacklist from 2019-02-20 (学科类无证仍在经营",
            "would add B2 to blacklist",
            "would add B3 to blacklist",
            "would write out/blacklist-2019-02-20.jsonl",
        ]);
    // The rows are the preview: nothing applied.
    let rows = jsonl(&r.stdout);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r["applied"] == false), "{rows:?}");
    assert_eq!(ws.snapshot(), before);
    assert_eq!(ws.audit_len(), audit);
    assert!(!ws.path().join("out").exists(), "a dry run writes no file");
}

#[test]
fn a_write_without_either_flag_names_both_and_a_conflict_fails_a_dry_run_too() {
    let ws = city();
    let f = ws.write("mine.rhai", MY_RULE);
    ws.run(&["run", &f, "--as-of", AS_OF]).code(1).stderr_has(&[
        "mine.rhai:1:",
        "--write",
        "--dry-run",
        "Nothing was changed",
    ]);
    // A conflicting decision is an error in a preview as in a commit.
    let f = ws.write("close.rhai", "close_out(\"FB2\");\n");
    ws.run(&["run", &f, "--as-of", AS_OF, "--dry-run"])
        .code(1)
        .stderr_has(&["not rectified yet"]);
    // --write and --dry-run together is a usage error.
    ws.run(&["run", &f, "--write", "--dry-run"]).code(2);
}

#[test]
fn repeating_a_decision_is_unchanged_and_counted() {
    let ws = city();
    let f = ws.write(
        "again.rhai",
        "set_status(\"B1\", \"operating\", \"还在经营\");\n\
         list_add(\"blacklist\", \"B1\", \"无证\");\n\
         list_add(\"blacklist\", \"B1\", \"无证 again\");\n\
         list_remove(\"whitelist\", \"B1\", \"never on it\");\n",
    );
    ws.run(&["run", &f, "--as-of", AS_OF, "--write"])
        .ok()
        .stderr_has(&[
            "committed 1 change(s), 3 unchanged (already so):",
            "B1: added to blacklist",
        ]);
    // The second night: nothing to change, and no error.
    ws.run(&["run", &f, "--as-of", "2019-02-21", "--write"])
        .ok()
        .stderr_has(&["committed 0 change(s), 4 unchanged (already so)"]);
}

#[test]
fn a_sync_rule_takes_off_only_its_own_entries_and_says_what_it_left() {
    let ws = city();
    let mine = ws.write("my_rule.rhai", MY_RULE);
    ws.run(&[
        "--operator",
        "王科长",
        "run",
        &mine,
        "--as-of",
        AS_OF,
        "--write",
    ])
    .ok();
    sync(&ws, "blacklist.rhai", AS_OF, true);
    // The next night's blacklist.rhai leaves W4 (not its entry) on the list.
    let bl = script("blacklist.rhai");
    let r = ws
        .run(&[
            "run",
            &bl,
            "--as-of",
            "2019-02-21",
            "--write",
            "--format",
            "jsonl",
        ])
        .ok()
        .stderr_has(&["left 1 entries of other owners alone"]);
    assert!(!r.stdout.contains("W4"), "{}", r.stdout);
    let shown = ws
        .run(&[
            "lists",
            "show",
            "blacklist",
            "--history",
            "--as-of",
            "2019-02-21",
        ])
        .ok()
        .stdout;
    assert!(shown.contains("owner"), "{shown}");
    assert!(shown.contains("rule my_rule.rhai (sha256 "), "{shown}");
    assert!(shown.contains("rule blacklist.rhai (sha256 "), "{shown}");
    // Another rule may not take off blacklist.rhai's entry without saying so.
    let off = ws.write(
        "off.rhai",
        "let x = 1;\nlist_remove(\"blacklist\", \"B1\", \"复核\");\n",
    );
    ws.run(&["run", &off, "--as-of", "2019-02-21", "--write"])
        .code(1)
        .stderr_has(&["off.rhai:2:", "by rule blacklist.rhai", "list_remove_other"]);
    let off = ws.write(
        "off2.rhai",
        "list_remove_other(\"blacklist\", \"B1\", \"复核：误列\");\n",
    );
    ws.run(&["run", &off, "--as-of", "2019-02-21", "--write"])
        .ok()
        .stderr_has(&["B1: removed from blacklist on 2019-02-21 (复核：误列)"]);
    ws.run(&[
        "lists",
        "show",
        "blacklist",
        "--history",
        "--as-of",
        "2019-02-21",
    ])
    .ok()
    .stdout_has(&["taken off by rule off2.rhai"]);
    // And without a reason it is refused.
    let off = ws.write(
        "off3.rhai",
        "list_remove_other(\"blacklist\", \"B2\", \" \");\n",
    );
    ws.run(&["run", &off, "--as-of", "2019-02-21", "--write"])
        .code(1)
        .stderr_has(&["give a reason"]);
}

#[test]
fn repl_preview_lists_the_change_and_a_person_owns_what_they_add() {
    let ws = city();
    let before = ws.snapshot();
    let audit = ws.audit_len();
    let r = ws
        .cmd()
        .args(["--operator", "李科员", "repl", "--as-of", AS_OF])
        .write_stdin(":write preview\nlist_add(\"blacklist\", \"W4\", \"人工复核\")\n")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.contains("writes are previewed"), "{out}");
    assert!(
        out.contains("dry run: nothing was committed; 1 change(s) would be made:")
            && out.contains("would add W4 to blacklist from 2019-02-20 (人工复核)"),
        "{out}"
    );
    assert_eq!(ws.snapshot(), before);
    assert_eq!(ws.audit_len(), audit);
    ws.cmd()
        .args(["--operator", "李科员", "repl", "--as-of", AS_OF])
        .write_stdin(":write on\nlist_add(\"blacklist\", \"W4\", \"人工复核\")\n")
        .assert()
        .success();
    ws.run(&["lists", "show", "blacklist", "--as-of", AS_OF])
        .ok()
        .stdout_has(&["person 李科员"]);
}

#[test]
fn saving_the_same_scoring_twice_keeps_one_run() {
    let ws = city();
    let rule = script("credit_score.rhai");
    let save = |extra: &[&str]| {
        let mut a = vec![
            "score",
            rule.as_str(),
            "--as-of",
            AS_OF,
            "--save",
            "--format",
            "jsonl",
        ];
        a.extend_from_slice(extra);
        ws.run(&a).ok()
    };
    save(&["--dry-run"]).stderr_has(&["dry run: nothing was saved; --save would save run 1"]);
    save(&[]).stderr_has(&["saved as run 1"]);
    save(&[]).stderr_has(&["same as run 1", "nothing saved", "--force"]);
    save(&["--dry-run"]).stderr_has(&["same as run 1"]);
    // Other arguments, or a changed ledger, make another run.
    save(&["--arg", "x=1"]).stderr_has(&["saved as run 2"]);
    save(&["--arg", "x=1"]).stderr_has(&["same as run 2"]);
    save(&["--force"]).stderr_has(&["saved as run 3"]);
    let f = ws.write("s.rhai", "set_status(\"W1\", \"rectifying\", \"复查\");\n");
    ws.run(&["run", &f, "--as-of", AS_OF, "--write"]).ok();
    save(&[]).stderr_has(&["saved as run 4"]);
}

#[test]
fn run_help_lists_the_exit_codes() {
    let ws = Ws::new();
    ws.run(&["run", "--help"]).ok().stdout_has(&[
        "Exit codes:",
        "0  done",
        "1  the script failed",
        "2  a usage error",
        "3  the ledger stayed busy",
        "--dry-run",
    ]);
}
