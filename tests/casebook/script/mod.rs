//! Policy scripts run by `casebook run` and `casebook check`: the API they
//! see, what they see as of a date, the writes they make, the limits that
//! stop them, parallel maps, and the sample scripts on the demo city.

mod api;
mod as_of;
mod compiled;
mod compiled_rows;
mod limits;
mod limits_alloc;
mod parallel_map;
mod samples;
mod stream;
mod writes;
