//! Writes `checkpoint.json` every N epochs (see `checkpoint_file.rs`), and keeps the metrics
//! rows a checkpoint carries.

use std::path::PathBuf;

use descent::train::{Checkpoint, EpochRecord, Event, Observer, Signal};
use descent::{Error, Float, Result};

use crate::checkpoint_file;

pub struct CheckpointWriter {
    dir: PathBuf,
    every: Option<usize>,
    args: Vec<String>,
    /// Every epoch record of the run (those before a resume included).
    pub rows: Vec<EpochRecord>,
}

impl CheckpointWriter {
    pub fn new(
        dir: PathBuf,
        every: Option<usize>,
        args: Vec<String>,
        rows: Vec<EpochRecord>,
    ) -> Self {
        CheckpointWriter {
            dir,
            every,
            args,
            rows,
        }
    }

    /// Writes a checkpoint now (e.g. after Ctrl-C).
    pub fn write<F: Float>(&self, state: &Checkpoint<F>) -> anyhow::Result<()> {
        checkpoint_file::save(&self.dir, &self.args, &self.rows, state)
    }
}

impl<F: Float> Observer<F> for CheckpointWriter {
    // Per epoch only.
    fn wants_every_step(&self) -> bool {
        false
    }

    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        if let Event::Epoch(r, _) = event {
            self.rows.push((*r).clone());
        }
        Ok(Signal::Continue)
    }

    fn wants_checkpoint(&self, epoch: usize) -> bool {
        self.every.is_some_and(|n| epoch % n == 0)
    }

    fn on_checkpoint(&mut self, state: &Checkpoint<F>) -> Result<()> {
        self.write(state)
            .map_err(|e| Error::State(format!("{e:#}")))
    }
}
