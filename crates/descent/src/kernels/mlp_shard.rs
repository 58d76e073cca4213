//! The MLP kernel as one process's share of a batch, bit-equal to the whole batch on one
//! process.
//!
//! The weight gradient `dW = gᵀ · input` sums over the batch's rows inside one matrix
//! product, whose order of additions is the GEMM's own: sums of parts of the batch added
//! afterwards would round differently. Everything else is row by row: the forward pass, the
//! loss's derivative (with the whole batch's denominator), and the gradient flowing back
//! through the layers (`g · W`, the activations' derivatives) give each row the same bits
//! whatever other rows share its product. So each process runs the forward and backward
//! passes on its own rows (an even split of the batch), keeps each linear layer's `g` and
//! input, and the processes gather those rows (`gather`, in rank order). Every process then
//! holds the whole batch's outputs and per-layer `g` and inputs, as the single process had
//! them, and computes the loss and the weight and bias gradients on them exactly as it did.
//! The row-wise work (about two thirds of the arithmetic) is split; the weight products are
//! not.

use std::ops::Range;

use ndarray::{s, ArrayView2, Zip};

use super::mlp::{
    gather, loss_backward, loss_forward, weight_grads, Buffer, MlpKernel, Stage, WeightGrads,
};
use crate::{Error, Float, Result};

/// Exchanges `f64` buffers between processes: given this process's and every process's
/// length, every process's buffer concatenated in rank order.
pub type Gather<'a> = &'a mut dyn FnMut(&[f64], &[usize]) -> Result<Vec<f64>>;

/// Process `rank` of `size`'s rows of a batch of `rows` rows: an even split, in order.
pub fn row_range(rows: usize, rank: usize, size: usize) -> Range<usize> {
    let size = size.max(1);
    rows * rank / size..rows * (rank + 1) / size
}

impl<F: Float> MlpKernel<F> {
    /// [`Self::loss_and_grad`] as process `rank` of `size` (its rows: [`row_range`]), the
    /// rows' outputs and per-layer gradients exchanged through `gather`: the same loss and
    /// gradient, bit for bit, on every process.
    #[allow(clippy::too_many_arguments)]
    pub fn shard_loss_and_grad(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        whole: bool,
        (rank, size): (usize, usize),
        grads: &mut [F],
        gather_rows: Gather<'_>,
    ) -> Result<F> {
        // The whole batch: every process holds the table (its first layer's input and the
        // targets are read here, not sent).
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
        let result = self.shard_of(params, xv, tv, (rank, size), grads, gather_rows);
        (self.x, self.t) = (xb, tb);
        result
    }

    fn shard_of(
        &mut self,
        params: &[F],
        x: ArrayView2<'_, F>,
        t: ArrayView2<'_, F>,
        (rank, size): (usize, usize),
        grads: &mut [F],
        gather_rows: Gather<'_>,
    ) -> Result<F> {
        let batch = x.nrows();
        let mine = row_range(batch, rank, size);
        // A process without rows runs one row it does not send, to learn the layouts.
        let run = if mine.is_empty() { 0..1 } else { mine.clone() };
        let xl = x.slice(s![run.clone(), ..]);
        let tl = t.slice(s![run, ..]);
        self.forward(params, xl);
        let out = self.outs.last().expect("at least one stage");
        self.g.shape(out.rows, out.cols, out.f_order);
        loss_backward(self.loss, out.view(), tl, self.g.view_mut(), batch);
        let mut kept = Vec::new();
        self.backward(params, xl, WeightGrads::Keep(&mut kept));
        // What each process sends, row by row: the output, each kept `g` (last layer
        // first), each linear layer's input after the first stage.
        let linear: Vec<usize> = (self.first_linear..self.stages.len())
            .rev()
            .filter(|&i| matches!(self.stages[i], Stage::Linear { .. }))
            .collect();
        let mut parts: Vec<&Buffer<F>> = vec![self.outs.last().expect("a stage")];
        parts.extend(kept.iter());
        parts.extend(
            linear
                .iter()
                .filter(|&&i| i > 0)
                .map(|&i| &self.outs[i - 1]),
        );
        let width: usize = parts.iter().map(|b| b.cols).sum();
        let mut send = Vec::with_capacity(mine.len() * width);
        if !mine.is_empty() {
            for b in &parts {
                send.extend(b.view().iter().map(|v| v.f64())); // logical (row-major) order
            }
        }
        let counts: Vec<usize> = (0..size)
            .map(|r| row_range(batch, r, size).len() * width)
            .collect();
        let all = gather_rows(&send, &counts)?;
        if all.len() != batch * width {
            return Err(Error::State(format!(
                "the gathered rows hold {} values, not the {} of {batch} rows",
                all.len(),
                batch * width
            )));
        }
        // The whole batch's buffers, in the layouts the single process's had.
        let mut whole: Vec<Buffer<F>> = Vec::with_capacity(parts.len());
        let mut col = 0;
        for b in &parts {
            let mut full = Buffer::default();
            full.shape(batch, b.cols, b.f_order);
            let mut at = 0;
            let mut v = full.view_mut();
            for r in 0..size {
                let rr = row_range(batch, r, size);
                let block = &all[at..at + rr.len() * width];
                let part = &block[col * rr.len()..(col + b.cols) * rr.len()];
                let part = ArrayView2::from_shape((rr.len(), b.cols), part).expect("rows x cols");
                Zip::from(v.slice_mut(s![rr.clone(), ..]))
                    .and(&part)
                    .for_each(|d, &s| *d = F::of(s));
                at += rr.len() * width;
            }
            col += b.cols;
            whole.push(full);
        }
        let loss = loss_forward(self.loss, whole[0].view(), t)?;
        if !loss.is_finite() {
            return Ok(loss);
        }
        let n_kept = kept.len();
        for (k, &i) in linear.iter().enumerate() {
            let Stage::Linear {
                n_in,
                n_out,
                weight,
                bias,
            } = &self.stages[i]
            else {
                continue;
            };
            let g = whole[1 + k].view();
            let input = if i == 0 {
                x
            } else {
                let j = linear.iter().filter(|&&l| l > 0).position(|&l| l == i);
                whole[1 + n_kept + j.expect("a later linear layer")].view()
            };
            weight_grads(
                self.pool,
                g,
                input,
                weight,
                bias.as_ref(),
                (*n_out, *n_in),
                grads,
            );
        }
        Ok(loss)
    }
}
