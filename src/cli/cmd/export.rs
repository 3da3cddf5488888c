//! `casebook export`: every record of a kind, in the form import reads.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Result};

use super::open_read;
use crate::cli::args::{ExportArgs, Headers};
use crate::cli::{exit, Context};
use crate::export::{self, CsvStyle, ExportFormat};
use crate::sheet::{file, OutFormat};

/// Exports to `--output` or stdout; a closed pipe (`| head`) is the
/// reader's choice, not an error, and ends quietly through [`exit::report`].
pub fn run(args: &ExportArgs, ctx: &Context) -> Result<i32> {
    let fmt = match (args.format, &args.output) {
        (Some(f), _) => f,
        (None, Some(p)) => match OutFormat::from_path(p) {
            Some(OutFormat::Csv) | None => ExportFormat::Csv,
            Some(OutFormat::Jsonl) => ExportFormat::Jsonl,
            Some(OutFormat::Xlsx) => ExportFormat::Xlsx,
            Some(OutFormat::Parquet) => ExportFormat::Parquet,
            Some(f) => bail!(
                "export writes .csv, .jsonl, .xlsx or .parquet, not {}: `casebook run` writes the others",
                f.name()
            ),
        },
        (None, None) => ExportFormat::Csv,
    };
    // Chinese for people (Excel), codes for programs.
    let zh = match args.headers {
        Some(h) => h == Headers::Zh,
        None => args.excel || fmt == ExportFormat::Xlsx,
    };
    let style = CsvStyle {
        zh,
        excel: args.excel,
    };
    let ledger = open_read(&ctx.db)?;
    let reader = ledger.reader()?;
    let n = match &args.output {
        Some(p) => {
            let mut n = 0;
            match fmt {
                ExportFormat::Xlsx => file::replace(p, &ctx.db, |tmp| {
                    n = crate::sheet::xlsx_export::export(&reader, args.kind, zh, tmp)?;
                    Ok(())
                })?,
                ExportFormat::Parquet => file::replace(p, &ctx.db, |tmp| {
                    n = crate::sheet::parquet::export(&reader, args.kind, tmp)?;
                    Ok(())
                })?,
                _ => file::replace_with(p, &ctx.db, |w| {
                    n = export::export(&reader, args.kind, fmt, style, w)
                        .map_err(std::io::Error::other)?;
                    Ok(())
                })?,
            }
            n
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            let n = export::export(&reader, args.kind, fmt, style, &mut w)?;
            w.flush()?;
            n
        }
    };
    if std::io::stderr().is_terminal() && args.output.is_some() {
        eprintln!("exported {n} {}", args.kind.as_str());
    }
    Ok(exit::OK)
}
