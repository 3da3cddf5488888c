//! casebook: the supervision ledger of a city education bureau.
//!
//! See ARCHITECTURE.md for the map of modules and the invariants.

pub mod alloc;
pub mod cli;
pub mod codec;
pub mod decide;
pub mod demo;
pub mod export;
pub mod format;
pub mod import;
pub mod ledger;
pub mod model;
pub mod notice;
pub mod register;
pub mod repl;
pub mod ruletest;
pub mod script;
