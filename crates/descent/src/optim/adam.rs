//! Adam and AdamW: bias-corrected first and second moment estimates.

use serde::{Deserialize, Serialize};

use super::{
    check_betas, check_non_negative, ensure_len, lerp, validate_lr, Definition, Optimizer,
    OptionInfo, EPS, MAXIMIZE, WEIGHT_DECAY,
};
use crate::{Float, Result};

/// Adam (Kingma & Ba, 2014), as `torch.optim.Adam`.
///
/// # Algorithm
/// ```text
/// g <- -g                                        (if maximize)
/// p <- p * (1 - lr * weight_decay)               (if weight_decay != 0 and decoupled_weight_decay)
/// g <- g + weight_decay * p                      (if weight_decay != 0 and not decoupled)
/// t <- t + 1
/// m <- m + (1 - beta1) * (g - m)                 (torch's lerp)
/// v <- beta2 * v + (1 - beta2) * g^2
/// v_max <- max(v_max, v); v <- v_max              (if amsgrad; v itself keeps the raw average)
/// p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// ```
/// # Defaults
/// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad false, maximize false,
/// decoupled_weight_decay false.
///
/// # Reference
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014); Reddi et al., "On the
/// Convergence of Adam and Beyond" (2018, amsgrad); `torch/optim/adam.py`, `_single_tensor_adam`.
///
/// # Example
/// ```
/// use descent::optim::{Adam, AdamState, Optimizer};
/// let (mut p, mut state) = (vec![0.0f64; 3], AdamState::default());
/// Adam::default().step(0.01, &mut p, &[1e-3, -5.0, 0.0], &mut state);
/// // The first step moves each parameter by about lr, whatever the size of its gradient.
/// assert!((p[0] + 0.01).abs() < 1e-6 && (p[1] - 0.01).abs() < 1e-9 && p[2] == 0.0);
/// assert_eq!(state.step, 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    pub decoupled_weight_decay: bool,
}

impl Adam {
    /// torch's defaults.
    pub const DEFAULT: Adam = Adam {
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.0,
        amsgrad: false,
        maximize: false,
        decoupled_weight_decay: false,
    };
}

impl Default for Adam {
    fn default() -> Self {
        Adam::DEFAULT
    }
}

/// The numbers of one Adam step that every element shares ([`Adam::begin`]).
#[derive(Clone, Copy)]
struct Scalars<F> {
    decoupled: bool,
    coupled: bool,
    decay: F,
    wd: F,
    w1: F,
    b2: F,
    w2: F,
    bc2_sqrt: F,
    eps: F,
    neg_step_size: F,
}

impl Adam {
    /// Starts a step over `n` elements: counts it, sizes the moment buffers, and works out
    /// the scalars every element's update uses.
    #[inline(always)]
    fn begin<F: Float>(&self, lr: f64, n: usize, state: &mut AdamState<F>) -> Scalars<F> {
        ensure_len(&mut state.exp_avg, n, F::zero());
        ensure_len(&mut state.exp_avg_sq, n, F::zero());
        if self.amsgrad {
            ensure_len(&mut state.max_exp_avg_sq, n, F::zero());
        }
        state.step += 1;
        let t = state.step as f64;
        let (beta1, beta2) = self.betas;
        // Scalars in f64 as torch's Python floats: `bias_correction1 = 1 - beta1 ** step`, ...
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let step_size = lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.sqrt();
        Scalars {
            decoupled: self.weight_decay != 0.0 && self.decoupled_weight_decay,
            coupled: self.weight_decay != 0.0 && !self.decoupled_weight_decay,
            decay: F::of(1.0 - lr * self.weight_decay),
            wd: F::of(self.weight_decay),
            w1: F::of(1.0 - beta1),
            b2: F::of(beta2),
            w2: F::of(1.0 - beta2),
            bc2_sqrt: F::of(bias_correction2_sqrt),
            eps: F::of(self.eps),
            neg_step_size: F::of(-step_size),
        }
    }

    /// The first `n` elements of the moment buffers (the running maximum empty without
    /// amsgrad).
    #[allow(clippy::type_complexity)]
    fn moments<'s, F: Float>(
        &self,
        state: &'s mut AdamState<F>,
        n: usize,
    ) -> (&'s mut [F], &'s mut [F], &'s mut [F]) {
        let AdamState {
            exp_avg,
            exp_avg_sq,
            max_exp_avg_sq,
            ..
        } = state;
        let v_max = if self.amsgrad {
            &mut max_exp_avg_sq[..n]
        } else {
            &mut max_exp_avg_sq[..0]
        };
        (&mut exp_avg[..n], &mut exp_avg_sq[..n], v_max)
    }

    /// Updates a run of elements (the whole group or any cut of it: each element's update
    /// depends on its own values and the step's scalars alone). `v_max` is empty without
    /// amsgrad.
    #[inline(always)]
    fn update<F: Float>(
        &self,
        s: &Scalars<F>,
        params: &mut [F],
        grads: &[F],
        m: &mut [F],
        v: &mut [F],
        v_max: &mut [F],
    ) {
        let Scalars {
            decoupled,
            coupled,
            decay,
            wd,
            w1,
            b2,
            w2,
            bc2_sqrt,
            eps,
            neg_step_size,
        } = *s;
        let n = params.len();
        let (grads, m, v) = (&grads[..n], &mut m[..n], &mut v[..n]);
        if !(self.amsgrad || self.maximize || decoupled || coupled) {
            // The common case as a branch-free loop over zipped slices, so that it vectorizes;
            // the same operations in the same order as the general loop below.
            for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m).zip(v) {
                *m = lerp(*m, g, w1);
                *v = *v * b2 + w2 * g * g;
                let denom = v.sqrt() / bc2_sqrt + eps;
                *p += neg_step_size * *m / denom;
            }
            return;
        }
        for i in 0..n {
            let mut g = if self.maximize { -grads[i] } else { grads[i] };
            if decoupled {
                // torch: param.mul_(1 - lr * weight_decay)
                params[i] *= decay;
            } else if coupled {
                // torch: grad = grad.add(param, alpha=weight_decay)
                g += wd * params[i];
            }
            // torch: exp_avg.lerp_(grad, 1 - beta1)
            m[i] = lerp(m[i], g, w1);
            // torch: exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            v[i] = v[i] * b2 + w2 * g * g;
            let second = if self.amsgrad {
                // torch: torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=max_exp_avg_sqs[i])
                if v[i] > v_max[i] {
                    v_max[i] = v[i];
                }
                v_max[i]
            } else {
                v[i]
            };
            // torch: denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            let denom = second.sqrt() / bc2_sqrt + eps;
            // torch: param.addcdiv_(exp_avg, denom, value=-step_size)
            params[i] += neg_step_size * m[i] / denom;
        }
    }
}

/// [`Adam::update`] with AVX-512 or AVX2 where the CPU has it: wider vectors, the same
/// operations in the same order, so the same bits (as `Grouped`'s wide builds).
fn update_wide<F: Float>(
    adam: &Adam,
    s: &Scalars<F>,
    params: &mut [F],
    grads: &[F],
    m: &mut [F],
    v: &mut [F],
    v_max: &mut [F],
) {
    #[cfg(target_arch = "x86_64")]
    {
        // `update` compiled for one instruction set (it is inlined into each).
        macro_rules! build {
            ($name:ident, $feature:literal) => {
                #[target_feature(enable = $feature)]
                unsafe fn $name<F: Float>(
                    adam: &Adam,
                    s: &Scalars<F>,
                    p: &mut [F],
                    g: &[F],
                    m: &mut [F],
                    v: &mut [F],
                    x: &mut [F],
                ) {
                    adam.update(s, p, g, m, v, x);
                }
            };
        }
        build!(avx512, "avx512f");
        build!(avx2, "avx2");
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512(adam, s, params, grads, m, v, v_max) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(adam, s, params, grads, m, v, v_max) };
        }
    }
    adam.update(s, params, grads, m, v, v_max);
}

/// Adam's state: step count and moment buffers (`max_exp_avg_sq` only with amsgrad).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdamState<F> {
    pub step: u64,
    pub exp_avg: Vec<F>,
    pub exp_avg_sq: Vec<F>,
    pub max_exp_avg_sq: Vec<F>,
}

impl Optimizer for Adam {
    type State<F: Float> = AdamState<F>;
    const DEFINITION: Definition<Adam> = Definition {
        name: "adam",
        torch_name: Some("Adam"),
        summary: "Adam (Kingma & Ba, 2014), optionally AMSGrad or decoupled weight decay",
        default_lr: 1e-3,
        options: &[
            OptionInfo::pair(
                "betas",
                Adam::DEFAULT.betas,
                "coefficients of the running averages of the gradient and its square",
            ),
            OptionInfo::float("eps", Adam::DEFAULT.eps, EPS),
            OptionInfo::float("weight_decay", Adam::DEFAULT.weight_decay, WEIGHT_DECAY),
            OptionInfo::bool(
                "amsgrad",
                Adam::DEFAULT.amsgrad,
                "the AMSGrad variant (running maximum of the second moment)",
            ),
            OptionInfo::bool("maximize", Adam::DEFAULT.maximize, MAXIMIZE),
            OptionInfo::bool(
                "decoupled_weight_decay",
                Adam::DEFAULT.decoupled_weight_decay,
                "decay the weights directly, as AdamW",
            ),
        ],
        config: |o| {
            Ok(Adam {
                betas: o.pair("betas")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
                amsgrad: o.bool("amsgrad")?,
                maximize: o.bool("maximize")?,
                decoupled_weight_decay: o.bool("decoupled_weight_decay")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        validate_lr(lr)?;
        check_non_negative("eps", self.eps)?;
        check_betas("betas", self.betas)?;
        check_non_negative("weight_decay", self.weight_decay)
    }

    // torch's denominator: `sqrt(v) / sqrt(1 - beta2^t) + eps` (v: the running maximum with
    // amsgrad).
    fn effective_steps<F: Float>(&self, lr: f64, state: &AdamState<F>) -> Option<Vec<f64>> {
        if state.step == 0 {
            return None;
        }
        let bc2_sqrt = (1.0 - self.betas.1.powf(state.step as f64)).sqrt();
        let v = if self.amsgrad {
            &state.max_exp_avg_sq
        } else {
            &state.exp_avg_sq
        };
        Some(
            v.iter()
                .map(|v| lr / (v.f64().sqrt() / bc2_sqrt + self.eps))
                .collect(),
        )
    }

    // Inlined so that the AVX-512 and AVX2 builds of `Grouped::step` compile this loop with
    // their wider vectors (a call would run the baseline build).
    #[inline(always)]
    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut AdamState<F>) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        let scalars = self.begin(lr, n, state);
        let (m, v, v_max) = self.moments(state, n);
        self.update(&scalars, params, &grads[..n], m, v, v_max);
    }

    fn step_on<F: Float>(
        &self,
        pool: &rayon::ThreadPool,
        parts: usize,
        lr: f64,
        params: &mut [F],
        grads: &[F],
        state: &mut AdamState<F>,
    ) {
        debug_assert_eq!(params.len(), grads.len());
        let n = params.len();
        let scalars = self.begin(lr, n, state);
        let (mut m, mut v, mut v_max) = self.moments(state, n);
        let (mut p, mut g) = (params, &grads[..n]);
        // Runs of whole cache lines (64 elements cover a line in f32 and in f64).
        let len = n.div_ceil(parts.max(1)).next_multiple_of(64);
        let mut blocks = Vec::with_capacity(parts);
        while !p.is_empty() {
            let k = len.min(p.len());
            let (p0, p1) = std::mem::take(&mut p).split_at_mut(k);
            let (g0, g1) = g.split_at(k);
            let (m0, m1) = std::mem::take(&mut m).split_at_mut(k);
            let (v0, v1) = std::mem::take(&mut v).split_at_mut(k);
            let kx = k.min(v_max.len()); // empty without amsgrad
            let (x0, x1) = std::mem::take(&mut v_max).split_at_mut(kx);
            blocks.push((p0, g0, m0, v0, x0));
            (p, g, m, v, v_max) = (p1, g1, m1, v1, x1);
        }
        crate::parallel::run_blocks(pool, blocks, |(p, g, m, v, x)| {
            update_wide(self, &scalars, p, g, m, v, x)
        });
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

/// AdamW (Loshchilov & Hutter, 2017), as `torch.optim.AdamW`: [`Adam`] with decoupled weight
/// decay, always on.
///
/// # Algorithm
/// ```text
/// p <- p * (1 - lr * weight_decay)
/// then the Adam update of [`Adam`] with the (possibly negated) raw gradient
/// ```
/// # Defaults
/// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2, amsgrad false, maximize false.
///
/// # Reference
/// Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2017); `torch/optim/adamw.py`
/// (a subclass of Adam with `decoupled_weight_decay=True`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamW {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
}

impl AdamW {
    /// torch's defaults.
    pub const DEFAULT: AdamW = AdamW {
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 1e-2,
        amsgrad: false,
        maximize: false,
    };
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW::DEFAULT
    }
}

impl AdamW {
    /// The equivalent [`Adam`] config.
    pub fn adam(&self) -> Adam {
        Adam {
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
            maximize: self.maximize,
            decoupled_weight_decay: true,
        }
    }
}

impl Optimizer for AdamW {
    type State<F: Float> = AdamState<F>;
    const DEFINITION: Definition<AdamW> = Definition {
        name: "adamw",
        torch_name: Some("AdamW"),
        summary: "Adam with decoupled weight decay (Loshchilov & Hutter, 2017)",
        default_lr: 1e-3,
        options: &[
            OptionInfo::pair(
                "betas",
                AdamW::DEFAULT.betas,
                "coefficients of the running averages of the gradient and its square",
            ),
            OptionInfo::float("eps", AdamW::DEFAULT.eps, EPS),
            OptionInfo::float(
                "weight_decay",
                AdamW::DEFAULT.weight_decay,
                "decoupled weight decay coefficient",
            ),
            OptionInfo::bool(
                "amsgrad",
                AdamW::DEFAULT.amsgrad,
                "the AMSGrad variant (running maximum of the second moment)",
            ),
            OptionInfo::bool("maximize", AdamW::DEFAULT.maximize, MAXIMIZE),
        ],
        config: |o| {
            Ok(AdamW {
                betas: o.pair("betas")?,
                eps: o.float("eps")?,
                weight_decay: o.float("weight_decay")?,
                amsgrad: o.bool("amsgrad")?,
                maximize: o.bool("maximize")?,
            })
        },
    };

    fn validate(&self, lr: f64) -> Result<()> {
        self.adam().validate(lr)
    }
    fn effective_steps<F: Float>(&self, lr: f64, state: &AdamState<F>) -> Option<Vec<f64>> {
        self.adam().effective_steps(lr, state)
    }

    #[inline(always)] // as Adam's, so that the wide builds of `Grouped::step` reach its loop
    fn step<F: Float>(&self, lr: f64, params: &mut [F], grads: &[F], state: &mut AdamState<F>) {
        self.adam().step(lr, params, grads, state);
    }
    fn step_on<F: Float>(
        &self,
        pool: &rayon::ThreadPool,
        parts: usize,
        lr: f64,
        params: &mut [F],
        grads: &[F],
        state: &mut AdamState<F>,
    ) {
        self.adam().step_on(pool, parts, lr, params, grads, state);
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
