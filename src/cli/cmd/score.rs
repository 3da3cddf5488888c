//! `casebook score`: every institution scored by a rule, optionally saved
//! in the decision log.

use std::io::Write;

use anyhow::Result;

use super::{open, rows_format};
use crate::cli::args::{as_of, ScoreArgs};
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;
use crate::script::RowFormat;

/// Scores, saves with `--save`, then prints: the lowest scores and grades by
/// district on a terminal, every decision otherwise.
pub fn run(args: &ScoreArgs, ctx: &Context) -> Result<i32> {
    let d = as_of(&args.as_of)?;
    let ledger = open(&ctx.db, args.save)?;
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
    let fmt = rows_format(args.format);
    let districts = host.host.snap().reader.districts().to_vec();
    drop(host);
    // Saved before anything is printed: what a reader of the output
    // does (stops early, fills a disk) cannot lose the run.
    let run = if args.save {
        Some(crate::decide::save_run(
            ledger.writer()?,
            &rule,
            d,
            &ctx.operator,
            &ds,
        )?)
    } else {
        None
    };
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
    }
    printed?;
    Ok(exit::OK)
}
