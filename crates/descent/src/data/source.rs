//! [`BatchSource`]: where the training loop's batches come from, one epoch at a time, with a
//! position a checkpoint can store and restore.
//!
//! The in-memory table is the usual source: [`Trainer::run`](crate::train::Trainer::run)
//! reads it directly (with its fast paths: fused per-sample steps, batches gathered ahead on a
//! second thread). A source that cannot hold the table (a streaming reader, a rank's shard of
//! a distributed run) implements this trait and is driven by
//! [`Trainer::run_source`](crate::train::Trainer::run_source), through the same epoch loop.
//! [`TableBatches`] is the in-memory table seen through the trait; the test
//! `tests/batch_source.rs` proves that both routes give the same bits.

use ndarray::ArrayView2;

use super::{BatchOrder, BatchSize, Batches, TrainData};
use crate::{Error, Float, Result};

/// One batch: rows `rows` of `(x, y)`, or all rows of them when `whole` is set (then `rows`
/// is `0..n` in order). `x` and `y` must be row-major (ndarray's standard layout).
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a, F> {
    pub x: ArrayView2<'a, F>,
    pub y: ArrayView2<'a, F>,
    pub rows: &'a [usize],
    pub whole: bool,
}

impl<F: Float> Batch<'_, F> {
    /// Checks the layout the loss-and-gradient engines read.
    pub fn check(&self) -> Result<()> {
        if !(self.x.is_standard_layout() && self.y.is_standard_layout()) {
            return Err(Error::Data(
                "a batch source handed over a batch that is not row-major".into(),
            ));
        }
        if self.x.nrows() != self.y.nrows() {
            return Err(Error::ShapeMismatch {
                op: "batch features vs targets",
                lhs: self.x.shape().to_vec(),
                rhs: self.y.shape().to_vec(),
            });
        }
        if let Some(&r) = self.rows.iter().find(|&&r| r >= self.x.nrows()) {
            return Err(Error::Data(format!(
                "a batch source named row {r} of a batch of {} rows",
                self.x.nrows()
            )));
        }
        Ok(())
    }
}

/// A per-epoch sequence of batches.
///
/// The batches of epoch `e` must be a pure function of `e` and the source's settings (its
/// seed), so that [`seek`](BatchSource::seek) to `(e, i)` continues exactly where a run
/// stopped: a checkpoint stores the position, never a buffer.
pub trait BatchSource<F: Float> {
    /// Feature columns of every batch.
    fn n_features(&self) -> usize;

    /// Updates in one epoch.
    fn steps_per_epoch(&self) -> usize;

    /// Positions the source before batch `index` (from 0) of epoch `epoch` (from 0).
    fn seek(&mut self, epoch: usize, index: usize) -> Result<()>;

    /// The next batch of the epoch, or `None` after its last.
    fn next_batch(&mut self) -> Result<Option<Batch<'_, F>>>;

    /// From the next [`seek`](BatchSource::seek) on, a batch need hold real values only in
    /// the rows of process `rank` of `size`'s chunks
    /// ([`chunk_range`](crate::train::chunk_range) of its 64-row chunks): the trainer says
    /// so when its engine computes no other row (the linear kernels in a data-parallel
    /// run), and `None` after the run. A source may then read less; the default reads all.
    fn only_chunks(&mut self, _only: Option<(usize, usize)>) {}
}

/// An in-memory table as a [`BatchSource`]: the batches [`Batches`] gives for its size and
/// order.
///
/// # Example
/// Training through the [`BatchSource`] route gives the bits of the in-memory route.
/// ```
/// use descent::data::{Scaling, TableBatches};
/// use descent::{Run, RunSpec};
/// let spec = RunSpec::builtin("diabetes").scale(Scaling::Standard).optimizer("adam", 0.1)
///     .batch(64).epochs(3);
/// let mut table = Run::<f64>::new(spec.clone())?;
/// table.train(&mut [])?;
///
/// let mut streamed = Run::<f64>::new(spec)?;
/// let (data, config) = (streamed.train_data().clone(), streamed.trainer.config().clone());
/// let mut source = TableBatches::new(&data, config.batch, config.order)?;
/// streamed.trainer.run_source(&mut source, None, &mut [])?;
/// assert_eq!(streamed.trainer.params.values, table.trainer.params.values);
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Debug)]
pub struct TableBatches<'a, F> {
    data: &'a TrainData<F>,
    batches: Batches,
    order: Vec<usize>,
    next: usize,
}

impl<'a, F: Float> TableBatches<'a, F> {
    pub fn new(data: &'a TrainData<F>, size: BatchSize, order: BatchOrder) -> Result<Self> {
        Ok(TableBatches {
            data,
            batches: Batches::new(data.n_rows(), size, order)?,
            order: Vec::new(),
            next: 0,
        })
    }
}

impl<F: Float> BatchSource<F> for TableBatches<'_, F> {
    fn n_features(&self) -> usize {
        self.data.x.ncols()
    }

    fn steps_per_epoch(&self) -> usize {
        self.batches.steps_per_epoch()
    }

    fn seek(&mut self, epoch: usize, index: usize) -> Result<()> {
        self.batches.epoch_order(epoch, &mut self.order)?;
        self.next = index;
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch<'_, F>>> {
        if self.next >= self.batches.steps_per_epoch() {
            return Ok(None);
        }
        let rows = self.batches.batch(&self.order, self.next);
        self.next += 1;
        Ok(Some(Batch {
            x: self.data.x.view(),
            y: self.data.y.view(),
            rows,
            whole: self.batches.is_full_in_order(),
        }))
    }
}
