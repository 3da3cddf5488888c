//! `casebook run`: a Rhai script against the ledger (SPEC §5).

use anyhow::Result;

use crate::cli::args::RunArgs;
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;

/// Changes a `run --write` lists on stderr before summing up the rest.
const SHOWN_CHANGES: usize = 50;

/// Runs the script; rows go to stdout, what it committed and wrote to stderr.
pub fn run(args: &RunArgs, ctx: &Context) -> Result<i32> {
    let opts = args.run.options(ctx.operator.clone())?;
    let profiler = super::profile_start(args.profile);
    // Not locked for the run: a streaming run writes rows from its worker threads.
    let mut w = std::io::BufWriter::new(std::io::stdout());
    let done = crate::script::run_file(&ctx.db, &args.script, &opts, &mut w).rendered();
    drop(w);
    super::profile_report(profiler, &args.script);
    let done = done?;
    let a = &done.applied;
    if !a.changes.is_empty() || !a.unchanged.is_empty() || a.dry_run {
        // A nightly course check decides half a million courses: the
        // log gets a sample, the audit log has every one.
        eprint!("{}", a.summary(SHOWN_CHANGES));
    }
    for f in &done.files {
        eprintln!("wrote {}", f.display());
    }
    for f in &done.would_write {
        eprintln!("would write {}", f.display());
    }
    if done.charts_not_shown > 0 {
        eprintln!(
            "note: the script drew {} chart(s); charts appear only on an HTML report: add -o FILE.html",
            done.charts_not_shown
        );
    }
    Ok(exit::OK)
}
