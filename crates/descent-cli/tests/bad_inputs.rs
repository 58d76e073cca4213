//! Bad (and tricky-but-valid) inputs through the real binary: one file per case in
//! `tests/bad_inputs/`, one test per case. A bad input must exit non-zero with one message
//! naming the file, line and column (or field) and saying how to fix it; it must never panic.
//! A tricky-but-valid input must train, and one number of its `summary.json` is checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn corpus(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad_inputs")
        .join(file)
}

/// Runs `descent` in `dir`; an argument `@NAME` stands for the corpus file `NAME`, and a
/// `train` run writes to `dir/out` quietly.
fn descent(args: &[&str], dir: &Path) -> Output {
    let mut argv: Vec<String> = args
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some(file) => corpus(file).display().to_string(),
            None => a.to_string(),
        })
        .collect();
    if args.first() == Some(&"train") && !args.contains(&"--out") {
        argv.extend(["--out".into(), "out".into(), "--quiet".into()]);
    }
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(&argv)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Trains `good.csv` into `dir/model` for the predict cases.
fn train_good_model(dir: &Path) {
    let out = descent(
        &["train", "--data", "@good.csv", "--out", "model", "--quiet"],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a case must produce.
enum Expect {
    /// Exit with this code; stderr holds each of these substrings.
    Fails(i32, &'static [&'static str]),
    /// Succeed; `out/summary.json` has this JSON value at this pointer.
    Trains(&'static str, &'static str),
}

fn check(args: &[&str], expect: Expect) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    if args.first() == Some(&"predict") {
        train_good_model(d);
    }
    let out = descent(args, d);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "descent {args:?} panicked: {stderr}"
    );
    match expect {
        Expect::Fails(code, parts) => {
            assert_eq!(out.status.code(), Some(code), "descent {args:?}: {stderr}");
            assert!(stderr.starts_with("error: "), "descent {args:?}: {stderr}");
            if code != 2 {
                // (clap's usage errors, exit code 2, add a `--help` hint line.)
                let lines = stderr.trim_end().lines().count();
                assert_eq!(lines, 1, "one message: {stderr}");
            }
            for part in parts {
                assert!(
                    stderr.contains(part),
                    "descent {args:?}: `{part}` not in: {stderr}"
                );
            }
            let model = d.join("out/model.json");
            assert!(!model.exists(), "a failed run wrote {}", model.display());
        }
        Expect::Trains(pointer, value) => {
            assert!(out.status.success(), "descent {args:?} failed: {stderr}");
            let text = std::fs::read_to_string(d.join("out/summary.json")).unwrap();
            let summary: Value = serde_json::from_str(&text).unwrap();
            let expected: Value = serde_json::from_str(value).unwrap();
            assert_eq!(
                summary.pointer(pointer),
                Some(&expected),
                "{pointer} in {text}"
            );
        }
    }
}

/// One `#[test]` per row: `name: [args...] => expectation;`.
macro_rules! cases {
    ($($name:ident: [$($arg:expr),*] => $expect:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(&[$($arg),*], $expect);
            }
        )*
    };
}

use Expect::{Fails, Trains};

cases! {
    // CSV data.
    empty_file: ["train", "--data", "@empty.csv"] =>
        Fails(1, &["empty.csv, line 1: the file is empty; expected a header row"]);
    header_only: ["train", "--data", "@header_only.csv"] =>
        Fails(1, &["header_only.csv, line 1: the file has a header but no data rows"]);
    ragged_row: ["train", "--data", "@ragged.csv"] =>
        Fails(1, &["ragged.csv, line 3: this row has 3 fields but the header has 2"]);
    non_numeric_cell: ["train", "--data", "@non_numeric.csv"] =>
        Fails(1, &["non_numeric.csv, line 3, column x: `abc` is not a number"]);
    nan_cell: ["train", "--data", "@nan_cell.csv"] =>
        Fails(1, &["nan_cell.csv, line 3, column x: `NaN` is NaN; only finite numbers"]);
    infinite_target: ["train", "--data", "@inf_cell.csv"] =>
        Fails(1, &["inf_cell.csv, line 3, column y: `-inf` is infinite"]);
    empty_cell: ["train", "--data", "@empty_cell.csv"] =>
        Fails(1, &["empty_cell.csv, line 3, column x: empty cell; fill it in, remove the row, or pass --drop-missing"]);
    nan_cell_dropped: ["train", "--data", "@nan_cell.csv", "--drop-missing"] =>
        Trains("/data/dropped_rows", "1");
    empty_cell_dropped: ["train", "--data", "@empty_cell.csv", "--drop-missing"] =>
        Trains("/data/train_rows", "1");
    every_row_missing: ["train", "--data", "@all_missing.csv", "--drop-missing"] =>
        Fails(1, &["all_missing.csv, line 1: every data row (2) has a missing value and was dropped"]);
    non_numeric_is_not_missing: ["train", "--data", "@non_numeric.csv", "--drop-missing"] =>
        Fails(1, &["non_numeric.csv, line 3, column x: `abc` is not a number"]);
    missing_column_name: ["train", "--data", "@missing_name.csv"] =>
        Fails(1, &["missing_name.csv, line 1: column 2 has no name in the header"]);
    duplicated_column_name: ["train", "--data", "@duplicate_name.csv"] =>
        Fails(1, &["duplicate_name.csv, line 1: the column name `x` appears twice"]);
    invalid_utf8: ["train", "--data", "@invalid_utf8.csv"] =>
        Fails(1, &["invalid_utf8.csv, line 3: invalid UTF-8 text"]);
    unterminated_quote: ["train", "--data", "@unterminated_quote.csv"] =>
        Fails(1, &["unterminated_quote.csv, line 3"]);
    missing_file: ["train", "--data", "no_such_file.csv"] =>
        Fails(1, &["no_such_file.csv: No such file"]);
    unknown_target: ["train", "--data", "@good.csv", "--target", "z"] =>
        Fails(1, &["good.csv, line 1: no column named `z`; the columns are: x, y"]);
    too_large_for_f32: ["train", "--data", "@too_large_for_f32.csv", "--dtype", "f32"] =>
        Fails(1, &["too_large_for_f32.csv, line 4, column x: `1e300` is too large for f32", "--dtype f64"]);
    too_large_for_f32_is_fine_in_f64: ["train", "--data", "@too_large_for_f32.csv", "--scale", "standard"] =>
        Trains("/data/train_rows", "3");
    logistic_three_labels: ["train", "--data", "@labels_0_1_2.csv", "--model", "logistic"] =>
        Fails(1, &["labels_0_1_2.csv: binary classification needs exactly 2 distinct labels in `y`, found 3: 0, 1, 2"]);
    logistic_labels_not_0_1: ["train", "--data", "@labels_1_2.csv", "--model", "logistic"] =>
        Fails(1, &["labels_1_2.csv: logistic regression needs labels 0 and 1 in `y`, found 1 and 2", "--model softmax"]);

    // Tricky but valid CSV.
    utf8_bom: ["train", "--data", "@bom.csv"] => Trains("/data/features", r#"["x"]"#);
    crlf_line_ends: ["train", "--data", "@crlf.csv"] => Trains("/data/train_rows", "3");
    quoted_fields: ["train", "--data", "@quoted.csv"] => Trains("/data/train_rows", "3");
    blank_lines: ["train", "--data", "@blank_lines.csv"] => Trains("/data/train_rows", "3");
    one_row: ["train", "--data", "@one_row.csv", "--scale", "standard"] => Trains("/data/train_rows", "1");
    constant_column_standard_scaling: ["train", "--data", "@constant_column.csv", "--scale", "standard"] =>
        Trains("/data/scale/std/1", "0.0");
    softmax_string_labels: ["train", "--data", "@string_labels.csv", "--model", "softmax", "--epochs", "5"] =>
        Trains("/data/classes", r#"["bird, small", "cat", "dog"]"#);

    // Predict.
    predict_wrong_columns: ["predict", "--model", "model", "--data", "@wrong_columns.csv"] =>
        Fails(1, &["wrong_columns.csv, line 1: no column named `x`; the columns are: a, b"]);
    predict_too_many_inputs: ["predict", "--model", "model", "--input", "1,2"] =>
        Fails(1, &["--input has 2 value(s) but the model takes 1 feature(s): x"]);
    truncated_model: ["predict", "--model", "@truncated_model.json", "--input", "1"] =>
        Fails(1, &["truncated_model.json is not a valid descent model file (truncated or edited?)", "EOF while parsing"]);
    model_with_unknown_field: ["predict", "--model", "@unknown_field_model.json", "--input", "1"] =>
        Fails(1, &["unknown_field_model.json is not a valid descent model file", "unknown field `extra`"]);
    model_with_wrong_shape: ["predict", "--model", "@wrong_shape_model.json", "--input", "1"] =>
        Fails(1, &["wrong_shape_model.json is inconsistent", "parameter `layer0.weight` should be 1x1 (1 values)"]);
    model_with_huge_layers: ["predict", "--model", "@huge_layers_model.json", "--input", "1"] =>
        Fails(1, &["huge_layers_model.json is inconsistent", "too large"]);
    logistic_model_without_classes: ["predict", "--model", "@logistic_no_classes_model.json", "--input", "1"] =>
        Fails(1, &["logistic_no_classes_model.json is inconsistent", "needs 2 `classes`, the file has 0"]);
    regression_model_with_classes: ["predict", "--model", "@regression_with_classes_model.json", "--input", "1"] =>
        Fails(1, &["regression_with_classes_model.json is inconsistent", "has no `classes`"]);

    // Command-line values.
    zero_learning_rate: ["train", "--data", "@good.csv", "--lr", "0"] => Fails(1, &["--lr must be > 0"]);
    negative_learning_rate: ["train", "--data", "@good.csv", "--lr", "-0.1"] => Fails(1, &["lr"]);
    infinite_learning_rate: ["train", "--data", "@good.csv", "--lr", "inf"] => Fails(1, &["lr"]);
    beta1_equal_to_one: ["train", "--data", "@good.csv", "--optimizer", "adam", "--betas", "1.0,0.999"] =>
        Fails(1, &["betas"]);
    negative_beta2: ["train", "--data", "@good.csv", "--optimizer", "adam", "--betas", "0.9,-0.5"] =>
        Fails(1, &["betas"]);
    one_beta: ["train", "--data", "@good.csv", "--optimizer", "adam", "--betas", "0.9"] =>
        Fails(1, &["--betas takes two comma-separated numbers"]);
    negative_batch_size: ["train", "--data", "@good.csv", "--batch", "-4"] => Fails(2, &["invalid value '-4' for '--batch <BATCH>'", "a positive number of rows"]);
    zero_batch_size: ["train", "--data", "@good.csv", "--batch", "0"] => Fails(2, &["'--batch <BATCH>'", "a positive number of rows"]);
    zero_epochs: ["train", "--data", "@good.csv", "--epochs", "0"] => Fails(1, &["--epochs must be at least 1"]);
    negative_epochs: ["train", "--data", "@good.csv", "--epochs", "-3"] => Fails(2, &["--epochs"]);
    bad_schedule: ["train", "--data", "@good.csv", "--schedule", "cosine:t_max=ten"] =>
        Fails(2, &["'--schedule <SCHEDULE>'", "cannot parse schedule `cosine:t_max=ten`: `t_max=ten` is not a non-negative integer"]);
    zero_checkpoint_interval: ["train", "--data", "@good.csv", "--checkpoint-every", "0"] =>
        Fails(1, &["--checkpoint-every must be at least 1"]);
    bad_on_divergence: ["train", "--data", "@good.csv", "--on-divergence", "panic"] =>
        Fails(2, &["'--on-divergence <ON_DIVERGENCE>'", "expected stop, continue or reduce-lr"]);
    bad_early_stopping: ["train", "--data", "@good.csv", "--early-stopping", "patience=0"] =>
        Fails(2, &["'--early-stopping <EARLY_STOPPING>'", "patience must be a positive integer", "patience=N[,min_delta=X]"]);
    zero_threads: ["train", "--data", "@good.csv", "--threads", "0"] => Fails(1, &["--threads must be at least 1"]);

    // Checkpoints.
    resume_without_checkpoint: ["train", "--resume", "no_such_run"] =>
        Fails(1, &["cannot read checkpoint no_such_run/checkpoint.json", "--checkpoint-every"]);
    torn_checkpoint: ["train", "--resume", "@torn_checkpoint"] =>
        Fails(1, &["torn_checkpoint/checkpoint.json is damaged or was edited"]);
    edited_checkpoint: ["train", "--resume", "@edited_checkpoint"] =>
        Fails(1, &["edited_checkpoint/checkpoint.json is damaged or was edited (checksum mismatch)"]);
    bad_dtype: ["train", "--data", "@good.csv", "--dtype", "f16"] => Fails(2, &["invalid value 'f16' for '--dtype <DTYPE>'", "must be f32 or f64"]);
}

/// Files in `dir` named like the atomic writer's temporaries (`.NAME.tmp`).
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect()
}

#[test]
fn failing_runs_keep_the_previous_model_and_leave_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = descent(&["train", "--data", "@good.csv"], d);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let before = std::fs::read(d.join("out/model.json")).unwrap();
    let failing: [(&[&str], i32); 4] = [
        (&["train", "--data", "@non_numeric.csv"], 1),
        (
            &[
                "train",
                "--data",
                "@too_large_for_f32.csv",
                "--dtype",
                "f32",
            ],
            1,
        ),
        (&["train", "--data", "@good.csv", "--lr", "0"], 1),
        // Diverges: metrics and summary are written, model.json is not.
        (&["train", "--data", "@good.csv", "--lr", "1e6"], 3),
    ];
    for (args, code) in failing {
        let out = descent(args, d);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "descent {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let after = std::fs::read(d.join("out/model.json")).unwrap();
        assert!(after == before, "descent {args:?} changed model.json");
        assert_eq!(temporaries(&d.join("out")), Vec::<String>::new());
    }
}
