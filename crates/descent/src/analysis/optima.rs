//! The fastest constant settings of gradient descent and heavy-ball momentum on a quadratic
//! with Hessian eigenvalues in `[λ_min, λ_max]`, their worst-case convergence rates and the
//! iterations those rates predict.
//!
//! # Algorithm
//! Along an eigen-direction with eigenvalue `λ`, torch's SGD with momentum `μ` (dampening 0)
//! multiplies the error by the roots of `z² - (1 + μ - h) z + μ`, `h = lr λ` (see
//! [`bounds`](super::bounds)). Their largest modulus is
//! ```text
//! ρ(h) = √μ                                 if |h - (1 + μ)| ≤ 2√μ   (complex roots)
//!        (s + √(s² - 4μ)) / 2,  s = |h - (1 + μ)|                 otherwise
//! ```
//! which is symmetric about `h = 1 + μ` and grows with the distance from it. The worst case
//! over `h ∈ [lr λ_min, lr λ_max]` is therefore smallest when both ends are equally far:
//! ```text
//! lr(μ)   = 2 (1 + μ) / (λ_max + λ_min)
//! rate(μ) = max(√μ, (s + √(s² - 4μ)) / 2),   s = (1 + μ)(κ - 1)/(κ + 1),  κ = λ_max/λ_min
//! ```
//! With `μ = 0` this is the best fixed step, `lr = 2/(λ_max + λ_min)`, rate `(κ-1)/(κ+1)`.
//! Minimizing over `μ` as well gives `s = 2√μ` (both ends at the edge of the complex region):
//! ```text
//! μ* = ((√κ - 1)/(√κ + 1))²,   lr* = (2/(√λ_max + √λ_min))²,   rate* = (√κ - 1)/(√κ + 1)
//! ```
//! At those ends the double root makes the error decay as `t · rate^t`: the rate is the
//! asymptotic one. The error shrinks by a factor `reduction` after
//! `⌈ln(reduction) / ln(rate)⌉` iterations (asymptotically, for the worst start).
//!
//! A singular Hessian (`λ_min = 0`, `κ = ∞`) has rate 1 and no finite prediction: the
//! component of the error in the null space never moves. The loss still converges, at the
//! rate of the smallest non-zero eigenvalue
//! ([`Curvature::lambda_min_nonzero`](super::curvature::Curvature)), to the minimizer
//! nearest the start.
//!
//! # Reference
//! G. Goh, "Why Momentum Really Works", Distill (2017); B. T. Polyak, "Introduction to
//! Optimization" (1987), section 3.2.1.

use super::bounds::SgdForm;
use super::curvature::Curvature;
use crate::{Error, Result};

/// The extreme eigenvalues of a quadratic's Hessian.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spectrum {
    pub lambda_min: f64,
    pub lambda_max: f64,
}

impl Spectrum {
    /// Checks `0 ≤ λ_min ≤ λ_max`, `λ_max > 0`, both finite.
    pub fn new(lambda_min: f64, lambda_max: f64) -> Result<Self> {
        let ok = lambda_min.is_finite()
            && lambda_max.is_finite()
            && 0.0 <= lambda_min
            && lambda_min <= lambda_max
            && lambda_max > 0.0;
        if !ok {
            return Err(Error::invalid(
                "spectrum",
                format!("[{lambda_min}, {lambda_max}]"),
                "needs finite 0 <= λ_min <= λ_max with λ_max > 0",
            ));
        }
        Ok(Spectrum {
            lambda_min,
            lambda_max,
        })
    }

    /// The spectrum of a curvature whose `λ_min` is known (`None` otherwise, or when the
    /// curvature is zero).
    pub fn of(c: &Curvature) -> Option<Self> {
        Spectrum::new(c.lambda_min?, c.lambda_max).ok()
    }

    /// Both ends shifted by a weight decay `wd` (the Hessian of loss + `wd/2 ‖p‖²`).
    pub fn with_weight_decay(self, wd: f64) -> Result<Self> {
        Spectrum::new(self.lambda_min + wd, self.lambda_max + wd)
    }

    /// `κ = λ_max / λ_min`, `f64::INFINITY` when `λ_min = 0`.
    pub fn condition_number(&self) -> f64 {
        if self.lambda_min > 0.0 {
            self.lambda_max / self.lambda_min
        } else {
            f64::INFINITY
        }
    }

    /// `(κ - 1)/(κ + 1) = (λ_max - λ_min)/(λ_max + λ_min)`, 1 when `κ = ∞`.
    fn spread(&self) -> f64 {
        (self.lambda_max - self.lambda_min) / (self.lambda_max + self.lambda_min)
    }
}

/// Constant settings of torch's SGD and the worst-case rate at which they shrink the error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// The learning rate of torch's SGD (heavy-ball form, dampening 0).
    pub lr: f64,
    /// The momentum (`0` for plain gradient descent).
    pub momentum: f64,
    /// The asymptotic worst-case factor per iteration by which the error shrinks; `1.0` when
    /// `κ = ∞` (no convergence of the parameters).
    pub rate: f64,
}

impl Tuning {
    /// Iterations to shrink the error by `reduction` (e.g. `1e-6`): see
    /// [`predicted_iterations`].
    pub fn iterations(&self, reduction: f64) -> Option<u64> {
        predicted_iterations(self.rate, reduction)
    }

    /// The same step as a `momentum-ema` learning rate (`v ← β v + (1 - β) g` takes
    /// `lr / (1 - β)` for the same iterates as the heavy ball's `lr`).
    pub fn ema_lr(&self) -> f64 {
        self.lr / (1.0 - self.momentum)
    }
}

/// The fastest plain gradient descent: `lr = 2/(λ_max + λ_min)`, rate `(κ-1)/(κ+1)`.
pub fn optimal_gd(s: &Spectrum) -> Tuning {
    Tuning {
        lr: 2.0 / (s.lambda_max + s.lambda_min),
        momentum: 0.0,
        rate: s.spread(),
    }
}

/// The fastest heavy ball (Goh 2017): `lr = (2/(√λ_max + √λ_min))²`,
/// `momentum = ((√κ-1)/(√κ+1))²`, rate `(√κ-1)/(√κ+1)`; momentum and rate 1 when `κ = ∞`.
pub fn optimal_heavy_ball(s: &Spectrum) -> Tuning {
    let (big, small) = (s.lambda_max.sqrt(), s.lambda_min.sqrt());
    // (√κ - 1)/(√κ + 1) written without κ, so that λ_min = 0 gives exactly 1.
    let rate = (big - small) / (big + small);
    Tuning {
        lr: (2.0 / (big + small)).powi(2),
        momentum: rate * rate,
        rate,
    }
}

/// The best learning rate for a given heavy-ball `momentum` in `[0, 1)`:
/// `lr = 2 (1 + μ)/(λ_max + λ_min)` and its rate (module documentation).
pub fn best_lr_for_momentum(s: &Spectrum, momentum: f64) -> Result<Tuning> {
    if !(0.0..1.0).contains(&momentum) {
        return Err(Error::invalid(
            "momentum",
            momentum,
            "must be in [0, 1) for a convergent heavy ball",
        ));
    }
    let mu = momentum;
    let dist = (1.0 + mu) * s.spread();
    let rate = if dist <= 2.0 * mu.sqrt() {
        mu.sqrt()
    } else {
        (dist + (dist * dist - 4.0 * mu).max(0.0).sqrt()) / 2.0
    };
    Ok(Tuning {
        lr: 2.0 * (1.0 + mu) / (s.lambda_max + s.lambda_min),
        momentum: mu,
        rate,
    })
}

/// The asymptotic worst-case factor by which torch's SGD of form `f` at learning rate `lr`
/// shrinks the error per step on a quadratic with spectrum `s`: the largest modulus of the
/// roots of `z² - T z + D` (see [`bounds`](super::bounds)) over the eigenvalues in `s`, shifted
/// by the form's weight decay. A value of 1 or more means no convergence.
///
/// The modulus is unimodal in `λ` for every form (heavy ball: symmetric about
/// `h = 1 + μ`; Nesterov: falling to 0 at `h = 1`, rising after), so the worst case is at
/// `λ_min` or `λ_max`; a unit test checks that against a dense grid. `maximize` ascends:
/// `f64::INFINITY`.
pub fn rate_of(f: &SgdForm, lr: f64, s: &Spectrum) -> f64 {
    if f.maximize {
        return f64::INFINITY;
    }
    [s.lambda_min, s.lambda_max]
        .into_iter()
        .map(|l| root_modulus(f, lr, l + f.weight_decay))
        .fold(0.0, f64::max)
}

/// The spectral radius of the 2x2 recurrence of form `f` along an eigenvalue `lambda`.
fn root_modulus(f: &SgdForm, lr: f64, lambda: f64) -> f64 {
    let mu = f.momentum;
    let (t, d) = if mu == 0.0 {
        (1.0 - lr * lambda, 0.0)
    } else if f.nesterov {
        let h = lr * lambda;
        ((1.0 + mu) * (1.0 - h), mu * (1.0 - h))
    } else {
        (1.0 + mu - lr * (1.0 - f.dampening) * lambda, mu)
    };
    let disc = t * t - 4.0 * d;
    if disc < 0.0 {
        d.sqrt()
    } else {
        (t.abs() + disc.sqrt()) / 2.0
    }
}

/// `⌈ln(reduction) / ln(rate)⌉`: iterations for an error shrinking by `rate` per step to
/// reach `reduction` times its start. `None` when `rate ≥ 1` (no finite prediction) or
/// `reduction` is not positive; `Some(0)` when `reduction ≥ 1`; `Some(1)` when `rate = 0`.
pub fn predicted_iterations(rate: f64, reduction: f64) -> Option<u64> {
    if reduction.is_nan() || reduction <= 0.0 || !(0.0..1.0).contains(&rate) {
        return None;
    }
    if reduction >= 1.0 {
        return Some(0);
    }
    if rate == 0.0 {
        return Some(1);
    }
    Some((reduction.ln() / rate.ln()).ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_momentum_lr_family_contains_both_optima() {
        let s = Spectrum::new(0.25, 100.0).unwrap();
        let gd = optimal_gd(&s);
        assert_eq!(best_lr_for_momentum(&s, 0.0).unwrap(), gd);
        assert!((gd.rate - 399.0 / 401.0).abs() < 1e-15);
        let hb = optimal_heavy_ball(&s);
        // √κ = 20: rate 19/21, momentum (19/21)², lr (2/(10 + 0.5))².
        assert!((hb.rate - 19.0 / 21.0).abs() < 1e-15);
        assert!((hb.momentum - (19.0f64 / 21.0).powi(2)).abs() < 1e-15);
        assert!((hb.lr - (2.0f64 / 10.5).powi(2)).abs() < 1e-15);
        let same = best_lr_for_momentum(&s, hb.momentum).unwrap();
        assert!((same.lr - hb.lr).abs() < 1e-15 * hb.lr);
        assert!((same.rate - hb.rate).abs() < 1e-12);
        // Any other momentum is slower.
        for mu in [0.3, 0.7, 0.8, 0.9, 0.95] {
            assert!(best_lr_for_momentum(&s, mu).unwrap().rate > hb.rate, "{mu}");
        }
    }

    #[test]
    fn a_singular_hessian_has_rate_one_and_no_prediction() {
        let s = Spectrum::new(0.0, 4.0).unwrap();
        assert_eq!(s.condition_number(), f64::INFINITY);
        for t in [
            optimal_gd(&s),
            optimal_heavy_ball(&s),
            best_lr_for_momentum(&s, 0.5).unwrap(),
        ] {
            assert_eq!(t.rate, 1.0, "{t:?}");
            assert_eq!(t.iterations(1e-6), None);
        }
        assert_eq!(optimal_gd(&s).lr, 0.5);
        assert_eq!(optimal_heavy_ball(&s).momentum, 1.0);
    }

    #[test]
    fn predictions_at_the_edges() {
        assert_eq!(predicted_iterations(0.5, 1e-3), Some(10));
        assert_eq!(predicted_iterations(0.9, 0.5), Some(7));
        assert_eq!(predicted_iterations(0.0, 1e-9), Some(1));
        assert_eq!(predicted_iterations(0.9, 2.0), Some(0));
        assert_eq!(predicted_iterations(1.0, 0.5), None);
        assert_eq!(predicted_iterations(0.9, 0.0), None);
        assert_eq!(predicted_iterations(f64::NAN, 0.5), None);
        assert!(Spectrum::new(2.0, 1.0).is_err());
        assert!(Spectrum::new(-1.0, 1.0).is_err());
        assert!(best_lr_for_momentum(&Spectrum::new(1.0, 2.0).unwrap(), 1.0).is_err());
    }

    #[test]
    fn the_rate_of_a_form_is_its_worst_end_of_the_spectrum() {
        let s = Spectrum::new(0.05, 3.0).unwrap();
        // The optima contract at their own rates.
        let gd = optimal_gd(&s);
        assert!((rate_of(&SgdForm::gd(), gd.lr, &s) - gd.rate).abs() < 1e-15);
        let hb = optimal_heavy_ball(&s);
        let at = rate_of(&SgdForm::heavy_ball(hb.momentum), hb.lr, &s);
        assert!((at - hb.rate).abs() < 1e-7, "{at} vs {}", hb.rate);
        // The ends hold the worst case: a dense grid over the spectrum finds nothing worse.
        let forms = [
            SgdForm::gd(),
            SgdForm::heavy_ball(0.7),
            SgdForm::nesterov(0.5),
            SgdForm::nesterov(0.95),
            SgdForm::ema(0.9),
            SgdForm::heavy_ball(0.8).with_dampening(0.3),
            SgdForm::nesterov(0.9).with_weight_decay(0.2),
        ];
        for f in &forms {
            for lr in [0.01, 0.1, 0.3, 0.6, 1.0, 3.0] {
                let grid = (0..=20_000)
                    .map(|i| {
                        let l = s.lambda_min + (s.lambda_max - s.lambda_min) * i as f64 / 2e4;
                        root_modulus(f, lr, l + f.weight_decay)
                    })
                    .fold(0.0, f64::max);
                let ends = rate_of(f, lr, &s);
                assert!(
                    grid <= ends * (1.0 + 1e-12),
                    "{f:?} lr {lr}: {grid} > {ends}"
                );
            }
        }
    }
}
