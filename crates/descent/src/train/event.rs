//! Events of a training run and the observer interface.

use serde::{Deserialize, Serialize};

use super::{Checkpoint, Outcome};
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

/// What the trainer tells its observers, in order: `Start`, then per update `Step`, per epoch
/// `Epoch`, and finally `End`. Parameters are the flat buffer after the update / epoch.
///
/// When no observer [wants every step](Observer::wants_every_step), one-row updates may run
/// fused, with a `Step` only every [`STEP_EVENT_INTERVAL`](super::STEP_EVENT_INTERVAL)
/// updates and for the epoch's last.
#[derive(Debug)]
pub enum Event<'a, F> {
    Start {
        /// Epoch the run starts from (0 for a fresh run), and the epoch it will stop at.
        from_epoch: usize,
        epochs: usize,
        steps_per_epoch: usize,
        n_params: usize,
    },
    Step(&'a StepRecord, &'a [F]),
    Epoch(&'a EpochRecord, &'a [F]),
    End(&'a Outcome),
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

    /// Whether this observer needs an [`Event::Step`] for every update (yes by default). An
    /// observer that looks only at epochs, or at some steps (to poll for a stop, or to draw
    /// a live curve), says no, and lets the trainer fuse one-row updates in the kernel.
    fn wants_every_step(&self) -> bool {
        true
    }

    /// Whether this observer wants the full training state after epoch `epoch` (the trainer
    /// then calls [`Observer::on_checkpoint`]). Nothing by default.
    fn wants_checkpoint(&self, _epoch: usize) -> bool {
        false
    }

    /// The full training state after an epoch this observer asked for.
    fn on_checkpoint(&mut self, _checkpoint: &Checkpoint<F>) -> Result<()> {
        Ok(())
    }
}

impl<F: Float, T: FnMut(&Event<'_, F>) -> Result<Signal>> Observer<F> for T {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        self(event)
    }
}
