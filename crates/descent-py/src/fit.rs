//! `_descent.fit`: trains on arrays from Python with the GIL released, telling a Python
//! callback every epoch (it may stop the run by returning `False`), stopping within a
//! fraction of a second on Ctrl-C with the best parameters seen.

use std::time::{Duration, Instant};

use descent::data::Dataset;
use descent::train::{EpochRecord, Event, History, Observer, Signal, StepEvents};
use descent::{DType, Float, Model, Run, RunSpec};
use ndarray::{Array2, ArrayView2};
use numpy::{PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::Matrix;
use crate::error::PyError;
use crate::model::PyModel;
use crate::params::run_spec;

/// What `fit` returns to Python: the model, the history (numpy arrays), the outcome as JSON
/// text, whether Ctrl-C stopped the run, and its timing (`setup_s`, `train_s`).
type Fitted<'py> = (
    PyModel,
    Bound<'py, PyDict>,
    String,
    bool,
    Bound<'py, PyDict>,
);

/// How often, at most, a running fit looks for Ctrl-C between epochs.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Trains the run `params` describe on `x` (rows x features) and `y` (rows x targets, or
/// one column of class indices with `classes` naming them). Returns the model, the
/// per-epoch history (numpy arrays), the outcome as JSON text, whether Ctrl-C stopped it,
/// and the seconds spent building the run and training it (`setup_s`, `train_s`).
#[pyfunction]
#[pyo3(signature = (x, y, params, classes=None, feature_names=None, target_names=None, callback=None, verbose=false))]
#[allow(clippy::too_many_arguments)]
pub fn fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    params: &Bound<'py, PyDict>,
    classes: Option<Vec<String>>,
    feature_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
    callback: Option<Py<PyAny>>,
    verbose: bool,
) -> PyResult<Fitted<'py>> {
    let mut spec = run_spec(params, "X, y")?;
    if crate::forked() {
        // A forked child has none of the worker threads of the parent's pools: one thread
        // is safe, and gives the same numbers.
        spec.threads = Some(1);
    }
    // float32 features are read where they lie (no float64 copy); float64 too; integers
    // are widened once.
    let read = match x.extract::<PyReadonlyArray2<'py, f32>>() {
        Ok(a) => Read::F32(a),
        Err(_) => Read::Other(Matrix::extract(x, "X")?),
    };
    let features = read.features();
    let y = Matrix::extract(y, "y")?.view().to_owned();
    let names = Names::new(
        features.ncols(),
        y.ncols(),
        feature_names,
        target_names,
        classes,
    );
    let mut watch = Watch {
        callback,
        verbose,
        best: None,
        interrupted: false,
        error: None,
        last_poll: Instant::now(),
    };
    // numpy's own loops read arrays without the GIL too; the table is built here, once.
    let result = py.detach(|| match spec.dtype {
        DType::F64 => train::<f64>(spec, features, y, names, &mut watch),
        DType::F32 => train::<f32>(spec, features, y, names, &mut watch),
    });
    if let Some(e) = watch.error.take() {
        return Err(e);
    }
    let (mut model, history, timing) = result.map_err(PyError)?;
    if watch.interrupted {
        if let Some((_, best)) = watch.best.take() {
            model.params = best;
        }
    }
    let outcome = history
        .outcome
        .as_ref()
        .map(|o| serde_json::to_string(o).unwrap_or_default())
        .unwrap_or_default();
    let seconds = PyDict::new(py);
    seconds.set_item("setup_s", timing.setup_s)?;
    seconds.set_item("train_s", timing.train_s)?;
    Ok((
        PyModel(model),
        history_dict(py, &history)?,
        outcome,
        watch.interrupted,
        seconds,
    ))
}

/// The features of a fit, borrowed from numpy (float32 or float64, any layout) or widened
/// from integers.
enum Features<'a> {
    F32(ArrayView2<'a, f32>),
    F64(ArrayView2<'a, f64>),
}

impl Features<'_> {
    fn ncols(&self) -> usize {
        match self {
            Features::F32(a) => a.ncols(),
            Features::F64(a) => a.ncols(),
        }
    }
}

/// The features as read from Python (holding numpy's read-only borrow).
enum Read<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    Other(Matrix<'py>),
}

impl Read<'_> {
    fn features(&self) -> Features<'_> {
        match self {
            Read::F32(a) => Features::F32(a.as_array()),
            Read::Other(m) => Features::F64(m.view()),
        }
    }
}

/// Column names (given, else `x0, x1, ...` and `y` or `y0, y1, ...`) and class labels.
struct Names {
    features: Vec<String>,
    targets: Vec<String>,
    classes: Option<Vec<String>>,
}

impl Names {
    fn new(
        d: usize,
        k: usize,
        features: Option<Vec<String>>,
        targets: Option<Vec<String>>,
        classes: Option<Vec<String>>,
    ) -> Names {
        Names {
            features: features.unwrap_or_else(|| (0..d).map(|j| format!("x{j}")).collect()),
            targets: targets.unwrap_or_else(|| match k {
                1 => vec!["y".into()],
                k => (0..k).map(|j| format!("y{j}")).collect(),
            }),
            classes,
        }
    }
}

/// The in-memory data set of `x` and `y` (copied into the library's f64 table), with its
/// names and class labels, for the analyses.
pub fn dataset(
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    classes: Option<Vec<String>>,
    feature_names: Option<Vec<String>>,
    target_names: Option<Vec<String>>,
) -> PyResult<Dataset> {
    let x = Matrix::extract(x, "X")?.into_owned();
    let y = Matrix::extract(y, "y")?.into_owned();
    let names = Names::new(x.ncols(), y.ncols(), feature_names, target_names, classes);
    let mut data = Dataset::new(x, y, names.features, names.targets).map_err(PyError)?;
    data.classes = names.classes;
    Ok(data)
}

/// Builds the run straight from the borrowed features (the table in the run's precision,
/// no f64 copy) and trains it.
fn train<F: Float>(
    spec: RunSpec,
    x: Features<'_>,
    y: Array2<f64>,
    n: Names,
    watch: &mut Watch,
) -> descent::Result<(Model, History<f64>, Timing)> {
    let started = Instant::now();
    let mut run = match x {
        Features::F32(x) => Run::<F>::from_features(spec, x, y, n.features, n.targets, n.classes)?,
        Features::F64(x) => Run::<F>::from_features(spec, x, y, n.features, n.targets, n.classes)?,
    };
    let setup_s = started.elapsed().as_secs_f64();
    let training = Instant::now();
    let mut records = History::<F>::new();
    let outcome = run.train(&mut [&mut records, watch])?;
    let train_s = training.elapsed().as_secs_f64();
    let mut history = History::continuing(records.records);
    history.outcome = Some(outcome);
    Ok((run.model(), history, Timing { setup_s, train_s }))
}

/// Seconds building the run (table, scaler, model) and training it, as `descent train`'s
/// `summary.json` `timing` reports them.
struct Timing {
    setup_s: f64,
    train_s: f64,
}

/// The observer that speaks to Python: the callback, progress lines, Ctrl-C, and the best
/// parameters (lowest validation loss, else training loss) for an interrupted run.
struct Watch {
    callback: Option<Py<PyAny>>,
    verbose: bool,
    best: Option<(f64, Vec<f64>)>,
    interrupted: bool,
    /// An exception raised by the callback (the run stops and it is re-raised).
    error: Option<PyErr>,
    last_poll: Instant,
}

impl Watch {
    fn stop(&mut self, why: &str) -> descent::Result<Signal> {
        Ok(Signal::Stop(why.into()))
    }

    /// Whether Ctrl-C was pressed (any other pending exception is kept to re-raise).
    fn poll_signals(&mut self, py: Python<'_>) -> bool {
        self.last_poll = Instant::now();
        match py.check_signals() {
            Ok(()) => false,
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) => {
                self.interrupted = true;
                true
            }
            Err(e) => {
                self.error = Some(e);
                true
            }
        }
    }

    fn on_epoch(&mut self, py: Python<'_>, r: &EpochRecord) -> PyResult<Option<&'static str>> {
        if self.poll_signals(py) {
            return Ok(Some("interrupted"));
        }
        if self.verbose {
            let val = r
                .val_loss
                .map(|v| format!(" val_loss {v:.6}"))
                .unwrap_or_default();
            let line = format!(
                "epoch {} loss {:.6}{val} lr {:.3e} grad_norm {:.3e}",
                r.epoch, r.loss, r.lr, r.grad_norm
            );
            py.import("builtins")?.getattr("print")?.call1((line,))?;
        }
        if let Some(cb) = &self.callback {
            let record = PyDict::new(py);
            record.set_item("epoch", r.epoch)?;
            record.set_item("step", r.step)?;
            record.set_item("loss", r.loss)?;
            record.set_item("val_loss", r.val_loss)?;
            record.set_item("lr", r.lr)?;
            record.set_item("grad_norm", r.grad_norm)?;
            let answer = cb.bind(py).call1((record,))?;
            if !answer.is_none() && !answer.is_truthy()? {
                return Ok(Some("the callback returned False"));
            }
        }
        Ok(None)
    }
}

impl<F: Float> Observer<F> for Watch {
    fn on_event(&mut self, event: &Event<'_, F>) -> descent::Result<Signal> {
        match event {
            Event::Step(..) if self.last_poll.elapsed() >= SIGNAL_POLL => {
                if Python::attach(|py| self.poll_signals(py)) {
                    return self.stop("interrupted");
                }
                Ok(Signal::Continue)
            }
            Event::Epoch(r, params) => {
                let monitored = r.val_loss.unwrap_or(r.loss);
                if monitored.is_finite() && self.best.as_ref().is_none_or(|(b, _)| monitored < *b) {
                    self.best = Some((monitored, params.iter().map(|v| v.f64()).collect()));
                }
                let answer = Python::attach(|py| match self.on_epoch(py, r) {
                    // Ctrl-C while the callback ran is Ctrl-C all the same.
                    Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) => {
                        self.interrupted = true;
                        Ok(Some("interrupted"))
                    }
                    other => other,
                });
                match answer {
                    Ok(None) => Ok(Signal::Continue),
                    Ok(Some(why)) => self.stop(why),
                    Err(e) => {
                        self.error = Some(e);
                        self.stop("the callback raised an exception")
                    }
                }
            }
            _ => Ok(Signal::Continue),
        }
    }

    fn step_events(&self) -> StepEvents {
        StepEvents::Sparse
    }
}

/// The history as numpy arrays (`val_loss` NaN where there is no validation split).
fn history_dict<'py>(py: Python<'py>, h: &History<f64>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let column = |f: fn(&EpochRecord) -> f64| {
        let v: Vec<f64> = h.records.iter().map(f).collect();
        PyArray1::from_vec(py, v)
    };
    d.set_item("epoch", column(|r| r.epoch as f64))?;
    d.set_item("loss", column(|r| r.loss))?;
    d.set_item("val_loss", column(|r| r.val_loss.unwrap_or(f64::NAN)))?;
    d.set_item("lr", column(|r| r.lr))?;
    d.set_item("grad_norm", column(|r| r.grad_norm))?;
    Ok(d)
}
