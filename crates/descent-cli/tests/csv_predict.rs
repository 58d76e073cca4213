//! `predict --stream` on CSV data through the real binary: the in-memory predict's CSV byte
//! for byte (regression with scaling in f64 and f32, logistic, softmax with text labels, an
//! MLP; with and without `--keep`; `--drop-missing` with missing features and targets;
//! quoted fields, CRLF, a byte-order mark), to a file or to stdout, chosen by `--stream` or
//! by the memory budget; Parquet out equal to the Parquet input's; bad cells (and values
//! too large for an f32 model) give the in-memory errors, exit 1 and leave the old file.

use std::path::Path;
use std::process::Output;

mod common;

use common::{bytes, descent, failed, parquet_numbers, succeeded as ok};

fn predict(model: &str, data: &str, extra: &[&str], dir: &Path) -> Output {
    let mut args = vec!["predict", "--model", model, "--data", data];
    args.extend(extra);
    descent(&args, dir)
}

fn train(data: &str, out: &str, extra: &[&str], dir: &Path) {
    let mut args = vec!["train", "--data", data, "--out", out, "-q"];
    args.extend(["--epochs", "3", "--batch", "32", "--lr", "0.05"]);
    args.extend(extra);
    ok(descent(&args, dir));
}

/// A small CSV with text labels, a byte-order mark, CRLF line ends, quoted fields (one
/// holding the separator and a line break), spaces around cells, blank lines, and missing
/// feature and target cells.
const MESSY: &str = "\u{feff}id,a,b,label\r\n\
                     \"r1\", 1.5 ,2,cat\r\n\
                     r2,0.25,\"-1\",dog\r\n\
                     \r\n\
                     \"r, 3\",NA,1,cat\r\n\
                     \"r\r\n4\",3,4,bird\r\n\
                     r5,2,?,dog\r\n\
                     r6,-1,0.5,\r\n\
                     r7,1e-3,7,NA\r\n\
                     r8,4,4,\"dog\"\r\n";

#[test]
fn streamed_csv_predictions_are_the_in_memory_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 9000 rows: two whole chunks of 4096 rows and a short one.
    ok(descent(
        &[
            "generate",
            "linear",
            "--rows",
            "9000",
            "--features",
            "3",
            "--out",
            "g.csv",
        ],
        d,
    ));
    ok(descent(
        &[
            "generate",
            "logistic",
            "--rows",
            "5000",
            "--features",
            "2",
            "--out",
            "l.csv",
        ],
        d,
    ));
    ok(descent(
        &[
            "generate",
            "blobs",
            "--rows",
            "4100",
            "--features",
            "2",
            "--out",
            "b.csv",
        ],
        d,
    ));
    std::fs::write(d.join("messy.csv"), MESSY).unwrap();
    let standard = ["--scale", "standard", "--scale-target", "standard"];
    train("g.csv", "lin", &standard, d);
    train(
        "g.csv",
        "lin32",
        &[&standard[..], &["--dtype", "f32"]].concat(),
        d,
    );
    train("l.csv", "logit", &["--model", "logistic"], d);
    train(
        "b.csv",
        "mlp",
        &["--model", "mlp", "--hidden", "5", "--scale", "minmax"],
        d,
    );
    let softmax = [
        "--model",
        "softmax",
        "--target",
        "label",
        "--features",
        "a,b",
    ];
    train(
        "messy.csv",
        "soft",
        &[&softmax[..], &["--drop-missing"]].concat(),
        d,
    );
    let cases: [(&str, &str, &[&str]); 9] = [
        ("lin", "g.csv", &[]),
        ("lin", "g.csv", &["--keep", "x2,y"]),
        ("lin32", "g.csv", &["--keep", ""]),
        ("logit", "l.csv", &[]),
        ("mlp", "b.csv", &["--keep", "class"]),
        ("soft", "messy.csv", &["--drop-missing"]),
        (
            "soft",
            "messy.csv",
            &["--drop-missing", "--keep", "id,label"],
        ),
        // The target named: rows with a missing label dropped too.
        (
            "soft",
            "messy.csv",
            &["--drop-missing", "--target", "label"],
        ),
        // Reordered columns and a TSV: the model's features found by name.
        ("soft", "messy.tsv", &["--drop-missing"]),
    ];
    let tsv = "b\tlabel\tid\ta\n2\tcat\tr1\t1.5\n\n-1\t\tr2\t0.25\n";
    std::fs::write(d.join("messy.tsv"), tsv).unwrap();
    for (i, (model, data, extra)) in cases.iter().enumerate() {
        let whole = d.join(format!("w{i}.csv"));
        let streamed = d.join(format!("s{i}.csv"));
        let out = |p: &Path| ["--out".to_string(), p.display().to_string()];
        let [o, p] = out(&whole);
        ok(predict(
            model,
            data,
            &[extra, &[o.as_str(), p.as_str()][..]].concat(),
            d,
        ));
        let [o, p] = out(&streamed);
        let stream = [o.as_str(), p.as_str(), "--stream"];
        ok(predict(model, data, &[extra, &stream[..]].concat(), d));
        assert_eq!(
            bytes(&whole),
            bytes(&streamed),
            "case {i}: {model} on {data}"
        );
        // To stdout, and streamed because of the memory budget.
        let budget = ["--memory-budget", "1"];
        let run = ok(predict(model, data, &[extra, &budget[..]].concat(), d));
        assert_eq!(run.stdout, bytes(&whole), "case {i} to stdout");
        if !extra.contains(&"--keep") && *data != "messy.tsv" {
            let note = String::from_utf8_lossy(&run.stderr);
            assert!(
                note.contains("streamed predictions are not scored"),
                "{note}"
            );
        }
    }
    // Spot checks of what the bytes are: the rows with a missing feature or label dropped
    // (r3, r5, r6, r7), the quoted cells echoed (r4's id holds a line break).
    let soft = String::from_utf8(bytes(&d.join("w5.csv"))).unwrap();
    let ids: Vec<&str> = soft
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["r1", "r2", "\"r", "4\"", "r8"], "{soft}");
    assert!(soft.contains("\"r\r\n4\",3,4,bird,"), "{soft}");
    assert_eq!(bytes(&d.join("w7.csv")), soft.as_bytes());
}

/// A regression target column with a text cell: read whole, the data is not scored, so
/// `--drop-missing` keeps the rows whose target is missing; the stream finds the text cell
/// after it has dropped such a row, and starts again to give the same bytes.
#[test]
fn a_target_that_cannot_be_scored_keeps_its_missing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = String::from("x,y\n");
    for i in 0..10_000 {
        let y = match i {
            5 => "".to_string(),
            9_000 => "unknown".to_string(),
            _ => format!("{}", i % 7),
        };
        text += &format!("{},{y}\n", i % 13);
    }
    std::fs::write(d.join("t.csv"), &text).unwrap();
    std::fs::write(d.join("clean.csv"), "x,y\n1,2\n2,4\n3,6\n").unwrap();
    train("clean.csv", "m", &[], d);
    let whole = ok(predict("m", "t.csv", &["--drop-missing"], d));
    assert_eq!(
        String::from_utf8_lossy(&whole.stdout).lines().count(),
        1 + 10_000
    );
    let args = ["--drop-missing", "--stream", "--out", "s.csv"];
    ok(predict("m", "t.csv", &args, d));
    assert_eq!(bytes(&d.join("s.csv")), whole.stdout);
    // To stdout the rows are already written: an error saying so.
    let run = predict("m", "t.csv", &["--drop-missing", "--stream"], d);
    let err = failed(&run);
    assert!(err.contains("--out"), "{err}");
    // Named with --target, the text cell is an error in both.
    for extra in [&[][..], &["--stream", "--out", "e.csv"][..]] {
        let args = [&["--drop-missing", "--target", "y"][..], extra].concat();
        let err = failed(&predict("m", "t.csv", &args, d));
        assert!(
            err.contains("t.csv, line 9002, column y: `unknown` is not a number"),
            "{err}"
        );
    }
    assert!(!d.join("e.csv").exists());
}

#[test]
fn parquet_out_from_csv_is_the_parquet_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for out in ["g.csv", "g.parquet"] {
        let args = [
            "generate",
            "blobs",
            "--rows",
            "5000",
            "--features",
            "3",
            "--seed",
            "4",
        ];
        ok(descent(&[&args[..], &["--out", out]].concat(), d));
    }
    train("g.csv", "m", &["--model", "softmax"], d);
    for extra in [&[][..], &["--keep", "class,x1"][..]] {
        let stream = ["--stream", "--out"];
        ok(predict(
            "m",
            "g.csv",
            &[extra, &stream[..], &["c.parquet"]].concat(),
            d,
        ));
        ok(predict(
            "m",
            "g.parquet",
            &[extra, &stream[..], &["p.parquet"]].concat(),
            d,
        ));
        let (from_csv, from_parquet) = (
            parquet_numbers(&d.join("c.parquet")),
            parquet_numbers(&d.join("p.parquet")),
        );
        assert_eq!(from_csv.0, from_parquet.0);
        let bits = |v: &[Vec<f64>]| -> Vec<Vec<u64>> {
            v.iter()
                .map(|c| c.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&from_csv.2), bits(&from_parquet.2), "{extra:?}");
    }
    // A column whose first chunk holds numbers, and then a text cell: an error naming it.
    let mut text = String::from("x,note,y\n");
    for i in 0..5000 {
        let note = if i == 4500 {
            "late".into()
        } else {
            i.to_string()
        };
        text += &format!("{},{note},{}\n", i % 5, i % 3);
    }
    std::fs::write(d.join("n.csv"), text).unwrap();
    train("n.csv", "n", &["--features", "x"], d);
    let err = failed(&predict(
        "n",
        "n.csv",
        &["--stream", "--out", "n.parquet"],
        d,
    ));
    assert!(
        err.contains("n.csv, line 4502, column note: `late` is not a number"),
        "{err}"
    );
    assert!(!d.join("n.parquet").exists());
}

#[test]
fn a_bad_streamed_csv_cell_is_the_in_memory_error_and_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("clean.csv"), "a,b,y\n1,2,3\n2,1,4\n3,3,6\n").unwrap();
    train("clean.csv", "m", &[], d);
    train("clean.csv", "m32", &["--dtype", "f32"], d);
    let mut rows = String::from("a,b,y\n");
    for i in 0..6000 {
        rows += &format!("{},{},{}\n", i % 3, i % 5, i % 7);
    }
    let cases = [
        (
            "m",
            rows.clone() + "1,x,2\n",
            "line 6002, column b: `x` is not a number",
        ),
        (
            "m",
            rows.clone() + "\"1\n\",,2\n",
            "line 6002, column b: empty cell",
        ),
        (
            "m",
            rows.clone() + "1,2,3,4\n",
            "line 6002: this row has 4 fields but the header has 3",
        ),
        ("m", "a,y\n1,2\n".to_string(), "line 1: no column named `b`"),
        (
            "m",
            "a,b,y\n".to_string(),
            "line 1: the file has a header but no data rows",
        ),
        // Too large for the f32 model: refused (in f64 it is a number).
        (
            "m32",
            rows.clone() + "1e300,1,2\n",
            "line 6002, column a: `1e300` is too large for f32",
        ),
    ];
    for (k, (model, text, want)) in cases.iter().enumerate() {
        std::fs::write(d.join("bad.csv"), text).unwrap();
        std::fs::write(d.join("old.csv"), "kept\n").unwrap();
        let whole = predict(model, "bad.csv", &[], d);
        let streamed = predict(model, "bad.csv", &["--stream", "--out", "old.csv"], d);
        for run in [&whole, &streamed] {
            assert_eq!(run.status.code(), Some(1), "case {k}");
            let err = String::from_utf8_lossy(&run.stderr);
            assert!(err.contains(&format!("bad.csv, {want}")), "case {k}: {err}");
        }
        // The same message, word for word.
        let error = |run: &Output| -> Vec<String> {
            let err = String::from_utf8_lossy(&run.stderr);
            err.lines()
                .filter(|l| l.starts_with("error"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(error(&whole), error(&streamed), "case {k}");
        assert_eq!(bytes(&d.join("old.csv")), b"kept\n", "case {k}");
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
    ok(predict("m", "bad.csv", &[], d));
}
