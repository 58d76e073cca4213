//! `events.jsonl`: the run's live feed for `descent board`, one JSON object per line.
//!
//! Lines, each with `"type"` and `"time"` (seconds since the Unix epoch):
//! - `start`: the counters of [`RunStart`], the parameter names, the engine, the run
//!   specification, and `stable_lr` (the largest stable constant learning rate of least
//!   squares with this optimizer, when there is one);
//! - `epoch`: one per epoch, the fields of a `metrics.csv` row;
//! - `step`: a sampled update (loss, lr, gradient norm), at most one per [`STEP_INTERVAL`];
//! - `effective_step`: after each epoch of an adaptive optimizer (Adam, AdamW, RMSprop), the
//!   quantiles of the per-parameter step `lr / (√v̂ + ε)` ([`StepQuantiles`]);
//! - `end`: the [`Outcome`](descent::train::Outcome), and how many step samples were dropped.
//!
//! Per update the observer reads the clock once ([`Observer::wants_next_step`]): the trainer
//! computes a step's gradient norm and sends the step only when one is due (or another
//! observer wants it). Training never waits on the disk: lines go through a bounded channel
//! to a writer thread.
//! A step sample that finds the channel full is dropped and counted; epoch, start and end
//! lines wait for room (they are rare). The writer appends whole lines only, and flushes
//! whenever the channel is empty, so that a reader sees an epoch within milliseconds. A
//! resumed run appends to the file: its `start` line says from which epoch it goes on.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use descent::optim::StepQuantiles;
use descent::train::{Event, Observer, Signal, StepEvents};
use descent::{Error, Float, Result};
use serde_json::{json, Value};

/// The event file's name in a run directory.
pub const EVENTS_FILE: &str = "events.jsonl";

/// The shortest time between two step samples.
pub const STEP_INTERVAL: Duration = Duration::from_millis(50);

/// Lines the channel holds before step samples are dropped.
const CAPACITY: usize = 256;

pub struct EventFile {
    path: PathBuf,
    sender: Option<SyncSender<String>>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
    /// Fields added to the `start` line (e.g. `stable_lr`).
    extra: Value,
    last_step: Option<Instant>,
    dropped: u64,
}

impl EventFile {
    /// Opens (appends to) `path` and starts the writer thread; `extra` is merged into the
    /// `start` line.
    pub fn create(path: &Path, extra: Value) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let (sender, receiver) = sync_channel(CAPACITY);
        let writer = std::thread::Builder::new()
            .name("events.jsonl".into())
            .spawn(move || write_lines(file, receiver))
            .map_err(io)?;
        Ok(EventFile {
            path: path.to_path_buf(),
            sender: Some(sender),
            writer: Some(writer),
            extra,
            last_step: None,
            dropped: 0,
        })
    }

    /// Sends a line that must arrive (waits for room).
    fn send(&mut self, line: Value) -> Result<()> {
        if let Some(s) = &self.sender {
            if s.send(line.to_string()).is_err() {
                // The writer ended early: its error is reported by `finish`.
                return self.finish();
            }
        }
        Ok(())
    }

    /// Closes the channel and waits for the writer to write everything.
    fn finish(&mut self) -> Result<()> {
        self.sender = None;
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let result = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the writer thread panicked")));
        result.map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for EventFile {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

impl EventFile {
    /// Whether a step sample is due ([`STEP_INTERVAL`] since the last one).
    fn step_due(&self) -> bool {
        self.last_step.is_none_or(|t| t.elapsed() >= STEP_INTERVAL)
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The writer thread: whole lines, one `write` per batch of lines, until the channel closes.
fn write_lines(mut file: File, lines: Receiver<String>) -> std::io::Result<()> {
    let mut buf = String::new();
    while let Ok(line) = lines.recv() {
        buf.push_str(&line);
        buf.push('\n');
        while let Ok(line) = lines.try_recv() {
            buf.push_str(&line);
            buf.push('\n');
        }
        file.write_all(buf.as_bytes())?;
        buf.clear();
    }
    file.sync_data()
}

impl<F: Float> Observer<F> for EventFile {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        match event {
            Event::Start(s) => {
                let mut line = json!({
                    "type": "start",
                    "time": now(),
                    "from_epoch": s.from_epoch,
                    "epochs": s.epochs,
                    "steps_per_epoch": s.steps_per_epoch,
                    "n_params": s.n_params,
                    "param_names": s.param_names,
                    "engine": s.engine,
                    "spec": s.spec,
                });
                if let (Value::Object(line), Value::Object(extra)) = (&mut line, &self.extra) {
                    line.extend(extra.clone());
                }
                self.send(line)?;
            }
            Event::Step(r, _) => {
                if self.step_due() {
                    self.last_step = Some(Instant::now());
                    let line = json!({
                        "type": "step", "time": now(), "epoch": r.epoch, "step": r.step,
                        "loss": r.loss, "lr": r.lr, "grad_norm": r.grad_norm,
                    });
                    if let Some(s) = &self.sender {
                        match s.try_send(line.to_string()) {
                            Ok(()) => {}
                            Err(TrySendError::Full(_)) => self.dropped += 1,
                            Err(TrySendError::Disconnected(_)) => self.finish()?,
                        }
                    }
                }
            }
            Event::Epoch(r, _) => {
                let line = json!({
                    "type": "epoch", "time": now(), "epoch": r.epoch, "step": r.step,
                    "loss": r.loss, "val_loss": r.val_loss, "lr": r.lr, "grad_norm": r.grad_norm,
                });
                self.send(line)?;
            }
            Event::End(outcome, _) => {
                let line = json!({
                    "type": "end", "time": now(), "outcome": outcome,
                    "dropped_steps": self.dropped,
                });
                self.send(line)?;
                self.finish()?;
            }
        }
        Ok(Signal::Continue)
    }

    // Sampled steps keep the fast paths on.
    fn step_events(&self) -> StepEvents {
        StepEvents::Sparse
    }

    // One clock read per update; the trainer computes the gradient norm of a step only
    // when some observer wants it.
    fn wants_next_step(&self) -> bool {
        self.step_due()
    }

    fn wants_effective_steps(&self) -> bool {
        true
    }

    fn on_effective_steps(&mut self, epoch: usize, q: &StepQuantiles) -> Result<()> {
        self.send(json!({
            "type": "effective_step", "time": now(), "epoch": epoch,
            "min": q.min, "p10": q.p10, "p50": q.p50, "p90": q.p90, "max": q.max,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent::train::{EpochRecord, Outcome, RunStart, StepRecord, Stop};

    fn epoch(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            step: epoch * 10,
            loss: 1.0 / epoch as f64,
            val_loss: None,
            lr: 0.1,
            grad_norm: 2.0,
        }
    }

    #[test]
    fn every_epoch_reaches_the_file_in_order_and_steps_are_sampled() {
        let dir = tempdir();
        let path = dir.join(EVENTS_FILE);
        let mut f = EventFile::create(&path, json!({"stable_lr": 0.5})).unwrap();
        let p = [0.0f64];
        let start = RunStart {
            epochs: 500,
            ..RunStart::default()
        };
        Observer::<f64>::on_event(&mut f, &Event::Start(&start)).unwrap();
        for e in 1..=500 {
            for s in 0..10 {
                let r = StepRecord {
                    epoch: e,
                    step: e * 10 + s,
                    loss: 1.0,
                    lr: 0.1,
                    grad_norm: 1.0,
                };
                Observer::<f64>::on_event(&mut f, &Event::Step(&r, &p)).unwrap();
            }
            Observer::<f64>::on_event(&mut f, &Event::Epoch(&epoch(e), &p)).unwrap();
        }
        let outcome = Outcome {
            stop: Stop::Completed,
            epochs: 500,
            steps: 5000,
            last: Some(epoch(500)),
            lr_scale: 1.0,
            best_epoch: 500,
        };
        Observer::<f64>::on_event(&mut f, &Event::End(&outcome, &p)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["type"], "start");
        assert_eq!(lines[0]["stable_lr"], 0.5);
        let epochs: Vec<u64> = lines
            .iter()
            .filter(|l| l["type"] == "epoch")
            .map(|l| l["epoch"].as_u64().unwrap())
            .collect();
        assert_eq!(epochs, (1..=500).collect::<Vec<_>>());
        let steps = lines.iter().filter(|l| l["type"] == "step").count();
        // 5,000 updates in far less than 5,000 × 50 ms: only a few are sampled.
        assert!((1..1000).contains(&steps), "{steps} step samples");
        let end = lines.last().unwrap();
        assert_eq!(end["type"], "end");
        assert_eq!(end["outcome"]["stop"]["status"], "completed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("descent-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
