//! The library's one error type. Every variant names the place (op, field, file, line,
//! column) and the rule that was broken, so that a message can tell the user how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong in the library on user input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two operands of an op have shapes that do not fit together.
    #[error("shape mismatch in {op}: {lhs:?} vs {rhs:?}")]
    ShapeMismatch {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
    },

    /// A hyper-parameter is outside its valid range.
    #[error("invalid value for {name}: {value} ({rule})")]
    InvalidHyperparameter {
        name: String,
        value: String,
        rule: String,
    },

    /// A CSV file could not be read or holds a bad cell.
    #[error("{}{}{}: {reason}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Csv {
        path: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        reason: String,
    },

    /// A Parquet file could not be read or holds a bad value: the file, and the row group
    /// (from 0), the row (from 0, counted through the whole file) and the column where known.
    #[error("{}{}{}{}: {reason}", path.display(), row_group.map(|g| format!(", row group {g}")).unwrap_or_default(), row.map(|r| format!(", row {r}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Parquet {
        path: PathBuf,
        row_group: Option<usize>,
        row: Option<u64>,
        column: Option<String>,
        reason: String,
    },

    /// A data set or its columns do not fit the request (missing column, wrong width, ...).
    #[error("data: {0}")]
    Data(String),

    /// A schedule or optimizer specification could not be parsed.
    #[error("cannot parse {what} `{spec}`: {reason}")]
    Parse {
        what: &'static str,
        spec: String,
        reason: String,
    },

    /// Saved state (model, checkpoint, optimizer state) is malformed or does not fit.
    #[error("state: {0}")]
    State(String),

    /// Training produced a non-finite loss or otherwise could not go on.
    #[error("training diverged at epoch {epoch}, step {step}: {reason}")]
    Diverged {
        epoch: usize,
        step: usize,
        reason: String,
    },

    /// An I/O error with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidHyperparameter`].
    pub fn invalid(name: impl Into<String>, value: impl ToString, rule: impl Into<String>) -> Self {
        Error::InvalidHyperparameter {
            name: name.into(),
            value: value.to_string(),
            rule: rule.into(),
        }
    }
}
