//! Adamax: Adam with the infinity norm in place of the second moment.

use serde::{Deserialize, Serialize};

use super::{
    check_betas, check_non_negative, ensure_len, lerp, validate_lr, Definition, Optimizer,
    OptionInfo, EPS, MAXIMIZE, WEIGHT_DECAY,
};
use crate::{Float, Result};

/// Adamax (Kingma & Ba, 2014, section 7), as `torch.optim.Adamax`.
///
/// # Algorithm
/// ```text
/// g <- -g                                  (if maximize)
/// g <- g + weight_decay * p                (if weight_decay != 0)
/// t <- t + 1
/// m <- m + (1 - beta1) * (g - m)           (torch's lerp)
/// u <- max(beta2 * u, |g| + eps)
/// p <- p - lr / (1 - beta1^t) * m / u
/// ```
/// # Defaults
/// lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, maximize false.
///
/// # Reference
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014); `torch/optim/adamax.py`,
/// `_single_tensor_adamax`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adamax {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl Adamax {
    /// torch's defaults.
    pub const DEFAULT: Adamax = Adamax {
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.0,
        maximize: false,
    };
}

impl Default for Adamax {
    fn default() -> Self {
        Adamax::DEFAULT
    }
}

/// Adamax's state: step count, first moment and the exponentially weighted infinity norm.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdamaxState<F> {
    pub step: u64,
    pub exp_avg: Vec<F>,
    pub exp_inf: Vec<F>,
}

impl Optimizer for Adamax {
    type State<F: Float> = AdamaxState<F>;
    const DEFINITION: Definition<Adamax> = Definition {
        name: "adamax",
        torch_name: Some("Adamax"),
        summary: "Adam with the infinity norm in place of the second moment",
        default_lr: 2e-3,
        options: &[
            OptionInfo::pair(
                "betas",
                Adamax::DEFAULT.betas,
                "coefficients of the running averages of the gradient and its infinity norm",
            ),
            OptionInfo::float("eps", Adamax::DEFAULT.eps, EPS),
            OptionInfo::float("weight_decay", Adamax::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool("maximize", Adamax::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Adamax {
                betas: o.pair("betas")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
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

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut AdamaxState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        ensure_len(&mut state.exp_avg, n, F::zero());
        ensure_len(&mut state.exp_inf, n, F::zero());
        state.step += 1;
        let (beta1, beta2) = self.betas;
        // torch: bias_correction = 1 - beta1 ** step; clr = lr / bias_correction
        let clr = lr / (1.0 - beta1.powf(state.step as f64));
        let neg_clr = F::of(-clr);
        let wd = F::of(self.weight_decay);
        let w1 = F::of(1.0 - beta1);
        let b2 = F::of(beta2);
        let eps = F::of(self.eps);
        let m = &mut state.exp_avg[..n];
        let u = &mut state.exp_inf[..n];
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                g += wd * params[i];
            }
            // torch: exp_avg.lerp_(grad, 1 - beta1)
            m[i] = lerp(m[i], g, w1);
            // torch: torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
            let decayed = u[i] * b2;
            let fresh = g.abs() + eps;
            u[i] = if decayed > fresh { decayed } else { fresh };
            // torch: param.addcdiv_(exp_avg, exp_inf, value=-clr)
            params[i] += neg_clr * m[i] / u[i];
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
