//! `casebook diff`: what a rule change would change, against an old rule or
//! a saved run.

use std::path::PathBuf;

use anyhow::Result;

use super::open_read;
use crate::cli::args::{as_of, DiffArgs};
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;
use crate::decide::Decision;
use crate::ledger::Ledger;
use crate::model::parse_date;
use crate::script::ScriptHost;

/// Scores both sides as of one date and prints what changed.
pub fn run(args: &DiffArgs, ctx: &Context) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    // Against a saved run, the new rule is scored as of the run's date unless told otherwise.
    let run_date = match (args.run, &args.as_of) {
        (Some(r), None) => ledger
            .reader()?
            .runs()?
            .into_iter()
            .find(|(n, _)| *n == r)
            .and_then(|(_, h)| h["as_of"].as_str().and_then(|s| parse_date(s).ok())),
        _ => None,
    };
    let d = match run_date {
        Some(d) => d,
        None => as_of(&args.as_of)?,
    };
    let host = crate::decide::scoring_host(&ledger, d, Default::default(), Default::default())?;
    let (new_path, old_path) = match (&args.new, args.run) {
        (Some(n), None) => (n.clone(), Some(args.old.clone())),
        (None, Some(_)) => (args.old.clone(), None),
        (Some(_), Some(_)) => {
            eprintln!("error: give either OLD.rhai NEW.rhai or --run RUN NEW.rhai, not both");
            return Ok(exit::USAGE);
        }
        (None, None) => {
            eprintln!("error: give the new rule too: casebook diff OLD.rhai NEW.rhai (or --run RUN NEW.rhai)");
            return Ok(exit::USAGE);
        }
    };
    let (old_ds, new_ds) = score_both(&ledger, &host, &new_path, old_path, args.run)?;
    let d_all = crate::decide::diff(&old_ds, &new_ds);
    let file = args.out.file()?;
    if file.is_some()
        || crate::sheet::OutFormat::for_stdout(args.out.format)? != crate::sheet::OutFormat::Table
    {
        let sheets = crate::decide::diff_sheets(&d_all);
        crate::sheet::emit(file.as_ref(), args.out.format, &ctx.db, &sheets)?;
        return Ok(exit::OK);
    }
    outln!(
        "{} against {} as of {d}",
        new_path.display(),
        match args.run {
            Some(r) => format!("saved run {r}"),
            None => args.old.display().to_string(),
        }
    );
    out!("{}", crate::decide::render_diff(&d_all, args.limit));
    Ok(exit::OK)
}

/// The old decisions (of the old rule, or of the saved run) and the new ones.
fn score_both(
    ledger: &Ledger,
    host: &ScriptHost,
    new_path: &std::path::Path,
    old_path: Option<PathBuf>,
    run: Option<u64>,
) -> Result<(Vec<Decision>, Vec<Decision>)> {
    let new_rule = crate::decide::load_rule(host, new_path).rendered()?;
    Ok(match (old_path, run) {
        (Some(p), _) => {
            let old_rule = crate::decide::load_rule(host, &p).rendered()?;
            let mut v = crate::decide::score_all(host, &[&old_rule, &new_rule], true).rendered()?;
            let n = v.pop().unwrap();
            (v.pop().unwrap(), n)
        }
        (None, Some(r)) => {
            let (_, o) = crate::decide::load_run(ledger, r).rendered()?;
            let mut v = crate::decide::score_all(host, &[&new_rule], true).rendered()?;
            (o, v.remove(0))
        }
        (None, None) => unreachable!(),
    })
}
