//! `log(1 + x)` in `f64`, one value at a time ([`log1p`]) and four at a time with AVX2
//! ([`log1p_each`]), the same bits both ways: the logistic loss's `log(1 + exp(-|z|))`.
//!
//! # Algorithm
//! fdlibm's `log1p` (Sun Microsystems, 1993; the method and its constants), operation for
//! operation as glibc's `sysdeps/ieee754/dbl-64/s_log1p.c` is compiled for x86-64 CPUs with
//! FMA (its multiply-adds fused):
//! ```text
//! 1 + x = 2^k (1 + f),  sqrt(2)/2 < 1 + f < sqrt(2);   c = ((1 + x) - u) / u corrects u = fl(1 + x)
//! s = f / (2 + f),  z = s^2,  R = Lp1 z + Lp2 z^2 + ... + Lp7 z^7     (|error| < 2^-58.45)
//! log1p(x) = k ln2_hi - ((f^2/2 - (s (f^2/2 + R) + (k ln2_lo + c))) - f)
//! ```
//! with `x` itself below 2^-54 and `x - x²/2` below 2^-29. The error is below 1 ulp.
//!
//! Each step is one IEEE operation or one fused multiply-add, so the four-lane form, which
//! computes every case and selects, gives the scalar form's bits lane for lane; lanes
//! outside `[0, 1]` (the logistic loss never has them) go through the scalar form. On
//! glibc 2.36 on a CPU with FMA both equal the C library's `log1p` bit for bit (tested), so
//! the loss a run reports is what `f64::ln_1p` gave; elsewhere (no FMA, another C library)
//! they keep the loss the same on every machine, which `ln_1p` does not.

const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// `Lp1..Lp7`.
const LP: [f64; 7] = [
    f64::from_bits(0x3fe5_5555_5555_5593),
    f64::from_bits(0x3fd9_9999_9997_fa04),
    f64::from_bits(0x3fd2_4924_9422_9359),
    f64::from_bits(0x3fcc_71c5_1d8e_78af),
    f64::from_bits(0x3fc7_4664_96cb_03de),
    f64::from_bits(0x3fc3_9a09_d078_c69f),
    f64::from_bits(0x3fc2_f112_df3e_5244),
];
/// The high word of `sqrt(2) - 1` (0.41422): at and above it, `k = 1` on `[0, 1]`.
const SQRT2_M1_HIGH: u32 = 0x3fda_827a;
/// High words of 2^-29 and 2^-54.
const TWO_M29_HIGH: u32 = 0x3e20_0000;
const TWO_M54_HIGH: u32 = 0x3c90_0000;
/// `2/3` rounded to the nearest double, as the short form writes it.
const TWO_THIRDS: f64 = f64::from_bits(0x3fe5_5555_5555_5555);
/// Above this (in the mantissa's high 20 bits of `1 + x`, for `k = 1`), `|f| < 2^-20`.
const NEAR_TWO: u32 = 0xf_fffc;

fn high(x: f64) -> u32 {
    (x.to_bits() >> 32) as u32
}

fn with_high(x: f64, hi: u32) -> f64 {
    f64::from_bits((u64::from(hi) << 32) | (x.to_bits() & 0xffff_ffff))
}

/// The polynomial part for `k = 0` (`f = x`) and `k ≠ 0` (`ln2` and `c` added).
#[inline(always)]
fn general(f: f64, k: i32, c: f64) -> f64 {
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = polynomial(z);
    if k == 0 {
        f - (hfsq - s * (hfsq + r))
    } else {
        let k = f64::from(k);
        let inner = (hfsq - (s * (hfsq + r) + k.mul_add(LN2_LO, c))) - f;
        k.mul_add(LN2_HI, -inner)
    }
}

/// `R(z) = Lp1 z + Lp2 z^2 + ... + Lp7 z^7`, in pairs: `(Lp1 z + z^2 (Lp2 + Lp3 z)) + z^4
/// (Lp4 + Lp5 z) + z^6 (Lp6 + Lp7 z)`, with the multiply-adds fused.
#[inline(always)]
fn polynomial(z: f64) -> f64 {
    let z2 = z * z;
    let z4 = z2 * z2;
    let z6 = z4 * z2;
    let r2 = z.mul_add(LP[2], LP[1]);
    let r3 = z.mul_add(LP[4], LP[3]);
    let r4 = z.mul_add(LP[6], LP[5]);
    z6.mul_add(r4, z4.mul_add(r3, z.mul_add(LP[0], z2 * r2)))
}

/// `log(1 + x)`, within 1 ulp, for every `x` (`-inf` at -1, NaN below it).
pub fn log1p(x: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports FMA (checked just above).
        return unsafe { log1p_fma(x) };
    }
    log1p_inline(x)
}

/// [`log1p_inline`] with its multiply-adds as FMA instructions instead of calls to `fma`.
///
/// # Safety
/// The CPU must support FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn log1p_fma(x: f64) -> f64 {
    log1p_inline(x)
}

/// The body of [`log1p`].
#[inline(always)]
fn log1p_inline(x: f64) -> f64 {
    let hx = high(x);
    let ax = hx & 0x7fff_ffff;
    let negative = hx >> 31 == 1;
    if negative || hx < SQRT2_M1_HIGH {
        if negative && ax >= 0x3ff0_0000 {
            return if x == -1.0 {
                f64::NEG_INFINITY
            } else {
                f64::NAN
            };
        }
        if ax < TWO_M29_HIGH {
            return if ax < TWO_M54_HIGH {
                x
            } else {
                (-(x * x)).mul_add(0.5, x)
            };
        }
        if !negative || hx <= 0xbfd2_bec3 {
            // -0.2929 < x < 0.41422: k = 0, f = x exactly.
            return general(x, 0, 0.0);
        }
    } else if hx >= 0x7ff0_0000 {
        return x + x;
    }
    let (u, mut k, c) = if negative || hx < 0x4340_0000 {
        let u = 1.0 + x;
        let k = (high(u) >> 20) as i32 - 1023;
        let c = if k > 0 { 1.0 - (u - x) } else { x - (u - 1.0) };
        (u, k, c / u)
    } else {
        (x, (high(x) >> 20) as i32 - 1023, 0.0)
    };
    let top = high(u) & 0x000f_ffff;
    let (u, hu) = if top < 0x6_a09e {
        (with_high(u, top | 0x3ff0_0000), top)
    } else {
        // Normalise u / 2.
        k += 1;
        (with_high(u, top | 0x3fe0_0000), (0x0010_0000 - top) >> 2)
    };
    let f = u - 1.0;
    if hu == 0 {
        // |f| < 2^-20.
        let k = f64::from(k);
        if f == 0.0 {
            return if k == 0.0 {
                0.0
            } else {
                k.mul_add(LN2_HI, k.mul_add(LN2_LO, c))
            };
        }
        let r = 0.5 * f * f * (-f).mul_add(TWO_THIRDS, 1.0);
        return if k == 0.0 {
            f - r
        } else {
            k.mul_add(LN2_HI, -((r - k.mul_add(LN2_LO, c)) - f))
        };
    }
    general(f, k, c)
}

/// Replaces each `x` by [`log1p`]`(x)`, bit for bit, four at a time where the CPU has AVX2.
pub fn log1p_each(xs: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::log1p_each(xs) };
        return;
    }
    for x in xs {
        *x = log1p(*x);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::*;

    /// [`super::log1p_each`] with 256-bit vectors.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn log1p_each(xs: &mut [f64]) {
        let mut quads = xs.chunks_exact_mut(4);
        for quad in &mut quads {
            let p = quad.as_mut_ptr();
            // SAFETY: `quad` holds four f64s; unaligned loads and stores.
            unsafe {
                let x = _mm256_loadu_pd(p);
                match four(x) {
                    Some(y) => _mm256_storeu_pd(p, y),
                    None => quad.iter_mut().for_each(|x| *x = log1p(*x)),
                }
            }
        }
        for x in quads.into_remainder() {
            *x = log1p(*x);
        }
    }

    /// Four lanes of [`log1p`], or `None` if a lane is outside `[0, 1]` (or NaN).
    ///
    /// On `[0, 1]` the scalar form takes one of six paths, all computed here and selected
    /// per lane: `x` (below 2^-54), `x - x²/2` (below 2^-29), the polynomial with `k = 0`
    /// (below 0.41422), and for `k = 1` (where `u = fl(1 + x)` halves exactly to `1 + f`):
    /// `ln2 + c` when `u = 2`, the short form when `|f| < 2^-20`, the polynomial otherwise.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn four(x: __m256d) -> Option<__m256d> {
        let zero = _mm256_setzero_pd();
        let one = _mm256_set1_pd(1.0);
        let inside = _mm256_and_pd(
            _mm256_cmp_pd::<_CMP_GE_OQ>(x, zero),
            _mm256_cmp_pd::<_CMP_LE_OQ>(x, one),
        );
        if _mm256_movemask_pd(inside) != 0b1111 {
            return None;
        }
        let splat = |v: f64| _mm256_set1_pd(v);
        let words = |v: u32| _mm256_set1_epi64x(i64::from(v));
        // |x|'s high word (x is in [0, 1], so only -0 has its sign bit set).
        let ax = _mm256_and_si256(
            _mm256_srli_epi64::<32>(_mm256_castpd_si256(x)),
            words(0x7fff_ffff),
        );
        let below = |limit: u32| _mm256_castsi256_pd(_mm256_cmpgt_epi64(words(limit), ax));

        // k = 1: u = fl(1 + x) in [1.414, 2], 1 + f = u / 2 (exact: only the exponent moves).
        let u = _mm256_add_pd(one, x);
        let is_two = _mm256_cmp_pd::<_CMP_EQ_OQ>(u, splat(2.0));
        let c_two = _mm256_sub_pd(one, _mm256_sub_pd(u, x));
        let c_below = _mm256_sub_pd(x, _mm256_sub_pd(u, one));
        let c = _mm256_div_pd(_mm256_blendv_pd(c_below, c_two, is_two), u);
        let f1 = _mm256_sub_pd(_mm256_mul_pd(u, splat(0.5)), one);
        let hm = _mm256_and_si256(
            _mm256_srli_epi64::<32>(_mm256_castpd_si256(u)),
            words(0x000f_ffff),
        );
        let near_two = _mm256_castsi256_pd(_mm256_cmpgt_epi64(hm, words(NEAR_TWO)));

        let k0 = below(SQRT2_M1_HIGH);
        let f = _mm256_blendv_pd(f1, x, k0);

        // The polynomial, as `general` computes it.
        let hfsq = _mm256_mul_pd(_mm256_mul_pd(splat(0.5), f), f);
        let s = _mm256_div_pd(f, _mm256_add_pd(splat(2.0), f));
        let z = _mm256_mul_pd(s, s);
        let z2 = _mm256_mul_pd(z, z);
        let z4 = _mm256_mul_pd(z2, z2);
        let z6 = _mm256_mul_pd(z4, z2);
        let r2 = _mm256_fmadd_pd(z, splat(LP[2]), splat(LP[1]));
        let r3 = _mm256_fmadd_pd(z, splat(LP[4]), splat(LP[3]));
        let r4 = _mm256_fmadd_pd(z, splat(LP[6]), splat(LP[5]));
        let r = _mm256_fmadd_pd(z, splat(LP[0]), _mm256_mul_pd(z2, r2));
        let r = _mm256_fmadd_pd(z6, r4, _mm256_fmadd_pd(z4, r3, r));
        let s_part = _mm256_mul_pd(s, _mm256_add_pd(hfsq, r));
        let poly0 = _mm256_sub_pd(f, _mm256_sub_pd(hfsq, s_part));
        // k * ln2_lo + c and k * ln2_hi with k = 1.
        let lo_c = _mm256_add_pd(splat(LN2_LO), c);
        let poly1 = _mm256_sub_pd(
            splat(LN2_HI),
            _mm256_sub_pd(_mm256_sub_pd(hfsq, _mm256_add_pd(s_part, lo_c)), f),
        );
        // |f| < 2^-20 (k = 1): the short form.
        let short = _mm256_mul_pd(hfsq, _mm256_fnmadd_pd(f, splat(TWO_THIRDS), one));
        let short1 = _mm256_sub_pd(splat(LN2_HI), _mm256_sub_pd(_mm256_sub_pd(short, lo_c), f));
        // u = 2: f = 0, the result is ln2_hi + (c + ln2_lo).
        let two = _mm256_add_pd(splat(LN2_HI), _mm256_add_pd(c, splat(LN2_LO)));
        // Small x.
        let small = _mm256_fnmadd_pd(_mm256_mul_pd(x, x), splat(0.5), x);

        let mut y = _mm256_blendv_pd(poly1, short1, near_two);
        y = _mm256_blendv_pd(y, two, is_two);
        y = _mm256_blendv_pd(y, poly0, k0);
        y = _mm256_blendv_pd(y, small, below(TWO_M29_HIGH));
        y = _mm256_blendv_pd(y, x, below(TWO_M54_HIGH));
        Some(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Values on every path: the edges of each case, exact powers of two, ties of `1 + x`.
    fn edges() -> Vec<f64> {
        let mut xs = vec![0.0, -0.0, 1.0, f64::MIN_POSITIVE, 5e-324, 0.5, 0.25];
        for high in [TWO_M54_HIGH, TWO_M29_HIGH, SQRT2_M1_HIGH, 0x3ff0_0000] {
            let at = f64::from_bits(u64::from(high) << 32);
            for d in -3i64..=3 {
                xs.push(f64::from_bits((at.to_bits() as i64 + d) as u64));
            }
        }
        for d in 1..=8u64 {
            // Just below 1, where 1 + x rounds to 2 or stays below it.
            xs.push(f64::from_bits(1f64.to_bits() - d));
            // Where the mantissa of 1 + x passes 0xffffc.
            xs.push(f64::from_bits(0x3fef_fff8_0000_0000 + d * 0x1_0000_0000));
        }
        xs
    }

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| match i % 3 {
                // Uniform on [0, 1], on a log scale, and e^-|z| as the loss makes them.
                0 => rng.random::<f64>(),
                1 => 2f64.powf(-rng.random_range(0.0..1080.0)),
                _ => (-rng.random_range(0.0f64..40.0)).exp(),
            })
            .collect()
    }

    #[test]
    fn four_at_a_time_gives_the_scalar_bits() {
        let mut xs = edges();
        xs.extend(random(200_003, 7));
        let mut each = xs.clone();
        log1p_each(&mut each);
        for (x, y) in xs.iter().zip(&each) {
            assert_eq!(y.to_bits(), log1p(*x).to_bits(), "log1p({x:e})");
        }
    }

    #[test]
    fn lanes_outside_zero_to_one_take_the_scalar_form() {
        let mut xs = vec![
            0.5,
            -0.5,
            2.0,
            f64::NAN,
            f64::INFINITY,
            -1.0,
            -2.0,
            1e300,
            0.1,
        ];
        let expected: Vec<u64> = xs.iter().map(|&x| log1p(x).to_bits()).collect();
        log1p_each(&mut xs);
        assert_eq!(xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn equals_the_c_library_within_an_ulp_and_bit_for_bit_on_glibc() {
        let mut xs = edges();
        xs.extend(random(300_000, 11));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // The whole domain too: negative, large, special.
        xs.extend((0..100_000).map(|_| rng.random_range(-1.0..1e6)));
        xs.extend([-1.0, -0.999, 1e300, f64::INFINITY, f64::MAX, -1e-300]);
        // glibc picks its FMA build of `log1p` on CPUs with FMA, which these functions copy.
        #[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
        let glibc_with_fma = is_x86_feature_detected!("fma");
        #[cfg(not(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64")))]
        let glibc_with_fma = false;
        for x in xs {
            let (ours, libm) = (log1p(x), x.ln_1p());
            if glibc_with_fma {
                assert_eq!(
                    ours.to_bits(),
                    libm.to_bits(),
                    "log1p({x:e}): {ours:e} vs {libm:e}"
                );
            } else {
                let ulp = f64::from_bits(libm.abs().to_bits() + 1) - libm.abs();
                assert!(
                    (ours - libm).abs() <= ulp,
                    "log1p({x:e}): {ours:e} vs {libm:e}"
                );
            }
        }
        assert!(log1p(f64::NAN).is_nan() && log1p(-2.0).is_nan());
    }
}
