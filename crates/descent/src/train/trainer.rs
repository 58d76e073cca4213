//! The loop: epochs x batches -> forward, loss, backward, clip, step, schedule, events.

use std::sync::Arc;
use std::thread::Scope;
use std::time::Instant;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::engine::Engine;
use super::event::{EpochRecord, Event, Observer, RunStart, Signal, StepEvents, StepRecord};
use super::hook::GradientHook;
use super::validation::Validation;
use super::watch::{DivergenceRule, EarlyStopping, OnDivergence, Watch};
use crate::autodiff::Tape;
use crate::data::gather::{self, BlockGatherer, BlockMode, GatheredBatch, Gatherer, BLOCK_ROWS};
use crate::data::memory::{huge_filled, huge_vec};
use crate::data::{BatchOrder, BatchSize, BatchSource, Batches, TrainData};
use crate::kernels::{LinearKernel, LinearPair};
use crate::loss::Loss;
use crate::nn::Sequential;
use crate::optim::{clip_grad_norm, clip_grad_value, DynOptimizer, StepQuantiles};
use crate::params::{l2_norm, Params};
use crate::schedule::Scheduler;
use crate::{Error, Float, Result};

/// How often the trainer sends [`Event::Step`] when no observer wants every step
/// ([`StepEvents::Every`]) and it runs one-row updates fused in the kernel: for
/// every update whose number in the epoch is a multiple of this, and for the epoch's last.
pub const STEP_EVENT_INTERVAL: usize = 1024;

/// Batches of fewer rows take no helper thread (handing one over costs about as much as
/// reading a few rows at random).
const GATHER_MIN_BATCH: usize = 16;

/// Tables smaller than this take no helper thread: their rows come from the caches.
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
///
/// # Example
/// ```
/// use descent::data::{BatchOrder, BatchSize};
/// use descent::train::TrainConfig;
/// let config = TrainConfig::new(50, BatchSize::Rows(32), BatchOrder::Shuffle { seed: 0 });
/// config.validate()?;
/// let none = TrainConfig { epochs: 0, ..config.clone() };
/// assert!(none.validate().unwrap_err().to_string().contains("epochs"));
/// let clipped = TrainConfig { clip_norm: Some(-1.0), ..config };
/// assert!(clipped.validate().unwrap_err().to_string().contains("clip_norm"));
/// # Ok::<(), descent::Error>(())
/// ```
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
    /// Worker threads ([`crate::parallel`]); `None`: chosen from the work of a batch
    /// ([`threads_for`](crate::parallel::threads_for)). The numbers never depend on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
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
            threads: None,
        }
    }

    /// The worker threads of a run under this config whose work is unknown (a batch source):
    /// the count given, else [`default_threads`](crate::parallel::default_threads).
    pub fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(crate::parallel::default_threads)
            .max(1)
    }

    /// The worker threads of a run under this config doing `work` per batch: the count
    /// given, else [`threads_for`](crate::parallel::threads_for)`(work)`.
    pub fn thread_count_for(&self, work: crate::parallel::Work) -> usize {
        self.threads
            .unwrap_or_else(|| crate::parallel::threads_for(work))
            .max(1)
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
        if let Some(t) = self.threads {
            crate::parallel::check_threads(t)?;
        }
        Ok(())
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
///
/// The loop: for each batch, the engine's loss and gradient, the gradient hook, clipping,
/// the optimizer step with the schedule's learning rate; per epoch, the validation loss,
/// the schedule, the divergence and early-stopping rules, events to the observers.
///
/// # Example
/// The classic lesson (`y = w·x` on x = 1, 2, 3, from `w = 1`) without a
/// [`RunSpec`](crate::RunSpec): a network, parameters, an optimizer and a schedule.
/// ```
/// use descent::data::{BatchOrder, BatchSize, TrainData};
/// use descent::train::{TrainConfig, Trainer};
/// use descent::{loss::Loss, nn::ModelKind, optim, params::{Init, Params}, schedule::Constant};
/// use ndarray::array;
/// let data = TrainData { x: array![[1.0], [2.0], [3.0]], y: array![[2.0], [4.0], [6.0]] };
/// let net = ModelKind::LinearNobias.build(1, 1)?;
/// let params = Params::<f64>::init(net.layout(), &Init::Constant(1.0))?;
/// let config = TrainConfig::new(100, BatchSize::Full, BatchOrder::Sequential);
/// let sgd = optim::build("sgd", 0.01, params.len())?;
/// let lr = Box::new(Constant { lr: 0.01 });
/// let mut trainer = Trainer::new(&net, Loss::Mse, config, params, sgd, lr)?;
/// let outcome = trainer.run(&data, None, &mut [])?;
/// assert_eq!((outcome.epochs, outcome.steps), (100, 100));
/// assert!((trainer.params.values[0] - 2.0).abs() < 1e-4);
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Debug)]
pub struct Trainer<F: Float> {
    model: Sequential,
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
    /// Loss and gradient of a batch; chosen when a run starts.
    engine: Engine<F>,
    /// Between backward and the step (see [`GradientHook`]).
    hook: Option<Box<dyn GradientHook<F>>>,
    /// What `Event::Start` says besides the counters.
    start: RunStart,
    /// Best parameters, divergence and early-stopping counters.
    pub(super) watch: Watch<F>,
    /// Batches done in the current (unfinished) epoch, and the sum of their losses.
    pub(super) batch_in_epoch: usize,
    pub(super) loss_sum: f64,
    /// The optimizer's state before the first step (to reset it after a divergence).
    initial_optimizer_state: serde_json::Value,
    /// The worker threads of the current run ([`TrainConfig::thread_count_for`]).
    threads: usize,
}

impl<F: Float> std::fmt::Debug for dyn GradientHook<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GradientHook")
    }
}

/// Where the batches of a run come from: the in-memory table (with the fast paths) or a
/// [`BatchSource`].
enum Feed<'scope, 'env, 'src, F: Float> {
    Table(TableFeed<'scope, 'env, F>),
    Source(&'src mut dyn BatchSource<F>),
}

/// What a second thread does for the shuffled batches of a large table, whose time goes to
/// reading rows at random from memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Helper {
    /// Nothing: one thread, a small table, or batches in order.
    None,
    /// Gathers the next batches' rows into buffers ([`Gatherer`]): the linear kernel's
    /// batches of one chunk.
    Gather,
    /// Computes half of each batch's chunks ([`LinearPair`]): the linear kernel's batches
    /// of two chunks or more, read by both cores.
    Pair,
    /// Copies the rows of one-row updates block by block ([`BlockGatherer`]) for the epochs
    /// whose updates run fused in the linear kernel; the trainer reads the blocks that are
    /// not ready from the table.
    Blocks,
}

/// The in-memory table, its batches, this epoch's order and the thread that helps with it.
struct TableFeed<'scope, 'env, F: Float> {
    data: &'env TrainData<F>,
    batches: Batches,
    order: Arc<Vec<usize>>,
    helper: Helper,
    gatherer: Option<Gatherer<'scope, F>>,
    pair: Option<Box<LinearPair<'scope, 'env, F>>>,
    blocks: Option<Box<BlockGatherer<'scope, F>>>,
    /// Row numbers of a gathered batch or block, which holds its rows in order.
    identity: Vec<usize>,
    /// The run's threads: from two on, a large shuffle draws on a second thread.
    threads: usize,
}

impl<F: Float> Trainer<F> {
    /// A fresh run from `params` (the trainer keeps its own copy of `model`).
    pub fn new(
        model: &Sequential,
        loss: Loss,
        config: TrainConfig,
        params: Params<F>,
        mut optimizer: Box<dyn DynOptimizer<F>>,
        schedule: Box<dyn Scheduler>,
    ) -> Result<Self> {
        if params.layout != model.layout() {
            return Err(Error::State(
                "the parameters do not have the model's layout".into(),
            ));
        }
        config.validate()?;
        // Set again when a run starts and its batches are known.
        let threads = config.thread_count_for(crate::parallel::Work {
            batch_rows: 1,
            params: params.len(),
            table_bytes: 0,
        });
        optimizer.set_threads(threads);
        let grads = huge_filled(params.len(), F::zero());
        let params_values = params.values.clone();
        let initial_optimizer_state = optimizer.save_state();
        Ok(Trainer {
            model: model.clone(),
            loss,
            config,
            params,
            optimizer,
            schedule,
            epoch: 0,
            step: 0,
            grads,
            engine: Engine::Tape(Tape::new()),
            hook: None,
            start: RunStart::default(),
            watch: Watch::new(&params_values),
            batch_in_epoch: 0,
            loss_sum: 0.0,
            initial_optimizer_state,
            threads,
        })
    }

    /// Changes the epoch to stop at (to continue a finished or resumed run).
    pub fn set_epochs(&mut self, epochs: usize) {
        self.config.epochs = epochs;
    }

    /// Puts `hook` between backward and the optimizer step (see [`GradientHook`]).
    pub fn set_gradient_hook(&mut self, hook: Box<dyn GradientHook<F>>) {
        self.hook = Some(hook);
    }

    /// The gradient hook, if one is set: a data-parallel front end reaches its collective
    /// operations through it after training (the split final metrics).
    pub fn gradient_hook_mut(&mut self) -> Option<&mut (dyn GradientHook<F> + 'static)> {
        self.hook.as_deref_mut()
    }

    /// What `Event::Start` tells observers besides the counters: the run specification (as
    /// JSON) and the parameters' names.
    pub fn describe(&mut self, spec: Option<serde_json::Value>, param_names: Vec<String>) {
        self.start.spec = spec;
        self.start.param_names = param_names;
    }

    /// The model being trained.
    pub fn model(&self) -> &Sequential {
        &self.model
    }

    /// The loss being minimized.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The run's settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The worker threads of the current or last run: the config's count, else the one
    /// chosen from the run's work ([`TrainConfig::thread_count_for`]) when it started.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The flat gradient buffer of the last update.
    pub fn grads(&self) -> &[F] {
        &self.grads
    }

    /// Trains on the in-memory table `train` from the current epoch up to `config.epochs`,
    /// telling `observers` everything.
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
        self.check_features(train.x.ncols())?;
        let batches = Batches::new(train.n_rows(), self.config.batch, self.config.order.clone())?;
        self.threads = self.config.thread_count_for(crate::parallel::Work {
            batch_rows: batches.batch_size(),
            params: self.params.len(),
            table_bytes: train.x.len() * std::mem::size_of::<F>(),
        });
        self.optimizer.set_threads(self.threads);
        self.engine = Engine::choose(&self.model, self.loss, train.x.view(), self.threads);
        std::thread::scope(|scope| {
            let helper = self.helper(&batches, train);
            let feed = Feed::Table(TableFeed {
                data: train,
                identity: match helper {
                    Helper::Gather => (0..batches.batch_size()).collect(),
                    Helper::Blocks => (0..BLOCK_ROWS).collect(),
                    _ => Vec::new(),
                },
                // On huge pages when large: the shuffle swaps at random across it.
                order: Arc::new(huge_vec(train.n_rows())),
                batches,
                helper,
                gatherer: None,
                pair: None,
                blocks: None,
                threads: self.threads,
            });
            self.run_feed(scope, feed, &mut val.into(), observers)
        })
    }

    /// Trains on the batches of `source` (data that is not one in-memory table: a stream, a
    /// shard) through the same loop as [`Self::run`]; the batches must be row-major.
    pub fn run_source(
        &mut self,
        source: &mut dyn BatchSource<F>,
        val: Option<&TrainData<F>>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<Outcome> {
        self.run_source_validated(source, &mut val.into(), observers)
    }

    /// [`Self::run_source`] with the validation loss from `val`, which may be a stream.
    pub fn run_source_validated(
        &mut self,
        source: &mut dyn BatchSource<F>,
        val: &mut Validation<'_, F>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<Outcome> {
        self.check_features(source.n_features())?;
        // Batches handed over by a source are row-major: the kernels read them.
        let probe = ndarray::Array2::<F>::zeros((1, source.n_features()));
        // A source's data are not one table in memory (a stream, a shard): its work is not
        // known here, and it takes the count given or the machine's.
        self.threads = self.config.thread_count();
        self.optimizer.set_threads(self.threads);
        self.engine = Engine::choose(&self.model, self.loss, probe.view(), self.threads);
        // A data-parallel rank of the linear kernels computes its own chunks of each batch
        // and reads no other row: the source may skip the others.
        let shard = self.hook.as_ref().and_then(|h| h.shard());
        let linear = matches!(self.engine, Engine::Linear(_));
        source.only_chunks(shard.filter(|_| linear).map(|s| (s.rank, s.size)));
        let outcome =
            std::thread::scope(|scope| self.run_feed(scope, Feed::Source(source), val, observers));
        source.only_chunks(None);
        outcome
    }

    fn run_feed<'scope, 'env>(
        &mut self,
        scope: &'scope Scope<'scope, 'env>,
        mut feed: Feed<'scope, 'env, '_, F>,
        val: &mut Validation<'_, F>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<Outcome> {
        if let Some(d) = val.n_features() {
            self.check_features(d)?;
        }
        let start = RunStart {
            from_epoch: self.epoch,
            epochs: self.config.epochs,
            steps_per_epoch: feed.steps_per_epoch(),
            n_params: self.params.len(),
            engine: self.engine.name().to_string(),
            ..self.start.clone()
        };
        let stop = broadcast(observers, &Event::Start(&start))?;
        let (stop, last) = self.epochs(scope, &mut feed, val, observers, stop)?;
        let outcome = Outcome {
            stop: stop.unwrap_or(Stop::Completed),
            epochs: self.epoch,
            steps: self.step,
            last,
            lr_scale: self.watch.lr_scale,
            best_epoch: self.watch.best_epoch,
        };
        broadcast(observers, &Event::End(&outcome, &self.params.values))?;
        Ok(outcome)
    }

    /// The epochs of a run; returns why they ended (`None`: all ran) and the last epoch's
    /// record.
    fn epochs<'scope, 'env>(
        &mut self,
        scope: &'scope Scope<'scope, 'env>,
        feed: &mut Feed<'scope, 'env, '_, F>,
        val: &mut Validation<'_, F>,
        observers: &mut [&mut dyn Observer<F>],
        mut stop: Option<Stop>,
    ) -> Result<(Option<Stop>, Option<EpochRecord>)> {
        let mut last = None;
        let steps = feed.steps_per_epoch();
        let wants_steps = observers.iter().any(|o| o.step_events() > StepEvents::None);
        'epochs: while stop.is_none() && self.epoch < self.config.epochs {
            if self.batch_in_epoch == 0 {
                self.watch.epoch_start.copy_from_slice(&self.params.values);
            }
            let epoch = self.epoch + 1;
            let mut record = None;
            let fused = self.fuses_per_sample_steps(feed, observers);
            let kernel = self.engine.linear().map(|k| &*k);
            feed.begin_epoch(scope, self.epoch, self.batch_in_epoch, fused, kernel)?;
            while self.batch_in_epoch < steps {
                if fused {
                    // The updates up to the next one the observers see (every
                    // STEP_EVENT_INTERVAL-th, and the epoch's last, whose gradient the epoch
                    // reports) run fused in the kernel; it stops early at a row whose loss is
                    // not finite, which the code below then meets as usual.
                    let next =
                        (self.batch_in_epoch / STEP_EVENT_INTERVAL + 1) * STEP_EVENT_INTERVAL;
                    if let Feed::Table(t) = feed {
                        self.descend_rows(t, next.min(steps) - 1);
                    }
                }
                // The gradient norm is a sequential sum over every parameter: computed only
                // when someone sees it (observers that want this step, clipping, the
                // epoch's record).
                let last_batch = self.batch_in_epoch + 1 == steps;
                let see_step = wants_steps && observers.iter().any(|o| wants_this_step(&**o));
                let need_norm = see_step || self.config.clip_norm.is_some() || last_batch;
                let step = self.next_update(feed, epoch, need_norm)?;
                if !step.loss.is_finite() {
                    let cause = format!("the loss became {}", step.loss);
                    if let Some(s) = self.diverged(epoch, step.step, step.loss, cause, true) {
                        stop = Some(s);
                        break 'epochs;
                    }
                    feed.end_epoch();
                    continue 'epochs;
                }
                self.loss_sum += step.loss;
                self.batch_in_epoch += 1;
                if see_step {
                    let event = Event::Step(&step, &self.params.values);
                    if let Some(s) = broadcast_steps(observers, &event)? {
                        stop = Some(s);
                    }
                }
                if self.config.schedule_per == SchedulePer::Step {
                    self.schedule.step(step.loss);
                }
                record = Some(step);
                if stop.is_some() && self.batch_in_epoch < steps {
                    break 'epochs; // stopped mid-epoch: the position is kept for a checkpoint
                }
            }
            feed.end_epoch();
            let Some(step) = record else { break };
            let val_loss = val.loss(&self.model, self.loss, &self.params)?;
            let mut loss = self.loss_sum / self.batch_in_epoch as f64;
            if let Some(h) = &mut self.hook {
                h.on_epoch_loss(epoch, &mut loss)?;
            }
            let rec = EpochRecord {
                epoch,
                step: step.step,
                loss,
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
            if observers.iter().any(|o| o.wants_effective_steps()) {
                let steps = self.optimizer.effective_steps(rec.lr);
                if let Some(q) = steps.and_then(|mut v| StepQuantiles::of(&mut v)) {
                    for o in observers.iter_mut().filter(|o| o.wants_effective_steps()) {
                        o.on_effective_steps(epoch, &q)?;
                    }
                }
            }
            if observers.iter().any(|o| o.wants_checkpoint(epoch)) {
                let checkpoint = self.checkpoint();
                for o in observers.iter_mut().filter(|o| o.wants_checkpoint(epoch)) {
                    o.on_checkpoint(&checkpoint)?;
                }
            }
            last = Some(rec);
        }
        feed.end_epoch();
        Ok((stop, last))
    }

    /// The update on the feed's next batch.
    fn next_update(
        &mut self,
        feed: &mut Feed<'_, '_, '_, F>,
        epoch: usize,
        need_norm: bool,
    ) -> Result<StepRecord> {
        match feed {
            Feed::Table(t) if t.pair.is_some() => {
                let (pair, i) = (t.pair.as_mut().expect("checked above"), self.batch_in_epoch);
                let kernel = self
                    .engine
                    .linear()
                    .ok_or_else(|| Error::State("a paired batch needs the linear kernel".into()))?;
                let loss = pair
                    .loss_and_grad(kernel, &self.params.values, i, &mut self.grads)?
                    .f64();
                self.step_after(loss, epoch, need_norm)
            }
            Feed::Table(t) => {
                let gathered = t.gathered(self.batch_in_epoch)?;
                let step = match &gathered {
                    Some(b) => self.update(
                        b.x(),
                        b.y(),
                        &t.identity[..b.n_rows()],
                        false,
                        epoch,
                        need_norm,
                    ),
                    None => self.update(
                        t.data.x.view(),
                        t.data.y.view(),
                        t.batches.batch(&t.order, self.batch_in_epoch),
                        t.batches.is_full_in_order(),
                        epoch,
                        need_norm,
                    ),
                };
                if let (Some(g), Some(b)) = (&t.gatherer, gathered) {
                    g.recycle(b);
                }
                step
            }
            Feed::Source(source) => {
                let Some(b) = source.next_batch()? else {
                    return Err(Error::Data(format!(
                        "the batch source ended epoch {epoch} after {} of its {} batches",
                        self.batch_in_epoch,
                        source.steps_per_epoch()
                    )));
                };
                b.check()?;
                self.update(b.x, b.y, b.rows, b.whole, epoch, need_norm)
            }
        }
    }

    /// What a second thread does for this run's batches ([`Helper`]): for shuffled batches
    /// of the linear kernel, whose time goes to reading rows at random from a table larger
    /// than the caches, when a thread is to spare, it computes half of each batch (two
    /// chunks or more) or gathers the next batches (one chunk). (The MLP's matrix products
    /// and the tape do enough work per row to hide that wait.) A run with a gradient hook
    /// (data-parallel) computes its own share of each batch's chunks: it may take the
    /// gatherer, never the pair.
    ///
    /// One-row updates on a large table, in any order, take the block gatherer: one core
    /// streams a table at about 15 GB/s here, and the chain of dependent steps leaves most of
    /// that core's time to arithmetic (P3: 10^6 x 100 `f64` in order, 69 ms an epoch alone,
    /// 60-64 ms with the blocks; the arithmetic alone, from the caches, takes about 55).
    fn helper(&self, batches: &Batches, train: &TrainData<F>) -> Helper {
        let b = batches.batch_size();
        let large = matches!(self.engine, Engine::Linear(_))
            && self.threads >= 2
            && train.y.is_standard_layout()
            && std::mem::size_of_val(train.x.as_slice().unwrap_or(&[])) >= GATHER_MIN_TABLE_BYTES;
        let shuffled = !matches!(self.config.order, BatchOrder::Sequential);
        match b {
            _ if !large || b >= train.n_rows() => Helper::None,
            1 => Helper::Blocks,
            _ if !shuffled || b < GATHER_MIN_BATCH => Helper::None,
            _ if self.hook.is_none() && LinearKernel::<F>::chunk_count(b) >= 2 => Helper::Pair,
            _ => Helper::Gather,
        }
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
        let rose = w.observe_train_loss(rec.loss, rule);
        if let Some(cause) = rose.filter(|_| rule.on_divergence != OnDivergence::Continue) {
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
            self.watch.restart_divergence_window();
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

    fn check_features(&self, n_features: usize) -> Result<()> {
        if n_features != self.model.n_in() {
            return Err(Error::ShapeMismatch {
                op: "training data features vs model inputs",
                lhs: vec![n_features],
                rhs: vec![self.model.n_in()],
            });
        }
        Ok(())
    }

    /// Whether this epoch's one-row updates can run fused in the linear kernel
    /// ([`LinearKernel::descend_rows`](crate::kernels::LinearKernel::descend_rows)): the
    /// in-memory table on the linear kernel, one-row batches, a plain SGD step, and nothing
    /// that looks at or changes anything between two updates (an observer that wants every
    /// step, a gradient hook, clipping, a schedule stepped per update or cycling the
    /// momentum).
    fn fuses_per_sample_steps(
        &self,
        feed: &Feed<'_, '_, '_, F>,
        observers: &[&mut dyn Observer<F>],
    ) -> bool {
        matches!(feed, Feed::Table(t) if t.batches.batch_size() == 1)
            && matches!(self.engine, Engine::Linear(_))
            && !observers
                .iter()
                .any(|o| o.step_events() == StepEvents::Every)
            && self.hook.is_none()
            && self.config.clip_norm.is_none()
            && self.config.clip_value.is_none()
            && self.config.schedule_per == SchedulePer::Epoch
            && self.schedule.momentum().is_none()
            && self.optimizer.is_plain_step()
    }

    /// Fused one-row updates on the epoch's order from position `self.batch_in_epoch` up to
    /// `end` (not included), counted as the loop counts its updates; stops before a row
    /// whose loss is not finite. With a block gatherer, each block's rows come from its copy
    /// when it is ready and from the table otherwise: the same rows in the same order, so
    /// the same numbers.
    fn descend_rows(&mut self, t: &mut TableFeed<'_, '_, F>, end: usize) {
        let Some(kernel) = self.engine.linear() else {
            return;
        };
        // The schedule and the divergence scale change only between epochs here.
        let lr = self.schedule.lr() * self.watch.lr_scale;
        let (params, loss_sum) = (&mut self.params.values, &mut self.loss_sum);
        let (x, y) = (t.data.x.view(), t.data.y.view());
        while self.batch_in_epoch < end {
            let at = self.batch_in_epoch;
            let (stop, done) = match &mut t.blocks {
                None => {
                    let rows = &t.order[at..end];
                    (end, kernel.descend_rows(params, x, y, rows, lr, loss_sum))
                }
                Some(blocks) => {
                    let q = at / BLOCK_ROWS;
                    let stop = end.min((q + 1) * BLOCK_ROWS);
                    let start = blocks.is_judged().then(Instant::now);
                    let (gathered, done) = match blocks.block(q) {
                        Some(b) => {
                            let rows = &t.identity[at - q * BLOCK_ROWS..stop - q * BLOCK_ROWS];
                            let done =
                                kernel.descend_rows(params, b.x(), b.y(), rows, lr, loss_sum);
                            (true, done)
                        }
                        None => {
                            let rows = &t.order[at..stop];
                            (false, kernel.descend_rows(params, x, y, rows, lr, loss_sum))
                        }
                    };
                    if let Some(start) = start {
                        blocks.timed(gathered, done, start.elapsed());
                    }
                    (stop, done)
                }
            };
            self.step += done;
            self.batch_in_epoch += done;
            if self.batch_in_epoch < stop {
                return; // before a row whose loss is not finite
            }
        }
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
        let shard = self.hook.as_ref().and_then(|h| h.shard());
        let loss = match (shard, &mut self.hook) {
            (Some(shard), Some(hook)) => self.engine.shard_loss_and_grad(
                &self.model,
                self.loss,
                &self.params,
                x,
                y,
                rows,
                whole,
                &mut self.grads,
                shard,
                hook.as_mut(),
            )?,
            _ => self.engine.loss_and_grad(
                &self.model,
                self.loss,
                &self.params,
                x,
                y,
                rows,
                whole,
                &mut self.grads,
            )?,
        };
        self.step_after(loss, epoch, need_norm)
    }

    /// The rest of an update once the batch's `loss` and gradient (in `self.grads`) are
    /// known: the gradient hook, clipping and the optimizer's step.
    fn step_after(&mut self, mut loss: f64, epoch: usize, need_norm: bool) -> Result<StepRecord> {
        let lr = self.schedule.lr() * self.watch.lr_scale;
        if let Some(m) = self.schedule.momentum() {
            self.optimizer.set_momentum(m);
        }
        if let Some(h) = &mut self.hook {
            h.on_gradient(self.step + 1, &mut loss, &mut self.grads)?;
        }
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

impl<'scope, 'env, F: Float> Feed<'scope, 'env, '_, F> {
    fn steps_per_epoch(&self) -> usize {
        match self {
            Feed::Table(t) => t.batches.steps_per_epoch(),
            Feed::Source(s) => s.steps_per_epoch(),
        }
    }

    /// Positions the feed at batch `index` of epoch `epoch` (from 0); for the table, starts
    /// its helper (unless the epoch runs fused): the pair computes with a copy of `kernel`.
    fn begin_epoch(
        &mut self,
        scope: &'scope Scope<'scope, 'env>,
        epoch: usize,
        index: usize,
        fused: bool,
        kernel: Option<&LinearKernel<F>>,
    ) -> Result<()> {
        match self {
            Feed::Table(t) => {
                // The previous epoch's helper has let go of the order: no copy is made.
                let threads = t.threads;
                t.batches
                    .epoch_order_on(epoch, Arc::make_mut(&mut t.order), threads)?;
                let (x, y) = (t.data.x.view(), t.data.y.view());
                let (order, size) = (Arc::clone(&t.order), t.batches.batch_size());
                match (t.helper, kernel) {
                    (Helper::Blocks, _) if fused => {
                        let (first, mode) = (index / BLOCK_ROWS, BlockMode::from_env());
                        if mode != BlockMode::Off {
                            let judged = mode == BlockMode::Judged;
                            let g = BlockGatherer::spawn(scope, x, y, order, first, judged)?;
                            t.blocks = Some(Box::new(g));
                        }
                    }
                    _ if fused => {}
                    (Helper::Gather, _) => {
                        t.gatherer = Some(Gatherer::spawn(scope, x, y, order, size, index)?);
                    }
                    (Helper::Pair, Some(k)) => {
                        t.pair = Some(Box::new(LinearPair::spawn(scope, k, x, y, order, size)?));
                    }
                    _ => {}
                }
                Ok(())
            }
            Feed::Source(s) => s.seek(epoch, index),
        }
    }

    /// Ends the epoch (stops the helper).
    fn end_epoch(&mut self) {
        if let Feed::Table(t) = self {
            t.gatherer = None;
            t.pair = None;
            t.blocks = None;
        }
    }
}

impl<F: Float> TableFeed<'_, '_, F> {
    /// Batch `i` from the gatherer, if the gatherer takes it.
    fn gathered(&mut self, i: usize) -> Result<Option<GatheredBatch<F>>> {
        match &mut self.gatherer {
            Some(g) if gather::takes(i) => Ok(Some(g.next_batch()?)),
            _ => Ok(None),
        }
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

/// Whether `o` wants the next update's step event: every one, or a sampled one now.
fn wants_this_step<F: Float>(o: &dyn Observer<F>) -> bool {
    match o.step_events() {
        StepEvents::None => false,
        StepEvents::Sparse => o.wants_next_step(),
        StepEvents::Every => true,
    }
}

/// Sends a step event to the observers that asked for steps.
fn broadcast_steps<F: Float>(
    observers: &mut [&mut dyn Observer<F>],
    event: &Event<'_, F>,
) -> Result<Option<Stop>> {
    let mut stop = None;
    for o in observers
        .iter_mut()
        .filter(|o| o.step_events() > StepEvents::None)
    {
        if let Signal::Stop(reason) = o.on_event(event)? {
            stop.get_or_insert(Stop::Stopped { reason });
        }
    }
    Ok(stop)
}
