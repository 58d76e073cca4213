//! Files written by release 0.1 (`tests/fixtures/release-0.1`, made by that release's
//! binary) still work: a version-1 checkpoint, which stored the command line, resumes to
//! the uninterrupted run's files byte for byte, and a version-1 `model.json` predicts what
//! that release predicted. Also the limits a run checks before it allocates anything.

mod common;

use std::path::Path;
use std::time::Instant;

use common::{descent, ok};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/release-0.1")
        .join(name)
}

#[test]
fn a_release_0_1_checkpoint_resumes_to_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("bc-mid");
    std::fs::create_dir(&run).unwrap();
    for f in ["checkpoint.json", "metrics.csv"] {
        std::fs::copy(fixture("bc-mid").join(f), run.join(f)).unwrap();
    }
    ok(
        &["train", "--resume", "bc-mid", "--epochs", "20", "-q"],
        dir.path(),
    );
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(
        read(&run.join("metrics.csv")),
        read(&fixture("bc-full-metrics.csv"))
    );
    assert_eq!(
        read(&run.join("model.json")),
        read(&fixture("bc-full-model.json"))
    );
    // The new checkpoint is version 2 and holds the run specification.
    let text = std::fs::read_to_string(run.join("checkpoint.json")).unwrap();
    assert!(
        text.contains(r#""version":2"#) && text.contains(r#""spec":{"#),
        "{}",
        &text[..200]
    );
}

#[test]
fn a_release_0_1_model_predicts_what_it_predicted_then() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("iris-softmax-model.json"),
        dir.path().join("model.json"),
    )
    .unwrap();
    let iris = Path::new(env!("CARGO_MANIFEST_DIR")).join("../descent/data/iris.csv");
    let out = ok(
        &[
            "predict",
            "--model",
            "model.json",
            "--data",
            iris.to_str().unwrap(),
        ],
        dir.path(),
    );
    let then = std::fs::read_to_string(fixture("iris-softmax-predictions.csv")).unwrap();
    // Today's output keeps every input column (the label too) and adds the same prediction
    // columns: those are compared as text, the features as numbers (0.1 wrote `3` for `3.0`).
    let table = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (now, then) = (table(&out), table(&then));
    assert_eq!(now.len(), then.len());
    for (column, name) in then[0].iter().enumerate() {
        let j = now[0]
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name}"));
        for (a, b) in now.iter().zip(&then).skip(1) {
            match name.starts_with("sepal") || name.starts_with("petal") {
                true => assert_eq!(
                    a[j].parse::<f64>().unwrap(),
                    b[column].parse::<f64>().unwrap()
                ),
                false => assert_eq!(a[j], b[column], "{name}"),
            }
        }
    }
}

#[test]
fn absurd_sizes_and_thread_counts_are_refused_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["--model", "mlp", "--hidden", "100000,100000,100000"],
            "parameters",
        ),
        (vec!["--threads", "100000"], "--threads"),
    ] {
        let started = Instant::now();
        let mut all = vec!["train", "--data", "builtin:iris", "--out", "x", "-q"];
        all.extend(args.iter().copied());
        let out = descent(&all, dir.path());
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(seconds < 1.0, "{args:?} took {seconds} s");
        assert!(
            !dir.path().join("x").exists(),
            "{args:?}: nothing is written"
        );
    }
}
