//! [`GradientHook`]: a say between backward and the optimizer step.
//!
//! The gradient of every update passes through the run's hook after the engine computed it
//! and before clipping and the step; so does every epoch's mean loss before any decision is
//! taken on it (divergence, early stopping, a plateau schedule). A data-parallel run puts its
//! all-reduce here (each process sums its share of the batch, the hook combines them), so
//! that every process takes the same step and makes the same decision. With no hook the
//! gradient and the loss pass unchanged.

use super::Shard;
use crate::{Float, Result};

/// Sees and may change each update's gradient and each epoch's loss.
///
/// A hook that changes gradients makes the run take its gradients on every update: one-row
/// updates are then not fused in the kernel (the numbers are the same either way).
///
/// # Example
/// A hook that halves every gradient: SGD at lr 0.02 then takes the very steps (to the bit,
/// as halving and doubling are exact) of SGD at lr 0.01 without it.
/// ```
/// use descent::train::GradientHook;
/// use descent::{Run, RunSpec};
///
/// struct Halve;
///
/// impl GradientHook<f64> for Halve {
///     fn on_gradient(&mut self, _: usize, _: &mut f64, grads: &mut [f64]) -> descent::Result<()> {
///         grads.iter_mut().for_each(|g| *g *= 0.5);
///         Ok(())
///     }
/// }
///
/// let spec = RunSpec::builtin("beans").optimizer("sgd", 0.02).batch(10).epochs(5);
/// let mut halved = Run::<f64>::new(spec.clone())?;
/// halved.trainer.set_gradient_hook(Box::new(Halve));
/// halved.train(&mut [])?;
/// let plain = descent::fit(&spec.optimizer("sgd", 0.01))?;
/// assert_eq!(halved.model().params, plain.model.params);
/// # Ok::<(), descent::Error>(())
/// ```
pub trait GradientHook<F: Float>: Send {
    /// The gradient of update `step` (from 1) and its batch loss, before clipping and the
    /// optimizer step.
    fn on_gradient(&mut self, step: usize, loss: &mut f64, grads: &mut [F]) -> Result<()>;

    /// The mean training loss of `epoch` (from 1), before the divergence and early-stopping
    /// rules and the schedule see it.
    fn on_epoch_loss(&mut self, _epoch: usize, _loss: &mut f64) -> Result<()> {
        Ok(())
    }

    /// This process's share of every batch in a data-parallel run ([`Shard`]); `None` (the
    /// default): the whole batch.
    fn shard(&self) -> Option<Shard> {
        None
    }

    /// For a [`Shard`] with [`Combine::Ordered`](super::Combine::Ordered): the buffers of
    /// every process, concatenated in rank order, given this process's (`mine`) and the
    /// length of each process's (`counts`, one per rank; `counts[rank] == mine.len()`).
    /// Values travel as `f64`, which holds an `f32` exactly. The default is one process's.
    fn all_gather(&mut self, mine: &[f64], _counts: &[usize]) -> Result<Vec<f64>> {
        Ok(mine.to_vec())
    }

    /// For a [`Shard`] with [`Combine::Ordered`](super::Combine::Ordered): every process's
    /// part (`mine` here; `counts` their lengths, as for [`Self::all_gather`]) folded in
    /// rank order onto an empty carry, `fold(carry, part)` adding one part, the result
    /// (`len` values) on every process. `fold` over the concatenated parts and over the
    /// parts one after another give the same bits, so the hook may gather the parts and
    /// fold them (the default, through `all_gather`), or pass the carry from rank to rank;
    /// the bytes moved differ, the result does not.
    fn ordered_fold(
        &mut self,
        mine: &[f64],
        counts: &[usize],
        _len: usize,
        fold: &mut dyn FnMut(&mut Vec<f64>, &[f64]),
    ) -> Result<Vec<f64>> {
        let all = self.all_gather(mine, counts)?;
        let mut carry = Vec::new();
        fold(&mut carry, &all);
        Ok(carry)
    }
}
