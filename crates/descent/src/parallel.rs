//! How many worker threads the library may use, the worker pool, and splitting element-wise
//! work across them.
//!
//! The count defaults to the machine's available parallelism (or `DESCENT_THREADS`) and can
//! be set once by the program (`descent --threads`). Work is split into contiguous chunks
//! whose boundaries depend only on the data size, never on timing, so every result is
//! reproducible for a given thread count (and, for element-wise work, for any count).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

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

/// The library's worker pool, built at its first use with [`threads`] − 1 workers (so set
/// the count before the first parallel call): the calling thread does its share alongside
/// them (`in_place_scope`). `None` when the count is 1 or the pool cannot be built: the
/// caller then does the same work on its own thread, in the same order.
pub fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = threads();
        (n > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n - 1)
                    .thread_name(|i| format!("descent-{i}"))
                    .build()
                    .ok()
            })
            .flatten()
    })
    .as_ref()
}
