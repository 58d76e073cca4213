//! Closed-form least squares for a linear model: the point gradient descent on the mean
//! squared error should converge to.

use faer::prelude::*;
use faer::Mat;
use ndarray::{Array2, ArrayView2};

use crate::{Error, Result};

/// The least-squares fit of `y ≈ x Wᵀ + b`.
#[derive(Clone, Debug, PartialEq)]
pub struct LeastSquares {
    /// `[out][in]`, as `torch.nn.Linear.weight` and the `layer0.weight` view.
    pub weight: Vec<Vec<f64>>,
    /// One bias per target, when the model has a bias.
    pub bias: Option<Vec<f64>>,
    /// Mean squared error over all `n x targets` elements (`torch.nn.MSELoss`).
    pub mse: f64,
    /// The numerical rank of the design matrix `A = [x, 1]` (or `x`): its singular values
    /// above `σ_max · max(n, p) · ε`, numpy's `matrix_rank` and `lstsq(rcond=None)` cut-off.
    pub rank: usize,
    /// How the solution was computed.
    pub method: LeastSquaresMethod,
}

/// Which factorization [`normal_equation`] solved with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeastSquaresMethod {
    /// Householder QR: `A` has full column rank and the solution is unique.
    Qr,
    /// Thin SVD pseudo-inverse: `A` is rank deficient or wide, and the solution is the one of
    /// least norm among all least-squares solutions (numpy's `lstsq`).
    SvdMinNorm,
}

impl LeastSquaresMethod {
    /// A short name for reports: `qr` or `svd-min-norm`.
    pub fn name(self) -> &'static str {
        match self {
            LeastSquaresMethod::Qr => "qr",
            LeastSquaresMethod::SvdMinNorm => "svd-min-norm",
        }
    }
}

impl LeastSquares {
    /// The parameters in the flat layout of `ModelKind::Linear` / `LinearNobias`
    /// (`layer0.weight` row-major, then `layer0.bias`).
    pub fn to_flat(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.weight.iter().flatten().copied().collect();
        if let Some(b) = &self.bias {
            v.extend_from_slice(b);
        }
        v
    }
}

/// Solves `min_θ ||A θ - y||²` with `A = [x, 1]` (or `A = x` without bias), one column of
/// `θ` per target column of `y`, for every shape of `A`.
///
/// # Algorithm
/// ```text
/// r = rank(A)            singular values above tol = σ_max · max(n, p) · ε
/// if r = p (tall, full column rank):
///     A = Q R            Householder QR (faer, no pivoting); σ(A) = σ(R)
///     θ = R⁻¹ Qᵀ y       (triangular solve)
/// else (collinear columns, a constant feature beside the bias, or n < p):
///     A = U S Vᵀ         thin SVD
///     θ = V S⁺ Uᵀ y      S⁺ inverts the singular values above tol and zeroes the rest
/// ```
/// The full-rank branch gives the normal-equation solution `θ = (AᵀA)⁻¹ Aᵀ y` without
/// forming `AᵀA`, whose condition number is the square of `A`'s: on raw (unscaled) features
/// QR keeps about twice as many correct digits. When `A` has no full column rank the
/// least-squares solutions form an affine space; the pseudo-inverse picks the one of least
/// norm, as numpy's `lstsq(rcond=None)` does (same cut-off), which is also the point plain
/// gradient descent reaches from a zero start. Singular values below the cut-off are rounding
/// noise: inverting them, as an unpivoted QR does, gives entries of order `1/ε`.
///
/// # Reference
/// Golub & Van Loan, "Matrix Computations", 4th ed., sections 5.3 (the full-rank least
/// squares problem) and 5.5 (the rank-deficient problem, the minimum-norm solution).
pub fn normal_equation(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    bias: bool,
) -> Result<LeastSquares> {
    let (n, d) = x.dim();
    let k = y.ncols();
    if y.nrows() != n {
        return Err(Error::ShapeMismatch {
            op: "normal equation (rows of x vs y)",
            lhs: x.shape().to_vec(),
            rhs: y.shape().to_vec(),
        });
    }
    if n == 0 || d == 0 || k == 0 {
        return Err(Error::Data(format!(
            "least squares needs at least one row, one feature and one target (got {n} rows, \
             {d} features, {k} targets)"
        )));
    }
    let bad = |v: &f64| !v.is_finite();
    if x.iter().any(bad) || y.iter().any(bad) {
        return Err(Error::Data(
            "least squares needs finite features and targets (drop or impute NaN/inf rows)".into(),
        ));
    }
    let p = d + usize::from(bias);
    let a = design(x, bias);
    let rhs = Mat::from_fn(n, k, |i, j| y[[i, j]]);
    let (theta, rank, method) = solve(&a, &rhs)?;
    let weight = (0..k)
        .map(|t| (0..d).map(|j| theta[(j, t)]).collect())
        .collect();
    let bias = bias.then(|| (0..k).map(|t| theta[(p - 1, t)]).collect());
    let residual = &a * &theta - &rhs;
    let sq: f64 = (0..k)
        .flat_map(|j| (0..n).map(move |i| (i, j)))
        .map(|(i, j)| residual[(i, j)].powi(2))
        .sum();
    Ok(LeastSquares {
        weight,
        bias,
        mse: sq / (n * k) as f64,
        rank,
        method,
    })
}

/// The least-squares (minimum-norm when needed) `θ`, the rank of `a` and the method.
fn solve(a: &Mat<f64>, rhs: &Mat<f64>) -> Result<(Mat<f64>, usize, LeastSquaresMethod)> {
    let (n, p) = (a.nrows(), a.ncols());
    let svd_failed = |e| Error::Data(format!("least squares: the SVD did not converge: {e:?}"));
    if n >= p {
        let qr = a.qr();
        let r = qr.thin_R();
        let sigma = r.singular_values().map_err(svd_failed)?;
        let rank = numerical_rank(&sigma, n.max(p));
        if rank == p {
            return Ok((qr.solve_lstsq(rhs), rank, LeastSquaresMethod::Qr));
        }
    }
    let svd = a.thin_svd().map_err(svd_failed)?;
    let sigma: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    let rank = numerical_rank(&sigma, n.max(p));
    // θ = V_r S_r⁻¹ U_rᵀ y over the first `rank` singular triplets.
    let (u, v) = (svd.U(), svd.V());
    let mut uty = u.subcols(0, rank).transpose() * rhs;
    for i in 0..rank {
        for j in 0..uty.ncols() {
            uty[(i, j)] /= sigma[i];
        }
    }
    let theta = v.subcols(0, rank) * &uty;
    Ok((theta, rank, LeastSquaresMethod::SvdMinNorm))
}

/// The count of singular values (non-increasing) above `σ_max · dim · ε`.
fn numerical_rank(sigma: &[f64], dim: usize) -> usize {
    let tol = sigma.first().copied().unwrap_or(0.0) * dim as f64 * f64::EPSILON;
    sigma.iter().filter(|&&s| s > tol).count()
}

/// `[x, 1]` (or `x`) as a faer matrix.
pub(crate) fn design(x: ArrayView2<'_, f64>, bias: bool) -> Mat<f64> {
    let d = x.ncols();
    Mat::from_fn(x.nrows(), d + usize::from(bias), |i, j| {
        if j < d {
            x[[i, j]]
        } else {
            1.0
        }
    })
}

/// `[x, 1]` (or `x`) as an ndarray matrix, for the other analyses.
pub(crate) fn design_array(x: ArrayView2<'_, f64>, bias: bool) -> Array2<f64> {
    let (n, d) = x.dim();
    Array2::from_shape_fn((n, d + usize::from(bias)), |(i, j)| {
        if j < d {
            x[[i, j]]
        } else {
            1.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn exact_fit_recovers_weights_and_bias_for_two_targets() {
        let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 3.0], [4.0, -1.0], [5.0, 2.0]];
        // y0 = 2 x0 - x1 + 3, y1 = 0.5 x1 - 1
        let y = Array2::from_shape_fn((5, 2), |(i, t)| {
            if t == 0 {
                2.0 * x[[i, 0]] - x[[i, 1]] + 3.0
            } else {
                0.5 * x[[i, 1]] - 1.0
            }
        });
        let ls = normal_equation(x.view(), y.view(), true).unwrap();
        let want = [[2.0, -1.0], [0.0, 0.5]];
        for (got, want) in ls.weight.iter().flatten().zip(want.iter().flatten()) {
            assert!((got - want).abs() < 1e-13, "{ls:?}");
        }
        let b = ls.bias.unwrap();
        assert!((b[0] - 3.0).abs() < 1e-13 && (b[1] + 1.0).abs() < 1e-13);
        assert!(ls.mse < 1e-25);
    }

    #[test]
    fn no_bias_fits_the_classic_line() {
        let x = array![[1.0], [2.0], [3.0]];
        let y = array![[2.0], [4.0], [6.0]];
        let ls = normal_equation(x.view(), y.view(), false).unwrap();
        assert!((ls.weight[0][0] - 2.0).abs() < 1e-15);
        assert_eq!(ls.bias, None);
        assert_eq!(ls.to_flat().len(), 1);
    }

    #[test]
    fn duplicated_feature_gives_the_minimum_norm_solution() {
        // y = 1.5 x + 0.25 x' exactly with x' = x: every w0 + w1 = 1.75 fits, and the least
        // norm one splits it evenly; the bias is 0. An unpivoted QR solve of this gives
        // entries of order 1e15.
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]];
        let y = x.column(0).mapv(|v| 1.75 * v).insert_axis(ndarray::Axis(1));
        let ls = normal_equation(x.view(), y.view(), true).unwrap();
        assert_eq!((ls.rank, ls.method), (2, LeastSquaresMethod::SvdMinNorm));
        assert!((ls.weight[0][0] - 0.875).abs() < 1e-14, "{ls:?}");
        assert!((ls.weight[0][1] - 0.875).abs() < 1e-14, "{ls:?}");
        assert!(ls.bias.unwrap()[0].abs() < 1e-14);
        assert!(ls.mse < 1e-28);
    }

    #[test]
    fn wide_problem_interpolates_with_the_least_norm() {
        // One row, two unknowns: x = [3, 4], y = 5; the least-norm w is 5 [3, 4] / 25.
        let x = array![[3.0, 4.0]];
        let y = array![[5.0]];
        let ls = normal_equation(x.view(), y.view(), false).unwrap();
        assert_eq!((ls.rank, ls.method.name()), (1, "svd-min-norm"));
        assert!((ls.weight[0][0] - 0.6).abs() < 1e-15 && (ls.weight[0][1] - 0.8).abs() < 1e-15);
        assert!(ls.mse < 1e-30);
    }

    #[test]
    fn full_rank_keeps_the_qr_path() {
        let x = array![[1.0], [2.0], [4.0]];
        let y = array![[1.0], [2.0], [2.0]];
        let ls = normal_equation(x.view(), y.view(), true).unwrap();
        assert_eq!((ls.rank, ls.method), (2, LeastSquaresMethod::Qr));
    }

    #[test]
    fn non_finite_data_is_an_error() {
        let x = array![[1.0], [f64::NAN]];
        let y = array![[1.0], [2.0]];
        assert!(normal_equation(x.view(), y.view(), true).is_err());
    }
}
