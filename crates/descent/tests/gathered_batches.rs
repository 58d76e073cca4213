//! Shuffled mini-batches from a table larger than the caches take a second thread when there
//! is one: batches of two chunks or more are cut between two threads
//! (`kernels::LinearPair`), batches of one chunk gathered ahead (`data::gather`). The run
//! gives the same bits as on one thread,
//! through a divergence with learning-rate cuts and through a stop and resume mid-epoch, for
//! batches of four chunks of the linear kernel (256 rows), three (160, the last one short)
//! and one (48). One-row updates, fused in the kernel, read blocks of rows copied ahead
//! (`data::gather::BlockGatherer`) where they are ready, in order or shuffled: the same bits
//! again.

use descent::data::{BatchOrder, BatchSize};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{
    EpochRecord, Event, Observer, OnDivergence, Outcome, Signal, StepEvents, Stop, TrainConfig,
    TrainData, Trainer,
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

/// An observer of the steps `seen` asks for, which stops the run at step `stop_at`.
struct Watch<'a> {
    seen: StepEvents,
    stop_at: Option<usize>,
    epochs: &'a mut Vec<EpochRecord>,
}

impl Observer<f32> for Watch<'_> {
    fn on_event(&mut self, e: &Event<'_, f32>) -> descent::Result<Signal> {
        Ok(match e {
            Event::Step(r, _) if Some(r.step) == self.stop_at => Signal::Stop("test".into()),
            Event::Epoch(r, _) => {
                self.epochs.push((*r).clone());
                Signal::Continue
            }
            _ => Signal::Continue,
        })
    }

    fn step_events(&self) -> StepEvents {
        self.seen
    }
}

/// A run on `threads` threads, with an observer that sees the steps `seen` asks for (one-row
/// updates run fused unless it asks for every one), stopped at `stop_at` and resumed.
#[allow(clippy::too_many_arguments)]
fn train(
    kind: &ModelKind,
    loss: Loss,
    data: &TrainData<f32>,
    optimizer: &str,
    config: &TrainConfig,
    stop_at: Option<usize>,
    threads: usize,
    seen: StepEvents,
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
    let mut watch = Watch {
        seen,
        stop_at,
        epochs: &mut epochs,
    };
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
        let every = StepEvents::Every;
        let one = train(&kind, loss, data, optimizer, config, stop_at, 1, every);
        let two = train(&kind, loss, data, optimizer, config, stop_at, 2, every);
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

/// One-row plain SGD (fused in the linear kernel) on two threads reads blocks of rows that a
/// second thread copies ahead, and the others from the table: the same bits as one thread,
/// in order and shuffled, for the logistic and the squared loss, through a stop and resume
/// mid-epoch, and through a divergence whose row ends a fused stretch in the middle of a
/// block (the learning rate cut and the stretch started again from there, until the run
/// ends). (`DESCENT_GATHER_BLOCKS=1`: the thread is never stopped for being slow, so that
/// its blocks are used on any machine.)
#[test]
fn one_row_updates_on_gathered_blocks_give_the_bits_of_one_thread() {
    // Blocks used whenever they are ready, whether or not they pay on this machine.
    std::env::set_var("DESCENT_GATHER_BLOCKS", "1");
    let regression = table(None);
    let labels = table(Some(2));
    let mut diverging = regression.clone();
    diverging.x[[22_500, 7]] = 1e30;
    let in_order = TrainConfig::new(2, BatchSize::Rows(1), BatchOrder::Sequential);
    let shuffled = TrainConfig::new(2, BatchSize::Rows(1), BatchOrder::Shuffle { seed: 4 });
    let mut reduce = shuffled.clone();
    reduce.divergence.on_divergence = OnDivergence::ReduceLr;
    let cases = [
        (
            ModelKind::Logistic,
            Loss::BceWithLogits,
            &labels,
            &in_order,
            None,
        ),
        (
            ModelKind::Logistic,
            Loss::BceWithLogits,
            &labels,
            &shuffled,
            None,
        ),
        (ModelKind::Linear, Loss::Mse, &regression, &in_order, None),
        (
            ModelKind::Linear,
            Loss::Mse,
            &regression,
            &shuffled,
            Some(60 * 1024),
        ),
        (ModelKind::Linear, Loss::Mse, &diverging, &reduce, None),
    ];
    for (kind, loss, data, config, stop_at) in cases {
        let case = format!("{kind} {loss} {:?} stop at {stop_at:?}", config.order);
        let run = |threads| {
            let sparse = StepEvents::Sparse;
            train(&kind, loss, data, "sgd", config, stop_at, threads, sparse)
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.outcome, two.outcome, "{case}");
        assert_eq!(one.params, two.params, "{case}");
        assert_eq!(one.epochs, two.epochs, "{case}");
        // The row of 1e30 ends every try: the learning rate is cut, then the run ends.
        let diverged = matches!(one.outcome.stop, Stop::Diverged { .. });
        let expected = std::ptr::eq(data, &diverging);
        assert_eq!(diverged, expected, "{case}: {:?}", one.outcome);
        assert_eq!(
            one.outcome.lr_scale < 1.0,
            expected,
            "{case}: {:?}",
            one.outcome
        );
    }
}
