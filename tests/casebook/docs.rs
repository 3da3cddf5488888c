//! `docs/` holds to the code: the generated references are what the code's
//! tables generate today (`CASEBOOK_BLESS=1` rewrites them), the examples in
//! the guides run on the demo city (`console` blocks command by command with
//! their output compared, `…` standing for anything; Rhai blocks through
//! `casebook check`, and those not saved as a file with `file=NAME` through
//! `casebook run`), nothing user-facing points outside the
//! repository, and the installed-CLI conventions work (completions, man page,
//! `--version` with the ledger schema).

use std::path::{Path, PathBuf};

use crate::common::{root, Run, Ws};

/// The hand-written pages whose examples run.
const GUIDES: &[&str] = &[
    "docs/README.md",
    "docs/writing-rules.md",
    "docs/writing-rules.zh.md",
    "docs/nightly.md",
    "docs/operations.md",
];

/// Words that point outside the repository.
const OUTSIDE: &[&str] = &["SPEC.md", "SPEC §", "§", "../shared", "DOMAIN.md"];

fn outside_reference(text: &str) -> Option<&'static str> {
    OUTSIDE.iter().copied().find(|w| text.contains(w))
}

#[test]
fn generated_references_are_what_the_code_generates() {
    let bless = std::env::var_os("CASEBOOK_BLESS").is_some_and(|v| v == "1");
    let docs = root().join("docs");
    let mut stale = Vec::new();
    let mut generated = Vec::new();
    for (rel, want) in casebook::docs::generate().expect("the references generate") {
        let rel = PathBuf::from(rel);
        let have = std::fs::read_to_string(docs.join(&rel)).unwrap_or_default();
        if want != have {
            if bless {
                std::fs::create_dir_all(docs.join(&rel).parent().unwrap()).unwrap();
                std::fs::write(docs.join(&rel), &want).unwrap();
            } else {
                stale.push(rel.display().to_string());
            }
        }
        generated.push(rel);
    }
    // A man page of a subcommand that is gone is stale too.
    for path in files_under(&docs.join("man")) {
        let rel = path.strip_prefix(&docs).unwrap().to_path_buf();
        if !generated.contains(&rel) {
            if bless {
                std::fs::remove_file(&path).unwrap();
            } else {
                stale.push(format!("{} (no longer generated)", rel.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/ differs from what the code generates: {}\n\
         regenerate with `{}`",
        stale.join(", "),
        casebook::docs::REGENERATE
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return v;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(files_under(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}

/// Every subcommand path, from the same definition the binary parses with.
fn subcommands(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
    out.push(path.to_vec());
    for sub in cmd.get_subcommands() {
        let mut p = path.to_vec();
        p.push(sub.get_name().to_string());
        subcommands(sub, &p, out);
    }
}

#[test]
fn no_help_text_or_user_facing_file_points_outside_the_repository() {
    let ws = Ws::new();
    let mut paths = Vec::new();
    subcommands(&casebook::cli::args::command(), &[], &mut paths);
    assert!(paths.len() > 15, "{paths:?}");
    for p in &paths {
        let mut args: Vec<&str> = p.iter().map(String::as_str).collect();
        args.push("--help");
        let r = ws.run_bare(&args).ok();
        if let Some(w) = outside_reference(&r.stdout) {
            panic!("`casebook {}` mentions {w}:\n{}", args.join(" "), r.stdout);
        }
    }
    let r = root();
    let mut files: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"]
        .iter()
        .map(|f| r.join(f))
        .collect();
    for dir in ["docs", "scripts", "templates", "examples"] {
        files.extend(files_under(&r.join(dir)));
    }
    let mut bad = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue; // not text (a GBK fixture)
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(w) = outside_reference(line) {
                bad.push(format!("{}:{}: {w}: {line}", f.display(), n + 1));
            }
        }
    }
    // Error messages: the strings of the source, not its comments.
    for f in files_under(&r.join("src")) {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || !code.contains('"') {
                continue;
            }
            if let Some(w) = outside_reference(code) {
                bad.push(format!("{}:{}: {w}: {line}", f.display(), n + 1));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "references outside the repository:\n{}",
        bad.join("\n")
    );
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    let ws = Ws::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        ws.run_bare(&["completions", shell])
            .ok()
            .stdout_has(&["casebook", "import", "backup", "as-of"]);
    }
    ws.run_bare(&["completions", "tcsh"]).code(2);
}

#[test]
fn man_page_is_generated_from_the_command_line_definition() {
    let ws = Ws::new();
    let page = ws.run_bare(&["man"]).ok().stdout;
    for part in [".TH casebook 1", "CASEBOOK_DB", "import", "Exit codes"] {
        assert!(page.contains(part), "no {part:?} in the man page");
    }
    let dir = ws.path().join("man");
    ws.run_bare(&["man", "--dir", dir.to_str().unwrap()]).ok();
    let run = std::fs::read_to_string(dir.join("casebook-run.1")).unwrap();
    assert!(run.contains("\\-\\-as\\-of"), "{run}");
    assert_eq!(
        std::fs::read_to_string(dir.join("casebook.1")).unwrap(),
        page
    );
}

#[test]
fn version_names_the_ledger_schema_it_reads_and_writes() {
    let v = Ws::new().run_bare(&["--version"]).ok().stdout;
    let schema = casebook::ledger::SCHEMA_VERSION;
    assert!(
        v.starts_with(&format!("casebook {}", env!("CARGO_PKG_VERSION")))
            && v.contains(&format!("ledger schema {schema}"))
            && v.contains(&format!(
                "reads schema {} to {schema}",
                casebook::ledger::READS_FROM
            )),
        "{v}"
    );
}

// ---------------------------------------------------------------------------
// The examples of the guides, run as a newcomer would type them.

/// One fenced block of a guide: its info string and its lines.
struct Block {
    file: String,
    line: usize,
    info: String,
    body: Vec<String>,
}

fn blocks(file: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let mut out = Vec::new();
    let mut cur: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut cur, line.strip_prefix("```")) {
            (None, Some(info)) => {
                cur = Some(Block {
                    file: file.to_string(),
                    line: n + 1,
                    info: info.trim().to_string(),
                    body: Vec::new(),
                })
            }
            (Some(_), Some("")) => out.push(cur.take().unwrap()),
            (Some(b), _) => b.body.push(line.to_string()),
            (None, None) => {}
        }
    }
    out
}

/// Splits a command line into words: blanks separate, "…" and '…' quote.
fn words(line: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut w = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => w.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !w.is_empty() {
                    v.push(std::mem::take(&mut w));
                }
                any = false;
            }
            (None, c) => w.push(c),
        }
    }
    if any || !w.is_empty() {
        v.push(w);
    }
    v
}

/// Runs one `$ casebook …` line of a `console` block; returns what it printed.
fn run_line(ws: &Ws, where_: &str, line: &str) -> String {
    let (cmd, want_code) = match line.split_once("  # exit ") {
        Some((c, code)) => (c, code.trim().parse::<i32>().unwrap()),
        None => (line, 0),
    };
    let w: Vec<String> = words(cmd)
        .into_iter()
        .flat_map(|w| glob(ws.path(), w))
        .collect();
    assert_eq!(
        w[0], "casebook",
        "{where_}: a runnable example starts with casebook"
    );
    let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
    let r: Run = ws.run(&args);
    assert_eq!(
        r.code, want_code,
        "{where_}: `{cmd}` exited {}\nstdout:\n{}\nstderr:\n{}",
        r.code, r.stdout, r.stderr
    );
    format!("{}{}", r.stdout, r.stderr)
}

/// The expected output with `…` standing for anything: the pieces between
/// must be found in `got`, in order.
fn assert_shows(where_: &str, cmd: &str, want: &[String], got: &str) {
    let want = want.join("\n");
    let mut rest = got;
    for piece in want.split('…') {
        let piece = piece.trim_matches('\n');
        if piece.is_empty() {
            continue;
        }
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => {
                panic!("{where_}: `{cmd}` did not print\n{piece}\nin order; it printed:\n{got}")
            }
        }
    }
}

#[test]
fn the_guides_examples_run_on_the_demo_city() {
    let ws = Ws::new();
    casebook::demo::build(&ws.db, "tester").expect("the demo city");
    for dir in ["scripts", "templates", "examples"] {
        copy_dir(&root().join(dir), &ws.path().join(dir));
    }
    let mut ran = 0;
    for file in GUIDES {
        for b in blocks(file) {
            let where_ = format!("{}:{}", b.file, b.line);
            let mut tags = b.info.split_whitespace();
            match tags.next() {
                Some("console") => {
                    let mut i = 0;
                    while i < b.body.len() {
                        let Some(cmd) = b.body[i].strip_prefix("$ ") else {
                            i += 1;
                            continue;
                        };
                        let mut j = i + 1;
                        while j < b.body.len() && !b.body[j].starts_with("$ ") {
                            j += 1;
                        }
                        let got = run_line(&ws, &where_, cmd);
                        assert_shows(&where_, cmd, &b.body[i + 1..j], &got);
                        ran += 1;
                        i = j;
                    }
                }
                Some("rhai") => {
                    let file = tags.find_map(|t| t.strip_prefix("file="));
                    let name = file
                        .map(String::from)
                        .unwrap_or_else(|| format!("example_{}.rhai", b.line));
                    let path = ws.path().join(&name);
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, b.body.join("\n") + "\n").unwrap();
                    let r = ws.run(&["check", &name]);
                    assert!(
                        r.code == 0
                            && format!("{}{}", r.stdout, r.stderr).contains(", 0 warning(s)"),
                        "{where_}: `casebook check` on the example:\n{}{}",
                        r.stdout,
                        r.stderr
                    );
                    // A snippet (not a file the page goes on to use) runs as it is.
                    if file.is_none() {
                        let r =
                            ws.run(&["run", &name, "--as-of", "2019-02-20", "--format", "jsonl"]);
                        assert_eq!(r.code, 0, "{where_}: the example failed:\n{}", r.stderr);
                    }
                    ran += 1;
                }
                _ => {}
            }
        }
    }
    assert!(ran >= 20, "only {ran} examples found in the guides");
}

/// `dir/*.ext` expanded as a shell would (sorted); any other word as it is.
fn glob(cwd: &Path, w: String) -> Vec<String> {
    let Some((dir, ext)) = w.split_once("/*") else {
        return vec![w];
    };
    let mut v: Vec<String> = files_under(&cwd.join(dir))
        .into_iter()
        .filter(|p| p.parent() == Some(&cwd.join(dir)))
        .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .filter(|n| n.ends_with(ext))
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

/// Every example of the API reference compiles and calls only known functions
/// and properties (`casebook check --strict`), with the variables it names
/// as parameters.
#[test]
fn the_api_references_examples_pass_check() {
    let ws = Ws::new();
    let mut src = String::new();
    let mut n = 0;
    for (_, _, _, ex) in casebook::script::api::FUNCTIONS {
        src.push_str(&format!(
            "fn example_{n}(i, f, v, s, c, a, x) {{\n    {ex}\n}}\n"
        ));
        n += 1;
    }
    let api = std::fs::read_to_string(root().join("docs/script-api.md")).unwrap();
    // The property examples: the last cell of each row of the properties' tables.
    let mut in_props = false;
    for line in api.lines() {
        if line.starts_with("## ") {
            in_props = line.ends_with(" properties");
        }
        if !in_props || !line.starts_with("| `") || !line.ends_with("` |") {
            continue;
        }
        let ex = line.rsplit("| `").next().unwrap().trim_end_matches("` |");
        if ex.contains('.') && !ex.contains("//") {
            let ex = ex.replace("\\|", "|");
            src.push_str(&format!(
                "fn example_{n}(i, f, v, s, c, a, x, r) {{\n    {ex}\n}}\n"
            ));
            n += 1;
        }
    }
    assert!(n > 100, "{n}");
    ws.write("examples.rhai", &src);
    let r = ws.run_bare(&["check", "--strict", "examples.rhai"]);
    assert_eq!(r.code, 0, "{}{}\n{src}", r.stdout, r.stderr);
}
