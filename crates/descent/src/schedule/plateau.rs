//! Reduce the lr when a metric stops improving: torch's `ReduceLROnPlateau`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::{self, exact};
use super::{check, Scheduler};
use crate::Result;

/// Whether the metric should go down (`min`, a loss) or up (`max`, an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    Min,
    Max,
}

/// Whether `threshold` is relative to the best value (`rel`) or absolute (`abs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    Rel,
    Abs,
}

impl fmt::Display for PlateauMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlateauMode::Min => "min",
            PlateauMode::Max => "max",
        })
    }
}

impl fmt::Display for ThresholdMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ThresholdMode::Rel => "rel",
            ThresholdMode::Abs => "abs",
        })
    }
}

/// The options of [`ReduceLROnPlateau`], with torch's names.
///
/// # Defaults
/// mode min, factor 0.1, patience 10, threshold 1e-4, threshold_mode rel, cooldown 0,
/// min_lr 0, eps 1e-8.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauOptions {
    pub mode: PlateauMode,
    pub factor: f64,
    pub patience: usize,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: usize,
    pub min_lr: f64,
    pub eps: f64,
}

impl Default for PlateauOptions {
    fn default() -> Self {
        PlateauOptions {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

impl PlateauOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        let nonneg = |name: &str, x: f64| {
            check(
                name,
                x,
                x.is_finite() && x >= 0.0,
                "must be finite and >= 0",
            )
        };
        check(
            "factor",
            self.factor,
            (0.0..1.0).contains(&self.factor),
            "must be in [0, 1)",
        )?;
        nonneg("threshold", self.threshold)?;
        nonneg("min_lr", self.min_lr)?;
        nonneg("eps", self.eps)
    }

    /// torch's `_is_better`.
    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }
}

/// Multiplies the lr by `factor` when the metric passed to `step` has not improved for more
/// than `patience` steps, as `torch.optim.lr_scheduler.ReduceLROnPlateau`.
///
/// # Algorithm
/// ```text
/// better(m):  min/rel m < best (1 - threshold);  min/abs m < best - threshold;
///             max/rel m > best (1 + threshold);  max/abs m > best + threshold
/// step(m):    if better(m) { best = m; bad = 0 } else { bad += 1 }
///             if cooldown_counter > 0 { cooldown_counter -= 1; bad = 0 }
///             if bad > patience {
///                 new = max(lr * factor, min_lr);  if lr - new > eps { lr = new }
///                 cooldown_counter = cooldown;  bad = 0
///             }
/// ```
/// `best` starts at +inf (min) or -inf (max); the lr starts at the optimizer's lr.
/// # Defaults
/// See [`PlateauOptions`].
/// # Reference
/// `torch.optim.lr_scheduler.ReduceLROnPlateau.step` (PyTorch 2.9).
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    pub options: PlateauOptions,
    state: PlateauState,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct PlateauState {
    last_epoch: usize,
    #[serde(with = "exact")]
    lr: f64,
    #[serde(with = "exact")]
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl ReduceLROnPlateau {
    pub fn new(base_lr: f64, options: PlateauOptions) -> Result<Self> {
        options.validate()?;
        let best = match options.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Ok(ReduceLROnPlateau {
            options,
            state: PlateauState {
                last_epoch: 0,
                lr: base_lr,
                best,
                num_bad_epochs: 0,
                cooldown_counter: 0,
            },
        })
    }
}

impl Scheduler for ReduceLROnPlateau {
    fn lr(&self) -> f64 {
        self.state.lr
    }
    fn step(&mut self, metric: f64) {
        let (o, s) = (&self.options, &mut self.state);
        s.last_epoch += 1;
        if o.is_better(metric, s.best) {
            s.best = metric;
            s.num_bad_epochs = 0;
        } else {
            s.num_bad_epochs += 1;
        }
        if s.cooldown_counter > 0 {
            s.cooldown_counter -= 1;
            s.num_bad_epochs = 0;
        }
        if s.num_bad_epochs > o.patience {
            let new_lr = (s.lr * o.factor).max(o.min_lr);
            if s.lr - new_lr > o.eps {
                s.lr = new_lr;
            }
            s.cooldown_counter = o.cooldown;
            s.num_bad_epochs = 0;
        }
    }
    fn save_state(&self) -> Value {
        state::save("plateau", &self.state)
    }
    fn load_state(&mut self, value: &Value) -> Result<()> {
        self.state = state::load("plateau", value)?;
        Ok(())
    }
}
