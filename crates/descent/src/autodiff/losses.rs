//! Fused losses (mean reduction, as PyTorch's default): forward on the tape, backward below.
//!
//! Fusing keeps them numerically stable (log-sum-exp forms, no `log(sigmoid)`) and fast: one
//! node, one pass, the gradient with respect to the prediction written directly.

use ndarray::{Array2, Zip};

use super::ops::sigmoid;
use super::tape::{Accumulator, Op, Tape, Var};
use crate::{Error, Float, Result};

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

    /// Mean squared error `mean (p - t)^2` (`torch.nn.MSELoss`).
    pub fn mse_loss(&mut self, p: Var, t: Var) -> Result<Var> {
        self.same_shape("mse_loss", p, t)?;
        Ok(self.mean_of(
            p,
            t,
            |p, t| {
                let d = p - t;
                d * d
            },
            Op::Mse(p, t),
        ))
    }

    /// Mean absolute error `mean |p - t|` (`torch.nn.L1Loss`).
    pub fn mae_loss(&mut self, p: Var, t: Var) -> Result<Var> {
        self.same_shape("mae_loss", p, t)?;
        Ok(self.mean_of(p, t, |p, t| (p - t).abs(), Op::Mae(p, t)))
    }

    /// Huber loss (`torch.nn.HuberLoss`): `0.5 d^2` if `|d| < delta`, else
    /// `delta (|d| - 0.5 delta)`, with `d = p - t`.
    pub fn huber_loss(&mut self, p: Var, t: Var, delta: F) -> Result<Var> {
        self.same_shape("huber_loss", p, t)?;
        let half = F::of(0.5);
        Ok(self.mean_of(
            p,
            t,
            move |p, t| {
                let d = (p - t).abs();
                if d < delta {
                    half * d * d
                } else {
                    delta * (d - half * delta)
                }
            },
            Op::Huber(p, t, delta),
        ))
    }

    /// Binary cross-entropy on logits (`torch.nn.BCEWithLogitsLoss`), in the stable form
    /// `mean max(z, 0) - z y + log(1 + exp(-|z|))`.
    pub fn bce_with_logits(&mut self, z: Var, t: Var) -> Result<Var> {
        self.same_shape("bce_with_logits", z, t)?;
        Ok(self.mean_of(
            z,
            t,
            |z, y| z.max(F::zero()) - z * y + (-z.abs()).exp().ln_1p(),
            Op::BceWithLogits(z, t),
        ))
    }

    /// Softmax cross-entropy (`torch.nn.CrossEntropyLoss`) of logits `z` (`n x k`) against
    /// class indices `t` (`n x 1`): `mean_i logsumexp(z_i) - z_i[t_i]`.
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
            let c = class_index(y, k)?;
            s += log_sum_exp(row.iter().copied()) - row[c];
        }
        let needs = self.needs_grad(z);
        let out = Array2::from_elem((1, 1), s / F::of(n as f64));
        Ok(self.push(out, Op::CrossEntropy(z, t), needs))
    }
}

pub(crate) fn class_index<F: Float>(y: F, k: usize) -> Result<usize> {
    let c = y.to_usize().filter(|&c| c < k && F::of(c as f64) == y);
    c.ok_or_else(|| {
        Error::Data(format!(
            "class label {y} is not an integer in 0..{k} for cross-entropy"
        ))
    })
}

/// `log(sum(exp(x)))`, shifted by the maximum so that nothing overflows.
pub(crate) fn log_sum_exp<F: Float>(xs: impl Iterator<Item = F> + Clone) -> F {
    let m = xs.clone().fold(F::neg_infinity(), F::max);
    if !m.is_finite() {
        return m;
    }
    m + xs.map(|x| (x - m).exp()).sum::<F>().ln()
}

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
    // torch: grad_input = (input - target) * (2 / numel * grad_output)
    let two = F::of(2.0);
    acc.add(p, scaled(tape, p, t, g, |p, t, s| (p - t) * (two * s)));
}

pub(super) fn mae_backward<F: Float>(
    tape: &Tape<F>,
    p: Var,
    t: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let sign = |d: F| {
        if d > F::zero() {
            F::one()
        } else if d < F::zero() {
            -F::one()
        } else {
            F::zero()
        }
    };
    acc.add(p, scaled(tape, p, t, g, |p, t, s| sign(p - t) * s));
}

pub(super) fn huber_backward<F: Float>(
    tape: &Tape<F>,
    p: Var,
    t: Var,
    delta: F,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let grad = move |p: F, t: F, s: F| {
        let d = p - t;
        if d < -delta {
            -s * delta
        } else if d > delta {
            s * delta
        } else {
            s * d
        }
    };
    acc.add(p, scaled(tape, p, t, g, grad));
}

pub(super) fn bce_with_logits_backward<F: Float>(
    tape: &Tape<F>,
    z: Var,
    t: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    acc.add(z, scaled(tape, z, t, g, |z, y, s| (sigmoid(z) - y) * s));
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
    for (mut row, &y) in out.rows_mut().into_iter().zip(tape.value(t).iter()) {
        let lse = log_sum_exp(row.iter().copied());
        row.mapv_inplace(|v| (v - lse).exp() * scale);
        // Labels were validated by the forward pass.
        let c = y.to_usize().unwrap_or(0);
        row[c] -= scale;
    }
    acc.add(z, out);
}
