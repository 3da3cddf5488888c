//! The command line: flags, dispatch and exit codes (SPEC §4). Every flag's
//! documentation lives on its definition, so `--help` cannot drift from the code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::export::{self, ExportFormat};
use crate::format::Kind;
use crate::import::{self, ImportError, ImportOptions};
use crate::ledger::{busy_timeout, Ledger, LedgerError};
use crate::model::parse_date;

/// Exit codes of SPEC §4.
pub mod exit {
    pub const OK: i32 = 0;
    /// A script or data error.
    pub const DATA: i32 = 1;
    /// A usage error (clap uses this too).
    pub const USAGE: i32 = 2;
    /// The ledger is busy: another process holds it and waiting timed out.
    pub const BUSY: i32 = 3;
}

/// casebook — the supervision ledger of off-campus training institutions.
#[derive(Parser, Debug)]
#[command(name = "casebook", version, about, long_about = None)]
pub struct Cli {
    /// The ledger file.
    #[arg(long, global = true, env = "CASEBOOK_DB", default_value = "casebook.redb")]
    pub db: PathBuf,
    /// Who is acting, recorded in the audit log (default: $USER).
    #[arg(long, global = true)]
    pub operator: Option<String>,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Build the demo city ledger (if none exists at --db) and show what it holds.
    Demo {
        /// Where sample scripts write their files.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Create an empty ledger configured with Guangzhou's 11 districts.
    Init,
    /// Import a CSV or JSON Lines file; one file is one transaction.
    Import {
        /// What the file holds.
        kind: Kind,
        /// A .csv (UTF-8, UTF-8 with BOM or GB18030/GBK) or .jsonl file.
        file: PathBuf,
        /// Check every row and report errors, but write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export every record of a kind to stdout, in the form import reads.
    Export {
        kind: Kind,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Show one institution's whole register (一户一册).
    Show {
        /// The institution's ledger number.
        id: String,
        /// Show lifecycles as of this date (default today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// List the audit log: every change ever made, newest last.
    Audit {
        /// Show only the last N entries.
        #[arg(long, default_value = "20")]
        last: usize,
    },
}

/// The operator: `--operator`, else `$USER`, else "unknown".
pub fn operator(o: &Option<String>) -> String {
    o.clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Parses `--as-of`, defaulting to today.
pub fn as_of(s: &Option<String>) -> Result<NaiveDate> {
    match s {
        None => Ok(chrono::Local::now().date_naive()),
        Some(s) => parse_date(s).map_err(|why| anyhow::anyhow!("--as-of \"{s}\" {why}")),
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::USAGE } else { exit::OK };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code(&e)
        }
    }
}

/// The exit code for an error: 3 when the ledger was busy, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    for c in e.chain() {
        let busy = matches!(c.downcast_ref::<LedgerError>(), Some(LedgerError::Busy { .. }))
            || matches!(
                c.downcast_ref::<ImportError>(),
                Some(ImportError::Ledger(LedgerError::Busy { .. }))
            );
        if busy {
            return exit::BUSY;
        }
    }
    exit::DATA
}

fn open_read(db: &Path) -> Result<Ledger> {
    Ok(Ledger::open_read(db)?)
}

fn open_write(db: &Path) -> Result<Ledger> {
    Ok(Ledger::open_write(db, busy_timeout())?)
}

fn run(cli: Cli) -> Result<i32> {
    let op = operator(&cli.operator);
    match cli.command {
        Cmd::Init => {
            Ledger::create(&cli.db)?;
            println!("created an empty ledger at {}", cli.db.display());
        }
        Cmd::Import { kind, file, dry_run } => {
            let ledger = open_write(&cli.db)?;
            let opts = ImportOptions {
                dry_run,
                progress: true,
                operator: op,
            };
            let r = import::import_file(&ledger, kind, &file, &opts)?;
            let c = r.counts;
            println!(
                "{}{} {} rows from {} ({}): {} new, {} updated, {} unchanged{}",
                if r.dry_run { "checked " } else { "imported " },
                kind.as_str(),
                r.rows,
                file.display(),
                r.encoding,
                c.inserted,
                c.updated,
                c.unchanged,
                if r.dry_run { "; dry run, nothing written" } else { "" }
            );
        }
        Cmd::Export { kind, format, output } => {
            let ledger = open_read(&cli.db)?;
            let reader = ledger.reader()?;
            let n = match &output {
                Some(p) => {
                    // Write beside the target and rename, so a failed export never leaves half a file.
                    let tmp = p.with_extension("partial");
                    let f = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                    let n = export::export(&reader, kind, format, &mut w)?;
                    w.flush()?;
                    drop(w);
                    std::fs::rename(&tmp, p)?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
                    match export::export(&reader, kind, format, &mut w) {
                        Ok(n) => n,
                        // A closed pipe (`| head`) is the reader's choice, not an error.
                        Err(export::ExportError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            if std::io::stderr().is_terminal() && output.is_some() {
                eprintln!("exported {n} {}", kind.as_str());
            }
        }
        Cmd::Show { id, as_of: a } => {
            let d = as_of(&a)?;
            let ledger = open_read(&cli.db)?;
            let reader = ledger.reader()?;
            match crate::register::render(&reader, &id, d)? {
                Some(text) => print!("{text}"),
                None => {
                    let near = reader.institution_ids_with_prefix(&id[..id.len().min(4)], 5)?;
                    if near.is_empty() {
                        bail!("no institution with id \"{id}\" in {}", cli.db.display());
                    }
                    bail!("no institution with id \"{id}\"; ids that start alike: {}", near.join(", "));
                }
            }
        }
        Cmd::Audit { last } => {
            let ledger = open_read(&cli.db)?;
            let entries = ledger.reader()?.audit()?;
            let skip = entries.len().saturating_sub(last);
            for (n, header) in &entries[skip..] {
                println!("#{n} {header}");
            }
        }
        Cmd::Demo { out: _ } => {
            bail!("demo is not built yet")
        }
    }
    Ok(exit::OK)
}
