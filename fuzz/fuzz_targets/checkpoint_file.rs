//! Arbitrary text as `checkpoint.json`, through the checks `descent train --resume` makes
//! (envelope, checksum, format, version, then the typed state): an error, never a panic.
//! Texts with a matching checksum are also built on purpose, so that the typed part is
//! reached and not only the checksum test.
#![no_main]

use std::path::Path;

use descent::run::checkpoint_file::{check, load, seal};
use descent::DType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for candidate in [text.to_string(), seal(text)] {
        let Ok(dtype) = check(Path::new("checkpoint.json"), &candidate) else {
            continue;
        };
        let dir = Path::new(".");
        let _ = match dtype {
            DType::F32 => load::<f32>(dir, &candidate).map(|_| ()),
            DType::F64 => load::<f64>(dir, &candidate).map(|_| ()),
        };
    }
});
