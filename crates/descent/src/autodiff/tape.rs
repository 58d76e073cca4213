//! The tape: node arena, handles, and the reverse sweep.

use ndarray::Array2;

use super::{losses, ops};
use crate::Float;

/// A handle to a node on a [`Tape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var(pub(crate) usize);

/// How a node was made: the op and its inputs (constants ride along where the op needs them).
#[derive(Debug)]
pub(crate) enum Op<F> {
    Leaf,
    MatMul(Var, Var),
    Linear(Var, Var, Option<Var>),
    Add(Var, Var),
    Sub(Var, Var),
    Mul(Var, Var),
    Div(Var, Var),
    Neg(Var),
    Powf(Var, F),
    Exp(Var),
    Log(Var),
    Sum(Var),
    Mean(Var),
    Sigmoid(Var),
    Tanh(Var),
    Relu(Var),
    Mse(Var, Var),
    Mae(Var, Var),
    Huber(Var, Var, F),
    BceWithLogits(Var, Var),
    CrossEntropy(Var, Var),
}

#[derive(Debug)]
pub(crate) struct Node<F> {
    pub(crate) value: Array2<F>,
    pub(crate) op: Op<F>,
    pub(crate) needs_grad: bool,
}

/// An append-only record of tensor ops, differentiated by [`Tape::backward`].
#[derive(Debug, Default)]
pub struct Tape<F> {
    pub(crate) nodes: Vec<Node<F>>,
}

/// Gradients of one scalar with respect to every node that needs one.
#[derive(Debug)]
pub struct Gradients<F> {
    grads: Vec<Option<Array2<F>>>,
}

impl<F: Float> Gradients<F> {
    /// The gradient with respect to `v`, or `None` if `v` does not influence the output
    /// (or is a constant).
    pub fn get(&self, v: Var) -> Option<&Array2<F>> {
        self.grads.get(v.0).and_then(Option::as_ref)
    }
}

impl<F: Float> Tape<F> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape { nodes: Vec::new() }
    }

    /// Number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node has been recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Forgets every node, keeping the arena's capacity for the next step.
    pub fn clear(&mut self) {
        self.nodes.clear();
    }

    /// A leaf that gradients flow to (a parameter).
    pub fn param(&mut self, value: Array2<F>) -> Var {
        self.push(value, Op::Leaf, true)
    }

    /// A leaf that gradients do not flow to (data, targets).
    pub fn constant(&mut self, value: Array2<F>) -> Var {
        self.push(value, Op::Leaf, false)
    }

    /// The value of a node.
    pub fn value(&self, v: Var) -> &Array2<F> {
        &self.nodes[v.0].value
    }

    /// The value of a `1 x 1` node as a scalar.
    pub fn scalar(&self, v: Var) -> F {
        self.nodes[v.0].value[[0, 0]]
    }

    pub(crate) fn needs_grad(&self, v: Var) -> bool {
        self.nodes[v.0].needs_grad
    }

    pub(crate) fn push(&mut self, value: Array2<F>, op: Op<F>, needs_grad: bool) -> Var {
        self.nodes.push(Node {
            value,
            op,
            needs_grad,
        });
        Var(self.nodes.len() - 1)
    }

    /// Reverse sweep from the scalar `output`: d output / d node for every node that needs it.
    ///
    /// # Panics
    /// If `output` is not `1 x 1` (a programming error, not a user-input error).
    pub fn backward(&self, output: Var) -> Gradients<F> {
        assert_eq!(
            self.nodes[output.0].value.dim(),
            (1, 1),
            "backward starts from a scalar"
        );
        let mut grads: Vec<Option<Array2<F>>> = (0..self.nodes.len()).map(|_| None).collect();
        grads[output.0] = Some(Array2::from_elem((1, 1), F::one()));
        for i in (0..=output.0).rev() {
            let Some(g) = grads[i].take() else { continue };
            let node = &self.nodes[i];
            if node.needs_grad && !matches!(node.op, Op::Leaf) {
                let mut acc = Accumulator {
                    tape: self,
                    grads: &mut grads,
                };
                self.backward_node(node, &g, &mut acc);
            }
            grads[i] = Some(g);
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.needs_grad {
                grads[i] = None;
            }
        }
        Gradients { grads }
    }

    fn backward_node(&self, node: &Node<F>, g: &Array2<F>, acc: &mut Accumulator<'_, F>) {
        let y = &node.value;
        match node.op {
            Op::Leaf => {}
            Op::MatMul(a, b) => ops::matmul_backward(self, a, b, g, acc),
            Op::Linear(x, w, b) => ops::linear_backward(self, x, w, b, g, acc),
            Op::Add(a, b) => ops::add_backward(a, b, g, acc),
            Op::Sub(a, b) => ops::sub_backward(a, b, g, acc),
            Op::Mul(a, b) => ops::mul_backward(self, a, b, g, acc),
            Op::Div(a, b) => ops::div_backward(self, a, b, y, g, acc),
            Op::Neg(a) => acc.add(a, g.mapv(|v| -v)),
            Op::Powf(a, p) => ops::powf_backward(self, a, p, g, acc),
            Op::Exp(a) => acc.add(a, g * y),
            Op::Log(a) => acc.add(a, g / self.value(a)),
            Op::Sum(a) => ops::sum_backward(self, a, g, acc),
            Op::Mean(a) => ops::mean_backward(self, a, g, acc),
            Op::Sigmoid(a) => ops::sigmoid_backward(a, y, g, acc),
            Op::Tanh(a) => ops::tanh_backward(a, y, g, acc),
            Op::Relu(a) => ops::relu_backward(self, a, g, acc),
            Op::Mse(p, t) => losses::mse_backward(self, p, t, g, acc),
            Op::Mae(p, t) => losses::mae_backward(self, p, t, g, acc),
            Op::Huber(p, t, d) => losses::huber_backward(self, p, t, d, g, acc),
            Op::BceWithLogits(z, t) => losses::bce_with_logits_backward(self, z, t, g, acc),
            Op::CrossEntropy(z, t) => losses::cross_entropy_backward(self, z, t, g, acc),
        }
    }
}

/// Adds contributions into the gradient slots of a node's inputs, reducing broadcast shapes.
pub(crate) struct Accumulator<'a, F> {
    tape: &'a Tape<F>,
    grads: &'a mut Vec<Option<Array2<F>>>,
}

impl<F: Float> Accumulator<'_, F> {
    /// `grad[v] += g`, summing `g` over broadcast rows/columns when `v` is a row or a scalar.
    pub(crate) fn add(&mut self, v: Var, g: Array2<F>) {
        if !self.tape.needs_grad(v) {
            return;
        }
        let shape = self.tape.nodes[v.0].value.dim();
        let g = reduce_to(g, shape);
        match &mut self.grads[v.0] {
            Some(existing) => *existing += &g,
            slot @ None => *slot = Some(g),
        }
    }

    pub(crate) fn wants(&self, v: Var) -> bool {
        self.tape.needs_grad(v)
    }
}

/// Sums a gradient down to the shape of a broadcast operand (`1 x n` row or `1 x 1`).
fn reduce_to<F: Float>(g: Array2<F>, shape: (usize, usize)) -> Array2<F> {
    if g.dim() == shape {
        return g;
    }
    let rows = g.sum_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0));
    if rows.dim() == shape {
        return rows;
    }
    Array2::from_elem((1, 1), rows.sum())
}
