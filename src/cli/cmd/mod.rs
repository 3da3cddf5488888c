//! One file per subcommand, each with `pub fn run(args, ctx) -> Result<i32>`:
//! the exit code when the command decides it, an error for
//! [`super::exit::report`] otherwise.

pub mod audit;
pub mod backup;
pub mod check;
pub mod demo;
pub mod diff;
pub mod export;
pub mod import;
pub mod init;
pub mod lists;
pub mod repl;
pub mod run;
pub mod runs;
pub mod schema;
pub mod score;
pub mod show;
pub mod test;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;

use crate::ledger::{AnyLedger, Ledger};
use crate::script::RowFormat;

fn open_read(db: &Path) -> Result<Ledger> {
    Ok(Ledger::open_read(db)?)
}

/// Opens for writing if `write`, else for reading only.
fn open(db: &Path, write: bool) -> Result<AnyLedger> {
    Ok(AnyLedger::open(db, write)?)
}

/// The rows format when none is asked for: a table on a terminal, JSON Lines when piped.
fn rows_format(asked: Option<RowFormat>) -> RowFormat {
    asked.unwrap_or(if std::io::stdout().is_terminal() {
        RowFormat::Table
    } else {
        RowFormat::Jsonl
    })
}
