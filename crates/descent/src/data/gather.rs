//! Gathering rows ahead of their use, on a second thread: small shuffled batches, and the
//! blocks of per-sample updates.
//!
//! The rows of a shuffled batch are random places in the feature table: reading them is
//! bound by memory latency, not by arithmetic. A [`Gatherer`] walks the batches of one
//! epoch on a thread of its own and copies each batch's rows (features and targets) into
//! contiguous buffers, up to [`DEPTH`] batches ahead of the trainer, which then reads them
//! from the caches. Used buffers go back to the gatherer to be refilled, so nothing is
//! allocated after the first few batches.
//!
//! The channel holds [`DEPTH`] batches: the trainer waits only when gathering is slower than
//! training. Both sides try again for a while (`SPIN` times, yielding the core in between)
//! before they sleep on the channel: waking a sleeping thread takes tens of microseconds on
//! a virtual machine, longer than a batch of a small model takes to train.
//!
//! The trainer uses it for batches of one chunk of the linear kernel (fewer than 128 rows);
//! larger batches are cut between two threads instead ([`crate::kernels::LinearPair`]),
//! which keeps both cores reading rows, where gathering leaves the trainer computing from
//! the buffers (P2: 78 ms an epoch gathered, 51-65 paired).
//!
//! The batches it gathers are those of [`Batches::split`](super::Batches::split) over the
//! same order, with the same rows in the same order, so training on them gives the same
//! numbers; it takes two of every three ([`takes`]), and the trainer reads the others
//! from the table itself.
//!
//! One-row updates (per-sample SGD, fused in the linear kernel) have a [`BlockGatherer`]
//! instead: it copies blocks of [`BLOCK_ROWS`] rows of the order ahead of the trainer, and
//! the trainer never waits for it: a block that is not ready when the trainer reaches it is
//! read from the table, and the thread moves on past it. The share each side takes follows
//! their speeds. The trainer times both kinds of block, and where a copied block is no
//! faster to train on than the table (the two cores far apart, as a virtual machine's
//! cores sometimes are), the thread is stopped for the rest of the epoch ([`Verdict`]).
//! `DESCENT_GATHER_BLOCKS=0` turns the block gatherer off, `=1` keeps it on whatever the
//! verdict ([`BlockMode`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{
    channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError, TrySendError,
};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use ndarray::ArrayView2;

use crate::kernels::vector::prefetched_rows;
use crate::{Error, Float, Result};

/// Batches gathered ahead of the one in use.
pub const DEPTH: usize = 8;

/// How many times a side tries again (yielding in between) before it sleeps on the channel.
/// Each wait is short when both sides run, while waking a sleeping thread takes tens of
/// microseconds on a virtual machine, and is paid on every batch once one side is ahead.
const SPIN: usize = 4096;

/// Rows per block of a [`BlockGatherer`]: 200 KB of 100 `f64` features, inside a core's
/// second-level cache. Measured on P3 (10^6 x 100 `f64`, in order): 128, 256 and 512 rows
/// alike.
pub const BLOCK_ROWS: usize = 256;

/// Blocks a [`BlockGatherer`] holds ready ahead of the trainer.
const BLOCK_DEPTH: usize = 8;

/// How far ahead of the trainer a [`BlockGatherer`] that has fallen behind starts again (and
/// where it starts): the blocks in between are the trainer's. Measured on P3 (10^6 x 100
/// `f64`, in order; 69-71 ms an epoch without the thread): starting at the trainer's next
/// block, 24 % of the blocks were ready in time and one run in three took 85 ms; two to
/// eight blocks ahead, 70-77 % were ready and the epoch took 57-61 ms; sixteen, 55 % and
/// 63 ms.
const BLOCK_GAP: usize = 4;

/// Sends `b`, trying again for a while before sleeping on a full channel; an error when the
/// trainer has dropped its end.
fn hand_over<T>(send: &SyncSender<T>, mut b: T) -> Result<(), ()> {
    for _ in 0..SPIN {
        match send.try_send(b) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => {
                b = back;
                std::thread::yield_now();
            }
            Err(TrySendError::Disconnected(_)) => return Err(()),
        }
    }
    send.send(b).map_err(|_| ())
}

/// Whether the gatherer takes batch `i` (two of every three). The trainer reads the third
/// straight from the table, so that both threads wait on memory: gathering a row costs about
/// as much as training on it from the table, and training on a gathered row about a third.
pub fn takes(i: usize) -> bool {
    i % 3 != 2
}

/// One gathered batch: its rows of `x` and `y`, contiguous and row-major.
#[derive(Debug)]
pub struct GatheredBatch<F> {
    x: Vec<F>,
    y: Vec<F>,
    rows: usize,
    x_cols: usize,
    y_cols: usize,
}

impl<F: Float> GatheredBatch<F> {
    /// The batch's feature rows.
    pub fn x(&self) -> ArrayView2<'_, F> {
        ArrayView2::from_shape((self.rows, self.x_cols), &self.x).expect("rows x cols elements")
    }

    /// The batch's target rows.
    pub fn y(&self) -> ArrayView2<'_, F> {
        ArrayView2::from_shape((self.rows, self.y_cols), &self.y).expect("rows x cols elements")
    }

    /// Rows in the batch.
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// An empty batch with room for `rows` rows of `x_cols` features and `y_cols` targets.
    fn with_room(rows: usize, x_cols: usize, y_cols: usize) -> Self {
        GatheredBatch {
            x: Vec::with_capacity(rows * x_cols),
            y: Vec::with_capacity(rows * y_cols),
            rows: 0,
            x_cols,
            y_cols,
        }
    }

    /// Copies `rows` of `x` and `y` (row-major tables) into this batch; the last rows ask
    /// for the first of `after`, the next batch's.
    fn fill(&mut self, x: &[F], y: &[F], rows: &[usize], after: &[usize]) {
        let yc = self.y_cols;
        self.x.clear();
        self.y.clear();
        let targets =
            ArrayView2::from_shape((y.len() / yc.max(1), yc), y).expect("a row-major target table");
        for (r, xr) in prefetched_rows(x, self.x_cols, targets, rows, after) {
            self.x.extend_from_slice(xr);
            self.y.extend_from_slice(&y[r * yc..(r + 1) * yc]);
        }
        self.rows = rows.len();
    }
}

/// Two row-major tables and their widths.
type Tables<'env, F> = (&'env [F], &'env [F], usize, usize);

/// The tables `x` and `y` as row-major slices, with their widths; an error naming `what` is
/// gathered when one is not in standard layout.
fn row_major<'env, F>(
    x: ArrayView2<'env, F>,
    y: ArrayView2<'env, F>,
    what: &str,
) -> Result<Tables<'env, F>> {
    let (x_cols, y_cols) = (x.ncols(), y.ncols());
    match (x.to_slice(), y.to_slice()) {
        (Some(xs), Some(ys)) => Ok((xs, ys, x_cols, y_cols)),
        _ => Err(Error::State(format!(
            "gathering {what} needs tables in standard layout"
        ))),
    }
}

/// A thread that gathers one epoch's batches in order, from a given batch on.
#[derive(Debug)]
pub struct Gatherer<'scope, F> {
    batches: Option<Receiver<GatheredBatch<F>>>,
    spares: Sender<GatheredBatch<F>>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope, F: Float> Gatherer<'scope, F> {
    /// Starts gathering the batches of `batch` rows of `order` (the last one possibly
    /// shorter) that it [`takes`], from batch number `first` on, out of the tables `x` and
    /// `y` (row-major).
    pub fn spawn<'env>(
        scope: &'scope Scope<'scope, 'env>,
        x: ArrayView2<'env, F>,
        y: ArrayView2<'env, F>,
        order: Arc<Vec<usize>>,
        batch: usize,
        first: usize,
    ) -> Result<Self> {
        let (xs, ys, x_cols, y_cols) = row_major(x, y, "batches")?;
        let (send, batches) = sync_channel::<GatheredBatch<F>>(DEPTH);
        let (spares, spare) = channel::<GatheredBatch<F>>();
        let thread = std::thread::Builder::new()
            .name("descent-gather".into())
            .spawn_scoped(scope, move || {
                let start = (first * batch).min(order.len());
                let numbered = order[start..].chunks(batch.max(1)).zip(first..);
                let mut taken = numbered
                    .filter(|&(_, i)| takes(i))
                    .map(|(rows, _)| rows)
                    .peekable();
                while let Some(rows) = taken.next() {
                    let after = taken.peek().copied().unwrap_or(&[]);
                    let mut b = spare
                        .try_recv()
                        .unwrap_or_else(|_| GatheredBatch::with_room(batch, x_cols, y_cols));
                    b.fill(xs, ys, rows, after);
                    if hand_over(&send, b).is_err() {
                        return; // the trainer stopped taking batches
                    }
                }
            })
            .map_err(|e| Error::State(format!("cannot start the batch gatherer: {e}")))?;
        Ok(Gatherer {
            batches: Some(batches),
            spares,
            thread: Some(thread),
        })
    }

    /// The next batch it takes, waiting for it if it is not gathered yet.
    pub fn next_batch(&mut self) -> Result<GatheredBatch<F>> {
        let stopped = || Error::State("the batch gatherer stopped early".into());
        let batches = self.batches.as_ref().ok_or_else(stopped)?;
        for _ in 0..SPIN {
            match batches.try_recv() {
                Ok(b) => return Ok(b),
                Err(TryRecvError::Empty) => std::thread::yield_now(),
                Err(TryRecvError::Disconnected) => return Err(stopped()),
            }
        }
        batches.recv().map_err(|_| stopped())
    }

    /// Hands a used batch back for refilling.
    pub fn recycle(&self, batch: GatheredBatch<F>) {
        // A gatherer that has finished no longer takes buffers; the batch is then dropped.
        let _ = self.spares.send(batch);
    }
}

/// Rows the trainer reads from the table between two verdicts on a [`BlockGatherer`]
/// (about half a millisecond of training, 32 blocks).
pub const JUDGED_ROWS: usize = 32 * BLOCK_ROWS;

/// Whether a [`BlockGatherer`] pays, judged from the time the trainer took on its blocks
/// and on the table's since the last verdict: it pays when it has delivered a block's rows
/// or more and those take less time each. (A rule that also asked for a quarter as many
/// rows as the table's stopped threads whose copies were the faster ones: they deliver
/// fewest at the start of an epoch.)
///
/// Measured on P3 (10^6 x 100 `f64`, in order; 69-72 ms an epoch without the thread, 54-56
/// ns a row from the caches): in some minutes a copied block took 50-55 ns a row and the
/// table's 69-99, and the epoch 57-65 ms; in others, on the same machine, a copied block
/// took 83-127 ns a row, the table's 75-86, and the epoch without a verdict 81-89 ms,
/// slower than alone.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Verdict {
    /// Rows and nanoseconds on the thread's blocks, and on the table's.
    pub gathered: (usize, u128),
    pub table: (usize, u128),
}

impl Verdict {
    /// Adds a stretch of `rows` rows that took `took`, from a copied block or the table.
    pub fn add(&mut self, gathered: bool, rows: usize, took: std::time::Duration) {
        let side = if gathered {
            &mut self.gathered
        } else {
            &mut self.table
        };
        side.0 += rows;
        side.1 += took.as_nanos();
    }

    /// `None` until the trainer has read [`JUDGED_ROWS`] rows from the table; then whether
    /// the thread pays.
    pub fn pays(&self) -> Option<bool> {
        let ((g_rows, g_ns), (t_rows, t_ns)) = (self.gathered, self.table);
        if t_rows < JUDGED_ROWS {
            return None;
        }
        // g_ns / g_rows < t_ns / t_rows, in integers.
        let faster = g_ns * (t_rows as u128) < t_ns * (g_rows as u128);
        Some(g_rows >= BLOCK_ROWS && faster)
    }
}

/// Whether one-row updates take a [`BlockGatherer`], as `DESCENT_GATHER_BLOCKS` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockMode {
    /// `0`: never.
    Off,
    /// `1`: always, and never stopped by a verdict.
    Always,
    /// Unset (or anything else): stopped when its blocks do not pay ([`Verdict`]).
    Judged,
}

impl BlockMode {
    /// The mode `DESCENT_GATHER_BLOCKS` asks for.
    pub fn from_env() -> Self {
        match std::env::var("DESCENT_GATHER_BLOCKS").as_deref() {
            Ok("0") => BlockMode::Off,
            Ok("1") => BlockMode::Always,
            _ => BlockMode::Judged,
        }
    }
}

/// A thread that copies one epoch's rows, block by block ([`BLOCK_ROWS`] rows of the order
/// each), ahead of one-row updates that never wait for it ([`BlockGatherer::block`]), and
/// stops when its blocks do not pay ([`BlockGatherer::timed`]).
#[derive(Debug)]
pub struct BlockGatherer<'scope, F> {
    blocks: Option<Receiver<(usize, GatheredBatch<F>)>>,
    spares: Sender<GatheredBatch<F>>,
    /// The number of the first block the trainer has not started: the thread gathers only
    /// blocks from there on.
    started: Arc<AtomicUsize>,
    /// The last block received: the one in use, or one for later.
    held: Option<(usize, GatheredBatch<F>)>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
    /// The time taken since the last verdict; `None` when never judged.
    verdict: Option<Verdict>,
}

impl<'scope, F: Float> BlockGatherer<'scope, F> {
    /// Starts gathering the blocks of `order` from block number `first` on, out of the
    /// tables `x` and `y` (row-major); `judged`: stopped when its blocks do not pay.
    pub fn spawn<'env>(
        scope: &'scope Scope<'scope, 'env>,
        x: ArrayView2<'env, F>,
        y: ArrayView2<'env, F>,
        order: Arc<Vec<usize>>,
        first: usize,
        judged: bool,
    ) -> Result<Self> {
        let (xs, ys, x_cols, y_cols) = row_major(x, y, "blocks")?;
        let (send, blocks) = sync_channel::<(usize, GatheredBatch<F>)>(BLOCK_DEPTH);
        let (spares, spare) = channel::<GatheredBatch<F>>();
        let started = Arc::new(AtomicUsize::new(first));
        let trainer = Arc::clone(&started);
        let thread = std::thread::Builder::new()
            .name("descent-gather".into())
            .spawn_scoped(scope, move || {
                let mut k = first;
                loop {
                    // Behind the trainer, start again `BLOCK_GAP` blocks ahead of it.
                    k = k.max(trainer.load(Ordering::Relaxed) + BLOCK_GAP);
                    let Some(rows) = block_rows(&order, k) else {
                        return;
                    };
                    let after = block_rows(&order, k + 1).unwrap_or(&[]);
                    let mut b = spare
                        .try_recv()
                        .unwrap_or_else(|_| GatheredBatch::with_room(BLOCK_ROWS, x_cols, y_cols));
                    b.fill(xs, ys, rows, after);
                    if hand_over(&send, (k, b)).is_err() {
                        return; // the trainer stopped taking blocks
                    }
                    k += 1;
                }
            })
            .map_err(|e| Error::State(format!("cannot start the block gatherer: {e}")))?;
        Ok(BlockGatherer {
            blocks: Some(blocks),
            spares,
            started,
            held: None,
            thread: Some(thread),
            verdict: judged.then(Verdict::default),
        })
    }

    /// Tells a judged gatherer that the trainer took `took` on `rows` rows of a copied block
    /// (`gathered`) or of the table; at each verdict ([`Verdict::pays`]) it stops its thread
    /// if its blocks do not pay (every later block is then the table's).
    pub fn timed(&mut self, gathered: bool, rows: usize, took: std::time::Duration) {
        let Some(verdict) = self.verdict.as_mut().filter(|_| self.blocks.is_some()) else {
            return; // never judged, or stopped
        };
        verdict.add(gathered, rows, took);
        match verdict.pays() {
            Some(true) => *verdict = Verdict::default(),
            Some(false) => self.stop(),
            None => {}
        }
    }

    /// Whether the trainer should time its blocks ([`Self::timed`]).
    pub fn is_judged(&self) -> bool {
        self.verdict.is_some() && self.blocks.is_some()
    }

    /// Stops the thread and waits for it; no block is ready after this.
    fn stop(&mut self) {
        self.blocks.take();
        self.held.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Block `q`'s rows if they are gathered, without waiting; `None` tells the trainer to
    /// read them from the table. The trainer asks for its blocks in increasing order (the
    /// same block any number of times in a row), and the thread gathers none it has asked
    /// for (from here on, only later ones).
    pub fn block(&mut self, q: usize) -> Option<&GatheredBatch<F>> {
        self.started.fetch_max(q + 1, Ordering::Relaxed);
        loop {
            match &self.held {
                Some((i, _)) if *i == q => break,
                Some((i, _)) if *i > q => return None,
                _ => {}
            }
            let received = self.blocks.as_ref()?.try_recv().ok()?;
            if let Some((_, old)) = self.held.replace(received) {
                // A block the trainer has passed goes back to be refilled.
                let _ = self.spares.send(old);
            }
        }
        self.held.as_ref().map(|(_, b)| b)
    }
}

/// The rows of block `k` of `order` (the last block possibly shorter); `None` past the end.
fn block_rows(order: &[usize], k: usize) -> Option<&[usize]> {
    let start = k.checked_mul(BLOCK_ROWS).filter(|&s| s < order.len())?;
    Some(&order[start..order.len().min(start + BLOCK_ROWS)])
}

impl<F> Drop for BlockGatherer<'_, F> {
    /// Stops the thread and waits for it, as [`Gatherer`]'s drop does.
    fn drop(&mut self) {
        self.blocks.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<F> Drop for Gatherer<'_, F> {
    /// Stops the thread (its next send fails) and waits for it, so that it lets go of the
    /// order before the next epoch rewrites it.
    fn drop(&mut self) {
        self.batches.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Axis};

    use super::*;

    /// The gathered batches are the rows of `split`, from the given batch on, in order, for
    /// the batches it takes.
    #[test]
    fn gathered_batches_are_the_selected_rows() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| (i * 10 + j) as f32);
        let y = Array2::from_shape_fn((50, 2), |(i, j)| -((i * 10 + j) as f32));
        let order: Vec<usize> = (0..50).map(|i| (i * 17) % 50).collect();
        let order = Arc::new(order);
        std::thread::scope(|scope| {
            let mut g =
                Gatherer::spawn(scope, x.view(), y.view(), Arc::clone(&order), 8, 2).unwrap();
            for (rows, _) in order.chunks(8).zip(0..).skip(2).filter(|&(_, i)| takes(i)) {
                let b = g.next_batch().unwrap();
                assert_eq!(b.n_rows(), rows.len());
                assert_eq!(b.x(), x.select(Axis(0), rows));
                assert_eq!(b.y(), y.select(Axis(0), rows));
                g.recycle(b);
            }
            assert!(g.next_batch().is_err(), "no batch after the last");
        });
    }

    /// Every block the thread has ready when the trainer asks holds the rows of its
    /// number, whether the trainer asks once or again (the block in use); the rows of the
    /// others the trainer reads from the table. Blocks are cut from the order, the last
    /// one shorter.
    #[test]
    fn ready_blocks_hold_their_rows() {
        let n = 20 * BLOCK_ROWS + 17;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| (i * 10 + j) as f32);
        let y = Array2::from_shape_fn((n, 1), |(i, _)| -(i as f32));
        // A permutation (7919 is prime and does not divide n).
        let order: Vec<usize> = (0..n).map(|i| (i * 7919) % n).collect();
        assert_eq!(block_rows(&order, 20).map(<[usize]>::len), Some(17));
        assert_eq!(block_rows(&order, 21), None);
        assert_eq!(block_rows(&order, usize::MAX), None);
        let order = Arc::new(order);
        std::thread::scope(|scope| {
            let mut g =
                BlockGatherer::spawn(scope, x.view(), y.view(), Arc::clone(&order), 2, false)
                    .unwrap();
            for q in 2..=20 {
                let rows = block_rows(&order, q).unwrap();
                for _ in 0..2 {
                    if let Some(b) = g.block(q) {
                        assert_eq!(b.x(), x.select(Axis(0), rows), "block {q}");
                        assert_eq!(b.y(), y.select(Axis(0), rows), "block {q}");
                    }
                }
            }
            assert!(g.block(21).is_none(), "no block after the last");
        });
    }

    /// The thread pays when it delivers a block's rows or more, each faster than the
    /// table's; nothing is judged before `JUDGED_ROWS` table rows.
    #[test]
    fn a_verdict_weighs_rows_and_time() {
        use std::time::Duration;
        let ns = Duration::from_nanos;
        let mut v = Verdict::default();
        v.add(true, 3 * JUDGED_ROWS, ns(50 * 3 * JUDGED_ROWS as u64));
        v.add(false, JUDGED_ROWS - 1, ns(70 * (JUDGED_ROWS as u64 - 1)));
        assert_eq!(v.pays(), None, "too few table rows");
        v.add(false, 1, ns(70));
        assert_eq!(v.pays(), Some(true), "50 ns a row against 70");
        let slower = |gathered_ns: u64, gathered_rows: usize| {
            let mut v = Verdict::default();
            v.add(true, gathered_rows, ns(gathered_ns * gathered_rows as u64));
            v.add(false, JUDGED_ROWS, ns(70 * JUDGED_ROWS as u64));
            v.pays()
        };
        assert_eq!(
            slower(87, JUDGED_ROWS),
            Some(false),
            "87 ns a row against 70"
        );
        assert_eq!(slower(70, JUDGED_ROWS), Some(false), "no faster");
        assert_eq!(slower(69, JUDGED_ROWS), Some(true));
        assert_eq!(slower(30, BLOCK_ROWS), Some(true), "one block");
        assert_eq!(slower(30, BLOCK_ROWS - 1), Some(false), "less than a block");
        assert_eq!(slower(30, 0), Some(false), "none delivered");
    }

    /// A trainer that stops taking batches midway stops the thread, and dropping the
    /// gatherer waits for it.
    #[test]
    fn dropping_the_gatherer_stops_its_thread() {
        let x = Array2::<f64>::zeros((10_000, 4));
        let y = Array2::<f64>::zeros((10_000, 1));
        let order = Arc::new((0..10_000).collect::<Vec<_>>());
        std::thread::scope(|scope| {
            let mut g = Gatherer::spawn(scope, x.view(), y.view(), order.clone(), 1, 0).unwrap();
            g.next_batch().unwrap();
            drop(g);
            // Joined by the drop, not only at the end of the scope: the next epoch's order
            // is then rewritten in place.
            assert_eq!(Arc::strong_count(&order), 1);
        });
    }
}
