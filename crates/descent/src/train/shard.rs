//! [`Shard`]: one process's share of every batch in a data-parallel run, and how the shares
//! are put back together.
//!
//! A batch of `B` rows is cut into fixed chunks of
//! [`CHUNK_ROWS`](crate::kernels::CHUNK_ROWS) rows (the last one shorter): the cut depends on
//! `B` alone, never on the number of processes. Process `rank` of `size` computes the
//! contiguous run of chunks [`chunk_range`] gives it, each chunk's gradient and loss sum the
//! same way a single process does; the [`GradientHook`](super::GradientHook) then moves the
//! chunk sums between processes and they are added in global chunk order, as the single
//! process adds its chunks: its `ordered_fold` gathers every chunk on every process and
//! adds them there (the default, through `all_gather`), or passes the running sum from rank
//! to rank, each adding its own chunks, and shares the total (fewer bytes for large
//! gradients, more latency; the same additions). The result is the single
//! process's, bit for bit, for any number of processes ([`Combine::Ordered`]). With
//! [`Combine::Sum`] each process adds its own chunks and the hook sums the processes' sums
//! (a plain all-reduce): fewer bytes moved, equal up to summation order.
//!
//! The MLP kernel's weight gradients are matrix products over the whole batch, not sums of
//! chunks: each process runs its rows forward and back, the processes gather the rows'
//! outputs and per-layer gradients, and every process computes the weight products on the
//! whole batch ([`MlpKernel::shard_loss_and_grad`](crate::kernels::MlpKernel::shard_loss_and_grad)).
//! The tape (tables in other layouts) computes the whole batch on every process. Both give
//! the single process's bits under either combine (under [`Combine::Sum`] only rank 0
//! contributes their result).

use std::ops::Range;

/// How the processes' shares of a batch are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Every chunk's sums are gathered on every process and added in global chunk order:
    /// the single process's bits for any number of processes.
    Ordered,
    /// Each process sums its own chunks; the hook's `on_gradient` sums the processes' sums
    /// (an all-reduce): equal to the single process up to summation order.
    Sum,
}

/// This process's place in a data-parallel run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This process, from 0.
    pub rank: usize,
    /// Processes in the run (at least 1).
    pub size: usize,
    pub combine: Combine,
}

/// The chunks (of `chunks`, numbered from 0) that process `rank` of `size` computes: a
/// contiguous run, the runs of consecutive ranks adjacent, their lengths differing by at
/// most one. A rank may get none when there are fewer chunks than ranks.
///
/// ```
/// use descent::train::chunk_range;
/// assert_eq!(chunk_range(7, 0, 3), 0..2);
/// assert_eq!(chunk_range(7, 1, 3), 2..4);
/// assert_eq!(chunk_range(7, 2, 3), 4..7);
/// assert_eq!(chunk_range(1, 0, 2), 0..0);
/// assert_eq!(chunk_range(1, 1, 2), 0..1);
/// ```
pub fn chunk_range(chunks: usize, rank: usize, size: usize) -> Range<usize> {
    let size = size.max(1);
    chunks * rank / size..chunks * (rank + 1) / size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_of_all_ranks_cover_every_chunk_once_in_order() {
        for chunks in 0..40 {
            for size in 1..10 {
                let all: Vec<usize> = (0..size)
                    .flat_map(|r| chunk_range(chunks, r, size))
                    .collect();
                assert_eq!(
                    all,
                    (0..chunks).collect::<Vec<_>>(),
                    "{chunks} chunks, {size} ranks"
                );
                let lens: Vec<usize> = (0..size)
                    .map(|r| chunk_range(chunks, r, size).len())
                    .collect();
                assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
            }
        }
    }
}
