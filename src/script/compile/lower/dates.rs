//! Dates read where they are, not boxed. A `Date` in a script value costs two
//! allocations (Rhai boxes a custom type twice), so `c.ends_on - c.starts_on`
//! made and dropped four of them for one integer; the course check's
//! `prepaid_share` reads five dates per course. A comparison or difference
//! whose operand is a record's date property (`x.starts_on`, or a finding's
//! in a loop over findings), `add_months` of one, or a variable holding a
//! date reads the date itself, and answers as [`date_pair`] does, which is
//! what the boxed path answers. Any other value (a map's field, `()`, a
//! number) is evaluated once and takes the ordinary path, boxed as before.

use super::*;
use crate::script::api::dates;
use crate::script::compile::props;
use crate::script::compile::rt::date_pair;
use crate::script::records::Date;

/// An operand's value: a date read without boxing, or any value.
enum Quick {
    Date(Date),
    Dyn(Dynamic),
}

impl Quick {
    /// The value as the ordinary path has it.
    fn boxed(self) -> Dynamic {
        match self {
            Quick::Date(d) => Dynamic::from(d),
            Quick::Dyn(v) => v,
        }
    }
}

/// A compiled operand.
type Qx = Box<dyn Fn(&mut Frame, &Rt) -> R<Quick> + Send + Sync>;

/// Whether `e` reads a date from a record (a date property, or `add_months`
/// of one): what makes the unboxed path worth taking.
fn reads_a_date(e: &Expr) -> bool {
    match e {
        Expr::Dot(x, _, _) => {
            matches!(&x.rhs, Expr::Property(p, _) if props::date(&p.2).is_some())
        }
        Expr::FnCall(c, _) => c.name == "add_months" && c.args.len() == 2,
        _ => false,
    }
}

impl Lower<'_> {
    /// `a op b` for a comparison or `-` with an operand that reads a date,
    /// if `call` is one (else `None`, and nothing is compiled).
    pub(super) fn date_operator(
        &mut self,
        call: &rhai::FnCallExpr,
        pos: Position,
    ) -> C<Option<Ex>> {
        use Op::*;
        let op = Op::of(call.name.as_str());
        if !matches!(op, Sub | Eq | Ne | Lt | Le | Gt | Ge) {
            return Ok(None);
        }
        let [a, b] = &call.args[..] else {
            return Ok(None);
        };
        if !(reads_a_date(a) || reads_a_date(b)) {
            return Ok(None);
        }
        let qa = self.operand(a)?;
        let qb = self.operand(b)?;
        let name = call.name.clone();
        Ok(Some(Box::new(move |f, rt| {
            let x = qa(f, rt)?;
            let y = qb(f, rt)?;
            if let (Quick::Date(x), Quick::Date(y)) = (&x, &y) {
                if let Some(r) = date_pair(op, *x, *y) {
                    return Ok(r);
                }
            }
            let (mut x, mut y) = (x.boxed(), y.boxed());
            if let Some(r) = fast_binary(op, &x, &y) {
                return Ok(r);
            }
            rt.call_native(&name, false, &mut [&mut x, &mut y], pos)
        })))
    }

    /// `e` as an operand: read unboxed if it can be a date, else as usual.
    fn operand(&mut self, e: &Expr) -> C<Qx> {
        if let Some(q) = self.quick_date(e)? {
            return Ok(q);
        }
        let g = self.expr(e)?;
        Ok(Box::new(move |f, rt| g(f, rt).map(Quick::Dyn)))
    }

    /// `e` read without boxing when it is a date: a date property of a
    /// variable, `add_months` of such an operand, or a variable. `None`
    /// (nothing compiled) for anything else.
    fn quick_date(&mut self, e: &Expr) -> C<Option<Qx>> {
        match e {
            Expr::Dot(x, flags, _) if !flags.intersects(rhai::ASTFlags::NEGATED) => {
                let (Expr::Variable(v, _, _), Expr::Property(p, _)) = (&x.lhs, &x.rhs) else {
                    return Ok(None);
                };
                let Some(get) = v.2.is_empty().then(|| props::date(&p.2)).flatten() else {
                    return Ok(None);
                };
                if let Some(k) = self.find_typed(&v.1) {
                    // A loop variable held as a finding (see `dot`).
                    let Some(g) = get.finding else {
                        return Ok(None);
                    };
                    return Ok(Some(Box::new(move |f, _| {
                        let r = f.findings[k].as_ref().expect("set by the loop");
                        Ok(Quick::Date(Date(g(r))))
                    })));
                }
                let Some(slot) = self.find(&v.1) else {
                    return Ok(None);
                };
                let general = self.expr(e)?;
                Ok(Some(Box::new(move |f, rt| {
                    if let Some(d) = get.read(&f.vars[slot]) {
                        return Ok(Quick::Date(d));
                    }
                    general(f, rt).map(Quick::Dyn)
                })))
            }
            Expr::Variable(v, _, _) if v.2.is_empty() && self.find_typed(&v.1).is_none() => {
                let Some(slot) = self.find(&v.1) else {
                    return Ok(None);
                };
                Ok(Some(Box::new(move |f, _| {
                    let v = &f.vars[slot];
                    Ok(match v.read_lock::<Date>() {
                        Some(d) => Quick::Date(*d),
                        None => Quick::Dyn(v.clone()),
                    })
                })))
            }
            Expr::FnCall(call, pos) => self.quick_add_months(call, *pos),
            _ => Ok(None),
        }
    }

    /// `add_months(d, n)` giving an unboxed date when `d` reads one, as the
    /// ordinary call does (`Lower::fn_call` with `Direct::AddMonths`): one
    /// operation first, then the arguments in order, its error at `pos`.
    fn quick_add_months(&mut self, call: &rhai::FnCallExpr, pos: Position) -> C<Option<Qx>> {
        let plain = call.namespace.is_empty() && !call.capture_parent_scope;
        if !plain
            || call.op_token.is_some()
            || call.name != "add_months"
            || call.args.len() != 2
            || self.scripted.contains("add_months")
            // A variable first argument goes by reference: the ordinary call's.
            || matches!(call.args[0], Expr::Variable(..))
        {
            return Ok(None);
        }
        let Some(first) = self.quick_date(&call.args[0])? else {
            return Ok(None);
        };
        let n = self.expr(&call.args[1])?;
        Ok(Some(Box::new(move |f, rt| {
            rt.tick(pos)?;
            let d = first(f, rt)?;
            let mut n = n(f, rt)?;
            if let (Quick::Date(d), false) = (&d, n.is_shared()) {
                if let Ok(k) = n.as_int() {
                    return dates::add_months(*d, k)
                        .map(Quick::Date)
                        .map_err(|e| rt.at(e, pos));
                }
            }
            let mut d = d.boxed();
            let mut refs = [&mut d, &mut n];
            if let Some(r) = Direct::AddMonths.call(&rt.guard.host, false, &mut refs) {
                return r.map(Quick::Dyn).map_err(|e| rt.at(e, pos));
            }
            rt.call("add_months", false, false, &mut refs, pos)
                .map(Quick::Dyn)
        })))
    }
}
