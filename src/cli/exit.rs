//! Exit codes (SPEC §4), and the one place where an error becomes one and a
//! closed pipe becomes a quiet end.
//!
//! Commands return their errors; [`report`] says what went wrong and picks
//! the code. A script's error ([`Rendered`]) is already written out with its
//! source lines, so it is printed as it is. A reader that stopped reading
//! (`casebook audit | head`) is not an error: the command stops quietly with
//! exit code 0, as other Unix tools do. A command that writes to the ledger
//! commits before it prints (`score --save` saves its run first), so nothing
//! is cut short.

use std::io::Write;

use crate::export::ExportError;
use crate::import::ImportError;
use crate::ledger::LedgerError;
use crate::model::escape_controls;
use crate::script::output::pipe_closed;
use crate::script::RunError;

/// Success, also when the reader of the output stopped early.
pub const OK: i32 = 0;
/// A script or data error.
pub const DATA: i32 = 1;
/// A usage error (clap uses this too).
pub const USAGE: i32 = 2;
/// The ledger is busy: another process holds it and waiting timed out.
pub const BUSY: i32 = 3;

/// Says what went wrong on stderr and returns the exit code for it.
pub fn report(e: &anyhow::Error) -> i32 {
    if closed_pipe(e) {
        return OK;
    }
    // Messages quote data (a bad cell, a script's line): its control
    // characters are shown as escapes, never sent raw to the terminal.
    if let Some(ScriptFailed(msg)) = e.downcast_ref::<ScriptFailed>() {
        eprint!("{}", escape_controls(msg));
        return DATA;
    }
    // Buffered: an import's error lists every bad row, maybe millions.
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    let _ = writeln!(err, "error: {}", escape_controls(&format!("{e:#}")));
    let _ = err.flush();
    code(e)
}

/// A flag's value that clap cannot check by itself (a date that is not a
/// real calendar date): exit 2 like any other bad flag.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for an error: 3 when the ledger was busy, 2 for a bad flag, 1 otherwise.
pub fn code(e: &anyhow::Error) -> i32 {
    if e.chain().any(|c| c.is::<UsageError>()) {
        return USAGE;
    }
    for c in e.chain() {
        let busy = matches!(
            c.downcast_ref::<LedgerError>(),
            Some(LedgerError::Busy { .. } | LedgerError::ReadersBusy { .. })
        ) || matches!(
            c.downcast_ref::<ImportError>(),
            Some(ImportError::Ledger(LedgerError::Busy { .. }))
        ) || matches!(
            // Transparent: the chain goes from the run's error straight past
            // the ledger's, so it is looked for inside.
            c.downcast_ref::<RunError>(),
            Some(RunError::Ledger(LedgerError::Busy { .. }))
        );
        if busy {
            return BUSY;
        }
    }
    DATA
}

/// Whether `e` comes from writing to a pipe whose reader has gone, looking
/// inside the errors that carry an I/O error without making it their source.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|e| {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return pipe_closed(io);
        }
        if let Some(csv::ErrorKind::Io(io)) = e.downcast_ref::<csv::Error>().map(|c| c.kind()) {
            return pipe_closed(io);
        }
        if let Some(RunError::Output(io)) = e.downcast_ref::<RunError>() {
            return pipe_closed(io);
        }
        if let Some(ExportError::Io(io)) = e.downcast_ref::<ExportError>() {
            return pipe_closed(io);
        }
        false
    })
}

/// Writes command output to stdout, for `out!` and `outln!`. Output printed
/// deep inside a script (its `print`) has no error to return through, so a
/// closed pipe ends the process here, quietly and with exit code 0.
#[track_caller]
pub fn print(args: std::fmt::Arguments) {
    if let Err(e) = std::io::stdout().write_fmt(args) {
        if pipe_closed(&e) {
            std::process::exit(OK);
        }
        panic!("cannot write to standard output: {e}");
    }
}

/// A script's error, already rendered with its source lines and a caret:
/// [`report`] prints it as it is, without `error:` in front.
#[derive(Debug)]
struct ScriptFailed(String);

impl std::fmt::Display for ScriptFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptFailed {}

/// Lets a command hand a script's own error to [`report`] with `?`.
pub trait Rendered<T> {
    /// The script's error to be shown as it is; any other error as usual.
    fn rendered(self) -> anyhow::Result<T>;
}

impl<T> Rendered<T> for Result<T, RunError> {
    fn rendered(self) -> anyhow::Result<T> {
        self.map_err(|e| match e {
            RunError::Script(msg) => ScriptFailed(msg).into(),
            e => e.into(),
        })
    }
}
