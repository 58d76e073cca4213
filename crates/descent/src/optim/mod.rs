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
//! name from an option map by [`OptimizerSpec`]. What an optimizer takes by name (its torch
//! class, default learning rate, and options with their defaults) is stated once, in its own
//! file, as [`Optimizer::DEFINITION`]; [`names`], [`describe`] and the spec parser read it there.

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod asgd;
mod clip;
mod definition;
mod effective;
mod grouped;
mod nadam;
mod radam;
mod rmsprop;
mod rprop;
mod sgd;
mod sign;
mod spec;
mod suggest;

pub use adadelta::{Adadelta, AdadeltaState};
pub use adagrad::{Adagrad, AdagradState};
pub use adam::{Adam, AdamState, AdamW};
pub use adamax::{Adamax, AdamaxState};
pub use asgd::{Asgd, AsgdState};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use definition::{Definition, OptimizerInfo, OptionInfo, OptionValue, OptionValues};
pub use effective::StepQuantiles;
pub use grouped::{GroupOptions, Grouped, SHARD};
pub use nadam::{NAdam, NAdamState};
pub use radam::{RAdam, RAdamState};
pub use rmsprop::{RmsProp, RmsPropState};
pub use rprop::{Rprop, RpropState};
pub use sgd::{Sgd, SgdState};
pub use sign::{SignDescent, SignDescentState};
pub use spec::{describe, names, OptimizerSpec};
pub use suggest::did_you_mean;

use std::fmt::Debug;
use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Float, Result};

/// An update rule with PyTorch's exact semantics (see each implementor's `# Algorithm`).
pub trait Optimizer: Clone + Debug + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Per-element state (moment buffers, step counters), empty until the first step.
    type State<F: Float>: Clone + Default + Debug + Serialize + DeserializeOwned + Send;

    /// How the optimizer is named and built by name: command-line name, torch class, default
    /// learning rate, and its options with torch's names and defaults.
    const DEFINITION: Definition<Self>;

    /// The name used on the command line (`sgd`, `adam`, ...).
    const NAME: &'static str = Self::DEFINITION.name;

    /// torch's default learning rate for this optimizer (used when none is given).
    const DEFAULT_LR: f64 = Self::DEFINITION.default_lr;

    /// Checks every hyper-parameter (and the learning rate) against torch's rules.
    fn validate(&self, lr: f64) -> Result<()>;

    /// One update of `params` from `grads` (same length) with learning rate `lr`.
    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut Self::State<F>);

    /// [`Self::step`] with the element loop cut into about `parts` runs, computed by this
    /// thread and `pool`'s workers. An optimizer whose every element is updated by the same
    /// operations on its own values and on scalars shared by the step (Adam, AdamW) gives the
    /// same bits as [`Self::step`] (tested); the others keep this default, which steps on
    /// this thread.
    fn step_on<F: Float>(
        &self,
        pool: &rayon::ThreadPool,
        parts: usize,
        lr: f64,
        params: &mut [F],
        grads: &[F],
        state: &mut Self::State<F>,
    ) {
        let _ = (pool, parts);
        self.step(lr, params, grads, state);
    }

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

    /// The step each parameter takes per unit of update direction, `lr / (√v̂ + ε)`, for an
    /// optimizer that divides by a running second moment (Adam, AdamW, RMSprop); `None` for
    /// the others and before the first step. See [`StepQuantiles`].
    fn effective_steps<F: Float>(&self, _lr: f64, _state: &Self::State<F>) -> Option<Vec<f64>> {
        None
    }

    /// Whether a step with these settings is exactly `p <- p + (-lr) g` and keeps no state
    /// (plain SGD), so that a kernel may fuse it into the gradient loop.
    fn is_plain_step(&self) -> bool {
        false
    }
}

/// An optimizer with its state, used through a trait object by the trainer.
pub trait DynOptimizer<F: Float>: Send + Debug {
    /// The command-line name (`sgd`, `adam`, ...).
    fn name(&self) -> &'static str;
    /// One update of the whole flat parameter buffer.
    fn step(&mut self, lr: f64, params: &mut [F], grads: &[F]);

    /// The threads a step may use (large parameter buffers step in shards); the numbers do
    /// not depend on it. One unless set.
    fn set_threads(&mut self, _threads: usize) {}
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
    /// Whether every group's step is [`Optimizer::is_plain_step`].
    fn is_plain_step(&self) -> bool;
    /// [`Optimizer::effective_steps`] of every parameter, in flat order (`None` unless every
    /// group has them).
    fn effective_steps(&self, _lr: f64) -> Option<Vec<f64>> {
        None
    }
}

/// Builds an optimizer by name with a single parameter group covering `n_params` elements.
///
/// A shorthand for [`OptimizerSpec`] with only `lr` set; `name` is a command-line or torch name.
pub fn build<F: Float>(name: &str, lr: f64, n_params: usize) -> Result<Box<dyn DynOptimizer<F>>> {
    OptimizerSpec::new(name)
        .with("lr", lr)
        .build(vec![(0..n_params, GroupOptions::default())])
}

/// Checks that a learning rate is usable: finite and not negative (torch: `lr >= 0`).
pub fn validate_lr(lr: f64) -> Result<()> {
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::invalid("lr", lr, "must be finite and >= 0"));
    }
    Ok(())
}

/// Help lines shared by many optimizers' options.
const WEIGHT_DECAY: &str = "weight decay (L2 penalty)";
const MAXIMIZE: &str = "maximize the objective instead of minimizing it";
const EPS: &str = "term added to the denominator for numerical stability";

/// Checks a hyper-parameter with a predicate, producing torch's style of message.
pub(crate) fn check(name: &str, value: f64, ok: bool, rule: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(name, value, rule))
    }
}

/// Checks a `betas`-like pair: each coefficient in `[0, 1)` (torch's rule for Adam's betas).
pub(crate) fn check_betas(name: &str, betas: (f64, f64)) -> Result<()> {
    let rule = "must be in [0, 1)";
    check(
        &format!("{name}.0"),
        betas.0,
        (0.0..1.0).contains(&betas.0),
        rule,
    )?;
    check(
        &format!("{name}.1"),
        betas.1,
        (0.0..1.0).contains(&betas.1),
        rule,
    )
}

/// Checks `value >= 0` (torch's rule for eps, weight_decay and most coefficients).
pub(crate) fn check_non_negative(name: &str, value: f64) -> Result<()> {
    check(name, value, value >= 0.0, "must be >= 0")
}

/// `torch.lerp(a, b, w)` as its CPU kernel computes it: `a + w*(b - a)` for `|w| < 0.5`,
/// else `b - (b - a)*(1 - w)`, which is exact at `w = 1`.
#[inline(always)]
pub(crate) fn lerp<F: Float>(a: F, b: F, w: F) -> F {
    if w.abs() < F::of(0.5) {
        a + w * (b - a)
    } else {
        b - (b - a) * (F::one() - w)
    }
}

/// `torch.sign`: -1, 0 or 1 (0 for both zeros; NaN stays NaN).
#[inline(always)]
pub(crate) fn sign<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else {
        x * F::zero()
    }
}

/// Makes `buf` hold `n` copies of `value` unless it already has `n` elements (first step, or a
/// buffer switched on later such as `amsgrad`'s); a large buffer on huge pages
/// ([`huge_filled`](crate::data::memory::huge_filled)).
pub(crate) fn ensure_len<F: Float>(buf: &mut Vec<F>, n: usize, value: F) {
    if buf.len() != n {
        *buf = crate::data::memory::huge_filled(n, value);
    }
}

/// The contiguous ranges of a flat buffer that make up the parameter groups.
pub type GroupRange = Range<usize>;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod definition_tests;
