//! The curvature of least squares: the extreme eigenvalues, rank and condition number of the
//! Hessian of the mean squared error of a linear model, the numbers that decide how large a
//! learning rate gradient descent can take and how fast it converges.

use faer::{Mat, Side};
use ndarray::{s, Array1, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::normal_equation::design;
use crate::{Error, Result};

/// Above this many parameters per target the eigenvalues come from Lanczos iterations rather
/// than a dense decomposition.
pub const DENSE_LIMIT: usize = 2048;

/// How the eigenvalues were computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurvatureMethod {
    /// All singular values of the design matrix (faer's SVD): exact to rounding.
    Dense,
    /// Lanczos iterations on `v ↦ H v`, with a residual test per eigenvalue.
    Iterative,
}

/// Settings of [`curvature`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvatureConfig {
    /// Largest parameter count per target (`features + bias`) decomposed densely.
    pub dense_limit: usize,
    /// Lanczos steps at most (each stores one vector of the block size).
    pub max_iter: usize,
    /// An eigenvalue `θ` of the Lanczos tridiagonal counts as converged when its residual
    /// `‖H y - θ y‖` is at most `tol · θ` (or at most the rank tolerance, see [`curvature`]).
    pub tol: f64,
    /// Seed of the (deterministic) random Lanczos start vector.
    pub seed: u64,
}

impl Default for CurvatureConfig {
    /// `dense_limit` [`DENSE_LIMIT`], 300 Lanczos steps, `tol = 1e-10`, seed 0.
    fn default() -> Self {
        CurvatureConfig {
            dense_limit: DENSE_LIMIT,
            max_iter: 300,
            tol: 1e-10,
            seed: 0,
        }
    }
}

/// The spectrum of the least-squares Hessian, as far as it is known.
///
/// What an iteration could not determine is `None`, never a number: `lambda_min`,
/// `condition_number` and `rank` are all `Some` on the dense path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curvature {
    /// The largest eigenvalue of `H`.
    pub lambda_max: f64,
    /// The smallest eigenvalue of `H`; exactly `0.0` when `H` is singular (rank below
    /// `n_params`); `None` when the iteration did not converge to it.
    pub lambda_min: Option<f64>,
    /// The smallest eigenvalue above the rank tolerance: the curvature that sets the rate at
    /// which the loss (not the parameters) converges when `H` is singular. `None` when unknown.
    pub lambda_min_nonzero: Option<f64>,
    /// `κ = λ_max / λ_min`, `f64::INFINITY` when `H` is singular, `None` when unknown.
    pub condition_number: Option<f64>,
    /// The number of eigenvalues above the rank tolerance, `None` when unknown.
    pub rank: Option<usize>,
    /// Parameters of the model: `targets · (features + bias)`, the size of `H`.
    pub n_params: usize,
    /// How the eigenvalues were computed.
    pub method: CurvatureMethod,
    /// Whether `lambda_min` is known (always on the dense path).
    pub converged: bool,
}

impl Curvature {
    /// `Some(true)` when `H` is singular (`κ = ∞`), `None` when that is unknown.
    pub fn is_singular(&self) -> Option<bool> {
        self.condition_number.map(f64::is_infinite)
    }
}

/// The curvature of `MSELoss()` for `torch.nn.Linear(features, targets)` on the rows of `x`.
///
/// # Algorithm
/// With `A = [x, 1]` (or `A = x` without bias), `n` rows and `k` targets, the loss
/// `(1/(n k)) Σ_t ‖A θ_t - y_t‖²` is a quadratic whose Hessian is block diagonal in torch's
/// parameter layout: `k` identical blocks (one per output)
/// ```text
/// H_block = 2 AᵀA / (n k)       (the mean over n·k elements; `mse_hessian` is k = 1)
/// ```
/// so each eigenvalue of a block is an eigenvalue of `H` with multiplicity `k`.
///
/// - **Dense** (block size `p ≤ dense_limit`): the singular values `σ_i` of `A` (faer's SVD,
///   which starts with a QR of a tall `A`) give `λ_i = 2 σ_i² / (n k)`, plus `p - n` zeros
///   when `A` is wide. Working on `A` rather than on `AᵀA` keeps the small eigenvalues
///   accurate: an eigensolver on `H` has an absolute error of about `p ε λ_max`, which on
///   unscaled data (κ ~ 1e12) is the size of `λ_min` itself; the SVD's error in `σ_min` is
///   `≈ ε σ_max`, i.e. a relative error of about `√κ ε` in `λ_min`.
/// - **Iterative** (`p > dense_limit`): Lanczos with full reorthogonalization on
///   `v ↦ 2 Aᵀ(A v) / (n k)` from a seeded random start; the eigenvalues `θ` of the tridiagonal
///   (faer's self-adjoint eigensolver) with residuals `|β_m s_m|`. `λ_max` must converge
///   (`residual ≤ tol · θ`; else an error); `λ_min` converges when `residual ≤ tol · θ` or
///   `residual ≤` the rank tolerance; otherwise `lambda_min`, `condition_number` and `rank`
///   are `None`. As with any Krylov method, an eigenvalue whose eigenvector is absent from the
///   random start is not seen.
///
/// **Rank** is the count of eigenvalues above `λ_max · n_params · ε`, numpy's `matrix_rank`
/// tolerance (`S.max() · max(M, N) · eps`) for `H`; on the dense path it is computed from the
/// singular values with `σ_max · max(n, p) · ε` (`matrix_rank(A)`), the better-determined
/// test, times `k`. A rank below `n_params` makes `H` singular: `lambda_min = 0` and
/// `κ = ∞`.
///
/// # Reference
/// Golub & Van Loan, "Matrix Computations", 4th ed., sections 8.6 (the SVD and rank) and 10.1
/// (the Lanczos process); numpy's `matrix_rank`.
pub fn curvature(
    x: ArrayView2<'_, f64>,
    bias: bool,
    targets: usize,
    config: &CurvatureConfig,
) -> Result<Curvature> {
    let (n, d) = x.dim();
    let p = d + usize::from(bias);
    if n == 0 || p == 0 || targets == 0 {
        return Err(Error::Data(format!(
            "curvature needs at least one row, one parameter and one target (got {n} rows, \
             {p} parameters per target, {targets} targets)"
        )));
    }
    if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::Data(format!(
            "feature ({i}, {j}) is {v}: the curvature needs finite features"
        )));
    }
    let scale = 2.0 / (n * targets) as f64;
    if p <= config.dense_limit {
        dense(x, bias, targets, scale)
    } else {
        lanczos(x, bias, targets, scale, config)
    }
}

fn dense(x: ArrayView2<'_, f64>, bias: bool, k: usize, scale: f64) -> Result<Curvature> {
    let a = design(x, bias);
    let (n, p) = (a.nrows(), a.ncols());
    let sigma = a
        .singular_values()
        .map_err(|e| Error::Data(format!("the SVD of the design matrix failed: {e:?}")))?;
    let sigma_max = sigma.first().copied().unwrap_or(0.0);
    let tol = sigma_max * n.max(p) as f64 * f64::EPSILON;
    let rank = sigma.iter().filter(|&&s| s > tol).count();
    let lambda_max = scale * sigma_max * sigma_max;
    let lambda_min_nonzero = rank.checked_sub(1).map(|r| scale * sigma[r] * sigma[r]);
    Ok(summarize(
        lambda_max,
        lambda_min_nonzero,
        rank == p,
        Some(rank * k),
        k * p,
        CurvatureMethod::Dense,
    ))
}

/// Assembles a known spectrum: `full_rank` decides between `κ = λ_max / λ_min` and `∞`.
fn summarize(
    lambda_max: f64,
    lambda_min_nonzero: Option<f64>,
    full_rank: bool,
    rank: Option<usize>,
    n_params: usize,
    method: CurvatureMethod,
) -> Curvature {
    let (lambda_min, condition_number) = match lambda_min_nonzero {
        Some(l) if full_rank => (l, lambda_max / l),
        _ => (0.0, f64::INFINITY),
    };
    Curvature {
        lambda_max,
        lambda_min: Some(lambda_min),
        lambda_min_nonzero,
        condition_number: Some(condition_number),
        rank,
        n_params,
        method,
        converged: true,
    }
}

/// `H_block v = scale · Aᵀ(A v)` without forming `A`.
fn apply(x: ArrayView2<'_, f64>, bias: bool, scale: f64, v: &Array1<f64>) -> Array1<f64> {
    let d = x.ncols();
    let mut av = x.dot(&v.slice(s![..d]));
    if bias {
        av += v[d];
    }
    let mut out = Array1::zeros(v.len());
    out.slice_mut(s![..d]).assign(&(x.t().dot(&av) * scale));
    if bias {
        out[d] = av.sum() * scale;
    }
    out
}

/// Extreme Ritz values of a Lanczos run: `(θ, residual)` for the largest and the smallest.
struct Ritz {
    max: (f64, f64),
    min: (f64, f64),
}

fn ritz(alpha: &[f64], beta: &[f64]) -> Result<Ritz> {
    let m = alpha.len();
    let t = Mat::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i == j + 1 {
            beta[j]
        } else if j == i + 1 {
            beta[i]
        } else {
            0.0
        }
    });
    let evd = t
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Data(format!("the Lanczos tridiagonal eigensolver failed: {e:?}")))?;
    let (s, u) = (evd.S().column_vector(), evd.U());
    // `beta[m - 1]` couples the next Lanczos vector: the residual of Ritz pair i is
    // |beta_m · u[m-1, i]| (Golub & Van Loan, eq. 10.1.7).
    let next = beta.get(m - 1).copied().unwrap_or(0.0);
    let pair = |i: usize| (s[i], (next * u[(m - 1, i)]).abs());
    Ok(Ritz {
        max: pair(m - 1),
        min: pair(0),
    })
}

fn lanczos(
    x: ArrayView2<'_, f64>,
    bias: bool,
    k: usize,
    scale: f64,
    config: &CurvatureConfig,
) -> Result<Curvature> {
    let p = x.ncols() + usize::from(bias);
    let n_params = k * p;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut q: Array1<f64> = Array1::from_shape_fn(p, |_| rng.random_range(-1.0..1.0));
    q /= q.dot(&q).sqrt();
    let mut basis: Vec<Array1<f64>> = Vec::new();
    let (mut alpha, mut beta) = (Vec::new(), Vec::new());
    // A wide block has at least p - n zero eigenvalues: only λ_max is needed.
    let wide = x.nrows() < p;
    let steps = config.max_iter.clamp(1, p);
    for j in 0..steps {
        let mut w = apply(x, bias, scale, &q);
        alpha.push(q.dot(&w));
        basis.push(q);
        // Full reorthogonalization, applied twice (Kahan: "twice is enough").
        for _ in 0..2 {
            for v in &basis {
                let c = v.dot(&w);
                w.scaled_add(-c, v);
            }
        }
        let b = w.dot(&w).sqrt();
        beta.push(b);
        // An invariant Krylov subspace: its Ritz values are exact eigenvalues.
        let top = alpha.iter().fold(0.0, |a: f64, v| a.max(v.abs()));
        if j + 1 == steps || !b.is_finite() || b <= n_params as f64 * f64::EPSILON * top {
            break;
        }
        if (j + 1) % 10 == 0 {
            let (max_ok, min_ok) = converged(&ritz(&alpha, &beta)?, n_params, config.tol);
            if max_ok && (min_ok || wide) {
                break;
            }
        }
        q = w / b;
    }
    let r = ritz(&alpha, &beta)?;
    let (max_ok, min_ok) = converged(&r, n_params, config.tol);
    let lambda_max = r.max.0;
    if !max_ok {
        return Err(Error::Data(format!(
            "Lanczos did not find λ_max of the Hessian in {} steps (residual {:.3e} for θ = \
             {lambda_max:.6e}); raise max_iter or tol",
            alpha.len(),
            r.max.1
        )));
    }
    let rank_tol = lambda_max * n_params as f64 * f64::EPSILON;
    let method = CurvatureMethod::Iterative;
    if wide {
        return Ok(summarize(lambda_max, None, false, None, n_params, method));
    }
    if !min_ok {
        return Ok(Curvature {
            lambda_max,
            lambda_min: None,
            lambda_min_nonzero: None,
            condition_number: None,
            rank: None,
            n_params,
            method,
            converged: false,
        });
    }
    // A converged smallest Ritz value above the rank tolerance means every eigenvalue is;
    // below it, H is singular and Lanczos (which sees each distinct eigenvalue once) cannot
    // count the zero eigenvalues nor tell the smallest non-zero one.
    let full_rank = r.min.0 > rank_tol;
    Ok(summarize(
        lambda_max,
        full_rank.then_some(r.min.0),
        full_rank,
        full_rank.then_some(n_params),
        n_params,
        method,
    ))
}

/// Whether the largest and the smallest Ritz values have met their residual tests.
fn converged(r: &Ritz, n_params: usize, tol: f64) -> (bool, bool) {
    let floor = r.max.0 * n_params as f64 * f64::EPSILON;
    let ok = |(theta, res): (f64, f64)| res <= (tol * theta.abs()).max(floor);
    (ok(r.max), ok(r.min))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    fn iterative(max_iter: usize) -> CurvatureConfig {
        CurvatureConfig {
            dense_limit: 0,
            max_iter,
            ..CurvatureConfig::default()
        }
    }

    #[test]
    fn diagonal_case_with_targets() {
        // XᵀX = diag(9, 1, 4), n = 3, k = 2: H blocks = 2 XᵀX / 6 = diag(3, 1/3, 4/3).
        let x = array![[3.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]];
        for config in [CurvatureConfig::default(), iterative(50)] {
            let c = curvature(x.view(), false, 2, &config).unwrap();
            assert!((c.lambda_max - 3.0).abs() < 1e-14, "{c:?}");
            assert!((c.lambda_min.unwrap() - 1.0 / 3.0).abs() < 1e-14, "{c:?}");
            assert!((c.condition_number.unwrap() - 9.0).abs() < 1e-12, "{c:?}");
            assert_eq!((c.rank, c.n_params, c.converged), (Some(6), 6, true));
        }
    }

    #[test]
    fn singular_hessian_has_infinite_condition_number() {
        // Column 2 = column 0 + column 1: rank 2 of 3 (plus the bias: rank 3 of 4).
        let x = array![
            [1.0, 0.0, 1.0],
            [0.0, 1.0, 1.0],
            [2.0, 1.0, 3.0],
            [1.0, 3.0, 4.0],
            [-1.0, 2.0, 1.0]
        ];
        for config in [CurvatureConfig::default(), iterative(50)] {
            let c = curvature(x.view(), true, 1, &config).unwrap();
            assert_eq!(c.lambda_min, Some(0.0), "{c:?}");
            assert_eq!(c.condition_number, Some(f64::INFINITY));
            assert_eq!(c.is_singular(), Some(true));
            assert!(c.converged);
            if c.method == CurvatureMethod::Dense {
                assert_eq!(c.rank, Some(3));
                assert!(c.lambda_min_nonzero.unwrap() > 1e-3);
            }
        }
        // Wide: 2 rows, 4 parameters.
        let wide = array![[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]];
        let c = curvature(wide.view(), true, 1, &CurvatureConfig::default()).unwrap();
        assert_eq!((c.rank, c.lambda_min), (Some(2), Some(0.0)));
    }

    #[test]
    fn lanczos_that_runs_out_of_steps_reports_no_lambda_min() {
        // 40 parameters: a separated λ_max (100 / 20) and the rest spread over six decades
        // below 1 / 20: 10 steps find λ_max but not λ_min, which must then be unknown rather
        // than a number.
        let p = 40;
        let x = Array2::from_shape_fn((p, p), |(i, j)| match (i, j) {
            (0, 0) => 10.0,
            _ if i == j => 10f64.powf(-3.0 * i as f64 / p as f64),
            _ => 0.0,
        });
        let c = curvature(x.view(), false, 1, &iterative(10));
        let c = match c {
            Ok(c) => c,
            Err(e) => panic!("λ_max should converge in 10 steps: {e}"),
        };
        assert_eq!(c.method, CurvatureMethod::Iterative);
        assert!(!c.converged);
        assert_eq!(
            (c.lambda_min, c.condition_number, c.rank),
            (None, None, None)
        );
        assert_eq!(c.is_singular(), None);
        let dense = curvature(x.view(), false, 1, &CurvatureConfig::default()).unwrap();
        let full = curvature(x.view(), false, 1, &iterative(40)).unwrap();
        assert!(full.converged, "{full:?}");
        let rel = |a: f64, b: f64| (a - b).abs() / b;
        assert!(rel(full.lambda_min.unwrap(), dense.lambda_min.unwrap()) < 1e-9);
        assert!(rel(c.lambda_max, dense.lambda_max) < 1e-10);
        // Too few steps for λ_max itself: an error that says what to change.
        let e = curvature(x.view(), false, 1, &iterative(2)).unwrap_err();
        assert!(e.to_string().contains("raise max_iter"), "{e}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let x = array![[1.0], [f64::NAN]];
        assert!(curvature(x.view(), true, 1, &CurvatureConfig::default()).is_err());
        let empty = Array2::<f64>::zeros((0, 2));
        assert!(curvature(empty.view(), true, 1, &CurvatureConfig::default()).is_err());
        let x = array![[1.0]];
        assert!(curvature(x.view(), true, 0, &CurvatureConfig::default()).is_err());
    }
}
