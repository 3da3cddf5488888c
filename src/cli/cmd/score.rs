//! `casebook score`: every institution scored by a rule, optionally saved
//! in the decision log.

use std::io::Write;

use anyhow::Result;

use super::open;
use crate::cli::args::{as_of, ScoreArgs};
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;
use crate::script::RowFormat;

/// Scores, saves with `--save`, then prints: the lowest scores and grades by
/// district on a terminal, every decision otherwise.
pub fn run(args: &ScoreArgs, ctx: &Context) -> Result<i32> {
    let d = as_of(&args.as_of)?;
    let ledger = open(&ctx.db, args.save && !args.dry_run)?;
    let script_args = args
        .args
        .iter()
        .map(|(k, v)| (k.into(), rhai::Dynamic::from(v.clone())))
        .collect();
    let profiler = super::profile_start(args.profile);
    let host = crate::decide::scoring_host(&ledger, d, script_args, Default::default())?;
    let rule = crate::decide::load_rule(&host, &args.script).rendered()?;
    let ds = crate::decide::score_all(&host, &[&rule], !args.profile).rendered();
    super::profile_report(profiler, &args.script);
    let ds = ds?.remove(0);
    let file = args.out.file()?;
    let fmt = match &file {
        Some(_) => RowFormat::Jsonl,
        None => crate::sheet::OutFormat::for_stdout(args.out.format)?
            .row_format()
            .expect("a text format"),
    };
    let districts = host.host.snap().reader.districts().to_vec();
    let key = crate::decide::RunKey {
        sha256: rule.sha256.clone(),
        as_of: d,
        args: args.args.iter().cloned().collect(),
        ledger_audit: host.host.snap().reader.last_audit()?,
    };
    let saved_runs = host.host.snap().reader.runs()?;
    drop(host);
    let same = crate::decide::same_run(&saved_runs, &key).filter(|_| !args.force);
    // Saved before anything is printed: what a reader of the output
    // does (stops early, fills a disk) cannot lose the run.
    let run = if args.save && !args.dry_run && same.is_none() {
        Some(crate::decide::save_run(
            ledger.writer()?,
            &rule,
            &key,
            &ctx.operator,
            &ds,
        )?)
    } else {
        None
    };
    if let Some(o) = file {
        // A workbook or page gets the grades by district too; a data file the decisions alone.
        let mut sheets = vec![crate::decide::decisions_sheet(&ds)];
        if matches!(
            o.format,
            crate::sheet::OutFormat::Xlsx | crate::sheet::OutFormat::Html
        ) {
            let (cols, rows) = crate::decide::distribution(&ds, &districts);
            let mut g = crate::sheet::Sheet::from_text("grades by district", &cols, &rows);
            g.title = Some(format!("Grades by district (as of {d})"));
            sheets.push(g);
        }
        o.write_sheets(&ctx.db, &sheets, &[])?;
        if let Some(run) = run {
            eprintln!(
                "saved as run {run} in the decision log ({} institutions); `casebook runs show {run}`",
                ds.len()
            );
        }
        eprintln!("wrote {}", o.path.display());
        return Ok(exit::OK);
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let printed = (|| -> std::io::Result<()> {
        if fmt == RowFormat::Table {
            let mut worst = ds.clone();
            worst.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.id.cmp(&b.id)));
            crate::decide::write_decisions(&mut w, fmt, &worst, args.limit)?;
            let (cols, rows) = crate::decide::distribution(&ds, &districts);
            writeln!(w, "\nGrades by district (as of {d})")?;
            writeln!(w, "{}", crate::script::output::table(&cols, &rows))?;
        } else {
            crate::decide::write_decisions(&mut w, fmt, &ds, usize::MAX)?;
        }
        w.flush()
    })();
    drop(w);
    if let Some(run) = run {
        eprintln!(
            "saved as run {run} in the decision log ({} institutions); `casebook runs show {run}`",
            ds.len()
        );
    } else if let (true, Some(n)) = (args.save, same) {
        eprintln!(
            "same as run {n} (same rule, as-of date, arguments and ledger state): nothing saved; --force saves it again"
        );
    } else if args.save && args.dry_run {
        let next = saved_runs.last().map(|(n, _)| n + 1).unwrap_or(1);
        eprintln!(
            "dry run: nothing was saved; --save would save run {next} in the decision log ({} institutions)",
            ds.len()
        );
    }
    printed?;
    Ok(exit::OK)
}
