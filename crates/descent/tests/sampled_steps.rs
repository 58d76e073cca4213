//! An observer of sampled steps ([`StepEvents::Sparse`]) is asked before each update whether
//! it wants it ([`Observer::wants_next_step`]): it is sent exactly the steps it wanted, each
//! with its gradient norm, and wanting none changes nothing the run computes (the same
//! parameters and epoch records, bit for bit, as a run with no observer).

use std::cell::Cell;

use descent::data::{BatchOrder, BatchSize};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{
    EpochRecord, Event, Observer, Signal, StepEvents, TrainConfig, TrainData, Trainer,
};
use ndarray::Array2;

/// Wants every `every`-th update it is asked about (0: none); records what it is sent.
struct Sampler {
    every: usize,
    asked: Cell<usize>,
    steps: Vec<(usize, f64)>,
    epochs: Vec<EpochRecord>,
}

impl Sampler {
    fn new(every: usize) -> Self {
        Sampler {
            every,
            asked: Cell::new(0),
            steps: Vec::new(),
            epochs: Vec::new(),
        }
    }
}

impl Observer<f64> for Sampler {
    fn on_event(&mut self, event: &Event<'_, f64>) -> descent::Result<Signal> {
        match event {
            Event::Step(r, _) => self.steps.push((r.step, r.grad_norm)),
            Event::Epoch(r, _) => self.epochs.push((*r).clone()),
            _ => {}
        }
        Ok(Signal::Continue)
    }

    fn step_events(&self) -> StepEvents {
        StepEvents::Sparse
    }

    fn wants_next_step(&self) -> bool {
        self.asked.set(self.asked.get() + 1);
        self.every > 0 && self.asked.get() % self.every == 0
    }
}

/// 10 epochs of 25 batches of 4 rows (linear regression, momentum SGD); the final
/// parameters.
fn train(observers: &mut [&mut dyn Observer<f64>]) -> Vec<f64> {
    let x = Array2::from_shape_fn((100, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0);
    let y = Array2::from_shape_fn((100, 1), |(i, _)| (i % 5) as f64 / 5.0);
    let data = TrainData { x, y };
    let model = ModelKind::Linear.build(3, 1).unwrap();
    let params = Params::<f64>::init(model.layout(), &Init::Zeros).unwrap();
    let opt = OptimizerSpec::new("sgd")
        .with("lr", 0.1)
        .with("momentum", 0.9)
        .build::<f64>(vec![(0..params.len(), GroupOptions::default())])
        .unwrap();
    let config = TrainConfig::new(10, BatchSize::Rows(4), BatchOrder::Sequential);
    let schedule = Box::new(Constant { lr: 0.1 });
    let mut t = Trainer::new(&model, Loss::Mse, config, params, opt, schedule).unwrap();
    t.run(&data, None, observers).unwrap();
    t.params.values.clone()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn a_sampling_observer_gets_the_steps_it_wants_and_changes_nothing() {
    let alone = train(&mut []);
    let mut every = Sampler::new(1);
    let all = train(&mut [&mut every]);
    assert_eq!(every.asked.get(), 250);
    assert_eq!(
        every.steps.iter().map(|s| s.0).collect::<Vec<_>>(),
        (1..=250).collect::<Vec<_>>()
    );

    let mut sampler = Sampler::new(7);
    let sampled = train(&mut [&mut sampler]);
    assert_eq!(sampler.asked.get(), 250);
    let steps: Vec<usize> = sampler.steps.iter().map(|s| s.0).collect();
    assert_eq!(steps, (7..=250).step_by(7).collect::<Vec<_>>());
    // Each step sent carries its gradient norm, the one an every-step run saw.
    for (step, norm) in &sampler.steps {
        assert_eq!(
            norm.to_bits(),
            every.steps[step - 1].1.to_bits(),
            "step {step}"
        );
        assert!(norm.is_finite() && *norm > 0.0);
    }

    let mut none = Sampler::new(0);
    let quiet = train(&mut [&mut none]);
    assert!(none.steps.is_empty());
    for p in [&all, &sampled, &quiet] {
        assert_eq!(bits(p), bits(&alone));
    }
    // The epoch records (their norm is the epoch's last update's) are the same too.
    assert_eq!(none.epochs.len(), 10);
    for (a, b) in none.epochs.iter().zip(&every.epochs) {
        assert_eq!(a.grad_norm.to_bits(), b.grad_norm.to_bits());
        assert_eq!(a.loss.to_bits(), b.loss.to_bits());
    }
}
