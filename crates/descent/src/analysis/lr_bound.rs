//! The stable learning-rate range of plain gradient descent on least squares, from the extreme
//! eigenvalues of the mean-squared-error Hessian.
//!
//! Superseded by [`curvature`] (the spectrum, with unknowns as
//! `None` and any target count) and [`stable_lr`](super::bounds::stable_lr) (every SGD form):
//! [`lr_bound`] is kept for its callers and now computes through them.

use ndarray::{Array1, Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::curvature::{curvature, CurvatureConfig, DENSE_LIMIT};
use super::normal_equation::design_array;
use crate::{Error, Result};

/// Lanczos steps [`lr_bound`] allows at most, whatever `max_iter` says (each step stores a
/// vector of the parameter count).
const LANCZOS_STEPS: usize = 1000;

/// Settings of the iterations behind [`lr_bound`], which only iterates above
/// [`DENSE_LIMIT`] parameters (Lanczos, see [`curvature`]); below, the eigenvalues are exact.
/// [`power_iteration`] takes them as they read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerIteration {
    /// Iterations per eigenvalue at most ([`lr_bound`]: Lanczos steps, at most 1000).
    pub max_iter: usize,
    /// [`power_iteration`]: stop when the Rayleigh quotient changes by at most `tol` times its
    /// size. [`lr_bound`]: the Lanczos residual tolerance relative to the eigenvalue.
    pub tol: f64,
    /// Seed of the (deterministic) random start vector.
    pub seed: u64,
}

impl Default for PowerIteration {
    /// 1 000 000 iterations, `tol = 1e-15`, seed 0.
    fn default() -> Self {
        PowerIteration {
            max_iter: 1_000_000,
            tol: 1e-15,
            seed: 0,
        }
    }
}

/// The learning-rate bound of least squares and the eigenvalues behind it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrBound {
    /// Largest eigenvalue of `H = 2 AᵀA / n`.
    pub lambda_max: f64,
    /// Smallest eigenvalue of `H` (`0` when `H` is singular); NaN when the iteration did not
    /// converge to it (see `converged`), never an estimate.
    pub lambda_min: f64,
    /// `2 / λ_max`: plain gradient descent diverges for any larger learning rate.
    pub lr_max_stable: f64,
    /// `2 / (λ_min + λ_max)`: the rate with the fastest worst-case convergence (NaN when
    /// `λ_min` is unknown).
    pub lr_best: f64,
    /// `κ = λ_max / λ_min` (infinite when `H` is singular, NaN when `λ_min` is unknown).
    pub condition_number: f64,
    /// Whether `λ_min` is known: always below [`DENSE_LIMIT`] parameters; above, whether
    /// Lanczos met its residual test within `max_iter` steps.
    pub converged: bool,
}

/// The Hessian `H = 2 AᵀA / n` of `MSE(θ) = mean_i (A θ - y)_i²`, `A = [x, 1]` with bias.
pub fn mse_hessian(x: ArrayView2<'_, f64>, bias: bool) -> Array2<f64> {
    let a = design_array(x, bias);
    let n = a.nrows().max(1) as f64;
    a.t().dot(&a) * (2.0 / n)
}

/// The stable learning rates of plain gradient descent on least squares with features `x`.
///
/// Superseded by [`curvature`] + [`stable_lr`](super::bounds::stable_lr), which cover
/// momentum, Nesterov, dampening, weight decay and several targets, and keep an unknown
/// `λ_min` as `None`.
///
/// # Algorithm
/// For one target, `MSE(θ) = (1/n) ||A θ - y||²` is a quadratic with constant Hessian
/// `H = 2 AᵀA / n` (positive semi-definite). Gradient descent `θ ← θ - lr ∇MSE` moves the
/// error `e = θ - θ*` by `e ← (I - lr H) e`, i.e. each eigen-component by `1 - lr λ_i`. So it
/// **diverges iff `lr > 2 / λ_max(H)`** (for a start with a component along the top
/// eigenvector; at exactly `2/λ_max` that component oscillates without shrinking), converges
/// for `0 < lr < 2/λ_max`, and the worst-case rate `max_i |1 - lr λ_i|` is smallest,
/// `(κ - 1)/(κ + 1)`, at `lr = 2/(λ_min + λ_max)`.
///
/// The eigenvalues come from [`curvature`] with one target (exact singular values of `[x, 1]`
/// up to [`DENSE_LIMIT`] parameters, Lanczos with `opts` above; the earlier shifted power
/// iteration for `λ_min` stalled on ill-conditioned data, off by orders of magnitude on
/// unscaled breast_cancer).
/// With several targets and `torch.nn.MSELoss` (mean over all `n x k` elements) the Hessian
/// per target is `H / k`, so every learning rate here scales by `k`.
///
/// # Reference
/// Y. LeCun, L. Bottou, G. Orr, K.-R. Müller, "Efficient BackProp" (1998), section 5;
/// Golub & Van Loan, "Matrix Computations", sections 8.6 (the SVD) and 10.1 (Lanczos).
pub fn lr_bound(x: ArrayView2<'_, f64>, bias: bool, opts: &PowerIteration) -> Result<LrBound> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::Data(
            "lr bound needs at least one row and one feature".into(),
        ));
    }
    let config = CurvatureConfig {
        dense_limit: DENSE_LIMIT,
        max_iter: opts.max_iter.min(LANCZOS_STEPS),
        tol: opts.tol,
        seed: opts.seed,
    };
    let c = curvature(x, bias, 1, &config)?;
    let lambda_max = c.lambda_max;
    if !(lambda_max.is_finite() && lambda_max > 0.0) {
        return Err(Error::Data(format!(
            "the Hessian's largest eigenvalue is {lambda_max}: all features are zero or not finite"
        )));
    }
    let (lambda_min, condition_number) = match (c.lambda_min, c.condition_number) {
        (Some(l), Some(k)) => (l, k),
        _ => (f64::NAN, f64::NAN),
    };
    Ok(LrBound {
        lambda_max,
        lambda_min,
        lr_max_stable: 2.0 / lambda_max,
        lr_best: 2.0 / (lambda_min + lambda_max),
        condition_number,
        converged: c.converged,
    })
}

/// The dominant eigenvalue of the symmetric positive semi-definite `m` by the power method;
/// returns the Rayleigh quotient and whether it converged.
pub fn power_iteration(m: &Array2<f64>, opts: &PowerIteration) -> (f64, bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut v: Array1<f64> = Array1::from_shape_fn(m.nrows(), |_| rng.random_range(-1.0..1.0));
    let mut rayleigh = 0.0;
    for _ in 0..opts.max_iter {
        let norm: f64 = v.dot(&v).sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return (0.0, norm == 0.0);
        }
        v /= norm;
        let w = m.dot(&v);
        let next = v.dot(&w);
        let done = (next - rayleigh).abs() <= opts.tol * next.abs();
        rayleigh = next;
        v = w;
        if done {
            return (rayleigh, true);
        }
    }
    (rayleigh, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn diagonal_case_has_known_eigenvalues() {
        // XᵀX = diag(9, 1, 4), n = 3, so H = 2 XᵀX / n = diag(6, 2/3, 8/3).
        let x = array![[3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]];
        let b = lr_bound(x.view(), false, &PowerIteration::default()).unwrap();
        assert!(b.converged);
        assert!((b.lambda_max - 6.0).abs() < 1e-12, "{b:?}");
        assert!((b.lambda_min - 2.0 / 3.0).abs() < 1e-12, "{b:?}");
        assert!((b.lr_max_stable - 1.0 / 3.0).abs() < 1e-12);
        assert!((b.lr_best - 2.0 / (6.0 + 2.0 / 3.0)).abs() < 1e-12);
        assert!((b.condition_number - 9.0).abs() < 1e-10);
    }

    #[test]
    fn an_unconverged_lambda_min_is_nan_not_an_estimate() {
        // Above DENSE_LIMIT parameters, with a separated λ_max and the rest spread over six
        // decades: 20 Lanczos steps find λ_max but not λ_min.
        let p = DENSE_LIMIT + 1;
        let x = Array2::from_shape_fn((p, p), |(i, j)| match (i, j) {
            (0, 0) => 10.0,
            _ if i == j => 10f64.powf(-3.0 * i as f64 / p as f64),
            _ => 0.0,
        });
        let opts = PowerIteration {
            max_iter: 20,
            tol: 1e-10,
            seed: 0,
        };
        let b = lr_bound(x.view(), false, &opts).unwrap();
        assert!(!b.converged);
        assert!((b.lambda_max - 200.0 / p as f64).abs() < 1e-12, "{b:?}");
        assert!(b.lambda_min.is_nan() && b.condition_number.is_nan() && b.lr_best.is_nan());
    }

    #[test]
    fn gradient_descent_diverges_just_above_the_bound_and_not_below() {
        let x = array![[1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]];
        let y = array![1.0, 2.0, 0.0, -1.0];
        let b = lr_bound(x.view(), true, &PowerIteration::default()).unwrap();
        let a = design_array(x.view(), true);
        let run = |lr: f64| {
            let mut th = Array1::<f64>::zeros(3);
            for _ in 0..3000 {
                let r = a.dot(&th) - &y;
                th = &th - &(a.t().dot(&r) * (2.0 * lr / 4.0));
            }
            (a.dot(&th) - &y).mapv(|e| e * e).mean().unwrap()
        };
        assert!(run(0.99 * b.lr_max_stable).is_finite());
        assert!(run(0.99 * b.lr_max_stable) < 10.0);
        let above = run(1.01 * b.lr_max_stable);
        assert!(!above.is_finite() || above > 1e6, "{above}");
    }
}
