//! Tape-free loss-and-gradient kernels, the fast paths of the training loop, and the SIMD
//! loops they share. Each is tested equal to the autodiff tape (`tests/linear_kernel.rs`,
//! `tests/mlp_kernel.rs`, `tests/fused_steps.rs`).
//!
//! - [`LinearKernel`]: one-layer models (linear, logistic, softmax) in fixed chunks of rows,
//!   and fused per-sample SGD ([`LinearKernel::descend_rows`]);
//! - [`LinearPair`]: the linear kernel's shuffled batches cut between two threads, bit-equal
//!   to one;
//! - [`MlpKernel`]: multi-layer perceptrons with reused buffers and GEMM into preallocated
//!   outputs, bit-equal to the tape;
//! - [`MlpKernel::shard_loss_and_grad`]: the MLP kernel on one process's rows of a batch,
//!   bit-equal to the whole batch, for data-parallel runs;
//! - [`matmul`]: the matrix products of the tape and the MLP kernels (AVX-512 `gemm` or
//!   matrixmultiply), row-wise bit-exact;
//! - `vector`: dot, axpy and the SGD step along a row, portable and AVX2, same bits;
//! - [`log1p`]: `log(1 + x)` one at a time and four at a time, same bits (equal to glibc's),
//!   for the logistic loss;
//! - [`exp`]: `e^x` with glibc's bits, inlined into the kernels compiled with FMA.

pub mod exp;
mod linear;
mod linear_pair;
pub mod log1p;
pub mod matmul;
mod mlp;
mod mlp_shard;
pub(crate) mod vector;

pub use linear::{LinearKernel, CHUNK_ROWS};
pub use linear_pair::LinearPair;
pub use mlp::MlpKernel;
pub use mlp_shard::{row_range, Gather};
