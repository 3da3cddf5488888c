//! Script functions compiled to Rust closures: the second way a script's
//! functions run, beside Rhai's interpreter, and always giving the same
//! answer, the same error and the same position.
//!
//! [`compile`] turns every script function whose body it fully covers into a
//! tree of closures (`lower`), removes it from the syntax tree the
//! interpreter runs and registers it on the engine as a native function of
//! the same name and arity ([`install`]); calls from the interpreter then go
//! straight into compiled code, and compiled functions call each other
//! directly. A function using anything not covered stays a script function,
//! whole: [`Lib::plan`] says which run compiled and why the others don't.
//! The top-level statements are compiled as one more body when they can be
//! (`top`); closures are compiled for `par` to call, and otherwise stay
//! script functions.
//! Setting `CASEBOOK_INTERPRET=1` runs everything in the interpreter (the
//! differential tests compare both).
//!
//! Inside compiled code the limits still hold (`rt::Rt::tick`: operations,
//! heap, stop flag, clock; call depth in [`Lib::call`]); an error leaves a
//! compiled function wrapped as the interpreter wraps it.

mod lower;
mod native;
mod props;
pub mod rt;
mod top;

use std::any::TypeId;
use std::collections::HashSet;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, Position, AST};

use lower::{Known, Lower, St};
use rt::{Flow, Frame, Guard, Rt, R};
pub use top::MAIN;

/// The helper the compiled `for` runs through the interpreter for anything
/// but an array (ranges, strings, collections): Rhai's own iterators.
pub const COLLECT: &str = "__casebook_collect";
const COLLECT_SRC: &str = "fn __casebook_collect(xs) { let a = []; for x in xs { a.push(x); } a }";

/// Rhai matches at most this many `Dynamic` parameters of a native function.
const MAX_PARAMS: usize = 16;

/// Who a call site calls.
#[derive(Clone, Copy)]
pub enum Callee {
    /// A compiled function, by index.
    Compiled(usize),
    /// Whatever Rhai resolves (a native or an interpreted script function).
    Rhai,
}

struct Func {
    name: ImmutableString,
    params: usize,
    slots: usize,
    typed: usize,
    body: St,
    empty: bool,
    /// A closure: not registered on the engine (a pointer to it calls the
    /// script function it was parsed into); only `par` runs it compiled.
    closure: bool,
    /// It calls a script function that runs interpreted (see [`Lib::callable`]).
    calls_interpreted: bool,
}

/// The compiled functions of one script.
pub struct Lib {
    funcs: Vec<Func>,
    /// Every script function: name, arity, and why it is interpreted (`None`: compiled).
    pub plan: Vec<(String, usize, Option<String>)>,
    /// The script's top-level statements compiled (`top`), if they could be.
    main: Option<top::Main>,
    /// Why the top-level statements are interpreted (`None`: compiled).
    pub main_plan: Option<String>,
}

/// Whether the interpreter is forced for everything (`CASEBOOK_INTERPRET=1`).
pub fn forced_off() -> bool {
    std::env::var_os("CASEBOOK_INTERPRET").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Compiles what it can of `ast`'s functions; returns the library and the
/// syntax tree the interpreter runs instead (the compiled functions taken
/// out, the loop helper put in). `natives`: the names of the engine's own
/// functions (a script function of such a name is left alone).
pub fn compile(engine: &Engine, ast: &AST, natives: &HashSet<String>) -> (Arc<Lib>, AST) {
    let defs: Vec<_> = ast.iter_fn_def().cloned().collect();
    let mut plan = Vec::new();
    let mut methods = HashSet::new();
    let mut any_def_fn = false;
    let mut pointers = HashSet::new();
    ast.walk(&mut |path| {
        match path.last() {
            Some(rhai::ASTNode::Expr(rhai::Expr::MethodCall(c, _))) => {
                methods.insert(c.name.to_string());
            }
            // A name as a value (`sort(page_order)`, `Fn("page_order")`) is a
            // function pointer the interpreter resolves among script functions.
            Some(rhai::ASTNode::Expr(rhai::Expr::Variable(v, _, _))) => {
                pointers.insert(v.1.to_string());
            }
            Some(rhai::ASTNode::Expr(rhai::Expr::StringConstant(s, _))) => {
                pointers.insert(s.to_string());
            }
            Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(c, _)))
            | Some(rhai::ASTNode::Stmt(rhai::Stmt::FnCall(c, _)))
                if c.name == "is_def_fn" =>
            {
                any_def_fn = true;
            }
            _ => {}
        }
        true
    });
    // A method of one of these names may be a script function: no fast path.
    let scripted: HashSet<String> = defs.iter().map(|d| d.name.to_string()).collect();
    let mut candidates: Vec<(Arc<rhai::ScriptFuncDef>, Vec<rhai::Stmt>)> = Vec::new();
    for d in &defs {
        let why = if forced_off() {
            Some("CASEBOOK_INTERPRET is set".to_string())
        } else if any_def_fn {
            Some("the script asks is_def_fn".into())
        } else if d.this_type.is_some() {
            Some("a method of a type".into())
        } else if natives.contains(d.name.as_str()) {
            Some("shares its name with a built-in function".into())
        } else if methods.contains(d.name.as_str()) {
            Some("called as a method".into())
        } else if pointers.contains(d.name.as_str()) {
            Some("used as a function pointer".into())
        } else if d.params.len() > MAX_PARAMS {
            Some("too many parameters".into())
        } else {
            None
        };
        match why {
            Some(w) => plan.push((d.name.to_string(), d.params.len(), Some(w))),
            None => candidates.push((d.clone(), body_of(ast, d))),
        }
    }
    // Whether a body compiles does not depend on which callees do: one pass
    // finds them, a second compiles with calls between them made direct.
    let mut ok = Vec::new();
    for (d, b) in &candidates {
        match Lower::new(&d.params, &Known::new(), &scripted).block(b) {
            Ok(_) => ok.push((d.clone(), b)),
            Err(e) => plan.push((d.name.to_string(), d.params.len(), Some(e.0))),
        }
    }
    let known: Known = ok
        .iter()
        .enumerate()
        .map(|(i, (d, _))| ((d.name.to_string(), d.params.len()), i))
        .collect();
    let mut funcs = Vec::new();
    for (d, stmts) in &ok {
        let closure = d.name.starts_with("anon$");
        let mut l = Lower::new(&d.params, &known, &scripted);
        let b = l.block(stmts).expect("compiled once already");
        funcs.push(Func {
            name: d.name.clone(),
            params: d.params.len(),
            slots: l.slots,
            typed: l.typed_slots,
            body: b,
            empty: stmts.is_empty(),
            closure,
            calls_interpreted: l.calls_interpreted,
        });
        plan.push((
            d.name.to_string(),
            d.params.len(),
            closure.then(|| CLOSURE_PLAN.to_string()),
        ));
    }
    plan.sort();
    // The top level, with every compiled function known to it.
    let (mut main, mut main_plan) = match (forced_off(), any_def_fn) {
        (true, _) => (None, Some("CASEBOOK_INTERPRET is set".to_string())),
        (_, true) => (None, Some("the script asks is_def_fn".to_string())),
        _ => match top::lower(ast, &known, &scripted) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e.0)),
        },
    };
    let mut run = ast.clone();
    let installed = funcs.iter().any(|f| !f.closure);
    if installed {
        // Closures stay: a pointer to one calls the script function.
        let done: HashSet<(String, usize)> = known
            .keys()
            .filter(|(n, _)| !n.starts_with("anon$"))
            .cloned()
            .collect();
        run.retain_functions(|_, _, name, n| !done.contains(&(name.to_string(), n)));
    }
    if installed || main.is_some() {
        if let Ok(helper) = engine.compile(COLLECT_SRC) {
            run = run.merge(&helper);
        }
    }
    if let Some(m) = &main {
        match top::replace_statements(engine, m, &run) {
            Some(r) => run = r,
            None => {
                main = None;
                main_plan = Some("its call could not be placed".into());
            }
        }
    }
    let lib = Lib {
        funcs,
        plan,
        main,
        main_plan,
    };
    (Arc::new(lib), run)
}

/// What `check --plan` says of a closure that compiled.
const CLOSURE_PLAN: &str =
    "a closure: compiled where map runs it on every core, interpreted elsewhere";

/// The statements of function `d`'s body (Rhai does not export the body's
/// type; its walk of a syntax tree holding only `d` visits them at depth one).
fn body_of(ast: &AST, d: &rhai::ScriptFuncDef) -> Vec<rhai::Stmt> {
    let n = d.params.len();
    let mut one = ast.clone_functions_only();
    one.retain_functions(|_, _, name, a| name == d.name && a == n);
    let mut out = Vec::new();
    one.walk(&mut |path| {
        if let [rhai::ASTNode::Stmt(s)] = path {
            out.push((*s).clone());
        }
        true
    });
    out
}

/// Registers every compiled function of `lib` on `engine` under its name,
/// with `Dynamic` parameters, held to `guard`'s limits.
pub fn install(engine: &mut Engine, lib: &Arc<Lib>, guard: Arc<Guard>) {
    top::install(engine, lib, &guard);
    for (i, f) in lib.funcs.iter().enumerate() {
        if f.closure {
            continue;
        }
        let (lib, guard) = (lib.clone(), guard.clone());
        engine.register_raw_fn(
            f.name.clone(),
            vec![TypeId::of::<Dynamic>(); f.params],
            move |ctx, args| {
                let mut vals = rt::frame_vec(lib.frame_len(i, args.len()));
                vals.extend(args.iter_mut().map(|a| a.flatten_clone()));
                // Rhai raised the level for this call already.
                let rt = Rt {
                    ctx: &ctx,
                    lib: &lib,
                    level: ctx.global_runtime_state().level.saturating_sub(1),
                    guard: &guard,
                };
                lib.enter(i, &rt, vals, ctx.call_position(), false)
            },
        );
    }
}

impl Lib {
    /// The plan as lines: `name/arity: compiled` or `…: interpreted (why)`.
    pub fn plan_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .plan
            .iter()
            .map(|(n, a, why)| match why {
                None => format!("{n}/{a}: compiled"),
                Some(w) if w == CLOSURE_PLAN => format!("{n}/{a}: {w}"),
                Some(w) => format!("{n}/{a}: interpreted ({w})"),
            })
            .collect();
        lines.push(match &self.main_plan {
            None => "top-level statements: compiled".to_string(),
            Some(w) => format!("top-level statements: interpreted ({w})"),
        });
        lines
    }

    /// Whether nothing runs compiled.
    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty() && self.main.is_none()
    }

    /// The compiled closure or function `name` of `params` parameters that
    /// `par` may call for each record, by index: not one that calls an
    /// interpreted script function, which the interpreter's own loop calls
    /// faster (its function caches last the whole batch).
    pub fn callable(&self, name: &str, params: usize) -> Option<usize> {
        self.funcs
            .iter()
            .position(|f| f.name == name && f.params == params && !f.calls_interpreted)
    }

    /// Runs function `i` once per item of `items` as the interpreter runs
    /// `for x in items { out.push(f.call(x)) }` at top level (`par`'s
    /// worker loop): one operation per item and per call, errors wrapped
    /// as the call of a script function at the native call's position.
    pub fn map_each(
        &self,
        i: usize,
        ctx: &rhai::NativeCallContext,
        guard: &Guard,
        items: impl Iterator<Item = R<Dynamic>>,
    ) -> R<rhai::Array> {
        let rt = Rt {
            ctx,
            lib: self,
            level: ctx.global_runtime_state().level.saturating_sub(1),
            guard,
        };
        let pos = ctx.call_position();
        let mut out = rhai::Array::new();
        for x in items {
            let x = x?;
            rt.tick(pos)?;
            let mut args = rt::frame_vec(self.frame_len(i, 1));
            args.push(x);
            out.push(self.enter(i, &rt, args, pos, true)?);
        }
        Ok(out)
    }

    /// How many values function `i`'s frame holds when called with `args`
    /// arguments (its arguments, then its locals): the capacity that spares
    /// [`Lib::enter`] a reallocation.
    pub fn frame_len(&self, i: usize, args: usize) -> usize {
        self.funcs[i].slots.max(args)
    }

    /// A call from compiled code to compiled function `i` at `pos`.
    pub fn call(&self, i: usize, rt: &Rt, args: Vec<Dynamic>, pos: Position) -> R<Dynamic> {
        self.enter(i, rt, args, pos, true)
    }

    /// Runs function `i` as the interpreter runs a script function: an empty
    /// body returns `()` at once; then one operation, the depth check, the
    /// body; errors wrapped in `ErrorInFunctionCall` at `pos`.
    fn enter(
        &self,
        i: usize,
        rt: &Rt,
        args: Vec<Dynamic>,
        pos: Position,
        tick: bool,
    ) -> R<Dynamic> {
        let f = &self.funcs[i];
        if f.empty {
            return Ok(Dynamic::UNIT);
        }
        if tick {
            rt.tick(pos)?;
        }
        let level = rt.level + 1;
        if level > rt.ctx.engine().max_call_levels() {
            return Err(EvalAltResult::ErrorStackOverflow(pos).into());
        }
        let mut vars = args;
        // Moved in, not cloned from one `()` as `resize` would: a call's locals.
        let locals = f.slots.saturating_sub(vars.len());
        vars.extend(std::iter::repeat_with(|| Dynamic::UNIT).take(locals));
        let mut frame = Frame {
            vars,
            findings: vec![None; f.typed],
        };
        let inner = Rt {
            ctx: rt.ctx,
            lib: rt.lib,
            level,
            guard: rt.guard,
        };
        let r = (f.body)(&mut frame, &inner);
        rt::recycle_frame(frame.vars);
        match r {
            Ok(Flow::Val(v) | Flow::Return(v)) => Ok(v),
            Ok(_) => Ok(Dynamic::UNIT),
            Err(mut e) => {
                if matches!(*e, EvalAltResult::Exit(..)) || e.is_system_exception() {
                    e.set_position(pos);
                    return Err(e);
                }
                let src = rt.ctx.global_runtime_state().source().unwrap_or("");
                Err(
                    EvalAltResult::ErrorInFunctionCall(f.name.to_string(), src.into(), e, pos)
                        .into(),
                )
            }
        }
    }
}
