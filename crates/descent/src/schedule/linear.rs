//! Linear change of a factor on the lr: torch's `LinearLR` (warm-up or linear decay).

use serde_json::Value;

use super::state::{self, EpochLr};
use super::{check, Scheduler};
use crate::Result;

/// Multiplies the base lr by a factor that goes linearly from `start_factor` to `end_factor`
/// over `total_iters` steps, as `torch.optim.lr_scheduler.LinearLR`.
///
/// # Algorithm
/// torch's ratio form of the recurrence (s = start_factor, e = end_factor, T = total_iters):
/// ```text
/// t == 0:      lr = base_lr * s
/// 1 <= t <= T: lr <- lr * (1 + (e - s) / (T * s + (t - 1) * (e - s)))
/// t > T:       lr unchanged
/// ```
/// # Defaults
/// start_factor 1/3, end_factor 1, total_iters 5.
/// # Reference
/// `torch.optim.lr_scheduler.LinearLR.get_lr` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct LinearLR {
    pub start_factor: f64,
    pub end_factor: f64,
    pub total_iters: usize,
    state: EpochLr,
}

impl LinearLR {
    pub fn new(
        base_lr: f64,
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    ) -> Result<Self> {
        Self::validate(start_factor, end_factor)?;
        Ok(LinearLR {
            start_factor,
            end_factor,
            total_iters,
            state: EpochLr::start(base_lr * start_factor),
        })
    }

    pub(crate) fn validate(start_factor: f64, end_factor: f64) -> Result<()> {
        check(
            "start_factor",
            start_factor,
            start_factor > 0.0 && start_factor <= 1.0,
            "must be in (0, 1]",
        )?;
        check(
            "end_factor",
            end_factor,
            (0.0..=1.0).contains(&end_factor),
            "must be in [0, 1]",
        )
    }
}

impl Scheduler for LinearLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        let t = self.state.last_epoch;
        if t > self.total_iters {
            return;
        }
        let (s, e) = (self.start_factor, self.end_factor);
        let denom = self.total_iters as f64 * s + (t - 1) as f64 * (e - s);
        self.state.lr *= 1.0 + (e - s) / denom;
    }
    fn save_state(&self) -> Value {
        state::save("linear", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("linear", value)?;
        Ok(())
    }
}
