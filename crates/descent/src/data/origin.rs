//! [`DataSource`]: where a run's data comes from, a CSV or Parquet file (or a directory or
//! glob of Parquet files) or a built-in data set
//! (`builtin:NAME`), as a run specification names it.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{
    builtin, read_csv_bytes_with, read_csv_with, Columns, Dataset, ReadOptions, TargetKind,
};
use crate::{Float, Result};

/// A file (CSV or Parquet; for Parquet also a directory or a glob of files) or a built-in
/// data set; written as text `PATH` or `builtin:NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum DataSource {
    File(PathBuf),
    Builtin(String),
}

impl DataSource {
    /// `builtin:NAME` or a path.
    pub fn parse(text: &str) -> Self {
        match text.strip_prefix("builtin:") {
            Some(name) => DataSource::Builtin(name.to_string()),
            None => DataSource::File(PathBuf::from(text)),
        }
    }

    /// Reads the data with the given columns, for a run in precision `F` (a number too large
    /// for `F` is an error naming its line and column).
    pub fn load<F: Float>(&self, columns: &Columns, kind: TargetKind) -> Result<Dataset> {
        self.load_with::<F>(columns, kind, &ReadOptions::default())
    }

    /// [`load`](Self::load) with a separator and one-hot encoding ([`ReadOptions`]).
    pub fn load_with<F: Float>(
        &self,
        columns: &Columns,
        kind: TargetKind,
        options: &ReadOptions,
    ) -> Result<Dataset> {
        match self {
            DataSource::File(p) if super::parquet::is_parquet(p) => {
                super::parquet::read_parquet_with::<F>(p, columns, kind, options)
            }
            DataSource::File(p) => read_csv_with::<F>(p, columns, kind, options),
            DataSource::Builtin(name) => {
                let text = builtin::csv_text(name)?;
                let origin = std::path::Path::new(&format!("builtin:{name}")).to_path_buf();
                // Built-in data is read in f64, as `builtin::load` does.
                read_csv_bytes_with::<f64>(&origin, &text, columns, kind, options)
            }
        }
    }

    /// `PATH` or `builtin:NAME`, for titles and messages.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::File(p) => write!(f, "{}", p.display()),
            DataSource::Builtin(n) => write!(f, "builtin:{n}"),
        }
    }
}

impl From<String> for DataSource {
    fn from(s: String) -> Self {
        DataSource::parse(&s)
    }
}

impl From<DataSource> for String {
    fn from(d: DataSource) -> Self {
        d.to_string()
    }
}
