//! Property-based tests (proptest): mutated import files and random scripts
//! under small limits, each run through the real binary.
//!
//! Bounded for CI: 64 cases each unless `PROPTEST_CASES` says otherwise
//! (BENCHMARKS.md gives the long-run command). A failing case is shrunk and
//! printed; none is saved to disk.

mod import;
mod script_limits;

use proptest::test_runner::Config;

/// The runner's configuration: `PROPTEST_CASES` cases, else `default`.
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
