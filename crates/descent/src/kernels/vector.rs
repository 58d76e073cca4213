//! The vector loops of the tape-free kernels: dot products, axpys, and walks over rows with
//! the next ones prefetched.
//!
//! The dot product and the axpy have a portable form and an AVX2 form (`avx2`), chosen by
//! the caller. Both do the same operations in the same order (the dot product's grouping into
//! eight running sums is fixed here, and no multiply is fused with an add), so both give the
//! same bits; the AVX2 form uses explicit 256-bit vectors, which the compiler does not
//! reliably pick for the reduction on its own.

use ndarray::ArrayView2;

use crate::Float;

/// `Σ a_i b_i` with eight independent accumulators, so that it vectorizes (the grouping is
/// fixed here, so the result does not depend on the instruction set).
///
/// The running sums start from the first block's products, not from zero plus them: `0 + p`
/// is `p` except that it turns `-0` into `+0`, so each sum is the one started from zero or
/// a zero of the other sign where that one is a zero, and the last addition, of the tail's
/// sum (which starts from `+0` and so is never `-0`), turns either zero into `+0`. The
/// result is therefore the bits of sums started from zero, with one addition fewer on the
/// chain that a per-sample loop waits on (tested: `zero_signs_never_reach_the_dot`).
#[inline(always)]
pub(crate) fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [F::zero(); 8];
    let (mut ac, mut bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    if let (Some(x), Some(y)) = (ac.next(), bc.next()) {
        for k in 0..8 {
            acc[k] = x[k] * y[k];
        }
    }
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = F::zero();
    for (x, y) in ar.iter().zip(br) {
        tail += *x * *y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Whether `F` is `T` (known at compile time: the branches on it fold away).
#[inline(always)]
pub(crate) fn is<F: 'static, T: 'static>() -> bool {
    std::any::TypeId::of::<F>() == std::any::TypeId::of::<T>()
}

/// Asks the memory system for `row` ahead of its use: rows of a shuffled batch come from
/// random places in a large table, where the hardware cannot guess the next address.
#[inline]
pub(crate) fn prefetch<F>(row: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = std::mem::size_of_val(row);
        let base = row.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: prefetching is a hint that never faults, and every address is inside
            // `row`.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    base.add(offset),
                );
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// How many rows ahead of its use a row is prefetched (a row of a shuffled batch is a random
/// place in a table much larger than the caches). Four rows of 100 f32 are about 28 cache
/// lines in flight, near what one core can have outstanding; 8 and 16 measured no faster.
const PREFETCH_ROWS: usize = 4;

/// The rows `rows` of the row-major table `flat` (`n_in` columns), in order, each with its
/// number, the later ones prefetched together with their targets in `y`: the first is read
/// at once, and row `i + PREFETCH_ROWS` is asked for when row `i` is handed out. `after` are
/// the rows read next (the next chunk of a batch): the last rows of `rows` ask for its first
/// ones, so that the next walk does not start on an empty pipeline.
///
/// The targets matter as much as the features: a row's loss needs its target right after
/// its dot product, and a target table of a million rows is as far from the core as the
/// features (one unprefetched target per row held P2 at half its speed).
#[inline(always)]
pub(crate) fn prefetched_rows<'a, F>(
    flat: &'a [F],
    n_in: usize,
    y: ArrayView2<'a, F>,
    rows: &'a [usize],
    after: &'a [usize],
) -> impl Iterator<Item = (usize, &'a [F])> + 'a {
    let row_of = move |r: usize| &flat[r * n_in..(r + 1) * n_in];
    let ask = move |r: usize| {
        prefetch(row_of(r));
        prefetch_target(y, r);
    };
    for &r in rows.iter().take(PREFETCH_ROWS) {
        ask(r);
    }
    rows.iter().enumerate().map(move |(i, &r)| {
        let ahead = i + PREFETCH_ROWS;
        if let Some(&next) = rows.get(ahead).or_else(|| after.get(ahead - rows.len())) {
            ask(next);
        }
        (r, row_of(r))
    })
}

/// Prefetches row `r` of the targets `y` (its first element where the row is not
/// contiguous); nothing for a row `y` does not have.
#[inline(always)]
fn prefetch_target<F>(y: ArrayView2<'_, F>, r: usize) {
    if r >= y.nrows() || y.ncols() == 0 {
        return;
    }
    let row = y.row(r);
    match row.to_slice() {
        Some(s) => prefetch(s),
        None => prefetch(std::slice::from_ref(&row[0])),
    }
}

/// `y += alpha x`, eight elements at a time: each chunk is loaded into registers before it is
/// stored, so the compiler can vectorize it without proving that `x` and `y` do not overlap.
#[inline(always)]
pub(crate) fn axpy<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    let mut yc = y.chunks_exact_mut(8);
    let mut xc = x.chunks_exact(8);
    for (yv, xv) in (&mut yc).zip(&mut xc) {
        let mut ys = [F::zero(); 8];
        for k in 0..8 {
            ys[k] = yv[k] + alpha * xv[k];
        }
        yv.copy_from_slice(&ys);
    }
    for (yi, &xi) in yc.into_remainder().iter_mut().zip(xc.remainder()) {
        *yi += alpha * xi;
    }
}

/// `y = alpha x` (the first row of a chunk: no zeroing pass before the axpys).
#[inline(always)]
pub(crate) fn scale_into<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = alpha * xi;
    }
}

/// `w += neg_lr (dz x)`: a plain gradient step along a one-row gradient `dz x`, rounded as
/// the gradient buffer would round it (`g = dz x` first, then `w + neg_lr g`), without the
/// buffer.
#[inline(always)]
pub(crate) fn step_along<F: Float>(neg_lr: F, dz: F, x: &[F], w: &mut [F]) {
    let n = x.len().min(w.len());
    let (x, w) = (&x[..n], &mut w[..n]);
    let mut wc = w.chunks_exact_mut(8);
    let mut xc = x.chunks_exact(8);
    for (wv, xv) in (&mut wc).zip(&mut xc) {
        let mut ws = [F::zero(); 8];
        for k in 0..8 {
            ws[k] = wv[k] + neg_lr * (dz * xv[k]);
        }
        wv.copy_from_slice(&ws);
    }
    for (wi, &xi) in wc.into_remainder().iter_mut().zip(xc.remainder()) {
        *wi += neg_lr * (dz * xi);
    }
}

/// The AVX2 forms for `f32` and `f64` (other element types would fall back to the portable
/// loops; the library has only these two).
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;

    use super::is;
    use crate::Float;

    /// [`super::dot`] with 256-bit vectors.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn dot<F: Float>(a: &[F], b: &[F]) -> F {
        let n = a.len().min(b.len());
        if is::<F, f64>() {
            // SAFETY: F is f64 (checked), so the slices reinterpret exactly.
            let (a, b) = unsafe { (cast::<F, f64>(&a[..n]), cast::<F, f64>(&b[..n])) };
            F::of(dot_f64(a, b))
        } else if is::<F, f32>() {
            // SAFETY: F is f32 (checked).
            let (a, b) = unsafe { (cast::<F, f32>(&a[..n]), cast::<F, f32>(&b[..n])) };
            F::of(f64::from(dot_f32(a, b)))
        } else {
            super::dot(a, b)
        }
    }

    /// [`super::axpy`] with 256-bit vectors.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn axpy<F: Float>(alpha: F, x: &[F], y: &mut [F]) {
        let n = x.len().min(y.len());
        if is::<F, f64>() {
            // SAFETY: F is f64 (checked).
            let (x, y) = unsafe { (cast::<F, f64>(&x[..n]), cast_mut::<F, f64>(&mut y[..n])) };
            axpy_f64(alpha.f64(), x, y);
        } else if is::<F, f32>() {
            // SAFETY: F is f32 (checked); `alpha` is an f32, so the round trip is exact.
            let (x, y) = unsafe { (cast::<F, f32>(&x[..n]), cast_mut::<F, f32>(&mut y[..n])) };
            axpy_f32(alpha.f64() as f32, x, y);
        } else {
            super::axpy(alpha, x, y);
        }
    }

    /// [`super::step_along`] with 256-bit vectors.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn step_along<F: Float>(neg_lr: F, dz: F, x: &[F], w: &mut [F]) {
        let n = x.len().min(w.len());
        if is::<F, f64>() {
            // SAFETY: F is f64 (checked).
            let (x, w) = unsafe { (cast::<F, f64>(&x[..n]), cast_mut::<F, f64>(&mut w[..n])) };
            step_along_f64(neg_lr.f64(), dz.f64(), x, w);
        } else if is::<F, f32>() {
            // SAFETY: F is f32 (checked); both factors are f32, so the round trips are exact.
            let (x, w) = unsafe { (cast::<F, f32>(&x[..n]), cast_mut::<F, f32>(&mut w[..n])) };
            step_along_f32(neg_lr.f64() as f32, dz.f64() as f32, x, w);
        } else {
            super::step_along(neg_lr, dz, x, w);
        }
    }

    /// [`step_along`] and then [`dot`] of the new `w` with `next`, the same bits as the two
    /// calls; for `f64`, in one pass: each new block of `w` is multiplied into the dot
    /// product from registers, not reloaded from the store just made (a per-sample loop
    /// waits on exactly this: the next row's dot product needs the whole step).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn step_then_dot<F: Float>(
        neg_lr: F,
        dz: F,
        x: &[F],
        w: &mut [F],
        next: &[F],
    ) -> F {
        let n = x.len().min(w.len()).min(next.len());
        if is::<F, f64>() {
            // SAFETY: F is f64 (checked).
            let (x, w, next) = unsafe {
                (
                    cast::<F, f64>(&x[..n]),
                    cast_mut::<F, f64>(&mut w[..n]),
                    cast::<F, f64>(&next[..n]),
                )
            };
            F::of(step_then_dot_f64(neg_lr.f64(), dz.f64(), x, w, next))
        } else {
            // SAFETY: the caller's contract.
            unsafe {
                step_along(neg_lr, dz, &x[..n], &mut w[..n]);
                dot(&w[..n], &next[..n])
            }
        }
    }

    /// [`step_along_f64`] then [`dot_f64`]`(w, next)` in one pass: the step's blocks of four,
    /// then its scalar tail; the dot product's running sums over blocks of eight and its
    /// scalar tail, added as `dot_f64` adds them.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn step_then_dot_f64(neg_lr: f64, dz: f64, x: &[f64], w: &mut [f64], next: &[f64]) -> f64 {
        let n = x.len().min(w.len()).min(next.len());
        let full8 = n / 8 * 8;
        let (a, d) = (_mm256_set1_pd(neg_lr), _mm256_set1_pd(dz));
        // Steps the block at `i` and returns its two halves' products with `next`.
        let block = |i: usize, w: &mut [f64]| {
            debug_assert!(i + 8 <= full8);
            // SAFETY: i + 8 <= full8 <= n, the length of the three slices.
            unsafe {
                let (pw, px, pn) = (
                    w.as_mut_ptr().add(i),
                    x.as_ptr().add(i),
                    next.as_ptr().add(i),
                );
                let g0 = _mm256_mul_pd(d, _mm256_loadu_pd(px));
                let g1 = _mm256_mul_pd(d, _mm256_loadu_pd(px.add(4)));
                let w0 = _mm256_add_pd(_mm256_loadu_pd(pw), _mm256_mul_pd(a, g0));
                let w1 = _mm256_add_pd(_mm256_loadu_pd(pw.add(4)), _mm256_mul_pd(a, g1));
                _mm256_storeu_pd(pw, w0);
                _mm256_storeu_pd(pw.add(4), w1);
                (
                    _mm256_mul_pd(w0, _mm256_loadu_pd(pn)),
                    _mm256_mul_pd(w1, _mm256_loadu_pd(pn.add(4))),
                )
            }
        };
        // The running sums start from the first block's products, as `dot_f64`'s.
        let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        if full8 > 0 {
            (lo, hi) = block(0, w);
        }
        for i in (8..full8).step_by(8) {
            let (p0, p1) = block(i, w);
            lo = _mm256_add_pd(lo, p0);
            hi = _mm256_add_pd(hi, p1);
        }
        // The step's last block of four and its scalar tail (`full8` is a multiple of four).
        step_along_f64(neg_lr, dz, &x[full8..n], &mut w[full8..n]);
        sum_f64(lo, hi, &w[full8..n], &next[full8..n])
    }

    /// The scalar tail of a dot product, `((0 + a_0 b_0) + a_1 b_1) + …` in order, with
    /// the products taken four at a time (each rounds on its own, so the bits are the
    /// scalar loop's): fewer instructions than the loop the compiler makes of it.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn tail_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let mut tail = 0.0f32;
        let mut i = 0;
        while i + 4 <= n {
            let mut p = [0.0f32; 4];
            // SAFETY: i + 4 <= n, the length of both slices; `p` holds four f32.
            unsafe {
                let v = _mm_mul_ps(
                    _mm_loadu_ps(a.as_ptr().add(i)),
                    _mm_loadu_ps(b.as_ptr().add(i)),
                );
                _mm_storeu_ps(p.as_mut_ptr(), v);
            }
            tail = (((tail + p[0]) + p[1]) + p[2]) + p[3];
            i += 4;
        }
        for (x, y) in a[i..n].iter().zip(&b[i..n]) {
            tail += x * y;
        }
        tail
    }

    /// [`tail_f32`] for `f64`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn tail_f64(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().min(b.len());
        let mut tail = 0.0f64;
        let mut i = 0;
        while i + 4 <= n {
            let mut p = [0.0f64; 4];
            // SAFETY: i + 4 <= n, the length of both slices; `p` holds four f64.
            unsafe {
                let v = _mm256_mul_pd(
                    _mm256_loadu_pd(a.as_ptr().add(i)),
                    _mm256_loadu_pd(b.as_ptr().add(i)),
                );
                _mm256_storeu_pd(p.as_mut_ptr(), v);
            }
            tail = (((tail + p[0]) + p[1]) + p[2]) + p[3];
            i += 4;
        }
        for (x, y) in a[i..n].iter().zip(&b[i..n]) {
            tail += x * y;
        }
        tail
    }

    unsafe fn cast<F, T>(s: &[F]) -> &[T] {
        // SAFETY: the caller checked that F and T are the same type.
        unsafe { std::slice::from_raw_parts(s.as_ptr().cast(), s.len()) }
    }

    unsafe fn cast_mut<F, T>(s: &mut [F]) -> &mut [T] {
        // SAFETY: the caller checked that F and T are the same type.
        unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast(), s.len()) }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().min(b.len());
        let full = n / 8 * 8;
        // Running sums 0..4 in `lo`, 4..8 in `hi`: the portable form's `acc[k]`, started
        // from the first block's products as there.
        let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        if full > 0 {
            // SAFETY: 8 <= full <= n, the length of both slices.
            unsafe {
                let (pa, pb) = (a.as_ptr(), b.as_ptr());
                lo = _mm256_mul_pd(_mm256_loadu_pd(pa), _mm256_loadu_pd(pb));
                hi = _mm256_mul_pd(_mm256_loadu_pd(pa.add(4)), _mm256_loadu_pd(pb.add(4)));
            }
        }
        for i in (8..full).step_by(8) {
            // SAFETY: i + 8 <= full <= n, the length of both slices.
            unsafe {
                let (pa, pb) = (a.as_ptr().add(i), b.as_ptr().add(i));
                lo = _mm256_add_pd(lo, _mm256_mul_pd(_mm256_loadu_pd(pa), _mm256_loadu_pd(pb)));
                hi = _mm256_add_pd(
                    hi,
                    _mm256_mul_pd(_mm256_loadu_pd(pa.add(4)), _mm256_loadu_pd(pb.add(4))),
                );
            }
        }
        sum_f64(lo, hi, &a[full..n], &b[full..n])
    }

    /// The end of [`dot_f64`]: the running sums `lo` (0..4) and `hi` (4..8) added as the
    /// portable form adds its `acc[k]`, then the dot product of the tails `a`, `b`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn sum_f64(lo: __m256d, hi: __m256d, a: &[f64], b: &[f64]) -> f64 {
        let mut s = [0.0f64; 4];
        // SAFETY: `s` holds four f64.
        unsafe { _mm256_storeu_pd(s.as_mut_ptr(), _mm256_add_pd(lo, hi)) };
        let tail = tail_f64(a, b);
        (s[0] + s[1]) + (s[2] + s[3]) + tail
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let full = n / 8 * 8;
        // Started from the first block's products, as the portable form's `acc`.
        let mut acc = _mm256_setzero_ps();
        if full > 0 {
            // SAFETY: 8 <= full <= n.
            acc =
                unsafe { _mm256_mul_ps(_mm256_loadu_ps(a.as_ptr()), _mm256_loadu_ps(b.as_ptr())) };
        }
        for i in (8..full).step_by(8) {
            // SAFETY: i + 8 <= full <= n.
            unsafe {
                let (pa, pb) = (a.as_ptr().add(i), b.as_ptr().add(i));
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(pa), _mm256_loadu_ps(pb)));
            }
        }
        let mut s = [0.0f32; 8];
        // SAFETY: `s` holds eight f32.
        unsafe { _mm256_storeu_ps(s.as_mut_ptr(), acc) };
        let tail = tail_f32(&a[full..n], &b[full..n]);
        ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn axpy_f64(alpha: f64, x: &[f64], y: &mut [f64]) {
        let n = x.len().min(y.len());
        let full = n / 4 * 4;
        let a = _mm256_set1_pd(alpha);
        for i in (0..full).step_by(4) {
            // SAFETY: i + 4 <= full <= n, the length of both slices.
            unsafe {
                let py = y.as_mut_ptr().add(i);
                let v = _mm256_add_pd(
                    _mm256_loadu_pd(py),
                    _mm256_mul_pd(a, _mm256_loadu_pd(x.as_ptr().add(i))),
                );
                _mm256_storeu_pd(py, v);
            }
        }
        for (yi, &xi) in y[full..n].iter_mut().zip(&x[full..n]) {
            *yi += alpha * xi;
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let full = n / 8 * 8;
        let a = _mm256_set1_ps(alpha);
        for i in (0..full).step_by(8) {
            // SAFETY: i + 8 <= full <= n.
            unsafe {
                let py = y.as_mut_ptr().add(i);
                let v = _mm256_add_ps(
                    _mm256_loadu_ps(py),
                    _mm256_mul_ps(a, _mm256_loadu_ps(x.as_ptr().add(i))),
                );
                _mm256_storeu_ps(py, v);
            }
        }
        let mut i = full;
        if i + 4 <= n {
            // SAFETY: i + 4 <= n, the length of both slices.
            unsafe {
                let py = y.as_mut_ptr().add(i);
                let v = _mm_add_ps(
                    _mm_loadu_ps(py),
                    _mm_mul_ps(_mm256_castps256_ps128(a), _mm_loadu_ps(x.as_ptr().add(i))),
                );
                _mm_storeu_ps(py, v);
            }
            i += 4;
        }
        for (yi, &xi) in y[i..n].iter_mut().zip(&x[i..n]) {
            *yi += alpha * xi;
        }
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    fn step_along_f64(neg_lr: f64, dz: f64, x: &[f64], w: &mut [f64]) {
        let n = x.len().min(w.len());
        let full = n / 4 * 4;
        let (a, d) = (_mm256_set1_pd(neg_lr), _mm256_set1_pd(dz));
        for i in (0..full).step_by(4) {
            // SAFETY: i + 4 <= full <= n, the length of both slices.
            unsafe {
                let pw = w.as_mut_ptr().add(i);
                let g = _mm256_mul_pd(d, _mm256_loadu_pd(x.as_ptr().add(i)));
                _mm256_storeu_pd(pw, _mm256_add_pd(_mm256_loadu_pd(pw), _mm256_mul_pd(a, g)));
            }
        }
        for (wi, &xi) in w[full..n].iter_mut().zip(&x[full..n]) {
            *wi += neg_lr * (dz * xi);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn step_along_f32(neg_lr: f32, dz: f32, x: &[f32], w: &mut [f32]) {
        let n = x.len().min(w.len());
        let full = n / 8 * 8;
        let (a, d) = (_mm256_set1_ps(neg_lr), _mm256_set1_ps(dz));
        for i in (0..full).step_by(8) {
            // SAFETY: i + 8 <= full <= n.
            unsafe {
                let pw = w.as_mut_ptr().add(i);
                let g = _mm256_mul_ps(d, _mm256_loadu_ps(x.as_ptr().add(i)));
                _mm256_storeu_ps(pw, _mm256_add_ps(_mm256_loadu_ps(pw), _mm256_mul_ps(a, g)));
            }
        }
        for (wi, &xi) in w[full..n].iter_mut().zip(&x[full..n]) {
            *wi += neg_lr * (dz * xi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    fn same_bits_as_portable<F: Float>() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        for n in [0, 1, 3, 4, 5, 7, 8, 9, 12, 13, 100, 257] {
            let a: Vec<F> = (0..n)
                .map(|i| F::of(((i * 37 % 11) as f64 - 5.0) / 3.0))
                .collect();
            let b: Vec<F> = (0..n)
                .map(|i| F::of(((i * 13 % 7) as f64 - 3.0) / 7.0))
                .collect();
            // SAFETY: AVX2 is available (checked above).
            let fast = unsafe { avx2::dot(&a, &b) };
            assert_eq!(
                fast.f64().to_bits(),
                dot(&a, &b).f64().to_bits(),
                "dot, n = {n}"
            );
            let (mut y1, mut y2) = (b.clone(), b.clone());
            axpy(F::of(-0.3), &a, &mut y1);
            // SAFETY: as above.
            unsafe { avx2::axpy(F::of(-0.3), &a, &mut y2) };
            assert!(y1
                .iter()
                .zip(&y2)
                .all(|(p, q)| p.f64().to_bits() == q.f64().to_bits()));
            let (mut w1, mut w2) = (b.clone(), b.clone());
            step_along(F::of(-0.01), F::of(0.7), &a, &mut w1);
            // SAFETY: as above.
            unsafe { avx2::step_along(F::of(-0.01), F::of(0.7), &a, &mut w2) };
            assert!(w1
                .iter()
                .zip(&w2)
                .all(|(p, q)| p.f64().to_bits() == q.f64().to_bits()));
            // The step and the next dot product in one pass: the two calls' bits.
            let (mut w4, next) = (b.clone(), a.iter().rev().copied().collect::<Vec<F>>());
            // SAFETY: as above.
            let d = unsafe { avx2::step_then_dot(F::of(-0.01), F::of(0.7), &a, &mut w4, &next) };
            assert!(w1
                .iter()
                .zip(&w4)
                .all(|(p, q)| p.f64().to_bits() == q.f64().to_bits()));
            assert_eq!(
                d.f64().to_bits(),
                dot(&w1, &next).f64().to_bits(),
                "n = {n}"
            );
            // The fused step rounds as a gradient buffer and a plain SGD step would.
            let mut g = vec![F::zero(); n];
            scale_into(F::of(0.7), &a, &mut g);
            let w3: Vec<F> = b
                .iter()
                .zip(&g)
                .map(|(&w, &g)| w + F::of(-0.01) * g)
                .collect();
            assert!(w1
                .iter()
                .zip(&w3)
                .all(|(p, q)| p.f64().to_bits() == q.f64().to_bits()));
        }
    }

    /// The dot product as it was written before its running sums started from the first
    /// block's products: every sum started from zero.
    fn dot_from_zeros<F: Float>(a: &[F], b: &[F]) -> F {
        let full = a.len() / 8 * 8;
        let mut acc = [F::zero(); 8];
        for i in (0..full).step_by(8) {
            for k in 0..8 {
                acc[k] += a[i + k] * b[i + k];
            }
        }
        let mut tail = F::zero();
        for i in full..a.len() {
            tail += a[i] * b[i];
        }
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
    }

    #[test]
    fn zero_signs_never_reach_the_dot() {
        // Products of -0 (a negative weight times a zero feature) in some lanes, in all, with
        // and without a tail; infinities and NaN; the bits of sums started from zero (any
        // NaN for a NaN: Rust leaves the bits of a NaN that arithmetic makes unspecified).
        fn same<F: Float>(x: F, y: F) -> bool {
            let (x, y) = (x.f64(), y.f64());
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        let mut cases: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        for n in [0, 1, 7, 8, 9, 16, 24, 100, 104] {
            let neg: Vec<f64> = (0..n).map(|i| -1.0 - i as f64).collect();
            let zeros = vec![0.0; n];
            let some: Vec<f64> = (0..n)
                .map(|i| if i % 8 < 3 { 0.0 } else { 0.5 - i as f64 / 7.0 })
                .collect();
            let minus_zero: Vec<f64> = (0..n)
                .map(|i| if i % 2 == 0 { -0.0 } else { 0.0 })
                .collect();
            cases.push((neg.clone(), zeros.clone()));
            cases.push((neg.clone(), some.clone()));
            cases.push((minus_zero.clone(), neg.clone()));
            cases.push((minus_zero, zeros));
            let mut wild = some.clone();
            if n > 2 {
                wild[1] = f64::INFINITY;
                wild[n - 1] = f64::NAN;
            }
            cases.push((neg, wild));
        }
        for (a, b) in &cases {
            let expected = dot_from_zeros(a, b);
            assert!(same(dot(a, b), expected), "portable, n = {}", a.len());
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            let expected32 = dot_from_zeros(&a32, &b32);
            assert!(same(dot(&a32, &b32), expected32), "portable f32");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 is available (checked just above).
                let fast = unsafe { avx2::dot(a, b) };
                assert!(same(fast, expected), "avx2, n = {}", a.len());
                // SAFETY: as above.
                let fast32 = unsafe { avx2::dot(&a32, &b32) };
                assert!(same(fast32, expected32), "avx2 f32, n = {}", a.len());
                // The one-pass step: the dot product of the stepped `w`.
                let mut w = a.clone();
                // SAFETY: as above.
                let d = unsafe { avx2::step_then_dot(0.1, 0.0, b, &mut w, b) };
                assert!(
                    same(d, dot_from_zeros(&w, b)),
                    "step_then_dot, n = {}",
                    a.len()
                );
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_forms_give_the_portable_bits() {
        same_bits_as_portable::<f32>();
        same_bits_as_portable::<f64>();
    }
}
