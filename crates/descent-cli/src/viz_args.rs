//! Arguments of the commands that show and explain (`compare`, `search`, `surface`,
//! `gradcheck`, `lr-find`, `tour`). Parsing only, as in `args.rs`.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

pub use crate::args::{DataArgs, ModelArgs};

/// Data and model, shared by the commands that probe a model (the same flags as `train`'s).
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["data"])))]
pub struct ProbeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct CompareArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Optimizers to compare (momentum = sgd with momentum 0.9).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sgd,momentum,adagrad,rmsprop,adam"
    )]
    pub optimizers: Vec<String>,
    /// Learning rate for all, and/or per optimizer: 0.1 or sgd=0.1,adam=0.01 [default: torch's].
    #[arg(long, value_delimiter = ',')]
    pub lr: Vec<String>,
    /// Number of epochs.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Rows per update: full | 1 | N (the same seeded order for every optimizer).
    #[arg(long, default_value = "full")]
    pub batch: String,
    /// Report the first epoch whose loss is at most this.
    #[arg(long)]
    pub tol: Option<f64>,
    /// Logarithmic loss axis.
    #[arg(long)]
    pub log_y: bool,
    /// Require the contour over the two parameters (an error for other models).
    #[arg(long)]
    pub contour: bool,
    /// Output directory [default: runs/<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct SearchArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// START:STOP:STEP (STOP included) for each parameter, in layout order; give it once for
    /// a one-parameter model, twice for two.
    #[arg(long, required = true, allow_hyphen_values = true)]
    pub range: Vec<String>,
    /// Learning rate of the comparison run of batch gradient descent.
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Epochs of the comparison run.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Output directory [default: runs/<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct SurfaceArgs {
    /// bowl | ill-conditioned | rosenbrock | beale | himmelblau | saddle | monkey-saddle.
    #[arg(long)]
    pub function: String,
    /// Optimizers (momentum = sgd with momentum 0.9).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sgd,momentum,adagrad,rmsprop,adam"
    )]
    pub optimizers: Vec<String>,
    /// Learning rate for all, and/or per optimizer: 0.1 or sgd=0.1,adam=0.01 [default: torch's].
    #[arg(long, value_delimiter = ',')]
    pub lr: Vec<String>,
    /// Number of steps.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Start point x,y [default: the function's conventional start].
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub start: Option<Vec<f64>>,
    /// Frames of the GIF.
    #[arg(long, default_value_t = 40)]
    pub frames: usize,
    /// Output directory [default: runs/<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GradcheckArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Finite-difference step h of the central difference (f(p+h) - f(p-h)) / 2h.
    #[arg(long, default_value_t = 1e-6)]
    pub eps: f64,
    /// Largest acceptable relative error; above it the command exits 1.
    #[arg(long, default_value_t = 1e-5)]
    pub tol: f64,
    /// Check at most this many rows (the first ones).
    #[arg(long, default_value_t = 512)]
    pub rows: usize,
}

#[derive(Debug, Args)]
pub struct LrFindArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// The optimizer (momentum = sgd with momentum 0.9).
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    /// Smallest learning rate of the sweep.
    #[arg(long, default_value_t = 1e-7)]
    pub lr_min: f64,
    /// Largest learning rate of the sweep.
    #[arg(long, default_value_t = 10.0)]
    pub lr_max: f64,
    /// Steps of the sweep (one full-batch update each, lr growing geometrically).
    #[arg(long, default_value_t = 100)]
    pub steps: usize,
    /// Output directory [default: runs/<UTC timestamp>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `descent analyze`: the data, model and optimizer flags of `train`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub optim: crate::args::OptimArgs,
    /// Predict the full-batch epochs that shrink the distance to the least-squares optimum
    /// by this factor (the loss gap shrinks by its square).
    #[arg(long, default_value_t = 1e-6)]
    pub tol: f64,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TourArgs {
    /// Output directory for the figures and index.html.
    #[arg(long, default_value = "tour")]
    pub out: PathBuf,
    /// Only these lessons (numbers as on the page, e.g. 8 or 8,10): their figures are
    /// the same files, byte for byte, as the whole tour writes [default: every lesson].
    #[arg(long, value_delimiter = ',', value_name = "N")]
    pub lesson: Vec<usize>,
}
