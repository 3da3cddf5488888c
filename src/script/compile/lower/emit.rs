//! `emit(#{k: v, …})` of a map literal compiled: each value written into
//! the row where it goes, a record's texts and dates as they are.

use super::*;

thread_local! {
    /// Room for a row's texts at once: the longest of this thread's recent
    /// rows' (fading, so that one long row does not make every later one
    /// large). Per thread: one count for `par`'s workers, stored at every
    /// row, kept both cores waiting for its cache line.
    static ROOM: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Lower<'_> {
    /// `emit(#{k: v, …})`: the values in the order written, handed to the
    /// rows in the map's key order (sorted, as Rhai's map keeps them),
    /// without building the map. A value that is a record's text or date
    /// read from a variable (`c.id`, `c.filed_on`) goes into the row as
    /// that text or date, without a script string or a boxed date
    /// (`props::cell_read`), and `join(variable, "text")` of an array
    /// as its text; a variable holding anything else is read as the
    /// compiled expression reads it.
    pub(super) fn emit_literal(&mut self, items: &[(rhai::Ident, Expr)], pos: Position) -> C<Ex> {
        /// A value read straight into the row.
        enum Fast {
            /// `variable.property` of a record (the variable's slot).
            Prop(usize, crate::script::compile::props::CellRead),
            /// `join(variable, "separator")` (the call's position).
            Join(usize, ImmutableString, Position),
        }
        let keys: Vec<ImmutableString> = items.iter().map(|(k, _)| k.name.clone()).collect();
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].as_str().cmp(keys[b].as_str()));
        if order.windows(2).any(|w| keys[w[0]] == keys[w[1]]) {
            return no("a map literal with a key twice", pos);
        }
        // Where each value goes in the row: its key's place in the sorted keys.
        let mut at = vec![0; keys.len()];
        for (j, &i) in order.iter().enumerate() {
            at[i] = j;
        }
        let sorted: Vec<ImmutableString> = order.iter().map(|&i| keys[i].clone()).collect();
        let local = |this: &Self, e: &Expr| match e {
            Expr::Variable(v, _, _) if v.2.is_empty() && this.find_typed(&v.1).is_none() => {
                this.find(&v.1)
            }
            _ => None,
        };
        let fast: Vec<Option<Fast>> = items
            .iter()
            .map(|(_, v)| match v {
                Expr::Dot(d, flags, _) if !flags.intersects(rhai::ASTFlags::NEGATED) => {
                    match &d.rhs {
                        Expr::Property(p, _) => local(self, &d.lhs)
                            .zip(crate::script::compile::props::cell_read(&p.2))
                            .map(|(slot, read)| Fast::Prop(slot, read)),
                        _ => None,
                    }
                }
                Expr::FnCall(call, p)
                    if call.name == "join"
                        && call.args.len() == 2
                        && call.namespace.is_empty()
                        && !call.capture_parent_scope
                        && call.op_token.is_none()
                        && !self.scripted.contains("join")
                        && !self.known.contains_key(&("join".to_string(), 2)) =>
                {
                    match (local(self, &call.args[0]), &call.args[1]) {
                        (Some(slot), Expr::StringConstant(sep, _)) => {
                            Some(Fast::Join(slot, sep.clone(), *p))
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        let vals = items
            .iter()
            .map(|(_, v)| self.expr(v))
            .collect::<C<Vec<_>>>()?;
        Ok(Box::new(move |f, rt| {
            rt.tick(pos)?;
            let hint = ROOM.with(|r| r.get());
            let mut row = crate::script::state::NewRow::new(vals.len(), hint);
            for (i, v) in vals.iter().enumerate() {
                let joined = match &fast[i] {
                    Some(Fast::Prop(slot, read)) if read.fill(&f.vars[*slot], &mut row, at[i]) => {
                        continue;
                    }
                    // As the compiled call does it (`native::Direct::Join`):
                    // one operation, the same function, its error at the call.
                    Some(Fast::Join(slot, sep, p)) if !f.vars[*slot].is_shared() => {
                        f.vars[*slot].read_lock::<rhai::Array>().map(|a| {
                            rt.tick(*p)?;
                            let max = rt.guard.host.limits.max_memory;
                            crate::script::api::collections::join(max, &a, sep)
                                .map_err(|e| rt.at(e, *p))
                        })
                    }
                    _ => None,
                };
                match joined {
                    Some(text) => row.set_text(at[i], &text?),
                    None => row.set(at[i], v(f, rt)?),
                }
            }
            let next = row.text_len().max(hint - hint / 16);
            ROOM.with(|r| r.set(next));
            crate::script::api::rows::emit_row(&rt.guard.host, &sorted, row);
            Ok(Dynamic::UNIT)
        }))
    }
}
