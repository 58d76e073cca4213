//! `--data PATH | builtin:NAME`: where a command's data comes from.

use std::path::PathBuf;

use anyhow::Result;
use descent::data::{builtin, read_csv, Columns, Dataset, TargetKind};

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

    /// Reads the data with the given columns.
    pub fn load(&self, columns: &Columns, kind: TargetKind) -> Result<Dataset> {
        Ok(match self {
            DataSource::File(p) => read_csv(p, columns, kind)?,
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
