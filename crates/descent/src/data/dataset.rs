//! A table of features and targets with its column names and class labels.

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::OneHot;
use crate::{Error, Result};

/// Features `x` (`n x d`), targets `y` (`n x k`), names, and the label mapping.
///
/// # Example
/// ```
/// use descent::data::Dataset;
/// use ndarray::{Array2, Axis};
/// let x = Array2::from_shape_fn((10, 2), |(i, j)| (2 * i + j) as f64);
/// let y = x.column(0).to_owned().insert_axis(Axis(1));
/// let data = Dataset::new(x, y, vec!["a".into(), "b".into()], vec!["y".into()])?;
/// let (train, val) = data.split(0.2, 42)?;
/// let val = val.expect("a fraction above 0 holds rows out");
/// assert_eq!((train.n_rows(), val.n_rows()), (8, 2));
/// // Rows stay whole: every target is still the first feature of its row.
/// assert_eq!(val.y.column(0), val.x.column(0));
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub x: Array2<f64>,
    /// Real targets, or class indices (`0..classes.len()`) when `classes` is set.
    pub y: Array2<f64>,
    pub feature_names: Vec<String>,
    pub target_names: Vec<String>,
    /// For class targets: the original label of each class index, in index order.
    pub classes: Option<Vec<String>>,
    /// Rows left out while reading because of a missing value (`--drop-missing`).
    pub dropped_rows: usize,
    /// The one-hot encoding of text columns the features came from, if any
    /// ([`OneHotMode`](super::OneHotMode)).
    pub one_hot: Option<OneHot>,
    /// Values an applied encoding had not seen and set to all-zero indicators:
    /// `(column, value, cells)`.
    pub unknown_categories: Vec<(String, String, usize)>,
}

impl Dataset {
    /// Builds a dataset, checking that the shapes and names agree.
    pub fn new(
        x: Array2<f64>,
        y: Array2<f64>,
        feature_names: Vec<String>,
        target_names: Vec<String>,
    ) -> Result<Self> {
        if x.nrows() != y.nrows() {
            return Err(Error::Data(format!(
                "{} feature rows but {} target rows",
                x.nrows(),
                y.nrows()
            )));
        }
        if x.ncols() != feature_names.len() || y.ncols() != target_names.len() {
            return Err(Error::Data(
                "column names do not match the number of columns".into(),
            ));
        }
        Ok(Dataset {
            x,
            y,
            feature_names,
            target_names,
            classes: None,
            dropped_rows: 0,
            one_hot: None,
            unknown_categories: Vec::new(),
        })
    }

    /// Number of rows (samples).
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select(Axis(0), indices),
            y: self.y.select(Axis(0), indices),
            feature_names: self.feature_names.clone(),
            target_names: self.target_names.clone(),
            classes: self.classes.clone(),
            dropped_rows: self.dropped_rows,
            one_hot: self.one_hot.clone(),
            unknown_categories: self.unknown_categories.clone(),
        }
    }

    /// A seeded train/validation split: a ChaCha8 permutation of the rows, of which the last
    /// `round(n * fraction)` go to validation (both keep the permuted order). A fraction of 0
    /// returns the data unchanged and no validation set.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Dataset, Option<Dataset>)> {
        Ok(match split_rows(self.n_rows(), fraction, seed)? {
            None => (self.clone(), None),
            Some((train, val)) => (self.select(&train), Some(self.select(&val))),
        })
    }

    /// [`Dataset::split`] taking the data: a fraction of 0 moves it, without a copy.
    pub fn into_split(self, fraction: f64, seed: u64) -> Result<(Dataset, Option<Dataset>)> {
        Ok(match split_rows(self.n_rows(), fraction, seed)? {
            None => (self, None),
            Some((train, val)) => (self.select(&train), Some(self.select(&val))),
        })
    }

    /// The number of classes, for class targets.
    pub fn n_classes(&self) -> Option<usize> {
        self.classes.as_ref().map(Vec::len)
    }
}

/// The rows of [`Dataset::split`] for `n` rows: `(train, validation)` in the permuted
/// order, or `None` for a fraction of 0 (every row trains, in order).
pub fn split_rows(n: usize, fraction: f64, seed: u64) -> Result<Option<(Vec<usize>, Vec<usize>)>> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(Error::invalid(
            "val-fraction",
            fraction,
            "must be in [0, 1)",
        ));
    }
    if fraction == 0.0 {
        return Ok(None);
    }
    let n_val = (n as f64 * fraction).round() as usize;
    if n_val == 0 || n_val >= n {
        return Err(Error::Data(format!(
            "--val-fraction {fraction} of {n} rows leaves {n_val} validation rows; both parts need at least one row"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let val = order.split_off(n - n_val);
    Ok(Some((order, val)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    fn data(n: usize) -> Dataset {
        let x = Array::from_shape_fn((n, 2), |(i, j)| (i * 2 + j) as f64);
        let y = Array::from_shape_fn((n, 1), |(i, _)| i as f64);
        Dataset::new(x, y, vec!["a".into(), "b".into()], vec!["y".into()]).unwrap()
    }

    #[test]
    fn split_is_seeded_and_partitions_rows() {
        let d = data(10);
        let (t1, v1) = d.split(0.3, 5).unwrap();
        let (t2, v2) = d.split(0.3, 5).unwrap();
        assert_eq!(t1, t2);
        assert_eq!(v1, v2);
        let v1 = v1.unwrap();
        assert_eq!((t1.n_rows(), v1.n_rows()), (7, 3));
        let mut all: Vec<f64> = t1.y.iter().chain(v1.y.iter()).copied().collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(all, (0..10).map(|i| i as f64).collect::<Vec<_>>());
    }

    #[test]
    fn split_rejects_fractions_leaving_an_empty_part() {
        assert!(data(2).split(0.1, 0).is_err());
        assert!(data(10).split(1.0, 0).is_err());
    }
}
