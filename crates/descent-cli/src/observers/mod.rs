//! Observers of the training event stream that talk to the outside world: a progress bar on
//! stderr, `metrics.csv`, checkpoints, Ctrl-C.

mod checkpoint;
pub mod interrupt;
mod metrics;
mod progress;

pub use checkpoint::CheckpointWriter;
pub use interrupt::Interrupt;
pub use metrics::MetricsCsv;
pub use progress::Progress;
