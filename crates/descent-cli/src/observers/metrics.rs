//! `metrics.csv`: one row per epoch, `epoch,step,loss,val_loss,lr,grad_norm`.
//!
//! Rows go to a hidden temporary file beside the target as they come (flushed every epoch,
//! so a long run can be followed), and the file is renamed into place when the run ends: a
//! run that fails never replaces a previous good `metrics.csv`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use descent::train::{EpochRecord, Event, Observer, Signal};
use descent::{Error, Float, Result};

use crate::fsutil::tmp_path;

pub struct MetricsCsv {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    /// Every row, for the summary and later plots.
    pub rows: Vec<EpochRecord>,
}

impl MetricsCsv {
    pub fn create(path: &Path, previous: Vec<EpochRecord>) -> Result<Self> {
        let tmp = tmp_path(path);
        let io = |source| Error::Io {
            path: tmp.clone(),
            source,
        };
        let mut out = BufWriter::new(File::create(&tmp).map_err(io)?);
        writeln!(out, "epoch,step,loss,val_loss,lr,grad_norm").map_err(io)?;
        for r in &previous {
            write_row(&mut out, r).map_err(io)?;
        }
        Ok(MetricsCsv {
            path: path.to_path_buf(),
            tmp,
            out: Some(out),
            rows: previous,
        })
    }

    fn io(&self) -> impl Fn(std::io::Error) -> Error + '_ {
        |source| Error::Io {
            path: self.tmp.clone(),
            source,
        }
    }
}

fn write_row(out: &mut impl Write, r: &EpochRecord) -> std::io::Result<()> {
    let val = r.val_loss.map(|v| v.to_string()).unwrap_or_default();
    writeln!(
        out,
        "{},{},{},{},{},{}",
        r.epoch, r.step, r.loss, val, r.lr, r.grad_norm
    )
}

impl<F: Float> Observer<F> for MetricsCsv {
    // Per epoch only.
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        match event {
            Event::Epoch(r, _) => {
                let mut out = self.out.take().expect("open until the end");
                let res = write_row(&mut out, r).and_then(|()| out.flush());
                self.out = Some(out);
                res.map_err(self.io())?;
                self.rows.push((*r).clone());
            }
            Event::End(..) => {
                if let Some(mut out) = self.out.take() {
                    out.flush().map_err(self.io())?;
                    drop(out);
                    std::fs::rename(&self.tmp, &self.path).map_err(|source| Error::Io {
                        path: self.path.clone(),
                        source,
                    })?;
                }
            }
            _ => {}
        }
        Ok(Signal::Continue)
    }
}

impl Drop for MetricsCsv {
    fn drop(&mut self) {
        // The run ended with an error before `End`: leave no temporary file behind.
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
