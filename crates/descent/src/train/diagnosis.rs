//! Why a run failed, in words a user can act on: a learning rate above the stability bound,
//! unscaled features, momentum or Adam's step size, a plateau or saddle point.

use ndarray::ArrayView2;

use super::EpochRecord;
use crate::analysis::{lr_bound, PowerIteration};
use crate::data::{Scaler, Scaling};
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
                    "The learning rate {} is {:.3} times the largest stable one for this data: gradient descent on a least-squares loss diverges when lr > {}2/λ_max = {} (λ_max = {} is the largest curvature of the loss). Use --lr below {}; the fastest fixed step is 2/(λ_min+λ_max) = {}.",
                    f.lr,
                    f.lr / bound,
                    if bound != b.lr_max_stable { "(1 + momentum)·" } else { "" },
                    num(bound),
                    num(b.lambda_max),
                    num(bound),
                    num(b.lr_best)
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
            "Momentum {m} lets steps grow up to 1/(1 - {m}) = {} times the plain step; with it, use a smaller --lr (about {}) or less momentum.",
            num(1.0 / (1.0 - m)),
            num(f.lr * (1.0 - m))
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
            "The learning rate {} is probably too large for this model and data: try --lr {}{}.",
            f.lr,
            num(f.lr / 10.0),
            if f.scaled {
                ""
            } else {
                " and --scale standard"
            }
        ));
    }
    out
}

/// `x` with 4 significant digits, in scientific notation when very large or small.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !a.is_finite() {
        return x.to_string();
    }
    if (1e-3..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    }
}

/// Names feature columns whose spread is far larger than the others' (which makes the loss
/// surface a narrow valley that needs a tiny learning rate).
fn unscaled_columns(x: ArrayView2<'_, f64>, names: &[String]) -> Option<String> {
    // The population std of each column, as `--scale standard` would compute it.
    let Scaler::Standard { std, .. } = Scaler::fit(Scaling::Standard, &x.to_owned()) else {
        return None;
    };
    let mut stds: Vec<(f64, &str)> = std
        .into_iter()
        .zip(names.iter().map(String::as_str))
        .collect();
    stds.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (largest, smallest) = (stds.first()?.0, stds.last()?.0);
    let big = largest > 10.0 || (smallest > 0.0 && largest / smallest > 10.0);
    if !big {
        return None;
    }
    // Name only the wide columns: one whose std equals the smallest is not "more than the rest".
    let wide: Vec<&(f64, &str)> = stds.iter().filter(|(s, _)| *s > smallest).collect();
    let listed: Vec<String> = (if wide.is_empty() {
        stds.iter().collect()
    } else {
        wide
    })
    .into_iter()
    .take(3)
    .map(|(s, name)| format!("`{name}` (std {})", num(*s)))
    .collect();
    let spread = if largest > smallest {
        format!(
            "spread much more than the rest{}",
            if smallest > 0.0 {
                format!(" (smallest std {})", num(smallest))
            } else {
                String::new()
            }
        )
    } else {
        "spread widely".to_string()
    };
    Some(format!(
        "The features are not scaled: {} {spread}. Large, uneven feature scales make the loss surface steep in some directions and flat in others, so no single learning rate suits it. Use --scale standard.",
        listed.join(", "),
    ))
}

/// The lowest loss a constant prediction reaches on targets `y` (the model that learned
/// nothing from the features): the mean of the targets' variances for MSE, the entropy of the
/// label frequencies for BCE and cross-entropy (`y` holds class indices). `None` for losses
/// without a closed form (MAE, Huber).
pub fn constant_baseline(loss: Loss, y: ArrayView2<'_, f64>) -> Option<f64> {
    let n = y.nrows();
    if n == 0 || y.ncols() == 0 {
        return None;
    }
    let entropy = |counts: &[f64]| -> f64 {
        counts
            .iter()
            .filter(|&&c| c > 0.0)
            .map(|&c| {
                let p = c / n as f64;
                -p * p.ln()
            })
            .sum()
    };
    match loss {
        Loss::Mse => {
            let var = |c: ndarray::ArrayView1<'_, f64>| {
                let mean = c.sum() / n as f64;
                c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64
            };
            Some(y.columns().into_iter().map(var).sum::<f64>() / y.ncols() as f64)
        }
        Loss::BceWithLogits => {
            let ones = y.iter().filter(|&&v| v > 0.5).count() as f64;
            Some(entropy(&[ones, y.len() as f64 - ones]) * n as f64 / y.len() as f64)
        }
        Loss::CrossEntropy => {
            let k = y.column(0).iter().fold(0.0_f64, |m, &v| m.max(v)) as usize + 1;
            let mut counts = vec![0.0; k];
            for &v in y.column(0) {
                counts[v as usize] += 1.0;
            }
            Some(entropy(&counts))
        }
        Loss::Mae | Loss::Huber { .. } => None,
    }
}

/// A warning when a finished run of a network with hidden layers stalled: the loss stopped
/// moving with an almost vanished gradient while it is no better than a constant prediction
/// (`baseline`, see [`constant_baseline`]). That is a saddle point or plateau of a non-convex
/// loss (for example all-zero initial weights, where no hidden unit ever gets a gradient),
/// not a minimum worth having.
pub fn diagnose_stall(records: &[EpochRecord], baseline: f64) -> Option<String> {
    if records.len() < 10 {
        return None;
    }
    let last = records.last()?;
    let flat = records[records.len() - 10..]
        .iter()
        .all(|r| (r.loss - last.loss).abs() <= 1e-7 * last.loss.abs().max(1e-300));
    let max_grad = records.iter().map(|r| r.grad_norm).fold(0.0, f64::max);
    let tiny = last.grad_norm <= 1e-4 * max_grad;
    let no_better = last.loss >= baseline * (1.0 - 1e-3) && baseline > 0.0;
    (flat && tiny && no_better).then(|| {
        format!(
            "The loss stopped at {} with an almost zero gradient (norm {:.1e}, {:.0e} of its largest), no better than predicting a constant ({} on this data): the network is stuck at a saddle point or on a plateau, where plain gradient descent stalls (all-zero or equal initial weights give every hidden unit the same gradient, or none). Use random initial weights (--init torch), or momentum (--momentum 0.9) or --optimizer adam to escape.",
            num(last.loss),
            last.grad_norm,
            last.grad_norm / max_grad,
            num(baseline)
        )
    })
}
