//! Every shuffled batch of the linear kernel computed by two threads, each reading its half of
//! the rows straight from the table.
//!
//! The rows of a shuffled batch are random places in a feature table larger than the caches,
//! so a batch's time goes to waiting for its rows: one core has only so many rows in flight,
//! and two cores fetch about twice as fast (measured in C on the 2-core machine: 3.5-4 GB/s
//! on one thread, 7.6-8.5 on two; `bench/RESULTS.md`, P2). The linear kernel already cuts a
//! batch into fixed chunks of [`CHUNK_ROWS`](crate::kernels::CHUNK_ROWS) rows and adds their
//! sums in chunk order whatever thread summed them ([`LinearKernel::chunk_sums`],
//! [`LinearKernel::combine_chunks`]): here the trainer sums the first [`trainer_chunks`] of
//! the batch, a [`Partner`] thread the others, and the trainer adds them all in order. The
//! loss and the gradient are [`LinearKernel::loss_and_grad`]'s bits, on any number of
//! threads.
//!
//! Per batch the trainer hands the partner a copy of the parameters, sums its chunks, and
//! takes the partner's chunk sums back; each side, before it waits, asks for the first rows
//! of its share of the next batch (the order of the epoch is known), so that its walk does
//! not start on an empty pipeline. One buffer pair goes back and forth: nothing is allocated
//! after the first batch. Both sides try again for a while before they sleep on the channel,
//! as the [`Gatherer`](crate::data::gather::Gatherer) does: a batch takes microseconds, and
//! waking a sleeping thread tens of them on a virtual machine.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use ndarray::ArrayView2;

use crate::kernels::vector::prefetch_first_rows;
use crate::kernels::LinearKernel;
use crate::{Error, Float, Result};

/// How many times a side tries again before it sleeps on the channel: the first
/// [`SPIN_PAUSES`] with a pause instruction in between (the other side answers within
/// microseconds when both run), the others yielding the core.
const SPIN: usize = 4096;

/// Tries of [`SPIN`] with a pause in between rather than a yield.
const SPIN_PAUSES: usize = 1024;

/// The chunks of a batch of `chunks` chunks that the trainer sums, `0..trainer_chunks`; the
/// partner sums the others. The trainer takes the larger half: a batch of one chunk stays
/// on the trainer, without a hand-over.
pub(crate) fn trainer_chunks(chunks: usize) -> usize {
    chunks.div_ceil(2)
}

/// What goes back and forth: the parameters of a step, and the partner's chunk sums.
#[derive(Debug, Default)]
struct Job<F> {
    params: Vec<F>,
    sums: Vec<F>,
}

/// Sends `job`, trying again for a while before sleeping on a full channel; `Err` when the
/// other side has gone.
fn hand_over<F>(send: &SyncSender<Job<F>>, mut job: Job<F>) -> Result<(), ()> {
    for k in 0..SPIN {
        match send.try_send(job) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => job = back,
            Err(TrySendError::Disconnected(_)) => return Err(()),
        }
        pause(k);
    }
    send.send(job).map_err(|_| ())
}

/// Takes the next job, trying again for a while before sleeping on the channel; `Err` when
/// the other side has gone.
fn take<F>(recv: &Receiver<Job<F>>) -> Result<Job<F>, ()> {
    for k in 0..SPIN {
        match recv.try_recv() {
            Ok(job) => return Ok(job),
            Err(TryRecvError::Empty) => pause(k),
            Err(TryRecvError::Disconnected) => return Err(()),
        }
    }
    recv.recv().map_err(|_| ())
}

/// Waits a little before try number `k + 1`.
fn pause(k: usize) {
    if k < SPIN_PAUSES {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// The rows of batch `i` of `order` (batches of `batch` rows, the last possibly shorter).
fn batch_rows(order: &[usize], batch: usize, i: usize) -> &[usize] {
    &order[(i * batch).min(order.len())..((i + 1) * batch).min(order.len())]
}

/// The trainer's rows of a batch and the partner's.
fn shares(rows: &[usize]) -> (&[usize], &[usize]) {
    let chunks = LinearKernel::<f32>::chunk_count(rows.len());
    let cut = (trainer_chunks(chunks) * crate::kernels::CHUNK_ROWS).min(rows.len());
    rows.split_at(cut)
}

/// The trainer's end of a partner thread that sums the later chunks of one epoch's batches.
#[derive(Debug)]
pub(crate) struct Partner<'scope, 'env, F> {
    x: ArrayView2<'env, F>,
    y: ArrayView2<'env, F>,
    order: Arc<Vec<usize>>,
    batch: usize,
    /// The number of the next batch in the epoch.
    next: usize,
    /// The job, while it is on this side.
    job: Option<Job<F>>,
    /// The chunk sums of the batch in hand: the trainer's, then the partner's.
    sums: Vec<F>,
    jobs: Option<SyncSender<Job<F>>>,
    done: Receiver<Job<F>>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope, 'env, F: Float> Partner<'scope, 'env, F> {
    /// Starts a partner for the batches of `batch` rows of `order` (the last one possibly
    /// shorter) of the tables `x` and `y` (row-major), from batch number `first` on, summing
    /// chunks with a copy of `kernel`.
    pub(crate) fn spawn(
        scope: &'scope Scope<'scope, 'env>,
        kernel: &LinearKernel<F>,
        x: ArrayView2<'env, F>,
        y: ArrayView2<'env, F>,
        order: Arc<Vec<usize>>,
        batch: usize,
        first: usize,
    ) -> Result<Self> {
        if !x.is_standard_layout() || !y.is_standard_layout() || batch == 0 {
            return Err(Error::State(
                "summing batches on two threads needs tables in standard layout".into(),
            ));
        }
        let (jobs, inbox) = sync_channel::<Job<F>>(1);
        let (outbox, done) = sync_channel::<Job<F>>(1);
        let mut kernel = kernel.clone().with_threads(1);
        let theirs = Arc::clone(&order);
        let thread = std::thread::Builder::new()
            .name("descent-partner".into())
            .spawn_scoped(scope, move || {
                let flat = x.as_slice().unwrap_or(&[]);
                let n_in = x.ncols();
                let batches = theirs.len().div_ceil(batch);
                for i in first..batches {
                    let rows = batch_rows(&theirs, batch, i);
                    let chunks = LinearKernel::<F>::chunk_count(rows.len());
                    let mine = trainer_chunks(chunks)..chunks;
                    if mine.is_empty() {
                        continue;
                    }
                    prefetch_first_rows(flat, n_in, shares(rows).1);
                    let Ok(mut job) = take(&inbox) else {
                        return; // the trainer stopped before the epoch's end
                    };
                    job.sums.clear();
                    kernel.chunk_sums(&job.params, x, y, rows, mine, &mut job.sums);
                    if hand_over(&outbox, job).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::State(format!("cannot start the batch partner: {e}")))?;
        Ok(Partner {
            x,
            y,
            order,
            batch,
            next: first,
            job: Some(Job::default()),
            sums: Vec::new(),
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        })
    }

    /// The mean loss and the gradient (into `grads`) of the epoch's next batch, `rows`, at
    /// `params`, summed by `kernel` here and by the partner: [`LinearKernel::loss_and_grad`]'s
    /// bits.
    pub(crate) fn loss_and_grad(
        &mut self,
        kernel: &mut LinearKernel<F>,
        params: &[F],
        rows: &[usize],
        grads: &mut [F],
    ) -> Result<F> {
        let stopped = || Error::State("the batch partner stopped early".into());
        let order = Arc::clone(&self.order);
        if rows != batch_rows(&order, self.batch, self.next) {
            return Err(Error::State(format!(
                "the batch partner is at batch {} of the epoch, not at the batch asked for",
                self.next
            )));
        }
        self.next += 1;
        let chunks = LinearKernel::<F>::chunk_count(rows.len());
        let split = trainer_chunks(chunks);
        let shared = split < chunks;
        if shared {
            let mut job = self.job.take().ok_or_else(stopped)?;
            job.params.clear();
            job.params.extend_from_slice(params);
            let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
            hand_over(jobs, job).map_err(|()| stopped())?;
        }
        self.sums.clear();
        kernel.chunk_sums(params, self.x, self.y, rows, 0..split, &mut self.sums);
        if shared {
            let next = batch_rows(&order, self.batch, self.next);
            let flat = self.x.as_slice().unwrap_or(&[]);
            prefetch_first_rows(flat, self.x.ncols(), shares(next).0);
            let job = take(&self.done).map_err(|()| stopped())?;
            self.sums.extend_from_slice(&job.sums);
            self.job = Some(job);
        }
        Ok(kernel.combine_chunks(rows.len(), &self.sums, grads))
    }
}

impl<F> Drop for Partner<'_, '_, F> {
    /// Stops the thread (its next wait for a job fails) and waits for it, so that it lets go
    /// of the order before the next epoch rewrites it.
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

    /// Every batch of an epoch, from a given batch on, gets `loss_and_grad`'s bits, for
    /// batches of one chunk, a few, and a short last one; a softmax and a regression.
    #[test]
    fn paired_batches_give_the_kernels_bits() {
        let (n, n_in) = (1000, 7);
        let x = Array2::from_shape_fn((n, n_in), |(i, j)| ((i * 31 + j * 17) % 23) as f64 / 7.0);
        for (model, loss, y) in [
            (
                ModelKind::Linear.build(n_in, 1).unwrap(),
                Loss::Mse,
                Array2::from_shape_fn((n, 1), |(i, _)| (i % 13) as f64 - 6.0),
            ),
            (
                ModelKind::Softmax.build(n_in, 3).unwrap(),
                Loss::CrossEntropy,
                Array2::from_shape_fn((n, 1), |(i, _)| (i % 3) as f64),
            ),
        ] {
            let mut kernel = LinearKernel::<f64>::new(&model, loss).unwrap();
            let params: Vec<f64> = (0..model.layout().len())
                .map(|k| (k as f64 * 0.37).sin())
                .collect();
            let order: Vec<usize> = (0..n).map(|i| (i * 389) % n).collect();
            let order = Arc::new(order);
            for (batch, first) in [(64, 0), (100, 3), (256, 0), (300, 2), (999, 1)] {
                std::thread::scope(|scope| {
                    let mut p = Partner::spawn(
                        scope,
                        &kernel,
                        x.view(),
                        y.view(),
                        Arc::clone(&order),
                        batch,
                        first,
                    )
                    .unwrap();
                    for i in first..n.div_ceil(batch) {
                        let rows = batch_rows(&order, batch, i);
                        let mut want = vec![0.0; params.len()];
                        let l = kernel.loss_and_grad(&params, x.view(), y.view(), rows, &mut want);
                        let mut got = vec![f64::NAN; params.len()];
                        let m = p
                            .loss_and_grad(&mut kernel, &params, rows, &mut got)
                            .unwrap();
                        assert_eq!(m.to_bits(), l.to_bits(), "batch {batch}, {i}");
                        let bits = |v: &[f64]| v.iter().map(|g| g.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&got), bits(&want), "batch {batch}, {i}");
                    }
                });
            }
        }
    }

    /// A trainer that stops midway stops the thread, and dropping the partner waits for it.
    #[test]
    fn dropping_the_partner_stops_its_thread() {
        let x = Array2::<f32>::zeros((10_000, 4));
        let y = Array2::<f32>::zeros((10_000, 1));
        let model = ModelKind::Linear.build(4, 1).unwrap();
        let mut kernel = LinearKernel::<f32>::new(&model, Loss::Mse).unwrap();
        let order = Arc::new((0..10_000).collect::<Vec<_>>());
        std::thread::scope(|scope| {
            let mut p =
                Partner::spawn(scope, &kernel, x.view(), y.view(), order.clone(), 256, 0).unwrap();
            let mut g = vec![0.0; 5];
            p.loss_and_grad(&mut kernel, &[0.0; 5], &order[..256], &mut g)
                .unwrap();
            drop(p);
            assert_eq!(Arc::strong_count(&order), 1);
        });
    }
}
