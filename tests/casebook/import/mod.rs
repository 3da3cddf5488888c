//! `casebook import`: the files users really have, every kind of bad input,
//! and importing again.

mod bad_input;
mod messy_files;
mod reimport;
mod shared_uscc;
