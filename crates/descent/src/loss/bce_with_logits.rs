//! Binary cross-entropy on logits (`torch.nn.BCEWithLogitsLoss`): the element term and its
//! derivative, used by the tape's fused op and by both kernels.
//!
//! # Algorithm
//! ```text
//! loss = mean max(z, 0) - z y + log(1 + exp(-|z|))      (stable: no log(sigmoid))
//! d loss / d z = (σ(z) - y) / N,   σ(z) = 1 / (1 + exp(-z))   (torch's sigmoid)
//! ```
//! [`term_and_grad`] computes both from one exponential, for the per-row kernel; its
//! sigmoid is `e/(1+e)` below zero (`e = exp(-|z|)`), which can differ from torch's
//! `1/(1+exp(-z))` in the last bits (tested: within 4 ε relative). Every `exp` here is
//! [`Float::exp_pinned`], as every `log(1 + ·)` is [`Float::log1p`].

use crate::Float;

/// `1 / (1 + exp(-x))`, as torch computes it.
#[inline(always)]
pub fn sigmoid<F: Float>(x: F) -> F {
    F::one() / (F::one() + (-x).exp_pinned())
}

/// One element's term `max(z, 0) - z y + log(1 + exp(-|z|))` (`log(1 + ·)` is
/// [`Float::log1p`], the same bits on every machine).
#[inline(always)]
pub fn term<F: Float>(z: F, y: F) -> F {
    z.max(F::zero()) - z * y + (-z.abs()).exp_pinned().log1p()
}

/// `(σ(z) - y) · scale`, with `scale = 1/N`.
#[inline(always)]
pub fn grad<F: Float>(z: F, y: F, scale: F) -> F {
    (sigmoid(z) - y) * scale
}

/// [`term`] (bit for bit) and the derivative from one exponential: with `e = exp(-|z|)`,
/// `log(1 + exp(-|z|)) = log1p(e)` and `σ(z) = 1/(1+e)` for `z ≥ 0`, `e/(1+e)` below (one
/// division for both signs, no branch on the sign of a logit).
#[inline(always)]
pub fn term_and_grad<F: Float>(z: F, y: F, scale: F) -> (F, F) {
    let (part, e, dz) = parts(z, y, scale);
    (part + e.log1p(), dz)
}

/// [`term_and_grad`] with the term in two parts, `max(z, 0) - z y` and `e = exp(-|z|)`:
/// the term is `part + e.log1p()`, which a kernel may compute for many rows at once.
///
/// `e` is in `[0, 1]` unless `z` is NaN, and then `part` is NaN too: the term is finite
/// exactly when `part` is.
#[inline(always)]
pub fn parts<F: Float>(z: F, y: F, scale: F) -> (F, F, F) {
    parts_given(z, y, scale, (-z.abs()).exp_pinned())
}

/// [`parts`] given `e = exp(-|z|)` ([`Float::exp_pinned`]'s bits), for a kernel that
/// inlines the exponential.
#[inline(always)]
pub fn parts_given<F: Float>(z: F, y: F, scale: F, e: F) -> (F, F, F) {
    let part = z.max(F::zero()) - z * y;
    let sigmoid = if z >= F::zero() { F::one() } else { e } / (F::one() + e);
    (part, e, (sigmoid - y) * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_exponential_form_equals_the_tape_form() {
        let mut worst = 0.0f64;
        for i in -4000..=4000 {
            let z = i as f64 / 97.0;
            for y in [0.0, 1.0] {
                let (t, g) = term_and_grad(z, y, 0.25);
                assert_eq!(t.to_bits(), term(z, y).to_bits(), "term at {z}");
                let reference = grad(z, y, 0.25);
                let close = (g - reference).abs() <= 4.0 * f64::EPSILON * reference.abs();
                assert!(close, "grad at {z}, {y}: {g} vs {reference}");
                worst = worst.max((g - reference).abs() / reference.abs().max(f64::MIN_POSITIVE));
            }
        }
        // Not bit for bit: the two forms round differently below zero.
        assert!(worst > 0.0);
    }
}
