//! Newton's method: one step `θ ← θ - H⁻¹ g` in 1-D, 2-D, and for a small model's full
//! Hessian.

use faer::prelude::*;
use faer::Mat;
use ndarray::{Array2, ArrayView2};

use super::loss_and_gradient;
use crate::loss::Loss;
use crate::nn::Sequential;
use crate::objective::{solve2, Objective};
use crate::params::Params;
use crate::{Error, Result};

/// The 1-D Newton step `d = f'(x) / f''(x)`; the new point is `x - d`.
///
/// # Algorithm
/// Minimises the local quadratic model `f(x) + f' t + f'' t²/2` at `t = -f'/f''`. With
/// `f'' < 0` that is a maximum of the model: the step is returned anyway (Newton's method
/// looks for stationary points), so check the sign of `f''` when minimising.
///
/// # Reference
/// Nocedal & Wright, "Numerical Optimization", 2nd ed., section 3.3.
pub fn newton_step_1d(d1: f64, d2: f64) -> Result<f64> {
    let d = d1 / d2;
    if d2 == 0.0 || !d.is_finite() {
        return Err(Error::invalid(
            "second derivative",
            d2,
            "must be non-zero and finite for a Newton step",
        ));
    }
    Ok(d)
}

/// The 2-D Newton step `d` solving `H d = g`; the new point is `p - d`.
///
/// # Algorithm
/// Cramer's rule on the 2 x 2 system; a singular `H` is an error.
pub fn newton_step_2d(g: [f64; 2], h: [[f64; 2]; 2]) -> Result<[f64; 2]> {
    solve2(h, g).ok_or_else(|| {
        Error::invalid(
            "hessian",
            format!("{h:?}"),
            "is singular: no Newton step (try gradient descent or a damped step)",
        )
    })
}

/// The point after one Newton step on `objective` from `p`.
pub fn newton_step_objective(objective: &dyn Objective, p: [f64; 2]) -> Result<[f64; 2]> {
    let d = newton_step_2d(objective.gradient(p), objective.hessian(p))?;
    Ok([p[0] - d[0], p[1] - d[1]])
}

/// The full Hessian of the loss of `model` at `params` on `(x, y)`, by central differences of
/// the autodiff gradient.
///
/// # Algorithm
/// ```text
/// column i:  H[:, i] = (∇L(θ + h e_i) - ∇L(θ - h e_i)) / 2h
/// H ← (H + Hᵀ) / 2
/// ```
/// `2P` backward passes and `P²` memory for `P` parameters: for small models only. For a
/// quadratic loss (least squares) the gradient is linear, so the differences are exact up to
/// rounding whatever `h`.
pub fn model_hessian(
    model: &Sequential,
    loss: Loss,
    params: &Params<f64>,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    h: f64,
) -> Result<Array2<f64>> {
    if !(h.is_finite() && h > 0.0) {
        return Err(Error::invalid("h", h, "must be a positive finite number"));
    }
    let p = params.len();
    let mut hess = Array2::zeros((p, p));
    let mut shifted = params.clone();
    for i in 0..p {
        let orig = params.values[i];
        shifted.values[i] = orig + h;
        let (_, plus) = loss_and_gradient(model, loss, &shifted, x, y)?;
        shifted.values[i] = orig - h;
        let (_, minus) = loss_and_gradient(model, loss, &shifted, x, y)?;
        shifted.values[i] = orig;
        for j in 0..p {
            hess[[j, i]] = (plus[j] - minus[j]) / (2.0 * h);
        }
    }
    let sym = (&hess + &hess.t()) * 0.5;
    Ok(sym)
}

/// The parameters after one Newton step `θ - H⁻¹ ∇L` on the loss of `model` (Hessian from
/// [`model_hessian`] with step `h`).
///
/// # Algorithm
/// `H d = g` is solved by LU with partial pivoting (faer); a singular or indefinite-looking
/// solve that yields non-finite values is an error. On least squares one step from anywhere
/// lands on the normal-equation solution.
pub fn newton_step_model(
    model: &Sequential,
    loss: Loss,
    params: &Params<f64>,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    h: f64,
) -> Result<Params<f64>> {
    let (_, g) = loss_and_gradient(model, loss, params, x, y)?;
    let hess = model_hessian(model, loss, params, x, y, h)?;
    let p = g.len();
    let hm = Mat::from_fn(p, p, |i, j| hess[[i, j]]);
    let gm = Mat::from_fn(p, 1, |i, _| g[i]);
    let d = hm.partial_piv_lu().solve(&gm);
    let mut next = params.clone();
    for (i, v) in next.values.iter_mut().enumerate() {
        *v -= d[(i, 0)];
    }
    if next.values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Data(
            "the Hessian is singular: no Newton step (a constant or duplicated feature?)".into(),
        ));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{Bowl, IllConditioned, Rosenbrock};

    #[test]
    fn one_d_step_solves_a_parabola() {
        // f = 3 (x - 2)², at x = 5: f' = 18, f'' = 6 -> x - 3 = 2.
        assert_eq!(5.0 - newton_step_1d(18.0, 6.0).unwrap(), 2.0);
        assert!(newton_step_1d(1.0, 0.0).is_err());
    }

    #[test]
    fn one_step_reaches_a_quadratic_minimum() {
        for f in [&Bowl as &dyn Objective, &IllConditioned { kappa: 1e4 }] {
            assert_eq!(newton_step_objective(f, [3.0, -2.0]).unwrap(), [0.0, 0.0]);
        }
    }

    #[test]
    fn newton_converges_on_rosenbrock() {
        let f = Rosenbrock::default();
        let mut p = f.default_start();
        for _ in 0..10 {
            p = newton_step_objective(&f, p).unwrap();
        }
        assert!(
            (p[0] - 1.0).abs() < 1e-12 && (p[1] - 1.0).abs() < 1e-12,
            "{p:?}"
        );
    }

    #[test]
    fn singular_hessian_is_an_error() {
        assert!(newton_step_2d([1.0, 1.0], [[1.0, 1.0], [1.0, 1.0]]).is_err());
    }
}
