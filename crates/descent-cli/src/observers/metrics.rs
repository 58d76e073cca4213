//! `metrics.csv`: one row per epoch, `epoch,step,loss,val_loss,lr,grad_norm`.
//!
//! The file is the run's live record: each row is appended to `metrics.csv` itself as its
//! epoch ends, with one `write` call of the whole line and no buffer in between, so that
//! `tail -f` follows the run and a killed run leaves every finished epoch, each line complete
//! (a line is written whole or not at all). The header and the rows a resumed run starts
//! from (its checkpoint's) are written atomically first, which also drops any rows a killed
//! run wrote after its last checkpoint.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use descent::train::{EpochRecord, Event, Observer, Signal};
use descent::{Error, Float, Result};

pub struct MetricsCsv {
    path: PathBuf,
    out: File,
}

const HEADER: &str = "epoch,step,loss,val_loss,lr,grad_norm\n";

impl MetricsCsv {
    /// Starts `path` with the header and the `previous` rows, then appends as epochs end.
    pub fn create(path: &Path, previous: &[EpochRecord]) -> Result<Self> {
        let mut text = String::from(HEADER);
        for r in previous {
            text.push_str(&row(r));
        }
        descent::files::write_atomic(path, text.as_bytes())?;
        let out = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(MetricsCsv {
            path: path.to_path_buf(),
            out,
        })
    }

    fn io(&self) -> impl Fn(std::io::Error) -> Error + '_ {
        |source| Error::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// One line, newline included.
fn row(r: &EpochRecord) -> String {
    let val = r.val_loss.map(|v| v.to_string()).unwrap_or_default();
    format!(
        "{},{},{},{},{},{}\n",
        r.epoch, r.step, r.loss, val, r.lr, r.grad_norm
    )
}

impl<F: Float> Observer<F> for MetricsCsv {
    // Per epoch only.
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        match event {
            Event::Epoch(r, _) => {
                // One call with the whole line: a reader sees it complete or not at all.
                self.out.write_all(row(r).as_bytes()).map_err(self.io())?;
            }
            Event::End(..) => self.out.sync_data().map_err(self.io())?,
            _ => {}
        }
        Ok(Signal::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            step: epoch,
            loss: 0.5,
            val_loss: None,
            lr: 0.1,
            grad_norm: 1.0,
        }
    }

    #[test]
    fn rows_reach_the_file_as_epochs_end_and_a_restart_keeps_only_the_given_rows() {
        let dir = std::env::temp_dir().join(format!("descent-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        let mut m = MetricsCsv::create(&path, &[]).unwrap();
        for epoch in 1..=3 {
            let params = [0.0f64];
            Observer::<f64>::on_event(&mut m, &Event::Epoch(&record(epoch), &params)).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.lines().count(), 1 + epoch, "{text}");
            assert!(text.ends_with('\n'));
        }
        drop(m);
        // A resumed run starts again from its checkpoint's rows (here two).
        MetricsCsv::create(&path, &[record(1), record(2)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{HEADER}1,1,0.5,,0.1,1\n2,2,0.5,,0.1,1\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
