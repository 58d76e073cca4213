//! Losses (mean reduction, as PyTorch's default) and the metrics a run reports.
//!
//! Each loss's math lives in one file ([`mse`], [`mae`], [`huber`], [`bce_with_logits`],
//! [`cross_entropy`]): the element (or row) term and its derivative, called by the tape's
//! fused ops (`autodiff/losses.rs`) and by both kernels ([`crate::kernels`]). This module
//! names the losses and parses them.

pub mod bce_with_logits;
pub mod cross_entropy;
pub mod huber;
pub mod mae;
mod metrics;
pub mod mse;

pub use metrics::{accuracy, predicted_class, r2_score};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A training loss.
///
/// # Algorithm
/// With predictions (or logits) `p`, targets `t`, over all `N` elements of the batch:
/// ```text
/// mse            mean (p - t)^2
/// mae            mean |p - t|
/// huber(δ)       mean { 0.5 d^2 if |d| < δ; δ(|d| - 0.5 δ) otherwise },  d = p - t
/// bce-with-logits mean max(z, 0) - z t + log(1 + exp(-|z|))
/// cross-entropy  mean_i logsumexp(z_i) - z_i[t_i]   (t: class indices)
/// ```
/// # Defaults
/// Huber's δ is 1.0 (`torch.nn.HuberLoss`).
///
/// # Reference
/// `torch.nn.MSELoss`, `L1Loss`, `HuberLoss`, `BCEWithLogitsLoss`, `CrossEntropyLoss`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Loss {
    Mse,
    Mae,
    Huber { delta: f64 },
    BceWithLogits,
    CrossEntropy,
}

impl Loss {
    /// Whether targets are class labels.
    pub fn is_classification(&self) -> bool {
        matches!(self, Loss::BceWithLogits | Loss::CrossEntropy)
    }

    /// The command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::Huber { .. } => "huber",
            Loss::BceWithLogits => "bce-with-logits",
            Loss::CrossEntropy => "cross-entropy",
        }
    }
}

impl FromStr for Loss {
    type Err = Error;

    /// `mse | mae | huber | huber:DELTA | bce-with-logits | cross-entropy`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "mse" => Loss::Mse,
            "mae" => Loss::Mae,
            "huber" => Loss::Huber { delta: 1.0 },
            "bce-with-logits" | "bce" => Loss::BceWithLogits,
            "cross-entropy" | "ce" => Loss::CrossEntropy,
            _ => match s.strip_prefix("huber:").map(str::parse::<f64>) {
                Some(Ok(delta)) if delta > 0.0 && delta.is_finite() => Loss::Huber { delta },
                _ => {
                    return Err(Error::invalid(
                        "loss",
                        s,
                        "expected mse, mae, huber, huber:DELTA (DELTA > 0), bce-with-logits or cross-entropy",
                    ))
                }
            },
        })
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Huber { delta } if *delta != 1.0 => write!(f, "huber:{delta}"),
            other => f.write_str(other.name()),
        }
    }
}
