//! The front door: a [`RunSpec`] in, a trained [`Model`] out.
//!
//! [`fit`] is the whole of it for most uses; [`Run`] is the same in steps (build, restore a
//! checkpoint, train with observers, take the model), for front ends that watch, save or
//! resume a run.
//!
//! ```
//! # fn main() -> descent::Result<()> {
//! let spec = descent::RunSpec::builtin("diabetes")
//!     .scale(descent::data::Scaling::Standard)
//!     .optimizer("sgd", 0.05).batch(32).epochs(30).seed(7);
//! let fitted = descent::fit(&spec)?;
//! assert!(fitted.report.train.r2.unwrap() > 0.4);
//! assert_eq!(fitted.history.records.len(), 30);
//! # Ok(()) }
//! ```

pub mod checkpoint_file;
mod report;
mod share;
mod spec;
mod streaming;
pub use share::{Alone, ShareStats};
pub use streaming::StreamReport;
mod verdict;

use std::time::Instant;

pub use report::{Report, SplitMetrics};
pub use spec::{
    check_loss_fits_model, DataSpec, RunSpec, StreamSpec, DEFAULT_SHUFFLE_BUFFER, RUN_SPEC_VERSION,
};
pub use verdict::{FitCheck, FALLING, GAP};

use crate::data::BatchSource;
use crate::data::{split_rows, Dataset, Scaler, TargetKind, TrainData};
use crate::loss::Loss;
use crate::model::Model;
use crate::nn::{ModelKind, Sequential};
use crate::optim::GroupOptions;
use crate::params::{scalar_names, Params};
use crate::schedule::{Constant, Scheduler};
use crate::train::{
    Checkpoint, EpochRecord, Event, History, Observer, Outcome, SchedulePer, Signal, Trainer,
    Validation,
};
use crate::{DType, Error, Float, Result};
use ndarray::{Array2, ArrayView2};

/// A trained model with how its training went.
#[derive(Clone, Debug)]
pub struct Fitted {
    pub model: Model,
    pub outcome: Outcome,
    pub history: History<f64>,
    pub report: Report,
    /// Wall-clock seconds, data reading included.
    pub seconds: f64,
}

/// Trains the run `spec` describes, in its precision, and returns the model.
pub fn fit(spec: &RunSpec) -> Result<Fitted> {
    fit_with(spec, |_| Ok(Signal::Continue))
}

/// [`fit`], telling `on_epoch` every epoch's record (it may stop the run with
/// [`Signal::Stop`]): progress, logging, a callback from another language.
///
/// ```
/// use descent::train::Signal;
/// # fn main() -> descent::Result<()> {
/// let spec = descent::RunSpec::builtin("classic").optimizer("sgd", 0.05).epochs(500);
/// let fitted = descent::fit_with(&spec, |r| {
///     Ok(if r.loss < 1e-6 { Signal::Stop("close enough".into()) } else { Signal::Continue })
/// })?;
/// assert!(fitted.outcome.epochs < 500);
/// # Ok(()) }
/// ```
pub fn fit_with(
    spec: &RunSpec,
    on_epoch: impl FnMut(&EpochRecord) -> Result<Signal>,
) -> Result<Fitted> {
    match spec.dtype {
        DType::F64 => fit_in::<f64>(spec, on_epoch),
        DType::F32 => fit_in::<f32>(spec, on_epoch),
    }
}

fn fit_in<F: Float>(
    spec: &RunSpec,
    mut on_epoch: impl FnMut(&EpochRecord) -> Result<Signal>,
) -> Result<Fitted> {
    let started = Instant::now();
    let mut run = Run::<F>::new(spec.clone())?;
    let mut records = History::<F>::new();
    let mut callback = |e: &Event<'_, F>| match e {
        Event::Epoch(r, _) => on_epoch(r),
        _ => Ok(Signal::Continue),
    };
    let outcome = run.train(&mut [&mut records, &mut callback])?;
    let mut history = History::continuing(records.records);
    history.outcome = records.outcome;
    Ok(Fitted {
        model: run.model(),
        report: run.report()?,
        history,
        outcome,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A run built from its specification: the data read, split and scaled, the model and its
/// optimizer and schedule ready, in precision `F`.
#[derive(Debug)]
pub struct Run<F: Float> {
    spec: RunSpec,
    /// The training split after scaling (and its names and labels); for a run built by
    /// [`Run::from_features`], without the features (`x` is `rows x 0`: the features are
    /// only in [`Run::train_data`]).
    pub train_set: Dataset,
    /// The validation split after scaling, if the spec holds one out (as `train_set`).
    pub val_set: Option<Dataset>,
    /// Fitted on the training split.
    pub scaler: Scaler,
    /// Of the targets, fitted on the training split (`Scaler::None` unless the spec's
    /// `scale_target` asks for one); the splits above hold the scaled targets.
    pub target_scaler: Scaler,
    pub trainer: Trainer<F>,
    train_data: TrainData<F>,
    val_data: Option<TrainData<F>>,
    /// The validation rows of a streamed run with a split ([`Run::streaming`]).
    val_stream: Option<streaming::ValStream<F>>,
}

impl<F: Float> Run<F> {
    /// Reads the data the spec names and builds the run.
    pub fn new(spec: RunSpec) -> Result<Self> {
        spec.validate()?;
        let data = load_data::<F>(&spec.data, &spec.model, spec.loss)?;
        Self::from_dataset(spec, data)
    }

    /// Builds the run on data already in memory (unscaled); the spec's data source is only
    /// a name then.
    pub fn from_dataset(spec: RunSpec, data: Dataset) -> Result<Self> {
        spec.validate()?;
        let loss = spec.loss_for(&data);
        check_labels(&spec.data.source.describe(), &data, loss)?;
        let (mut train, mut val) = data.into_split(spec.data.val_fraction, spec.seed)?;
        let scaler = Scaler::fit(spec.scale, &train.x);
        scaler.transform(&mut train.x)?;
        if let Some(v) = &mut val {
            scaler.transform(&mut v.x)?;
        }
        // `validate` refused a target scaling for classes.
        let target_scaler = Scaler::fit(spec.scale_target, &train.y);
        target_scaler.transform(&mut train.y)?;
        if let Some(v) = &mut val {
            target_scaler.transform(&mut v.y)?;
        }
        let train_data = TrainData::<F>::from_dataset(&train);
        let val_data = val.as_ref().map(TrainData::from_dataset);
        let steps = steps_per_epoch(&spec, train.n_rows())?;
        Self::assemble(
            spec,
            (train, val),
            (train_data, val_data),
            (scaler, target_scaler),
            steps,
        )
    }

    /// Builds the run on features borrowed from elsewhere (a numpy array), of any float type
    /// `S` and any memory layout, with their targets `y` (unscaled: class indices when
    /// `classes` names them) and names. The same run as [`Run::from_dataset`] on the same
    /// values (the same scaler, split, table and numbers), but the training table is built in
    /// the run's precision straight from `x`: the scaler reads the training rows (twice for
    /// `standard`: means, then deviations) and one more pass scales and converts them, so no
    /// f64 copy of the features is ever made.
    ///
    /// The run's [`train_set`](Run::train_set) and [`val_set`](Run::val_set) then hold the
    /// targets, names and labels but no features (`x` is `rows x 0`); [`Run::check_fit`],
    /// which needs them, says so.
    pub fn from_features<S: Copy + Into<f64>>(
        spec: RunSpec,
        x: ArrayView2<'_, S>,
        y: Array2<f64>,
        feature_names: Vec<String>,
        target_names: Vec<String>,
        classes: Option<Vec<String>>,
    ) -> Result<Self> {
        spec.validate()?;
        let n = x.nrows();
        // The names, labels and targets without the features (`n x 0`: nothing allocated),
        // checked as a data set is.
        let mut meta = Dataset::new(Array2::zeros((n, 0)), y, Vec::new(), target_names)?;
        if x.ncols() != feature_names.len() {
            return Err(Error::Data(format!(
                "{} feature columns but {} feature names",
                x.ncols(),
                feature_names.len()
            )));
        }
        meta.feature_names = feature_names;
        meta.classes = classes;
        let loss = spec.loss_for(&meta);
        check_labels(&spec.data.source.describe(), &meta, loss)?;
        let split = split_rows(n, spec.data.val_fraction, spec.seed)?;
        let (train_rows, val_rows) = match &split {
            None => (None, None),
            Some((t, v)) => (Some(t.as_slice()), Some(v.as_slice())),
        };
        let scaler = Scaler::fit_rows(spec.scale, x, train_rows);
        let target_scaler = Scaler::fit_rows(spec.scale_target, meta.y.view(), train_rows);
        let scalers = (&scaler, &target_scaler);
        let train_data = TrainData::<F>::scaled_rows(x, meta.y.view(), train_rows, scalers);
        let val_data =
            val_rows.map(|rows| TrainData::<F>::scaled_rows(x, meta.y.view(), Some(rows), scalers));
        let (mut train, mut val) = match &split {
            None => (meta, None),
            Some((t, v)) => (meta.select(t), Some(meta.select(v))),
        };
        target_scaler.transform(&mut train.y)?;
        if let Some(v) = &mut val {
            target_scaler.transform(&mut v.y)?;
        }
        let steps = steps_per_epoch(&spec, train.n_rows())?;
        Self::assemble(
            spec,
            (train, val),
            (train_data, val_data),
            (scaler, target_scaler),
            steps,
        )
    }

    /// Builds the model, optimizer, schedule and trainer of a run on prepared data
    /// (`steps`: updates per epoch).
    fn assemble(
        spec: RunSpec,
        (train, val): (Dataset, Option<Dataset>),
        (train_data, val_data): (TrainData<F>, Option<TrainData<F>>),
        (scaler, target_scaler): (Scaler, Scaler),
        steps: usize,
    ) -> Result<Self> {
        let loss = spec.loss_for(&train);
        // The names, not `x`: a run from borrowed features keeps no f64 features.
        let model = spec
            .model
            .build(train.feature_names.len(), n_outputs(loss, &train))?;
        let params = Params::<F>::init(model.layout(), &spec.resolved_init())?;
        let groups = params
            .layout
            .views()
            .iter()
            .map(|v| {
                let wd = (spec.no_decay_bias && v.is_bias()).then_some(0.0);
                (v.range(), GroupOptions { weight_decay: wd })
            })
            .collect();
        let optimizer = spec.optimizer.build::<F>(groups)?;
        let lr = spec.lr()?;
        let config = spec.train_config();
        let schedule_steps = match config.schedule_per {
            SchedulePer::Epoch => config.epochs,
            SchedulePer::Step => config.epochs * steps,
        };
        let schedule: Box<dyn Scheduler> = match &spec.schedule {
            Some(s) => s.build(lr, optimizer.momentum(), schedule_steps)?,
            None => Box::new(Constant { lr }),
        };
        let names = scalar_names(&params.layout, &train.feature_names);
        let mut trainer = Trainer::new(&model, loss, config, params, optimizer, schedule)?;
        let spec_json = serde_json::to_value(&spec)
            .map_err(|e| Error::State(format!("cannot serialize the run specification: {e}")))?;
        trainer.describe(Some(spec_json), names);
        Ok(Run {
            val_data,
            val_stream: None,
            train_data,
            train_set: train,
            val_set: val,
            scaler,
            target_scaler,
            trainer,
            spec,
        })
    }

    /// The specification the run was built from.
    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    /// Continues from a checkpoint of the same run; `epochs` (the spec's, or a new total)
    /// must not be below the checkpoint's epoch.
    pub fn restore(&mut self, checkpoint: &Checkpoint<F>) -> Result<()> {
        if checkpoint.epoch > self.spec.epochs {
            return Err(Error::State(format!(
                "the checkpoint is at epoch {}, beyond the run's {} epochs",
                checkpoint.epoch, self.spec.epochs
            )));
        }
        self.trainer.restore(checkpoint)
    }

    /// The worker threads of the current or last training: the spec's count, else the one
    /// chosen from the run's work ([`crate::parallel::threads_for`]).
    pub fn threads(&self) -> usize {
        self.trainer.threads()
    }

    /// Trains up to the spec's epochs, telling `observers` everything.
    pub fn train(&mut self, observers: &mut [&mut dyn Observer<F>]) -> Result<Outcome> {
        self.trainer
            .run(&self.train_data, self.val_data.as_ref(), observers)
    }

    /// Trains on the batches of `source` instead of the in-memory table (a stream, a
    /// shard), validating on the spec's held-out rows (in memory, or streamed).
    pub fn train_source(
        &mut self,
        source: &mut dyn BatchSource<F>,
        observers: &mut [&mut dyn Observer<F>],
    ) -> Result<Outcome> {
        let mut val = match &mut self.val_stream {
            Some(v) => Validation::Source(&mut v.0),
            None => self.val_data.as_ref().into(),
        };
        self.trainer
            .run_source_validated(source, &mut val, observers)
    }

    /// Rows of the streamed validation part (0: none streamed).
    pub fn val_stream_rows(&self) -> u64 {
        self.val_stream.as_ref().map_or(0, |v| v.0.n_rows())
    }

    /// The stream of validation rows of a streamed run with a split.
    pub fn val_stream(&mut self) -> Option<&mut crate::data::parquet::ParquetBatches<F>> {
        self.val_stream.as_mut().map(|v| &mut v.0)
    }

    /// The training table in the run's precision.
    pub fn train_data(&self) -> &TrainData<F> {
        &self.train_data
    }

    /// The validation table in the run's precision.
    pub fn val_data(&self) -> Option<&TrainData<F>> {
        self.val_data.as_ref()
    }

    /// The model with the trainer's current parameters.
    pub fn model(&self) -> Model {
        Model::new(
            self.spec.model.clone(),
            self.trainer.model().clone(),
            self.trainer.loss(),
            self.train_set.feature_names.clone(),
            self.train_set.target_names.clone(),
            self.train_set.classes.clone(),
            self.scaler.clone(),
            &self.trainer.params,
        )
        .with_target_scaler(self.target_scaler.clone())
        .with_one_hot(self.train_set.one_hot.clone())
    }

    /// Final metrics on the training and validation data at the current parameters: the
    /// loss as training saw it, mse and R² in the targets' own units.
    pub fn report(&self) -> Result<Report> {
        let (net, loss, p) = (
            self.trainer.model(),
            self.trainer.loss(),
            &self.trainer.params,
        );
        let t = &self.target_scaler;
        Ok(Report {
            train: SplitMetrics::with_target_scaler(net, loss, p, &self.train_data, t)?,
            val: self
                .val_data
                .as_ref()
                .map(|v| SplitMetrics::with_target_scaler(net, loss, p, v, t))
                .transpose()?,
        })
    }
}

/// The updates per epoch, which only a schedule stepped per update needs (0 otherwise).
fn steps_per_epoch(spec: &RunSpec, rows: usize) -> Result<usize> {
    let config = spec.train_config();
    Ok(match config.schedule_per {
        SchedulePer::Epoch => 0,
        SchedulePer::Step => {
            crate::data::Batches::new(rows, config.batch, config.order.clone())?.steps_per_epoch()
        }
    })
}

/// Classes for a classification loss, real numbers otherwise.
pub fn target_kind(loss: Loss) -> TargetKind {
    if loss.is_classification() {
        TargetKind::Classes
    } else {
        TargetKind::Real
    }
}

/// Outputs of the network: one logit for binary classification, one per class for
/// cross-entropy, else one per target.
pub fn n_outputs(loss: Loss, data: &Dataset) -> usize {
    match (loss, data.n_classes()) {
        (Loss::BceWithLogits, _) => 1,
        (Loss::CrossEntropy, Some(k)) => k,
        _ => data.target_names.len(),
    }
}

/// Binary classification needs exactly two labels, and numeric labels must be 0 and 1;
/// `source` names the data in the message.
pub fn check_labels(source: &str, data: &Dataset, loss: Loss) -> Result<()> {
    let (Some(classes), Loss::BceWithLogits) = (&data.classes, loss) else {
        return Ok(());
    };
    let target = &data.target_names[0];
    if classes.len() != 2 {
        return Err(Error::Data(format!(
            "{source}: binary classification needs exactly 2 distinct labels in `{target}`, found {}: {}",
            classes.len(),
            classes.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let numeric: Option<Vec<f64>> = classes.iter().map(|c| c.parse().ok()).collect();
    if let Some(n) = numeric {
        if n != [0.0, 1.0] {
            return Err(Error::Data(format!(
                "{source}: logistic regression needs labels 0 and 1 in `{target}`, found {} and {}; recode them, or use a softmax model",
                classes[0], classes[1]
            )));
        }
    }
    Ok(())
}

/// The network a spec builds for `data` (for front ends that only need the shape).
pub fn network(spec: &RunSpec, data: &Dataset) -> Result<Sequential> {
    spec.model
        .build(data.n_features(), n_outputs(spec.loss_for(data), data))
}

/// Reads the data of a run on `model` with `loss` (`None`: the model's default), in
/// precision `F`: class labels for a classification loss, numbers otherwise.
///
/// Labels that are text decide for an MLP without a loss: they are read as classes (and
/// [`RunSpec::loss_for`] picks BCE for 2 classes, cross-entropy for more). For another
/// model, or a regression loss, they are an error naming the model or loss that fits them.
/// Numeric labels are read as numbers, as they always were.
pub fn load_data<F: Float>(
    data: &DataSpec,
    model: &ModelKind,
    loss: Option<Loss>,
) -> Result<Dataset> {
    let (columns, options) = (data.columns(), data.read_options());
    let kind = target_kind(loss.unwrap_or_else(|| model.default_loss(None)));
    let first = data.source.load_with::<F>(&columns, kind, &options);
    let error = match first {
        Err(e) if kind == TargetKind::Real => e,
        done => return done,
    };
    // Did the labels fail as numbers? Read them as classes to see.
    let Ok(labelled) = data
        .source
        .load_with::<F>(&columns, TargetKind::Classes, &options)
    else {
        return Err(error);
    };
    // Labels when no label is a number (`2` beside `abc` is a typo in a number column).
    let classes = labelled.classes.clone().unwrap_or_default();
    let text = |c: &String| c.parse::<f64>().is_err() && !crate::data::is_missing(c);
    if !classes.iter().all(text) {
        return Err(error);
    }
    let is_mlp = matches!(model, ModelKind::Mlp { .. });
    if is_mlp && loss.is_none() {
        return Ok(labelled);
    }
    let k = classes.len();
    let shown: Vec<&str> = classes.iter().take(6).map(String::as_str).collect();
    let more = if k > 6 { ", ..." } else { "" };
    let fix = match (is_mlp, k) {
        (true, 2) => "train with loss bce-with-logits, or leave the loss out (an mlp's loss follows the labels)",
        (true, _) => "train with loss cross-entropy, or leave the loss out (an mlp's loss follows the labels)",
        (false, 2) => "use a logistic model (or an mlp, whose loss follows the labels)",
        (false, _) => "use a softmax model (or an mlp, whose loss follows the labels)",
    };
    Err(Error::Data(format!(
        "{}: the target `{}` holds class labels ({k}: {}{more}), not numbers; {fix}",
        data.source.describe(),
        labelled.target_names[0],
        shown.join(", ")
    )))
}
