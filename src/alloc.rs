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
        HELD.fetch_add(v as usize, Ordering::Relaxed);
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
    let mut msg = [0u8; 512];
    let mut n = 0;
    let mut put = |b: &[u8]| {
        let k = b.len().min(msg.len() - n);
        msg[n..n + k].copy_from_slice(&b[..k]);
        n += k;
    };
    put(b"error: out of memory: the system refused an allocation of ");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(&digits[i..]);
    put(b" bytes, so casebook stopped; a change not yet committed was not written\n  = help: lower --max-memory below what the machine allows, so that a script is stopped in time\n");
    // SAFETY: write and _exit are async-signal-safe and take a valid buffer.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), n);
        libc::_exit(1);
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
