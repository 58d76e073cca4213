//! Running an optimizer on a 2-D test function and recording where it goes.

use super::Objective;
use crate::optim::DynOptimizer;
use crate::schedule::Scheduler;

/// The path of an optimizer on an [`Objective`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    /// The start and the point after every step, `points[0]` being the start.
    pub points: Vec<[f64; 2]>,
    /// `f` at each point.
    pub values: Vec<f64>,
    /// Whether the run stopped early because a point or value became NaN or infinite (the
    /// non-finite point is not recorded).
    pub diverged: bool,
}

/// Runs `steps` updates of `optimizer` on `objective` from `start` with a constant `lr`.
///
/// # Algorithm
/// ```text
/// p_0 = start
/// for t = 1..steps:  p_t = optimizer.step(lr, p_{t-1}, ∇f(p_{t-1}))
/// stop early (keeping p_0..p_{t-1}) if p_t or f(p_t) is not finite
/// ```
/// The optimizer must have been built for 2 parameters (one group `0..2`).
///
/// # Example
/// ```
/// use descent::objective::{descend, Bowl, Objective};
/// // On the bowl x² + y², SGD at lr 0.1 shrinks the point by 0.8 every step.
/// let mut sgd = descent::optim::build::<f64>("sgd", 0.1, 2)?;
/// let path = descend(&Bowl, sgd.as_mut(), 0.1, Bowl.default_start(), 100);
/// assert_eq!(path.points.len(), 101);
/// let [x1, y1] = path.points[1];
/// assert!((x1 + 3.2).abs() < 1e-15 && (y1 - 2.4).abs() < 1e-15);
/// let [x, y] = path.points[100];
/// assert!(x.hypot(y) < 1e-8 && !path.diverged);
/// # Ok::<(), descent::Error>(())
/// ```
pub fn descend(
    objective: &dyn Objective,
    optimizer: &mut dyn DynOptimizer<f64>,
    lr: f64,
    start: [f64; 2],
    steps: usize,
) -> Trajectory {
    run(objective, optimizer, &mut |_| lr, start, steps)
}

/// As [`descend`], with the learning rate from `schedule`, stepped once per update with the
/// value reached (as `SchedulePer::Step` in the trainer).
pub fn descend_scheduled(
    objective: &dyn Objective,
    optimizer: &mut dyn DynOptimizer<f64>,
    schedule: &mut dyn Scheduler,
    start: [f64; 2],
    steps: usize,
) -> Trajectory {
    let mut lr_at = |value: Option<f64>| {
        if let Some(v) = value {
            schedule.step(v);
        }
        schedule.lr()
    };
    run(objective, optimizer, &mut lr_at, start, steps)
}

/// The shared loop; `lr_at(previous value)` gives the learning rate of the next step
/// (`None` before the first step).
fn run(
    objective: &dyn Objective,
    optimizer: &mut dyn DynOptimizer<f64>,
    lr_at: &mut dyn FnMut(Option<f64>) -> f64,
    start: [f64; 2],
    steps: usize,
) -> Trajectory {
    let mut p = start;
    let mut t = Trajectory {
        points: vec![p],
        values: vec![objective.value(p)],
        diverged: false,
    };
    if !t.values[0].is_finite() {
        t.diverged = true;
        return t;
    }
    for step in 0..steps {
        let lr = lr_at((step > 0).then(|| t.values[step]));
        let g = objective.gradient(p);
        optimizer.step(lr, &mut p, &g);
        let v = objective.value(p);
        if !(v.is_finite() && p.iter().all(|x| x.is_finite())) {
            t.diverged = true;
            break;
        }
        t.points.push(p);
        t.values.push(v);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{Bowl, IllConditioned};
    use crate::optim;

    #[test]
    fn sgd_on_bowl_halves_towards_the_minimum() {
        let mut opt = optim::build::<f64>("sgd", 0.25, 2).unwrap();
        let t = descend(&Bowl, opt.as_mut(), 0.25, [4.0, -2.0], 3);
        // p <- p - 0.25 * 2 p = p / 2, exactly.
        assert_eq!(
            t.points,
            vec![[4.0, -2.0], [2.0, -1.0], [1.0, -0.5], [0.5, -0.25]]
        );
        assert_eq!(t.values[3], 0.3125);
        assert!(!t.diverged);
    }

    #[test]
    fn divergence_stops_early_and_keeps_the_finite_part() {
        let f = IllConditioned { kappa: 1e200 };
        let mut opt = optim::build::<f64>("sgd", 1.0, 2).unwrap();
        let t = descend(&f, opt.as_mut(), 1.0, [1.0, 1.0], 50);
        assert!(t.diverged);
        assert!(t.points.len() < 51);
        assert!(t.values.iter().all(|v| v.is_finite()));
        assert_eq!(t.points.len(), t.values.len());
    }
}
