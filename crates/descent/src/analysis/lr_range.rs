//! The learning-rate range test: train briefly while the learning rate grows geometrically,
//! watch the loss, and suggest a learning rate.

use ndarray::ArrayView2;

use super::{loss_and_gradient, Ema};
use crate::loss::Loss;
use crate::nn::Sequential;
use crate::optim::{GroupOptions, OptimizerSpec};
use crate::params::{Init, Params};
use crate::{Error, Result};

/// Settings of the range test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrRangeConfig {
    pub lr_min: f64,
    pub lr_max: f64,
    /// Number of steps `K` (learning rates tried).
    pub steps: usize,
    /// EMA factor `β` of the smoothed loss; 0 reads the suggestion from the raw losses, as
    /// it should for full-batch losses, which carry no sampling noise (an EMA would only make
    /// the curve lag behind the lr: at β = 0.98 by about 50 steps).
    pub smoothing: f64,
    /// Stop once a loss exceeds `divergence` times the best loss so far.
    pub divergence: f64,
}

impl Default for LrRangeConfig {
    /// `1e-7 .. 10` in 100 steps, `β = 0.98`, stop at 4 x the best loss (fastai's defaults).
    fn default() -> Self {
        LrRangeConfig {
            lr_min: 1e-7,
            lr_max: 10.0,
            steps: 100,
            smoothing: 0.98,
            divergence: 4.0,
        }
    }
}

impl LrRangeConfig {
    fn validate(&self) -> Result<()> {
        if !(self.lr_min > 0.0 && self.lr_min.is_finite()) {
            return Err(Error::invalid(
                "lr_min",
                self.lr_min,
                "must be positive and finite",
            ));
        }
        if !(self.lr_max > self.lr_min && self.lr_max.is_finite()) {
            return Err(Error::invalid(
                "lr_max",
                self.lr_max,
                "must be finite and > lr_min",
            ));
        }
        if self.steps < 2 {
            return Err(Error::invalid("steps", self.steps, "must be at least 2"));
        }
        if self.divergence.is_nan() || self.divergence <= 1.0 {
            return Err(Error::invalid("divergence", self.divergence, "must be > 1"));
        }
        Ema::new(self.smoothing).map(|_| ())
    }

    /// The `i`-th learning rate, `lr_min (lr_max / lr_min)^(i / (K - 1))`.
    pub fn lr_at(&self, i: usize) -> f64 {
        let frac = i as f64 / (self.steps - 1) as f64;
        self.lr_min * (self.lr_max / self.lr_min).powf(frac)
    }
}

/// What the range test saw and what it suggests.
#[derive(Clone, Debug, PartialEq)]
pub struct LrRange {
    /// The learning rate of each step taken.
    pub lrs: Vec<f64>,
    /// The loss measured at each step (before that step's update).
    pub losses: Vec<f64>,
    /// The bias-corrected EMA of `losses`.
    pub smoothed: Vec<f64>,
    /// Whether the run stopped before `steps` (loss above `divergence` x best, or not finite).
    pub stopped_early: bool,
    /// Where the smoothed loss falls fastest per unit of `ln lr`.
    pub steepest: Option<f64>,
    /// The learning rate at the lowest smoothed loss.
    pub at_minimum: Option<f64>,
    /// The suggestion (see [`lr_range_test`]).
    pub suggestion: Option<f64>,
    /// Why that suggestion, in words.
    pub reason: String,
}

/// Runs the range test with `step(lr)`, which makes one training update at `lr` and returns
/// the loss it measured before updating (a non-finite loss ends the test).
///
/// # Algorithm
/// ```text
/// for i in 0..K:  lr_i = lr_min (lr_max/lr_min)^(i/(K-1));  L_i = step(lr_i)
///     stop if L_i is not finite or L_i > divergence * min_{j<=i} L_j
/// s = bias-corrected EMA(L, β)
/// steepest   = lr_i minimising (s_{i+1} - s_i) / (ln lr_{i+1} - ln lr_i), i before argmin s
/// at_minimum = lr at argmin s
/// suggestion = min(steepest, at_minimum / 10)
/// ```
/// Both classic rules are computed and the smaller (more conservative) one is suggested:
/// "one tenth of the minimum" stays clear of the divergence edge that the minimum sits next
/// to, and the steepest point is where the loss still improves fastest.
///
/// # Reference
/// L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017, section
/// 3.3; fastai's `LRFinder` (smoothing 0.98, stop at 4 x the best loss).
pub fn lr_range_test(
    config: &LrRangeConfig,
    mut step: impl FnMut(f64) -> Result<f64>,
) -> Result<LrRange> {
    config.validate()?;
    let (mut lrs, mut losses, mut smoothed) = (Vec::new(), Vec::new(), Vec::new());
    let mut ema = Ema::new(config.smoothing)?;
    let mut best = f64::INFINITY;
    let mut stopped_early = false;
    for i in 0..config.steps {
        let lr = config.lr_at(i);
        let loss = step(lr)?;
        if !loss.is_finite() || loss > config.divergence * best {
            stopped_early = true;
            break;
        }
        best = best.min(loss);
        lrs.push(lr);
        losses.push(loss);
        let s = ema.push(loss);
        smoothed.push(if config.smoothing == 0.0 { loss } else { s });
    }
    let (steepest, at_minimum) = (steepest(&lrs, &smoothed), at_minimum(&lrs, &smoothed));
    let curve = if config.smoothing == 0.0 {
        "loss"
    } else {
        "smoothed loss"
    };
    let (suggestion, reason) = suggest(steepest, at_minimum, curve);
    Ok(LrRange {
        lrs,
        losses,
        smoothed,
        stopped_early,
        steepest,
        at_minimum,
        suggestion,
        reason,
    })
}

/// The range test for a model: a fresh optimizer from `spec` and fresh parameters from `init`
/// for this run, one full-batch update on `(x, y)` per learning rate.
pub fn lr_range_test_model(
    model: &Sequential,
    loss: Loss,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    spec: &OptimizerSpec,
    init: &Init,
    config: &LrRangeConfig,
) -> Result<LrRange> {
    let mut params = Params::<f64>::init(model.layout(), init)?;
    let mut optimizer = spec.build::<f64>(vec![(0..params.len(), GroupOptions::default())])?;
    lr_range_test(config, |lr| {
        let (value, grads) = loss_and_gradient(model, loss, &params, x, y)?;
        if value.is_finite() {
            optimizer.step(lr, &mut params.values, &grads);
        }
        Ok(value)
    })
}

fn argmin(v: &[f64]) -> Option<usize> {
    (0..v.len()).fold(None, |best, i| match best {
        Some(b) if v[b] <= v[i] => Some(b),
        _ => Some(i),
    })
}

fn at_minimum(lrs: &[f64], s: &[f64]) -> Option<f64> {
    argmin(s).map(|i| lrs[i])
}

fn steepest(lrs: &[f64], s: &[f64]) -> Option<f64> {
    let end = argmin(s)?;
    (0..end)
        .map(|i| (i, (s[i + 1] - s[i]) / (lrs[i + 1].ln() - lrs[i].ln())))
        .fold(None, |best: Option<(usize, f64)>, (i, slope)| match best {
            Some((_, b)) if b <= slope => best,
            _ => Some((i, slope)),
        })
        .filter(|&(_, slope)| slope < 0.0)
        .map(|(i, _)| lrs[i])
}

fn suggest(steepest: Option<f64>, at_minimum: Option<f64>, curve: &str) -> (Option<f64>, String) {
    match (steepest, at_minimum) {
        (Some(s), Some(m)) if s <= m / 10.0 => (
            Some(s),
            format!("steepest descent of the {curve} at lr {s:.3e} (below one tenth of the minimum-loss lr {m:.3e})"),
        ),
        (_, Some(m)) => (
            Some(m / 10.0),
            match steepest {
                Some(s) => format!("one tenth of the minimum-loss lr {m:.3e} (below the steepest-descent lr {s:.3e})"),
                None => format!("one tenth of the minimum-loss lr {m:.3e} (the {curve} never fell)"),
            },
        ),
        _ => (None, "no finite loss was recorded: lower lr_min".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rates_grow_geometrically_from_min_to_max() {
        let c = LrRangeConfig {
            lr_min: 1e-4,
            lr_max: 1.0,
            steps: 5,
            ..LrRangeConfig::default()
        };
        let lrs: Vec<f64> = (0..5).map(|i| c.lr_at(i)).collect();
        for (got, want) in lrs.iter().zip([1e-4, 1e-3, 1e-2, 1e-1, 1.0]) {
            assert!((got / want - 1.0).abs() < 1e-12, "{lrs:?}");
        }
    }

    #[test]
    fn bowl_stops_at_divergence_and_suggests_below_the_edge() {
        // SGD on f = x² (f'' = 2) diverges for lr > 1.
        let mut x = 3.0f64;
        let r = lr_range_test(&LrRangeConfig::default(), |lr| {
            let f = x * x;
            x -= lr * 2.0 * x;
            Ok(f)
        })
        .unwrap();
        assert!(r.stopped_early);
        let s = r.suggestion.unwrap();
        assert!(s < 1.0, "{r:?}");
        assert!(!r.reason.is_empty());
    }

    /// SGD on f = x² from x = 3, one step per lr.
    fn bowl(smoothing: f64) -> LrRange {
        let mut x = 3.0f64;
        let c = LrRangeConfig {
            smoothing,
            ..LrRangeConfig::default()
        };
        lr_range_test(&c, |lr| {
            let f = x * x;
            x -= lr * 2.0 * x;
            Ok(f)
        })
        .unwrap()
    }

    #[test]
    fn unsmoothed_the_minimum_sits_at_the_stable_bound_of_the_bowl() {
        // f'' = 2: lr = 1 lands on the minimum, lr > 1 diverges (the bound 2/λ_max = 1). A
        // loss is measured before its step, so the raw minimum is read one lr step (a factor
        // 10^(8/99) = 1.205) after the last step below the bound.
        let raw = bowl(0.0);
        let m = raw.at_minimum.unwrap();
        assert!((1.0..=1.205).contains(&m), "{m}");
        assert_eq!(raw.smoothed, raw.losses, "no smoothing");
        let s = raw.suggestion.unwrap();
        // The suggestion (the steepest fall, or a tenth of the minimum) is well below the bound.
        assert!((0.01..=0.1205).contains(&s), "{s}");
        assert!(raw.reason.contains("of the loss") || raw.reason.contains("minimum-loss lr"));
        // An EMA of 0.98 lags: its minimum comes later, at the last lr before divergence
        // (1.56, not the 1.07 of the loss it smooths).
        let smooth = bowl(0.98);
        assert!(
            smooth.at_minimum.unwrap() > 1.4 * m,
            "{:?}",
            smooth.at_minimum
        );
    }

    #[test]
    fn bad_config_is_rejected() {
        let c = LrRangeConfig {
            lr_max: 1e-9,
            ..LrRangeConfig::default()
        };
        assert!(lr_range_test(&c, |_| Ok(0.0)).is_err());
    }
}
