//! Whether a finished run fit: far from what the model can reach, worse than a constant
//! prediction, or still improving fast at its last epoch, said in words with what to do.

use serde::{Deserialize, Serialize};

use super::{Report, Run};
use crate::analysis::{normal_equation, rate_of, Spectrum, StableLr};
use crate::data::{BatchSize, Scaling};
use crate::train::diagnosis::{constant_baseline, num, unscaled_columns, RunFacts};
use crate::train::EpochRecord;
use crate::{Error, Float, Result};

/// How far above the closed form's loss a least-squares run may end, as a fraction of the
/// constant baseline's loss (for one target: the run's R² at most 0.01 below the closed
/// form's).
pub const GAP: f64 = 1e-2;

/// A loss that still falls by more than this fraction per epoch, over the last epochs, is
/// still falling fast.
pub const FALLING: f64 = 1e-2;

/// A target whose standard deviation is above this (or below its inverse) is far from 1.
const TARGET_SCALE: f64 = 1e2;

/// The verdict on a finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitCheck {
    /// No reason below: the run reached what the model can reach, as far as can be told.
    pub converged: bool,
    /// Why not, each a sentence with the numbers.
    pub reasons: Vec<String>,
    /// What to do, most likely first.
    pub advice: Vec<String>,
    /// The training loss at the final parameters (in the units training saw).
    pub loss: f64,
    /// The loss of the best constant prediction, when the loss has one.
    pub baseline_loss: Option<f64>,
    /// Least squares: the loss of the closed-form solution.
    pub closed_form_loss: Option<f64>,
}

impl<F: Float> Run<F> {
    /// Checks a finished run: `records` are its epochs, `report` its final metrics.
    ///
    /// # Algorithm
    /// With `L` the training loss at the final parameters, `B` the loss of the best constant
    /// prediction on the training targets ([`constant_baseline`]) and `L_e` the epoch losses,
    /// the run did not fit when any of these holds:
    /// ```text
    /// least squares:  L - L* > GAP · B          L* the closed form's loss (normal_equation)
    /// regression:     R² < 0                    worse than predicting the targets' mean
    /// classification: accuracy < share of the most frequent class, or L > B (B: the loss
    ///                 of predicting the class frequencies)
    /// not least sq.:  1 - (L_T / L_{T-k})^(1/k) > FALLING and L > 1e-3 · B
    ///                                           still falling fast over the last k = min(10,
    ///                                           T/2) epochs, far from an exact fit
    /// ```
    /// and the advice names the likely causes: a target standard deviation far from 1 without
    /// target scaling, unscaled features, a learning rate below 1% of the stable bound (least
    /// squares with an SGD form), a loss still falling at the end (with, for full-batch
    /// least squares, the epochs the run's contraction rate needs to close the gap).
    pub fn check_fit(&self, records: &[EpochRecord], report: &Report) -> Result<FitCheck> {
        let train = &self.train_set;
        if train.x.ncols() != train.feature_names.len() {
            return Err(Error::State(
                "the fit check needs the run's f64 features: build the run with Run::new or \
                 Run::from_dataset, not Run::from_features"
                    .into(),
            ));
        }
        let loss_kind = self.trainer.loss();
        let loss = report.train.loss;
        let baseline = constant_baseline(loss_kind, train.y.view());
        let facts = RunFacts {
            model: &self.spec.model,
            loss: loss_kind,
            optimizer: &self.spec.optimizer,
            lr: self.spec.lr()?,
            no_decay_bias: self.spec.no_decay_bias,
            x: train.x.view(),
            targets: train.y.ncols(),
            scaled: self.spec.scale != Scaling::None,
            feature_names: &train.feature_names,
        };
        let mut reasons = Vec::new();
        let mut closed_form_loss = None;
        let least_squares = facts.is_least_squares();
        if least_squares {
            let bias = *facts.model == crate::nn::ModelKind::Linear;
            let ls = normal_equation(train.x.view(), train.y.view(), bias)?;
            closed_form_loss = Some(ls.mse);
            let b = baseline.unwrap_or(0.0);
            if loss - ls.mse > GAP * b {
                reasons.push(format!(
                    "the loss {} is {} above the closed-form least-squares loss {} ({} of the \
                     loss of predicting the mean, {}): the model can fit much better",
                    num(loss),
                    num(loss - ls.mse),
                    num(ls.mse),
                    percent((loss - ls.mse) / b),
                    num(b)
                ));
            }
        }
        if let Some(r2) = report.train.r2.filter(|r| *r < 0.0) {
            reasons.push(format!(
                "R² is {r2:.4} on the training data: worse than predicting the mean of the \
                 targets"
            ));
        }
        if let (Some(acc), Some(share)) = (report.train.accuracy, majority_share(train)) {
            if acc < share {
                reasons.push(format!(
                    "the training accuracy {} is below {}, the share of the most frequent \
                     class: worse than always predicting it",
                    percent(acc),
                    percent(share)
                ));
            }
        }
        if let Some(b) = baseline.filter(|&b| loss_kind.is_classification() && loss > b) {
            reasons.push(format!(
                "the loss {} is above {}, the loss of predicting the class frequencies: worse \
                 than a constant prediction",
                num(loss),
                num(b)
            ));
        }
        let falling = falling_rate(records);
        let negligible = baseline.is_some_and(|b| loss <= 1e-3 * b);
        if let Some(r) = falling.filter(|&r| !least_squares && r > FALLING && !negligible) {
            reasons.push(format!(
                "the loss was still falling by {} per epoch over the last epochs",
                percent(r)
            ));
        }
        let advice = if reasons.is_empty() {
            Vec::new()
        } else {
            self.advice(&facts, falling, loss, closed_form_loss, baseline)
        };
        Ok(FitCheck {
            converged: reasons.is_empty(),
            reasons,
            advice,
            loss,
            baseline_loss: baseline,
            closed_form_loss,
        })
    }

    fn advice(
        &self,
        facts: &RunFacts<'_>,
        falling: Option<f64>,
        loss: f64,
        closed_form_loss: Option<f64>,
        baseline: Option<f64>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let y = &self.train_set.y;
        if !facts.loss.is_classification() && self.spec.scale_target == Scaling::None {
            let spread = y
                .columns()
                .into_iter()
                .map(|c| {
                    let n = c.len().max(1) as f64;
                    let mean = c.sum() / n;
                    let sd = (c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                    (sd, mean)
                })
                .fold((0.0f64, 0.0f64), |(s, m), (sd, mean)| {
                    (s.max(sd), m.max(mean.abs()))
                });
            let (sd, mean) = spread;
            let far = sd > TARGET_SCALE || (sd > 0.0 && sd < 1.0 / TARGET_SCALE);
            if far || mean > TARGET_SCALE * sd.max(1.0 / TARGET_SCALE) {
                out.push(format!(
                    "The targets are far from 1 (standard deviation {}, mean {}): the \
                     parameters must travel that far, at about lr per step for Adam and its \
                     kin. Use --scale-target standard (stored with the model and undone when it \
                     predicts).",
                    num(sd),
                    num(mean)
                ));
            }
        }
        if !facts.scaled {
            out.extend(unscaled_columns(facts.x, facts.feature_names));
        }
        let bound = facts.curvature().zip(facts.step_rule());
        if let Some((c, rule)) = bound {
            if let (StableLr::Bound(b), crate::analysis::StepRule::Sgd(form)) =
                (crate::analysis::stable_lr(&rule, c.lambda_max), &rule)
            {
                if facts.lr < 1e-2 * b {
                    out.push(format!(
                        "The learning rate {} is {} of the largest stable one ({}, see \
                         `descent analyze`): a step that small barely moves. Try --lr {}.",
                        facts.lr,
                        percent(facts.lr / b),
                        num(b),
                        num(0.5 * b)
                    ));
                }
                let full = self.spec.batch == BatchSize::Full;
                if let (true, Some(s), Some(star), Some(base)) =
                    (full, Spectrum::of(&c), closed_form_loss, baseline)
                {
                    let rate = rate_of(form, facts.lr, &s);
                    let gap = loss - star;
                    if rate < 1.0 && gap > GAP * base {
                        // The loss gap shrinks by rate² per epoch.
                        let more = ((GAP * base / gap).ln() / (2.0 * rate.ln())).ceil();
                        out.push(format!(
                            "At this lr the distance to the optimum shrinks by a factor {} per \
                             epoch in its slowest direction: at most about {more} more epochs \
                             would close the gap (--epochs {}).",
                            rate_format(rate),
                            self.spec.epochs + more as usize
                        ));
                    }
                }
            }
        }
        if let Some(r) = falling.filter(|&r| r > 1e-4) {
            out.push(format!(
                "The loss was still falling by {} per epoch at the end: train for more --epochs.",
                percent(r)
            ));
        }
        if out.is_empty() {
            out.push("Try a larger --lr or more --epochs.".into());
        }
        out
    }
}

/// The loss's relative fall per epoch over the last `k = min(10, T/2)` epochs (`None` for
/// fewer than 4 epochs, or a loss that did not fall).
fn falling_rate(records: &[EpochRecord]) -> Option<f64> {
    let t = records.len();
    if t < 4 {
        return None;
    }
    let k = (t / 2).min(10);
    let (then, now) = (records[t - 1 - k].loss, records[t - 1].loss);
    (then > 0.0 && now >= 0.0 && now < then).then(|| 1.0 - (now / then).powf(1.0 / k as f64))
}

/// The share of the most frequent class among the training labels (classifiers).
fn majority_share(d: &crate::data::Dataset) -> Option<f64> {
    let classes = d.classes.as_ref()?;
    let mut counts = vec![0usize; classes.len()];
    for &v in d.y.column(0) {
        if let Some(c) = counts.get_mut(v as usize) {
            *c += 1;
        }
    }
    let n = d.y.nrows().max(1);
    counts.into_iter().max().map(|m| m as f64 / n as f64)
}

fn percent(x: f64) -> String {
    format!("{}%", num(100.0 * x))
}

/// A rate close to 1 with the digits that matter.
fn rate_format(r: f64) -> String {
    if r > 0.999 {
        format!("1 - {:.3e}", 1.0 - r)
    } else {
        num(r)
    }
}
