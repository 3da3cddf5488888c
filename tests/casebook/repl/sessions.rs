//! Sessions as an investigator runs them: entries, completion, tables,
//! settings, errors, Ctrl-C and Ctrl-D, and a session fed from a pipe.

use super::*;

#[test]
fn a_multi_line_function_then_a_call() {
    let ws = Ws::new();
    let mut r = ws.repl();
    // An unclosed `{` continues the entry: nothing is evaluated until the `}`.
    r.send("fn label(id) {\r");
    r.send("  let i = institution(id);\r");
    r.send("  i.name + \"/\" + i.district\r");
    assert_eq!(r.entry("}"), "");
    assert_eq!(r.entry("label(\"GZ-0001\")"), "星辰数学培训中心/天河");
    // A later function may call an earlier one.
    assert_eq!(
        r.entry("fn shout(id) { label(id) + \"!\" }; shout(\"GZ-0003\")"),
        "小画家美术工作室/番禺!"
    );
    // Brackets and strings spanning lines, too.
    r.send("let ids = [\r");
    r.send("  \"GZ-0001\",\r");
    assert_eq!(r.entry("  \"GZ-0002\"];"), "");
    assert_eq!(r.entry("ids.map(|id| shout(id)).len()"), "2");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn variables_and_functions_persist_across_entries() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.entry("let total = 0;"), "");
    assert_eq!(
        r.entry("for i in institutions() { total += i.students; }"),
        ""
    );
    assert_eq!(r.entry("total"), "445");
    assert_eq!(r.entry("fn twice(x) { x * 2 }"), "");
    assert_eq!(r.entry("total = twice(total);"), "");
    assert_eq!(r.entry("twice(total)"), "1780");
    // An entry that fails keeps what earlier entries made, and the functions it defined.
    let out = r.entry("fn thrice(x) { x * 3 }; total = 1; throw \"stop\";");
    assert!(out.contains("stop"), "{out}");
    assert_eq!(r.entry("thrice(total)"), "3");
    // :load runs a file into the session: its functions and variables stay.
    std::fs::write(
        ws.dir.path().join("rules.rhai"),
        "// credit rules\nfn small(i) {\n  i.students < 100\n}\nlet threshold = 100;\n",
    )
    .unwrap();
    assert_eq!(r.entry(":load rules.rhai"), "");
    assert_eq!(
        r.entry("institutions().filter(|i| small(i)).len() + threshold"),
        "102"
    );
    let out = r.entry(":load missing.rhai");
    assert!(out.starts_with("error: cannot read missing.rhai"), "{out}");
    let out = r.entry(":load");
    assert!(out.starts_with("error: :load FILE"), "{out}");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn tab_completes_after_inst_dot() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.entry("let inst = institution(\"GZ-0001\");"), "");
    // One candidate: Tab completes it in place.
    r.send("inst.stud\t");
    r.expect("inst.students");
    assert_eq!(r.submit(), "320");
    // Several: the second Tab lists them, each with what it means.
    r.send("inst.licen\t\t");
    let listed = r.expect("licensed  — licence valid on the as-of date (bool)");
    for p in [
        "licence_no  — ",
        "licence_issued  — ",
        "licence_expires  — ",
    ] {
        assert!(listed.contains(p), "{p} not listed:\n{listed:?}");
    }
    r.send("sed");
    assert_eq!(r.submit(), "false");
    // Methods too.
    r.send("inst.findi\t");
    r.expect("inst.findings()");
    assert_eq!(r.entry(".len()"), "1");
    // Session variables complete at the start of a word.
    assert_eq!(r.entry("let students_total = 445;"), "");
    r.send("students_t\t");
    r.expect("students_total");
    assert_eq!(r.submit(), "445");
    // Ledger ids complete inside institution("…
    r.send("institution(\"GZ-000\t\t");
    let listed = r.expect("GZ-0003");
    assert!(
        listed.contains("GZ-0001") && listed.contains("GZ-0002"),
        "{listed:?}"
    );
    assert_eq!(r.entry("2\").name"), "Abc Tutoring");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn a_table_with_chinese_names_lines_up() {
    let ws = Ws::new();
    let mut r = ws.repl();
    let out = r.entry("institutions()");
    for name in [
        "星辰数学培训中心",
        "Abc Tutoring",
        "小画家美术工作室",
        "天河",
    ] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    assert_aligned_table(&out);
    // One count line, not two.
    let counts: Vec<&str> = out.lines().filter(|l| l.starts_with('(')).collect();
    assert_eq!(counts.len(), 1, "count lines {counts:?} in:\n{out}");
    assert!(counts[0].starts_with("(3 "), "{out}");

    // Maps with Chinese keys and values: columns in the order written.
    let out = r.entry(
        "institutions().to_array().map(|i| #{名称: i.name, 所属区: i.district, 学员数: i.students})",
    );
    assert_aligned_table(&out);
    let header = out.lines().nth(1).unwrap_or_default();
    let (a, b, c) = (
        header.find("名称"),
        header.find("所属区"),
        header.find("学员数"),
    );
    assert!(
        a.is_some() && a < b && b < c,
        "columns out of order:\n{out}"
    );
    assert!(out.contains("小画家美术工作室"), "{out}");
    // A map built by a function defined in an earlier entry keeps its written order too.
    assert_eq!(r.entry("fn row(i) { #{机构: i.name, 编号: i.id} }"), "");
    let out = r.entry("institutions().to_array().map(|i| row(i))");
    assert_aligned_table(&out);
    let header = out.lines().nth(1).unwrap_or_default();
    assert!(
        header.find("机构") < header.find("编号"),
        "columns out of order:\n{out}"
    );
    // One map: a field list in the written order, keys right-aligned by display width.
    let out = r.entry("#{名称: \"星辰\", id: \"GZ-0001\"}");
    assert_eq!(out, "名称: 星辰\n  id: GZ-0001", "{out}");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn a_terminal_that_reports_no_width_still_gets_whole_tables() {
    let ws = Ws::new();
    let mut c = ws.command();
    c.args(["repl", "--as-of", "2019-02-20"]);
    let mut r = Repl::spawn_sized(c, 0, 0);
    r.ready();
    let out = r.entry("institutions()");
    assert_aligned_table(&out);
    assert!(
        out.contains("星辰数学培训中心") && out.contains("Abc Tutoring"),
        "cells were wrapped:\n{out}"
    );
    assert_eq!(r.ctrl_d(), 0);
    // A narrow terminal wraps cells, and the table still lines up.
    let mut c = ws.command();
    c.args(["repl", "--as-of", "2019-02-20"]);
    let mut r = Repl::spawn_sized(c, 60, 40);
    r.ready();
    let out = r.entry("institutions()");
    assert_aligned_table(&out);
    for l in out.lines() {
        let w: usize = l.chars().map(|c| c.width().unwrap_or(0)).sum();
        assert!(w <= 60, "{w} columns in a 60-column terminal: {l:?}");
    }
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn an_error_then_a_working_line() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.entry("let kept = 7;"), "");
    // A misspelt property: where, what, and a suggestion.
    let out = r.entry("institution(\"GZ-0001\").nmae");
    assert!(out.starts_with("error"), "{out}");
    assert!(out.contains("<repl>:1:"), "{out}");
    assert!(out.contains("institution(\"GZ-0001\").nmae"), "{out}");
    assert!(out.contains("name"), "{out}");
    assert_eq!(r.entry("kept * 6"), "42");
    // A syntax error.
    let out = r.entry("let broken = ;");
    assert!(out.starts_with("error"), "{out}");
    assert!(out.contains("<repl>:1:"), "{out}");
    assert_eq!(r.entry("kept + 1"), "8");
    // An unknown function.
    let out = r.entry("institutoins()");
    assert!(out.contains("error"), "{out}");
    assert!(out.contains("institutions"), "{out}");
    // An unknown command.
    let out = r.entry(":frobnicate");
    assert!(out.contains("unknown command"), "{out}");
    assert_eq!(r.entry("\"still \" + \"here\""), "still here");
    // Errors do not change how the session ends.
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn as_of_changes_a_result() {
    let ws = Ws::new();
    let mut r = ws.repl();
    let overdue = "findings().filter(|f| f.overdue).len()";
    assert_eq!(r.entry(overdue), "1");
    assert_eq!(r.entry("findings().len()"), "2");
    assert_eq!(r.entry("as_of()"), "2019-02-20");
    r.prompt = "casebook 2018-04-20> ".into();
    let out = r.entry(":as-of 2018-04-20");
    assert!(out.starts_with("now as of 2018-04-20"), "{out}");
    assert_eq!(r.entry(overdue), "0");
    assert_eq!(r.entry("findings().len()"), "1");
    assert_eq!(r.entry("as_of()"), "2018-04-20");
    assert_eq!(r.entry("institution(\"GZ-0002\").status"), "");
    // A bad date changes nothing.
    let out = r.entry(":as-of 2018-02-30");
    assert!(out.starts_with("error"), "{out}");
    assert_eq!(r.entry("as_of()"), "2018-04-20");
    r.prompt = PROMPT.into();
    let out = r.entry(":as-of 2019-02-20");
    assert!(out.starts_with("now as of 2019-02-20"), "{out}");
    assert_eq!(r.entry(overdue), "1");
    assert_eq!(r.entry("institution(\"GZ-0002\").status"), "rectifying");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn history_is_there_in_a_second_session() {
    let ws = Ws::new();
    let mut r = ws.repl_env(&[("NO_COLOR", "1")]);
    assert_eq!(r.entry("\"hist\" + \"ory-ok\""), "history-ok");
    assert_eq!(r.entry("40 + 2"), "42");
    assert_eq!(r.ctrl_d(), 0);
    let saved = std::fs::read_to_string(ws.history()).expect("the history file");
    assert!(saved.contains("\"hist\" + \"ory-ok\""), "{saved}");

    let mut r = ws.repl_env(&[("NO_COLOR", "1")]);
    // Up twice: the second-to-last line of the first session.
    r.send("\x1b[A");
    r.expect("40 + 2");
    r.send("\x1b[A");
    r.expect("\"hist\" + \"ory-ok\"");
    assert_eq!(r.submit(), "history-ok");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn ctrl_c_stops_a_long_loop_and_the_session_goes_on() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.entry("let kept = 5;"), "");
    r.send("print(\"st\" + \"art\"); loop { }\r");
    r.expect(LINE_END);
    // The loop is running once "start" is out; only then press Ctrl-C.
    r.expect("start");
    r.send("\x03");
    let out = r.expect(LINE_START).replace("\r\n", "\n");
    r.expect(PROMPT);
    assert!(out.contains("cancelled"), "{out:?}");
    assert_eq!(r.entry("kept + 1"), "6");
    // Also when the loop runs in the workers of a parallel map.
    r.send("print(\"para\" + \"llel\"); institutions().map(|i| { let n = 0; loop { n += 1; } })\r");
    r.expect(LINE_END);
    r.expect("parallel");
    r.send("\x03");
    let out = r.expect(LINE_START).replace("\r\n", "\n");
    r.expect(PROMPT);
    assert!(out.contains("cancelled"), "{out:?}");
    // And in a script run with :load, whose variables stay.
    std::fs::write(
        ws.dir.path().join("spin.rhai"),
        "let spins = 0;\nprint(\"spin\" + \"ning\");\nloop { spins += 1; }\n",
    )
    .unwrap();
    r.send(":load spin.rhai\r");
    r.expect(LINE_END);
    r.expect("spinning");
    r.send("\x03");
    let out = r.expect(LINE_START).replace("\r\n", "\n");
    r.expect(PROMPT);
    assert!(out.contains("cancelled"), "{out:?}");
    assert!(out.contains("spin.rhai:3:"), "{out:?}");
    assert_eq!(r.entry("spins > 0"), "true");
    // Ctrl-C at the prompt drops the line being typed, not the session.
    r.send("this is not sent");
    r.send("\x03");
    r.ready();
    assert_eq!(r.entry("\"after\" + \"-cancel\""), "after-cancel");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn ctrl_d_and_quit_leave_with_exit_0() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.ctrl_d(), 0);
    let mut r = ws.repl();
    r.send(":quit\r");
    assert_eq!(r.wait_exit(), 0);
}

#[test]
fn help_name_shows_an_example() {
    let ws = Ws::new();
    let mut r = ws.repl();
    let out = r.entry(":help findings");
    assert!(out.contains("findings()"), "{out}");
    assert!(
        out.contains("example: findings().filter(|f| f.overdue).len()"),
        "{out}"
    );
    let out = r.entry(":help set_status");
    assert!(out.contains("example: set_status("), "{out}");
    let out = r.entry(":help overdue");
    assert!(out.contains("finding.overdue"), "{out}");
    let out = r.entry(":help overdeu");
    assert!(out.contains("did you mean overdue"), "{out}");
    let out = r.entry(":help");
    for s in [":as-of", ":load", ":show", ":write", "institutions()"] {
        assert!(out.contains(s), "{s} missing from :help:\n{out}");
    }
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn show_id_prints_the_register() {
    let ws = Ws::new();
    let mut r = ws.repl();
    let out = r.entry(":show GZ-0001");
    for s in [
        "GZ-0001",
        "星辰数学培训中心",
        "(as of 2019-02-20)",
        "Status history",
        "Findings",
        "F-1",
        "overdue",
    ] {
        assert!(out.contains(s), "{s} missing from the register:\n{out}");
    }
    // The register follows the session's date.
    r.prompt = "casebook 2018-04-20> ".into();
    r.entry(":as-of 2018-04-20");
    let out = r.entry(":show GZ-0001");
    assert!(out.contains("(as of 2018-04-20)"), "{out}");
    assert!(!out.contains("overdue 2"), "{out}");
    let out = r.entry(":show NOPE-1");
    assert!(out.contains("no institution"), "{out}");
    let out = r.entry(":show");
    assert!(out.starts_with("error: :show ID"), "{out}");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn format_json_and_back() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.entry(":format json"), "");
    let out = r.entry("institutions().filter(|i| i.district == \"天河\")");
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"));
    assert_eq!(v[0]["id"], "GZ-0001", "{out}");
    assert_eq!(v[0]["name"], "星辰数学培训中心", "{out}");
    assert_eq!(v.as_array().map(|a| a.len()), Some(1), "{out}");
    let out = r.entry("#{名称: \"星辰\", n: 2}");
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"));
    assert_eq!(v, serde_json::json!({"名称": "星辰", "n": 2}));
    let out = r.entry(":format xml");
    assert!(out.starts_with("error"), "{out}");
    assert_eq!(r.entry(":format table"), "");
    assert_aligned_table(&r.entry("institutions()"));
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn long_results_are_cut_in_tables_but_not_in_csv() {
    let mut csv = String::from("id,name,district,category,status,status_date\n");
    for n in 1..=60 {
        csv.push_str(&format!(
            "GZ-{n:04},机构{n},白云,non_subject,operating,2018-01-01\n"
        ));
    }
    let ws = Ws::with(&csv);
    let mut c = ws.command();
    c.args(["repl", "--as-of", "2019-02-20"]);
    let mut r = Repl::spawn(c);
    r.expect("(60 institutions)");
    r.ready();
    let out = r.entry("institutions()");
    assert_aligned_table(&out);
    assert!(out.contains("showing 50 of 60"), "{out}");
    assert!(out.contains("GZ-0050") && !out.contains("GZ-0051"), "{out}");
    assert!(
        !out.contains("(60 "),
        "a count line besides the note:\n{out}"
    );
    // The note says csv shows everything: it must.
    assert_eq!(r.entry(":format csv"), "");
    let out = r.entry("institutions()");
    assert_eq!(out.lines().count(), 61, "header and 60 rows:\n{out}");
    assert!(out.contains("GZ-0060,机构60,白云"), "{out}");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn timing_on_prints_a_time() {
    let ws = Ws::new();
    let mut r = ws.repl();
    assert_eq!(r.entry(":timing on"), "");
    let out = r.entry("1 + 1");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], "2");
    let t = lines[1]
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no time in {out:?}"));
    let unit = t.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    assert!(["ns", "µs", "ms", "s"].contains(&unit), "{out:?}");
    t[..t.len() - unit.len()]
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("{out:?}"));
    // Errors are timed too.
    let out = r.entry("nope()");
    assert!(out.lines().last().unwrap_or("").ends_with("s)"), "{out}");
    assert_eq!(r.entry(":timing off"), "");
    assert_eq!(r.entry("1 + 1"), "2");
    let out = r.entry(":timing maybe");
    assert!(out.starts_with("error"), "{out}");
    assert_eq!(r.ctrl_d(), 0);
}

#[test]
fn write_on_commits_and_reports_the_change() {
    let ws = Ws::new();
    let mut r = ws.repl();
    let call = "set_status(\"GZ-0002\", \"closed\", \"无证办学\")";
    let out = r.entry(call);
    assert!(out.starts_with("error"), "{out}");
    assert!(out.contains("--write"), "{out}");
    assert!(out.contains(":write on"), "{out}");
    assert_eq!(r.entry("institution(\"GZ-0002\").status"), "rectifying");

    r.prompt = "casebook 2019-02-20 [write]> ".into();
    let out = r.entry(":write on");
    assert!(out.contains("writes are on"), "{out}");
    let out = r.entry(call);
    assert!(out.starts_with("committed 1 change(s):"), "{out}");
    assert!(out.contains("GZ-0002"), "{out}");
    assert!(out.contains("closed"), "{out}");
    // The session sees its own change at once.
    assert_eq!(r.entry("institution(\"GZ-0002\").status"), "closed");
    // A failing entry writes nothing.
    let out = r.entry("set_status(\"GZ-0001\", \"closed\", \"x\"); throw \"no\";");
    assert!(out.contains("nothing was written"), "{out}");
    assert_eq!(r.entry("institution(\"GZ-0001\").status"), "operating");

    r.prompt = PROMPT.into();
    assert_eq!(r.entry(":write off"), "writes are off");
    let out = r.entry(call);
    assert!(out.contains("--write"), "{out}");
    assert_eq!(r.ctrl_d(), 0);

    let csv = ws.ok(&["export", "institutions"]);
    let row = csv
        .lines()
        .find(|l| l.starts_with("GZ-0002,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(row.ends_with(",closed,2019-02-20"), "{row}");
    let row = csv.lines().find(|l| l.starts_with("GZ-0001,")).unwrap();
    assert!(row.ends_with(",operating,2017-03-01"), "{row}");
    let audit = ws.ok(&["audit"]);
    assert!(audit.contains("repl: set_status"), "{audit}");
}

#[test]
fn no_color_means_no_escapes() {
    let ws = Ws::new();
    let entries = [
        "40 + 2",
        "\"text\"",
        "let x = 1; // a comment",
        "institutions()",
        "nope()",
        ":help as_of",
    ];
    // With colours allowed, the typed line is highlighted: the control for the check below.
    let mut r = ws.repl();
    for e in entries {
        r.entry(e);
    }
    assert_eq!(r.ctrl_d(), 0);
    assert!(
        has_sgr(&r.screen()),
        "no colour at all, even without NO_COLOR"
    );

    let mut r = ws.repl_env(&[("NO_COLOR", "1")]);
    for e in entries {
        let out = r.entry(e);
        assert!(
            !out.contains('\x1b'),
            "escape in the output of {e}: {out:?}"
        );
    }
    // History hints are drawn plainly too.
    r.send("40");
    r.expect(" + 2");
    r.send("\x15"); // Ctrl-U: clear the line
    assert_eq!(r.entry("1"), "1");
    assert_eq!(r.ctrl_d(), 0);
    let screen = r.screen();
    assert!(
        !has_sgr(&screen),
        "a colour escape with NO_COLOR=1:\n{screen:?}"
    );
}

#[test]
fn a_session_fed_from_a_pipe_exits_1_if_an_entry_failed() {
    let ws = Ws::new();
    let run = |input: &str| {
        let mut c = ws.command();
        c.args(["repl", "--as-of", "2019-02-20"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let good = run("let n = institutions().len();\nn\n:format\n:timing\n:write\n");
    let text = String::from_utf8_lossy(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{text}");
    // Without an argument, a setting says what it is.
    for said in [
        "results are shown as table",
        "timing is off",
        "writes are off",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    // A command that fails counts too: a job must not go on at the wrong date unnoticed.
    assert_eq!(run(":as-of 2019-13-01\n1\n").status.code(), Some(1));
    let bad = run("nosuch()\n1 + 1\n");
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    // The session went on after the error, as sqlite3's does.
    assert!(
        text.contains("there is no function nosuch()") && text.contains("\n2\n"),
        "{text}"
    );
}
