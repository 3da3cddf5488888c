//! `casebook repl`: the investigator's interactive session (SPEC §6).
//!
//! One Rhai scope lives for the whole session, and every function defined in
//! an entry is kept (the session AST accumulates functions and drops its
//! statements after each evaluation). Reads are as of the session's date and
//! see the ledger as committed when the entry started. The ledger is opened
//! read-only, so a REPL never blocks a nightly `casebook run` or import;
//! `:write on` reopens it for writing and then holds the writer lock until
//! `:write off`.
//!
//! Here: the session and its loop. The `:` commands are in `commands`, the
//! line editor's completion, hints, highlighting and validation in `editor`,
//! `:help` in `help`, and how values are shown in `display`.

pub mod commands;
pub mod debugger;
pub mod display;
pub mod editor;
pub mod help;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;
use rhai::{Map, Scope, AST};
use rustyline::Editor;

use crate::ledger::{AnyLedger, Operation};
use crate::script::{diag, output, writes, Limits, RowFormat, ScriptHost};
use display::render_ordered;
use editor::ReplHelper;

/// The history file: `$CASEBOOK_HISTORY`, else the user's data directory.
pub fn history_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CASEBOOK_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var("XDG_DATA_HOME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(base.join("casebook").join("history"))
}

/// One investigator's session: the ledger, the script host and the Rhai
/// scope and functions that live from entry to entry, and the settings the
/// `:` commands change.
struct Session {
    db: PathBuf,
    ledger: AnyLedger,
    host: ScriptHost,
    scope: Scope<'static>,
    lib: AST,
    fmt: RowFormat,
    timing: bool,
    write: bool,
    /// Under `:write preview`: statements' writes are checked and listed, never committed.
    preview: bool,
    operator: String,
    names: Arc<Mutex<Vec<String>>>,
    /// Key orders of the map literals of every entry so far, so that a map
    /// built by a function defined earlier still shows its keys as written.
    orders: Vec<Vec<String>>,
    /// An entry failed: a session fed from a file or a pipe then exits 1,
    /// as sqlite3 does, so a job that runs one can tell.
    failed: bool,
    /// Where results go instead of the terminal (`:output FILE`), and whether
    /// only for the next entry (`:once FILE`).
    redirect: Option<(std::fs::File, bool)>,
    /// `:break`'s break points, and whether the debugger is attached yet.
    breaker: Arc<debugger::Breaker>,
    debugging: bool,
}

impl Session {
    /// The prompt shows the session's date, and whether writes are on.
    fn prompt(&self) -> String {
        format!(
            "casebook {}{}> ",
            self.host.as_of(),
            match (self.write, self.preview) {
                (true, true) => " [preview]",
                (true, false) => " [write]",
                _ => "",
            }
        )
    }

    /// Tells completion the variables and functions the session now has.
    fn refresh_names(&self) {
        let mut v: Vec<String> = self.scope.iter().map(|(n, _, _)| n.to_string()).collect();
        v.extend(self.lib.iter_functions().map(|f| f.name.to_string()));
        *self.names.lock().unwrap() = v;
    }

    /// Evaluates one entry; errors are printed, never fatal.
    fn eval(&mut self, src: &str, file: &str, out: &mut dyn Write) {
        // A fresh snapshot per entry: the REPL sees what others committed meanwhile.
        if let Err(e) = self.host.set_snapshot(&self.ledger, self.host.as_of()) {
            self.error(out, format_args!("{e}"));
            return;
        }
        let t = Instant::now();
        let (ast, orders) = match self.host.compile_in(&self.scope, src) {
            Ok(a) => a,
            Err(e) => {
                let _ = write!(out, "{}", diag::parse_diag(&e).render(file, src));
                self.failed = true;
                return;
            }
        };
        for o in orders {
            if !self.orders.contains(&o) {
                self.orders.push(o);
            }
        }
        let saved = self.lib.clone();
        let scope_len = self.scope.len();
        self.lib += ast;
        let r = self.host.run(&mut self.scope, &self.lib);
        // Keep the functions, drop the statements, so the next entry does not run them again.
        self.lib.clear_statements();
        let result = self.host.take_output();
        match r {
            Err(e) => {
                self.failed = true;
                self.lib = saved.merge(&self.lib.clone_functions_only());
                // Past the memory limit, the variables this entry made are what holds
                // the memory: drop them, or every later entry would hit the limit too.
                if matches!(e.unwrap_inner(), rhai::EvalAltResult::ErrorTerminated(t, _) if t.to_string().starts_with("memory:"))
                {
                    self.scope.rewind(scope_len);
                    let _ = writeln!(
                        out,
                        "(the variables this entry created were dropped to free the memory)"
                    );
                }
                let _ = write!(
                    out,
                    "{}",
                    diag::runtime_diag(&e, &self.host.limits).render(file, src)
                );
                if !result.writes.is_empty() {
                    let _ = writeln!(out, "(nothing was written)");
                }
            }
            Ok(v) => {
                if !result.rows.is_empty() {
                    let cols =
                        output::columns_for(&result.rows, result.columns.as_deref(), &self.orders);
                    let _ = output::write_rows(out, self.fmt, &cols, &result.rows, usize::MAX);
                }
                let text = render_ordered(&v, self.fmt, &self.orders);
                if !text.is_empty() {
                    let _ = writeln!(out, "{text}");
                }
                if !result.charts.is_empty() {
                    // Checked and drawn, but a terminal cannot show it: said, not dropped.
                    let _ = writeln!(
                        out,
                        "({} chart(s) drawn; charts appear only on an HTML report: casebook run SCRIPT -o FILE.html)",
                        result.charts.len()
                    );
                }
                if !result.writes.is_empty() || !result.unchanged.is_empty() {
                    let op = Operation {
                        operator: self.operator.clone(),
                        command: format!("repl: {}", src.trim()),
                        script_sha256: Some(crate::script::sha256_hex(src)),
                        file: None,
                    };
                    let preview = self.preview;
                    let applied = if result.writes.is_empty() {
                        Ok(writes::Applied {
                            dry_run: preview,
                            ..Default::default()
                        })
                    } else {
                        (self.ledger.writer()).and_then(|w| {
                            writes::apply_writes(w, &op, self.host.as_of(), &result.writes, preview)
                        })
                    };
                    match applied {
                        Ok(mut a) => {
                            let mut unchanged = result.unchanged;
                            unchanged.append(&mut a.unchanged);
                            a.unchanged = unchanged;
                            let _ = write!(out, "{}", a.summary(usize::MAX));
                        }
                        Err(e) => self.error(
                            out,
                            format_args!("the changes were refused, nothing was written: {e}"),
                        ),
                    }
                }
            }
        }
        if self.timing {
            let _ = writeln!(out, "({:.1?})", t.elapsed());
        }
        self.refresh_names();
    }

    /// Says what went wrong with an entry, and remembers that one did.
    fn error(&mut self, out: &mut dyn Write, what: std::fmt::Arguments) {
        self.failed = true;
        let _ = writeln!(out, "error: {what}");
    }
}

/// Runs the REPL on `db` until `:quit` or Ctrl-D. Returns whether every
/// entry succeeded, or true on a terminal (where failures were seen).
pub fn run(db: &Path, as_of: NaiveDate, operator: String) -> Result<bool> {
    let ledger = AnyLedger::open(db, false)?;
    let host = ScriptHost::new(&ledger, as_of, Map::new(), false, Limits::default())?;
    // What a person adds to a list in the REPL is theirs.
    *host.host.owner.write().unwrap() = crate::ledger::Owner::Person {
        name: operator.clone(),
    };
    let colour = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let names = Arc::new(Mutex::new(Vec::new()));
    let helper = ReplHelper::new(host.host.clone(), names.clone(), colour);
    // Ctrl-C while a statement runs stops that statement, not the session.
    let cancel = host.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));
    let scope = host.scope();
    let host_ref = host.host.clone();
    let mut s = Session {
        db: db.to_path_buf(),
        ledger,
        host,
        scope,
        lib: AST::empty(),
        fmt: RowFormat::Table,
        timing: false,
        write: false,
        preview: false,
        operator,
        names,
        orders: Vec::new(),
        failed: false,
        redirect: None,
        breaker: Arc::new(debugger::Breaker::new(host_ref)),
        debugging: false,
    };
    s.refresh_names();
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)?
        .build();
    let mut rl: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        Editor::with_config(config)?;
    rl.set_helper(Some(helper));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    let (n, _, _) = s.ledger.reader()?.counts()?;
    println!(
        "casebook repl on {} ({n} institutions). :help for help, Ctrl-D to leave.",
        db.display()
    );
    let stdout = std::io::stdout();
    loop {
        match rl.readline(&s.prompt()) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                if let Some(h) = &hist {
                    if let Some(dir) = h.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = rl.append_history(h);
                }
                let mut out = stdout.lock();
                // `:output`/`:once` themselves answer on the terminal; every
                // other entry's results go where they say.
                let to_file = !commands::is_redirect(&line);
                let mut redirect = if to_file { s.redirect.take() } else { None };
                let w: &mut dyn Write = match &mut redirect {
                    Some((f, _)) => f,
                    None => &mut out,
                };
                if line.trim_start().starts_with(':') {
                    if !s.command(&line, w) {
                        break;
                    }
                } else {
                    s.host.cancel.store(false, Ordering::Relaxed);
                    s.eval(&line, "<repl>", w);
                }
                let _ = w.flush();
                // After a `:once` entry, back to the terminal.
                if let Some((f, false)) = redirect {
                    s.redirect.get_or_insert((f, false));
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(std::io::stdin().is_terminal() || !s.failed)
}
