//! The global allocator: jemalloc, with a running count of the bytes held.
//!
//! `used_memory` and the maxmemory check need the bytes in use before every
//! command. jemalloc's own `stats.allocated` is exact but needs an epoch
//! refresh that merges every arena's statistics, too slow per command. So
//! each allocation and free adds its size class (what `nallocx` answers, what jemalloc
//! really hands out, as Redis's `zmalloc_size` counts) to a per-thread
//! delta, and a thread folds its delta into one global counter once it
//! passes [`FLUSH_BYTES`]: one shared atomic add per ~8 KiB of churn
//! instead of one per allocation. A reader sees the global count plus its
//! own thread's delta, so the thread that frees (an eviction) sees what it
//! freed at once; other threads' deltas are off by under `FLUSH_BYTES`
//! each.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

use tikv_jemallocator::Jemalloc;

/// Bytes a thread may gather before it updates the global count.
const FLUSH_BYTES: isize = 8 * 1024;

/// Bytes in use, as of the last flush of every thread.
static USED: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// This thread's change not yet in [`USED`]. A const `Cell` with no
    /// destructor: reading it never allocates, so the allocator may.
    static DELTA: Cell<isize> = const { Cell::new(0) };
}

/// jemalloc, counted.
pub struct Counting;

/// Largest alignment jemalloc gives without being asked (x86_64, aarch64).
const MIN_ALIGN: usize = 16;

/// The size class jemalloc serves `layout` from.
#[inline]
fn class_size(layout: &Layout) -> isize {
    if layout.align() <= MIN_ALIGN && layout.align() <= layout.size() {
        // The engine's copy of jemalloc's size classes (MEMORY USAGE counts
        // with it too) is the same as `nallocx(size, 0)` (see the test) at a
        // fraction of its cost, which matters on every allocation and free.
        ferrokey_engine::value::alloc_size(layout.size()) as isize
    } else {
        aligned_class(layout)
    }
}

/// The size class of an over-aligned layout, asked of jemalloc.
#[cold]
#[allow(unsafe_code)]
fn aligned_class(layout: &Layout) -> isize {
    // MALLOCX_LG_ALIGN: log2 of the alignment.
    let flags = layout.align().trailing_zeros() as libc::c_int;
    // SAFETY: nallocx only computes a size from its arguments; a size of 0
    // never reaches here (GlobalAlloc forbids zero-sized layouts).
    unsafe { tikv_jemalloc_sys::nallocx(layout.size(), flags) as isize }
}

#[inline]
fn note(bytes: isize) {
    DELTA.with(|d| {
        let v = d.get() + bytes;
        if v >= FLUSH_BYTES || v <= -FLUSH_BYTES {
            USED.fetch_add(v, Ordering::Relaxed);
            d.set(0);
        } else {
            d.set(v);
        }
    });
}

/// Bytes held by the program: the global count plus the calling thread's
/// pending change.
pub fn used_bytes() -> u64 {
    let pending = DELTA.with(Cell::get);
    (USED.load(Ordering::Relaxed) + pending).max(0) as u64
}

// SAFETY: every method forwards to jemalloc with the same arguments and
// only adds bookkeeping on the side, so jemalloc's guarantees hold.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        let p = unsafe { Jemalloc.alloc(layout) };
        if !p.is_null() {
            note(class_size(&layout));
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received.
        let p = unsafe { Jemalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            note(class_size(&layout));
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-class_size(&layout));
        // SAFETY: forwarded as received.
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as received.
        let p = unsafe { Jemalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // SAFETY: the caller guarantees `new_size` is valid for this
            // alignment (GlobalAlloc::realloc's contract).
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            note(class_size(&new) - class_size(&layout));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn size_classes_match_jemalloc() {
        let mut sizes: Vec<usize> = (1..=70_000).collect();
        let mut s = 70_000usize;
        while s < 1 << 34 {
            sizes.extend([s - 1, s, s + 1, s + s / 3]);
            s = s * 5 / 4;
        }
        for size in sizes {
            // SAFETY: nallocx only computes a size.
            let want = unsafe { tikv_jemalloc_sys::nallocx(size, 0) };
            assert_eq!(
                ferrokey_engine::value::alloc_size(size),
                want,
                "size {size}"
            );
        }
    }

    #[test]
    fn counts_what_it_hands_out() {
        let before = used_bytes();
        let v: Vec<u8> = Vec::with_capacity(8 << 20);
        let during = used_bytes();
        assert!(
            during >= before + (8 << 20) - (1 << 20),
            "{before} -> {during}"
        );
        drop(v);
        let after = used_bytes();
        assert!(
            after + (8 << 20) - (1 << 20) <= during,
            "{during} -> {after}"
        );
    }
}
