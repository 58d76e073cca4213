//! Exponential decay: torch's `ExponentialLR`.

use serde_json::Value;

use super::state::{self, EpochLr};
use super::step::check_gamma;
use super::Scheduler;
use crate::Result;

/// Multiplies the lr by `gamma` every step, as `torch.optim.lr_scheduler.ExponentialLR`.
///
/// # Algorithm
/// ```text
/// lr_0 = base_lr;  lr_t = lr_{t-1} * gamma      (recursive, not base_lr * gamma^t)
/// ```
/// # Defaults
/// gamma required.
/// # Reference
/// `torch.optim.lr_scheduler.ExponentialLR.get_lr` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    pub gamma: f64,
    state: EpochLr,
}

impl ExponentialLR {
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self> {
        check_gamma(gamma)?;
        Ok(ExponentialLR {
            gamma,
            state: EpochLr::start(base_lr),
        })
    }
}

impl Scheduler for ExponentialLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        self.state.lr *= self.gamma;
    }
    fn save_state(&self) -> Value {
        state::save("exponential", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("exponential", value)?;
        Ok(())
    }
}
