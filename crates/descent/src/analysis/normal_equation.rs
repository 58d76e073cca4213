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
/// `θ` per target column of `y`.
///
/// # Algorithm
/// ```text
/// A = Q R               Householder QR of the n x p design matrix (faer, no pivoting)
/// θ = R⁻¹ Qᵀ y          (triangular solve)
/// ```
/// This gives the normal-equation solution `θ = (AᵀA)⁻¹ Aᵀ y` without forming `AᵀA`, whose
/// condition number is the square of `A`'s: on raw (unscaled) features QR keeps about twice
/// as many correct digits. A rank-deficient `A` (`|R_jj| ≤ p ε max|R_ii|`: a constant or
/// duplicated feature, or fewer rows than columns) is an error rather than a meaningless
/// solution.
///
/// # Reference
/// Golub & Van Loan, "Matrix Computations", 4th ed., section 5.3 (the full-rank least
/// squares problem).
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
    let p = d + usize::from(bias);
    if n < p || d == 0 || k == 0 {
        return Err(Error::Data(format!(
            "least squares needs at least as many rows as unknowns and one feature and target \
             (got {n} rows, {p} unknowns, {k} targets)"
        )));
    }
    let a = design(x, bias);
    let rhs = Mat::from_fn(n, k, |i, j| y[[i, j]]);
    let qr = a.qr();
    check_rank(qr.thin_R())?;
    let theta = qr.solve_lstsq(&rhs);
    let weight = (0..k)
        .map(|t| (0..d).map(|j| theta[(j, t)]).collect())
        .collect();
    let bias = bias.then(|| (0..k).map(|t| theta[(d, t)]).collect());
    let residual = &a * &theta - &rhs;
    let sq: f64 = (0..k)
        .flat_map(|j| (0..n).map(move |i| (i, j)))
        .map(|(i, j)| residual[(i, j)].powi(2))
        .sum();
    Ok(LeastSquares {
        weight,
        bias,
        mse: sq / (n * k) as f64,
    })
}

/// `[x, 1]` (or `x`) as a faer matrix.
fn design(x: ArrayView2<'_, f64>, bias: bool) -> Mat<f64> {
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

fn check_rank(r: MatRef<'_, f64>) -> Result<()> {
    let p = r.ncols();
    let diag: Vec<f64> = (0..p).map(|i| r[(i, i)].abs()).collect();
    let max = diag.iter().copied().fold(0.0, f64::max);
    let tol = p as f64 * f64::EPSILON * max;
    match diag.iter().position(|&v| v.is_nan() || v <= tol) {
        None => Ok(()),
        Some(j) => Err(Error::Data(format!(
            "least squares is rank deficient: column {j} of [X, 1] is (nearly) a combination of \
             the others (a constant or duplicated feature?); drop it or regularise"
        ))),
    }
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
    fn duplicated_feature_is_rank_deficient() {
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]];
        let y = array![[1.0], [2.0], [3.0], [5.0]];
        let e = normal_equation(x.view(), y.view(), true).unwrap_err();
        assert!(e.to_string().contains("rank deficient"), "{e}");
    }
}
