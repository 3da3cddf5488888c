//! The ledger file itself: opening and creating it, other schema versions, a
//! ledger busy with another writer, the demo city ledger, and who the audit
//! log says made a change.

mod backup;
mod busy;
mod compact;
mod demo;
mod kill;
mod open_errors;
mod schema;
mod verify;
mod who;
