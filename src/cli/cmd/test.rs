//! `casebook test`: the test_* functions of rule scripts.

use anyhow::{bail, Context as _, Result};

use crate::cli::args::{as_of, TestArgs};
use crate::cli::{exit, Context};

/// Runs the tests and reports them; exit 1 when one failed.
pub fn run(args: &TestArgs, _ctx: &Context) -> Result<i32> {
    let d = as_of(&Some(args.as_of.clone()))?;
    let dir = &args.dir;
    let files = crate::decide::ruletest::script_files(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?;
    if files.is_empty() {
        bail!("no .rhai scripts in {}", dir.display());
    }
    let outcomes = crate::decide::ruletest::run_tests(&files, args.filter.as_deref(), d)?;
    // Counted before the report is written: a reader that stops early
    // (`casebook test | head`) must not turn a failure into success.
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let stdout = std::io::stdout();
    let written = crate::decide::ruletest::report(&outcomes, &mut stdout.lock());
    if failed > 0 {
        return Ok(exit::DATA);
    }
    written?;
    Ok(exit::OK)
}
