//! The seams the front ends build on, each proven by using it:
//! - a [`BatchSource`] that is not the in-memory table (owned copies of each batch, as a
//!   streaming reader hands them over) trains to the bits of the table, through a stop and a
//!   mid-epoch resume by position;
//! - a [`GradientHook`] between backward and the step sees every gradient and can change
//!   it (doubling the gradient of plain SGD is doubling its lr, bit for bit) and every epoch
//!   loss;
//! - observers: `Start` carries the run spec and parameter names, `End` the final
//!   parameters, steps go only to observers that ask for them;
//! - the thread count is a value of the run, checked.

use descent::data::{Batch, BatchOrder, BatchSize, BatchSource, TableBatches, TrainData};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{Event, EveryStep, GradientHook, Outcome, Signal, Stop, TrainConfig, Trainer};
use descent::{Run, RunSpec};
use ndarray::{Array2, Axis};

mod common;

use common::{records, stop_at};

fn table() -> TrainData<f64> {
    let x = Array2::from_shape_fn((203, 3), |(i, j)| {
        ((i * 7 + j * 13) % 17) as f64 / 8.0 - 1.0
    });
    let y = x.map_axis(Axis(1), |r| 0.5 * r[0] - 2.0 * r[1] + r[2] + 0.25);
    TrainData {
        x,
        y: y.insert_axis(Axis(1)),
    }
}

fn trainer(optimizer: &str, lr: f64, kind: &ModelKind) -> Trainer<f64> {
    let model = kind.build(3, 1).unwrap();
    let params = Params::init(model.layout(), &Init::Normal { std: 0.3, seed: 4 }).unwrap();
    let opt = OptimizerSpec::new(optimizer)
        .with("lr", lr)
        .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
        .unwrap();
    let config = TrainConfig::new(6, BatchSize::Rows(16), BatchOrder::Shuffle { seed: 11 });
    Trainer::new(
        &model,
        Loss::Mse,
        config,
        params,
        opt,
        Box::new(Constant { lr }),
    )
    .unwrap()
}

/// Owned copies of the table's batches, made one at a time (what a streaming reader hands
/// over): no view of the whole table ever reaches the trainer.
struct Copies<'a> {
    inner: TableBatches<'a, f64>,
    x: Array2<f64>,
    y: Array2<f64>,
    rows: Vec<usize>,
}

impl BatchSource<f64> for Copies<'_> {
    fn n_features(&self) -> usize {
        self.inner.n_features()
    }
    fn steps_per_epoch(&self) -> usize {
        self.inner.steps_per_epoch()
    }
    fn seek(&mut self, epoch: usize, index: usize) -> descent::Result<()> {
        self.inner.seek(epoch, index)
    }
    fn next_batch(&mut self) -> descent::Result<Option<Batch<'_, f64>>> {
        let Some(b) = self.inner.next_batch()? else {
            return Ok(None);
        };
        self.x = b.x.select(Axis(0), b.rows);
        self.y = b.y.select(Axis(0), b.rows);
        self.rows = (0..self.x.nrows()).collect();
        Ok(Some(Batch {
            x: self.x.view(),
            y: self.y.view(),
            rows: &self.rows,
            whole: true,
        }))
    }
}

#[test]
fn a_batch_source_of_copies_trains_to_the_bits_of_the_table() {
    let data = table();
    for (optimizer, kind) in [
        ("adam", ModelKind::Linear),
        ("sgd", ModelKind::Linear),
        (
            "rmsprop",
            ModelKind::Mlp {
                hidden: vec![5],
                activation: descent::nn::Activation::Tanh,
            },
        ),
    ] {
        let mut direct = trainer(optimizer, 0.01, &kind);
        let mut a = Vec::new();
        direct
            .run(&data, None, &mut [&mut records(&mut a)])
            .unwrap();

        // Through the trait, stopped after update 20 (mid-epoch 2) and resumed by position.
        let mut streamed = trainer(optimizer, 0.01, &kind);
        let order = BatchOrder::Shuffle { seed: 11 };
        let mut source = Copies {
            inner: TableBatches::new(&data, BatchSize::Rows(16), order).unwrap(),
            x: Array2::zeros((0, 0)),
            y: Array2::zeros((0, 0)),
            rows: Vec::new(),
        };
        let mut b = Vec::new();
        let first = streamed
            .run_source(
                &mut source,
                None,
                &mut [&mut stop_at(20), &mut records(&mut b)],
            )
            .unwrap();
        assert!(matches!(first.stop, Stop::Stopped { .. }), "{optimizer}");
        assert_eq!(streamed.step, 20);
        let checkpoint = streamed.checkpoint();
        let mut resumed = trainer(optimizer, 0.01, &kind);
        resumed.restore(&checkpoint).unwrap();
        resumed
            .run_source(&mut source, None, &mut [&mut records(&mut b)])
            .unwrap();
        assert_eq!(a, b, "{optimizer}: epoch records");
        let bits = |t: &Trainer<f64>| {
            t.params
                .values
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&direct), bits(&resumed), "{optimizer}: parameters");
    }
}

#[test]
fn a_source_that_ends_early_is_an_error_naming_the_epoch() {
    struct Short;
    impl BatchSource<f64> for Short {
        fn n_features(&self) -> usize {
            3
        }
        fn steps_per_epoch(&self) -> usize {
            4
        }
        fn seek(&mut self, _: usize, _: usize) -> descent::Result<()> {
            Ok(())
        }
        fn next_batch(&mut self) -> descent::Result<Option<Batch<'_, f64>>> {
            Ok(None)
        }
    }
    let e = trainer("sgd", 0.01, &ModelKind::Linear)
        .run_source(&mut Short, None, &mut [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("ended epoch 1 after 0 of its 4 batches"), "{e}");
}

/// Doubles every gradient; counts what it saw.
struct Double {
    gradients: usize,
    epoch_losses: Vec<f64>,
}

impl GradientHook<f64> for Double {
    fn on_gradient(
        &mut self,
        _step: usize,
        _loss: &mut f64,
        grads: &mut [f64],
    ) -> descent::Result<()> {
        self.gradients += 1;
        grads.iter_mut().for_each(|g| *g *= 2.0);
        Ok(())
    }

    fn on_epoch_loss(&mut self, _epoch: usize, loss: &mut f64) -> descent::Result<()> {
        self.epoch_losses.push(*loss);
        *loss *= 4.0;
        Ok(())
    }
}

#[test]
fn a_gradient_hook_sees_and_changes_every_gradient_and_epoch_loss() {
    let data = table();
    let mut plain = trainer("sgd", 0.1, &ModelKind::Linear);
    let mut a = Vec::new();
    plain.run(&data, None, &mut [&mut records(&mut a)]).unwrap();

    // lr 0.05 with doubled gradients takes the same steps as lr 0.1: 2g and 2·lr are exact.
    let mut hooked = trainer("sgd", 0.05, &ModelKind::Linear);
    struct Shared(std::sync::Arc<std::sync::Mutex<Double>>);
    impl GradientHook<f64> for Shared {
        fn on_gradient(&mut self, s: usize, l: &mut f64, g: &mut [f64]) -> descent::Result<()> {
            self.0.lock().unwrap().on_gradient(s, l, g)
        }
        fn on_epoch_loss(&mut self, e: usize, l: &mut f64) -> descent::Result<()> {
            self.0.lock().unwrap().on_epoch_loss(e, l)
        }
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Double {
        gradients: 0,
        epoch_losses: Vec::new(),
    }));
    hooked.set_gradient_hook(Box::new(Shared(seen.clone())));
    let mut b = Vec::new();
    hooked
        .run(&data, None, &mut [&mut records(&mut b)])
        .unwrap();
    assert_eq!(plain.params.values, hooked.params.values);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.gradients,
        6 * 13,
        "one gradient per update: 6 epochs of 13 batches"
    );
    assert_eq!(
        seen.epoch_losses,
        a.iter().map(|r| r.loss).collect::<Vec<_>>()
    );
    // The epoch records carry the loss the hook returned.
    assert!(a.iter().zip(&b).all(|(p, h)| h.loss == 4.0 * p.loss));
}

#[test]
fn start_names_the_run_and_end_hands_over_the_final_parameters() {
    let spec = RunSpec::builtin("classic")
        .model(ModelKind::Linear)
        .optimizer("sgd", 0.05)
        .epochs(3);
    let mut run = Run::<f64>::new(spec.clone()).unwrap();
    let mut start = None;
    let mut end = None;
    let mut steps = 0;
    let mut epochs_only = |e: &Event<'_, f64>| {
        match e {
            Event::Start(s) => start = Some((*s).clone()),
            Event::End(o, p) => end = Some(((*o).clone(), p.to_vec())),
            Event::Step(..) => steps += 1,
            Event::Epoch(..) => {}
        }
        Ok(Signal::Continue)
    };
    let mut every = 0;
    let mut every_step = EveryStep(|e: &Event<'_, f64>| {
        if let Event::Step(..) = e {
            every += 1;
        }
        Ok(Signal::Continue)
    });
    let outcome: Outcome = run.train(&mut [&mut epochs_only, &mut every_step]).unwrap();
    let start = start.unwrap();
    assert_eq!(start.param_names, ["w", "b"]);
    assert_eq!(start.engine, "linear kernel");
    let spec_back: RunSpec = serde_json::from_value(start.spec.unwrap()).unwrap();
    assert_eq!(spec_back, spec);
    let (end_outcome, end_params) = end.unwrap();
    assert_eq!(end_outcome, outcome);
    assert_eq!(end_params, run.trainer.params.values);
    assert_eq!(steps, 0, "a closure observes epochs only");
    assert_eq!(every, 3, "EveryStep sees each full-batch update");
}

#[test]
fn thread_counts_beyond_four_times_the_cores_are_refused() {
    let config = TrainConfig {
        threads: Some(100_000),
        ..TrainConfig::new(1, BatchSize::Full, BatchOrder::Sequential)
    };
    let e = config.validate().unwrap_err().to_string();
    assert!(e.contains("threads") && e.contains("100000"), "{e}");
    let e = descent::fit(&RunSpec::builtin("classic").threads(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("threads"), "{e}");
}
