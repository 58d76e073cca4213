//! Adagrad: per-element step sizes shrinking with the accumulated squared gradients.

use serde::{Deserialize, Serialize};

use super::{
    check_non_negative, ensure_len, validate_lr, Definition, Optimizer, OptionInfo, EPS, MAXIMIZE,
    WEIGHT_DECAY,
};
use crate::{Float, Result};

/// Adagrad (Duchi et al., 2011), as `torch.optim.Adagrad`.
///
/// # Algorithm
/// ```text
/// g <- -g                                  (if maximize)
/// g <- g + weight_decay * p                (if weight_decay != 0)
/// t <- t + 1
/// clr <- lr / (1 + (t - 1) * lr_decay)
/// sum <- sum + g^2                         (sum starts at initial_accumulator_value)
/// p <- p - clr * g / (sqrt(sum) + eps)
/// ```
/// # Defaults
/// lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps 1e-10, maximize false.
///
/// # Reference
/// Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
/// Optimization" (JMLR 2011); `torch/optim/adagrad.py`, `_single_tensor_adagrad`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adagrad {
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub initial_accumulator_value: f64,
    pub eps: f64,
    pub maximize: bool,
}

impl Adagrad {
    /// torch's defaults.
    pub const DEFAULT: Adagrad = Adagrad {
        lr_decay: 0.0,
        weight_decay: 0.0,
        initial_accumulator_value: 0.0,
        eps: 1e-10,
        maximize: false,
    };
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad::DEFAULT
    }
}

/// Adagrad's state: step count and the running sum of squared gradients.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdagradState<F> {
    pub step: u64,
    pub sum: Vec<F>,
}

impl Optimizer for Adagrad {
    type State<F: Float> = AdagradState<F>;
    const DEFINITION: Definition<Adagrad> = Definition {
        name: "adagrad",
        torch_name: Some("Adagrad"),
        summary: "per-element steps shrinking with the accumulated squared gradients",
        default_lr: 1e-2,
        options: &[
            OptionInfo::float("lr_decay", Adagrad::DEFAULT.lr_decay, "learning rate decay"),
            OptionInfo::float("weight_decay", Adagrad::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::float(
                "initial_accumulator_value",
                Adagrad::DEFAULT.initial_accumulator_value,
                "initial value of the sum of squared gradients",
            ),
            OptionInfo::float("eps", Adagrad::DEFAULT.eps, EPS),
            OptionInfo::bool("maximize", Adagrad::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Adagrad {
                lr_decay: o.float("lr_decay")?,
                weight_decay: o.float("weight_decay")?,
                initial_accumulator_value: o.float("initial_accumulator_value")?,
                eps: o.float("eps")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("lr_decay", self.lr_decay)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        check_non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check_non_negative("eps", self.eps)
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut AdagradState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        // torch: state["sum"] = torch.full_like(p, initial_accumulator_value)
        ensure_len(&mut state.sum, n, F::of(self.initial_accumulator_value));
        state.step += 1;
        // torch: clr = lr / (1 + (step - 1) * lr_decay)
        let clr = lr / (1.0 + (state.step as f64 - 1.0) * self.lr_decay);
        let neg_clr = F::of(-clr);
        let wd = F::of(self.weight_decay);
        let eps = F::of(self.eps);
        let sum = &mut state.sum[..n];
        for ((p, &g), s) in params.iter_mut().zip(grads).zip(sum.iter_mut()) {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                // torch: grad = grad.add(param, alpha=weight_decay)
                g += wd * *p;
            }
            // torch: state_sum.addcmul_(grad, grad, value=1)
            *s += g * g;
            // torch: std = state_sum.sqrt().add_(eps); param.addcdiv_(grad, std, value=-clr)
            let std = s.sqrt() + eps;
            *p += neg_clr * g / std;
        }
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
}
