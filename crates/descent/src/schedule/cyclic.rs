//! Cyclical learning rates: torch's `CyclicLR`, with its inverse momentum (or beta1) cycle.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::{self, exact, exact_opt};
use super::{check, Scheduler};
use crate::{Error, Result};

/// How the cycle's amplitude changes from cycle to cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// The same triangle every cycle: scale 1.
    Triangular,
    /// The amplitude halves every cycle: scale `1 / 2^(cycle - 1)`.
    Triangular2,
    /// The amplitude decays every iteration: scale `gamma^t`.
    ExpRange,
}

impl CyclicMode {
    /// The scale mode torch uses for this mode (it overrides the `scale_mode` argument for every
    /// built-in mode): per cycle for the triangles, per iteration for `exp_range`.
    pub fn scale_mode(self) -> ScaleMode {
        match self {
            CyclicMode::Triangular | CyclicMode::Triangular2 => ScaleMode::Cycle,
            CyclicMode::ExpRange => ScaleMode::Iterations,
        }
    }
}

impl fmt::Display for CyclicMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CyclicMode::Triangular => "triangular",
            CyclicMode::Triangular2 => "triangular2",
            CyclicMode::ExpRange => "exp_range",
        })
    }
}

/// What the amplitude scale is a function of: the cycle number or the iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleMode {
    Cycle,
    Iterations,
}

impl fmt::Display for ScaleMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScaleMode::Cycle => "cycle",
            ScaleMode::Iterations => "iterations",
        })
    }
}

/// The options of [`CyclicLR`], with torch's names.
///
/// # Defaults
/// base_lr and max_lr required; step_size_up 2000, step_size_down step_size_up, mode
/// triangular, gamma 1, scale_mode from the mode, cycle_momentum true, base_momentum 0.8,
/// max_momentum 0.9.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CyclicOptions {
    pub base_lr: f64,
    pub max_lr: f64,
    pub step_size_up: usize,
    /// `None`: equal to `step_size_up`.
    pub step_size_down: Option<usize>,
    pub mode: CyclicMode,
    pub gamma: f64,
    /// As given (`None`: not given). torch ignores it for every built-in mode and uses
    /// [`CyclicMode::scale_mode`]; so does [`CyclicLR`] (and [`super::ScheduleSpec::warnings`]
    /// says so when the two differ).
    pub scale_mode: Option<ScaleMode>,
    pub cycle_momentum: bool,
    pub base_momentum: f64,
    pub max_momentum: f64,
}

impl CyclicOptions {
    /// torch's defaults with the given bounds.
    pub fn new(base_lr: f64, max_lr: f64) -> Self {
        CyclicOptions {
            base_lr,
            max_lr,
            step_size_up: 2000,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            gamma: 1.0,
            scale_mode: None,
            cycle_momentum: true,
            base_momentum: 0.8,
            max_momentum: 0.9,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let lr = |name: &str, x: f64| {
            check(
                name,
                x,
                x.is_finite() && x >= 0.0,
                "must be finite and >= 0",
            )
        };
        lr("base_lr", self.base_lr)?;
        lr("max_lr", self.max_lr)?;
        check(
            "step_size_up",
            self.step_size_up,
            self.step_size_up >= 1,
            "must be >= 1 (torch divides by it)",
        )?;
        super::step::check_gamma(self.gamma)?;
        let finite = |name: &str, x: f64| check(name, x, x.is_finite(), "must be finite");
        finite("base_momentum", self.base_momentum)?;
        finite("max_momentum", self.max_momentum)
    }
}

/// Cycles the lr between `base_lr` and `max_lr` (and the momentum between `max_momentum` and
/// `base_momentum`, the other way), as `torch.optim.lr_scheduler.CyclicLR`.
///
/// # Algorithm
/// ```text
/// total = step_size_up + step_size_down;   ratio = step_size_up / total     (as floats)
/// at step t:
///   cycle = floor(1 + t / total)
///   x = 1 + t / total - cycle
///   f = x / ratio                 if x <= ratio
///       (x - 1) / (ratio - 1)     otherwise
///   s = 1                         triangular   (per cycle)
///       1 / 2^(cycle - 1)         triangular2  (per cycle)
///       gamma^t                   exp_range    (per iteration)
///   lr       = base_lr + (max_lr - base_lr) * f * s
///   momentum = max_momentum - (max_momentum - base_momentum) * f * s   (if cycle_momentum)
/// ```
/// The optimizer's own lr is replaced by `base_lr` (torch overwrites the group's lr at
/// construction); the momentum (SGD, RMSprop) or beta1 (Adam family) is replaced by the cycled
/// value. `scale_mode` is ignored as in torch, where every built-in mode sets its own.
/// # Defaults
/// See [`CyclicOptions`].
/// # Reference
/// `torch.optim.lr_scheduler.CyclicLR.get_lr` (PyTorch 2.9.1); Smith, "Cyclical Learning
/// Rates for Training Neural Networks" (WACV 2017).
#[derive(Clone, Debug)]
pub struct CyclicLR {
    pub options: CyclicOptions,
    total_size: f64,
    step_ratio: f64,
    state: CyclicState,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct CyclicState {
    last_epoch: usize,
    #[serde(with = "exact")]
    lr: f64,
    #[serde(with = "exact_opt")]
    momentum: Option<f64>,
}

impl CyclicLR {
    /// `base_momentum` is the optimizer's momentum or beta1 (`None` if it has neither); torch
    /// needs one to cycle, and replaces it from the first step.
    pub fn new(options: CyclicOptions, base_momentum: Option<f64>) -> Result<Self> {
        options.validate()?;
        if options.cycle_momentum && base_momentum.is_none() {
            return Err(Error::invalid(
                "cycle_momentum",
                true,
                "the optimizer has no momentum or beta1 to cycle; set cycle_momentum=false",
            ));
        }
        // torch: `step_size_up = float(step_size_up)`, `total_size = up + down`,
        // `step_ratio = step_size_up / total_size`.
        let up = options.step_size_up as f64;
        let down = options.step_size_down.map_or(up, |d| d as f64);
        let total_size = up + down;
        let mut s = CyclicLR {
            options,
            total_size,
            step_ratio: up / total_size,
            state: CyclicState {
                last_epoch: 0,
                lr: 0.0,
                momentum: None,
            },
        };
        s.compute();
        Ok(s)
    }

    /// torch's `get_lr` at `last_epoch`, in its operation order.
    fn compute(&mut self) {
        let o = &self.options;
        let t = self.state.last_epoch as f64;
        let cycle = (1.0 + t / self.total_size).floor();
        let x = 1.0 + t / self.total_size - cycle;
        let scale_factor = if x <= self.step_ratio {
            x / self.step_ratio
        } else {
            (x - 1.0) / (self.step_ratio - 1.0)
        };
        // torch: `scale_fn(cycle)` or `scale_fn(self.last_epoch)`, both Python float powers.
        let scale = match o.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => o.gamma.powf(t),
        };
        let base_height = (o.max_lr - o.base_lr) * scale_factor;
        self.state.lr = o.base_lr + base_height * scale;
        if o.cycle_momentum {
            let base_height = (o.max_momentum - o.base_momentum) * scale_factor;
            self.state.momentum = Some(o.max_momentum - base_height * scale);
        }
    }
}

impl Scheduler for CyclicLR {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn momentum(&self) -> Option<f64> {
        self.state.momentum
    }
    fn step(&mut self, _metric: f64) {
        self.state.last_epoch += 1;
        self.compute();
    }
    fn save_state(&self) -> Value {
        state::save("cyclic", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("cyclic", value)?;
        Ok(())
    }
}
