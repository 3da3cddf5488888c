//! The REPL's `:` commands: what they are (with their help text) and what
//! each does to the session.

use std::io::Write;
use std::sync::atomic::Ordering;

use super::help::help_text;
use super::Session;
use crate::ledger::AnyLedger;
use crate::script::RowFormat;

/// REPL commands with their help text.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        ":help [NAME] — the API, or one function or property",
    ),
    (
        ":load",
        ":load FILE — run a script into this session (its functions and variables stay)",
    ),
    (
        ":as-of",
        ":as-of DATE — see the ledger as of another date (shown in the prompt)",
    ),
    (
        ":show",
        ":show ID — the register of one institution (一户一册)",
    ),
    (
        ":format",
        ":format table|json|jsonl|csv — how results are shown",
    ),
    (":timing", ":timing on|off — time each evaluation"),
    (
        ":write",
        ":write on|off|preview — allow statements to change the ledger (each change is committed at once and listed); preview checks and lists the changes but commits nothing",
    ),
    (
        ":output",
        ":output FILE — send results to FILE from now on (:output alone: back to the terminal)",
    ),
    (
        ":once",
        ":once FILE — send the next entry's results to FILE",
    ),
    (
        ":break",
        ":break FILE:LINE — stop there when a function of a :load-ed file gets there, then step, next, locals or continue (:break lists them, :break clear removes them)",
    ),
    (":quit", ":quit — leave (Ctrl-D too)"),
];

/// Whether `line` is `:output` or `:once`, which answer on the terminal.
pub(super) fn is_redirect(line: &str) -> bool {
    matches!(line.split_whitespace().next(), Some(":output" | ":once"))
}

impl Session {
    /// Runs a `:command`; returns false to leave.
    pub(super) fn command(&mut self, line: &str, out: &mut dyn Write) -> bool {
        let mut parts = line.trim().splitn(2, char::is_whitespace);
        let cmd = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("").trim();
        match cmd {
            ":quit" | ":q" | ":exit" => return false,
            ":help" | ":h" => {
                let _ = writeln!(
                    out,
                    "{}",
                    help_text(arg, self.host.host.snap().reader.districts())
                );
            }
            ":as-of" => self.cmd_as_of(arg, out),
            ":show" => self.cmd_show(arg, out),
            ":format" => self.cmd_format(arg, out),
            ":timing" => self.cmd_timing(arg, out),
            ":write" => self.cmd_write(arg, out),
            ":load" => self.cmd_load(arg, out),
            ":break" => self.cmd_break(arg, out),
            ":output" => self.cmd_output(arg, false, out),
            ":once" => self.cmd_output(arg, true, out),
            _ => {
                self.failed = true;
                let _ = writeln!(out, "unknown command {cmd}; :help lists them");
            }
        }
        true
    }

    /// `:as-of DATE`: a new snapshot as of another date.
    fn cmd_as_of(&mut self, arg: &str, out: &mut dyn Write) {
        match crate::model::parse_date(arg) {
            Ok(d) => match self.host.set_snapshot(&self.ledger, d) {
                Ok(()) => {
                    let _ = writeln!(
                        out,
                        "now as of {d} (records already held in variables keep the date they were read on: read them again)"
                    );
                }
                Err(e) => {
                    self.error(out, format_args!("{e}"));
                }
            },
            Err(why) => {
                self.error(out, format_args!(":as-of \"{arg}\" {why}"));
            }
        }
    }

    /// `:show ID`: one institution's register as of the session's date.
    fn cmd_show(&mut self, arg: &str, out: &mut dyn Write) {
        if arg.is_empty() {
            self.error(
                out,
                format_args!(":show ID — give an institution's ledger number"),
            );
            return;
        }
        let r = self
            .ledger
            .reader()
            .and_then(|r| crate::render::register::render(&r, arg, self.host.as_of()));
        match r {
            Ok(Some(t)) => {
                let _ = write!(out, "{t}");
            }
            Ok(None) => {
                self.error(out, format_args!("no institution with id \"{arg}\""));
            }
            Err(e) => {
                self.error(out, format_args!("{e}"));
            }
        }
    }

    /// `:format [table|json|jsonl|csv]`: says or changes how results are shown.
    fn cmd_format(&mut self, arg: &str, out: &mut dyn Write) {
        if arg.is_empty() {
            let _ = writeln!(
                out,
                "results are shown as {}; :format table|json|jsonl|csv to change",
                format!("{:?}", self.fmt).to_lowercase()
            );
            return;
        }
        self.fmt = match arg {
            "table" => RowFormat::Table,
            "json" => RowFormat::Json,
            "csv" => RowFormat::Csv,
            "jsonl" => RowFormat::Jsonl,
            _ => {
                self.error(out, format_args!(":format table, json, jsonl or csv"));
                return;
            }
        };
    }

    /// `:timing [on|off]`: says or changes whether each evaluation is timed.
    fn cmd_timing(&mut self, arg: &str, out: &mut dyn Write) {
        match arg {
            "" => {
                let on = if self.timing { "on" } else { "off" };
                let _ = writeln!(out, "timing is {on}; :timing on|off to change");
            }
            "on" => self.timing = true,
            "off" => self.timing = false,
            _ => {
                self.error(out, format_args!(":timing on or off"));
            }
        }
    }

    /// `:write [on|off|preview]`: says whether writes are on, or reopens the
    /// ledger for writing (holding the writer lock) or for reading only.
    /// `preview` holds the writer too: its changes go through the same
    /// transaction as `on`, which is then dropped.
    fn cmd_write(&mut self, arg: &str, out: &mut dyn Write) {
        if arg.is_empty() {
            let on = match (self.write, self.preview) {
                (true, true) => "previewed (checked and listed, never committed)",
                (true, false) => "on",
                _ => "off",
            };
            let _ = writeln!(out, "writes are {on}; :write on|off|preview to change");
            return;
        }
        let (want, preview) = match arg {
            "on" => (true, false),
            "off" => (false, false),
            "preview" => (true, true),
            _ => {
                self.error(out, format_args!(":write on, off or preview"));
                return;
            }
        };
        if want != self.write {
            match AnyLedger::open(&self.db, want) {
                // Only one handle per process: the old one is closed first by replacement.
                Ok(l) => self.ledger = l,
                Err(e) => {
                    self.error(out, format_args!("{e}"));
                    return;
                }
            }
        }
        self.write = want;
        self.preview = preview;
        self.host.host.write.store(want, Ordering::Relaxed);
        self.host.host.dry_run.store(preview, Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{}",
            match (want, preview) {
                (true, true) => "writes are previewed: each statement's changes are checked and listed as they would be made, and nothing is committed",
                (true, false) => "writes are on: statements may change the ledger; each change is committed and listed",
                _ => "writes are off",
            }
        );
    }

    /// `:break FILE:LINE`, `:break` (list) and `:break clear`.
    fn cmd_break(&mut self, arg: &str, out: &mut dyn Write) {
        match arg {
            "" => {
                let _ = writeln!(out, "{}", self.breaker.list());
            }
            "clear" => self.breaker.clear(),
            _ => match self.breaker.add(arg) {
                Ok(msg) => {
                    // Attached at the first break point: until then entries run at full speed.
                    if !self.debugging {
                        crate::script::debug::attach_to(
                            &mut self.host.engine,
                            self.breaker.clone(),
                        );
                        self.debugging = true;
                    }
                    let _ = writeln!(out, "{msg}");
                }
                Err(e) => self.error(out, format_args!("{e}")),
            },
        }
    }

    /// `:output FILE` and `:once FILE`: results to a file (made anew, as
    /// sqlite3's `.output` and `.once` do), for every entry or the next one;
    /// `:output` alone (or `:output stdout`) goes back to the terminal.
    fn cmd_output(&mut self, arg: &str, once: bool, out: &mut dyn Write) {
        if arg.is_empty() || arg == "stdout" {
            if once {
                self.error(out, format_args!(":once FILE — give the file"));
            } else {
                self.redirect = None;
            }
            return;
        }
        match std::fs::File::create(arg) {
            Ok(f) => self.redirect = Some((f, once)),
            Err(e) => self.error(out, format_args!("cannot write {arg}: {e}")),
        }
    }

    /// `:load FILE`: runs a script into the session, as if typed.
    fn cmd_load(&mut self, arg: &str, out: &mut dyn Write) {
        if arg.is_empty() {
            self.error(out, format_args!(":load FILE — give the script to run"));
            return;
        }
        match std::fs::read_to_string(arg) {
            Ok(src) => {
                // For :break: which functions this file defines.
                if let Ok(ast) = self.host.engine.compile(&src) {
                    let fns = ast.iter_functions().map(|f| f.name.to_string());
                    self.breaker.loaded(arg, &src, fns);
                }
                self.eval(&src, arg, out)
            }
            Err(e) => {
                self.error(out, format_args!("cannot read {arg}: {e}"));
            }
        }
    }
}
