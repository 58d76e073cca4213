//! A tape-free loss-and-gradient kernel for multi-layer models (`mlp`, or any [`Sequential`]
//! of linear layers and activations): the training step of the MLP workloads.
//!
//! The tape allocates a tensor per op, copies the parameters onto itself and gathers each
//! batch with `select`; this kernel keeps every buffer between steps (the gathered batch, each
//! layer's output, two gradient buffers), multiplies into them ([`super::matmul`], the tape's products too), adds the
//! bias in place and writes the weight gradients straight into the flat gradient buffer.
//!
//! The results equal the tape's bit for bit (tested in `tests/mlp_kernel.rs`): the same GEMM
//! calls on the same shapes ([`super::matmul`]), and the same summation orders. Where ndarray's order depends on
//! memory layout (`dot` returns a column-major product when both operands have unit row
//! stride, `sum_axis` sums contiguous lanes with eight accumulators), each buffer carries the
//! layout the tape's array would have had.

use ndarray::{ArrayView2, ArrayViewMut2, Axis, ShapeBuilder, Zip};

use super::matmul::{backend, matmul_on, matmul_rows_on};
use crate::loss::bce_with_logits::{self, sigmoid};
use crate::loss::Loss;
use crate::loss::{cross_entropy, huber, mae, mse};
use crate::nn::{Layer, Sequential};
use crate::{Float, Result};

/// One layer of the model, with its parameter ranges in the flat buffer.
#[derive(Clone, Debug)]
pub(super) enum Stage {
    Linear {
        n_in: usize,
        n_out: usize,
        weight: std::ops::Range<usize>,
        bias: Option<std::ops::Range<usize>>,
    },
    Sigmoid,
    Tanh,
    Relu,
}

/// A reused 2-D buffer and the memory order the tape's array of the same value would have.
#[derive(Clone, Debug, Default)]
pub(super) struct Buffer<F> {
    pub(super) data: Vec<F>,
    pub(super) rows: usize,
    pub(super) cols: usize,
    /// Column-major (ndarray's default Fortran strides) rather than row-major.
    pub(super) f_order: bool,
}

impl<F: Float> Buffer<F> {
    pub(super) fn shape(&mut self, rows: usize, cols: usize, f_order: bool) {
        self.data.resize(rows * cols, F::zero());
        (self.rows, self.cols, self.f_order) = (rows, cols, f_order);
    }

    #[inline]
    pub(super) fn view(&self) -> ArrayView2<'_, F> {
        ArrayView2::from_shape((self.rows, self.cols).set_f(self.f_order), &self.data)
            .expect("buffer holds rows x cols")
    }

    #[inline]
    pub(super) fn view_mut(&mut self) -> ArrayViewMut2<'_, F> {
        ArrayViewMut2::from_shape((self.rows, self.cols).set_f(self.f_order), &mut self.data)
            .expect("buffer holds rows x cols")
    }
}

/// The first stride of a default-strided array: what `dot` looks at to pick the output order.
fn row_stride<F>(a: &ArrayView2<'_, F>) -> isize {
    a.strides()[0]
}

/// Loss and gradients of a sequential model, without a tape.
#[derive(Clone, Debug)]
pub struct MlpKernel<F> {
    pub(super) stages: Vec<Stage>,
    /// The first linear stage: nothing before it needs a gradient.
    pub(super) first_linear: usize,
    pub(super) loss: Loss,
    n_in: usize,
    pub(super) n_out: usize,
    /// The gathered batch: features and targets.
    pub(super) x: Buffer<F>,
    pub(super) t: Buffer<F>,
    /// The output of every stage.
    pub(super) outs: Vec<Buffer<F>>,
    /// The gradient with respect to the current stage's output, and its input.
    pub(super) g: Buffer<F>,
    g_in: Buffer<F>,
    /// The worker pool of the large products ([`Self::with_threads`]; `None`: one thread),
    /// looked up once: [`crate::parallel::pool`] takes a lock.
    pub(super) pool: Option<&'static rayon::ThreadPool>,
}

impl<F: Float> MlpKernel<F> {
    /// The kernel for `model` and `loss`, or `None` for a single linear layer (which
    /// [`LinearKernel`](super::LinearKernel) handles).
    pub fn new(model: &Sequential, loss: Loss) -> Option<Self> {
        let layout = model.layout();
        let views = layout.views();
        let mut next_view = 0;
        let mut stages = Vec::new();
        for layer in model.layers() {
            stages.push(match *layer {
                Layer::Linear {
                    in_features,
                    out_features,
                    bias,
                } => {
                    let weight = views[next_view].range();
                    next_view += 1;
                    let bias = bias.then(|| {
                        next_view += 1;
                        views[next_view - 1].range()
                    });
                    Stage::Linear {
                        n_in: in_features,
                        n_out: out_features,
                        weight,
                        bias,
                    }
                }
                Layer::Sigmoid => Stage::Sigmoid,
                Layer::Tanh => Stage::Tanh,
                Layer::Relu => Stage::Relu,
            });
        }
        if let [Stage::Linear { .. }] = stages[..] {
            return None;
        }
        let first_linear = stages
            .iter()
            .position(|s| matches!(s, Stage::Linear { .. }))?;
        let outs = vec![Buffer::default(); stages.len()];
        Some(MlpKernel {
            stages,
            first_linear,
            loss,
            n_in: model.n_in(),
            n_out: model.n_out(),
            x: Buffer::default(),
            t: Buffer::default(),
            outs,
            g: Buffer::default(),
            g_in: Buffer::default(),
            pool: None,
        })
    }

    /// Sets the threads the kernel's large products may use (default 1): they are cut into
    /// blocks on the [`crate::parallel::pool`] of that many
    /// ([`super::matmul::matmul_rows_on`]); the numbers do not depend on it.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.pool = crate::parallel::pool(threads);
        self
    }

    /// Whether the kernel can take this data; otherwise the tape runs (and reports any shape
    /// error in its own words). Both arrays must have ndarray's default row-major strides, as
    /// the tape's gathered copies do.
    pub fn accepts(&self, x: ArrayView2<'_, F>, y: ArrayView2<'_, F>) -> bool {
        let targets = match self.loss {
            Loss::CrossEntropy => 1,
            _ => self.n_out,
        };
        let default_strides = |a: &ArrayView2<'_, F>| {
            let (r, c) = a.dim();
            r > 0 && c > 0 && a.strides() == [c as isize, 1]
        };
        x.ncols() == self.n_in
            && y.ncols() == targets
            && x.nrows() == y.nrows()
            && default_strides(&x)
            && default_strides(&y)
    }

    /// The mean loss over `rows` of `(x, y)` at `params`; if it is finite, its gradient is
    /// written into `grads` (same flat layout as the parameters), else `grads` is left as it
    /// was. `whole` says that `rows` is every row in data order (no gather needed).
    ///
    /// # Errors
    /// A cross-entropy target that is not a class index, as the tape reports it.
    pub fn loss_and_grad(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        whole: bool,
        grads: &mut [F],
    ) -> Result<F> {
        // Taken out of `self` for the call, so that the views of them can be held across it.
        let (mut xb, mut tb) = (std::mem::take(&mut self.x), std::mem::take(&mut self.t));
        if !whole {
            gather(&mut xb, x, rows);
            gather(&mut tb, y, rows);
        }
        let (xv, tv) = if whole {
            (x, y)
        } else {
            (xb.view(), tb.view())
        };
        let result = self.loss_and_grad_of(params, xv, tv, grads);
        (self.x, self.t) = (xb, tb);
        result
    }

    fn loss_and_grad_of(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        t: ArrayView2<'_, F>,
        grads: &mut [F],
    ) -> Result<F> {
        self.forward(params, x);
        let out = self.outs.last().expect("at least one stage");
        let loss = loss_forward(self.loss, out.view(), t)?;
        if !loss.is_finite() {
            return Ok(loss);
        }
        self.g.shape(out.rows, out.cols, out.f_order);
        loss_backward(self.loss, out.view(), t, self.g.view_mut(), out.rows);
        self.backward(params, x, WeightGrads::Into(grads));
        Ok(loss)
    }

    pub(super) fn forward(&mut self, params: &[F], x: ArrayView2<'_, F>) {
        let batch = x.nrows();
        for i in 0..self.stages.len() {
            let (done, rest) = self.outs.split_at_mut(i);
            let (input, input_f_order) = match done.last() {
                Some(prev) => (prev.view(), prev.f_order),
                None => (x, false),
            };
            let out = &mut rest[0];
            match &self.stages[i] {
                Stage::Linear {
                    n_in,
                    n_out,
                    weight,
                    bias,
                } => {
                    let w = weight_view(params, weight, *n_out, *n_in);
                    let wt = w.t();
                    // `dot` returns a column-major product when both operands have unit row
                    // stride (`wᵀ` always has).
                    out.shape(
                        batch,
                        *n_out,
                        row_stride(&input) == 1 && row_stride(&wt) == 1,
                    );
                    let mut o = out.view_mut();
                    let pool = self.pool;
                    matmul_rows_on(backend(), pool, input, wt, o.view_mut());
                    if let Some(b) = bias {
                        let b = weight_view(params, b, 1, *n_out);
                        o += &b;
                    }
                }
                activation => {
                    // `mapv` keeps the memory order of its input.
                    out.shape(input.nrows(), input.ncols(), input_f_order);
                    let zip = Zip::from(out.view_mut()).and(&input);
                    match activation {
                        Stage::Sigmoid => zip.for_each(|o, &v| *o = sigmoid(v)),
                        Stage::Tanh => zip.for_each(|o, &v| *o = v.tanh()),
                        _ => zip.for_each(|o, &v| *o = if v > F::zero() { v } else { F::zero() }),
                    }
                }
            }
        }
    }

    /// The backward pass from `self.g`; each linear layer's weight and bias gradients go
    /// where `weights` says.
    pub(super) fn backward(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        mut weights: WeightGrads<'_, F>,
    ) {
        for i in (self.first_linear..self.stages.len()).rev() {
            let input = if i == 0 { x } else { self.outs[i - 1].view() };
            match &self.stages[i] {
                Stage::Linear {
                    n_in,
                    n_out,
                    weight,
                    bias,
                } => {
                    let g = self.g.view();
                    let pool = self.pool;
                    match &mut weights {
                        WeightGrads::Into(grads) => weight_grads(
                            pool,
                            g,
                            input,
                            weight,
                            bias.as_ref(),
                            (*n_out, *n_in),
                            grads,
                        ),
                        WeightGrads::Keep(kept) => kept.push(self.g.clone()),
                    }
                    if i > self.first_linear {
                        let w = weight_view(params, weight, *n_out, *n_in);
                        let col_major = row_stride(&g) == 1 && row_stride(&w) == 1;
                        self.g_in.shape(g.nrows(), *n_in, col_major);
                        matmul_rows_on(backend(), pool, g, w, self.g_in.view_mut());
                        std::mem::swap(&mut self.g, &mut self.g_in);
                    }
                }
                activation => {
                    // The tape clones the incoming gradient and scales it in place: the
                    // gradient keeps its memory order.
                    let y = self.outs[i].view();
                    let mut g = self.g.view_mut();
                    let one = F::one();
                    match activation {
                        // torch's sigmoid_backward: grad * (1 - y) * y
                        Stage::Sigmoid => Zip::from(&mut g)
                            .and(&y)
                            .for_each(|g, &y| *g = *g * (one - y) * y),
                        // torch's tanh_backward: grad * (1 - y^2)
                        Stage::Tanh => Zip::from(&mut g)
                            .and(&y)
                            .for_each(|g, &y| *g *= one - y * y),
                        // A select rather than a conditional store, so that it vectorizes:
                        // the same values (zero where the input is at most zero).
                        _ => Zip::from(&mut g)
                            .and(&input)
                            .for_each(|g, &v| *g = if v <= F::zero() { F::zero() } else { *g }),
                    }
                }
            }
        }
    }
}

/// Where [`MlpKernel::backward`] puts each linear layer's weight gradients.
pub(super) enum WeightGrads<'a, F> {
    /// Computed into the flat gradient buffer.
    Into(&'a mut [F]),
    /// Not computed: the gradient with respect to the layer's output is kept instead (one
    /// buffer per linear layer, the last layer first).
    Keep(&'a mut Vec<Buffer<F>>),
}

/// torch / the tape: `dW = gᵀ · input`, `db = Σ_rows g`, into `grads` (`dims`: the weight's
/// rows and columns); large products in blocks on `pool` (the same bits).
pub(super) fn weight_grads<F: Float>(
    pool: Option<&rayon::ThreadPool>,
    g: ArrayView2<'_, F>,
    input: ArrayView2<'_, F>,
    weight: &std::ops::Range<usize>,
    bias: Option<&std::ops::Range<usize>>,
    dims: (usize, usize),
    grads: &mut [F],
) {
    let dw = ArrayViewMut2::from_shape(dims, &mut grads[weight.clone()]).expect("weight view");
    matmul_on(backend(), pool, g.t(), input, dw);
    if let Some(b) = bias {
        sum_rows(&g, &mut grads[b.clone()]);
    }
}

/// `params[range]` as an `rows x cols` row-major matrix.
pub(super) fn weight_view<'a, F>(
    params: &'a [F],
    range: &std::ops::Range<usize>,
    rows: usize,
    cols: usize,
) -> ArrayView2<'a, F> {
    ArrayView2::from_shape((rows, cols), &params[range.clone()]).expect("parameter view")
}

/// Copies the rows `rows` of `src` into `dst` (row-major, as `select` returns them).
pub(super) fn gather<F: Float>(dst: &mut Buffer<F>, src: ArrayView2<'_, F>, rows: &[usize]) {
    let cols = src.ncols();
    dst.shape(rows.len(), cols, false);
    let flat = src
        .as_slice()
        .expect("default strides (checked by `accepts`)");
    for (d, &r) in dst.data.chunks_exact_mut(cols).zip(rows) {
        d.copy_from_slice(&flat[r * cols..(r + 1) * cols]);
    }
}

/// `Σ_rows g` into `out`, in the order of ndarray's `sum_axis(Axis(0))`: eight-way unrolled
/// sums of contiguous columns when axis 0 has the smaller stride, else rows added one by one.
fn sum_rows<F: Float>(g: &ArrayView2<'_, F>, out: &mut [F]) {
    let s = g.strides();
    if s[0] < s[1] {
        for (o, lane) in out.iter_mut().zip(g.lanes(Axis(0))) {
            *o = lane.sum();
        }
    } else {
        out.fill(F::zero());
        for row in g.rows() {
            for (o, &v) in out.iter_mut().zip(row.iter()) {
                *o += v;
            }
        }
    }
}

/// The mean loss, exactly as the tape's fused losses compute it (the same element
/// functions, [`crate::loss`], in the same order).
pub(super) fn loss_forward<F: Float>(
    loss: Loss,
    p: ArrayView2<'_, F>,
    t: ArrayView2<'_, F>,
) -> Result<F> {
    let mut s = F::zero();
    match loss {
        Loss::CrossEntropy => {
            let (n, k) = p.dim();
            for (row, &y) in p.rows().into_iter().zip(t.iter()) {
                s += cross_entropy::row_term(row, cross_entropy::class_index(y, k)?);
            }
            return Ok(s / F::of(n as f64));
        }
        Loss::Mse => Zip::from(&p)
            .and(&t)
            .for_each(|&p, &t| s += mse::term(p, t)),
        Loss::Mae => Zip::from(&p)
            .and(&t)
            .for_each(|&p, &t| s += mae::term(p, t)),
        Loss::Huber { delta } => {
            let delta = F::of(delta);
            Zip::from(&p)
                .and(&t)
                .for_each(|&p, &t| s += huber::term(p, t, delta));
        }
        Loss::BceWithLogits => {
            Zip::from(&p)
                .and(&t)
                .for_each(|&z, &y| s += bce_with_logits::term(z, y));
        }
    }
    Ok(s / F::of(p.len() as f64))
}

/// `d loss / d p` into `g` (same shape and order as `p`), as the tape's loss backwards, for
/// rows of a batch of `batch_rows` rows (the mean's denominator).
pub(super) fn loss_backward<F: Float>(
    loss: Loss,
    p: ArrayView2<'_, F>,
    t: ArrayView2<'_, F>,
    mut g: ArrayViewMut2<'_, F>,
    batch_rows: usize,
) {
    if let Loss::CrossEntropy = loss {
        let scale = F::one() / F::of(batch_rows as f64);
        g.assign(&p);
        for (row, &y) in g.rows_mut().into_iter().zip(t.iter()) {
            cross_entropy::row_term_and_grad(row, y.to_usize().unwrap_or(0), scale);
        }
        return;
    }
    let s = F::one() / F::of((batch_rows * p.ncols()) as f64);
    let zip = Zip::from(&mut g).and(&p).and(&t);
    match loss {
        Loss::Mse => zip.for_each(|g, &p, &t| *g = mse::grad(p, t, s)),
        Loss::Mae => zip.for_each(|g, &p, &t| *g = mae::grad(p, t, s)),
        Loss::Huber { delta } => {
            let delta = F::of(delta);
            zip.for_each(|g, &p, &t| *g = huber::grad(p, t, delta, s));
        }
        Loss::BceWithLogits => zip.for_each(|g, &z, &y| *g = bce_with_logits::grad(z, y, s)),
        Loss::CrossEntropy => unreachable!("handled above"),
    }
}
