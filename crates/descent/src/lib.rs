//! `descent`: gradient descent you can see and trust.
//!
//! Data flows one way (see `DESIGN.md` in the repository):
//! [`data`] (datasets, scaling, batches) -> [`nn`] models on an [`autodiff`] tape -> [`loss`]
//! -> flat gradients in [`params`] -> [`optim`] step with a learning rate from [`schedule`]
//! -> [`train`] events to observers.

pub mod analysis;
pub mod autodiff;
pub mod data;
mod error;
pub mod files;
mod float;
pub mod kernels;
pub mod loss;
pub mod model;
pub mod nn;
pub mod objective;
pub mod optim;
pub mod parallel;
pub mod params;
pub mod run;
pub mod schedule;
pub mod train;
pub mod workloads;

pub use error::{Error, Result};
pub use float::{DType, Float};
pub use model::{Model, Prediction};
pub use run::{fit, fit_with, Fitted, Run, RunSpec};
