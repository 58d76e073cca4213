//! A tape-free loss-and-gradient kernel for single-layer models (`linear-nobias`, `linear`,
//! `logistic`, `softmax`): the heart of per-sample and mini-batch SGD on big tables.
//!
//! For one linear layer the backward pass has a closed form, so each batch row is visited
//! once, straight from the data (no gather; no allocation after the first batch): logits
//! `z = W x + b`, the loss term and its derivative `dz` (already divided by the mean's
//! denominator), then `dW += dz xᵀ`, `db += dz`. Large batches are cut into fixed chunks
//! summed in parallel and then added in order ([`CHUNK_ROWS`]). The numbers equal the
//! tape's up to summation order (tested in `tests/linear_kernel.rs`); the tape stays the
//! reference for every other model.
//!
//! One-row plain SGD has its own loop, [`LinearKernel::descend_rows`], with the step fused
//! into the gradient pass (tested bit for bit against the loop in `tests/fused_steps.rs`).

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1};

use super::vector::{axpy, dot, is, prefetched_rows, scale_into, step_along};
use crate::loss::Loss;
use crate::loss::{bce_with_logits, cross_entropy, huber, mae, mse};
use crate::nn::{Layer, Sequential};
use crate::Float;

/// Rows per chunk: a batch of more rows is cut into chunks of this many (the last one
/// shorter), each chunk's gradient is summed on its own, and the chunks' gradients and
/// losses are then added in chunk order. The cut depends only on the batch size, so the
/// numbers are the same whether the chunks run on one thread or on several.
pub const CHUNK_ROWS: usize = 64;

/// Batches with fewer multiply-adds than this run on the calling thread: handing chunks to
/// a sleeping worker costs from a few microseconds to about 60 (measured on a 2-core
/// virtual machine, where 256-row batches of 100 features ran 2-3x slower on two threads).
/// Shuffled mini-batches use a second thread differently ([`crate::data::gather`]).
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// Tables smaller than this stay on the calling thread too: their rows come from the caches,
/// so a chunk takes about as long as handing it over (measured: P2 at 10^4 rows, 4 MB, ran
/// 2.5x slower on two threads; at 10^5 rows, 40 MB, 1.4x faster).
const PARALLEL_MIN_TABLE_BYTES: usize = 16 << 20;

/// Loss and gradients of a one-layer model, computed row by row.
#[derive(Clone, Debug)]
pub struct LinearKernel<F> {
    shape: Shape,
    /// Logits (then their derivatives) of the current row, `n_out` per chunk.
    z: Vec<F>,
    /// Gradients of the chunks after the first, one parameter vector each.
    partials: Vec<F>,
    /// Loss sums of the chunks.
    totals: Vec<F>,
    /// The worker pool for large batches ([`Self::with_threads`]; `None`: one thread), looked
    /// up once: [`crate::parallel::pool`] takes a lock and a hash look-up, which a small
    /// batch should not pay at every step.
    pool: Option<&'static rayon::ThreadPool>,
}

/// What a chunk needs to know of the model (copied into each worker).
#[derive(Clone, Copy, Debug)]
struct Shape {
    n_in: usize,
    n_out: usize,
    bias: bool,
    loss: Loss,
}

impl<F: Float> LinearKernel<F> {
    /// Sets the threads the kernel may use for large batches (default 1; the numbers do not
    /// depend on it).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.pool = crate::parallel::pool(threads);
        self
    }

    /// The kernel for `model` and `loss`, or `None` if the model is not a single linear layer.
    pub fn new(model: &Sequential, loss: Loss) -> Option<Self> {
        match model.layers() {
            [Layer::Linear {
                in_features,
                out_features,
                bias,
            }] => Some(LinearKernel {
                shape: Shape {
                    n_in: *in_features,
                    n_out: *out_features,
                    bias: *bias,
                    loss,
                },
                z: vec![F::zero(); *out_features],
                partials: Vec::new(),
                totals: Vec::new(),
                pool: None,
            }),
            _ => None,
        }
    }

    /// Whether the kernel can read `x`: a row-major table of the model's inputs (any other
    /// layout takes the tape).
    pub fn accepts(&self, x: ArrayView2<'_, F>) -> bool {
        x.ncols() == self.shape.n_in && x.is_standard_layout()
    }

    /// The mean loss over `rows` of `(x, y)` at `params`, writing its gradient into `grads`
    /// (same flat layout as the parameters: `W` row-major `[out][in]`, then `b`).
    ///
    /// Batches of more than `CHUNK_ROWS` rows are summed chunk by chunk, the chunks in
    /// parallel on the [`crate::parallel::pool`] of its threads when the batch and the table are large enough
    /// (the numbers are the same either way).
    ///
    /// Class targets for cross-entropy must be valid indices (checked by the data reader);
    /// an out-of-range index counts as class 0 here.
    pub fn loss_and_grad(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        grads: &mut [F],
    ) -> F {
        self.loss_and_grad_on(self.pool, params, x, y, rows, grads)
    }

    /// [`Self::loss_and_grad`] with its chunks on `pool` (`None`: on this thread).
    fn loss_and_grad_on(
        &mut self,
        pool: Option<&rayon::ThreadPool>,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        grads: &mut [F],
    ) -> F {
        let s = self.shape;
        // torch's mean reduction: over every element for element-wise losses, over rows for CE.
        let elements = match s.loss {
            Loss::CrossEntropy => rows.len(),
            _ => rows.len() * s.n_out,
        };
        let scale = F::one() / F::of(elements as f64);
        let flat = x.as_slice().expect("training data is in standard layout");
        let batch = Batch {
            s,
            params,
            flat,
            y,
            scale,
        };
        let chunks = rows.len().div_ceil(CHUNK_ROWS).max(1);
        if chunks == 1 {
            return batch.chunk(rows, &[], grads, &mut self.z[..s.n_out]) * scale;
        }
        let n = grads.len();
        // Each chunk's scratch is padded to its own cache lines: chunks on different cores
        // writing to one line would pass it back and forth on every row.
        let (n_padded, z_padded) = (padded::<F>(n), padded::<F>(s.n_out));
        self.partials.resize((chunks - 1) * n_padded, F::zero());
        self.totals.resize(chunks * padded::<F>(1), F::zero());
        self.z.resize(chunks * z_padded, F::zero());
        let work = rows.len() * s.n_in * s.n_out;
        let table = std::mem::size_of_val(flat);
        let pool = pool.filter(|_| work >= PARALLEL_MIN_WORK && table >= PARALLEL_MIN_TABLE_BYTES);
        let jobs = rows
            .chunks(CHUNK_ROWS)
            .enumerate()
            .map(|(c, chunk)| (chunk, &rows[((c + 1) * CHUNK_ROWS).min(rows.len())..]))
            .zip(std::iter::once(&mut *grads).chain(self.partials.chunks_exact_mut(n_padded)))
            .zip(self.z.chunks_exact_mut(z_padded))
            .zip(self.totals.chunks_exact_mut(padded::<F>(1)))
            .map(|(((rows, g), z), total)| (rows, g, z, total));
        let run = |group: &mut [ChunkJob<'_, F>]| {
            for ((rows, after), g, z, total) in group {
                total[0] = batch.chunk(rows, after, &mut g[..n], &mut z[..s.n_out]);
            }
        };
        match pool {
            Some(pool) => {
                // One run of consecutive chunks per thread: this thread takes the first, the
                // pool's workers the others (one hand-over per worker and batch).
                let mut jobs: Vec<_> = jobs.collect();
                let per = chunks.div_ceil(pool.current_num_threads() + 1);
                let (mine, theirs) = jobs.split_at_mut(per);
                pool.in_place_scope(|scope| {
                    for group in theirs.chunks_mut(per) {
                        scope.spawn(move |_| run(group));
                    }
                    run(mine);
                });
            }
            None => {
                for ((rows, after), g, z, total) in jobs {
                    total[0] = batch.chunk(rows, after, &mut g[..n], &mut z[..s.n_out]);
                }
            }
        }
        for partial in self.partials.chunks_exact(n_padded) {
            for (g, &p) in grads.iter_mut().zip(partial) {
                *g += p;
            }
        }
        let total = self
            .totals
            .iter()
            .step_by(padded::<F>(1))
            .fold(F::zero(), |a, &t| a + t);
        total * scale
    }
}

impl<F: Float> LinearKernel<F> {
    /// The chunks [`Self::loss_and_grad`] cuts a batch of `rows` rows into.
    pub fn chunk_count(rows: usize) -> usize {
        rows.div_ceil(CHUNK_ROWS).max(1)
    }

    /// One over the mean's denominator for a batch of `rows` rows.
    fn scale(&self, rows: usize) -> F {
        let elements = match self.shape.loss {
            Loss::CrossEntropy => rows,
            _ => rows * self.shape.n_out,
        };
        F::one() / F::of(elements as f64)
    }

    /// The chunks `chunks` (numbers as [`crate::train::chunk_range`] gives them) of the
    /// batch `rows` of `(x, y)`, each computed exactly as [`Self::loss_and_grad`] computes
    /// it: appends to `out`, per chunk, its gradient (normalised by the whole batch's mean,
    /// flat layout) and then its loss sum (un-normalised). [`Self::combine_chunks`] over all
    /// chunks of the batch gives `loss_and_grad`'s bits. `after` are the rows read after the
    /// last of these chunks: the last rows ask for its first ones.
    #[allow(clippy::too_many_arguments)]
    pub fn chunk_sums(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        chunks: std::ops::Range<usize>,
        after: &[usize],
        out: &mut Vec<F>,
    ) {
        let s = self.shape;
        let batch = Batch {
            s,
            params,
            flat: x.as_slice().expect("training data is in standard layout"),
            y,
            scale: self.scale(rows.len()),
        };
        let n = params.len();
        // The rows of the chunks asked for: each chunk's last rows prefetch the next one's.
        let end = (chunks.end * CHUNK_ROWS).min(rows.len());
        for c in chunks {
            let lo = (c * CHUNK_ROWS).min(rows.len());
            let hi = ((c + 1) * CHUNK_ROWS).min(rows.len());
            let at = out.len();
            out.resize(at + n + 1, F::zero());
            let next = if hi < end { &rows[hi..end] } else { after };
            let total = batch.chunk(
                &rows[lo..hi],
                next,
                &mut out[at..at + n],
                &mut self.z[..s.n_out],
            );
            out[at + n] = total;
        }
    }

    /// The mean loss and the gradient (into `grads`) of a batch of `rows` rows from the
    /// consecutive chunk records `sums` of [`Self::chunk_sums`] (one per chunk, each of
    /// `grads.len() + 1` values): the first chunk's gradient, then the others added in
    /// order; the loss sums added in order. All of a batch's chunks give
    /// [`Self::loss_and_grad`]'s bits; some of them give their part (zero for none).
    pub fn combine_chunks(&self, rows: usize, sums: &[F], grads: &mut [F]) -> F {
        let n = grads.len();
        let records = sums.chunks_exact(n + 1);
        let scale = self.scale(rows);
        if Self::chunk_count(rows) == 1 {
            // The one-chunk batch: its gradient and loss sum as they are.
            if let Some(r) = records.clone().next() {
                grads.copy_from_slice(&r[..n]);
                return r[n] * scale;
            }
        }
        let mut total = F::zero();
        for (i, r) in records.enumerate() {
            if i == 0 {
                grads.copy_from_slice(&r[..n]);
            } else {
                for (g, &p) in grads.iter_mut().zip(&r[..n]) {
                    *g += p;
                }
            }
            total += r[n];
        }
        if sums.is_empty() {
            grads.fill(F::zero());
        }
        total * scale
    }

    /// Adds the consecutive chunk records `sums` of [`Self::chunk_sums`] (in global chunk
    /// order) onto `carry`, the running sum of the chunks before them: `n + 2` values, the
    /// number of chunks added so far (as `f64`, exact), the gradient sum, the loss sum; an
    /// empty `carry` is the sum of no chunk. Folding every chunk of a batch, in any number
    /// of consecutive pieces, then [`Self::finish_fold`] gives [`Self::combine_chunks`]'s
    /// bits: the same additions in the same order (the first chunk's loss sum is kept as it
    /// is, as the one-chunk batch keeps it; the second adds it to zero first, as
    /// `combine_chunks` does). The values travel as `f64`, which holds an `F` exactly.
    pub fn fold_chunks(&self, n: usize, carry: &mut Vec<f64>, sums: &[F]) {
        if carry.is_empty() {
            carry.resize(n + 2, 0.0);
        }
        let mut done = carry[0] as usize;
        for r in sums.chunks_exact(n + 1) {
            if done == 0 {
                for (c, &p) in carry[1..].iter_mut().zip(r) {
                    *c = p.f64();
                }
            } else {
                for (c, &p) in carry[1..=n].iter_mut().zip(&r[..n]) {
                    *c = (F::of(*c) + p).f64();
                }
                let before = if done == 1 {
                    F::zero() + F::of(carry[n + 1])
                } else {
                    F::of(carry[n + 1])
                };
                carry[n + 1] = (before + r[n]).f64();
            }
            done += 1;
        }
        carry[0] = done as f64;
    }

    /// The mean loss and the gradient (into `grads`) of a batch of `rows` rows from the
    /// `carry` of [`Self::fold_chunks`] over all of its chunks.
    pub fn finish_fold(&self, rows: usize, carry: &[f64], grads: &mut [F]) -> F {
        let n = grads.len();
        let scale = self.scale(rows);
        if carry.first().is_none_or(|&done| done == 0.0) {
            grads.fill(F::zero());
            return F::zero() * scale;
        }
        for (g, &c) in grads.iter_mut().zip(&carry[1..=n]) {
            *g = F::of(c);
        }
        let total = F::of(carry[n + 1]);
        if carry[0] == 1.0 && Self::chunk_count(rows) > 1 {
            // Only one chunk of several (not a whole batch): as `combine_chunks` adds it.
            return (F::zero() + total) * scale;
        }
        total * scale
    }

    /// Plain per-sample gradient descent: for each of `rows` in turn, the loss and gradient
    /// of that one row at the current parameters, then the step `p <- p + (-lr) g` (SGD with
    /// no momentum, weight decay or maximize). The numbers are those of
    /// [`Self::loss_and_grad`] on each one-row batch followed by that step, bit for bit; the
    /// step is fused into the gradient loop, so each row is visited once and no gradient
    /// buffer is written or read.
    ///
    /// Each row's loss is added to `loss_sum` (as `f64`, in row order). Stops before the
    /// first row whose loss is not finite, leaving the parameters as they were before it, and
    /// returns the number of rows done.
    pub fn descend_rows(
        &mut self,
        params: &mut [F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        lr: f64,
        loss_sum: &mut f64,
    ) -> usize {
        let flat = x.as_slice().expect("training data is in standard layout");
        let s = self.shape;
        let descent = Descent {
            s,
            flat,
            y,
            neg_lr: F::of(-lr),
            // The mean over a one-row batch, as in `loss_and_grad`.
            scale: F::one()
                / F::of(match s.loss {
                    Loss::CrossEntropy => 1.0,
                    _ => s.n_out as f64,
                }),
        };
        let z = &mut self.z[..s.n_out];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { descent.rows_avx2(params, rows, z, loss_sum) };
        }
        descent.rows_portable::<false>(params, rows, z, loss_sum)
    }
}

/// What [`LinearKernel::descend_rows`] needs besides the parameters.
#[derive(Clone, Copy)]
struct Descent<'a, F> {
    s: Shape,
    /// The feature table, row-major.
    flat: &'a [F],
    y: ArrayView2<'a, F>,
    neg_lr: F,
    /// One over the one-row mean's denominator.
    scale: F,
}

impl<F: Float> Descent<'_, F> {
    /// The portable loop compiled for AVX2 (the same bits, as for [`Batch::chunk_avx2`]), and
    /// for FMA, whose instructions only the inlined exponential uses ([`exp_with`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows_avx2(
        self,
        params: &mut [F],
        rows: &[usize],
        z: &mut [F],
        loss_sum: &mut f64,
    ) -> usize {
        self.rows_portable::<true>(params, rows, z, loss_sum)
    }

    #[inline(always)]
    fn rows_portable<const AVX2: bool>(
        self,
        params: &mut [F],
        rows: &[usize],
        z: &mut [F],
        loss_sum: &mut f64,
    ) -> usize {
        let s = self.s;
        if s.n_out == 1 {
            // One output (regression, logistic): the loop below with the loss chosen once
            // per call instead of at every row, and no loop over logits.
            let delta = match s.loss {
                Loss::Huber { delta } => F::of(delta),
                _ => F::zero(),
            };
            return match s.loss {
                Loss::Mse => self.rows_one::<AVX2>(params, rows, loss_sum, |z, t, scale| {
                    (mse::term(z, t), mse::grad(z, t, scale))
                }),
                Loss::Mae => self.rows_one::<AVX2>(params, rows, loss_sum, |z, t, scale| {
                    (mae::term(z, t), mae::grad(z, t, scale))
                }),
                Loss::Huber { .. } => {
                    self.rows_one::<AVX2>(params, rows, loss_sum, |z, t, scale| {
                        (huber::term(z, t, delta), huber::grad(z, t, delta, scale))
                    })
                }
                Loss::BceWithLogits => self.rows_logistic::<AVX2>(params, rows, loss_sum),
                Loss::CrossEntropy => self.rows_many::<AVX2>(params, rows, z, loss_sum),
            };
        }
        self.rows_many::<AVX2>(params, rows, z, loss_sum)
    }

    /// [`Self::rows_portable`] for any number of outputs.
    #[inline(always)]
    fn rows_many<const AVX2: bool>(
        self,
        params: &mut [F],
        rows: &[usize],
        z: &mut [F],
        loss_sum: &mut f64,
    ) -> usize {
        let Descent {
            s,
            flat,
            y,
            neg_lr,
            scale,
        } = self;
        let n_in = s.n_in;
        let (w, b) = params.split_at_mut(n_in * s.n_out);
        for (i, (r, xr)) in prefetched_rows(flat, n_in, y, rows, &[]).enumerate() {
            logits::<F, AVX2>(s, w, b, xr, z);
            // `0 + term`, `0 + dz`: the chunk's running sums, down to the sign of a zero.
            let term = F::zero() + row_loss_and_dz(s.loss, z, y.row(r), scale);
            let loss = (term * scale).f64();
            if !loss.is_finite() {
                return i;
            }
            *loss_sum += loss;
            for (j, &dz) in z.iter().enumerate() {
                step_along_with::<F, AVX2>(neg_lr, dz, xr, &mut w[j * n_in..(j + 1) * n_in]);
                if s.bias {
                    b[j] += neg_lr * (F::zero() + dz);
                }
            }
        }
        rows.len()
    }

    /// [`Self::rows_many`] for one output, with `loss` giving the row's term and `dz` (the
    /// same operations in the same order: `0 + (0 + term)` for the term, as the general
    /// loop's running sums give it).
    #[inline(always)]
    fn rows_one<const AVX2: bool>(
        self,
        params: &mut [F],
        rows: &[usize],
        loss_sum: &mut f64,
        loss: impl Fn(F, F, F) -> (F, F),
    ) -> usize {
        let Descent {
            s,
            flat,
            y,
            neg_lr,
            scale,
        } = self;
        let n_in = s.n_in;
        let (w, b) = params.split_at_mut(n_in);
        let targets = y.column(0);
        for (i, (r, xr)) in prefetched_rows(flat, n_in, y, rows, &[]).enumerate() {
            let z = dot_with::<F, AVX2>(w, xr) + if s.bias { b[0] } else { F::zero() };
            let (term, dz) = loss(z, targets[r], scale);
            let term = F::zero() + (F::zero() + term);
            let row_loss = (term * scale).f64();
            if !row_loss.is_finite() {
                return i;
            }
            *loss_sum += row_loss;
            step_along_with::<F, AVX2>(neg_lr, dz, xr, w);
            if s.bias {
                b[0] += neg_lr * (F::zero() + dz);
            }
        }
        rows.len()
    }

    /// [`Self::rows_one`] for the logistic loss, with the terms' `log(1 + e)` taken
    /// [`LOG_BLOCK`] rows at a time ([`Float::log1p_each`], four to a vector), off the chain
    /// of steps, and each step made in one pass with the next row's dot product
    /// (`step_then_dot`). The same bits: each row's term is `part + e.log1p()` as
    /// [`bce_with_logits::term_and_grad`] gives it, added to `loss_sum` in row order, and a
    /// row's term is finite exactly when its `part` is ([`bce_with_logits::parts`]), so the
    /// run stops before the same row.
    ///
    /// Measured on P3-clf (interleaved, `descent bench --repeat 7`, 3 rounds): the blocks of
    /// `log1p` 0.82-0.87 of the time, the one-pass step 0.96-0.98 of that. The one-pass step
    /// measured 1.02-1.19 on P3-reg's shorter chain, so [`Self::rows_one`] keeps two passes.
    #[inline(always)]
    fn rows_logistic<const AVX2: bool>(
        self,
        params: &mut [F],
        rows: &[usize],
        loss_sum: &mut f64,
    ) -> usize {
        let Descent {
            s,
            flat,
            y,
            neg_lr,
            scale,
        } = self;
        let n_in = s.n_in;
        let (w, b) = params.split_at_mut(n_in);
        let targets = y.column(0);
        // One output, not cross-entropy: the mean over one logit, so `scale` is exactly 1
        // and multiplying by it changes no bit. Left out (the compiler cannot know it is 1):
        // the gradient's product was on the chain of steps.
        debug_assert!(scale == F::one());
        let mut parts = [F::zero(); LOG_BLOCK];
        let mut es = [F::zero(); LOG_BLOCK];
        let mut held = 0;
        // Adds the held rows' terms, in order.
        let settle = |parts: &[F], es: &mut [F], loss_sum: &mut f64| {
            F::log1p_each(es);
            for (&part, &log) in parts.iter().zip(es.iter()) {
                let term = F::zero() + (F::zero() + (part + log));
                *loss_sum += term.f64();
            }
        };
        // The next row's dot product, computed in one pass with this row's step.
        let mut next_dot = None;
        for (i, (r, xr)) in prefetched_rows(flat, n_in, y, rows, &[]).enumerate() {
            let dot = next_dot
                .take()
                .unwrap_or_else(|| dot_with::<F, AVX2>(w, xr));
            let z = dot + if s.bias { b[0] } else { F::zero() };
            let e = exp_with::<F, AVX2>(-z.abs());
            let (part, e, dz) = bce_with_logits::parts_given(z, targets[r], F::one(), e);
            // (The term is finite when `part` is.)
            if !part.is_finite() {
                settle(&parts[..held], &mut es[..held], loss_sum);
                return i;
            }
            parts[held] = part;
            es[held] = e;
            held += 1;
            if held == LOG_BLOCK {
                settle(&parts, &mut es, loss_sum);
                held = 0;
            }
            match rows.get(i + 1) {
                Some(&next) => {
                    let next = &flat[next * n_in..(next + 1) * n_in];
                    next_dot = Some(step_then_dot_with::<F, AVX2>(neg_lr, dz, xr, w, next));
                }
                None => step_along_with::<F, AVX2>(neg_lr, dz, xr, w),
            }
            if s.bias {
                b[0] += neg_lr * (F::zero() + dz);
            }
        }
        settle(&parts[..held], &mut es[..held], loss_sum);
        rows.len()
    }
}

/// Rows whose logistic `log(1 + e)` [`Descent::rows_logistic`] takes at once.
const LOG_BLOCK: usize = 32;

/// One chunk's rows and the rows after it in the batch (the next chunk's first ones are
/// prefetched), and its gradient, logit and loss-sum buffers.
type ChunkJob<'a, F> = (
    (&'a [usize], &'a [usize]),
    &'a mut [F],
    &'a mut [F],
    &'a mut [F],
);

/// `n` elements rounded up to whole cache lines, plus one more line: the stride between two
/// chunks' scratch, so that no line holds both.
fn padded<F>(n: usize) -> usize {
    let per_line = (64 / std::mem::size_of::<F>()).max(1);
    n.next_multiple_of(per_line) + per_line
}

/// What every chunk of one batch shares (copied into each worker).
#[derive(Clone, Copy)]
struct Batch<'a, F> {
    s: Shape,
    params: &'a [F],
    /// The feature table, row-major.
    flat: &'a [F],
    y: ArrayView2<'a, F>,
    /// One over the mean's denominator.
    scale: F,
}

impl<F: Float> Batch<'_, F> {
    /// One chunk: the loss sum over `rows` (un-normalised), its gradient written into `g`
    /// (normalised by `scale`), `z` as scratch; with AVX2 when the CPU has it. `after` are
    /// the rows read next, whose first ones are prefetched by the chunk's last rows.
    fn chunk(self, rows: &[usize], after: &[usize], g: &mut [F], z: &mut [F]) -> F {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { self.chunk_avx2(rows, after, g, z) };
        }
        self.chunk_portable::<false>(rows, after, g, z)
    }

    /// The same code compiled for AVX2: wider vectors for the dot products and axpys, the
    /// same operations in the same order (Rust never fuses a multiply and an add on its own),
    /// so the same bits as the portable build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn chunk_avx2(self, rows: &[usize], after: &[usize], g: &mut [F], z: &mut [F]) -> F {
        self.chunk_portable::<true>(rows, after, g, z)
    }

    /// One output of a loss of one logit: [`Self::chunk_one`]; otherwise the general
    /// [`Self::chunk_many`]. Both give the same bits for one output (tested).
    #[inline(always)]
    fn chunk_portable<const AVX2: bool>(
        self,
        rows: &[usize],
        after: &[usize],
        g: &mut [F],
        z: &mut [F],
    ) -> F {
        let delta = match self.s.loss {
            Loss::Huber { delta } => F::of(delta),
            _ => F::zero(),
        };
        match self.s.loss {
            _ if self.s.n_out != 1 => self.chunk_many::<AVX2>(rows, after, g, z),
            Loss::Mse => self.chunk_one::<AVX2>(rows, after, g, |z, t, scale| {
                (mse::term(z, t), mse::grad(z, t, scale))
            }),
            Loss::Mae => self.chunk_one::<AVX2>(rows, after, g, |z, t, scale| {
                (mae::term(z, t), mae::grad(z, t, scale))
            }),
            Loss::Huber { .. } => self.chunk_one::<AVX2>(rows, after, g, |z, t, scale| {
                (huber::term(z, t, delta), huber::grad(z, t, delta, scale))
            }),
            Loss::BceWithLogits => {
                self.chunk_one::<AVX2>(rows, after, g, bce_with_logits::term_and_grad)
            }
            // Cross-entropy over one class: the general loop.
            Loss::CrossEntropy => self.chunk_many::<AVX2>(rows, after, g, z),
        }
    }

    /// [`Self::chunk_portable`] for any number of outputs and any loss.
    #[inline(always)]
    fn chunk_many<const AVX2: bool>(
        self,
        rows: &[usize],
        after: &[usize],
        g: &mut [F],
        z: &mut [F],
    ) -> F {
        let Batch {
            s,
            params,
            flat,
            y,
            scale,
        } = self;
        let (n_in, n_out) = (s.n_in, s.n_out);
        let (w, b) = params.split_at(n_in * n_out);
        let (gw, gb) = g.split_at_mut(n_in * n_out);
        gb.fill(F::zero());
        if rows.is_empty() {
            gw.fill(F::zero());
        }
        let mut total = F::zero();
        for (i, (r, xr)) in prefetched_rows(flat, n_in, y, rows, after).enumerate() {
            logits::<F, AVX2>(s, w, b, xr, z);
            total += row_loss_and_dz(s.loss, z, y.row(r), scale);
            for (j, &dz) in z.iter().enumerate() {
                let gwj = &mut gw[j * n_in..(j + 1) * n_in];
                // The first row writes its term, the others add theirs.
                if i == 0 {
                    scale_into(dz, xr, gwj);
                } else {
                    axpy_with::<F, AVX2>(dz, xr, gwj);
                }
                if s.bias {
                    gb[j] += dz;
                }
            }
        }
        total
    }

    /// [`Self::chunk_many`] for one output, with `loss` giving the row's term and `dz`: the
    /// same operations in the same order (the term added as `0 + term`, the general loop's
    /// per-row sum), without the loops over outputs, the logit scratch and the choice of
    /// loss at every row. Reading rows at random from a large table, a chunk waits
    /// on memory; the fewer instructions between two rows' prefetches, the more rows the
    /// core keeps in flight.
    #[inline(always)]
    fn chunk_one<const AVX2: bool>(
        self,
        rows: &[usize],
        after: &[usize],
        g: &mut [F],
        loss: impl Fn(F, F, F) -> (F, F),
    ) -> F {
        let Batch {
            s,
            params,
            flat,
            y,
            scale,
        } = self;
        let n_in = s.n_in;
        let (w, b) = params.split_at(n_in);
        let (gw, gb) = g.split_at_mut(n_in);
        gb.fill(F::zero());
        if rows.is_empty() {
            gw.fill(F::zero());
        }
        let targets = y.column(0);
        let bias = if s.bias { b[0] } else { F::zero() };
        let mut total = F::zero();
        for (i, (r, xr)) in prefetched_rows(flat, n_in, y, rows, after).enumerate() {
            let z = dot_with::<F, AVX2>(w, xr) + bias;
            let (term, dz) = loss(z, targets[r], scale);
            total += F::zero() + term;
            if i == 0 {
                scale_into(dz, xr, gw);
            } else {
                axpy_with::<F, AVX2>(dz, xr, gw);
            }
            if s.bias {
                gb[0] += dz;
            }
        }
        total
    }
}

/// The logits of one row: `z_j = W_j · x (+ b_j)`.
#[inline(always)]
fn logits<F: Float, const AVX2: bool>(s: Shape, w: &[F], b: &[F], xr: &[F], z: &mut [F]) {
    for (j, z) in z.iter_mut().enumerate() {
        let wj = &w[j * s.n_in..(j + 1) * s.n_in];
        *z = dot_with::<F, AVX2>(wj, xr) + if s.bias { b[j] } else { F::zero() };
    }
}

/// Adds this row's loss term (un-normalised) and turns the logits `z` into `d loss / d z`
/// (normalised by `scale`), with each loss's own element functions ([`crate::loss`]).
#[inline(always)]
fn row_loss_and_dz<F: Float>(loss: Loss, z: &mut [F], yr: ArrayView1<'_, F>, scale: F) -> F {
    let mut term = F::zero();
    match loss {
        Loss::Mse => {
            for (z, &t) in z.iter_mut().zip(yr.iter()) {
                term += mse::term(*z, t);
                *z = mse::grad(*z, t, scale);
            }
        }
        Loss::Mae => {
            for (z, &t) in z.iter_mut().zip(yr.iter()) {
                term += mae::term(*z, t);
                *z = mae::grad(*z, t, scale);
            }
        }
        Loss::Huber { delta } => {
            let delta = F::of(delta);
            for (z, &t) in z.iter_mut().zip(yr.iter()) {
                term += huber::term(*z, t, delta);
                *z = huber::grad(*z, t, delta, scale);
            }
        }
        Loss::BceWithLogits => {
            for (z, &t) in z.iter_mut().zip(yr.iter()) {
                let (tz, g) = bce_with_logits::term_and_grad(*z, t, scale);
                term += tz;
                *z = g;
            }
        }
        Loss::CrossEntropy => {
            let n_out = z.len();
            let c = yr[0].to_usize().filter(|&c| c < n_out).unwrap_or(0);
            term += cross_entropy::row_term_and_grad(ArrayViewMut1::from(z), c, scale);
        }
    }
    term
}

/// [`dot`] in the AVX2 form when `AVX2` (only inside an AVX2 function).
#[inline(always)]
fn dot_with<F: Float, const AVX2: bool>(a: &[F], b: &[F]) -> F {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: `AVX2` is true only in code reached through `chunk_avx2` or `rows_avx2`,
        // after the CPU check.
        return unsafe { super::vector::avx2::dot(a, b) };
    }
    dot(a, b)
}

/// [`Float::exp_pinned`], inlined when `AVX2` (only inside an `avx2,fma` function) for
/// `f64`: the same bits.
#[inline(always)]
fn exp_with<F: Float, const AVX2: bool>(x: F) -> F {
    if AVX2 && is::<F, f64>() {
        return F::of(super::exp::exp_inline(x.f64()));
    }
    x.exp_pinned()
}

/// [`axpy`] in the AVX2 form when `AVX2` (only inside an AVX2 function).
#[inline(always)]
fn axpy_with<F: Float, const AVX2: bool>(alpha: F, x: &[F], y: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: as in `dot_with`.
        return unsafe { super::vector::avx2::axpy(alpha, x, y) };
    }
    axpy(alpha, x, y)
}

/// [`step_along`] in the AVX2 form when `AVX2` (only inside an AVX2 function).
#[inline(always)]
fn step_along_with<F: Float, const AVX2: bool>(neg_lr: F, dz: F, x: &[F], w: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: as in `dot_with`.
        return unsafe { super::vector::avx2::step_along(neg_lr, dz, x, w) };
    }
    step_along(neg_lr, dz, x, w)
}

/// [`step_along_with`] and then [`dot_with`]`(w, next)`, in one pass where it can be (the
/// same bits).
#[inline(always)]
fn step_then_dot_with<F: Float, const AVX2: bool>(
    neg_lr: F,
    dz: F,
    x: &[F],
    w: &mut [F],
    next: &[F],
) -> F {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: as in `dot_with`.
        return unsafe { super::vector::avx2::step_then_dot(neg_lr, dz, x, w, next) };
    }
    step_along(neg_lr, dz, x, w);
    dot(w, next)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::nn::ModelKind;

    /// The one-output loop gives the general loop's bits for every loss of one logit, with
    /// and without bias, in f32 and f64, portable and (where the CPU has it) AVX2: chunks of
    /// 0, 1, 5, 64 and 200 rows in shuffled order.
    #[test]
    fn one_output_chunks_have_the_bits_of_the_general_loop() {
        one_output_bits::<f64>();
        one_output_bits::<f32>();
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn chunk_many_avx2<F: Float>(
        batch: Batch<'_, F>,
        rows: &[usize],
        g: &mut [F],
        z: &mut [F],
    ) -> F {
        batch.chunk_many::<true>(rows, &[], g, z)
    }

    fn one_output_bits<F: Float>() {
        use rand::seq::SliceRandom;
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let (n, d) = (200, 13);
        let mut draw = |lo: f64, hi: f64| F::of(rng.random_range(lo..hi));
        let x = Array2::from_shape_fn((n, d), |_| draw(-2.0, 2.0));
        let real = Array2::from_shape_fn((n, 1), |_| draw(-3.0, 3.0));
        let params: Vec<F> = (0..=d).map(|_| draw(-1.0, 1.0)).collect();
        let labels = Array2::from_shape_fn((n, 1), |(i, _)| F::of((i * 7 % 3 % 2) as f64));
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let losses = [
            Loss::Mse,
            Loss::Mae,
            Loss::Huber { delta: 0.7 },
            Loss::BceWithLogits,
        ];
        let bits = |v: &[F]| v.iter().map(|a| a.f64().to_bits()).collect::<Vec<_>>();
        for loss in losses {
            for bias in [true, false] {
                let y = if loss == Loss::BceWithLogits {
                    &labels
                } else {
                    &real
                };
                let params = if bias { &params[..] } else { &params[..d] };
                for rows in [
                    &order[..0],
                    &order[3..4],
                    &order[10..15],
                    &order[..64],
                    &order[..],
                ] {
                    let batch = Batch {
                        s: Shape {
                            n_in: d,
                            n_out: 1,
                            bias,
                            loss,
                        },
                        params,
                        flat: x.as_slice().expect("standard layout"),
                        y: y.view(),
                        scale: F::one() / F::of(rows.len().max(1) as f64),
                    };
                    let (mut g_one, mut g_many) = (
                        vec![F::of(9.0); params.len()],
                        vec![F::zero(); params.len()],
                    );
                    let mut z = [F::zero()];
                    let one = batch.chunk_portable::<false>(rows, &[], &mut g_one, &mut z);
                    let many = batch.chunk_many::<false>(rows, &[], &mut g_many, &mut z);
                    let case = format!("{loss} bias {bias}, {} rows", rows.len());
                    assert_eq!(one.f64().to_bits(), many.f64().to_bits(), "{case}: loss");
                    assert_eq!(bits(&g_one), bits(&g_many), "{case}: gradient");
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx2") {
                        let mut g_wide = vec![F::of(9.0); params.len()];
                        // SAFETY: the CPU supports AVX2 (checked just above).
                        let (one_wide, many_wide) = unsafe {
                            (
                                batch.chunk_avx2(rows, &[], &mut g_wide, &mut z),
                                chunk_many_avx2(batch, rows, &mut g_many, &mut z),
                            )
                        };
                        assert_eq!(
                            one_wide.f64().to_bits(),
                            many_wide.f64().to_bits(),
                            "{case}: AVX2 loss"
                        );
                        assert_eq!(bits(&g_wide), bits(&g_many), "{case}: AVX2 gradient");
                    }
                }
            }
        }
    }

    /// Chunks summed on a pool give the bits of the same chunks summed on one thread.
    #[test]
    fn chunked_batches_give_the_same_bits_on_any_number_of_threads() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // A table above PARALLEL_MIN_TABLE_BYTES, and a batch of 30,000 rows from it.
        let (n, d) = (110_000, 40);
        assert!(n * d * 4 >= PARALLEL_MIN_TABLE_BYTES);
        let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-2.0f32..2.0));
        let rows: Vec<usize> = (0..30_000).map(|i| (i * 7919) % n).collect();
        for (kind, loss, n_out) in [
            (ModelKind::Linear, Loss::Mse, 1),
            (ModelKind::Logistic, Loss::BceWithLogits, 1),
            (ModelKind::Softmax, Loss::CrossEntropy, 3),
        ] {
            let y = Array2::from_shape_fn((n, 1), |_| rng.random_range(0..n_out.max(2)) as f32);
            let model = kind.build(d, n_out).unwrap();
            let params: Vec<f32> = (0..model.layout().len())
                .map(|_| rng.random_range(-0.5..0.5))
                .collect();
            let mut kernel = LinearKernel::<f32>::new(&model, loss).unwrap();
            // 30,000 rows: 469 chunks, the last one short; enough work for the pool.
            assert!(rows.len() * d * n_out >= PARALLEL_MIN_WORK);
            let (mut g1, mut g2) = (vec![0.0; params.len()], vec![0.0; params.len()]);
            let l1 = kernel.loss_and_grad_on(None, &params, x.view(), y.view(), &rows, &mut g1);
            let l2 =
                kernel.loss_and_grad_on(Some(&pool), &params, x.view(), y.view(), &rows, &mut g2);
            assert_eq!(l1.to_bits(), l2.to_bits(), "{loss}");
            assert!(
                g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{loss}"
            );
        }
    }

    /// The chunk records folded in consecutive pieces (as the ranks of an MPI chain pass
    /// them on) give `combine_chunks`'s bits, for one chunk, a whole batch and a zero loss.
    #[test]
    fn folding_chunk_records_in_pieces_gives_the_combined_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (n, d) = (700, 6);
        let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-2.0f32..2.0));
        let y = Array2::from_shape_fn((n, 1), |_| rng.random_range(0..3) as f32);
        let model = ModelKind::Softmax.build(d, 3).unwrap();
        let params: Vec<f32> = (0..model.layout().len())
            .map(|_| rng.random_range(-0.5..0.5))
            .collect();
        let mut kernel = LinearKernel::<f32>::new(&model, Loss::CrossEntropy).unwrap();
        let p = params.len();
        for batch in [1, 64, 65, 300, 700] {
            let rows: Vec<usize> = (0..batch).map(|i| (i * 31) % n).collect();
            let chunks = LinearKernel::<f32>::chunk_count(batch);
            let mut sums = Vec::new();
            kernel.chunk_sums(
                &params,
                x.view(),
                y.view(),
                &rows,
                0..chunks,
                &[],
                &mut sums,
            );
            let mut want = vec![0.0; p];
            let lw = kernel.combine_chunks(batch, &sums, &mut want);
            for pieces in 1..=4 {
                let mut carry = Vec::new();
                for r in 0..pieces {
                    let c = crate::train::chunk_range(chunks, r, pieces);
                    kernel.fold_chunks(p, &mut carry, &sums[c.start * (p + 1)..c.end * (p + 1)]);
                }
                let mut got = vec![1.0; p];
                let lg = kernel.finish_fold(batch, &carry, &mut got);
                assert_eq!(lw.to_bits(), lg.to_bits(), "batch {batch}, {pieces} pieces");
                assert!(
                    want.iter()
                        .zip(&got)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "batch {batch}, {pieces} pieces"
                );
            }
        }
        // Some chunks of a batch (a rank's part), and none.
        let rows: Vec<usize> = (0..300).collect();
        let mut sums = Vec::new();
        kernel.chunk_sums(&params, x.view(), y.view(), &rows, 2..3, &[], &mut sums);
        let (mut want, mut got) = (vec![0.0; p], vec![0.0; p]);
        let lw = kernel.combine_chunks(300, &sums, &mut want);
        let mut carry = Vec::new();
        kernel.fold_chunks(p, &mut carry, &sums);
        assert_eq!(
            lw.to_bits(),
            kernel.finish_fold(300, &carry, &mut got).to_bits()
        );
        assert_eq!(want, got);
        let lw = kernel.combine_chunks(300, &[], &mut want);
        assert_eq!(
            lw.to_bits(),
            kernel.finish_fold(300, &[], &mut got).to_bits()
        );
        assert_eq!(want, got);
    }
}
