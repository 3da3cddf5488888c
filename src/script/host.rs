//! The Rhai engine that scripts run in: the sandbox, the limits, and turning
//! what a script did into rows and (with `--write`) one audited transaction.
//!
//! Architecture invariant: a script never holds a write transaction. Its write
//! calls are validated when made and queued; [`apply_writes`] applies the queue
//! in one transaction after the script has finished without error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rhai::{Dynamic, Engine, EvalAltResult, Map, OptimizationLevel, Scope, AST};

use super::api::{self, Host, Output, Snapshot, WriteOp};
use crate::ledger::{Ledger, LedgerError, Operation};

/// Limits a script runs under. Every one is named in the error that hits it.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock limit (`--timeout`).
    pub timeout: Duration,
    /// Operations limit (`--max-operations`), 0 for none.
    pub max_operations: u64,
    pub max_call_depth: usize,
    pub max_expr_depth: usize,
    /// Heap limit in bytes (`--max-memory`, MiB on the command line).
    pub max_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(60),
            max_operations: 0,
            max_call_depth: 64,
            max_expr_depth: 128,
            max_memory: 2048 << 20,
        }
    }
}

/// One engine with the API bound to a ledger snapshot.
pub struct ScriptHost {
    pub engine: Engine,
    pub host: Arc<Host>,
    pub limits: Limits,
    /// Set to stop the running evaluation (Ctrl-C in the REPL).
    pub cancel: Arc<AtomicBool>,
    started: Arc<Mutex<Instant>>,
}

impl ScriptHost {
    /// Builds an engine over `ledger` as of `as_of`.
    pub fn new(
        ledger: &Ledger,
        as_of: NaiveDate,
        args: Map,
        write: bool,
        limits: Limits,
    ) -> Result<ScriptHost, LedgerError> {
        let snap = Arc::new(Snapshot::new(ledger.reader()?, as_of));
        Ok(Self::with_host(Host::new(snap, args, write, limits)))
    }

    /// Builds an engine around a prepared host.
    pub fn with_host(host: Host) -> ScriptHost {
        let host = Arc::new(host);
        let limits = host.limits.clone();
        let engine = build_engine(host.clone());
        ScriptHost {
            engine,
            cancel: host.cancel.clone(),
            started: host.started.clone(),
            host,
            limits,
        }
    }

    /// A scope holding `args`.
    pub fn scope(&self) -> Scope<'static> {
        let mut s = Scope::new();
        s.push_constant("args", self.host.args.clone());
        s
    }

    /// Compiles a script.
    pub fn compile(&self, src: &str) -> Result<AST, rhai::ParseError> {
        let scope = self.scope();
        self.compile_in(&scope, src).map(|(ast, _)| ast)
    }

    /// Compiles in a scope; also returns the key order of every map literal as
    /// written, read before the optimiser folds constant maps into sorted ones.
    pub fn compile_in(
        &self,
        scope: &Scope,
        src: &str,
    ) -> Result<(AST, Vec<Vec<String>>), rhai::ParseError> {
        let raw = self.engine.compile_with_scope(scope, src)?;
        let orders = super::output::literal_key_orders(&raw);
        Ok((
            self.engine
                .optimize_ast(scope, raw, OptimizationLevel::Simple),
            orders,
        ))
    }

    /// Runs a compiled script in `scope`, starting the clock for `--timeout`.
    pub fn run(&self, scope: &mut Scope, ast: &AST) -> Result<Dynamic, Box<EvalAltResult>> {
        *self.host.ast.write().unwrap() = Some(Arc::new(ast.clone()));
        *self.started.lock().unwrap() = Instant::now();
        self.cancel.store(false, Ordering::Relaxed);
        self.engine.eval_ast_with_scope::<Dynamic>(scope, ast)
    }

    /// Takes what the script emitted and queued so far.
    pub fn take_output(&self) -> Output {
        std::mem::take(&mut *self.host.out.lock().unwrap())
    }

    /// Changes the date reads are made as of (and takes a fresh snapshot of the ledger).
    pub fn set_snapshot(&self, ledger: &Ledger, as_of: NaiveDate) -> Result<(), LedgerError> {
        let snap = Arc::new(Snapshot::new(ledger.reader()?, as_of));
        self.host.set_snap(snap);
        Ok(())
    }

    /// The as-of date of the current snapshot.
    pub fn as_of(&self) -> NaiveDate {
        self.host.snap().as_of
    }
}

/// Builds a sandboxed engine with the whole API bound to `host`.
pub fn build_engine(host: Arc<Host>) -> Engine {
    let mut engine = Engine::new();
    let limits = host.limits.clone();
    // No module import from disk: scripts cannot read files.
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    // Compile unoptimised; `compile_in` optimises after reading map key orders.
    engine.set_optimization_level(OptimizationLevel::None);
    engine.set_max_call_levels(limits.max_call_depth);
    engine.set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth);
    // No string/array/map size limits in Rhai: with any of them set it re-measures
    // whole arrays after every push (quadratic). The heap limit below covers all three.
    engine.set_max_operations(limits.max_operations);
    {
        let h = host.clone();
        engine.on_print(move |s| match &h.prints {
            Some(buf) => buf.lock().unwrap().push(s.to_string()),
            None => outln!("{s}"),
        });
    }
    engine.on_debug(|s, src, pos| {
        let src = src.unwrap_or("script");
        // Rhai hands debug() strings over quoted; staff want their text.
        let text = s
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(s);
        eprintln!("{src}:{}: {text}", pos.line().unwrap_or(0));
    });
    {
        let cancel = host.cancel.clone();
        let started = host.started.clone();
        let timeout = limits.timeout;
        let max_memory = limits.max_memory;
        engine.on_progress(move |ops| {
            // One atomic load per operation: a doubling string is caught within one step.
            let held = crate::alloc::heap_bytes();
            if held > max_memory {
                return Some(format!("memory:{held}").into());
            }
            // Checking the clock costs more than an operation: look every 4096.
            if ops & 0xfff != 0 {
                return None;
            }
            if cancel.load(Ordering::Relaxed) {
                return Some("cancelled".into());
            }
            if started.lock().unwrap().elapsed() > timeout {
                return Some(format!("timeout:{}", timeout.as_secs_f64()).into());
            }
            None
        });
    }
    api::register(&mut engine, host);
    engine
}

/// Applies queued writes in one transaction dated `as_of`; returns a line per change.
pub fn apply_writes(
    ledger: &Ledger,
    op: &Operation,
    as_of: NaiveDate,
    writes: &[WriteOp],
) -> Result<Vec<String>, LedgerError> {
    // Notice files are written inside the transaction, before it commits, and
    // removed again if it does not: a notice on disk is always in the register.
    let mut written: Vec<std::path::PathBuf> = Vec::new();
    let r = ledger.transact(op, false, |tx| -> Result<Vec<String>, LedgerError> {
        let mut lines = Vec::new();
        for w in writes {
            match w {
                WriteOp::Approve { id, licence_no, expires, reason } => {
                    tx.approve(id, licence_no, *expires, as_of, reason)?;
                    lines.push(format!("application {id}: approved, licence {licence_no} from {as_of} to {expires}"));
                }
                WriteOp::RejectApplication { id, reason } => {
                    tx.reject_application(id, reason, as_of)?;
                    lines.push(format!("application {id}: rejected ({reason})"));
                }
                WriteOp::DecideCourse { id, accept, reason } => {
                    tx.decide_course(id, *accept, reason)?;
                    if *accept {
                        lines.push(format!("course {id}: accepted"));
                    } else {
                        lines.push(format!("course {id}: rejected ({reason})"));
                    }
                }
                WriteOp::Notice {
                    id,
                    kind,
                    dir,
                    name,
                    text,
                } => {
                    let sha = crate::script::sha256_hex(text);
                    let rel = format!("{}/{name}", dir.display());
                    if tx.record_notice(id, kind, as_of, &rel, &sha, &op.operator)? {
                        let p =
                            crate::script::write_under(dir, name, |w| w.write_all(text.as_bytes()))
                                .map_err(|e| {
                                    LedgerError::Storage(format!(
                                        "cannot write the notice {rel}: {e}"
                                    ))
                                })?;
                        lines.push(format!("{id}: {kind} issued: {}", p.display()));
                        written.push(p);
                    }
                }
                WriteOp::SetStatus { id, status, reason } => {
                    tx.set_status(id, *status, as_of, reason)?;
                    lines.push(format!("{id}: status {status} from {as_of} ({reason})"));
                }
                WriteOp::OpenFinding(f) => {
                    tx.upsert_finding(f)?;
                    lines.push(format!(
                        "{}: opened finding {} ({}), deadline {}",
                        f.institution_id, f.id, f.kind, f.deadline
                    ));
                }
                WriteOp::Rectify(id) => {
                    let mut f = tx.finding(id)?.ok_or_else(|| missing_finding(id))?;
                    f.rectified_on = Some(as_of);
                    tx.upsert_finding(&f)?;
                    lines.push(format!(
                        "{}: finding {id} rectified on {as_of}",
                        f.institution_id
                    ));
                }
                WriteOp::CloseOut(id) => {
                    let mut f = tx.finding(id)?.ok_or_else(|| missing_finding(id))?;
                    f.verified_on = Some(as_of);
                    tx.upsert_finding(&f)?;
                    lines.push(format!(
                        "{}: finding {id} closed out (销号) on {as_of}",
                        f.institution_id
                    ));
                }
                WriteOp::ListAdd { list, id, reason } => {
                    tx.list_add(list, id, as_of, reason, &op.operator)?;
                    lines.push(format!("{id}: added to {list} from {as_of} ({reason})"));
                }
                WriteOp::ListRemove { list, id, reason } => {
                    tx.list_remove(list, id, as_of, reason)?;
                    lines.push(format!("{id}: removed from {list} on {as_of} ({reason})"));
                }
            }
        }
        Ok(lines)
    });
    match r {
        Ok((lines, _)) => Ok(lines),
        Err(e) => {
            for p in written {
                let _ = std::fs::remove_file(p);
            }
            Err(e)
        }
    }
}

fn missing_finding(id: &str) -> LedgerError {
    LedgerError::Rejected(crate::ledger::Rejection(vec![
        crate::model::FieldError::new("finding_id", id, "no such finding"),
    ]))
}
