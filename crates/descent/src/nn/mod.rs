//! Models built on the tape: a sequence of `Linear` layers and activations.
//!
//! Every model of the toolkit is a [`Sequential`]: `linear-nobias` (`y = x·w`), `linear`,
//! `logistic`, `softmax` and `mlp` differ only in their layers and their default loss
//! ([`ModelKind`]). Parameters live in a flat [`Params`](crate::params::Params) buffer whose
//! layout the model defines (`layer0.weight`, `layer0.bias`, `layer1.weight`, ...).
//! The tape-free fast paths for these models are in [`crate::kernels`].

mod model;

pub use model::{Activation, Forward, Layer, ModelKind, Sequential};
