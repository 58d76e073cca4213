//! Arbitrary UTF-8 into `ScheduleSpec::parse`; what parses must print back to itself, build
//! with a base learning rate and step without panicking.
#![no_main]

use descent::schedule::ScheduleSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(spec) = ScheduleSpec::parse(text) else {
        return;
    };
    let shown = spec.to_string();
    let again = ScheduleSpec::parse(&shown).expect("the display of a parsed spec parses");
    assert_eq!(again, spec, "round trip through `{shown}`");
    for total in [1, 10] {
        if let Ok(mut s) = spec.build(0.1, Some(0.9), total) {
            for i in 0..12 {
                let _ = s.lr();
                let _ = s.momentum();
                s.step(1.0 / (1.0 + i as f64));
            }
            let state = s.save_state();
            s.load_state(&state)
                .expect("a schedule restores its own state");
        }
    }
});
