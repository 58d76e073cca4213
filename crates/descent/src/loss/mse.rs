//! Mean squared error (`torch.nn.MSELoss`): the element term and its derivative, used by
//! the tape's fused op and by both kernels.
//!
//! # Algorithm
//! ```text
//! loss = mean (p - t)^2          d loss / d p = (p - t) · (2 / N)
//! ```

use crate::Float;

/// `(p - t)^2`, one element's un-normalised term.
#[inline(always)]
pub fn term<F: Float>(p: F, t: F) -> F {
    let d = p - t;
    d * d
}

/// `d loss / d p` of one element, with `scale = 1/N` (torch: `(input - target) * (2 / numel
/// * grad_output)`).
#[inline(always)]
pub fn grad<F: Float>(p: F, t: F, scale: F) -> F {
    (p - t) * (F::of(2.0) * scale)
}
