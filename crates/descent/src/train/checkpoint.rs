//! Everything needed to continue a run exactly, even from the middle of an epoch: parameters,
//! optimizer and schedule state, counters, the watch (best parameters, early stopping). Batch order needs no saved state: epoch `e`'s permutation depends only on the
//! seed and `e` (see [`BatchOrder::Shuffle`](crate::data::BatchOrder)).

use serde::{Deserialize, Serialize};

use super::watch::Watch;
use super::Trainer;
use crate::{Error, Float, Result};

/// A snapshot of a [`Trainer`] between epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Checkpoint<F: Float> {
    /// Epochs completed.
    pub epoch: usize,
    /// Updates made.
    pub step: usize,
    /// The flat parameter buffer.
    pub params: Vec<F>,
    /// [`DynOptimizer::save_state`](crate::optim::DynOptimizer::save_state).
    pub optimizer: serde_json::Value,
    /// [`Scheduler::save_state`](crate::schedule::Scheduler::save_state).
    pub schedule: serde_json::Value,
    /// Best parameters, divergence and early-stopping counters.
    pub watch: Watch<F>,
    /// Batches already done in the unfinished epoch `epoch + 1` (0 between epochs), and the
    /// sum of their losses.
    pub batch_in_epoch: usize,
    pub loss_sum: f64,
}

impl<F: Float> Trainer<F> {
    /// The state of the run now.
    pub fn checkpoint(&self) -> Checkpoint<F> {
        Checkpoint {
            epoch: self.epoch,
            step: self.step,
            params: self.params.values.clone(),
            optimizer: self.optimizer.save_state(),
            schedule: self.schedule.save_state(),
            watch: self.watch.clone(),
            batch_in_epoch: self.batch_in_epoch,
            loss_sum: self.loss_sum,
        }
    }

    /// Continues from `c` (made by a trainer with the same model, optimizer and schedule).
    pub fn restore(&mut self, c: &Checkpoint<F>) -> Result<()> {
        let n = self.params.len();
        if c.params.len() != n || c.watch.best_params.len() != n || c.watch.epoch_start.len() != n {
            return Err(Error::State(format!(
                "the checkpoint has {} parameters, the model {}",
                c.params.len(),
                self.params.len()
            )));
        }
        self.optimizer.load_state(&c.optimizer)?;
        self.schedule.load_state(&c.schedule)?;
        self.params.values.copy_from_slice(&c.params);
        self.epoch = c.epoch;
        self.step = c.step;
        self.watch = c.watch.clone();
        self.batch_in_epoch = c.batch_in_epoch;
        self.loss_sum = c.loss_sum;
        Ok(())
    }
}
