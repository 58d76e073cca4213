//! The trainer's watch: a loss that rises geometrically is a divergence (the best parameters
//! come back), an exact fit with rounding noise is not, and converging runs that overshoot
//! (heavy ball and Nesterov near their bounds, Adam and RMSprop with momentum at large steps)
//! are never stopped.

use descent::analysis::{curvature, stable_lr_of, CurvatureConfig};
use descent::data::{builtin, BatchOrder, BatchSize, Columns, Dataset, TargetKind};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{EpochRecord, Event, Stop, TrainConfig, TrainData, Trainer};
use descent::RunSpec;
use ndarray::array;

/// `y = w·x` on the classic points, batch gradient descent from `w = 1` with `lr`; returns
/// the outcome, the final `w` and every epoch record.
fn classic(lr: f64, epochs: usize) -> (Stop, f64, Vec<EpochRecord>) {
    let data = Dataset::new(
        array![[1.0], [2.0], [3.0]],
        array![[2.0], [4.0], [6.0]],
        vec!["x".into()],
        vec!["y".into()],
    )
    .unwrap();
    let data = TrainData::<f64>::from_dataset(&data);
    let model = ModelKind::LinearNobias.build(1, 1).unwrap();
    let params = Params::init(model.layout(), &Init::Constant(1.0)).unwrap();
    let opt = OptimizerSpec::new("sgd")
        .with("lr", lr)
        .build::<f64>(vec![(0..1, GroupOptions::default())])
        .unwrap();
    let config = TrainConfig::new(epochs, BatchSize::Full, BatchOrder::Sequential);
    let schedule = Box::new(Constant { lr });
    let mut t = Trainer::new(&model, Loss::Mse, config, params, opt, schedule).unwrap();
    let mut records = Vec::new();
    let mut record = |e: &Event<'_, f64>| {
        if let Event::Epoch(r, _) = e {
            records.push((*r).clone());
        }
        Ok(descent::train::Signal::Continue)
    };
    let outcome = t.run(&data, None, &mut [&mut record]).unwrap();
    (outcome.stop, t.params.values[0], records)
}

#[test]
fn a_rising_loss_stops_the_run_and_restores_the_initial_parameters() {
    // lr 0.25 > 2/λ_max = 3/14: every step multiplies the error by |1 - 0.25·28/3| = 4/3.
    let (stop, w, records) = classic(0.25, 100);
    let Stop::Diverged { epoch, cause, .. } = stop else {
        panic!("{stop:?}");
    };
    assert!(cause.contains("the loss rose 6 epochs in a row"), "{cause}");
    assert!(
        cause.contains("growing by a factor of 1.778 per epoch"),
        "{cause}"
    );
    // The epoch losses grow by (4/3)² = 16/9 a step from 14/3 at epoch 1: epoch 7 is the
    // sixth rise in a row, each above every earlier loss, the growth steady, and
    // (16/9)⁶ = 31.6 times the best (epoch 1) is above 10.
    assert_eq!(epoch, 7, "{records:?}");
    assert_eq!(records.len(), 7);
    // Epoch 1's loss was measured before its update, at the initial w = 1: the best.
    assert_eq!(w, 1.0);
}

#[test]
fn an_exact_fit_does_not_count_as_diverging() {
    // lr 0.1 converges to w = 2 exactly; the loss then stays at zero or rounding noise.
    let (stop, w, records) = classic(0.1, 2000);
    assert_eq!(stop, Stop::Completed);
    assert_eq!(records.len(), 2000);
    assert!((w - 2.0).abs() <= 4.0 * f64::EPSILON, "{w}");
}

/// The classic points with a bias (`linear`), full batch, 300 epochs, with `spec`.
fn classic_linear(spec: OptimizerSpec) -> (Stop, Vec<f64>) {
    let spec = RunSpec::builtin("classic")
        .model(ModelKind::Linear)
        .optimizer_spec(spec)
        .batch_full()
        .epochs(300);
    let fitted = descent::fit(&spec).unwrap();
    let losses = fitted.history.records.iter().map(|r| r.loss).collect();
    (fitted.outcome.stop, losses)
}

/// The stable lr of `spec` on the classic points (linear model with bias).
fn classic_bound(spec: &OptimizerSpec) -> f64 {
    let data = builtin::load("classic", &Columns::default(), TargetKind::Real).unwrap();
    let c = curvature(data.x.view(), true, 1, &CurvatureConfig::default()).unwrap();
    stable_lr_of(spec, &c).unwrap().bound().unwrap()
}

/// Whether the rule before the window (above 10 times the best for 3 epochs in a row) would
/// have stopped a run with these epoch losses.
fn old_rule_stops(losses: &[f64]) -> bool {
    let (mut best, mut rising) = (f64::INFINITY, 0);
    losses.iter().any(|&l| {
        best = best.min(l);
        rising = if l > 10.0 * best { rising + 1 } else { 0 };
        rising >= 3
    })
}

/// The converging runs that overshoot: each must complete and end near the exact fit
/// (loss below 1e-3 of its start); most of them the earlier rule stopped as diverging.
#[test]
fn converging_runs_that_overshoot_are_never_stopped() {
    let sgd = |momentum: f64, nesterov: bool| {
        let s = OptimizerSpec::new("sgd").with("momentum", momentum);
        if nesterov {
            s.with("nesterov", true)
        } else {
            s
        }
    };
    let mut cases = Vec::new();
    for momentum in [0.5, 0.9, 0.95] {
        for nesterov in [false, true] {
            let spec = sgd(momentum, nesterov);
            let bound = classic_bound(&spec);
            for fraction in [0.9, 0.95, 0.99] {
                cases.push(spec.clone().with("lr", fraction * bound));
            }
        }
    }
    for lr in [0.5, 1.0] {
        cases.push(OptimizerSpec::new("adam").with("lr", lr));
    }
    for lr in [0.01, 0.05] {
        cases.push(
            OptimizerSpec::new("rmsprop")
                .with("lr", lr)
                .with("momentum", 0.9),
        );
    }
    let mut stopped_before = 0;
    for spec in cases {
        let (stop, losses) = classic_linear(spec.clone());
        assert_eq!(stop, Stop::Completed, "{spec:?}");
        assert_eq!(losses.len(), 300);
        let last = *losses.last().unwrap();
        assert!(last < 1e-3 * losses[0], "{spec:?}: {last}");
        stopped_before += usize::from(old_rule_stops(&losses));
    }
    // The suite is made of runs that overshoot: the earlier rule stopped 15 of its 22.
    assert_eq!(stopped_before, 15);
}

/// Above their bounds the same forms diverge, and the rule stops them within a few epochs
/// of the window filling (before the loss overflows).
#[test]
fn runs_above_their_bound_are_stopped_by_the_window() {
    for momentum in [0.0, 0.5, 0.9] {
        for nesterov in [false, true] {
            if nesterov && momentum == 0.0 {
                continue;
            }
            let mut spec = OptimizerSpec::new("sgd").with("momentum", momentum);
            if nesterov {
                spec = spec.with("nesterov", true);
            }
            let bound = classic_bound(&spec);
            for fraction in [1.05, 1.2, 2.0] {
                let (stop, losses) = classic_linear(spec.clone().with("lr", fraction * bound));
                let Stop::Diverged { epoch, cause, .. } = &stop else {
                    panic!("{spec:?} at {fraction}x: {stop:?}");
                };
                assert!(cause.contains("rose 6 epochs in a row"), "{cause}");
                assert!(*epoch <= 30, "{spec:?} at {fraction}x: epoch {epoch}");
                assert!(losses.iter().all(|l| l.is_finite()));
            }
        }
    }
}
