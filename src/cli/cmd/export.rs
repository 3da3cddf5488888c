//! `casebook export`: every record of a kind, in the form import reads.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context as _, Result};

use super::open_read;
use crate::cli::args::ExportArgs;
use crate::cli::{exit, Context};
use crate::export;

/// Exports to `--output` or stdout; a closed pipe (`| head`) is the
/// reader's choice, not an error, and ends quietly through [`exit::report`].
pub fn run(args: &ExportArgs, ctx: &Context) -> Result<i32> {
    let ledger = open_read(&ctx.db)?;
    let reader = ledger.reader()?;
    let n = match &args.output {
        Some(p) => {
            let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
                (Ok(x), Ok(y)) => x == y,
                _ => false,
            };
            if same(p, &ctx.db) {
                bail!(
                    "refusing to export over the ledger itself ({}): choose another --output file",
                    p.display()
                );
            }
            // Write beside the target and rename, so a failed export never leaves half a file.
            let tmp = p.with_extension("partial");
            let f = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            let n = export::export(&reader, args.kind, args.format, &mut w)?;
            w.flush()?;
            drop(w);
            std::fs::rename(&tmp, p)?;
            n
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            export::export(&reader, args.kind, args.format, &mut w)?
        }
    };
    if std::io::stderr().is_terminal() && args.output.is_some() {
        eprintln!("exported {n} {}", args.kind.as_str());
    }
    Ok(exit::OK)
}
