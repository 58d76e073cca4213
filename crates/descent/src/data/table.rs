//! [`TrainData`]: the training table in the run's precision, converted once from a
//! [`Dataset`], or built straight from borrowed features of any float type.

use ndarray::{Array2, ArrayView2};

use super::memory::huge_vec;
use super::{Dataset, Scaler};
use crate::Float;

/// Features and targets in the run's precision.
#[derive(Clone, Debug)]
pub struct TrainData<F> {
    pub x: Array2<F>,
    pub y: Array2<F>,
}

impl<F: Float> TrainData<F> {
    /// Converts a (scaled) dataset to the run's precision; a large feature table lands on
    /// huge pages ([`huge_vec`]), which shuffled batches read faster.
    pub fn from_dataset(d: &Dataset) -> Self {
        let mut x = huge_vec(d.x.len());
        x.extend(d.x.iter().map(|&v| F::of(v)));
        TrainData {
            x: Array2::from_shape_vec(d.x.raw_dim(), x).expect("same shape, row-major"),
            y: d.y.mapv(F::of),
        }
    }

    /// The rows `rows` of `x` and `y` (all, in order, for `None`) scaled by `x_scaler` and
    /// `y_scaler` and converted to `F` in one pass: each value is `(v - shift) / scale` in
    /// f64, then `F`, the same values as [`TrainData::from_dataset`] on a scaled f64 copy,
    /// without the copy (`f32` features widen exactly). `x` may have any memory layout.
    pub fn scaled_rows<S: Copy + Into<f64>>(
        x: ArrayView2<'_, S>,
        y: ArrayView2<'_, f64>,
        rows: Option<&[usize]>,
        (x_scaler, y_scaler): (&Scaler, &Scaler),
    ) -> Self {
        fn table<S: Copy + Into<f64>, F: Float>(
            a: ArrayView2<'_, S>,
            rows: Option<&[usize]>,
            scaler: &Scaler,
        ) -> Array2<F> {
            let n = rows.map_or(a.nrows(), <[usize]>::len);
            let mut out = huge_vec(n * a.ncols());
            let affine = scaler.affine();
            let mut push = |i: usize| match &affine {
                None => out.extend(a.row(i).iter().map(|&v| F::of(v.into()))),
                Some(affine) => out.extend(
                    a.row(i)
                        .iter()
                        .zip(affine)
                        .map(|(&v, (shift, scale))| F::of((v.into() - shift) / scale)),
                ),
            };
            match rows {
                Some(rows) => rows.iter().for_each(|&i| push(i)),
                None => (0..a.nrows()).for_each(push),
            }
            Array2::from_shape_vec((n, a.ncols()), out).expect("n rows of ncols values")
        }
        TrainData {
            x: table(x, rows, x_scaler),
            y: table(y, rows, y_scaler),
        }
    }

    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }
}
