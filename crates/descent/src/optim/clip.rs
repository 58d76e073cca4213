//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.

use crate::Float;

/// Scales `grads` so that their L2 norm is at most `max_norm`; returns the norm before clipping.
///
/// # Algorithm
/// ```text
/// total_norm <- sqrt(sum g^2)
/// clip_coef <- min(max_norm / (total_norm + 1e-6), 1)
/// g <- g * clip_coef
/// ```
/// As in torch the multiplication always happens (by 1 when the norm is small), and a
/// non-finite norm propagates into the gradients rather than being reported.
///
/// # Reference
/// Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural networks" (2013);
/// `torch/nn/utils/clip_grad.py`, `clip_grad_norm_` with `norm_type=2`.
pub fn clip_grad_norm<F: Float>(grads: &mut [F], max_norm: f64) -> f64 {
    // Accumulated in f64 so that f32 gradients get an accurate norm.
    let total_norm = grads.iter().map(|g| g.f64() * g.f64()).sum::<f64>().sqrt();
    // torch: clip_coef = max_norm / (total_norm + 1e-6); torch.clamp(clip_coef, max=1.0)
    let clip_coef = (max_norm / (total_norm + 1e-6)).min(1.0);
    let c = F::of(clip_coef);
    for g in grads.iter_mut() {
        *g *= c;
    }
    total_norm
}

/// Clamps every gradient element into `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`.
pub fn clip_grad_value<F: Float>(grads: &mut [F], clip_value: f64) {
    let hi = F::of(clip_value);
    let lo = -hi;
    for g in grads.iter_mut() {
        *g = g.max(lo).min(hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_clipping_scales_to_max_norm_and_reports_the_old_norm() {
        let mut g = vec![3.0f64, 4.0];
        let norm = clip_grad_norm(&mut g, 1.0);
        assert_eq!(norm, 5.0);
        let coef = 1.0 / (5.0 + 1e-6);
        assert_eq!(g, vec![3.0 * coef, 4.0 * coef]);
    }

    #[test]
    fn norm_clipping_leaves_small_gradients_alone() {
        let mut g = vec![0.3f32, -0.4];
        let norm = clip_grad_norm(&mut g, 1.0);
        assert!((norm - 0.5).abs() < 1e-7);
        assert_eq!(g, vec![0.3f32, -0.4]);
    }

    #[test]
    fn value_clipping_clamps_each_element() {
        let mut g = vec![-2.0f64, -0.5, 0.0, 0.5, 2.0];
        clip_grad_value(&mut g, 1.0);
        assert_eq!(g, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    }
}
