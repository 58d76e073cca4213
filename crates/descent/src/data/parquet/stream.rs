//! [`ParquetBatches`]: a [`BatchSource`] that streams Parquet row groups, so that a run
//! holds one chunk of decoded rows, the shuffle buffer and one batch, whatever the size of
//! the data.
//!
//! # The order of an epoch
//! ```text
//! no shuffle: the rows in file order (files by path, row groups, rows)
//! shuffle:    1. the row groups in a ChaCha8 permutation (seed, stream = epoch)
//!             2. their rows through a buffer of B slots (tf.data's algorithm): the first
//!                B rows fill it; output i takes slot j_i and the next row refills slot
//!                j_i; once the input is spent, slot j_i is refilled from the last slot and
//!                the buffer shrinks by one.
//!             j_i = floor(u_i * len / 2^64), u_i the i-th 64-bit word pair of ChaCha8
//!             (seed, stream = 2^63 + epoch): a counter-based draw, a pure function of
//!             (seed, epoch, i)
//! ```
//! # Resuming
//! [`seek`](BatchSource::seek)`(epoch, k)` needs only the position: it replays the draws
//! `j_0 .. j_{kb-1}` on row numbers (integers, no data: about 20 ns a draw) to learn which
//! rows the buffer held, then decodes the stream from the oldest of them to the input
//! position (that is, for a buffer of B rows, typically a few times B rows; at most every
//! row read so far in the epoch). The batches after it are then exactly those of the
//! uninterrupted run.
//!
//! # One rank's rows
//! In a data-parallel run each rank computes only its chunks of every batch (the linear
//! kernels' [`chunk_range`](crate::train::chunk_range) of the batch's 64-row chunks). After
//! [`ParquetBatches::only_chunks`] the stream learns at each epoch's start, by replaying the
//! epoch's order on row numbers, which input rows land in this rank's chunks, decodes those
//! alone, and passes over row groups that hold none of them without reading them. The other
//! rows of a batch are zeros or stale values, which the rank's chunks never touch: the
//! rank's chunk sums, and so the run, keep the single process's bits. How much a rank is
//! spared depends on the order: in file order with row groups no larger than a rank's run
//! of chunks, it reads about 1/N of the row groups; a shuffle buffer spreads every row
//! group over every batch, and then each rank reads nearly every row group (decoding only
//! its rows).
//!
//! # Read-ahead
//! After [`ParquetBatches::set_read_ahead`] the rows are decoded on a thread of their own, a
//! chunk ahead of the batches (`ahead.rs`), except under `only_chunks`: the same batches.

use std::collections::HashMap;
use std::sync::Arc;

use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::files::ParquetFiles;
use super::rows::{RowReader, Selection};
use super::stats::StreamStats;
use crate::data::{Batch, BatchSource, Scaler};
use crate::{Error, Float, Result};

/// How a stream is cut and ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamOrder {
    pub batch: usize,
    /// `None`: file order; `Some(seed)`: shuffled as the module documents.
    pub shuffle: Option<u64>,
    /// Rows in the shuffle buffer.
    pub buffer: usize,
}

impl StreamOrder {
    /// The row groups of `epoch` in reading order.
    pub fn groups(&self, epoch: usize, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        if let Some(seed) = self.shuffle {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(epoch as u64);
            order.shuffle(&mut rng);
        }
        order
    }

    /// The generator of the buffer's draws in `epoch`, positioned before draw `i`.
    fn draws(&self, epoch: usize, i: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.shuffle.unwrap_or(0));
        rng.set_stream((1 << 63) | epoch as u64);
        rng.set_word_pos(2 * u128::from(i));
        rng
    }

    /// The original (file-order) position of every output of `epoch`, for rows kept per
    /// row group `kept`: what [`shuffle_quality`] measures.
    pub fn epoch_positions(&self, epoch: usize, kept: &[u64]) -> Vec<u64> {
        let starts: Vec<u64> = kept
            .iter()
            .scan(0u64, |next, &k| {
                let start = *next;
                *next += k;
                Some(start)
            })
            .collect();
        let stream: Vec<u64> = self
            .groups(epoch, kept.len())
            .into_iter()
            .flat_map(|g| starts[g]..starts[g] + kept[g])
            .collect();
        if self.shuffle.is_none() {
            return stream;
        }
        let n = stream.len() as u64;
        let b = (self.buffer.max(1) as u64).min(n) as usize;
        let mut slots: Vec<u64> = stream[..b].to_vec();
        let mut consumed = b as u64;
        let mut rng = self.draws(epoch, 0);
        let mut out = Vec::with_capacity(stream.len());
        for _ in 0..n {
            let j = pick(&mut rng, slots.len());
            out.push(slots[j]);
            if consumed < n {
                slots[j] = stream[consumed as usize];
                consumed += 1;
            } else {
                slots.swap_remove(j);
            }
        }
        out
    }
}

fn pick(rng: &mut ChaCha8Rng, len: usize) -> usize {
    ((u128::from(rng.next_u64()) * len as u128) >> 64) as usize
}

/// The mean distance of a row from its file-order position in epoch 0 of `order`, and the
/// same for a full shuffle of `n` rows (`(n^2 - 1) / 3n`, about n/3), in rows.
pub fn shuffle_quality(order: &StreamOrder, kept: &[u64]) -> (f64, f64) {
    let out = order.epoch_positions(0, kept);
    let n = out.len() as f64;
    let moved: f64 = out
        .iter()
        .enumerate()
        .map(|(i, &p)| (i as f64 - p as f64).abs())
        .sum();
    (moved / n.max(1.0), (n * n - 1.0) / (3.0 * n.max(1.0)))
}

/// Streamed batches of a Parquet data set, scaled and converted to the run's precision.
pub struct ParquetBatches<F> {
    files: Arc<ParquetFiles>,
    sel: Arc<Selection>,
    order: StreamOrder,
    stats: StreamStats,
    x_affine: Vec<(f64, f64)>,
    y_affine: Vec<(f64, f64)>,
    n_features: usize,
    // The epoch being read.
    reader: Option<RowReader>,
    rng: ChaCha8Rng,
    slots: Vec<F>,
    slot_len: usize,
    consumed: u64,
    produced: u64,
    row: Vec<f64>,
    x: Vec<F>,
    y: Vec<F>,
    rows: Vec<usize>,
    /// [`Self::only_chunks`]: `(rank, size)`, and this epoch's input rows of the rank (one
    /// bit per input position).
    only: Option<(usize, usize)>,
    mine: Vec<u64>,
    /// Input rows to pass over before the next one decoded (under `only`).
    pending: u64,
    /// Row groups and compressed bytes read by the epochs before the current one, and the
    /// epochs begun (seeks).
    read_before: (u64, u64),
    epochs_seeked: u64,
    /// Decode on a thread of its own ([`Self::set_read_ahead`]).
    read_ahead: bool,
}

/// What a stream read of its file: row groups opened and compressed bytes of the chosen
/// columns, over `epochs` epochs (seeks), against the whole file's per epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadShare {
    pub groups: u64,
    pub bytes: u64,
    pub epochs: u64,
    pub file_groups: u64,
    pub file_bytes: u64,
}

impl<F: Float> ParquetBatches<F> {
    /// A stream of the rows `stats` counted, scaled by `scaler` (features) and
    /// `target_scaler`.
    pub fn new(
        files: Arc<ParquetFiles>,
        sel: Selection,
        stats: StreamStats,
        order: StreamOrder,
        scaler: &Scaler,
        target_scaler: &Scaler,
    ) -> Result<Self> {
        if order.batch == 0 {
            return Err(Error::invalid(
                "batch",
                0,
                "a streamed batch holds at least one row",
            ));
        }
        if stats.rows == 0 {
            return Err(Error::Data(format!(
                "{}: no rows to train on",
                files.origin.display()
            )));
        }
        let (d, k) = (sel.features.len(), sel.targets.len());
        let identity = |n| vec![(0.0, 1.0); n];
        Ok(ParquetBatches {
            x_affine: scaler.affine().unwrap_or_else(|| identity(d)),
            y_affine: target_scaler.affine().unwrap_or_else(|| identity(k)),
            n_features: d,
            files,
            sel: Arc::new(sel),
            order,
            stats,
            reader: None,
            rng: ChaCha8Rng::seed_from_u64(0),
            slots: Vec::new(),
            slot_len: 0,
            consumed: 0,
            produced: 0,
            row: vec![0.0; d + k],
            x: Vec::new(),
            y: Vec::new(),
            rows: Vec::new(),
            only: None,
            mine: Vec::new(),
            pending: 0,
            read_before: (0, 0),
            epochs_seeked: 0,
            read_ahead: false,
        })
    }

    /// Decodes the rows on a thread of its own, a chunk or two ahead of the batches
    /// ([`RowReader::read_ahead`]), from the next seek on: the same batches. Not under
    /// [`only_chunks`](BatchSource::only_chunks), where which rows to read is decided row
    /// by row as the batches are cut, and reading ahead would open row groups the rank
    /// passes over.
    pub fn set_read_ahead(&mut self, on: bool) {
        self.read_ahead = on;
    }

    /// Whether the epoch being read decodes on a read-ahead thread (it starts at the first
    /// row decoded after the seek).
    pub fn is_reading_ahead(&self) -> bool {
        self.reader
            .as_ref()
            .is_some_and(RowReader::is_reading_ahead)
    }

    /// What the epochs so far read (row groups, bytes) against the whole file's.
    pub fn read_share(&self) -> Result<ReadShare> {
        let chosen: Vec<usize> = self
            .sel
            .features
            .iter()
            .chain(&self.sel.targets)
            .copied()
            .collect();
        let (file_groups, file_bytes) = self.files.chosen_bytes(&chosen)?;
        let now = self.reader.as_ref().map_or((0, 0), |r| r.opened);
        Ok(ReadShare {
            groups: self.read_before.0 + now.0,
            bytes: self.read_before.1 + now.1,
            epochs: self.epochs_seeked,
            file_groups,
            file_bytes,
        })
    }

    /// Marks the input rows of `epoch` that land in this rank's chunks (`only`).
    fn mark_mine(&mut self, epoch: usize) {
        let Some((rank, size)) = self.only else {
            return;
        };
        let n = self.stats.rows;
        let batch = self.order.batch as u64;
        let chunk = crate::kernels::CHUNK_ROWS as u64;
        let is_mine = |i: u64| {
            let k = i / batch;
            let m = batch.min(n - k * batch);
            let chunks = m.div_ceil(chunk).max(1) as usize;
            let c = ((i - k * batch) / chunk) as usize;
            crate::train::chunk_range(chunks, rank, size).contains(&c)
        };
        self.mine.clear();
        self.mine.resize(n.div_ceil(64) as usize, 0);
        let mut mark = |p: u64| self.mine[(p / 64) as usize] |= 1 << (p % 64);
        if self.order.shuffle.is_none() {
            (0..n).filter(|&i| is_mine(i)).for_each(&mut mark);
            return;
        }
        // The order on row numbers: output i takes the input row in slot j_i.
        let b = (self.order.buffer.max(1) as u64).min(n) as usize;
        let mut held: Vec<u64> = (0..b as u64).collect();
        let mut consumed = b as u64;
        let mut rng = self.order.draws(epoch, 0);
        for i in 0..n {
            let j = pick(&mut rng, held.len());
            if is_mine(i) {
                mark(held[j]);
            }
            if consumed < n {
                held[j] = consumed;
                consumed += 1;
            } else {
                held.swap_remove(j);
            }
        }
    }

    fn is_mine(&self, p: u64) -> bool {
        self.only.is_none() || self.mine[(p / 64) as usize] & (1 << (p % 64)) != 0
    }

    /// Passes over the next `n` input rows (whole row groups unread: a resume).
    fn pass(&mut self, n: u64) -> Result<()> {
        if self.only.is_some() {
            self.pending += n;
            return Ok(());
        }
        let kept = &self.stats.kept;
        let reader = self.reader.as_mut().expect("seek opened the epoch");
        reader.skip_kept(n, kept)
    }

    /// The input row at position `p` into `out_start` as [`Self::read_row`], or, when it is
    /// not this rank's (`only`), passed over: zeros in the batch, the slot left as it is.
    fn take_row(&mut self, p: u64, out_start: Option<usize>) -> Result<()> {
        if !self.is_mine(p) {
            self.pending += 1;
            if out_start.is_none() {
                let (d, w) = (self.n_features, self.sel.width());
                self.x.extend(std::iter::repeat_n(F::zero(), d));
                self.y.extend(std::iter::repeat_n(F::zero(), w - d));
            }
            return Ok(());
        }
        if self.pending > 0 {
            let n = std::mem::take(&mut self.pending);
            let kept = &self.stats.kept;
            self.reader
                .as_mut()
                .expect("seek opened the epoch")
                .skip_kept(n, kept)?;
        }
        self.read_row(out_start)
    }

    /// Rows in an epoch.
    pub fn n_rows(&self) -> u64 {
        self.stats.rows
    }

    /// What the statistics pass found.
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    fn width(&self) -> usize {
        self.sel.width()
    }

    /// Reads the next input row, scaled, into `out` (`width` values).
    fn read_row(&mut self, out_start: Option<usize>) -> Result<()> {
        let reader = self.reader.as_mut().expect("seek opened the epoch");
        if !reader.next_row(&mut self.row)? {
            return Err(Error::Data(format!(
                "{}: the data ended early; did the files change since the run began?",
                self.files.origin.display()
            )));
        }
        let d = self.n_features;
        let w = self.sel.width();
        let scaled = self.row.iter().enumerate().map(|(j, &v)| {
            let (shift, scale) = if j < d {
                self.x_affine[j]
            } else {
                self.y_affine[j - d]
            };
            F::of((v - shift) / scale)
        });
        match out_start {
            Some(s) => {
                for (slot, v) in self.slots[s..s + w].iter_mut().zip(scaled) {
                    *slot = v;
                }
            }
            None => {
                let (x, y) = (&mut self.x, &mut self.y);
                for (j, v) in scaled.enumerate() {
                    if j < d {
                        x.push(v);
                    } else {
                        y.push(v);
                    }
                }
            }
        }
        Ok(())
    }
}

impl<F: Float> BatchSource<F> for ParquetBatches<F> {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn steps_per_epoch(&self) -> usize {
        self.stats.rows.div_ceil(self.order.batch as u64) as usize
    }

    fn seek(&mut self, epoch: usize, index: usize) -> Result<()> {
        let groups = self.order.groups(epoch, self.stats.kept.len());
        if let Some(r) = &self.reader {
            self.read_before = (
                self.read_before.0 + r.opened.0,
                self.read_before.1 + r.opened.1,
            );
        }
        self.epochs_seeked += 1;
        let mut reader = RowReader::new(self.files.clone(), self.sel.clone(), groups);
        if self.read_ahead && self.only.is_none() {
            reader.read_ahead();
        }
        self.reader = Some(reader);
        self.pending = 0;
        self.mark_mine(epoch);
        let n = self.stats.rows;
        let start = (index as u64 * self.order.batch as u64).min(n);
        self.produced = start;
        if self.order.shuffle.is_none() {
            return self.pass(start);
        }
        // Replay the draws on row numbers to learn what the buffer holds at `start`.
        let b = (self.order.buffer.max(1) as u64).min(n) as usize;
        let mut held: Vec<u64> = (0..b as u64).collect();
        let mut consumed = b as u64;
        self.rng = self.order.draws(epoch, 0);
        for _ in 0..start {
            let j = pick(&mut self.rng, held.len());
            if consumed < n {
                held[j] = consumed;
                consumed += 1;
            } else {
                held.swap_remove(j);
            }
        }
        // Decode the rows from the oldest one held up to the input position.
        let w = self.width();
        self.slots = vec![F::zero(); held.len() * w];
        self.slot_len = held.len();
        self.consumed = consumed;
        let oldest = held.iter().copied().min().unwrap_or(consumed);
        let slot_of: HashMap<u64, usize> = held.iter().enumerate().map(|(s, &p)| (p, s)).collect();
        self.pass(oldest)?;
        for p in oldest..consumed {
            match slot_of.get(&p) {
                Some(&s) => self.take_row(p, Some(s * w))?,
                None => self.pass(1)?,
            }
        }
        Ok(())
    }

    /// Reads only the rows that land in the chunks of rank `rank` of `size` (see the module
    /// doc) from the next seek on; `None`: every row again (the final metrics pass).
    fn only_chunks(&mut self, only: Option<(usize, usize)>) {
        self.only = only.filter(|&(_, size)| size > 1);
        if let Some(r) = self.reader.take() {
            self.read_before = (
                self.read_before.0 + r.opened.0,
                self.read_before.1 + r.opened.1,
            );
        }
    }

    fn next_batch(&mut self) -> Result<Option<Batch<'_, F>>> {
        let n = self.stats.rows;
        if self.produced >= n || self.reader.is_none() {
            return Ok(None);
        }
        let m = (self.order.batch as u64).min(n - self.produced) as usize;
        self.x.clear();
        self.y.clear();
        let (d, w) = (self.n_features, self.width());
        for t in 0..m {
            if self.order.shuffle.is_none() {
                self.take_row(self.produced + t as u64, None)?;
                continue;
            }
            let j = pick(&mut self.rng, self.slot_len);
            let row = &self.slots[j * w..(j + 1) * w];
            self.x.extend_from_slice(&row[..d]);
            self.y.extend_from_slice(&row[d..]);
            if self.consumed < n {
                self.take_row(self.consumed, Some(j * w))?;
                self.consumed += 1;
            } else {
                let last = self.slot_len - 1;
                self.slots.copy_within(last * w..(last + 1) * w, j * w);
                self.slot_len -= 1;
            }
        }
        self.produced += m as u64;
        self.rows.clear();
        self.rows.extend(0..m);
        let k = w - d;
        Ok(Some(Batch {
            x: ArrayView2::from_shape((m, d), &self.x)
                .map_err(|e| Error::Data(format!("batch shape: {e}")))?,
            y: ArrayView2::from_shape((m, k), &self.y)
                .map_err(|e| Error::Data(format!("batch shape: {e}")))?,
            rows: &self.rows,
            whole: true,
        }))
    }
}
