//! When `train` streams its data: `--stream`, or Parquet data that would take more memory
//! read whole than `--memory-budget` (default: half the memory available).

use anyhow::{Context, Result};
use descent::data::parquet::{is_parquet, ParquetFiles};
use descent::data::DataSource;
use descent::run::{StreamSpec, DEFAULT_SHUFFLE_BUFFER};

use crate::args::DataArgs;

/// Bytes a table of `rows` x `columns` takes read whole: the reader's text and `f64` copies,
/// the scaled split and the run's table (about three `f64` copies and the text).
pub fn in_memory_bytes(rows: u64, columns: usize) -> u64 {
    rows.saturating_mul(columns as u64)
        .saturating_mul(3 * 8 + 12)
}

/// Half of `MemAvailable` in /proc/meminfo (Linux); 4 GiB where it cannot be read.
fn default_budget() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    });
    available.map_or(4 << 30, |kib| kib * 1024 / 2)
}

/// The stream settings when the data is Parquet larger than the budget (with a note), else
/// `None`: the data is read whole, as always.
pub fn over_budget(d: &DataArgs, quiet: bool) -> Result<Option<StreamSpec>> {
    let Some(DataSource::File(path)) = d.data.as_deref().map(DataSource::parse) else {
        return Ok(None);
    };
    if !is_parquet(&path) {
        return Ok(None);
    }
    let files = ParquetFiles::open(&path).with_context(|| format!("--data {}", path.display()))?;
    let need = in_memory_bytes(files.n_rows(), files.columns.len());
    let budget = d.memory_budget.unwrap_or_else(default_budget);
    if need <= budget {
        return Ok(None);
    }
    if !quiet {
        eprintln!(
            "note: {} would take about {} MiB read whole, over the memory budget of {} MiB (--memory-budget): streaming it",
            path.display(),
            need >> 20,
            budget >> 20
        );
    }
    Ok(Some(StreamSpec {
        shuffle_buffer: d.shuffle_buffer.unwrap_or(DEFAULT_SHUFFLE_BUFFER),
    }))
}
