//! Events of a training run and the observer interface.

use serde::{Deserialize, Serialize};

use super::{Checkpoint, Outcome};
use crate::optim::StepQuantiles;
use crate::{Float, Result};

/// One optimizer update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Epoch of this update, from 1.
    pub epoch: usize,
    /// Updates so far, this one included (from 1).
    pub step: usize,
    /// Loss of the batch at the parameters before this update.
    pub loss: f64,
    /// Learning rate used by this update.
    pub lr: f64,
    /// L2 norm of the gradient of this update (before clipping).
    pub grad_norm: f64,
}

/// The end of an epoch: one row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// From 1.
    pub epoch: usize,
    /// Updates so far.
    pub step: usize,
    /// Mean of the epoch's batch losses, each computed before its update (for full-batch
    /// descent: the classic loop's printed cost).
    pub loss: f64,
    /// Loss on the validation split at the end of the epoch, if there is one.
    pub val_loss: Option<f64>,
    /// Learning rate of the epoch's last update.
    pub lr: f64,
    /// Gradient norm of the epoch's last update.
    pub grad_norm: f64,
}

/// What a run is, told to observers when it starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStart {
    /// Epoch the run starts from (0 for a fresh run), and the epoch it will stop at.
    pub from_epoch: usize,
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub n_params: usize,
    /// A readable name for every scalar parameter, in the flat buffer's order
    /// ([`scalar_names`](crate::params::scalar_names)).
    pub param_names: Vec<String>,
    /// The run specification ([`RunSpec`](crate::RunSpec)) as JSON, when the run was built
    /// from one.
    pub spec: Option<serde_json::Value>,
    /// The loss-and-gradient engine chosen for the run (`tape`, `linear kernel`, ...).
    pub engine: String,
}

/// What the trainer tells its observers, in order: `Start`, then per update `Step` (only to
/// observers that ask for steps, [`Observer::step_events`]), per epoch `Epoch`, and finally
/// `End`. Parameters are the flat buffer after the update / epoch / run.
///
/// When no observer wants [every step](StepEvents::Every), one-row updates may run fused,
/// with a `Step` only every [`STEP_EVENT_INTERVAL`](super::STEP_EVENT_INTERVAL) updates and
/// for the epoch's last.
#[derive(Debug)]
pub enum Event<'a, F> {
    Start(&'a RunStart),
    Step(&'a StepRecord, &'a [F]),
    Epoch(&'a EpochRecord, &'a [F]),
    /// How the run ended, and its final parameters (the best ones after a divergence or
    /// early stopping).
    End(&'a Outcome, &'a [F]),
}

/// Which [`Event::Step`]s an observer wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum StepEvents {
    /// None: epochs only (the default).
    #[default]
    None,
    /// Some, at least every [`STEP_EVENT_INTERVAL`](super::STEP_EVENT_INTERVAL) updates (to
    /// poll for a stop, or to draw a live curve); fast paths stay on. The observer is asked
    /// before each such update whether it wants it ([`Observer::wants_next_step`]).
    Sparse,
    /// Every update (fused per-sample steps are then off; the numbers are the same).
    Every,
}

/// An observer's answer: go on, or stop the run after this event (with a reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    Continue,
    Stop(String),
}

/// Something that watches a run. An error (e.g. a file that cannot be written) ends the run.
pub trait Observer<F: Float> {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal>;

    /// Which [`Event::Step`]s this observer wants (none by default: adding an observer never
    /// turns a fast path off unless it asks for every step).
    fn step_events(&self) -> StepEvents {
        StepEvents::None
    }

    /// For a [`StepEvents::Sparse`] observer, asked before each update it may be told of:
    /// whether it wants that update's [`Event::Step`] (by default, every one). When no
    /// observer wants it, the trainer sends none and skips the gradient norm the event would
    /// carry (a sum over every parameter): an observer that samples steps (at a bounded
    /// rate, or when a flag is set) costs nothing on the other updates. An observer may
    /// still be sent a step it did not ask for, when another one asked.
    fn wants_next_step(&self) -> bool {
        true
    }

    /// Whether this observer wants the full training state after epoch `epoch` (the trainer
    /// then calls [`Observer::on_checkpoint`]). Nothing by default.
    fn wants_checkpoint(&self, _epoch: usize) -> bool {
        false
    }

    /// Whether this observer wants the distribution of the effective per-parameter step of
    /// an adaptive optimizer after each epoch (then [`Observer::on_effective_steps`] is
    /// called, for optimizers that have one). Computed only when an observer asks.
    fn wants_effective_steps(&self) -> bool {
        false
    }

    /// The quantiles of `lr / (√v̂ + ε)` over the parameters after epoch `epoch`.
    fn on_effective_steps(&mut self, _epoch: usize, _steps: &StepQuantiles) -> Result<()> {
        Ok(())
    }

    /// The full training state after an epoch this observer asked for.
    fn on_checkpoint(&mut self, _checkpoint: &Checkpoint<F>) -> Result<()> {
        Ok(())
    }
}

/// A closure observes epochs (and the start and end of the run).
impl<F: Float, T: FnMut(&Event<'_, F>) -> Result<Signal>> Observer<F> for T {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        self(event)
    }
}

/// An observer that also sees every update: `EveryStep(|e| ...)`.
pub struct EveryStep<T>(pub T);

impl<F: Float, T: FnMut(&Event<'_, F>) -> Result<Signal>> Observer<F> for EveryStep<T> {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        (self.0)(event)
    }

    fn step_events(&self) -> StepEvents {
        StepEvents::Every
    }
}
