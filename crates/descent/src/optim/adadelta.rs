//! Adadelta: step sizes from the ratio of running RMS of updates and of gradients.

use serde::{Deserialize, Serialize};

use super::{
    check, check_non_negative, ensure_len, validate_lr, Definition, Optimizer, OptionInfo,
    MAXIMIZE, WEIGHT_DECAY,
};
use crate::{Float, Result};

/// Adadelta (Zeiler, 2012), as `torch.optim.Adadelta`.
///
/// # Algorithm
/// ```text
/// g <- -g                                          (if maximize)
/// g <- g + weight_decay * p                        (if weight_decay != 0)
/// v <- rho * v + (1 - rho) * g^2
/// delta <- sqrt(u + eps) / sqrt(v + eps) * g
/// u <- rho * u + (1 - rho) * delta^2
/// p <- p - lr * delta
/// ```
/// # Defaults
/// lr 1.0, rho 0.9, eps 1e-6, weight_decay 0, maximize false.
///
/// # Reference
/// Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012); `torch/optim/adadelta.py`,
/// `_single_tensor_adadelta`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adadelta {
    pub rho: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl Adadelta {
    /// torch's defaults.
    pub const DEFAULT: Adadelta = Adadelta {
        rho: 0.9,
        eps: 1e-6,
        weight_decay: 0.0,
        maximize: false,
    };
}

impl Default for Adadelta {
    fn default() -> Self {
        Adadelta::DEFAULT
    }
}

/// Adadelta's state: running averages of squared gradients (`v`) and squared updates (`u`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdadeltaState<F> {
    pub step: u64,
    pub square_avg: Vec<F>,
    pub acc_delta: Vec<F>,
}

impl Optimizer for Adadelta {
    type State<F: Float> = AdadeltaState<F>;
    const DEFINITION: Definition<Adadelta> = Definition {
        name: "adadelta",
        torch_name: Some("Adadelta"),
        summary: "steps from running RMS of the updates and of the gradients (Zeiler, 2012)",
        default_lr: 1.0,
        options: &[
            OptionInfo::float(
                "rho",
                Adadelta::DEFAULT.rho,
                "decay of the running averages",
            ),
            OptionInfo::float(
                "eps",
                Adadelta::DEFAULT.eps,
                "term added inside both square roots for numerical stability",
            ),
            OptionInfo::float("weight_decay", Adadelta::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool("maximize", Adadelta::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Adadelta {
                rho: o.float("rho")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check(
            "rho",
            self.rho,
            (0.0..=1.0).contains(&self.rho),
            "must be in [0, 1]",
        )?;
        check_non_negative("eps", self.eps)?;
        check_non_negative("weight_decay", self.weight_decay)
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut AdadeltaState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        ensure_len(&mut state.square_avg, n, F::zero());
        ensure_len(&mut state.acc_delta, n, F::zero());
        state.step += 1;
        let wd = F::of(self.weight_decay);
        let rho = F::of(self.rho);
        let w = F::of(1.0 - self.rho);
        let eps = F::of(self.eps);
        let neg_lr = F::of(-lr);
        let v = &mut state.square_avg[..n];
        let u = &mut state.acc_delta[..n];
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                g += wd * params[i];
            }
            // torch: square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
            v[i] = v[i] * rho + w * g * g;
            // torch: std = square_avg.add(eps).sqrt_(); delta = acc_delta.add(eps).sqrt_()
            //        delta.div_(std).mul_(grad)
            let delta = (u[i] + eps).sqrt() / (v[i] + eps).sqrt() * g;
            // torch: acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            u[i] = u[i] * rho + w * delta * delta;
            // torch: param.add_(delta, alpha=-lr)
            params[i] += neg_lr * delta;
        }
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
}
