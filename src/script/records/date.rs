//! The date value scripts see: every record's dates are one.

use chrono::NaiveDate;

/// A date in scripts: ISO when printed, compared with dates only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);
