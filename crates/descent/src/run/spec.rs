//! [`RunSpec`]: everything a training run is (data and columns, model, loss, optimizer,
//! schedule, batching, scaling, seed, stopping rules), as one serde value.
//!
//! Front ends build it (the CLI from its flags, the Python package from keyword arguments,
//! the board's playground from JSON); checkpoints and `summary.json` store it, so that a run
//! can be rebuilt without re-reading a command line. The format is versioned
//! ([`RUN_SPEC_VERSION`]); unknown fields are errors.

use serde::{Deserialize, Serialize};

use crate::data::{
    BatchOrder, BatchSize, Columns, DataSource, Dataset, Delimiter, OneHotColumns, OneHotMode,
    ReadOptions, Scaling, DEFAULT_MAX_CATEGORIES,
};
use crate::loss::Loss;
use crate::nn::ModelKind;
use crate::optim::{GroupOptions, OptimizerSpec};
use crate::params::Init;
use crate::schedule::ScheduleSpec;
use crate::train::{DivergenceRule, EarlyStopping, SchedulePer, TrainConfig};
use crate::{DType, Error, Result};

/// The version of the run specification this release writes and reads.
pub const RUN_SPEC_VERSION: u32 = 1;

/// Where the data comes from and which columns are used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// A CSV file or `builtin:NAME`.
    pub source: DataSource,
    /// Target column(s); `None`: the last column.
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    /// Feature columns; `None`: every other column.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Drop rows with a missing value instead of stopping at the first one.
    #[serde(default)]
    pub drop_missing: bool,
    /// The fraction of rows held out for validation (a seeded split), in `[0, 1)`.
    #[serde(default)]
    pub val_fraction: f64,
    /// The field separator; `None`: detected from the header and the first lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<Delimiter>,
    /// Text feature columns to one-hot encode (named ones, or `auto`); `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_hot: Option<OneHotColumns>,
    /// The most distinct values an encoded column may have; `None`:
    /// [`DEFAULT_MAX_CATEGORIES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_categories: Option<usize>,
    /// Stream the data (Parquet or CSV) instead of reading it whole; `None`: read it whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamSpec>,
}

/// How a streamed run reads its data ([`ParquetBatches`](crate::data::parquet::ParquetBatches)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    /// Rows in the shuffle buffer (with a shuffled batch order).
    pub shuffle_buffer: usize,
    /// The run directory or model file whose scalers the run uses instead of fitting its
    /// own (the front end reads them; kept here so that a resumed run reads them again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_from: Option<std::path::PathBuf>,
    /// Data rows in a chunk of a streamed CSV file, the part a Parquet row group plays
    /// (what the shuffle permutes); `None`: [`CSV_CHUNK_ROWS`](crate::data::parquet::CSV_CHUNK_ROWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
}

impl Default for StreamSpec {
    fn default() -> Self {
        StreamSpec {
            shuffle_buffer: DEFAULT_SHUFFLE_BUFFER,
            scale_from: None,
            chunk_rows: None,
        }
    }
}

/// The shuffle buffer of a streamed run unless one is given: 65 536 rows.
pub const DEFAULT_SHUFFLE_BUFFER: usize = 1 << 16;

impl DataSpec {
    /// The data `source` with every column choice at its default.
    pub fn new(source: DataSource) -> Self {
        DataSpec {
            source,
            targets: None,
            features: None,
            drop_missing: false,
            val_fraction: 0.0,
            delimiter: None,
            one_hot: None,
            max_categories: None,
            stream: None,
        }
    }

    /// The columns to read.
    pub fn columns(&self) -> Columns {
        Columns {
            targets: self.targets.clone(),
            features: self.features.clone(),
            drop_missing: self.drop_missing,
        }
    }

    /// The separator and the one-hot encoding to fit.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            one_hot: match &self.one_hot {
                None => OneHotMode::Off,
                Some(columns) => OneHotMode::Fit {
                    columns: columns.clone(),
                    max_categories: self.max_categories.unwrap_or(DEFAULT_MAX_CATEGORIES),
                },
            },
        }
    }
}

/// A training run, complete: what [`crate::fit`] and [`crate::Run`] take.
///
/// ```
/// use descent::RunSpec;
/// let spec = RunSpec::builtin("diabetes").optimizer("adam", 0.01).batch(32).epochs(20);
/// let json = serde_json::to_string(&spec).unwrap();
/// assert_eq!(serde_json::from_str::<RunSpec>(&json).unwrap(), spec);
/// assert_eq!(spec.lr().unwrap(), 0.01);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// [`RUN_SPEC_VERSION`].
    pub version: u32,
    pub data: DataSpec,
    pub model: ModelKind,
    /// `None`: the model's default loss ([`ModelKind::default_loss`]).
    #[serde(default)]
    pub loss: Option<Loss>,
    /// `None`: zeros, or torch's default initialisation for an MLP.
    #[serde(default)]
    pub init: Option<Init>,
    pub scale: Scaling,
    /// Scaling of the regression targets, fitted on the training split: training sees the
    /// scaled targets, the model stores the scaler and undoes it when it predicts. Absent
    /// (and not written) when `none`, so specifications from before it load and write
    /// unchanged.
    #[serde(default = "no_scaling", skip_serializing_if = "is_no_scaling")]
    pub scale_target: Scaling,
    pub dtype: DType,
    /// The optimizer with its options; its `lr` is the run's learning rate (the schedule,
    /// if any, starts from it).
    pub optimizer: OptimizerSpec,
    /// No weight decay on biases (a parameter group of their own).
    #[serde(default)]
    pub no_decay_bias: bool,
    #[serde(default)]
    pub schedule: Option<ScheduleSpec>,
    #[serde(default)]
    pub schedule_per: SchedulePer,
    pub epochs: usize,
    pub batch: BatchSize,
    /// Shuffle rows every epoch; `None`: shuffle unless the batch is the full data.
    #[serde(default)]
    pub shuffle: Option<bool>,
    /// Fixes every random choice: initialisation, shuffling, the validation split.
    pub seed: u64,
    #[serde(default)]
    pub clip_norm: Option<f64>,
    #[serde(default)]
    pub clip_value: Option<f64>,
    #[serde(default)]
    pub divergence: DivergenceRule,
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    /// Worker threads; `None`: [`default_threads`](crate::parallel::default_threads). The
    /// numbers never depend on it.
    #[serde(default)]
    pub threads: Option<usize>,
}

impl RunSpec {
    /// A run on `source` (a CSV path or `builtin:NAME`): linear regression, plain SGD at
    /// torch's default lr, full batch, 100 epochs, no scaling, f64, seed 0.
    pub fn new(source: &str) -> Self {
        RunSpec {
            version: RUN_SPEC_VERSION,
            data: DataSpec::new(DataSource::parse(source)),
            model: ModelKind::Linear,
            loss: None,
            init: None,
            scale: Scaling::None,
            scale_target: Scaling::None,
            dtype: DType::F64,
            optimizer: OptimizerSpec::new("sgd"),
            no_decay_bias: false,
            schedule: None,
            schedule_per: SchedulePer::Epoch,
            epochs: 100,
            batch: BatchSize::Full,
            shuffle: None,
            seed: 0,
            clip_norm: None,
            clip_value: None,
            divergence: DivergenceRule::default(),
            early_stopping: None,
            threads: None,
        }
    }

    /// A run on a file: CSV, or Parquet (also a directory or a glob of Parquet files).
    pub fn csv(path: impl AsRef<std::path::Path>) -> Self {
        let mut spec = Self::new("");
        spec.data.source = DataSource::File(path.as_ref().to_path_buf());
        spec
    }

    /// A run on a built-in data set (`classic`, `beans`, `diabetes`, `breast_cancer`,
    /// `iris`, `wine`).
    pub fn builtin(name: &str) -> Self {
        Self::new(&format!("builtin:{name}"))
    }

    pub fn model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }

    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = Some(loss);
        self
    }

    pub fn init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }

    pub fn scale(mut self, scale: Scaling) -> Self {
        self.scale = scale;
        self
    }

    /// Scales the regression targets (see [`RunSpec::scale_target`]).
    pub fn scale_target(mut self, scale: Scaling) -> Self {
        self.scale_target = scale;
        self
    }

    pub fn dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }

    /// The optimizer `name` (`sgd`, `adam`, ... or torch's class name) at learning rate `lr`,
    /// its other options at torch's defaults.
    pub fn optimizer(mut self, name: &str, lr: f64) -> Self {
        self.optimizer = OptimizerSpec::new(name).with("lr", lr);
        self
    }

    /// The optimizer with all its options.
    pub fn optimizer_spec(mut self, spec: OptimizerSpec) -> Self {
        self.optimizer = spec;
        self
    }

    pub fn schedule(mut self, schedule: ScheduleSpec) -> Self {
        self.schedule = Some(schedule);
        self
    }

    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Mini-batches of `rows` rows (1: stochastic gradient descent).
    pub fn batch(mut self, rows: usize) -> Self {
        self.batch = BatchSize::Rows(rows);
        self
    }

    /// Every row in every update (batch gradient descent).
    pub fn batch_full(mut self) -> Self {
        self.batch = BatchSize::Full;
        self
    }

    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = Some(shuffle);
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The target column(s).
    pub fn targets(mut self, targets: &[&str]) -> Self {
        self.data.targets = Some(targets.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn val_fraction(mut self, fraction: f64) -> Self {
        self.data.val_fraction = fraction;
        self
    }

    pub fn early_stopping(mut self, patience: usize, min_delta: f64) -> Self {
        self.early_stopping = Some(EarlyStopping {
            patience,
            min_delta,
        });
        self
    }

    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// The loss: the one given, else the model's default.
    pub fn resolved_loss(&self) -> Loss {
        self.loss.unwrap_or_else(|| self.model.default_loss(None))
    }

    /// The loss for `data`: the one given, else the model's default for its labels (an MLP
    /// on class labels classifies: 2 classes with BCE on a logit, more with cross-entropy).
    pub fn loss_for(&self, data: &Dataset) -> Loss {
        self.loss
            .unwrap_or_else(|| self.model.default_loss(data.n_classes()))
    }

    /// The initialisation: the one given, else zeros (torch's for an MLP).
    pub fn resolved_init(&self) -> Init {
        match &self.init {
            Some(i) => i.clone(),
            None if matches!(self.model, ModelKind::Mlp { .. }) => Init::Torch { seed: self.seed },
            None => Init::Zeros,
        }
    }

    /// The learning rate: the optimizer's `lr`, else its torch default.
    pub fn lr(&self) -> Result<f64> {
        self.optimizer.lr()
    }

    /// The batch order: shuffled with the seed unless the batch is the full data or
    /// shuffling is off.
    pub fn order(&self) -> BatchOrder {
        match self.shuffle.unwrap_or(self.batch != BatchSize::Full) {
            true => BatchOrder::Shuffle { seed: self.seed },
            false => BatchOrder::Sequential,
        }
    }

    /// The trainer's settings.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch: self.batch,
            order: self.order(),
            schedule_per: self.schedule_per,
            clip_norm: self.clip_norm,
            clip_value: self.clip_value,
            divergence: self.divergence.clone(),
            early_stopping: self.early_stopping.clone(),
            threads: self.threads,
        }
    }

    /// Checks everything that does not need the data, so that a bad setting is reported
    /// before any file is read.
    pub fn validate(&self) -> Result<()> {
        if self.version > RUN_SPEC_VERSION {
            return Err(Error::State(format!(
                "the run specification has version {}, this release reads up to {RUN_SPEC_VERSION}",
                self.version
            )));
        }
        let v = self.data.val_fraction;
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            return Err(Error::invalid("val_fraction", v, "must be in [0, 1)"));
        }
        check_loss_fits_model(&self.model, self.resolved_loss())?;
        if self.scale_target != Scaling::None && self.resolved_loss().is_classification() {
            return Err(Error::invalid(
                "scale_target",
                format!("{:?}", self.scale_target).to_lowercase(),
                format!(
                    "applies to regression targets; {} predicts classes",
                    self.resolved_loss()
                ),
            ));
        }
        if self.data.max_categories == Some(0) {
            return Err(Error::invalid("max_categories", 0, "must be at least 1"));
        }
        if self.lr()? <= 0.0 {
            return Err(Error::invalid(
                "lr",
                self.lr()?,
                "must be > 0: with a zero or negative learning rate nothing is learned",
            ));
        }
        // Every optimizer option, checked on a one-parameter build.
        self.optimizer
            .build::<f64>(vec![(0..1, GroupOptions::default())])?;
        self.train_config().validate()
    }
}

fn no_scaling() -> Scaling {
    Scaling::None
}

fn is_no_scaling(s: &Scaling) -> bool {
    *s == Scaling::None
}

/// Whether `loss` is one `kind` can train with.
pub fn check_loss_fits_model(kind: &ModelKind, loss: Loss) -> Result<()> {
    let misfit = |rule: String| Err(Error::invalid("loss", loss, rule));
    match kind {
        ModelKind::Logistic if loss != Loss::BceWithLogits => {
            misfit("a logistic model trains with bce-with-logits".into())
        }
        ModelKind::Softmax if loss != Loss::CrossEntropy => {
            misfit("a softmax model trains with cross-entropy".into())
        }
        ModelKind::Linear | ModelKind::LinearNobias if loss.is_classification() => misfit(format!(
            "{} is a regression model; use a logistic (binary) or softmax (classes) model for {loss}",
            kind.name()
        )),
        _ => Ok(()),
    }
}
