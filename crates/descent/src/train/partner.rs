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
//! Per batch the trainer posts a copy of the parameters and sums its chunks; the partner
//! claims the post, sums the other chunks and marks them done. If the partner has not
//! claimed the post by the time the trainer's chunks are summed (it is slow to wake, or the
//! machine is busy and its core runs something else), the trainer takes the post back and
//! sums those chunks itself: the same chunks give the same bits on either thread, and a
//! busy machine costs at worst the one-thread time, never a wait for a thread that is not
//! running. Each side, before it waits, asks for the first rows of its share of the next
//! batch (the epoch's order is known). Nothing is allocated after the first batch.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use ndarray::ArrayView2;

use crate::kernels::vector::prefetch_first_rows;
use crate::kernels::LinearKernel;
use crate::{Error, Float, Result};

/// Tries with a pause instruction in between before a waiting side yields its core.
const SPIN_PAUSES: usize = 1024;

/// Tries with a yield in between, after the pauses, before the idle partner sleeps.
const SPIN_YIELDS: usize = 4096;

/// How long the idle partner sleeps at a time (the trainer wakes it when it posts).
const NAP: Duration = Duration::from_micros(200);

/// The chunks of a batch of `chunks` chunks that the trainer sums, `0..trainer_chunks`; the
/// partner sums the others. The trainer takes the larger half: a batch of one chunk stays
/// on the trainer, without a hand-over.
pub(crate) fn trainer_chunks(chunks: usize) -> usize {
    chunks.div_ceil(2)
}

/// The states of a post, in the low bits of [`Shared::stage`] (the post's number above).
const TAKEN_BACK: usize = 0;
const POSTED: usize = 1;
const CLAIMED: usize = 2;
const DONE: usize = 3;

/// What both threads see.
#[derive(Debug)]
struct Shared<F> {
    /// `post number << 2 | state`: the trainer posts, the partner claims and marks done, or
    /// the trainer takes the post back.
    stage: AtomicUsize,
    /// The batch of the current post.
    batch: AtomicUsize,
    /// The parameters of the current post (written by the trainer before it posts).
    params: Mutex<Vec<F>>,
    /// The partner's chunk sums of the current post (read by the trainer once done).
    sums: Mutex<Vec<F>>,
    /// The partner is asleep (the trainer wakes it when it posts).
    sleeping: AtomicBool,
    /// The trainer is gone: the partner returns.
    stop: AtomicBool,
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
    /// The number of the last post.
    post: usize,
    /// The chunk sums of the batch in hand: the trainer's, then the partner's.
    sums: Vec<F>,
    shared: Arc<Shared<F>>,
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
        let shared = Arc::new(Shared {
            stage: AtomicUsize::new(0),
            batch: AtomicUsize::new(first),
            params: Mutex::new(Vec::new()),
            sums: Mutex::new(Vec::new()),
            sleeping: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let mut kernel = kernel.clone().with_threads(1);
        let (theirs, with) = (Arc::clone(&order), Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("descent-partner".into())
            .spawn_scoped(scope, move || {
                let flat = x.as_slice().unwrap_or(&[]);
                let (n_in, s) = (x.ncols(), &*with);
                let mut seen = 0;
                prefetch_first_rows(flat, n_in, shares(batch_rows(&theirs, batch, first)).1);
                loop {
                    // The next post, or the end.
                    let mut k = 0;
                    let post = loop {
                        let stage = s.stage.load(Ordering::Acquire);
                        if stage >> 2 > seen && stage & 3 == POSTED {
                            break stage >> 2;
                        }
                        if s.stop.load(Ordering::Acquire) {
                            return;
                        }
                        if k < SPIN_PAUSES + SPIN_YIELDS {
                            pause(k);
                            k += 1;
                        } else {
                            s.sleeping.store(true, Ordering::SeqCst);
                            if s.stage.load(Ordering::SeqCst) >> 2 == seen
                                && !s.stop.load(Ordering::SeqCst)
                            {
                                std::thread::park_timeout(NAP);
                            }
                            s.sleeping.store(false, Ordering::SeqCst);
                        }
                    };
                    seen = post;
                    let posted = post << 2 | POSTED;
                    let claimed = post << 2 | CLAIMED;
                    let i = s.batch.load(Ordering::Acquire);
                    let rows = batch_rows(&theirs, batch, i);
                    if s.stage
                        .compare_exchange(posted, claimed, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        let chunks = LinearKernel::<F>::chunk_count(rows.len());
                        let params = s.params.lock().unwrap_or_else(PoisonError::into_inner);
                        let mut sums = s.sums.lock().unwrap_or_else(PoisonError::into_inner);
                        sums.clear();
                        let mine = trainer_chunks(chunks)..chunks;
                        kernel.chunk_sums(&params, x, y, rows, mine, &mut sums);
                        drop((params, sums));
                        s.stage.store(post << 2 | DONE, Ordering::Release);
                    }
                    let next = batch_rows(&theirs, batch, i + 1);
                    prefetch_first_rows(flat, n_in, shares(next).1);
                }
            })
            .map_err(|e| Error::State(format!("cannot start the batch partner: {e}")))?;
        Ok(Partner {
            x,
            y,
            order,
            batch,
            next: first,
            post: 0,
            sums: Vec::new(),
            shared,
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
        let order = Arc::clone(&self.order);
        if rows != batch_rows(&order, self.batch, self.next) {
            return Err(Error::State(format!(
                "the batch partner is at batch {} of the epoch, not at the batch asked for",
                self.next
            )));
        }
        let chunks = LinearKernel::<F>::chunk_count(rows.len());
        let split = trainer_chunks(chunks);
        let s = &*self.shared;
        if split < chunks {
            {
                let mut p = s.params.lock().unwrap_or_else(PoisonError::into_inner);
                p.clear();
                p.extend_from_slice(params);
            }
            self.post += 1;
            s.batch.store(self.next, Ordering::Release);
            s.stage.store(self.post << 2 | POSTED, Ordering::SeqCst);
            if s.sleeping.load(Ordering::SeqCst) {
                if let Some(t) = &self.thread {
                    t.thread().unpark();
                }
            }
        }
        self.next += 1;
        self.sums.clear();
        kernel.chunk_sums(params, self.x, self.y, rows, 0..split, &mut self.sums);
        if split < chunks {
            let next = batch_rows(&order, self.batch, self.next);
            prefetch_first_rows(
                self.x.as_slice().unwrap_or(&[]),
                self.x.ncols(),
                shares(next).0,
            );
            let (posted, done) = (self.post << 2 | POSTED, self.post << 2 | DONE);
            let back = self.post << 2 | TAKEN_BACK;
            let ours = s
                .stage
                .compare_exchange(posted, back, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
            if ours {
                // Not claimed yet: these chunks are summed here.
                kernel.chunk_sums(params, self.x, self.y, rows, split..chunks, &mut self.sums);
            } else {
                let mut k = 0;
                while s.stage.load(Ordering::Acquire) != done {
                    if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
                        return Err(Error::State("the batch partner stopped early".into()));
                    }
                    pause(k);
                    k = k.saturating_add(1);
                }
                let theirs = s.sums.lock().unwrap_or_else(PoisonError::into_inner);
                self.sums.extend_from_slice(&theirs);
            }
        }
        Ok(kernel.combine_chunks(rows.len(), &self.sums, grads))
    }
}

impl<F> Drop for Partner<'_, '_, F> {
    /// Stops the thread and waits for it, so that it lets go of the order before the next
    /// epoch rewrites it.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
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
