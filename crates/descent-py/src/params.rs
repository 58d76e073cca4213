//! Estimator keyword arguments to a [`RunSpec`]: the names mirror the CLI's flags, the values
//! go through the library's own parsers, so a bad value gets the message the CLI prints.

use descent::data::{BatchSize, DataSource, Scaling};
use descent::nn::{Activation, ModelKind};
use descent::optim::OptimizerSpec;
use descent::params::Init;
use descent::schedule::ScheduleSpec;
use descent::train::EarlyStopping;
use descent::{DType, RunSpec};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::error::PyError;

/// The keys an estimator passes (its `get_params()` less the Python-only ones): the one
/// table of them, exported as `descent._descent.RUN_PARAMS` for the estimators.
pub const KEYS: &[&str] = &[
    "model",
    "hidden",
    "activation",
    "loss",
    "optimizer",
    "lr",
    "optimizer_options",
    "schedule",
    "epochs",
    "batch",
    "shuffle",
    "scale",
    "scale_target",
    "dtype",
    "seed",
    "init",
    "early_stopping",
    "val_fraction",
    "clip_norm",
    "n_jobs",
];

/// The run `params` describe, on data that is only named `source`.
pub fn run_spec(params: &Bound<'_, PyDict>, source: &str) -> PyResult<RunSpec> {
    for key in params.keys() {
        let key: String = key.extract()?;
        if !KEYS.contains(&key.as_str()) {
            return Err(PyTypeError::new_err(format!(
                "unknown parameter `{key}`; known: {}",
                KEYS.join(", ")
            )));
        }
    }
    let p = Params(params);
    let seed = p.int("seed")?.unwrap_or(0);
    let activation: Activation = p
        .string("activation")?
        .as_deref()
        .unwrap_or("relu")
        .parse()
        .map_err(PyError)?;
    let hidden = p.ints("hidden")?.unwrap_or_default();
    let model = p.string("model")?.unwrap_or_else(|| "linear".into());
    let kind = ModelKind::parse(&model, &hidden, activation).map_err(PyError)?;
    let mut spec = RunSpec::new("").model(kind).seed(seed);
    spec.data.source = DataSource::File(source.into());
    if let Some(loss) = p.string("loss")? {
        spec.loss = Some(loss.parse().map_err(PyError)?);
    }
    let mut optimizer = OptimizerSpec::new(&p.string("optimizer")?.unwrap_or("adam".into()));
    if let Some(options) = params.get_item("optimizer_options")? {
        if !options.is_none() {
            let Value::Object(map) = to_json(&options, "optimizer_options")? else {
                return Err(PyTypeError::new_err(
                    "optimizer_options: expected a dict of torch's argument names, e.g. {'betas': (0.9, 0.99)}",
                ));
            };
            optimizer.options = map;
        }
    }
    if let Some(lr) = p.float("lr")? {
        optimizer.options.insert("lr".into(), lr.into());
    }
    spec.optimizer = optimizer;
    if let Some(s) = p.string("schedule")? {
        spec.schedule = Some(s.parse::<ScheduleSpec>().map_err(PyError)?);
    }
    if let Some(e) = p.int("epochs")? {
        spec.epochs = e as usize;
    }
    spec.batch = match params.get_item("batch")? {
        None => BatchSize::Rows(32),
        Some(b) if b.is_none() => BatchSize::Full,
        Some(b) => {
            let text = if b.is_instance_of::<PyString>() {
                b.extract::<String>()?
            } else {
                int_of(&b, "batch")?.to_string()
            };
            text.parse().map_err(PyError)?
        }
    };
    spec.shuffle = p.boolean("shuffle")?;
    spec.scale = p.parse_or("scale", Scaling::Standard)?;
    spec.scale_target = p.parse_or("scale_target", Scaling::None)?;
    spec.dtype = match p.string("dtype")?.as_deref() {
        None | Some("f64" | "float64") => DType::F64,
        Some("f32" | "float32") => DType::F32,
        Some(other) => other.parse().map_err(PyError)?,
    };
    if let Some(init) = p.string("init")? {
        spec.init = Some(Init::parse(&init, seed).map_err(PyError)?);
    }
    spec.early_stopping = match params.get_item("early_stopping")? {
        None => None,
        Some(v) if v.is_none() || v.is_instance_of::<PyBool>() && !v.extract::<bool>()? => None,
        Some(v) if v.is_instance_of::<PyString>() => Some(
            v.extract::<String>()?
                .parse::<EarlyStopping>()
                .map_err(PyError)?,
        ),
        Some(v) => {
            let patience = int_of(&v, "early_stopping")?;
            if patience == 0 {
                return Err(PyValueError::new_err(
                    "early_stopping: patience must be a positive integer (epochs without improvement)",
                ));
            }
            Some(EarlyStopping {
                patience: patience as usize,
                min_delta: 0.0,
            })
        }
    };
    spec.data.val_fraction = p.float("val_fraction")?.unwrap_or(0.0);
    spec.clip_norm = p.float("clip_norm")?;
    spec.threads = match p.int("n_jobs")? {
        Some(n) => Some(descent::parallel::check_threads(n as usize).map_err(PyError)?),
        None => None,
    };
    Ok(spec)
}

/// Typed access to the keyword arguments: a wrong type is a `TypeError` naming the key;
/// a key absent or `None` is `None`.
struct Params<'a, 'py>(&'a Bound<'py, PyDict>);

impl Params<'_, '_> {
    fn get(&self, key: &str) -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(self.0.get_item(key)?.filter(|v| !v.is_none()))
    }

    fn string(&self, key: &str) -> PyResult<Option<String>> {
        self.get(key)?
            .map(|v| {
                v.extract::<String>()
                    .map_err(|_| type_error(key, "a string", &v))
            })
            .transpose()
    }

    fn float(&self, key: &str) -> PyResult<Option<f64>> {
        self.get(key)?
            .map(|v| {
                if v.is_instance_of::<PyBool>() {
                    return Err(type_error(key, "a number", &v));
                }
                v.extract::<f64>()
                    .map_err(|_| type_error(key, "a number", &v))
            })
            .transpose()
    }

    fn int(&self, key: &str) -> PyResult<Option<u64>> {
        self.get(key)?.map(|v| int_of(&v, key)).transpose()
    }

    fn boolean(&self, key: &str) -> PyResult<Option<bool>> {
        self.get(key)?
            .map(|v| {
                v.extract::<bool>()
                    .map_err(|_| type_error(key, "True or False", &v))
            })
            .transpose()
    }

    fn ints(&self, key: &str) -> PyResult<Option<Vec<usize>>> {
        let Some(v) = self.get(key)? else {
            return Ok(None);
        };
        if v.is_instance_of::<PyInt>() {
            return Ok(Some(vec![int_of(&v, key)? as usize]));
        }
        let items: Vec<Bound<'_, PyAny>> = v
            .try_iter()
            .map_err(|_| type_error(key, "an int or a sequence of ints", &v))?
            .collect::<PyResult<_>>()?;
        items
            .iter()
            .map(|i| int_of(i, key).map(|n| n as usize))
            .collect::<PyResult<Vec<_>>>()
            .map(Some)
    }

    fn parse_or<T: std::str::FromStr<Err = descent::Error>>(
        &self,
        key: &str,
        default: T,
    ) -> PyResult<T> {
        match self.string(key)? {
            None => Ok(default),
            Some(s) => Ok(s.parse().map_err(PyError)?),
        }
    }
}

/// A non-negative integer (numpy integers included; bools and floats refused).
fn int_of(v: &Bound<'_, PyAny>, key: &str) -> PyResult<u64> {
    if v.is_instance_of::<PyBool>() || v.is_instance_of::<PyFloat>() {
        return Err(type_error(key, "a non-negative integer", v));
    }
    v.extract::<u64>().map_err(|_| match v.extract::<i64>() {
        Ok(n) => PyValueError::new_err(format!("{key}: must be >= 0, got {n}")),
        Err(_) => type_error(key, "a non-negative integer", v),
    })
}

fn type_error(key: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let shown = got
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    let ty = got
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    PyTypeError::new_err(format!("{key}: expected {expected}, got {shown} ({ty})"))
}

/// A Python value (dict, list, tuple, number, bool, string, None) as JSON, for option maps.
pub fn to_json(v: &Bound<'_, PyAny>, key: &str) -> PyResult<Value> {
    if v.is_none() {
        return Ok(Value::Null);
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(match v.extract::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => Value::from(v.extract::<f64>()?),
        });
    }
    if v.is_instance_of::<PyString>() {
        return Ok(Value::String(v.extract()?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, item) in d.iter() {
            let k: String = k
                .extract()
                .map_err(|_| type_error(key, "string keys", &k))?;
            let value = to_json(&item, &format!("{key}[{k:?}]"))?;
            map.insert(k, value);
        }
        return Ok(Value::Object(map));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items: Vec<Value> = v
            .try_iter()?
            .map(|i| to_json(&i?, key))
            .collect::<PyResult<_>>()?;
        return Ok(Value::Array(items));
    }
    // numpy scalars and other numbers.
    if let Ok(f) = v.extract::<f64>() {
        return Ok(Value::from(f));
    }
    Err(type_error(
        key,
        "numbers, booleans, strings, lists or dicts",
        v,
    ))
}
