//! The Rust half of `descent.optim`: one `_Stepper` per parameter array, stepping the
//! array's own buffer in place (no copy per step) with the library's optimizer; the torch
//! API (param groups, `state_dict`) is Python over it.

use descent::optim::{describe, DynOptimizer, GroupOptions, OptimizerSpec, OptionValue};
use numpy::{PyArrayDyn, PyReadonlyArrayDyn, PyReadwriteArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use std::sync::Mutex;

use crate::error::PyError;
use crate::params::to_json;

/// Arrays at least this long step with the GIL released (and in shards on several threads).
const DETACH_AT: usize = 1 << 16;

enum Inner {
    F32(Box<dyn DynOptimizer<f32>>),
    F64(Box<dyn DynOptimizer<f64>>),
}

/// One parameter array's optimizer and state.
#[pyclass(name = "_Stepper", module = "descent._descent")]
pub struct Stepper {
    spec: OptimizerSpec,
    len: usize,
    /// In a mutex only to be `Sync` (Python objects may move between threads); every use
    /// has `&mut self`, so it is never locked.
    inner: Mutex<Inner>,
}

fn build(spec: &OptimizerSpec, len: usize, float32: bool) -> PyResult<Inner> {
    let groups = vec![(0..len, GroupOptions::default())];
    let threads = if crate::forked() {
        1
    } else {
        descent::parallel::default_threads()
    };
    Ok(if float32 {
        let mut o = spec.build::<f32>(groups).map_err(PyError)?;
        o.set_threads(threads);
        Inner::F32(o)
    } else {
        let mut o = spec.build::<f64>(groups).map_err(PyError)?;
        o.set_threads(threads);
        Inner::F64(o)
    })
}

fn spec_of(name: &str, options: &Bound<'_, PyDict>) -> PyResult<OptimizerSpec> {
    let Value::Object(map) = to_json(options.as_any(), "options")? else {
        unreachable!("a dict is a JSON object")
    };
    let mut spec = OptimizerSpec::new(name);
    spec.options = map;
    Ok(spec)
}

#[pymethods]
impl Stepper {
    /// An optimizer `name` (torch class or CLI name) with `options` (torch's argument names)
    /// for `param`, a float32 or float64 array.
    #[new]
    fn new(name: &str, options: &Bound<'_, PyDict>, param: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (len, float32) = if let Ok(p) = param.cast::<PyArrayDyn<f32>>() {
            (p.len(), true)
        } else if let Ok(p) = param.cast::<PyArrayDyn<f64>>() {
            (p.len(), false)
        } else {
            return Err(PyTypeError::new_err(format!(
                "parameters must be numpy arrays of float32 or float64, got {}",
                describe_obj(param)
            )));
        };
        let spec = spec_of(name, options)?;
        Ok(Stepper {
            inner: Mutex::new(build(&spec, len, float32)?),
            spec,
            len,
        })
    }

    /// New options (a param group changed): the optimizer is rebuilt and keeps its state.
    fn set_options(&mut self, options: &Bound<'_, PyDict>) -> PyResult<()> {
        let spec = spec_of(&self.spec.name, options)?;
        let float32 = matches!(self.inner(), Inner::F32(_));
        let mut fresh = build(&spec, self.len, float32)?;
        let mut state = self.state_value();
        let configs = match &fresh {
            Inner::F32(o) => o.save_state(),
            Inner::F64(o) => o.save_state(),
        };
        if let (Some(old), Some(new)) = (state.as_array_mut(), configs.as_array()) {
            for (o, n) in old.iter_mut().zip(new) {
                o["config"] = n["config"].clone();
            }
        }
        match &mut fresh {
            Inner::F32(o) => o.load_state(&state),
            Inner::F64(o) => o.load_state(&state),
        }
        .map_err(PyError)?;
        *self.inner() = fresh;
        self.spec = spec;
        Ok(())
    }

    /// One update of `param` in place from `grad` (same shape and dtype) at `lr`.
    fn step(
        &mut self,
        py: Python<'_>,
        param: &Bound<'_, PyAny>,
        grad: &Bound<'_, PyAny>,
        lr: f64,
    ) -> PyResult<()> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(PyValueError::new_err(format!(
                "invalid value for lr: {lr} (must be finite and >= 0)"
            )));
        }
        let len = self.len;
        match self.inner() {
            Inner::F32(o) => step_in(py, o.as_mut(), param, grad, lr, len),
            Inner::F64(o) => step_in(py, o.as_mut(), param, grad, lr, len),
        }
    }

    /// The state (with each group's config) as JSON text, for `state_dict`.
    fn state(&mut self) -> String {
        self.state_value().to_string()
    }

    /// Restores what [`Stepper::state`] gave.
    fn load_state(&mut self, text: &str) -> PyResult<()> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| PyValueError::new_err(format!("optimizer state: {e}")))?;
        match self.inner() {
            Inner::F32(o) => o.load_state(&value),
            Inner::F64(o) => o.load_state(&value),
        }
        .map_err(PyError)?;
        Ok(())
    }

    /// The averaged parameters (ASGD's `ax`), flat, if the optimizer keeps them.
    fn averaged(&mut self) -> Option<Vec<f64>> {
        match self.inner() {
            Inner::F32(o) => o.averaged().map(|v| v.iter().map(|&x| x as f64).collect()),
            Inner::F64(o) => o.averaged(),
        }
    }

    /// The momentum (or beta1) the optimizer cycles with a one-cycle schedule, if any.
    fn momentum(&mut self) -> Option<f64> {
        match self.inner() {
            Inner::F32(o) => o.momentum(),
            Inner::F64(o) => o.momentum(),
        }
    }
}

impl Stepper {
    fn inner(&mut self) -> &mut Inner {
        self.inner.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    fn state_value(&mut self) -> Value {
        match self.inner() {
            Inner::F32(o) => o.save_state(),
            Inner::F64(o) => o.save_state(),
        }
    }
}

fn describe_obj(v: &Bound<'_, PyAny>) -> String {
    match v.cast::<numpy::PyUntypedArray>() {
        Ok(a) => format!("an array of {}", a.dtype()),
        Err(_) => v
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default(),
    }
}

fn step_in<F: numpy::Element + descent::Float>(
    py: Python<'_>,
    optimizer: &mut dyn DynOptimizer<F>,
    param: &Bound<'_, PyAny>,
    grad: &Bound<'_, PyAny>,
    lr: f64,
    len: usize,
) -> PyResult<()> {
    let dtype = if std::mem::size_of::<F>() == 4 {
        "float32"
    } else {
        "float64"
    };
    let mut p: PyReadwriteArrayDyn<'_, F> = param.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "parameter: expected a writeable {dtype} array (the dtype it was built with), got {}",
            describe_obj(param)
        ))
    })?;
    let g: PyReadonlyArrayDyn<'_, F> = grad.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "gradient: expected a {dtype} array like its parameter, got {}",
            describe_obj(grad)
        ))
    })?;
    if p.shape() != g.shape() || p.len() != len {
        return Err(PyValueError::new_err(format!(
            "gradient of shape {:?} for a parameter of shape {:?} (built for {len} elements)",
            g.shape(),
            p.shape()
        )));
    }
    let fortran = !p.is_c_contiguous() && p.is_fortran_contiguous();
    let mut pv = p.as_array_mut();
    if fortran {
        // The buffer in memory order is the transpose's C order.
        pv = pv.reversed_axes();
    }
    let Some(ps) = pv.as_slice_mut() else {
        return Err(PyValueError::new_err(
            "parameter: the array is not contiguous (a strided view); step a contiguous array (np.ascontiguousarray) and keep that one",
        ));
    };
    let gv = if fortran {
        g.as_array().reversed_axes()
    } else {
        g.as_array()
    };
    let owned;
    let gs = match gv.as_slice() {
        Some(s) => s,
        None => {
            owned = gv.as_standard_layout().into_owned();
            owned.as_slice().expect("standard layout")
        }
    };
    if len >= DETACH_AT {
        py.detach(|| optimizer.step(lr, ps, gs));
    } else {
        optimizer.step(lr, ps, gs);
    }
    Ok(())
}

/// One optimizer for Python: `(name, torch class, summary, [(option, default)])`.
type OptimizerEntry = (String, Option<String>, String, Vec<(String, Py<PyAny>)>);

/// Every optimizer: `(name, torch class or None, summary, [(option, default)])` with `lr`
/// first (defaults as Python values: float, bool or a pair).
#[pyfunction]
pub fn optimizers(py: Python<'_>) -> PyResult<Vec<OptimizerEntry>> {
    describe()
        .iter()
        .map(|info| {
            let options = info
                .all_options()
                .iter()
                .map(|o| {
                    let v = match o.default {
                        OptionValue::Float(x) => x.into_pyobject(py)?.into_any().unbind(),
                        OptionValue::Bool(b) => pyo3::types::PyBool::new(py, b)
                            .to_owned()
                            .into_any()
                            .unbind(),
                        OptionValue::Pair(a, b) => (a, b).into_pyobject(py)?.into_any().unbind(),
                    };
                    Ok((o.name.to_string(), v))
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok((
                info.name.to_string(),
                info.torch_name.map(String::from),
                info.summary.to_string(),
                options,
            ))
        })
        .collect()
}
