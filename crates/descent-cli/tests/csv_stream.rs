//! Streamed CSV through the real binary: `train --stream --no-shuffle` writes the in-memory
//! run's `metrics.csv` and `model.json` byte for byte (linear with standard scaling of
//! features and target, logistic and softmax on text labels, an MLP), on a file with a
//! byte-order mark, CRLF line ends, quoted line breaks, blank lines, missing values and no
//! final line end; the memory budget streams CSV on its own; a shuffled stream resumes from
//! its checkpoint to the whole run; a bad cell exits 1 naming the file, line and column,
//! and writes no model.

use std::path::Path;
use std::process::Output;

mod common;

use common::{descent, failed, read, succeeded as ok};

/// `n` rows: features a, b (missing in rows 3 and 12), a quoted note with a line break in
/// every fourth row, a real target y, a binary label and a three-class label.
fn write_awkward(dir: &Path, n: usize) {
    let mut text = String::from("\u{feff}a,note,b,y,pet,kind\r\n");
    let mut state = 3u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
    };
    for i in 0..n {
        let (a, b, e) = (next(), next(), next());
        let y = 1.5 * a - 0.5 * b + 0.1 * e;
        let pet = if a + 0.3 * e > 0.0 { "dog" } else { "cat" };
        let kind = ["low", "mid", "high"][((y + 4.0) / 2.7).clamp(0.0, 2.0) as usize];
        let note = if i % 4 == 0 {
            format!("\"one\r\ntwo, {i}\"")
        } else {
            format!("n{i}")
        };
        let a = match i {
            3 => "NA".to_string(),
            12 => String::new(),
            _ => format!("{a:.6}"),
        };
        text += &format!("{a},{note},{b:.6},{y:.6},{pet},{kind}\r\n");
        if i % 29 == 7 {
            text += "\r\n";
        }
    }
    text.truncate(text.len() - 2);
    std::fs::write(dir.join("data.csv"), text).unwrap();
}

fn train(out: &str, target: &str, model: &[&str], extra: &[&str], dir: &Path) -> Output {
    let mut args = vec![
        "train",
        "--data",
        "data.csv",
        "--features",
        "a,b",
        "--target",
        target,
        "--drop-missing",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--batch",
        "16",
        "--out",
        out,
        "-q",
    ];
    args.extend(model);
    args.extend(extra);
    ok(descent(&args, dir))
}

#[test]
fn an_unshuffled_csv_stream_writes_the_in_memory_files_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_awkward(d, 300);
    let cases: [(&str, &[&str]); 4] = [
        (
            "y",
            &[
                "--model",
                "linear",
                "--scale",
                "standard",
                "--scale-target",
                "standard",
            ],
        ),
        ("pet", &["--model", "logistic", "--scale", "minmax"]),
        ("kind", &["--model", "softmax"]),
        (
            "kind",
            &[
                "--model",
                "mlp",
                "--hidden",
                "6",
                "--loss",
                "cross-entropy",
                "--scale",
                "minmax",
            ],
        ),
    ];
    for (k, (target, model)) in cases.into_iter().enumerate() {
        let memory = format!("memory{k}");
        train(
            &memory,
            target,
            model,
            &["--no-shuffle", "--epochs", "3"],
            d,
        );
        for chunk in ["7", "100", "65536"] {
            let stream = format!("stream{k}-{chunk}");
            let args = [
                "--no-shuffle",
                "--epochs",
                "3",
                "--stream",
                "--chunk-rows",
                chunk,
            ];
            train(&stream, target, model, &args, d);
            for file in ["metrics.csv", "model.json"] {
                assert_eq!(
                    read(d, &format!("{memory}/{file}")),
                    read(d, &format!("{stream}/{file}")),
                    "{model:?}, chunks of {chunk}: {file}"
                );
            }
        }
    }
    // The memory budget streams a CSV file on its own, and says so.
    let model = ["--model", "linear"];
    train("m", "y", &model, &["--no-shuffle", "--epochs", "3"], d);
    let mut args = vec!["train", "--data", "data.csv", "--features", "a,b"];
    args.extend([
        "--target",
        "y",
        "--drop-missing",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--batch",
        "16",
        "--epochs",
        "3",
        "--no-shuffle",
        "--memory-budget",
        "1K",
        "--out",
        "auto",
        "--model",
        "linear",
    ]);
    let auto = ok(descent(&args, d));
    let note = String::from_utf8_lossy(&auto.stderr);
    assert!(
        note.contains("over the memory budget of 0 MiB (--memory-budget): streaming it"),
        "{note}"
    );
    assert!(
        note.contains("streaming a CSV file in 1 chunk(s) of up to 65536 rows, 298 rows"),
        "{note}"
    );
    assert_eq!(read(d, "m/metrics.csv"), read(d, "auto/metrics.csv"));
}

#[test]
fn a_shuffled_csv_stream_resumed_from_its_checkpoint_equals_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_awkward(d, 200);
    let shuffled = |out: &str, epochs: &str| {
        let extra = [
            "--stream",
            "--chunk-rows",
            "30",
            "--shuffle-buffer",
            "40",
            "--val-fraction",
            "0.2",
            "--checkpoint-every",
            "1",
            "--epochs",
            epochs,
        ];
        train(out, "y", &["--model", "linear"], &extra, d)
    };
    shuffled("whole", "4");
    shuffled("parts", "2");
    ok(descent(
        &["train", "--resume", "parts", "--epochs", "4", "-q"],
        d,
    ));
    assert_eq!(read(d, "whole/metrics.csv"), read(d, "parts/metrics.csv"));
    assert_eq!(read(d, "whole/model.json"), read(d, "parts/model.json"));
}

#[test]
fn a_bad_cell_in_a_streamed_csv_exits_1_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut text = String::from("a,b,y\r\n");
    for i in 0..40 {
        text += &format!("{i},{},1.5\r\n", i % 7);
    }
    text += "1,2,x\r\n";
    std::fs::write(d.join("bad.csv"), text).unwrap();
    let out = descent(
        &[
            "train",
            "--data",
            "bad.csv",
            "--stream",
            "--chunk-rows",
            "8",
            "--batch",
            "4",
            "--out",
            "r",
        ],
        d,
    );
    let err = failed(&out);
    assert!(
        err.contains("bad.csv, line 42, column y: `x` is not a number"),
        "{err}"
    );
    assert!(!d.join("r").join("model.json").exists());
}

#[test]
fn a_csv_run_with_one_hot_encoding_is_read_whole_over_the_memory_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_awkward(d, 100);
    let args = [
        "train",
        "--data",
        "data.csv",
        "--features",
        "a,b,pet",
        "--target",
        "y",
        "--one-hot",
        "pet",
        "--drop-missing",
        "--memory-budget",
        "1K",
        "--epochs",
        "1",
        "--out",
        "r",
    ];
    let out = ok(descent(&args, d));
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(!note.contains("streaming"), "{note}");
    assert!(read(d, "r/model.json").contains("pet=dog"));
}
