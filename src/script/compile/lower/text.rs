//! `x.prop == "text"` and `!=` for a record's text property: answered from
//! the text the record holds, without making the script string the getter
//! would (a course's `status`, `mode` and `subject_type`, an institution's
//! `category`, ids and names). The same for the operators that compare an
//! enumerated property by meaning (`eq__status`, see `api::enums`) where
//! their answer needs no lookup: the value is the text, or both are codes
//! of one of the property's enums. Anything else, including a variable that
//! holds a map or `()`, and Chinese names, takes the ordinary path.
//! Also interpolated strings (`Lower::interpolated`), built in one string.

use super::*;
use crate::model::Values;
use crate::script::compare::enumerated_props;

/// What kind of comparison a call is.
enum Cmp {
    /// `==` / `!=` (true for `==`).
    Plain(bool),
    /// `eq__p` and the like: by meaning (true for equal), the property first or not.
    Meaning(bool, bool),
}

impl Lower<'_> {
    /// The comparison `call` as a borrowed-text read, if it is one.
    pub(super) fn record_text_cmp(
        &mut self,
        call: &rhai::FnCallExpr,
        pos: Position,
    ) -> C<Option<Ex>> {
        let name = call.name.clone();
        let (cmp, meant) = match name.as_str() {
            "==" => (Cmp::Plain(true), None),
            "!=" => (Cmp::Plain(false), None),
            n => match n.split_once("__") {
                Some(("eq", p)) => (Cmp::Meaning(true, true), Some(p)),
                Some(("ne", p)) => (Cmp::Meaning(false, true), Some(p)),
                Some(("eqr", p)) => (Cmp::Meaning(true, false), Some(p)),
                Some(("ner", p)) => (Cmp::Meaning(false, false), Some(p)),
                _ => return Ok(None),
            },
        };
        let Some((var, prop, text, first)) = prop_vs_text(call) else {
            return Ok(None);
        };
        if matches!(cmp, Cmp::Meaning(_, f) if f != first) {
            return Ok(None);
        }
        if meant.is_some_and(|m| m != prop.as_str()) {
            return Ok(None);
        }
        let (Some(slot), Some(read)) = (self.find(var), super::super::props::text(prop)) else {
            return Ok(None);
        };
        let text = text.clone();
        match cmp {
            Cmp::Plain(eq) => {
                let Some(op) = call.op_token.as_ref() else {
                    return Ok(None);
                };
                let args = self.args(&call.args)?;
                let slow = operator(name, op.clone(), args, pos);
                Ok(Some(Box::new(move |f, rt| {
                    match read.with(&f.vars[slot], |x| x == text.as_str()) {
                        Some(same) => Ok((same == eq).into()),
                        None => slow(f, rt),
                    }
                })))
            }
            Cmp::Meaning(eq, _) => {
                // A script's own function of that name is called as written.
                if call.op_token.is_some()
                    || self.scripted.contains(name.as_str())
                    || self.known.contains_key(&(name.to_string(), 2))
                {
                    return Ok(None);
                }
                let vals: Vec<&'static Values> = enumerated_props()
                    .filter(|(_, q)| q.name == prop.as_str())
                    .filter_map(|(_, q)| q.ty.values())
                    .collect();
                let args = self.args(&call.args)?;
                Ok(Some(Box::new(move |f, rt| {
                    rt.tick(pos)?;
                    // As `api::enums::same` answers before it looks anything up.
                    let known = read.with(&f.vars[slot], |x| {
                        let t = text.as_str();
                        if x == t {
                            Some(true)
                        } else if vals
                            .iter()
                            .any(|v| v.rank(x).is_some() && v.rank(t).is_some())
                        {
                            Some(false)
                        } else {
                            None
                        }
                    });
                    if let Some(Some(same)) = known {
                        return Ok((same == eq).into());
                    }
                    let mut vals: Vec<Dynamic> = Vec::with_capacity(2);
                    for a in &args {
                        vals.push(a(f, rt)?);
                    }
                    let mut refs: Vec<&mut Dynamic> = vals.iter_mut().collect();
                    rt.call(&name, false, false, &mut refs, pos)
                })))
            }
        }
    }
}

/// `call`'s two arguments if they are `v.prop` of a plain variable and a
/// text literal, either way round: the variable's name, the property, the
/// text, and whether the property came first.
pub(super) fn prop_vs_text(
    call: &rhai::FnCallExpr,
) -> Option<(&ImmutableString, &ImmutableString, &ImmutableString, bool)> {
    let [a, b] = &call.args[..] else {
        return None;
    };
    let (prop, text, first) = match (a, b) {
        (Expr::Dot(..), Expr::StringConstant(s, _)) => (a, s, true),
        (Expr::StringConstant(s, _), Expr::Dot(..)) => (b, s, false),
        _ => return None,
    };
    let Expr::Dot(d, flags, _) = prop else {
        return None;
    };
    if flags.intersects(rhai::ASTFlags::NEGATED) {
        return None;
    }
    let (Expr::Variable(v, _, _), Expr::Property(p, _)) = (&d.lhs, &d.rhs) else {
        return None;
    };
    v.2.is_empty().then_some((&v.1, &p.2, text, first))
}

/// One part of an interpolated string.
enum Piece {
    /// Text written between the `${…}`, pushed as it is.
    Lit(Box<str>),
    /// A `${…}`.
    Val(Ex),
}

impl Lower<'_> {
    /// `` `text ${x} text` ``: the literal parts pushed without a script
    /// value each, into one string made large enough for most values at
    /// once (the course check's reasons are about 150 bytes, and grew
    /// through five reallocations).
    pub(super) fn interpolated(&mut self, parts: &[Expr]) -> C<Ex> {
        let pieces = parts
            .iter()
            .map(|p| {
                Ok(match p {
                    Expr::StringConstant(s, _) => Piece::Lit(s.as_str().into()),
                    _ => Piece::Val(self.expr(p)?),
                })
            })
            .collect::<C<Vec<_>>>()?;
        let room: usize = pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(t) => t.len(),
                Piece::Val(_) => 16,
            })
            .sum();
        Ok(Box::new(move |f, rt| {
            let mut s = String::with_capacity(room);
            for p in &pieces {
                let mut v = match p {
                    Piece::Lit(t) => {
                        s.push_str(t);
                        continue;
                    }
                    Piece::Val(e) => e(f, rt)?,
                };
                if let Some(t) = v.read_lock::<ImmutableString>() {
                    s.push_str(&t);
                    continue;
                }
                // Rhai's `to_string` of a number is its display
                // (`FloatWrapper`'s for a float, as `print_f64`).
                if v.is_int() || v.is_float() {
                    use std::fmt::Write;
                    let _ = write!(s, "{v}");
                    continue;
                }
                // As Rhai prints a value: its `to_string`, or its display.
                let e = rt.ctx.engine();
                match rt.ctx.call_native_fn_raw("to_string", true, &mut [&mut v]) {
                    Ok(t) if t.is_string() => {
                        s.push_str(&t.into_immutable_string().unwrap_or_default())
                    }
                    Ok(t) => s.push_str(e.map_type_name(t.type_name())),
                    Err(_) => s.push_str(e.map_type_name(&v.to_string())),
                }
            }
            Ok(s.into())
        }))
    }
}
