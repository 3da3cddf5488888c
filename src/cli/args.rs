//! The command line's shape: every subcommand, flag and argument, as clap
//! reads them. Every flag's documentation lives on its definition, so
//! `--help` cannot drift from the code. What a command does is in `cmd/`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::export::ExportFormat;
use crate::model::parse_date;
use crate::model::RecordKind;

/// The environment and exit codes, at the end of `casebook --help`: a
/// nightly job's wrapper needs both.
const ENVIRONMENT: &str = "\
Environment:
  CASEBOOK_DB            the ledger file when --db is not given
  CASEBOOK_BUSY_TIMEOUT  seconds a writing command waits while another process
                         writes to the ledger, then it exits 3 (default 10)

Exit codes:
  0  done (also when the reader of the output stopped early)
  1  an error: bad data, a failed script, a missing or unreadable ledger
  2  a usage error: an unknown command, flag or value
  3  the ledger stayed busy: try again later";

/// casebook — the supervision ledger of off-campus training institutions.
#[derive(Parser, Debug)]
#[command(name = "casebook", version, about, long_about = None, after_help = ENVIRONMENT)]
pub struct Cli {
    /// The ledger file.
    #[arg(
        long,
        global = true,
        env = "CASEBOOK_DB",
        default_value = "casebook.redb"
    )]
    pub db: PathBuf,
    /// Who is acting, recorded in the audit log (default: $USER, else the account's name).
    #[arg(long, global = true)]
    pub operator: Option<String>,
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands; each variant's doc comment is its line in `--help`.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Build the demo city ledger (if none exists at --db) and show what it holds.
    Demo(DemoArgs),
    /// Create an empty ledger configured with Guangzhou's 11 districts.
    Init(InitArgs),
    /// Import a CSV or JSON Lines file; one file is one transaction.
    Import(ImportArgs),
    /// Export every record of a kind to stdout, in the form import reads.
    Export(ExportArgs),
    /// Show one institution's whole register (一户一册).
    Show(ShowArgs),
    /// Copy the ledger, as of one moment, to a new file while others go on writing.
    Backup(BackupArgs),
    /// Run a Rhai script against the ledger (SPEC §5).
    Run(RunArgs),
    /// Parse and check a script without running it: syntax errors, unknown functions, misspelt properties.
    Check(CheckArgs),
    /// Every property of every record kind: its type and, for enumerated ones, every value in English and Chinese.
    Schema(SchemaArgs),
    /// An interactive session for investigations and trying out rules (SPEC §6).
    Repl(ReplArgs),
    /// Score every institution with a rule's fn score(inst): score, grade and reasons.
    Score(ScoreArgs),
    /// The decision log: saved scoring runs.
    Runs(RunsArgs),
    /// What a rule change would change: grades, a transition matrix, reasons.
    Diff(DiffArgs),
    /// Black and white lists: names and members.
    Lists(ListsArgs),
    /// Run the test_* functions of rule scripts, each on a scratch ledger of its own.
    Test(TestArgs),
    /// List the audit log: every change ever made, newest last.
    Audit(AuditArgs),
}

/// Flags of `demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Where sample scripts write their files.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `init` takes no flags of its own.
#[derive(clap::Args, Debug)]
pub struct InitArgs {}

/// Flags of `import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// What the file holds.
    pub kind: RecordKind,
    /// A .csv (UTF-8, UTF-8 with BOM or GB18030/GBK) or .jsonl file.
    pub file: PathBuf,
    /// Check every row and report errors, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Flags of `export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    pub kind: RecordKind,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Flags of `backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The new file to write (never an existing one). Restore by copying it
    /// back over the ledger while nothing else has the ledger open.
    pub dest: PathBuf,
}

/// Flags of `show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The institution's ledger number.
    pub id: String,
    /// Show lifecycles as of this date (default today).
    #[arg(long)]
    pub as_of: Option<String>,
}

/// Flags of `run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The .rhai script.
    pub script: PathBuf,
    #[command(flatten)]
    pub run: RunFlags,
}

/// Flags of `check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The .rhai scripts.
    #[arg(required = true)]
    pub scripts: Vec<PathBuf>,
    /// Treat warnings (unknown functions, misspelt properties) as errors: exit 1.
    #[arg(long)]
    pub strict: bool,
}

/// Flags of `schema`.
#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// Only this kind: institution, finding, inspection, application or course.
    pub kind: Option<String>,
}

/// Flags of `repl`.
#[derive(clap::Args, Debug)]
pub struct ReplArgs {
    /// The date the session starts as of (default today; :as-of changes it).
    #[arg(long)]
    pub as_of: Option<String>,
}

/// Flags of `score`.
#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// The rule: a .rhai script defining fn score(inst) (and optionally fn grade(score)).
    pub script: PathBuf,
    /// The date decisions are made as of (default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Record the run in the decision log (`casebook runs`).
    #[arg(long)]
    pub save: bool,
    /// Output format (default: table on a terminal, jsonl when piped).
    #[arg(long, value_enum)]
    pub format: Option<crate::script::RowFormat>,
    /// A script argument, seen as args.K (repeatable).
    #[arg(long = "arg", value_name = "K=V", value_parser = parse_kv)]
    pub args: Vec<(String, String)>,
    /// Rows a terminal table shows (lowest scores first).
    #[arg(long, default_value = "50")]
    pub limit: usize,
}

/// Flags of `runs`.
#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub cmd: Option<RunsCmd>,
}

/// Flags of `diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The current rule (omit with --run to compare against a saved run).
    pub old: PathBuf,
    /// The proposed rule.
    pub new: Option<PathBuf>,
    /// Compare the new rule against this saved run instead of an old script.
    #[arg(long)]
    pub run: Option<u64>,
    /// The date decisions are made as of (default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Changed institutions to list.
    #[arg(long, default_value = "50")]
    pub limit: usize,
}

/// Flags of `lists`.
#[derive(clap::Args, Debug)]
pub struct ListsArgs {
    #[command(subcommand)]
    pub cmd: Option<ListsCmd>,
    /// Count who was on each list on this date (default today).
    #[arg(long)]
    pub as_of: Option<String>,
}

/// Flags of `test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// A directory of .rhai scripts, or one script.
    #[arg(default_value = "scripts")]
    pub dir: PathBuf,
    /// Only tests whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// The date tests start as of (set_as_of changes it).
    #[arg(long, default_value = "2019-02-20")]
    pub as_of: String,
}

/// Flags of `audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Show only the last N entries.
    #[arg(long, default_value = "20")]
    pub last: usize,
    /// Show what one entry changed: every record, with its value before.
    #[arg(long, value_name = "N")]
    pub entry: Option<u64>,
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
    /// Where notice templates are (notice(KIND, …) renders KIND.txt.j2 from here).
    #[arg(long, default_value = "templates")]
    pub templates: PathBuf,
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
            templates: self.templates.clone(),
            capture_prints: false,
            max_table_rows: None,
            limits: crate::script::Limits {
                timeout: std::time::Duration::from_secs_f64(self.timeout),
                max_operations: self.max_operations,
                max_memory: self.max_memory << 20,
                ..Default::default()
            },
        })
    }
}

/// The subcommands of `runs`.
#[derive(Subcommand, Debug)]
pub enum RunsCmd {
    /// One saved run: its header and decisions.
    Show {
        /// The run's number (`casebook runs` lists them).
        run: u64,
        /// Only this institution.
        #[arg(long)]
        id: Option<String>,
        /// Output format: a table on a terminal, JSON Lines when piped.
        #[arg(long, value_enum)]
        format: Option<crate::script::RowFormat>,
        /// Rows a terminal table shows (lowest scores first).
        #[arg(long, default_value = "50")]
        limit: usize,
    },
}

/// The subcommands of `lists`.
#[derive(Subcommand, Debug)]
pub enum ListsCmd {
    /// Who was on a list on a date, with reason, since when and who decided.
    Show {
        name: String,
        /// Who was on the list on this date (default today).
        #[arg(long)]
        as_of: Option<String>,
        /// Also show entries that have ended.
        #[arg(long)]
        history: bool,
    },
}

/// Parses `--as-of`, defaulting to today.
pub fn as_of(s: &Option<String>) -> Result<NaiveDate> {
    match s {
        None => Ok(chrono::Local::now().date_naive()),
        Some(s) => parse_date(s)
            .map_err(|why| crate::cli::exit::UsageError(format!("--as-of \"{s}\" {why}")).into()),
    }
}
