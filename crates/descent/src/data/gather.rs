//! Gathering the rows of shuffled batches ahead of their use, on a second thread.
//!
//! The rows of a shuffled batch are random places in the feature table: reading them is
//! bound by memory latency, not by arithmetic. A [`Gatherer`] walks the batches of one
//! epoch on a thread of its own and copies each batch's rows (features and targets) into
//! contiguous buffers, up to [`DEPTH`] batches ahead of the trainer, which then reads them
//! from the caches. Used buffers go back to the gatherer to be refilled, so nothing is
//! allocated after the first few batches.
//!
//! The channel holds [`DEPTH`] batches: the trainer waits only when gathering is slower than
//! training. Both sides try again for a while (`SPIN` times, yielding the core in between)
//! before they sleep on the channel: waking a sleeping thread takes tens of microseconds on
//! a virtual machine, longer than a batch of a small model takes to train.
//!
//! The trainer uses it for batches of one chunk of the linear kernel (fewer than 128 rows);
//! larger batches are cut between two threads instead ([`crate::kernels::LinearPair`]),
//! which keeps both cores reading rows, where gathering leaves the trainer computing from
//! the buffers (P2: 78 ms an epoch gathered, 51-65 paired).
//!
//! The batches it gathers are those of [`Batches::split`](super::Batches::split) over the
//! same order, with the same rows in the same order, so training on them gives the same
//! numbers; it takes two of every three ([`takes`]), and the trainer reads the others
//! from the table itself.

use std::sync::mpsc::{
    channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError, TrySendError,
};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use ndarray::ArrayView2;

use crate::kernels::vector::prefetched_rows;
use crate::{Error, Float, Result};

/// Batches gathered ahead of the one in use.
pub const DEPTH: usize = 8;

/// How many times a side tries again (yielding in between) before it sleeps on the channel.
/// Each wait is short when both sides run, while waking a sleeping thread takes tens of
/// microseconds on a virtual machine, and is paid on every batch once one side is ahead.
const SPIN: usize = 4096;

/// Sends `b`, trying again for a while before sleeping on a full channel; an error when the
/// trainer has dropped its end.
fn hand_over<F>(send: &SyncSender<GatheredBatch<F>>, mut b: GatheredBatch<F>) -> Result<(), ()> {
    for _ in 0..SPIN {
        match send.try_send(b) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => {
                b = back;
                std::thread::yield_now();
            }
            Err(TrySendError::Disconnected(_)) => return Err(()),
        }
    }
    send.send(b).map_err(|_| ())
}

/// Whether the gatherer takes batch `i` (two of every three). The trainer reads the third
/// straight from the table, so that both threads wait on memory: gathering a row costs about
/// as much as training on it from the table, and training on a gathered row about a third.
pub fn takes(i: usize) -> bool {
    i % 3 != 2
}

/// One gathered batch: its rows of `x` and `y`, contiguous and row-major.
#[derive(Debug)]
pub struct GatheredBatch<F> {
    x: Vec<F>,
    y: Vec<F>,
    rows: usize,
    x_cols: usize,
    y_cols: usize,
}

impl<F: Float> GatheredBatch<F> {
    /// The batch's feature rows.
    pub fn x(&self) -> ArrayView2<'_, F> {
        ArrayView2::from_shape((self.rows, self.x_cols), &self.x).expect("rows x cols elements")
    }

    /// The batch's target rows.
    pub fn y(&self) -> ArrayView2<'_, F> {
        ArrayView2::from_shape((self.rows, self.y_cols), &self.y).expect("rows x cols elements")
    }

    /// Rows in the batch.
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// Copies `rows` of `x` and `y` (row-major tables) into this batch; the last rows ask
    /// for the first of `after`, the next batch's.
    fn fill(&mut self, x: &[F], y: &[F], rows: &[usize], after: &[usize]) {
        let yc = self.y_cols;
        self.x.clear();
        self.y.clear();
        let targets =
            ArrayView2::from_shape((y.len() / yc.max(1), yc), y).expect("a row-major target table");
        for (r, xr) in prefetched_rows(x, self.x_cols, targets, rows, after) {
            self.x.extend_from_slice(xr);
            self.y.extend_from_slice(&y[r * yc..(r + 1) * yc]);
        }
        self.rows = rows.len();
    }
}

/// A thread that gathers one epoch's batches in order, from a given batch on.
#[derive(Debug)]
pub struct Gatherer<'scope, F> {
    batches: Option<Receiver<GatheredBatch<F>>>,
    spares: Sender<GatheredBatch<F>>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope, F: Float> Gatherer<'scope, F> {
    /// Starts gathering the batches of `batch` rows of `order` (the last one possibly
    /// shorter) that it [`takes`], from batch number `first` on, out of the tables `x` and
    /// `y` (row-major).
    pub fn spawn<'env>(
        scope: &'scope Scope<'scope, 'env>,
        x: ArrayView2<'env, F>,
        y: ArrayView2<'env, F>,
        order: Arc<Vec<usize>>,
        batch: usize,
        first: usize,
    ) -> Result<Self> {
        let (x_cols, y_cols) = (x.ncols(), y.ncols());
        let (Some(xs), Some(ys)) = (x.to_slice(), y.to_slice()) else {
            return Err(Error::State(
                "gathering batches needs tables in standard layout".into(),
            ));
        };
        let (send, batches) = sync_channel::<GatheredBatch<F>>(DEPTH);
        let (spares, spare) = channel::<GatheredBatch<F>>();
        let thread = std::thread::Builder::new()
            .name("descent-gather".into())
            .spawn_scoped(scope, move || {
                let start = (first * batch).min(order.len());
                let numbered = order[start..].chunks(batch.max(1)).zip(first..);
                let mut taken = numbered
                    .filter(|&(_, i)| takes(i))
                    .map(|(rows, _)| rows)
                    .peekable();
                while let Some(rows) = taken.next() {
                    let after = taken.peek().copied().unwrap_or(&[]);
                    let mut b = spare.try_recv().unwrap_or_else(|_| GatheredBatch {
                        x: Vec::with_capacity(batch * x_cols),
                        y: Vec::with_capacity(batch * y_cols),
                        rows: 0,
                        x_cols,
                        y_cols,
                    });
                    b.fill(xs, ys, rows, after);
                    if hand_over(&send, b).is_err() {
                        return; // the trainer stopped taking batches
                    }
                }
            })
            .map_err(|e| Error::State(format!("cannot start the batch gatherer: {e}")))?;
        Ok(Gatherer {
            batches: Some(batches),
            spares,
            thread: Some(thread),
        })
    }

    /// The next batch it takes, waiting for it if it is not gathered yet.
    pub fn next_batch(&mut self) -> Result<GatheredBatch<F>> {
        let stopped = || Error::State("the batch gatherer stopped early".into());
        let batches = self.batches.as_ref().ok_or_else(stopped)?;
        for _ in 0..SPIN {
            match batches.try_recv() {
                Ok(b) => return Ok(b),
                Err(TryRecvError::Empty) => std::thread::yield_now(),
                Err(TryRecvError::Disconnected) => return Err(stopped()),
            }
        }
        batches.recv().map_err(|_| stopped())
    }

    /// Hands a used batch back for refilling.
    pub fn recycle(&self, batch: GatheredBatch<F>) {
        // A gatherer that has finished no longer takes buffers; the batch is then dropped.
        let _ = self.spares.send(batch);
    }
}

impl<F> Drop for Gatherer<'_, F> {
    /// Stops the thread (its next send fails) and waits for it, so that it lets go of the
    /// order before the next epoch rewrites it.
    fn drop(&mut self) {
        self.batches.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Axis};

    use super::*;

    /// The gathered batches are the rows of `split`, from the given batch on, in order, for
    /// the batches it takes.
    #[test]
    fn gathered_batches_are_the_selected_rows() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| (i * 10 + j) as f32);
        let y = Array2::from_shape_fn((50, 2), |(i, j)| -((i * 10 + j) as f32));
        let order: Vec<usize> = (0..50).map(|i| (i * 17) % 50).collect();
        let order = Arc::new(order);
        std::thread::scope(|scope| {
            let mut g =
                Gatherer::spawn(scope, x.view(), y.view(), Arc::clone(&order), 8, 2).unwrap();
            for (rows, _) in order.chunks(8).zip(0..).skip(2).filter(|&(_, i)| takes(i)) {
                let b = g.next_batch().unwrap();
                assert_eq!(b.n_rows(), rows.len());
                assert_eq!(b.x(), x.select(Axis(0), rows));
                assert_eq!(b.y(), y.select(Axis(0), rows));
                g.recycle(b);
            }
            assert!(g.next_batch().is_err(), "no batch after the last");
        });
    }

    /// A trainer that stops taking batches midway stops the thread, and dropping the
    /// gatherer waits for it.
    #[test]
    fn dropping_the_gatherer_stops_its_thread() {
        let x = Array2::<f64>::zeros((10_000, 4));
        let y = Array2::<f64>::zeros((10_000, 1));
        let order = Arc::new((0..10_000).collect::<Vec<_>>());
        std::thread::scope(|scope| {
            let mut g = Gatherer::spawn(scope, x.view(), y.view(), order.clone(), 1, 0).unwrap();
            g.next_batch().unwrap();
            drop(g);
            // Joined by the drop, not only at the end of the scope: the next epoch's order
            // is then rewritten in place.
            assert_eq!(Arc::strong_count(&order), 1);
        });
    }
}
