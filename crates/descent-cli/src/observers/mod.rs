//! Observers of the training event stream that talk to the outside world: a progress bar on
//! stderr and `metrics.csv`.

mod metrics;
mod progress;

pub use metrics::MetricsCsv;
pub use progress::Progress;
