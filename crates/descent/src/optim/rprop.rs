//! Rprop: per-element step sizes adapted from the sign agreement of successive gradients.

use serde::{Deserialize, Serialize};

use super::{check, ensure_len, sign, validate_lr, Definition, Optimizer, OptionInfo, MAXIMIZE};
use crate::{Float, Result};

/// Resilient backpropagation (Riedmiller & Braun, 1993), as `torch.optim.Rprop`.
///
/// # Algorithm
/// ```text
/// g <- -g                                          (if maximize)
/// s <- sign(g * prev)
/// f <- etaplus if s > 0, etaminus if s < 0, 1 if s == 0
/// step_size <- clamp(step_size * f, step_size_min, step_size_max)   (starts at lr)
/// g <- 0 where f == etaminus                       (after a sign change: no move)
/// p <- p - sign(g) * step_size
/// prev <- g
/// ```
/// The learning rate only sets the initial step sizes; later steps ignore it, as in torch.
///
/// # Defaults
/// lr 1e-2, etas (0.5, 1.2), step_sizes (1e-6, 50), maximize false.
///
/// # Reference
/// Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP
/// Algorithm" (1993); `torch/optim/rprop.py`, `_single_tensor_rprop`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rprop {
    pub etas: (f64, f64),
    pub step_sizes: (f64, f64),
    pub maximize: bool,
}

impl Rprop {
    /// torch's defaults.
    pub const DEFAULT: Rprop = Rprop {
        etas: (0.5, 1.2),
        step_sizes: (1e-6, 50.0),
        maximize: false,
    };
}

impl Default for Rprop {
    fn default() -> Self {
        Rprop::DEFAULT
    }
}

/// Rprop's state: the previous (masked) gradient and the per-element step sizes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RpropState<F> {
    pub step: u64,
    pub prev: Vec<F>,
    pub step_size: Vec<F>,
}

impl Optimizer for Rprop {
    type State<F: Float> = RpropState<F>;
    const DEFINITION: Definition<Rprop> = Definition {
        name: "rprop",
        torch_name: Some("Rprop"),
        summary: "per-element step sizes from sign agreement of successive gradients",
        default_lr: 1e-2,
        options: &[
            OptionInfo::pair(
                "etas",
                Rprop::DEFAULT.etas,
                "multiplicative decrease and increase factors (etaminus, etaplus)",
            ),
            OptionInfo::pair(
                "step_sizes",
                Rprop::DEFAULT.step_sizes,
                "minimal and maximal step sizes",
            ),
            OptionInfo::bool("maximize", Rprop::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(Rprop {
                etas: o.pair("etas")?,
                step_sizes: o.pair("step_sizes")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        let (etaminus, etaplus) = self.etas;
        check(
            "etas.0",
            etaminus,
            0.0 < etaminus && etaminus < 1.0,
            "must be in (0, 1)",
        )?;
        check("etas.1", etaplus, etaplus > 1.0, "must be > 1")?;
        let (lo, hi) = self.step_sizes;
        check("step_sizes.0", lo, lo >= 0.0, "must be >= 0")?;
        check("step_sizes.1", hi, hi >= lo, "must be >= step_sizes.0")
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut RpropState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        ensure_len(&mut state.prev, n, F::zero());
        // torch: state["step_size"] = torch.full_like(grad, lr)
        ensure_len(&mut state.step_size, n, F::of(lr));
        state.step += 1;
        let etaminus = F::of(self.etas.0);
        let etaplus = F::of(self.etas.1);
        let lo = F::of(self.step_sizes.0);
        let hi = F::of(self.step_sizes.1);
        let prev = &mut state.prev[..n];
        let step_size = &mut state.step_size[..n];
        for i in 0..n {
            let g = if self.maximize { -grads[i] } else { grads[i] };
            // torch: sign = grad.mul(prev).sign(); sign[sign.gt(0)] = etaplus; ...
            let s = g * prev[i];
            let factor = if s > F::zero() {
                etaplus
            } else if s < F::zero() {
                etaminus
            } else {
                F::one()
            };
            // torch: step_size.mul_(sign).clamp_(step_size_min, step_size_max)
            step_size[i] = (step_size[i] * factor).max(lo).min(hi);
            // torch: grad[sign.eq(etaminus)] = 0
            let g = if factor == etaminus { F::zero() } else { g };
            // torch: param.addcmul_(grad.sign(), step_size, value=-1)
            params[i] += -sign(g) * step_size[i];
            prev[i] = g;
        }
    }

    /// Rprop has no weight decay.
    fn weight_decay(&self) -> f64 {
        0.0
    }
    /// Ignored: Rprop has no weight decay (torch ignores unknown param-group keys too).
    fn set_weight_decay(&mut self, _weight_decay: f64) {}
}
