//! Decisions (issue 5): `casebook score` and its saved runs and diffs, the
//! black and white lists kept by scripts, and `casebook test` on rules.

mod lists_and_rule_tests;
mod preview_owners;
mod rule_city;
mod runs;
mod score;
