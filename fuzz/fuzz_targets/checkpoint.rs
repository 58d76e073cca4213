//! Arbitrary JSON into a `Checkpoint<f64>`, restored into a small trainer which then runs:
//! a checkpoint that does not fit must be an error from `restore`, never a panic later.
#![no_main]

use descent::data::{BatchOrder, BatchSize, Dataset};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::ScheduleSpec;
use descent::train::{Checkpoint, Observer, TrainConfig, TrainData, Trainer};
use libfuzzer_sys::fuzz_target;
use ndarray::array;

const OPTIMIZERS: [&str; 4] = ["adam", "sgd", "asgd", "rprop"];

fuzz_target!(|text: &str| {
    let Ok(checkpoint) = serde_json::from_str::<Checkpoint<f64>>(text) else {
        return;
    };
    let data = Dataset::new(
        array![[0.0, 1.0], [1.0, 0.5], [2.0, -1.0]],
        array![[1.0], [2.0], [0.5]],
        vec!["a".into(), "b".into()],
        vec!["y".into()],
    )
    .unwrap();
    let data = TrainData::<f64>::from_dataset(&data);
    let model = ModelKind::Linear.build(2, 1).unwrap();
    for name in OPTIMIZERS {
        let params = Params::<f64>::init(model.layout(), &Init::Zeros).unwrap();
        let opt = OptimizerSpec::new(name)
            .with("lr", 0.01)
            .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
            .unwrap();
        for schedule in ["exponential:gamma=0.9", "plateau", "onecycle:max_lr=0.1"] {
            let schedule = ScheduleSpec::parse(schedule)
                .unwrap()
                .build(0.01, opt.momentum(), 4)
                .unwrap();
            let config = TrainConfig::new(4, BatchSize::Rows(2), BatchOrder::Shuffle { seed: 1 });
            let params = params.clone();
            let opt = OptimizerSpec::new(name)
                .with("lr", 0.01)
                .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
                .unwrap();
            let mut t = Trainer::new(&model, Loss::Mse, config, params, opt, schedule).unwrap();
            if t.restore(&checkpoint).is_ok() {
                let none: &mut [&mut dyn Observer<f64>] = &mut [];
                let _ = t.run(&data, None, none);
            }
        }
    }
});
