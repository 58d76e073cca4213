//! The 1cycle policy: torch's `OneCycleLR`, with its momentum (or beta1) cycle.

use std::f64::consts::PI;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::{self, exact, exact_opt};
use super::{check, Scheduler};
use crate::{Error, Result};

/// How a one-cycle phase goes from its start value to its end value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Anneal {
    /// `end + (start - end) / 2 * (cos(pi * pct) + 1)`
    Cos,
    /// `(end - start) * pct + start`
    Linear,
}

impl Anneal {
    fn apply(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            Anneal::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            Anneal::Linear => (end - start) * pct + start,
        }
    }
}

impl fmt::Display for Anneal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Anneal::Cos => "cos",
            Anneal::Linear => "linear",
        })
    }
}

/// The options of [`OneCycleLR`], with torch's names.
///
/// # Defaults
/// max_lr required; total_steps the run's length; pct_start 0.3, anneal_strategy cos,
/// cycle_momentum true, base_momentum 0.85, max_momentum 0.95, div_factor 25,
/// final_div_factor 1e4, three_phase false.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneCycleOptions {
    pub max_lr: f64,
    pub total_steps: Option<usize>,
    pub pct_start: f64,
    pub anneal_strategy: Anneal,
    pub cycle_momentum: bool,
    pub base_momentum: f64,
    pub max_momentum: f64,
    pub div_factor: f64,
    pub final_div_factor: f64,
    pub three_phase: bool,
}

impl OneCycleOptions {
    /// torch's defaults with the given peak lr.
    pub fn new(max_lr: f64) -> Self {
        OneCycleOptions {
            max_lr,
            total_steps: None,
            pct_start: 0.3,
            anneal_strategy: Anneal::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let finite = |name: &str, x: f64| check(name, x, x.is_finite(), "must be finite");
        let positive =
            |name: &str, x: f64| check(name, x, x.is_finite() && x > 0.0, "must be finite and > 0");
        check(
            "max_lr",
            self.max_lr,
            self.max_lr.is_finite() && self.max_lr >= 0.0,
            "must be finite and >= 0",
        )?;
        if let Some(n) = self.total_steps {
            check("total_steps", n, n >= 1, "must be >= 1")?;
        }
        check(
            "pct_start",
            self.pct_start,
            (0.0..=1.0).contains(&self.pct_start),
            "must be in [0, 1]",
        )?;
        finite("base_momentum", self.base_momentum)?;
        finite("max_momentum", self.max_momentum)?;
        positive("div_factor", self.div_factor)?;
        positive("final_div_factor", self.final_div_factor)
    }

    /// torch's phases: `(end_step, start, end)` for lr and momentum, as values not names.
    fn phases(&self, total_steps: usize) -> Result<Vec<Phase>> {
        let total = total_steps as f64;
        let initial_lr = self.max_lr / self.div_factor;
        let min_lr = initial_lr / self.final_div_factor;
        let (max_lr, base_m, max_m) = (self.max_lr, self.base_momentum, self.max_momentum);
        let phases = if self.three_phase {
            vec![
                Phase::new(
                    self.pct_start * total - 1.0,
                    (initial_lr, max_lr),
                    (max_m, base_m),
                ),
                Phase::new(
                    2.0 * self.pct_start * total - 2.0,
                    (max_lr, initial_lr),
                    (base_m, max_m),
                ),
                Phase::new(total - 1.0, (initial_lr, min_lr), (max_m, max_m)),
            ]
        } else {
            vec![
                Phase::new(
                    self.pct_start * total - 1.0,
                    (initial_lr, max_lr),
                    (max_m, base_m),
                ),
                Phase::new(total - 1.0, (max_lr, min_lr), (base_m, max_m)),
            ]
        };
        let mut start = 0.0;
        for p in &phases {
            if p.end_step == start {
                // torch divides by `end_step - start_step` and fails with ZeroDivisionError.
                return Err(Error::invalid(
                    "pct_start",
                    self.pct_start,
                    format!("gives a phase of zero length with total_steps {total_steps}"),
                ));
            }
            start = p.end_step;
        }
        Ok(phases)
    }
}

#[derive(Clone, Copy, Debug)]
struct Phase {
    end_step: f64,
    lr: (f64, f64),
    momentum: (f64, f64),
}

impl Phase {
    fn new(end_step: f64, lr: (f64, f64), momentum: (f64, f64)) -> Self {
        Phase {
            end_step,
            lr,
            momentum,
        }
    }
}

/// The 1cycle policy: the lr rises from `max_lr / div_factor` to `max_lr`, then anneals to
/// `max_lr / div_factor / final_div_factor`; the momentum moves the opposite way, as
/// `torch.optim.lr_scheduler.OneCycleLR`.
///
/// # Algorithm
/// ```text
/// phases (end_step, lr from -> to, momentum from -> to), N = total_steps, p = pct_start:
///   two-phase:   (p N - 1,   initial -> max_lr,  max_m -> base_m), (N - 1, max_lr -> min_lr, base_m -> max_m)
///   three-phase: (p N - 1,   initial -> max_lr,  max_m -> base_m), (2 p N - 2, max_lr -> initial, base_m -> max_m),
///                (N - 1,     initial -> min_lr,  max_m -> max_m)
/// at step t: the first phase with t <= end_step (or the last), start = previous end_step (0 first),
///   pct = (t - start) / (end_step - start);  lr = anneal(lr_from, lr_to, pct), momentum likewise
/// anneal cos:    end + (start - end) / 2 * (cos(pi pct) + 1);   linear: (end - start) pct + start
/// ```
/// torch raises after `total_steps` steps; here the lr and momentum then stay at their values
/// at step `total_steps`.
/// # Defaults
/// See [`OneCycleOptions`].
/// # Reference
/// `torch.optim.lr_scheduler.OneCycleLR.get_lr` (PyTorch 2.9); Smith & Topin,
/// Super-Convergence, 2017.
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    pub options: OneCycleOptions,
    pub total_steps: usize,
    phases: Vec<Phase>,
    state: OneCycleState,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct OneCycleState {
    last_epoch: usize,
    #[serde(with = "exact")]
    lr: f64,
    #[serde(with = "exact_opt")]
    momentum: Option<f64>,
}

impl OneCycleLR {
    /// `base_momentum` is the optimizer's momentum or beta1 (`None` if it has neither);
    /// `total_steps` is used when the options do not give one.
    pub fn new(
        options: OneCycleOptions,
        base_momentum: Option<f64>,
        total_steps: usize,
    ) -> Result<Self> {
        options.validate()?;
        if options.cycle_momentum && base_momentum.is_none() {
            return Err(Error::invalid(
                "cycle_momentum",
                true,
                "the optimizer has no momentum or beta1 to cycle; set cycle_momentum=false",
            ));
        }
        let total_steps = options.total_steps.unwrap_or(total_steps);
        check("total_steps", total_steps, total_steps >= 1, "must be >= 1")?;
        let phases = options.phases(total_steps)?;
        let mut s = OneCycleLR {
            options,
            total_steps,
            phases,
            state: OneCycleState {
                last_epoch: 0,
                lr: 0.0,
                momentum: None,
            },
        };
        s.compute();
        Ok(s)
    }

    fn compute(&mut self) {
        let step = self.state.last_epoch.min(self.total_steps) as f64;
        let anneal = self.options.anneal_strategy;
        let mut start = 0.0;
        for (i, p) in self.phases.iter().enumerate() {
            if step <= p.end_step || i == self.phases.len() - 1 {
                let pct = (step - start) / (p.end_step - start);
                self.state.lr = anneal.apply(p.lr.0, p.lr.1, pct);
                if self.options.cycle_momentum {
                    self.state.momentum = Some(anneal.apply(p.momentum.0, p.momentum.1, pct));
                }
                return;
            }
            start = p.end_step;
        }
    }
}

impl Scheduler for OneCycleLR {
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
        state::save("onecycle", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("onecycle", value)?;
        Ok(())
    }
}
