//! Properties that must hold for every input, checked with proptest on random inputs (case
//! counts kept small so the file runs in seconds in release mode):
//! the CSV reader and the schedule parser never panic, standardizing inverts, optimizers stay
//! finite on bounded gradients, and resuming from a checkpoint equals not stopping.

use std::path::Path;

use descent::data::{
    read_csv_bytes, read_csv_bytes_for, BatchOrder, BatchSize, Columns, Dataset, Scaler, Scaling,
    TargetKind,
};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{names, GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::ScheduleSpec;
use descent::train::{Checkpoint, Observer, TrainConfig, TrainData, Trainer};
use ndarray::Array2;
use proptest::prelude::*;

fn read_all_ways(bytes: &[u8]) {
    let origin = Path::new("p.csv");
    let columns = Columns::default();
    for kind in [TargetKind::Real, TargetKind::Classes] {
        let _ = read_csv_bytes(origin, bytes, &columns, kind);
        let _ = read_csv_bytes_for::<f32>(origin, bytes, &columns, kind);
    }
    let named = Columns {
        targets: Some(vec!["y".into()]),
        features: Some(vec!["a".into()]),
        drop_missing: false,
    };
    let _ = read_csv_bytes(origin, bytes, &named, TargetKind::Real);
}

/// Text that is almost CSV: cells (numbers, words, quotes, a BOM) joined by separators.
fn almost_csv() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        Just(""),
        Just("a"),
        Just("y"),
        Just("1"),
        Just("-2.5"),
        Just("1e300"),
        Just("nan"),
        Just("-inf"),
        Just("cat"),
        Just(" 3 "),
        Just("\""),
        Just("\"q,\"\"r\""),
        Just("\u{feff}"),
        Just("é"),
    ];
    let sep = prop_oneof![
        Just(","),
        Just(","),
        Just("\n"),
        Just("\r\n"),
        Just("\r"),
        Just("\""),
        Just("")
    ];
    proptest::collection::vec((cell, sep), 0..40)
        .prop_map(|parts| parts.into_iter().map(|(c, s)| format!("{c}{s}")).collect())
}

/// A finite value of any magnitude from 1e-6 to 1e6.
fn finite() -> impl Strategy<Value = f64> {
    (-1.0f64..1.0, -6i32..=6).prop_map(|(m, e)| m * 10f64.powi(e))
}

fn matrix() -> impl Strategy<Value = Array2<f64>> {
    (1usize..12, 1usize..5).prop_flat_map(|(rows, cols)| {
        proptest::collection::vec(finite(), rows * cols)
            .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
    })
}

/// A schedule spec in the command-line grammar, with names and keys that mostly exist.
fn schedule_text() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("constant"),
        Just("step"),
        Just("multistep"),
        Just("exponential"),
        Just("cosine"),
        Just("cosine-restarts"),
        Just("linear"),
        Just("onecycle"),
        Just("cyclic"),
        Just("inv-sqrt"),
        Just("polynomial"),
        Just("plateau"),
        Just("none"),
    ];
    let key = prop_oneof![
        Just("gamma"),
        Just("step_size"),
        Just("milestones"),
        Just("t_max"),
        Just("t_0"),
        Just("t_mult"),
        Just("eta_min"),
        Just("factor"),
        Just("total_iters"),
        Just("start_factor"),
        Just("end_factor"),
        Just("max_lr"),
        Just("base_lr"),
        Just("step_size_up"),
        Just("step_size_down"),
        Just("scale_mode"),
        Just("total_steps"),
        Just("pct_start"),
        Just("power"),
        Just("patience"),
        Just("mode"),
        Just("min_lr"),
        Just("three_phase"),
    ];
    let value = prop_oneof![
        Just("0".to_string()),
        Just("1".to_string()),
        Just("10".to_string()),
        Just("0.5".to_string()),
        Just("-1".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("1e400".to_string()),
        Just("3;7".to_string()),
        Just("true".to_string()),
        Just("max".to_string()),
        (0u32..1000).prop_map(|v| v.to_string()),
        (0.0f64..2.0).prop_map(|v| v.to_string()),
    ];
    let one = (
        name,
        proptest::collection::vec((key, value), 0..4),
        any::<bool>(),
    )
        .prop_map(|(name, pairs, colon)| {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if colon || !body.is_empty() {
                format!("{name}:{}", body.join(","))
            } else {
                name.to_string()
            }
        });
    proptest::collection::vec((one, 0usize..50), 1..4).prop_map(|parts| {
        let mut s = String::new();
        for (i, (text, milestone)) in parts.iter().enumerate() {
            if i > 0 {
                s += &format!(" @{milestone} ");
            }
            s += text;
        }
        s
    })
}

/// Parses, checks the round trip through `Display`, and runs the schedule a few steps.
fn parse_and_run(text: &str) {
    let Ok(spec) = ScheduleSpec::parse(text) else {
        return;
    };
    let shown = spec.to_string();
    let again = ScheduleSpec::parse(&shown)
        .unwrap_or_else(|e| panic!("`{text}` parsed, its display `{shown}` did not: {e}"));
    assert_eq!(again, spec, "`{text}` -> `{shown}`");
    if let Ok(mut s) = spec.build(0.1, Some(0.9), 20) {
        for i in 0..25 {
            let _ = s.lr();
            s.step(1.0 / (1.0 + i as f64));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn csv_reader_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        read_all_ways(&bytes);
    }

    #[test]
    fn csv_reader_never_panics_on_almost_csv(text in almost_csv()) {
        read_all_ways(text.as_bytes());
    }

    #[test]
    fn schedule_parser_never_panics_on_strings(text in ".{0,60}") {
        parse_and_run(&text);
    }

    #[test]
    fn schedule_specs_round_trip_through_display(text in schedule_text()) {
        parse_and_run(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Tolerance: 1e-12 relative to the column's largest magnitude (the shift by the mean
    /// loses bits relative to that, not to each value).
    #[test]
    fn standardize_then_inverse_is_the_identity(x in matrix()) {
        let scaler = Scaler::fit(Scaling::Standard, &x);
        let mut y = x.clone();
        scaler.transform(&mut y).unwrap();
        prop_assert!(y.iter().all(|v| v.is_finite()));
        scaler.inverse(&mut y).unwrap();
        for (j, (a, b)) in x.columns().into_iter().zip(y.columns()).enumerate() {
            let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (u, v) in a.iter().zip(b.iter()) {
                prop_assert!((u - v).abs() <= 1e-12 * scale, "column {j}: {u} -> {v}");
            }
        }
    }

    #[test]
    fn optimizers_stay_finite_on_bounded_gradients(
        which in 0..names().len(),
        lr_exp in -4.0f64..-1.0,
        start in proptest::collection::vec(-1.0f64..1.0, 4),
        grads in proptest::collection::vec(prop_oneof![Just(0.0), -10.0f64..10.0], 4 * 25),
    ) {
        let name = names()[which];
        let lr = 10f64.powf(lr_exp);
        let spec = OptimizerSpec::new(name).with("lr", lr);
        let mut opt = spec.build::<f64>(vec![(0..4, GroupOptions::default())]).unwrap();
        let mut opt32 = spec.build::<f32>(vec![(0..4, GroupOptions::default())]).unwrap();
        let mut p = start.clone();
        let mut p32: Vec<f32> = start.iter().map(|&v| v as f32).collect();
        for step in 0..200 {
            let g = &grads[(step % 25) * 4..][..4];
            let g32: Vec<f32> = g.iter().map(|&v| v as f32).collect();
            opt.step(lr, &mut p, g);
            opt32.step(lr, &mut p32, &g32);
            prop_assert!(p.iter().all(|v| v.is_finite()), "{name} lr {lr} step {step}: {p:?}");
            prop_assert!(p32.iter().all(|v| v.is_finite()), "{name} f32 lr {lr} step {step}: {p32:?}");
        }
    }
}

/// A small regression problem: `y = 2 a - b + 0.5` plus a bounded wobble.
fn small_data(rows: usize) -> Dataset {
    let x = Array2::from_shape_fn((rows, 2), |(i, j)| {
        ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0
    });
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| {
        2.0 * x[[i, 0]] - x[[i, 1]] + 0.5 + 0.1 * ((i % 3) as f64 - 1.0)
    });
    Dataset::new(x, y, vec!["a".into(), "b".into()], vec!["y".into()]).unwrap()
}

/// Trains for `epochs` with a checkpoint after `split` epochs (through JSON) when given.
fn train_small(name: &str, batch: usize, epochs: usize, split: Option<usize>) -> Vec<f64> {
    let data = TrainData::<f64>::from_dataset(&small_data(13));
    let model = ModelKind::Linear.build(2, 1).unwrap();
    let lr = 0.01;
    let make = |epochs: usize| {
        let params = Params::init(model.layout(), &Init::Constant(0.1)).unwrap();
        let opt = OptimizerSpec::new(name)
            .with("lr", lr)
            .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
            .unwrap();
        let schedule = ScheduleSpec::parse("step:step_size=2,gamma=0.5")
            .unwrap()
            .build(lr, opt.momentum(), epochs)
            .unwrap();
        let config = TrainConfig::new(
            epochs,
            BatchSize::Rows(batch),
            BatchOrder::Shuffle { seed: 3 },
        );
        Trainer::new(&model, Loss::Mse, config, params, opt, schedule).unwrap()
    };
    let none: &mut [&mut dyn Observer<f64>] = &mut [];
    match split {
        None => {
            let mut t = make(epochs);
            t.run(&data, None, none).unwrap();
            t.params.values.clone()
        }
        Some(k) => {
            let mut first = make(k);
            first.run(&data, None, none).unwrap();
            let text = serde_json::to_string(&first.checkpoint()).unwrap();
            let saved: Checkpoint<f64> = serde_json::from_str(&text).unwrap();
            let mut second = make(epochs);
            second.restore(&saved).unwrap();
            second.run(&data, None, none).unwrap();
            second.params.values.clone()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn resume_equals_uninterrupted(which in 0..names().len(), batch in 1usize..14, split in 1usize..6) {
        let name = names()[which];
        let straight = train_small(name, batch, 6, None);
        let resumed = train_small(name, batch, 6, Some(split));
        prop_assert_eq!(straight, resumed, "{} batch {} split at {}", name, batch, split);
    }
}
