//! The analysis tools on real data: the diabetes least-squares solution from the oracle
//! fixture (`fixtures/oracle/regression.json`, made by `gen.py` with PyTorch 2.9.1 / NumPy),
//! the stable learning-rate bound, one Newton step, the lr range test and a gradient check.

use descent::analysis::loss_and_gradient;
use descent::analysis::{
    gradcheck, lr_bound, lr_range_test_model, newton_step_model, normal_equation, GradCheckConfig,
    LrRangeConfig, PowerIteration,
};
use descent::loss::Loss;
use descent::nn::{Activation, ModelKind};
use descent::optim::{self, OptimizerSpec};
use descent::params::{Init, Params};
use ndarray::Array2;
use serde_json::Value;

struct Diabetes {
    raw: Array2<f64>,
    x: Array2<f64>,
    y: Array2<f64>,
    fixture: Value,
}

fn diabetes() -> Diabetes {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/oracle/regression.json"
    ))
    .unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let d = all["datasets"]["diabetes"].clone();
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let rows: Vec<Vec<f64>> = d["X"].as_array().unwrap().iter().map(floats).collect();
    let (n, p) = (rows.len(), rows[0].len());
    let raw = Array2::from_shape_fn((n, p), |(i, j)| rows[i][j]);
    let mean = floats(&d["standardization"]["mean"]);
    let std = floats(&d["standardization"]["std"]);
    let x = Array2::from_shape_fn((n, p), |(i, j)| (raw[[i, j]] - mean[j]) / std[j]);
    let yv = floats(&d["y"]);
    let y = Array2::from_shape_fn((n, 1), |(i, _)| yv[i]);
    Diabetes {
        raw,
        x,
        y,
        fixture: d,
    }
}

fn assert_close(got: f64, want: f64, rtol: f64, atol: f64, what: &str) {
    assert!(
        (got - want).abs() <= atol + rtol * want.abs(),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn normal_equation_matches_the_diabetes_oracle() {
    let d = diabetes();
    let ls = normal_equation(d.x.view(), d.y.view(), true).unwrap();
    let want = &d.fixture["least_squares"];
    let (rtol, atol) = (
        want["tolerance"]["rtol"].as_f64().unwrap(),
        want["tolerance"]["atol"].as_f64().unwrap(),
    );
    for (j, w) in want["weight"].as_array().unwrap().iter().enumerate() {
        assert_close(
            ls.weight[0][j],
            w.as_f64().unwrap(),
            rtol,
            atol,
            &format!("weight {j}"),
        );
    }
    assert_close(
        ls.bias.as_ref().unwrap()[0],
        want["bias"].as_f64().unwrap(),
        rtol,
        atol,
        "bias",
    );
    assert_close(ls.mse, want["mse"].as_f64().unwrap(), rtol, atol, "mse");
}

#[test]
fn standardizing_lowers_the_condition_number() {
    let d = diabetes();
    let opts = PowerIteration::default();
    let std = lr_bound(d.x.view(), true, &opts).unwrap();
    let raw = lr_bound(d.raw.view(), true, &opts).unwrap();
    println!(
        "diabetes [X, 1]: raw κ = {:.3e} (λ_max {:.6e}, lr_max {:.3e}, converged {}), \
         standardized κ = {:.3e} (λ_max {:.6}, λ_min {:.6}, lr_max {:.6})",
        raw.condition_number,
        raw.lambda_max,
        raw.lr_max_stable,
        raw.converged,
        std.condition_number,
        std.lambda_max,
        std.lambda_min,
        std.lr_max_stable
    );
    // Reference eigenvalues of 2 AᵀA / n from numpy.linalg.eigvalsh on the fixture data.
    assert!(std.converged);
    assert_close(std.lambda_max, 8.0484215, 1e-7, 0.0, "standardized λ_max");
    assert_close(std.lambda_min, 0.01712146, 1e-6, 0.0, "standardized λ_min");
    assert_close(raw.lambda_max, 147184.843414, 1e-9, 0.0, "raw λ_max");
    assert!(std.condition_number < 500.0 && raw.condition_number > 1e6);
}

#[test]
fn one_newton_step_from_zero_reaches_the_normal_equation() {
    let d = diabetes();
    let model = ModelKind::Linear.build(10, 1).unwrap();
    let start = Params::<f64>::init(model.layout(), &Init::Zeros).unwrap();
    let next = newton_step_model(&model, Loss::Mse, &start, d.x.view(), d.y.view(), 1e-3).unwrap();
    let want = normal_equation(d.x.view(), d.y.view(), true)
        .unwrap()
        .to_flat();
    for (i, (g, w)) in next.values.iter().zip(&want).enumerate() {
        assert_close(*g, *w, 1e-7, 1e-7, &format!("θ[{i}]"));
    }
}

#[test]
fn lr_range_suggestion_is_stable_and_trains() {
    let d = diabetes();
    let model = ModelKind::Linear.build(10, 1).unwrap();
    let spec = OptimizerSpec::new("sgd");
    let config = LrRangeConfig {
        lr_min: 1e-5,
        lr_max: 10.0,
        steps: 100,
        ..LrRangeConfig::default()
    };
    let r = lr_range_test_model(
        &model,
        Loss::Mse,
        d.x.view(),
        d.y.view(),
        &spec,
        &Init::Zeros,
        &config,
    )
    .unwrap();
    let bound = lr_bound(d.x.view(), true, &PowerIteration::default()).unwrap();
    let lr = r.suggestion.unwrap();
    println!(
        "lr range: suggestion {lr:.4e} ({}), bound 2/λ_max = {:.4e}",
        r.reason, bound.lr_max_stable
    );
    assert!(r.stopped_early, "sgd beyond 2/λ_max must blow up");
    assert!(lr < bound.lr_max_stable, "{lr} vs {}", bound.lr_max_stable);

    let optimum = normal_equation(d.x.view(), d.y.view(), true).unwrap().mse;
    let mut params = Params::<f64>::init(model.layout(), &Init::Zeros).unwrap();
    let mut opt = optim::build::<f64>("sgd", lr, params.len()).unwrap();
    let mut last = f64::INFINITY;
    for _ in 0..5000 {
        let (l, g) = loss_and_gradient(&model, Loss::Mse, &params, d.x.view(), d.y.view()).unwrap();
        assert!(l <= last * (1.0 + 1e-12), "loss rose: {last} -> {l}");
        last = l;
        opt.step(lr, &mut params.values, &g);
    }
    println!("trained at {lr:.4e}: mse {last:.6} vs least squares {optimum:.6}");
    assert!(last < 1.01 * optimum, "{last} vs {optimum}");
}

fn small_mlp_case() -> (
    descent::nn::Sequential,
    Params<f64>,
    Array2<f64>,
    Array2<f64>,
) {
    let d = diabetes();
    let model = ModelKind::Mlp {
        hidden: vec![5, 3],
        activation: Activation::Tanh,
    }
    .build(10, 1)
    .unwrap();
    let params = Params::<f64>::init(model.layout(), &Init::Torch { seed: 11 }).unwrap();
    let rows = 12;
    let x = d.x.slice(ndarray::s![..rows, ..]).to_owned();
    // Scaled targets keep the loss of order 1, where the default thresholds are meant for.
    let y =
        d.y.slice(ndarray::s![..rows, ..])
            .mapv(|v| (v - 150.0) / 80.0);
    (model, params, x, y)
}

#[test]
fn gradcheck_passes_on_an_mlp() {
    let (model, params, x, y) = small_mlp_case();
    let r = gradcheck(
        &model,
        Loss::Mse,
        &params,
        x.view(),
        y.view(),
        &GradCheckConfig::default(),
    )
    .unwrap();
    assert!(r.passed, "{r:?}");
    let names: Vec<&str> = r.views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "layer0.weight",
            "layer0.bias",
            "layer1.weight",
            "layer1.bias",
            "layer2.weight",
            "layer2.bias"
        ]
    );
    assert!(r.max_rel < 1e-7, "{r:?}");
}

#[test]
fn gradcheck_fails_on_a_wrong_gradient() {
    let (model, params, x, y) = small_mlp_case();
    let (_, mut g) = loss_and_gradient(&model, Loss::Mse, &params, x.view(), y.view()).unwrap();
    // Corrupt one view only: the report must name it.
    let range = params.layout.find("layer1.weight").unwrap().range();
    for v in &mut g[range] {
        *v *= 1.1;
    }
    let r = descent::analysis::gradcheck::compare_gradient(
        &g,
        &params,
        &GradCheckConfig::default(),
        |p| descent::train::evaluate(&model, Loss::Mse, p, x.view(), y.view()),
    )
    .unwrap();
    assert!(!r.passed);
    let worst = r
        .views
        .iter()
        .max_by(|a, b| a.max_rel.total_cmp(&b.max_rel))
        .unwrap();
    assert_eq!(worst.name, "layer1.weight");
}
