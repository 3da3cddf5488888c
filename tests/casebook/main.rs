//! casebook's integration tests, in one test binary: each module drives the
//! real `casebook` binary (or the library) the way a user does one thing.
//!
//! One binary instead of one per file, as ripgrep's tests do: the crate is
//! linked once, not once per file, and all the tests share one run. So no test
//! may change the process: no `std::env::set_var`, no `set_current_dir`;
//! every test works in a temp directory of its own and passes the environment
//! to the child it spawns (see `common`).

mod common;

mod charts;
mod decisions;
mod docs;
mod duckdb;
mod export;
mod files;
mod import;
mod ledger;
mod platform;
mod proptests;
mod publish;
mod readme_tour;
mod repl;
mod rules;
mod script;
mod sheets;
mod show_register;
mod tools;
