//! The one mapping of library errors to Python exceptions: bad values and data are
//! `ValueError`, files `OSError`; the message is the library's own (the CLI prints the same).

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::PyErr;

/// A library error on its way to Python (a newtype: neither `descent::Error` nor `PyErr` is
/// this crate's, so the conversion needs a type of its own).
#[derive(Debug)]
pub struct PyError(pub descent::Error);

impl From<descent::Error> for PyError {
    fn from(e: descent::Error) -> Self {
        PyError(e)
    }
}

impl From<PyError> for PyErr {
    fn from(e: PyError) -> Self {
        match e.0 {
            descent::Error::Io { .. } => PyOSError::new_err(e.0.to_string()),
            other => PyValueError::new_err(other.to_string()),
        }
    }
}
