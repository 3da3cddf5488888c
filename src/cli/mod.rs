//! The command line (docs/commands.md): parsing, dispatch to one file per command
//! (`cmd/`), and exit codes (`exit`).

pub mod args;
pub mod cmd;
mod damage;
pub mod exit;
pub mod local_time;
pub mod operator;

use std::path::PathBuf;

use clap::FromArgMatches;

use args::{Cli, Cmd};

/// What every command gets besides its own flags.
#[derive(Debug, Clone)]
pub struct Context {
    /// The ledger file (`--db`).
    pub db: PathBuf,
    /// Who is acting, for the audit log.
    pub operator: String,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let parsed = args::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let mut cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    // `audit` only reads: there the global --operator names whose entries to list.
    if let Cmd::Audit(a) = &mut cli.command {
        a.operator = cli.operator.clone();
    }
    let ctx = Context {
        db: cli.db,
        operator: operator::operator(&cli.operator),
    };
    crate::ledger::who::declare_operator(&ctx.operator);
    damage::catch(|| match dispatch(&cli.command, &ctx) {
        Ok(code) => code,
        Err(e) => exit::report(&e),
    })
}

/// Runs one subcommand.
fn dispatch(command: &Cmd, ctx: &Context) -> anyhow::Result<i32> {
    match command {
        Cmd::Demo(a) => cmd::demo::run(a, ctx),
        Cmd::Init(a) => cmd::init::run(a, ctx),
        Cmd::Import(a) => cmd::import::run(a, ctx),
        Cmd::Export(a) => cmd::export::run(a, ctx),
        Cmd::Show(a) => cmd::show::run(a, ctx),
        Cmd::Backup(a) => cmd::backup::run(a, ctx),
        Cmd::Compact(a) => cmd::compact::run(a, ctx),
        Cmd::Run(a) => cmd::run::run(a, ctx),
        Cmd::Check(a) => cmd::check::run(a, ctx),
        Cmd::Schema(a) => cmd::schema::run(a, ctx),
        Cmd::Repl(a) => cmd::repl::run(a, ctx),
        Cmd::Score(a) => cmd::score::run(a, ctx),
        Cmd::Runs(a) => cmd::runs::run(a, ctx),
        Cmd::Diff(a) => cmd::diff::run(a, ctx),
        Cmd::Lists(a) => cmd::lists::run(a, ctx),
        Cmd::Test(a) => cmd::test::run(a, ctx),
        Cmd::Audit(a) => cmd::audit::run(a, ctx),
        Cmd::Verify(a) => cmd::verify::run(a, ctx),
        Cmd::Completions(a) => cmd::completions::run(a),
        Cmd::Man(a) => cmd::man::run(a),
        Cmd::Explain(a) => cmd::explain::run(a, ctx),
        Cmd::Definitions(a) => cmd::definitions::run(a),
    }
}
