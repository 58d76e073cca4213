//! Two-dimensional test functions for trajectory studies: how an optimizer moves on a bowl,
//! a narrow valley, a banana, several basins or a saddle.
//!
//! Every function has its exact gradient and Hessian (checked against central finite
//! differences in `tests/objective_fd.rs`), its known minima, a conventional start point and a
//! plot box. [`descend`] runs any [`DynOptimizer`](crate::optim::DynOptimizer) on one of them
//! and records the [`Trajectory`].

mod classic;
mod descend;
mod quadratic;

pub use classic::{Beale, Himmelblau, Rosenbrock};
pub use descend::{descend, descend_scheduled, Trajectory};
pub use quadratic::{Bowl, IllConditioned, MonkeySaddle, Quadratic, Saddle};

use crate::{Error, Result};

/// A smooth function of two variables with its derivatives.
pub trait Objective: Send + Sync + std::fmt::Debug {
    /// The name [`by_name`] accepts (`"rosenbrock"`, ...).
    fn name(&self) -> &'static str;
    /// `f(p)`.
    fn value(&self, p: [f64; 2]) -> f64;
    /// `∇f(p) = [∂f/∂x, ∂f/∂y]`.
    fn gradient(&self, p: [f64; 2]) -> [f64; 2];
    /// `∇²f(p)`, symmetric, `[[f_xx, f_xy], [f_yx, f_yy]]`.
    fn hessian(&self, p: [f64; 2]) -> [[f64; 2]; 2];
    /// The known (local and global) minima; empty for a function that has none (saddles).
    fn minima(&self) -> Vec<[f64; 2]>;
    /// A start point commonly used in the literature for this function.
    fn default_start(&self) -> [f64; 2];
    /// The plot box `(lower-left, upper-right)` that shows the interesting region.
    fn default_view(&self) -> ([f64; 2], [f64; 2]);
}

/// The names [`by_name`] accepts.
pub const NAMES: [&str; 7] = [
    "bowl",
    "ill-conditioned",
    "rosenbrock",
    "beale",
    "himmelblau",
    "saddle",
    "monkey-saddle",
];

/// The test function called `name`, with its default parameters.
pub fn by_name(name: &str) -> Result<Box<dyn Objective>> {
    Ok(match name {
        "bowl" => Box::new(Bowl),
        "ill-conditioned" => Box::new(IllConditioned::default()),
        "rosenbrock" => Box::new(Rosenbrock::default()),
        "beale" => Box::new(Beale),
        "himmelblau" => Box::new(Himmelblau),
        "saddle" => Box::new(Saddle),
        "monkey-saddle" => Box::new(MonkeySaddle),
        _ => {
            return Err(Error::invalid(
                "objective",
                name,
                format!("unknown test function; choose one of {}", NAMES.join(", ")),
            ))
        }
    })
}

/// Solves the 2 x 2 system `a d = g` by Cramer's rule; `None` when `a` is singular.
pub(crate) fn solve2(a: [[f64; 2]; 2], g: [f64; 2]) -> Option<[f64; 2]> {
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let d = [
        (g[0] * a[1][1] - a[0][1] * g[1]) / det,
        (a[0][0] * g[1] - a[1][0] * g[0]) / det,
    ];
    d.iter().all(|v| v.is_finite()).then_some(d)
}

/// Polishes an approximate stationary point of `f` with a few Newton steps (used to state
/// minima that are only known numerically to full precision).
pub(crate) fn polish(f: &dyn Objective, mut p: [f64; 2]) -> [f64; 2] {
    for _ in 0..8 {
        match solve2(f.hessian(p), f.gradient(p)) {
            Some(d) => p = [p[0] - d[0], p[1] - d[1]],
            None => break,
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_and_reports_itself() {
        for name in NAMES {
            assert_eq!(by_name(name).unwrap().name(), name);
        }
    }

    #[test]
    fn unknown_name_lists_the_choices() {
        let e = by_name("banana").unwrap_err().to_string();
        assert!(
            e.contains("rosenbrock") && e.contains("monkey-saddle"),
            "{e}"
        );
    }

    #[test]
    fn solve2_inverts_and_rejects_singular() {
        let d = solve2([[2.0, 1.0], [1.0, 3.0]], [3.0, 4.0]).unwrap();
        assert!((d[0] - 1.0).abs() < 1e-15 && (d[1] - 1.0).abs() < 1e-15);
        assert!(solve2([[1.0, 2.0], [2.0, 4.0]], [1.0, 1.0]).is_none());
    }
}
