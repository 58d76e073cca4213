//! The trainer's watch: a rising loss is a divergence (the best parameters come back), an
//! exact fit with rounding noise is not, and early stopping restores the best epoch.

use descent::data::{BatchOrder, BatchSize, Dataset};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{EpochRecord, Event, Stop, TrainConfig, TrainData, Trainer};
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
    assert!(cause.contains("rose above 10 times its best"), "{cause}");
    // The epoch losses grow by (4/3)² = 16/9 a step from 14/3 at epoch 1: (16/9)⁴ = 9.99 < 10
    // keeps epoch 5 below 10 x the best, epochs 6, 7 and 8 are above it, and 8 is the third.
    assert_eq!(epoch, 8, "{records:?}");
    assert_eq!(records.len(), 8);
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
