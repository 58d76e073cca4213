//! Writes `DIR/checkpoint.json` every N epochs (the library's checkpoint format, with the
//! run specification and the command's output settings), keeping the epoch history the file
//! carries.

use std::path::PathBuf;

use descent::run::checkpoint_file;
use descent::train::{Checkpoint, EpochRecord, Event, History, Observer, Signal};
use descent::{Float, Result, RunSpec};

/// The checkpoint writer of `descent train`.
pub struct CheckpointWriter {
    dir: PathBuf,
    every: Option<usize>,
    spec: RunSpec,
    front_end: serde_json::Value,
    /// Every epoch so far (a resumed run's earlier ones included).
    pub history: History<f64>,
}

impl CheckpointWriter {
    pub fn new(
        dir: PathBuf,
        every: Option<usize>,
        spec: RunSpec,
        front_end: serde_json::Value,
        rows: Vec<EpochRecord>,
    ) -> Self {
        CheckpointWriter {
            dir,
            every,
            spec,
            front_end,
            history: History::continuing(rows),
        }
    }

    pub fn write<F: Float>(&self, state: &Checkpoint<F>) -> Result<()> {
        checkpoint_file::save(
            &self.dir,
            &self.spec,
            Some(&self.front_end),
            &self.history.records,
            state,
        )
    }
}

impl<F: Float> Observer<F> for CheckpointWriter {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        if let Event::Epoch(r, _) = event {
            self.history.records.push((*r).clone());
        }
        Ok(Signal::Continue)
    }

    fn wants_checkpoint(&self, epoch: usize) -> bool {
        self.every.is_some_and(|n| epoch % n == 0)
    }

    fn on_checkpoint(&mut self, state: &Checkpoint<F>) -> Result<()> {
        self.write(state)
    }
}
