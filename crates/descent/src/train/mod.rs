//! The training loop and the event stream it emits.
//!
//! [`Trainer`] drives epochs and batches: the engine's loss and gradient (tape or kernel,
//! chosen once per run), the [`GradientHook`], an optimizer step with the learning rate from
//! the schedule; the batches come from the in-memory table or a
//! [`BatchSource`](crate::data::BatchSource). Everything a
//! user sees (progress bars, `metrics.csv`, plots, later a live dashboard) is an [`Observer`]
//! of the [`Event`] stream; nothing in here knows about terminals or files.

mod checkpoint;
pub mod diagnosis;
mod engine;
mod event;
mod history;
mod hook;
mod shard;
mod trainer;
mod validation;
mod watch;

pub use crate::data::TrainData;
pub use crate::nn::evaluate;
pub use checkpoint::Checkpoint;
pub use event::{
    EpochRecord, Event, EveryStep, Observer, RunStart, Signal, StepEvents, StepRecord,
};
pub use history::History;
pub use hook::GradientHook;
pub use shard::{chunk_range, Combine, Shard};
pub use trainer::{Outcome, SchedulePer, Stop, TrainConfig, Trainer, STEP_EVENT_INTERVAL};
pub use validation::Validation;
pub use watch::{DivergenceRule, EarlyStopping, OnDivergence, Watch};
