//! Helpers shared by the library's integration tests.

use descent::autodiff::Tape;
use descent::loss::Loss;
use descent::nn::Sequential;
use descent::params::Params;
use descent::Float;
use ndarray::{Array2, Axis};

/// The loss of `model` on the rows `rows` of `(x, y)` and its gradient, through the autodiff
/// tape: the reference the tape-free kernels are checked against.
pub fn tape_loss_and_grad<F: Float>(
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: &Array2<F>,
    y: &Array2<F>,
    rows: &[usize],
) -> (F, Vec<F>) {
    let mut tape = Tape::new();
    let xv = tape.constant(x.select(Axis(0), rows));
    let yv = tape.constant(y.select(Axis(0), rows));
    let fwd = model.forward(&mut tape, params, xv).unwrap();
    let l = loss.apply(&mut tape, fwd.output, yv).unwrap();
    let g = tape.backward(l);
    let mut grads = vec![F::zero(); params.len()];
    model.gather_grads(&params.layout, &fwd, &g, &mut grads);
    (tape.scalar(l), grads)
}
