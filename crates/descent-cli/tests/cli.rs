//! End-to-end tests of the `descent` binary: real processes in temporary directories.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::{descent, ok};

/// Runs a command that must fail cleanly: non-zero exit, `error:` on stderr, no panic.
fn fails(args: &[&str], dir: &Path) -> (i32, String) {
    let out = descent(args, dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "descent {args:?} should fail");
    assert!(
        !stderr.contains("panicked"),
        "descent {args:?} panicked: {stderr}"
    );
    assert!(stderr.contains("error"), "no error message: {stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn oracle(file: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../descent/tests/fixtures/oracle")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn case<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

/// The `loss` column of metrics.csv, by epoch.
fn metric_losses(run: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("epoch,step,loss,val_loss,lr,grad_norm"));
    lines
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect()
}

fn close(a: f64, e: f64, rtol: f64) -> bool {
    (a - e).abs() <= rtol * e.abs()
}

#[test]
fn classic_batch_gradient_descent_matches_the_lesson() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "train",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--init",
            "1.0",
            "--optimizer",
            "sgd",
            "--lr",
            "0.01",
            "--epochs",
            "100",
            "--batch",
            "full",
            "--out",
            "D",
            "--quiet",
        ],
        d,
    );
    let pred = ok(&["predict", "--model", "D", "--input", "4"], d);
    let expected = case(&oracle("seed_linear.json"), "classic_bgd")["predict_after"]
        .as_f64()
        .unwrap();
    assert_eq!(pred.trim(), "7.999777758621207");
    assert!(close(pred.trim().parse().unwrap(), expected, 1e-12));
    let losses = metric_losses(&d.join("D"));
    assert_eq!(losses.len(), 100);
    assert!(
        close(losses[99], 1.752432687141379e-08, 1e-9),
        "{}",
        losses[99]
    );
    for f in ["summary.json", "model.json"] {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("D").join(f)).unwrap()).unwrap();
        assert!(v.is_object());
    }
}

#[test]
fn classic_per_sample_sgd_reproduces_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "train",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--init",
            "1.0",
            "--lr",
            "0.01",
            "--epochs",
            "100",
            "--batch",
            "1",
            "--no-shuffle",
            "--out",
            "S",
            "-q",
        ],
        d,
    );
    let seed = oracle("seed_linear.json");
    let c = case(&seed, "classic_sgd");
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("S/model.json")).unwrap()).unwrap();
    let w = model["parameters"][0]["values"][0].as_f64().unwrap();
    let w_ref = c["w"].as_array().unwrap().last().unwrap().as_f64().unwrap();
    assert!(close(w, w_ref, 1e-9), "{w} vs {w_ref}");
    let pred: f64 = ok(&["predict", "--model", "S", "--input", "4"], d)
        .trim()
        .parse()
        .unwrap();
    assert!(close(pred, c["predict_after"].as_f64().unwrap(), 1e-9));
}

#[test]
fn diabetes_linear_regression_approaches_least_squares() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "train",
            "--data",
            "builtin:diabetes",
            "--model",
            "linear",
            "--scale",
            "standard",
            "--lr",
            "0.2",
            "--epochs",
            "5000",
            "--out",
            "R",
            "-q",
        ],
        d,
    );
    let reg = oracle("regression.json");
    let ls = &reg["datasets"]["diabetes"]["least_squares"];
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("R/summary.json")).unwrap()).unwrap();
    let mse = summary["final"]["train"]["mse"].as_f64().unwrap();
    let best = ls["mse"].as_f64().unwrap();
    assert!(
        mse >= best * (1.0 - 1e-9),
        "below the least-squares optimum: {mse} < {best}"
    );
    assert!(close(mse, best, 1e-9), "mse {mse} vs least squares {best}");
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("R/model.json")).unwrap()).unwrap();
    let weights = model["parameters"][0]["values"].as_array().unwrap();
    for (w, w_ls) in weights.iter().zip(ls["weight"].as_array().unwrap()) {
        let (w, w_ls) = (w.as_f64().unwrap(), w_ls.as_f64().unwrap());
        assert!(
            (w - w_ls).abs() < 1e-3,
            "weight {w} vs least squares {w_ls}"
        );
    }
    let bias = model["parameters"][1]["values"][0].as_f64().unwrap();
    assert!(
        close(bias, ls["bias"].as_f64().unwrap(), 1e-9),
        "bias {bias}"
    );
}

#[test]
fn breast_cancer_logistic_regression_is_accurate() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        &[
            "train",
            "--data",
            "builtin:breast_cancer",
            "--model",
            "logistic",
            "--scale",
            "standard",
            "--lr",
            "0.1",
            "--epochs",
            "300",
            "--out",
            "L",
        ],
        dir.path(),
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("L/summary.json")).unwrap())
            .unwrap();
    let acc = summary["final"]["train"]["accuracy"].as_f64().unwrap();
    assert!(acc > 0.95, "accuracy {acc}\n{out}");
    assert!(out.contains("accuracy"), "{out}");
}

#[test]
fn softmax_on_iris_with_validation_split_and_csv_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "train",
            "--data",
            "builtin:iris",
            "--model",
            "softmax",
            "--scale",
            "standard",
            "--optimizer",
            "adam",
            "--lr",
            "0.05",
            "--epochs",
            "200",
            "--batch",
            "16",
            "--val-fraction",
            "0.2",
            "--seed",
            "3",
            "--out",
            "I",
            "-q",
        ],
        d,
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("I/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["data"]["val_rows"], 30);
    assert!(summary["final"]["val"]["accuracy"].as_f64().unwrap() > 0.85);
    let csv = ok(&["predict", "--model", "I", "--data", "builtin:iris"], d);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species,predicted,p_0,p_1,p_2"
    );
    assert_eq!(lines.count(), 150);
    // The val_loss column is filled when there is a validation split.
    let metrics = std::fs::read_to_string(d.join("I/metrics.csv")).unwrap();
    assert!(metrics
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .parse::<f64>()
        .is_ok());
}

#[test]
fn same_seed_gives_identical_files_and_f32_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for out in ["A", "B"] {
        ok(
            &[
                "train",
                "--data",
                "builtin:beans",
                "--model",
                "mlp",
                "--hidden",
                "8",
                "--activation",
                "tanh",
                "--optimizer",
                "adam",
                "--lr",
                "0.01",
                "--batch",
                "10",
                "--epochs",
                "20",
                "--seed",
                "7",
                "--dtype",
                "f32",
                "--out",
                out,
                "-q",
            ],
            d,
        );
    }
    for f in ["metrics.csv", "model.json"] {
        assert_eq!(
            std::fs::read(d.join("A").join(f)).unwrap(),
            std::fs::read(d.join("B").join(f)).unwrap(),
            "{f}"
        );
    }
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("A/model.json")).unwrap()).unwrap();
    assert_eq!(model["dtype"], "f32");
}

#[test]
fn generate_streams_a_csv_that_trains() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "generate",
            "linear",
            "--rows",
            "500",
            "--features",
            "3",
            "--noise",
            "0.01",
            "--seed",
            "1",
            "--out",
            "lin.csv",
        ],
        d,
    );
    let text = std::fs::read_to_string(d.join("lin.csv")).unwrap();
    assert_eq!(text.lines().count(), 501);
    assert!(text.starts_with("x0,x1,x2,y\n"));
    ok(
        &[
            "train", "--data", "lin.csv", "--model", "linear", "--lr", "0.1", "--epochs", "300",
            "--out", "G", "-q",
        ],
        d,
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("G/summary.json")).unwrap()).unwrap();
    assert!(summary["final"]["train"]["r2"].as_f64().unwrap() > 0.999);
    // Multi-feature input on the command line.
    let p: f64 = ok(&["predict", "--model", "G", "--input", "0.5,-1,2"], d)
        .trim()
        .parse()
        .unwrap();
    assert!(p.is_finite());
}

#[test]
fn bad_csv_files_get_errors_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, &str, &str); 6] = [
        (
            "text.csv",
            "x,y\n1,2\n2,abc\n",
            "text.csv, line 3, column y: `abc` is not a number",
        ),
        (
            "ragged.csv",
            "x,y\n1,2\n3\n",
            "ragged.csv, line 3: this row has 1 fields but the header has 2",
        ),
        ("empty.csv", "", "empty.csv, line 1: the file is empty"),
        (
            "nan.csv",
            "x,y\n1,2\nNaN,3\n",
            "nan.csv, line 3, column x: `NaN` is NaN",
        ),
        (
            "header.csv",
            "x,y\n",
            "header.csv, line 1: the file has a header but no data rows",
        ),
        (
            "ok.csv",
            "x,y\n1,2\n",
            "no column named `z`; the columns are: x, y",
        ),
    ];
    for (name, text, expected) in cases {
        std::fs::write(d.join(name), text).unwrap();
        let mut args = vec!["train", "--data", name, "--out", "X", "-q"];
        if name == "ok.csv" {
            args.extend(["--target", "z"]);
        }
        let (code, stderr) = fails(&args, d);
        assert_eq!(code, 1, "{name}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    assert!(!d.join("X/model.json").exists());
}

#[test]
fn nonsense_flags_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = ["train", "--data", "builtin:classic", "-q", "--out", "N"];
    for (extra, expected) in [
        (vec!["--lr=-1"], "lr"),
        (vec!["--epochs", "0"], "--epochs"),
        (vec!["--batch", "0"], "batch"),
        (vec!["--batch", "-3"], "positive number of rows"),
        (vec!["--lr", "0"], "--lr must be > 0"),
        (vec!["--optimizer", "adam", "--betas", "0.9,1.5"], "betas.1"),
        (
            vec!["--optimizer", "sgd", "--betas", "0.9,0.99"],
            "does not apply to sgd",
        ),
        (vec!["--optimizer", "adamm"], "adamm"),
        (vec!["--schedule", "cosine:tmax=3"], "tmax"),
        (
            vec!["--model", "quadratic"],
            "possible values: linear-nobias, linear",
        ),
        (vec!["--scale", "log"], "standard, minmax or none"),
        (vec!["--dtype", "f16"], "--dtype"),
        (vec!["--init", "abc"], "--init"),
        (
            vec!["--model", "logistic"],
            "exactly 2 distinct labels in `y`, found 3: 2, 4, 6",
        ),
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let (_, stderr) = fails(&args, d);
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
    }
    std::fs::write(d.join("l12.csv"), "x,y\n1,1\n2,2\n").unwrap();
    let (_, e) = fails(
        &["train", "--data", "l12.csv", "--model", "logistic", "-q"],
        d,
    );
    assert!(
        e.contains("needs labels 0 and 1 in `y`, found 1 and 2"),
        "{e}"
    );
    let (code, _) = fails(&["train", "--data", "builtin:classic", "--bogus"], d);
    assert_eq!(code, 2, "usage errors exit with 2");
}

#[test]
fn predict_rejects_wrong_inputs_and_broken_models() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "train",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--epochs",
            "5",
            "--out",
            "M",
            "-q",
        ],
        d,
    );
    let (_, e) = fails(&["predict", "--model", "M", "--input", "1,2"], d);
    assert!(e.contains("model takes 1 feature(s): x"), "{e}");
    std::fs::write(d.join("wrong.csv"), "a,b\n1,2\n").unwrap();
    let (_, e) = fails(&["predict", "--model", "M", "--data", "wrong.csv"], d);
    assert!(e.contains("no column named `x`"), "{e}");
    let text = std::fs::read_to_string(d.join("M/model.json")).unwrap();
    std::fs::write(d.join("M/model.json"), &text[..text.len() / 2]).unwrap();
    let (_, e) = fails(&["predict", "--model", "M", "--input", "1"], d);
    assert!(e.contains("not a valid descent model file"), "{e}");
    let edited = text.replace("\"layer0.weight\"", "\"layer9.weight\"");
    std::fs::write(d.join("M/model.json"), edited).unwrap();
    let (_, e) = fails(&["predict", "--model", "M", "--input", "1"], d);
    assert!(e.contains("layer9.weight"), "{e}");
}

#[test]
fn a_diverging_run_stops_with_exit_code_3_and_keeps_the_previous_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "train",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--lr",
            "0.01",
            "--epochs",
            "50",
            "--out",
            "V",
            "-q",
        ],
        d,
    );
    let good = std::fs::read(d.join("V/model.json")).unwrap();
    let (code, e) = fails(
        &[
            "train",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--lr",
            "10",
            "--epochs",
            "500",
            "--out",
            "V",
            "-q",
        ],
        d,
    );
    assert_eq!(code, 3);
    assert!(e.contains("diverged") && e.contains("--lr"), "{e}");
    assert_eq!(std::fs::read(d.join("V/model.json")).unwrap(), good);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("V/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["outcome"]["stop"]["status"], "diverged");
}

#[test]
fn optimizers_lists_every_optimizer_with_its_torch_class_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&["optimizers"], dir.path());
    for name in descent::optim::names() {
        assert!(
            out.contains(&format!("\n{name} (")) || out.starts_with(&format!("{name} (")),
            "{name}: {out}"
        );
    }
    assert!(out.contains("adam (torch.optim.Adam)"), "{out}");
    assert!(
        out.contains("betas=[0.9, 0.999]") || out.contains("betas=(0.9, 0.999)"),
        "{out}"
    );
}
