//! Sign descent: a fixed-length step against the sign of each gradient element.

use serde::{Deserialize, Serialize};

use super::{
    check_non_negative, sign, validate_lr, Definition, Optimizer, OptionInfo, MAXIMIZE,
    WEIGHT_DECAY,
};
use crate::{Float, Result};

/// Fixed-step sign descent (not in torch; CLI name `sign`).
///
/// # Algorithm
/// ```text
/// g <- -g                              (if maximize)
/// g <- g + weight_decay * p            (if weight_decay != 0)
/// p <- p - lr * sign(g)                (sign(0) = 0)
/// ```
/// Every element moves by exactly `lr` (or not at all), whatever the gradient's scale: the
/// iterates end up oscillating within `lr` of a minimum unless the learning rate decays.
///
/// # Defaults
/// lr 1e-3, weight_decay 0, maximize false.
///
/// # Reference
/// Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex Problems" (ICML 2018);
/// Riedmiller & Braun (1993) for the adaptive variant, [`super::Rprop`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignDescent {
    pub weight_decay: f64,
    pub maximize: bool,
}

impl SignDescent {
    /// The defaults (as torch's SGD's).
    pub const DEFAULT: SignDescent = SignDescent {
        weight_decay: 0.0,
        maximize: false,
    };
}

impl Default for SignDescent {
    fn default() -> Self {
        SignDescent::DEFAULT
    }
}

/// Sign descent keeps only a step count.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SignDescentState<F> {
    pub step: u64,
    #[serde(skip)]
    _element: std::marker::PhantomData<F>,
}

impl Optimizer for SignDescent {
    type State<F: Float> = SignDescentState<F>;
    const DEFINITION: Definition<SignDescent> = Definition {
        name: "sign",
        torch_name: None,
        summary: "fixed-length steps against the sign of each gradient element (signSGD)",
        default_lr: 1e-3,
        options: &[
            OptionInfo::float(
                "weight_decay",
                SignDescent::DEFAULT.weight_decay,
                WEIGHT_DECAY,
            ),
            OptionInfo::bool("maximize", SignDescent::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(SignDescent {
                weight_decay: o.float("weight_decay")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("weight_decay", self.weight_decay)
    }

    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut Self::State<F>) {
        debug_assert_eq!(params.len(), grads.len());
        state.step += 1;
        let neg_lr = F::of(-lr);
        let wd = F::of(self.weight_decay);
        for (p, &g) in params.iter_mut().zip(grads) {
            let mut g = if self.maximize { -g } else { g };
            if self.weight_decay != 0.0 {
                g += wd * *p;
            }
            *p += neg_lr * sign(g);
        }
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay
    }
    fn set_weight_decay(&mut self, weight_decay: f64) {
        self.weight_decay = weight_decay;
    }
}
