//! RMSprop: gradients divided by a running root-mean-square, optionally centered and with momentum.

use serde::{Deserialize, Serialize};

use super::{
    check_non_negative, ensure_len, lerp, validate_lr, Definition, Optimizer, OptionInfo, EPS,
    MAXIMIZE, WEIGHT_DECAY,
};
use crate::{Float, Result};

/// RMSprop (Hinton, 2012), as `torch.optim.RMSprop`.
///
/// # Algorithm
/// ```text
/// g <- -g                                        (if maximize)
/// g <- g + weight_decay * p                      (if weight_decay != 0)
/// v <- alpha * v + (1 - alpha) * g^2
/// if centered:
///     g_avg <- g_avg + (1 - alpha) * (g - g_avg)   (torch's lerp)
///     d <- sqrt(v - g_avg^2) + eps
/// else:
///     d <- sqrt(v) + eps
/// if momentum > 0:
///     buf <- momentum * buf + g / d
///     p <- p - lr * buf
/// else:
///     p <- p - lr * g / d
/// ```
/// # Defaults
/// lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered false, maximize false.
///
/// # Reference
/// Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture 6e (2012);
/// Graves, "Generating Sequences With Recurrent Neural Networks" (2013, centered);
/// `torch/optim/rmsprop.py`, `_single_tensor_rmsprop`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RmsProp {
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub centered: bool,
    pub maximize: bool,
}

impl RmsProp {
    /// torch's defaults.
    pub const DEFAULT: RmsProp = RmsProp {
        alpha: 0.99,
        eps: 1e-8,
        weight_decay: 0.0,
        momentum: 0.0,
        centered: false,
        maximize: false,
    };
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp::DEFAULT
    }
}

/// RMSprop's state: `momentum_buffer` only with momentum, `grad_avg` only when centered.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RmsPropState<F> {
    pub step: u64,
    pub square_avg: Vec<F>,
    pub momentum_buffer: Vec<F>,
    pub grad_avg: Vec<F>,
}

impl Optimizer for RmsProp {
    type State<F: Float> = RmsPropState<F>;
    const DEFINITION: Definition<RmsProp> = Definition {
        name: "rmsprop",
        torch_name: Some("RMSprop"),
        summary: "gradients divided by a running root-mean-square",
        default_lr: 1e-2,
        options: &[
            OptionInfo::float(
                "alpha",
                RmsProp::DEFAULT.alpha,
                "smoothing constant of the squared-gradient average",
            ),
            OptionInfo::float("eps", RmsProp::DEFAULT.eps, EPS),
            OptionInfo::float("weight_decay", RmsProp::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::float("momentum", RmsProp::DEFAULT.momentum, "momentum factor"),
            OptionInfo::bool(
                "centered",
                RmsProp::DEFAULT.centered,
                "normalize by the estimated variance of the gradient",
            ),
            OptionInfo::bool("maximize", RmsProp::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(RmsProp {
                alpha: o.float("alpha")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
                momentum: o.float("momentum")?,
                centered: o.bool("centered")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("eps", self.eps)?;
        check_non_negative("momentum", self.momentum)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        check_non_negative("alpha", self.alpha)
    }

    // torch's denominator: `sqrt(square_avg) + eps`, or with `centered`
    // `sqrt(square_avg - grad_avg^2) + eps`.
    fn effective_steps<F: Float>(&self, lr: f64, state: &RmsPropState<F>) -> Option<Vec<f64>> {
        if state.step == 0 {
            return None;
        }
        Some(
            state
                .square_avg
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let mut v = v.f64();
                    if self.centered {
                        let g = state.grad_avg[i].f64();
                        v -= g * g;
                    }
                    lr / (v.sqrt() + self.eps)
                })
                .collect(),
        )
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut RmsPropState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        ensure_len(&mut state.square_avg, n, F::zero());
        let with_momentum = self.momentum > 0.0;
        if with_momentum {
            ensure_len(&mut state.momentum_buffer, n, F::zero());
        }
        if self.centered {
            ensure_len(&mut state.grad_avg, n, F::zero());
        }
        state.step += 1;
        let wd = F::of(self.weight_decay);
        let alpha = F::of(self.alpha);
        let w = F::of(1.0 - self.alpha);
        let eps = F::of(self.eps);
        let mu = F::of(self.momentum);
        let neg_lr = F::of(-lr);
        let square_avg = &mut state.square_avg[..n];
        let buf = &mut state.momentum_buffer[..];
        let grad_avg = &mut state.grad_avg[..];
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                // torch: grad = grad.add(param, alpha=weight_decay)
                g += wd * params[i];
            }
            // torch: square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
            square_avg[i] = square_avg[i] * alpha + w * g * g;
            let avg = if self.centered {
                // torch: grad_avg.lerp_(grad, 1 - alpha)
                grad_avg[i] = lerp(grad_avg[i], g, w);
                // torch: avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                (square_avg[i] + -grad_avg[i] * grad_avg[i]).sqrt()
            } else {
                square_avg[i].sqrt()
            } + eps;
            if with_momentum {
                // torch: buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
                buf[i] = buf[i] * mu + g / avg;
                params[i] += neg_lr * buf[i];
            } else {
                // torch: param.addcdiv_(grad, avg, value=-lr)
                params[i] += neg_lr * g / avg;
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
}
