//! What compiled code runs with: its frame of local variables, the limits it
//! is held to, and the calls and operators it hands back to Rhai.
//!
//! The rule that keeps the two paths equal: a fast path here handles only
//! values whose result is known to be the interpreter's (integers without
//! overflow, floats, booleans, strings, dates, record getters); anything else
//! goes through the same Rhai call the interpreter would make, and its error
//! is moved to the position the interpreter would report.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position, INT};

use crate::script::records::Date;
use crate::script::state::{Host, Limits};

/// A result as Rhai's functions return it.
pub type R<T> = Result<T, Box<EvalAltResult>>;

/// How a statement ended.
pub enum Flow {
    /// Normally, with the statement's value.
    Val(Dynamic),
    Break,
    Continue,
    /// `return`, with the value.
    Return(Dynamic),
}

/// The local variables of one call, by slot.
pub struct Frame {
    pub vars: Vec<Dynamic>,
    /// Loop variables over `inst.findings()` held as findings, not script
    /// values (see `lower::Lower::findings_loop`).
    pub findings: Vec<Option<crate::script::records::FindingRef>>,
}

/// The limits compiled code checks, as the engine's progress callback does.
pub struct Guard {
    /// The run's host, for the natives compiled code calls directly (`native`).
    pub host: Arc<Host>,
    pub limits: Limits,
    pub cancel: Arc<AtomicBool>,
    pub started: Arc<Mutex<Instant>>,
}

impl Guard {
    /// The guard of the engine built around `host`.
    pub fn of(host: &Arc<Host>) -> Guard {
        Guard {
            host: host.clone(),
            limits: host.limits.clone(),
            cancel: host.cancel.clone(),
            started: host.started.clone(),
        }
    }
}

thread_local! {
    /// Operations counted by compiled code on this thread: Rhai's own count
    /// cannot be raised from a native function, so the limit is checked
    /// against the sum of both.
    static OPS: Cell<u64> = const { Cell::new(0) };
}

thread_local! {
    /// Emptied frames kept for the next call on this thread: a compiled call
    /// needs one, and most rows make several.
    static FRAMES: std::cell::RefCell<Vec<Vec<Dynamic>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The frames kept at most, and the largest kept (slots).
const KEEP_FRAMES: usize = 64;
const KEEP_SLOTS: usize = 64;

/// An empty frame with room for `cap` values: a kept one if there is one.
#[inline]
pub fn frame_vec(cap: usize) -> Vec<Dynamic> {
    let mut v = FRAMES.with(|k| k.borrow_mut().pop()).unwrap_or_default();
    v.reserve(cap);
    v
}

/// Hands a finished call's frame back: its values are dropped now, as they
/// were when the frame was dropped, and its room is kept.
#[inline]
pub fn recycle_frame(mut v: Vec<Dynamic>) {
    v.clear();
    if v.capacity() <= KEEP_SLOTS {
        FRAMES.with(|k| {
            let mut k = k.borrow_mut();
            if k.len() < KEEP_FRAMES {
                k.push(v);
            }
        });
    }
}

/// Threads that hold a copy of their own of each text constant (more share one).
const COPIES: usize = 4;

thread_local! {
    /// This thread's copy of a text constant: threads in turn.
    static COPY: usize = {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % COPIES
    };
}

/// A text constant of compiled code, copied once for each thread that reads
/// it. A script string is shared by reference count: every read of one
/// `"online"` by `par`'s two workers changed one count, and the core that
/// changed it last holds it, so each read waited for the other core.
pub struct PerThread {
    copies: [std::sync::OnceLock<Dynamic>; COPIES],
}

impl PerThread {
    /// `v` (a string) for every thread.
    pub fn new(v: Dynamic) -> PerThread {
        let copies = std::array::from_fn(|_| std::sync::OnceLock::new());
        let _ = copies[0].set(v);
        PerThread { copies }
    }

    /// This thread's copy: the same text, its own count.
    #[inline]
    pub fn get(&self) -> Dynamic {
        self.copy(COPY.with(|c| *c))
    }

    /// Copy `i`, made on first use.
    #[inline]
    fn copy(&self, i: usize) -> Dynamic {
        self.copies[i]
            .get_or_init(|| {
                let first = self.copies[0].get().expect("set when made");
                match first.read_lock::<rhai::ImmutableString>() {
                    Some(t) => rhai::ImmutableString::from(t.as_str()).into(),
                    None => first.clone(),
                }
            })
            .clone()
    }
}

/// Forgets the operations counted on this thread (a new run starts).
pub fn reset_ops() {
    OPS.with(|o| o.set(0));
}

/// One call's context: Rhai's native call context, the compiled library,
/// the call depth and the limits.
pub struct Rt<'a> {
    pub ctx: &'a NativeCallContext<'a>,
    pub lib: &'a super::Lib,
    pub level: usize,
    pub guard: &'a Guard,
}

impl Rt<'_> {
    /// Counts one operation and checks the limits as `engine`'s progress
    /// callback does (operations, heap, stop flag, clock).
    #[inline]
    pub fn tick(&self, pos: Position) -> R<()> {
        let n = OPS.with(|o| {
            let n = o.get() + 1;
            o.set(n);
            n
        });
        let l = &self.guard.limits;
        if l.max_operations > 0
            && self.ctx.global_runtime_state().num_operations() + n > l.max_operations
        {
            return Err(EvalAltResult::ErrorTooManyOperations(pos).into());
        }
        let held = crate::alloc::heap_bytes();
        if held > l.max_memory {
            return Err(terminated(format!("memory:{held}"), pos));
        }
        crate::script::engine::nearing_the_limit(held, l.max_memory);
        if n & 0xfff == 0 {
            if self.guard.cancel.load(Ordering::Relaxed) {
                return Err(terminated("cancelled".into(), pos));
            }
            if self.guard.started.lock().unwrap().elapsed() > l.timeout {
                return Err(terminated(
                    format!("timeout:{}", l.timeout.as_secs_f64()),
                    pos,
                ));
            }
        }
        Ok(())
    }

    /// Calls a function (script or native) by name as the interpreter's call
    /// at `pos` would; `by_ref`: the first argument is a variable the
    /// function may change.
    pub fn call(
        &self,
        name: &str,
        by_ref: bool,
        method: bool,
        args: &mut [&mut Dynamic],
        pos: Position,
    ) -> R<Dynamic> {
        self.ctx
            .call_fn_raw(name, by_ref, method, args)
            .map_err(|e| self.at(e, pos))
    }

    /// Calls a native function or operator by name (operators fall back to
    /// Rhai's built-ins, as in the interpreter).
    pub fn call_native(
        &self,
        name: &str,
        by_ref: bool,
        args: &mut [&mut Dynamic],
        pos: Position,
    ) -> R<Dynamic> {
        self.ctx
            .call_native_fn_raw(name, by_ref, args)
            .map_err(|e| self.at(e, pos))
    }

    /// An error from a call made through Rhai's native context, which
    /// places it at the compiled function's own call: moved to `pos`, where
    /// the interpreter makes the call.
    pub fn at(&self, mut e: Box<EvalAltResult>, pos: Position) -> Box<EvalAltResult> {
        let p = e.position();
        if p.is_none() || p == self.ctx.call_position() {
            e.set_position(pos);
        }
        e
    }

    /// The error for a value of the wrong type where `T` is needed.
    pub fn mismatch(&self, want: &str, got: &str, pos: Position) -> Box<EvalAltResult> {
        let e = self.ctx.engine();
        EvalAltResult::ErrorMismatchDataType(e.map_type_name(want).into(), got.into(), pos).into()
    }
}

fn terminated(why: String, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(why.into(), pos).into()
}

/// A binary operator on two values the result of which is known without
/// Rhai (no overflow, no error); `None` sends the call to Rhai.
#[inline]
pub fn fast_binary(op: Op, a: &Dynamic, b: &Dynamic) -> Option<Dynamic> {
    use Op::*;
    if let (Some(x), Some(y)) = (a.as_int().ok(), b.as_int().ok()) {
        return Some(match op {
            Add => x.checked_add(y)?.into(),
            Sub => x.checked_sub(y)?.into(),
            Mul => x.checked_mul(y)?.into(),
            _ => compare(op, x, y)?.into(),
        });
    }
    if a.is_unit() || b.is_unit() {
        return fast_unit(op, a, b);
    }
    let f = |v: &Dynamic| -> Option<f64> {
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i: INT| i as f64))
    };
    if a.is_float() || b.is_float() {
        let (x, y) = (f(a)?, f(b)?);
        return Some(match op {
            Add => (x + y).into(),
            Sub => (x - y).into(),
            Mul => (x * y).into(),
            Div => (x / y).into(),
            // Rhai compares floats within a relative epsilon (its built-ins, copied).
            Eq | Ne | Lt | Le | Gt | Ge => {
                let max = if x * y == 0.0 {
                    1.0
                } else {
                    x.abs().max(y.abs())
                };
                // Rhai's own early answer: `max` is 0 when one side is 0
                // and the other NaN (`f64::max` drops a NaN), and NaN then
                // counts as equal.
                if max == 0.0 {
                    return Some(matches!(op, Eq | Ge | Le).into());
                }
                let e = f64::EPSILON;
                match op {
                    Eq => (x - y).abs() / max <= e,
                    Ne => (x - y).abs() / max > e,
                    Gt => (x - y) / max > e,
                    Ge => (x - y) / max > -e,
                    Lt => (y - x) / max > e,
                    _ => (y - x) / max > -e,
                }
                .into()
            }
            _ => return None,
        });
    }
    if a.is_string() && b.is_string() {
        let (x, y) = (
            a.read_lock::<rhai::ImmutableString>()?,
            b.read_lock::<rhai::ImmutableString>()?,
        );
        return Some(match op {
            Eq => (x.as_str() == y.as_str()).into(),
            Ne => (x.as_str() != y.as_str()).into(),
            _ => return None,
        });
    }
    if let Some(x) = a.read_lock::<Date>() {
        return fast_date(op, *x, b);
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return Some(match op {
            Eq => (x == y).into(),
            Ne => (x != y).into(),
            _ => return None,
        });
    }
    None
}

/// A comparison with `()`: Rhai's built-in answer (`()` equals only `()`;
/// every other comparison with it is false), for the types casebook
/// registers no operator with `()` for (it does for dates: Rhai is called).
fn fast_unit(op: Op, a: &Dynamic, b: &Dynamic) -> Option<Dynamic> {
    use Op::*;
    let other = if a.is_unit() { b } else { a };
    let same = other.is_unit();
    if !(same || other.is_string() || other.is_bool() || other.is_int() || other.is_float()) {
        return None;
    }
    Some(match op {
        Eq => same.into(),
        Ne => (!same).into(),
        Lt | Le | Gt | Ge => false.into(),
        _ => return None,
    })
}

/// A date operator: what `api::dates` registers for (date, date) and
/// (date, integer), without the call.
fn fast_date(op: Op, x: Date, b: &Dynamic) -> Option<Dynamic> {
    use Op::*;
    if let Some(y) = b.read_lock::<Date>() {
        return date_pair(op, x, *y);
    }
    let n = b.as_int().ok().filter(|n| n.abs() < 100_000_000)?;
    let d = chrono::Duration::days(n);
    Some(Dynamic::from(Date(match op {
        Add => x.0.checked_add_signed(d)?,
        Sub => x.0.checked_sub_signed(d)?,
        _ => return None,
    })))
}

/// An operator on two dates: what `api::dates` registers for (date, date),
/// without the call; `None` for one it has not (Rhai's call gives the error).
#[inline]
pub fn date_pair(op: Op, x: Date, y: Date) -> Option<Dynamic> {
    Some(match op {
        Op::Sub => ((x.0 - y.0).num_days() as INT).into(),
        _ => compare(op, x, y)?.into(),
    })
}

/// `x op y` for a comparison operator; `None` for any other operator.
#[inline]
fn compare<T: PartialOrd>(op: Op, x: T, y: T) -> Option<bool> {
    use Op::*;
    Some(match op {
        Eq => x == y,
        Ne => x != y,
        Lt => x < y,
        Le => x <= y,
        Gt => x > y,
        Ge => x >= y,
        _ => return None,
    })
}

/// The operators with a fast path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Other,
}

impl Op {
    /// The operator named `s` (Rhai's syntax).
    pub fn of(s: &str) -> Op {
        match s {
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => Op::Other,
        }
    }
}

/// Rhai's own methods on arrays and numbers, done here when the target is
/// of their type (what `rhai::packages` does, without the call); the script
/// has no function of the name, and casebook registers none for these types.
#[derive(Clone, Copy)]
pub enum Builtin {
    Push,
    Len,
    IsEmpty,
    ToFloat,
    Round,
    Floor,
    ToInt,
}

impl Builtin {
    /// The method `name` taking `args` arguments, if it has a fast path.
    pub fn of(name: &str, args: usize) -> Option<Builtin> {
        Some(match (name, args) {
            ("push", 1) => Builtin::Push,
            ("len", 0) => Builtin::Len,
            ("is_empty", 0) => Builtin::IsEmpty,
            ("to_float", 0) => Builtin::ToFloat,
            ("round", 0) => Builtin::Round,
            ("floor", 0) => Builtin::Floor,
            ("to_int", 0) => Builtin::ToInt,
            _ => return None,
        })
    }

    /// The result, or `None` when `v` is not of the type (Rhai is called).
    pub fn call(self, v: &mut Dynamic, args: &mut [Dynamic]) -> Option<Dynamic> {
        use Builtin::*;
        match self {
            // A constant is Rhai's to refuse changing.
            Push if v.is_read_only() => None,
            Push | Len | IsEmpty => {
                let mut a = v.write_lock::<rhai::Array>()?;
                Some(match self {
                    Push => {
                        a.push(std::mem::take(&mut args[0]));
                        Dynamic::UNIT
                    }
                    Len => (rhai::INT::try_from(a.len()).unwrap_or(rhai::INT::MAX)).into(),
                    _ => a.is_empty().into(),
                })
            }
            ToFloat => match v.as_int() {
                Ok(i) => Some((i as f64).into()),
                Err(_) => v.as_float().ok().map(Dynamic::from),
            },
            Round => v.as_float().ok().map(|x| x.round().into()),
            Floor => v.as_float().ok().map(|x| x.floor().into()),
            // Out of range, Rhai's own call gives its error.
            ToInt => v
                .as_float()
                .ok()
                .filter(|x| *x <= rhai::INT::MAX as f64 && *x >= rhai::INT::MIN as f64)
                .map(|x| (x.trunc() as rhai::INT).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::ImmutableString;

    fn text(v: &Dynamic) -> ImmutableString {
        v.read_lock::<ImmutableString>().unwrap().clone()
    }

    #[test]
    fn a_text_constant_is_the_same_text_on_every_thread_and_one_copy_per_thread() {
        let c = Arc::new(PerThread::new(Dynamic::from("线上 online")));
        let mine = (text(&c.get()), text(&c.get()));
        assert!(mine.0.ptr_eq(&mine.1), "one thread reads its one copy");
        let others: Vec<(ImmutableString, ImmutableString)> = (0..6)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (text(&c.get()), text(&c.get())))
                    .join()
                    .unwrap()
            })
            .collect();
        for (a, b) in &others {
            assert_eq!(a.as_str(), "线上 online");
            assert!(a.ptr_eq(b));
        }
        // Each copy its own string with the same text (which thread takes
        // which copy depends on every thread the process has started).
        let all: Vec<ImmutableString> = (0..COPIES).map(|i| text(&c.copy(i))).collect();
        for (i, a) in all.iter().enumerate() {
            assert_eq!(a.as_str(), "线上 online");
            assert!(all[..i].iter().all(|b| !b.ptr_eq(a)), "copy {i} is shared");
            assert!(text(&c.copy(i)).ptr_eq(a), "copy {i} made twice");
        }
    }
}
