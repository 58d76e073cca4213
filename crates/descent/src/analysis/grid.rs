//! Grid search: evaluate a loss on every point of a 1-D range or a 2-D grid (a heat map).

use crate::{Error, Result};

/// Evenly spaced values `start + i*step`, as `numpy.arange(start, stop, step)`.
///
/// # Algorithm
/// ```text
/// n = ceil((stop - start) / step)          (numpy's length rule; 0 if negative)
/// values = [start + i*step for i in 0..n]  (computed from i, never accumulated)
/// ```
/// `stop` is **excluded**, as in numpy: `Range { start: 0.0, stop: 1.0, step: 0.25 }` gives
/// `0, 0.25, 0.5, 0.75`. To include the end point use [`Range::inclusive`], which builds
/// `stop + step/2` as the exclusive end so that rounding in `(stop - start)/step` can neither
/// drop nor add a point; a `stop` that is not on the grid is then simply not reached.
/// `step` may be negative for a descending range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub start: f64,
    pub stop: f64,
    pub step: f64,
}

impl Range {
    /// `start..stop` by `step`, `stop` excluded.
    pub fn new(start: f64, stop: f64, step: f64) -> Result<Self> {
        let r = Range { start, stop, step };
        r.validate()?;
        Ok(r)
    }

    /// `start..=stop` by `step`: `stop` is included when it lies on the grid.
    pub fn inclusive(start: f64, stop: f64, step: f64) -> Result<Self> {
        Range::new(start, stop, step)?;
        Range::new(start, stop + 0.5 * step, step)
    }

    fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("start", self.start),
            ("stop", self.stop),
            ("step", self.step),
        ] {
            if !v.is_finite() {
                return Err(Error::invalid(name, v, "must be a finite number"));
            }
        }
        if self.step == 0.0 {
            return Err(Error::invalid("step", 0, "must not be 0"));
        }
        Ok(())
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        let n = ((self.stop - self.start) / self.step).ceil();
        if n > 0.0 {
            n as usize
        } else {
            0
        }
    }

    /// Whether the range holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values `start + i*step`.
    pub fn values(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.start + i as f64 * self.step)
            .collect()
    }
}

/// The lowest point found.
#[derive(Clone, Debug, PartialEq)]
pub struct Best {
    /// Flat index into [`GridSearch::losses`].
    pub index: usize,
    /// The parameter values, one per axis.
    pub point: Vec<f64>,
    pub loss: f64,
}

/// Every loss on the grid and the best point.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSearch {
    /// The values along each axis (one axis, or two for a heat map).
    pub axes: Vec<Vec<f64>>,
    /// Row-major losses: for two axes `losses[i * axes[1].len() + j]` is at
    /// `(axes[0][i], axes[1][j])`.
    pub losses: Vec<f64>,
    /// The first minimum in row-major order (ties keep the earlier point); NaN losses are
    /// never best; `None` when no loss is a number.
    pub best: Option<Best>,
    /// How many times the loss was evaluated.
    pub evaluations: usize,
}

impl GridSearch {
    /// The 2-D losses as rows (`[i][j]` over `axes[0] x axes[1]`); one row for a 1-D search.
    pub fn heat_map(&self) -> Vec<Vec<f64>> {
        let width = self.axes.last().map_or(0, Vec::len).max(1);
        self.losses.chunks(width).map(<[f64]>::to_vec).collect()
    }
}

/// Evaluates `loss(&[v])` at every value of `range`.
///
/// # Algorithm
/// Exhaustive evaluation; the best point is the first strict minimum.
pub fn grid_search_1d(range: &Range, loss: impl Fn(&[f64]) -> f64) -> Result<GridSearch> {
    search(vec![nonempty(range, "range")?], |i| vec![i], loss)
}

/// Evaluates `loss(&[a, b])` at every `a` of `ra` and `b` of `rb` (a heat map).
///
/// # Algorithm
/// Exhaustive evaluation in row-major order (`a` outer); the best point is the first strict
/// minimum in that order.
pub fn grid_search_2d(ra: &Range, rb: &Range, loss: impl Fn(&[f64]) -> f64) -> Result<GridSearch> {
    let (a, b) = (nonempty(ra, "first range")?, nonempty(rb, "second range")?);
    let width = b.len();
    search(vec![a, b], |k| vec![k / width, k % width], loss)
}

fn nonempty(range: &Range, name: &str) -> Result<Vec<f64>> {
    range.validate()?;
    let v = range.values();
    if v.is_empty() {
        return Err(Error::invalid(
            name,
            format!("{range:?}"),
            "holds no value: stop must lie beyond start in the direction of step",
        ));
    }
    Ok(v)
}

fn search(
    axes: Vec<Vec<f64>>,
    coords: impl Fn(usize) -> Vec<usize>,
    loss: impl Fn(&[f64]) -> f64,
) -> Result<GridSearch> {
    let total: usize = axes.iter().map(Vec::len).product();
    let mut losses = Vec::with_capacity(total);
    let mut best: Option<Best> = None;
    for k in 0..total {
        let point: Vec<f64> = coords(k).iter().zip(&axes).map(|(&i, a)| a[i]).collect();
        let l = loss(&point);
        losses.push(l);
        let better = match &best {
            None => !l.is_nan(),
            Some(b) => l < b.loss,
        };
        if better {
            best = Some(Best {
                index: k,
                point,
                loss: l,
            });
        }
    }
    Ok(GridSearch {
        axes,
        losses,
        best,
        evaluations: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_follows_numpy_arange() {
        assert_eq!(
            Range::new(0.0, 1.0, 0.25).unwrap().values(),
            vec![0.0, 0.25, 0.5, 0.75]
        );
        // numpy.arange(0, 0.3, 0.1) has 3 values: (0.3 - 0)/0.1 = 2.9999999999999996.
        assert_eq!(Range::new(0.0, 0.3, 0.1).unwrap().len(), 3);
        // numpy.arange(1, 1.3, 0.1) has 4: (1.3 - 1)/0.1 = 3.0000000000000004 rounds up.
        assert_eq!(Range::new(1.0, 1.3, 0.1).unwrap().len(), 4);
        assert_eq!(
            Range::new(3.0, 0.0, -1.0).unwrap().values(),
            vec![3.0, 2.0, 1.0]
        );
        assert!(Range::new(1.0, 0.0, 1.0).unwrap().is_empty());
        assert!(Range::new(0.0, 1.0, 0.0).is_err());
    }

    #[test]
    fn inclusive_range_keeps_the_end_point() {
        assert_eq!(Range::inclusive(0.0, 1.0, 0.25).unwrap().values().len(), 5);
        assert_eq!(Range::inclusive(0.0, 0.3, 0.1).unwrap().len(), 4);
        assert_eq!(Range::inclusive(1.0, 1.3, 0.1).unwrap().len(), 4);
        assert_eq!(
            Range::inclusive(0.0, 1.1, 0.5).unwrap().values(),
            vec![0.0, 0.5, 1.0]
        );
    }

    #[test]
    fn one_d_search_finds_the_first_minimum() {
        let r = Range::inclusive(-2.0, 2.0, 0.5).unwrap();
        let g = grid_search_1d(&r, |p| (p[0] * p[0] - 1.0).powi(2)).unwrap();
        assert_eq!(g.evaluations, 9);
        let best = g.best.unwrap();
        assert_eq!(
            (best.point.clone(), best.loss, best.index),
            (vec![-1.0], 0.0, 2)
        );
    }

    #[test]
    fn two_d_search_is_row_major_and_skips_nan() {
        let ra = Range::new(0.0, 3.0, 1.0).unwrap();
        let rb = Range::new(0.0, 2.0, 1.0).unwrap();
        let g = grid_search_2d(&ra, &rb, |p| {
            if p[0] == 0.0 {
                f64::NAN
            } else {
                (p[0] - 2.0).powi(2) + (p[1] - 1.0).powi(2)
            }
        })
        .unwrap();
        assert_eq!(g.evaluations, 6);
        assert_eq!(g.heat_map().len(), 3);
        assert_eq!(g.heat_map()[2], vec![1.0, 0.0]);
        assert_eq!(g.best.unwrap().point, vec![2.0, 1.0]);
    }

    #[test]
    fn empty_range_is_an_error() {
        let r = Range::new(1.0, 0.0, 1.0).unwrap();
        assert!(grid_search_1d(&r, |_| 0.0).is_err());
    }
}
