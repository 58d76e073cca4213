//! Inverse square-root decay: torch's `LambdaLR` with `lambda epoch: 1 / sqrt(epoch + 1)`.

use serde_json::Value;

use super::state::{self, EpochLr};
use super::Scheduler;
use crate::Result;

/// The lr divided by the square root of the step count, as
/// `LambdaLR(optimizer, lambda epoch: 1 / math.sqrt(epoch + 1))`.
///
/// # Algorithm
/// ```text
/// lr_t = base_lr * (1 / sqrt(t + 1))      (closed form, as LambdaLR computes it)
/// ```
/// # Defaults
/// No options.
/// # Reference
/// `torch.optim.lr_scheduler.LambdaLR.get_lr` (PyTorch 2.9); the inverse square-root schedule
/// of Vaswani et al., Attention Is All You Need, 2017 (without its warm-up).
#[derive(Clone, Debug)]
pub struct InvSqrtLR {
    base_lr: f64,
    state: EpochLr,
}

impl InvSqrtLR {
    pub fn new(base_lr: f64) -> Self {
        let mut s = InvSqrtLR {
            base_lr,
            state: EpochLr::start(base_lr),
        };
        s.state.lr = s.compute();
        s
    }

    fn compute(&self) -> f64 {
        self.base_lr * (1.0 / ((self.state.last_epoch + 1) as f64).sqrt())
    }
}

impl Scheduler for InvSqrtLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        self.state.lr = self.compute();
    }
    fn save_state(&self) -> Value {
        state::save("inv-sqrt", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("inv-sqrt", value)?;
        Ok(())
    }
}
