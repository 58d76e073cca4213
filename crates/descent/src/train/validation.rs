//! [`Validation`]: where a run's validation loss comes from after each epoch: the held-out
//! table in memory, or a stream of held-out rows too large to hold
//! ([`ParquetBatches`](crate::data::parquet::ParquetBatches) of the validation part of a
//! [`HashSplit`](crate::data::HashSplit)).
//!
//! A stream's loss is the mean of its batches' losses weighted by their rows: the mean over
//! all its rows, in a different order of additions than one pass over a table.

use crate::data::{BatchSource, TrainData};
use crate::loss::Loss;
use crate::nn::{evaluate, Sequential};
use crate::params::Params;
use crate::{Error, Float, Result};

/// The held-out rows a trainer measures after each epoch.
pub enum Validation<'v, F: Float> {
    None,
    Table(&'v TrainData<F>),
    /// Every batch of the source's epoch 0, read from its start each time.
    Source(&'v mut dyn BatchSource<F>),
}

impl<'v, F: Float> From<Option<&'v TrainData<F>>> for Validation<'v, F> {
    fn from(table: Option<&'v TrainData<F>>) -> Self {
        table.map_or(Validation::None, Validation::Table)
    }
}

impl<F: Float> Validation<'_, F> {
    /// Feature columns of the held-out rows (`None`: there are none).
    pub fn n_features(&self) -> Option<usize> {
        match self {
            Validation::None => None,
            Validation::Table(t) => Some(t.x.ncols()),
            Validation::Source(s) => Some(s.n_features()),
        }
    }

    /// The loss of `model` with `params` over the held-out rows (`None`: there are none).
    pub fn loss(
        &mut self,
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
    ) -> Result<Option<f64>> {
        match self {
            Validation::None => Ok(None),
            Validation::Table(v) => evaluate(model, loss, params, v.x.view(), v.y.view()).map(Some),
            Validation::Source(source) => {
                source.seek(0, 0)?;
                let (mut sum, mut n) = (0.0, 0usize);
                while let Some(b) = source.next_batch()? {
                    let rows = b.x.nrows();
                    sum += evaluate(model, loss, params, b.x, b.y)? * rows as f64;
                    n += rows;
                }
                if n == 0 {
                    return Err(Error::Data("the validation stream holds no rows".into()));
                }
                Ok(Some(sum / n as f64))
            }
        }
    }
}
