//! `casebook definitions`: definition files for the Rhai language server.

use anyhow::{Context as _, Result};

use crate::cli::args::DefinitionsArgs;
use crate::cli::exit;

/// Writes the definition files and lists them on stderr.
pub fn run(args: &DefinitionsArgs) -> Result<i32> {
    let files = crate::docs::definitions::write_definitions(&args.dir)
        .with_context(|| format!("cannot write definitions to {}", args.dir.display()))?;
    for f in files {
        eprintln!("wrote {}", f.display());
    }
    Ok(exit::OK)
}
