//! Everything needed to continue a run exactly: parameters, optimizer and schedule state,
//! counters. Batch order needs no saved state: epoch `e`'s permutation depends only on the
//! seed and `e` (see [`BatchOrder::Shuffle`](crate::data::BatchOrder)).

use serde::{Deserialize, Serialize};

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
}

impl<F: Float> Trainer<'_, F> {
    /// The state of the run now.
    pub fn checkpoint(&self) -> Checkpoint<F> {
        Checkpoint {
            epoch: self.epoch,
            step: self.step,
            params: self.params.values.clone(),
            optimizer: self.optimizer.save_state(),
            schedule: self.schedule.save_state(),
        }
    }

    /// Continues from `c` (made by a trainer with the same model, optimizer and schedule).
    pub fn restore(&mut self, c: &Checkpoint<F>) -> Result<()> {
        if c.params.len() != self.params.len() {
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
        Ok(())
    }
}
