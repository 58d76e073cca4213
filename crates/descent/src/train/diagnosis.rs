//! Why a run failed, in words a user can act on: a learning rate above the stability bound,
//! unscaled features, momentum or Adam's step size, a plateau or saddle point.

use ndarray::ArrayView2;

use super::EpochRecord;
use crate::analysis::{lr_bound, PowerIteration};
use crate::loss::Loss;
use crate::nn::ModelKind;

/// What the diagnosis looks at.
#[derive(Debug)]
pub struct RunFacts<'a> {
    pub model: &'a ModelKind,
    pub loss: Loss,
    /// Command-line optimizer name (`sgd`, `adam`, ...).
    pub optimizer: &'a str,
    pub lr: f64,
    /// SGD/RMSprop momentum, if any.
    pub momentum: Option<f64>,
    /// The training features as the model saw them (after scaling).
    pub x: ArrayView2<'a, f64>,
    /// Whether the features were scaled (`--scale standard|minmax`).
    pub scaled: bool,
    pub feature_names: &'a [String],
}

/// Sentences explaining a divergence, most likely cause first, each with a fix.
pub fn diagnose_divergence(f: &RunFacts<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let least_squares =
        matches!(f.model, ModelKind::Linear | ModelKind::LinearNobias) && f.loss == Loss::Mse;
    if least_squares && matches!(f.optimizer, "sgd" | "momentum-ema") {
        let opts = PowerIteration {
            max_iter: 20_000,
            tol: 1e-12,
            seed: 0,
        };
        if let Ok(b) = lr_bound(f.x, *f.model == ModelKind::Linear, &opts) {
            let bound = match f.momentum {
                // Heavy-ball momentum widens the stable range to 2 (1 + m) / λ_max.
                Some(m) if m > 0.0 && f.optimizer == "sgd" => b.lr_max_stable * (1.0 + m),
                _ => b.lr_max_stable,
            };
            if f.lr > bound {
                out.push(format!(
                    "The learning rate {} is {:.2} times the largest stable one for this data: gradient descent on a least-squares loss diverges when lr > 2/λ_max = {:.6} (λ_max = {:.6} is the largest curvature of the loss{}). Use --lr below {:.6}; the fastest fixed step is 2/(λ_min+λ_max) = {:.6}.",
                    f.lr,
                    f.lr / bound,
                    bound,
                    b.lambda_max,
                    if bound != b.lr_max_stable { ", widened by the momentum" } else { "" },
                    bound,
                    b.lr_best
                ));
            }
        }
    }
    if !f.scaled {
        if let Some(s) = unscaled_columns(f.x, f.feature_names) {
            out.push(s);
        }
    }
    if let Some(m) = f.momentum.filter(|&m| m >= 0.5) {
        out.push(format!(
            "Momentum {m} lets steps grow up to 1/(1 - {m}) = {:.1} times the plain step; with it, use a smaller --lr (about {:.2e}) or less momentum.",
            1.0 / (1.0 - m),
            f.lr * (1.0 - m)
        ));
    }
    if matches!(f.optimizer, "adam" | "adamw" | "adamax" | "nadam" | "radam") && f.lr > 0.01 {
        out.push(format!(
            "{} moves every parameter by about lr per step whatever the gradient's size, so lr {} is a large step; values between 1e-4 and 1e-2 are usual (try --lr {:.0e}).",
            f.optimizer,
            f.lr,
            (f.lr / 10.0).max(1e-4)
        ));
    }
    if out.is_empty() {
        out.push(format!(
            "The learning rate {} is probably too large for this model and data: try --lr {:.2e}{}.",
            f.lr,
            f.lr / 10.0,
            if f.scaled { "" } else { " and --scale standard" }
        ));
    }
    out
}

/// Names feature columns whose spread is far larger than the others' (which makes the loss
/// surface a narrow valley that needs a tiny learning rate).
fn unscaled_columns(x: ArrayView2<'_, f64>, names: &[String]) -> Option<String> {
    let n = x.nrows().max(1) as f64;
    let mut stds: Vec<(f64, &str)> = x
        .columns()
        .into_iter()
        .zip(names)
        .map(|(c, name)| {
            let mean = c.sum() / n;
            let var = c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            (var.sqrt(), name.as_str())
        })
        .collect();
    stds.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (largest, smallest) = (stds.first()?.0, stds.last()?.0);
    let big = largest > 10.0 || (smallest > 0.0 && largest / smallest > 10.0);
    if !big {
        return None;
    }
    let listed: Vec<String> = stds
        .iter()
        .take(3)
        .map(|(s, name)| format!("`{name}` (std {s:.4})"))
        .collect();
    Some(format!(
        "The features are not scaled: {} spread much more than the rest{}. Large, uneven feature scales make the loss surface steep in some directions and flat in others, so no single learning rate suits it. Use --scale standard.",
        listed.join(", "),
        if smallest > 0.0 { format!(" (smallest std {smallest:.4})") } else { String::new() }
    ))
}

/// A warning when a finished run stalled: the gradient almost vanished while the loss is
/// still far from where it started to fall — a plateau or a saddle point.
pub fn diagnose_stall(records: &[EpochRecord]) -> Option<String> {
    let (first, last) = (records.first()?, records.last()?);
    if records.len() < 10 {
        return None;
    }
    let window = &records[records.len() - 10..];
    let flat = window
        .iter()
        .all(|r| (r.loss - last.loss).abs() <= 1e-9 * last.loss.abs().max(1e-300));
    let max_grad = records.iter().map(|r| r.grad_norm).fold(0.0, f64::max);
    let tiny = last.grad_norm <= 1e-6 * max_grad.max(1e-300);
    let high = last.loss > 0.01 * first.loss && last.loss > 1e-8;
    (flat && tiny && high).then(|| {
        format!(
            "The loss stopped falling at {:e} with an almost zero gradient (norm {:e}, {:.0e} of its largest): the run is stuck on a plateau or at a saddle point, where plain gradient descent stalls. Momentum (--momentum 0.9) or --optimizer adam can escape; so can another --init or --seed.",
            last.loss,
            last.grad_norm,
            last.grad_norm / max_grad.max(1e-300)
        )
    })
}
