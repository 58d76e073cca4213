//! Optimizers: update rules over flat parameter and gradient slices, equal to `torch.optim`.
//!
//! Every optimizer is split in two, as in PyTorch's `param_groups` / `state`:
//! - a **config** struct (`Sgd`, `Adam`, ...) holding hyper-parameters with PyTorch's names and
//!   defaults (`Default` equals the torch constructor's defaults), and
//! - a **state** struct (`SgdState<F>`, `AdamState<F>`, ...) with PyTorch's state-dict names,
//!   empty (`Default`) until the first step fills it.
//!
//! [`Optimizer::step`] takes the config by `&self`, the learning rate, the flat parameters, the
//! flat gradients and the state: one fused pass over contiguous memory, no allocation after the
//! first step. Because every optimizer here works element by element, a model's parameters are
//! one flat slice and parameter groups are contiguous sub-ranges of it ([`Grouped`]).
//!
//! The trainer and the CLI use optimizers through the object-safe [`DynOptimizer`], built by
//! name from an option map by [`build`].

mod grouped;
mod sgd;

pub use grouped::{GroupOptions, Grouped};
pub use sgd::{Sgd, SgdState};

use std::fmt::Debug;
use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Float, Result};

/// An update rule with PyTorch's exact semantics (see each implementor's `# Algorithm`).
pub trait Optimizer: Clone + Debug + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Per-element state (moment buffers, step counters), empty until the first step.
    type State<F: Float>: Clone + Default + Debug + Serialize + DeserializeOwned + Send;

    /// The name used on the command line (`sgd`, `adam`, ...).
    const NAME: &'static str;

    /// Checks every hyper-parameter (and the learning rate) against torch's rules.
    fn validate(&self, lr: f64) -> Result<()>;

    /// One update of `params` from `grads` (same length) with learning rate `lr`.
    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut Self::State<F>);

    /// The coupled or decoupled weight decay (what a parameter group may override).
    fn weight_decay(&self) -> f64;

    /// Sets the weight decay (used by parameter groups such as "no decay on biases").
    fn set_weight_decay(&mut self, weight_decay: f64);

    /// The momentum a one-cycle schedule cycles (`momentum` for SGD/RMSprop, `betas.0` for the
    /// Adam family), or `None` if the optimizer has none.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets the momentum reported by [`Optimizer::momentum`]; ignored where there is none.
    fn set_momentum(&mut self, _momentum: f64) {}

    /// The averaged parameters kept in the state, if the algorithm keeps them (ASGD's `ax`).
    fn averaged<F: Float>(_state: &Self::State<F>) -> Option<&[F]> {
        None
    }
}

/// An optimizer with its state, used through a trait object by the trainer.
pub trait DynOptimizer<F: Float>: Send + Debug {
    /// The command-line name (`sgd`, `adam`, ...).
    fn name(&self) -> &'static str;
    /// One update of the whole flat parameter buffer.
    fn step(&mut self, lr: f64, params: &mut [F], grads: &[F]);
    /// See [`Optimizer::momentum`].
    fn momentum(&self) -> Option<f64>;
    /// See [`Optimizer::set_momentum`].
    fn set_momentum(&mut self, momentum: f64);
    /// The averaged parameters (ASGD's `ax`), in flat layout, if kept.
    fn averaged(&self) -> Option<Vec<F>>;
    /// The full state (configs and states of every group) as JSON, for checkpoints.
    fn save_state(&self) -> serde_json::Value;
    /// Restores what [`DynOptimizer::save_state`] wrote.
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()>;
}

/// Builds an optimizer by name with a single parameter group covering `n_params` elements.
///
/// `name` is a command-line name (`sgd`, `adam`, ...). Only `sgd` is known so far; the full
/// table lives in `spec.rs` once every optimizer exists.
pub fn build<F: Float>(name: &str, lr: f64, n_params: usize) -> Result<Box<dyn DynOptimizer<F>>> {
    match name {
        "sgd" => {
            let sgd = Sgd::default();
            sgd.validate(lr)?;
            Ok(Box::new(Grouped::<Sgd, F>::new(sgd, 0..n_params)))
        }
        other => Err(Error::invalid("optimizer", other, "unknown optimizer")),
    }
}

/// Checks that a learning rate is usable: finite and not negative (torch: `lr >= 0`).
pub fn validate_lr(lr: f64) -> Result<()> {
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::invalid("lr", lr, "must be finite and >= 0"));
    }
    Ok(())
}

/// Checks a hyper-parameter with a predicate, producing torch's style of message.
pub(crate) fn check(name: &str, value: f64, ok: bool, rule: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(name, value, rule))
    }
}

/// The contiguous ranges of a flat buffer that make up the parameter groups.
pub type GroupRange = Range<usize>;
