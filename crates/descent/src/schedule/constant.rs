//! The constant learning rate and torch's `ConstantLR` (a factor for the first steps).

use serde_json::Value;

use super::state::{self, EpochLr};
use super::{check, Scheduler};
use crate::Result;

/// The constant learning rate: no schedule at all.
///
/// # Algorithm
/// `lr_t = lr` for every t.
/// # Defaults
/// None (the optimizer's lr).
/// # Reference
/// Training without `torch.optim.lr_scheduler`.
#[derive(Clone, Debug)]
pub struct Constant {
    pub lr: f64,
}

impl Scheduler for Constant {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn step(&mut self, _metric: f64) {}
    fn save_state(&self) -> Value {
        state::save("constant", &EpochLr::start(self.lr))
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.lr = state::load::<EpochLr>("constant", value)?.lr;
        Ok(())
    }
}

/// Multiplies the lr by `factor` for the first `total_iters` steps, as `torch.optim.lr_scheduler.ConstantLR`.
///
/// # Algorithm
/// torch's recurrence on the group lr (epoch `t` = number of `step()` calls):
/// ```text
/// t == 0:            lr <- base_lr * factor
/// t == total_iters:  lr <- lr * (1 / factor)
/// otherwise:         lr unchanged
/// ```
/// # Defaults
/// torch: factor 1/3, total_iters 5. On the command line `constant` alone means no schedule
/// (factor 1, total_iters 0); give both keys for a ConstantLR.
/// # Reference
/// `torch.optim.lr_scheduler.ConstantLR.get_lr` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct ConstantLR {
    pub factor: f64,
    pub total_iters: usize,
    state: EpochLr,
}

impl ConstantLR {
    pub fn new(base_lr: f64, factor: f64, total_iters: usize) -> Result<Self> {
        Self::validate(factor)?;
        Ok(ConstantLR {
            factor,
            total_iters,
            state: EpochLr::start(base_lr * factor),
        })
    }

    pub(crate) fn validate(factor: f64) -> Result<()> {
        // torch accepts 0 but then divides by it at total_iters.
        check(
            "factor",
            factor,
            factor > 0.0 && factor <= 1.0,
            "must be in (0, 1]",
        )
    }

    /// The state SequentialLR leaves at a milestone: torch's closed form at epoch 0.
    pub(crate) fn at_milestone(mut self, base_lr: f64) -> Self {
        let reached = if self.total_iters == 0 { 1.0 } else { 0.0 };
        self.state.lr = base_lr * (self.factor + reached * (1.0 - self.factor));
        self
    }
}

impl Scheduler for ConstantLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        if self.state.last_epoch == self.total_iters {
            self.state.lr *= 1.0 / self.factor;
        }
    }
    fn save_state(&self) -> Value {
        state::save("constant", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("constant", value)?;
        Ok(())
    }
}
