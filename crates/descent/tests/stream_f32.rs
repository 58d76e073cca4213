//! A number too large for an f32 run (`1e300`) in streamed data is the in-memory reader's
//! error, naming the file and the line (CSV) or the row group and row (Parquet) and the
//! column, not an infinity; in an f64 run it is a number. Features and targets alike.

use std::path::Path;

use descent::data::parquet::{OutColumn, OutKind, ParquetSink};
use descent::run::StreamSpec;
use descent::{DType, Run, RunSpec};

fn spec(path: &Path, dtype: DType) -> RunSpec {
    let mut spec = RunSpec::csv(path)
        .optimizer("sgd", 0.01)
        .batch(4)
        .epochs(1)
        .targets(&["y"])
        .dtype(dtype);
    spec.data.drop_missing = true;
    spec.shuffle = Some(false);
    spec
}

fn streamed(spec: &RunSpec) -> RunSpec {
    let mut spec = spec.clone();
    spec.data.stream = Some(StreamSpec {
        chunk_rows: Some(3),
        ..StreamSpec::default()
    });
    spec
}

/// The error of the streamed run of `spec` (or `None`: it trained), the data read whole's.
fn errors(spec: &RunSpec, dir: &Path) -> (Option<String>, Option<String>) {
    let local = |e: descent::Error| e.to_string().replace(&format!("{}/", dir.display()), "");
    let memory = match spec.dtype {
        DType::F32 => Run::<f32>::new(spec.clone()).err(),
        DType::F64 => Run::<f64>::new(spec.clone()).err(),
    };
    let stream = |spec: RunSpec| -> Option<descent::Error> {
        match spec.dtype {
            DType::F32 => match Run::<f32>::streaming(spec, None) {
                Ok((mut run, mut source, _)) => run.train_source(&mut source, &mut []).err(),
                Err(e) => Some(e),
            },
            DType::F64 => match Run::<f64>::streaming(spec, None) {
                Ok((mut run, mut source, _)) => run.train_source(&mut source, &mut []).err(),
                Err(e) => Some(e),
            },
        }
    };
    (stream(streamed(spec)).map(local), memory.map(local))
}

/// Rows `(a, b, y)` written as CSV and as Parquet (DOUBLE columns, row groups of 3 rows).
fn write_both(dir: &Path, rows: &[[f64; 3]]) {
    let mut text = String::from("a,b,y\n");
    for r in rows {
        text += &format!("{:?},{:?},{:?}\n", r[0], r[1], r[2]);
    }
    std::fs::write(dir.join("big.csv"), text).unwrap();
    let names = ["a", "b", "y"];
    let schema: Vec<(String, OutKind, bool)> = names
        .iter()
        .map(|n| (n.to_string(), OutKind::Number, false))
        .collect();
    let mut sink = ParquetSink::create(&dir.join("big.parquet"), &schema).unwrap();
    for group in rows.chunks(3) {
        let columns: Vec<OutColumn> = (0..3)
            .map(|c| OutColumn::Numbers(group.iter().map(|r| Some(r[c])).collect()))
            .collect();
        sink.write_group(&columns).unwrap();
    }
    sink.finish().unwrap();
}

#[test]
fn a_number_too_large_for_f32_is_refused_in_a_stream_as_in_memory() {
    let dir = std::env::temp_dir().join(format!("descent-stream-f32-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.as_path();
    let fine: Vec<[f64; 3]> = (0..7).map(|i| [i as f64, 1.0 - i as f64, 0.5]).collect();
    let cases = [
        // A feature in the third chunk (row group 2), after a row with a missing value.
        (6, 1, "column b", "line 8", "row group 2, row 6"),
        // A target in the first.
        (1, 2, "column y", "line 3", "row group 0, row 1"),
    ];
    for (row, column, name, line, place) in cases {
        let mut rows = fine.clone();
        rows[5][0] = f64::NAN; // dropped (--drop-missing), not an error
        rows[row][column] = 1e300;
        write_both(d, &rows);
        let reason = format!(
            "{name}: `1e300` is too large for f32 (largest magnitude 3.403e38); rescale this column or train in f64 (--dtype f64)"
        );
        let csv = spec(&d.join("big.csv"), DType::F32);
        let (stream, memory) = errors(&csv, d);
        assert_eq!(stream, memory);
        assert_eq!(stream, Some(format!("big.csv, {line}, {reason}")));
        let parquet = spec(&d.join("big.parquet"), DType::F32);
        let (stream, memory) = errors(&parquet, d);
        assert_eq!(stream, memory);
        assert_eq!(stream, Some(format!("big.parquet, {place}, {reason}")));
        // In f64 both train.
        for path in ["big.csv", "big.parquet"] {
            assert_eq!(
                errors(&spec(&d.join(path), DType::F64), d),
                (None, None),
                "{path}"
            );
        }
    }
    std::fs::remove_dir_all(d).unwrap();
}
