//! One file per subcommand, each with `pub fn run(args, ctx) -> Result<i32>`:
//! the exit code when the command decides it, an error for
//! [`super::exit::report`] otherwise.

pub mod audit;
pub mod backup;
pub mod check;
pub mod compact;
pub mod completions;
pub mod definitions;
pub mod demo;
pub mod diff;
pub mod explain;
pub mod export;
pub mod import;
pub mod init;
pub mod lists;
pub mod man;
pub mod repl;
pub mod run;
pub mod runs;
pub mod schema;
pub mod score;
pub mod show;
pub mod test;
pub mod verify;

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

/// Installs the profiler when `--profile` asks for it, before any engine is built.
fn profile_start(on: bool) -> Option<std::sync::Arc<crate::script::debug::profile::Profiler>> {
    on.then(|| {
        let p = std::sync::Arc::new(crate::script::debug::profile::Profiler::new());
        crate::script::debug::install(Some(p.clone()));
        p
    })
}

/// Writes the profile on stderr (also after a failed run: where it spent its time until then).
fn profile_report(
    p: Option<std::sync::Arc<crate::script::debug::profile::Profiler>>,
    script: &Path,
) {
    if let Some(p) = p {
        crate::script::debug::install(None);
        let _ = p.report(
            &script.display().to_string(),
            10,
            &mut std::io::stderr().lock(),
        );
    }
}
