//! Polynomial decay to zero: torch's `PolynomialLR`.

use serde_json::Value;

use super::state::{self, EpochLr};
use super::{check, Scheduler};
use crate::Result;

/// Decays the lr to 0 over `total_iters` steps as `(1 - t/T)^power`, as
/// `torch.optim.lr_scheduler.PolynomialLR`.
///
/// # Algorithm
/// torch's ratio form of the recurrence (T = total_iters):
/// ```text
/// t == 0 or t > T:  lr unchanged (lr_0 = base_lr)
/// otherwise:        lr <- lr * ((1 - t/T) / (1 - (t-1)/T))^power
/// ```
/// # Defaults
/// total_iters 5, power 1.
/// # Reference
/// `torch.optim.lr_scheduler.PolynomialLR.get_lr` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct PolynomialLR {
    pub total_iters: usize,
    pub power: f64,
    state: EpochLr,
}

impl PolynomialLR {
    pub fn new(base_lr: f64, total_iters: usize, power: f64) -> Result<Self> {
        Self::validate(power)?;
        Ok(PolynomialLR {
            total_iters,
            power,
            state: EpochLr::start(base_lr),
        })
    }

    pub(crate) fn validate(power: f64) -> Result<()> {
        check(
            "power",
            power,
            power.is_finite() && power >= 0.0,
            "must be finite and >= 0",
        )
    }
}

impl Scheduler for PolynomialLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        let t = self.state.last_epoch;
        if t > self.total_iters {
            return;
        }
        let total = self.total_iters as f64;
        let decay = ((1.0 - t as f64 / total) / (1.0 - (t - 1) as f64 / total)).powf(self.power);
        self.state.lr *= decay;
    }
    fn save_state(&self) -> Value {
        state::save("polynomial", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("polynomial", value)?;
        Ok(())
    }
}
