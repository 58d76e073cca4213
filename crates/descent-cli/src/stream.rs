//! When `train` streams its data: `--stream`, or Parquet or CSV data that would take more
//! memory read whole than `--memory-budget` (default: half the memory available). A CSV
//! file's rows are estimated from its size and the mean length of its first rows (counting
//! them would read it whole).

use anyhow::{Context, Result};
use descent::data::parquet::{estimate_csv, is_parquet, ParquetFiles};
use descent::data::DataSource;
use descent::data::{Scaler, Scaling};
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
    let need = if is_parquet(&path) {
        let files =
            ParquetFiles::open(&path).with_context(|| format!("--data {}", path.display()))?;
        in_memory_bytes(files.n_rows(), files.columns.len())
    } else if path.is_file() && d.one_hot.is_none() {
        // (One-hot encoding needs the file read whole: such a run reads it whole, as
        // before CSV could stream, rather than stop on the stream's refusal.)
        // Read whole, a CSV file is its text, then its rows as numbers: the text and the
        // table of the rows estimated from the mean length of the first thousand.
        let (size, columns, per_row) = estimate_csv(&path, d.delimiter)
            .with_context(|| format!("--data {}", path.display()))?;
        size.saturating_add(in_memory_bytes((size as f64 / per_row) as u64, columns))
    } else {
        return Ok(None);
    };
    let budget = d.memory_budget.unwrap_or_else(default_budget);
    if need <= budget {
        return Ok(None);
    }
    if !quiet {
        note!(
            "{} would take about {} MiB read whole, over the memory budget of {} MiB (--memory-budget): streaming it",
            path.display(),
            need >> 20,
            budget >> 20
        );
    }
    Ok(Some(StreamSpec {
        shuffle_buffer: d.shuffle_buffer.unwrap_or(DEFAULT_SHUFFLE_BUFFER),
        scale_from: None,
        chunk_rows: d.chunk_rows,
    }))
}

/// Scalers taken from a previous run (`--scale-from`), with the columns they belong to.
pub struct GivenScalers {
    pub from: std::path::PathBuf,
    pub scalers: (Scaler, Scaler),
    features: Vec<String>,
    targets: Vec<String>,
}

/// The scalers of the run or model `spec`'s stream names in `scale_from`, checked against
/// the spec's scaling.
pub fn scale_from(spec: &descent::RunSpec) -> Result<Option<GivenScalers>> {
    let Some(from) = spec.data.stream.as_ref().and_then(|s| s.scale_from.clone()) else {
        return Ok(None);
    };
    let (path, _) = crate::commands::resolve_model(&from)
        .with_context(|| format!("--scale-from {}", from.display()))?;
    let model = descent::Model::load(&path)
        .with_context(|| format!("--scale-from: cannot read model {}", path.display()))?;
    for (what, flag, scaler, asked) in [
        ("feature", "--scale", &model.scaler, spec.scale),
        (
            "target",
            "--scale-target",
            &model.target_scaler,
            spec.scale_target,
        ),
    ] {
        let theirs = match scaler {
            Scaler::None => Scaling::None,
            Scaler::Standard { .. } => Scaling::Standard,
            Scaler::MinMax { .. } => Scaling::MinMax,
        };
        let name = |s: Scaling| format!("{s:?}").to_lowercase();
        anyhow::ensure!(
            theirs == asked,
            "--scale-from {}: its {what} scaling is {} but this run's is {}; pass {flag} {}",
            from.display(),
            name(theirs),
            name(asked),
            name(theirs)
        );
    }
    Ok(Some(GivenScalers {
        from,
        scalers: (model.scaler.clone(), model.target_scaler.clone()),
        features: model.features.clone(),
        targets: model.targets.clone(),
    }))
}

impl GivenScalers {
    /// The run's feature and target columns must be those the scalers were fitted on.
    pub fn check_columns(&self, features: &[String], targets: &[String]) -> Result<()> {
        anyhow::ensure!(
            features == self.features && targets == self.targets,
            "--scale-from {}: its scalers are for the features {} and target {}, but this run has the features {} and target {}; choose the same columns (--features, --target)",
            self.from.display(),
            self.features.join(","),
            self.targets.join(","),
            features.join(","),
            targets.join(",")
        );
        Ok(())
    }
}
