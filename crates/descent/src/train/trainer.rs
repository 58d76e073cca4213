//! The loop: epochs x batches -> forward, loss, backward, clip, step, schedule, events.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::event::{EpochRecord, Event, Observer, Signal, StepRecord};
use crate::autodiff::Tape;
use crate::data::{BatchOrder, BatchSize, Batches, Dataset};
use crate::loss::Loss;
use crate::nn::{LinearKernel, Sequential};
use crate::optim::{clip_grad_norm, clip_grad_value, DynOptimizer};
use crate::params::{l2_norm, Params};
use crate::schedule::Scheduler;
use crate::{Error, Float, Result};

/// When the schedule advances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchedulePer {
    /// After every epoch (PyTorch's usual `scheduler.step()` placement).
    #[default]
    Epoch,
    /// After every update.
    Step,
}

/// How a run is driven.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The epoch to stop at (a resumed run continues up to it).
    pub epochs: usize,
    pub batch: BatchSize,
    pub order: BatchOrder,
    pub schedule_per: SchedulePer,
    /// Clip the global L2 norm of the gradient to this value before each step
    /// (`torch.nn.utils.clip_grad_norm_`).
    pub clip_norm: Option<f64>,
    /// Clip every gradient element to `[-v, v]` before each step
    /// (`torch.nn.utils.clip_grad_value_`).
    pub clip_value: Option<f64>,
}

impl TrainConfig {
    /// A plain run: `epochs` epochs, the given batching, schedule per epoch, no clipping.
    pub fn new(epochs: usize, batch: BatchSize, order: BatchOrder) -> Self {
        TrainConfig {
            epochs,
            batch,
            order,
            schedule_per: SchedulePer::Epoch,
            clip_norm: None,
            clip_value: None,
        }
    }

    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::invalid("epochs", 0, "must be at least 1"));
        }
        for (name, v) in [
            ("clip_norm", self.clip_norm),
            ("clip_value", self.clip_value),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::invalid(name, v, "must be a positive finite number"));
                }
            }
        }
        Ok(())
    }
}

/// Features and targets in the run's precision.
#[derive(Clone, Debug)]
pub struct TrainData<F> {
    pub x: Array2<F>,
    pub y: Array2<F>,
}

impl<F: Float> TrainData<F> {
    /// Converts a (scaled) dataset to the run's precision.
    pub fn from_dataset(d: &Dataset) -> Self {
        TrainData {
            x: d.x.mapv(F::of),
            y: d.y.mapv(F::of),
        }
    }

    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }
}

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Stop {
    /// All epochs ran.
    Completed,
    /// The loss became NaN or infinite. The parameters are rolled back to the latest ones
    /// known to give a finite loss (the start of the last epoch whose first batch had one).
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
    },
    /// An observer asked to stop.
    Stopped { reason: String },
}

/// The result of [`Trainer::run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub stop: Stop,
    /// Epochs completed (counting those before a resume).
    pub epochs: usize,
    /// Updates made.
    pub steps: usize,
    /// The last epoch's record, if any epoch completed.
    pub last: Option<EpochRecord>,
}

/// A training run in progress: model, loss, parameters, optimizer, schedule and counters.
#[derive(Debug)]
pub struct Trainer<'m, F: Float> {
    model: &'m Sequential,
    loss: Loss,
    config: TrainConfig,
    pub params: Params<F>,
    pub optimizer: Box<dyn DynOptimizer<F>>,
    pub schedule: Box<dyn Scheduler>,
    /// Epochs completed so far.
    pub epoch: usize,
    /// Updates made so far.
    pub step: usize,
    grads: Vec<F>,
    tape: Tape<F>,
    /// The tape-free path for single-layer models (`None`: use the tape).
    kernel: Option<LinearKernel<F>>,
}

impl<'m, F: Float> Trainer<'m, F> {
    /// A fresh run from `params`.
    pub fn new(
        model: &'m Sequential,
        loss: Loss,
        config: TrainConfig,
        params: Params<F>,
        optimizer: Box<dyn DynOptimizer<F>>,
        schedule: Box<dyn Scheduler>,
    ) -> Result<Self> {
        if params.layout != model.layout() {
            return Err(Error::State(
                "the parameters do not have the model's layout".into(),
            ));
        }
        config.validate()?;
        let grads = vec![F::zero(); params.len()];
        Ok(Trainer {
            model,
            loss,
            config,
            params,
            optimizer,
            schedule,
            epoch: 0,
            step: 0,
            grads,
            tape: Tape::new(),
            kernel: LinearKernel::new(model, loss),
        })
    }

    /// Changes the epoch to stop at (to continue a finished or resumed run).
    pub fn set_epochs(&mut self, epochs: usize) {
        self.config.epochs = epochs;
    }

    /// The flat gradient buffer of the last update.
    pub fn grads(&self) -> &[F] {
        &self.grads
    }

    /// Trains from the current epoch up to `config.epochs`, telling `observers` everything.
    pub fn run(
        &mut self,
        train: &TrainData<F>,
        val: Option<&TrainData<F>>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<Outcome> {
        self.check_data(train)?;
        if let Some(v) = val {
            self.check_data(v)?;
        }
        let batches = Batches::new(train.n_rows(), self.config.batch, self.config.order.clone())?;
        let start = Event::Start {
            from_epoch: self.epoch,
            epochs: self.config.epochs,
            steps_per_epoch: batches.steps_per_epoch(),
            n_params: self.params.len(),
        };
        let mut stop = broadcast(observers, &start)?;
        let mut order = Vec::with_capacity(train.n_rows());
        // Parameters known to give a finite loss (those at the start of the latest epoch whose
        // first batch had one), restored if the run diverges; `candidate` is this epoch's start.
        let mut last_good = self.params.values.clone();
        let mut candidate = self.params.values.clone();
        let mut last = None;
        while stop.is_none() && self.epoch < self.config.epochs {
            batches.epoch_order(self.epoch, &mut order)?;
            let epoch = self.epoch + 1;
            let (mut loss_sum, mut n_batches) = (0.0, 0usize);
            let mut record = None;
            candidate.copy_from_slice(&self.params.values);
            for rows in batches.split(&order) {
                let step = self.update(train, rows, batches.is_full_in_order(), epoch)?;
                if !step.loss.is_finite() {
                    self.params.values.copy_from_slice(&last_good);
                    stop = Some(Stop::Diverged {
                        epoch,
                        step: step.step,
                        loss: step.loss,
                    });
                    break;
                }
                if n_batches == 0 {
                    std::mem::swap(&mut last_good, &mut candidate);
                }
                loss_sum += step.loss;
                n_batches += 1;
                if let Some(s) = broadcast(observers, &Event::Step(&step, &self.params.values))? {
                    stop = Some(s);
                }
                if self.config.schedule_per == SchedulePer::Step {
                    self.schedule.step(step.loss);
                }
                record = Some(step);
                if stop.is_some() {
                    break;
                }
            }
            if matches!(stop, Some(Stop::Diverged { .. })) {
                break;
            }
            let Some(step) = record else { break };
            let val_loss = val
                .map(|v| evaluate(self.model, self.loss, &self.params, v.x.view(), v.y.view()))
                .transpose()?;
            let rec = EpochRecord {
                epoch,
                step: step.step,
                loss: loss_sum / n_batches as f64,
                val_loss,
                lr: step.lr,
                grad_norm: step.grad_norm,
            };
            self.epoch = epoch;
            if self.config.schedule_per == SchedulePer::Epoch {
                self.schedule.step(val_loss.unwrap_or(rec.loss));
            }
            if let Some(s) = broadcast(observers, &Event::Epoch(&rec, &self.params.values))? {
                stop = stop.or(Some(s));
            }
            last = Some(rec);
        }
        let outcome = Outcome {
            stop: stop.unwrap_or(Stop::Completed),
            epochs: self.epoch,
            steps: self.step,
            last,
        };
        broadcast(observers, &Event::End(&outcome))?;
        Ok(outcome)
    }

    fn check_data(&self, d: &TrainData<F>) -> Result<()> {
        if d.x.ncols() != self.model.n_in() {
            return Err(Error::ShapeMismatch {
                op: "training data features vs model inputs",
                lhs: d.x.shape().to_vec(),
                rhs: vec![self.model.n_in()],
            });
        }
        Ok(())
    }

    /// One update on the rows `rows`; returns its record (with a non-finite loss, the
    /// parameters are left untouched).
    fn update(
        &mut self,
        data: &TrainData<F>,
        rows: &[usize],
        whole: bool,
        epoch: usize,
    ) -> Result<StepRecord> {
        let lr = self.schedule.lr();
        if let Some(m) = self.schedule.momentum() {
            self.optimizer.set_momentum(m);
        }
        let loss = match &mut self.kernel {
            Some(kernel) => kernel
                .loss_and_grad(
                    &self.params.values,
                    data.x.view(),
                    data.y.view(),
                    rows,
                    &mut self.grads,
                )
                .f64(),
            None => self.tape_loss_and_grad(data, rows, whole)?,
        };
        let mut record = StepRecord {
            epoch,
            step: self.step + 1,
            loss,
            lr,
            grad_norm: f64::NAN,
        };
        if !loss.is_finite() {
            return Ok(record);
        }
        record.grad_norm = l2_norm(&self.grads);
        if let Some(max_norm) = self.config.clip_norm {
            clip_grad_norm(&mut self.grads, max_norm);
        }
        if let Some(v) = self.config.clip_value {
            clip_grad_value(&mut self.grads, v);
        }
        self.optimizer
            .step(lr, &mut self.params.values, &self.grads);
        self.step += 1;
        Ok(record)
    }
}

impl<F: Float> Trainer<'_, F> {
    /// Loss of the batch `rows` and its gradient (into `self.grads`) through the autodiff tape.
    fn tape_loss_and_grad(
        &mut self,
        data: &TrainData<F>,
        rows: &[usize],
        whole: bool,
    ) -> Result<f64> {
        let (xb, yb) = if whole {
            (data.x.clone(), data.y.clone())
        } else {
            (data.x.select(Axis(0), rows), data.y.select(Axis(0), rows))
        };
        let tape = &mut self.tape;
        tape.clear();
        let x = tape.constant(xb);
        let y = tape.constant(yb);
        let fwd = self.model.forward(tape, &self.params, x)?;
        let l = self.loss.apply(tape, fwd.output, y)?;
        let loss = tape.scalar(l).f64();
        if loss.is_finite() {
            let gradients = tape.backward(l);
            self.model
                .gather_grads(&self.params.layout, &fwd, &gradients, &mut self.grads);
        }
        Ok(loss)
    }
}

/// Sends `event` to every observer; returns a stop if any observer asked for one.
fn broadcast<F: Float>(
    observers: &mut [&mut dyn Observer<F>],
    event: &Event<'_, F>,
) -> Result<Option<Stop>> {
    let mut stop = None;
    for o in observers.iter_mut() {
        if let Signal::Stop(reason) = o.on_event(event)? {
            stop.get_or_insert(Stop::Stopped { reason });
        }
    }
    Ok(stop)
}

/// The loss of `model` with `params` over all rows of `(x, y)`.
pub fn evaluate<F: Float>(
    model: &Sequential,
    loss: Loss,
    params: &Params<F>,
    x: ArrayView2<'_, F>,
    y: ArrayView2<'_, F>,
) -> Result<f64> {
    let mut tape = Tape::new();
    let xv = tape.constant(x.to_owned());
    let yv = tape.constant(y.to_owned());
    let out = model.forward(&mut tape, params, xv)?.output;
    let l = loss.apply(&mut tape, out, yv)?;
    Ok(tape.scalar(l).f64())
}
