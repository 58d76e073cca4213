//! Models built on the tape: a sequence of `Linear` layers and activations.
//!
//! Every model of the toolkit is a [`Sequential`]: `linear-nobias` (`y = x·w`), `linear`,
//! `logistic`, `softmax` and `mlp` differ only in their layers and their default loss
//! ([`ModelKind`]). Parameters live in a flat [`Params`] buffer whose
//! layout the model defines (`layer0.weight`, `layer0.bias`, `layer1.weight`, ...).
//! The tape-free fast paths for these models are in [`crate::kernels`].

mod model;

pub use model::{Activation, Forward, Layer, ModelKind, Sequential};

use ndarray::{Array2, ArrayView2};

use crate::autodiff::Tape;
use crate::loss::Loss;
use crate::params::Params;
use crate::{Float, Result};

/// The one tape driver: the mean loss of `model` at `params` on `(x, y)`, and, when `grads`
/// is given and the loss is finite, its gradient written into `grads` (flat layout). The
/// training engine, [`evaluate`] and the analyses all go through here.
pub fn tape_loss<F: Float>(
    tape: &mut Tape<F>,
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: Array2<F>,
    y: Array2<F>,
    grads: Option<&mut [F]>,
) -> Result<f64> {
    tape.clear();
    let xv = tape.constant(x);
    let yv = tape.constant(y);
    let fwd = model.forward(tape, params, xv)?;
    let l = loss.apply(tape, fwd.output, yv)?;
    let value = tape.scalar(l).f64();
    if let Some(grads) = grads.filter(|_| value.is_finite()) {
        let gradients = tape.backward(l);
        model.gather_grads(&params.layout, &fwd, &gradients, grads);
    }
    Ok(value)
}

/// The loss of `model` with `params` over all rows of `(x, y)`.
pub fn evaluate<F: Float>(
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: ArrayView2<'_, F>,
    y: ArrayView2<'_, F>,
) -> Result<f64> {
    let (x, y) = (x.to_owned(), y.to_owned());
    tape_loss(&mut Tape::new(), model, loss, params, x, y, None)
}
