//! The loop: epochs x batches -> forward, loss, backward, clip, step, schedule, events.

use std::sync::Arc;
use std::thread::Scope;

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::event::{EpochRecord, Event, Observer, Signal, StepRecord};
use super::watch::{DivergenceRule, EarlyStopping, OnDivergence, Watch};
use crate::autodiff::Tape;
use crate::data::gather::{self, Gatherer};
use crate::data::memory::huge_vec;
use crate::data::{BatchOrder, BatchSize, Batches, Dataset};
use crate::loss::Loss;
use crate::nn::{LinearKernel, MlpKernel, Sequential};
use crate::optim::{clip_grad_norm, clip_grad_value, DynOptimizer};
use crate::params::{l2_norm, Params};
use crate::schedule::Scheduler;
use crate::{Error, Float, Result};

/// How often the trainer sends [`Event::Step`] when no observer wants every step
/// ([`Observer::wants_every_step`]) and it runs one-row updates fused in the kernel: for
/// every update whose number in the epoch is a multiple of this, and for the epoch's last.
pub const STEP_EVENT_INTERVAL: usize = 1024;

/// Batches of fewer rows are not gathered ahead (handing one over costs about as much as
/// reading a few rows at random).
const GATHER_MIN_BATCH: usize = 16;

/// Tables smaller than this are not gathered ahead: their rows come from the caches.
const GATHER_MIN_TABLE_BYTES: usize = 16 << 20;

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
    /// When a run counts as diverging and what to do then.
    pub divergence: DivergenceRule,
    /// Stop when the monitored loss stops improving.
    pub early_stopping: Option<EarlyStopping>,
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
            divergence: DivergenceRule::default(),
            early_stopping: None,
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
        let d = &self.divergence;
        if !(d.factor.is_finite() && d.factor > 1.0) {
            return Err(Error::invalid(
                "divergence factor",
                d.factor,
                "must be a finite number > 1",
            ));
        }
        if d.patience == 0 {
            return Err(Error::invalid(
                "divergence patience",
                0,
                "must be at least 1",
            ));
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
    /// Converts a (scaled) dataset to the run's precision; a large feature table lands on
    /// huge pages ([`huge_vec`]), which shuffled batches read faster.
    pub fn from_dataset(d: &Dataset) -> Self {
        let mut x = huge_vec(d.x.len());
        x.extend(d.x.iter().map(|&v| F::of(v)));
        TrainData {
            x: Array2::from_shape_vec(d.x.raw_dim(), x).expect("same shape, row-major"),
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
    /// The loss became NaN or infinite, or kept rising (see [`DivergenceRule`]). The
    /// parameters are the best ones seen (lowest monitored loss, or the initial ones).
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
        /// What was seen: a non-finite loss, or a loss that kept rising.
        cause: String,
    },
    /// Early stopping: the monitored loss stopped improving; the parameters are those of
    /// `best_epoch`.
    #[serde(rename = "early-stopped")]
    EarlyStopped { epoch: usize, best_epoch: usize },
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
    /// The learning-rate multiplier left by `reduce-lr` (1 if the lr was never cut).
    pub lr_scale: f64,
    /// The epoch with the lowest monitored loss.
    pub best_epoch: usize,
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
    /// The tape-free path for multi-layer models (`None`: use the tape).
    mlp_kernel: Option<MlpKernel<F>>,
    /// Best parameters, divergence and early-stopping counters.
    pub(super) watch: Watch<F>,
    /// Batches done in the current (unfinished) epoch, and the sum of their losses.
    pub(super) batch_in_epoch: usize,
    pub(super) loss_sum: f64,
    /// The optimizer's state before the first step (to reset it after a divergence).
    initial_optimizer_state: serde_json::Value,
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
        let params_values = params.values.clone();
        let initial_optimizer_state = optimizer.save_state();
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
            mlp_kernel: MlpKernel::new(model, loss),
            watch: Watch::new(&params_values),
            batch_in_epoch: 0,
            loss_sum: 0.0,
            initial_optimizer_state,
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
    ///
    /// Two paths are faster than the plain loop and give its bits: one-row plain SGD on a
    /// one-layer model runs fused in the kernel when no observer wants every step
    /// ([`STEP_EVENT_INTERVAL`]), and with two threads or more the shuffled batches of a
    /// one-layer model from a table over 16 MB are gathered ahead on a second thread
    /// ([`crate::data::gather`]).
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
        let stop = broadcast(observers, &start)?;
        let (stop, last) =
            std::thread::scope(|scope| self.epochs(scope, train, val, observers, &batches, stop))?;
        let outcome = Outcome {
            stop: stop.unwrap_or(Stop::Completed),
            epochs: self.epoch,
            steps: self.step,
            last,
            lr_scale: self.watch.lr_scale,
            best_epoch: self.watch.best_epoch,
        };
        broadcast(observers, &Event::End(&outcome))?;
        Ok(outcome)
    }

    /// The epochs of [`Self::run`], inside a thread scope for the batch gatherer; returns
    /// why they ended (`None`: all ran) and the last epoch's record.
    fn epochs<'scope, 'env>(
        &mut self,
        scope: &'scope Scope<'scope, 'env>,
        train: &'env TrainData<F>,
        val: Option<&TrainData<F>>,
        observers: &mut [&mut dyn Observer<F>],
        batches: &Batches,
        mut stop: Option<Stop>,
    ) -> Result<(Option<Stop>, Option<EpochRecord>)> {
        let mut order = Arc::new(Vec::with_capacity(train.n_rows()));
        let mut last = None;
        let gathers = self.gathers_batches(batches, train);
        // Row numbers of a gathered batch, which holds its rows in order.
        let identity: Vec<usize> = match gathers {
            true => (0..batches.batch_size()).collect(),
            false => Vec::new(),
        };
        'epochs: while stop.is_none() && self.epoch < self.config.epochs {
            // The previous epoch's gatherer has let go of the order: no copy is made.
            batches.epoch_order(self.epoch, Arc::make_mut(&mut order))?;
            if self.batch_in_epoch == 0 {
                self.watch.epoch_start.copy_from_slice(&self.params.values);
            }
            let epoch = self.epoch + 1;
            let mut record = None;
            let steps = batches.steps_per_epoch();
            let fused = self.fuses_per_sample_steps(batches, observers, train);
            let mut gatherer = match gathers && !fused {
                true => Some(Gatherer::spawn(
                    scope,
                    train.x.view(),
                    train.y.view(),
                    Arc::clone(&order),
                    batches.batch_size(),
                    self.batch_in_epoch,
                )?),
                false => None,
            };
            while self.batch_in_epoch < steps {
                if fused {
                    // The updates up to the next one the observers see (every
                    // STEP_EVENT_INTERVAL-th, and the epoch's last, whose gradient the epoch
                    // reports) run fused in the kernel; it stops early at a row whose loss is
                    // not finite, which the code below then meets as usual.
                    let next =
                        (self.batch_in_epoch / STEP_EVENT_INTERVAL + 1) * STEP_EVENT_INTERVAL;
                    self.descend_rows(train, &order[..next.min(steps) - 1]);
                }
                // The gradient norm is a sequential sum over every parameter: computed only
                // when someone sees it (observers, clipping, the epoch's record).
                let last_batch = self.batch_in_epoch + 1 == steps;
                let need_norm =
                    !observers.is_empty() || self.config.clip_norm.is_some() || last_batch;
                let gathered = match &mut gatherer {
                    Some(g) if gather::takes(self.batch_in_epoch) => Some(g.next_batch()?),
                    _ => None,
                };
                let (x, y, rows, whole) = match &gathered {
                    Some(b) => (b.x(), b.y(), &identity[..b.n_rows()], false),
                    None => (
                        train.x.view(),
                        train.y.view(),
                        batches.batch(&order, self.batch_in_epoch),
                        batches.is_full_in_order(),
                    ),
                };
                let step = self.update(x, y, rows, whole, epoch, need_norm)?;
                if let (Some(g), Some(b)) = (&gatherer, gathered) {
                    g.recycle(b);
                }
                if !step.loss.is_finite() {
                    let cause = format!("the loss became {}", step.loss);
                    if let Some(s) = self.diverged(epoch, step.step, step.loss, cause, true) {
                        stop = Some(s);
                        break 'epochs;
                    }
                    continue 'epochs;
                }
                self.loss_sum += step.loss;
                self.batch_in_epoch += 1;
                if let Some(s) = broadcast(observers, &Event::Step(&step, &self.params.values))? {
                    stop = Some(s);
                }
                if self.config.schedule_per == SchedulePer::Step {
                    self.schedule.step(step.loss);
                }
                record = Some(step);
                if stop.is_some() && self.batch_in_epoch < steps {
                    break 'epochs; // stopped mid-epoch: the position is kept for a checkpoint
                }
            }
            drop(gatherer);
            let Some(step) = record else { break };
            let val_loss = val
                .map(|v| evaluate(self.model, self.loss, &self.params, v.x.view(), v.y.view()))
                .transpose()?;
            let rec = EpochRecord {
                epoch,
                step: step.step,
                loss: self.loss_sum / self.batch_in_epoch as f64,
                val_loss,
                lr: step.lr,
                grad_norm: step.grad_norm,
            };
            self.epoch = epoch;
            self.batch_in_epoch = 0;
            self.loss_sum = 0.0;
            if self.config.schedule_per == SchedulePer::Epoch {
                self.schedule.step(val_loss.unwrap_or(rec.loss));
            }
            if let Some(s) = broadcast(observers, &Event::Epoch(&rec, &self.params.values))? {
                stop = stop.or(Some(s));
            }
            if let Some(s) = self.watch_epoch(&rec) {
                stop = stop.or(Some(s));
            }
            if observers.iter().any(|o| o.wants_checkpoint(epoch)) {
                let checkpoint = self.checkpoint();
                for o in observers.iter_mut().filter(|o| o.wants_checkpoint(epoch)) {
                    o.on_checkpoint(&checkpoint)?;
                }
            }
            last = Some(rec);
        }
        Ok((stop, last))
    }

    /// Whether this run's batches are gathered ahead on a second thread ([`Gatherer`]):
    /// shuffled batches for the linear kernel, whose time goes to reading rows at random
    /// from a table larger than the caches, when a thread is to spare. (The MLP's matrix
    /// products and the tape do enough work per row to hide that wait.)
    fn gathers_batches(&self, batches: &Batches, train: &TrainData<F>) -> bool {
        let b = batches.batch_size();
        self.kernel_reads(train)
            && crate::parallel::threads() >= 2
            && !matches!(self.config.order, BatchOrder::Sequential)
            && (GATHER_MIN_BATCH..train.n_rows()).contains(&b)
            && train.y.is_standard_layout()
            && std::mem::size_of_val(train.x.as_slice().unwrap_or(&[])) >= GATHER_MIN_TABLE_BYTES
    }

    /// Whether the linear kernel takes this table ([`LinearKernel::accepts`]).
    fn kernel_reads(&self, train: &TrainData<F>) -> bool {
        self.kernel
            .as_ref()
            .is_some_and(|k| k.accepts(train.x.view()))
    }

    /// Updates the watch after an epoch: best parameters, rising loss, early stopping.
    fn watch_epoch(&mut self, rec: &EpochRecord) -> Option<Stop> {
        let w = &mut self.watch;
        let monitored = rec.val_loss.unwrap_or(rec.loss);
        let min_delta = self
            .config
            .early_stopping
            .as_ref()
            .map_or(0.0, |e| e.min_delta);
        if w.best_loss.is_none_or(|b| monitored < b - min_delta) {
            w.stale = 0;
        } else {
            w.stale += 1;
        }
        if w.best_loss.is_none_or(|b| monitored < b) {
            w.best_loss = Some(monitored);
            w.best_epoch = rec.epoch;
            let at = if rec.val_loss.is_some() {
                &self.params.values
            } else {
                &w.epoch_start
            };
            w.best_params.copy_from_slice(at);
        }
        let rule = &self.config.divergence;
        let best_train = w.best_train_loss.map_or(rec.loss, |b| b.min(rec.loss));
        w.best_train_loss = Some(best_train);
        let floor = 1e-12 * *w.first_train_loss.get_or_insert(rec.loss);
        w.rising = if rec.loss > rule.factor * best_train && rec.loss > floor {
            w.rising + 1
        } else {
            0
        };
        if w.rising >= rule.patience && rule.on_divergence != OnDivergence::Continue {
            let cause = format!(
                "the loss rose above {} times its best ({}) for {} epochs in a row",
                rule.factor,
                super::diagnosis::num(best_train),
                rule.patience
            );
            return self.diverged(rec.epoch, rec.step, rec.loss, cause, false);
        }
        if let Some(es) = &self.config.early_stopping {
            if self.watch.stale >= es.patience {
                self.params.values.copy_from_slice(&self.watch.best_params);
                return Some(Stop::EarlyStopped {
                    epoch: rec.epoch,
                    best_epoch: self.watch.best_epoch,
                });
            }
        }
        None
    }

    /// Handles a divergence: restores the best parameters, then either stops or (with
    /// `reduce-lr`) resets the optimizer, cuts the learning rate and lets the run go on.
    fn diverged(
        &mut self,
        epoch: usize,
        step: usize,
        loss: f64,
        cause: String,
        non_finite: bool,
    ) -> Option<Stop> {
        self.params.values.copy_from_slice(&self.watch.best_params);
        self.batch_in_epoch = 0;
        self.loss_sum = 0.0;
        let rule = &self.config.divergence;
        let retry = match rule.on_divergence {
            OnDivergence::ReduceLr => self.watch.reductions < rule.max_reductions,
            OnDivergence::Continue => !non_finite,
            OnDivergence::Stop => false,
        };
        if retry && rule.on_divergence == OnDivergence::ReduceLr {
            self.watch.reductions += 1;
            self.watch.lr_scale *= 0.1;
            self.watch.rising = 0;
            self.watch.best_train_loss = None;
            // A fresh optimizer state: momentum built up while diverging would carry on.
            if self
                .optimizer
                .load_state(&self.initial_optimizer_state)
                .is_ok()
            {
                // Epochs already done are kept; the current one restarts from the best point.
                return None;
            }
        }
        Some(Stop::Diverged {
            epoch,
            step,
            loss,
            cause,
        })
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

    /// Whether this epoch's one-row updates can run fused in the linear kernel
    /// ([`LinearKernel::descend_rows`]): a table the kernel takes, one-row batches, a plain
    /// SGD step, and nothing that looks at or changes anything between two updates (an
    /// observer that wants every step, clipping, a schedule stepped per update or cycling
    /// the momentum).
    fn fuses_per_sample_steps(
        &self,
        batches: &Batches,
        observers: &[&mut dyn Observer<F>],
        train: &TrainData<F>,
    ) -> bool {
        self.kernel_reads(train)
            && batches.batch_size() == 1
            && !observers.iter().any(|o| o.wants_every_step())
            && self.config.clip_norm.is_none()
            && self.config.clip_value.is_none()
            && self.config.schedule_per == SchedulePer::Epoch
            && self.schedule.momentum().is_none()
            && self.optimizer.is_plain_step()
    }

    /// Fused one-row updates on `order[self.batch_in_epoch..]`, counted as the loop counts
    /// its updates; stops before a row whose loss is not finite.
    fn descend_rows(&mut self, data: &TrainData<F>, order: &[usize]) {
        let Some(kernel) = &mut self.kernel else {
            return;
        };
        let Some(rows) = order.get(self.batch_in_epoch..) else {
            return;
        };
        // The schedule and the divergence scale change only between epochs here.
        let lr = self.schedule.lr() * self.watch.lr_scale;
        let done = kernel.descend_rows(
            &mut self.params.values,
            data.x.view(),
            data.y.view(),
            rows,
            lr,
            &mut self.loss_sum,
        );
        self.step += done;
        self.batch_in_epoch += done;
    }

    /// One update on the rows `rows`; returns its record (with a non-finite loss, the
    /// parameters are left untouched; without `need_norm`, its gradient norm is NaN).
    fn update(
        &mut self,
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        whole: bool,
        epoch: usize,
        need_norm: bool,
    ) -> Result<StepRecord> {
        let lr = self.schedule.lr() * self.watch.lr_scale;
        if let Some(m) = self.schedule.momentum() {
            self.optimizer.set_momentum(m);
        }
        let mlp = self.mlp_kernel.as_mut().filter(|k| k.accepts(x, y));
        let linear = self.kernel.as_mut().filter(|k| k.accepts(x));
        let loss = match (linear, mlp) {
            (Some(kernel), _) => kernel
                .loss_and_grad(&self.params.values, x, y, rows, &mut self.grads)
                .f64(),
            (None, Some(kernel)) => kernel
                .loss_and_grad(&self.params.values, x, y, rows, whole, &mut self.grads)?
                .f64(),
            (None, None) => self.tape_loss_and_grad(x, y, rows, whole)?,
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
        if need_norm {
            record.grad_norm = l2_norm(&self.grads);
        }
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
        x: ArrayView2<'_, F>,
        y: ArrayView2<'_, F>,
        rows: &[usize],
        whole: bool,
    ) -> Result<f64> {
        let (xb, yb) = if whole {
            (x.to_owned(), y.to_owned())
        } else {
            (x.select(Axis(0), rows), y.select(Axis(0), rows))
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
