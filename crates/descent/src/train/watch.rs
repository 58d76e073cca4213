//! What the trainer watches between epochs: the best parameters so far, a loss that keeps
//! rising (divergence), and early stopping. Kept in one serializable struct so that a
//! checkpoint continues the watch exactly.

use serde::{Deserialize, Serialize};

use crate::{Error, Float, Result};

/// When a run counts as diverging, and what to do then.
///
/// # Algorithm
/// A non-finite loss always diverges. A finite loss diverges only when it rises in a
/// sustained, geometric way: with `w = patience`, the training epoch losses `L_1 .. L_t` and
/// the window of the last `2w + 1` of them, `L_{t-2w} .. L_t`,
/// ```text
/// diverged  <=> the batch loss is NaN or infinite
///            or all of, at the end of epoch t > 2w:
///   rising:    L_{t-2w} < L_{t-2w+1} < ... < L_t       (2w rises in a row: no new best)
///   geometric: ln(L_t / L_{t-w}) >= 0.9 ln(L_{t-w} / L_{t-2w})
///                                     (the growth of the last w epochs is not slowing down)
///   far:       L_t > factor * min(L_1 .. L_t)         (far above the best)
///   highest:   L_t > max(L_1 .. L_{t-1})               (above every earlier epoch)
///   not noise: L_t > 1e-12 * L_1                       (rounding noise around an exact fit
///                                                        is not a divergence)
/// stop       : restore the best parameters and end the run (Stop::Diverged)
/// continue   : only NaN/inf ends the run; a rising loss is let be
/// reduce-lr  : restore the best parameters, reset the optimizer state, multiply the learning
///              rate by 0.1 and go on (at most `max_reductions` times, then stop); the window
///              starts afresh
/// ```
/// Why these tests: on a quadratic, a run above its stability bound multiplies the loss by
/// a ratio that tends to a constant above 1 (a sum of exponentials is log-convex), while a
/// run below the bound that overshoots (heavy ball or Nesterov near their bounds, Adam or
/// RMSprop with a large step) rises out of a trough or away from its start only with a
/// growth that slows down, and an oscillation that converges never climbs above its earlier
/// peaks. The earlier rule (above `factor` times the best for `patience` epochs) stopped such
/// runs: the best of an oscillation is the bottom of a trough.
///
/// # Defaults
/// factor 10, patience 3 (a window of 7 epoch losses), on divergence: stop, max_reductions 3.
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
    /// Consecutive epochs whose training loss rose above the epoch before.
    pub rising: usize,
    /// The training epoch losses of the divergence window, oldest first (at most
    /// `2 · patience + 1`; empty in checkpoints written before the window existed).
    #[serde(default)]
    pub recent_train_losses: Vec<f64>,
    /// The highest training epoch loss so far.
    #[serde(default)]
    pub highest_train_loss: Option<f64>,
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
            recent_train_losses: Vec::new(),
            highest_train_loss: None,
            stale: 0,
            lr_scale: 1.0,
            reductions: 0,
        }
    }
}

/// How much of the growth of the first half of the divergence window the second half must
/// keep (see [`DivergenceRule`]): below 1 because a diverging run whose fast mode starts
/// partly cancelled grows slightly log-concavely at first; well above the 0.5 or so that a
/// converging overshoot keeps.
const GROWTH_KEPT: f64 = 0.9;

impl DivergenceRule {
    /// Epoch losses the window holds: `2 · patience + 1`.
    pub fn window(&self) -> usize {
        2 * self.patience + 1
    }
}

impl<F: Float> Watch<F> {
    /// Takes the training loss of the epoch just ended and says why the run diverges, if it
    /// does by `rule` (see [`DivergenceRule`]); updates the best and highest training losses
    /// and the window.
    pub fn observe_train_loss(&mut self, loss: f64, rule: &DivergenceRule) -> Option<String> {
        let best = self.best_train_loss.map_or(loss, |b| b.min(loss));
        self.best_train_loss = Some(best);
        let first = *self.first_train_loss.get_or_insert(loss);
        let highest = self.highest_train_loss;
        self.highest_train_loss = Some(highest.map_or(loss, |h| h.max(loss)));
        let previous = self.recent_train_losses.last().copied();
        self.rising = match previous {
            Some(p) if loss > p => self.rising + 1,
            _ => 0,
        };
        let window = rule.window();
        self.recent_train_losses.push(loss);
        if self.recent_train_losses.len() > window {
            let extra = self.recent_train_losses.len() - window;
            self.recent_train_losses.drain(..extra);
        }
        let w = rule.patience;
        let l = &self.recent_train_losses;
        let sustained = l.len() == window && self.rising >= 2 * w;
        let above_all = highest.is_some_and(|h| loss > h);
        if !(sustained && above_all && loss > rule.factor * best && loss > 1e-12 * first) {
            return None;
        }
        let (start, middle) = (l[0], l[w]);
        let (early, late) = ((middle / start).ln(), (loss / middle).ln());
        if late < GROWTH_KEPT * early {
            return None;
        }
        Some(format!(
            "the loss rose {} epochs in a row, above every earlier epoch, growing by a factor \
             of {} per epoch over the last {w} (it was {} per epoch over the {w} before), to \
             {} times its best ({})",
            2 * w,
            super::diagnosis::num((late / w as f64).exp()),
            super::diagnosis::num((early / w as f64).exp()),
            super::diagnosis::num(loss / best),
            super::diagnosis::num(best)
        ))
    }

    /// Forgets the window and the best and highest losses (after `reduce-lr`).
    pub fn restart_divergence_window(&mut self) {
        self.rising = 0;
        self.best_train_loss = None;
        self.highest_train_loss = None;
        self.recent_train_losses.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The epoch (from 1) at which `losses` diverge by the default rule.
    fn diverges_at(losses: impl IntoIterator<Item = f64>) -> Option<usize> {
        let mut watch = Watch::<f64>::new(&[]);
        let rule = DivergenceRule::default();
        let mut epoch = None;
        for (i, l) in losses.into_iter().enumerate() {
            if watch.observe_train_loss(l, &rule).is_some() {
                epoch = Some(i + 1);
                break;
            }
        }
        epoch
    }

    #[test]
    fn geometric_growth_is_caught_once_the_window_is_full() {
        // ×16/9 per epoch from 1: epoch 7 has risen 6 times, to (16/9)^6 = 31.6 > 10.
        assert_eq!(
            diverges_at((0..50).map(|t| (16.0f64 / 9.0).powi(t))),
            Some(7)
        );
        // ×1.2 per epoch: (1.2)^t > 10 first at t = 13, epoch 14.
        assert_eq!(diverges_at((0..50).map(|t| 1.2f64.powi(t))), Some(14));
        // A converging start, then a divergence from a loss far below the first: it is
        // caught once it climbs above the first epoch's loss.
        let mut l: Vec<f64> = (0..10).map(|t| 0.1f64.powi(t)).collect();
        l.extend((1..40).map(|t| 1e-9 * 4f64.powi(t)));
        let at = diverges_at(l.iter().copied()).unwrap();
        assert!(l[at - 1] > 1.0 && l[at - 2] <= 1.0, "{at}");
    }

    #[test]
    fn growth_that_slows_down_is_an_overshoot() {
        // e_t = t·0.95^t: the loss (e_t)² rises for about 20 epochs, to 55 times its start.
        let l: Vec<f64> = (1..200)
            .map(|t| (t as f64 * 0.95f64.powi(t)).powi(2))
            .collect();
        assert!(l[18] > 50.0 * l[0]);
        assert_eq!(diverges_at(l), None);
    }

    #[test]
    fn a_damped_oscillation_is_never_a_divergence() {
        // Troughs near 0 make the best tiny; the rises after them stay below the first peak.
        let l = (0..300).map(|t| 0.97f64.powi(t) * (0.3 * t as f64).cos().powi(2) + 1e-12);
        assert_eq!(diverges_at(l), None);
    }

    #[test]
    fn noise_around_an_exact_fit_is_not_a_divergence() {
        let l = (0..50).map(|t| if t == 0 { 1.0 } else { 1e-30 * 1.5f64.powi(t) });
        assert_eq!(diverges_at(l), None);
    }

    #[test]
    fn reduce_lr_restarts_the_window() {
        let rule = DivergenceRule::default();
        let mut watch = Watch::<f64>::new(&[]);
        for t in 0..5 {
            assert!(watch.observe_train_loss(2f64.powi(t), &rule).is_none());
        }
        watch.restart_divergence_window();
        for t in 0..6 {
            assert!(watch.observe_train_loss(2f64.powi(t), &rule).is_none());
        }
        assert!(watch.observe_train_loss(64.0, &rule).is_some());
    }
}
