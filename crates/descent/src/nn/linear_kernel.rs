//! A tape-free loss-and-gradient kernel for single-layer models (`linear-nobias`, `linear`,
//! `logistic`, `softmax`): the heart of per-sample and mini-batch SGD on big tables.
//!
//! For one linear layer the backward pass has a closed form, so each batch row is visited
//! once, straight from the data (no gather, no allocation): logits `z = W x + b`, the loss
//! term and its derivative `dz` (already divided by the mean's denominator), then
//! `dW += dz xᵀ`, `db += dz`. The numbers equal the tape's up to summation order (tested in
//! `tests/linear_kernel.rs`); the tape stays the reference for every other model.

use ndarray::{ArrayView1, ArrayView2};

use super::{Layer, Sequential};
use crate::autodiff::log_sum_exp;
use crate::loss::Loss;
use crate::Float;

/// How many rows ahead of its use a row is prefetched: far enough to cover a memory latency
/// (a row of a shuffled batch is a random place in a table much larger than the caches).
const PREFETCH_ROWS: usize = 2;

/// Loss and gradients of a one-layer model, computed row by row.
#[derive(Clone, Debug)]
pub struct LinearKernel<F> {
    n_in: usize,
    n_out: usize,
    bias: bool,
    loss: Loss,
    /// Logits of the current row, then their derivatives.
    z: Vec<F>,
}

impl<F: Float> LinearKernel<F> {
    /// The kernel for `model` and `loss`, or `None` if the model is not a single linear layer.
    pub fn new(model: &Sequential, loss: Loss) -> Option<Self> {
        match model.layers() {
            [Layer::Linear {
                in_features,
                out_features,
                bias,
            }] => Some(LinearKernel {
                n_in: *in_features,
                n_out: *out_features,
                bias: *bias,
                loss,
                z: vec![F::zero(); *out_features],
            }),
            _ => None,
        }
    }

    /// The mean loss over `rows` of `(x, y)` at `params`, writing its gradient into `grads`
    /// (same flat layout as the parameters: `W` row-major `[out][in]`, then `b`).
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
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { self.loss_and_grad_avx2(params, x, y, rows, grads) };
        }
        self.loss_and_grad_portable(params, x, y, rows, grads)
    }

    /// The same code compiled for AVX2: wider vectors for the dot products and axpys, the
    /// same operations in the same order (Rust never fuses a multiply and an add on its own),
    /// so the same bits as the portable build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn loss_and_grad_avx2(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        grads: &mut [F],
    ) -> F {
        self.loss_and_grad_portable(params, x, y, rows, grads)
    }

    #[inline(always)]
    fn loss_and_grad_portable(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        grads: &mut [F],
    ) -> F {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let (w, b) = params.split_at(n_in * n_out);
        grads.fill(F::zero());
        let (gw, gb) = grads.split_at_mut(n_in * n_out);
        // torch's mean reduction: over every element for element-wise losses, over rows for CE.
        let elements = match self.loss {
            Loss::CrossEntropy => rows.len(),
            _ => rows.len() * n_out,
        };
        let scale = F::one() / F::of(elements as f64);
        let flat = x.as_slice().expect("training data is in standard layout");
        let mut total = F::zero();
        let row_of = |r: usize| &flat[r * n_in..(r + 1) * n_in];
        for (i, &r) in rows.iter().enumerate() {
            if let Some(&next) = rows.get(i + PREFETCH_ROWS) {
                prefetch(row_of(next));
            }
            let xr = row_of(r);
            for (j, z) in self.z.iter_mut().enumerate() {
                let wj = &w[j * n_in..(j + 1) * n_in];
                *z = dot(wj, xr) + if self.bias { b[j] } else { F::zero() };
            }
            total += self.row_loss_and_dz(y.row(r), scale);
            for (j, &dz) in self.z.iter().enumerate() {
                axpy(dz, xr, &mut gw[j * n_in..(j + 1) * n_in]);
                if self.bias {
                    gb[j] += dz;
                }
            }
        }
        total * scale
    }

    /// Adds this row's loss term (un-normalised) and turns `self.z` into `d loss / d z`
    /// (normalised by `scale`), with the same formulas as the fused tape losses.
    fn row_loss_and_dz(&mut self, yr: ArrayView1<'_, F>, scale: F) -> F {
        let two = F::of(2.0);
        let half = F::of(0.5);
        let mut term = F::zero();
        match self.loss {
            Loss::Mse => {
                for (z, &t) in self.z.iter_mut().zip(yr.iter()) {
                    let d = *z - t;
                    term += d * d;
                    *z = d * (two * scale);
                }
            }
            Loss::Mae => {
                for (z, &t) in self.z.iter_mut().zip(yr.iter()) {
                    let d = *z - t;
                    term += d.abs();
                    *z = if d > F::zero() {
                        scale
                    } else if d < F::zero() {
                        -scale
                    } else {
                        F::zero()
                    };
                }
            }
            Loss::Huber { delta } => {
                let delta = F::of(delta);
                for (z, &t) in self.z.iter_mut().zip(yr.iter()) {
                    let d = *z - t;
                    let a = d.abs();
                    term += if a < delta {
                        half * d * d
                    } else {
                        delta * (a - half * delta)
                    };
                    *z = if d < -delta {
                        -scale * delta
                    } else if d > delta {
                        scale * delta
                    } else {
                        scale * d
                    };
                }
            }
            Loss::BceWithLogits => {
                for (z, &t) in self.z.iter_mut().zip(yr.iter()) {
                    let v = *z;
                    term += v.max(F::zero()) - v * t + (-v.abs()).exp().ln_1p();
                    *z = (F::one() / (F::one() + (-v).exp()) - t) * scale;
                }
            }
            Loss::CrossEntropy => {
                let c = yr[0].to_usize().filter(|&c| c < self.n_out).unwrap_or(0);
                let lse = log_sum_exp(self.z.iter().copied());
                term += lse - self.z[c];
                for z in self.z.iter_mut() {
                    *z = (*z - lse).exp() * scale;
                }
                self.z[c] -= scale;
            }
        }
        term
    }
}

/// `Σ a_i b_i` with eight independent accumulators, so that it vectorizes (the grouping is
/// fixed here, so the result does not depend on the instruction set).
#[inline(always)]
pub(crate) fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [F::zero(); 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = F::zero();
    for (x, y) in ar.iter().zip(br) {
        tail += *x * *y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Asks the memory system for `row` ahead of its use: rows of a shuffled batch come from
/// random places in a large table, where the hardware cannot guess the next address.
#[inline]
pub(crate) fn prefetch<F>(row: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = std::mem::size_of_val(row);
        let base = row.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: prefetching is a hint that never faults, and every address is inside
            // `row`.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    base.add(offset),
                );
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// `y += alpha x`, eight elements at a time: each chunk is loaded into registers before it is
/// stored, so the compiler can vectorize it without proving that `x` and `y` do not overlap.
#[inline(always)]
pub(crate) fn axpy<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    let mut yc = y.chunks_exact_mut(8);
    let mut xc = x.chunks_exact(8);
    for (yv, xv) in (&mut yc).zip(&mut xc) {
        let mut ys = [F::zero(); 8];
        for k in 0..8 {
            ys[k] = yv[k] + alpha * xv[k];
        }
        yv.copy_from_slice(&ys);
    }
    for (yi, &xi) in yc.into_remainder().iter_mut().zip(xc.remainder()) {
        *yi += alpha * xi;
    }
}
