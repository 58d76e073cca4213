//! ASGD: SGD with a decaying step and a running (Polyak-Ruppert) average of the iterates.

use serde::{Deserialize, Serialize};

use super::{
    check_non_negative, ensure_len, validate_lr, Definition, Optimizer, OptionInfo, MAXIMIZE,
    WEIGHT_DECAY,
};
use crate::{Float, Result};

/// Averaged SGD (Polyak & Juditsky, 1992), as `torch.optim.ASGD`.
///
/// # Algorithm
/// ```text
/// g <- -g                                      (if maximize)
/// g <- g + weight_decay * p                    (if weight_decay != 0)
/// t <- t + 1
/// p <- p * (1 - lambd * eta)
/// p <- p - eta * g
/// ax <- p                if mu == 1
/// ax <- ax + mu (p - ax) otherwise
/// eta <- lr / (1 + lambd * lr * t)^alpha       (for the next step; eta starts at lr)
/// mu  <- 1 / max(1, t - t0)
/// ```
/// The averaged parameters `ax` are what [`Optimizer::averaged`] returns.
///
/// # Defaults
/// lr 1e-2, lambd 1e-4, alpha 0.75, t0 1e6, weight_decay 0, maximize false.
///
/// # Reference
/// Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging" (1992);
/// `torch/optim/asgd.py`, `_single_tensor_asgd`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Asgd {
    pub lambd: f64,
    pub alpha: f64,
    pub t0: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl Asgd {
    /// torch's defaults.
    pub const DEFAULT: Asgd = Asgd {
        lambd: 1e-4,
        alpha: 0.75,
        t0: 1e6,
        weight_decay: 0.0,
        maximize: false,
    };
}

impl Default for Asgd {
    fn default() -> Self {
        Asgd::DEFAULT
    }
}

/// ASGD's state. `eta` and `mu` are scalars kept in f64, as torch keeps them in the default
/// (float64) scalar dtype.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AsgdState<F> {
    pub step: u64,
    pub eta: f64,
    pub mu: f64,
    pub ax: Vec<F>,
}

impl Optimizer for Asgd {
    type State<F: Float> = AsgdState<F>;
    const DEFINITION: Definition<Asgd> = Definition {
        name: "asgd",
        torch_name: Some("ASGD"),
        summary:
            "SGD with a decaying step and an average of the iterates (Polyak & Juditsky, 1992)",
        default_lr: 1e-2,
        options: &[
            OptionInfo::float("lambd", Asgd::DEFAULT.lambd, "decay term"),
            OptionInfo::float("alpha", Asgd::DEFAULT.alpha, "power of the eta update"),
            OptionInfo::float("t0", Asgd::DEFAULT.t0, "step at which averaging starts"),
            OptionInfo::float("weight_decay", Asgd::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool("maximize", Asgd::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Asgd {
                lambd: o.float("lambd")?,
                alpha: o.float("alpha")?,
                t0: o.float("t0")?,
                weight_decay: o.float("weight_decay")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("weight_decay", self.weight_decay)
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut AsgdState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        if state.step == 0 {
            // torch: state["eta"] = lr, state["mu"] = 1, state["ax"] = zeros_like(p)
            state.eta = lr;
            state.mu = 1.0;
        }
        ensure_len(&mut state.ax, n, F::zero());
        state.step += 1;
        let eta = state.eta;
        let wd = F::of(self.weight_decay);
        let decay = F::of(1.0 - self.lambd * eta);
        let neg_eta = F::of(-eta);
        let averaging = state.mu != 1.0;
        let mu = F::of(state.mu);
        let ax = &mut state.ax[..n];
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if self.weight_decay != 0.0 {
                g += wd * params[i];
            }
            // torch: param.mul_(1 - lambd * eta_value); param.add_(grad, alpha=-eta_value)
            params[i] *= decay;
            params[i] += neg_eta * g;
            ax[i] = if averaging {
                // torch: ax.add_(param.sub(ax).mul_(mu))
                ax[i] + (params[i] - ax[i]) * mu
            } else {
                params[i]
            };
        }
        let t = state.step as f64;
        // torch: new_eta = lr / ((1 + lambd * lr * step) ** alpha); new_mu = 1 / max(1, step - t0)
        state.eta = lr / (1.0 + self.lambd * lr * t).powf(self.alpha);
        state.mu = 1.0 / (t - self.t0).max(1.0);
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
    fn averaged<F: Float>(state: &AsgdState<F>) -> Option<&[F]> {
        Some(&state.ax)
    }
}
