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
        ":write on|off — allow statements to change the ledger (each change is committed at once and listed)",
    ),
    (":quit", ":quit — leave (Ctrl-D too)"),
];

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

    /// `:write [on|off]`: says whether writes are on, or reopens the ledger
    /// for writing (holding the writer lock) or for reading only.
    fn cmd_write(&mut self, arg: &str, out: &mut dyn Write) {
        if arg.is_empty() {
            let on = if self.write { "on" } else { "off" };
            let _ = writeln!(out, "writes are {on}; :write on|off to change");
            return;
        }
        let want = match arg {
            "on" => true,
            "off" => false,
            _ => {
                self.error(out, format_args!(":write on or off"));
                return;
            }
        };
        if want == self.write {
            return;
        }
        let reopened = AnyLedger::open(&self.db, want);
        match reopened {
            Ok(l) => {
                // Only one handle per process: the old one is closed first by replacement.
                self.ledger = l;
                self.write = want;
                self.host.host.write.store(want, Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "{}",
                    if want {
                        "writes are on: statements may change the ledger; each change is committed and listed"
                    } else {
                        "writes are off"
                    }
                );
            }
            Err(e) => {
                self.error(out, format_args!("{e}"));
            }
        }
    }

    /// `:load FILE`: runs a script into the session, as if typed.
    fn cmd_load(&mut self, arg: &str, out: &mut dyn Write) {
        if arg.is_empty() {
            self.error(out, format_args!(":load FILE — give the script to run"));
            return;
        }
        match std::fs::read_to_string(arg) {
            Ok(src) => self.eval(&src, arg, out),
            Err(e) => {
                self.error(out, format_args!("cannot read {arg}: {e}"));
            }
        }
    }
}
