//! The REPL's debugger: `:break FILE:LINE` on a file run in with `:load`,
//! then, when a function called from the prompt reaches that line, `step`,
//! `next`, `locals` and `continue` (as gdb's s, n, c), on Rhai's debugging
//! interface (the same callback as coverage and explain).
//!
//! A stop reads its commands from standard input, which is where the session
//! reads its entries too (so a session fed from a file or pipe can debug).
//! The time spent stopped does not count against the script's timeout.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rhai::debugger::DebuggerEvent;
use rhai::{ASTNode, EvalContext, Position};

use crate::script::debug::{call_stack, Tracer};
use crate::script::state::Host;

/// How the run goes on after a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// To the next break point.
    Run,
    /// To the next statement, into called functions too.
    Step,
    /// To the next statement of this function or its caller (over calls).
    Next,
}

/// The break points and the files they are in.
pub struct Breaker {
    host: Arc<Host>,
    state: Mutex<State>,
}

struct State {
    /// (file as given to `:break`, line).
    points: Vec<(String, usize)>,
    /// The file each function was loaded from, and each file's lines.
    fn_file: HashMap<String, String>,
    sources: HashMap<String, Vec<String>>,
    mode: Mode,
    /// Where the last stop (or the last statement seen) was: (depth, line).
    last: (usize, usize),
    /// The depth of the last stop, for `next`.
    stop_depth: usize,
}

/// Whether two names of a file mean the same file (`rules.rhai` and `./rules.rhai`).
fn same_file(a: &str, b: &str) -> bool {
    a == b || Path::new(a).file_name() == Path::new(b).file_name()
}

impl Breaker {
    /// A debugger with no break points, for the session's host.
    pub fn new(host: Arc<Host>) -> Breaker {
        Breaker {
            host,
            state: Mutex::new(State {
                points: Vec::new(),
                fn_file: HashMap::new(),
                sources: HashMap::new(),
                mode: Mode::Run,
                last: (0, 0),
                stop_depth: 0,
            }),
        }
    }

    /// Remembers that `file` (run in with `:load`) defines `fns`.
    pub fn loaded(&self, file: &str, src: &str, fns: impl IntoIterator<Item = String>) {
        let mut st = self.state.lock().unwrap();
        for f in fns {
            st.fn_file.insert(f, file.to_string());
        }
        st.sources
            .insert(file.to_string(), src.lines().map(String::from).collect());
    }

    /// `:break FILE:LINE`; `Err` says what is wrong with it.
    pub fn add(&self, arg: &str) -> Result<String, String> {
        let (file, line) = arg
            .rsplit_once(':')
            .and_then(|(f, l)| Some((f, l.trim().parse::<usize>().ok()?)))
            .ok_or_else(|| format!(":break FILE:LINE, not \"{arg}\""))?;
        let mut st = self.state.lock().unwrap();
        if !st.sources.keys().any(|k| same_file(k, file)) {
            return Err(format!(
                "{file} has not been run in with :load FILE: break points are in loaded files"
            ));
        }
        st.points.push((file.to_string(), line));
        Ok(format!(
            "break point {} at {file}:{line}; call a function from the prompt to reach it",
            st.points.len()
        ))
    }

    /// The break points, one a line.
    pub fn list(&self) -> String {
        let st = self.state.lock().unwrap();
        if st.points.is_empty() {
            return "no break points; :break FILE:LINE sets one".into();
        }
        st.points
            .iter()
            .enumerate()
            .map(|(i, (f, l))| format!("{}: {f}:{l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Removes every break point.
    pub fn clear(&self) {
        let mut st = self.state.lock().unwrap();
        st.points.clear();
        st.mode = Mode::Run;
    }

    /// Reads commands at a stop until one resumes the run.
    fn prompt(&self, ctx: &EvalContext, st: &mut State, file: &str, line: usize) {
        let text = st
            .sources
            .get(file)
            .and_then(|s| s.get(line.wrapping_sub(1)))
            .map(|s| s.trim())
            .unwrap_or("");
        let stopped = Instant::now();
        let mut out = std::io::stdout();
        let _ = writeln!(out, "stopped at {file}:{line}: {text}");
        loop {
            let _ = write!(out, "(debug) ");
            let _ = out.flush();
            let mut cmd = String::new();
            // End of input: run on.
            if std::io::stdin().lock().read_line(&mut cmd).unwrap_or(0) == 0 {
                st.mode = Mode::Run;
                break;
            }
            match cmd.trim() {
                "s" | "step" => st.mode = Mode::Step,
                "n" | "next" => st.mode = Mode::Next,
                "c" | "continue" => st.mode = Mode::Run,
                "l" | "locals" => {
                    for (name, _, v) in ctx.scope().iter() {
                        if name != "args" {
                            let _ = writeln!(out, "  {name} = {}", crate::script::output::cell(&v));
                        }
                    }
                    continue;
                }
                _ => {
                    let _ = writeln!(out, "step (s), next (n), locals (l) or continue (c)");
                    continue;
                }
            }
            break;
        }
        // Time spent stopped is not the script's.
        *self.host.started.lock().unwrap() += stopped.elapsed();
    }
}

impl Tracer for Breaker {
    fn step(
        &self,
        ctx: &mut EvalContext,
        event: &DebuggerEvent,
        node: ASTNode,
        _src: Option<&str>,
        pos: Position,
    ) {
        // A new entry: a `step` left over from the last one ends with it.
        if matches!(event, DebuggerEvent::Start) {
            let mut st = self.state.lock().unwrap();
            st.mode = Mode::Run;
            st.last = (0, 0);
        }
        // Stops are at statements, as a line-oriented debugger's are.
        // (A function's entry is a no-op statement at its `{`: its first line is next.)
        if !node.is_stmt() || matches!(node, ASTNode::Stmt(rhai::Stmt::Noop(..))) {
            return;
        }
        let Some(line) = pos.line() else { return };
        let stack = call_stack(ctx);
        let depth = stack.len();
        let mut st = self.state.lock().unwrap();
        let Some(file) = stack
            .last()
            .and_then(|f| st.fn_file.get(f.fn_name.as_str()).cloned())
        else {
            return;
        };
        let moved = st.last != (depth, line);
        st.last = (depth, line);
        let stop = moved
            && match st.mode {
                Mode::Step => true,
                Mode::Next => depth <= st.stop_depth,
                Mode::Run => st
                    .points
                    .iter()
                    .any(|(f, l)| *l == line && same_file(f, &file)),
            };
        if stop {
            st.stop_depth = depth;
            self.prompt(ctx, &mut st, &file, line);
        }
    }
}
