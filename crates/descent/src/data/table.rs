//! [`TrainData`]: the training table in the run's precision, converted once from a
//! [`Dataset`].

use ndarray::Array2;

use super::memory::huge_vec;
use super::Dataset;
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

    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }
}
