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
    /// Who is acting, recorded in the audit log (default: $USER, else the account's name).
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
        /// Treat warnings (unknown functions, misspelt properties) as errors: exit 1.
        #[arg(long)]
        strict: bool,
    },
    /// An interactive session for investigations and trying out rules (SPEC §6).
    Repl {
        /// The date the session starts as of (default today; :as-of changes it).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Score every institution with a rule's fn score(inst): score, grade and reasons.
    Score {
        /// The rule: a .rhai script defining fn score(inst) (and optionally fn grade(score)).
        script: PathBuf,
        /// The date decisions are made as of (default today).
        #[arg(long)]
        as_of: Option<String>,
        /// Record the run in the decision log (`casebook runs`).
        #[arg(long)]
        save: bool,
        /// Output format (default: table on a terminal, jsonl when piped).
        #[arg(long, value_enum)]
        format: Option<crate::script::RowFormat>,
        /// A script argument, seen as args.K (repeatable).
        #[arg(long = "arg", value_name = "K=V", value_parser = parse_kv)]
        args: Vec<(String, String)>,
        /// Rows a terminal table shows (lowest scores first).
        #[arg(long, default_value = "50")]
        limit: usize,
    },
    /// The decision log: saved scoring runs.
    Runs {
        #[command(subcommand)]
        cmd: Option<RunsCmd>,
    },
    /// What a rule change would change: grades, a transition matrix, reasons.
    Diff {
        /// The current rule (omit with --run to compare against a saved run).
        old: PathBuf,
        /// The proposed rule.
        new: Option<PathBuf>,
        /// Compare the new rule against this saved run instead of an old script.
        #[arg(long)]
        run: Option<u64>,
        /// The date decisions are made as of (default today).
        #[arg(long)]
        as_of: Option<String>,
        /// Changed institutions to list.
        #[arg(long, default_value = "50")]
        limit: usize,
    },
    /// Black and white lists: names and members.
    Lists {
        #[command(subcommand)]
        cmd: Option<ListsCmd>,
        /// Count who was on each list on this date (default today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Run the test_* functions of rule scripts, each on a scratch ledger of its own.
    Test {
        /// A directory of .rhai scripts, or one script.
        #[arg(default_value = "scripts")]
        dir: PathBuf,
        /// Only tests whose name contains this.
        #[arg(long)]
        filter: Option<String>,
        /// The date tests start as of (set_as_of changes it).
        #[arg(long, default_value = "2019-02-20")]
        as_of: String,
    },
    /// List the audit log: every change ever made, newest last.
    Audit {
        /// Show only the last N entries.
        #[arg(long, default_value = "20")]
        last: usize,
        /// Show what one entry changed: every record, with its value before.
        #[arg(long, value_name = "N")]
        entry: Option<u64>,
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

/// The operator: `--operator`, else `$USER`, else `$LOGNAME`, else the
/// name of the account the process runs as (cron sets neither variable on
/// some systems, and the nightly job's audit entries must still say who).
pub fn operator(o: &Option<String>) -> String {
    let set = |s: &String| !s.trim().is_empty();
    o.clone()
        .filter(set)
        .or_else(|| std::env::var("USER").ok().filter(set))
        .or_else(|| std::env::var("LOGNAME").ok().filter(set))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".into())
}

/// The name of the account the process runs as, from the system's user database.
fn account_name() -> Option<String> {
    // A directory service's entries can be long: grow the buffer while the
    // call says it is too small (ERANGE), up to 1 MiB.
    let mut size = 4096;
    loop {
        // SAFETY: an all-zero `passwd` is a valid value of the plain C struct.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as libc::c_char; size];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r writes only into `pw` and `buf`, whose sizes it
        // is given, and points `found` at `pw` or leaves it null; the name
        // it returns lives in `buf`, read before `buf` is dropped.
        unsafe {
            let rc = libc::getpwuid_r(
                libc::geteuid(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            );
            if rc == libc::ERANGE && size < 1 << 20 {
                size *= 4;
                continue;
            }
            if rc != 0 || found.is_null() || pw.pw_name.is_null() {
                return None;
            }
            let name = std::ffi::CStr::from_ptr(pw.pw_name).to_string_lossy();
            return Some(name.into_owned()).filter(|s| !s.is_empty());
        }
    }
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
        // A reader that stopped reading (`casebook score … | head`) is not
        // an error: stop quietly, as other Unix tools do.
        Err(e) if broken_pipe(&e) => exit::OK,
        Err(e) => {
            // Buffered: an import's error lists every bad row, maybe millions.
            let mut err = std::io::BufWriter::new(std::io::stderr().lock());
            let _ = writeln!(err, "error: {e:#}");
            let _ = err.flush();
            exit_code(&e)
        }
    }
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(is_broken_pipe)
}

/// [`broken_pipe`] for one error, looking inside the I/O errors that wrap
/// another (`io::Error::other`) and the CSV writer's.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    use crate::script::output::pipe_closed;
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return pipe_closed(io);
    }
    if let Some(csv::ErrorKind::Io(io)) = e.downcast_ref::<csv::Error>().map(|c| c.kind()) {
        return pipe_closed(io);
    }
    if let Some(crate::script::RunError::Output(io)) = e.downcast_ref::<crate::script::RunError>() {
        return pipe_closed(io);
    }
    false
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

/// A before-image from the audit log as one line of text.
fn describe_before(kind: &str, b: &[u8]) -> Option<String> {
    if b.is_empty() {
        return None;
    }
    let row = match kind {
        "institution" => crate::codec::decode_institution(b)
            .ok()
            .map(|x| crate::format::institution_row(&x)),
        "finding" => crate::codec::decode_finding(b)
            .ok()
            .map(|x| crate::format::finding_row(&x)),
        "inspection" => crate::codec::decode_inspection(b)
            .ok()
            .map(|x| crate::format::inspection_row(&x)),
        "application" => crate::codec::decode_application(b)
            .ok()
            .map(|x| crate::format::application_row(&x)),
        "course" => crate::codec::decode_course(b)
            .ok()
            .map(|x| crate::format::course_row(&x)),
        _ => return Some(String::from_utf8_lossy(b).into_owned()),
    }?;
    Some(row.join(","))
}

/// Changes a `run --write` lists on stderr before summing up the rest.
const SHOWN_CHANGES: usize = 50;

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
            outln!("created an empty ledger at {}", cli.db.display());
        }
        Cmd::Import {
            kind,
            file,
            dry_run,
        } => {
            crate::alloc::return_memory_promptly();
            let ledger =
                Ledger::open_write_cached(&cli.db, busy_timeout(), import::cache_bytes(&cli.db))?;
            let opts = ImportOptions {
                dry_run,
                progress: true,
                operator: op,
            };
            let r = import::import_file(&ledger, kind, &file, &opts)?;
            let c = r.counts;
            outln!(
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
                    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
                        (Ok(x), Ok(y)) => x == y,
                        _ => false,
                    };
                    if same(p, &cli.db) {
                        bail!("refusing to export over the ledger itself ({}): choose another --output file", p.display());
                    }
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
                Some(text) => out!("{text}"),
                None => {
                    let prefix: String = id.chars().take(4).collect();
                    let near = reader.institution_ids_with_prefix(&prefix, 5)?;
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
                Ok(done) => {
                    drop(w);
                    let changes = done.committed;
                    if !changes.is_empty() {
                        eprintln!("committed {} change(s):", changes.len());
                        // A nightly course check decides half a million courses: the
                        // log gets a sample, the audit log has every one.
                        for c in changes.iter().take(SHOWN_CHANGES) {
                            eprintln!("  {c}");
                        }
                        if changes.len() > SHOWN_CHANGES {
                            eprintln!(
                                "  … and {} more: `casebook audit` lists the run's entry, `casebook audit --entry N` every change",
                                changes.len() - SHOWN_CHANGES
                            );
                        }
                    }
                    for f in &done.files {
                        eprintln!("wrote {}", f.display());
                    }
                }
                Err(crate::script::RunError::Script(msg)) => {
                    w.flush().ok();
                    eprint!("{msg}");
                    return Ok(exit::DATA);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Cmd::Check { scripts, strict } => {
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
            if n_err > 0 || (strict && n_warn > 0) {
                return Ok(exit::DATA);
            }
        }
        Cmd::Repl { as_of: a } => {
            if !crate::repl::run(&cli.db, as_of(&a)?, op)? {
                return Ok(exit::DATA);
            }
        }
        Cmd::Score {
            script,
            as_of: a,
            save,
            format,
            args,
            limit,
        } => {
            let d = as_of(&a)?;
            let ledger = if save {
                open_write(&cli.db)?
            } else {
                open_read(&cli.db)?
            };
            let args = args
                .into_iter()
                .map(|(k, v)| (k.into(), rhai::Dynamic::from(v)))
                .collect();
            let host = crate::decide::scoring_host(&ledger, d, args, Default::default())?;
            let rule = match crate::decide::load_rule(&host, &script) {
                Ok(r) => r,
                Err(crate::script::RunError::Script(m)) => {
                    eprint!("{m}");
                    return Ok(exit::DATA);
                }
                Err(e) => return Err(e.into()),
            };
            let mut ds = match crate::decide::score_all(&host, &[&rule], true) {
                Ok(mut v) => v.remove(0),
                Err(crate::script::RunError::Script(m)) => {
                    eprint!("{m}");
                    return Ok(exit::DATA);
                }
                Err(e) => return Err(e.into()),
            };
            let terminal = std::io::stdout().is_terminal();
            let fmt = format.unwrap_or(if terminal {
                crate::script::RowFormat::Table
            } else {
                crate::script::RowFormat::Jsonl
            });
            let districts = host.host.snap().reader.districts().to_vec();
            drop(host);
            // Saved before anything is printed: what a reader of the output
            // does (stops early, fills a disk) cannot lose the run.
            let run = if save {
                Some(crate::decide::save_run(&ledger, &rule, d, &op, &ds)?)
            } else {
                None
            };
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            let printed = (|| -> std::io::Result<()> {
                if fmt == crate::script::RowFormat::Table {
                    let mut worst = ds.clone();
                    worst.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.id.cmp(&b.id)));
                    crate::decide::write_decisions(&mut w, fmt, &worst, limit)?;
                    let (cols, rows) = crate::decide::distribution(&ds, &districts);
                    writeln!(w, "\nGrades by district (as of {d})")?;
                    writeln!(w, "{}", crate::script::output::table(&cols, &rows))?;
                } else {
                    crate::decide::write_decisions(&mut w, fmt, &ds, usize::MAX)?;
                }
                w.flush()
            })();
            drop(w);
            if let Some(run) = run {
                eprintln!("saved as run {run} in the decision log ({} institutions); `casebook runs show {run}`", ds.len());
            }
            printed?;
            ds.clear();
        }
        Cmd::Runs { cmd } => {
            let ledger = open_read(&cli.db)?;
            let r = ledger.reader()?;
            match cmd {
                None => {
                    let cols: Vec<String> = [
                        "run", "as of", "script", "sha256", "operator", "saved at", "grades",
                    ]
                    .map(String::from)
                    .into();
                    let rows: Vec<Vec<String>> = r
                        .runs()?
                        .iter()
                        .map(|(n, h)| {
                            vec![
                                n.to_string(),
                                h["as_of"].as_str().unwrap_or("").into(),
                                h["script"].as_str().unwrap_or("").into(),
                                h["script_sha256"]
                                    .as_str()
                                    .unwrap_or("")
                                    .chars()
                                    .take(12)
                                    .collect(),
                                h["operator"].as_str().unwrap_or("").into(),
                                h["at"].as_str().unwrap_or("").chars().take(19).collect(),
                                h["grades"]
                                    .as_object()
                                    .map(|m| {
                                        m.iter()
                                            .map(|(g, n)| format!("{g}:{n}"))
                                            .collect::<Vec<_>>()
                                            .join(" ")
                                    })
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect();
                    if rows.is_empty() {
                        outln!("no saved runs yet: `casebook score RULE --save` records one");
                    } else {
                        outln!("{}", crate::script::output::table(&cols, &rows));
                    }
                }
                Some(RunsCmd::Show {
                    run,
                    id,
                    format,
                    limit: limit_rows,
                }) => {
                    drop(r);
                    let (header, mut ds) = match crate::decide::load_run(&ledger, run) {
                        Ok(x) => x,
                        Err(crate::script::RunError::Script(m)) => {
                            eprint!("{m}");
                            return Ok(exit::DATA);
                        }
                        Err(e) => return Err(e.into()),
                    };
                    if let Some(id) = &id {
                        ds.retain(|d| &d.id == id);
                        if ds.is_empty() {
                            bail!("run {run} has no decision for \"{id}\"");
                        }
                    }
                    let fmt = format.unwrap_or(if std::io::stdout().is_terminal() {
                        crate::script::RowFormat::Table
                    } else {
                        crate::script::RowFormat::Jsonl
                    });
                    if fmt == crate::script::RowFormat::Table {
                        outln!(
                            "run {run}: {} as of {} by {} at {} (sha256 {})",
                            header["script"].as_str().unwrap_or(""),
                            header["as_of"].as_str().unwrap_or(""),
                            header["operator"].as_str().unwrap_or(""),
                            header["at"].as_str().unwrap_or(""),
                            header["script_sha256"].as_str().unwrap_or("")
                        );
                    }
                    let mut limit = usize::MAX;
                    if fmt == crate::script::RowFormat::Table {
                        // As `score` shows them: the ones to look at first.
                        ds.sort_by(|a, b| {
                            a.score.total_cmp(&b.score).then_with(|| a.id.cmp(&b.id))
                        });
                        limit = limit_rows;
                    }
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::new(stdout.lock());
                    match crate::decide::write_decisions(&mut w, fmt, &ds, limit) {
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                            return Ok(exit::OK)
                        }
                        r => r?,
                    }
                }
            }
        }
        Cmd::Diff {
            old,
            new,
            run,
            as_of: a,
            limit,
        } => {
            let ledger = open_read(&cli.db)?;
            // Against a saved run, the new rule is scored as of the run's date unless told otherwise.
            let run_date = match (run, &a) {
                (Some(r), None) => ledger
                    .reader()?
                    .runs()?
                    .into_iter()
                    .find(|(n, _)| *n == r)
                    .and_then(|(_, h)| h["as_of"].as_str().and_then(|s| parse_date(s).ok())),
                _ => None,
            };
            let d = match run_date {
                Some(d) => d,
                None => as_of(&a)?,
            };
            let host =
                crate::decide::scoring_host(&ledger, d, Default::default(), Default::default())?;
            let fail = |e: crate::script::RunError| -> Result<i32> {
                match e {
                    crate::script::RunError::Script(m) => {
                        eprint!("{m}");
                        Ok(exit::DATA)
                    }
                    e => Err(e.into()),
                }
            };
            let (new_path, old_path) = match (&new, run) {
                (Some(n), None) => (n.clone(), Some(old.clone())),
                (None, Some(_)) => (old.clone(), None),
                (Some(_), Some(_)) => {
                    eprintln!(
                        "error: give either OLD.rhai NEW.rhai or --run RUN NEW.rhai, not both"
                    );
                    return Ok(exit::USAGE);
                }
                (None, None) => {
                    eprintln!("error: give the new rule too: casebook diff OLD.rhai NEW.rhai (or --run RUN NEW.rhai)");
                    return Ok(exit::USAGE);
                }
            };
            let new_rule = match crate::decide::load_rule(&host, &new_path) {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
            let (old_ds, new_ds) = match (old_path, run) {
                (Some(p), _) => {
                    let old_rule = match crate::decide::load_rule(&host, &p) {
                        Ok(r) => r,
                        Err(e) => return fail(e),
                    };
                    match crate::decide::score_all(&host, &[&old_rule, &new_rule], true) {
                        Ok(mut v) => {
                            let n = v.pop().unwrap();
                            (v.pop().unwrap(), n)
                        }
                        Err(e) => return fail(e),
                    }
                }
                (None, Some(r)) => {
                    let (_, o) = match crate::decide::load_run(&ledger, r) {
                        Ok(x) => x,
                        Err(e) => return fail(e),
                    };
                    match crate::decide::score_all(&host, &[&new_rule], true) {
                        Ok(mut v) => (o, v.remove(0)),
                        Err(e) => return fail(e),
                    }
                }
                (None, None) => unreachable!(),
            };
            outln!(
                "{} against {} as of {d}",
                new_path.display(),
                match run {
                    Some(r) => format!("saved run {r}"),
                    None => old.display().to_string(),
                }
            );
            out!(
                "{}",
                crate::decide::render_diff(&crate::decide::diff(&old_ds, &new_ds), limit)
            );
        }
        Cmd::Lists { cmd, as_of: when } => {
            let ledger = open_read(&cli.db)?;
            let r = ledger.reader()?;
            let entries = r.list_entries("")?;
            match cmd {
                None => {
                    let today = as_of(&when)?;
                    let mut names: Vec<&str> = entries.iter().map(|e| e.list.as_str()).collect();
                    names.sort();
                    names.dedup();
                    if names.is_empty() {
                        outln!("no lists yet: scripts add entries with list_add(NAME, ID, REASON) under --write");
                    }
                    for n in names {
                        let on = entries
                            .iter()
                            .filter(|e| e.list == n && e.on(today))
                            .count();
                        let ever = entries.iter().filter(|e| e.list == n).count();
                        let when_text = match &when {
                            None => "today".to_string(),
                            Some(_) => format!("on {today}"),
                        };
                        outln!("{n}: {on} on the list {when_text}, {ever} entries in its history");
                    }
                }
                Some(ListsCmd::Show {
                    name,
                    as_of: a,
                    history,
                }) => {
                    if !entries.iter().any(|e| e.list == name) {
                        let mut names: Vec<&str> =
                            entries.iter().map(|e| e.list.as_str()).collect();
                        names.sort();
                        names.dedup();
                        eprintln!(
                            "error: no list \"{name}\"; the lists are: {}",
                            if names.is_empty() {
                                "(none yet)".to_string()
                            } else {
                                names.join(", ")
                            }
                        );
                        return Ok(exit::DATA);
                    }
                    let d = as_of(&a)?;
                    let cols: Vec<String> = [
                        "id",
                        "name",
                        "district",
                        "since",
                        "until",
                        "reason",
                        "why it ended",
                        "decided by",
                        "operator",
                    ]
                    .map(String::from)
                    .into();
                    let mut rows = Vec::new();
                    for e in entries
                        .iter()
                        .filter(|e| e.list == name && (history || e.on(d)))
                    {
                        let x = r.institution(&e.institution_id)?;
                        let by = r
                            .audit_entry(e.audit)?
                            .map(|h| {
                                let v: serde_json::Value =
                                    serde_json::from_str(&h).unwrap_or_default();
                                let cmd = v["command"].as_str().unwrap_or("").to_string();
                                let sha: String = v["script_sha256"]
                                    .as_str()
                                    .unwrap_or("")
                                    .chars()
                                    .take(12)
                                    .collect();
                                if sha.is_empty() {
                                    cmd
                                } else {
                                    format!("{cmd} ({sha})")
                                }
                            })
                            .unwrap_or_default();
                        rows.push(vec![
                            e.institution_id.clone(),
                            x.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                            x.as_ref().map(|x| x.district.clone()).unwrap_or_default(),
                            crate::model::fmt_date(e.added),
                            e.removed.map(crate::model::fmt_date).unwrap_or_default(),
                            e.reason.clone(),
                            e.removed_reason.clone().unwrap_or_default(),
                            by,
                            e.operator.clone(),
                        ]);
                    }
                    outln!(
                        "{name} as of {d}: {} {}",
                        rows.len(),
                        if history {
                            "entries (with history)"
                        } else {
                            "on the list"
                        }
                    );
                    if !rows.is_empty() {
                        outln!("{}", crate::script::output::table(&cols, &rows));
                    }
                }
            }
        }
        Cmd::Test {
            dir,
            filter,
            as_of: a,
        } => {
            let d = as_of(&Some(a))?;
            let files = crate::ruletest::script_files(&dir)
                .with_context(|| format!("cannot read {}", dir.display()))?;
            if files.is_empty() {
                bail!("no .rhai scripts in {}", dir.display());
            }
            let outcomes = crate::ruletest::run_tests(&files, filter.as_deref(), d)?;
            // Counted before the report is written: a reader that stops early
            // (`casebook test | head`) must not turn a failure into success.
            let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
            let stdout = std::io::stdout();
            let written = crate::ruletest::report(&outcomes, &mut stdout.lock());
            if failed > 0 {
                return Ok(exit::DATA);
            }
            written?;
        }
        Cmd::Audit {
            last,
            entry: Some(n),
        } => {
            let _ = last;
            let ledger = open_read(&cli.db)?;
            let r = ledger.reader()?;
            let Some(h) = r.audit_entry(n)? else {
                bail!("there is no audit entry #{n}; `casebook audit` lists them");
            };
            outln!("#{n} {h}");
            for c in r.audit_changes(n)? {
                let before = describe_before(&c.kind, &c.before);
                match c.action.as_str() {
                    "insert" => {
                        let ids: Vec<&str> = c.id.lines().collect();
                        outln!("  insert {} {}: {}", ids.len(), c.kind, ids.join(" "));
                    }
                    a => outln!(
                        "  {a} {} {}{}",
                        c.kind,
                        c.id,
                        before
                            .map(|b| format!("\n    before: {b}"))
                            .unwrap_or_default()
                    ),
                }
            }
        }
        Cmd::Audit { last, entry: None } => {
            let ledger = open_read(&cli.db)?;
            let entries = ledger.reader()?.audit()?;
            let skip = entries.len().saturating_sub(last);
            for (n, header) in &entries[skip..] {
                outln!("#{n} {header}");
            }
            if skip > 0 {
                eprintln!(
                    "({skip} earlier {} not shown: --last {} shows them all)",
                    if skip == 1 { "entry" } else { "entries" },
                    entries.len()
                );
            }
        }
        Cmd::Demo { out } => {
            if cli.db.exists() {
                // The demo saves a scoring run, lists and notices into the
                // ledger it runs on: only into one it built itself.
                let first = open_read(&cli.db)?.reader()?.audit_entry(1)?;
                let command = first
                    .as_deref()
                    .and_then(|h| serde_json::from_str::<serde_json::Value>(h).ok())
                    .and_then(|h| h["command"].as_str().map(String::from));
                if command.as_deref() != Some("casebook demo") {
                    eprintln!(
                        "error: {} was not built by `casebook demo`: the demo saves a scoring run, black and white lists and notices into the ledger it runs on, so it leaves this one alone. Point it at a new file, e.g. `casebook demo --db demo.redb`",
                        cli.db.display()
                    );
                    return Ok(exit::DATA);
                }
                eprintln!("using the existing demo ledger at {}", cli.db.display());
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
                // Titles go where a reader looks: stdout on a terminal, stderr when the rows are piped.
                if fmt == crate::script::RowFormat::Table {
                    outln!("\n== {name} (as of {as_of})");
                } else {
                    eprintln!("== {name} (as of {as_of})");
                }
                std::io::stdout().flush().ok();
                let opts = crate::script::RunOptions {
                    as_of,
                    args: Vec::new(),
                    format: Some(fmt),
                    out_dir: out.clone(),
                    write: false,
                    operator: op.clone(),
                    limits: Default::default(),
                    templates: PathBuf::from("templates"),
                    capture_prints: false,
                    max_table_rows: Some(15),
                };
                // The scripts are bundled so that `demo` works from any directory; they are
                // written out beside the outputs, where the decision log can point to them.
                let dir = out
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("demo-out"))
                    .join("scripts");
                let path = crate::script::write_under(&dir, name, |w| w.write_all(src.as_bytes()))?;
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                let r = crate::script::run_file(&cli.db, &path, &opts, &mut w);
                w.flush().ok();
                drop(w);
                match r {
                    Ok(_) => {}
                    Err(crate::script::RunError::Script(msg)) => {
                        eprint!("{msg}");
                        return Ok(exit::DATA);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            return demo_decisions(
                &cli.db,
                out.unwrap_or_else(|| PathBuf::from("demo-out")),
                &op,
                as_of,
            );
        }
    }
    Ok(exit::OK)
}

/// The rules, notices and page `demo` runs after the reports, bundled so the
/// demo works from any directory.
const DEMO_RULES: &[(&str, &str)] = &[
    (
        "credit_score.rhai",
        include_str!("../scripts/credit_score.rhai"),
    ),
    ("blacklist.rhai", include_str!("../scripts/blacklist.rhai")),
    ("whitelist.rhai", include_str!("../scripts/whitelist.rhai")),
    ("notices.rhai", include_str!("../scripts/notices.rhai")),
    (
        "publish_lists.rhai",
        include_str!("../scripts/publish_lists.rhai"),
    ),
];

const DEMO_TEMPLATES: &[(&str, &str)] = &[
    (
        "rectification_notice.txt.j2",
        include_str!("../templates/rectification_notice.txt.j2"),
    ),
    (
        "overdue_reminder.txt.j2",
        include_str!("../templates/overdue_reminder.txt.j2"),
    ),
    (
        "blacklist_notice.txt.j2",
        include_str!("../templates/blacklist_notice.txt.j2"),
    ),
    (
        "lists_page.html.j2",
        include_str!("../templates/lists_page.html.j2"),
    ),
];

/// `demo`, second part: the credit score saved as a run, both lists, the
/// notices and the published page, each saying where its output is.
fn demo_decisions(db: &Path, out: PathBuf, op: &str, as_of: NaiveDate) -> Result<i32> {
    let tmp = out.join("scripts");
    let templates = out.join("templates");
    for (name, src) in DEMO_TEMPLATES {
        crate::script::write_under(&templates, name, |w| w.write_all(src.as_bytes()))?;
    }
    let path = |name: &str| tmp.join(name);
    // The commands the demo suggests must reach this ledger when it is not the default one.
    let db_flag = if db == Path::new("casebook.redb") {
        String::new()
    } else {
        format!(" --db {}", db.display())
    };
    for (name, src) in DEMO_RULES {
        crate::script::write_under(&tmp, name, |w| w.write_all(src.as_bytes()))?;
    }
    // Piped, stdout carries only the JSON Lines of the reports; the rest goes to stderr.
    let terminal = std::io::stdout().is_terminal();
    let say = |t: &str| {
        if terminal {
            outln!("{t}");
        } else {
            eprintln!("{t}");
        }
    };
    let result = (|| -> Result<i32> {
        // The credit rule, saved in the decision log (the white list reads its grades).
        say(&format!(
            "\n== credit_score.rhai: score with reasons, saved in the decision log (as of {as_of})"
        ));
        let ledger = Ledger::open_write(db, busy_timeout())?;
        let host =
            crate::decide::scoring_host(&ledger, as_of, Default::default(), Default::default())?;
        let rule = match crate::decide::load_rule(&host, &path("credit_score.rhai")) {
            Ok(r) => r,
            Err(crate::script::RunError::Script(m)) => {
                eprint!("{m}");
                return Ok(exit::DATA);
            }
            Err(e) => return Err(e.into()),
        };
        let ds = match crate::decide::score_all(&host, &[&rule], false) {
            Ok(mut v) => v.remove(0),
            Err(crate::script::RunError::Script(m)) => {
                eprint!("{m}");
                return Ok(exit::DATA);
            }
            Err(e) => return Err(e.into()),
        };
        let mut worst = ds.clone();
        worst.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.id.cmp(&b.id)));
        let mut table = Vec::new();
        crate::decide::write_decisions(&mut table, crate::script::RowFormat::Table, &worst, 5)?;
        say(String::from_utf8_lossy(&table).trim_end());
        let (cols, rows) = crate::decide::distribution(&ds, host.host.snap().reader.districts());
        say(&crate::script::output::table(&cols, &rows));
        drop(host);
        // Run again on the same ledger, the demo finds its run already saved.
        let saved = ledger.reader()?.runs()?.into_iter().find(|(_, h)| {
            h["script_sha256"].as_str() == Some(rule.sha256.as_str())
                && h["as_of"].as_str() == Some(crate::model::fmt_date(as_of).as_str())
        });
        let run = match saved {
            Some((n, _)) => n,
            None => crate::decide::save_run(&ledger, &rule, as_of, op, &ds)?,
        };
        drop(ledger);
        say(&format!("saved as run {run}: `casebook runs show {run}{db_flag}`, `casebook score {}{db_flag} --as-of {as_of}`", path("credit_score.rhai").display()));

        for (name, title, write, to_out) in [
            ("blacklist.rhai", "the black list", true, false),
            (
                "whitelist.rhai",
                "the white list (grade A/B in the saved run)",
                true,
                false,
            ),
            (
                "notices.rhai",
                "notices: 整改通知书, 逾期催告, 黑名单告知书",
                true,
                true,
            ),
            ("publish_lists.rhai", "the published list page", false, true),
        ] {
            say(&format!("\n== {name}: {title}"));
            let opts = crate::script::RunOptions {
                as_of,
                args: Vec::new(),
                format: Some(crate::script::RowFormat::Jsonl),
                out_dir: to_out.then(|| out.clone()),
                write,
                operator: op.to_string(),
                limits: Default::default(),
                templates: templates.clone(),
                capture_prints: true,
                max_table_rows: None,
            };
            let mut rows = Vec::new();
            let done = match crate::script::run_file(db, &path(name), &opts, &mut rows) {
                Ok(c) => c,
                Err(crate::script::RunError::Script(msg)) => {
                    eprint!("{msg}");
                    return Ok(exit::DATA);
                }
                Err(e) => return Err(e.into()),
            };
            let text = String::from_utf8_lossy(&rows);
            for line in text.lines().filter(|l| !l.starts_with('{')) {
                say(line);
            }
            let n_rows = text.lines().filter(|l| l.starts_with('{')).count();
            say(&format!(
                "{n_rows} row(s), {} change(s) committed to the ledger",
                done.committed.len()
            ));
            for f in &done.files {
                say(&format!("wrote {}", f.display()));
            }
        }
        say(&format!(
            "\noutputs are under {}: notices/ (one file per notice), lists.html. `casebook lists show blacklist{db_flag}`, `casebook show ID{db_flag}` for one register.",
            out.display()
        ));
        Ok(exit::OK)
    })();
    let _ = &tmp;
    result
}
