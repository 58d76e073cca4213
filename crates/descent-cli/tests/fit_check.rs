//! A run that did not fit says so, through the real binary: on stderr and in `summary.json`
//! (`"converged": false` with the reasons), with what to do; `--scale-target standard` trains
//! on scaled targets, stores the scaler in `model.json` and predicts in the targets' units.

use std::path::Path;

use rand::{RngExt, SeedableRng};
use serde_json::Value;

mod common;
use common::{descent, ok};

/// House prices (1e5 .. 1e6) from size, bedrooms, age and lot, 300 rows, seeded.
fn write_houses(d: &Path) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let mut csv = String::from("sqft,bedrooms,age,lot,price\n");
    for _ in 0..300 {
        let sqft: f64 = rng.random_range(800.0..4000.0);
        let bedrooms = rng.random_range(1..6) as f64;
        let age: f64 = rng.random_range(0.0..60.0);
        let lot: f64 = rng.random_range(2000.0..10000.0);
        let noise: f64 = rng.random_range(-40000.0..40000.0);
        let price = 120.0 * sqft + 15000.0 * bedrooms - 1500.0 * age + 8.0 * lot + 60000.0 + noise;
        csv += &format!("{sqft},{bedrooms},{age},{lot},{price}\n");
    }
    std::fs::write(d.join("houses.csv"), csv).unwrap();
}

/// Runs `descent train` with `line`; must exit 0; returns stderr.
fn train(line: &str, d: &Path) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = descent(&args, d);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{line}: {stderr}");
    stderr
}

fn summary(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

fn json(line: &str, d: &Path) -> Value {
    serde_json::from_str(&ok(&line.split_whitespace().collect::<Vec<_>>(), d)).unwrap()
}

/// Adam at a usual step on standardized features: fine on targets near 1, hopeless on
/// prices of 1e5 .. 1e6 (its steps are about lr whatever the gradient).
const RECIPE: &str = "train --data houses.csv --model linear --scale standard --optimizer adam \
                      --lr 0.1 --epochs 300";

#[test]
fn an_unscaled_target_is_reported_and_scale_target_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_houses(d);
    let e = train(&format!("{RECIPE} --out raw"), d);
    let s = summary(&d.join("raw"));
    let r2 = s["final"]["train"]["r2"].as_f64().unwrap();
    assert!(r2 < 0.0, "{r2}");
    assert_eq!(s["converged"], false, "{s}");
    let reasons: Vec<&str> = s["fit"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("worse than predicting the mean")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("above the closed-form least-squares loss")),
        "{reasons:?}"
    );
    assert!(e.contains("warning: the run did not converge"), "{e}");
    assert!(e.contains("Use --scale-target standard"), "{e}");
    assert!(!std::fs::read_to_string(d.join("raw/model.json"))
        .unwrap()
        .contains("target_scaler"));

    // The same recipe on standardized targets reaches the closed form's R².
    let e = train(&format!("{RECIPE} --scale-target standard --out scaled"), d);
    assert!(!e.contains("did not converge"), "{e}");
    let s = summary(&d.join("scaled"));
    assert_eq!(s["converged"], true, "{s}");
    assert_eq!(s["spec"]["scale_target"], "standard");
    let analysis = json(
        "analyze --data houses.csv --model linear --scale standard --json",
        d,
    );
    let best = analysis["closed_form"]["r2"].as_f64().unwrap();
    let r2 = s["final"]["train"]["r2"].as_f64().unwrap();
    assert!((r2 - best).abs() < 1e-6, "{r2} vs the closed form's {best}");
    // The model undoes the scaling: predictions are prices, the closed form's to 1e-6.
    let model = std::fs::read_to_string(d.join("scaled/model.json")).unwrap();
    assert!(model.contains("\"target_scaler\""), "{model}");
    let row = std::fs::read_to_string(d.join("houses.csv")).unwrap();
    let first: Vec<f64> = row
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let input = first[..4]
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let predicted: f64 = ok(&["predict", "--model", "scaled", "--input", &input], d)
        .trim()
        .parse()
        .unwrap();
    let cf: Vec<f64> = analysis["closed_form"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let scaler = &summary(&d.join("scaled"))["data"]["scale"];
    let z: Vec<f64> = (0..4)
        .map(|j| {
            let (m, sd) = (
                scaler["mean"][j].as_f64().unwrap(),
                scaler["std"][j].as_f64().unwrap(),
            );
            (first[j] - m) / sd
        })
        .collect();
    let want = cf[4] + (0..4).map(|j| cf[j] * z[j]).sum::<f64>();
    assert!(
        (predicted - want).abs() < 1e-6 * want.abs(),
        "{predicted} vs {want}"
    );
}

#[test]
fn a_small_lr_and_too_few_epochs_are_named_and_the_epochs_advised_suffice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "train --data builtin:diabetes --model linear --scale standard";
    let e = train(&format!("{base} --lr 0.0001 --epochs 50 --out small"), d);
    assert!(
        e.contains("The learning rate 0.0001 is 0.04024% of the largest stable one (0.2485"),
        "{e}"
    );
    let e = train(&format!("{base} --lr 0.1 --epochs 5 --out short"), d);
    assert!(e.contains("the model can fit much better"), "{e}");
    let key = "would close the gap (--epochs ";
    let at = e.find(key).unwrap_or_else(|| panic!("{e}")) + key.len();
    let epochs: usize = e[at..].split(')').next().unwrap().parse().unwrap();
    // The advice holds: that many epochs reach the closed form within the gap.
    let e = train(&format!("{base} --lr 0.1 --epochs {epochs} --out long"), d);
    assert!(!e.contains("did not converge"), "{e}");
    assert_eq!(summary(&d.join("long"))["converged"], true);
}

#[test]
fn classifiers_worse_than_a_constant_and_runs_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Unscaled features at a small lr: accuracy above the majority's, loss far above the
    // entropy of the labels.
    let e = train(
        "train --data builtin:breast_cancer --model logistic --lr 0.001 --epochs 50 --out bc",
        d,
    );
    assert!(
        e.contains("the loss of predicting the class frequencies"),
        "{e}"
    );
    assert!(e.contains("--scale standard"), "{e}");
    assert_eq!(summary(&d.join("bc"))["converged"], false);
    // Runs that fit say nothing and record it.
    for (line, out) in [
        ("train --data builtin:diabetes --model linear --scale standard --lr 0.2 --epochs 2000", "a"),
        ("train --data builtin:iris --model softmax --scale standard --optimizer adam --lr 0.05 --batch 16 --epochs 200", "b"),
    ] {
        let e = train(&format!("{line} --out {out}"), d);
        assert!(!e.contains("did not converge"), "{line}: {e}");
        assert_eq!(summary(&d.join(out))["converged"], true, "{line}");
    }
    // Target scaling is for regression.
    let out = descent(
        &[
            "train",
            "--data",
            "builtin:iris",
            "--model",
            "softmax",
            "--scale-target",
            "standard",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("scale_target") && e.contains("regression"),
        "{e}"
    );
}
