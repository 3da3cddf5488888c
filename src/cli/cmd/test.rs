//! `casebook test`: the test_* functions of rule scripts, and `--coverage`.

use anyhow::{bail, Context as _, Result};

use crate::cli::args::{as_of, CoverageFormat, TestArgs};
use crate::cli::{exit, Context};

/// Runs the tests and reports them; exit 1 when one failed.
pub fn run(args: &TestArgs, _ctx: &Context) -> Result<i32> {
    let d = as_of(&Some(args.as_of.clone()))?;
    let mut files = Vec::new();
    for dir in &args.dir {
        let found = crate::decide::ruletest::script_files(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?;
        if found.is_empty() {
            bail!("no .rhai scripts in {}", dir.display());
        }
        files.extend(found);
    }
    let (outcomes, coverage) = if args.coverage {
        let (o, c) = crate::decide::coverage::run_with_coverage(&files, args.filter.as_deref(), d)?;
        (o, Some(c))
    } else {
        let o = crate::decide::ruletest::run_tests(&files, args.filter.as_deref(), d)?;
        (o, None)
    };
    // Counted before the report is written: a reader that stops early
    // (`casebook test | head`) must not turn a failure into success.
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    let stdout = std::io::stdout();
    let written = match (&coverage, args.format) {
        // JSON on stdout for an editor; the test results beside it on stderr.
        (Some(c), CoverageFormat::Json) => {
            crate::decide::ruletest::report(&outcomes, &mut std::io::stderr().lock())?;
            crate::decide::coverage::write_json(c, &mut stdout.lock()).map(|_| (0, 0))
        }
        (Some(c), CoverageFormat::Text) => {
            let mut w = stdout.lock();
            crate::decide::ruletest::report(&outcomes, &mut w)
                .and_then(|r| crate::decide::coverage::write_text(c, &mut w).map(|_| r))
        }
        (None, _) => crate::decide::ruletest::report(&outcomes, &mut stdout.lock()),
    };
    if failed > 0 {
        return Ok(exit::DATA);
    }
    written?;
    Ok(exit::OK)
}
