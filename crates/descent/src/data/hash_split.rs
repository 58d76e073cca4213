//! [`HashSplit`]: the validation split of streamed data, decided row by row from a seeded
//! hash of the row's index, so that it needs no second copy of the data, no list of rows
//! and no pass of its own: any reader, at any position, knows which part a row is in.
//!
//! # Algorithm
//! ```text
//! i     the row's index in the data in file order (files by path, then rows), from 0,
//!       counting the rows --drop-missing leaves out
//! u_i   SplitMix64's output number i + 1 from state `seed`:
//!         z = seed + (i + 1) * 0x9E3779B97F4A7C15                      (wrapping)
//!         z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9                     (wrapping)
//!         z = (z ^ (z >> 27)) * 0x94D049BB133111EB                     (wrapping)
//!         u_i = z ^ (z >> 31)
//! row i is a validation row  iff  u_i < floor(fraction * 2^64)
//! ```
//! Each row is in validation with probability `fraction`, independently of the others: the
//! validation part holds `fraction * n` rows give or take `sqrt(fraction (1 - fraction) n)`,
//! not exactly `round(fraction * n)` as the in-memory split (a seeded permutation of the
//! rows, [`split_rows`](crate::data::split_rows)) holds. The two splits of one seed are
//! different sets of rows; each is a pure function of the seed.
//!
//! # Reference
//! Steele, Lea & Flood, "Fast splittable pseudorandom number generators" (OOPSLA 2014):
//! SplitMix64, whose outputs are a counter-based hash of the index.

/// Which rows of a stream are validation rows (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashSplit {
    pub seed: u64,
    /// `floor(fraction * 2^64)`: a row is a validation row when its hash is below it.
    threshold: u64,
}

/// The part of a split a reader keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Train,
    Validation,
}

impl HashSplit {
    /// The split holding out about `fraction` (in `[0, 1)`) of the rows for `seed`.
    pub fn new(fraction: f64, seed: u64) -> Self {
        // 2^64 * fraction is below 2^64 for fraction < 1; `as` saturates at the ends.
        let threshold = (fraction.clamp(0.0, 1.0) * 18_446_744_073_709_551_616.0) as u64;
        HashSplit { seed, threshold }
    }

    /// SplitMix64's output number `i + 1` from state `seed`.
    pub fn hash(seed: u64, i: u64) -> u64 {
        let mut z = seed.wrapping_add(i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Whether row `i` is a validation row.
    pub fn is_validation(&self, i: u64) -> bool {
        Self::hash(self.seed, i) < self.threshold
    }

    /// The part row `i` is in.
    pub fn part(&self, i: u64) -> Part {
        if self.is_validation(i) {
            Part::Validation
        } else {
            Part::Train
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_splitmix64() {
        // SplitMix64 from state 1234567 (Vigna's splitmix64.c): its first three outputs, as
        // published with it.
        let want = [
            6_457_827_717_110_365_317,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
        ];
        for (i, w) in want.into_iter().enumerate() {
            assert_eq!(HashSplit::hash(1_234_567, i as u64), w);
        }
    }

    #[test]
    fn the_held_out_share_is_near_the_fraction_and_a_function_of_the_seed() {
        let n = 100_000u64;
        for fraction in [0.01, 0.2, 0.5] {
            let split = HashSplit::new(fraction, 7);
            let held = (0..n).filter(|&i| split.is_validation(i)).count() as f64;
            // Binomial: 5 standard deviations.
            let sd = (n as f64 * fraction * (1.0 - fraction)).sqrt();
            assert!(
                (held - fraction * n as f64).abs() < 5.0 * sd,
                "{fraction}: {held}"
            );
        }
        let rows = |seed| -> Vec<u64> {
            let s = HashSplit::new(0.2, seed);
            (0..1000).filter(|&i| s.is_validation(i)).collect()
        };
        assert_eq!(rows(7), rows(7));
        assert_ne!(rows(7), rows(8));
        assert!((0..1000).all(|i| !HashSplit::new(0.0, 7).is_validation(i)));
    }
}
