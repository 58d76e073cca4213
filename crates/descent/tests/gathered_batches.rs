//! Shuffled mini-batches from a table larger than the caches take a second thread when there
//! is one: batches of two chunks or more are cut between two threads
//! (`kernels::LinearPair`), batches of one chunk gathered ahead (`data::gather`). The run
//! gives the same bits as on one thread,
//! through a divergence with learning-rate cuts and through a stop and resume mid-epoch, for
//! batches of four chunks of the linear kernel (256 rows), three (160, the last one short)
//! and one (48).

use descent::data::{BatchOrder, BatchSize};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{
    EpochRecord, Event, EveryStep, OnDivergence, Outcome, Signal, Stop, TrainConfig, TrainData,
    Trainer,
};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 45,000 rows of 100 f32 features: 18 MB, above the gatherer's 16 MB floor.
fn table(classes: Option<u8>) -> TrainData<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let x = Array2::from_shape_fn((45_000, 100), |_| rng.random_range(-1.0f32..1.0));
    let y = Array2::from_shape_fn((45_000, 1), |(i, _)| match classes {
        Some(k) => f32::from((i % usize::from(k)) as u8),
        None => x.row(i).iter().take(10).sum::<f32>(),
    });
    TrainData { x, y }
}

struct Run {
    outcome: Outcome,
    params: Vec<u32>,
    epochs: Vec<EpochRecord>,
}

fn train(
    kind: &ModelKind,
    loss: Loss,
    data: &TrainData<f32>,
    optimizer: &str,
    config: &TrainConfig,
    stop_at: Option<usize>,
    threads: usize,
) -> Run {
    let n_out = if loss == Loss::CrossEntropy { 3 } else { 1 };
    let model = kind.build(100, n_out).unwrap();
    let params = Params::<f32>::init(model.layout(), &Init::Normal { std: 0.1, seed: 1 }).unwrap();
    let lr = 0.01;
    let opt = OptimizerSpec::new(optimizer)
        .with("lr", lr)
        .build::<f32>(vec![(0..params.len(), GroupOptions::default())])
        .unwrap();
    let schedule = Box::new(Constant { lr });
    let config = TrainConfig {
        threads: Some(threads),
        ..config.clone()
    };
    let mut t = Trainer::new(&model, loss, config, params, opt, schedule).unwrap();
    let mut epochs = Vec::new();
    let mut watch = EveryStep(|e: &Event<'_, f32>| {
        Ok(match e {
            Event::Step(r, _) if Some(r.step) == stop_at => Signal::Stop("test".into()),
            Event::Epoch(r, _) => {
                epochs.push((*r).clone());
                Signal::Continue
            }
            _ => Signal::Continue,
        })
    });
    let mut outcome = t.run(data, None, &mut [&mut watch]).unwrap();
    if stop_at.is_some() {
        // Resumed in the middle of the epoch it stopped in.
        outcome = t.run(data, None, &mut [&mut watch]).unwrap();
    }
    Run {
        outcome,
        params: t.params.values.iter().map(|v| v.to_bits()).collect(),
        epochs,
    }
}

#[test]
fn gathered_batches_give_the_bits_of_one_thread() {
    let regression = table(None);
    let classes = table(Some(3));
    let mut diverging = regression.clone();
    diverging.x[[22_500, 7]] = 1e30;
    let config = TrainConfig::new(2, BatchSize::Rows(256), BatchOrder::Shuffle { seed: 4 });
    let mut reduce = config.clone();
    reduce.divergence.on_divergence = OnDivergence::ReduceLr;
    let cases = [
        (
            "sgd",
            ModelKind::Linear,
            Loss::Mse,
            &regression,
            &config,
            None,
        ),
        (
            "adam",
            ModelKind::Linear,
            Loss::Mse,
            &regression,
            &config,
            None,
        ),
        (
            "adam",
            ModelKind::Softmax,
            Loss::CrossEntropy,
            &classes,
            &config,
            None,
        ),
        (
            "sgd",
            ModelKind::Linear,
            Loss::Mse,
            &regression,
            &config,
            Some(250),
        ),
        (
            "sgd",
            ModelKind::Linear,
            Loss::Mse,
            &diverging,
            &reduce,
            None,
        ),
    ];
    // Each case with batches of 256 rows, then 160 and 48.
    let mut all = Vec::new();
    for (optimizer, kind, loss, data, config, stop_at) in cases {
        for rows in [256, 160, 48] {
            let mut config = config.clone();
            config.batch = BatchSize::Rows(rows);
            all.push((optimizer, kind.clone(), loss, data, config, stop_at));
        }
    }
    for (optimizer, kind, loss, data, config, stop_at) in all {
        let config = &config;
        let rows = config.batch;
        let one = train(&kind, loss, data, optimizer, config, stop_at, 1);
        let two = train(&kind, loss, data, optimizer, config, stop_at, 2);
        let case = format!("{optimizer} {kind} {loss} {rows:?} stop at {stop_at:?}");
        assert_eq!(one.outcome, two.outcome, "{case}");
        assert_eq!(one.params, two.params, "{case}");
        assert_eq!(one.epochs, two.epochs, "{case}");
        let diverged = matches!(one.outcome.stop, Stop::Diverged { .. });
        assert_eq!(
            diverged,
            std::ptr::eq(data, &diverging),
            "{case}: {:?}",
            one.outcome
        );
    }
}
