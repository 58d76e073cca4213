//! The loss-and-gradient engine of a run: the autodiff tape, or a tape-free kernel
//! ([`crate::kernels`]), chosen once when a run starts from the model, the loss and the
//! layout of the table. The epoch loop sees only [`Engine::loss_and_grad`].

use ndarray::{ArrayView2, Axis};

use super::hook::GradientHook;
use super::shard::{chunk_range, Combine, Shard};
use crate::autodiff::Tape;
use crate::kernels::{LinearKernel, MlpKernel};
use crate::loss::Loss;
use crate::nn::{tape_loss, Sequential};
use crate::params::Params;
use crate::{Float, Result};

/// Computes a batch's mean loss and its gradient into the flat gradient buffer.
#[derive(Debug)]
pub(crate) enum Engine<F: Float> {
    /// The autodiff tape: any model, any layout (the reference the kernels are tested against).
    Tape(Tape<F>),
    /// One-layer models on a row-major table; also fuses per-sample SGD.
    Linear(LinearKernel<F>),
    /// Multi-layer perceptrons on row-major data, bit-equal to the tape.
    Mlp(MlpKernel<F>),
}

impl<F: Float> Engine<F> {
    /// The fastest engine that computes `model` under `loss` on a table like `x` (row-major
    /// tables take a kernel, others the tape).
    pub(crate) fn choose(
        model: &Sequential,
        loss: Loss,
        x: ArrayView2<'_, F>,
        threads: usize,
    ) -> Self {
        if let Some(k) = LinearKernel::new(model, loss).filter(|k| k.accepts(x)) {
            return Engine::Linear(k.with_threads(threads));
        }
        match MlpKernel::new(model, loss) {
            Some(k) if x.is_standard_layout() => Engine::Mlp(k.with_threads(threads)),
            _ => Engine::Tape(Tape::new()),
        }
    }

    /// The engine's name, for benchmarks and messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Engine::Tape(_) => "tape",
            Engine::Linear(_) => "linear kernel",
            Engine::Mlp(_) => "mlp kernel",
        }
    }

    /// The linear kernel, when it is the engine (for fused per-sample steps).
    pub(crate) fn linear(&mut self) -> Option<&mut LinearKernel<F>> {
        match self {
            Engine::Linear(k) => Some(k),
            _ => None,
        }
    }

    /// The mean loss of the batch `rows` of `(x, y)` (all rows in order when `whole`) at
    /// `params`, its gradient written into `grads`. A batch the chosen kernel cannot read
    /// (a shape it was not built for) goes through the tape, which reports any error.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn loss_and_grad(
        &mut self,
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        whole: bool,
        grads: &mut [F],
    ) -> Result<f64> {
        match self {
            Engine::Linear(k) if k.accepts(x) => {
                Ok(k.loss_and_grad(&params.values, x, y, rows, grads).f64())
            }
            Engine::Mlp(k) if k.accepts(x, y) => Ok(k
                .loss_and_grad(&params.values, x, y, rows, whole, grads)?
                .f64()),
            Engine::Tape(tape) => {
                tape_loss_and_grad(tape, model, loss, params, x, y, rows, whole, grads)
            }
            _ => tape_loss_and_grad(
                &mut Tape::new(),
                model,
                loss,
                params,
                x,
                y,
                rows,
                whole,
                grads,
            ),
        }
    }
}

impl<F: Float> Engine<F> {
    /// [`Self::loss_and_grad`] in a data-parallel run, as this process's `shard` of the
    /// batch (see [`Shard`]). The linear kernel computes this process's chunks only; under
    /// [`Combine::Ordered`] it gathers every process's chunk sums through `hook` and adds
    /// them in global order (the single process's bits), under [`Combine::Sum`] it leaves
    /// this process's part for the hook to sum. The other engines compute the whole batch
    /// on every process (their matrix products do not split on chunks); under
    /// [`Combine::Sum`] the ranks after the first then contribute zero.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn shard_loss_and_grad(
        &mut self,
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        whole: bool,
        grads: &mut [F],
        shard: Shard,
        hook: &mut dyn GradientHook<F>,
    ) -> Result<f64> {
        let kernel = match self {
            Engine::Linear(k) if k.accepts(x) => k,
            Engine::Mlp(k) if k.accepts(x, y) && !rows.is_empty() => {
                let mut gather = |mine: &[f64], counts: &[usize]| hook.all_gather(mine, counts);
                let place = (shard.rank, shard.size);
                let l = k
                    .shard_loss_and_grad(
                        &params.values,
                        x,
                        y,
                        rows,
                        whole,
                        place,
                        grads,
                        &mut gather,
                    )?
                    .f64();
                return Ok(rank_0_only(shard, l, grads));
            }
            _ => {
                let l = self.loss_and_grad(model, loss, params, x, y, rows, whole, grads)?;
                return Ok(rank_0_only(shard, l, grads));
            }
        };
        let chunks = LinearKernel::<F>::chunk_count(rows.len());
        let record = grads.len() + 1;
        let mut mine = Vec::new();
        let range = chunk_range(chunks, shard.rank, shard.size);
        kernel.chunk_sums(&params.values, x, y, rows, range, &[], &mut mine);
        if shard.combine == Combine::Sum {
            return Ok(kernel.combine_chunks(rows.len(), &mine, grads).f64());
        }
        let counts: Vec<usize> = (0..shard.size)
            .map(|r| chunk_range(chunks, r, shard.size).len() * record)
            .collect();
        let wide: Vec<f64> = mine.iter().map(|v| v.f64()).collect();
        let n = grads.len();
        let kernel = &*kernel;
        let mut fold = |carry: &mut Vec<f64>, part: &[f64]| {
            let part: Vec<F> = part.iter().map(|&v| F::of(v)).collect();
            kernel.fold_chunks(n, carry, &part);
        };
        let carry = hook.ordered_fold(&wide, &counts, n + 2, &mut fold)?;
        if carry.len() != n + 2 || carry[0] != chunks as f64 {
            return Err(crate::Error::State(format!(
                "the combined chunk sums hold {} values for {} chunks, not the {} values of {chunks} chunks",
                carry.len(),
                carry.first().copied().unwrap_or(0.0),
                n + 2
            )));
        }
        Ok(kernel.finish_fold(rows.len(), &carry, grads).f64())
    }
}

/// A whole batch's loss and gradient, held by every process, as the part each contributes
/// to the hook's sum under [`Combine::Sum`]: all of it on rank 0, zero on the others.
fn rank_0_only<F: Float>(shard: Shard, loss: f64, grads: &mut [F]) -> f64 {
    if shard.combine == Combine::Sum && shard.rank > 0 {
        grads.fill(F::zero());
        return 0.0;
    }
    loss
}

/// Loss of the batch `rows` and its gradient (into `grads`) through the autodiff tape.
#[allow(clippy::too_many_arguments)]
fn tape_loss_and_grad<F: Float>(
    tape: &mut Tape<F>,
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: ArrayView2<'_, F>,
    y: ArrayView2<'_, F>,
    rows: &[usize],
    whole: bool,
    grads: &mut [F],
) -> Result<f64> {
    let (xb, yb) = if whole {
        (x.to_owned(), y.to_owned())
    } else {
        (x.select(Axis(0), rows), y.select(Axis(0), rows))
    };
    tape_loss(tape, model, loss, params, xb, yb, Some(grads))
}
