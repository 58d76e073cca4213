//! Checkpointed optimizer and schedule state round-trips: 50 epochs, checkpoint through JSON,
//! restore into a fresh trainer, 50 more, equals 100 straight, bit for bit, for every
//! optimizer with shuffled mini-batches and a schedule.

use descent::data::{builtin, BatchOrder, BatchSize, Columns, Scaler, Scaling, TargetKind};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::ScheduleSpec;
use descent::train::{
    Checkpoint, EpochRecord, Event, Observer, Signal, TrainConfig, TrainData, Trainer,
};

const OPTIMIZERS: [(&str, f64); 13] = [
    ("sgd", 0.05),
    ("momentum-ema", 0.05),
    ("adagrad", 0.05),
    ("rmsprop", 0.005),
    ("adam", 0.01),
    ("adamw", 0.01),
    ("adamax", 0.01),
    ("nadam", 0.01),
    ("radam", 0.01),
    ("adadelta", 1.0),
    ("asgd", 0.05),
    ("rprop", 0.001),
    ("sign", 0.001),
];

fn run(optimizer: &str, lr: f64, split_at: Option<usize>) -> (Vec<f64>, Vec<EpochRecord>) {
    let mut data = builtin::load("diabetes", &Columns::default(), TargetKind::Real).unwrap();
    Scaler::fit(Scaling::Standard, &data.x)
        .transform(&mut data.x)
        .unwrap();
    data.y.mapv_inplace(|v| v / 100.0);
    let train = TrainData::<f64>::from_dataset(&data);
    let model = ModelKind::Mlp {
        hidden: vec![8],
        activation: descent::nn::Activation::Tanh,
    }
    .build(10, 1)
    .unwrap();
    let make = |epochs: usize| {
        let params = Params::init(model.layout(), &Init::Torch { seed: 1 }).unwrap();
        let spec = OptimizerSpec::new(optimizer).with("lr", lr);
        let opt = spec
            .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
            .unwrap();
        let schedule = ScheduleSpec::parse("step:step_size=20,gamma=0.5")
            .unwrap()
            .build(lr, opt.momentum(), 100)
            .unwrap();
        let config = TrainConfig::new(epochs, BatchSize::Rows(64), BatchOrder::Shuffle { seed: 9 });
        Trainer::new(&model, Loss::Mse, config, params, opt, schedule).unwrap()
    };
    let mut records = Vec::new();
    let mut record = |e: &Event<'_, f64>| {
        if let Event::Epoch(r, _) = e {
            records.push((*r).clone());
        }
        Ok(Signal::Continue)
    };
    let params = match split_at {
        None => {
            let mut t = make(100);
            t.run(&train, None, &mut [&mut record as &mut dyn Observer<f64>])
                .unwrap();
            t.params.values.clone()
        }
        Some(k) => {
            let mut first = make(k);
            first
                .run(&train, None, &mut [&mut record as &mut dyn Observer<f64>])
                .unwrap();
            let text = serde_json::to_string(&first.checkpoint()).unwrap();
            drop(first);
            let saved: Checkpoint<f64> = serde_json::from_str(&text).unwrap();
            let mut second = make(100);
            second.restore(&saved).unwrap();
            second
                .run(&train, None, &mut [&mut record as &mut dyn Observer<f64>])
                .unwrap();
            second.params.values.clone()
        }
    };
    (params, records)
}

#[test]
fn resume_equals_uninterrupted_for_every_optimizer() {
    for (name, lr) in OPTIMIZERS {
        let (straight, rec_straight) = run(name, lr, None);
        let (resumed, rec_resumed) = run(name, lr, Some(50));
        assert_eq!(rec_straight.len(), 100, "{name}");
        assert!(straight.iter().all(|v| v.is_finite()), "{name} diverged");
        assert_eq!(straight, resumed, "{name}: parameters differ after resume");
        assert_eq!(
            rec_straight, rec_resumed,
            "{name}: metrics differ after resume"
        );
        // Training did something.
        assert!(
            rec_straight[99].loss < rec_straight[0].loss,
            "{name} did not learn"
        );
    }
}

#[test]
fn restoring_into_a_different_model_is_an_error() {
    let model = ModelKind::Linear.build(2, 1).unwrap();
    let params = Params::<f64>::init(model.layout(), &Init::Zeros).unwrap();
    let opt = OptimizerSpec::new("adam")
        .build::<f64>(vec![(0..3, GroupOptions::default())])
        .unwrap();
    let schedule = ScheduleSpec::parse("exponential:gamma=0.9")
        .unwrap()
        .build(0.1, None, 10)
        .unwrap();
    let mut t = Trainer::new(
        &model,
        Loss::Mse,
        TrainConfig::new(1, BatchSize::Full, BatchOrder::Sequential),
        params,
        opt,
        schedule,
    )
    .unwrap();
    let bad = Checkpoint::<f64> {
        epoch: 1,
        step: 1,
        params: vec![0.0; 5],
        optimizer: serde_json::Value::Null,
        schedule: serde_json::Value::Null,
        watch: descent::train::Watch::new(&[0.0; 5]),
        batch_in_epoch: 0,
        loss_sum: 0.0,
    };
    assert!(t.restore(&bad).is_err());
}

/// A run given no thread count chooses it from its work (`parallel::threads_for`), and a
/// resumed run chooses it by the same rule: one thread for the diabetes MLP (64-row batches
/// of 97 parameters), every core for a full batch of 20,000 rows x 61 parameters; a count
/// that is given is kept.
#[test]
fn threads_follow_the_work_and_are_chosen_again_on_resume() {
    if std::env::var_os("DESCENT_THREADS").is_some() {
        return; // the variable overrides the rule
    }
    let mut data = builtin::load("diabetes", &Columns::default(), TargetKind::Real).unwrap();
    Scaler::fit(Scaling::Standard, &data.x)
        .transform(&mut data.x)
        .unwrap();
    let train = TrainData::<f64>::from_dataset(&data);
    let model = ModelKind::Mlp {
        hidden: vec![8],
        activation: descent::nn::Activation::Tanh,
    }
    .build(10, 1)
    .unwrap();
    let make = |epochs: usize, threads: Option<usize>| {
        let params = Params::init(model.layout(), &Init::Torch { seed: 1 }).unwrap();
        let opt = OptimizerSpec::new("adam")
            .with("lr", 0.01)
            .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
            .unwrap();
        let config = TrainConfig {
            threads,
            ..TrainConfig::new(epochs, BatchSize::Rows(64), BatchOrder::Shuffle { seed: 9 })
        };
        Trainer::new(
            &model,
            Loss::Mse,
            config,
            params,
            opt,
            Box::new(descent::schedule::Constant { lr: 0.01 }),
        )
        .unwrap()
    };
    let mut first = make(2, None);
    first.run(&train, None, &mut []).unwrap();
    assert_eq!(first.threads(), 1);
    let saved = first.checkpoint();
    let mut resumed = make(4, None);
    resumed.restore(&saved).unwrap();
    resumed.run(&train, None, &mut []).unwrap();
    assert_eq!(resumed.threads(), 1);
    let mut given = make(4, Some(2));
    given.restore(&saved).unwrap();
    given.run(&train, None, &mut []).unwrap();
    assert_eq!(given.threads(), 2);

    let n = 20_000;
    let x = ndarray::Array2::from_shape_fn((n, 60), |(i, j)| ((i * 7 + j * 13) % 17) as f64 / 17.0);
    let y = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| (i % 5) as f64);
    let big = TrainData { x, y };
    let linear = ModelKind::Linear.build(60, 1).unwrap();
    let params = Params::init(linear.layout(), &Init::Zeros).unwrap();
    let opt = OptimizerSpec::new("sgd")
        .with("lr", 0.01)
        .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
        .unwrap();
    let config = TrainConfig::new(1, BatchSize::Full, BatchOrder::Sequential);
    let mut t = Trainer::new(
        &linear,
        Loss::Mse,
        config,
        params,
        opt,
        Box::new(descent::schedule::Constant { lr: 0.01 }),
    )
    .unwrap();
    t.run(&big, None, &mut []).unwrap();
    assert_eq!(t.threads(), descent::parallel::available());
}
