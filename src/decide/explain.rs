//! `casebook explain SCRIPT ID`: how one institution's decision came out, for
//! the institution that asks "why was I graded D?".
//!
//! The rule's `fn score(inst)` (or another function taking an institution,
//! `--fn`) runs once on that institution with a tracer attached: every `if`
//! and `switch` it passes is shown with the values its condition read
//! (`f.days_overdue = 46`) and the way it went, every `deduct` with its points,
//! reason and line, every function entered; then the score and the grade.
//! Conditions are evaluated a second time to show them: only those that call
//! no script function and nothing with an effect (`deduct`, `emit`, write
//! functions), so showing a decision never changes it.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use rhai::debugger::DebuggerEvent;
use rhai::{ASTNode, Dynamic, EvalContext, Expr, Map, Position, Stmt};

use super::{default_grade, fmt_score};
use crate::ledger::Ledger;
use crate::script::debug::{attach_to, call_stack, Tracer};
use crate::script::records::InstitutionRef;
use crate::script::state::Host;
use crate::script::{diag, Limits, RunError, ScriptHost};

/// Functions whose call is an effect: a condition calling one is not evaluated again.
fn has_effect(name: &str) -> bool {
    matches!(name, "deduct" | "emit" | "columns" | "print" | "debug")
        || crate::script::api::FUNCTIONS.iter().any(|(n, _, d, _)| {
            *n == name && (d.starts_with("(--write") || d.starts_with("(--out"))
        })
}

/// The text of a variable or a chain of properties (`f.days_overdue`), or `None`.
fn leaf_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Variable(x, ..) if x.2.is_empty() => Some(x.1.to_string()),
        Expr::Property(x, ..) => Some(x.2.to_string()),
        Expr::Dot(b, ..) => Some(format!("{}.{}", leaf_text(&b.lhs)?, leaf_text(&b.rhs)?)),
        _ => None,
    }
}

/// The variables and properties a condition reads, in the order written.
fn leaves<'a>(e: &'a Expr, out: &mut Vec<(String, &'a Expr)>) {
    if let Some(t) = leaf_text(e) {
        if !out.iter().any(|(s, _)| *s == t) {
            out.push((t, e));
        }
        return;
    }
    match e {
        Expr::FnCall(f, ..) => f.args.iter().for_each(|a| leaves(a, out)),
        Expr::And(v, ..) | Expr::Or(v, ..) | Expr::Coalesce(v, ..) => {
            v.iter().for_each(|a| leaves(a, out))
        }
        Expr::Dot(b, ..) | Expr::Index(b, ..) => leaves(&b.lhs, out),
        _ => {}
    }
}

/// Whether evaluating `e` again cannot change anything.
fn pure(e: &Expr, script_fns: &[String]) -> bool {
    let mut ok = true;
    let mut check = |name: &str| {
        if has_effect(name) || script_fns.iter().any(|f| f == name) {
            ok = false;
        }
    };
    fn walk(e: &Expr, check: &mut dyn FnMut(&str)) {
        match e {
            Expr::FnCall(f, ..) => {
                if f.op_token.is_none() {
                    check(&f.name);
                }
                f.args.iter().for_each(|a| walk(a, check));
            }
            Expr::MethodCall(f, ..) => {
                check(&f.name);
                f.args.iter().for_each(|a| walk(a, check));
            }
            Expr::And(v, ..) | Expr::Or(v, ..) | Expr::Coalesce(v, ..) => {
                v.iter().for_each(|a| walk(a, check))
            }
            Expr::Dot(b, ..) | Expr::Index(b, ..) => {
                walk(&b.lhs, check);
                walk(&b.rhs, check);
            }
            // Blocks, closures, interpolated strings: not worth the risk.
            Expr::Stmt(..) | Expr::InterpolatedString(..) | Expr::Custom(..) => check("deduct"),
            _ => {}
        }
    }
    walk(e, &mut check);
    ok
}

/// A value as the explanation shows it.
fn shown(v: &Dynamic) -> String {
    if v.is_string() {
        format!("{:?}", v.to_string())
    } else if v.is_unit() {
        "()".into()
    } else {
        crate::script::output::cell(v)
    }
}

/// The tracer: what the run did, as lines.
struct Explainer {
    file: String,
    src: Vec<String>,
    host: Arc<Host>,
    script_fns: Vec<String>,
    /// Set while the tracer evaluates a condition itself.
    busy: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    lines: Vec<String>,
    /// Deductions already shown.
    deducted: usize,
    /// Where the last `deduct` call is.
    deduct_at: usize,
    /// The call depth of the last step.
    depth: usize,
    /// The loop variables seen: a condition reading one shows which item it is on.
    loop_vars: Vec<String>,
}

impl Explainer {
    /// The condition as written: the source from `pos` to its block.
    fn cond_text(&self, pos: Position, keyword: &str) -> String {
        let line = pos.line().unwrap_or(0);
        let col = pos.position().unwrap_or(1);
        let text: String = self
            .src
            .get(line.wrapping_sub(1))
            .map(|l| l.chars().skip(col - 1).collect())
            .unwrap_or_default();
        let text = text.trim_start().strip_prefix(keyword).unwrap_or(&text);
        text.split('{').next().unwrap_or("").trim().to_string()
    }

    fn eval(&self, ctx: &mut EvalContext, e: &Expr) -> String {
        self.busy.store(true, Ordering::Relaxed);
        let r = ctx.eval_expression_tree(&rhai::Expression::from(e));
        self.busy.store(false, Ordering::Relaxed);
        match r {
            Ok(v) => shown(&v),
            Err(err) => format!("(error: {err})"),
        }
    }

    /// `if COND → true  (a = 1, b.c = 2)` for a condition at `pos`.
    fn branch(&self, ctx: &mut EvalContext, keyword: &str, cond: &Expr, pos: Position) -> String {
        let mut ls = Vec::new();
        leaves(cond, &mut ls);
        // `f = F2019-000057` first, when the condition reads a loop variable's properties.
        let loop_vars = self.state.lock().unwrap().loop_vars.clone();
        let mut roots = Vec::new();
        for (_, e) in &ls {
            let mut e = *e;
            while let Expr::Dot(b, ..) = e {
                e = &b.lhs;
            }
            if let Some(t) = leaf_text(e).filter(|t| loop_vars.contains(t)) {
                if !roots
                    .iter()
                    .chain(ls.iter())
                    .any(|(s, _): &(String, &Expr)| *s == t)
                {
                    roots.push((t, e));
                }
            }
        }
        roots.extend(ls);
        let ls = roots;
        let values: Vec<String> = ls
            .iter()
            .map(|(t, e)| format!("{t} = {}", self.eval(ctx, e)))
            .collect();
        let text = self.cond_text(pos, keyword);
        let outcome = if pure(cond, &self.script_fns) {
            format!(" → {}", self.eval(ctx, cond))
        } else {
            String::new()
        };
        let mut s = format!("{keyword} {text}{outcome}");
        if !(values.is_empty() || ls.len() == 1 && ls[0].0 == text) {
            s.push_str(&format!("   ({})", values.join(", ")));
        }
        s
    }

    fn push(&self, st: &mut State, line: usize, depth: usize, what: String) {
        let at = format!("{}:{line}", self.file);
        st.lines.push(format!(
            "{at:<28} {}{what}",
            "  ".repeat(depth.saturating_sub(1))
        ));
    }
}

impl Tracer for Explainer {
    fn step(
        &self,
        ctx: &mut EvalContext,
        event: &DebuggerEvent,
        node: ASTNode,
        _src: Option<&str>,
        pos: Position,
    ) {
        if self.busy.load(Ordering::Relaxed) {
            return;
        }
        let mut st = self.state.lock().unwrap();
        let stack = call_stack(ctx);
        let depth = stack.len();
        // Deductions made since the last step: by the `deduct` call seen last.
        let trace: Vec<(f64, String)> = self.host.trace.lock().unwrap()[st.deducted..].to_vec();
        for (p, why) in trace {
            st.deducted += 1;
            let (at, depth) = (st.deduct_at, st.depth);
            self.push(
                &mut st,
                at,
                depth,
                format!("deduct {}: {why}", fmt_score(p)),
            );
        }
        if depth > st.depth && !matches!(event, DebuggerEvent::FunctionExitWithValue(_)) {
            if let Some(f) = stack.last() {
                let args: Vec<String> = f.args.iter().map(shown).collect();
                let line = pos.line().unwrap_or(0);
                self.push(
                    &mut st,
                    line,
                    depth,
                    format!("fn {}({})", f.fn_name, args.join(", ")),
                );
            }
        }
        st.depth = depth;
        let line = pos.line().unwrap_or(0);
        match node {
            ASTNode::Stmt(Stmt::If(fc, _)) => {
                drop(st);
                let s = self.branch(ctx, "if", &fc.expr, pos);
                let mut st = self.state.lock().unwrap();
                self.push(&mut st, line, depth + 1, s);
            }
            ASTNode::Stmt(Stmt::Switch(x, _)) => {
                drop(st);
                let s = if pure(&x.0, &self.script_fns) {
                    format!(
                        "switch {} = {}",
                        self.cond_text(pos, "switch"),
                        self.eval(ctx, &x.0)
                    )
                } else {
                    format!("switch {}", self.cond_text(pos, "switch"))
                };
                let mut st = self.state.lock().unwrap();
                self.push(&mut st, line, depth + 1, s);
            }
            ASTNode::Stmt(Stmt::For(x, _)) => {
                let v = x.0.name.to_string();
                if !st.loop_vars.contains(&v) {
                    st.loop_vars.push(v);
                }
            }
            ASTNode::Expr(Expr::FnCall(f, _)) | ASTNode::Stmt(Stmt::FnCall(f, _))
                if f.name == "deduct" =>
            {
                st.deduct_at = line;
            }
            _ => {}
        }
    }
}

/// Explains `func` (default `score`) of the rule at `script` for institution
/// `id` as of `as_of`, writing the explanation to `w`.
pub fn explain(
    ledger: &Ledger,
    script: &Path,
    id: &str,
    as_of: NaiveDate,
    func: Option<&str>,
    args: Map,
    w: &mut dyn Write,
) -> Result<(), RunError> {
    let src = crate::script::read_script(script, crate::script::Limits::default().max_memory)?;
    let file = script.display().to_string();
    let mut host = ScriptHost::new(ledger, as_of, args, false, Limits::default())?;
    let mut ast = host
        .compile(&src)
        .map_err(|e| RunError::Script(diag::parse_diag(&e).render(&file, &src)))?;
    ast.set_source(file.as_str());
    let name = func.unwrap_or("score");
    let has = |n: &str| {
        ast.iter_functions()
            .any(|f| f.name == n && f.params.len() == 1)
    };
    if !has(name) {
        return Err(RunError::Script(format!(
            "error: {file} defines no fn {name}(inst): explain calls a function taking one institution\n"
        )));
    }
    let snap = host.host.snap();
    let Some(inst) = snap.reader.institution_as(id)? else {
        return Err(RunError::Script(format!(
            "error: no institution with id \"{id}\"\n"
        )));
    };
    let inst = Dynamic::from(InstitutionRef::new(Arc::new(inst), snap.clone()));
    let tracer = Arc::new(Explainer {
        file: file.clone(),
        src: src.lines().map(String::from).collect(),
        host: host.host.clone(),
        script_fns: ast.iter_functions().map(|f| f.name.to_string()).collect(),
        busy: AtomicBool::new(false),
        state: Mutex::new(State::default()),
    });
    attach_to(&mut host.engine, tracer.clone());
    *host.host.ast.write().unwrap() = Some(Arc::new(ast.clone()));
    *host.host.started.lock().unwrap() = std::time::Instant::now();
    let call = |f: &str, arg: Dynamic| {
        let opts = rhai::CallFnOptions::new().eval_ast(false);
        let mut scope = host.scope();
        host.engine
            .call_fn_with_options::<Dynamic>(opts, &mut scope, &ast, f, (arg,))
            .map_err(|e| RunError::Script(diag::runtime_diag(&e, &host.limits).render(&file, &src)))
    };
    let value = call(name, inst)?;
    let out = |w: &mut dyn Write, lines: &mut Vec<String>| -> std::io::Result<()> {
        for l in lines.drain(..) {
            writeln!(w, "{l}")?;
        }
        Ok(())
    };
    writeln!(w, "{name}({id}) as of {as_of}, by {file}:").map_err(RunError::Output)?;
    out(w, &mut tracer.state.lock().unwrap().lines).map_err(RunError::Output)?;
    let text = if name == "score" {
        let score = value
            .read_lock::<Map>()
            .and_then(|m| m.get("score").cloned())
            .unwrap_or(value.clone());
        let n = score
            .as_int()
            .map(|i| i as f64)
            .or_else(|_| score.as_float())
            .map_err(|_| {
                RunError::Script(format!(
                    "error: fn score returned {} for {id}, not a number\n",
                    shown(&value)
                ))
            })?;
        let grade = if has("grade") {
            tracer.state.lock().unwrap().depth = 0;
            let g = call("grade", score.clone())?;
            out(w, &mut tracer.state.lock().unwrap().lines).map_err(RunError::Output)?;
            g.to_string()
        } else {
            default_grade(n).to_string()
        };
        format!("score {} → grade {grade}", fmt_score(n))
    } else {
        format!("{name} returned {}", shown(&value))
    };
    writeln!(w, "{text}").map_err(RunError::Output)?;
    Ok(())
}
