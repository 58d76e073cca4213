//! The step each parameter really takes under an adaptive optimizer: `lr / (√v̂ + ε)`, the
//! learning rate divided by the parameter's own running gradient scale, and the summary of
//! its distribution over the parameters that the board draws per epoch.
//!
//! Computed from the optimizer's state only when an observer asks
//! ([`Observer::wants_effective_steps`](crate::train::Observer::wants_effective_steps)).

use serde::{Deserialize, Serialize};

/// Quantiles of the effective per-parameter step over all parameters (numpy's default
/// `linear` interpolation between order statistics).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepQuantiles {
    pub min: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub max: f64,
}

impl StepQuantiles {
    /// The quantiles of `values` (reordered in place, in linear time: a selection per order
    /// statistic, not a sort); `None` when empty or not all finite.
    pub fn of(values: &mut [f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let pos = |p: f64| p * (n - 1) as f64;
        // Every order statistic needed, ascending: each selection leaves the larger ones to
        // its right, where the next one is found.
        let mut ranks: Vec<usize> = [0.0, 0.1, 0.5, 0.9, 1.0]
            .iter()
            .flat_map(|&p| {
                [
                    pos(p).floor() as usize,
                    (pos(p).floor() as usize + 1).min(n - 1),
                ]
            })
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        let mut at = std::collections::BTreeMap::new();
        let mut lo = 0;
        for r in ranks {
            values[lo..].select_nth_unstable_by(r - lo, f64::total_cmp);
            at.insert(r, values[r]);
            lo = r;
        }
        let q = |p: f64| {
            let (i, frac) = (pos(p).floor() as usize, pos(p) - pos(p).floor());
            let next = at[&(i + 1).min(n - 1)];
            at[&i] + frac * (next - at[&i])
        };
        Some(StepQuantiles {
            min: q(0.0),
            p10: q(0.1),
            p50: q(0.5),
            p90: q(0.9),
            max: q(1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{build, Adam, AdamState, Optimizer, RmsProp, RmsPropState};

    #[test]
    fn quantiles_interpolate_as_numpy() {
        // numpy.quantile([1..=11], [0, .1, .5, .9, 1]) = [1, 2, 6, 10, 11];
        // numpy.quantile([1, 2, 3, 4], .1) = 1.3.
        let mut v: Vec<f64> = (1..=11).rev().map(f64::from).collect();
        let q = StepQuantiles::of(&mut v).unwrap();
        assert_eq!(
            (q.min, q.p10, q.p50, q.p90, q.max),
            (1.0, 2.0, 6.0, 10.0, 11.0)
        );
        let q = StepQuantiles::of(&mut [4.0, 3.0, 2.0, 1.0]).unwrap();
        assert!((q.p10 - 1.3).abs() < 1e-15);
        assert_eq!(StepQuantiles::of(&mut []), None);
        assert_eq!(StepQuantiles::of(&mut [1.0, f64::NAN]), None);
    }

    #[test]
    fn adams_effective_step_is_lr_over_the_debiased_root_of_v_plus_eps() {
        let adam = Adam::default();
        let mut state = AdamState::<f64>::default();
        let mut p = vec![0.0; 3];
        assert_eq!(adam.effective_steps(0.01, &state), None);
        adam.step(0.01, &mut p, &[1.0, -2.0, 0.0], &mut state);
        adam.step(0.01, &mut p, &[0.5, 1.0, 0.0], &mut state);
        // By hand from the state: v̂ = v / (1 - β2^t), step = lr / (√v̂ + ε).
        let bc2 = 1.0 - 0.999f64.powi(2);
        let want: Vec<f64> = state
            .exp_avg_sq
            .iter()
            .map(|v| 0.01 / ((v / bc2).sqrt() + 1e-8))
            .collect();
        let got = adam.effective_steps(0.01, &state).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-15 * w, "{g} vs {w}");
        }
        // A parameter whose gradient was always zero takes lr/ε.
        assert!((got[2] - 0.01 / 1e-8).abs() < 1e-3);
    }

    #[test]
    fn rmsprops_effective_step_and_the_trait_object_agree_with_the_state() {
        let rms = RmsProp::default();
        let mut state = RmsPropState::<f64>::default();
        let mut p = vec![0.0; 2];
        rms.step(0.01, &mut p, &[3.0, -0.5], &mut state);
        let got = rms.effective_steps(0.01, &state).unwrap();
        for (g, v) in got.iter().zip(&state.square_avg) {
            assert!((g - 0.01 / (v.sqrt() + 1e-8)).abs() < 1e-15);
        }
        // Through the trainer's view: one group or several, the same numbers in order.
        let mut opt = build::<f64>("adam", 0.1, 4).unwrap();
        assert!(opt.effective_steps(0.1).is_none());
        let mut p = vec![0.0; 4];
        opt.step(0.1, &mut p, &[1.0, 2.0, 3.0, 4.0]);
        let steps = opt.effective_steps(0.1).unwrap();
        assert_eq!(steps.len(), 4);
        // After one step v̂ = g², so the step is lr/(|g| + ε).
        for (s, g) in steps.iter().zip([1.0, 2.0, 3.0, 4.0]) {
            assert!((s - 0.1 / (g + 1e-8)).abs() < 1e-12, "{s}");
        }
        assert!(build::<f64>("sgd", 0.1, 4)
            .unwrap()
            .effective_steps(0.1)
            .is_none());
    }
}
