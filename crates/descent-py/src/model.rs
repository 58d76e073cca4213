//! `descent.Model`: a trained model (the CLI's `model.json`), with predictions on raw
//! features, its coefficients, and save/load interoperable with `descent train`/`predict`.

use std::path::PathBuf;

use descent::{Model, Prediction};
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::arrays::{to_numpy, Matrix};
use crate::error::PyError;

/// `(coef (outputs x features), intercept (outputs))` as numpy arrays.
type Coefficients<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>);

/// A trained model: `predict`, `outputs`, `save`, `load_model(path)`.
#[pyclass(name = "Model", module = "descent", frozen)]
#[derive(Clone)]
pub struct PyModel(pub Model);

#[pymethods]
impl PyModel {
    /// Loads `model.json`, or a run directory's (as `descent predict --model` does).
    #[classmethod]
    fn load(_cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Self> {
        Ok(PyModel(Model::load(&path).map_err(PyError)?))
    }

    /// Reads the text of a `model.json`.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<Self> {
        Ok(PyModel(
            Model::parse("model.json text", text).map_err(PyError)?,
        ))
    }

    /// Writes `model.json` (atomically); a directory gets `DIR/model.json`.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        let path = if path.is_dir() {
            path.join("model.json")
        } else {
            path
        };
        Ok(self.0.save(&path).map_err(PyError)?)
    }

    /// The text of `model.json`.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.0.to_file())
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    /// Network outputs for raw features: predictions in the targets' units (regression) or
    /// logits (classification).
    fn outputs<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = Matrix::extract(x, "X")?;
        let out = self.0.outputs(x.view()).map_err(PyError)?;
        Ok(to_numpy(py, out))
    }

    /// Predictions for raw features: the values (rows x targets) of a regressor; for a
    /// classifier the class index per row and the probabilities (rows x classes).
    fn predict<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Py<PyAny>> {
        let x = Matrix::extract(x, "X")?;
        let view = x.view();
        let prediction = py.detach(|| self.0.predict(view)).map_err(PyError)?;
        Ok(match prediction {
            Prediction::Values(v) => to_numpy(py, v).into_any().unbind(),
            Prediction::Classes {
                index,
                probabilities,
                ..
            } => {
                let index: Vec<i64> = index.into_iter().map(|i| i as i64).collect();
                (index.into_pyarray(py), to_numpy(py, probabilities))
                    .into_pyobject(py)?
                    .into_any()
                    .unbind()
            }
        })
    }

    /// The coefficients of a one-layer model in the features' and targets' original units:
    /// `(coef (outputs x features), intercept (outputs))`; `None` for an MLP.
    fn coefficients<'py>(&self, py: Python<'py>) -> Option<Coefficients<'py>> {
        let c = self.0.coefficients()?;
        let rows = &c.original_units;
        let d = c.features.len();
        // The library undoes both scalers (features and targets).
        let coef = Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i].weights[j]);
        let intercept: Vec<f64> = rows.iter().map(|a| a.intercept).collect();
        Some((to_numpy(py, coef), intercept.into_pyarray(py)))
    }

    /// The flat parameters (the network's layout, as `model.json` lists them).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.0.params.clone().into_pyarray(py)
    }

    #[getter]
    fn features(&self) -> Vec<String> {
        self.0.features.clone()
    }

    #[getter]
    fn targets(&self) -> Vec<String> {
        self.0.targets.clone()
    }

    #[getter]
    fn classes(&self) -> Option<Vec<String>> {
        self.0.classes.clone()
    }

    /// The model kind (`linear`, `logistic`, `softmax`, `mlp`, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.name()
    }

    #[getter]
    fn loss(&self) -> String {
        self.0.loss.to_string()
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        self.0.dtype.name()
    }

    /// Pickling goes through the `model.json` text.
    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<(Py<PyAny>, (String,))> {
        let from_json = slf.get_type().getattr("from_json")?.unbind();
        Ok((from_json, (slf.get().to_json()?,)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(kind={:?}, features={}, targets={:?}, loss={:?})",
            self.0.kind.name(),
            self.0.features.len(),
            self.0.targets,
            self.0.loss.to_string()
        )
    }
}
