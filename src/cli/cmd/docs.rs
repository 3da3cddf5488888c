//! `casebook docs gen DIR` (hidden): writes the generated references of
//! `docs/` from the code's tables; the docs test says when they are stale.

use anyhow::Result;

use crate::cli::args::{DocsArgs, DocsCmd};

/// Writes every generated file under the directory given.
pub fn run(a: &DocsArgs) -> Result<i32> {
    match &a.cmd {
        DocsCmd::Gen { dir } => {
            for path in crate::docs::write_all(dir)? {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(crate::cli::exit::OK)
}
