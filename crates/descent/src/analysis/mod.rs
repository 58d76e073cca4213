//! Analysis tools: the questions one asks around a training run rather than inside it.
//!
//! - [`grid`]: exhaustive search over one or two hyper-parameters (a heat map);
//! - [`normal_equation`](mod@normal_equation): closed-form least squares, the answer gradient descent should reach;
//! - [`lr_bound`](mod@lr_bound): the largest stable learning rate of least squares from the Hessian's
//!   eigenvalues;
//! - [`gradcheck`](mod@gradcheck): autodiff gradients of a model against central finite differences;
//! - [`newton`]: Newton steps in 1-D, 2-D and for a small model's full Hessian;
//! - [`ema`](mod@ema): exponential moving averages with and without bias correction;
//! - [`lr_range`]: the learning-rate range test and its suggestion.
//!
//! Nothing here prints: every tool returns a value that the CLI or a test renders.

pub mod ema;
pub mod gradcheck;
pub mod grid;
pub mod lr_bound;
pub mod lr_range;
pub mod newton;
pub mod normal_equation;

pub use ema::{ema, ema_corrected, Ema};
pub use gradcheck::{gradcheck, GradCheck, GradCheckConfig, ViewError};
pub use grid::{grid_search_1d, grid_search_2d, Best, GridSearch, Range};
pub use lr_bound::{lr_bound, mse_hessian, LrBound, PowerIteration};
pub use lr_range::{lr_range_test, lr_range_test_model, LrRange, LrRangeConfig};
pub use newton::{
    model_hessian, newton_step_1d, newton_step_2d, newton_step_model, newton_step_objective,
};
pub use normal_equation::{normal_equation, LeastSquares};

use ndarray::ArrayView2;

use crate::autodiff::Tape;
use crate::loss::Loss;
use crate::nn::Sequential;
use crate::params::Params;
use crate::Result;

/// The loss of `model` at `params` on all rows of `(x, y)` and its gradient in flat layout.
pub fn loss_and_gradient(
    model: &Sequential,
    loss: Loss,
    params: &Params<f64>,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
) -> Result<(f64, Vec<f64>)> {
    let mut tape = Tape::new();
    let xv = tape.constant(x.to_owned());
    let yv = tape.constant(y.to_owned());
    let fwd = model.forward(&mut tape, params, xv)?;
    let l = loss.apply(&mut tape, fwd.output, yv)?;
    let value = tape.scalar(l);
    let gradients = tape.backward(l);
    let mut grads = vec![0.0; params.len()];
    model.gather_grads(&params.layout, &fwd, &gradients, &mut grads);
    Ok((value, grads))
}
