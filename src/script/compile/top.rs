//! A script's top-level statements compiled, like a function's body.
//!
//! When every top-level statement is covered (no `const`, no variable of
//! the caller's scope such as `args`, no closure capturing a variable, …),
//! they become one closure tree registered as the native function [`MAIN`],
//! and the syntax tree the interpreter runs holds only a call of it (the
//! script functions stay). Its variables live in its frame: script
//! functions cannot see them either way, and nothing reads the run's scope
//! afterwards. It runs at the interpreter's top level (call depth 0, errors
//! not wrapped as a function's), and its value is the script's value.
//!
//! The call of [`MAIN`] is placed on a line after the script's last one, so
//! that an error placed at that call (by a native function called through
//! Rhai's context) is always one `rt::Rt::at` moves to the real position.

use std::collections::HashSet;
use std::sync::Arc;

use rhai::{Dynamic, Engine, AST};

use super::lower::{Known, Lower, St, Unsupported};
use super::rt::{Flow, Frame, Guard, Rt};
use super::Lib;

/// The native function the compiled top level is registered as.
pub const MAIN: &str = "__casebook_main";

/// The compiled top-level statements.
pub struct Main {
    slots: usize,
    typed: usize,
    body: St,
    /// The last line of the script.
    last: usize,
}

/// Compiles `ast`'s top-level statements, or says why not.
pub fn lower(ast: &AST, known: &Known, scripted: &HashSet<String>) -> Result<Main, Unsupported> {
    let mut last = 0;
    ast.walk(&mut |path| {
        if let Some(n) = path.last() {
            last = last.max(n.position().line().unwrap_or(0));
        }
        true
    });
    // Positions count lines in 16 bits: the call must fit after the last one.
    if last + 2 >= usize::from(u16::MAX) {
        return Err(Unsupported("a script of more than 65,000 lines".into()));
    }
    let mut l = Lower::new(&[], known, scripted);
    let body = l.block(ast.statements())?;
    Ok(Main {
        slots: l.slots,
        typed: l.typed_slots,
        body,
        last,
    })
}

/// `run`'s functions with its statements replaced by one call of [`MAIN`],
/// on a line after every line of the script (`None`: the parser refused it).
pub fn replace_statements(engine: &Engine, main: &Main, run: &AST) -> Option<AST> {
    let src = format!("{}{MAIN}()", "\n".repeat(main.last + 1));
    let call = engine.compile(src).ok()?;
    let mut out = run.clone_functions_only().merge(&call);
    if let Some(s) = run.source() {
        out.set_source(s.to_string());
    }
    Some(out)
}

/// Registers [`MAIN`] on `engine` when `lib` has a compiled top level.
pub fn install(engine: &mut Engine, lib: &Arc<Lib>, guard: &Arc<Guard>) {
    if lib.main.is_none() {
        return;
    }
    let (lib, guard) = (lib.clone(), guard.clone());
    engine.register_raw_fn(MAIN, Vec::new(), move |outer, _args| {
        let m = lib.main.as_ref().expect("installed with a top level");
        // The top level: the level the interpreter runs it at (Rhai raised
        // it for this call), for direct calls and for those made through
        // Rhai's context (which raises it once more, as from a function).
        let mut global = outer.global_runtime_state().clone();
        global.level = global.level.saturating_sub(1);
        let ctx = rhai::NativeCallContext::new_with_all_fields(
            outer.engine(),
            outer.fn_name(),
            outer.fn_source(),
            &global,
            outer.call_position(),
        );
        let rt = Rt {
            ctx: &ctx,
            lib: &lib,
            level: global.level,
            guard: &guard,
        };
        let mut frame = Frame {
            vars: vec![Dynamic::UNIT; m.slots],
            findings: vec![None; m.typed],
        };
        match (m.body)(&mut frame, &rt)? {
            Flow::Val(v) | Flow::Return(v) => Ok(v),
            _ => Ok(Dynamic::UNIT),
        }
    });
}
