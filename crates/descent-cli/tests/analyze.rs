//! `descent analyze` through the real binary against NumPy on data it has not seen:
//! `fixtures/analyze/*.csv` and `analyze.json`, written by `fixtures/analyze/gen_analyze.py`
//! (NumPy 2.4.6), which builds the Hessian from the Jacobian in torch's layout and records
//! `eigvalsh(H)`, the eigenvalues from `svd(A)`, `matrix_rank`, `lstsq(rcond=None)` and every
//! bound and optimum written out from its formula.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::ok;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyze")
}

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join("analyze.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()
        .clone()
}

/// `descent analyze --json` on fixture `name` (all its targets) with `flags`.
fn analyze(name: &str, flags: &str) -> Value {
    let r = reference(name);
    let targets: Vec<&str> = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let data = fixtures().join(format!("{name}.csv"));
    let targets = targets.join(",");
    let mut args = vec![
        "analyze",
        "--data",
        data.to_str().unwrap(),
        "--target",
        &targets,
        "--model",
        "linear",
        "--json",
    ];
    args.extend(flags.split_whitespace());
    let dir = tempfile::tempdir().unwrap();
    serde_json::from_str(&ok(&args, dir.path())).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

#[test]
fn eigenvalues_condition_number_and_rank_match_numpy() {
    for name in ["ill", "ill_k3"] {
        let r = reference(name);
        let got = analyze(name, "");
        let eig = floats(&r["eigvalsh"]);
        let svd = floats(&r["svd_eigenvalues"]);
        let (lmax, lmin) = (f(&got["lambda_max"]), f(&got["lambda_min"]));
        // The acceptance test: 1e-6 relative of eigvalsh (whose λ_min carries an error of
        // about p·ε·λ_max: 2.5e-8 relative here); the SVD's values to 1e-9.
        assert!(rel(lmax, eig[eig.len() - 1]) < 1e-6, "{name}: {lmax}");
        assert!(rel(lmin, eig[0]) < 1e-6, "{name}: {lmin} vs {}", eig[0]);
        assert!(rel(lmax, svd[svd.len() - 1]) < 1e-9, "{name}");
        assert!(rel(lmin, svd[0]) < 1e-9, "{name}: {lmin} vs {}", svd[0]);
        let kappa = f(&got["condition_number"]);
        assert!(
            rel(kappa, f(&r["condition_number"])) < 1e-9,
            "{name}: {kappa}"
        );
        assert!(rel(kappa, eig[eig.len() - 1] / eig[0]) < 1e-6, "{name}");
        assert_eq!(got["rank"], r["rank"], "{name}");
        assert_eq!(got["n_params"], r["n_params"], "{name}");
        assert_eq!(got["converged"], true);
    }
}

#[test]
fn the_stable_lr_of_every_form_is_the_formula() {
    for name in ["ill", "ill_k3"] {
        let r = reference(name);
        for (flags, want) in r["stable_lr"].as_object().unwrap() {
            let got = analyze(name, flags);
            let b = f(&got["stable_lr"]);
            assert!(rel(b, f(want)) < 1e-9, "{name} `{flags}`: {b} vs {want}");
        }
    }
    // Three targets: the mean over 3k elements makes H a third as large, the bound 3 times.
    let one = f(&analyze("ill", "")["stable_lr"]);
    let three = f(&analyze("ill_k3", "")["stable_lr"]);
    assert!(rel(three, 3.0 * one) < 1e-9, "{three} vs 3 × {one}");
    // Adaptive optimizers have none, and say why.
    let adam = analyze("ill", "--optimizer adam");
    assert_eq!(adam["stable_lr"], "no fixed bound");
    assert!(adam["stable_lr_reason"]
        .as_str()
        .unwrap()
        .contains("gradient statistics"));
}

#[test]
fn the_optima_and_their_rates_are_the_formulas() {
    let r = reference("ill");
    let got = analyze("ill", "--tol 1e-3");
    for key in ["best_lr", "best_rate"] {
        assert!(rel(f(&got[key]), f(&r[key])) < 1e-9, "{key}");
    }
    for key in ["lr", "momentum", "rate"] {
        let (g, w) = (f(&got["heavy_ball"][key]), f(&r["heavy_ball"][key]));
        assert!(rel(g, w) < 1e-9, "heavy_ball.{key}: {g} vs {w}");
    }
    // Epochs to shrink the error by 1e-3: ⌈ln 1e-3 / ln rate⌉.
    let rate = f(&r["heavy_ball"]["rate"]);
    let want = ((1e-3f64).ln() / rate.ln()).ceil();
    assert_eq!(f(&got["heavy_ball"]["epochs"]), want);
}

#[test]
fn the_closed_form_is_numpys_lstsq() {
    for name in ["ill", "ill_k3", "collinear", "wide"] {
        let r = reference(name);
        let got = analyze(name, "");
        let cf = &got["closed_form"];
        let want = floats(&r["lstsq"]["params"]);
        let params = floats(&cf["params"]);
        assert_eq!(params.len(), want.len(), "{name}");
        for (g, w) in params.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-9 * w.abs().max(1.0),
                "{name}: {g} vs {w}"
            );
        }
        let loss = f(&cf["loss"]);
        let want_loss = f(&r["lstsq"]["loss"]);
        assert!(
            (loss - want_loss).abs() < 1e-9 * want_loss.max(1e-12),
            "{name}: {loss}"
        );
        assert!(
            (f(&cf["r2"]) - f(&r["lstsq"]["r2"])).abs() < 1e-12,
            "{name}"
        );
    }
}

#[test]
fn collinear_and_wide_data_name_the_rank_and_give_the_minimum_norm_solution() {
    for (name, rank, n_params) in [("collinear", 4, 6), ("wide", 8, 21)] {
        let got = analyze(name, "");
        assert_eq!(got["rank"], rank, "{name}");
        assert_eq!(got["n_params"], n_params, "{name}");
        assert_eq!(got["condition_number"], "inf", "{name}");
        assert_eq!(f(&got["lambda_min"]), 0.0, "{name}");
        let cf = &got["closed_form"];
        assert_eq!(cf["method"], "svd-min-norm", "{name}");
        assert_eq!(cf["rank"], rank, "{name}");
        // The minimum-norm solution is O(1): nothing like the 1e13 of an unpivoted solve.
        assert!(
            floats(&cf["params"]).iter().all(|p| p.abs() < 10.0),
            "{name}"
        );
        // With κ = ∞ no optimum has a finite number of epochs.
        assert_eq!(f(&got["best_rate"]), 1.0, "{name}");
        assert!(got["best_epochs"].is_null(), "{name}");
    }
    // The report says it in words.
    let data = fixtures().join("collinear.csv");
    let dir = tempfile::tempdir().unwrap();
    let text = ok(
        &[
            "analyze",
            "--data",
            data.to_str().unwrap(),
            "--model",
            "linear",
        ],
        dir.path(),
    );
    assert!(
        text.contains("condition number  ∞ (H is singular: rank 4 of 6)"),
        "{text}"
    );
    assert!(
        text.contains("SVD: A has rank 4 of 6 columns, this is the minimum-norm solution"),
        "{text}"
    );
}

#[test]
fn the_report_and_the_json_agree_and_other_models_say_what_applies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = "analyze --data builtin:classic --model linear-nobias --momentum 0.9 --lr 0.5";
    let text = ok(&line.split_whitespace().collect::<Vec<_>>(), d);
    // y = w x on x = 1, 2, 3: λ = 2·14/3 = 28/3; heavy ball 0.9: 2·1.9/(28/3) = 0.4071.
    assert!(text.contains("λ_max             9.333333e0"), "{text}");
    assert!(text.contains("2(1 + μ)/λ_max = 4.071429e-1"), "{text}");
    assert!(
        text.contains("the lr 5.000000e-1 is 1.228 times the bound: full-batch training diverges"),
        "{text}"
    );
    assert!(
        text.contains("w                        2.000000e0"),
        "{text}"
    );
    let json = format!("{line} --json");
    let v: Value =
        serde_json::from_str(&ok(&json.split_whitespace().collect::<Vec<_>>(), d)).unwrap();
    assert!(rel(f(&v["stable_lr"]), 3.8 * 3.0 / 28.0) < 1e-15);
    assert!(rel(f(&v["lambda_min"]), 28.0 / 3.0) < 1e-15);
    // A classifier: nothing of the least-squares analysis applies, and the keys say so.
    let line = "analyze --data builtin:iris --model softmax --json";
    let v: Value =
        serde_json::from_str(&ok(&line.split_whitespace().collect::<Vec<_>>(), d)).unwrap();
    assert_eq!(v["least_squares"], false);
    for key in ["lambda_max", "stable_lr", "closed_form", "heavy_ball"] {
        assert!(v[key].is_null(), "{key}");
    }
    assert!(v["applies"].as_str().unwrap().contains("not least squares"));
}
