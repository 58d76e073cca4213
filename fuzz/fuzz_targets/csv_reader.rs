//! Arbitrary bytes into the CSV reader, both target kinds and both precisions: it must return
//! a `Dataset` or an error, never panic.
#![no_main]

use std::path::Path;

use descent::data::{read_csv_bytes, read_csv_bytes_for, Columns, TargetKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let origin = Path::new("fuzz.csv");
    let columns = Columns::default();
    for kind in [TargetKind::Real, TargetKind::Classes] {
        if let Ok(d) = read_csv_bytes(origin, bytes, &columns, kind) {
            assert!(d.x.iter().all(|v| v.is_finite()));
            assert_eq!(d.x.nrows(), d.y.nrows());
        }
        if let Ok(d) = read_csv_bytes_for::<f32>(origin, bytes, &columns, kind) {
            assert!(d.x.iter().all(|&v| (v as f32).is_finite()));
        }
    }
});
