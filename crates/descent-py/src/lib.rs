//! `descent._descent`, the extension module under the Python package `descent`: thin
//! wrappers over the library (fit, model, optimizers, schedules, analyses). The
//! scikit-learn and torch-like APIs are Python in `python/descent/`.

use std::sync::OnceLock;

use pyo3::prelude::*;

mod analysis;
mod arrays;
mod error;
mod fit;
mod model;
mod optim;
mod params;
mod schedule;

/// The process id when the module was loaded.
static LOADED_IN: OnceLock<u32> = OnceLock::new();

/// Whether this is a forked child of the process that loaded the module: its worker pools
/// (built in the parent) have no threads here, so work runs on the calling thread.
pub(crate) fn forked() -> bool {
    LOADED_IN
        .get()
        .is_some_and(|&pid| pid != std::process::id())
}

#[pymodule]
fn _descent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    LOADED_IN.get_or_init(std::process::id);
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The estimators' run parameters: the one table, read by python/descent/sklearn.py.
    m.add("RUN_PARAMS", params::KEYS.to_vec())?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(optim::optimizers, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::analyze, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::lr_find, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::gradcheck, m)?)?;
    m.add_class::<model::PyModel>()?;
    m.add_class::<optim::Stepper>()?;
    m.add_class::<schedule::Schedule>()?;
    Ok(())
}
