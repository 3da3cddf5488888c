//! The Rhai scripting host: the API of SPEC §5, `casebook run` and `casebook check`.
//!
//! Dependencies run one way, from the leaves up:
//! - `state`, `errors`: the run's data (snapshot, limits, rows, queued
//!   writes) and how native functions fail; they depend on no other module here
//! - `records`: the record types scripts read, their properties, the date type
//! - `output`: rows as table / CSV / JSON / JSON Lines
//! - `stream`: rows written while the script runs, when nothing needs them all
//! - `par`: `map` over many records on every core
//! - `api`: what scripts see, one file per section
//! - `engine`: the sandboxed engine with the API, and its limits
//! - `writes`: applying queued writes, writing files under `--out`
//! - `compare`: what comparing an enumerated property with text means
//! - `compile`: script functions compiled to closures, the interpreter's twin
//! - `diag`: errors and warnings with file, line, column and a caret

pub mod api;
pub mod compare;
pub mod compile;
pub mod debug;
pub mod diag;
pub mod engine;
pub mod errors;
pub mod output;
pub mod par;
pub mod records;
pub mod state;
pub mod stream;
pub mod writes;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rhai::{Dynamic, Map, AST};

use crate::ledger::{AnyLedger, LedgerError, Operation};

pub use engine::ScriptHost;
pub use output::RowFormat;
pub use state::Limits;
pub use writes::{sha256_hex, write_under};

/// How to run a script.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub as_of: NaiveDate,
    pub args: Vec<(String, String)>,
    /// Rows format; `None` picks table on a terminal, JSON Lines otherwise.
    pub format: Option<RowFormat>,
    /// Where rows go instead of stdout (`-o FILE`), and in which format.
    pub output: Option<crate::sheet::Output>,
    /// Where rows are also written as a file.
    pub out_dir: Option<PathBuf>,
    pub write: bool,
    /// Validate and list the writes (and files) as `write` would make them,
    /// committing and writing nothing (`--dry-run`).
    pub dry_run: bool,
    pub operator: String,
    pub limits: Limits,
    /// Where notice templates are (`--templates`).
    pub templates: PathBuf,
    /// Send `print` output to the rows writer (the demo shows both) instead of to stderr.
    pub capture_prints: bool,
    /// Show at most this many rows in a table (the demo); files under `--out` get all.
    pub max_table_rows: Option<usize>,
    /// Rows may go to the process's standard output as they are emitted
    /// (`casebook run`; see `stream`), when nothing needs them all first.
    pub stream: bool,
}

/// Why a run failed, already rendered for the user.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Script(String),
    #[error("cannot read the script {path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

/// Reads a script file, refusing one too large to parse within `max_memory`
/// bytes: parsing holds the text and its syntax tree, several times its size
/// (a 200 MB string literal took 800 MB), so a script may be an eighth of the
/// limit. Read through a bounded reader: a device or pipe has no size to check.
pub fn read_script(path: &Path, max_memory: usize) -> Result<String, RunError> {
    use std::io::Read;
    let io = |err| RunError::Io {
        path: path.into(),
        err,
    };
    let cap = max_memory / 8;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > cap {
        return Err(RunError::Script(format!(
            "error: the script {} is larger than {} MiB, the most a script may be under the memory limit of {} MiB\n  = help: is the file really a script? Raise the limit with --max-memory MIB if it is\n",
            path.display(),
            cap as f64 / (1 << 20) as f64,
            max_memory >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

fn args_map(args: &[(String, String)]) -> Map {
    args.iter()
        .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
        .collect()
}

/// What a script run did beyond printing its rows.
#[derive(Debug, Default)]
pub struct RunDone {
    /// The changes committed to the ledger (or, in a dry run, that would be),
    /// and the write calls that changed nothing.
    pub applied: writes::Applied,
    /// The files it wrote (notices, pages): not part of the ledger.
    pub files: Vec<PathBuf>,
    /// The files a dry run would have written.
    pub would_write: Vec<PathBuf>,
    /// Charts the script drew that this run's output cannot show (only an
    /// HTML page, `-o FILE.html`, has charts): said on stderr, not dropped in silence.
    pub charts_not_shown: usize,
}

/// Runs a script file against the ledger at `db`; rows go to `stdout`.
pub fn run_file(
    db: &Path,
    script: &Path,
    opts: &RunOptions,
    stdout: &mut dyn Write,
) -> Result<RunDone, RunError> {
    let src = read_script(script, opts.limits.max_memory)?;
    // A dry run goes through the writer's transaction (and its checks), then drops it.
    let ledger = AnyLedger::open(db, opts.write || opts.dry_run)?;
    // Holding the writer, no other run is staging notices: what is staged is
    // a crashed run's, put in place or removed before this run issues any.
    let restored = match (&opts.out_dir, opts.write && !opts.dry_run) {
        (Some(out), true) => writes::recover_notices(&ledger, out)?,
        _ => Vec::new(),
    };
    let snap = std::sync::Arc::new(state::Snapshot::new(ledger.reader()?, opts.as_of));
    let mut h = state::Host::new(
        snap,
        args_map(&opts.args),
        opts.write || opts.dry_run,
        opts.limits.clone(),
    );
    h.dry_run = opts.dry_run.into();
    let script_sha = sha256_hex(&src);
    h.owner = std::sync::RwLock::new(crate::ledger::Owner::Rule {
        name: script
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: script_sha.clone(),
    });
    if opts.capture_prints {
        h.prints = Some(std::sync::Mutex::new(Vec::new()));
    }
    h.notices = opts.out_dir.as_ref().map(|out| crate::notice::NoticeCfg {
        out: out.clone(),
        templates: opts.templates.clone(),
    });
    let mut host = ScriptHost::with_host(h);
    let file = script.display().to_string();
    // Named in the message of a step that passes the heap's ceiling.
    let ceiling = crate::alloc::Ceiling::set(opts.limits.max_memory, &file);
    let (mut ast, orders) = host
        .compile_in(&host.scope(), &src)
        .map_err(|e| RunError::Script(diag::parse_diag_in(&e, &src).render(&file, &src)))?;
    // debug() lines then name the file.
    ast.set_source(file.as_str());
    let ast = host.compile_functions(ast);
    let fmt = opts.format.unwrap_or(if std::io::stdout().is_terminal() {
        RowFormat::Table
    } else {
        RowFormat::Jsonl
    });
    // Rows stream only where nothing needs them all first (see `stream`).
    if opts.stream
        && !opts.write
        && !opts.dry_run
        && opts.output.is_none()
        && opts.out_dir.is_none()
        && !opts.capture_prints
        && opts.max_table_rows.is_none()
        && matches!(fmt, RowFormat::Csv | RowFormat::Jsonl)
    {
        *host.host.stream.lock().unwrap() = Some(stream::RowStream::stdout(fmt));
    }
    let mut scope = host.scope();
    let ran = host.run(&mut scope, &ast);
    let streamed = host.host.stream.lock().unwrap().take();
    let streamed = streamed.filter(|s| s.written > 0);
    let value = match ran {
        Ok(v) => v,
        Err(e) => {
            let mut msg = diag::runtime_diag(&e, &host.limits).render(&file, &src);
            if let Some(s) = streamed {
                msg.push_str(&format!(
                    "note: {} rows were written before the error; that output is incomplete\n",
                    s.written
                ));
                s.fail();
            }
            return Err(RunError::Script(msg));
        }
    };
    drop(ceiling);
    let mut out = host.take_output();
    if let Some(s) = streamed {
        // The rest of the rows after those written as the script ran; the
        // run changed nothing and writes no file.
        match s.finish(&mut out) {
            Err(e) if !output::pipe_closed(&e) => return Err(RunError::Output(e)),
            _ => {
                return Ok(RunDone {
                    charts_not_shown: out.charts.len(),
                    ..RunDone::default()
                })
            }
        }
    }
    let cols = output::columns_for(&out.rows, out.columns.as_deref(), &orders);
    let mut done = RunDone {
        files: restored,
        ..RunDone::default()
    };
    if !matches!(&opts.output, Some(o) if o.format == crate::sheet::OutFormat::Html) {
        done.charts_not_shown = out.charts.len();
    }
    done.applied.dry_run = opts.dry_run;
    if !out.writes.is_empty() {
        let op = Operation {
            operator: opts.operator.clone(),
            command: format!(
                "run {file} --as-of {} {}",
                opts.as_of,
                if opts.dry_run { "--dry-run" } else { "--write" }
            ),
            script_sha256: Some(script_sha),
            file: None,
        };
        done.applied = (ledger.writer())
            .and_then(|w| writes::apply_writes(w, &op, opts.as_of, &out.writes, opts.dry_run))
            .map_err(|e| {
                RunError::Script(format!(
                "error: the script's changes were refused, nothing was written: {e}\n  --> {file}\n"
            ))
            })?;
    }
    let mut unchanged = out.unchanged;
    unchanged.append(&mut done.applied.unchanged);
    done.applied.unchanged = unchanged;
    // Files first, then standard output: a reader of the output that stops
    // early (`| head`) must not cost the files, and the rows file lists every
    // row whatever the terminal shows.
    for (dir, name, text) in &out.files {
        if opts.dry_run {
            done.would_write
                .push(dir.join(writes::safe_file_name(name)));
            continue;
        }
        let p =
            write_under(dir, name, |w| w.write_all(text.as_bytes())).map_err(RunError::Output)?;
        done.files.push(p);
    }
    if let Some(dir) = &opts.out_dir {
        write_rows_file(dir, script, opts, fmt, &cols, &out.rows, &mut done)?;
    }
    if let Some(o) = &opts.output {
        let sheet = output::sheet(&out.rows, &cols, script);
        o.write_sheets(db, &[sheet], &out.charts)
            .map_err(|e| RunError::Output(std::io::Error::other(format!("{e:#}"))))?;
        done.files.push(o.path.clone());
        return Ok(done);
    }
    let shown = (|| -> std::io::Result<()> {
        if let Some(p) = &host.host.prints {
            // The demo's own writer, which shows prints beside the rows.
            for line in p.lock().unwrap().drain(..) {
                writeln!(stdout, "{line}")?;
            }
        }
        match opts.max_table_rows {
            Some(n) if fmt == RowFormat::Table && out.rows.len() > n => {
                output::write_rows(stdout, fmt, &cols, &out.rows, n)?;
                writeln!(
                    stdout,
                    "… {} more rows not shown: casebook run {file} --as-of {} --format csv",
                    out.rows.len() - n,
                    opts.as_of
                )?;
            }
            _ => output::write_rows(stdout, fmt, &cols, &out.rows, usize::MAX)?,
        }
        // A final value is the answer of a script that makes no table; one
        // that set its columns made a (here empty) table, and the value
        // would be a stray line in it.
        if out.rows.is_empty() && cols.is_empty() && !value.is_unit() {
            writeln!(stdout, "{}", output::cell(&value))?;
        } else if out.rows.is_empty() && fmt == RowFormat::Table {
            // Empty is said, not silent: a person at a terminal sees that nothing matched.
            writeln!(stdout, "(0 rows)")?;
        }
        stdout.flush()
    })();
    match shown {
        // The reader went away: what the run did is done all the same, and
        // the caller still reports it (committed changes, files written), so
        // this closed pipe is not left to `cli::exit` as an error.
        Err(e) if output::pipe_closed(&e) => {}
        r => r.map_err(RunError::Output)?,
    }
    Ok(done)
}

/// The rows file under `--out`, named by the script and the as-of date (or,
/// in a dry run, only listed). A run with no rows leaves an earlier file of
/// the same name alone.
fn write_rows_file(
    dir: &Path,
    script: &Path,
    opts: &RunOptions,
    fmt: RowFormat,
    cols: &[String],
    rows: &state::Rows,
    done: &mut RunDone,
) -> Result<(), RunError> {
    let stem = script
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("rows");
    let ext = match fmt {
        RowFormat::Table | RowFormat::Csv => "csv",
        RowFormat::Json => "json",
        RowFormat::Jsonl => "jsonl",
    };
    let file_fmt = if fmt == RowFormat::Table {
        RowFormat::Csv
    } else {
        fmt
    };
    // One file per as-of date: the next night's never replaces this one's.
    let name = format!("{stem}-{}.{ext}", opts.as_of);
    let kept = dir.join(writes::safe_file_name(&name));
    if rows.is_empty() && kept.exists() {
        // A rerun with nothing to add (the notices were issued): the
        // earlier file stays, and no empty one is put beside it.
    } else if opts.dry_run {
        done.would_write
            .push(dir.join(writes::safe_file_name(&name)));
    } else {
        let p = write_under(dir, &name, |w| {
            output::write_rows(w, file_fmt, cols, rows, usize::MAX)
        })
        .map_err(RunError::Output)?;
        done.files.push(p);
    }
    Ok(())
}

/// Names of every function the engine knows (API, standard library, script-defined).
pub fn known_functions(host: &ScriptHost, ast: Option<&AST>) -> std::collections::HashSet<String> {
    let mut names: std::collections::HashSet<String> = host
        .engine
        .gen_fn_signatures(true)
        .into_iter()
        .filter_map(|s| {
            let s = s
                .trim_start_matches("fn ")
                .trim_start_matches("get$")
                .to_string();
            let name = s.split('(').next()?.trim().to_string();
            Some(name.trim_start_matches("get$").to_string())
        })
        .collect();
    for b in [
        "print",
        "debug",
        "type_of",
        "Fn",
        "call",
        "curry",
        "is_shared",
        "is_def_fn",
        "is_def_var",
        "eval",
        "this",
        "throw",
        "sleep",
        "timestamp",
        // `casebook test` adds these for test_* functions.
        "fixture_institution",
        "fixture_inspection",
        "fixture_finding",
        "set_as_of",
        "assert",
        "assert_eq",
    ] {
        names.insert(b.into());
    }
    if let Some(ast) = ast {
        for f in ast.iter_functions() {
            names.insert(f.name.to_string());
        }
    }
    names
}

/// `casebook check`: every syntax error (recovering line by line; a missing
/// `;` is reported once, where it is missing), a value that is no value of
/// the property it is compared with, a date compared with text, then unknown
/// functions and misspelt properties, all errors. Returns (errors, warnings).
pub fn check_source(host: &ScriptHost, file: &str, src: &str) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut text = src.to_string();
    let mut blanked = std::collections::HashSet::new();
    let ast = loop {
        match host.compile(&text) {
            Ok(ast) => break Some(ast),
            Err(e) => {
                let d = diag::parse_diag_in(&e, src);
                errors.push(d.render(file, src));
                // A missing `;` is put in and parsing goes on: one error, not one per line after it.
                if diag::is_missing_semicolon(&e) && d.line > 0 && errors.len() < 20 {
                    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                    if let Some(l) = lines.get_mut(d.line - 1) {
                        let at = l
                            .char_indices()
                            .nth(d.column - 1)
                            .map(|(i, _)| i)
                            .unwrap_or(l.len());
                        l.insert(at, ';');
                        text = lines.join("\n");
                        continue;
                    }
                }
                // Blank the offending line and parse again to find the next error.
                if d.line == 0 || !blanked.insert(d.line) || errors.len() >= 20 {
                    break None;
                }
                text = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| if i + 1 == d.line { "" } else { l })
                    .collect::<Vec<_>>()
                    .join("\n");
                if text.trim().is_empty() {
                    break None;
                }
            }
        }
    };
    let warnings = Vec::new();
    if !errors.is_empty() {
        // Later errors may only be echoes of the first once lines are blanked.
        return (errors, warnings);
    }
    let Some(ast) = ast else {
        return (errors, warnings);
    };
    let known = known_functions(host, Some(&ast));
    let props: std::collections::HashSet<&str> = records::all_props()
        .chain([
            "year", "month", "day", "weekday", "len", "is_empty", "start", "end",
            // the keys of list_entries() maps
            "since", "owner", "mine",
        ])
        .collect();
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        let node = path.last();
        let (name, pos, is_method) = match node {
            Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(f, pos)))
                if f.op_token.is_none() && f.namespace.is_empty() =>
            {
                (f.name.to_string(), *pos, false)
            }
            // A call used as a statement is a statement node, not an expression.
            Some(rhai::ASTNode::Stmt(rhai::Stmt::FnCall(f, pos)))
                if f.op_token.is_none() && f.namespace.is_empty() =>
            {
                (f.name.to_string(), *pos, false)
            }
            Some(rhai::ASTNode::Expr(rhai::Expr::MethodCall(f, pos))) => {
                (f.name.to_string(), *pos, true)
            }
            Some(rhai::ASTNode::Expr(rhai::Expr::Property(p, pos))) => {
                let n = p.2.as_str();
                if !props.contains(n) {
                    if let Some(m) = diag::did_you_mean(n, records::all_props()) {
                        let d = diag::Diagnostic {
                            severity: "error",
                            message: format!("no record has the property .{n}"),
                            line: pos.line().unwrap_or(0),
                            column: pos.position().unwrap_or(0),
                            stack: vec![],
                            help: Some(format!("did you mean .{m}?")),
                        };
                        errors.push(d.render(file, src));
                    }
                }
                return true;
            }
            _ => return true,
        };
        if !known.contains(&name) && !name.starts_with("anon$") {
            let cands = known.iter().map(|s| s.as_str());
            let help = diag::did_you_mean(&name, cands).map(|m| format!("did you mean {m}?"));
            let d = diag::Diagnostic {
                severity: "error",
                message: if is_method {
                    format!("there is no method .{name}() in the script API")
                } else {
                    format!("there is no function {name}() in the script API or this script")
                },
                line: pos.line().unwrap_or(0),
                column: pos.position().unwrap_or(0),
                stack: vec![],
                help,
            };
            errors.push(d.render(file, src));
        }
        true
    });
    // What the run could only find out on the records themselves, found
    // here from the names staff give their variables (i for an institution…).
    let snap = host.host.snap();
    for (pos, message) in compare::lint(&ast, snap.reader.districts()) {
        let d = diag::Diagnostic {
            severity: "error",
            message,
            line: pos.line().unwrap_or(0),
            column: pos.position().unwrap_or(0),
            stack: vec![],
            help: None,
        };
        errors.push(d.render(file, src));
    }
    (errors, warnings)
}
