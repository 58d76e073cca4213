//! Arbitrary bytes as a Parquet file, and as a CSV file read as a stream: a dataset or an
//! error, never a panic.
//!
//! - Parquet: read whole (both target kinds), then streamed through the statistics pass.
//! - Both: the stream's rows read on the calling thread and on the read-ahead thread must be
//!   the same bits, or fail with the same message (f32, so that the overflow check runs too).
//!
//! The bytes go through a file because the readers take paths (one per fuzzing process).
#![no_main]

use std::sync::Arc;

use descent::data::parquet::{resolve_columns, scan, ParquetFiles, RowReader, Selection};
use descent::data::{Columns, DataSource, TargetKind};
use descent::DType;
use libfuzzer_sys::fuzz_target;

/// Rows read at most from one reader (a small file may claim many rows).
const MAX_ROWS: usize = 1 << 16;

fuzz_target!(|bytes: &[u8]| {
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let parquet = dir.join(format!("descent-fuzz-{id}.parquet"));
    let csv = dir.join(format!("descent-fuzz-{id}.csv"));
    if std::fs::write(&parquet, bytes).is_err() || std::fs::write(&csv, bytes).is_err() {
        return;
    }
    let columns = Columns {
        drop_missing: true,
        ..Columns::default()
    };
    for kind in [TargetKind::Real, TargetKind::Classes] {
        if let Ok(d) = DataSource::File(parquet.clone()).load::<f64>(&columns, kind) {
            assert_eq!(d.x.nrows(), d.y.nrows());
        }
    }
    if let Ok(files) = ParquetFiles::open(&parquet) {
        stream(files, &columns);
    }
    // Chunks of 3 rows: several chunks from a small input.
    if let Ok(files) = ParquetFiles::open_csv(&csv, None, 3) {
        stream(files, &columns);
    }
});

/// The statistics pass over `files`, and its rows with and without read-ahead.
fn stream(files: ParquetFiles, columns: &Columns) {
    let Ok(chosen) = resolve_columns(&files, columns) else {
        return;
    };
    let names = files.names();
    let index = |n: &String| names.iter().position(|m| m == n).unwrap_or(0);
    let sel = Selection {
        features: chosen
            .features
            .unwrap_or_default()
            .iter()
            .map(index)
            .collect(),
        targets: chosen
            .targets
            .unwrap_or_default()
            .iter()
            .map(index)
            .collect(),
        classes: None,
        drop_missing: true,
        split: None,
        dtype: DType::F32,
    };
    let files = Arc::new(files);
    let _ = scan(&files, &sel, false);
    let plain = rows(&files, &sel, false);
    let ahead = rows(&files, &sel, true);
    match (plain, ahead) {
        (Ok(a), Ok(b)) => assert!(a
            .iter()
            .map(|v| v.to_bits())
            .eq(b.iter().map(|v| v.to_bits()))),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("read-ahead differs: {a:?} against {b:?}"),
    }
}

/// Every row of `files` in file order (at most [`MAX_ROWS`]), or the error's text.
fn rows(files: &Arc<ParquetFiles>, sel: &Selection, ahead: bool) -> Result<Vec<f64>, String> {
    let groups = files.row_groups().len();
    let mut reader = RowReader::new(files.clone(), Arc::new(sel.clone()), (0..groups).collect());
    if ahead {
        reader.read_ahead();
    }
    let mut row = vec![0.0; sel.width()];
    let mut all = Vec::new();
    for _ in 0..MAX_ROWS {
        if !reader.next_row(&mut row).map_err(|e| e.to_string())? {
            break;
        }
        all.extend_from_slice(&row);
    }
    Ok(all)
}
