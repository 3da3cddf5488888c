//! What `casebook show` prints: text made for a person to read.

pub mod register;
