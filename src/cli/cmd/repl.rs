//! `casebook repl`: starts the interactive session of [`crate::repl`].

use anyhow::Result;

use crate::cli::args::{as_of, ReplArgs};
use crate::cli::{exit, Context};

/// Runs the session; a piped session in which an entry failed exits 1.
pub fn run(args: &ReplArgs, ctx: &Context) -> Result<i32> {
    if !crate::repl::run(&ctx.db, as_of(&args.as_of)?, ctx.operator.clone())? {
        return Ok(exit::DATA);
    }
    Ok(exit::OK)
}
