//! `casebook check`: scripts parsed and checked without running them.

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::args::CheckArgs;
use crate::cli::{exit, Context};
use crate::ledger::{Ledger, LedgerWriter};

/// Reports every script's errors and warnings on stderr; exit 1 on errors
/// (or on warnings with `--strict`).
pub fn run(args: &CheckArgs, ctx: &Context) -> Result<i32> {
    // Checking needs the API's names, not data: an empty in-memory-like ledger would do,
    // but a real one is used when present so `institution("…")` ids could be checked later.
    let mut tmp = None;
    let ledger = match Ledger::open_read(&ctx.db) {
        Ok(l) => l,
        Err(_) => {
            let p = tempdir_ledger()?;
            let l = Ledger::open_read(&p)?;
            tmp = Some(p);
            l
        }
    };
    let host = crate::script::ScriptHost::new(
        &ledger,
        chrono::Local::now().date_naive(),
        Default::default(),
        false,
        Default::default(),
    )?;
    let (mut n_err, mut n_warn) = (0, 0);
    for s in &args.scripts {
        let src = crate::script::read_script(s, host.limits.max_memory)?;
        let (errs, warns) = crate::script::check_source(&host, &s.display().to_string(), &src);
        for e in &errs {
            eprint!("{e}");
        }
        for w in &warns {
            eprint!("{w}");
        }
        n_err += errs.len();
        n_warn += warns.len();
        if args.plan && errs.is_empty() {
            if let Ok(ast) = host.compile(&src) {
                println!("{}:", s.display());
                for line in host.plan(&ast) {
                    println!("  {line}");
                }
            }
        }
    }
    eprintln!(
        "checked {} script(s): {n_err} error(s), {n_warn} warning(s)",
        args.scripts.len()
    );
    drop(host);
    drop(ledger);
    if let Some(p) = tmp {
        let _ = std::fs::remove_file(p);
    }
    if n_err > 0 || (args.strict && n_warn > 0) {
        return Ok(exit::DATA);
    }
    Ok(exit::OK)
}

/// An empty ledger in the temp directory, for commands that need only the API.
fn tempdir_ledger() -> Result<PathBuf> {
    let p = std::env::temp_dir().join(format!("casebook-check-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&p);
    LedgerWriter::create(&p)?;
    Ok(p)
}
