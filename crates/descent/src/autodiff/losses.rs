//! Fused losses (mean reduction, as PyTorch's default): forward on the tape, backward below.
//!
//! Fusing keeps them numerically stable (log-sum-exp forms, no `log(sigmoid)`) and fast: one
//! node, one pass, the gradient with respect to the prediction written directly. Each
//! loss's element math is in its own file under [`crate::loss`], shared with the kernels.

use ndarray::{Array2, Zip};

use super::tape::{Accumulator, Op, Tape, Var};
use crate::loss::{bce_with_logits, cross_entropy, huber, mae, mse, Loss};
use crate::{Error, Float, Result};

impl Loss {
    /// Records the loss of `pred` against `target` on the tape.
    pub fn apply<F: Float>(&self, tape: &mut Tape<F>, pred: Var, target: Var) -> Result<Var> {
        match *self {
            Loss::Mse => tape.mse_loss(pred, target),
            Loss::Mae => tape.mae_loss(pred, target),
            Loss::Huber { delta } => tape.huber_loss(pred, target, F::of(delta)),
            Loss::BceWithLogits => tape.bce_with_logits(pred, target),
            Loss::CrossEntropy => tape.cross_entropy(pred, target),
        }
    }
}

impl<F: Float> Tape<F> {
    fn same_shape(&self, op: &'static str, p: Var, t: Var) -> Result<()> {
        let (vp, vt) = (self.value(p), self.value(t));
        if vp.dim() != vt.dim() {
            return Err(Error::ShapeMismatch {
                op,
                lhs: vp.shape().to_vec(),
                rhs: vt.shape().to_vec(),
            });
        }
        Ok(())
    }

    fn mean_of(&mut self, p: Var, t: Var, f: impl Fn(F, F) -> F, op: Op<F>) -> Var {
        let vp = self.value(p);
        let mut s = F::zero();
        Zip::from(vp)
            .and(self.value(t))
            .for_each(|&p, &t| s += f(p, t));
        let n = F::of(vp.len() as f64);
        let needs = self.needs_grad(p);
        self.push(Array2::from_elem((1, 1), s / n), op, needs)
    }

    /// Mean squared error `mean (p - t)^2` (`torch.nn.MSELoss`, [`mse`]).
    pub fn mse_loss(&mut self, p: Var, t: Var) -> Result<Var> {
        self.same_shape("mse_loss", p, t)?;
        Ok(self.mean_of(p, t, mse::term, Op::Mse(p, t)))
    }

    /// Mean absolute error `mean |p - t|` (`torch.nn.L1Loss`, [`mae`]).
    pub fn mae_loss(&mut self, p: Var, t: Var) -> Result<Var> {
        self.same_shape("mae_loss", p, t)?;
        Ok(self.mean_of(p, t, mae::term, Op::Mae(p, t)))
    }

    /// Huber loss (`torch.nn.HuberLoss`, [`huber`]).
    pub fn huber_loss(&mut self, p: Var, t: Var, delta: F) -> Result<Var> {
        self.same_shape("huber_loss", p, t)?;
        Ok(self.mean_of(
            p,
            t,
            move |p, t| huber::term(p, t, delta),
            Op::Huber(p, t, delta),
        ))
    }

    /// Binary cross-entropy on logits (`torch.nn.BCEWithLogitsLoss`, [`bce_with_logits`]).
    pub fn bce_with_logits(&mut self, z: Var, t: Var) -> Result<Var> {
        self.same_shape("bce_with_logits", z, t)?;
        Ok(self.mean_of(z, t, bce_with_logits::term, Op::BceWithLogits(z, t)))
    }

    /// Softmax cross-entropy (`torch.nn.CrossEntropyLoss`, [`cross_entropy`]) of logits `z`
    /// (`n x k`) against class indices `t` (`n x 1`).
    pub fn cross_entropy(&mut self, z: Var, t: Var) -> Result<Var> {
        let (vz, vt) = (self.value(z), self.value(t));
        let (n, k) = vz.dim();
        if vt.dim() != (n, 1) {
            return Err(Error::ShapeMismatch {
                op: "cross_entropy (targets are n x 1 class indices)",
                lhs: vz.shape().to_vec(),
                rhs: vt.shape().to_vec(),
            });
        }
        let mut s = F::zero();
        for (row, &y) in vz.rows().into_iter().zip(vt.iter()) {
            s += cross_entropy::row_term(row, cross_entropy::class_index(y, k)?);
        }
        let needs = self.needs_grad(z);
        let out = Array2::from_elem((1, 1), s / F::of(n as f64));
        Ok(self.push(out, Op::CrossEntropy(z, t), needs))
    }
}

/// `f(p, t, g / N)` for every element.
fn scaled<F: Float>(
    tape: &Tape<F>,
    p: Var,
    t: Var,
    g: &Array2<F>,
    f: impl Fn(F, F, F) -> F,
) -> Array2<F> {
    let vp = tape.value(p);
    let scale = g[[0, 0]] / F::of(vp.len() as f64);
    let mut out = vp.clone();
    Zip::from(&mut out)
        .and(tape.value(t))
        .for_each(|p, &t| *p = f(*p, t, scale));
    out
}

pub(super) fn mse_backward<F: Float>(
    tape: &Tape<F>,
    p: Var,
    t: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    acc.add(p, scaled(tape, p, t, g, mse::grad));
}

pub(super) fn mae_backward<F: Float>(
    tape: &Tape<F>,
    p: Var,
    t: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    acc.add(p, scaled(tape, p, t, g, mae::grad));
}

pub(super) fn huber_backward<F: Float>(
    tape: &Tape<F>,
    p: Var,
    t: Var,
    delta: F,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let grad = move |p: F, t: F, s: F| huber::grad(p, t, delta, s);
    acc.add(p, scaled(tape, p, t, g, grad));
}

pub(super) fn bce_with_logits_backward<F: Float>(
    tape: &Tape<F>,
    z: Var,
    t: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    acc.add(z, scaled(tape, z, t, g, bce_with_logits::grad));
}

pub(super) fn cross_entropy_backward<F: Float>(
    tape: &Tape<F>,
    z: Var,
    t: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let vz = tape.value(z);
    let scale = g[[0, 0]] / F::of(vz.nrows() as f64);
    let mut out = vz.clone();
    for (row, &y) in out.rows_mut().into_iter().zip(tape.value(t).iter()) {
        // Labels were validated by the forward pass.
        cross_entropy::row_term_and_grad(row, y.to_usize().unwrap_or(0), scale);
    }
    acc.add(z, out);
}
