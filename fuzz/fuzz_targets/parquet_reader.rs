//! Arbitrary bytes as a Parquet file, read whole (both target kinds) and streamed through
//! the statistics pass: a dataset or an error, never a panic. The bytes go through a file
//! because the reader takes paths (one per fuzzing process).
#![no_main]

use std::sync::Arc;

use descent::data::parquet::{resolve_columns, scan, ParquetFiles, Selection};
use descent::data::{Columns, DataSource, TargetKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = std::env::temp_dir().join(format!("descent-fuzz-{}.parquet", std::process::id()));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let columns = Columns { drop_missing: true, ..Columns::default() };
    for kind in [TargetKind::Real, TargetKind::Classes] {
        if let Ok(d) = DataSource::File(path.clone()).load::<f64>(&columns, kind) {
            assert_eq!(d.x.nrows(), d.y.nrows());
        }
    }
    let Ok(files) = ParquetFiles::open(&path) else { return };
    let Ok(chosen) = resolve_columns(&files, &columns) else { return };
    let names = files.names();
    let index = |n: &String| names.iter().position(|m| m == n).unwrap_or(0);
    let sel = Selection {
        features: chosen.features.unwrap_or_default().iter().map(index).collect(),
        targets: chosen.targets.unwrap_or_default().iter().map(index).collect(),
        classes: None,
        drop_missing: true,
    };
    let _ = scan(&Arc::new(files), &sel, false);
});
