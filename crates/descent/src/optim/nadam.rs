//! NAdam: Adam with Nesterov momentum and a warming-up momentum schedule.

use serde::{Deserialize, Serialize};

use super::{
    check_betas, check_non_negative, ensure_len, lerp, validate_lr, Definition, Optimizer,
    OptionInfo, EPS, MAXIMIZE, WEIGHT_DECAY,
};
use crate::{Float, Result};

/// NAdam (Dozat, 2016), as `torch.optim.NAdam`.
///
/// # Algorithm
/// ```text
/// g <- -g                                         (if maximize)
/// p <- p * (1 - lr * weight_decay)                (if weight_decay != 0 and decoupled)
/// g <- g + weight_decay * p                       (if weight_decay != 0 and not decoupled)
/// t <- t + 1
/// mu_t      <- beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
/// mu_{t+1}  <- beta1 * (1 - 0.5 * 0.96^((t + 1) * momentum_decay))
/// mu_product <- mu_product * mu_t                 (starts at 1)
/// m <- m + (1 - beta1) * (g - m)                  (torch's lerp)
/// v <- beta2 * v + (1 - beta2) * g^2
/// d <- sqrt(v / (1 - beta2^t)) + eps
/// p <- p - lr * (1 - mu_t) / (1 - mu_product) * g / d
/// p <- p - lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / d
/// ```
/// # Defaults
/// lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, momentum_decay 4e-3,
/// decoupled_weight_decay false, maximize false.
///
/// # Reference
/// Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR workshop 2016);
/// `torch/optim/nadam.py`, `_single_tensor_nadam`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NAdam {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum_decay: f64,
    pub decoupled_weight_decay: bool,
    pub maximize: bool,
}

impl NAdam {
    /// torch's defaults.
    pub const DEFAULT: NAdam = NAdam {
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.0,
        momentum_decay: 4e-3,
        decoupled_weight_decay: false,
        maximize: false,
    };
}

impl Default for NAdam {
    fn default() -> Self {
        NAdam::DEFAULT
    }
}

/// NAdam's state: step count, the running product of the momentum schedule, moment buffers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NAdamState<F> {
    pub step: u64,
    /// Kept in f64, as torch keeps it in the default (float64) scalar dtype.
    pub mu_product: f64,
    pub exp_avg: Vec<F>,
    pub exp_avg_sq: Vec<F>,
}

impl<F> Default for NAdamState<F> {
    fn default() -> Self {
        NAdamState {
            step: 0,
            mu_product: 1.0,
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
        }
    }
}

impl Optimizer for NAdam {
    type State<F: Float> = NAdamState<F>;
    const DEFINITION: Definition<NAdam> = Definition {
        name: "nadam",
        torch_name: Some("NAdam"),
        summary: "Adam with Nesterov momentum (Dozat, 2016)",
        default_lr: 2e-3,
        options: &[
            OptionInfo::pair(
                "betas",
                NAdam::DEFAULT.betas,
                "coefficients of the running averages of the gradient and its square",
            ),
            OptionInfo::float("eps", NAdam::DEFAULT.eps, EPS),
            OptionInfo::float("weight_decay", NAdam::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::float(
                "momentum_decay",
                NAdam::DEFAULT.momentum_decay,
                "momentum decay psi of the momentum schedule",
            ),
            OptionInfo::bool(
                "decoupled_weight_decay",
                NAdam::DEFAULT.decoupled_weight_decay,
                "decay the weights directly, as AdamW",
            ),
            OptionInfo::bool("maximize", NAdam::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(NAdam {
                betas: o.pair("betas")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
                momentum_decay: o.float("momentum_decay")?,
                decoupled_weight_decay: o.bool("decoupled_weight_decay")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("eps", self.eps)?;
        check_betas("betas", self.betas)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        check_non_negative("momentum_decay", self.momentum_decay)
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut NAdamState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        ensure_len(&mut state.exp_avg, n, F::zero());
        ensure_len(&mut state.exp_avg_sq, n, F::zero());
        state.step += 1;
        let t = state.step as f64;
        let (beta1, beta2) = self.betas;
        let bias_correction2 = 1.0 - beta2.powf(t);
        // torch: mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        state.mu_product *= mu;
        let mu_product = state.mu_product;
        let mu_product_next = mu_product * mu_next;
        // torch: value=(-lr * (1.0 - mu) / (1.0 - mu_product)), value=(-lr * mu_next) / (1.0 - mu_product_next)
        let grad_coef = F::of(-lr * (1.0 - mu) / (1.0 - mu_product));
        let avg_coef = F::of((-lr * mu_next) / (1.0 - mu_product_next));

        let decoupled = self.weight_decay != 0.0 && self.decoupled_weight_decay;
        let coupled = self.weight_decay != 0.0 && !self.decoupled_weight_decay;
        let decay = F::of(1.0 - lr * self.weight_decay);
        let wd = F::of(self.weight_decay);
        let w1 = F::of(1.0 - beta1);
        let b2 = F::of(beta2);
        let w2 = F::of(1.0 - beta2);
        let bc2 = F::of(bias_correction2);
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
            // torch: denom = exp_avg_sq.div(bias_correction2).sqrt(); denom.add_(eps)
            let denom = (v[i] / bc2).sqrt() + eps;
            // torch: param.addcdiv_(grad, denom, ...); param.addcdiv_(exp_avg, denom, ...)
            params[i] += grad_coef * g / denom;
            params[i] += avg_coef * m[i] / denom;
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
