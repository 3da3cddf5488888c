//! What a comparison of an enumerated property with text means, decided when
//! a script is compiled: `i.category == "学科类"`, `!=`, `in [..]` and
//! `switch` arms work with the Chinese names import accepts, and a string
//! that is no value of the property is an error, never a silent mismatch.
//!
//! How: a script is compiled once while its tokens are recorded; [`plan`]
//! reads that AST and those tokens and decides which tokens to replace, and
//! the script is compiled again with the replacements (Rhai's token mapper
//! keeps every position, so errors still point at what was written):
//! - the operator of a comparison that needs a run-time check becomes the
//!   property's own (`==` on `.status` becomes `eq__status`, see
//!   `api::enums`), which compares by meaning; `x.prop` itself stays the
//!   plain English code, so what a property prints, and maps keyed by it,
//!   are unchanged;
//! - a comparison with a literal that is the property's English code for
//!   every record type that has it stays as written (the fast path: the
//!   benchmark rule's `inst.category == "subject"`);
//! - a `switch` arm written in Chinese becomes its English code (Rhai matches
//!   switch arms by hash, so the value must be the code itself);
//! - a literal that is no value of the property, and a date property compared
//!   with a string, become a lexer error at the literal: the script does not
//!   compile, and says where and what the values are.

use std::collections::HashMap;

use rhai::{ASTNode, Expr, LexError, Position, Stmt, Token, AST};

use super::records::{Prop, PropType, RECORD_TYPES};

/// Token replacements by position (line, column).
pub type Subs = HashMap<(usize, usize), Token>;

/// What [`plan`] decided: tokens to replace, and errors that no replaced
/// token can carry (a `switch` arm must parse as a literal).
#[derive(Default)]
pub struct Plan {
    /// Tokens to replace.
    pub subs: Subs,
    /// Arms of a `switch` that are no value of its property.
    pub errors: Vec<(Position, String)>,
}

/// A position as the token hook (`engine`) and coverage look it up.
pub(crate) fn key(p: Position) -> (usize, usize) {
    (p.line().unwrap_or(0), p.position().unwrap_or(0))
}

/// Every record type's property called `name`, with the record type's name.
fn props_named(name: &str) -> impl Iterator<Item = (&'static str, &'static Prop)> + '_ {
    RECORD_TYPES.iter().flat_map(move |t| {
        t.props
            .iter()
            .filter(move |p| p.name == name)
            .map(move |p| (t.name, p))
    })
}

/// Every enumerated property of every record type, with the type's name.
pub fn enumerated_props() -> impl Iterator<Item = (&'static str, &'static Prop)> {
    RECORD_TYPES.iter().flat_map(|t| {
        t.props
            .iter()
            .filter(|p| p.ty.is_enumerated())
            .map(move |p| (t.name, p))
    })
}

fn is_enumerated(name: &str) -> bool {
    props_named(name).any(|(_, p)| p.ty.is_enumerated())
}

fn is_date(name: &str) -> bool {
    let mut it = props_named(name).peekable();
    it.peek().is_some() && it.all(|(_, p)| matches!(p.ty, PropType::Date))
}

/// The code a literal names for one property type, if any.
pub fn code_for<'d>(ty: &PropType, lit: &str, districts: &'d [String]) -> Option<&'d str> {
    match ty {
        PropType::Enum(v) => v.code_of(lit),
        PropType::District => crate::model::district_name(lit, districts),
        _ => None,
    }
}

/// "category: subject (学科类), …" for every record type with `name`.
pub fn allowed_for(name: &str, kind: Option<&str>, districts: &[String]) -> String {
    let v: Vec<(&str, String)> = props_named(name)
        .filter(|(k, _)| kind.is_none_or(|x| x == *k))
        .filter_map(|(k, p)| match p.ty {
            PropType::Enum(v) => Some((k, v.describe())),
            PropType::District => Some((k, super::records::props::describe_districts(districts))),
            _ => None,
        })
        .collect();
    let mut uniq: Vec<&(&str, String)> = Vec::new();
    for x in &v {
        if !uniq.iter().any(|u| u.1 == x.1) {
            uniq.push(x);
        }
    }
    if uniq.len() == 1 {
        uniq[0].1.clone()
    } else {
        let parts: Vec<String> = uniq.iter().map(|(k, s)| format!("for {k}: {s}")).collect();
        parts.join("; ")
    }
}

/// The property name, its position and the receiver's variable name (if the
/// receiver is a plain variable) of `x.prop` or `a.b().prop`.
pub fn prop_tail(e: &Expr) -> Option<(&str, Position, Option<&str>)> {
    let Expr::Dot(bx, _, _) = e else { return None };
    // `#{status: "x"}.status` is a map's own key, not a record's property.
    if matches!(bx.lhs, Expr::Map(..)) {
        return None;
    }
    match &bx.rhs {
        Expr::Property(p, pos) => {
            let var = match &bx.lhs {
                Expr::Variable(v, _, _) => Some(v.1.as_str()),
                _ => None,
            };
            Some((p.2.as_str(), *pos, var))
        }
        Expr::Dot(..) => prop_tail(&bx.rhs).map(|(n, p, _)| (n, p, None)),
        _ => None,
    }
}

/// What a loop variable holds, from what it loops over: `for f in findings()`,
/// `for f in inst.findings()`, `for i in institutions().filter(..)`.
fn kind_of_source(e: &Expr) -> Option<&'static str> {
    let name = match e {
        Expr::FnCall(f, _) => f.name.as_str(),
        Expr::Dot(bx, _, _) => {
            // The first call of the chain names the records (later ones filter or sort).
            return kind_of_source(&bx.lhs).or_else(|| match &bx.rhs {
                Expr::MethodCall(f, _) => kind_of_name(f.name.as_str()),
                Expr::Dot(inner, _, _) => match &inner.lhs {
                    Expr::MethodCall(f, _) => kind_of_name(f.name.as_str()),
                    _ => None,
                },
                _ => None,
            });
        }
        _ => return None,
    };
    kind_of_name(name)
}

fn kind_of_name(n: &str) -> Option<&'static str> {
    Some(match n {
        "institutions" => "institution",
        "findings" => "finding",
        "inspections" => "inspection",
        "applications" => "application",
        "courses" => "course",
        _ => return None,
    })
}

/// The record type a variable holds at this point, from an enclosing `for`.
pub fn loop_kind(path: &[ASTNode], var: &str) -> Option<&'static str> {
    path.iter().rev().find_map(|n| match n {
        ASTNode::Stmt(Stmt::For(x, _)) if x.0.name == var => Some(kind_of_source(&x.2.expr)),
        _ => None,
    })?
}

/// What one comparison of a property with a literal needs.
enum Verdict {
    /// The literal names the same code for every record type it could be:
    /// compare with that code as written (`Some`: the code to write instead).
    Plain(Option<String>),
    /// A value of the property for some type: check at run time.
    Check,
    /// No value of the property: the error message.
    Bad(String),
}

fn judge(name: &str, kind: Option<&str>, lit: &str, districts: &[String]) -> Verdict {
    let cands: Vec<_> = props_named(name)
        .filter(|(k, p)| p.ty.is_enumerated() && kind.is_none_or(|x| x == *k))
        .collect();
    let codes: Vec<Option<String>> = cands
        .iter()
        .map(|(_, p)| code_for(&p.ty, lit, districts).map(str::to_string))
        .collect();
    let first = codes.first().cloned().flatten();
    if first.is_some() && codes.iter().all(|c| *c == first) {
        // Every record that can be here reads the same code: compare with it.
        Verdict::Plain(first.filter(|c| c != lit))
    } else if codes.iter().any(Option::is_some) {
        Verdict::Check
    } else {
        let flag = if props_named(lit).any(|(_, p)| matches!(p.ty, PropType::Bool)) {
            format!(" (.{lit} is a property of its own, true or false)")
        } else {
            String::new()
        };
        Verdict::Bad(format!(
            "\"{lit}\" is not a value of .{name}{flag}: the values are {}",
            allowed_for(name, kind, districts)
        ))
    }
}

/// The record type staff's usual variable names stand for.
fn kind_by_name(var: &str) -> Option<&'static str> {
    Some(match var {
        "i" | "inst" | "institution" | "机构" => "institution",
        "f" | "finding" | "问题" => "finding",
        "a" | "app" | "application" | "申请" => "application",
        "c" | "course" | "课程" => "course",
        "insp" | "inspection" | "检查" => "inspection",
        _ => return None,
    })
}

/// `==`, `!=`, or the operator by meaning [`plan`] put in their place.
fn is_equality(op: &str) -> bool {
    matches!(op, "==" | "!=")
        || ["eq__", "ne__", "eqr__", "ner__"]
            .iter()
            .any(|p| op.starts_with(p))
}

/// `casebook check`'s own findings beyond [`plan`]'s: a literal compared with
/// a property of a variable whose name or loop says what record it holds
/// (`i.status == "open"`: "open" is a finding's status, not an institution's).
pub fn lint(ast: &AST, districts: &[String]) -> Vec<(Position, String)> {
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let f = match path.last() {
            // A call that is a statement (a closure's last line, optimised) is a statement node.
            Some(ASTNode::Expr(Expr::FnCall(f, _)) | ASTNode::Stmt(Stmt::FnCall(f, _))) => f,
            _ => return true,
        };
        if f.args.len() != 2 || !is_equality(f.name.as_str()) {
            return true;
        }
        let (tail, other) = match (prop_tail(&f.args[0]), prop_tail(&f.args[1])) {
            (Some(t), _) => (t, &f.args[1]),
            (None, Some(t)) => (t, &f.args[0]),
            _ => return true,
        };
        let (name, _, Some(var)) = tail else {
            return true;
        };
        let Expr::StringConstant(lit, lpos) = other else {
            return true;
        };
        let kind = loop_kind(path, var).or_else(|| kind_by_name(var));
        let has = kind.is_some_and(|k| props_named(name).any(|(t, _)| t == k));
        if has && is_enumerated(name) {
            if let Verdict::Bad(m) = judge(name, kind, lit, districts) {
                out.push((*lpos, m));
            }
        }
        true
    });
    out
}

fn bad(msg: String) -> Token {
    Token::LexError(Box::new(LexError::Runtime(msg)))
}

/// The token replacements that give `ast`'s comparisons their meaning
/// (see the module's header). `tokens` are the script's tokens as compiled.
pub fn plan(ast: &AST, tokens: &[(Token, Position)], districts: &[String]) -> Plan {
    let mut plan = Plan::default();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(f, pos)) | ASTNode::Stmt(Stmt::FnCall(f, pos)))
                if f.args.len() == 2 =>
            {
                plan_call(path, f, *pos, tokens, districts, &mut plan.subs)
            }
            Some(ASTNode::Stmt(Stmt::Switch(x, pos))) => {
                if let Some((name, _, _)) = prop_tail(&x.0).filter(|t| is_enumerated(t.0)) {
                    plan_switch(name, *pos, tokens, districts, &mut plan);
                }
            }
            _ => {}
        }
        true
    });
    plan
}

/// A comparison `x.prop OP other`: by meaning (the property's own operator),
/// as written (a literal that is the code for every record type), or an error.
fn plan_call(
    path: &[ASTNode],
    f: &rhai::FnCallExpr,
    opos: Position,
    tokens: &[(Token, Position)],
    districts: &[String],
    subs: &mut Subs,
) {
    let op = f.name.as_str();
    let (tail, other, right) = match op {
        "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            match (prop_tail(&f.args[0]), prop_tail(&f.args[1])) {
                (Some(t), _) => (t, &f.args[1], false),
                (None, Some(t)) => (t, &f.args[0], true),
                _ => return,
            }
        }
        // `x in arr` is `contains(arr, x)`, placed at the `in`.
        "contains"
            if tokens
                .iter()
                .any(|(t, p)| *p == opos && matches!(t, Token::In)) =>
        {
            match prop_tail(&f.args[1]) {
                Some(t) => (t, &f.args[0], false),
                None => return,
            }
        }
        _ => return,
    };
    let (name, _, var) = tail;
    let word = match (op, right) {
        ("==", false) => "eq",
        ("!=", false) => "ne",
        ("==", true) => "eqr",
        ("!=", true) => "ner",
        _ => "in",
    };
    let by_meaning = Token::Custom(Box::new(format!("{word}__{name}").into()));
    if is_date(name) {
        if let Expr::StringConstant(s, spos) = other {
            subs.insert(
                key(*spos),
                bad(format!(
                    "cannot compare .{name}, a date, with the text \"{s}\": use date(\"{s}\")"
                )),
            );
        }
        return;
    }
    if !is_enumerated(name) || !matches!(op, "==" | "!=" | "contains") {
        return;
    }
    let kind = var.and_then(|v| loop_kind(path, v));
    let lits: Vec<(&str, Position)> = match other {
        // `x.prop in "text"` looks for a substring: not a comparison of values.
        Expr::StringConstant(..) if op == "contains" => return,
        Expr::StringConstant(s, p) => vec![(s.as_str(), *p)],
        Expr::Array(items, _) if op == "contains" => {
            let v: Vec<_> = items
                .iter()
                .filter_map(|e| match e {
                    Expr::StringConstant(s, p) => Some((s.as_str(), *p)),
                    _ => None,
                })
                .collect();
            if v.len() != items.len() {
                subs.insert(key(opos), by_meaning);
                return;
            }
            v
        }
        // A variable, an --arg, a call: only the run knows.
        _ => {
            subs.insert(key(opos), by_meaning);
            return;
        }
    };
    let mut check = false;
    for (lit, lpos) in lits {
        match judge(name, kind, lit, districts) {
            Verdict::Plain(None) => {}
            // Written in Chinese: compiled as its code, at no cost per comparison.
            Verdict::Plain(Some(code)) => {
                subs.insert(
                    key(lpos),
                    Token::StringConstant(Box::new(code.as_str().into())),
                );
            }
            Verdict::Check => check = true,
            Verdict::Bad(m) => {
                subs.insert(key(lpos), bad(m));
            }
        }
    }
    if check {
        subs.insert(key(opos), by_meaning);
    }
}

/// Arms of `switch x.prop { … }` written in Chinese become the English code;
/// an arm that is no value of the property is an error.
fn plan_switch(
    name: &str,
    pos: Position,
    tokens: &[(Token, Position)],
    districts: &[String],
    plan: &mut Plan,
) {
    let Some(start) = tokens.iter().position(|(_, p)| *p == pos) else {
        return;
    };
    let mut depth = 0usize;
    let mut opened = false;
    let mut i = start + 1;
    while i < tokens.len() {
        let t = &tokens[i].0;
        match t {
            Token::LeftBrace | Token::MapStart | Token::LeftParen | Token::LeftBracket => {
                depth += 1;
                opened |= matches!(t, Token::LeftBrace) && depth == 1;
            }
            Token::RightBrace | Token::RightParen | Token::RightBracket => {
                depth = depth.saturating_sub(1);
                if opened && depth == 0 {
                    break;
                }
            }
            Token::StringConstant(s) if opened && depth == 1 => {
                let next = tokens.get(i + 1).map(|x| &x.0);
                if matches!(next, Some(Token::DoubleArrow | Token::Pipe | Token::If)) {
                    let codes: Vec<String> = props_named(name)
                        .filter_map(|(_, p)| code_for(&p.ty, s, districts).map(str::to_string))
                        .collect();
                    let p = tokens[i].1;
                    match codes.first() {
                        None => plan.errors.push((
                            p,
                            format!(
                                "\"{s}\" is not a value of .{name}: the values are {}",
                                allowed_for(name, None, districts)
                            ),
                        )),
                        Some(c) if codes.iter().any(|x| x != c) => plan.errors.push((
                            p,
                            format!("\"{s}\" means different values of .{name} for different records: write the English code"),
                        )),
                        Some(c) if c.as_str() != s.as_str() => {
                            plan.subs
                                .insert(key(p), Token::StringConstant(Box::new(c.as_str().into())));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens and AST of `src`, as `ScriptHost::compile_meant` records them.
    fn planned(src: &str) -> Plan {
        let mut e = rhai::Engine::new();
        e.set_optimization_level(rhai::OptimizationLevel::None);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        #[allow(deprecated)]
        e.on_parse_token(move |t, p, _| {
            s.lock().unwrap().push((t.clone(), p));
            t
        });
        let ast = e.compile(src).unwrap();
        let tokens = seen.lock().unwrap().clone();
        plan(&ast, &tokens, &["天河".to_string()])
    }

    fn written(p: &Plan) -> Vec<String> {
        let mut v: Vec<String> = p.subs.values().map(|t| t.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_benchmark_rule_compiles_as_written() {
        let p = planned(
            "fn score(inst) { let s = 0; if inst.category == \"subject\" { s += 1; } for f in inst.findings() { if f.status != \"closed\" { s += 1; } } s }",
        );
        assert!(p.subs.is_empty() && p.errors.is_empty());
    }

    #[test]
    fn a_chinese_literal_with_one_meaning_becomes_its_code() {
        let p = planned(
            "fn score(inst) { let s = 0; if inst.category == \"学科类\" { s += 1; } for f in inst.findings() { if f.status != \"已销号\" { s += 1; } } s }",
        );
        assert_eq!(written(&p), ["\"closed\"", "\"subject\""]);
    }

    #[test]
    fn a_value_only_the_run_knows_is_compared_by_meaning() {
        let p = planned("let x = \"学科类\"; institutions().filter(|i| i.category == x || i.status in [\"已关停\"])");
        assert_eq!(written(&p), ["eq__category", "in__status"]);
    }
}
