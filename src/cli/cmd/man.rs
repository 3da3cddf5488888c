//! `casebook man`: the man page made from the clap definitions (the same
//! text as `--help`), printed or written as one page per subcommand.

use anyhow::{Context, Result};

use crate::cli::args::ManArgs;

/// Prints `casebook.1`, or with `--dir` writes every page there.
pub fn run(a: &ManArgs) -> Result<i32> {
    match &a.dir {
        None => out!("{}", crate::docs::man_page()?),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in crate::docs::man_pages()? {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(crate::cli::exit::OK)
}
