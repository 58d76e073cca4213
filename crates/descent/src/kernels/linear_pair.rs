//! The linear kernel's shuffled batches cut between two threads: this thread computes the
//! first half of each batch's chunks, a partner thread the second half, both straight from
//! the table, and this thread adds the halves in chunk order.
//!
//! A shuffled batch of a table much larger than the caches is bound by reading its rows from
//! memory, and one core keeps only so many reads in flight: two cores reading half the rows
//! each finish the batch in about half the time. The halves meet at every batch (the next
//! batch needs the step this one gives), so the two threads wait for each other by spinning
//! ([`crate::parallel::receive_soon`]): waking a sleeping thread costs tens of microseconds
//! on a virtual machine, more than a batch of a small model takes.
//!
//! The chunks are [`LinearKernel::chunk_sums`]'s, added by [`LinearKernel::combine_chunks`]:
//! the numbers are [`LinearKernel::loss_and_grad`]'s bit for bit, whichever thread computes
//! which chunk (tested below and in `tests/linear_kernel.rs`).
//!
//! Measured on P2 (10^6 × 100 f32, batches of 256, 2 cores): 51 ms an epoch for two threads
//! reading and computing half of every batch each, where one thread computing from batches
//! that the other gathered into buffers took 78 ms (`bench/RESULTS.md`).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use ndarray::ArrayView2;

use super::linear::{LinearKernel, CHUNK_ROWS};
use crate::parallel::receive_soon;
use crate::{Error, Float, Result};

/// One batch's work for the partner, and its answer: the parameters to compute at (a copy,
/// so that the step can change them while the partner waits) and the chunk records of its
/// half. The same job goes back and forth, so nothing is allocated after the first batch.
#[derive(Debug)]
struct Job<F> {
    /// The batch's number in the epoch.
    batch: usize,
    params: Vec<F>,
    /// [`LinearKernel::chunk_sums`] records of the partner's chunks.
    sums: Vec<F>,
}

/// A partner thread for one epoch's batches of the linear kernel, and this thread's side.
#[derive(Debug)]
pub struct LinearPair<'scope, 'env, F> {
    x: ArrayView2<'env, F>,
    y: ArrayView2<'env, F>,
    order: Arc<Vec<usize>>,
    batch: usize,
    jobs: Option<SyncSender<Job<F>>>,
    done: Receiver<Job<F>>,
    /// The job while it is on this side.
    job: Option<Job<F>>,
    /// This thread's chunk records, then the partner's appended.
    sums: Vec<F>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
}

/// The first chunk of a batch of `chunks` chunks that the partner computes: it takes the
/// second half, the larger one when the count is odd (this thread also adds and steps).
fn partner_from(chunks: usize) -> usize {
    chunks / 2
}

/// Batch `i` (of `batch` rows) of `order`, as [`crate::data::Batches::batch`] cuts it; empty
/// past the end.
fn batch_rows(order: &[usize], batch: usize, i: usize) -> &[usize] {
    let start = (i * batch).min(order.len());
    &order[start..(start + batch).min(order.len())]
}

/// The rows of this thread's chunks of a batch and those of the partner's.
fn halves<F: Float>(rows: &[usize]) -> (&[usize], &[usize]) {
    let cut = partner_from(LinearKernel::<F>::chunk_count(rows.len())) * CHUNK_ROWS;
    rows.split_at(cut.min(rows.len()))
}

impl<'scope, 'env, F: Float> LinearPair<'scope, 'env, F> {
    /// Starts the partner for the batches of `batch` rows of `order` over `(x, y)`
    /// (row-major tables), computing with its own copy of `kernel`.
    pub fn spawn(
        scope: &'scope Scope<'scope, 'env>,
        kernel: &LinearKernel<F>,
        x: ArrayView2<'env, F>,
        y: ArrayView2<'env, F>,
        order: Arc<Vec<usize>>,
        batch: usize,
    ) -> Result<Self> {
        if !x.is_standard_layout() {
            return Err(Error::State(
                "a paired batch needs a table in standard layout".into(),
            ));
        }
        let (jobs, inbox) = sync_channel::<Job<F>>(1);
        let (outbox, done) = sync_channel::<Job<F>>(1);
        let mut kernel = kernel.clone().with_threads(1);
        let theirs = Arc::clone(&order);
        let thread = std::thread::Builder::new()
            .name("descent-pair".into())
            .spawn_scoped(scope, move || {
                let order = theirs;
                while let Some(mut job) = receive_soon(&inbox) {
                    let rows = batch_rows(&order, batch, job.batch);
                    let chunks = LinearKernel::<F>::chunk_count(rows.len());
                    // Its last rows ask for the first of its half of the next batch.
                    let (_, after) = halves::<F>(batch_rows(&order, batch, job.batch + 1));
                    job.sums.clear();
                    kernel.chunk_sums(
                        &job.params,
                        x,
                        y,
                        rows,
                        partner_from(chunks)..chunks,
                        after,
                        &mut job.sums,
                    );
                    if outbox.send(job).is_err() {
                        return; // this side has stopped
                    }
                }
            })
            .map_err(|e| Error::State(format!("cannot start the partner thread: {e}")))?;
        Ok(LinearPair {
            x,
            y,
            order,
            batch,
            jobs: Some(jobs),
            done,
            job: Some(Job {
                batch: 0,
                params: Vec::new(),
                sums: Vec::new(),
            }),
            sums: Vec::new(),
            thread: Some(thread),
        })
    }

    /// The mean loss of batch `i` of the epoch at `params`, its gradient written into
    /// `grads`: [`LinearKernel::loss_and_grad`]'s numbers, half of the chunks computed by the
    /// partner.
    pub fn loss_and_grad(
        &mut self,
        kernel: &mut LinearKernel<F>,
        params: &[F],
        i: usize,
        grads: &mut [F],
    ) -> Result<F> {
        let rows = batch_rows(&self.order, self.batch, i);
        let chunks = LinearKernel::<F>::chunk_count(rows.len());
        let half = partner_from(chunks);
        let stopped = || Error::State("the partner thread stopped early".into());
        let paired = half > 0;
        if paired {
            let mut job = self.job.take().ok_or_else(stopped)?;
            job.batch = i;
            job.params.clear();
            job.params.extend_from_slice(params);
            let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
            jobs.send(job).map_err(|_| stopped())?;
        }
        // This thread's chunks; their last rows ask for the first of its half of the next
        // batch.
        let (after, _) = halves::<F>(batch_rows(&self.order, self.batch, i + 1));
        self.sums.clear();
        let mine = if paired { 0..half } else { 0..chunks };
        kernel.chunk_sums(params, self.x, self.y, rows, mine, after, &mut self.sums);
        if paired {
            let job = receive_soon(&self.done).ok_or_else(stopped)?;
            self.sums.extend_from_slice(&job.sums);
            self.job = Some(job);
        }
        Ok(kernel.combine_chunks(rows.len(), &self.sums, grads))
    }
}

impl<F> Drop for LinearPair<'_, '_, F> {
    /// Stops the partner (its next receive fails) and waits for it, so that it lets go of
    /// the order before the next epoch rewrites it.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::loss::Loss;
    use crate::nn::ModelKind;

    /// Every batch of a shuffled order, paired, has the bits of the kernel on one thread:
    /// batches of one to nine chunks, the last one short, regression and softmax.
    #[test]
    fn paired_batches_have_the_bits_of_one_thread() {
        let n = 1000;
        let x = Array2::from_shape_fn((n, 7), |(i, j)| ((i * 31 + j * 17) % 23) as f64 * 0.1 - 1.0);
        let order: Vec<usize> = (0..n).map(|i| (i * 389) % n).collect();
        let order = Arc::new(order);
        for (classes, loss) in [(1, Loss::Mse), (3, Loss::CrossEntropy)] {
            // Class numbers for softmax, values for regression.
            let scale = if classes > 1 { 1.0 } else { 0.5 };
            let y = Array2::from_shape_fn((n, 1), |(i, _)| (i % 3) as f64 * scale);
            let model = ModelKind::Linear.build(7, classes).unwrap();
            let mut kernel = LinearKernel::<f64>::new(&model, loss).unwrap();
            let params: Vec<f64> = (0..model.layout().len())
                .map(|i| (i as f64 * 0.37).sin())
                .collect();
            for batch in [64, 100, 128, 256, 576] {
                std::thread::scope(|scope| {
                    let mut pair = LinearPair::spawn(
                        scope,
                        &kernel,
                        x.view(),
                        y.view(),
                        Arc::clone(&order),
                        batch,
                    )
                    .unwrap();
                    for (i, rows) in order.chunks(batch).enumerate() {
                        let (mut want, mut got) =
                            (vec![0.0; params.len()], vec![1.0; params.len()]);
                        let l1 = kernel.loss_and_grad(&params, x.view(), y.view(), rows, &mut want);
                        let l2 = pair
                            .loss_and_grad(&mut kernel, &params, i, &mut got)
                            .unwrap();
                        assert_eq!(
                            l1.to_bits(),
                            l2.to_bits(),
                            "loss, batch {i} of {batch} rows"
                        );
                        let bits = |v: &[f64]| v.iter().map(|g| g.to_bits()).collect::<Vec<_>>();
                        assert_eq!(
                            bits(&want),
                            bits(&got),
                            "gradient, batch {i} of {batch} rows"
                        );
                    }
                });
            }
        }
    }
}
