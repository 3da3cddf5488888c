//! `casebook backup DEST`: a consistent copy of the ledger from one read
//! snapshot; other processes go on reading and writing meanwhile.

use anyhow::Result;

use super::open_read;
use crate::cli::args::BackupArgs;
use crate::cli::{exit, Context};

/// Copies, checks, and says what the copy holds.
pub fn run(args: &BackupArgs, ctx: &Context) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let summary = ledger.backup(&args.dest)?;
    let count = |t: &str| {
        summary
            .tables
            .iter()
            .find(|(n, _)| *n == t)
            .map_or(0, |(_, n)| *n)
    };
    outln!(
        "backed up {} to {} as of audit entry #{}: {} institutions, {} inspections, {} findings, {} audit entries; the copy was reopened and checked table by table",
        ctx.db.display(),
        args.dest.display(),
        summary.last_audit,
        count("institutions"),
        count("inspections"),
        count("findings"),
        count("audit"),
    );
    Ok(exit::OK)
}
