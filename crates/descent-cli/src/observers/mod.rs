//! Observers of the training event stream that talk to the outside world: a progress bar on
//! stderr, `metrics.csv`, and the figures of `train --plot`.

mod metrics;
mod plots;
mod progress;

pub use metrics::MetricsCsv;
pub use plots::Plots;
pub use progress::Progress;
