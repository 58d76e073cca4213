//! Arbitrary text as `model.json`, through the same parser and checks `descent predict` uses:
//! a file that loads must then predict on a few rows of the right width without panicking;
//! everything else must be an error.
#![no_main]

use descent::Model;
use libfuzzer_sys::fuzz_target;
use ndarray::Array2;

fuzz_target!(|text: &str| {
    let Ok(model) = Model::parse("model.json", text) else {
        return;
    };
    let width = model.features.len();
    if width > 4096 {
        return;
    }
    let x = Array2::from_shape_fn((3, width), |(i, j)| (i as f64) - 0.5 * (j as f64));
    let _ = model.predict(x.view());
});
