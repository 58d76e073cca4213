//! What the trainer watches between epochs: the best parameters so far, a loss that keeps
//! rising (divergence), and early stopping. Kept in one serializable struct so that a
//! checkpoint continues the watch exactly.

use serde::{Deserialize, Serialize};

use crate::{Error, Float, Result};

/// When a run counts as diverging, and what to do then.
///
/// # Algorithm
/// ```text
/// diverged  <=> the batch loss is NaN or infinite
///            or the epoch loss > factor * (best epoch loss) for `patience` epochs in a row,
///               counting only losses above 1e-12 x the first epoch's (rounding noise
///               around an exact fit is not a divergence)
/// stop       : restore the best parameters and end the run (Stop::Diverged)
/// continue   : only NaN/inf ends the run; a rising loss is let be
/// reduce-lr  : restore the best parameters, reset the optimizer state, multiply the learning
///              rate by 0.1 and go on (at most `max_reductions` times, then stop)
/// ```
/// # Defaults
/// factor 10, patience 3, on divergence: stop, max_reductions 3.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DivergenceRule {
    pub factor: f64,
    pub patience: usize,
    pub on_divergence: OnDivergence,
    pub max_reductions: usize,
}

impl Default for DivergenceRule {
    fn default() -> Self {
        DivergenceRule {
            factor: 10.0,
            patience: 3,
            on_divergence: OnDivergence::Stop,
            max_reductions: 3,
        }
    }
}

/// `--on-divergence stop|continue|reduce-lr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnDivergence {
    #[default]
    Stop,
    Continue,
    ReduceLr,
}

impl std::str::FromStr for OnDivergence {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "stop" => Ok(OnDivergence::Stop),
            "continue" => Ok(OnDivergence::Continue),
            "reduce-lr" => Ok(OnDivergence::ReduceLr),
            _ => Err(Error::invalid(
                "on-divergence",
                s,
                "expected stop, continue or reduce-lr",
            )),
        }
    }
}

/// Early stopping on the monitored loss (validation loss if there is one, else the training
/// loss): stop when it has not improved by more than `min_delta` for `patience` epochs, and
/// restore the best parameters (Keras' `EarlyStopping` with `restore_best_weights`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    pub patience: usize,
    pub min_delta: f64,
}

impl std::str::FromStr for EarlyStopping {
    type Err = Error;

    /// `patience=N[,min_delta=X]`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Parse {
            what: "early stopping",
            spec: s.to_string(),
            reason: format!(
                "{reason}; expected patience=N[,min_delta=X], e.g. patience=10,min_delta=0.0001"
            ),
        };
        let mut rule = EarlyStopping {
            patience: 0,
            min_delta: 0.0,
        };
        let mut seen_patience = false;
        for part in s.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("patience", v)) => {
                    rule.patience = v
                        .parse()
                        .ok()
                        .filter(|&p| p > 0)
                        .ok_or_else(|| bad("patience must be a positive integer"))?;
                    seen_patience = true;
                }
                Some(("min_delta", v)) => {
                    rule.min_delta = v
                        .parse()
                        .ok()
                        .filter(|d: &f64| d.is_finite() && *d >= 0.0)
                        .ok_or_else(|| bad("min_delta must be a number >= 0"))?;
                }
                _ => return Err(bad(&format!("unknown part `{part}`"))),
            }
        }
        if !seen_patience {
            return Err(bad("patience is required"));
        }
        Ok(rule)
    }
}

/// The watch state (part of a checkpoint).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Watch<F: Float> {
    /// Lowest monitored loss so far (`None` before the first epoch).
    pub best_loss: Option<f64>,
    /// Epoch at which it was reached (0: the initial parameters).
    pub best_epoch: usize,
    /// The parameters that loss belongs to: those at the end of the epoch when the validation
    /// loss is monitored (it is measured there), those at its start when the training loss is
    /// (an epoch's training loss is measured before its updates).
    pub best_params: Vec<F>,
    /// The parameters at the start of the current epoch.
    pub epoch_start: Vec<F>,
    /// Lowest training epoch loss (the divergence rule's reference).
    pub best_train_loss: Option<f64>,
    /// The first epoch's training loss (the scale of the noise floor).
    #[serde(default)]
    pub first_train_loss: Option<f64>,
    /// Consecutive epochs above `factor` times the best training loss.
    pub rising: usize,
    /// Epochs since the monitored loss last improved by more than `min_delta`.
    pub stale: usize,
    /// Learning-rate multiplier from `reduce-lr` (1 until a reduction).
    pub lr_scale: f64,
    /// Reductions made so far.
    pub reductions: usize,
}

impl<F: Float> Watch<F> {
    pub fn new(params: &[F]) -> Self {
        Watch {
            best_loss: None,
            best_epoch: 0,
            best_params: params.to_vec(),
            epoch_start: params.to_vec(),
            best_train_loss: None,
            first_train_loss: None,
            rising: 0,
            stale: 0,
            lr_scale: 1.0,
            reductions: 0,
        }
    }
}
