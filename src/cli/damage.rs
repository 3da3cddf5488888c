//! A damaged ledger found mid-command: the panic a damaged value raises
//! (`ledger::seal`) or one of redb's own on a damaged page, turned into one
//! clear error and exit 1 at the command boundary, never a backtrace and
//! exit 101.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use crate::ledger::seal::Damaged;

use super::exit;

/// Where and why the last storage panic happened, kept by the hook for
/// [`catch`]'s message.
static LAST: Mutex<Option<String>> = Mutex::new(None);

/// Runs the command `f`; a panic from the storage layer becomes the damaged
/// ledger's error, any other panic stays what it is (a bug: its message and
/// exit 101).
pub fn catch(f: impl FnOnce() -> i32) -> i32 {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let damaged = info
            .payload()
            .downcast_ref::<Damaged>()
            .map(|d| d.0.clone());
        let in_redb = info
            .location()
            .is_some_and(|l| l.file().contains("/redb-") || l.file().contains("\\redb-"));
        match damaged {
            Some(why) => *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some(why),
            None if in_redb => {
                let what = info.payload_as_str().unwrap_or("an internal check failed");
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", short(l.file()), l.line()))
                    .unwrap_or_default();
                *LAST.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("the storage engine stopped: {what}{at}"))
            }
            None => default(info),
        }
    }));
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(_) => match LAST.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(why) => {
                eprintln!(
                    "error: the ledger is damaged ({why}); nothing was written. Run `casebook verify` for every damaged record, and restore from a backup"
                );
                exit::DATA
            }
            None => 101,
        },
    }
}

/// A path inside the registry from the crate's folder on (`redb-4.6.0/src/…`).
fn short(file: &str) -> &str {
    file.find("redb-").map_or(file, |i| &file[i..])
}
