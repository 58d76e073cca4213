//! A run on streamed Parquet or CSV data: one pass for the statistics (rows, scalers,
//! labels), then the run built as on data in memory, with its batches from a
//! [`ParquetBatches`](crate::data::parquet::ParquetBatches). A CSV file streams in chunks of
//! rows ([`StreamSpec::chunk_rows`](super::StreamSpec::chunk_rows)) found by one more pass
//! when it is opened ([`ParquetFiles::open_csv`]).
//!
//! A validation split (`val_fraction`) is decided row by row by a seeded hash of the row's
//! index ([`HashSplit`], seeded with the run's seed): the training stream passes over the
//! validation rows (its shuffle buffer sees training rows only), the scalers are fitted on
//! the training rows (as in memory), and a second stream of the validation rows
//! ([`VAL_BATCH`] rows a batch, in file order) gives the validation loss after each epoch
//! and the final validation metrics. Neither part is ever held whole. The split is not the
//! in-memory split of the same seed (a permutation): another set of rows, of about (not
//! exactly) the same size, the same for a seed.

use std::path::Path;
use std::sync::Arc;

use ndarray::Array2;

use super::{check_labels, target_kind, Alone, Run, RunSpec, ShareStats};
use crate::data::parquet::{
    is_parquet, resolve_columns, scan, shuffle_quality, ParquetBatches, ParquetFiles, Selection,
    StreamOrder, StreamStats, CSV_CHUNK_ROWS,
};
use crate::data::{
    BatchOrder, BatchSize, BatchSource, DataSource, Dataset, HashSplit, Part, Scaler, TrainData,
};
use crate::{Error, Float, Result};

/// What a streamed run found in its one pass, for the front end to report.
#[derive(Clone, Debug)]
pub struct StreamReport {
    pub files: usize,
    /// Row groups, or the chunks of a CSV file.
    pub row_groups: usize,
    /// A CSV file's rows per chunk (`None`: Parquet).
    pub chunk_rows: Option<usize>,
    pub rows: u64,
    /// Rows held out for validation (not in `rows`).
    pub val_rows: u64,
    pub dropped: u64,
    /// Rows in the shuffle buffer (0: no shuffle).
    pub buffer: usize,
    /// Row groups and compressed bytes this process read for the statistics ((0, 0): it
    /// received them, [`ShareStats`]).
    pub stats_read: (u64, u64),
    /// Mean distance of a row from its file position in an epoch, and a full shuffle's.
    pub displacement: (f64, f64),
}

impl StreamReport {
    /// One line: `streaming 3 files, 40 row groups, 5000000 rows; shuffle buffer ...`.
    pub fn line(&self) -> String {
        let shuffle = if self.buffer == 0 {
            "in file order (no shuffle)".to_string()
        } else {
            let (got, full) = self.displacement;
            format!(
                "row groups permuted and a shuffle buffer of {} rows: a row lands {:.0} rows from its file position on average (a full shuffle: {:.0})",
                self.buffer, got, full
            )
        };
        let rows = match self.val_rows {
            0 => format!("{} rows", self.rows),
            v => format!(
                "{} training rows and {v} validation rows (held out by a seeded hash of the row index)",
                self.rows
            ),
        };
        let parts = match self.chunk_rows {
            None => format!("{} file(s), {} row group(s)", self.files, self.row_groups),
            Some(n) => format!(
                "a CSV file in {} chunk(s) of up to {n} rows",
                self.row_groups
            ),
        };
        format!("streaming {parts}, {rows}; {shuffle}")
    }
}

impl<F: Float> Run<F> {
    /// Builds a run that streams its Parquet or CSV data: one pass over it for the rows, the
    /// scalers (`scalers`: given ones instead, e.g. a previous model's) and the labels; the
    /// batches come from the returned source ([`Run::train_source`]); the validation rows
    /// of a `val_fraction` (see the module doc) stream from a source the run keeps. One-hot
    /// encoding is not available on a stream.
    pub fn streaming(
        spec: RunSpec,
        scalers: Option<(Scaler, Scaler)>,
    ) -> Result<(Self, ParquetBatches<F>, StreamReport)> {
        Self::streaming_with(spec, scalers, &mut Alone)
    }

    /// [`Run::streaming`] with the one pass made where `share` says (a data-parallel run:
    /// on its root, the result sent to every process) instead of by this process.
    pub fn streaming_with(
        spec: RunSpec,
        scalers: Option<(Scaler, Scaler)>,
        share: &mut dyn ShareStats,
    ) -> Result<(Self, ParquetBatches<F>, StreamReport)> {
        spec.validate()?;
        let DataSource::File(path) = &spec.data.source else {
            return Err(Error::Data(
                "streaming reads Parquet and CSV files; built-in data fits in memory".into(),
            ));
        };
        if spec.data.one_hot.is_some() {
            return Err(Error::Data(
                "one-hot encoding is not available on streamed data; encode the column first"
                    .into(),
            ));
        }
        let (files, mut sel, names) = open(path, &spec)?;
        let fraction = spec.data.val_fraction;
        let split = (fraction > 0.0).then(|| HashSplit::new(fraction, spec.seed));
        sel.split = split.map(|s| (s, Part::Train));
        let kind = target_kind(spec.loss.unwrap_or_else(|| spec.model.default_loss(None)));
        let classes = kind == crate::data::TargetKind::Classes;
        let stats = share.share(&mut || scan(&files, &sel, classes))?;
        if split.is_some() && stats.val.is_none() {
            return Err(Error::Data(format!(
                "{}: the statistics of the stream came without their validation part (StreamStats::val), which a validation fraction needs; share them with StreamStats::to_bytes and from_bytes, which carry it",
                path.display()
            )));
        }
        let val_rows = stats.val.as_ref().map_or(0, |v| v.rows);
        if split.is_some() && (val_rows == 0 || stats.rows == 0) {
            return Err(Error::Data(format!(
                "{}: a validation fraction of {fraction} split its {} rows into {} training and {val_rows} validation rows; both parts need at least one row",
                path.display(),
                stats.rows + val_rows,
                stats.rows
            )));
        }
        let mut train = empty_dataset(&names, &stats)?;
        train.dropped_rows = stats.dropped as usize;
        let loss = spec.loss_for(&train);
        check_labels(&spec.data.source.describe(), &train, loss)?;
        let (scaler, target_scaler) = scalers.unwrap_or_else(|| {
            (
                stats.features.scaler(spec.scale),
                stats.targets.scaler(spec.scale_target),
            )
        });
        let config = spec.train_config();
        let batch = match config.batch {
            BatchSize::Rows(n) => n,
            BatchSize::Full => {
                return Err(Error::Data(
                    "streaming takes mini-batches; give a batch size".into(),
                ))
            }
        };
        let shuffle = match config.order {
            BatchOrder::Shuffle { seed } => Some(seed),
            _ => None,
        };
        let buffer = spec.data.stream.clone().unwrap_or_default().shuffle_buffer;
        let order = StreamOrder {
            batch,
            shuffle,
            buffer,
        };
        sel.classes = stats
            .classes
            .as_ref()
            .map(|c| c.iter().cloned().enumerate().map(|(i, l)| (l, i)).collect());
        let report = StreamReport {
            files: files.files.len(),
            row_groups: stats.kept.len(),
            chunk_rows: files.csv.as_ref().map(|_| {
                let stream = spec.data.stream.as_ref();
                stream.and_then(|s| s.chunk_rows).unwrap_or(CSV_CHUNK_ROWS)
            }),
            rows: stats.rows,
            val_rows,
            dropped: stats.dropped,
            buffer: if shuffle.is_some() { buffer } else { 0 },
            stats_read: stats.read,
            displacement: if shuffle.is_some() {
                shuffle_quality(&order, &stats.kept)
            } else {
                (0.0, 0.0)
            },
        };
        let val_stream = match stats.validation() {
            Some(v) => {
                let val_sel = Selection {
                    split: split.map(|s| (s, Part::Validation)),
                    ..sel.clone()
                };
                let val_order = StreamOrder {
                    batch: VAL_BATCH,
                    shuffle: None,
                    buffer: 0,
                };
                let scalers = (&scaler, &target_scaler);
                Some(ParquetBatches::new(
                    files.clone(),
                    val_sel,
                    v,
                    val_order,
                    scalers.0,
                    scalers.1,
                )?)
            }
            None => None,
        };
        let threads = spec.threads;
        let mut source = ParquetBatches::new(files, sel, stats, order, &scaler, &target_scaler)?;
        let steps = BatchSource::<F>::steps_per_epoch(&source);
        let empty = TrainData {
            x: Array2::zeros((0, train.n_features())),
            y: Array2::zeros((0, train.target_names.len())),
        };
        let mut run = Self::assemble(
            spec,
            (train, None),
            (empty, None),
            (scaler, target_scaler),
            steps,
        )?;
        // A core left over by the trainer's threads decodes ahead (see `read_ahead`).
        let work = crate::parallel::Work {
            batch_rows: batch,
            params: run.trainer.params.values.len(),
            table_bytes: 0,
        };
        let spare = config.thread_count_for(work) < crate::parallel::available();
        source.set_read_ahead(read_ahead(threads, spare && shuffle.is_some()));
        let mut val_stream = val_stream;
        if let Some(v) = &mut val_stream {
            v.set_read_ahead(read_ahead(threads, false));
        }
        run.val_stream = val_stream.map(ValStream);
        Ok((run, source, report))
    }
}

/// Whether a stream decodes on a read-ahead thread ([`ParquetBatches::set_read_ahead`]):
/// never when the run is to use one thread (`threads` Some(1), `DESCENT_THREADS=1`, a machine of
/// one core); otherwise as `DESCENT_READ_AHEAD` says (`0` off, `1` on), and by default
/// `by_default`: for a shuffled stream (Parquet or CSV) whose trainer leaves a core free, the
/// cases measured faster on a quiet machine (docs/parquet-and-streaming.md: about 0.8x the
/// epoch; an unshuffled epoch gained about 5%, within the rounds' spread; on a busy machine
/// the second thread costs more than it saves).
fn read_ahead(threads: Option<usize>, by_default: bool) -> bool {
    if threads.unwrap_or_else(crate::parallel::default_threads) < 2 {
        return false;
    }
    match std::env::var("DESCENT_READ_AHEAD").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => by_default,
    }
}

/// The files, the chosen columns and their names.
fn open(path: &Path, spec: &RunSpec) -> Result<(Arc<ParquetFiles>, Selection, [Vec<String>; 2])> {
    let (files, features, targets) = if is_parquet(path) {
        let files = ParquetFiles::open(path)?;
        let columns = resolve_columns(&files, &spec.data.columns())?;
        let names = files.names();
        let index = |n: &String| names.iter().position(|m| m == n).expect("resolved");
        let features = columns.features.unwrap_or_default();
        let targets = columns.targets.unwrap_or_default();
        let (f, t) = (
            features.iter().map(index).collect(),
            targets.iter().map(index).collect(),
        );
        (files, f, t)
    } else {
        let chunk_rows = spec.data.stream.as_ref().and_then(|s| s.chunk_rows);
        let files = ParquetFiles::open_csv(
            path,
            spec.data.delimiter,
            chunk_rows.unwrap_or(CSV_CHUNK_ROWS),
        )?;
        let names = files.names();
        let (f, t) = crate::data::csv_reader::header_columns(
            path,
            &names,
            &spec.data.columns(),
            spec.data.delimiter,
        )?;
        (files, f, t)
    };
    let names = files.names();
    let name = |idx: &Vec<usize>| idx.iter().map(|&j| names[j].clone()).collect::<Vec<_>>();
    let (feature_names, target_names) = (name(&features), name(&targets));
    let sel = Selection {
        features,
        targets,
        classes: None,
        drop_missing: spec.data.drop_missing,
        split: None,
        dtype: spec.dtype,
    };
    Ok((Arc::new(files), sel, [feature_names, target_names]))
}

/// A dataset of no rows with the names and labels of the streamed data.
fn empty_dataset([features, targets]: &[Vec<String>; 2], stats: &StreamStats) -> Result<Dataset> {
    let mut d = Dataset::new(
        Array2::zeros((0, features.len())),
        Array2::zeros((0, targets.len())),
        features.clone(),
        targets.clone(),
    )?;
    d.classes = stats.classes.clone();
    Ok(d)
}

impl<F: Float> Run<F> {
    /// Final metrics of a streamed run: one more pass over `source` (epoch 0's batches), the
    /// loss, mse and accuracy averaged over rows; R² (one target) from the squared error
    /// and the targets' variance found by the first pass (`target_m2`, in their own units).
    /// The same for the validation rows, where the run streams a split.
    ///
    /// In a data-parallel run (a gradient hook with a [`Shard`](crate::train::Shard) of two
    /// processes or more) each process evaluates a contiguous run of whole batches
    /// ([`chunk_range`](crate::train::chunk_range) of the batches), the per-batch figures
    /// are gathered in batch order ([`GradientHook::all_gather`]) and added as one process
    /// adds them, so the report has the single process's bits. Every process must call it.
    ///
    /// [`GradientHook::all_gather`]: crate::train::GradientHook::all_gather
    pub fn report_source(
        &mut self,
        source: &mut dyn BatchSource<F>,
        target_m2: &[f64],
    ) -> Result<super::Report> {
        let shard = self
            .trainer
            .gradient_hook_mut()
            .and_then(|h| h.shard())
            .filter(|s| s.size > 1);
        let train = self.source_metrics(source, target_m2, shard)?;
        // Every process reads the validation rows whole (a data-parallel front end refuses
        // a streamed split).
        let val = match self.val_stream.take() {
            Some(mut v) => {
                let m2 = v.0.stats().targets.m2.clone();
                let metrics = self.source_metrics(&mut v.0, &m2, None);
                self.val_stream = Some(v);
                Some(metrics?)
            }
            None => None,
        };
        Ok(super::Report { train, val })
    }

    /// The metrics of every row of `source`, each process of `shard` evaluating its run of
    /// batches (see [`Run::report_source`]).
    fn source_metrics(
        &mut self,
        source: &mut dyn BatchSource<F>,
        target_m2: &[f64],
        shard: Option<crate::train::Shard>,
    ) -> Result<super::SplitMetrics> {
        let batches = source.steps_per_epoch();
        let mine = match shard {
            Some(s) => crate::train::chunk_range(batches, s.rank, s.size),
            None => 0..batches,
        };
        // Per batch: rows, loss, mse, accuracy (each batch's figures as one process finds
        // them; the sums are taken below in batch order).
        let mut figures = Vec::with_capacity(4 * mine.len());
        if !mine.is_empty() {
            source.seek(0, mine.start)?;
        }
        for _ in mine {
            let b = source
                .next_batch()?
                .ok_or_else(|| Error::State("the stream ended before its last batch".into()))?;
            let data = TrainData {
                x: b.x.to_owned(),
                y: b.y.to_owned(),
            };
            let (net, loss, p) = (
                self.trainer.model(),
                self.trainer.loss(),
                &self.trainer.params,
            );
            let m =
                super::SplitMetrics::with_target_scaler(net, loss, p, &data, &self.target_scaler)?;
            let rows = data.x.nrows() as f64;
            figures.extend([
                rows,
                m.loss,
                m.mse.unwrap_or(0.0),
                m.accuracy.unwrap_or(0.0),
            ]);
        }
        if let (Some(s), Some(hook)) = (shard, self.trainer.gradient_hook_mut()) {
            let counts: Vec<usize> = (0..s.size)
                .map(|r| 4 * crate::train::chunk_range(batches, r, s.size).len())
                .collect();
            figures = hook.all_gather(&figures, &counts)?;
        }
        let (mut n, mut sum_loss, mut sum_mse, mut sum_acc) = (0.0, 0.0, 0.0, 0.0);
        for f in figures.chunks_exact(4) {
            let rows = f[0];
            n += rows;
            sum_loss += f[1] * rows;
            sum_mse += f[2] * rows;
            sum_acc += f[3] * rows;
        }
        let classify = self.trainer.loss().is_classification();
        let mse = (!classify).then(|| sum_mse / n);
        let r2 = match (mse, target_m2) {
            (Some(mse), [m2]) if *m2 > 0.0 => Some(1.0 - mse * n / m2),
            _ => None,
        };
        Ok(super::SplitMetrics {
            loss: sum_loss / n,
            mse,
            r2,
            accuracy: classify.then(|| sum_acc / n),
        })
    }
}

/// Rows in a batch of the validation stream: enough that the per-batch work is small
/// beside the rows' arithmetic, few enough to stay a small part of a run's memory.
pub const VAL_BATCH: usize = crate::data::parquet::CHUNK;

/// The validation stream of a run, kept by [`Run`].
pub struct ValStream<F>(pub ParquetBatches<F>);

impl<F: Float> std::fmt::Debug for ValStream<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValStream({} rows)", self.0.n_rows())
    }
}
