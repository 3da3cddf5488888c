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
    #[arg(
        long,
        global = true,
        env = "CASEBOOK_DB",
        default_value = "casebook.redb"
    )]
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
    /// Run a Rhai script against the ledger (SPEC §5).
    Run {
        /// The .rhai script.
        script: PathBuf,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Parse and check a script without running it: syntax errors, unknown functions, misspelt properties.
    Check {
        /// The .rhai scripts.
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
    },
    /// An interactive session for investigations and trying out rules (SPEC §6).
    Repl {
        /// The date the session starts as of (default today; :as-of changes it).
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

/// Flags of `run` (and of the commands built on it).
#[derive(clap::Args, Debug, Clone)]
pub struct RunFlags {
    /// The date the script sees the ledger as of (default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// A script argument, seen as args.K (repeatable).
    #[arg(long = "arg", value_name = "K=V", value_parser = parse_kv)]
    pub args: Vec<(String, String)>,
    /// Rows format (default: table on a terminal, jsonl when piped).
    #[arg(long, value_enum)]
    pub format: Option<crate::script::RowFormat>,
    /// Also write the rows as a file in this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Allow the script to change the ledger (one transaction, audited).
    #[arg(long)]
    pub write: bool,
    /// Stop the script after this many seconds.
    #[arg(long, default_value = "60", value_name = "SECONDS")]
    pub timeout: f64,
    /// Stop the script after this many operations (0: no limit).
    #[arg(long, default_value = "0", value_name = "N")]
    pub max_operations: u64,
    /// Stop the script when casebook holds more than this much memory.
    #[arg(long, default_value = "2048", value_name = "MIB")]
    pub max_memory: usize,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("\"{s}\" is not K=V")),
    }
}

impl RunFlags {
    /// The run options these flags describe.
    pub fn options(&self, operator: String) -> Result<crate::script::RunOptions> {
        if self.timeout.is_nan() || self.timeout <= 0.0 {
            bail!("--timeout must be a positive number of seconds");
        }
        Ok(crate::script::RunOptions {
            as_of: as_of(&self.as_of)?,
            args: self.args.clone(),
            format: self.format,
            out_dir: self.out.clone(),
            write: self.write,
            operator,
            limits: crate::script::Limits {
                timeout: std::time::Duration::from_secs_f64(self.timeout),
                max_operations: self.max_operations,
                max_memory: self.max_memory << 20,
                ..Default::default()
            },
        })
    }
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
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
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
        let busy = matches!(
            c.downcast_ref::<LedgerError>(),
            Some(LedgerError::Busy { .. })
        ) || matches!(
            c.downcast_ref::<ImportError>(),
            Some(ImportError::Ledger(LedgerError::Busy { .. }))
        );
        if busy {
            return exit::BUSY;
        }
    }
    exit::DATA
}

/// An empty ledger in the temp directory, for commands that need only the API.
fn tempdir_ledger() -> Result<PathBuf> {
    let p = std::env::temp_dir().join(format!("casebook-check-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&p);
    Ledger::create(&p)?;
    Ok(p)
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
        Cmd::Import {
            kind,
            file,
            dry_run,
        } => {
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
                if r.dry_run {
                    "; dry run, nothing written"
                } else {
                    ""
                }
            );
        }
        Cmd::Export {
            kind,
            format,
            output,
        } => {
            let ledger = open_read(&cli.db)?;
            let reader = ledger.reader()?;
            let n = match &output {
                Some(p) => {
                    // Write beside the target and rename, so a failed export never leaves half a file.
                    let tmp = p.with_extension("partial");
                    let f = std::fs::File::create(&tmp)
                        .with_context(|| format!("cannot create {}", tmp.display()))?;
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
                        Err(export::ExportError::Io(e))
                            if e.kind() == std::io::ErrorKind::BrokenPipe =>
                        {
                            return Ok(0)
                        }
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
                    bail!(
                        "no institution with id \"{id}\"; ids that start alike: {}",
                        near.join(", ")
                    );
                }
            }
        }
        Cmd::Run { script, run } => {
            let opts = run.options(op)?;
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match crate::script::run_file(&cli.db, &script, &opts, &mut w) {
                Ok(changes) => {
                    w.flush().ok();
                    if !changes.is_empty() {
                        eprintln!("committed {} change(s):", changes.len());
                        for c in changes {
                            eprintln!("  {c}");
                        }
                    }
                }
                Err(crate::script::RunError::Script(msg)) => {
                    w.flush().ok();
                    eprint!("{msg}");
                    return Ok(exit::DATA);
                }
                Err(crate::script::RunError::Output(e))
                    if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e.into()),
            }
        }
        Cmd::Check { scripts } => {
            // Checking needs the API's names, not data: an empty in-memory-like ledger would do,
            // but a real one is used when present so `institution("…")` ids could be checked later.
            let mut tmp = None;
            let ledger = match Ledger::open_read(&cli.db) {
                Ok(l) => l,
                Err(_) => {
                    let p = tempdir_ledger()?;
                    let l = Ledger::open_read(&p)?;
                    tmp = Some(p);
                    l
                }
            };
            let host = crate::script::ScriptHost::new(
                &ledger,
                chrono::Local::now().date_naive(),
                Default::default(),
                false,
                Default::default(),
            )?;
            let (mut n_err, mut n_warn) = (0, 0);
            for s in &scripts {
                let src = crate::script::read_script(s)?;
                let (errs, warns) =
                    crate::script::check_source(&host, &s.display().to_string(), &src);
                for e in &errs {
                    eprint!("{e}");
                }
                for w in &warns {
                    eprint!("{w}");
                }
                n_err += errs.len();
                n_warn += warns.len();
            }
            eprintln!(
                "checked {} script(s): {n_err} error(s), {n_warn} warning(s)",
                scripts.len()
            );
            drop(host);
            drop(ledger);
            if let Some(p) = tmp {
                let _ = std::fs::remove_file(p);
            }
            if n_err > 0 {
                return Ok(exit::DATA);
            }
        }
        Cmd::Repl { as_of: a } => {
            crate::repl::run(&cli.db, as_of(&a)?, op)?;
        }
        Cmd::Audit { last } => {
            let ledger = open_read(&cli.db)?;
            let entries = ledger.reader()?.audit()?;
            let skip = entries.len().saturating_sub(last);
            for (n, header) in &entries[skip..] {
                println!("#{n} {header}");
            }
        }
        Cmd::Demo { out } => {
            if cli.db.exists() {
                eprintln!("using the existing ledger at {}", cli.db.display());
            } else {
                let t = std::time::Instant::now();
                let s = crate::demo::build(&cli.db, &op)?;
                eprintln!(
                    "built the demo city at {} in {:.1?}: {} institutions, {} inspections, {} findings",
                    cli.db.display(),
                    t.elapsed(),
                    s.institutions,
                    s.inspections,
                    s.findings
                );
            }
            let as_of = crate::demo::report_date();
            let fmt = if std::io::stdout().is_terminal() {
                crate::script::RowFormat::Table
            } else {
                crate::script::RowFormat::Jsonl
            };
            for (name, src) in crate::demo::SAMPLE_SCRIPTS {
                println!("\n== {name} (as of {as_of})");
                std::io::stdout().flush().ok();
                let opts = crate::script::RunOptions {
                    as_of,
                    args: Vec::new(),
                    format: Some(fmt),
                    out_dir: out.clone(),
                    write: false,
                    operator: op.clone(),
                    limits: Default::default(),
                };
                // The scripts are bundled so that `demo` works from any directory.
                let dir =
                    std::env::temp_dir().join(format!("casebook-demo-{}", std::process::id()));
                let path = crate::script::write_under(&dir, name, |w| w.write_all(src.as_bytes()))?;
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                let r = crate::script::run_file(&cli.db, &path, &opts, &mut w);
                w.flush().ok();
                drop(w);
                let _ = std::fs::remove_dir_all(&dir);
                match r {
                    Ok(_) => {}
                    Err(crate::script::RunError::Script(msg)) => {
                        eprint!("{msg}");
                        return Ok(exit::DATA);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(exit::OK)
}
