//! Mean absolute error (`torch.nn.L1Loss`): the element term and its derivative, used by
//! the tape's fused op and by both kernels.
//!
//! # Algorithm
//! ```text
//! loss = mean |p - t|          d loss / d p = sign(p - t) / N   (0 at p = t, as torch)
//! ```

use crate::Float;

/// `|p - t|`.
#[inline(always)]
pub fn term<F: Float>(p: F, t: F) -> F {
    (p - t).abs()
}

/// `sign(p - t) · scale`, with `scale = 1/N`.
#[inline(always)]
pub fn grad<F: Float>(p: F, t: F, scale: F) -> F {
    let d = p - t;
    if d > F::zero() {
        scale
    } else if d < F::zero() {
        -scale
    } else {
        F::zero()
    }
}
