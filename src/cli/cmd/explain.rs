//! `casebook explain`: how one institution's decision came out.

use anyhow::Result;

use crate::cli::args::{as_of, ExplainArgs};
use crate::cli::exit::{self, Rendered};
use crate::cli::Context;

/// Explains the rule's decision for one institution on stdout.
pub fn run(args: &ExplainArgs, ctx: &Context) -> Result<i32> {
    let d = as_of(&args.as_of)?;
    let ledger = super::open_read(&ctx.db)?;
    let script_args = args
        .args
        .iter()
        .map(|(k, v)| (k.into(), rhai::Dynamic::from(v.clone())))
        .collect();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    crate::decide::explain::explain(
        &ledger,
        &args.script,
        &args.id,
        d,
        args.r#fn.as_deref(),
        script_args,
        &mut w,
    )
    .rendered()?;
    std::io::Write::flush(&mut w)?;
    Ok(exit::OK)
}
