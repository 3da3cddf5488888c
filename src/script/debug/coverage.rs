//! `casebook test --coverage`: which statements of a rule file its tests ran.
//!
//! The tracer records the position of every node evaluated; a statement ran
//! when its own position was evaluated (an expression statement's position is
//! its expression's). The statements counted are those of the file's
//! functions other than the `test_*` functions themselves (closures count
//! with the function they are written in); the top-level code is what
//! `casebook run` runs, never the tests, and is not counted.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use rhai::debugger::DebuggerEvent;
use rhai::{ASTNode, EvalContext, Expr, Position, Stmt, AST};

use super::Tracer;

/// The positions (line, column) evaluated since the last [`Coverage::take`].
#[derive(Default)]
pub struct Coverage {
    hits: Mutex<HashSet<(usize, usize)>>,
}

impl Coverage {
    /// The positions evaluated so far; starts afresh.
    pub fn take(&self) -> HashSet<(usize, usize)> {
        std::mem::take(&mut *self.hits.lock().unwrap())
    }
}

impl Tracer for Coverage {
    fn step(
        &self,
        _ctx: &mut EvalContext,
        _event: &DebuggerEvent,
        _node: ASTNode,
        _src: Option<&str>,
        pos: Position,
    ) {
        if let (Some(l), Some(c)) = (pos.line(), pos.position()) {
            self.hits.lock().unwrap().insert((l, c));
        }
    }
}

/// One statement of a rule function.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub line: usize,
    pub column: usize,
    /// The named function it is written in.
    pub function: String,
    pub ran: bool,
}

/// What the tests of one file ran.
#[derive(Debug, Clone, Default)]
pub struct FileCoverage {
    pub statements: Vec<Statement>,
    /// The rule functions, in the order written, with whether any of their statements ran.
    pub functions: Vec<(String, bool)>,
}

impl FileCoverage {
    /// (statements that ran, statements).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.statements.iter().filter(|s| s.ran).count(),
            self.statements.len(),
        )
    }

    /// Per line holding statements: (statements, statements that ran).
    pub fn lines(&self) -> BTreeMap<usize, (usize, usize)> {
        let mut m: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for s in &self.statements {
            let e = m.entry(s.line).or_default();
            e.0 += 1;
            e.1 += usize::from(s.ran);
        }
        m
    }

    /// The lines with a statement that never ran, as ranges.
    pub fn missed_ranges(&self) -> Vec<(usize, usize)> {
        let lines = self.lines();
        let order: Vec<usize> = lines.keys().copied().collect();
        let missed: Vec<usize> = lines
            .iter()
            .filter(|(_, (n, ran))| ran < n)
            .map(|(l, _)| *l)
            .collect();
        super::line_ranges(&missed, &order)
    }

    /// Rule functions none of whose statements ran.
    pub fn unreached(&self) -> Vec<&str> {
        self.functions
            .iter()
            .filter(|(_, ran)| !ran)
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// A statement that is only a container of others is not counted.
fn counted(s: &Stmt) -> bool {
    !matches!(s, Stmt::Noop(..) | Stmt::Block(..))
        && !matches!(s, Stmt::Expr(e) if matches!(**e, Expr::Stmt(..)))
}

/// A position as (line, column).
type At = (usize, usize);

/// A position as (line, column), for comparing.
use crate::script::compare::key as at;

/// The statements of `ast`'s rule functions, marked with whether `hits` holds their position.
pub fn analyse(ast: &AST, hits: &HashSet<(usize, usize)>) -> FileCoverage {
    // Named functions do not nest: a statement belongs to the one whose body holds it.
    let mut named: Vec<(String, At, At)> = ast
        .iter_fn_def()
        .filter(|f| !f.name.starts_with("anon$"))
        .map(|f| {
            (
                f.name.to_string(),
                at(f.body.start_position()),
                at(f.body.end_position()),
            )
        })
        .collect();
    named.sort_by_key(|n| n.1);
    let mut out = FileCoverage::default();
    ast.walk(&mut |p: &[ASTNode]| {
        let (pos, count) = match p {
            [.., ASTNode::Stmt(s)] => (at(s.position()), counted(s)),
            // A switch's arms are its branches: each counts as a statement.
            [.., ASTNode::Stmt(Stmt::Switch(x, _)), ASTNode::Expr(e)] => (
                at(e.position()),
                !std::ptr::eq(*e, &x.0) && !matches!(e, Expr::BoolConstant(true, _)),
            ),
            _ => return true,
        };
        {
            let owner = named.iter().find(|(_, a, b)| *a <= pos && pos <= *b);
            if let (true, Some((name, _, _))) = (count && pos.0 > 0, owner) {
                if !name.starts_with("test_") {
                    out.statements.push(Statement {
                        line: pos.0,
                        column: pos.1,
                        function: name.clone(),
                        ran: hits.contains(&pos),
                    });
                }
            }
        }
        true
    });
    out.statements.sort_by_key(|s| (s.line, s.column));
    out.statements.dedup_by_key(|s| (s.line, s.column));
    for (n, _, _) in named.iter().filter(|(n, _, _)| !n.starts_with("test_")) {
        let ran = out.statements.iter().any(|s| &s.function == n && s.ran);
        let has = out.statements.iter().any(|s| &s.function == n);
        out.functions.push((n.clone(), ran || !has));
    }
    out
}
