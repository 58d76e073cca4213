//! [`ShareStats`]: the seam through which a data-parallel front end makes a streamed run's
//! one pass over the data (rows, scalers, labels) on one process and hands the result to
//! the others, so that the pass is read once, not once per process, and every process fits
//! the very same scalers. The library knows nothing of how the result travels (the CLI's
//! MPI ranks broadcast [`StreamStats::to_bytes`]); a single process computes and keeps it.

use crate::data::parquet::StreamStats;
use crate::Result;

/// Computes the statistics on the root and shares them with every process.
pub trait ShareStats {
    /// Runs `compute` on the root process and returns its statistics (bit for bit) on
    /// every process; where `compute` fails, every process returns an error that says
    /// why (the others must not wait for statistics that will never come).
    fn share(&mut self, compute: &mut dyn FnMut() -> Result<StreamStats>) -> Result<StreamStats>;
}

/// One process: computes the statistics itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Alone;

impl ShareStats for Alone {
    fn share(&mut self, compute: &mut dyn FnMut() -> Result<StreamStats>) -> Result<StreamStats> {
        compute()
    }
}
