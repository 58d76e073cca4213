//! RAdam: Adam whose adaptive step is switched on only once its variance is tractable.

use serde::{Deserialize, Serialize};

use super::{
    check_betas, check_non_negative, ensure_len, lerp, validate_lr, Definition, Optimizer,
    OptionInfo, EPS, MAXIMIZE, WEIGHT_DECAY,
};
use crate::{Float, Result};

/// RAdam (Liu et al., 2019), as `torch.optim.RAdam`.
///
/// # Algorithm
/// ```text
/// g <- -g                                         (if maximize)
/// p <- p * (1 - lr * weight_decay)                (if weight_decay != 0 and decoupled)
/// g <- g + weight_decay * p                       (if weight_decay != 0 and not decoupled)
/// t <- t + 1
/// m <- m + (1 - beta1) * (g - m)                  (torch's lerp)
/// v <- beta2 * v + (1 - beta2) * g^2
/// m_hat <- m / (1 - beta1^t)
/// rho_inf <- 2 / (1 - beta2) - 1
/// rho_t <- rho_inf - 2 t beta2^t / (1 - beta2^t)
/// if rho_t > 5:
///     r <- sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
///     p <- p - m_hat * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
/// else:
///     p <- p - m_hat * lr
/// ```
/// # Defaults
/// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, decoupled_weight_decay false,
/// maximize false.
///
/// # Reference
/// Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (ICLR 2020);
/// `torch/optim/radam.py`, `_single_tensor_radam`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RAdam {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub decoupled_weight_decay: bool,
    pub maximize: bool,
}

impl RAdam {
    /// torch's defaults.
    pub const DEFAULT: RAdam = RAdam {
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.0,
        decoupled_weight_decay: false,
        maximize: false,
    };
}

impl Default for RAdam {
    fn default() -> Self {
        RAdam::DEFAULT
    }
}

/// RAdam's state: step count and moment buffers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RAdamState<F> {
    pub step: u64,
    pub exp_avg: Vec<F>,
    pub exp_avg_sq: Vec<F>,
}

impl Optimizer for RAdam {
    type State<F: Float> = RAdamState<F>;
    const DEFINITION: Definition<RAdam> = Definition {
        name: "radam",
        torch_name: Some("RAdam"),
        summary: "rectified Adam (Liu et al., 2019)",
        default_lr: 1e-3,
        options: &[
            OptionInfo::pair(
                "betas",
                RAdam::DEFAULT.betas,
                "coefficients of the running averages of the gradient and its square",
            ),
            OptionInfo::float("eps", RAdam::DEFAULT.eps, EPS),
            OptionInfo::float("weight_decay", RAdam::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool(
                "decoupled_weight_decay",
                RAdam::DEFAULT.decoupled_weight_decay,
                "decay the weights directly, as AdamW",
            ),
            OptionInfo::bool("maximize", RAdam::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(RAdam {
                betas: o.pair("betas")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
                decoupled_weight_decay: o.bool("decoupled_weight_decay")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("eps", self.eps)?;
        check_betas("betas", self.betas)?;
        check_non_negative("weight_decay", self.weight_decay)
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut RAdamState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        ensure_len(&mut state.exp_avg, n, F::zero());
        ensure_len(&mut state.exp_avg_sq, n, F::zero());
        state.step += 1;
        let t = state.step as f64;
        let (beta1, beta2) = self.betas;
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        // torch: rho_inf = 2 / (1 - beta2) - 1
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        // torch: rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = if rectified {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .powf(0.5)
        } else {
            0.0
        };

        let decoupled = self.weight_decay != 0.0 && self.decoupled_weight_decay;
        let coupled = self.weight_decay != 0.0 && !self.decoupled_weight_decay;
        let decay = F::of(1.0 - lr * self.weight_decay);
        let wd = F::of(self.weight_decay);
        let w1 = F::of(1.0 - beta1);
        let b2 = F::of(beta2);
        let w2 = F::of(1.0 - beta2);
        let bc1 = F::of(bias_correction1);
        let bc2_sqrt = F::of(bias_correction2.powf(0.5));
        let lr_f = F::of(lr);
        let rect = F::of(rect);
        let eps = F::of(self.eps);
        let m = &mut state.exp_avg[..n];
        let v = &mut state.exp_avg_sq[..n];
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if decoupled {
                params[i] *= decay;
            } else if coupled {
                g += wd * params[i];
            }
            // torch: exp_avg.lerp_(grad, 1 - beta1)
            m[i] = lerp(m[i], g, w1);
            // torch: exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            v[i] = v[i] * b2 + w2 * g * g;
            // torch: bias_corrected_exp_avg = exp_avg / bias_correction1
            let m_hat = m[i] / bc1;
            params[i] -= if rectified {
                // torch: param.add_(bias_corrected_exp_avg * lr * _compute_adaptive_lr()
                //                   * _compute_rect(), alpha=-1.0),
                // adaptive = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(eps)
                m_hat * lr_f * (bc2_sqrt / (v[i].sqrt() + eps)) * rect
            } else {
                // torch: param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
                m_hat * lr_f
            };
        }
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }
    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }
}
