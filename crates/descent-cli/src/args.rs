//! Command-line arguments (clap). Parsing only: each command turns its arguments into a
//! validated configuration in its own file under `commands/`.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use descent::data::{BatchSize, DataSource, Delimiter, OneHotColumns, Scaling, UnknownCategory};
use descent::loss::Loss;
use descent::nn::{Activation, ModelKind};
use descent::params::Init;
use descent::run::DataSpec;
use descent::schedule::ScheduleSpec;
use descent::train::{EarlyStopping, OnDivergence};
use descent::DType;

#[derive(Debug, Parser)]
#[command(
    name = "descent",
    version,
    about = "Train models by gradient descent and see how they train",
    after_help = "Examples:\n  descent train --data builtin:classic --model linear-nobias --init 1.0 --lr 0.01 --epochs 100 --out runs/classic\n  descent predict --model runs/classic --input 4\n  descent generate linear --rows 1000 --features 3 --out data.csv"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model on a CSV file or built-in data; writes metrics.csv, summary.json and
    /// model.json to the output directory.
    Train(Box<TrainArgs>),
    /// Predict with a trained model, for a CSV file or one input given on the command line.
    Predict(PredictArgs),
    /// Write a synthetic data set as CSV (streams: any number of rows).
    Generate(GenerateArgs),
    /// Print (and optionally plot) the learning rate a schedule gives, step by step.
    Schedule(ScheduleArgs),
    /// Time the speed workloads (P1 ... P5) in-process; see bench/ for the PyTorch side.
    Bench(BenchArgs),
    /// Train several optimizers from the same start on the same batches: overlaid losses, a
    /// table, and for a two-parameter model the loss contour with every path.
    Compare(Box<crate::viz_args::CompareArgs>),
    /// Grid search over one or two parameters (loss curve or heat map), next to gradient descent.
    Search(Box<crate::viz_args::SearchArgs>),
    /// Optimizers on a 2-D test function: contour plot with trajectories and an animated GIF.
    Surface(crate::viz_args::SurfaceArgs),
    /// Check the autodiff gradient against central finite differences, per parameter.
    Gradcheck(Box<crate::viz_args::GradcheckArgs>),
    /// Learning-rate range test: loss against a growing lr, and a suggested lr.
    LrFind(Box<crate::viz_args::LrFindArgs>),
    /// The curvature of a least-squares problem and what it implies: λ_max, λ_min, the
    /// condition number and rank, the stable lr of the optimizer, the fastest fixed step and
    /// heavy ball with their rates, predicted epochs, and the closed-form solution.
    Analyze(Box<crate::viz_args::AnalyzeArgs>),
    /// Print a trained model: architecture, parameters by name, coefficients in the features'
    /// original units, scaler, one-hot encoding, class labels.
    Inspect(InspectArgs),
    /// Print a shell completion script: descent completions bash > ~/.local/share/bash-completion/completions/descent
    Completions(CompletionsArgs),
    /// The classic lessons of gradient descent replayed, with figures and an HTML report.
    Tour(crate::viz_args::TourArgs),
    /// List every optimizer: its PyTorch class, options and defaults.
    Optimizers,
    /// A live dashboard of the runs under a directory, in the browser: curves that move as
    /// runs train, comparisons, and a playground (http://127.0.0.1:6006 by default).
    Board(BoardArgs),
}

/// `descent board`.
#[derive(Debug, Clone, Args)]
pub struct BoardArgs {
    /// The directory of runs (searched recursively for run directories).
    #[arg(default_value = "runs")]
    pub runs_dir: PathBuf,
    /// The port to serve on (0: any free port, printed at start).
    #[arg(long, default_value_t = 6006)]
    pub port: u16,
    /// The address to serve on; anything but 127.0.0.1 / localhost serves run data to the
    /// network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
}

/// Where the data comes from and which columns are used: the same flags for every command
/// that reads data.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// CSV file with a header row, a Parquet file, a directory or glob of Parquet files
    /// (quote the glob), or builtin:NAME (classic, beans, diabetes, breast_cancer, iris, wine).
    #[arg(long)]
    pub data: Option<String>,
    /// Target column(s), comma-separated [default: the last column].
    #[arg(long, value_delimiter = ',')]
    pub target: Option<Vec<String>>,
    /// Feature columns, comma-separated [default: every other column].
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Drop rows with a missing value (empty, NaN, NA, N/A, null, ?, or infinite) in a used
    /// column, and report how many, instead of stopping at the first one.
    #[arg(long)]
    pub drop_missing: bool,
    /// Field separator: , ; | tab or another character [default: detected from the header
    /// and the first lines among comma, tab, semicolon and pipe].
    #[arg(long)]
    pub delimiter: Option<Delimiter>,
    /// One-hot encode text feature columns: COL[,COL...], or auto (every feature column
    /// holding text; says what it encoded). The encoding is saved with the model.
    #[arg(long, value_name = "COLS|auto")]
    pub one_hot: Option<OneHotColumns>,
    /// The most distinct values a one-hot encoded column may have [default: 32].
    #[arg(long, value_name = "N")]
    pub max_categories: Option<usize>,
    /// Stream the data in batches instead of reading it whole: memory stays bounded whatever
    /// the size of the data. train: Parquet or CSV (a CSV file is read in chunks of rows,
    /// --chunk-rows); predict: Parquet or CSV, written a chunk at a time (not scored). A shuffled
    /// stream decodes its next chunk on a second thread unless --threads 1
    /// (DESCENT_READ_AHEAD=0 turns that off, =1 on for every stream).
    #[arg(long)]
    pub stream: bool,
    /// Stream (Parquet or CSV; predict: not with a one-hot model) when reading the data whole would take
    /// more memory than this: bytes, or with a suffix K, M, G (powers of 1024) [default: half
    /// the available memory].
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub memory_budget: Option<u64>,
    /// Rows in the shuffle buffer of a streamed run [default: 65536].
    #[arg(long, value_name = "N")]
    pub shuffle_buffer: Option<usize>,
    /// Data rows in a chunk of a streamed CSV file, the part a Parquet row group plays: the
    /// shuffle permutes the chunks, then mixes their rows in the buffer [default: 65536].
    #[arg(long, value_name = "N")]
    pub chunk_rows: Option<usize>,
}

/// `4096`, `512K`, `64M`, `2G`, `1T` (powers of 1024) as bytes.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(format!(
                "`{text}`: expected bytes, or a number with K, M, G or T"
            ))
        }
    };
    let n: f64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: expected bytes, or a number with K, M, G or T"))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("`{text}`: the budget must be above 0"));
    }
    Ok((n * (1u64 << shift) as f64) as u64)
}

impl DataArgs {
    /// The data part of a run specification (no validation split).
    pub fn spec(&self) -> anyhow::Result<DataSpec> {
        anyhow::ensure!(
            self.max_categories != Some(0),
            "--max-categories must be at least 1"
        );
        let mut data = DataSpec::new(DataSource::parse(self.data.as_deref().unwrap_or_default()));
        data.targets = self.target.clone();
        data.features = self.features.clone();
        data.drop_missing = self.drop_missing;
        data.delimiter = self.delimiter;
        data.one_hot = self.one_hot.clone();
        data.max_categories = self.max_categories;
        anyhow::ensure!(
            self.shuffle_buffer != Some(0),
            "--shuffle-buffer must be at least 1"
        );
        anyhow::ensure!(
            self.chunk_rows != Some(0),
            "--chunk-rows must be at least 1"
        );
        if self.stream {
            data.stream = Some(descent::run::StreamSpec {
                shuffle_buffer: self
                    .shuffle_buffer
                    .unwrap_or(descent::run::DEFAULT_SHUFFLE_BUFFER),
                scale_from: None,
                chunk_rows: self.chunk_rows,
            });
        }
        Ok(data)
    }
}

/// The model kinds of `--model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelName {
    LinearNobias,
    Linear,
    Logistic,
    Softmax,
    Mlp,
}

impl ModelName {
    /// The library's model kind (an mlp takes its hidden widths and activation).
    pub fn kind(self, hidden: &[usize], activation: Activation) -> descent::Result<ModelKind> {
        let name = self.to_possible_value().expect("no skipped variants");
        ModelKind::parse(name.get_name(), hidden, activation)
    }
}

/// The model, its loss, initialisation and scaling, and the seed: the same flags for every
/// command that builds a model.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// The model.
    #[arg(long, value_enum, default_value = "linear")]
    pub model: ModelName,
    /// Hidden layer widths of an mlp, e.g. 64,32.
    #[arg(long, value_delimiter = ',')]
    pub hidden: Vec<usize>,
    /// Activation of an mlp's hidden layers: sigmoid | tanh | relu.
    #[arg(long, default_value = "relu")]
    pub activation: Activation,
    /// mse | mae | huber | huber:DELTA | bce-with-logits | cross-entropy [default: from the model].
    #[arg(long)]
    pub loss: Option<Loss>,
    /// Feature scaling fitted on the training data: standard | minmax | none.
    #[arg(long, default_value = "none")]
    pub scale: Scaling,
    /// Initial parameters: zeros | torch (uniform ±1/sqrt(fan_in)) | normal:STD | a number
    /// [default: zeros, or torch for an mlp].
    #[arg(long)]
    pub init: Option<String>,
    /// Seed for every random choice (initialisation, shuffling, validation split).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl ModelArgs {
    /// The model kind, checked against the hidden widths.
    pub fn kind(&self) -> anyhow::Result<ModelKind> {
        let kind = self.model.kind(&self.hidden, self.activation)?;
        anyhow::ensure!(
            self.hidden.is_empty() || matches!(kind, ModelKind::Mlp { .. }),
            "--hidden applies only to --model mlp"
        );
        Ok(kind)
    }

    /// The initialisation given with `--init`, if any.
    pub fn init(&self) -> anyhow::Result<Option<Init>> {
        use anyhow::Context;
        self.init
            .as_deref()
            .map(|s| Init::parse(s, self.seed).context("--init"))
            .transpose()
    }
}

/// How an MPI run combines the processes' gradients (`--allreduce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AllReduce {
    Ordered,
    Plain,
}

/// When the schedule advances (`--schedule-per`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchedulePerArg {
    Epoch,
    Step,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
#[command(group(ArgGroup::new("input").required(true).args(["data", "resume"])))]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Continue the run in DIR from its checkpoint.json (every other setting comes from the
    /// checkpoint; --epochs may raise the total, --quiet and --threads apply).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Write DIR/checkpoint.json every N epochs (and at the end, and on Ctrl-C).
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// What to do when the loss becomes NaN/inf or keeps rising: stop (keep the best
    /// parameters, exit 3), continue, or reduce-lr (restore the best parameters, lr x 0.1).
    #[arg(long, default_value = "stop")]
    pub on_divergence: OnDivergence,
    /// Stop when the validation loss (or the training loss, without --val-fraction) has not
    /// improved for a while, and restore the best parameters: patience=N[,min_delta=X].
    #[arg(long)]
    pub early_stopping: Option<EarlyStopping>,
    /// Worker threads [default: from the work of a batch: one for small models, all cores
    /// for large ones]. Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Under an MPI launcher (`mpirun`, `srun`; a build with `--features mpi`): how the
    /// processes' gradients are combined. `ordered` gathers every chunk's sum and adds them
    /// in one order: the single process's bits for any process count. `plain` sums them
    /// with one all-reduce: fewer bytes, equal up to rounding.
    #[arg(long, value_enum, default_value = "ordered")]
    pub allreduce: AllReduce,
    /// Make results independent of the thread count (they already are: every parallel
    /// reduction here has a fixed split; the flag is accepted for scripts that ask for it).
    #[arg(long)]
    pub deterministic: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Scaling of the regression targets, fitted on the training data: standard | minmax |
    /// none. Training sees the scaled targets; model.json stores the scaler and `predict`
    /// undoes it, so predictions are in the targets' own units.
    #[arg(long, default_value = "none")]
    pub scale_target: Scaling,
    /// Number of epochs (passes over the training data) [default: 100; with --resume: the
    /// checkpointed run's total].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Rows per update: `full` (batch gradient descent), 1 (stochastic), or N (mini-batch).
    #[arg(long, default_value = "full")]
    pub batch: BatchSize,
    /// Shuffle rows every epoch (seeded) [default: on, except with --batch full].
    #[arg(long, overrides_with = "no_shuffle")]
    pub shuffle: bool,
    /// Visit rows in file order every epoch.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Floating-point precision: f64 | f32.
    #[arg(long, default_value = "f64")]
    pub dtype: DType,
    /// Fraction of rows held out for validation (seeded split). In memory: a seeded
    /// permutation holds out round(fraction x rows) rows. Streamed (--stream): each row is
    /// held out by a seeded hash of its index, so about that many; the same for a seed,
    /// but other rows than the in-memory split's.
    #[arg(long, default_value_t = 0.0)]
    pub val_fraction: f64,
    /// Streamed training: take the feature and target scalers from a previous run (its
    /// directory or a model.json) instead of fitting them in the statistics pass. Its
    /// features and targets, and --scale / --scale-target, must be this run's.
    #[arg(long, value_name = "RUN_DIR|MODEL")]
    pub scale_from: Option<PathBuf>,
    /// Output directory [default: runs/<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing on success (no progress bar, no notes, no summary); warnings and errors
    /// still go to stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the end-of-run summary as one JSON object on stdout (instead of the text
    /// summary): outcome, final metrics, output directory, seconds.
    #[arg(long)]
    pub json: bool,
    /// Also draw loss and lr per epoch, and the fit (with fit.gif) or decision boundary.
    #[arg(long)]
    pub plot: bool,
    #[command(flatten)]
    pub optim: OptimArgs,
}

/// The optimizer, its hyper-parameters (PyTorch's names and defaults), clipping and schedule.
#[derive(Debug, Args)]
pub struct OptimArgs {
    /// The optimizer (`descent optimizers` lists each with its options and defaults).
    #[arg(long, default_value = "sgd", value_parser = PossibleValuesParser::new(descent::optim::names()))]
    pub optimizer: String,
    /// Learning rate [default: the optimizer's PyTorch default].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum factor (sgd, rmsprop).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Dampening for momentum (sgd).
    #[arg(long)]
    pub dampening: Option<f64>,
    /// Nesterov momentum (sgd).
    #[arg(long)]
    pub nesterov: bool,
    /// EMA factor β of momentum-ema [default: 0.9]. The first step sets v = g (no 1-β
    /// factor: torch's SGD skips dampening on its first step), so it moves the parameters by
    /// lr·g; every later step sets v = β v + (1-β) g, then p = p - lr·v.
    #[arg(long)]
    pub beta: Option<f64>,
    /// Weight decay (L2 penalty; decoupled for adamw or with --decoupled-weight-decay).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Apply no weight decay to biases (a separate parameter group).
    #[arg(long)]
    pub no_decay_bias: bool,
    /// Decoupled weight decay (adam, nadam, radam).
    #[arg(long)]
    pub decoupled_weight_decay: bool,
    /// Coefficients for running averages, e.g. 0.9,0.999 (adam family).
    #[arg(long, value_delimiter = ',')]
    pub betas: Option<Vec<f64>>,
    /// Term added to denominators for numerical stability.
    #[arg(long)]
    pub eps: Option<f64>,
    /// AMSGrad variant (adam, adamw).
    #[arg(long)]
    pub amsgrad: bool,
    /// Centered RMSprop (normalise by the estimated variance).
    #[arg(long)]
    pub centered: bool,
    /// Smoothing constant (rmsprop) or power for eta update (asgd).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Decay of the running averages (adadelta).
    #[arg(long)]
    pub rho: Option<f64>,
    /// Learning-rate decay (adagrad).
    #[arg(long)]
    pub lr_decay: Option<f64>,
    /// Initial value of the sum of squares (adagrad).
    #[arg(long)]
    pub initial_accumulator_value: Option<f64>,
    /// Momentum decay ψ (nadam).
    #[arg(long)]
    pub momentum_decay: Option<f64>,
    /// Decay term (asgd).
    #[arg(long)]
    pub lambd: Option<f64>,
    /// Point at which to start averaging (asgd).
    #[arg(long)]
    pub t0: Option<f64>,
    /// Multiplicative decrease and increase factors, e.g. 0.5,1.2 (rprop).
    #[arg(long, value_delimiter = ',')]
    pub etas: Option<Vec<f64>>,
    /// Minimal and maximal step sizes, e.g. 1e-6,50 (rprop).
    #[arg(long, value_delimiter = ',')]
    pub step_sizes: Option<Vec<f64>>,
    /// Maximize the objective instead of minimizing.
    #[arg(long)]
    pub maximize: bool,
    /// Clip the global L2 norm of the gradient to this value before each step.
    #[arg(long)]
    pub clip_norm: Option<f64>,
    /// Clip every gradient element to [-X, X] before each step.
    #[arg(long)]
    pub clip_value: Option<f64>,
    /// Learning-rate schedule, e.g. cosine:t_max=100 or step:step_size=30,gamma=0.1
    /// (see `descent schedule --help`).
    #[arg(long)]
    pub schedule: Option<ScheduleSpec>,
    /// Advance the schedule every epoch or every step (update).
    #[arg(long, value_enum, default_value = "epoch")]
    pub schedule_per: SchedulePerArg,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["data", "input"])))]
pub struct PredictArgs {
    /// The run directory (or a model file, e.g. runs/x/best-model.json).
    #[arg(long)]
    pub model: PathBuf,
    /// The data flags of `train` (--data: a CSV file with the model's input columns, or
    /// builtin:NAME; --target: the column to score the predictions against [default: the
    /// model's target, when the file has it]).
    #[command(flatten)]
    pub data: DataArgs,
    /// One input, values comma-separated in the model's input order, e.g. 4 or 1.5,2.0 (a
    /// one-hot encoded column takes its text, e.g. 1500,Shelbyville).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub input: Option<Vec<String>>,
    /// Write the predictions as CSV here [default: stdout]; the metric, when the target is
    /// there, also goes to OUT with the extension .metrics.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Input columns copied into the output, comma-separated [default: every column].
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    pub keep: Option<Vec<String>>,
    /// A category the model was not trained on: error (naming it), or zeros (all its
    /// indicators 0, with a warning).
    #[arg(long, default_value = "error")]
    pub unknown_category: UnknownCategory,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A run directory or a model file.
    pub model: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct GenerateArgs {
    /// classic | beans | linear | logistic | blobs.
    pub kind: String,
    /// Number of rows.
    #[arg(long, default_value_t = 100)]
    pub rows: usize,
    /// Number of feature columns (linear, logistic, blobs).
    #[arg(long, default_value_t = 1)]
    pub features: usize,
    /// Noise scale [default: depends on the kind].
    #[arg(long)]
    pub noise: Option<f64>,
    /// Number of classes (blobs).
    #[arg(long, default_value_t = 3)]
    pub classes: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file [default: stdout, CSV].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// csv | parquet [default: parquet for an --out ending in .parquet, else csv]. Parquet:
    /// one DOUBLE column per CSV column (the numbers the CSV text reads back to), snappy.
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Rows per Parquet row group.
    #[arg(long, value_name = "N", default_value_t = 131_072)]
    pub row_group_rows: usize,
}

/// The file formats `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    Csv,
    Parquet,
}

/// The schedule syntax, shown by `descent schedule --help`.
const SCHEDULE_SYNTAX: &str = "\
Schedule syntax: NAME[:key=value,...], PyTorch's argument names and defaults; lists use `;`.
Join schedules with @MILESTONE for one after another (SequentialLR).
  constant[:factor=0.333,total_iters=5]          ConstantLR
  step:step_size=N[,gamma=0.1]                   StepLR
  multistep:milestones=30;80[,gamma=0.1]         MultiStepLR
  exponential:gamma=G                            ExponentialLR
  cosine:t_max=N[,eta_min=0]                     CosineAnnealingLR (PyTorch's recurrence)
  cosine-restarts:t_0=N[,t_mult=1,eta_min=0]     CosineAnnealingWarmRestarts
  linear[:start_factor=0.333,end_factor=1,total_iters=5]   LinearLR (warm-up)
  onecycle:max_lr=X[,total_steps=N,pct_start=0.3,anneal_strategy=cos|linear,
           cycle_momentum=true,base_momentum=0.85,max_momentum=0.95,div_factor=25,
           final_div_factor=1e4,three_phase=false]          OneCycleLR
  cyclic:base_lr=X,max_lr=Y[,step_size_up=2000,step_size_down=step_size_up,
         mode=triangular|triangular2|exp_range,gamma=1,cycle_momentum=true,
         base_momentum=0.8,max_momentum=0.9]     CyclicLR (base_lr replaces --lr)
  inv-sqrt                                       lr / sqrt(t + 1)
  polynomial[:total_iters=5,power=1]             PolynomialLR
  plateau[:mode=min,factor=0.1,patience=10,threshold=1e-4,threshold_mode=rel,
          cooldown=0,min_lr=0,eps=1e-8]          ReduceLROnPlateau (on the val loss, else the train loss)
Examples:
  descent schedule --schedule cosine:t_max=100,eta_min=0.001 --steps 100 --lr 0.1
  descent schedule --schedule \"linear:start_factor=0.1,total_iters=5 @5 cosine:t_max=95\" --plot lr.svg";

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true, after_help = SCHEDULE_SYNTAX)]
pub struct ScheduleArgs {
    /// The schedule, e.g. cosine:t_max=100,eta_min=0.001.
    #[arg(long)]
    pub schedule: String,
    /// Number of schedule steps to show.
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Base learning rate.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// Base momentum (for onecycle's momentum cycling).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Metric values fed to a plateau schedule, comma-separated (one per step; the last repeats).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Option<Vec<f64>>,
    /// Print every step as CSV (step,lr[,momentum]) instead of a summary table.
    #[arg(long)]
    pub csv: bool,
    /// Also draw the learning rate per step into this file (.svg or .png).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// all | P1 | P2-sgd | P2-adam | P2-sgd-f64 | P2-adam-f64 | P3-reg | P3-clf | P4 | P4-f64 |
    /// P5 | S-tour | S-iris-mlp | S-wine-mlp | S-linear-10k.
    #[arg(default_value = "all")]
    pub workload: String,
    /// Timed repetitions (after untimed warm-up runs: one, three for P5, as bench/reference.py runs its side); the median is reported.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Worker threads [default: each run's own choice from its work, as in `train`].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows of data (P2, P3, P4) or parameters (P5) instead of the workload's default.
    #[arg(long)]
    pub rows: Option<usize>,
    /// One JSON object per line: {"workload", "impl", "seconds", "min", "max", "repeat",
    /// "threads", "limit", "floor_seconds", "fraction_of_limit"} (the last three null where
    /// no one machine limit bounds the workload).
    #[arg(long)]
    pub json: bool,
    /// Attach the event-file observer of `descent train` (what `descent board` reads),
    /// writing DIR/events.jsonl, to measure what it costs (bench/board_speed.sh).
    #[arg(long, value_name = "DIR")]
    pub events: Option<std::path::PathBuf>,
}
