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
    let fmt = crate::sheet::OutFormat::for_stdout(args.out.format);
    let file = args.out.file()?;
    let found = if file.is_none() && fmt? == crate::sheet::OutFormat::Table {
        crate::render::register::render(&reader, id, d)?
            .map(|text| out!("{text}"))
            .is_some()
    } else {
        match crate::render::register::sheets(&reader, id, d)? {
            Some(sheets) => {
                crate::sheet::emit(file.as_ref(), args.out.format, &ctx.db, &typed(sheets))?;
                true
            }
            None => false,
        }
    };
    match found {
        true => {}
        false => {
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

/// The register's cells typed for programs and files: dates as dates,
/// whole numbers as numbers.
fn typed(mut sheets: Vec<crate::sheet::Sheet>) -> Vec<crate::sheet::Sheet> {
    use crate::sheet::Cell;
    for s in &mut sheets {
        for r in &mut s.rows {
            for c in r.iter_mut() {
                let Cell::Text(t) = c else { continue };
                if t.len() == 10 {
                    if let Ok(d) = crate::model::parse_date(t) {
                        *c = Cell::Date(d);
                        continue;
                    }
                }
                if let Ok(i) = t.parse::<i64>() {
                    if !t.starts_with(['0', '+']) || t == "0" {
                        *c = Cell::Int(i);
                    }
                }
            }
        }
    }
    sheets
}
