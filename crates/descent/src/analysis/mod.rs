//! Analysis tools: the questions one asks around a training run rather than inside it.
//!
//! - [`grid`]: exhaustive search over one or two hyper-parameters (a heat map);
//! - [`normal_equation`](mod@normal_equation): closed-form least squares (minimum-norm when
//!   rank deficient), the answer gradient descent should reach;
//! - [`curvature`](mod@curvature): the extreme eigenvalues, rank and condition number of the
//!   least-squares Hessian (dense SVD or Lanczos), unknowns kept as `None`;
//! - [`bounds`]: the largest stable constant learning rate of each SGD form (momentum,
//!   Nesterov, dampening, EMA, weight decay) from `λ_max`;
//! - [`optima`]: the fastest fixed step and heavy ball, their rates and predicted iterations;
//! - [`lr_bound`](mod@lr_bound): plain gradient descent's bound (superseded by the three
//!   above, kept for its callers);
//! - [`gradcheck`](mod@gradcheck): autodiff gradients of a model against central finite
//!   differences;
//! - [`newton`]: Newton steps in 1-D, 2-D and for a small model's full Hessian;
//! - [`ema`](mod@ema): exponential moving averages with and without bias correction;
//! - [`lr_range`]: the learning-rate range test and its suggestion.
//!
//! Nothing here prints: every tool returns a value that the CLI or a test renders.

pub mod bounds;
pub mod curvature;
pub mod ema;
pub mod gradcheck;
pub mod grid;
pub mod lr_bound;
pub mod lr_range;
pub mod newton;
pub mod normal_equation;
pub mod optima;

pub use bounds::{stable_lr, stable_lr_of, SgdForm, StableLr, StepRule};
pub use curvature::{curvature, Curvature, CurvatureConfig, CurvatureMethod, DENSE_LIMIT};
pub use ema::{ema, ema_corrected, Ema};
pub use gradcheck::{gradcheck, GradCheck, GradCheckConfig, ViewError};
pub use grid::{grid_search_1d, grid_search_2d, Best, GridSearch, Range};
pub use lr_bound::{lr_bound, mse_hessian, LrBound, PowerIteration};
pub use lr_range::{lr_range_test, lr_range_test_model, LrRange, LrRangeConfig};
pub use newton::{
    model_hessian, newton_step_1d, newton_step_2d, newton_step_model, newton_step_objective,
};
pub use normal_equation::{normal_equation, LeastSquares, LeastSquaresMethod};
pub use optima::{
    best_lr_for_momentum, optimal_gd, optimal_heavy_ball, predicted_iterations, rate_of, Spectrum,
    Tuning,
};

use ndarray::ArrayView2;

use crate::autodiff::Tape;
use crate::loss::Loss;
use crate::nn::{tape_loss, Sequential};
use crate::params::Params;
use crate::Result;

/// The loss of `model` at `params` on all rows of `(x, y)` and its gradient in flat layout
/// (zeros when the loss is not finite).
pub fn loss_and_gradient(
    model: &Sequential,
    loss: Loss,
    params: &Params<f64>,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
) -> Result<(f64, Vec<f64>)> {
    let mut grads = vec![0.0; params.len()];
    let (x, y) = (x.to_owned(), y.to_owned());
    let value = tape_loss(
        &mut Tape::new(),
        model,
        loss,
        params,
        x,
        y,
        Some(&mut grads),
    )?;
    Ok((value, grads))
}
