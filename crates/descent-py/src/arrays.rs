//! numpy arrays in and out: float64 arrays are viewed without a copy whatever their strides
//! (C or Fortran order, slices); float32 and integer arrays are widened once (a fit reads
//! float32 features where they lie, see `fit.rs`).

use ndarray::{Array2, ArrayView2};
use numpy::{PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A 2-D float array from Python, borrowed when it is float64.
pub enum Matrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    Owned(Array2<f64>),
}

impl<'py> Matrix<'py> {
    /// Reads `obj` (a 2-D numpy array of float64, float32 or integers); `what` names it in
    /// errors.
    pub fn extract(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Self> {
        if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f64>>() {
            return Ok(Matrix::F64(a));
        }
        if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, f32>>() {
            return Ok(Matrix::Owned(a.as_array().mapv(f64::from)));
        }
        if let Ok(a) = obj.extract::<PyReadonlyArray2<'py, i64>>() {
            return Ok(Matrix::Owned(a.as_array().mapv(|v| v as f64)));
        }
        let described = match obj.cast::<numpy::PyUntypedArray>() {
            Ok(a) => format!("a {}-d array of {}", a.ndim(), a.dtype()),
            Err(_) => format!("a {}", obj.get_type().name()?),
        };
        Err(PyTypeError::new_err(format!(
            "{what}: expected a 2-d numpy array of float64 or float32, got {described}"
        )))
    }

    /// The values as an owned array (a copy for float64 input, none otherwise).
    pub fn into_owned(self) -> Array2<f64> {
        match self {
            Matrix::F64(a) => a.as_array().to_owned(),
            Matrix::Owned(a) => a,
        }
    }

    /// The values as an ndarray view (no copy for float64 input).
    pub fn view(&self) -> ArrayView2<'_, f64> {
        match self {
            Matrix::F64(a) => a.as_array(),
            Matrix::Owned(a) => a.view(),
        }
    }
}

/// An owned array handed to numpy without a copy.
pub fn to_numpy<'py>(py: Python<'py>, a: Array2<f64>) -> Bound<'py, PyArray2<f64>> {
    numpy::IntoPyArray::into_pyarray(a, py)
}
