//! Feature scaling fitted on the training split and stored with the model.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which scaling to fit (`--scale standard|minmax|none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    None,
    Standard,
    MinMax,
}

impl std::str::FromStr for Scaling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Scaling::None),
            "standard" => Ok(Scaling::Standard),
            "minmax" => Ok(Scaling::MinMax),
            _ => Err(Error::invalid(
                "scale",
                s,
                "expected standard, minmax or none",
            )),
        }
    }
}

/// A fitted per-column affine map `x' = (x - shift) / scale`.
///
/// # Algorithm
/// ```text
/// standard: shift = mean, scale = population std (ddof = 0)   (scikit-learn StandardScaler)
/// minmax:   shift = min,  scale = max - min                   (maps to [0, 1])
/// a constant column gets scale 1, so it maps to 0 instead of dividing by zero
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Scaler {
    None,
    Standard { mean: Vec<f64>, std: Vec<f64> },
    MinMax { min: Vec<f64>, max: Vec<f64> },
}

impl Scaler {
    /// Fits `scaling` to the columns of `x`.
    ///
    /// # Example
    /// ```
    /// use descent::data::{Scaler, Scaling};
    /// let x = ndarray::array![[1.0, 10.0], [3.0, 10.0]];
    /// let scaler = Scaler::fit(Scaling::Standard, &x);
    /// assert_eq!(scaler, Scaler::Standard { mean: vec![2.0, 10.0], std: vec![1.0, 0.0] });
    /// let mut z = x.clone();
    /// scaler.transform(&mut z)?;
    /// assert_eq!(z, ndarray::array![[-1.0, 0.0], [1.0, 0.0]]); // a constant column maps to 0
    /// scaler.inverse(&mut z)?;
    /// assert_eq!(z, x);
    /// # Ok::<(), descent::Error>(())
    /// ```
    pub fn fit(scaling: Scaling, x: &Array2<f64>) -> Scaler {
        Scaler::fit_rows(scaling, x.view(), None)
    }

    /// [`Scaler::fit`] on the rows `rows` of `x` (all rows, in order, for `None`), for
    /// features of any float type (`f32` values are widened exactly). The table is read row
    /// by row (one pass for the means or the extremes, a second for the deviations), so a
    /// row-major table is read in memory order; the sums run in row order, as a column of
    /// a row-major f64 table sums (one column: ndarray's unrolled sum of the contiguous
    /// column), so the statistics are the same bits for any memory layout of `x`.
    pub fn fit_rows<S: Copy + Into<f64>>(
        scaling: Scaling,
        x: ArrayView2<'_, S>,
        rows: Option<&[usize]>,
    ) -> Scaler {
        let d = x.ncols();
        let n_rows = rows.map_or(x.nrows(), <[usize]>::len);
        let n = n_rows.max(1) as f64;
        let each_row = |f: &mut dyn FnMut(usize, f64)| {
            let mut visit = |i: usize| {
                for (j, v) in x.row(i).iter().enumerate() {
                    f(j, (*v).into());
                }
            };
            match rows {
                Some(rows) => rows.iter().for_each(|&i| visit(i)),
                None => (0..x.nrows()).for_each(visit),
            }
        };
        let column = |j: usize| -> Vec<f64> {
            let mut c = Vec::with_capacity(n_rows);
            let mut push = |i: usize| c.push(x[[i, j]].into());
            match rows {
                Some(rows) => rows.iter().for_each(|&i| push(i)),
                None => (0..x.nrows()).for_each(push),
            }
            c
        };
        match scaling {
            Scaling::None => Scaler::None,
            Scaling::Standard => {
                let sums: Vec<f64> = if d == 1 {
                    // A one-column table's column is contiguous: ndarray's unrolled sum.
                    vec![ndarray::ArrayView1::from(&column(0)).sum()]
                } else {
                    let mut sums = vec![0.0; d];
                    each_row(&mut |j, v| sums[j] += v);
                    sums
                };
                let mean: Vec<f64> = sums
                    .iter()
                    .enumerate()
                    .map(|(j, s)| {
                        let m = s / n;
                        // Finite values near f64::MAX overflow the sum: average them scaled.
                        if m.is_finite() {
                            m
                        } else {
                            column(j).iter().map(|v| v / n).sum()
                        }
                    })
                    .collect();
                let mut squares = vec![0.0; d];
                each_row(&mut |j, v| squares[j] += (v - mean[j]) * (v - mean[j]));
                let std = squares
                    .iter()
                    .zip(&mean)
                    .enumerate()
                    .map(|(j, (ss, m))| {
                        let s = (ss / n).sqrt();
                        if s.is_finite() {
                            return s;
                        }
                        // Squares of deviations beyond 1e154 overflow: factor out the largest.
                        let c = column(j);
                        let big = c.iter().fold(0.0f64, |a, v| a.max((v - m).abs()));
                        big * (c.iter().map(|v| ((v - m) / big).powi(2)).sum::<f64>() / n).sqrt()
                    })
                    .collect();
                Scaler::Standard { mean, std }
            }
            Scaling::MinMax => {
                let mut min = vec![f64::INFINITY; d];
                let mut max = vec![f64::NEG_INFINITY; d];
                each_row(&mut |j, v| {
                    min[j] = min[j].min(v);
                    max[j] = max[j].max(v);
                });
                Scaler::MinMax { min, max }
            }
        }
    }

    /// Per-column `(shift, scale)` of `x' = (x - shift) / scale` (a zero or non-finite
    /// scale is 1); `None` for no scaling.
    pub fn affine(&self) -> Option<Vec<(f64, f64)>> {
        let safe = |s: f64| if s == 0.0 || !s.is_finite() { 1.0 } else { s };
        match self {
            Scaler::None => None,
            Scaler::Standard { mean, std } => {
                Some(mean.iter().zip(std).map(|(&m, &s)| (m, safe(s))).collect())
            }
            Scaler::MinMax { min, max } => Some(
                min.iter()
                    .zip(max)
                    .map(|(&lo, &hi)| (lo, safe(hi - lo)))
                    .collect(),
            ),
        }
    }

    /// Number of columns this scaler was fitted on (`None` for no scaling).
    pub fn n_columns(&self) -> Option<usize> {
        self.affine().map(|a| a.len())
    }

    /// Scales `x` in place.
    pub fn transform(&self, x: &mut Array2<f64>) -> Result<()> {
        let Some(affine) = self.affine() else {
            return Ok(());
        };
        self.check_width(x)?;
        // Row by row: a row-major table in memory order.
        for mut row in x.rows_mut() {
            for (v, (shift, scale)) in row.iter_mut().zip(&affine) {
                *v = (*v - shift) / scale;
            }
        }
        Ok(())
    }

    /// Undoes [`Scaler::transform`] in place.
    pub fn inverse(&self, x: &mut Array2<f64>) -> Result<()> {
        let Some(affine) = self.affine() else {
            return Ok(());
        };
        self.check_width(x)?;
        for mut row in x.rows_mut() {
            for (v, (shift, scale)) in row.iter_mut().zip(&affine) {
                *v = *v * scale + shift;
            }
        }
        Ok(())
    }

    fn check_width(&self, x: &Array2<f64>) -> Result<()> {
        match self.n_columns() {
            Some(k) if k != x.ncols() => Err(Error::Data(format!(
                "the scaler was fitted on {k} columns but the data has {}",
                x.ncols()
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standard_gives_zero_mean_unit_population_std() {
        let mut x = array![[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]];
        let s = Scaler::fit(Scaling::Standard, &x);
        s.transform(&mut x).unwrap();
        let col0: Vec<f64> = x.column(0).to_vec();
        let sd = (8.0f64 / 3.0).sqrt();
        assert_eq!(col0, vec![-2.0 / sd, 0.0, 2.0 / sd]);
        // A constant column maps to 0 rather than NaN.
        assert!(x.column(1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn minmax_maps_to_unit_interval_and_inverts() {
        let orig = array![[2.0], [4.0], [10.0]];
        let mut x = orig.clone();
        let s = Scaler::fit(Scaling::MinMax, &x);
        s.transform(&mut x).unwrap();
        assert_eq!(x, array![[0.0], [0.25], [1.0]]);
        s.inverse(&mut x).unwrap();
        assert_eq!(x, orig);
    }

    #[test]
    fn standard_handles_values_whose_squares_overflow() {
        let mut x = array![[1.0], [2.0], [1e300], [1.7e308]];
        let s = Scaler::fit(Scaling::Standard, &x);
        s.transform(&mut x).unwrap();
        assert!(x.iter().all(|v| v.is_finite() && v.abs() < 10.0), "{x:?}");
    }

    #[test]
    fn width_mismatch_is_an_error() {
        let s = Scaler::fit(Scaling::Standard, &array![[1.0, 2.0]]);
        assert!(s.transform(&mut array![[1.0]]).is_err());
    }
}
