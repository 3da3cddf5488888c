//! `for` loops: over arrays and ranges as Rhai iterates them, and over an
//! institution's findings read straight from the stored bytes when the body
//! only reads their properties.

use super::*;

impl Lower<'_> {
    pub(super) fn for_loop(
        &mut self,
        x: &(rhai::Ident, Option<rhai::Ident>, rhai::FlowControl),
        pos: Position,
    ) -> C<St> {
        let (_, counter, fc) = x;
        if counter.is_some() {
            return no("a for loop with a counter", pos);
        }
        if let Expr::FnCall(c, _) = &fc.expr {
            if c.args.is_empty() {
                // institutions(), findings(), …: lazy collections the interpreter walks.
                return no("a for loop over a collection function", pos);
            }
        }
        if let Some(l) = self.findings_loop(x, pos)? {
            return Ok(l);
        }
        self.plain_loop(x, pos)
    }

    /// A `for` loop over an array, a range, or whatever Rhai can iterate.
    fn plain_loop(
        &mut self,
        x: &(rhai::Ident, Option<rhai::Ident>, rhai::FlowControl),
        pos: Position,
    ) -> C<St> {
        let (var, _, fc) = x;
        let iter = self.expr(&fc.expr)?;
        let ipos = fc.expr.position();
        let mark = self.scope.len();
        let slot = self.declare(&var.name);
        self.loops += 1;
        let body = self.block(fc.body.statements())?;
        self.loops -= 1;
        self.scope.truncate(mark);
        Ok(Box::new(move |f, rt| {
            rt.tick(pos)?;
            let mut it = iter(f, rt)?;
            let items: Array = if it.is_array() {
                it.cast::<Array>()
            } else if let Some(r) = it
                .read_lock::<std::ops::Range<rhai::INT>>()
                .map(|r| r.clone())
            {
                return each(r, slot, &body, f, rt, pos);
            } else if let Some(r) = it
                .read_lock::<std::ops::RangeInclusive<rhai::INT>>()
                .map(|r| r.clone())
            {
                return each(r, slot, &body, f, rt, pos);
            } else {
                // Rhai's own iterators (ranges, strings, …), through a helper the interpreter runs.
                rt.call(super::super::COLLECT, false, false, &mut [&mut it], ipos)?
                    .cast::<Array>()
            };
            each(items.into_iter(), slot, &body, f, rt, pos)
        }))
    }

    /// `for f in X.findings() { … }` where the body reads only properties of
    /// `f`: when `X` is an institution, its findings are read as findings
    /// (no script value each) and `f.prop` calls the getter directly;
    /// anything else runs the same loop compiled the ordinary way.
    fn findings_loop(
        &mut self,
        x: &(rhai::Ident, Option<rhai::Ident>, rhai::FlowControl),
        pos: Position,
    ) -> C<Option<St>> {
        let (var, _, fc) = x;
        let Expr::Dot(d, flags, _) = &fc.expr else {
            return Ok(None);
        };
        let Expr::MethodCall(call, mpos) = &d.rhs else {
            return Ok(None);
        };
        if call.name != "findings"
            || !call.args.is_empty()
            || flags.intersects(rhai::ASTFlags::NEGATED)
        {
            return Ok(None);
        }
        // The target must be a variable: read twice, it gives the same value.
        let Expr::Variable(tv, _, _) = &d.lhs else {
            return Ok(None);
        };
        if !tv.2.is_empty() || self.find(&tv.1).is_none() {
            return Ok(None);
        }
        if !only_properties_of(&var.name, fc.body.statements()) {
            return Ok(None);
        }
        // The ordinary loop, for a target that is not an institution.
        let slow = self.plain_loop(x, pos)?;
        let target = self.expr(&d.lhs)?;
        let k = self.typed_slots;
        self.typed_slots += 1;
        self.typed.push((var.name.clone(), k));
        self.loops += 1;
        let body = self.block(fc.body.statements());
        self.loops -= 1;
        self.typed.pop();
        let body = body?;
        let mpos = *mpos;
        let texts = reads_texts(&var.name, fc.body.statements());
        Ok(Some(Box::new(move |f, rt| {
            use crate::script::records::FindingRef;
            let t = target(f, rt)?;
            let Some(inst) = t.read_lock::<crate::script::records::InstitutionRef>() else {
                return slow(f, rt);
            };
            rt.tick(pos)?;
            rt.tick(mpos)?;
            // Every finding decoded before the body runs, as `findings()` does.
            if texts {
                let mut list = Vec::with_capacity(16);
                crate::script::api::records::each_finding(&inst, |x| {
                    list.push(x);
                    Ok(())
                })
                .map_err(|e| rt.at(e, mpos))?;
                drop(inst);
                return each_held(list, |s, x| *s = Some(x), k, &body, f, rt, pos);
            }
            let mut days = Vec::with_capacity(16);
            crate::script::api::records::each_finding_days(&inst, &mut days)
                .map_err(|e| rt.at(e, mpos))?;
            let as_of = inst.snap.as_of;
            drop(inst);
            f.findings[k] = Some(FindingRef::without_texts(as_of));
            let put = |s: &mut Option<FindingRef>, core| s.as_mut().expect("set above").core = core;
            each_held(days, put, k, &body, f, rt, pos)
        })))
    }
}

/// The body of a loop over findings, once per item as the interpreter's
/// `for` runs it (one operation each, `break` and `return`); `put` makes
/// item the loop variable held in finding slot `k`.
fn each_held<T>(
    items: Vec<T>,
    put: impl Fn(&mut Option<crate::script::records::FindingRef>, T),
    k: usize,
    body: &St,
    f: &mut Frame,
    rt: &Rt,
    pos: Position,
) -> R<Flow> {
    for x in items {
        rt.tick(pos)?;
        put(&mut f.findings[k], x);
        match body(f, rt)? {
            Flow::Break => break,
            r @ Flow::Return(_) => return Ok(r),
            _ => {}
        }
    }
    Ok(Flow::Val(Dynamic::UNIT))
}

impl Lower<'_> {
    /// `f.status == "text"` (or `!=`, `kind`, either side) where `f` is a
    /// loop variable held as a finding: the property's text compared
    /// without making a script string of it (the interpreter compares the
    /// same two strings).
    pub(super) fn finding_text_cmp(&self, call: &rhai::FnCallExpr) -> Option<Ex> {
        let eq = match call.name.as_str() {
            "==" => true,
            "!=" => false,
            _ => return None,
        };
        let (var, prop, text, _) = super::text::prop_vs_text(call)?;
        let k = self.find_typed(var)?;
        use crate::model::{FindingKind, FindingStatus};
        // The answer for each value of the property, at the index the closure
        // reads, worked out here from the text each value reads as: no text
        // is compared per finding.
        type Index = fn(&crate::script::records::FindingRef) -> usize;
        let answer = |x: &str| (x == text.as_str()) == eq;
        let mut answers = Vec::new();
        let mut set = |i: usize, x: &str| {
            if answers.len() <= i {
                answers.resize(i + 1, false);
            }
            answers[i] = answer(x);
        };
        let index: Index = match prop.as_str() {
            "status" => {
                // Every status: this match stops compiling when one is added.
                let _every = |x: FindingStatus| match x {
                    FindingStatus::Open | FindingStatus::Rectified | FindingStatus::Closed => {}
                };
                for x in [
                    FindingStatus::Open,
                    FindingStatus::Rectified,
                    FindingStatus::Closed,
                ] {
                    set(x as usize, x.as_str());
                }
                |r| r.status() as usize
            }
            "kind" => {
                for &x in FindingKind::ALL {
                    set(x.code() as usize, x.as_str());
                }
                |r| r.core.kind.code() as usize
            }
            _ => return None,
        };
        Some(Box::new(move |f, _| {
            let x = index(f.findings[k].as_ref().expect("set by the loop"));
            Ok(answers[x].into())
        }))
    }
}

/// Runs a loop body once per item, with the item in `slot`.
fn each(
    items: impl Iterator<Item = impl Into<Dynamic>>,
    slot: usize,
    body: &St,
    f: &mut Frame,
    rt: &Rt,
    pos: Position,
) -> R<Flow> {
    for item in items {
        rt.tick(pos)?;
        f.vars[slot] = item.into();
        match body(f, rt)? {
            Flow::Break => break,
            r @ Flow::Return(_) => return Ok(r),
            _ => {}
        }
    }
    Ok(Flow::Val(Dynamic::UNIT))
}

/// Whether `body` reads a property of `name` other than those a finding
/// holds decoded (its kind, severity, dates, status, overdue): a text, kept in
/// the stored bytes. A loop whose body reads none holds no bytes.
fn reads_texts(name: &str, body: &[Stmt]) -> bool {
    use crate::script::records::FINDING_DECODED as DECODED;
    let mut texts = false;
    for s in body {
        s.walk(&mut Vec::new(), &mut |path: &[rhai::ASTNode]| {
            if let [.., rhai::ASTNode::Expr(Expr::Dot(d, ..))] = path {
                if let (Expr::Variable(v, ..), Expr::Property(p, _)) = (&d.lhs, &d.rhs) {
                    texts |= v.1 == name && !DECODED.contains(&p.2.as_str());
                }
            }
            !texts
        });
    }
    texts
}

/// Whether every use of variable `name` in `body` is `name.property`, and
/// nothing declares another `name` (nor a closure captures it).
fn only_properties_of(name: &str, body: &[Stmt]) -> bool {
    let mut ok = true;
    for s in body {
        s.walk(&mut Vec::new(), &mut |path: &[rhai::ASTNode]| {
            match path {
                // `name.property`: the one use allowed.
                [.., rhai::ASTNode::Expr(Expr::Dot(d, ..)), rhai::ASTNode::Expr(Expr::Variable(v, ..))]
                    if v.1 == name
                        && matches!(&d.lhs, Expr::Variable(w, ..) if w.1 == name)
                        && matches!(d.rhs, Expr::Property(..)) => {}
                [.., rhai::ASTNode::Expr(Expr::Variable(v, ..))] if v.1 == name => ok = false,
                [.., rhai::ASTNode::Stmt(Stmt::Var(x, ..))] if x.0.name == name => ok = false,
                [.., rhai::ASTNode::Stmt(Stmt::For(x, ..))] if x.0.name == name => ok = false,
                [.., rhai::ASTNode::Stmt(Stmt::Share(..))] => ok = false,
                _ => {}
            }
            ok
        });
    }
    ok
}
