//! `run --profile` and `score --profile`: where a run spends its time, per
//! script function (time including what it calls, and calls) and per line.
//!
//! Each step's time is the time from one debugger callback to the next on the
//! same thread, charged to the line of the first (so a native call such as
//! `inst.findings()` is charged to the line that made it) and to every
//! function on the call stack then. Every thread keeps its own counters (no
//! lock is shared on the hot path); the report merges them, so in a parallel
//! map the times are summed over the threads; the main thread's wait for the
//! map's workers is not script time (the workers' steps are) and is shown apart.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use rhai::debugger::DebuggerEvent;
use rhai::{ASTNode, EvalContext, ImmutableString, Position};

use super::{call_stack, Tracer};

/// A line of a script (its source name, if it has one), or line 0 for the
/// loop a parallel map's worker runs over its records.
type LineKey = (Option<ImmutableString>, usize);

/// One thread's counters.
#[derive(Default)]
struct Local {
    /// Time and steps per line.
    lines: HashMap<LineKey, (Duration, u64)>,
    /// Time (including callees) and calls per function.
    fns: HashMap<ImmutableString, (Duration, u64)>,
    /// The main thread's time waiting for other threads' steps, per line.
    waits: HashMap<LineKey, Duration>,
    /// The step being timed: when it began, its line and the call stack then.
    prev: Option<(Instant, LineKey, Vec<ImmutableString>)>,
}

thread_local! {
    /// This thread's counters for the profiler with the given address.
    static LOCAL: RefCell<Option<(usize, Arc<Mutex<Local>>)>> = const { RefCell::new(None) };
}

/// The profiler a command installs with [`super::install`].
pub struct Profiler {
    main: ThreadId,
    threads: Mutex<Vec<Arc<Mutex<Local>>>>,
    /// Set by other threads' steps, cleared by the main thread's: a main-thread
    /// step during which it was set was a wait for a parallel map.
    others_stepped: AtomicBool,
}

impl Default for Profiler {
    fn default() -> Self {
        Self::new()
    }
}

impl Profiler {
    /// A profiler; the thread that makes it is the run's main thread.
    pub fn new() -> Profiler {
        Profiler {
            main: std::thread::current().id(),
            threads: Mutex::new(Vec::new()),
            others_stepped: AtomicBool::new(false),
        }
    }

    fn with_local(&self, f: impl FnOnce(&mut Local)) {
        let id = self as *const Profiler as usize;
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if l.as_ref().map(|x| x.0) != Some(id) {
                let local = Arc::new(Mutex::new(Local::default()));
                self.threads.lock().unwrap().push(local.clone());
                *l = Some((id, local));
            }
            f(&mut l.as_ref().unwrap().1.lock().unwrap());
        });
    }

    /// Writes the report: functions by time, then the `top` most expensive
    /// lines with their share of all the time measured. Lines of a script
    /// without a source name are shown under `file`.
    pub fn report(&self, file: &str, top: usize, w: &mut dyn Write) -> std::io::Result<()> {
        let mut lines: HashMap<LineKey, (Duration, u64)> = HashMap::new();
        let mut fns: HashMap<ImmutableString, (Duration, u64)> = HashMap::new();
        let mut waits: HashMap<LineKey, Duration> = HashMap::new();
        let threads = self.threads.lock().unwrap();
        for t in threads.iter() {
            let t = t.lock().unwrap();
            for (k, v) in &t.waits {
                *waits.entry(k.clone()).or_default() += *v;
            }
            for (k, v) in &t.lines {
                let e = lines.entry(k.clone()).or_default();
                e.0 += v.0;
                e.1 += v.1;
            }
            for (k, v) in &t.fns {
                let e = fns.entry(k.clone()).or_default();
                e.0 += v.0;
                e.1 += v.1;
            }
        }
        let total: Duration = lines.values().map(|v| v.0).sum();
        let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-12);
        writeln!(
            w,
            "profile: {:.3} s of script steps{}",
            total.as_secs_f64(),
            if threads.len() > 1 {
                format!(" (summed over {} threads)", threads.len())
            } else {
                String::new()
            }
        )?;
        // Native functions are on the call stack too, but never while a step
        // is timed: only script functions have time of their own.
        let mut fv: Vec<_> = fns
            .into_iter()
            .filter(|(n, (d, _))| !n.starts_with("anon$") && !d.is_zero())
            .collect();
        fv.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
        if !fv.is_empty() {
            writeln!(
                w,
                "{:<24} {:>10} {:>10} {:>7}",
                "function", "calls", "time (s)", "share"
            )?;
            for (name, (d, calls)) in &fv {
                writeln!(
                    w,
                    "{:<24} {:>10} {:>10.3} {:>6.1}%",
                    name.as_str(),
                    calls,
                    d.as_secs_f64(),
                    share(*d)
                )?;
            }
        }
        let mut lv: Vec<_> = lines.into_iter().collect();
        lv.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0 .1.cmp(&b.0 .1)));
        writeln!(w, "the {} most expensive lines:", top.min(lv.len()))?;
        writeln!(
            w,
            "{:<40} {:>10} {:>12} {:>7}",
            "line", "steps", "time (s)", "share"
        )?;
        let name = |src: &Option<ImmutableString>, line: usize| {
            if line == 0 {
                "(parallel map: reading records)".to_string()
            } else {
                format!("{}:{line}", src.as_deref().unwrap_or(file))
            }
        };
        for ((src, line), (d, n)) in lv.iter().take(top) {
            let at = name(src, *line);
            writeln!(
                w,
                "{at:<40} {n:>10} {:>12.3} {:>6.1}%",
                d.as_secs_f64(),
                share(*d)
            )?;
        }
        let mut wv: Vec<_> = waits.into_iter().collect();
        wv.sort_by_key(|w| std::cmp::Reverse(w.1));
        for ((src, line), d) in wv {
            writeln!(
                w,
                "{} waited {:.3} s for its parallel map (the workers' steps are counted above)",
                name(&src, line),
                d.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

impl Tracer for Profiler {
    fn step(
        &self,
        ctx: &mut EvalContext,
        event: &DebuggerEvent,
        _node: ASTNode,
        src: Option<&str>,
        pos: Position,
    ) {
        let now = Instant::now();
        let stack = call_stack(ctx);
        let on_main = std::thread::current().id() == self.main;
        let worker_loop = stack.is_empty() && !on_main;
        // Read before written: two workers do not fight over the flag's cache line.
        let waited = if on_main {
            self.others_stepped.swap(false, Ordering::Relaxed)
        } else {
            if !self.others_stepped.load(Ordering::Relaxed) {
                self.others_stepped.store(true, Ordering::Relaxed);
            }
            false
        };
        self.with_local(|l| {
            let prev = l.prev.take();
            if !matches!(event, DebuggerEvent::Start) {
                if let Some((at, key, _)) = prev.as_ref().filter(|_| waited) {
                    *l.waits.entry(key.clone()).or_default() += now - *at;
                } else if let Some((at, key, names)) = &prev {
                    let d = now - *at;
                    let e = l.lines.entry(key.clone()).or_default();
                    e.0 += d;
                    e.1 += 1;
                    // Time counts once per function, however deep it recurses.
                    for (i, n) in names.iter().enumerate() {
                        if !names[..i].contains(n) {
                            l.fns.entry(n.clone()).or_default().0 += d;
                        }
                    }
                }
            }
            let mut key: LineKey = if worker_loop {
                (None, 0)
            } else {
                (src.map(Into::into), pos.line().unwrap_or(0))
            };
            let mut depth = stack.len();
            match event {
                DebuggerEvent::End => return,
                DebuggerEvent::FunctionExitWithValue(_)
                | DebuggerEvent::FunctionExitWithError(_) => {
                    if let Some(top) = stack.last() {
                        l.fns.entry(top.fn_name.clone()).or_default().1 += 1;
                        // What follows is the caller's, at the line of the call.
                        key = (top.source.clone(), top.pos.line().unwrap_or(key.1));
                        depth -= 1;
                    }
                }
                _ => {}
            }
            let names = match prev {
                Some((_, _, n))
                    if n.len() == depth && n.iter().zip(stack).all(|(a, b)| *a == b.fn_name) =>
                {
                    n
                }
                _ => stack[..depth].iter().map(|f| f.fn_name.clone()).collect(),
            };
            l.prev = Some((Instant::now(), key, names));
        });
    }
}
