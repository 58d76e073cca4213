//! Observers of the training event stream that talk to the outside world: a progress bar on
//! stderr, `metrics.csv`, `events.jsonl` (the board's live feed), checkpoints, Ctrl-C, and the
//! figures of `train --plot`.

mod checkpoint;
pub mod events;
pub mod interrupt;
mod metrics;
mod plots;
mod progress;

pub use checkpoint::CheckpointWriter;
pub use events::EventFile;
pub use interrupt::Interrupt;
pub use metrics::MetricsCsv;
pub use plots::Plots;
pub use progress::Progress;
