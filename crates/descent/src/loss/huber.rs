//! Huber loss (`torch.nn.HuberLoss`): the element term and its derivative, used by the
//! tape's fused op and by both kernels.
//!
//! # Algorithm
//! ```text
//! d = p - t
//! loss = mean { 0.5 d^2 if |d| < δ; δ (|d| - 0.5 δ) otherwise }
//! d loss / d p = clamp(d, -δ, δ) / N
//! ```
//! # Defaults
//! δ = 1.0.

use crate::Float;

/// One element's term.
#[inline(always)]
pub fn term<F: Float>(p: F, t: F, delta: F) -> F {
    let half = F::of(0.5);
    let d = (p - t).abs();
    if d < delta {
        half * d * d
    } else {
        delta * (d - half * delta)
    }
}

/// `clamp(p - t, -δ, δ) · scale`, with `scale = 1/N`.
#[inline(always)]
pub fn grad<F: Float>(p: F, t: F, delta: F, scale: F) -> F {
    let d = p - t;
    if d < -delta {
        -scale * delta
    } else if d > delta {
        scale * delta
    } else {
        scale * d
    }
}
