//! Arbitrary JSON text parsed as an `OptimizerSpec`, built over two parameter groups and
//! stepped once: an error is fine, a panic is not.
#![no_main]

use descent::optim::{GroupOptions, OptimizerSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(spec) = serde_json::from_str::<OptimizerSpec>(text) else {
        return;
    };
    let Ok(lr) = spec.lr() else {
        return;
    };
    let groups = vec![
        (0..2, GroupOptions::default()),
        (
            2..3,
            GroupOptions {
                weight_decay: Some(0.0),
            },
        ),
    ];
    if let Ok(mut opt) = spec.build::<f64>(groups) {
        let mut params = [0.5, -1.0, 2.0];
        opt.step(lr, &mut params, &[0.1, -0.2, 0.3]);
        opt.step(lr, &mut params, &[0.0, 0.0, 0.0]);
        let state = opt.save_state();
        opt.load_state(&state)
            .expect("an optimizer restores its own state");
    }
});
