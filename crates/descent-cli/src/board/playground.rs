//! `POST /api/playground`: a short run by the real engine for the page's sliders. The body
//! is a [`RunSpec`] (built-in data only, a model with two parameters) or a 2-D test function
//! (`{"function": "rosenbrock", "optimizer": {...}, "steps": 200}`); the answer holds the
//! path of the two parameters, the loss per epoch, the loss surface around the path, and
//! for least squares the stable learning rate and the fastest settings (`analysis/optima`).
//!
//! The work is bounded: at most [`MAX_ROW_EPOCHS`] rows × epochs or [`MAX_STEPS`] steps of a
//! test function (refused beyond, with the numbers), and [`TIME_BUDGET`] of wall time (the
//! run stops there and says so).

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::Json;
use descent::analysis::{
    best_lr_for_momentum, normal_equation, optimal_gd, optimal_heavy_ball, stable_lr, Spectrum,
};
use descent::data::DataSource;
use descent::objective::{self, descend};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{scalar_names, Params};
use descent::train::diagnosis::RunFacts;
use descent::train::{evaluate, Event, EveryStep, Signal};
use descent::{Run, RunSpec};
use serde_json::{json, Value};

use super::api::ApiError;
use crate::plot::field_around;

/// Rows × epochs one request may ask for.
pub const MAX_ROW_EPOCHS: usize = 2_000_000;
/// Steps on a test function one request may ask for.
pub const MAX_STEPS: usize = 20_000;
/// Wall time one request may take.
pub const TIME_BUDGET: Duration = Duration::from_secs(2);
/// Points of the path sent back (thinned evenly beyond, the last kept).
const MAX_POINTS: usize = 2_000;

fn bad(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(status, message.into())
}

pub async fn handle(Json(body): Json<Value>) -> Result<Json<Value>, ApiError> {
    tokio::task::spawn_blocking(move || {
        if body.get("function").is_some() {
            function(&body)
        } else {
            data_run(body)
        }
    })
    .await
    .map_err(|_| {
        bad(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the playground run failed",
        )
    })?
    .map(Json)
}

/// Ready-made requests for the page: the classic lesson with a bias, and Rosenbrock.
pub async fn presets() -> Json<Value> {
    let mut classic = RunSpec::new("builtin:classic");
    classic.optimizer = OptimizerSpec::new("sgd").with("lr", 0.05);
    classic.epochs = 200;
    let mut diabetes = RunSpec::new("builtin:diabetes");
    diabetes.data.features = Some(vec!["bmi".into()]);
    diabetes.scale = descent::data::Scaling::Standard;
    diabetes.optimizer = OptimizerSpec::new("sgd").with("lr", 0.1);
    diabetes.epochs = 100;
    Json(json!([
        { "name": "builtin:classic, y = w·x + b", "request": classic },
        { "name": "builtin:diabetes, bmi only, scaled", "request": diabetes },
        { "name": "rosenbrock", "request": {
            "function": "rosenbrock", "steps": 500,
            "optimizer": OptimizerSpec::new("sgd").with("lr", 0.001) } },
    ]))
}

fn data_run(body: Value) -> Result<Value, ApiError> {
    let unprocessable = |m: String| bad(StatusCode::UNPROCESSABLE_ENTITY, m);
    let spec: RunSpec = serde_json::from_value(body)
        .map_err(|e| unprocessable(format!("not a run specification: {e}")))?;
    if !matches!(spec.data.source, DataSource::Builtin(_)) {
        return Err(unprocessable(
            "the playground trains on built-in data only (builtin:NAME): it reads no files".into(),
        ));
    }
    if spec.epochs > MAX_ROW_EPOCHS {
        return Err(too_much(spec.epochs, 1, 0));
    }
    spec.validate().map_err(|e| unprocessable(e.to_string()))?;
    let mut run = Run::<f64>::new(spec.clone()).map_err(|e| unprocessable(e.to_string()))?;
    let rows = run.train_set.n_rows();
    if spec.epochs.saturating_mul(rows) > MAX_ROW_EPOCHS {
        return Err(too_much(spec.epochs, rows, spec.epochs * rows));
    }
    let layout = run.trainer.model().layout();
    if layout.len() != 2 {
        return Err(unprocessable(format!(
            "the playground draws models with two parameters; this one has {} (a linear model on one feature has two: weight and bias)",
            layout.len()
        )));
    }
    let names = scalar_names(&layout, &run.train_set.feature_names);
    let mut path = vec![run.trainer.params.values.clone()];
    let mut losses = Vec::new();
    let started = Instant::now();
    let mut over_time = false;
    let mut watch = EveryStep(|e: &Event<'_, f64>| {
        match e {
            Event::Step(_, p) => path.push(p.to_vec()),
            Event::Epoch(r, _) => losses.push(r.loss),
            _ => {}
        }
        if started.elapsed() > TIME_BUDGET {
            over_time = true;
            return Ok(Signal::Stop("time budget".into()));
        }
        Ok(Signal::Continue)
    });
    let outcome = run
        .train(&mut [&mut watch])
        .map_err(|e| unprocessable(e.to_string()))?;
    let data = run.train_data();
    let (model, loss) = (run.trainer.model().clone(), run.trainer.loss());
    let loss_at = |a: f64, b: f64| {
        Params::from_values(layout.clone(), vec![a, b])
            .and_then(|p| evaluate(&model, loss, &p, data.x.view(), data.y.view()))
            .unwrap_or(f64::NAN)
    };
    let finite: Vec<Vec<f64>> = path
        .iter()
        .filter(|p| p.iter().all(|v| v.is_finite() && v.abs() < 1e12))
        .cloned()
        .collect();
    let field = field_around(finite.iter(), loss_at);
    let facts = RunFacts {
        model: &spec.model,
        loss,
        optimizer: &spec.optimizer,
        lr: spec.lr().unwrap_or(0.0),
        no_decay_bias: spec.no_decay_bias,
        x: run.train_set.x.view(),
        targets: run.train_set.y.ncols(),
        scaled: true,
        feature_names: &run.train_set.feature_names,
    };
    let mut analysis = analysis(&facts);
    if !analysis.is_null() {
        let bias = spec.model == descent::nn::ModelKind::Linear;
        analysis["optimum"] =
            json!(
                normal_equation(run.train_set.x.view(), run.train_set.y.view(), bias)
                    .ok()
                    .map(|ls| ls.to_flat())
            );
    }
    Ok(json!({
        "names": names,
        "path": thin(&path),
        "steps": path.len() - 1,
        "loss": losses,
        "field": field_json(&field),
        "outcome": outcome.stop,
        "stopped": over_time.then(|| format!("stopped at the time budget of {} s", TIME_BUDGET.as_secs())),
        "analysis": analysis,
        "ms": started.elapsed().as_secs_f64() * 1e3,
    }))
}

/// The stable lr of the optimizer and the fastest settings (least squares only).
fn analysis(facts: &RunFacts<'_>) -> Value {
    let Some(c) = facts.curvature() else {
        return Value::Null;
    };
    let stable = facts
        .step_rule()
        .and_then(|r| stable_lr(&r, c.lambda_max).bound());
    let spectrum = Spectrum::of(&c);
    let gd = spectrum.as_ref().map(optimal_gd);
    let hb = spectrum.as_ref().map(optimal_heavy_ball);
    let momentum = facts
        .optimizer
        .options
        .get("momentum")
        .and_then(Value::as_f64);
    let best_for_momentum = spectrum
        .as_ref()
        .zip(momentum)
        .and_then(|(s, m)| best_lr_for_momentum(s, m).ok());
    json!({
        "lambda_max": c.lambda_max,
        "lambda_min": c.lambda_min,
        "stable_lr": stable.filter(|b| b.is_finite()),
        "optimal_gd": gd.map(|t| json!({"lr": t.lr, "rate": t.rate})),
        "optimal_heavy_ball": hb.map(|t| json!({"lr": t.lr, "momentum": t.momentum, "rate": t.rate})),
        "best_lr_for_momentum": best_for_momentum.map(|t| json!({"lr": t.lr, "rate": t.rate})),
    })
}

/// A 2-D test function from `start` (or its usual start).
fn function(body: &Value) -> Result<Value, ApiError> {
    let unprocessable = |m: String| bad(StatusCode::UNPROCESSABLE_ENTITY, m);
    let name = body["function"].as_str().unwrap_or("");
    let f = objective::by_name(name).map_err(|e| unprocessable(e.to_string()))?;
    let steps = body["steps"].as_u64().unwrap_or(200) as usize;
    if steps > MAX_STEPS {
        return Err(bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the playground runs at most {MAX_STEPS} steps per request, not {steps}"),
        ));
    }
    let spec: OptimizerSpec = serde_json::from_value(body["optimizer"].clone())
        .map_err(|e| unprocessable(format!("`optimizer`: {e}")))?;
    let lr = spec.lr().map_err(|e| unprocessable(e.to_string()))?;
    let mut optimizer = spec
        .build::<f64>(vec![(0..2, GroupOptions::default())])
        .map_err(|e| unprocessable(e.to_string()))?;
    let start = match body["start"]
        .as_array()
        .map(|a| a.iter().map(Value::as_f64).collect::<Vec<_>>())
    {
        Some(v) if v.len() == 2 && v.iter().all(|x| x.is_some_and(f64::is_finite)) => {
            [v[0].unwrap_or(0.0), v[1].unwrap_or(0.0)]
        }
        None => f.default_start(),
        Some(_) => {
            return Err(unprocessable(
                "`start` takes two finite numbers [x, y]".into(),
            ))
        }
    };
    let started = Instant::now();
    let t = descend(f.as_ref(), optimizer.as_mut(), lr, start, steps);
    let path: Vec<Vec<f64>> = t.points.iter().map(|p| p.to_vec()).collect();
    let finite: Vec<Vec<f64>> = path
        .iter()
        .filter(|p| p.iter().all(|v| v.abs() < 1e12))
        .cloned()
        .collect();
    let field = field_around(
        finite.iter().chain(
            f.minima()
                .iter()
                .map(|m| m.to_vec())
                .collect::<Vec<_>>()
                .iter(),
        ),
        |x, y| f.value([x, y]),
    );
    Ok(json!({
        "names": ["x", "y"],
        "path": thin(&path),
        "steps": path.len() - 1,
        "loss": t.values,
        "field": field_json(&field),
        "outcome": if t.diverged { "diverged" } else { "completed" },
        "minima": f.minima(),
        "analysis": Value::Null,
        "ms": started.elapsed().as_secs_f64() * 1e3,
    }))
}

fn too_much(epochs: usize, rows: usize, work: usize) -> ApiError {
    bad(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "too much work for the playground: {epochs} epochs × {rows} rows = {work} row-epochs, above its bound of {MAX_ROW_EPOCHS}; lower the epochs (or train it with `descent train`)"
        ),
    )
}

/// At most [`MAX_POINTS`] points, evenly spaced, the first and last kept.
fn thin(path: &[Vec<f64>]) -> Vec<&Vec<f64>> {
    if path.len() <= MAX_POINTS {
        return path.iter().collect();
    }
    let k = path.len().div_ceil(MAX_POINTS);
    let mut out: Vec<&Vec<f64>> = path.iter().step_by(k).collect();
    if (path.len() - 1) % k != 0 {
        out.extend(path.last());
    }
    out
}

fn field_json(f: &crate::plot::Field) -> Value {
    json!({ "x": [f.x.0, f.x.1], "y": [f.y.0, f.y.1], "nx": f.nx, "ny": f.ny,
            "values": f.values.iter().map(|v| if v.is_finite() { Some(*v) } else { None }).collect::<Vec<_>>() })
}
