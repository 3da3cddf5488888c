//! Counting how much heap the process holds, so a runaway script is stopped
//! by a memory limit instead of by the operating system.
//!
//! Rhai's own array and map size limits re-measure a whole array after every
//! `push`, which makes collecting results quadratic; a counter kept by the
//! allocator costs one atomic add per allocation and is read once per script
//! operation. The binary installs [`CountingAlloc`] as its global allocator; a
//! program embedding the library without it simply has no memory limit.

use std::alloc::{GlobalAlloc, Layout};

/// mimalloc underneath: script runs allocate a small value per record, and
/// glibc malloc spent a tenth of the credit rule on it.
const INNER: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::atomic::{AtomicUsize, Ordering};

static HELD: AtomicUsize = AtomicUsize::new(0);

/// While a script is parsed or runs: the heap it may never pass, even inside
/// one step (see [`Ceiling`]). `usize::MAX` at other times.
static CEILING: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The `--max-memory` the ceiling derives from, for its message.
static LIMIT: AtomicUsize = AtomicUsize::new(0);
/// The script the ceiling guards, for its message (read without allocating).
static SCRIPT: std::sync::RwLock<String> = std::sync::RwLock::new(String::new());

/// Each thread keeps its own tally and adds it to [`HELD`] once it passes
/// 1 MiB either way: one shared counter bumped on every allocation made two
/// scoring threads fight over its cache line (10% of a run).
const FLUSH: isize = 1 << 20;

thread_local! {
    static LOCAL: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn account(delta: isize) {
    // A const-initialised Cell has no destructor, so this works during thread teardown too.
    let flushed = LOCAL.try_with(|c| {
        let v = c.get() + delta;
        if v.abs() >= FLUSH {
            c.set(0);
            Some(v)
        } else {
            c.set(v);
            None
        }
    });
    match flushed {
        Ok(None) => {}
        Ok(Some(v)) => add(v),
        Err(_) => add(delta),
    }
}

fn add(v: isize) {
    if v >= 0 {
        let held = HELD.fetch_add(v as usize, Ordering::Relaxed) + v as usize;
        // Once per MiB a thread takes, and on every allocation of a MiB or more.
        if held > CEILING.load(Ordering::Relaxed) {
            over_ceiling();
        }
    } else {
        // Frees can be tallied on another thread than their allocations: never wrap below zero.
        let _ = HELD.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| {
            Some(h.saturating_sub(v.unsigned_abs()))
        });
    }
}

/// Ends the process when the system refuses memory (an address-space cap, a
/// full machine): with the memory-limit error and exit code 1, as a script
/// over `--max-memory` ends, instead of Rust's abort (exit 134 and a
/// backtrace). Nothing here may allocate, so the message is written with
/// `write(2)` from the stack. A write to the ledger is one redb transaction:
/// ending before its commit leaves the ledger as it was.
fn out_of_memory(size: usize) -> ! {
    let mut m = Msg::new();
    m.put(b"error: out of memory: the system refused an allocation of ");
    m.num(size);
    m.put(b" bytes, so casebook stopped; a change not yet committed was not written\n  = help: lower --max-memory below what the machine allows, so that a script is stopped in time\n");
    m.exit()
}

/// Ends the process when a script's heap passes its ceiling inside one step
/// (a string or array doubled by `+=`, a built-in that allocates in one go):
/// the step cannot be interrupted, and letting it finish would take the peak
/// far past `--max-memory`. Same words and exit code as the limit's error
/// between steps; the script's line is not known here, its file is. A
/// script's writes are applied only after it ends, so none was made.
fn over_ceiling() -> ! {
    let mut m = Msg::new();
    m.put(b"error: the script used more than the memory limit of ");
    m.num(LIMIT.load(Ordering::Relaxed) >> 20);
    m.put(b" MiB in one step, so casebook stopped it; nothing was written\n");
    if let Ok(file) = SCRIPT.try_read() {
        if !file.is_empty() {
            m.put(b"  --> ");
            m.put(file.as_bytes());
            m.put(b"\n");
        }
    }
    m.put(b"  = help: a string or array doubled in a loop? Raise the limit with --max-memory MIB if the data really is this large\n");
    m.exit()
}

/// A message built on the stack, for the two ends above that may not allocate.
struct Msg {
    buf: [u8; 1024],
    n: usize,
}

impl Msg {
    fn new() -> Msg {
        Msg {
            buf: [0; 1024],
            n: 0,
        }
    }

    fn put(&mut self, b: &[u8]) {
        let k = b.len().min(self.buf.len() - self.n);
        self.buf[self.n..self.n + k].copy_from_slice(&b[..k]);
        self.n += k;
    }

    fn num(&mut self, mut v: usize) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put(&digits[i..]);
    }

    /// Writes the message to stderr and ends the process with exit code 1.
    fn exit(&self) -> ! {
        // SAFETY: write and _exit are async-signal-safe and take a valid buffer.
        unsafe {
            libc::write(2, self.buf.as_ptr().cast(), self.n);
            libc::_exit(1);
        }
    }
}

/// The heap a script may never pass, set while it is parsed and run: its
/// `--max-memory` plus an eighth. Between steps the engine stops a script
/// over `--max-memory` with its line; this ceiling bounds the peak within a
/// step, whose allocations cannot be refused one by one. Dropping the guard
/// puts back the ceiling before it (none outside a script: rendering the
/// rows afterwards is not the script's memory).
pub struct Ceiling {
    before: (usize, usize),
}

impl Ceiling {
    /// Sets the ceiling under `max_memory` bytes; `script` names the file
    /// in its message (an empty name keeps the one set before).
    pub fn set(max_memory: usize, script: &str) -> Ceiling {
        if !script.is_empty() {
            if let Ok(mut s) = SCRIPT.write() {
                s.clear();
                s.push_str(script);
            }
        }
        let before = (
            CEILING.load(Ordering::Relaxed),
            LIMIT.load(Ordering::Relaxed),
        );
        LIMIT.store(max_memory, Ordering::Relaxed);
        CEILING.store(max_memory.saturating_add(max_memory / 8), Ordering::Relaxed);
        Ceiling { before }
    }
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        CEILING.store(self.before.0, Ordering::Relaxed);
        LIMIT.store(self.before.1, Ordering::Relaxed);
    }
}

/// The allocator (mimalloc), counting bytes held.
pub struct CountingAlloc;

// SAFETY: every call is forwarded to mimalloc unchanged; only a counter is kept beside it.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { INNER.alloc(l) };
        if p.is_null() {
            out_of_memory(l.size());
        }
        account(l.size() as isize);
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { INNER.dealloc(p, l) };
        account(-(l.size() as isize));
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { INNER.alloc_zeroed(l) };
        if p.is_null() {
            out_of_memory(l.size());
        }
        account(l.size() as isize);
        p
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // A large block grows by copying: the old and the new are both held meanwhile.
        if new >= FLUSH as usize
            && heap_bytes().saturating_add(new) > CEILING.load(Ordering::Relaxed)
        {
            over_ceiling();
        }
        let q = unsafe { INNER.realloc(p, l, new) };
        if q.is_null() {
            out_of_memory(new);
        }
        account(new as isize - l.size() as isize);
        q
    }
}

/// Bytes of heap held now, to within 1 MiB per thread (0 when the counting allocator is not installed).
pub fn heap_bytes() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// Hands freed memory back to the operating system at once rather than after
/// mimalloc's default delay. An import frees and reallocates hundreds of MB of
/// parsed rows and ledger pages in a few seconds; with the delay its peak
/// resident memory was 320 MB, without it 291 MB, for 2% of its time. Script
/// runs keep the delay: purging at once cost the credit rule 5%.
pub fn return_memory_promptly() {
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // `mi_option_purge_delay` in mimalloc 3's include/mimalloc.h (Cargo.lock pins the version).
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    // SAFETY: sets one mimalloc option; callable at any time from any thread.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}
