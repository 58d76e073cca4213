//! Worker threads: how many a run may use, and the worker pools.
//!
//! The count is a value a run is given ([`crate::train::TrainConfig::threads`], the CLI's
//! `--threads`), never a process-wide setting: two runs in one process may use different
//! counts. Work is split into chunks whose boundaries depend only on the data size, never
//! on timing or on the count, so every result is the same for any count (tested).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::{Error, Result};

/// The count a run uses when it is given none and its work is not known:
/// `DESCENT_THREADS` if set, else the machine's available parallelism. Training runs take
/// [`threads_for`] instead.
pub fn default_threads() -> usize {
    env_threads().unwrap_or_else(available)
}

/// `DESCENT_THREADS`, when set to a positive count.
fn env_threads() -> Option<usize> {
    std::env::var("DESCENT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
}

/// What a training run does per batch, from which [`threads_for`] picks its thread count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Rows of one batch.
    pub batch_rows: usize,
    /// Parameters of the model (about the multiply-adds per row of a forward pass).
    pub params: usize,
    /// Bytes of the in-memory table the batches are drawn from (0 when not one table).
    pub table_bytes: usize,
}

/// Batches of fewer multiply-adds than this (`batch_rows × params`) gain nothing from a
/// second thread: every parallel part of a step has its own, higher threshold (the MLP's
/// products 2^22 multiply-adds, [`crate::kernels::matmul::PARALLEL_MIN_FLOPS`]; the linear
/// kernel's batches 2^20; the optimizer 2^18 parameters), below which it runs on the calling
/// thread anyway. Below this a run given no count takes one thread, so that nothing (a worker
/// pool, matrixmultiply's own threads, the batch gatherer) is started or woken for it.
pub const PARALLEL_MIN_WORK: usize = 1 << 20;

/// Tables from this size are read at random fast enough only with a second thread gathering
/// the next batches ([`crate::data::gather`]; the same 16 MB as its own threshold): P2, 10^6
/// × 100 f32 in batches of 256, has little work per batch and gains from it.
pub const PARALLEL_MIN_TABLE_BYTES: usize = 16 << 20;

/// The count of a training run given none: `DESCENT_THREADS` if set, else one thread for
/// small work (below [`PARALLEL_MIN_WORK`] per batch, on a table below
/// [`PARALLEL_MIN_TABLE_BYTES`]) and the machine's available parallelism otherwise. The
/// small workloads of `descent bench` (`S-tour`, `S-iris-mlp`, `S-wine-mlp`,
/// `S-linear-10k`: at most 16 x 547 per batch) take one thread; P2 (its 400 MB table), P4
/// (128 × 203,530) and P5 (10^7 parameters) take all. An explicit count is always honoured,
/// and the numbers of a run never depend on the count.
pub fn threads_for(work: Work) -> usize {
    if let Some(n) = env_threads() {
        return n;
    }
    let small = work.batch_rows.saturating_mul(work.params) < PARALLEL_MIN_WORK
        && work.table_bytes < PARALLEL_MIN_TABLE_BYTES;
    if small {
        1
    } else {
        available()
    }
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
    fn small_work_takes_one_thread() {
        if env_threads().is_some() {
            return; // the variable overrides the rule
        }
        let work = |batch_rows, params, table_bytes| Work {
            batch_rows,
            params,
            table_bytes,
        };
        // S-iris-mlp, S-wine-mlp, S-linear-10k, S-tour.
        assert_eq!(threads_for(work(16, 67, 150 * 32)), 1);
        assert_eq!(threads_for(work(16, 547, 178 * 104)), 1);
        assert_eq!(threads_for(work(32, 11, 800_000)), 1);
        assert_eq!(threads_for(work(3, 2, 48)), 1);
        // P4, P2 (a 400 MB table), and a large full batch.
        assert_eq!(threads_for(work(128, 203_530, 188_160_000)), available());
        assert_eq!(threads_for(work(256, 101, 400_000_000)), available());
        assert_eq!(threads_for(work(100_000, 11, 0)), available());
        assert_eq!(threads_for(work(usize::MAX, 2, 0)), available());
    }

    #[test]
    fn one_pool_per_count() {
        assert!(pool(1).is_none());
        let a = pool(3).unwrap();
        assert_eq!(a.current_num_threads(), 2);
        assert!(std::ptr::eq(a, pool(3).unwrap()));
    }
}
