//! Streamed input and output through the real binary: `generate --format parquet` reads
//! back to its CSV's numbers; `predict --stream` writes the in-memory predict's CSV byte for
//! byte (regression in f64 and f32 with dropped rows, classification), Parquet with the
//! same values, and nothing on an error; `train --stream --scale-from RUN` uses that run's
//! scalers and so gives its bytes.

use std::path::Path;
use std::process::Output;

mod common;

use common::{
    bytes, descent, failed, parquet_fixture as fixture, parquet_numbers, succeeded as ok,
};

/// A CSV file's header and its cells parsed as numbers (text as NaN), column by column.
fn csv_numbers(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = String::from_utf8(bytes(path)).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut columns = vec![Vec::new(); header.len()];
    for line in lines {
        for (c, cell) in line.split(',').enumerate() {
            columns[c].push(cell.parse().unwrap_or(f64::NAN));
        }
    }
    (header, columns)
}

fn same_numbers(a: &[Vec<f64>], b: &[Vec<f64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        })
}

#[test]
fn generated_parquet_reads_back_to_the_csv_numbers() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, rows) in [("linear", "1000"), ("blobs", "257"), ("beans", "10")] {
        let csv = dir.path().join(format!("{kind}.csv"));
        let pq = dir.path().join(format!("{kind}.parquet"));
        let common = [kind, "--rows", rows, "--features", "3", "--seed", "9"];
        let mut args = vec!["generate"];
        args.extend(common);
        ok(descent(
            &[&args[..], &["--out", csv.to_str().unwrap()]].concat(),
            dir.path(),
        ));
        // Chosen by the extension; row groups of 300 rows.
        let pq_args = ["--out", pq.to_str().unwrap(), "--row-group-rows", "300"];
        ok(descent(&[&args[..], &pq_args].concat(), dir.path()));
        let (names, groups, values) = parquet_numbers(&pq);
        let (header, expected) = csv_numbers(&csv);
        assert_eq!(names, header, "{kind}");
        let n: usize = rows.parse().unwrap();
        let want: Vec<u64> = (0..n.div_ceil(300))
            .map(|g| (n - 300 * g).min(300) as u64)
            .collect();
        assert_eq!(groups, want, "{kind}");
        assert!(same_numbers(&values, &expected), "{kind}");
    }
    // --format parquet without a file, and a zero row group, are refused.
    let out = descent(&["generate", "linear", "--format", "parquet"], dir.path());
    assert!(failed(&out).contains("--out FILE.parquet"));
    let out = descent(
        &[
            "generate",
            "linear",
            "--out",
            "z.parquet",
            "--row-group-rows",
            "0",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("z.parquet").exists());
}

fn predict(model: &str, data: &str, out: &Path, extra: &[&str], dir: &Path) -> Output {
    let mut args = vec!["predict", "--model", model, "--data", data];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    descent(&args, dir)
}

#[test]
fn streamed_predictions_are_the_in_memory_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Regression on generated data: 5 row groups, the last one short, several chunks each.
    let data = d.join("g.parquet");
    let data = data.to_str().unwrap();
    ok(descent(
        &[
            "generate",
            "linear",
            "--rows",
            "20000",
            "--features",
            "4",
            "--out",
            data,
            "--row-group-rows",
            "4500",
        ],
        d,
    ));
    ok(descent(
        &[
            "train", "--data", data, "--batch", "64", "--epochs", "2", "--lr", "0.05", "--out",
            "lin", "-q",
        ],
        d,
    ));
    // f32 with nulls dropped (the fixture's nullable column), every numeric type.
    let numbers = fixture("numbers_zstd.parquet");
    ok(descent(
        &[
            "train",
            "--data",
            &numbers,
            "--target",
            "y",
            "--features",
            "f16,f32,f64,i16,u8,d32,d64,level,flag",
            "--drop-missing",
            "--scale",
            "minmax",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--dtype",
            "f32",
            "--batch",
            "16",
            "--epochs",
            "2",
            "--out",
            "num",
            "-q",
        ],
        d,
    ));
    // Classification: a dictionary-encoded label column written by pandas.
    let classes = fixture("classes.parquet");
    ok(descent(
        &[
            "train",
            "--data",
            &classes,
            "--target",
            "label",
            "--features",
            "size,count",
            "--model",
            "softmax",
            "--epochs",
            "5",
            "--out",
            "cls",
            "-q",
        ],
        d,
    ));
    let cases: [(&str, &str, &[&str]); 4] = [
        ("lin", data, &[]),
        ("num", &numbers, &["--drop-missing"]),
        ("num", &numbers, &["--drop-missing", "--keep", "level,f32"]),
        ("cls", &classes, &[]),
    ];
    for (i, (model, data, extra)) in cases.iter().enumerate() {
        let (whole, streamed) = (d.join(format!("w{i}.csv")), d.join(format!("s{i}.csv")));
        ok(predict(model, data, &whole, extra, d));
        ok(predict(
            model,
            data,
            &streamed,
            &[extra, &["--stream"][..]].concat(),
            d,
        ));
        assert_eq!(
            bytes(&whole),
            bytes(&streamed),
            "case {i}: {model} on {data}"
        );
        // Parquet out: the same columns and values (the CSV's text read back).
        let pq = d.join(format!("s{i}.parquet"));
        ok(predict(
            model,
            data,
            &pq,
            &[extra, &["--stream"][..]].concat(),
            d,
        ));
        let (names, _, values) = parquet_numbers(&pq);
        let (header, expected) = csv_numbers(&streamed);
        assert_eq!(names, header, "case {i}");
        for (c, (got, want)) in values.iter().zip(&expected).enumerate() {
            for (r, (g, w)) in got.iter().zip(want).enumerate() {
                // The CSV holds f32 predictions rounded to f32's shortest text.
                let close = g == w || (g.is_nan() && w.is_nan()) || (*g as f32) == (*w as f32);
                assert!(close, "case {i}, column {}, row {r}: {g} vs {w}", header[c]);
            }
        }
    }
}

#[test]
fn a_streamed_prediction_error_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let numbers = fixture("numbers_snappy.parquet");
    ok(descent(
        &[
            "train",
            "--data",
            &numbers,
            "--target",
            "y",
            "--features",
            "f64,level",
            "--drop-missing",
            "--batch",
            "16",
            "--epochs",
            "1",
            "--out",
            "m",
            "-q",
        ],
        d,
    ));
    for out in ["old.csv", "old.parquet"] {
        std::fs::write(d.join(out), "kept\n").unwrap();
        // No --drop-missing: the null in `level` stops it.
        let run = predict("m", &numbers, &d.join(out), &["--stream"], d);
        let err = failed(&run);
        assert!(err.contains("numbers_snappy.parquet, row group"), "{err}");
        assert!(err.contains("column level"), "{err}");
        assert_eq!(bytes(&d.join(out)), b"kept\n");
        let left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            !left.iter().any(|n| n.to_string_lossy().contains(".tmp")),
            "{left:?}"
        );
    }
}

#[test]
fn scale_from_a_streamed_run_gives_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("g.parquet");
    let data = data.to_str().unwrap();
    ok(descent(
        &[
            "generate",
            "linear",
            "--rows",
            "3000",
            "--features",
            "3",
            "--out",
            data,
            "--row-group-rows",
            "700",
        ],
        d,
    ));
    let run = |out: &str, scale: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data,
            "--stream",
            "--shuffle-buffer",
            "500",
            "--batch",
            "32",
            "--epochs",
            "3",
            "--lr",
            "0.05",
            "--scale",
            scale,
            "--scale-target",
            "minmax",
            "--out",
            out,
            "-q",
        ];
        args.extend(extra);
        descent(&args, d)
    };
    ok(run("a", "standard", &[]));
    ok(run("b", "standard", &["--scale-from", "a"]));
    ok(run("c", "standard", &["--scale-from", "a/model.json"]));
    for file in ["metrics.csv", "model.json"] {
        let a = bytes(&d.join("a").join(file));
        assert_eq!(a, bytes(&d.join("b").join(file)), "{file}");
        assert_eq!(a, bytes(&d.join("c").join(file)), "{file}");
    }
    // Another scaling than the model's, or data read whole, is refused.
    let bad = run("e", "minmax", &["--scale-from", "a"]);
    assert!(failed(&bad).contains("pass --scale standard"));
    let whole = descent(
        &[
            "train",
            "--data",
            data,
            "--scale-from",
            "a",
            "--out",
            "f",
            "-q",
        ],
        d,
    );
    assert!(failed(&whole).contains("add --stream"));
}
