//! The matrix products of multi-layer models, in one place: the tape's `matmul` and `linear`
//! ops and the MLP kernels call these, so that tape and kernel run the same GEMM on the same
//! shapes and stay bit-identical.
//!
//! Two back ends, chosen once per process ([`backend`]):
//! - [`Backend::Gemm`]: the `gemm` crate with its AVX-512 kernels, on CPUs with AVX-512F
//!   (checked at run time), for products large enough to gain from it ([`uses_gemm`]);
//! - [`Backend::Fallback`]: ndarray's `general_mat_mul` (matrixmultiply), on every CPU, for
//!   every product when forced (`DESCENT_GEMM=fallback`), and always for small products.
//!   Small products keep the fallback's bits: small models train exactly as before.
//!
//! The two agree to about 1e-15 relative in f64 (tested at 1e-12 of `Σ|a_ik·b_kj|`).
//!
//! Two kinds of product:
//! - [`matmul_rows`]: each output row depends on its own input row only, **bit for bit**,
//!   whatever other rows share the product. Data-parallel runs compute parts of a batch
//!   separately and must equal the whole batch ([`super::MlpKernel::shard_loss_and_grad`]).
//!   `gemm` picks its code path and its split of the inner dimension from the shape, so
//!   the shape each call sees is made independent of the row count: the inner dimension is
//!   cut into fixed chunks of [`K_CHUNK`] (accumulated in order), and fewer than
//!   [`MIN_ROWS`] rows are padded with zero rows;
//! - [`matmul`]: the weight gradient `gᵀ·input`, computed on the whole batch everywhere.
//!
//! Each `gemm` call runs on one thread (`Parallelism::None`). Large products are cut into
//! blocks of output rows or columns that run on the run's worker pool ([`matmul_rows_on`],
//! [`matmul_on`]; the calling thread takes the first block): a block keeps every output
//! element's sum as it is in the whole product, so the bits do not depend on the thread
//! count (tested for 1, 2 and 3 threads, both back ends).

use std::any::TypeId;
use std::sync::OnceLock;

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis, ShapeBuilder};
use rayon::ThreadPool;

use crate::parallel::run_blocks;
use crate::Float;

/// Which GEMM runs the large products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The `gemm` crate (AVX-512) for large products, the fallback for small ones.
    Gemm,
    /// ndarray's `general_mat_mul` (matrixmultiply) for every product.
    Fallback,
}

/// The back end of this process: [`Backend::Gemm`] when the CPU has AVX-512F, unless
/// `DESCENT_GEMM=fallback` forces the fallback (to test it on any machine). Read once.
pub fn backend() -> Backend {
    static BACKEND: OnceLock<Backend> = OnceLock::new();
    *BACKEND.get_or_init(|| {
        let forced = std::env::var("DESCENT_GEMM").is_ok_and(|v| v == "fallback");
        if !forced && has_avx512f() {
            Backend::Gemm
        } else {
            Backend::Fallback
        }
    })
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn has_avx512f() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn has_avx512f() -> bool {
    false
}

/// Row-wise products cut the inner dimension into equal chunks of at most this many: `gemm`
/// then sums each chunk in one pass whatever the row count (its own split depends on the
/// shape, and is never finer than 512).
pub const K_CHUNK: usize = 512;
/// Row-wise products with fewer rows are padded to this many, so that `gemm` takes its
/// general path (it has special ones for one row and for `rows × cols ≤ 256`).
pub const MIN_ROWS: usize = 32;
/// Row-wise products take `gemm` from this many weights (`inner × cols`), each side at
/// least [`MIN_SIDE`]: below, the fallback is as fast and keeps its bits.
pub const MIN_WEIGHTS: usize = 16_384;
/// See [`MIN_WEIGHTS`].
pub const MIN_SIDE: usize = 16;
/// Whole products take `gemm` from this many multiply-adds, each side at least [`MIN_SIDE`].
pub const MIN_FLOPS: usize = 1 << 18;

/// Products with fewer multiply-adds than this run on the calling thread whatever the pool.
/// A block handed to a pool worker costs a few microseconds to start when the worker is
/// awake and up to about 60 when it sleeps (see `kernels::linear`); 2^22 multiply-adds take
/// 20-40 µs on one core here (100-200 GFLOP/s), so below this a split saves less than its
/// hand-over can cost. The P4 products (128 x 784 x 256: 2^24.6) are above it; the small
/// models' products (at most 16 x 32 x 13 in the `S-` workloads) are far below.
pub const PARALLEL_MIN_FLOPS: usize = 1 << 22;
/// Whole products ([`matmul_on`]) are cut into blocks of at least this many output rows or
/// columns: `gemm` takes its general path for each (see [`MIN_ROWS`]).
pub const MIN_BLOCK: usize = 32;

/// Whether an `m x k` by `k x n` product runs on `gemm` under `backend`: [`matmul_rows`]
/// (`row_wise`; the answer then never depends on `m`) or [`matmul`].
pub fn uses_gemm<F: Float>(backend: Backend, row_wise: bool, m: usize, k: usize, n: usize) -> bool {
    let typed =
        TypeId::of::<F>() == TypeId::of::<f32>() || TypeId::of::<F>() == TypeId::of::<f64>();
    let large = if row_wise {
        k >= MIN_SIDE && n >= MIN_SIDE && k * n >= MIN_WEIGHTS
    } else {
        m >= MIN_SIDE && k >= MIN_SIDE && n >= MIN_SIDE && m * k * n >= MIN_FLOPS
    };
    backend == Backend::Gemm && typed && large
}

/// `c = a · b`, each row of `c` a function of the same row of `a` alone (bit for bit).
/// `c` must be `a.nrows() x b.ncols()` and `a.ncols() == b.nrows()`.
pub fn matmul_rows<F: Float>(
    backend: Backend,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    c: ArrayViewMut2<'_, F>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let gemm = uses_gemm::<F>(backend, true, m, k, n) && fits(&a, &b, &c);
    rows_product(gemm, a, b, c);
}

/// [`matmul_rows`] on `gemm` (checked by the caller) or on the fallback.
fn rows_product<F: Float>(
    gemm: bool,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    mut c: ArrayViewMut2<'_, F>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    if !gemm {
        return general_mat_mul(F::one(), &a, &b, F::zero(), &mut c);
    }
    if m >= MIN_ROWS {
        return chunked_gemm(a, b, c);
    }
    // Zero rows below, in the layouts of `a` and `c` (which can steer `gemm`'s path).
    let mut pa = Array2::zeros((MIN_ROWS, k).set_f(a.strides()[1] != 1));
    pa.slice_mut(s![..m, ..]).assign(&a);
    let mut pc = Array2::zeros((MIN_ROWS, n).set_f(c.strides()[1] != 1));
    chunked_gemm(pa.view(), b, pc.view_mut());
    c.assign(&pc.slice(s![..m, ..]));
}

/// [`matmul_rows`] with blocks of at least [`MIN_ROWS`] rows on `pool` (`None`: all on this
/// thread) when the product has [`PARALLEL_MIN_FLOPS`] multiply-adds. Each row's bits are
/// its own whatever rows share its block ([`matmul_rows`]), so they are those of the
/// whole product for any pool.
pub fn matmul_rows_on<F: Float>(
    backend: Backend,
    pool: Option<&ThreadPool>,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    c: ArrayViewMut2<'_, F>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let gemm = uses_gemm::<F>(backend, true, m, k, n) && fits(&a, &b, &c);
    let parts = split_count(pool, m, m * k * n, MIN_ROWS);
    match pool.filter(|_| parts > 1 && c.nrows() == m) {
        Some(pool) => {
            let blocks = split_rows(a, c, parts);
            run_blocks(pool, blocks, |(a, c)| rows_product(gemm, a, b, c));
        }
        None => rows_product(gemm, a, b, c),
    }
}

/// [`matmul`] with its output cut into blocks of at least [`MIN_BLOCK`] rows (or columns,
/// whichever side is longer) on `pool` (`None`: all on this thread) when the product has
/// [`PARALLEL_MIN_FLOPS`] multiply-adds and takes `gemm`. Every block keeps the inner
/// dimension whole, and `gemm` splits the inner dimension by its length alone (its `kc`
/// depends on `k`, the register tile and the caches, not on `m` or `n`), so each output
/// element is summed over the same pieces in the same order as in the whole product: the
/// same bits (tested). The fallback's products keep the inner dimension in one loop too.
pub fn matmul_on<F: Float>(
    backend: Backend,
    pool: Option<&ThreadPool>,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    c: ArrayViewMut2<'_, F>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    // Decided on the whole product: a block is smaller, but must take the same path.
    let gemm = uses_gemm::<F>(backend, false, m, k, n) && fits(&a, &b, &c);
    let parts = split_count(pool, m.max(n), m * k * n, MIN_BLOCK);
    let split = parts > 1 && b.nrows() == k && c.dim() == (m, n);
    match pool.filter(|_| split) {
        Some(pool) if m >= n => {
            let blocks = split_rows(a, c, parts);
            run_blocks(pool, blocks, |(a, c)| whole_product(gemm, a, b, c));
        }
        Some(pool) => {
            let (bt, ct) = (b.reversed_axes(), c.reversed_axes());
            let blocks = split_rows(bt, ct, parts);
            run_blocks(pool, blocks, |(bt, ct)| {
                whole_product(gemm, a, bt.reversed_axes(), ct.reversed_axes())
            });
        }
        None => whole_product(gemm, a, b, c),
    }
}

/// How many blocks a product of `flops` multiply-adds whose split side is `len` long is cut
/// into on `pool`: one per thread (the pool's and the caller), each at least `min_len`
/// long; 1 when the product is too small to gain ([`PARALLEL_MIN_FLOPS`]).
fn split_count(pool: Option<&ThreadPool>, len: usize, flops: usize, min_len: usize) -> usize {
    match pool {
        Some(p) if flops >= PARALLEL_MIN_FLOPS => (p.current_num_threads() + 1).min(len / min_len),
        _ => 1,
    }
}

/// `a` and `c` cut into `parts` matching blocks of consecutive rows, of equal length up to
/// one row (each at least `a.nrows() / parts` long).
fn split_rows<'a, 'c, F>(
    mut a: ArrayView2<'a, F>,
    mut c: ArrayViewMut2<'c, F>,
    parts: usize,
) -> Vec<(ArrayView2<'a, F>, ArrayViewMut2<'c, F>)> {
    let m = a.nrows();
    let mut blocks = Vec::with_capacity(parts);
    let mut start = 0;
    for i in 1..parts {
        let end = i * m / parts;
        let (a0, a1) = a.split_at(Axis(0), end - start);
        let (c0, c1) = c.split_at(Axis(0), end - start);
        blocks.push((a0, c0));
        (a, c, start) = (a1, c1, end);
    }
    blocks.push((a, c));
    blocks
}

/// `c = a · b` for products whose bits need only depend on the whole shape.
pub fn matmul<F: Float>(
    backend: Backend,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    c: ArrayViewMut2<'_, F>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let gemm = uses_gemm::<F>(backend, false, m, k, n) && fits(&a, &b, &c);
    whole_product(gemm, a, b, c);
}

/// [`matmul`] on `gemm` (checked by the caller) or on the fallback.
fn whole_product<F: Float>(
    gemm: bool,
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    mut c: ArrayViewMut2<'_, F>,
) {
    if gemm {
        gemm_into(a, b, c, false);
    } else {
        general_mat_mul(F::one(), &a, &b, F::zero(), &mut c);
    }
}

/// `a · b` as a new array, in the memory order ndarray's `dot` gives it (column-major when
/// both operands have unit row stride), row-wise ([`matmul_rows`]) or whole ([`matmul`]).
pub fn dot<F: Float>(row_wise: bool, a: ArrayView2<'_, F>, b: ArrayView2<'_, F>) -> Array2<F> {
    let f_order = a.strides()[0] == 1 && b.strides()[0] == 1;
    let mut c = Array2::zeros((a.nrows(), b.ncols()).set_f(f_order));
    if row_wise {
        matmul_rows(backend(), a, b, c.view_mut());
    } else {
        matmul(backend(), a, b, c.view_mut());
    }
    c
}

/// Shapes that agree, non-negative strides, and an output whose elements are distinct
/// (what `gemm` needs to stay inside the buffers); anything else takes the fallback,
/// which checks shapes itself.
fn fits<F>(a: &ArrayView2<'_, F>, b: &ArrayView2<'_, F>, c: &ArrayViewMut2<'_, F>) -> bool {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    let positive = |s: &[isize]| s.iter().all(|&s| s >= 0);
    // Distinct elements: the smaller stride is at least 1 and the larger one steps over a
    // whole line of the other dimension (dimensions of length 1 take no step).
    let distinct = {
        let (s, d) = (c.strides(), c.dim());
        let mut dims: Vec<(usize, usize)> =
            [(s[0].unsigned_abs(), d.0), (s[1].unsigned_abs(), d.1)]
                .into_iter()
                .filter(|&(_, len)| len > 1)
                .collect();
        dims.sort_unstable();
        match dims[..] {
            [] => true,
            [(s, _)] => s >= 1,
            [(s, len), (big, _)] => s >= 1 && big >= s * len,
            _ => false,
        }
    };
    k == k2
        && c.dim() == (m, n)
        && positive(a.strides())
        && positive(b.strides())
        && positive(c.strides())
        && distinct
}

/// `c = a · b` on `gemm`, the inner dimension cut into equal chunks of at most [`K_CHUNK`]
/// (their count and sizes depend on it alone), summed in order.
fn chunked_gemm<F: Float>(a: ArrayView2<'_, F>, b: ArrayView2<'_, F>, mut c: ArrayViewMut2<'_, F>) {
    let k = a.ncols();
    let chunk = k.div_ceil(k.div_ceil(K_CHUNK).max(1)).max(1);
    let mut start = 0;
    while start < k {
        let end = (start + chunk).min(k);
        let (ak, bk) = (a.slice(s![.., start..end]), b.slice(s![start..end, ..]));
        gemm_into(ak, bk, c.view_mut(), start > 0);
        start = end;
    }
}

/// `c = a · b`, or `c += a · b` when `accumulate`, on `gemm`. The operands have passed
/// [`fits`] and `F` is `f32` or `f64` ([`uses_gemm`]).
fn gemm_into<F: Float>(
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
    mut c: ArrayViewMut2<'_, F>,
    accumulate: bool,
) {
    debug_assert!(fits(&a, &b, &c));
    let ((m, k), n) = (a.dim(), b.ncols());
    let (cs, as_, bs) = (
        c.strides().to_vec(),
        a.strides().to_vec(),
        b.strides().to_vec(),
    );
    // SAFETY: every pointer comes from a live ndarray view whose strides address only its
    // own elements; the shapes agree (m x k times k x n into m x n) and the strides are
    // the views' own, in gemm's order (column stride, then row stride); `c` is a unique
    // borrow whose elements are distinct (`fits`), and `a`, `b` cannot alias it. `F` is
    // `f32` or `f64`, the types `gemm` accepts (it panics on others).
    unsafe {
        gemm::gemm::<F>(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cs[1],
            cs[0],
            accumulate,
            a.as_ptr(),
            as_[1],
            as_[0],
            b.as_ptr(),
            bs[1],
            bs[0],
            F::one(), // alpha: the factor of the old dst
            F::one(), // beta: the factor of the product
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ArrayView2};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn random<F: Float>(
        rng: &mut ChaCha8Rng,
        rows: usize,
        cols: usize,
        f_order: bool,
    ) -> Array2<F> {
        let mut a = Array2::zeros((rows, cols).set_f(f_order));
        a.mapv_inplace(|_: F| F::of(rng.random_range(-1.0..1.0)));
        a
    }

    /// The inputs' shapes each kind of product meets: (inner, cols) of row-wise products on
    /// `gemm`, both sides of the 512-chunk split.
    const ROW_WISE: [(usize, usize); 6] = [
        (784, 256),
        (256, 784),
        (600, 40),
        (40, 600),
        (513, 32),
        (1100, 17),
    ];

    fn product<F: Float>(
        backend: Backend,
        row_wise: bool,
        a: ArrayView2<'_, F>,
        b: ArrayView2<'_, F>,
        f_order: bool,
    ) -> Array2<F> {
        let mut c = Array2::from_elem((a.nrows(), b.ncols()).set_f(f_order), F::of(7.0));
        if row_wise {
            matmul_rows(backend, a, b, c.view_mut());
        } else {
            matmul(backend, a, b, c.view_mut());
        }
        c
    }

    fn same_bits<F: Float>(a: ArrayView2<'_, F>, b: ArrayView2<'_, F>) -> bool {
        a.dim() == b.dim()
            && a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.f64().to_bits() == y.f64().to_bits())
    }

    /// Each row of a row-wise product has the bits it has alone, and in any run of rows (the
    /// row counts of data-parallel shards, below and above [`MIN_ROWS`]), for every layout.
    fn rows_are_independent<F: Float>() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (k, n) in ROW_WISE {
            assert!(uses_gemm::<F>(Backend::Gemm, true, 1, k, n), "{k} x {n}");
            let m = 70;
            for (a_f, b_f, c_f) in [
                (false, false, false),
                (false, true, true),
                (true, false, false),
                (false, true, false),
            ] {
                let a = random::<F>(&mut rng, m, k, a_f);
                let b = random::<F>(&mut rng, k, n, b_f);
                for backend in [Backend::Gemm, Backend::Fallback] {
                    let whole = product(backend, true, a.view(), b.view(), c_f);
                    for (lo, hi) in [
                        (0, 1),
                        (69, 70),
                        (5, 6),
                        (0, 35),
                        (35, 70),
                        (10, 41),
                        (3, 67),
                        (23, 46),
                    ] {
                        let part = product(backend, true, a.slice(s![lo..hi, ..]), b.view(), c_f);
                        assert!(
                            same_bits(part.view(), whole.slice(s![lo..hi, ..])),
                            "{backend:?} {k}x{n} rows {lo}..{hi} layouts {a_f} {b_f} {c_f} ({})",
                            F::NAME
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn row_wise_products_give_each_row_its_own_bits_f32() {
        rows_are_independent::<f32>();
    }

    #[test]
    fn row_wise_products_give_each_row_its_own_bits_f64() {
        rows_are_independent::<f64>();
    }

    /// Products cut into blocks on 2 and 3 threads have the bits of the product on one
    /// thread: both kinds, both back ends, f32 and f64, row-major and column-major operands,
    /// inner dimensions below and above [`K_CHUNK`], whole products cut by rows (`m >= n`)
    /// and by columns.
    fn splits_keep_the_bits<F: Float>() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let pools = [crate::parallel::pool(2), crate::parallel::pool(3)];
        // (m, k, n, row-wise); each at least PARALLEL_MIN_FLOPS multiply-adds.
        let shapes = [
            (128, 784, 256, true),
            (128, 256, 784, true),
            (100, 600, 70, true),
            (97, 1100, 40, true),
            (256, 128, 784, false),
            (784, 128, 256, false),
            (48, 128, 784, false),
            (256, 1100, 40, false),
            (40, 1100, 256, false),
        ];
        for (m, k, n, row_wise) in shapes {
            assert!(m * k * n >= PARALLEL_MIN_FLOPS);
            for (a_f, b_f, c_f) in [
                (false, false, false),
                (true, false, true),
                (false, true, false),
            ] {
                let a = random::<F>(&mut rng, m, k, a_f);
                let b = random::<F>(&mut rng, k, n, b_f);
                for backend in [Backend::Gemm, Backend::Fallback] {
                    let one = product(backend, row_wise, a.view(), b.view(), c_f);
                    for pool in pools {
                        assert!(split_count(pool, m.max(n), m * k * n, MIN_ROWS) > 1);
                        let mut c = Array2::from_elem((m, n).set_f(c_f), F::of(7.0));
                        if row_wise {
                            matmul_rows_on(backend, pool, a.view(), b.view(), c.view_mut());
                        } else {
                            matmul_on(backend, pool, a.view(), b.view(), c.view_mut());
                        }
                        assert!(
                            same_bits(c.view(), one.view()),
                            "{backend:?} {m}x{k}x{n} row-wise {row_wise} layouts {a_f} {b_f} {c_f} on {} threads ({})",
                            pool.map_or(1, |p| p.current_num_threads() + 1),
                            F::NAME
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn split_products_keep_the_bits_of_one_thread_f32() {
        splits_keep_the_bits::<f32>();
    }

    #[test]
    fn split_products_keep_the_bits_of_one_thread_f64() {
        splits_keep_the_bits::<f64>();
    }

    /// Small products, and runs without a pool, stay whole on the calling thread; blocks are
    /// never shorter than their minimum.
    #[test]
    fn only_large_products_are_split() {
        let pool = crate::parallel::pool(2);
        assert_eq!(split_count(None, 1024, 1 << 30, MIN_ROWS), 1);
        assert_eq!(split_count(pool, 1024, PARALLEL_MIN_FLOPS - 1, MIN_ROWS), 1);
        assert_eq!(split_count(pool, 1024, PARALLEL_MIN_FLOPS, MIN_ROWS), 2);
        assert_eq!(split_count(pool, 63, 1 << 30, MIN_ROWS), 1);
        assert_eq!(
            split_count(crate::parallel::pool(8), 100, 1 << 30, MIN_ROWS),
            3
        );
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let a = random::<f32>(&mut rng, 100, 7, false);
        let (a_blocks, mut c) = (a.view(), Array2::<f32>::zeros((100, 3)));
        let blocks = split_rows(a_blocks, c.view_mut(), 3);
        let lens: Vec<_> = blocks.iter().map(|(a, c)| (a.nrows(), c.nrows())).collect();
        assert_eq!(lens, [(33, 33), (33, 33), (34, 34)]);
    }

    /// `gemm` and the fallback agree to 1e-12 of `Σ|a_ik·b_kj|` in f64 (about 1e-15 is seen),
    /// both kinds of product, every layout of every operand (transposed views included):
    /// the strides reach `gemm` right.
    #[test]
    fn gemm_agrees_with_the_fallback_in_every_layout() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let shapes = [
            (70, 784, 256),
            (128, 256, 784),
            (256, 128, 784),
            (40, 70, 600),
            (3, 600, 40),
            (33, 17, 1100),
        ];
        for (m, k, n) in shapes {
            for layouts in 0..8 {
                let (a_f, b_f, c_f) = (layouts & 1 == 1, layouts & 2 == 2, layouts & 4 == 4);
                let a = random::<f64>(&mut rng, m, k, a_f);
                let b = random::<f64>(&mut rng, k, n, b_f);
                let bound = a.mapv(f64::abs).dot(&b.mapv(f64::abs));
                // A transposed view of a stored transpose: the other stride order.
                let (at, bt) = (a.t().to_owned(), b.t().to_owned());
                for row_wise in [true, false] {
                    let slow = product(Backend::Fallback, row_wise, a.view(), b.view(), c_f);
                    for (av, bv) in [(a.view(), b.view()), (at.t(), bt.t())] {
                        let fast = product(Backend::Gemm, row_wise, av, bv, c_f);
                        for ((f, s), e) in fast.iter().zip(slow.iter()).zip(bound.iter()) {
                            assert!(
                                (f - s).abs() <= 1e-12 * e,
                                "{m}x{k}x{n} layouts {layouts} row-wise {row_wise}: {f} vs {s}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Small products take the fallback on either back end (their bits are the old ones);
    /// whether a row-wise product takes `gemm` never depends on its row count.
    #[test]
    fn small_products_keep_the_fallback() {
        for m in [1, 16, 31, 32, 128, 60_000] {
            assert!(!uses_gemm::<f32>(Backend::Gemm, true, m, 13, 32));
            assert!(!uses_gemm::<f32>(Backend::Gemm, true, m, 256, 10));
            assert!(uses_gemm::<f32>(Backend::Gemm, true, m, 784, 256));
            assert!(!uses_gemm::<f32>(Backend::Fallback, true, m, 784, 256));
        }
        assert!(!uses_gemm::<f32>(Backend::Gemm, false, 32, 16, 13));
        assert!(uses_gemm::<f64>(Backend::Gemm, false, 256, 128, 784));
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let a = random::<f32>(&mut rng, 16, 13, false);
        let b = random::<f32>(&mut rng, 13, 32, true);
        for row_wise in [true, false] {
            let fast = product(Backend::Gemm, row_wise, a.view(), b.view(), false);
            assert!(same_bits(fast.view(), a.dot(&b).view()));
        }
    }

    /// `dot` returns ndarray's layout and, on the fallback, ndarray's bits.
    #[test]
    fn dot_keeps_ndarrays_layout() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let a = random::<f64>(&mut rng, 9, 5, true);
        let b = random::<f64>(&mut rng, 4, 5, false);
        for (x, y) in [(a.view(), b.t()), (b.view(), a.t())] {
            let ours = dot(true, x, y);
            let theirs = x.dot(&y);
            assert_eq!(ours.strides(), theirs.strides());
            assert!(same_bits(ours.view(), theirs.view()));
        }
    }

    /// Operands `gemm` must not see (overlapping output elements, negative strides) take the
    /// fallback.
    #[test]
    fn strides_gemm_cannot_take_are_refused() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let a = random::<f32>(&mut rng, 40, 600, false);
        let b = random::<f32>(&mut rng, 600, 40, false);
        let mut c = Array2::<f32>::zeros((40, 40));
        assert!(fits(&a.view(), &b.view(), &c.view_mut()));
        let flipped = a.slice(s![..;-1, ..]);
        assert!(!fits(&flipped, &b.view(), &c.view_mut()));
        assert!(!fits(&b.view(), &b.view(), &c.view_mut()));
        let reversed = product(Backend::Gemm, true, flipped, b.view(), false);
        let plain = product(Backend::Fallback, true, flipped, b.view(), false);
        assert!(same_bits(reversed.view(), plain.view()));
    }
}
