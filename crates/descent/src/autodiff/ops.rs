//! Tensor ops: each forward (a `Tape` method) with its backward right below it.

use ndarray::{Array2, Axis, Zip};

use super::tape::{Accumulator, Op, Tape, Var};
use crate::kernels::matmul::dot;
use crate::{Error, Float, Result};

fn shape<F>(a: &Array2<F>) -> Vec<usize> {
    a.shape().to_vec()
}

/// Whether `rhs` can be broadcast over `lhs`: same shape, a `1 x n` row, or a `1 x 1` scalar.
fn broadcastable<F>(lhs: &Array2<F>, rhs: &Array2<F>) -> bool {
    let (m, n) = lhs.dim();
    let (r, c) = rhs.dim();
    (r == m || r == 1) && (c == n || (r == 1 && c == 1))
}

impl<F: Float> Tape<F> {
    fn binary(
        &mut self,
        op_name: &'static str,
        a: Var,
        b: Var,
        f: impl Fn(F, F) -> F,
        op: Op<F>,
    ) -> Result<Var> {
        let (va, vb) = (self.value(a), self.value(b));
        if !broadcastable(va, vb) {
            return Err(Error::ShapeMismatch {
                op: op_name,
                lhs: shape(va),
                rhs: shape(vb),
            });
        }
        let mut out = va.clone();
        Zip::from(&mut out)
            .and_broadcast(vb)
            .for_each(|x, &y| *x = f(*x, y));
        let needs = self.needs_grad(a) || self.needs_grad(b);
        Ok(self.push(out, op, needs))
    }

    fn unary(&mut self, a: Var, f: impl Fn(F) -> F, op: Op<F>) -> Var {
        let out = self.value(a).mapv(f);
        let needs = self.needs_grad(a);
        self.push(out, op, needs)
    }

    /// `a + b` (b broadcast as a row or scalar).
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary("add", a, b, |x, y| x + y, Op::Add(a, b))
    }

    /// `a - b` (b broadcast as a row or scalar).
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary("sub", a, b, |x, y| x - y, Op::Sub(a, b))
    }

    /// `a * b` element-wise (b broadcast as a row or scalar).
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary("mul", a, b, |x, y| x * y, Op::Mul(a, b))
    }

    /// `a / b` element-wise (b broadcast as a row or scalar).
    pub fn div(&mut self, a: Var, b: Var) -> Result<Var> {
        self.binary("div", a, b, |x, y| x / y, Op::Div(a, b))
    }

    /// `-a`.
    pub fn neg(&mut self, a: Var) -> Var {
        self.unary(a, |x| -x, Op::Neg(a))
    }

    /// `a ^ p` element-wise.
    pub fn powf(&mut self, a: Var, p: F) -> Var {
        self.unary(a, |x| x.powf(p), Op::Powf(a, p))
    }

    /// `a * a` element-wise.
    pub fn square(&mut self, a: Var) -> Var {
        self.powf(a, F::of(2.0))
    }

    /// `exp(a)`.
    pub fn exp(&mut self, a: Var) -> Var {
        self.unary(a, F::exp, Op::Exp(a))
    }

    /// Natural logarithm.
    pub fn log(&mut self, a: Var) -> Var {
        self.unary(a, F::ln, Op::Log(a))
    }

    /// Logistic sigmoid `1 / (1 + exp(-a))`.
    pub fn sigmoid(&mut self, a: Var) -> Var {
        self.unary(a, sigmoid, Op::Sigmoid(a))
    }

    /// Hyperbolic tangent.
    pub fn tanh(&mut self, a: Var) -> Var {
        self.unary(a, F::tanh, Op::Tanh(a))
    }

    /// `max(a, 0)`.
    pub fn relu(&mut self, a: Var) -> Var {
        self.unary(
            a,
            |x| if x > F::zero() { x } else { F::zero() },
            Op::Relu(a),
        )
    }

    /// Sum of all elements, as a `1 x 1` scalar.
    pub fn sum(&mut self, a: Var) -> Var {
        let s = self.value(a).sum();
        let needs = self.needs_grad(a);
        self.push(Array2::from_elem((1, 1), s), Op::Sum(a), needs)
    }

    /// Mean of all elements, as a `1 x 1` scalar.
    pub fn mean(&mut self, a: Var) -> Var {
        let v = self.value(a);
        let s = v.sum() / F::of(v.len() as f64);
        let needs = self.needs_grad(a);
        self.push(Array2::from_elem((1, 1), s), Op::Mean(a), needs)
    }

    /// Matrix product `a · b`.
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        let (va, vb) = (self.value(a), self.value(b));
        if va.ncols() != vb.nrows() {
            return Err(Error::ShapeMismatch {
                op: "matmul",
                lhs: shape(va),
                rhs: shape(vb),
            });
        }
        let out = dot(true, va.view(), vb.view());
        let needs = self.needs_grad(a) || self.needs_grad(b);
        Ok(self.push(out, Op::MatMul(a, b), needs))
    }

    /// The affine map of `torch.nn.Linear`: `x · wᵀ + b`, with `w` as `[out][in]` and `b` a
    /// `1 x out` row; fused so that the bias is added in place.
    pub fn linear(&mut self, x: Var, w: Var, b: Option<Var>) -> Result<Var> {
        let (vx, vw) = (self.value(x), self.value(w));
        if vx.ncols() != vw.ncols() {
            return Err(Error::ShapeMismatch {
                op: "linear",
                lhs: shape(vx),
                rhs: shape(vw),
            });
        }
        let mut out = dot(true, vx.view(), vw.t());
        if let Some(b) = b {
            let vb = self.value(b);
            if vb.dim() != (1, vw.nrows()) {
                return Err(Error::ShapeMismatch {
                    op: "linear bias",
                    lhs: shape(vw),
                    rhs: shape(vb),
                });
            }
            out += vb;
        }
        let needs =
            self.needs_grad(x) || self.needs_grad(w) || b.is_some_and(|b| self.needs_grad(b));
        Ok(self.push(out, Op::Linear(x, w, b), needs))
    }
}

/// torch's sigmoid, the one the BCE loss uses.
pub(crate) use crate::loss::bce_with_logits::sigmoid;

pub(super) fn add_backward<F: Float>(a: Var, b: Var, g: &Array2<F>, acc: &mut Accumulator<F>) {
    acc.add(a, g.clone());
    acc.add(b, g.clone());
}

pub(super) fn sub_backward<F: Float>(a: Var, b: Var, g: &Array2<F>, acc: &mut Accumulator<F>) {
    acc.add(a, g.clone());
    acc.add(b, g.mapv(|v| -v));
}

/// Broadcasts `rhs` to the shape of `g` and combines element-wise.
fn zip_broadcast<F: Float>(g: &Array2<F>, rhs: &Array2<F>, f: impl Fn(F, F) -> F) -> Array2<F> {
    let mut out = g.clone();
    Zip::from(&mut out)
        .and_broadcast(rhs)
        .for_each(|x, &y| *x = f(*x, y));
    out
}

pub(super) fn mul_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    b: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    if acc.wants(a) {
        acc.add(a, zip_broadcast(g, tape.value(b), |g, b| g * b));
    }
    if acc.wants(b) {
        let mut gb = g.clone();
        Zip::from(&mut gb)
            .and(tape.value(a))
            .for_each(|g, &a| *g *= a);
        acc.add(b, gb);
    }
}

pub(super) fn div_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    b: Var,
    y: &Array2<F>,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    if acc.wants(a) {
        acc.add(a, zip_broadcast(g, tape.value(b), |g, b| g / b));
    }
    if acc.wants(b) {
        // d(a/b)/db = -(a/b)/b = -y/b
        let mut gb = zip_broadcast(g, tape.value(b), |g, b| g / b);
        Zip::from(&mut gb).and(y).for_each(|g, &y| *g = -*g * y);
        acc.add(b, gb);
    }
}

pub(super) fn powf_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    p: F,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let mut ga = g.clone();
    Zip::from(&mut ga)
        .and(tape.value(a))
        .for_each(|g, &x| *g = *g * p * x.powf(p - F::one()));
    acc.add(a, ga);
}

pub(super) fn sum_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    acc.add(a, Array2::from_elem(tape.value(a).dim(), g[[0, 0]]));
}

pub(super) fn mean_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let dim = tape.value(a).dim();
    let n = F::of((dim.0 * dim.1) as f64);
    acc.add(a, Array2::from_elem(dim, g[[0, 0]] / n));
}

pub(super) fn sigmoid_backward<F: Float>(
    a: Var,
    y: &Array2<F>,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    // torch's sigmoid_backward: grad * (1 - y) * y
    let mut ga = g.clone();
    Zip::from(&mut ga)
        .and(y)
        .for_each(|g, &y| *g = *g * (F::one() - y) * y);
    acc.add(a, ga);
}

pub(super) fn tanh_backward<F: Float>(
    a: Var,
    y: &Array2<F>,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    // torch's tanh_backward: grad * (1 - y^2)
    let mut ga = g.clone();
    Zip::from(&mut ga)
        .and(y)
        .for_each(|g, &y| *g *= F::one() - y * y);
    acc.add(a, ga);
}

pub(super) fn relu_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    let mut ga = g.clone();
    Zip::from(&mut ga).and(tape.value(a)).for_each(|g, &x| {
        if x <= F::zero() {
            *g = F::zero()
        }
    });
    acc.add(a, ga);
}

pub(super) fn matmul_backward<F: Float>(
    tape: &Tape<F>,
    a: Var,
    b: Var,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    if acc.wants(a) {
        acc.add(a, dot(true, g.view(), tape.value(b).t()));
    }
    if acc.wants(b) {
        acc.add(b, dot(false, tape.value(a).t(), g.view()));
    }
}

pub(super) fn linear_backward<F: Float>(
    tape: &Tape<F>,
    x: Var,
    w: Var,
    b: Option<Var>,
    g: &Array2<F>,
    acc: &mut Accumulator<F>,
) {
    if acc.wants(x) {
        acc.add(x, dot(true, g.view(), tape.value(w).view()));
    }
    if acc.wants(w) {
        acc.add(w, dot(false, g.t(), tape.value(x).view()));
    }
    if let Some(b) = b {
        if acc.wants(b) {
            acc.add(b, g.sum_axis(Axis(0)).insert_axis(Axis(0)));
        }
    }
}
