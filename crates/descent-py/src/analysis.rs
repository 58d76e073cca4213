//! `descent.analyze`, `descent.lr_find`, `descent.gradcheck`: the library's analyses on
//! arrays, on the data as a run with the same parameters would see it (scaled, split).

use descent::analysis::{
    curvature, gradcheck as check_gradient, lr_range_test_model, normal_equation, optimal_gd,
    optimal_heavy_ball, stable_lr_of, CurvatureConfig, GradCheckConfig, LrRangeConfig, Spectrum,
    StableLr,
};
use descent::nn::ModelKind;
use descent::{Run, RunSpec};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::PyError;
use crate::fit::dataset;
use crate::params::run_spec;

/// The run the estimator parameters describe, built on `x`, `y` (not trained).
fn run_on(
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    params: &Bound<'_, PyDict>,
    classes: Option<Vec<String>>,
) -> PyResult<(RunSpec, Run<f64>)> {
    let spec = run_spec(params, "X, y")?;
    let data = dataset(x, y, classes, None, None)?;
    let run = Run::<f64>::from_dataset(spec.clone(), data).map_err(PyError)?;
    Ok((spec, run))
}

/// Curvature of the least-squares problem on the scaled features, the largest stable
/// learning rate of the optimizer, the optimal fixed step and heavy ball, and the
/// least-squares solution.
#[pyfunction]
#[pyo3(signature = (x, y, params, classes=None))]
pub fn analyze<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    params: &Bound<'py, PyDict>,
    classes: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (spec, run) = run_on(x, y, params, classes)?;
    let bias = !matches!(spec.model, ModelKind::LinearNobias);
    let (xs, ys) = (run.train_set.x.view(), run.train_set.y.view());
    let c = curvature(xs, bias, ys.ncols(), &CurvatureConfig::default()).map_err(PyError)?;
    let out = PyDict::new(py);
    let curv = PyDict::new(py);
    curv.set_item("lambda_max", c.lambda_max)?;
    curv.set_item("lambda_min", c.lambda_min)?;
    curv.set_item("lambda_min_nonzero", c.lambda_min_nonzero)?;
    curv.set_item("condition_number", c.condition_number)?;
    curv.set_item("rank", c.rank)?;
    curv.set_item("n_params", c.n_params)?;
    out.set_item("curvature", curv)?;
    let bounds = PyDict::new(py);
    bounds.set_item(
        "optimizer",
        spec.optimizer.canonical_name().map_err(PyError)?,
    )?;
    match stable_lr_of(&spec.optimizer, &c).map_err(PyError)? {
        StableLr::Bound(b) => bounds.set_item("max_stable_lr", b)?,
        StableLr::Unstable { reason } => {
            bounds.set_item("max_stable_lr", py.None())?;
            bounds.set_item("reason", reason)?;
        }
        StableLr::NotApplicable { reason } => {
            bounds.set_item("max_stable_lr", py.None())?;
            bounds.set_item("reason", reason)?;
        }
    }
    bounds.set_item("lr", spec.lr().map_err(PyError)?)?;
    out.set_item("bounds", bounds)?;
    let optima = PyDict::new(py);
    if let Some(low) = c.lambda_min_nonzero {
        if let Ok(s) = Spectrum::new(low, c.lambda_max) {
            let gd = optimal_gd(&s);
            let hb = optimal_heavy_ball(&s);
            optima.set_item("gd_lr", gd.lr)?;
            optima.set_item("gd_rate", gd.rate)?;
            optima.set_item("heavy_ball_lr", hb.lr)?;
            optima.set_item("heavy_ball_momentum", hb.momentum)?;
            optima.set_item("heavy_ball_rate", hb.rate)?;
        }
    }
    out.set_item("optima", optima)?;
    if let Ok(ls) = normal_equation(xs, ys, bias) {
        let d = PyDict::new(py);
        d.set_item("weight", ls.weight)?;
        d.set_item("bias", ls.bias)?;
        d.set_item("mse", ls.mse)?;
        d.set_item("rank", ls.rank)?;
        out.set_item("least_squares", d)?;
    }
    Ok(out)
}

/// The learning-rate range test: one full-batch step per learning rate from `lr_min` to
/// `lr_max` (geometric), with the suggestion.
#[pyfunction]
#[pyo3(signature = (x, y, params, classes=None, lr_min=1e-7, lr_max=10.0, steps=100))]
#[allow(clippy::too_many_arguments)]
pub fn lr_find<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    params: &Bound<'py, PyDict>,
    classes: Option<Vec<String>>,
    lr_min: f64,
    lr_max: f64,
    steps: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (spec, run) = run_on(x, y, params, classes)?;
    let config = LrRangeConfig {
        lr_min,
        lr_max,
        steps,
        ..LrRangeConfig::default()
    };
    let r = lr_range_test_model(
        run.trainer.model(),
        run.trainer.loss(),
        run.train_set.x.view(),
        run.train_set.y.view(),
        &spec.optimizer,
        &spec.resolved_init(),
        &config,
    )
    .map_err(PyError)?;
    let out = PyDict::new(py);
    out.set_item("lrs", r.lrs)?;
    out.set_item("losses", r.losses)?;
    out.set_item("smoothed", r.smoothed)?;
    out.set_item("stopped_early", r.stopped_early)?;
    out.set_item("steepest", r.steepest)?;
    out.set_item("at_minimum", r.at_minimum)?;
    out.set_item("suggestion", r.suggestion)?;
    out.set_item("reason", r.reason)?;
    Ok(out)
}

/// The model's autodiff gradient at its initial parameters against central differences.
#[pyfunction]
#[pyo3(signature = (x, y, params, classes=None))]
pub fn gradcheck<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    params: &Bound<'py, PyDict>,
    classes: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (_, run) = run_on(x, y, params, classes)?;
    let g = check_gradient(
        run.trainer.model(),
        run.trainer.loss(),
        &run.trainer.params,
        run.train_set.x.view(),
        run.train_set.y.view(),
        &GradCheckConfig::default(),
    )
    .map_err(PyError)?;
    let out = PyDict::new(py);
    out.set_item("passed", g.passed)?;
    out.set_item("max_abs", g.max_abs)?;
    out.set_item("max_rel", g.max_rel)?;
    out.set_item("threshold", g.threshold)?;
    let views = PyDict::new(py);
    for v in &g.views {
        views.set_item(&v.name, (v.max_abs, v.max_rel))?;
    }
    out.set_item("views", views)?;
    Ok(out)
}
