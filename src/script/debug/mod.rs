//! The tools for rule authors built on Rhai's debugging interface: coverage
//! (`casebook test --coverage`), the profiler (`run --profile`, `score
//! --profile`) and the tracer behind `casebook explain`.
//!
//! Rhai calls a debugger back before every statement and expression it
//! evaluates, with the node and its position. A plain run registers no
//! debugger and pays one branch per step; only a command that asks for a tool
//! installs one ([`install`]), and every engine built while it is installed
//! (the parallel map's workers, the test runner's engines) gets the callback.
//!
//! - `profile`: time and calls per function and per line, per thread, merged
//! - `coverage`: the positions a run evaluated, and the statements of a file

pub mod coverage;
pub mod profile;

use std::sync::{Arc, RwLock};

use rhai::debugger::{DebuggerCommand, DebuggerEvent};
use rhai::{ASTNode, Engine, EvalContext, Position};

/// What a tool does with each step of an evaluation.
pub trait Tracer: Send + Sync {
    /// Called before every statement and expression, and when a script
    /// function returns; `src` is the script's source name, if it has one.
    fn step(
        &self,
        ctx: &mut EvalContext,
        event: &DebuggerEvent,
        node: ASTNode,
        src: Option<&str>,
        pos: Position,
    );
}

/// The tool engines built from now on report to.
static ACTIVE: RwLock<Option<Arc<dyn Tracer>>> = RwLock::new(None);

/// Makes every engine built from now on (by `engine::build_engine`) report
/// to `tracer`; `None` stops it. A command installs its tool once, before it
/// builds any engine.
pub fn install(tracer: Option<Arc<dyn Tracer>>) {
    *ACTIVE.write().unwrap() = tracer;
}

/// Whether a tool is installed (compiled functions are then not used).
pub fn active() -> bool {
    ACTIVE.read().unwrap().is_some()
}

/// Registers the installed tool's callback on `engine`, if a tool is installed.
pub fn attach(engine: &mut Engine) {
    let Some(t) = ACTIVE.read().unwrap().clone() else {
        return;
    };
    attach_to(engine, t);
}

/// Registers `tracer`'s callback on `engine`: it sees every step (the
/// debugger is told to step into everything), and never stops the run.
pub fn attach_to(engine: &mut Engine, tracer: Arc<dyn Tracer>) {
    // "Volatile", not deprecated: the interface Rhai's own debugger uses.
    #[allow(deprecated)]
    engine.register_debugger(
        |_, dbg| dbg,
        move |mut ctx, event, node, src, pos| {
            tracer.step(&mut ctx, &event, node, src, pos);
            Ok(DebuggerCommand::StepInto)
        },
    );
}

/// The names on the call stack of the evaluation `ctx` belongs to, innermost last.
pub fn call_stack<'a>(ctx: &'a EvalContext) -> &'a [rhai::debugger::CallStackFrame] {
    ctx.debugger().map(|d| d.call_stack()).unwrap_or(&[])
}

/// `a-b` line ranges from sorted line numbers, merging lines that follow each
/// other in `order` (the lines that hold statements, so blank and comment
/// lines between two missed lines do not split a range).
pub fn line_ranges(missed: &[usize], order: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let idx = |l: usize| order.binary_search(&l).ok();
    for &l in missed {
        match out.last_mut() {
            Some((_, end)) if idx(*end).zip(idx(l)).is_some_and(|(a, b)| b == a + 1) => *end = l,
            _ => out.push((l, l)),
        }
    }
    out
}

/// A range as `a-b`, or `a` for one line.
pub fn fmt_range((a, b): (usize, usize)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_skip_lines_without_statements() {
        let order = [3, 4, 7, 8, 12, 20];
        assert_eq!(line_ranges(&[4, 7, 8, 20], &order), vec![(4, 8), (20, 20)]);
        assert_eq!(fmt_range((4, 8)), "4-8");
        assert_eq!(fmt_range((20, 20)), "20");
    }
}
