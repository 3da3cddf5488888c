//! How the script API's native functions fail: a runtime error in the
//! script's words, reported at the call that made it.

use rhai::{EvalAltResult, Position};

use crate::ledger::LedgerError;

/// The result of a native function called from a script.
pub type RResult<T> = Result<T, Box<EvalAltResult>>;

/// Fails with `msg` as the script's runtime error.
pub fn err<T>(msg: impl Into<String>) -> RResult<T> {
    Err(Box::new(EvalAltResult::ErrorRuntime(
        msg.into().into(),
        Position::NONE,
    )))
}

/// A ledger failure as the script's runtime error.
pub fn ledger_err(e: LedgerError) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        format!("ledger: {e}").into(),
        Position::NONE,
    ))
}
