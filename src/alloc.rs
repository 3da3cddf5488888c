//! Counting how much heap the process holds, so a runaway script is stopped
//! by a memory limit instead of by the operating system.
//!
//! Rhai's own array and map size limits re-measure a whole array after every
//! `push`, which makes collecting results quadratic; a counter kept by the
//! allocator costs one atomic add per allocation and is read once per script
//! operation. The binary installs [`CountingAlloc`] as its global allocator; a
//! program embedding the library without it simply has no memory limit.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static HELD: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting bytes held.
pub struct CountingAlloc;

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is kept beside it.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            HELD.fetch_add(l.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        HELD.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            HELD.fetch_add(l.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            HELD.fetch_add(new, Ordering::Relaxed);
            HELD.fetch_sub(l.size(), Ordering::Relaxed);
        }
        q
    }
}

/// Bytes of heap held now (0 when the counting allocator is not installed).
pub fn heap_bytes() -> usize {
    HELD.load(Ordering::Relaxed)
}
