//! `casebook show`: one institution's whole register (一户一册).

use anyhow::{bail, Result};

use super::open_read;
use crate::cli::args::{as_of, ShowArgs};
use crate::cli::{exit, Context};

/// Prints the register, or names ids that start alike when there is none.
pub fn run(args: &ShowArgs, ctx: &Context) -> Result<i32> {
    let d = as_of(&args.as_of)?;
    let ledger = open_read(&ctx.db)?;
    let reader = ledger.reader()?;
    let id = &args.id;
    match crate::render::register::render(&reader, id, d)? {
        Some(text) => out!("{text}"),
        None => {
            let prefix: String = id.chars().take(4).collect();
            let near = reader.institution_ids_with_prefix(&prefix, 5)?;
            if near.is_empty() {
                bail!("no institution with id \"{id}\" in {}", ctx.db.display());
            }
            bail!(
                "no institution with id \"{id}\"; ids that start alike: {}",
                near.join(", ")
            );
        }
    }
    Ok(exit::OK)
}
