//! Finite-difference gradient check of a model and loss on data: does the autodiff gradient
//! match the numerical derivative of the loss, parameter by parameter?

use ndarray::ArrayView2;

use super::loss_and_gradient;
use crate::loss::Loss;
use crate::nn::evaluate;
use crate::nn::Sequential;
use crate::params::{Layout, Params};
use crate::{Error, Result};

/// Settings of a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckConfig {
    /// The finite-difference step `h`.
    pub h: f64,
    /// Denominator floor of the relative error, so that near-zero gradients are judged by
    /// their absolute error (below the floor, rounding noise `≈ ε |L| / h` dominates).
    pub floor: f64,
    /// The check passes when every element's relative error is at most this.
    pub threshold: f64,
}

impl Default for GradCheckConfig {
    /// `h = 1e-6`, `floor = 1e-4`, `threshold = 1e-5`: in f64 central differences err by
    /// `O(h²) + O(ε/h) ≈ 1e-10` for a smooth loss of order 1, far below the threshold, while a
    /// wrong backward is typically off by a factor.
    fn default() -> Self {
        GradCheckConfig {
            h: 1e-6,
            floor: 1e-4,
            threshold: 1e-5,
        }
    }
}

/// The worst errors within one parameter view.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewError {
    /// `layer0.weight`, `layer0.bias`, ...
    pub name: String,
    pub max_abs: f64,
    pub max_rel: f64,
    /// Flat index (in the whole buffer) of the element with the largest relative error.
    pub worst: usize,
}

/// The result of a gradient check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    pub views: Vec<ViewError>,
    pub max_abs: f64,
    pub max_rel: f64,
    pub threshold: f64,
    pub passed: bool,
}

/// Checks the autodiff gradient of `loss(model(x), y)` at `params` against central
/// differences.
///
/// # Algorithm
/// ```text
/// for every parameter element θ_i:
///     n_i = (L(θ + h e_i) - L(θ - h e_i)) / 2h
///     abs_i = |a_i - n_i|,   rel_i = abs_i / max(|a_i|, |n_i|, floor)
/// pass iff max_i rel_i <= threshold (a NaN anywhere fails)
/// ```
/// It costs `2 P` forward passes for `P` parameters: use a small model and few rows.
///
/// # Reference
/// CS231n, "Gradient checks" (Stanford course notes, neural-networks-3).
pub fn gradcheck(
    model: &Sequential,
    loss: Loss,
    params: &Params<f64>,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    config: &GradCheckConfig,
) -> Result<GradCheck> {
    let (_, analytic) = loss_and_gradient(model, loss, params, x, y)?;
    compare_gradient(&analytic, params, config, |p| {
        evaluate(model, loss, p, x, y)
    })
}

/// Compares any claimed gradient `analytic` of the scalar function `f` at `params` with
/// central differences (the engine of [`gradcheck`], open for testing other gradients).
pub fn compare_gradient(
    analytic: &[f64],
    params: &Params<f64>,
    config: &GradCheckConfig,
    f: impl Fn(&Params<f64>) -> Result<f64>,
) -> Result<GradCheck> {
    if analytic.len() != params.len() {
        return Err(Error::ShapeMismatch {
            op: "gradcheck (gradient vs parameters)",
            lhs: vec![analytic.len()],
            rhs: vec![params.len()],
        });
    }
    if !(config.h.is_finite() && config.h > 0.0) {
        return Err(Error::invalid(
            "h",
            config.h,
            "must be a positive finite number",
        ));
    }
    let mut shifted = params.clone();
    let mut numeric = vec![0.0; params.len()];
    for (i, n) in numeric.iter_mut().enumerate() {
        let orig = params.values[i];
        shifted.values[i] = orig + config.h;
        let plus = f(&shifted)?;
        shifted.values[i] = orig - config.h;
        let minus = f(&shifted)?;
        shifted.values[i] = orig;
        *n = (plus - minus) / (2.0 * config.h);
    }
    Ok(summarise(&params.layout, analytic, &numeric, config))
}

fn summarise(
    layout: &Layout,
    analytic: &[f64],
    numeric: &[f64],
    config: &GradCheckConfig,
) -> GradCheck {
    let views: Vec<ViewError> = layout
        .views()
        .iter()
        .map(|v| {
            let mut e = ViewError {
                name: v.name.clone(),
                max_abs: 0.0,
                max_rel: 0.0,
                worst: v.offset,
            };
            for i in v.range() {
                let (a, n) = (analytic[i], numeric[i]);
                let abs = (a - n).abs();
                let rel = abs / a.abs().max(n.abs()).max(config.floor);
                e.max_abs = nan_max(e.max_abs, abs);
                if rel.is_nan() || rel > e.max_rel {
                    e.worst = i;
                }
                e.max_rel = nan_max(e.max_rel, rel);
            }
            e
        })
        .collect();
    let max_abs = views.iter().fold(0.0, |m, v| nan_max(m, v.max_abs));
    let max_rel = views.iter().fold(0.0, |m, v| nan_max(m, v.max_rel));
    GradCheck {
        views,
        max_abs,
        max_rel,
        threshold: config.threshold,
        passed: max_rel <= config.threshold,
    }
}

/// `max` that propagates NaN (so a NaN error is never hidden).
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Init;
    use ndarray::array;

    #[test]
    fn linear_model_passes_and_a_doubled_gradient_fails() {
        let model = crate::nn::ModelKind::Linear.build(2, 1).unwrap();
        let params = Params::<f64>::init(model.layout(), &Init::Torch { seed: 3 }).unwrap();
        let x = array![[1.0, 2.0], [0.5, -1.0], [-2.0, 0.3]];
        let y = array![[1.0], [0.0], [2.0]];
        let cfg = GradCheckConfig::default();
        let ok = gradcheck(&model, Loss::Mse, &params, x.view(), y.view(), &cfg).unwrap();
        assert!(ok.passed, "{ok:?}");
        let (_, g) = loss_and_gradient(&model, Loss::Mse, &params, x.view(), y.view()).unwrap();
        let doubled: Vec<f64> = g.iter().map(|v| 2.0 * v).collect();
        let bad = compare_gradient(&doubled, &params, &cfg, |p| {
            evaluate(&model, Loss::Mse, p, x.view(), y.view())
        })
        .unwrap();
        assert!(!bad.passed);
        assert!((bad.max_rel - 0.5).abs() < 1e-6, "{bad:?}");
        assert_eq!(bad.views[0].name, "layer0.weight");
    }
}
