//! Step decays: torch's `StepLR` (every `step_size` steps) and `MultiStepLR` (at milestones).

use serde_json::Value;

use super::state::{self, EpochLr};
use super::{check, Scheduler};
use crate::Result;

/// Multiplies the lr by `gamma` every `step_size` steps, as `torch.optim.lr_scheduler.StepLR`.
///
/// # Algorithm
/// ```text
/// t == 0 or t % step_size != 0:  lr unchanged (lr_0 = base_lr)
/// otherwise:                     lr <- lr * gamma
/// ```
/// # Defaults
/// step_size required, gamma 0.1.
/// # Reference
/// `torch.optim.lr_scheduler.StepLR.get_lr` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct StepLR {
    pub step_size: usize,
    pub gamma: f64,
    state: EpochLr,
}

impl StepLR {
    pub fn new(base_lr: f64, step_size: usize, gamma: f64) -> Result<Self> {
        Self::validate(step_size, gamma)?;
        Ok(StepLR {
            step_size,
            gamma,
            state: EpochLr::start(base_lr),
        })
    }

    pub(crate) fn validate(step_size: usize, gamma: f64) -> Result<()> {
        check("step_size", step_size, step_size >= 1, "must be >= 1")?;
        check_gamma(gamma)
    }
}

pub(crate) fn check_gamma(gamma: f64) -> Result<()> {
    check(
        "gamma",
        gamma,
        gamma.is_finite() && gamma >= 0.0,
        "must be finite and >= 0",
    )
}

impl Scheduler for StepLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        if self.state.last_epoch % self.step_size == 0 {
            self.state.lr *= self.gamma;
        }
    }
    fn save_state(&self) -> Value {
        state::save("step", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("step", value)?;
        Ok(())
    }
}

/// Multiplies the lr by `gamma` at each milestone, as `torch.optim.lr_scheduler.MultiStepLR`.
///
/// # Algorithm
/// ```text
/// k = number of times t is listed in milestones (torch keeps a Counter)
/// k > 0:      lr <- lr * gamma^k      (also at t == 0 if 0 is a milestone)
/// otherwise:  lr unchanged
/// ```
/// A milestone listed twice multiplies the lr by gamma twice at that step, as in torch.
/// # Defaults
/// milestones required (in non-decreasing order, repeats allowed), gamma 0.1.
/// # Reference
/// `torch.optim.lr_scheduler.MultiStepLR.get_lr` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    pub milestones: Vec<usize>,
    pub gamma: f64,
    state: EpochLr,
}

impl MultiStepLR {
    pub fn new(base_lr: f64, milestones: Vec<usize>, gamma: f64) -> Result<Self> {
        Self::validate(&milestones, gamma)?;
        let mut s = MultiStepLR {
            milestones,
            gamma,
            state: EpochLr::start(base_lr),
        };
        s.apply();
        Ok(s)
    }

    pub(crate) fn validate(milestones: &[usize], gamma: f64) -> Result<()> {
        check_ordered("milestones", milestones, 0, Order::NonDecreasing)?;
        check_gamma(gamma)
    }

    fn apply(&mut self) {
        let t = self.state.last_epoch;
        let count = self.milestones.iter().filter(|&&m| m == t).count();
        if count > 0 {
            // torch: `group["lr"] * self.gamma ** self.milestones[self.last_epoch]`, a Python
            // float power (C `pow`, as `powf`); `gamma ** 1` is `gamma` exactly.
            self.state.lr *= self.gamma.powf(count as f64);
        }
    }
}

/// How the values of a list of steps must be ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Each value above the one before (sequence milestones).
    Strict,
    /// Each value at or above the one before (multistep milestones, which may repeat).
    NonDecreasing,
}

/// Checks that `list` is non-empty, ordered as `order` says and starts at `min` or later.
pub(crate) fn check_ordered(name: &str, list: &[usize], min: usize, order: Order) -> Result<()> {
    let text = || {
        list.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(";")
    };
    check(name, text(), !list.is_empty(), "needs at least one value")?;
    let (ordered, rule) = match order {
        Order::Strict => (
            list.windows(2).all(|w| w[0] < w[1]),
            "must be strictly increasing",
        ),
        Order::NonDecreasing => (
            list.windows(2).all(|w| w[0] <= w[1]),
            "must be in non-decreasing order (a repeated milestone multiplies by gamma once per listing)",
        ),
    };
    check(name, text(), ordered, rule)?;
    check(
        name,
        text(),
        list[0] >= min,
        &format!("every value must be >= {min}"),
    )
}

impl Scheduler for MultiStepLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        self.apply();
    }
    fn save_state(&self) -> Value {
        state::save("multistep", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("multistep", value)?;
        Ok(())
    }
}
