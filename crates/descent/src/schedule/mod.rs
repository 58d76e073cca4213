//! Learning-rate schedules, equal to `torch.optim.lr_scheduler` step for step.
//!
//! A schedule owns the current learning rate. The protocol is PyTorch's:
//! ```text
//! let mut s = build(...);            // s.lr() is the lr of the first update
//! loop { optimizer.step(s.lr(), ..); s.step(metric); }
//! ```
//! Schedules that torch computes recursively (`lr_t` from `lr_{t-1}`) copy that recurrence so
//! that results agree to the last bits.

use std::fmt::Debug;

use crate::Result;

/// A learning-rate schedule (and, for one-cycle, a momentum schedule).
pub trait Scheduler: Send + Debug {
    /// The learning rate for the next optimizer step.
    fn lr(&self) -> f64;

    /// The momentum (or Adam's beta1) for the next step, for schedules that cycle it.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Advances one epoch (or step). `metric` drives `ReduceLROnPlateau`; others ignore it.
    fn step(&mut self, metric: f64);

    /// Everything needed to continue exactly, for checkpoints.
    fn save_state(&self) -> serde_json::Value;

    /// Restores what [`Scheduler::save_state`] wrote.
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()>;
}

/// The constant learning rate: no schedule at all.
#[derive(Clone, Debug)]
pub struct Constant {
    pub lr: f64,
}

impl Scheduler for Constant {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn step(&mut self, _metric: f64) {}
    fn save_state(&self) -> serde_json::Value {
        serde_json::json!({ "lr": self.lr })
    }
    fn load_state(&mut self, _state: &serde_json::Value) -> Result<()> {
        Ok(())
    }
}
