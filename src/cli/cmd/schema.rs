//! `casebook schema [KIND]`: what scripts can read of each record kind.

use anyhow::{bail, Result};

use crate::cli::args::SchemaArgs;
use crate::cli::{exit, Context};
use crate::ledger::Ledger;

/// Prints every property with its type and allowed values; the districts
/// are the ledger's when there is one, else the 11 a new ledger gets.
pub fn run(args: &SchemaArgs, ctx: &Context) -> Result<i32> {
    let districts: Vec<String> = match Ledger::open_read(&ctx.db) {
        Ok(l) => l.reader()?.districts().to_vec(),
        Err(_) => crate::model::DEFAULT_DISTRICTS
            .iter()
            .map(|d| d.to_string())
            .collect(),
    };
    match crate::script::records::props::schema(args.kind.as_deref(), &districts) {
        Ok(text) => {
            out!("{text}");
            Ok(exit::OK)
        }
        Err(e) => bail!(crate::cli::exit::UsageError(e)),
    }
}
