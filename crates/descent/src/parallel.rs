//! How many worker threads the library may use, and splitting element-wise work across them.
//!
//! The count defaults to the machine's available parallelism (or `DESCENT_THREADS`) and can
//! be set once by the program (`descent --threads`). Work is split into contiguous chunks
//! whose boundaries depend only on the data size, never on timing, so every result is
//! reproducible for a given thread count (and, for element-wise work, for any count).

use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// The number of worker threads (at least 1).
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = std::env::var("DESCENT_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            THREADS.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// Sets the number of worker threads (values below 1 count as 1).
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}
