//! casebook: the supervision ledger of a city education bureau.
//!
//! See ARCHITECTURE.md for the map of modules and the invariants.

/// `print!` for command output: see [`outln!`].
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($t)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("cannot write to standard output: {e}");
        }
    }};
}

/// `println!` for command output: when the reader has gone (`casebook audit |
/// head`), the command ends quietly with exit code 0 instead of panicking.
/// A command that writes to the ledger commits before it prints (`score
/// --save` saves its run first), so nothing is cut short.
macro_rules! outln {
    ($($t:tt)*) => {
        out!("{}\n", format_args!($($t)*))
    };
}

pub mod alloc;
pub mod cli;
pub mod decide;
pub mod demo;
pub mod export;
pub mod format;
pub mod import;
pub mod ledger;
// layout: old path, removed after merge
pub use ledger::codec;
pub mod model;
pub mod notice;
pub mod register;
pub mod repl;
pub mod ruletest;
pub mod script;
