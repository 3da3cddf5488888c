//! casebook: the supervision ledger of a city education bureau.
//!
//! See ARCHITECTURE.md for the map of modules and the invariants.

/// `print!` for command output: see [`outln!`].
macro_rules! out {
    ($($t:tt)*) => {
        $crate::cli::exit::print(format_args!($($t)*))
    };
}

/// `println!` for command output: when the reader has gone (`casebook audit |
/// head`), the command ends quietly with exit code 0 instead of panicking
/// (see `cli::exit`, where every closed pipe is handled).
macro_rules! outln {
    ($($t:tt)*) => {
        out!("{}\n", format_args!($($t)*))
    };
}

pub mod alloc;
pub mod cli;
pub mod decide;
pub mod demo;
pub mod docs;
pub mod export;
pub mod format;
pub mod import;
pub mod ledger;
pub mod model;
pub mod notice;
pub mod render;
pub mod repl;
pub mod runfile;
pub mod script;
pub mod sheet;
