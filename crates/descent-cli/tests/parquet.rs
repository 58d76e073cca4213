//! Parquet through the real binary: `train` and `predict` on the pyarrow/pandas fixtures of
//! the library (crates/descent/tests/fixtures/parquet) give what their CSV twins give;
//! `--stream` gives the in-memory run's metrics.csv byte for byte and resumes from its
//! checkpoint, also with a validation split; bad files exit 1 with a message naming the file.

use std::path::Path;
use std::process::Output;

mod common;

use common::{descent, parquet_fixture as fixture, read, succeeded as ok};

const FEATURES: &str = "i8,i16,u8,u32,f16,f32,f64,flag,d32,d64,level";

fn train(data: &str, out: &str, extra: &[&str], dir: &Path) -> Output {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--features",
        FEATURES,
        "--drop-missing",
        "--scale",
        "minmax",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--batch",
        "16",
        "--epochs",
        "4",
        "--no-shuffle",
        "--out",
        out,
        "-q",
    ];
    args.extend(extra);
    descent(&args, dir)
}

#[test]
fn parquet_trains_and_predicts_as_its_csv_twin() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(train(&fixture("numbers.csv"), "csv", &[], d));
    for file in ["numbers_gzip.parquet", "parts"] {
        ok(train(&fixture(file), "pq", &[], d));
        assert_eq!(
            read(d, "csv/metrics.csv"),
            read(d, "pq/metrics.csv"),
            "{file}"
        );
        assert_eq!(
            read(d, "csv/model.json"),
            read(d, "pq/model.json"),
            "{file}"
        );
    }
    // predict: the same predictions from the Parquet file as from the CSV file.
    for (data, out) in [
        (fixture("numbers.csv"), "a.csv"),
        (fixture("numbers_lz4.parquet"), "b.csv"),
    ] {
        ok(descent(
            &[
                "predict",
                "--model",
                "csv",
                "--data",
                &data,
                "--drop-missing",
                "--out",
                out,
            ],
            d,
        ));
    }
    let pred = |f: &str| {
        read(d, f)
            .lines()
            .map(|l| l.rsplit(',').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(pred("a.csv"), pred("b.csv"));
    assert_eq!(read(d, "a.metrics.json"), read(d, "b.metrics.json"));
}

#[test]
fn a_stream_without_shuffle_writes_the_in_memory_metrics_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let data = fixture("numbers_zstd.parquet");
    ok(train(&data, "memory", &[], d));
    let streamed = ok(train(&data, "stream", &["--stream"], d));
    assert!(streamed.stderr.is_empty(), "-q");
    assert_eq!(read(d, "memory/metrics.csv"), read(d, "stream/metrics.csv"));
    assert_eq!(read(d, "memory/model.json"), read(d, "stream/model.json"));
    // The memory budget streams on its own, and says so.
    let auto = ok(descent(
        &[
            "train",
            "--data",
            &data,
            "--features",
            FEATURES,
            "--drop-missing",
            "--scale",
            "minmax",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--batch",
            "16",
            "--epochs",
            "4",
            "--no-shuffle",
            "--memory-budget",
            "1K",
            "--out",
            "auto",
        ],
        d,
    ));
    let note = String::from_utf8_lossy(&auto.stderr);
    assert!(
        note.contains("over the memory budget of 0 MiB (--memory-budget): streaming it"),
        "{note}"
    );
    assert!(
        note.contains("streaming 1 file(s), 3 row group(s), 90 rows; in file order"),
        "{note}"
    );
    assert_eq!(read(d, "memory/metrics.csv"), read(d, "auto/metrics.csv"));
}

#[test]
fn a_shuffled_stream_resumed_from_its_checkpoint_equals_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let data = fixture("numbers_snappy.parquet");
    let shuffled = |out: &str, epochs: &str| {
        let args = [
            "train",
            "--data",
            &data,
            "--features",
            FEATURES,
            "--drop-missing",
            "--scale",
            "standard",
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
            "--batch",
            "8",
            "--epochs",
            epochs,
            "--stream",
            "--shuffle-buffer",
            "20",
            "--checkpoint-every",
            "1",
            "--out",
            out,
            "-q",
        ];
        ok(descent(&args, d))
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
fn a_stream_with_a_validation_split_validates_and_resumes_to_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let data = fixture("numbers_snappy.parquet");
    let split = |out: &str, epochs: &str| {
        let args = [
            "train",
            "--data",
            &data,
            "--features",
            FEATURES,
            "--drop-missing",
            "--scale",
            "standard",
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
            "--batch",
            "8",
            "--epochs",
            epochs,
            "--stream",
            "--shuffle-buffer",
            "20",
            "--val-fraction",
            "0.25",
            "--checkpoint-every",
            "1",
            "--out",
            out,
        ];
        ok(descent(&args, d))
    };
    let out = split("whole", "4");
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("validation rows (held out by a seeded hash"),
        "{note}"
    );
    let metrics = read(d, "whole/metrics.csv");
    let mut lines = metrics.lines();
    assert_eq!(lines.next(), Some("epoch,step,loss,val_loss,lr,grad_norm"));
    for line in lines {
        let val_loss: f64 = line.split(',').nth(3).unwrap().parse().unwrap();
        assert!(val_loss.is_finite() && val_loss > 0.0, "{line}");
    }
    let summary = read(d, "whole/summary.json");
    assert!(summary.contains("\"val\""), "{summary}");
    let val_rows = summary.split("\"val_rows\": ").nth(1).unwrap();
    let val_rows: u64 = val_rows[..val_rows.find(|c: char| !c.is_ascii_digit()).unwrap()]
        .parse()
        .unwrap();
    assert!((8..=40).contains(&val_rows), "{val_rows} of about 90 rows");
    split("parts", "2");
    ok(descent(
        &["train", "--resume", "parts", "--epochs", "4", "-q"],
        d,
    ));
    assert_eq!(metrics, read(d, "parts/metrics.csv"));
    assert_eq!(read(d, "whole/model.json"), read(d, "parts/model.json"));
}

#[test]
fn bad_parquet_files_exit_1_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good = std::fs::read(fixture("numbers_none.parquet")).unwrap();
    std::fs::write(d.join("cut.parquet"), &good[..good.len() - 100]).unwrap();
    for (data, stream, expected) in [
        (
            "cut.parquet",
            false,
            "cut.parquet: not a readable Parquet file",
        ),
        (
            "cut.parquet",
            true,
            "cut.parquet: not a readable Parquet file",
        ),
        (
            &fixture("other_schema") as &str,
            false,
            "b.parquet: its schema differs from",
        ),
        (
            &fixture("when.parquet"),
            true,
            "column when: `when` is TIMESTAMP, not a number or text",
        ),
        (
            &fixture("numbers_none.parquet"),
            true,
            "row group 0, row 5, column level: null value",
        ),
    ] {
        let mut args = vec!["train", "--data", data, "--out", "x", "-q"];
        if stream {
            args.extend(["--stream", "--batch", "4"]);
        }
        let out = descent(&args, d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{data}: {err}");
        assert!(err.contains(expected), "{data}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
