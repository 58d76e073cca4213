//! Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

use serde::{Deserialize, Serialize};

use super::{check, validate_lr, Definition, Optimizer, OptionInfo, MAXIMIZE, WEIGHT_DECAY};
use crate::{Float, Result};

/// SGD, as `torch.optim.SGD`.
///
/// # Algorithm
/// ```text
/// g <- -g                                    (if maximize)
/// g <- g + weight_decay * p                  (if weight_decay != 0)
/// if momentum != 0:
///     b <- g                                 (first step: no dampening)
///     b <- momentum * b + (1 - dampening) * g   (later steps)
///     g <- g + momentum * b   if nesterov,   else   g <- b
/// p <- p - lr * g
/// ```
/// # Defaults
/// lr 1e-3, momentum 0, dampening 0, weight_decay 0, nesterov false, maximize false.
/// Nesterov needs momentum > 0 and dampening = 0 (torch's rule).
///
/// # Reference
/// Sutskever et al., "On the importance of initialization and momentum in deep learning"
/// (2013); `torch/optim/sgd.py`, `_single_tensor_sgd`.
///
/// # Example
/// ```
/// use descent::optim::{Optimizer, Sgd, SgdState};
/// let sgd = Sgd { momentum: 0.9, ..Sgd::default() };
/// let (mut p, mut state) = ([1.0f64, 2.0], SgdState::default());
/// let g = [1.0, -1.0];
/// sgd.step(0.1, &mut p, &g, &mut state); // b = g
/// sgd.step(0.1, &mut p, &g, &mut state); // b = 0.9 b + g = 1.9 g
/// assert_eq!(state.momentum_buffer, Some(vec![1.9, -1.9]));
/// assert!((p[0] - 0.71).abs() < 1e-15 && (p[1] - 2.29).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sgd {
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd::DEFAULT
    }
}

impl Sgd {
    /// torch's defaults.
    pub const DEFAULT: Sgd = Sgd {
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
        maximize: false,
    };

    /// `momentum-ema` on the command line: [`Sgd::momentum_ema`] with its `beta`.
    pub const MOMENTUM_EMA: Definition<Sgd> = Definition {
        name: "momentum-ema",
        torch_name: None,
        summary: "SGD with momentum as an EMA of the gradients (torch SGD with dampening = momentum = beta)",
        default_lr: 1e-3,
        options: &[
            OptionInfo::float("beta", 0.9, "EMA factor: v <- beta v + (1 - beta) g"),
            OptionInfo::float("weight_decay", Sgd::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool("maximize", Sgd::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Sgd {
                weight_decay: o.float("weight_decay")?,
                maximize: o.bool("maximize")?,
                ..Sgd::momentum_ema(o.float("beta")?)
            })
        },
    };

    /// Momentum as an exponential moving average of the gradients (CLI name `momentum-ema`):
    /// SGD with `dampening = momentum = beta`, so that
    /// ```text
    /// v <- g                              (first step)
    /// v <- beta * v + (1 - beta) * g      (later steps)
    /// p <- p - lr * v
    /// ```
    /// Unlike classic momentum the step does not grow by `1 / (1 - beta)`, so the learning rate
    /// keeps its meaning as the step length per unit gradient.
    pub fn momentum_ema(beta: f64) -> Self {
        Sgd {
            momentum: beta,
            dampening: beta,
            ..Sgd::default()
        }
    }
}

/// SGD's state: the momentum buffer, absent until the first step with momentum.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SgdState<F> {
    pub momentum_buffer: Option<Vec<F>>,
}

impl Optimizer for Sgd {
    type State<F: Float> = SgdState<F>;
    const DEFINITION: Definition<Sgd> = Definition {
        name: "sgd",
        torch_name: Some("SGD"),
        summary: "stochastic gradient descent with momentum, dampening and Nesterov",
        default_lr: 1e-3,
        options: &[
            OptionInfo::float("momentum", Sgd::DEFAULT.momentum, "momentum factor"),
            OptionInfo::float(
                "dampening",
                Sgd::DEFAULT.dampening,
                "dampening for momentum",
            ),
            OptionInfo::float("weight_decay", Sgd::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool("nesterov", Sgd::DEFAULT.nesterov, "Nesterov momentum"),
            OptionInfo::bool("maximize", Sgd::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Sgd {
                momentum: o.float("momentum")?,
                dampening: o.float("dampening")?,
                weight_decay: o.float("weight_decay")?,
                nesterov: o.bool("nesterov")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check(
            "momentum",
            self.momentum,
            self.momentum >= 0.0,
            "must be >= 0",
        )?;
        check(
            "dampening",
            self.dampening,
            self.dampening.is_finite(),
            "must be finite",
        )?;
        check(
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be >= 0",
        )?;
        if self.nesterov {
            check(
                "momentum",
                self.momentum,
                self.momentum > 0.0 && self.dampening == 0.0,
                "nesterov needs momentum > 0 and dampening = 0",
            )?;
        }
        Ok(())
    }

    #[inline(always)] // so that the AVX2 build of `Grouped::step` vectorizes it
    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut SgdState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let neg_lr = F::of(-lr);
        let wd = F::of(self.weight_decay);
        let sign = if self.maximize { -F::one() } else { F::one() };
        let effective = |p: F, g: F| {
            let g = sign * g;
            if self.weight_decay != 0.0 {
                g + wd * p
            } else {
                g
            }
        };
        if self.is_plain_step() {
            // The plain step, written out so that it vectorizes (`1 * g` is `g`, bit for bit).
            for (p, &g) in params.iter_mut().zip(grads) {
                *p += neg_lr * g;
            }
            return;
        }
        if self.momentum == 0.0 {
            for (p, &g) in params.iter_mut().zip(grads) {
                *p += neg_lr * effective(*p, g);
            }
            return;
        }
        let mu = F::of(self.momentum);
        let keep = F::of(1.0 - self.dampening);
        match &mut state.momentum_buffer {
            None => {
                // torch: buf = clone(grad) on the first step, with no dampening.
                let mut buf = Vec::with_capacity(params.len());
                for (p, &g) in params.iter_mut().zip(grads) {
                    let g = effective(*p, g);
                    buf.push(g);
                    let d = if self.nesterov { g + mu * g } else { g };
                    *p += neg_lr * d;
                }
                state.momentum_buffer = Some(buf);
            }
            Some(buf) => {
                for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
                    let g = effective(*p, g);
                    // torch: buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    *b = *b * mu + keep * g;
                    let d = if self.nesterov { g + mu * *b } else { *b };
                    *p += neg_lr * d;
                }
            }
        }
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
    fn momentum(&self) -> Option<f64> {
        Some(self.momentum)
    }
    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }
    fn is_plain_step(&self) -> bool {
        self.momentum == 0.0 && self.weight_decay == 0.0 && !self.maximize
    }
}
