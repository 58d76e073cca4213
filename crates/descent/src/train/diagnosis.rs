//! Why a run failed, in words a user can act on: a learning rate above the stability bound,
//! unscaled features, momentum or Adam's step size, a plateau or saddle point.

use ndarray::ArrayView2;

use super::EpochRecord;
use crate::analysis::{
    best_lr_for_momentum, curvature, optimal_gd, stable_lr, Curvature, CurvatureConfig, SgdForm,
    Spectrum, StableLr, StepRule,
};
use crate::data::{Scaler, Scaling};
use crate::loss::Loss;
use crate::nn::ModelKind;
use crate::optim::OptimizerSpec;

/// What the diagnosis looks at.
#[derive(Debug)]
pub struct RunFacts<'a> {
    pub model: &'a ModelKind,
    pub loss: Loss,
    /// The optimizer with all its options.
    pub optimizer: &'a OptimizerSpec,
    /// The learning rate the run started with.
    pub lr: f64,
    /// Biases have no weight decay (a parameter group of their own): the bound then holds
    /// with the smallest decay, none.
    pub no_decay_bias: bool,
    /// The training features as the model saw them (after scaling).
    pub x: ArrayView2<'a, f64>,
    /// Target columns of a regression (the mean over `k` targets makes the Hessian `1/k` as
    /// large).
    pub targets: usize,
    /// Whether the features were scaled (`--scale standard|minmax`).
    pub scaled: bool,
    pub feature_names: &'a [String],
}

impl RunFacts<'_> {
    /// A linear model under the mean squared error: the loss is a quadratic with a constant
    /// Hessian, and the bounds of [`crate::analysis::bounds`] hold.
    pub fn is_least_squares(&self) -> bool {
        matches!(self.model, ModelKind::Linear | ModelKind::LinearNobias) && self.loss == Loss::Mse
    }

    /// The curvature of the least-squares loss (`None` for other models, or when even
    /// `λ_max` could not be found).
    pub fn curvature(&self) -> Option<Curvature> {
        if !self.is_least_squares() {
            return None;
        }
        let bias = *self.model == ModelKind::Linear;
        curvature(
            self.x,
            bias,
            self.targets.max(1),
            &CurvatureConfig::default(),
        )
        .ok()
    }

    /// The stability analysis's view of the optimizer, with the smallest weight decay any
    /// parameter gets.
    pub fn step_rule(&self) -> Option<StepRule> {
        let rule = StepRule::try_from(self.optimizer).ok()?;
        Some(match rule {
            StepRule::Sgd(f) if self.no_decay_bias && *self.model != ModelKind::LinearNobias => {
                StepRule::Sgd(f.with_weight_decay(0.0))
            }
            other => other,
        })
    }
}

/// The bound of `f` as a formula in `λ` (`λ_max`, or `λ_max + wd` with weight decay).
pub fn bound_formula(f: &SgdForm) -> String {
    let lambda = if f.weight_decay > 0.0 {
        "(λ_max + weight_decay)"
    } else {
        "λ_max"
    };
    if f.nesterov {
        format!("2(1 + μ)/((1 + 2μ)·{lambda})")
    } else if f.momentum > 0.0 && f.dampening != 0.0 {
        if f.dampening == f.momentum {
            format!("2(1 + β)/((1 - β)·{lambda})")
        } else {
            format!("2(1 + μ)/((1 - dampening)·{lambda})")
        }
    } else if f.momentum > 0.0 {
        format!("2(1 + μ)/{lambda}")
    } else {
        format!("2/{lambda}")
    }
}

/// The form in words: `plain gradient descent`, `heavy-ball momentum 0.9`, ...
pub fn form_name(f: &SgdForm) -> String {
    let mut s = if f.nesterov {
        format!("Nesterov momentum {}", f.momentum)
    } else if f.momentum > 0.0 && f.dampening == f.momentum {
        format!("momentum-ema β = {}", f.momentum)
    } else if f.momentum > 0.0 && f.dampening != 0.0 {
        format!(
            "heavy-ball momentum {} with dampening {}",
            f.momentum, f.dampening
        )
    } else if f.momentum > 0.0 {
        format!("heavy-ball momentum {}", f.momentum)
    } else {
        "plain gradient descent".to_string()
    };
    if f.weight_decay > 0.0 {
        s += &format!(" with weight decay {}", f.weight_decay);
    }
    s
}

/// The fastest constant lr of the form `f` on the spectrum of `c` (weight decay shifts it):
/// `2/(λ_min + λ_max)` for plain gradient descent, `2(1 + μ)/(λ_min + λ_max)` for heavy ball,
/// divided by `1 - dampening` for a dampened buffer (the same iterates); `None` for Nesterov,
/// an unknown `λ_min`, or a momentum of 1 or more.
pub fn fastest_lr(f: &SgdForm, c: &Curvature) -> Option<(f64, String)> {
    if f.nesterov || f.maximize {
        return None;
    }
    let s = Spectrum::of(c)?.with_weight_decay(f.weight_decay).ok()?;
    if f.momentum == 0.0 {
        return Some((optimal_gd(&s).lr, "2/(λ_min + λ_max)".into()));
    }
    let t = best_lr_for_momentum(&s, f.momentum).ok()?;
    let d = f.dampening;
    (d < 1.0).then(|| {
        let formula = if d == 0.0 {
            "2(1 + μ)/(λ_min + λ_max)"
        } else {
            "2(1 + μ)/((1 - dampening)(λ_min + λ_max))"
        };
        (t.lr / (1.0 - d), formula.to_string())
    })
}

/// The sentence on the stability bound, when the run is least squares with an SGD form and
/// its lr is above the bound (or no lr is stable).
fn bound_claim(f: &RunFacts<'_>) -> Option<String> {
    let rule = f.step_rule()?;
    let StepRule::Sgd(form) = &rule else {
        return None;
    };
    let c = f.curvature()?;
    let targets = if f.targets > 1 {
        format!(
            ", for the mean over {} targets, which makes it 1/{} as large",
            f.targets, f.targets
        )
    } else {
        String::new()
    };
    match stable_lr(&rule, c.lambda_max) {
        StableLr::Bound(bound) if f.lr > bound => {
            let fastest = match fastest_lr(form, &c) {
                Some((lr, formula)) if form.momentum > 0.0 => {
                    format!(
                        "with this momentum the fastest lr is {formula} = {}",
                        num(lr)
                    )
                }
                Some((lr, formula)) => format!("the fastest fixed step is {formula} = {}", num(lr)),
                None if c.lambda_min.is_none() => {
                    "λ_min did not converge, so no fastest step is given".to_string()
                }
                None => "a smaller lr converges".to_string(),
            };
            Some(format!(
                "The learning rate {} is {:.3} times the largest stable one for {} on this data: on a least-squares loss it diverges when lr > {} = {} (λ_max = {} is the largest curvature of the loss{targets}). Use --lr below {}; {fastest}.",
                f.lr,
                f.lr / bound,
                form_name(form),
                bound_formula(form),
                num(bound),
                num(c.lambda_max),
                num(bound),
            ))
        }
        StableLr::Unstable { reason } => Some(format!(
            "No learning rate is stable with these settings: {reason}."
        )),
        _ => None,
    }
}

/// How many times the plain step the momentum buffer lets a step grow on a steady gradient
/// (`(1 - dampening)/(1 - μ)`; `1/(1 - μ)` for Nesterov and RMSprop), if momentum is used.
fn momentum_growth(f: &RunFacts<'_>) -> Option<(f64, f64)> {
    let get = |k: &str| f.optimizer.options.get(k).and_then(|v| v.as_f64());
    let name = f.optimizer.canonical_name().ok()?;
    let mu = match name {
        "sgd" | "rmsprop" => get("momentum").filter(|&m| m > 0.0 && m < 1.0)?,
        _ => return None,
    };
    let d = if name == "sgd" {
        get("dampening").unwrap_or(0.0)
    } else {
        0.0
    };
    Some((mu, (1.0 - d) / (1.0 - mu)))
}

/// Sentences explaining a divergence, most likely cause first, each with a fix.
///
/// For least squares with an SGD form (`sgd` with any momentum, dampening, Nesterov or
/// weight decay; `momentum-ema`) the learning rate is compared with the bound of
/// [`stable_lr`] on the exact `λ_max` of [`curvature()`], for the run's number of targets.
pub fn diagnose_divergence(f: &RunFacts<'_>) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(bound_claim(f));
    if !f.scaled {
        if let Some(s) = unscaled_columns(f.x, f.feature_names) {
            out.push(s);
        }
    }
    if let Some((m, growth)) = momentum_growth(f).filter(|&(_, g)| g >= 2.0) {
        out.push(format!(
            "Momentum {m} lets steps grow up to {} times the plain step; with it, use a smaller --lr (about {}) or less momentum.",
            num(growth),
            num(f.lr / growth)
        ));
    }
    let name = f.optimizer.canonical_name().unwrap_or("");
    if matches!(name, "adam" | "adamw" | "adamax" | "nadam" | "radam") && f.lr > 0.01 {
        out.push(format!(
            "{name} moves every parameter by about lr per step whatever the gradient's size, so lr {} is a large step; values between 1e-4 and 1e-2 are usual (try --lr {:.0e}).",
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
pub(crate) fn unscaled_columns(x: ArrayView2<'_, f64>, names: &[String]) -> Option<String> {
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
