//! Batching: which rows each update sees, epoch by epoch.
//!
//! `--batch full` is batch gradient descent (one update per epoch over all rows), `--batch 1`
//! stochastic gradient descent, `--batch N` mini-batch. Batches are consecutive slices of the
//! epoch's row order; the last, shorter batch is kept (PyTorch's `DataLoader` default,
//! `drop_last=False`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::shuffle::shuffle;
use crate::{Error, Result};

/// Rows per update.
///
/// # Example
/// ```
/// use descent::data::BatchSize;
/// assert_eq!("full".parse::<BatchSize>()?, BatchSize::Full);
/// assert_eq!("32".parse::<BatchSize>()?, BatchSize::Rows(32));
/// assert!("0".parse::<BatchSize>().is_err());
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchSize {
    /// Every row in every update.
    Full,
    /// At most this many rows per update.
    Rows(usize),
}

impl std::str::FromStr for BatchSize {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "full" => Ok(BatchSize::Full),
            _ => match s.parse::<usize>() {
                Ok(n) if n > 0 => Ok(BatchSize::Rows(n)),
                _ => Err(Error::invalid(
                    "batch",
                    s,
                    "expected `full` or a positive number of rows",
                )),
            },
        }
    }
}

/// The order rows are visited in, per epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchOrder {
    /// Data order, every epoch.
    Sequential,
    /// A fresh permutation per epoch: ChaCha8 seeded with `seed`, stream = epoch number, so
    /// epoch `e`'s order depends only on `(seed, e)` (which makes resuming exact).
    Shuffle { seed: u64 },
    /// Given permutations, one per epoch (e.g. recorded from PyTorch).
    Explicit(Vec<Vec<usize>>),
}

/// The batch plan of a run over `n` rows.
///
/// # Example
/// ```
/// use descent::data::{BatchOrder, BatchSize, Batches};
/// let plan = Batches::new(10, BatchSize::Rows(4), BatchOrder::Sequential)?;
/// assert_eq!(plan.steps_per_epoch(), 3);
/// let mut order = Vec::new();
/// plan.epoch_order(0, &mut order)?;
/// let batches: Vec<&[usize]> = plan.split(&order).collect();
/// assert_eq!(batches, [&[0, 1, 2, 3][..], &[4, 5, 6, 7], &[8, 9]]); // the last is shorter
/// // Shuffled: a permutation per epoch, which depends only on the seed and the epoch.
/// let shuffled = Batches::new(10, BatchSize::Rows(4), BatchOrder::Shuffle { seed: 7 })?;
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// shuffled.epoch_order(1, &mut a)?;
/// shuffled.epoch_order(1, &mut b)?;
/// assert_eq!(a, b);
/// assert_ne!(a, order);
/// a.sort();
/// assert_eq!(a, order);
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Batches {
    n: usize,
    size: usize,
    order: BatchOrder,
}

impl Batches {
    /// Checks that the plan fits `n` rows.
    pub fn new(n: usize, size: BatchSize, order: BatchOrder) -> Result<Self> {
        if n == 0 {
            return Err(Error::Data("no rows to train on".into()));
        }
        let size = match size {
            BatchSize::Full => n,
            BatchSize::Rows(0) => return Err(Error::invalid("batch", 0, "must be positive")),
            BatchSize::Rows(b) => b.min(n),
        };
        if let BatchOrder::Explicit(perms) = &order {
            for (e, p) in perms.iter().enumerate() {
                let mut seen = vec![false; n];
                for &i in p {
                    if i >= n || std::mem::replace(&mut seen[i], true) {
                        return Err(Error::Data(format!(
                            "batch order of epoch {e} is not a permutation of 0..{n}"
                        )));
                    }
                }
                if p.len() != n {
                    return Err(Error::Data(format!(
                        "batch order of epoch {e} has {} rows, expected {n}",
                        p.len()
                    )));
                }
            }
        }
        Ok(Batches { n, size, order })
    }

    /// Rows per full batch.
    pub fn batch_size(&self) -> usize {
        self.size
    }

    /// Updates per epoch: `ceil(n / batch)`.
    pub fn steps_per_epoch(&self) -> usize {
        self.n.div_ceil(self.size)
    }

    /// Whether every epoch visits all rows in data order with one full batch (so a batch is
    /// the data itself and need not be gathered).
    pub fn is_full_in_order(&self) -> bool {
        self.size == self.n && matches!(self.order, BatchOrder::Sequential)
    }

    /// The row order of epoch `epoch` (0-based), written into `order` (reused between epochs).
    pub fn epoch_order(&self, epoch: usize, order: &mut Vec<usize>) -> Result<()> {
        self.epoch_order_on(epoch, order, 1)
    }

    /// [`Self::epoch_order`] made by a run of `threads` threads: from two on, a large
    /// shuffle draws its random indices on a second thread (the same order for a seed on
    /// any thread count).
    pub fn epoch_order_on(
        &self,
        epoch: usize,
        order: &mut Vec<usize>,
        threads: usize,
    ) -> Result<()> {
        order.clear();
        match &self.order {
            BatchOrder::Sequential => order.extend(0..self.n),
            BatchOrder::Shuffle { seed } => {
                order.extend(0..self.n);
                let mut rng = ChaCha8Rng::seed_from_u64(*seed);
                rng.set_stream(epoch as u64);
                shuffle(order, &mut rng, threads >= 2);
            }
            BatchOrder::Explicit(perms) => match perms.get(epoch) {
                Some(p) => order.extend_from_slice(p),
                None => {
                    return Err(Error::Data(format!(
                    "an explicit batch order was given for {} epochs, but epoch {} was asked for",
                    perms.len(),
                    epoch + 1
                )))
                }
            },
        }
        Ok(())
    }

    /// The batches of one epoch's row order: consecutive slices, the last possibly shorter.
    pub fn split<'a>(&self, order: &'a [usize]) -> impl Iterator<Item = &'a [usize]> + 'a {
        order.chunks(self.size)
    }

    /// Batch `i` (from 0) of one epoch's row order: the `i`-th slice of [`Batches::split`].
    pub fn batch<'a>(&self, order: &'a [usize], i: usize) -> &'a [usize] {
        &order[(i * self.size).min(order.len())..((i + 1) * self.size).min(order.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_partial_batch_is_kept() {
        let b = Batches::new(10, BatchSize::Rows(4), BatchOrder::Sequential).unwrap();
        assert_eq!(b.steps_per_epoch(), 3);
        let mut order = Vec::new();
        b.epoch_order(0, &mut order).unwrap();
        let sizes: Vec<usize> = b.split(&order).map(<[usize]>::len).collect();
        assert_eq!(sizes, [4, 4, 2]);
        let by_index: Vec<&[usize]> = (0..3).map(|i| b.batch(&order, i)).collect();
        assert_eq!(by_index, b.split(&order).collect::<Vec<_>>());
    }

    #[test]
    fn shuffle_depends_only_on_seed_and_epoch() {
        let b = Batches::new(50, BatchSize::Rows(8), BatchOrder::Shuffle { seed: 3 }).unwrap();
        let (mut e0, mut e0b, mut e1) = (Vec::new(), Vec::new(), Vec::new());
        b.epoch_order(0, &mut e0).unwrap();
        b.epoch_order(1, &mut e1).unwrap();
        b.epoch_order(0, &mut e0b).unwrap();
        assert_eq!(e0, e0b);
        assert_ne!(e0, e1);
        let mut sorted = e1.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_seed_gives_rands_order_on_any_thread_count() {
        use rand::seq::SliceRandom;
        // Large enough for the helped shuffle; the order every release has given.
        let n = super::super::shuffle::HELPED_MIN_ROWS + 12_345;
        let b = Batches::new(n, BatchSize::Rows(64), BatchOrder::Shuffle { seed: 3 }).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        rng.set_stream(2);
        let mut expected: Vec<usize> = (0..n).collect();
        expected.shuffle(&mut rng);
        for threads in [1, 2, 3] {
            let mut order = Vec::new();
            b.epoch_order_on(2, &mut order, threads).unwrap();
            assert!(order == expected, "{threads} threads");
        }
    }

    #[test]
    fn explicit_orders_are_validated() {
        assert!(Batches::new(
            3,
            BatchSize::Full,
            BatchOrder::Explicit(vec![vec![0, 1, 1]])
        )
        .is_err());
        let b = Batches::new(
            3,
            BatchSize::Full,
            BatchOrder::Explicit(vec![vec![2, 0, 1]]),
        )
        .unwrap();
        let mut o = Vec::new();
        assert!(b.epoch_order(1, &mut o).is_err());
    }

    #[test]
    fn batch_size_parses() {
        assert_eq!("full".parse::<BatchSize>().unwrap(), BatchSize::Full);
        assert_eq!("32".parse::<BatchSize>().unwrap(), BatchSize::Rows(32));
        assert!("0".parse::<BatchSize>().is_err());
        assert!("-3".parse::<BatchSize>().is_err());
    }
}
