//! [`History`]: the observer that keeps a run's epoch records (and, optionally, the
//! parameters after every epoch), for figures, summaries and bindings.

use super::{EpochRecord, Event, Observer, Outcome, Signal};
use crate::{Float, Result};

/// Everything a run reported per epoch.
///
/// ```
/// use descent::train::{EpochRecord, Event, History, Observer};
/// let mut h = History::with_path(vec![1.0f64]);
/// let r = EpochRecord { epoch: 1, step: 3, loss: 0.5, val_loss: None, lr: 0.1, grad_norm: 2.0 };
/// h.on_event(&Event::Epoch(&r, &[0.75])).unwrap();
/// assert_eq!(h.losses(), [0.5]);
/// assert_eq!(h.path, [vec![1.0], vec![0.75]]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History<F = f64> {
    /// One record per completed epoch, in order (a resumed run's earlier epochs included
    /// when the history was started from them).
    pub records: Vec<EpochRecord>,
    /// The parameters at the start and after every epoch, when asked for.
    pub path: Vec<Vec<F>>,
    keep_path: bool,
    /// How the run ended, once it has.
    pub outcome: Option<Outcome>,
}

impl<F: Float> History<F> {
    /// A history of epoch records only.
    pub fn new() -> Self {
        History {
            records: Vec::new(),
            path: Vec::new(),
            keep_path: false,
            outcome: None,
        }
    }

    /// A history that continues `records` (a resumed run).
    pub fn continuing(records: Vec<EpochRecord>) -> Self {
        History {
            records,
            ..Self::new()
        }
    }

    /// A history that also keeps the parameters after every epoch, starting from `start`.
    pub fn with_path(start: Vec<F>) -> Self {
        History {
            path: vec![start],
            keep_path: true,
            ..Self::new()
        }
    }

    /// The epoch losses.
    pub fn losses(&self) -> Vec<f64> {
        self.records.iter().map(|r| r.loss).collect()
    }

    /// The epoch validation losses (NaN where there was none).
    pub fn val_losses(&self) -> Vec<f64> {
        self.records
            .iter()
            .map(|r| r.val_loss.unwrap_or(f64::NAN))
            .collect()
    }

    /// The learning rate of every epoch.
    pub fn lrs(&self) -> Vec<f64> {
        self.records.iter().map(|r| r.lr).collect()
    }

    /// The gradient norm of every epoch's last update.
    pub fn grad_norms(&self) -> Vec<f64> {
        self.records.iter().map(|r| r.grad_norm).collect()
    }
}

impl<F: Float> Observer<F> for History<F> {
    fn on_event(&mut self, event: &Event<'_, F>) -> Result<Signal> {
        match event {
            Event::Epoch(r, p) => {
                self.records.push((*r).clone());
                if self.keep_path {
                    self.path.push(p.to_vec());
                }
            }
            Event::End(outcome, _) => self.outcome = Some((*outcome).clone()),
            _ => {}
        }
        Ok(Signal::Continue)
    }
}
