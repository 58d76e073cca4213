//! Final metrics of a trained model on its training and validation data.

use serde::{Deserialize, Serialize};

use crate::data::{Scaler, TrainData};
use crate::loss::{accuracy, r2_score, Loss};
use crate::nn::Sequential;
use crate::params::Params;
use crate::train::evaluate;
use crate::{Float, Result};

/// The loss, plus MSE and R² (regression) or accuracy (classification), on one split.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    pub loss: f64,
    pub mse: Option<f64>,
    pub r2: Option<f64>,
    pub accuracy: Option<f64>,
}

impl SplitMetrics {
    pub fn new<F: Float>(
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
        d: &TrainData<F>,
    ) -> Result<Self> {
        Self::with_target_scaler(model, loss, params, d, &Scaler::None)
    }

    /// The metrics of a model trained on targets scaled by `target_scaler`: the loss in the
    /// scaled units training minimized, mse and R² after undoing the scaling of both the
    /// predictions and the targets.
    pub fn with_target_scaler<F: Float>(
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
        d: &TrainData<F>,
        target_scaler: &Scaler,
    ) -> Result<Self> {
        let l = evaluate(model, loss, params, d.x.view(), d.y.view())?;
        let out = model.predict(params, d.x.view())?;
        let mut m = SplitMetrics {
            loss: l,
            mse: None,
            r2: None,
            accuracy: None,
        };
        if loss.is_classification() {
            m.accuracy = Some(accuracy(out.view(), d.y.view()));
        } else if target_scaler.n_columns().is_some() {
            let mut pred = out.mapv(|v| v.f64());
            let mut y = d.y.mapv(|v| v.f64());
            target_scaler.inverse(&mut pred)?;
            target_scaler.inverse(&mut y)?;
            m.mse = Some((&pred - &y).mapv(|e| e * e).mean().unwrap_or(f64::NAN));
            m.r2 = Some(r2_score(pred.view(), y.view()));
        } else {
            let sq: f64 = out
                .iter()
                .zip(d.y.iter())
                .map(|(p, t)| (p.f64() - t.f64()).powi(2))
                .sum();
            m.mse = Some(sq / out.len() as f64);
            m.r2 = Some(r2_score(out.view(), d.y.view()));
        }
        Ok(m)
    }

    /// `  train loss 0.5  mse 0.500000  r2 0.9000` (or `accuracy 97.00%`).
    pub fn line(&self, label: &str) -> String {
        let mut line = format!("  {label} loss {}", self.loss);
        if let (Some(mse), Some(r2)) = (self.mse, self.r2) {
            line += &format!("  mse {mse:.6}  r2 {r2:.4}");
        }
        if let Some(acc) = self.accuracy {
            line += &format!("  accuracy {:.2}%", 100.0 * acc);
        }
        line
    }
}

/// Final metrics on the training and validation data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub train: SplitMetrics,
    pub val: Option<SplitMetrics>,
}
