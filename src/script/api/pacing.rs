//! Rhai's `sleep`, held to `--timeout`: the engine looks at the clock between
//! steps, and `sleep(100000)` is one step, so a script asked to stop after
//! one second slept on. This one sleeps in short slices and stops with the
//! time limit's error (or when cancelled) like any other step.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Engine, EvalAltResult, Position, FLOAT, INT};

use crate::script::errors::RResult;
use crate::script::state::Host;

/// Registers `sleep(seconds)` for whole and fractional seconds.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    let sleep = move |secs: FLOAT| -> RResult<()> {
        // As Rhai's: nothing for zero, negative or NaN.
        if secs.is_nan() || secs <= 0.0 {
            return Ok(());
        }
        let until = Instant::now() + Duration::from_secs_f64(secs.min(1e9));
        loop {
            if h.cancel.load(Ordering::Relaxed) {
                return Err(stop("cancelled".into()));
            }
            let timeout = h.limits.timeout;
            if h.started.lock().unwrap().elapsed() > timeout {
                return Err(stop(format!("timeout:{}", timeout.as_secs_f64())));
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    };
    let whole = sleep.clone();
    engine.register_fn("sleep", sleep);
    engine.register_fn("sleep", move |secs: INT| whole(secs as FLOAT));
}

/// The error the engine's own limits stop a script with.
fn stop(token: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(token.into(), Position::NONE).into()
}
