//! The tape-free kernel of multi-layer models equals the autodiff tape bit for bit (the same
//! GEMM calls and summation orders), in f64 and f32, for every loss and activation, odd widths
//! (1-wide inputs and hidden layers, whose products ndarray returns column-major), layers
//! without bias, full batches, shuffled mini-batches and single rows; and a few epochs of
//! training through the `Trainer` (which uses the kernel) equal the same updates made from
//! tape gradients.

mod common;

use common::tape_loss_and_grad;
use descent::autodiff::Tape;
use descent::data::{BatchOrder, BatchSize, Batches};
use descent::kernels::MlpKernel;
use descent::loss::Loss;
use descent::nn::{Activation, Layer, ModelKind, Sequential};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{TrainConfig, TrainData, Trainer};
use descent::Float;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn linear(i: usize, o: usize, bias: bool) -> Layer {
    Layer::Linear {
        in_features: i,
        out_features: o,
        bias,
    }
}

/// Models: (layers, n_in, n_out).
fn models() -> Vec<Sequential> {
    let mlp = |n_in, hidden: Vec<usize>, activation, n_out| {
        ModelKind::Mlp { hidden, activation }
            .build(n_in, n_out)
            .unwrap()
    };
    vec![
        mlp(5, vec![7], Activation::Relu, 3),
        mlp(5, vec![9, 4], Activation::Tanh, 2),
        mlp(1, vec![6], Activation::Sigmoid, 1),
        mlp(1, vec![1, 3], Activation::Relu, 3),
        mlp(4, vec![1], Activation::Tanh, 1),
        mlp(13, vec![20], Activation::Relu, 1),
        // Wide enough for the AVX-512 GEMM (kernels/matmul.rs) in every product, the
        // 600-long inner dimension cut in two.
        mlp(40, vec![600], Activation::Relu, 30),
        mlp(30, vec![600, 40], Activation::Tanh, 2),
        Sequential::new(vec![
            linear(5, 6, false),
            Layer::Sigmoid,
            Layer::Tanh,
            linear(6, 3, true),
            linear(3, 2, false),
            Layer::Sigmoid,
        ])
        .unwrap(),
        Sequential::new(vec![Layer::Relu, linear(5, 4, true), Layer::Relu]).unwrap(),
    ]
}

fn losses(n_out: usize) -> Vec<Loss> {
    let mut l = vec![
        Loss::Mse,
        Loss::Mae,
        Loss::Huber { delta: 0.3 },
        Loss::BceWithLogits,
    ];
    if n_out > 1 {
        l.push(Loss::CrossEntropy);
    }
    l
}

fn targets<F: Float>(rng: &mut ChaCha8Rng, loss: Loss, n: usize, n_out: usize) -> Array2<F> {
    match loss {
        Loss::CrossEntropy => Array2::from_shape_fn((n, 1), |_| {
            F::of(f64::from(rng.random_range(0..n_out as u8)))
        }),
        Loss::BceWithLogits => {
            Array2::from_shape_fn((n, n_out), |_| F::of(f64::from(rng.random_range(0..2u8))))
        }
        _ => Array2::from_shape_fn((n, n_out), |_| F::of(rng.random_range(-2.0..2.0))),
    }
}

fn kernel_equals_tape<F: Float>() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let n = 37;
    for model in models() {
        let (n_in, n_out) = (model.n_in(), model.n_out());
        let x: Array2<F> = Array2::from_shape_fn((n, n_in), |_| F::of(rng.random_range(-2.0..2.0)));
        for loss in losses(n_out) {
            let y = targets::<F>(&mut rng, loss, n, n_out);
            let params =
                Params::<F>::init(model.layout(), &Init::Normal { std: 0.7, seed: 5 }).unwrap();
            let mut kernel = MlpKernel::<F>::new(&model, loss).expect("multi-layer model");
            assert!(kernel.accepts(x.view(), y.view()));
            let mut order: Vec<usize> = (0..n).collect();
            order.reverse();
            order.swap(3, 20);
            let all: Vec<usize> = (0..n).collect();
            let cases: [(&[usize], bool); 5] = [
                (&all, true),
                (&all, false),
                (&order, false),
                (&order[5..21], false),
                (&order[7..8], false),
            ];
            for (rows, whole) in cases {
                let (l_tape, g_tape) = tape_loss_and_grad(&model, loss, &params, &x, &y, rows);
                let mut g = vec![F::zero(); params.len()];
                let l = kernel
                    .loss_and_grad(&params.values, x.view(), y.view(), rows, whole, &mut g)
                    .unwrap();
                let what = format!("{model:?} {loss} rows {} ({})", rows.len(), F::NAME);
                assert_eq!(l.bits(), l_tape.bits(), "{what}: loss {l} vs {l_tape}");
                for (i, (a, b)) in g.iter().zip(&g_tape).enumerate() {
                    assert!(a == b, "{what}: grad[{i}] {a} vs {b}");
                }
            }
        }
    }
}

/// Models whose products are large enough to be cut into blocks on the worker pool
/// (`matmul::PARALLEL_MIN_FLOPS`): the kernel on 1, 2 and 3 threads gives the tape's loss and
/// gradients bit for bit, on even and odd batches, whole and gathered.
fn kernel_on_any_thread_count_equals_tape<F: Float>() {
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let models = [
        ModelKind::Mlp {
            hidden: vec![200],
            activation: Activation::Relu,
        }
        .build(300, 10)
        .unwrap(),
        ModelKind::Mlp {
            hidden: vec![256, 200],
            activation: Activation::Tanh,
        }
        .build(64, 5)
        .unwrap(),
    ];
    for model in models {
        let (n_in, n_out) = (model.n_in(), model.n_out());
        let n = 160;
        let x: Array2<F> = Array2::from_shape_fn((n, n_in), |_| F::of(rng.random_range(-2.0..2.0)));
        let loss = Loss::CrossEntropy;
        let y = targets::<F>(&mut rng, loss, n, n_out);
        let params =
            Params::<F>::init(model.layout(), &Init::Normal { std: 0.1, seed: 6 }).unwrap();
        let all: Vec<usize> = (0..n).collect();
        let shuffled: Vec<usize> = (0..n).map(|i| (i * 37) % n).collect();
        let cases: [(&[usize], bool); 3] = [
            (&all, true),
            (&shuffled[..128], false),
            (&shuffled[3..100], false),
        ];
        for (rows, whole) in cases {
            let (l_tape, g_tape) = tape_loss_and_grad(&model, loss, &params, &x, &y, rows);
            for threads in [1, 2, 3] {
                let mut kernel = MlpKernel::<F>::new(&model, loss)
                    .expect("multi-layer model")
                    .with_threads(threads);
                let mut g = vec![F::zero(); params.len()];
                let l = kernel
                    .loss_and_grad(&params.values, x.view(), y.view(), rows, whole, &mut g)
                    .unwrap();
                let what = format!(
                    "{model:?} rows {} on {threads} threads ({})",
                    rows.len(),
                    F::NAME
                );
                assert_eq!(l.bits(), l_tape.bits(), "{what}: loss {l} vs {l_tape}");
                for (i, (a, b)) in g.iter().zip(&g_tape).enumerate() {
                    assert!(a.bits() == b.bits(), "{what}: grad[{i}] {a} vs {b}");
                }
            }
        }
    }
}

#[test]
fn kernel_on_any_thread_count_equals_tape_f32() {
    kernel_on_any_thread_count_equals_tape::<f32>();
}

#[test]
fn kernel_on_any_thread_count_equals_tape_f64() {
    kernel_on_any_thread_count_equals_tape::<f64>();
}

trait Bits {
    fn bits(self) -> u64;
}
impl<F: Float> Bits for F {
    fn bits(self) -> u64 {
        // Exact: f32 widens to f64 without rounding.
        self.f64().to_bits()
    }
}

#[test]
fn kernel_equals_tape_f64() {
    kernel_equals_tape::<f64>();
}

#[test]
fn kernel_equals_tape_f32() {
    kernel_equals_tape::<f32>();
}

#[test]
fn bad_class_labels_are_reported_as_by_the_tape() {
    let model = ModelKind::Mlp {
        hidden: vec![3],
        activation: Activation::Relu,
    }
    .build(2, 3)
    .unwrap();
    let params = Params::<f64>::init(model.layout(), &Init::Torch { seed: 0 }).unwrap();
    let x = Array2::from_elem((2, 2), 0.5);
    let y = Array2::from_shape_vec((2, 1), vec![1.0, 3.0]).unwrap();
    let mut kernel = MlpKernel::<f64>::new(&model, Loss::CrossEntropy).unwrap();
    let mut g = vec![0.0; params.len()];
    let err = kernel
        .loss_and_grad(&params.values, x.view(), y.view(), &[0, 1], true, &mut g)
        .unwrap_err();
    let mut tape = Tape::new();
    let xv = tape.constant(x.clone());
    let yv = tape.constant(y.clone());
    let out = model.forward(&mut tape, &params, xv).unwrap().output;
    let tape_err = Loss::CrossEntropy.apply(&mut tape, out, yv).unwrap_err();
    assert_eq!(err.to_string(), tape_err.to_string());
}

#[test]
fn no_kernel_for_single_layer_models() {
    let linear = ModelKind::Linear.build(3, 2).unwrap();
    assert!(MlpKernel::<f64>::new(&linear, Loss::Mse).is_none());
}

/// Trains with the `Trainer` (kernel) and replays the same updates from tape gradients.
fn training_equals_tape_updates<F: Float>(loss: Loss, optimizer: &str, batch: BatchSize) {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let model = ModelKind::Mlp {
        hidden: vec![8, 5],
        activation: Activation::Tanh,
    }
    .build(4, 3)
    .unwrap();
    let n = 50;
    let x: Array2<F> = Array2::from_shape_fn((n, 4), |_| F::of(rng.random_range(-2.0..2.0)));
    let y = targets::<F>(&mut rng, loss, n, 3);
    let data = TrainData {
        x: x.clone(),
        y: y.clone(),
    };
    let lr = 0.05;
    let init = Params::<F>::init(model.layout(), &Init::Torch { seed: 1 }).unwrap();
    let build = |len| {
        OptimizerSpec::new(optimizer)
            .with("lr", lr)
            .build::<F>(vec![(0..len, GroupOptions::default())])
            .unwrap()
    };
    let order = BatchOrder::Shuffle { seed: 4 };
    let epochs = 3;
    let config = TrainConfig::new(epochs, batch, order.clone());
    let mut t = Trainer::new(
        &model,
        loss,
        config,
        init.clone(),
        build(init.len()),
        Box::new(Constant { lr }),
    )
    .unwrap();
    t.run(&data, None, &mut []).unwrap();

    let mut params = init.clone();
    let mut opt = build(init.len());
    let batches = Batches::new(n, batch, order).unwrap();
    let mut rows = Vec::new();
    for epoch in 0..epochs {
        batches.epoch_order(epoch, &mut rows).unwrap();
        for b in batches.split(&rows) {
            let (_, g) = tape_loss_and_grad(&model, loss, &params, &x, &y, b);
            opt.step(lr, &mut params.values, &g);
        }
    }
    for (i, (a, b)) in t.params.values.iter().zip(&params.values).enumerate() {
        assert!(
            a == b,
            "{loss} {optimizer} ({}): param[{i}] {a} vs {b}",
            F::NAME
        );
    }
}

#[test]
fn training_through_the_kernel_equals_tape_updates() {
    training_equals_tape_updates::<f64>(Loss::CrossEntropy, "adam", BatchSize::Rows(16));
    training_equals_tape_updates::<f64>(Loss::Mse, "sgd", BatchSize::Rows(7));
    training_equals_tape_updates::<f32>(Loss::CrossEntropy, "adam", BatchSize::Rows(16));
    training_equals_tape_updates::<f32>(Loss::Huber { delta: 0.5 }, "rmsprop", BatchSize::Full);
}
