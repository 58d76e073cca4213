//! `--data PATH | builtin:NAME`: where a command's data comes from.

use std::path::PathBuf;

use anyhow::Result;
use descent::data::{builtin, read_csv_for, Columns, Dataset, TargetKind};
use descent::Float;

/// A data argument: a CSV file or a built-in data set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    File(PathBuf),
    Builtin(String),
}

impl DataSource {
    pub fn parse(arg: &str) -> Self {
        match arg.strip_prefix("builtin:") {
            Some(name) => DataSource::Builtin(name.to_string()),
            None => DataSource::File(PathBuf::from(arg)),
        }
    }

    /// Reads the data with the given columns, for a run in precision `F` (a number too large
    /// for `F` is an error naming its line and column).
    pub fn load<F: Float>(&self, columns: &Columns, kind: TargetKind) -> Result<Dataset> {
        Ok(match self {
            DataSource::File(p) => read_csv_for::<F>(p, columns, kind)?,
            DataSource::Builtin(name) => builtin::load(name, columns, kind)?,
        })
    }

    pub fn describe(&self) -> String {
        match self {
            DataSource::File(p) => p.display().to_string(),
            DataSource::Builtin(n) => format!("builtin:{n}"),
        }
    }
}
