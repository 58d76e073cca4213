//! The tape-free kernel of single-layer models equals the autodiff tape (up to summation
//! order: relative 1e-12 in f64) for every loss, with and without bias, for full batches,
//! mini-batches in random row order and single rows.

mod common;

use common::tape_loss_and_grad;
use descent::kernels::LinearKernel;
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::params::{Init, Params};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn kernel_equals_tape_for_every_loss_and_batch_shape() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // 300 rows: a full batch is cut into five chunks (the last one short).
    let (n, d) = (300, 6);
    let x = Array2::from_shape_fn((n, d), |_| rng.random_range(-2.0..2.0));
    let cases: Vec<(ModelKind, Loss, usize, Array2<f64>)> = vec![
        (
            ModelKind::Linear,
            Loss::Mse,
            2,
            Array2::from_shape_fn((n, 2), |_| rng.random_range(-3.0..3.0)),
        ),
        (
            ModelKind::LinearNobias,
            Loss::Mse,
            1,
            Array2::from_shape_fn((n, 1), |_| rng.random_range(-3.0..3.0)),
        ),
        (
            ModelKind::Linear,
            Loss::Mae,
            1,
            Array2::from_shape_fn((n, 1), |_| rng.random_range(-3.0..3.0)),
        ),
        (
            ModelKind::Linear,
            Loss::Huber { delta: 0.7 },
            3,
            Array2::from_shape_fn((n, 3), |_| rng.random_range(-3.0..3.0)),
        ),
        (
            ModelKind::Logistic,
            Loss::BceWithLogits,
            1,
            Array2::from_shape_fn((n, 1), |_| f64::from(rng.random_range(0..2u8))),
        ),
        (
            ModelKind::Softmax,
            Loss::CrossEntropy,
            4,
            Array2::from_shape_fn((n, 1), |_| f64::from(rng.random_range(0..4u8))),
        ),
    ];
    for (kind, loss, n_out, y) in cases {
        let model = kind.build(d, n_out).unwrap();
        let params =
            Params::<f64>::init(model.layout(), &Init::Normal { std: 0.5, seed: 3 }).unwrap();
        let mut kernel = LinearKernel::new(&model, loss).expect("single-layer model");
        let mut order: Vec<usize> = (0..n).collect();
        order.reverse();
        order.swap(3, 20);
        for rows in [&order[..], &order[5..21], &order[7..8]] {
            let (l_tape, g_tape) = tape_loss_and_grad(&model, loss, &params, &x, &y, rows);
            let mut g = vec![0.0; params.len()];
            let l = kernel.loss_and_grad(&params.values, x.view(), y.view(), rows, &mut g);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
            assert!(close(l, l_tape), "{kind} {loss}: loss {l} vs {l_tape}");
            for (i, (a, b)) in g.iter().zip(&g_tape).enumerate() {
                assert!(
                    close(*a, *b),
                    "{kind} {loss}: grad[{i}] {a} vs {b} (rows {})",
                    rows.len()
                );
            }
        }
    }
}

#[test]
fn no_kernel_for_multi_layer_models() {
    let mlp = ModelKind::Mlp {
        hidden: vec![3],
        activation: descent::nn::Activation::Relu,
    }
    .build(2, 1)
    .unwrap();
    assert!(LinearKernel::<f64>::new(&mlp, Loss::Mse).is_none());
}
