//! `casebook verify`: damage and tampering, found and listed.

use anyhow::Result;

use super::open_read;
use crate::cli::args::VerifyArgs;
use crate::cli::{exit, Context};

/// Runs every check; exit 0 when all hold, 1 with every failure.
pub fn run(args: &VerifyArgs, ctx: &Context) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let v = ledger.verify(args.head.as_deref())?;
    outln!("redb integrity check: {}", v.integrity);
    outln!(
        "{} records checked against their checksums and the audit log; {} audit entries checked along the hash chain",
        v.records, v.entries
    );
    if let Some((n, h)) = &v.head {
        outln!("head: {n}:{h}");
    }
    if v.ok() {
        outln!("verified: every check passed");
        return Ok(exit::OK);
    }
    for p in &v.problems {
        outln!("FAILED: {}", crate::model::escape_controls(p));
    }
    eprintln!(
        "error: {} check(s) failed in {}",
        v.problems.len(),
        ctx.db.display()
    );
    Ok(exit::DATA)
}
