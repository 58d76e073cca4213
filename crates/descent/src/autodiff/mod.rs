//! Reverse-mode automatic differentiation on a tape of 2-D tensor ops.
//!
//! A [`Tape`] is an arena of nodes; a [`Var`] is an index into it. Every op appends one node
//! holding its value and the handles of its inputs, so the tape is already in topological
//! order and [`Tape::backward`] is one reversed loop that accumulates gradients with `+=`
//! (micrograd's design, on matrices). Each op's backward sits next to its forward: see
//! `ops.rs` (arithmetic, matmul, activations, reductions) and `losses.rs` (fused, numerically
//! stable losses).
//!
//! Every value is an `ndarray::Array2`; a scalar is `1 x 1`, a bias is a row `1 x n`. Binary
//! ops broadcast a `1 x n` row or a `1 x 1` scalar on the right-hand side over the rows of the
//! left-hand side.

mod losses;
mod ops;
mod tape;

pub use tape::{Gradients, Tape, Var};
