//! Decodes a Parquet data set once, as a streamed run's statistics pass does, and prints the
//! rows and the seconds: the decode-only floor of benchmark P6 (`bench/p6.sh`). A CSV file
//! is opened as a stream opens it (the pass that finds its chunks, `index_seconds`) and
//! then decoded the same way.
//!
//! `cargo run --release -p descent --example decode_parquet [PATH]` (default: a test file).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use descent::data::parquet::{
    is_parquet, resolve_columns, scan, ParquetFiles, Selection, CSV_CHUNK_ROWS,
};
use descent::data::Columns;

fn main() -> descent::Result<()> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/parquet/numbers_snappy.parquet")
        });
    let started = Instant::now();
    let files = if is_parquet(&path) {
        ParquetFiles::open(&path)?
    } else {
        ParquetFiles::open_csv(&path, None, CSV_CHUNK_ROWS)?
    };
    let indexed = started.elapsed().as_secs_f64();
    let columns = resolve_columns(
        &files,
        &Columns {
            drop_missing: true,
            ..Columns::default()
        },
    )?;
    let names = files.names();
    let index = |n: &String| names.iter().position(|m| m == n).expect("resolved");
    let sel = Selection {
        features: columns
            .features
            .unwrap_or_default()
            .iter()
            .map(index)
            .collect(),
        targets: columns
            .targets
            .unwrap_or_default()
            .iter()
            .map(index)
            .collect(),
        classes: None,
        drop_missing: true,
        split: None,
        dtype: descent::DType::F64,
    };
    let stats = scan(&Arc::new(files), &sel, false)?;
    println!(
        "{{\"rows\":{},\"columns\":{},\"index_seconds\":{:.3},\"seconds\":{:.3}}}",
        stats.rows,
        sel.width(),
        indexed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
