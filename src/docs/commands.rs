//! `docs/commands.md` and the man pages: the help of every subcommand, from
//! the clap definitions (`cli::args::command`) that parse the command line.

use std::fmt::Write;

use anyhow::Result;
use clap::Command;

use crate::cli::args::command;

/// The built command (so that subcommands know their full names).
fn built() -> Command {
    let mut cmd = command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Appends the help of `cmd` and of its visible subcommands, depth first.
fn section(s: &mut String, cmd: &mut Command, path: &str) {
    let _ = write!(
        s,
        "## `{path}`\n\n```text\n{}\n```\n\n",
        cmd.render_long_help().to_string().trim_end()
    );
    for sub in cmd.get_subcommands_mut().filter(|c| !c.is_hide_set()) {
        let name = format!("{path} {}", sub.get_name());
        section(s, sub, &name);
    }
}

/// The whole page: `casebook --help` and then every subcommand's `--help`.
pub fn commands(header: &str) -> String {
    let mut cmd = built();
    let mut s = String::from(header);
    s.push_str(
        "# Commands\n\n\
         Every command's `--help`, as the binary prints it. Setting up the nightly job is in \
         [nightly.md](nightly.md); backups, `verify` and upgrades in \
         [operations.md](operations.md). The same text is in the man pages \
         (`casebook man | man -l -`, or [man/](man/)).\n\n",
    );
    let names: Vec<String> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| format!("[`{0}`](#casebook-{0})", c.get_name()))
        .collect();
    let _ = write!(s, "Commands: {}.\n\n", names.join(", "));
    section(&mut s, &mut cmd, "casebook");
    s
}

/// The man pages: `casebook.1` and one per visible subcommand
/// (`casebook-run.1`, …), as (file name, roff text).
pub fn man_pages() -> Result<Vec<(String, String)>> {
    fn walk(cmd: &Command, out: &mut Vec<(String, String)>) -> Result<()> {
        let man = clap_mangen::Man::new(cmd.clone());
        let mut buf = Vec::new();
        man.render(&mut buf)?;
        out.push((man.get_filename(), String::from_utf8(buf)?));
        for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(&built(), &mut out)?;
    Ok(out)
}

/// The main page, `casebook.1`, as `casebook man` prints it.
pub fn man_page() -> Result<String> {
    Ok(man_pages()?.swap_remove(0).1)
}
