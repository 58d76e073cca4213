//! Worker threads: how many a run may use, and the worker pools.
//!
//! The count is a value a run is given ([`crate::train::TrainConfig::threads`], the CLI's
//! `--threads`), never a process-wide setting: two runs in one process may use different
//! counts. Work is split into chunks whose boundaries depend only on the data size, never
//! on timing or on the count, so every result is the same for any count (tested).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::{Error, Result};

/// The count a run uses when it is given none: `DESCENT_THREADS` if set, else the machine's
/// available parallelism.
pub fn default_threads() -> usize {
    std::env::var("DESCENT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(available)
}

/// The machine's available parallelism (at least 1), read once: on Linux it is worked out
/// from the affinity mask and the cgroup quota files, which costs tens of microseconds.
pub fn available() -> usize {
    static AVAILABLE: OnceLock<usize> = OnceLock::new();
    *AVAILABLE.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Checks a requested count: at least 1, at most 4 times the machine's parallelism (more
/// threads than that only wait on each other).
pub fn check_threads(n: usize) -> Result<usize> {
    let max = 4 * available();
    if n == 0 || n > max {
        return Err(Error::invalid(
            "threads",
            n,
            format!(
                "must be between 1 and {max} (4 x the {} cores this machine offers)",
                available()
            ),
        ));
    }
    Ok(n)
}

/// The shared pool for runs of `threads` threads: `threads - 1` workers, built at its first
/// use, since the calling thread does its share alongside them (`in_place_scope`). `None`
/// for one thread, or if the pool cannot be built: the caller then does the same work on
/// its own thread, in the same order.
pub fn pool(threads: usize) -> Option<&'static rayon::ThreadPool> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Option<&'static rayon::ThreadPool>>>> =
        OnceLock::new();
    if threads <= 1 {
        return None;
    }
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    *pools.entry(threads).or_insert_with(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads - 1)
            .thread_name(|i| format!("descent-{i}"))
            .build()
            .ok()
            .map(|p| &*Box::leak(Box::new(p)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_one_to_four_times_the_cores_are_refused() {
        assert!(check_threads(0).is_err());
        assert_eq!(check_threads(1).unwrap(), 1);
        assert!(check_threads(4 * available()).is_ok());
        let e = check_threads(100_000).unwrap_err().to_string();
        assert!(e.contains("threads") && e.contains("100000"), "{e}");
    }

    #[test]
    fn one_pool_per_count() {
        assert!(pool(1).is_none());
        let a = pool(3).unwrap();
        assert_eq!(a.current_num_threads(), 2);
        assert!(std::ptr::eq(a, pool(3).unwrap()));
    }
}
