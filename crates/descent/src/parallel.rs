//! Worker threads: how many a run may use, the worker pools, and how blocks of work are
//! handed out on them (`run_blocks`: each block to whichever thread comes to it first).
//!
//! The count is a value a run is given ([`crate::train::TrainConfig::threads`], the CLI's
//! `--threads`), never a process-wide setting: two runs in one process may use different
//! counts. Work is split into chunks whose boundaries depend only on the data size, never
//! on timing or on the count, so every result is the same for any count (tested).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rayon::ThreadPool;

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

/// Tables from this size are read at random fast enough only with a second thread reading
/// rows too ([`crate::kernels::LinearPair`], [`crate::data::gather`]; the same 16 MB as the
/// trainer's own threshold): P2, 10^6 × 100 f32 in batches of 256, has little work per batch
/// and gains from it.
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

/// How many times [`receive_soon`] looks for a message with the core held, before it
/// starts yielding it: about 20-50 microseconds, longer than the other side of a batch
/// usually takes to finish.
const SPIN_HELD: usize = 1 << 14;

/// How many times [`receive_soon`] then looks again, yielding the core in between, before
/// it sleeps on the channel.
const SPIN_YIELDING: usize = 4096;

/// The next message on `r`, waited for by spinning first: two threads that meet at every
/// batch wait for each other for a few microseconds each time, less than waking a sleeping
/// thread costs on a virtual machine (tens of microseconds). Spins with the core held, then
/// yielding it (a machine with more threads than cores then gets on), then sleeps. `None`
/// when the sender is gone.
pub(crate) fn receive_soon<T>(r: &std::sync::mpsc::Receiver<T>) -> Option<T> {
    use std::sync::mpsc::TryRecvError;
    for i in 0..SPIN_HELD + SPIN_YIELDING {
        match r.try_recv() {
            Ok(m) => return Some(m),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if i < SPIN_HELD => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    r.recv().ok()
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

/// Runs `f` on every block, each block taken by whichever thread comes to it first: this
/// thread and `pool`'s workers; returns when every block is done. A worker that has not
/// started when this thread runs out of blocks is not waited for: on a machine whose cores
/// are taken by other work, a woken worker can wait milliseconds for one (a fork-join scope
/// would sleep until it had run; P4 then ran 1.1-1.5x slower on two threads than on one).
/// Which thread computes a block never changes its bits.
pub(crate) fn run_blocks<T: Send, G: Fn(T) + Sync>(pool: &ThreadPool, blocks: Vec<T>, f: G) {
    let n = blocks.len();
    let slots: Vec<Mutex<Option<T>>> = blocks.into_iter().map(|b| Mutex::new(Some(b))).collect();
    let run = |i: usize| {
        let block = slots[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(block) = block {
            f(block);
        }
    };
    let job: &(dyn Fn(usize) + Sync) = &run;
    let job = job as *const (dyn Fn(usize) + Sync + '_);
    // SAFETY: only the lifetime bound changes; `Claims` calls `job` for indices below `n`
    // alone, and every such call ends before this function returns (it waits for `done`).
    let job = unsafe {
        std::mem::transmute::<
            *const (dyn Fn(usize) + Sync + '_),
            *const (dyn Fn(usize) + Sync + 'static),
        >(job)
    };
    let claims = Arc::new(Claims {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        n,
        job,
    });
    for _ in 1..n.min(pool.current_num_threads() + 1) {
        let claims = Arc::clone(&claims);
        pool.spawn(move || claims.work());
    }
    // Unwinding from here would free what a worker may still be reading: abort instead. (A
    // panic on a worker aborts too: the pool has no panic handler.)
    let guard = AbortOnUnwind;
    claims.work();
    while claims.done.load(Ordering::Acquire) < n {
        std::thread::yield_now();
    }
    std::mem::forget(guard);
}

/// The blocks of one [`run_blocks`]: the next index to take, how many are done, and the
/// job that computes block `i`.
struct Claims {
    next: AtomicUsize,
    done: AtomicUsize,
    n: usize,
    job: *const (dyn Fn(usize) + Sync + 'static),
}

// SAFETY: `job` points to a `Sync` closure, called only for indices below `n` (each taken
// once) while `run_blocks` waits; the counters are atomic.
unsafe impl Send for Claims {}
// SAFETY: as above.
unsafe impl Sync for Claims {}

impl Claims {
    /// Takes and computes blocks until none is left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::AcqRel);
            if i >= self.n {
                return;
            }
            // SAFETY: `i < n`: `run_blocks` has not returned, nor will it before `done`
            // counts this block, so the closure is alive.
            unsafe { (*self.job)(i) };
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Aborts the process when dropped (during an unwind through [`run_blocks`]).
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        std::process::abort();
    }
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

    /// Blocks are not left waiting for a worker that has no core: with the pool's only
    /// worker held busy, every block is computed, on this thread, and the call returns.
    #[test]
    fn blocks_do_not_wait_for_a_busy_worker() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (busy, is_busy) = std::sync::mpsc::channel::<()>();
        pool.spawn(move || {
            busy.send(()).unwrap();
            held.recv().unwrap();
        });
        is_busy.recv().unwrap();
        let mut out = [0usize; 4];
        let blocks: Vec<(usize, &mut usize)> = out.iter_mut().enumerate().collect();
        run_blocks(&pool, blocks, |(i, o)| *o = i + 1);
        assert_eq!(out, [1, 2, 3, 4]);
        release.send(()).unwrap();
    }
}
