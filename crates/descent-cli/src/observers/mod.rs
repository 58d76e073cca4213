//! Observers of the training event stream that talk to the outside world: a progress bar on
//! stderr, `metrics.csv`, checkpoints, Ctrl-C, and the figures of `train --plot`.

mod checkpoint;
pub mod interrupt;
mod metrics;
mod plots;
mod progress;

pub use checkpoint::CheckpointWriter;
pub use interrupt::Interrupt;
pub use metrics::MetricsCsv;
pub use plots::Plots;
pub use progress::Progress;
