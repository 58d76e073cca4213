//! Exponential moving averages of a series (loss curves, the lr range test's smoothing, and
//! the momentum and Adam moment buffers seen from outside).

use crate::{Error, Result};

/// A running exponential moving average, with and without bias correction.
///
/// # Algorithm
/// ```text
/// v_0 = 0
/// v_t = β v_{t-1} + (1 - β) x_t                      (raw, biased towards 0 early on)
/// m_t = v_t / (1 - β^t)                              (bias-corrected, as in Adam)
/// ```
/// The corrected value is computed in the equivalent incremental-mean form
/// `m_t = m_{t-1} + w_t (x_t - m_{t-1})` with `w_t = (1 - β) / (1 - β^t)` (so `w_1 = 1`):
/// expanding `v_t / (1 - β^t)` with `β (1 - β^{t-1}) = (1 - β^t) - (1 - β)` gives exactly
/// this recurrence. Unlike the division of two vanishing quantities it reproduces a constant
/// series bit for bit at every `t`.
///
/// # Reference
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014), section 3.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ema {
    beta: f64,
    raw: f64,
    corrected: f64,
    beta_t: f64,
    t: u64,
}

impl Ema {
    /// An empty average with smoothing factor `beta` in `[0, 1)`.
    pub fn new(beta: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&beta) {
            return Err(Error::invalid("beta", beta, "must be in [0, 1)"));
        }
        Ok(Ema {
            beta,
            raw: 0.0,
            corrected: 0.0,
            beta_t: 1.0,
            t: 0,
        })
    }

    /// Adds `x` and returns the bias-corrected average.
    pub fn push(&mut self, x: f64) -> f64 {
        self.t += 1;
        self.beta_t *= self.beta;
        self.raw = self.beta * self.raw + (1.0 - self.beta) * x;
        let w = (1.0 - self.beta) / (1.0 - self.beta_t);
        self.corrected += w * (x - self.corrected);
        self.corrected
    }

    /// `v_t` (0 before the first value).
    pub fn raw(&self) -> f64 {
        self.raw
    }

    /// `v_t / (1 - β^t)` (0 before the first value).
    pub fn corrected(&self) -> f64 {
        self.corrected
    }

    /// How many values were pushed.
    pub fn count(&self) -> u64 {
        self.t
    }
}

/// The raw EMA `v_1..v_n` of `series` (see [`Ema`]).
///
/// # Example
/// ```
/// use descent::analysis::ema::{ema, ema_corrected};
/// // The raw average starts at 0 and creeps up; the corrected one is right from the start.
/// assert_eq!(ema(&[1.0, 1.0, 1.0], 0.5)?, [0.5, 0.75, 0.875]);
/// assert_eq!(ema_corrected(&[1.0, 1.0, 1.0], 0.5)?, [1.0, 1.0, 1.0]);
/// assert!(ema(&[1.0], 1.0).is_err()); // beta must be below 1
/// # Ok::<(), descent::Error>(())
/// ```
pub fn ema(series: &[f64], beta: f64) -> Result<Vec<f64>> {
    let mut e = Ema::new(beta)?;
    Ok(series
        .iter()
        .map(|&x| {
            e.push(x);
            e.raw()
        })
        .collect())
}

/// The bias-corrected EMA `m_1..m_n` of `series` (see [`Ema`]).
pub fn ema_corrected(series: &[f64], beta: f64) -> Result<Vec<f64>> {
    let mut e = Ema::new(beta)?;
    Ok(series.iter().map(|&x| e.push(x)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrected_ema_of_a_constant_is_the_constant_exactly() {
        for beta in [0.0, 0.5, 0.9, 0.98, 0.999] {
            for c in [3.7, -1e-3, 12345.678] {
                let m = ema_corrected(&[c; 500], beta).unwrap();
                assert!(m.iter().all(|&v| v == c), "beta {beta}, c {c}");
            }
        }
    }

    #[test]
    fn raw_ema_is_biased_towards_zero() {
        // v_t = c (1 - β^t) for a constant c.
        let v = ema(&[2.0; 3], 0.5).unwrap();
        assert_eq!(v, vec![1.0, 1.5, 1.75]);
    }

    #[test]
    fn corrected_matches_the_division_form() {
        let xs: Vec<f64> = (0..50)
            .map(|i| (i as f64 * 0.7).sin() + 0.1 * i as f64)
            .collect();
        let beta = 0.9;
        let raw = ema(&xs, beta).unwrap();
        let cor = ema_corrected(&xs, beta).unwrap();
        for (t, (v, m)) in raw.iter().zip(&cor).enumerate() {
            let div = v / (1.0 - beta.powi(t as i32 + 1));
            assert!(
                (div - m).abs() <= 1e-13 * (1.0 + m.abs()),
                "t {t}: {div} vs {m}"
            );
        }
    }

    #[test]
    fn beta_outside_unit_interval_is_rejected() {
        assert!(Ema::new(1.0).is_err());
        assert!(Ema::new(-0.1).is_err());
        assert!(Ema::new(f64::NAN).is_err());
    }
}
