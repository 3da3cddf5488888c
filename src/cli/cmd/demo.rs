//! `casebook demo`: builds the demo city (or reuses one it built), runs the
//! sample reports, then the decisions: the credit score saved as a run, both
//! lists, the notices and the published page.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::NaiveDate;

use super::{open_read, rows_format};
use crate::cli::args::DemoArgs;
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;
use crate::ledger::{busy_timeout, LedgerWriter};
use crate::script::RowFormat;

/// The rules, notices and page `demo` runs after the reports, bundled so the
/// demo works from any directory.
const DEMO_RULES: &[(&str, &str)] = &[
    (
        "credit_score.rhai",
        include_str!("../../../scripts/credit_score.rhai"),
    ),
    (
        "blacklist.rhai",
        include_str!("../../../scripts/blacklist.rhai"),
    ),
    (
        "whitelist.rhai",
        include_str!("../../../scripts/whitelist.rhai"),
    ),
    (
        "notices.rhai",
        include_str!("../../../scripts/notices.rhai"),
    ),
    (
        "publish_lists.rhai",
        include_str!("../../../scripts/publish_lists.rhai"),
    ),
];

const DEMO_TEMPLATES: &[(&str, &str)] = &[
    (
        "rectification_notice.txt.j2",
        include_str!("../../../templates/rectification_notice.txt.j2"),
    ),
    (
        "overdue_reminder.txt.j2",
        include_str!("../../../templates/overdue_reminder.txt.j2"),
    ),
    (
        "blacklist_notice.txt.j2",
        include_str!("../../../templates/blacklist_notice.txt.j2"),
    ),
    (
        "lists_page.html.j2",
        include_str!("../../../templates/lists_page.html.j2"),
    ),
];

/// Builds or reuses the demo ledger, runs the sample reports, then the decisions.
pub fn run(args: &DemoArgs, ctx: &Context) -> Result<i32> {
    if ctx.db.exists() {
        // The demo saves a scoring run, lists and notices into the
        // ledger it runs on: only into one it built itself.
        let first = open_read(&ctx.db)?.reader()?.audit_entry(1)?;
        let command = first
            .as_deref()
            .and_then(|h| serde_json::from_str::<serde_json::Value>(h).ok())
            .and_then(|h| h["command"].as_str().map(String::from));
        if command.as_deref() != Some("casebook demo") {
            eprintln!(
                "error: {} was not built by `casebook demo`: the demo saves a scoring run, black and white lists and notices into the ledger it runs on, so it leaves this one alone. Point it at a new file, e.g. `casebook demo --db demo.redb`",
                ctx.db.display()
            );
            return Ok(exit::DATA);
        }
        eprintln!("using the existing demo ledger at {}", ctx.db.display());
    } else {
        let t = std::time::Instant::now();
        let s = crate::demo::build(&ctx.db, &ctx.operator)?;
        eprintln!(
            "built the demo city at {} in {:.1?}: {} institutions, {} inspections, {} findings",
            ctx.db.display(),
            t.elapsed(),
            s.institutions,
            s.inspections,
            s.findings
        );
    }
    let as_of = crate::demo::report_date();
    sample_reports(args, ctx, as_of)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("demo-out"));
    decisions(&ctx.db, out, &ctx.operator, as_of)
}

/// `demo`, first part: the bundled sample reports, each under its title.
fn sample_reports(args: &DemoArgs, ctx: &Context, as_of: NaiveDate) -> Result<()> {
    let fmt = rows_format(None);
    for (name, src) in crate::demo::SAMPLE_SCRIPTS {
        // Titles go where a reader looks: stdout on a terminal, stderr when the rows are piped.
        if fmt == RowFormat::Table {
            outln!("\n== {name} (as of {as_of})");
        } else {
            eprintln!("== {name} (as of {as_of})");
        }
        std::io::stdout().flush().ok();
        let opts = crate::script::RunOptions {
            output: None,
            as_of,
            args: Vec::new(),
            format: Some(fmt),
            out_dir: args.out.clone(),
            write: false,
            dry_run: false,
            operator: ctx.operator.clone(),
            limits: Default::default(),
            templates: PathBuf::from("templates"),
            capture_prints: false,
            max_table_rows: Some(15),
            stream: false,
        };
        // The scripts are bundled so that `demo` works from any directory; they are
        // written out beside the outputs, where the decision log can point to them.
        let dir = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("demo-out"))
            .join("scripts");
        let path = crate::script::write_under(&dir, name, |w| w.write_all(src.as_bytes()))?;
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        let r = crate::script::run_file(&ctx.db, &path, &opts, &mut w);
        w.flush().ok();
        drop(w);
        r.rendered()?;
    }
    Ok(())
}

/// Where the demo's decisions say what they did: stdout on a terminal;
/// piped, stdout carries only the JSON Lines of the reports and the rest
/// goes to stderr.
struct Say {
    terminal: bool,
}

impl Say {
    fn line(&self, t: &str) {
        if self.terminal {
            outln!("{t}");
        } else {
            eprintln!("{t}");
        }
    }
}

/// `demo`, second part: the credit score saved as a run, both lists, the
/// notices and the published page, each saying where its output is.
fn decisions(db: &Path, out: PathBuf, op: &str, as_of: NaiveDate) -> Result<i32> {
    let tmp = out.join("scripts");
    let templates = out.join("templates");
    for (name, src) in DEMO_TEMPLATES {
        crate::script::write_under(&templates, name, |w| w.write_all(src.as_bytes()))?;
    }
    // The commands the demo suggests must reach this ledger when it is not the default one.
    let db_flag = if db == Path::new("casebook.redb") {
        String::new()
    } else {
        format!(" --db {}", db.display())
    };
    for (name, src) in DEMO_RULES {
        crate::script::write_under(&tmp, name, |w| w.write_all(src.as_bytes()))?;
    }
    let say = Say {
        terminal: std::io::stdout().is_terminal(),
    };
    credit_score(db, &tmp, op, as_of, &db_flag, &say)?;
    for (name, title, write, to_out) in [
        ("blacklist.rhai", "the black list", true, false),
        (
            "whitelist.rhai",
            "the white list (grade A/B in the saved run)",
            true,
            false,
        ),
        (
            "notices.rhai",
            "notices: 整改通知书, 逾期催告, 黑名单告知书",
            true,
            true,
        ),
        ("publish_lists.rhai", "the published list page", false, true),
    ] {
        say.line(&format!("\n== {name}: {title}"));
        let opts = crate::script::RunOptions {
            output: None,
            as_of,
            args: Vec::new(),
            format: Some(RowFormat::Jsonl),
            out_dir: to_out.then(|| out.clone()),
            write,
            dry_run: false,
            operator: op.to_string(),
            limits: Default::default(),
            templates: templates.clone(),
            capture_prints: true,
            max_table_rows: None,
            stream: false,
        };
        let mut rows = Vec::new();
        let done = crate::script::run_file(db, &tmp.join(name), &opts, &mut rows).rendered()?;
        let text = String::from_utf8_lossy(&rows);
        for line in text.lines().filter(|l| !l.starts_with('{')) {
            say.line(line);
        }
        let n_rows = text.lines().filter(|l| l.starts_with('{')).count();
        say.line(&format!(
            "{n_rows} row(s), {} change(s) committed to the ledger",
            done.applied.changes.len()
        ));
        for f in &done.files {
            say.line(&format!("wrote {}", f.display()));
        }
    }
    say.line(&format!(
        "\noutputs are under {}: notices/ (one file per notice), lists.html. `casebook lists show blacklist{db_flag}`, `casebook show ID{db_flag}` for one register.",
        out.display()
    ));
    Ok(exit::OK)
}

/// The credit rule, saved in the decision log (the white list reads its
/// grades): the five lowest scores and the grades by district.
fn credit_score(
    db: &Path,
    scripts: &Path,
    op: &str,
    as_of: NaiveDate,
    db_flag: &str,
    say: &Say,
) -> Result<()> {
    say.line(&format!(
        "\n== credit_score.rhai: score with reasons, saved in the decision log (as of {as_of})"
    ));
    let path = scripts.join("credit_score.rhai");
    let ledger = LedgerWriter::open_write(db, busy_timeout())?;
    let host = crate::decide::scoring_host(&ledger, as_of, Default::default(), Default::default())?;
    let rule = crate::decide::load_rule(&host, &path).rendered()?;
    let ds = crate::decide::score_all(&host, &[&rule], false)
        .rendered()?
        .remove(0);
    let mut worst = ds.clone();
    worst.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.id.cmp(&b.id)));
    let mut table = Vec::new();
    crate::decide::write_decisions(&mut table, RowFormat::Table, &worst, 5)?;
    say.line(String::from_utf8_lossy(&table).trim_end());
    let (cols, rows) = crate::decide::distribution(&ds, host.host.snap().reader.districts());
    say.line(&crate::script::output::table(&cols, &rows));
    drop(host);
    // Run again on the same ledger, the demo finds its run already saved.
    let saved = ledger.reader()?.runs()?.into_iter().find(|(_, h)| {
        h["script_sha256"].as_str() == Some(rule.sha256.as_str())
            && h["as_of"].as_str() == Some(crate::model::fmt_date(as_of).as_str())
    });
    let run = match saved {
        Some((n, _)) => n,
        None => {
            let key = crate::decide::RunKey {
                sha256: rule.sha256.clone(),
                as_of,
                args: Default::default(),
                ledger_audit: ledger.reader()?.last_audit()?,
            };
            crate::decide::save_run(&ledger, &rule, &key, op, &ds)?
        }
    };
    drop(ledger);
    say.line(&format!("saved as run {run}: `casebook runs show {run}{db_flag}`, `casebook score {}{db_flag} --as-of {as_of}`", path.display()));
    Ok(())
}
