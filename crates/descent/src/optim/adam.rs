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
    /// `1 / bc2_sqrt`, rounded ([`root_over`]).
    inv_bc2_sqrt: F,
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
            inv_bc2_sqrt: F::one() / F::of(bias_correction2_sqrt),
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
    /// amsgrad. `FMA`: divide by `bias_correction2_sqrt` with fused multiply-adds
    /// ([`root_over`]; the same bits), only where they are instructions.
    #[inline(always)]
    fn update<F: Float, const FMA: bool>(
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
            inv_bc2_sqrt,
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
                let denom = root_over::<F, FMA>(v.sqrt(), bc2_sqrt, inv_bc2_sqrt) + eps;
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
            let denom = root_over::<F, FMA>(second.sqrt(), bc2_sqrt, inv_bc2_sqrt) + eps;
            // torch: param.addcdiv_(exp_avg, denom, value=-step_size)
            params[i] += neg_step_size * m[i] / denom;
        }
    }
}

/// [`Adam::update`] with AVX-512 or AVX2, and FMA, where the CPU has them: wider vectors and
/// the division by `bias_correction2_sqrt` without a divider ([`root_over`]), the same bits
/// (as `Grouped`'s wide builds). Every Adam step goes through here.
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
                    adam.update::<F, true>(s, p, g, m, v, x);
                }
            };
        }
        build!(avx512, "avx512f,fma");
        build!(avx2, "avx2,fma");
        if std::arch::is_x86_feature_detected!("fma") {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F and FMA (checked just above).
                return unsafe { avx512(adam, s, params, grads, m, v, v_max) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { avx2(adam, s, params, grads, m, v, v_max) };
            }
        }
    }
    adam.update::<F, false>(s, params, grads, m, v, v_max);
}

/// `root / c`, rounded to nearest, for a square root `root` and `c` in `(0, 1]` with
/// `inv_c = 1 / c` rounded to nearest, the quotient finite.
///
/// With `FMA`, without a division: `q = root · inv_c`, then `q + (root - c q) · inv_c`, each
/// of the two in one fused multiply-add. By Markstein's theorem (Markstein 1990; Muller et
/// al., *Handbook of Floating-Point Arithmetic*, the theorem on division with one FMA
/// correction) this is the correctly rounded quotient when `inv_c` is the rounded reciprocal
/// and `q` is within one ulp of the quotient, barring underflow of `root - c q` (about an
/// ulp of `root`): the smallest positive square root, that of the smallest subnormal, is
/// 2^-74.5 in `f32` and 2^-537 in `f64`, far above where that underflows, so it holds for
/// every positive finite `root`. Zero, infinity and NaN are their own quotients and are
/// passed through. Tested against the division across the range of square
/// roots (`tests`); Adam's `sqrt(v) / bias_correction2_sqrt` spent most of a step on the
/// divider of CPUs whose divider is slow (a step over 10⁷ `f32` on AMD Zen 2). A multiply
/// fused with an add here is not the unfused product and sum: only `FMA` builds, whose
/// instructions fuse it in one rounding, take this path; the others divide.
#[inline(always)]
fn root_over<F: Float, const FMA: bool>(root: F, c: F, inv_c: F) -> F {
    if !FMA {
        return root / c;
    }
    let q = root * inv_c;
    let corrected = (-c).mul_add(q, root).mul_add(inv_c, q);
    if root > F::zero() && root < F::infinity() {
        corrected
    } else {
        root
    }
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
        update_wide(self, &scalars, params, &grads[..n], m, v, v_max);
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

    #[inline(always)] // as Adam's: a call into `update_wide`, which picks the build
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

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Adam's `bias_correction2_sqrt` over the first steps for a few `beta2`, and values
    /// anywhere in `(2^-27, 1]` (the smallest `1 - beta2` in `f64` is `2^-53`).
    fn divisors(rng: &mut ChaCha8Rng) -> Vec<f64> {
        let mut cs = vec![1.0];
        for beta2 in [0.999, 0.99, 0.9, 0.999_999] {
            for t in [1, 2, 3, 10, 100, 1000, 123_457] {
                cs.push((1.0 - f64::powf(beta2, t as f64)).sqrt());
            }
        }
        cs.extend((0..8).map(|_| 2f64.powf(-27.0 * rng.random::<f64>())));
        cs
    }

    #[test]
    fn root_over_is_the_division_for_every_square_root_f32() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // Every 61st float from the square root of the smallest subnormal to that of the
        // largest float (a one-off run checked every one of them for 34 divisors).
        let (low, high) = (
            f32::from_bits(1).sqrt().to_bits(),
            f32::MAX.sqrt().to_bits(),
        );
        let specials = [0.0, -0.0, f32::INFINITY, f32::NAN, f32::from_bits(low)];
        for c in divisors(&mut rng) {
            let c = c as f32;
            let inv = 1.0 / c;
            let roots = (low..=high).step_by(61).map(f32::from_bits);
            for root in roots.chain(specials) {
                let (want, got) = (root / c, root_over::<f32, true>(root, c, inv));
                assert_eq!(want.to_bits(), got.to_bits(), "{root:e} / {c:e}");
            }
        }
    }

    #[test]
    fn root_over_is_the_division_for_every_square_root_f64() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let (low, high) = (
            f64::from_bits(1).sqrt().to_bits(),
            f64::MAX.sqrt().to_bits(),
        );
        for c in divisors(&mut rng) {
            let inv = 1.0 / c;
            // Random bit patterns over the whole range, and over `[1, 4)` where the rounding
            // of the quotient is decided the same way at every scale.
            let mut roots: Vec<f64> = (0..400_000)
                .map(|_| f64::from_bits(rng.random_range(low..=high)))
                .collect();
            let unit = 1f64.to_bits()..4f64.to_bits();
            roots.extend((0..400_000).map(|_| f64::from_bits(rng.random_range(unit.clone()))));
            for root in roots
                .into_iter()
                .chain([0.0, -0.0, f64::INFINITY, f64::NAN])
            {
                let (want, got) = (root / c, root_over::<f64, true>(root, c, inv));
                assert_eq!(want.to_bits(), got.to_bits(), "{root:e} / {c:e}");
            }
        }
    }

    /// The same elements stepped with and without the fused division, over many steps
    /// (the divisor changes every step) and every branch of the update.
    fn steps_agree<F: Float>() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 4099;
        let configs = [
            Adam::DEFAULT,
            Adam {
                betas: (0.5, 0.99),
                eps: 0.0,
                ..Adam::DEFAULT
            },
            Adam {
                amsgrad: true,
                weight_decay: 0.01,
                ..Adam::DEFAULT
            },
            Adam {
                maximize: true,
                weight_decay: 0.1,
                decoupled_weight_decay: true,
                ..Adam::DEFAULT
            },
        ];
        for adam in configs {
            let start: Vec<F> = (0..n)
                .map(|_| F::of(rng.random::<f64>() * 4.0 - 2.0))
                .collect();
            let (mut p0, mut p1) = (start.clone(), start);
            let (mut s0, mut s1) = (AdamState::default(), AdamState::default());
            for step in 0..40 {
                // Gradients over many scales, with exact zeros.
                let g: Vec<F> = (0..n)
                    .map(|i| match (i + step) % 11 {
                        0 => F::zero(),
                        k => F::of((rng.random::<f64>() - 0.5) * 10f64.powi(4 * k as i32 - 24)),
                    })
                    .collect();
                for (p, s, fma) in [(&mut p0, &mut s0, false), (&mut p1, &mut s1, true)] {
                    let scalars = adam.begin(1e-3, n, s);
                    let (m, v, v_max) = adam.moments(s, n);
                    if fma {
                        adam.update::<F, true>(&scalars, p, &g, m, v, v_max);
                    } else {
                        adam.update::<F, false>(&scalars, p, &g, m, v, v_max);
                    }
                }
                let bits = |x: &[F]| x.iter().map(|v| v.f64().to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&p0), bits(&p1), "{adam:?}, step {step}");
                assert_eq!(bits(&s0.exp_avg_sq), bits(&s1.exp_avg_sq));
            }
        }
    }

    #[test]
    fn the_fused_division_steps_the_same_bits_f32() {
        steps_agree::<f32>();
    }

    #[test]
    fn the_fused_division_steps_the_same_bits_f64() {
        steps_agree::<f64>();
    }
}
