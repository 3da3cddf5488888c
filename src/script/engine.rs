//! The Rhai engine that scripts run in: the sandbox and the limits, bound to
//! one run's state.
//!
//! Architecture invariant: a script never holds a write transaction. Its write
//! calls are validated when made and queued; `writes::apply_writes` applies the
//! queue in one transaction after the script has finished without error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDate;
use rhai::{Dynamic, Engine, EvalAltResult, Map, OptimizationLevel, Scope, AST};

use super::api;
use super::state::{Host, Limits, Output, Snapshot};
use crate::ledger::{Ledger, LedgerError};

/// One engine with the API bound to a ledger snapshot.
pub struct ScriptHost {
    pub engine: Engine,
    pub host: Arc<Host>,
    pub limits: Limits,
    /// Set to stop the running evaluation (Ctrl-C in the REPL).
    pub cancel: Arc<AtomicBool>,
    /// The token mapper's state: recording a compile's tokens, or replacing some.
    tokens: Arc<Mutex<TokenPass>>,
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
        super::records::props::set_district_order(host.snap().reader.districts());
        let limits = host.limits.clone();
        let tokens = Arc::new(Mutex::new(TokenPass::Off));
        let engine = build_engine_with(host.clone(), tokens.clone());
        ScriptHost {
            engine,
            tokens,
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
        // Parsing is held to the limits too: the clock starts here (and again
        // when the script runs), the heap may not pass its ceiling.
        *self.started.lock().unwrap() = Instant::now();
        self.cancel.store(false, Ordering::Relaxed);
        let _ceiling = crate::alloc::Ceiling::set(self.limits.max_memory, "");
        PARSE_STOP.with(|p| p.borrow_mut().take());
        let raw = self.compile_meant(scope, src).map_err(|e| {
            // The parser may put an error of its own in place of the limit's
            // token (a function left without its body): the limit is the cause.
            match PARSE_STOP.with(|p| p.borrow_mut().take()) {
                Some(why) => rhai::ParseError(
                    Box::new(rhai::ParseErrorType::BadInput(rhai::LexError::Runtime(why))),
                    e.1,
                ),
                None => e,
            }
        })?;
        let orders = super::output::literal_key_orders(&raw);
        Ok((
            self.engine
                .optimize_ast(scope, raw, OptimizationLevel::Simple),
            orders,
        ))
    }

    /// Compiles so that comparisons of enumerated properties mean what they
    /// say (see `script::compare`): once recording the tokens, and again with
    /// the tokens `compare::plan` replaces, if any.
    fn compile_meant(&self, scope: &Scope, src: &str) -> Result<AST, rhai::ParseError> {
        *self.tokens.lock().unwrap() = TokenPass::Record(Vec::new());
        let first = self.engine.compile_with_scope(scope, src);
        let recorded = std::mem::replace(&mut *self.tokens.lock().unwrap(), TokenPass::Off);
        let ast = first?;
        let TokenPass::Record(tokens) = recorded else {
            return Ok(ast);
        };
        let snap = self.host.snap();
        let plan = super::compare::plan(&ast, &tokens, snap.reader.districts());
        if let Some((pos, msg)) = plan
            .errors
            .into_iter()
            .min_by_key(|e| (e.0.line(), e.0.position()))
        {
            let e = rhai::ParseErrorType::BadInput(rhai::LexError::Runtime(msg));
            return Err(rhai::ParseError(Box::new(e), pos));
        }
        if plan.subs.is_empty() {
            return Ok(ast);
        }
        *self.tokens.lock().unwrap() = TokenPass::Replace(plan.subs);
        let second = self.engine.compile_with_scope(scope, src);
        *self.tokens.lock().unwrap() = TokenPass::Off;
        second
    }

    /// Compiles `ast`'s script functions where it can (see `script::compile`)
    /// and registers them on this engine and every worker's; returns the
    /// syntax tree to run instead. Not while a debugging tool is attached:
    /// coverage and profiles see the interpreter's steps.
    pub fn compile_functions(&mut self, ast: AST) -> AST {
        if super::debug::active() || super::compile::forced_off() {
            return ast;
        }
        let natives = super::known_functions(self, None);
        let (lib, run) = super::compile::compile(&self.engine, &ast, &natives);
        if lib.is_empty() {
            return ast;
        }
        let guard = Arc::new(super::compile::rt::Guard::of(&self.host));
        super::compile::install(&mut self.engine, &lib, guard);
        *self.host.compiled.write().unwrap() = Some(lib);
        run
    }

    /// How `run` runs each script function of `ast`: `name/arity: compiled`,
    /// or `…: interpreted (why)` (`casebook check --plan`).
    pub fn plan(&self, ast: &AST) -> Vec<String> {
        let natives = super::known_functions(self, None);
        super::compile::compile(&self.engine, ast, &natives)
            .0
            .plan_lines()
    }

    /// Runs a compiled script in `scope`, starting the clock for `--timeout`.
    pub fn run(&self, scope: &mut Scope, ast: &AST) -> Result<Dynamic, Box<EvalAltResult>> {
        super::compile::rt::reset_ops();
        *self.host.ast.write().unwrap() = Some(Arc::new(ast.clone()));
        *self.started.lock().unwrap() = Instant::now();
        self.cancel.store(false, Ordering::Relaxed);
        let _ceiling =
            crate::alloc::Ceiling::set(self.limits.max_memory, ast.source().unwrap_or(""));
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

/// What the token mapper does during a compile.
enum TokenPass {
    /// Nothing: tokens pass as they are.
    Off,
    /// Keep every token with its position.
    Record(Vec<(rhai::Token, rhai::Position)>),
    /// Replace the tokens at these positions.
    Replace(super::compare::Subs),
}

/// Builds a sandboxed engine with the whole API bound to `host`.
pub fn build_engine(host: Arc<Host>) -> Engine {
    build_engine_with(host, Arc::new(Mutex::new(TokenPass::Off)))
}

/// [`build_engine`] whose parser hook also serves `tokens` (see
/// [`ScriptHost::compile_meant`]).
fn build_engine_with(host: Arc<Host>, tokens: Arc<Mutex<TokenPass>>) -> Engine {
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
            // Standard output carries only rows (a pipe into jq, a CSV file);
            // on a terminal both show.
            None => eprintln!("{s}"),
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
            nearing_the_limit(held, max_memory);
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
    hook_tokens(&mut engine, &host, tokens);
    let compiled = host.compiled.read().unwrap().clone();
    if let Some(lib) = compiled {
        let guard = Arc::new(super::compile::rt::Guard::of(&host));
        super::compile::install(&mut engine, &lib, guard);
    }
    api::register(&mut engine, host, build_engine);
    // Coverage, profile: only when a command installed one.
    super::debug::attach(&mut engine);
    engine
}

/// Once the heap passes half the memory limit, freed memory goes back to the
/// system at once rather than after mimalloc's delay: an array doubled to
/// the limit peaked at 1.6 times it (its freed halves still resident), 1.3
/// times with this. Runs that stay below half keep the delay (5% of the
/// credit rule's time, see `alloc::return_memory_promptly`).
pub(crate) fn nearing_the_limit(held: usize, max_memory: usize) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if held > max_memory / 2 && !DONE.swap(true, Ordering::Relaxed) {
        crate::alloc::return_memory_promptly();
    }
}

thread_local! {
    /// The limit that stopped the parse running on this thread, if one did
    /// (the parser runs on the thread that calls `compile_in`).
    static PARSE_STOP: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// What a parse error says when parsing hit a limit: [`hook_tokens`]
/// stops the parser with a lexer error carrying this and the limit's token.
pub const PARSE_LIMIT: &str = "casebook-limit:";

/// Holds parsing to the memory and time limits, token by token (a script of
/// millions of short lines took 2.5 GB and 100 s to parse under
/// `--max-memory 64`, before the first step could be stopped), and records
/// or replaces tokens for `compare` as `tokens` says.
fn hook_tokens(engine: &mut Engine, host: &Arc<Host>, tokens: Arc<Mutex<TokenPass>>) {
    let limit = parse_limiter(host);
    let max_memory = host.limits.max_memory;
    // Volatile, not deprecated (Rhai marks it so): the one hook into the
    // parser, and the one way to change a token while keeping every position.
    // Rhai keeps one per engine: it checks the limits first, then records or
    // replaces tokens as `tokens` says.
    #[allow(deprecated)]
    engine.on_parse_token(move |tok, pos, _| {
        let tok = limit(tok);
        if matches!(tok, rhai::Token::LexError(_)) {
            return tok;
        }
        match &mut *tokens.lock().unwrap() {
            TokenPass::Off => tok,
            TokenPass::Record(v) => {
                // The record doubles in one step: a script too big for the
                // limit stops here, as parsing it would, not at the heap's
                // ceiling in the middle of the syntax tree's own growth
                // (which needs the other half).
                if v.len() == v.capacity() {
                    let grow =
                        v.capacity().max(64) * std::mem::size_of::<(rhai::Token, rhai::Position)>();
                    if crate::alloc::heap_bytes() + grow > max_memory / 2 {
                        return parse_stop(format!("{PARSE_LIMIT}memory:{}", max_memory >> 20));
                    }
                }
                v.push((tok.clone(), pos));
                tok
            }
            TokenPass::Replace(subs) => match subs.remove(&super::compare::key(pos)) {
                Some(new) => new,
                None => tok,
            },
        }
    });
}

/// The token that stops parsing at a limit, remembered for the error.
fn parse_stop(why: String) -> rhai::Token {
    PARSE_STOP.with(|p| *p.borrow_mut() = Some(why.clone()));
    rhai::Token::LexError(Box::new(rhai::LexError::Runtime(why)))
}

/// The check [`hook_tokens`] makes of every token first: the token itself,
/// or the error token that stops parsing at a limit.
fn parse_limiter(host: &Arc<Host>) -> impl Fn(rhai::Token) -> rhai::Token + Send + Sync + 'static {
    use rhai::{LexError, Token};
    let cancel = host.cancel.clone();
    let started = host.started.clone();
    let Limits {
        timeout,
        max_memory,
        ..
    } = host.limits.clone();
    let count = std::sync::atomic::AtomicU64::new(0);
    move |token| {
        // Once stopped, every later token says so too.
        if let Some(why) = PARSE_STOP.with(|p| p.borrow().clone()) {
            return Token::LexError(Box::new(LexError::Runtime(why)));
        }
        let held = crate::alloc::heap_bytes();
        if held > max_memory {
            return parse_stop(format!("{PARSE_LIMIT}memory:{}", max_memory >> 20));
        }
        nearing_the_limit(held, max_memory);
        if count.fetch_add(1, Ordering::Relaxed) & 0xfff == 0 {
            if cancel.load(Ordering::Relaxed) {
                return parse_stop(format!("{PARSE_LIMIT}cancelled"));
            }
            if started.lock().unwrap().elapsed() > timeout {
                return parse_stop(format!("{PARSE_LIMIT}timeout:{}", timeout.as_secs_f64()));
            }
        }
        token
    }
}
