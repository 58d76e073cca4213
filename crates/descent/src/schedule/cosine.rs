//! Cosine annealing: torch's `CosineAnnealingLR` (recursive form) and
//! `CosineAnnealingWarmRestarts`.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::{self, exact, EpochLr};
use super::{check, Scheduler};
use crate::Result;

/// Cosine annealing from the base lr to `eta_min` over `t_max` steps, as
/// `torch.optim.lr_scheduler.CosineAnnealingLR`.
///
/// # Algorithm
/// torch's recurrence on the group lr, which agrees with the closed form
/// `eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2` up to rounding and, like it,
/// does not stop at `t_max`: the lr climbs back up over the next `t_max` steps.
/// ```text
/// t == 0:                              lr = base_lr
/// (t - 1 - t_max) % (2 t_max) == 0:    lr <- lr + (base_lr - eta_min) * (1 - cos(pi / t_max)) / 2
/// otherwise:                           lr <- (1 + cos(pi t / t_max)) / (1 + cos(pi (t-1) / t_max))
///                                            * (lr - eta_min) + eta_min
/// ```
/// # Defaults
/// t_max required, eta_min 0.
/// # Reference
/// `torch.optim.lr_scheduler.CosineAnnealingLR.get_lr` (PyTorch 2.9); Loshchilov & Hutter,
/// SGDR: Stochastic Gradient Descent with Warm Restarts, 2016.
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    pub t_max: usize,
    pub eta_min: f64,
    base_lr: f64,
    state: EpochLr,
}

impl CosineAnnealingLR {
    pub fn new(base_lr: f64, t_max: usize, eta_min: f64) -> Result<Self> {
        Self::validate(t_max, eta_min)?;
        Ok(CosineAnnealingLR {
            t_max,
            eta_min,
            base_lr,
            state: EpochLr::start(base_lr),
        })
    }

    pub(crate) fn validate(t_max: usize, eta_min: f64) -> Result<()> {
        check("t_max", t_max, t_max >= 1, "must be >= 1")?;
        check_eta_min(eta_min)
    }

    /// The state SequentialLR leaves at a milestone: torch's closed form at epoch 0.
    pub(crate) fn at_milestone(mut self) -> Self {
        let cos_out = 1.0 + (PI * 0.0 / self.t_max as f64).cos();
        self.state.lr = self.eta_min + (self.base_lr - self.eta_min) * cos_out / 2.0;
        self
    }
}

pub(crate) fn check_eta_min(eta_min: f64) -> Result<()> {
    check(
        "eta_min",
        eta_min,
        eta_min.is_finite() && eta_min >= 0.0,
        "must be finite and >= 0",
    )
}

impl Scheduler for CosineAnnealingLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        let t = self.state.last_epoch as i64;
        let t_max = self.t_max as i64;
        let (eta_min, t_max_f, lr) = (self.eta_min, self.t_max as f64, self.state.lr);
        self.state.lr = if (t - 1 - t_max).rem_euclid(2 * t_max) == 0 {
            lr + (self.base_lr - eta_min) * (1.0 - (PI / t_max_f).cos()) / 2.0
        } else {
            (1.0 + (PI * t as f64 / t_max_f).cos()) / (1.0 + (PI * (t - 1) as f64 / t_max_f).cos())
                * (lr - eta_min)
                + eta_min
        };
    }
    fn save_state(&self) -> Value {
        state::save("cosine", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("cosine", value)?;
        Ok(())
    }
}

/// Cosine annealing restarted every `T_i` steps, `T_i` growing by `t_mult`, as
/// `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`.
///
/// # Algorithm
/// ```text
/// T_i = t_0, T_cur = 0 at the start; each step:
///   T_cur <- T_cur + 1;  if T_cur >= T_i { T_cur <- T_cur - T_i;  T_i <- T_i * t_mult }
///   lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2
/// ```
/// # Defaults
/// t_0 required, t_mult 1, eta_min 0.
/// # Reference
/// `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.step` (PyTorch 2.9); Loshchilov &
/// Hutter, SGDR, 2016.
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestarts {
    pub t_0: usize,
    pub t_mult: usize,
    pub eta_min: f64,
    base_lr: f64,
    state: RestartState,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct RestartState {
    last_epoch: usize,
    t_i: usize,
    t_cur: usize,
    #[serde(with = "exact")]
    lr: f64,
}

impl CosineAnnealingWarmRestarts {
    pub fn new(base_lr: f64, t_0: usize, t_mult: usize, eta_min: f64) -> Result<Self> {
        Self::validate(t_0, t_mult, eta_min)?;
        let mut s = CosineAnnealingWarmRestarts {
            t_0,
            t_mult,
            eta_min,
            base_lr,
            state: RestartState {
                last_epoch: 0,
                t_i: t_0,
                t_cur: 0,
                lr: base_lr,
            },
        };
        s.state.lr = s.compute();
        Ok(s)
    }

    pub(crate) fn validate(t_0: usize, t_mult: usize, eta_min: f64) -> Result<()> {
        check("t_0", t_0, t_0 >= 1, "must be >= 1")?;
        check("t_mult", t_mult, t_mult >= 1, "must be >= 1")?;
        check_eta_min(eta_min)
    }

    fn compute(&self) -> f64 {
        let cos = (PI * self.state.t_cur as f64 / self.state.t_i as f64).cos();
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cos) / 2.0
    }
}

impl Scheduler for CosineAnnealingWarmRestarts {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, _metric: f64) {
        let s = &mut self.state;
        s.last_epoch += 1;
        s.t_cur += 1;
        if s.t_cur >= s.t_i {
            s.t_cur %= s.t_i;
            s.t_i *= self.t_mult;
        }
        self.state.lr = self.compute();
    }
    fn save_state(&self) -> Value {
        state::save("cosine-restarts", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("cosine-restarts", value)?;
        Ok(())
    }
}
