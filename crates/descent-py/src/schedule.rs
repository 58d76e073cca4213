//! The Rust half of `descent.optim.lr_scheduler`: one library schedule per param group,
//! built from torch's class name and arguments ([`ScheduleSpec::from_torch`]).

use descent::schedule::{ScheduleSpec, Scheduler};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use std::sync::Mutex;

use crate::error::PyError;
use crate::params::to_json;

/// A running schedule: `lr()` for the next step, `step(metric)` after it.
#[pyclass(name = "_Schedule", module = "descent._descent")]
pub struct Schedule(Mutex<Box<dyn Scheduler>>);

impl Schedule {
    /// The schedule (the mutex only makes the class `Sync`; `&mut self` never waits).
    fn get(&mut self) -> &mut Box<dyn Scheduler> {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl Schedule {
    /// torch's class `name` with its arguments `options`, for a group whose lr is `base_lr`
    /// and momentum (or beta1) `base_momentum`.
    #[new]
    #[pyo3(signature = (name, options, base_lr, base_momentum=None))]
    fn new(
        name: &str,
        options: &Bound<'_, PyDict>,
        base_lr: f64,
        base_momentum: Option<f64>,
    ) -> PyResult<Self> {
        let Value::Object(map) = to_json(options.as_any(), "scheduler options")? else {
            unreachable!("a dict is a JSON object")
        };
        let spec = ScheduleSpec::from_torch(name, &map).map_err(PyError)?;
        spec.validate().map_err(PyError)?;
        Ok(Schedule(Mutex::new(
            spec.build(base_lr, base_momentum, 0).map_err(PyError)?,
        )))
    }

    fn lr(&mut self) -> f64 {
        self.get().lr()
    }

    fn momentum(&mut self) -> Option<f64> {
        self.get().momentum()
    }

    #[pyo3(signature = (metric=f64::NAN))]
    fn step(&mut self, metric: f64) {
        self.get().step(metric);
    }

    fn state(&mut self) -> String {
        self.get().save_state().to_string()
    }

    fn load_state(&mut self, text: &str) -> PyResult<()> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| PyValueError::new_err(format!("scheduler state: {e}")))?;
        Ok(self.get().load_state(&v).map_err(PyError)?)
    }
}
