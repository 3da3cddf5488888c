//! Rhai's syntax tree of one script function, turned into nested Rust
//! closures. A construct this does not cover makes the whole function stay
//! with the interpreter ([`Unsupported`] says which and where).

use std::collections::{HashMap, HashSet};

use rhai::{Array, Dynamic, EvalAltResult, Expr, FnPtr, ImmutableString, Map, Position, Stmt};

use super::native::Direct;
use super::rt::{fast_binary, Builtin, Flow, Frame, Op, Rt, R};
use super::Callee;

mod dates;
mod emit;
mod loops;
mod text;

/// A call's few arguments, on the stack (most calls have at most four).
type Few<T> = smallvec::SmallVec<[T; 4]>;

/// A compiled expression.
pub type Ex = Box<dyn Fn(&mut Frame, &Rt) -> R<Dynamic> + Send + Sync>;
/// A compiled statement.
pub type St = Box<dyn Fn(&mut Frame, &Rt) -> R<Flow> + Send + Sync>;

/// Why a function is left to the interpreter.
#[derive(Debug, Clone)]
pub struct Unsupported(pub String);

type C<T> = Result<T, Unsupported>;

fn no<T>(what: &str, pos: Position) -> C<T> {
    Err(Unsupported(match pos.line() {
        Some(l) => format!("{what} (line {l})"),
        None => what.to_string(),
    }))
}

/// The functions a call site may call without Rhai: compiled ones by name and arity.
pub type Known = HashMap<(String, usize), usize>;

/// Compiles one function body.
pub struct Lower<'a> {
    /// Visible variables, innermost last: name, slot, constant.
    scope: Vec<(ImmutableString, usize)>,
    pub slots: usize,
    /// Loop variables held as findings (`Frame::findings`): name, slot.
    typed: Vec<(ImmutableString, usize)>,
    pub typed_slots: usize,
    known: &'a Known,
    /// Names of the script's own functions.
    scripted: &'a HashSet<String>,
    /// Names of functions the native engine has (a call to one is never a script function's).
    loops: usize,
    /// Depth of `{ … }` blocks used as values (`if` as an expression).
    expr_blocks: usize,
    /// Whether the body calls a script function that runs interpreted (a
    /// call from Rust into the interpreter starts with empty caches).
    pub calls_interpreted: bool,
}

/// Rhai's special functions, which read the caller's scope or build
/// function pointers: left to the interpreter.
const SPECIAL: &[&str] = &[
    "Fn",
    "call",
    "curry",
    "eval",
    "is_def_var",
    "is_def_fn",
    "is_shared",
    "type_of",
    "print",
    "debug",
    "this",
    "sleep",
];

impl<'a> Lower<'a> {
    pub fn new(
        params: &[ImmutableString],
        known: &'a Known,
        scripted: &'a HashSet<String>,
    ) -> Lower<'a> {
        Lower {
            scripted,
            scope: params.iter().cloned().zip(0..).collect(),
            slots: params.len(),
            typed: Vec::new(),
            typed_slots: 0,
            known,
            loops: 0,
            expr_blocks: 0,
            calls_interpreted: false,
        }
    }

    /// The finding slot of `name`, if it is a loop variable held as a
    /// finding (declared innermost: nothing inside such a loop shadows it).
    fn find_typed(&self, name: &str) -> Option<usize> {
        self.typed
            .iter()
            .rev()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, s)| *s)
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, s)| *s)
    }

    fn declare(&mut self, name: &ImmutableString) -> usize {
        let s = self.slots;
        self.slots += 1;
        self.scope.push((name.clone(), s));
        s
    }

    /// A block: its statements in a scope of their own; its value is the last one's.
    pub fn block(&mut self, stmts: &[Stmt]) -> C<St> {
        let mark = self.scope.len();
        let mut list = stmts.iter().map(|s| self.stmt(s)).collect::<C<Vec<_>>>()?;
        self.scope.truncate(mark);
        // The same flow without the walk (`if`'s empty `else`, one-line bodies).
        match list.len() {
            0 => return Ok(Box::new(|_, _| Ok(Flow::Val(Dynamic::UNIT)))),
            1 => return Ok(list.pop().expect("one statement")),
            _ => {}
        }
        Ok(Box::new(move |f, rt| {
            let mut last = Flow::Val(Dynamic::UNIT);
            for s in &list {
                last = s(f, rt)?;
                if !matches!(last, Flow::Val(_)) {
                    return Ok(last);
                }
            }
            Ok(last)
        }))
    }

    fn stmt(&mut self, s: &Stmt) -> C<St> {
        let pos = s.position();
        Ok(match s {
            Stmt::Noop(_) => Box::new(|_, _| Ok(Flow::Val(Dynamic::UNIT))),
            Stmt::Expr(e) => {
                let e = self.expr(e)?;
                Box::new(move |f, rt| e(f, rt).map(Flow::Val))
            }
            Stmt::FnCall(call, p) => {
                let e = self.fn_call(call, *p)?;
                Box::new(move |f, rt| e(f, rt).map(Flow::Val))
            }
            Stmt::Block(b) => {
                let b = self.block(b.statements())?;
                Box::new(move |f, rt| b(f, rt))
            }
            Stmt::Var(x, flags, _) => {
                let (name, value, _) = &**x;
                if flags.contains(rhai::ASTFlags::EXPORTED) {
                    return no("export", pos);
                }
                // A constant's value refuses change (`C.push(x)` is an error): Rhai's to keep.
                if flags.contains(rhai::ASTFlags::CONSTANT) {
                    return no("a const", pos);
                }
                let v = self.expr(value)?;
                let slot = self.declare(&name.name);
                Box::new(move |f, rt| {
                    rt.tick(pos)?;
                    f.vars[slot] = v(f, rt)?;
                    Ok(Flow::Val(Dynamic::UNIT))
                })
            }
            Stmt::Assignment(x) => self.assign(x)?,
            Stmt::If(x, _) => {
                let cond = self.expr(&x.expr)?;
                let cpos = x.expr.position();
                let body = self.block(x.body.statements())?;
                let other = self.block(x.branch.statements())?;
                Box::new(move |f, rt| {
                    rt.tick(pos)?;
                    if truth(cond(f, rt)?, rt, cpos)? {
                        body(f, rt)
                    } else {
                        other(f, rt)
                    }
                })
            }
            Stmt::While(x, _) => {
                let cond = (!matches!(x.expr, Expr::Unit(_))).then(|| self.expr(&x.expr));
                let cond = cond.transpose()?;
                let cpos = x.expr.position();
                self.loops += 1;
                let body = self.block(x.body.statements())?;
                self.loops -= 1;
                Box::new(move |f, rt| loop {
                    rt.tick(pos)?;
                    if let Some(c) = &cond {
                        if !truth(c(f, rt)?, rt, cpos)? {
                            return Ok(Flow::Val(Dynamic::UNIT));
                        }
                    }
                    match body(f, rt)? {
                        Flow::Break => return Ok(Flow::Val(Dynamic::UNIT)),
                        r @ Flow::Return(_) => return Ok(r),
                        _ => {}
                    }
                })
            }
            Stmt::For(x, _) => self.for_loop(x, pos)?,
            Stmt::BreakLoop(v, flags, _) => {
                if v.is_some() || self.loops == 0 || self.expr_blocks > 0 {
                    return no("break with a value", pos);
                }
                let brk = flags.contains(rhai::ASTFlags::BREAK);
                Box::new(move |_, rt| {
                    rt.tick(pos)?;
                    Ok(if brk { Flow::Break } else { Flow::Continue })
                })
            }
            Stmt::Return(v, flags, _) => {
                let throw = flags.contains(rhai::ASTFlags::BREAK);
                if !throw && self.expr_blocks > 0 {
                    return no("return inside a block used as a value", pos);
                }
                let v = v.as_ref().map(|e| self.expr(e)).transpose()?;
                Box::new(move |f, rt| {
                    rt.tick(pos)?;
                    let val = match &v {
                        Some(e) => e(f, rt)?,
                        None => Dynamic::UNIT,
                    };
                    if throw {
                        Err(EvalAltResult::ErrorRuntime(val, pos).into())
                    } else {
                        Ok(Flow::Return(val))
                    }
                })
            }
            _ => return no("this kind of statement", pos),
        })
    }

    fn assign(&mut self, x: &(rhai::OpAssignment, rhai::BinaryExpr)) -> C<St> {
        let (op, bin) = x;
        let pos = op.position();
        let Expr::Variable(v, _, vpos) = &bin.lhs else {
            return no("assignment to a property or an index", pos);
        };
        if !v.2.is_empty() {
            return no("assignment to a module variable", *vpos);
        }
        let Some(slot) = self.find(&v.1) else {
            return no("assignment to a variable of the caller", *vpos);
        };
        let rhs = self.expr(&bin.rhs)?;
        let Some((_, _, _, op_x, _, op_str)) = op.get_op_assignment_info() else {
            return Ok(Box::new(move |f, rt| {
                rt.tick(pos)?;
                f.vars[slot] = rhs(f, rt)?;
                Ok(Flow::Val(Dynamic::UNIT))
            }));
        };
        let fast = Op::of(op_str);
        Ok(Box::new(move |f, rt| {
            rt.tick(pos)?;
            let mut val = rhs(f, rt)?;
            if let Some(r) = fast_binary(fast, &f.vars[slot], &val) {
                f.vars[slot] = r;
                return Ok(Flow::Val(Dynamic::UNIT));
            }
            let target = &mut f.vars[slot];
            match rt.call_native(op_x, true, &mut [target, &mut val], pos) {
                Ok(_) => {}
                Err(e) if matches!(&*e, EvalAltResult::ErrorFunctionNotFound(n, _) if n.starts_with(op_x)) =>
                {
                    let target = &mut f.vars[slot];
                    let r = rt.call_native(op_str, true, &mut [target, &mut val], pos)?;
                    f.vars[slot] = r;
                }
                Err(e) => return Err(e),
            }
            Ok(Flow::Val(Dynamic::UNIT))
        }))
    }

    pub fn expr(&mut self, e: &Expr) -> C<Ex> {
        let pos = e.position();
        Ok(match e {
            Expr::DynamicConstant(v, _) => {
                // A closure's pointer (it names the script function the
                // closure was parsed into, which stays); one that captures
                // variables is built by a call of `curry`, left to Rhai.
                if v.read_lock::<FnPtr>()
                    .is_some_and(|p| !p.curry().is_empty())
                {
                    return no("a closure", pos);
                }
                constant((**v).clone())
            }
            Expr::BoolConstant(b, _) => constant((*b).into()),
            Expr::IntegerConstant(i, _) => constant((*i).into()),
            Expr::FloatConstant(x, _) => constant((**x).into()),
            Expr::CharConstant(c, _) => constant((*c).into()),
            Expr::StringConstant(s, _) => constant(s.clone().into()),
            Expr::Unit(_) => constant(Dynamic::UNIT),
            Expr::InterpolatedString(parts, _) => self.interpolated(parts)?,
            Expr::Array(items, _) => {
                let items = items.iter().map(|p| self.expr(p)).collect::<C<Vec<_>>>()?;
                Box::new(move |f, rt| {
                    let mut a = Array::with_capacity(items.len());
                    for i in &items {
                        a.push(i(f, rt)?);
                    }
                    Ok(a.into())
                })
            }
            Expr::Map(x, _) => {
                let template: Map = x.1.clone();
                let items =
                    x.0.iter()
                        .map(|(k, v)| Ok((k.name.clone(), self.expr(v)?)))
                        .collect::<C<Vec<_>>>()?;
                Box::new(move |f, rt| {
                    let mut m = template.clone();
                    for (k, v) in &items {
                        m.insert(k.as_str().into(), v(f, rt)?);
                    }
                    Ok(m.into())
                })
            }
            Expr::Variable(v, _, _) => {
                if !v.2.is_empty() {
                    return self.global_var(e);
                }
                let Some(slot) = self.find(&v.1) else {
                    return no("a variable the function does not define", pos);
                };
                Box::new(move |f, _| Ok(f.vars[slot].clone()))
            }
            Expr::Stmt(b) => {
                self.expr_blocks += 1;
                let b = self.block(b.statements());
                self.expr_blocks -= 1;
                let b = b?;
                Box::new(move |f, rt| {
                    Ok(match b(f, rt)? {
                        Flow::Val(v) => v,
                        // Break and return are not compiled inside such blocks.
                        _ => Dynamic::UNIT,
                    })
                })
            }
            Expr::FnCall(call, p) => self.fn_call(call, *p)?,
            Expr::Dot(x, flags, _) => self.dot(&x.lhs, &x.rhs, *flags)?,
            Expr::And(list, _) | Expr::Or(list, _) => {
                let and = matches!(e, Expr::And(..));
                let list = list
                    .iter()
                    .map(|x| Ok((self.expr(x)?, x.position())))
                    .collect::<C<Vec<_>>>()?;
                Box::new(move |f, rt| {
                    for (x, p) in &list {
                        let v = x(f, rt)?;
                        let b = v.as_bool().map_err(|t| rt.mismatch("bool", t, *p))?;
                        if b != and {
                            return Ok(b.into());
                        }
                    }
                    Ok(and.into())
                })
            }
            Expr::Coalesce(list, _) => {
                let list = list.iter().map(|x| self.expr(x)).collect::<C<Vec<_>>>()?;
                Box::new(move |f, rt| {
                    let mut v = Dynamic::UNIT;
                    for x in &list {
                        v = x(f, rt)?;
                        if !v.is_unit() {
                            break;
                        }
                    }
                    Ok(v)
                })
            }
            _ => return no("this kind of expression", pos),
        })
    }

    /// `global::NAME`: the run's constants.
    fn global_var(&mut self, e: &Expr) -> C<Ex> {
        let Expr::Variable(v, _, pos) = e else {
            unreachable!()
        };
        let ns = v.2.to_string();
        if ns != "global" {
            return no("a module variable", *pos);
        }
        let name = v.1.clone();
        let pos = *pos;
        Ok(Box::new(move |_, rt| {
            let g = rt.ctx.global_runtime_state();
            if let Some(c) = g.constants.as_ref() {
                if let Some(v) = c.read().ok().and_then(|m| m.get(name.as_str()).cloned()) {
                    return Ok(v);
                }
            }
            Err(EvalAltResult::ErrorVariableNotFound(format!("global::{name}"), pos).into())
        }))
    }

    /// `global::NAME.prop`: a map constant's property read where it is
    /// (`global::args.district`), not from a copy of the whole map.
    fn global_prop(
        &mut self,
        name: ImmutableString,
        vpos: Position,
        prop: ImmutableString,
        rhs: &Expr,
    ) -> C<Ex> {
        let rest = self.chain(rhs)?;
        Ok(Box::new(move |f, rt| {
            let g = rt.ctx.global_runtime_state();
            let found = g.constants.as_ref().and_then(|c| {
                let m = c.read().ok()?;
                let v = m.get(name.as_str())?;
                let r = match v.read_lock::<Map>() {
                    Some(map) => Ok(map.get(prop.as_str()).cloned().unwrap_or(Dynamic::UNIT)),
                    None => Err(v.clone()),
                };
                Some(r)
            });
            match found {
                Some(Ok(v)) => Ok(v),
                Some(Err(v)) => rest(Target::Value(v), f, rt),
                None => Err(
                    EvalAltResult::ErrorVariableNotFound(format!("global::{name}"), vpos).into(),
                ),
            }
        }))
    }

    fn args(&mut self, args: &[Expr]) -> C<Vec<Ex>> {
        args.iter().map(|a| self.expr(a)).collect()
    }

    fn fn_call(&mut self, call: &rhai::FnCallExpr, pos: Position) -> C<Ex> {
        if !call.namespace.is_empty() || call.capture_parent_scope {
            return no("a namespaced or capturing call", pos);
        }
        let name = call.name.clone();
        if SPECIAL.contains(&name.as_str()) {
            return no(&format!("a call of {name}"), pos);
        }
        let n = call.args.len();
        if call.op_token.is_none() {
            if let Some(e) = self.record_text_cmp(call, pos)? {
                return Ok(e);
            }
        }
        if let Some(op) = call.op_token.as_ref() {
            if let Some(e) = self.finding_text_cmp(call) {
                return Ok(e);
            }
            if let Some(e) = self.record_text_cmp(call, pos)? {
                return Ok(e);
            }
            if let Some(e) = self.date_operator(call, pos)? {
                return Ok(e);
            }
            let args = self.args(&call.args)?;
            return Ok(operator(name, op.clone(), args, pos));
        }
        let callee = match self.known.get(&(name.to_string(), n)) {
            Some(&i) => Callee::Compiled(i),
            None => Callee::Rhai,
        };
        if matches!(callee, Callee::Rhai) && self.scripted.contains(name.as_str()) {
            self.calls_interpreted = true;
        }
        if let (Some(Expr::Map(m, _)), true) = (call.args.first(), name == "emit" && n == 1) {
            if !self.scripted.contains("emit") {
                return self.emit_literal(&m.0, pos);
            }
        }
        let direct = match callee {
            Callee::Rhai if !self.scripted.contains(name.as_str()) => Direct::of(&name, n),
            _ => None,
        };
        // The interpreter hands a variable first argument to a native function by reference.
        let by_ref = match call.args.first() {
            Some(Expr::Variable(v, _, _)) if v.2.is_empty() => self.find(&v.1),
            _ => None,
        };
        let args = self.args(&call.args)?;
        Ok(Box::new(move |f, rt| {
            rt.tick(pos)?;
            if let Callee::Compiled(i) = callee {
                // The callee's frame is these values and its locals: room for all at once.
                let mut vals = super::rt::frame_vec(rt.lib.frame_len(i, args.len()));
                for a in &args {
                    vals.push(a(f, rt)?);
                }
                return rt.lib.call(i, rt, vals, pos);
            }
            let mut vals: Few<Dynamic> = Few::new();
            let skip = usize::from(by_ref.is_some());
            for a in &args[skip..] {
                vals.push(a(f, rt)?);
            }
            match callee {
                Callee::Compiled(_) => unreachable!("called above"),
                Callee::Rhai => match by_ref {
                    Some(slot) if skip == 1 => {
                        let (first, rest) = (&mut f.vars[slot], &mut vals);
                        let mut refs: Few<&mut Dynamic> = Few::new();
                        refs.push(first);
                        refs.extend(rest.iter_mut());
                        if let Some(r) =
                            direct.and_then(|d| d.call(&rt.guard.host, true, &mut refs))
                        {
                            return r.map_err(|e| rt.at(e, pos));
                        }
                        rt.call(&name, true, false, &mut refs, pos)
                    }
                    _ => {
                        let mut refs: Few<&mut Dynamic> = vals.iter_mut().collect();
                        if let Some(r) =
                            direct.and_then(|d| d.call(&rt.guard.host, false, &mut refs))
                        {
                            return r.map_err(|e| rt.at(e, pos));
                        }
                        rt.call(&name, false, false, &mut refs, pos)
                    }
                },
            }
        }))
    }

    /// `lhs.rhs`: a property or a method call, possibly a chain of them.
    fn dot(&mut self, lhs: &Expr, rhs: &Expr, flags: rhai::ASTFlags) -> C<Ex> {
        if flags.intersects(rhai::ASTFlags::NEGATED) {
            return no("the ?. operator", rhs.position());
        }
        if let (Expr::Variable(v, _, _), Expr::Property(p, ppos)) = (lhs, rhs) {
            if let Some(k) = v.2.is_empty().then(|| self.find_typed(&v.1)).flatten() {
                let Some(get) = <crate::script::records::FindingRef as crate::script::records::ScriptRecord>::getter(&p.2) else {
                    return no("a property findings do not have", *ppos);
                };
                return Ok(Box::new(move |f, _| {
                    Ok(get(f.findings[k].as_ref().expect("set by the loop")))
                }));
            }
        }
        if let (Expr::Variable(v, _, vpos), Expr::Property(p, _)) = (lhs, rhs) {
            if v.2.to_string() == "global" {
                return self.global_prop(v.1.clone(), *vpos, p.2.clone(), rhs);
            }
        }
        // The target: a variable (read in place, changed in place by a method) or a value.
        let slot = match lhs {
            Expr::Variable(v, _, p) if v.2.is_empty() => match self.find(&v.1) {
                Some(s) => Some(s),
                None => return no("a variable the function does not define", *p),
            },
            _ => None,
        };
        let root = match slot {
            Some(_) => None,
            None => Some(self.expr(lhs)?),
        };
        let chain = self.chain(rhs)?;
        Ok(Box::new(move |f, rt| match (&root, slot) {
            (Some(r), _) => {
                let v = r(f, rt)?;
                chain(Target::Value(v), f, rt)
            }
            (None, Some(s)) => chain(Target::Slot(s), f, rt),
            _ => unreachable!(),
        }))
    }

    /// The rest of a dot chain, applied to a target.
    fn chain(&mut self, rhs: &Expr) -> C<Link> {
        match rhs {
            Expr::Property(p, pos) => {
                let get = super::props::getter(&p.2);
                let (getter, name, pos) = (p.0 .0.clone(), p.2.clone(), *pos);
                Ok(Box::new(move |mut t, f, rt| {
                    let (v, by_ref): (&mut Dynamic, bool) = match t {
                        Target::Slot(s) => (&mut f.vars[s], true),
                        Target::Value(ref mut v) => (v, false),
                    };
                    if let Some(r) = get.read(v) {
                        return Ok(r);
                    }
                    if let Some(m) = v.read_lock::<Map>() {
                        return Ok(m.get(name.as_str()).cloned().unwrap_or(Dynamic::UNIT));
                    }
                    rt.call_native(&getter, by_ref, &mut [v], pos)
                }))
            }
            Expr::MethodCall(call, pos) => {
                let pos = *pos;
                if SPECIAL.contains(&call.name.as_str()) {
                    return no(&format!("a call of {}", call.name), pos);
                }
                let args = self.args(&call.args)?;
                let name = call.name.clone();
                self.calls_interpreted |= self.scripted.contains(name.as_str());
                let (fast, direct) = match self.scripted.contains(name.as_str()) {
                    true => (None, None),
                    false => (
                        Builtin::of(&name, args.len()),
                        Direct::of(&name, args.len() + 1),
                    ),
                };
                Ok(Box::new(move |t, f, rt| {
                    let mut vals: Few<Dynamic> = Few::new();
                    for a in &args {
                        vals.push(a(f, rt)?);
                    }
                    rt.tick(pos)?;
                    let mut t = t;
                    let (v, by_ref): (&mut Dynamic, bool) = match t {
                        Target::Slot(s) => (&mut f.vars[s], true),
                        Target::Value(ref mut v) => (v, false),
                    };
                    if let Some(r) = fast.and_then(|b| b.call(v, &mut vals)) {
                        return Ok(r);
                    }
                    let mut refs: Few<&mut Dynamic> = Few::new();
                    refs.push(v);
                    refs.extend(vals.iter_mut());
                    if let Some(r) = direct.and_then(|d| d.call(&rt.guard.host, by_ref, &mut refs))
                    {
                        return r.map_err(|e| rt.at(e, pos));
                    }
                    rt.call(&name, by_ref, true, &mut refs, pos)
                }))
            }
            Expr::Dot(x, flags, _) if !flags.intersects(rhai::ASTFlags::NEGATED) => {
                // `a.b.c`: `b` read from the target, then `.c` from that.
                let first = self.chain(&x.lhs)?;
                let rest = self.chain(&x.rhs)?;
                Ok(Box::new(move |t, f, rt| {
                    let mid = first(t, f, rt)?;
                    rest(Target::Value(mid), f, rt)
                }))
            }
            _ => no("indexing or this kind of chain", rhs.position()),
        }
    }
}

/// What a dot chain starts from.
enum Target {
    /// A local variable, read and changed in place.
    Slot(usize),
    /// A value.
    Value(Dynamic),
}

/// One link of a dot chain.
type Link = Box<dyn Fn(Target, &mut Frame, &Rt) -> R<Dynamic> + Send + Sync>;

fn constant(v: Dynamic) -> Ex {
    if v.is_string() {
        let each = super::rt::PerThread::new(v);
        return Box::new(move |_, _| Ok(each.get()));
    }
    Box::new(move |_, _| Ok(v.clone()))
}

/// A condition's value as Rhai requires it: a boolean.
fn truth(v: Dynamic, rt: &Rt, pos: Position) -> R<bool> {
    v.as_bool().map_err(|t| rt.mismatch("bool", t, pos))
}

/// An operator call: the fast path for plain values, else Rhai's own.
fn operator(name: ImmutableString, tok: rhai::Token, args: Vec<Ex>, pos: Position) -> Ex {
    let op = Op::of(name.as_str());
    match <[Ex; 2]>::try_from(args) {
        Ok([a, b]) => Box::new(move |f, rt| {
            let mut x = a(f, rt)?;
            let mut y = b(f, rt)?;
            if let Some(r) = fast_binary(op, &x, &y) {
                return Ok(r);
            }
            rt.call_native(&name, false, &mut [&mut x, &mut y], pos)
        }),
        Err(args) => {
            let bang = matches!(tok, rhai::Token::Bang);
            let neg = matches!(tok, rhai::Token::Minus | rhai::Token::UnaryMinus);
            Box::new(move |f, rt| {
                let mut vals: Few<Dynamic> = Few::new();
                for a in &args {
                    vals.push(a(f, rt)?);
                }
                if vals.len() == 1 {
                    if bang {
                        if let Ok(b) = vals[0].as_bool() {
                            return Ok((!b).into());
                        }
                    }
                    if neg {
                        if let Ok(n) = vals[0].as_int() {
                            return n.checked_neg().map(Dynamic::from).ok_or_else(|| {
                                EvalAltResult::ErrorArithmetic("integer overflow".into(), pos)
                                    .into()
                            });
                        }
                        if let Ok(x) = vals[0].as_float() {
                            return Ok((-x).into());
                        }
                    }
                }
                let mut refs: Few<&mut Dynamic> = vals.iter_mut().collect();
                rt.call_native(&name, false, &mut refs, pos)
            })
        }
    }
}
