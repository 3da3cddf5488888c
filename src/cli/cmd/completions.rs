//! `casebook completions SHELL`: the shell's completion script, from the same
//! clap definitions that parse the command line.

use anyhow::Result;

use crate::cli::args::{command, CompletionsArgs};

/// Prints the completion script of `a.shell` to stdout.
pub fn run(a: &CompletionsArgs) -> Result<i32> {
    let mut cmd = command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "casebook", &mut buf);
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(crate::cli::exit::OK)
}
