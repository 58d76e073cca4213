//! Softmax cross-entropy (`torch.nn.CrossEntropyLoss`) of one row of logits against a class
//! index: the term and its derivative, used by the tape's fused op and by both kernels.
//!
//! # Algorithm
//! ```text
//! loss = mean_i logsumexp(z_i) - z_i[c_i]
//! d loss / d z_i = (softmax(z_i) - onehot(c_i)) / N      (N rows)
//! ```

use ndarray::{ArrayView1, ArrayViewMut1};

use crate::{Error, Float, Result};

/// `log(sum(exp(x)))`, shifted by the maximum so that nothing overflows.
pub fn log_sum_exp<F: Float>(xs: impl Iterator<Item = F> + Clone) -> F {
    let m = xs.clone().fold(F::neg_infinity(), F::max);
    if !m.is_finite() {
        return m;
    }
    m + xs.map(|x| (x - m).exp_pinned()).sum::<F>().ln()
}

/// The class index a target holds: an integer in `0..k`.
pub fn class_index<F: Float>(y: F, k: usize) -> Result<usize> {
    let c = y.to_usize().filter(|&c| c < k && F::of(c as f64) == y);
    c.ok_or_else(|| {
        Error::Data(format!(
            "class label {y} is not an integer in 0..{k} for cross-entropy"
        ))
    })
}

/// One row's term `logsumexp(z) - z[c]`.
#[inline(always)]
pub fn row_term<F: Float>(z: ArrayView1<'_, F>, c: usize) -> F {
    log_sum_exp(z.iter().copied()) - z[c]
}

/// Replaces the logits `z` of one row by `d loss / d z = (softmax(z) - onehot(c)) · scale`
/// (`scale = 1/N`) and returns the row's term.
#[inline(always)]
pub fn row_term_and_grad<F: Float>(mut z: ArrayViewMut1<'_, F>, c: usize, scale: F) -> F {
    let lse = log_sum_exp(z.iter().copied());
    let term = lse - z[c];
    for v in z.iter_mut() {
        *v = (*v - lse).exp_pinned() * scale;
    }
    z[c] -= scale;
    term
}
