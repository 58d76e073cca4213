//! Models built on the tape: a sequence of `Linear` layers and activations.
//!
//! Every model of the toolkit is a [`Sequential`]: `linear-nobias` (`y = x·w`), `linear`,
//! `logistic`, `softmax` and `mlp` differ only in their layers and their default loss
//! ([`ModelKind`]). Parameters live in a flat [`Params`] buffer whose
//! layout the model defines (`layer0.weight`, `layer0.bias`, `layer1.weight`, ...).
//! The tape-free fast paths for these models are in [`crate::kernels`].

mod model;

pub use model::{Activation, Forward, Layer, ModelKind, Sequential};

use ndarray::ArrayView2;

use crate::autodiff::Tape;
use crate::loss::Loss;
use crate::params::Params;
use crate::{Float, Result};

/// The loss of `model` with `params` over all rows of `(x, y)`.
pub fn evaluate<F: Float>(
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: ArrayView2<'_, F>,
    y: ArrayView2<'_, F>,
) -> Result<f64> {
    let mut tape = Tape::new();
    let xv = tape.constant(x.to_owned());
    let yv = tape.constant(y.to_owned());
    let out = model.forward(&mut tape, params, xv)?.output;
    let l = loss.apply(&mut tape, out, yv)?;
    Ok(tape.scalar(l).f64())
}
