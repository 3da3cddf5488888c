//! `casebook init`: an empty ledger.

use anyhow::Result;

use crate::cli::args::InitArgs;
use crate::cli::{exit, Context};
use crate::ledger::LedgerWriter;

/// Creates an empty ledger configured with Guangzhou's districts.
pub fn run(_args: &InitArgs, ctx: &Context) -> Result<i32> {
    LedgerWriter::create(&ctx.db)?;
    outln!("created an empty ledger at {}", ctx.db.display());
    Ok(exit::OK)
}
