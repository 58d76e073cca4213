//! One-row plain SGD on one-layer models runs fused in the kernel when no observer wants
//! every step: the same bits as the step-by-step loop, for every loss, in f32 and f64, with
//! a `Step` event every `STEP_EVENT_INTERVAL` updates and at each epoch's end; a row whose
//! loss is not finite is met as in the loop.

use descent::data::{BatchOrder, BatchSize};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{
    EpochRecord, Event, Observer, OnDivergence, Outcome, Signal, StepEvents, Stop, TrainConfig,
    TrainData, Trainer, STEP_EVENT_INTERVAL,
};
use descent::Float;
use ndarray::{Array2, ShapeBuilder};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Records what it sees; wants every step only if `every`.
struct Recorder {
    every: bool,
    steps: Vec<usize>,
    epochs: Vec<EpochRecord>,
}

impl Recorder {
    fn new(every: bool) -> Self {
        Recorder {
            every,
            steps: Vec::new(),
            epochs: Vec::new(),
        }
    }
}

impl<F: Float> Observer<F> for Recorder {
    fn on_event(&mut self, event: &Event<'_, F>) -> descent::Result<Signal> {
        match event {
            Event::Step(r, _) => self.steps.push(r.step),
            Event::Epoch(r, _) => self.epochs.push((*r).clone()),
            _ => {}
        }
        Ok(Signal::Continue)
    }

    fn step_events(&self) -> StepEvents {
        match self.every {
            true => StepEvents::Every,
            false => StepEvents::Sparse,
        }
    }
}

struct Run<F> {
    outcome: Outcome,
    params: Vec<F>,
    grads: Vec<F>,
    recorder: Recorder,
}

fn train<F: Float>(
    kind: &ModelKind,
    loss: Loss,
    data: &TrainData<F>,
    optimizer: &(OptimizerSpec, f64),
    config: &TrainConfig,
    every_step: bool,
) -> Run<F> {
    let model = kind.build(data.x.ncols(), n_out(loss, data)).unwrap();
    let params = Params::<F>::init(model.layout(), &Init::Normal { std: 0.3, seed: 2 }).unwrap();
    let (spec, lr) = optimizer;
    let opt = spec
        .clone()
        .with("lr", *lr)
        .build::<F>(vec![(0..params.len(), GroupOptions::default())])
        .unwrap();
    let schedule = Box::new(Constant { lr: *lr });
    let mut t = Trainer::new(&model, loss, config.clone(), params, opt, schedule).unwrap();
    let mut recorder = Recorder::new(every_step);
    let outcome = t.run(data, None, &mut [&mut recorder]).unwrap();
    Run {
        outcome,
        params: t.params.values.clone(),
        grads: t.grads().to_vec(),
        recorder,
    }
}

fn n_out<F>(loss: Loss, data: &TrainData<F>) -> usize {
    match loss {
        Loss::CrossEntropy => 3,
        _ => data.y.ncols(),
    }
}

fn bits<F: Float>(v: &[F]) -> Vec<u64> {
    v.iter().map(|x| x.f64().to_bits()).collect()
}

fn cases<F: Float>(n: usize, d: usize) -> Vec<(ModelKind, Loss, TrainData<F>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut x = || Array2::from_shape_fn((n, d), |_| F::of(rng.random_range(-2.0..2.0)));
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let mut targets = |cols: usize, classes: Option<u8>| {
        Array2::from_shape_fn((n, cols), |_| match classes {
            Some(k) => F::of(f64::from(rng.random_range(0..k))),
            None => F::of(rng.random_range(-3.0..3.0)),
        })
    };
    vec![
        (
            ModelKind::Linear,
            Loss::Mse,
            TrainData {
                x: x(),
                y: targets(2, None),
            },
        ),
        (
            ModelKind::LinearNobias,
            Loss::Mse,
            TrainData {
                x: x(),
                y: targets(1, None),
            },
        ),
        (
            ModelKind::Linear,
            Loss::Mae,
            TrainData {
                x: x(),
                y: targets(1, None),
            },
        ),
        (
            ModelKind::Linear,
            Loss::Huber { delta: 0.5 },
            TrainData {
                x: x(),
                y: targets(1, None),
            },
        ),
        (
            ModelKind::Logistic,
            Loss::BceWithLogits,
            TrainData {
                x: x(),
                y: targets(1, Some(2)),
            },
        ),
        (
            ModelKind::Softmax,
            Loss::CrossEntropy,
            TrainData {
                x: x(),
                y: targets(1, Some(3)),
            },
        ),
    ]
}

fn fused_equals_loop<F: Float>() {
    // Three epochs of 2500 one-row updates in shuffled order: each epoch has two full
    // intervals of fused updates and a short one.
    let n = 2500;
    let config = TrainConfig::new(3, BatchSize::Rows(1), BatchOrder::Shuffle { seed: 9 });
    let sgd = (OptimizerSpec::new("sgd"), 0.02);
    for (kind, loss, data) in cases::<F>(n, 7) {
        let fused = train(&kind, loss, &data, &sgd, &config, false);
        let looped = train(&kind, loss, &data, &sgd, &config, true);
        assert_eq!(fused.outcome, looped.outcome, "{kind} {loss}");
        assert_eq!(bits(&fused.params), bits(&looped.params), "{kind} {loss}");
        assert_eq!(
            bits(&fused.grads),
            bits(&looped.grads),
            "{kind} {loss}: last gradient"
        );
        assert_eq!(
            fused.recorder.epochs, looped.recorder.epochs,
            "{kind} {loss}"
        );
        // The fused run reports every STEP_EVENT_INTERVAL-th update and each epoch's last.
        let expected: Vec<usize> = (0..3)
            .flat_map(|e| {
                (1..=n)
                    .filter(|k| k % STEP_EVENT_INTERVAL == 0 || *k == n)
                    .map(move |k| e * n + k)
            })
            .collect();
        assert_eq!(fused.recorder.steps, expected, "{kind} {loss}");
        assert_eq!(looped.recorder.steps, (1..=3 * n).collect::<Vec<_>>());
    }
}

#[test]
fn fused_one_row_updates_equal_the_loop_in_f64() {
    fused_equals_loop::<f64>();
}

#[test]
fn fused_one_row_updates_equal_the_loop_in_f32() {
    fused_equals_loop::<f32>();
}

/// A row whose loss is not finite in the middle of an interval (an overflowing squared error;
/// a logistic loss on a NaN logit, which the fused loop sees in the first part of the term):
/// the fused run stops before it and the loop meets it, so both runs diverge at the same step
/// with the same parameters and loss, with and without learning-rate cuts.
#[test]
fn a_non_finite_loss_is_met_where_the_loop_meets_it() {
    let mut squared = cases::<f64>(3000, 5).swap_remove(0);
    squared.2.x[[1700, 2]] = 1e200;
    let mut logistic = cases::<f64>(3000, 5).swap_remove(4);
    logistic.2.x[[1700, 2]] = f64::NAN;
    for ((kind, loss, data), on_divergence) in [&squared, &logistic]
        .into_iter()
        .flat_map(|c| [(c, OnDivergence::Stop), (c, OnDivergence::ReduceLr)])
    {
        let mut config = TrainConfig::new(2, BatchSize::Rows(1), BatchOrder::Sequential);
        config.divergence.on_divergence = on_divergence;
        let sgd = (OptimizerSpec::new("sgd"), 0.01);
        let fused = train(kind, *loss, data, &sgd, &config, false);
        let looped = train(kind, *loss, data, &sgd, &config, true);
        // Row 1700 (step 1701) on the first pass; each cut of the learning rate restarts
        // the epoch from its start, so ReduceLr meets the row again 1700 updates later.
        let Stop::Diverged { step, .. } = fused.outcome.stop else {
            panic!("{:?}", fused.outcome.stop)
        };
        assert_eq!(step % 1700, 1, "{on_divergence:?}");
        // Compared as printed: a NaN loss is not equal to itself.
        let (f, l) = (
            format!("{:?}", fused.outcome),
            format!("{:?}", looped.outcome),
        );
        assert_eq!(f, l, "{on_divergence:?}");
        assert_eq!(
            bits(&fused.params),
            bits(&looped.params),
            "{on_divergence:?}"
        );
    }
}

/// Momentum keeps state between updates, so the step is not fused: every step is reported
/// even to an observer that does not ask for all of them.
#[test]
fn sgd_with_momentum_is_not_fused() {
    let (kind, loss, data) = cases::<f64>(1500, 4).swap_remove(0);
    let config = TrainConfig::new(1, BatchSize::Rows(1), BatchOrder::Sequential);
    let momentum = (OptimizerSpec::new("sgd").with("momentum", 0.9), 0.01);
    let run = train(&kind, loss, &data, &momentum, &config, false);
    assert_eq!(run.recorder.steps, (1..=1500).collect::<Vec<_>>());
}

/// A column-major feature table is not read by the kernels: it trains on the tape, to the
/// same numbers up to summation order (1e-12 relative, as the kernel against the tape; it
/// passes at 1e-13), one row or 32 at a time.
#[test]
fn a_column_major_table_trains_on_the_tape() {
    let (kind, loss, data) = cases::<f64>(300, 4).swap_remove(0);
    let mut x = Array2::zeros(data.x.raw_dim().f());
    x.assign(&data.x);
    assert!(!x.is_standard_layout());
    let columns = TrainData {
        x,
        y: data.y.clone(),
    };
    let sgd = (OptimizerSpec::new("sgd"), 0.02);
    for batch in [1, 32] {
        let config = TrainConfig::new(2, BatchSize::Rows(batch), BatchOrder::Shuffle { seed: 1 });
        let rows = train(&kind, loss, &data, &sgd, &config, false);
        let cols = train(&kind, loss, &columns, &sgd, &config, false);
        assert_eq!(rows.outcome.steps, cols.outcome.steps);
        for (a, b) in rows.params.iter().zip(&cols.params) {
            assert!(
                (a - b).abs() <= 1e-10 * (1.0 + a.abs()),
                "batch {batch}: {a} vs {b}"
            );
        }
    }
}
