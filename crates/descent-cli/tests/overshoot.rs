//! Converging runs that overshoot, through the real binary: heavy ball and Nesterov just
//! below their stability bounds, Adam with a large step and RMSprop with momentum on the
//! classic points rise for a while and then converge; `train` must let them finish (exit 0,
//! status completed) and `compare` must not call them diverged. The runs above the bounds
//! still stop with exit 3 (the divergences of `recovery.rs` and `cli.rs` are the others).

use std::path::Path;

use descent::analysis::{curvature, stable_lr_of, CurvatureConfig};
use descent::data::{builtin, Columns, Scaler, Scaling, TargetKind};
use descent::optim::OptimizerSpec;
use serde_json::Value;

mod common;
use common::{descent, ok};

/// The largest stable lr of `spec` for a linear model on builtin `name`, scaled as `scale`.
fn bound(name: &str, scale: Scaling, spec: &OptimizerSpec) -> f64 {
    let mut data = builtin::load(name, &Columns::default(), TargetKind::Real).unwrap();
    Scaler::fit(scale, &data.x).transform(&mut data.x).unwrap();
    let c = curvature(data.x.view(), true, 1, &CurvatureConfig::default()).unwrap();
    stable_lr_of(spec, &c).unwrap().bound().unwrap()
}

fn status(run: &Path) -> String {
    let text = std::fs::read_to_string(run.join("summary.json")).unwrap();
    let s: Value = serde_json::from_str(&text).unwrap();
    s["outcome"]["stop"]["status"].as_str().unwrap().to_string()
}

/// `train` with `args` on `data` (a linear model, full batch); returns the exit code.
fn train(d: &Path, data: &str, scale: &str, args: &[String], epochs: usize, out: &str) -> i32 {
    let mut argv: Vec<String> = [
        "train", "--data", data, "--model", "linear", "--scale", scale,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(args.iter().cloned());
    let epochs = epochs.to_string();
    argv.extend(["--epochs", &epochs, "--out", out, "-q"].map(String::from));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let output = descent(&argv, d);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output.status.code().unwrap()
}

/// `--momentum M [--nesterov] --lr LR` for the fraction `f` of the bound on `data`.
fn momentum_args(data: &str, scale: Scaling, momentum: f64, nesterov: bool, f: f64) -> Vec<String> {
    let mut spec = OptimizerSpec::new("sgd").with("momentum", momentum);
    let mut args = vec!["--momentum".to_string(), momentum.to_string()];
    if nesterov {
        spec = spec.with("nesterov", true);
        args.push("--nesterov".into());
    }
    let name = data.strip_prefix("builtin:").unwrap();
    let lr = f * bound(name, scale, &spec);
    args.extend(["--lr".to_string(), lr.to_string()]);
    args
}

#[test]
fn heavy_ball_and_nesterov_just_below_their_bounds_finish() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sets = [
        ("builtin:classic", "none", Scaling::None, 300),
        ("builtin:diabetes", "standard", Scaling::Standard, 400),
    ];
    for (data, scale_flag, scale, epochs) in sets {
        for momentum in [0.5, 0.9, 0.95] {
            for nesterov in [false, true] {
                for f in [0.9, 0.95, 0.99] {
                    let args = momentum_args(data, scale, momentum, nesterov, f);
                    let out = format!("{}-{momentum}-{nesterov}-{f}", &data[8..]);
                    let code = train(d, data, scale_flag, &args, epochs, &out);
                    assert_eq!(code, 0, "{data} {args:?}");
                    assert_eq!(status(&d.join(&out)), "completed", "{data} {args:?}");
                }
            }
        }
    }
}

#[test]
fn heavy_ball_and_nesterov_above_their_bounds_still_stop() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for momentum in [0.5, 0.9] {
        for nesterov in [false, true] {
            let args = momentum_args("builtin:classic", Scaling::None, momentum, nesterov, 1.1);
            let out = format!("above-{momentum}-{nesterov}");
            let code = train(d, "builtin:classic", "none", &args, 300, &out);
            assert_eq!(code, 3, "{args:?}");
            assert_eq!(status(&d.join(&out)), "diverged", "{args:?}");
        }
    }
}

#[test]
fn adam_with_a_large_step_and_rmsprop_with_momentum_finish() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runs = [
        "--optimizer adam --lr 0.5",
        "--optimizer adam --lr 1",
        "--optimizer rmsprop --momentum 0.9 --lr 0.05",
        "--optimizer rmsprop --momentum 0.9 --lr 0.01",
    ];
    for (i, line) in runs.iter().enumerate() {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let out = format!("run{i}");
        assert_eq!(
            train(d, "builtin:classic", "none", &args, 300, &out),
            0,
            "{line}"
        );
        assert_eq!(status(&d.join(&out)), "completed", "{line}");
    }
}

#[test]
fn compare_does_not_call_the_converging_momentum_run_diverged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = "compare --data builtin:classic --model linear --optimizers sgd,momentum,adam \
                --lr 0.05,adam=0.1 --epochs 100 --tol 1e-3 --out cmp";
    let stdout = ok(&line.split_whitespace().collect::<Vec<_>>(), d);
    assert!(!stdout.contains("diverged"), "{stdout}");
    let csv = std::fs::read_to_string(d.join("cmp/compare.csv")).unwrap();
    for row in csv.lines().skip(1) {
        assert!(row.ends_with(",-"), "{row}");
    }
    // Momentum is the one that reaches the tolerance.
    let momentum = csv.lines().find(|l| l.starts_with("momentum,")).unwrap();
    assert_ne!(momentum.split(',').nth(3), Some("-"), "{momentum}");
}
