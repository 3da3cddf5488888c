//! Rules in the staff's own words: enumerated values in English or Chinese,
//! a value that is no value of its property stopped with the allowed values,
//! `casebook check` finding mistakes before the run, `casebook schema`, the
//! bureau's order in counts, clean standard output, empty results said,
//! times in the local zone and bad flags as usage errors.

mod check_and_cli;
mod values;
