//! The ledger file itself: opening and creating it, other schema versions, a
//! ledger busy with another writer, and the demo city ledger.

mod busy;
mod demo;
mod open_errors;
mod schema;
