//! `casebook compact`: the ledger file's free pages given back, every
//! record left as it is (and no audit entry: see `ledger::compact`).

use anyhow::Result;

use crate::cli::args::CompactArgs;
use crate::cli::{exit, Context};
use crate::ledger::{busy_timeout, LedgerWriter};

/// Takes the writer's lock (exit 3 when a writer keeps it), compacts, and
/// says how much smaller the file is.
pub fn run(_args: &CompactArgs, ctx: &Context) -> Result<i32> {
    let wait = busy_timeout();
    let c = LedgerWriter::open_write(&ctx.db, wait)?.compact(wait)?;
    let mb = |b: u64| b as f64 / 1e6;
    outln!(
        "compacted {}: {:.1} MB -> {:.1} MB; every record is as it was",
        ctx.db.display(),
        mb(c.before),
        mb(c.after)
    );
    Ok(exit::OK)
}
