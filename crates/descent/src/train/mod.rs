//! The training loop and the event stream it emits.
//!
//! [`Trainer`] drives epochs and batches: forward on a tape, loss, backward into the flat
//! gradient buffer, an optimizer step with the learning rate from the schedule. Everything a
//! user sees (progress bars, `metrics.csv`, plots, later a live dashboard) is an [`Observer`]
//! of the [`Event`] stream; nothing in here knows about terminals or files.

mod checkpoint;
pub mod diagnosis;
mod event;
mod trainer;
mod watch;

pub use checkpoint::Checkpoint;
pub use event::{EpochRecord, Event, Observer, Signal, StepRecord};
pub use trainer::{
    evaluate, Outcome, SchedulePer, Stop, TrainConfig, TrainData, Trainer, STEP_EVENT_INTERVAL,
};
pub use watch::{DivergenceRule, EarlyStopping, OnDivergence, Watch};
