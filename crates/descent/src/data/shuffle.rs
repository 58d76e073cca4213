//! The shuffle of an epoch's row order, with its random indices drawn on a second thread.
//!
//! A shuffled epoch of a large table starts with a shuffle of its row numbers, and the first
//! batch waits for it: for a million rows, about 5 ms here, of which 3 go to drawing ChaCha8's
//! random words and turning them into indices and 1.5 to the swaps. The indices depend only
//! on the random words, never on the swaps, so one thread can draw them while another swaps
//! a block behind ([`shuffle`] with a helper): the shuffle then takes about as long as the
//! drawing alone.
//!
//! # Algorithm
//! Exactly `rand`'s `SliceRandom::shuffle` (0.10), so that a seed gives the order it always
//! gave: Durstenfeld's shuffle that, for `i` in `0..n`, swaps `i` with an index uniform in
//! `0..=i` ([`Draws::next_index`], `rand`'s `IncreasingUniform`). An index comes from one
//! 32-bit word while `(i + 1)(i + 2)` exceeds `u32::MAX`; below that, one word is drawn
//! uniform below the product of as many consecutive ranges as fit in a `u32` and split
//! into their indices (`chunk % (i + 1)`, then `chunk / (i + 1)` for the next). A word `w`
//! is uniform below `bound` by Canon's method with `rand`'s default (biased) rejection:
//! the high half of `w · bound`, and when its low half exceeds `2^32 - bound`, one more word
//! whose high half carries into it ([`below`]). The unit tests hold it equal to `rand`'s
//! shuffle for sizes across every regime and on both paths.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Orders shorter than this are shuffled on one thread: starting the helper costs tens of
/// microseconds, and the helper saves about 2 ns a row.
pub const HELPED_MIN_ROWS: usize = 1 << 17;

/// Indices handed over at once, and the number of such blocks in flight (128 KB in all:
/// both threads' caches hold them).
const BLOCK: usize = 4096;
const BLOCKS: usize = 8;

/// Shuffles `order` as `order.shuffle(rng)` does; with `helped` and at least
/// [`HELPED_MIN_ROWS`] rows, a second thread draws the indices while this one swaps.
pub fn shuffle(order: &mut [usize], rng: &mut ChaCha8Rng, helped: bool) {
    let n = order.len();
    if n <= 1 {
        return;
    }
    if n >= u32::MAX as usize {
        order.shuffle(rng); // `rand` draws these another way; no table is this long
        return;
    }
    if helped && n >= HELPED_MIN_ROWS {
        // The same words if the helper cannot be started.
        let spare = rng.clone();
        if shuffle_helped(order, rng) {
            return;
        }
        *rng = spare;
    }
    let mut draws = Draws::new(|| rng.next_u32());
    for i in 0..n {
        order.swap(i, draws.next_index());
    }
}

/// [`shuffle`] with the indices drawn on a helper thread; `false` (nothing done) if no
/// thread can be started.
fn shuffle_helped(order: &mut [usize], rng: &mut ChaCha8Rng) -> bool {
    let n = order.len();
    let ring = Ring::new();
    std::thread::scope(|scope| {
        let started = std::thread::Builder::new()
            .name("descent-shuffle".into())
            .spawn_scoped(scope, || {
                let _stop = StopOnDrop(&ring.stopped);
                ring.draw(n, rng);
            });
        if started.is_err() {
            return false;
        }
        // If this thread stops early (a panic), the helper must not wait for it forever.
        let _stop = StopOnDrop(&ring.stopped);
        for k in 0..n.div_ceil(BLOCK) {
            if !ring.wait_until(|| ring.drawn.load(Ordering::Acquire) > k) {
                break; // the helper stopped: its panic reaches the caller at the scope's end
            }
            let first = k * BLOCK;
            let slot = &ring.slots[(k % BLOCKS) * BLOCK..][..BLOCK.min(n - first)];
            for (i, index) in (first..).zip(slot) {
                order.swap(i, index.load(Ordering::Relaxed) as usize);
            }
            ring.swapped.store(k + 1, Ordering::Release);
        }
        true
    })
}

/// Blocks of indices passed from the drawing thread to the swapping one.
struct Ring {
    /// `BLOCKS` slots of `BLOCK` indices; block `k` goes into slot `k % BLOCKS`.
    slots: Box<[AtomicU32]>,
    /// Blocks drawn so far.
    drawn: AtomicUsize,
    /// Blocks swapped so far (their slots are free again).
    swapped: AtomicUsize,
    /// Set when either thread is done or gives up.
    stopped: AtomicBool,
}

/// Spins this many times before it starts yielding the core between looks.
const SPINS: u32 = 1 << 16;

impl Ring {
    fn new() -> Self {
        Ring {
            slots: (0..BLOCKS * BLOCK).map(|_| AtomicU32::new(0)).collect(),
            drawn: AtomicUsize::new(0),
            swapped: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// Draws the `n` indices of the shuffle into the slots, a block at a time, each once
    /// its slot is free.
    fn draw(&self, n: usize, rng: &mut ChaCha8Rng) {
        let mut draws = Draws::new(|| rng.next_u32());
        for k in 0..n.div_ceil(BLOCK) {
            if !self.wait_until(|| self.swapped.load(Ordering::Acquire) + BLOCKS > k) {
                return;
            }
            let len = BLOCK.min(n - k * BLOCK);
            for slot in &self.slots[(k % BLOCKS) * BLOCK..][..len] {
                // An index is at most `i < n < u32::MAX`.
                slot.store(draws.next_index() as u32, Ordering::Relaxed);
            }
            self.drawn.store(k + 1, Ordering::Release);
        }
    }

    /// Waits until `ready()`: spinning, then yielding the core between looks. `false` if the
    /// other thread stopped first.
    fn wait_until(&self, ready: impl Fn() -> bool) -> bool {
        let mut looks = 0u32;
        while !ready() {
            if self.stopped.load(Ordering::Acquire) {
                return ready();
            }
            if looks < SPINS {
                std::hint::spin_loop();
                looks += 1;
            } else {
                std::thread::yield_now();
            }
        }
        true
    }
}

/// Sets its flag when dropped: at the end of a thread's part, or when it panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The indices of Durstenfeld's steps `0, 1, 2, …` from a stream of random words:
/// `rand`'s `IncreasingUniform` started at 0.
struct Draws<W> {
    words: W,
    /// Steps taken.
    steps: u32,
    /// A random number below the product of the ranges of the next `remaining` steps.
    chunk: u32,
    remaining: u8,
}

impl<W: FnMut() -> u32> Draws<W> {
    fn new(words: W) -> Self {
        // Step 0 draws nothing: its index is 0.
        Draws {
            words,
            steps: 0,
            chunk: 0,
            remaining: 1,
        }
    }

    /// Step `i`'s index, uniform in `0..=i`.
    #[inline(always)]
    fn next_index(&mut self) -> usize {
        let range = self.steps + 1;
        let remaining = match self.remaining.checked_sub(1) {
            Some(r) => r,
            None => {
                let (bound, count) = bound_from(range);
                self.chunk = below(bound, &mut self.words);
                count - 1
            }
        };
        let index = if remaining == 0 {
            self.chunk
        } else {
            let r = self.chunk % range;
            self.chunk /= range;
            r
        };
        self.remaining = remaining;
        self.steps = range;
        index as usize
    }
}

/// `(m (m + 1) … (m + count - 1), count)` for the most consecutive ranges from `m` whose
/// product fits in a `u32`.
#[inline(always)]
fn bound_from(m: u32) -> (u32, u8) {
    let (mut product, mut next) = (m, m + 1);
    while let Some(p) = product.checked_mul(next) {
        product = p;
        next += 1;
    }
    (product, (next - m) as u8)
}

/// A number uniform in `0..bound` (`bound > 0`) from one or two random words: Canon's
/// method as `rand` samples a `u32` range by default.
#[inline(always)]
fn below(bound: u32, words: &mut impl FnMut() -> u32) -> u32 {
    let wide = u64::from(words()) * u64::from(bound);
    let (mut result, low) = ((wide >> 32) as u32, wide as u32);
    if low > bound.wrapping_neg() {
        let carry = ((u64::from(words()) * u64::from(bound)) >> 32) as u32;
        result += u32::from(low.checked_add(carry).is_none());
    }
    result
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        r
    }

    /// `rand`'s shuffle of `0..n`.
    fn by_rand(n: usize, seed: u64, stream: u64) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        v.shuffle(&mut rng(seed, stream));
        v
    }

    fn by_us(n: usize, seed: u64, stream: u64, helped: bool) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        shuffle(&mut v, &mut rng(seed, stream), helped);
        v
    }

    /// The written-out shuffle is `rand`'s, bit for bit: tiny sizes (several indices per
    /// word up to 13), the edge where one index takes a whole word (65,536), and sizes that
    /// end inside, at and after a block of the helper.
    #[test]
    fn one_thread_is_rands_shuffle() {
        for n in [
            0, 1, 2, 3, 4, 5, 12, 13, 14, 100, 1000, 65_535, 65_536, 65_537, 70_001,
        ] {
            for (seed, stream) in [(0, 0), (1, 3), (42, 7)] {
                assert_eq!(
                    by_us(n, seed, stream, false),
                    by_rand(n, seed, stream),
                    "{n} rows"
                );
            }
        }
    }

    /// With the helper drawing, the same order: a few blocks, a partial last block, exactly
    /// the ring's size, and well past it (the drawer waits for free slots).
    #[test]
    fn two_threads_are_rands_shuffle() {
        let sizes = [
            HELPED_MIN_ROWS,
            HELPED_MIN_ROWS + 1,
            BLOCK * BLOCKS * 4,
            BLOCK * BLOCKS * 4 + BLOCK - 1,
            1_000_003,
        ];
        for n in sizes {
            for (seed, stream) in [(1, 0), (9, 2)] {
                assert_eq!(
                    by_us(n, seed, stream, true),
                    by_rand(n, seed, stream),
                    "{n} rows"
                );
            }
        }
    }

    /// Canon's method as `rand` has it: the same numbers as `random_range(..bound)` for
    /// bounds that reject often (near 2^32) and seldom, from the same stream.
    #[test]
    fn below_is_rands_random_range() {
        use rand::RngExt;
        for bound in [
            1u32,
            2,
            3,
            7,
            1 << 20,
            3_000_000_000,
            u32::MAX - 1,
            u32::MAX,
        ] {
            let (mut a, mut b) = (rng(5, 1), rng(5, 1));
            for _ in 0..2000 {
                assert_eq!(below(bound, &mut || a.next_u32()), b.random_range(..bound));
            }
        }
    }
}
