//! `x.prop == "text"` and `!=` for a record's text property: answered from
//! the text the record holds, without making the script string the getter
//! would (a course's `status`, `mode` and `subject_type`, an institution's
//! `category`, ids and names). Anything else, including a variable that holds
//! a map or `()`, takes the ordinary path.

use super::*;

impl Lower<'_> {
    /// The comparison `call` as a borrowed-text read, if it is one.
    pub(super) fn record_text_cmp(
        &mut self,
        call: &rhai::FnCallExpr,
        pos: Position,
    ) -> C<Option<Ex>> {
        let eq = match call.name.as_str() {
            "==" => true,
            "!=" => false,
            _ => return Ok(None),
        };
        let (Some(op), [a, b]) = (call.op_token.as_ref(), &call.args[..]) else {
            return Ok(None);
        };
        let (prop, text) = match (a, b) {
            (Expr::Dot(..), Expr::StringConstant(s, _)) => (a, s),
            (Expr::StringConstant(s, _), Expr::Dot(..)) => (b, s),
            _ => return Ok(None),
        };
        let Expr::Dot(d, flags, _) = prop else {
            return Ok(None);
        };
        if flags.intersects(rhai::ASTFlags::NEGATED) {
            return Ok(None);
        }
        let (Expr::Variable(v, _, _), Expr::Property(p, _)) = (&d.lhs, &d.rhs) else {
            return Ok(None);
        };
        if !v.2.is_empty() {
            return Ok(None);
        }
        let (Some(slot), Some(read)) = (self.find(&v.1), super::super::props::text(&p.2)) else {
            return Ok(None);
        };
        let args = self.args(&call.args)?;
        let slow = operator(call.name.clone(), op.clone(), args, pos);
        let text = text.clone();
        Ok(Some(Box::new(move |f, rt| {
            match read.equals(&f.vars[slot], text.as_str()) {
                Some(same) => Ok((same == eq).into()),
                None => slow(f, rt),
            }
        })))
    }
}
