//! The largest stable constant learning rate of each optimizer on a quadratic loss (least
//! squares), from the largest eigenvalue of its Hessian.
//!
//! # Algorithm
//! On `f(p) = ½ (p - p*)ᵀ H (p - p*)` every step of torch's SGD is linear, so it acts on each
//! eigen-direction of `H` (eigenvalue `λ`) separately. Weight decay adds `wd · p` to the
//! gradient: it replaces `H` by `H + wd I` (and moves `p*`), so `λ` becomes `λ + wd`
//! throughout. With momentum `μ`, dampening `d` and the momentum buffer `b`, the error `e`
//! along one direction follows (`torch.optim.SGD`, `_single_tensor_sgd`):
//! ```text
//! heavy ball:  b' = μ b + (1 - d) λ e      e' = e - lr b'
//! nesterov:    b' = μ b + λ e              e' = e - lr (λ e + μ b')        (d = 0)
//! ```
//! Eliminating `b` leaves `e_{t+1} = T e_t - D e_{t-1}`, the 2x2 companion matrix
//! `[[T, -D], [1, 0]]` with characteristic polynomial `z² - T z + D`:
//! ```text
//! heavy ball:  T = 1 + μ - h,          D = μ,           h = lr (1 - d) λ
//! nesterov:    T = (1 + μ)(1 - h),     D = μ (1 - h),   h = lr λ
//! ```
//! Its spectral radius is below 1 iff `|D| < 1` and `|T| < 1 + D` (Jury's test):
//! ```text
//! heavy ball:  μ < 1 and 0 < h < 2 (1 + μ)        =>  lr < 2 (1 + μ) / ((1 - d) λ)
//! nesterov:    1 + D - T = h > 0,
//!              1 + D + T = 2 (1 + μ) - h (1 + 2μ) > 0  =>  lr < 2 (1 + μ) / ((1 + 2μ) λ)
//!              (and |μ (1 - h)| < 1, implied there when μ < 1)
//! ```
//! Every condition bounds `h` from above and `h` grows with `λ`, so the condition at
//! `λ_max + wd` covers the whole spectrum. The special cases:
//!
//! | form                                   | bound on lr                      |
//! |----------------------------------------|----------------------------------|
//! | plain GD (`μ = 0`)                     | `2 / λ`                          |
//! | heavy ball (`sgd`, momentum `μ`)       | `2 (1 + μ) / λ`                  |
//! | Nesterov (`nesterov = true`)           | `2 (1 + μ) / ((1 + 2μ) λ)`       |
//! | dampening `d`                          | `2 (1 + μ) / ((1 - d) λ)`        |
//! | `momentum-ema` (`μ = d = β`)           | `2 (1 + β) / ((1 - β) λ)`        |
//!
//! with `λ = λ_max + weight_decay`. At the bound the top direction oscillates without
//! shrinking; above it grows geometrically. torch's first step (buffer = gradient, without
//! dampening) is a transient that does not change the roots. A `λ = 0` direction (a singular
//! `H`) has the root 1: it neither shrinks nor grows. The number of targets enters through
//! `λ_max` (see [`curvature`](super::curvature::curvature)).
//!
//! Optimizers that rescale each coordinate by gradient statistics (Adagrad, RMSprop, the
//! Adam family, Adadelta), use only signs (Rprop, sign descent) or decay their own step (ASGD)
//! have no constant-lr bound of this kind: [`StableLr::NotApplicable`].
//!
//! # Reference
//! B. T. Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
//! G. Goh, "Why Momentum Really Works", Distill (2017); E. I. Jury, "Theory and Application of
//! the z-Transform Method" (1964) for the stability test.

use super::curvature::Curvature;
use crate::optim::{GroupOptions, OptimizerSpec};
use crate::Result;

/// The default `beta` of `momentum-ema` in [`OptimizerSpec`] (pinned by a test here).
const MOMENTUM_EMA_BETA: f64 = 0.9;

/// The constant-learning-rate update of torch's SGD, reduced to what decides its stability on a
/// quadratic. Field names and defaults are `torch.optim.SGD`'s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdForm {
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl SgdForm {
    /// Plain gradient descent.
    pub fn gd() -> Self {
        SgdForm {
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            maximize: false,
        }
    }

    /// Heavy-ball momentum as torch's SGD (`b ← μ b + g`, `p ← p - lr b`).
    pub fn heavy_ball(momentum: f64) -> Self {
        SgdForm {
            momentum,
            ..SgdForm::gd()
        }
    }

    /// torch's Nesterov momentum (`b ← μ b + g`, `p ← p - lr (g + μ b)`).
    pub fn nesterov(momentum: f64) -> Self {
        SgdForm {
            nesterov: true,
            ..SgdForm::heavy_ball(momentum)
        }
    }

    /// `momentum-ema`: `v ← β v + (1 - β) g`, `p ← p - lr v` (SGD with `μ = d = β`).
    pub fn ema(beta: f64) -> Self {
        SgdForm {
            dampening: beta,
            ..SgdForm::heavy_ball(beta)
        }
    }

    /// The same form with dampening `d`.
    pub fn with_dampening(self, dampening: f64) -> Self {
        SgdForm { dampening, ..self }
    }

    /// The same form with (coupled, L2) weight decay.
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        SgdForm {
            weight_decay,
            ..self
        }
    }
}

/// What an optimizer's step looks like to the stability analysis.
#[derive(Clone, Debug, PartialEq)]
pub enum StepRule {
    /// A constant-lr SGD form (`sgd`, `momentum-ema`).
    Sgd(SgdForm),
    /// Any other optimizer: its step is not `lr` times a fixed linear map of the gradient.
    Other {
        /// The command-line name.
        optimizer: &'static str,
        /// Why no constant-lr bound applies.
        reason: String,
    },
}

impl TryFrom<&OptimizerSpec> for StepRule {
    type Error = crate::Error;

    /// Reads torch's option names (`momentum`, `dampening`, `nesterov`, `weight_decay`,
    /// `maximize`; `beta` for `momentum-ema`) after validating the spec exactly as
    /// [`OptimizerSpec::build`] does. A per-group `weight_decay` override (e.g. 0 for biases)
    /// is not part of the spec: with decays `wd_i` per parameter, `λ_max(H + diag(wd_i))` lies
    /// between `λ_max + min wd_i` and `λ_max + max wd_i`, so pass the smallest one in a
    /// [`SgdForm`] for a bound that holds.
    fn try_from(spec: &OptimizerSpec) -> Result<Self> {
        let name = spec.canonical_name()?;
        spec.build::<f64>(vec![(0..0, GroupOptions::default())])?;
        let num = |key: &str, default: f64| {
            spec.options
                .get(key)
                .and_then(|v| v.as_f64())
                .unwrap_or(default)
        };
        let flag = |key: &str| {
            spec.options
                .get(key)
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        };
        let wd = num("weight_decay", 0.0);
        let rule = match name {
            "sgd" => StepRule::Sgd(SgdForm {
                momentum: num("momentum", 0.0),
                dampening: num("dampening", 0.0),
                nesterov: flag("nesterov"),
                weight_decay: wd,
                maximize: flag("maximize"),
            }),
            "momentum-ema" => StepRule::Sgd(SgdForm {
                maximize: flag("maximize"),
                ..SgdForm::ema(num("beta", MOMENTUM_EMA_BETA)).with_weight_decay(wd)
            }),
            "asgd" => StepRule::Other {
                optimizer: name,
                reason: format!(
                    "asgd's step lr / (1 + lambd·lr·t)^alpha decays, so every lr ends up stable; \
                     its first steps are stable when lr < 2 / (λ_max + lambd + weight_decay) \
                     (lambd = {})",
                    num("lambd", 1e-4)
                ),
            },
            "rprop" | "sign" => StepRule::Other {
                optimizer: name,
                reason: format!(
                    "{name} moves by step sizes that ignore the gradient's magnitude; the \
                     curvature bounds no learning rate"
                ),
            },
            _ => StepRule::Other {
                optimizer: name,
                reason: format!(
                    "{name} divides each coordinate's step by its own gradient statistics, so \
                     the step is not lr times a fixed linear map of the gradient"
                ),
            },
        };
        Ok(rule)
    }
}

/// The largest stable constant learning rate, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub enum StableLr {
    /// Converges for every `0 < lr < bound`; diverges above it (from a start with a component
    /// along the top eigenvector). `f64::INFINITY` when the curvature is zero.
    Bound(f64),
    /// No positive learning rate converges (momentum or dampening of 1 or more, maximize).
    Unstable {
        /// Which setting makes every learning rate unstable.
        reason: String,
    },
    /// The optimizer has no constant-lr bound of this kind (adaptive, sign-based, decaying).
    NotApplicable {
        /// Why.
        reason: String,
    },
}

impl StableLr {
    /// The bound, when there is one.
    pub fn bound(&self) -> Option<f64> {
        match self {
            StableLr::Bound(b) => Some(*b),
            _ => None,
        }
    }
}

/// The largest stable constant learning rate of `rule` on a quadratic whose Hessian has
/// largest eigenvalue `lambda_max` (see the module documentation for the derivation).
pub fn stable_lr(rule: &StepRule, lambda_max: f64) -> StableLr {
    let f = match rule {
        StepRule::Sgd(f) => f,
        StepRule::Other { reason, .. } => {
            return StableLr::NotApplicable {
                reason: reason.clone(),
            }
        }
    };
    let unstable = |reason: String| StableLr::Unstable { reason };
    if f.maximize {
        return unstable("maximize = true ascends the loss: every lr diverges".into());
    }
    let (mu, d) = (f.momentum, f.dampening);
    if mu >= 1.0 {
        return unstable(format!(
            "momentum {mu} >= 1: a root of z² - T z + D has modulus >= 1 for every lr; use \
             momentum below 1"
        ));
    }
    if !f.nesterov && mu > 0.0 && d >= 1.0 {
        return unstable(format!(
            "dampening {d} >= 1: the gradient enters the momentum buffer with weight {}; use \
             dampening below 1",
            1.0 - d
        ));
    }
    let lambda = lambda_max + f.weight_decay;
    let h_max = if f.nesterov {
        2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)
    } else if mu > 0.0 {
        2.0 * (1.0 + mu) / (1.0 - d)
    } else {
        // Without momentum torch ignores dampening (there is no buffer).
        2.0
    };
    StableLr::Bound(h_max / lambda)
}

/// [`stable_lr`] for an optimizer spec on least squares with curvature `c`.
pub fn stable_lr_of(spec: &OptimizerSpec, c: &Curvature) -> Result<StableLr> {
    Ok(stable_lr(&StepRule::try_from(spec)?, c.lambda_max))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spectral radius of `z² - T z + D` (complex roots have modulus `√D`).
    fn radius(t: f64, d: f64) -> f64 {
        let disc = t * t - 4.0 * d;
        if disc < 0.0 {
            d.sqrt()
        } else {
            (t.abs() + disc.sqrt()) / 2.0
        }
    }

    /// `(T, D)` of the recurrence of `f` at learning rate `lr` on eigenvalue `lambda`, written
    /// from torch's update as the 2x2 matrix on `(e, b)` rather than from the module formulas.
    fn companion(f: &SgdForm, lr: f64, lambda: f64) -> (f64, f64) {
        let (mu, d, l) = (f.momentum, f.dampening, lambda + f.weight_decay);
        // b' = mu b + (1-d) l e;  e' = e - lr (nesterov ? l e + mu b' : b')
        let (b_e, b_b) = (if f.nesterov { l } else { (1.0 - d) * l }, mu);
        let (e_e, e_b) = if f.nesterov {
            (1.0 - lr * l - lr * mu * b_e, -lr * mu * b_b)
        } else {
            (1.0 - lr * b_e, -lr * b_b)
        };
        let m = [[e_e, e_b], [b_e, b_b]];
        (m[0][0] + m[1][1], m[0][0] * m[1][1] - m[0][1] * m[1][0])
    }

    #[test]
    fn the_companion_matrix_crosses_radius_one_at_each_bound() {
        let forms = [
            SgdForm::gd(),
            SgdForm::heavy_ball(0.5),
            SgdForm::heavy_ball(0.95),
            SgdForm::nesterov(0.3),
            SgdForm::nesterov(0.9),
            SgdForm::heavy_ball(0.8).with_dampening(0.5),
            SgdForm::heavy_ball(0.4).with_dampening(-0.5),
            SgdForm::ema(0.9),
            SgdForm::ema(0.5).with_weight_decay(0.7),
            SgdForm::nesterov(0.6).with_weight_decay(2.0),
        ];
        let lambda_max = 3.0;
        for f in &forms {
            let b = stable_lr(&StepRule::Sgd(*f), lambda_max).bound().unwrap();
            // Stable over the whole spectrum just below, unstable at λ_max just above.
            for lambda in [1e-3, 0.1, 1.0, 2.0, lambda_max] {
                let (t, d) = companion(f, 0.999 * b, lambda);
                assert!(radius(t, d) < 1.0, "{f:?} λ {lambda}: {}", radius(t, d));
            }
            let (t, d) = companion(f, 1.001 * b, lambda_max);
            assert!(radius(t, d) > 1.0, "{f:?}: {}", radius(t, d));
        }
    }

    #[test]
    fn settings_that_no_lr_can_stabilize() {
        let un =
            |f: SgdForm| matches!(stable_lr(&StepRule::Sgd(f), 1.0), StableLr::Unstable { .. });
        assert!(un(SgdForm::heavy_ball(1.0)));
        assert!(un(SgdForm::nesterov(1.2)));
        assert!(un(SgdForm::heavy_ball(0.5).with_dampening(1.0)));
        assert!(un(SgdForm::ema(1.0)));
        assert!(un(SgdForm {
            maximize: true,
            ..SgdForm::gd()
        }));
        // Dampening without momentum is ignored by torch, and here.
        let b = stable_lr(&StepRule::Sgd(SgdForm::gd().with_dampening(3.0)), 4.0);
        assert_eq!(b, StableLr::Bound(0.5));
    }

    #[test]
    fn specs_map_to_their_forms() {
        let rule = |s: OptimizerSpec| StepRule::try_from(&s).unwrap();
        let sgd = OptimizerSpec::new("SGD")
            .with("momentum", 0.9)
            .with("nesterov", true)
            .with("weight_decay", 0.1);
        assert_eq!(
            rule(sgd),
            StepRule::Sgd(SgdForm::nesterov(0.9).with_weight_decay(0.1))
        );
        assert_eq!(
            rule(OptimizerSpec::new("momentum-ema")),
            StepRule::Sgd(SgdForm::ema(0.9))
        );
        for name in [
            "adam", "adamw", "rmsprop", "adagrad", "rprop", "sign", "asgd",
        ] {
            let r = rule(OptimizerSpec::new(name));
            assert!(
                matches!(stable_lr(&r, 1.0), StableLr::NotApplicable { .. }),
                "{name}"
            );
        }
        // Invalid specs are rejected as build() rejects them.
        let bad = OptimizerSpec::new("sgd")
            .with("nesterov", true)
            .with("dampening", 0.5)
            .with("momentum", 0.5);
        assert!(StepRule::try_from(&bad).is_err());
        assert!(StepRule::try_from(&OptimizerSpec::new("sgd").with("beta", 0.5)).is_err());
    }

    #[test]
    fn momentum_ema_default_beta_is_the_optimizers() {
        // Steps with gradients 1 then 0 from p = 0: v = 1, then v = β; p = -lr (1 + β).
        let lr = 0.5;
        let mut opt = OptimizerSpec::new("momentum-ema")
            .with("lr", lr)
            .build::<f64>(vec![(0..1, GroupOptions::default())])
            .unwrap();
        let mut p = [0.0];
        opt.step(lr, &mut p, &[1.0]);
        opt.step(lr, &mut p, &[0.0]);
        let beta = -p[0] / lr - 1.0;
        assert!((beta - MOMENTUM_EMA_BETA).abs() < 1e-15, "{beta}");
    }
}
