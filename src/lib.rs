//! casebook: the supervision ledger of a city education bureau.
//!
//! See ARCHITECTURE.md for the map of modules and the invariants.

pub mod codec;
pub mod ledger;
pub mod model;
