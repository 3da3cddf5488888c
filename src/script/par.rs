//! Running `institutions().map(f)` and `courses().map(f)` on every core.
//!
//! One Rhai engine shared by two threads gives no speed-up, so each worker
//! builds its own engine (same API, same snapshot, same limits and stop flag)
//! and calls the script's function from the shared AST (a compiled one
//! straight from Rust, `compile::Lib::map_each`). The workers take
//! batches of stored records from one ledger scan as they go, so a worker whose
//! institutions have more findings simply takes fewer batches, and nobody waits
//! for the whole table to be read first. Results, emitted rows, queued writes
//! and printed lines are put back in batch order, so a parallel run gives
//! exactly what a sequential one would (and the first error in record order).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rhai::{Array, Dynamic, EvalAltResult, FnPtr};

use super::records::{CourseRef, InstitutionRef, Records, ScriptCourse};
use super::state::{Host, Output, Snapshot};
use crate::ledger::{RawRecords, RawSpan};
use crate::model::RecordKind;

/// Builds a sandboxed engine with the whole API (the engine module's
/// `build_engine`, handed down because that module depends on the API, which
/// calls this one).
pub type BuildEngine = fn(Arc<Host>) -> rhai::Engine;

/// What one batch gives: its results and output (or the error it stopped
/// at), and the lines it printed before that.
type Chunk = (Result<(Array, Output), Box<EvalAltResult>>, Vec<String>);

/// Stored records handed to a worker at a time: small enough to balance two
/// workers, large enough that taking one is rare.
const BATCH: usize = 1024;

/// The ledger scan the workers share: the next batch's number and the records left.
type Source<'a> = Mutex<(usize, crate::ledger::RawIter<'a>)>;

/// Below this many records the threads cost more than they save.
const MIN_PARALLEL: usize = 2_000;

/// What each worker runs over its share of the records.
const PAR_LOOP: &str = "for par_x in par_part { par_out.push(par_f.call(par_x)); }";

/// The native function that maps a compiled function over a batch.
const PAR_NATIVE: &str = "__casebook_par_map";
/// What each worker runs when `par_f` runs compiled.
const PAR_NATIVE_LOOP: &str = "par_out = __casebook_par_map(par_part);";

/// One batch of stored records, decoded as the loop walks it.
#[derive(Clone)]
struct Part {
    raw: Arc<RawRecords>,
    kind: RecordKind,
    snap: Arc<Snapshot>,
}

impl IntoIterator for Part {
    type Item = Result<Dynamic, Box<EvalAltResult>>;
    type IntoIter = PartIter;
    fn into_iter(self) -> PartIter {
        PartIter {
            part: self,
            next: 0,
        }
    }
}

struct PartIter {
    part: Part,
    next: usize,
}

impl Iterator for PartIter {
    type Item = Result<Dynamic, Box<EvalAltResult>>;
    fn next(&mut self) -> Option<Self::Item> {
        while let Some(at) = self.part.raw.spans.get(self.next) {
            self.next += 1;
            match decode(self.part.kind, &self.part.raw, at, &self.part.snap) {
                Ok(Some(v)) => return Some(Ok(v)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

/// The stored record at `at` in `raw` as the script value `f` is called
/// with, or `None` when the record is not visible on the snapshot's date.
fn decode(
    kind: RecordKind,
    raw: &RawRecords,
    at: &RawSpan,
    snap: &Arc<Snapshot>,
) -> Result<Option<Dynamic>, Box<EvalAltResult>> {
    let bad = |e: crate::ledger::codec::DecodeError| format!("ledger: {e}");
    let bytes = raw.record(at);
    Ok(match kind {
        RecordKind::Institutions => Some(Dynamic::from(InstitutionRef::new(
            Arc::new(crate::ledger::codec::decode_institution_as(bytes).map_err(bad)?),
            snap.clone(),
        ))),
        RecordKind::Courses => {
            // Straight from the stored bytes and the key: no whole record is rebuilt first.
            let (inst, id) = raw.key(at);
            let c: ScriptCourse =
                crate::ledger::codec::decode_stored(inst, id, bytes).map_err(bad)?;
            (c.filed_on <= snap.as_of).then(|| {
                Dynamic::from(CourseRef {
                    course: Arc::new(c),
                    as_of: snap.as_of,
                })
            })
        }
        _ => None,
    })
}

/// Maps `f` over the institutions or courses on several threads, or returns `None` when
/// that would not be exactly equivalent or worth it (the function captures
/// variables it might change, or there is one core, or few records).
/// `at` is where the script calls `map` (its source name and position), for
/// errors; `consts` are the run's global constants the caller sees; `build`
/// makes each worker's engine.
pub fn try_par_map(
    host: &Arc<Host>,
    build: BuildEngine,
    r: &Records,
    f: &FnPtr,
    at: (&str, rhai::Position),
    consts: &[(String, Dynamic)],
) -> Result<Option<Array>, Box<EvalAltResult>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if !matches!(r.kind, RecordKind::Institutions | RecordKind::Courses)
        || threads < 2
        || !f.curry().is_empty()
        || host.prints.is_some()
    {
        return Ok(None);
    }
    let Some(ast) = host.ast.read().unwrap().clone() else {
        return Ok(None);
    };
    // Functions may read top-level `const`s as `global::NAME`; a worker runs
    // only the functions, so such a script maps on one thread.
    if ast.statements().iter().any(
        |s| matches!(s, rhai::Stmt::Var(_, flags, _) if flags.contains(rhai::ASTFlags::CONSTANT)),
    ) {
        return Ok(None);
    }
    let snap = r.snap.clone();
    let ledger = |e: crate::ledger::LedgerError| format!("ledger: {e}");
    let (stored, it) = match r.kind {
        RecordKind::Courses => (
            snap.reader.course_count().map_err(ledger)?,
            snap.reader.courses_raw().map_err(ledger)?,
        ),
        _ => (
            snap.reader.counts().map_err(ledger)?.0,
            snap.reader.institutions_raw().map_err(ledger)?,
        ),
    };
    if (stored as usize) < MIN_PARALLEL {
        return Ok(None);
    }
    let source: Source = Mutex::new((0, it));
    // Set when a batch fails: the others stop taking batches.
    let failed = AtomicBool::new(false);
    let merge = Mutex::new(Merge {
        next: 0,
        waiting: BTreeMap::new(),
        all: Array::with_capacity(stored as usize),
        error: None,
    });
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (ast, snap, f, kind) = (ast.clone(), snap.for_worker(), f.clone(), r.kind);
            let (source, failed, merge) = (&source, &failed, &merge);
            let at = (at.0, at.1);
            s.spawn(move || {
                let ctx = WorkCtx {
                    host,
                    build,
                    ast: &ast,
                    snap: &snap,
                    f: &f,
                    kind,
                    consts,
                    source,
                    failed,
                    merge,
                    at,
                };
                work(&ctx)
            });
        }
    });
    let m = merge.into_inner().unwrap();
    match m.error {
        Some(e) => Err(e),
        None => Ok(Some(m.all)),
    }
}

/// Finished batches, merged into the run's output in batch order as soon as
/// every earlier one is in (so a streaming run writes rows as it goes, in
/// the order a sequential run would emit them).
struct Merge {
    /// The next batch to merge.
    next: usize,
    /// Finished batches waiting for an earlier one.
    waiting: BTreeMap<usize, Chunk>,
    /// The results merged so far.
    all: Array,
    /// The first error in batch order: nothing after it is merged.
    error: Option<Box<EvalAltResult>>,
}

impl Merge {
    /// Takes batch `n`'s outcome and merges every batch now in order.
    fn add(&mut self, n: usize, chunk: Chunk, c: &WorkCtx<'_, '_>) {
        self.waiting.insert(n, chunk);
        while self.error.is_none() {
            let Some((r, printed)) = self.waiting.remove(&self.next) else {
                break;
            };
            self.next += 1;
            for line in printed {
                eprintln!("{line}");
            }
            let merged = r.map_err(|e| relocate(*e, c.f, c.at)).and_then(|(a, o)| {
                self.all.extend(a);
                merge_output(c.host, o)
            });
            if let Err(e) = merged {
                c.failed.store(true, Ordering::Relaxed);
                self.error = Some(e);
            }
        }
    }
}

/// Adds one batch's output to the run's (and hands its rows to the run's
/// stream, if it streams).
fn merge_output(host: &Host, o: Output) -> Result<(), Box<EvalAltResult>> {
    let mut main_out = host.out.lock().unwrap();
    // Columns set by emitting a record count only where a sequential run
    // would have set them: before any row and any `columns()`.
    if let Some(c) = o.columns {
        if !o.columns_from_emit || (main_out.rows.is_empty() && main_out.columns.is_none()) {
            if let Some(s) = host.stream.lock().unwrap().as_ref() {
                s.allows_columns(&c)?;
            }
            main_out.columns = Some(c);
            main_out.columns_from_emit = o.columns_from_emit;
        }
    }
    main_out.rows.append(o.rows);
    for w in o.writes {
        main_out.queue(w);
    }
    main_out.files.extend(o.files);
    main_out.charts.extend(o.charts);
    main_out.unchanged.extend(o.unchanged);
    for d in o.decided {
        if main_out.decided.contains(&d) {
            let (what, id) = d.split_once(':').unwrap_or(("", &d));
            let what = if what == "app" { "application" } else { what };
            return Err(format!("{what} {id} was already decided in this run").into());
        }
        main_out.decided.insert(d);
    }
    if let Some(s) = host.stream.lock().unwrap().as_mut() {
        s.drain(&mut main_out);
    }
    Ok(())
}

/// What every worker shares.
struct WorkCtx<'a, 's> {
    host: &'a Arc<Host>,
    build: BuildEngine,
    ast: &'a rhai::AST,
    snap: &'a Arc<Snapshot>,
    f: &'a FnPtr,
    kind: RecordKind,
    consts: &'a [(String, Dynamic)],
    source: &'a Source<'s>,
    failed: &'a AtomicBool,
    merge: &'a Mutex<Merge>,
    /// Where the script calls `map`, for errors.
    at: (&'a str, rhai::Position),
}

/// An error from a worker's loop as the sequential map would report it: the
/// call of `f` and anything the loop itself hit happened at the script's `map`.
fn relocate(e: EvalAltResult, f: &FnPtr, (src, pos): (&str, rhai::Position)) -> Box<EvalAltResult> {
    match e {
        EvalAltResult::ErrorInFunctionCall(name, _, inner, _) if name == f.fn_name() => Box::new(
            EvalAltResult::ErrorInFunctionCall(name, src.to_string(), inner, pos),
        ),
        mut other => {
            other.set_position(pos);
            Box::new(other)
        }
    }
}

/// One worker: takes batches from the shared source until it is empty (or
/// a batch failed), runs `f` over each and hands each outcome to the merge.
fn work(c: &WorkCtx<'_, '_>) {
    let WorkCtx {
        host,
        build,
        ast,
        snap,
        f,
        kind,
        consts,
        source,
        failed,
        ..
    } = *c;
    let worker = host.worker();
    // `institution(id)` in the worker hands out this thread's handle too.
    worker.set_snap(snap.clone());
    let worker = Arc::new(worker);
    let mut engine = build(worker.clone());
    engine.register_type_with_name::<Part>("records");
    engine.register_iterator_result::<Part, Dynamic>();
    // The loop runs as script, not as one native call per record: a native
    // call (FnPtr::call_raw) starts with empty function caches, so every call
    // inside `f` would be looked up afresh, each time, for every record.
    // A function (or closure) that runs compiled is called straight from
    // Rust for each record, through one native call per batch.
    let compiled = worker.compiled.read().unwrap().clone();
    let native = compiled.and_then(|lib| {
        let i = lib.callable(f.fn_name(), 1)?;
        let guard = crate::script::compile::rt::Guard::of(&worker);
        engine.register_raw_fn(
            PAR_NATIVE,
            vec![std::any::TypeId::of::<Part>()],
            move |ctx, args| {
                let part = std::mem::take(args[0]).cast::<Part>();
                lib.map_each(i, &ctx, &guard, part.into_iter())
                    .map(Dynamic::from)
            },
        );
        Some(())
    });
    let lp = if native.is_some() {
        PAR_NATIVE_LOOP
    } else {
        PAR_LOOP
    };
    let ast = match engine.compile(lp) {
        Ok(lp) => ast.clone_functions_only().merge(&lp),
        Err(e) => {
            failed.store(true, Ordering::Relaxed);
            return c
                .merge
                .lock()
                .unwrap()
                .add(0, (Err(e.into()), Vec::new()), c);
        }
    };
    while !failed.load(Ordering::Relaxed) {
        let (n, batch) = {
            let mut src = source.lock().unwrap();
            let n = src.0;
            src.0 += 1;
            let mut batch = RawRecords::default();
            let got = (src.1)(&mut batch, BATCH);
            (n, got.map(|_| batch))
        };
        let batch = match batch {
            Ok(b) if b.spans.is_empty() => break,
            Ok(b) => b,
            Err(e) => {
                failed.store(true, Ordering::Relaxed);
                let e = format!("ledger: {e}").into();
                c.merge.lock().unwrap().add(n, (Err(e), Vec::new()), c);
                break;
            }
        };
        if kind == RecordKind::Institutions {
            if let Err(e) = walk_findings(snap, &batch) {
                failed.store(true, Ordering::Relaxed);
                c.merge.lock().unwrap().add(n, (Err(e), Vec::new()), c);
                break;
            }
        }
        let mut scope = rhai::Scope::new();
        let len = batch.spans.len();
        scope.push(
            "par_part",
            Part {
                raw: Arc::new(batch),
                kind,
                snap: snap.clone(),
            },
        );
        scope.push("par_f", f.clone());
        // As in the main run: functions read these as `global::NAME`.
        scope.push_constant("args", worker.args.clone());
        for (k, v) in consts {
            scope.push_constant(k.as_str(), v.clone());
        }
        scope.push("par_out", Array::with_capacity(len));
        let r = engine.run_ast_with_scope(&mut scope, &ast).map(|()| {
            let out = scope.remove::<Array>("par_out").unwrap_or_default();
            (out, std::mem::take(&mut *worker.out.lock().unwrap()))
        });
        // Lines printed before an error are printed too, as a sequential run would.
        let p = std::mem::take(&mut *worker.prints.as_ref().unwrap().lock().unwrap());
        *worker.out.lock().unwrap() = Output::default();
        *snap.cursor.lock().unwrap() = None;
        if r.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        c.merge.lock().unwrap().add(n, (r, p), c);
    }
}

/// Sets up one walk over the findings of a batch of institutions (ids in order).
fn walk_findings(snap: &Snapshot, batch: &RawRecords) -> Result<(), Box<EvalAltResult>> {
    // An institution's key is its id.
    let id = |at: &RawSpan| batch.key(at).1.to_string();
    let (Some(first), Some(last)) = (batch.spans.first(), batch.spans.last()) else {
        return Ok(());
    };
    let c = snap
        .reader
        .findings_cursor(&id(first), &id(last))
        .map_err(|e| format!("ledger: {e}"))?;
    *snap.cursor.lock().unwrap() = Some(c);
    Ok(())
}
