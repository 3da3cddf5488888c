//! The command line's shape: every subcommand, flag and argument, as clap
//! reads them. Every flag's documentation lives on its definition, so
//! `--help` cannot drift from the code. What a command does is in `cmd/`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::{CommandFactory, Parser, Subcommand};

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
        hide_env_values = true,
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
    /// Export every record of a kind, in the form import reads (stdout, or -o FILE: .csv .jsonl .xlsx .parquet).
    Export(ExportArgs),
    /// Show one institution's whole register (一户一册).
    Show(ShowArgs),
    /// Copy the ledger, as of one moment, to a new file while others go on writing.
    Backup(BackupArgs),
    /// Give the ledger file's free pages back, leaving every record as it
    /// is: for a ledger that grew before imports compacted it. Readers may
    /// stay open; exit 3 when a writer holds the ledger.
    Compact(CompactArgs),
    /// Run a Rhai script against the ledger (the script API: docs/script-api.md).
    Run(RunArgs),
    /// Parse and check a script without running it: syntax errors, unknown functions, misspelt properties.
    Check(CheckArgs),
    /// Every property of every record kind: its type and, for enumerated ones, every value in English and Chinese.
    Schema(SchemaArgs),
    /// An interactive session for investigations and trying out rules (docs/writing-rules.md).
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
    /// List the audit log: every change ever made, newest last (--operator NAME keeps that operator's).
    Audit(AuditArgs),
    /// Check the ledger against damage and tampering: redb's integrity check,
    /// every record's checksum, the audit log's hash chain, and that every
    /// table holds what the log says was written. Exit 0 when all hold, 1
    /// with every failure listed.
    Verify(VerifyArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// Print the man page (`casebook man | man -l -`), or write every page to a directory.
    Man(ManArgs),
    /// How one institution's decision came out: each branch taken and each
    /// deduction with its line and the values that decided it, then the score and grade.
    Explain(ExplainArgs),
    /// Write Rhai definition files (*.d.rhai) of every casebook function and
    /// property, with their doc text, for an editor's Rhai language server.
    Definitions(DefinitionsArgs),
}

/// Flags of `explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The rule: a .rhai script defining fn score(inst) (and optionally fn grade(score)).
    pub script: PathBuf,
    /// The institution's ledger number.
    pub id: String,
    /// The date the decision is made as of (default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Explain this function of the script instead of fn score: one taking an
    /// institution, such as a list's criterion.
    #[arg(long = "fn", value_name = "NAME")]
    pub r#fn: Option<String>,
    /// A script argument, seen as args.K (repeatable).
    #[arg(long = "arg", value_name = "K=V", value_parser = parse_kv)]
    pub args: Vec<(String, String)>,
}

/// Flags of `definitions`.
#[derive(clap::Args, Debug)]
pub struct DefinitionsArgs {
    /// The directory to write the files to (made if missing); point the
    /// editor's Rhai extension at it.
    pub dir: PathBuf,
}

/// Flags of `verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// A chain head written down before (`casebook audit --head` prints it,
    /// as N:HASH or HASH): also prove the log still extends it, which
    /// catches a log rewritten with a new chain.
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
}

/// Flags of `completions`.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell, e.g. `casebook completions bash > ~/.local/share/bash-completion/completions/casebook`.
    pub shell: clap_complete::Shell,
}

/// Flags of `man`.
#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write casebook.1 and one page per subcommand (casebook-run.1, …) into this directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// The version line: the crate's version and the ledger schema it writes and
/// reads, taken from the schema's own constants.
pub fn version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        use crate::ledger::{READS_FROM, SCHEMA_VERSION};
        let mut v = format!(
            "{} (ledger schema {SCHEMA_VERSION}; reads schema {READS_FROM} to {SCHEMA_VERSION} as it is",
            env!("CARGO_PKG_VERSION")
        );
        if READS_FROM > 1 {
            v.push_str(&format!(
                "; a ledger of schema 1 to {} is upgraded when first opened for writing",
                READS_FROM - 1
            ));
        }
        v.push(')');
        v
    })
}

/// The command line's definition, with the version line of [`version`]: what
/// parses the arguments, and what the completions, man pages and docs/commands.md
/// are made from.
pub fn command() -> clap::Command {
    Cli::command().version(version())
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
    /// A .csv (UTF-8, UTF-8 with BOM or GB18030/GBK), .jsonl, .xlsx or .xls file.
    pub file: PathBuf,
    /// The sheet of an .xlsx/.xls file to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Check every row and report errors, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Let an institution have the USCC another one has (a branch of the
    /// same legal entity). Without it such a row is refused, naming both ids:
    /// a USCC identifies one legal entity, so a second one is nearly always a typo.
    #[arg(long)]
    pub allow_shared_uscc: bool,
}

/// Flags of `export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    pub kind: RecordKind,
    /// The format (default: from the -o file's extension, else csv).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Write to this file instead of stdout (written whole, then renamed into place).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// CSV for Excel: a UTF-8 BOM, Chinese headers and values, CRLF row ends.
    #[arg(long)]
    pub excel: bool,
    /// Headers and values in Chinese (zh: 状态, 营业中) or as field names and codes (en).
    /// Default: zh for .xlsx and --excel, en otherwise (Parquet is always en).
    #[arg(long, value_enum)]
    pub headers: Option<Headers>,
}

/// The language of exported headers and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Headers {
    /// Field names and codes: status, operating.
    En,
    /// Chinese headers and values: 状态, 营业中.
    Zh,
}

/// `-o/--output FILE` and `--format`, on every command that prints data.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Format: table, csv, json, jsonl (default: from the -o file's extension;
    /// else a table on a terminal, jsonl when piped); xlsx, parquet and html
    /// need -o.
    #[arg(long, value_enum)]
    pub format: Option<crate::sheet::OutFormat>,
    /// Write to this file instead of stdout: .csv .jsonl .json .xlsx .parquet
    /// .html (written whole, then renamed into place; never over the ledger).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// The file output asked for, if any.
    pub fn file(&self) -> Result<Option<crate::sheet::Output>> {
        crate::sheet::Output::new(self.output.as_deref(), self.format)
    }
}

/// Flags of `backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The new file to write (never an existing one). Restore by copying it
    /// back over the ledger while nothing else has the ledger open.
    pub dest: PathBuf,
}

/// Flags of `compact` (none: it compacts the ledger at --db).
#[derive(clap::Args, Debug)]
pub struct CompactArgs {}

/// Flags of `show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The institution's ledger number.
    pub id: String,
    /// Show lifecycles as of this date (default today).
    #[arg(long)]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// What `run --help` ends with: a nightly job's wrapper acts on the exit code.
const RUN_EXIT_CODES: &str = "\
Exit codes:
  0  done; with --dry-run, nothing was committed (the changes are listed on stderr)
  1  the script failed or its changes were refused: nothing was committed
  2  a usage error: an unknown flag or value
  3  the ledger stayed busy (another process was writing): nothing was done, try again later";

/// Flags of `run`.
#[derive(clap::Args, Debug)]
#[command(after_help = RUN_EXIT_CODES)]
pub struct RunArgs {
    /// The .rhai script.
    pub script: PathBuf,
    #[command(flatten)]
    pub run: RunFlags,
    /// After the run, print on stderr the time and calls of each script
    /// function and the 10 most expensive lines with their share of the run.
    #[arg(long)]
    pub profile: bool,
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
    /// Also list each script function, and the top-level statements, and
    /// how `run` runs them: compiled to native code, or interpreted and why
    /// (on stdout).
    #[arg(long)]
    pub plan: bool,
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
    /// Record the run in the decision log (`casebook runs`). A run the same
    /// as a saved one (same rule text, date, arguments and ledger state) is
    /// not saved again: it says `same as run N`.
    #[arg(long)]
    pub save: bool,
    /// With --save: save even when the same run is saved already.
    #[arg(long, requires = "save")]
    pub force: bool,
    /// With --save: score and say what would be saved, but save nothing.
    #[arg(long, requires = "save")]
    pub dry_run: bool,
    #[command(flatten)]
    pub out: OutputArgs,
    /// A script argument, seen as args.K (repeatable).
    #[arg(long = "arg", value_name = "K=V", value_parser = parse_kv)]
    pub args: Vec<(String, String)>,
    /// Rows a terminal table shows (lowest scores first).
    #[arg(long, default_value = "50")]
    pub limit: usize,
    /// After scoring, print on stderr the time and calls of each script
    /// function and the 10 most expensive lines with their share of the run.
    #[arg(long)]
    pub profile: bool,
}

/// Flags of `runs`.
#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub cmd: Option<RunsCmd>,
    #[command(flatten)]
    pub out: OutputArgs,
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
    #[command(flatten)]
    pub out: OutputArgs,
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
    /// Directories of .rhai scripts, or scripts.
    #[arg(default_value = "scripts")]
    pub dir: Vec<PathBuf>,
    /// Only tests whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// The date tests start as of (set_as_of changes it).
    #[arg(long, default_value = "2019-02-20")]
    pub as_of: String,
    /// Also report, per file, the share of its rule functions' statements the
    /// tests ran, the lines they never ran and the functions no test reaches.
    #[arg(long)]
    pub coverage: bool,
    /// With --coverage: `json` prints the coverage per line as JSON on stdout
    /// (for an editor) and the test results on stderr.
    #[arg(long, value_enum, default_value = "text", requires = "coverage")]
    pub format: CoverageFormat,
}

/// How `test --coverage` reports.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoverageFormat {
    Text,
    Json,
}

/// Flags of `audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Show only the last N entries (of those the filters keep).
    #[arg(long, default_value = "20")]
    pub last: usize,
    /// Show what one entry changed: each record's fields before and after, side by side.
    #[arg(long, value_name = "N")]
    pub entry: Option<u64>,
    /// Print the head of the audit log's hash chain (N:HASH), to write down
    /// or send elsewhere; `casebook verify --head N:HASH` later proves the
    /// log still extends it.
    #[arg(long, conflicts_with = "entry")]
    pub head: bool,
    /// Only entries that changed this institution (or its findings, inspections, applications, courses).
    #[arg(long, value_name = "ID")]
    pub institution: Option<String>,
    /// Only entries made by this operator: the global `--operator NAME`,
    /// which names who is acting elsewhere (audit only reads).
    #[arg(skip)]
    pub operator: Option<String>,
    /// Only entries made on or after this date.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
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
    /// Rows format (default: from the -o file's extension; else a table on a
    /// terminal, jsonl when piped); xlsx, parquet and html need -o.
    #[arg(long, value_enum)]
    pub format: Option<crate::sheet::OutFormat>,
    /// Write the rows to this file instead of stdout: .csv .jsonl .json .xlsx
    /// .parquet, or .html for a report page with the script's charts.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the rows as a file in this directory, named SCRIPT-ASOF.EXT
    /// (notices and pages go here too). A file already there is never
    /// replaced: different text gets the next free name, NAME.2.EXT.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Allow the script to change the ledger (one transaction, audited).
    #[arg(long, conflicts_with = "dry_run")]
    pub write: bool,
    /// Check every change the script asks for and list it as --write would
    /// make it, but commit nothing and write no file (exit 0).
    #[arg(long)]
    pub dry_run: bool,
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
            format: match self.format {
                Some(f) if self.output.is_none() => Some(
                    crate::sheet::OutFormat::for_stdout(Some(f))?
                        .row_format()
                        .expect("a text format"),
                ),
                _ => None,
            },
            output: crate::sheet::Output::new(self.output.as_deref(), self.format)?,
            out_dir: self.out.clone(),
            write: self.write,
            dry_run: self.dry_run,
            operator,
            templates: self.templates.clone(),
            capture_prints: false,
            max_table_rows: None,
            stream: true,
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
        /// Rows a terminal table shows (lowest scores first).
        #[arg(long, default_value = "50")]
        limit: usize,
        #[command(flatten)]
        out: OutputArgs,
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
        #[command(flatten)]
        out: OutputArgs,
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
