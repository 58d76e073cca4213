//! The speed workloads P1–P5, shared by `descent bench` (timed as medians of repetitions,
//! beside PyTorch in `bench/compare.sh`) and `cargo bench -p descent` (`benches/`). Each
//! prepares its data once (not timed) and runs one repetition per [`Workload::run`].
//!
//! - P1: the classic 2-3-2-12-2 sigmoid network, 3 samples, 100 full-batch epochs with each
//!   of four optimizer settings;
//! - P2-sgd, P2-adam: linear regression, 10^6 × 100 f32, shuffled batches of 256, one epoch;
//! - P3-reg, P3-clf: per-sample SGD, linear and logistic regression, 10^6 × 100 f64;
//! - P4: an MLP 784-256-10 with cross-entropy, 60,000 f32 rows, shuffled batches of 128, Adam;
//! - P5: one Adam step over 10^7 f32 parameters.
//!
//! and the small runs people start with, where threads cost more than they give unless
//! the count follows the work (`descent bench S-... --threads 1` against the default):
//!
//! - S-tour: the tour's two-parameter line on `builtin:classic`, 200 full-batch epochs of SGD;
//! - S-iris-mlp: a 4-8-3 ReLU MLP on iris, Adam, batches of 16, 100 epochs;
//! - S-wine-mlp: a 13-32-3 ReLU MLP on standardized wine, Adam, batches of 16, 100 epochs;
//! - S-linear-10k: linear regression, 10^4 × 10 f64, shuffled batches of 32, 5 epochs.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::memory::huge_vec;
use crate::data::Scaling;
use crate::data::{BatchOrder, BatchSize, TrainData};
use crate::loss::Loss;
use crate::nn::{Activation, Layer, ModelKind, Sequential};
use crate::optim::{DynOptimizer, GroupOptions, OptimizerSpec};
use crate::params::{Init, Params};
use crate::schedule::Constant;
use crate::train::{Observer, TrainConfig, Trainer};
use crate::{Error, Float, Result, Run, RunSpec};

/// Every workload id, in order.
pub const WORKLOADS: [&str; 11] = [
    "P1",
    "P2-sgd",
    "P2-adam",
    "P3-reg",
    "P3-clf",
    "P4",
    "P5",
    "S-tour",
    "S-iris-mlp",
    "S-wine-mlp",
    "S-linear-10k",
];

/// An observer of runs in both precisions (the workloads train in f32 and in f64), for
/// [`Workload::run_observed`]; every `T: Observer<f32> + Observer<f64>` is one.
pub trait WorkloadObserver {
    fn as_f32(&mut self) -> &mut dyn Observer<f32>;
    fn as_f64(&mut self) -> &mut dyn Observer<f64>;
}

impl<T: Observer<f32> + Observer<f64>> WorkloadObserver for T {
    fn as_f32(&mut self) -> &mut dyn Observer<f32> {
        self
    }
    fn as_f64(&mut self) -> &mut dyn Observer<f64> {
        self
    }
}

/// One speed workload, its data prepared (not timed).
#[derive(Debug)]
pub enum Workload {
    P1,
    P2 {
        data: TrainData<f32>,
        optimizer: &'static str,
        lr: f64,
    },
    P3 {
        data: TrainData<f64>,
        kind: ModelKind,
        loss: Loss,
    },
    P4 {
        data: TrainData<f32>,
    },
    P5 {
        params: Vec<f32>,
        grads: Vec<f32>,
        optimizer: Box<dyn DynOptimizer<f32>>,
    },
    /// A whole run of a built-in data set, as `descent train` does it (data read included).
    Small(Box<RunSpec>),
    /// Linear regression on a small generated table, several epochs.
    SmallLinear {
        data: TrainData<f64>,
    },
}

fn normal_matrix<F: Float>(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Array2<F> {
    // On huge pages, as `TrainData::from_dataset` allocates a table read from a file.
    let mut v = huge_vec(rows * cols);
    v.extend((0..rows * cols).map(|_| F::of(StandardNormal.sample(rng))));
    Array2::from_shape_vec((rows, cols), v).expect("rows * cols elements")
}

/// `y = X w + b + 0.1 noise` (regression) or its sign as a 0/1 label.
fn linear_data<F: Float>(rows: usize, features: usize, labels: bool) -> TrainData<F> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let x = normal_matrix::<F>(&mut rng, rows, features);
    let w: Vec<f64> = (0..features).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| {
        let z: f64 = x
            .row(i)
            .iter()
            .zip(&w)
            .map(|(a, b)| a.f64() * b)
            .sum::<f64>()
            + 0.5;
        let noise: f64 = StandardNormal.sample(&mut rng);
        let v = z + 0.1 * noise;
        F::of(if labels {
            f64::from(u8::from(v > 0.0))
        } else {
            v
        })
    });
    TrainData { x, y }
}

impl Workload {
    /// Builds workload `id` ([`WORKLOADS`]) with `rows` rows (its default when `None`),
    /// to run on `threads` threads (`None`: the count a run given none chooses,
    /// [`crate::parallel::threads_for`]).
    pub fn prepare(id: &str, rows: Option<usize>, threads: Option<usize>) -> Result<Self> {
        Ok(match id {
            "P1" => Workload::P1,
            "P2-sgd" | "P2-adam" => Workload::P2 {
                data: linear_data(rows.unwrap_or(1_000_000), 100, false),
                optimizer: if id == "P2-sgd" { "sgd" } else { "adam" },
                lr: if id == "P2-sgd" { 0.01 } else { 0.001 },
            },
            "P3-reg" => Workload::P3 {
                data: linear_data(rows.unwrap_or(1_000_000), 100, false),
                kind: ModelKind::Linear,
                loss: Loss::Mse,
            },
            "P3-clf" => Workload::P3 {
                data: linear_data(rows.unwrap_or(1_000_000), 100, true),
                kind: ModelKind::Logistic,
                loss: Loss::BceWithLogits,
            },
            "P4" => {
                let n = rows.unwrap_or(60_000);
                let mut rng = ChaCha8Rng::seed_from_u64(4);
                let x = normal_matrix::<f32>(&mut rng, n, 784);
                let y = Array2::from_shape_simple_fn((n, 1), || rng.random_range(0..10u8) as f32);
                Workload::P4 {
                    data: TrainData { x, y },
                }
            }
            "P5" => {
                let n = rows.unwrap_or(10_000_000);
                let mut rng = ChaCha8Rng::seed_from_u64(5);
                let params: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
                let grads: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
                let mut optimizer = OptimizerSpec::new("adam")
                    .with("lr", 1e-3)
                    .build::<f32>(vec![(0..n, GroupOptions::default())])?;
                optimizer.set_threads(threads.unwrap_or_else(|| {
                    crate::parallel::threads_for(crate::parallel::Work {
                        batch_rows: 1,
                        params: n,
                        table_bytes: 0,
                    })
                }));
                Workload::P5 {
                    params,
                    grads,
                    optimizer,
                }
            }
            "S-tour" => Workload::Small(Box::new(
                RunSpec::builtin("classic")
                    .optimizer("sgd", 0.1)
                    .batch_full()
                    .epochs(200),
            )),
            "S-iris-mlp" => Workload::Small(Box::new(small_mlp("iris", 8))),
            "S-wine-mlp" => {
                Workload::Small(Box::new(small_mlp("wine", 32).scale(Scaling::Standard)))
            }
            "S-linear-10k" => Workload::SmallLinear {
                data: linear_data(rows.unwrap_or(10_000), 10, false),
            },
            other => {
                return Err(Error::invalid(
                    "workload",
                    other,
                    format!("must be one of {}", WORKLOADS.join(", ")),
                ))
            }
        })
    }

    /// One repetition of the workload on `threads` threads (`None`: the default rule).
    pub fn run(&mut self, threads: Option<usize>) -> Result<()> {
        self.run_observed(threads, &mut [])
    }

    /// One repetition with `observers` attached to every training run of it (P5, one
    /// optimizer step, has none): what an observer costs is the difference to [`run`](Self::run).
    pub fn run_observed(
        &mut self,
        threads: Option<usize>,
        observers: &mut [&mut dyn WorkloadObserver],
    ) -> Result<()> {
        let mut f32s: Vec<&mut dyn Observer<f32>> = Vec::new();
        let mut f64s: Vec<&mut dyn Observer<f64>> = Vec::new();
        let f32_data = matches!(
            self,
            Workload::P1 | Workload::P2 { .. } | Workload::P4 { .. }
        );
        for o in observers.iter_mut() {
            if f32_data {
                f32s.push(o.as_f32());
            } else {
                f64s.push(o.as_f64());
            }
        }
        match self {
            Workload::P1 => p1(threads, &mut f32s),
            Workload::P2 {
                data,
                optimizer,
                lr,
            } => {
                let model = ModelKind::Linear.build(100, 1)?;
                train(
                    &model,
                    Loss::Mse,
                    data,
                    optimizer,
                    *lr,
                    BatchSize::Rows(256),
                    BatchOrder::Shuffle { seed: 1 },
                    Init::Zeros,
                    threads,
                    1,
                    &mut f32s,
                )
            }
            Workload::P3 { data, kind, loss } => {
                let model = kind.build(100, 1)?;
                train(
                    &model,
                    *loss,
                    data,
                    "sgd",
                    0.01,
                    BatchSize::Rows(1),
                    BatchOrder::Sequential,
                    Init::Zeros,
                    threads,
                    1,
                    &mut f64s,
                )
            }
            Workload::P4 { data } => {
                let model = ModelKind::Mlp {
                    hidden: vec![256],
                    activation: Activation::Relu,
                }
                .build(784, 10)?;
                train(
                    &model,
                    Loss::CrossEntropy,
                    data,
                    "adam",
                    1e-3,
                    BatchSize::Rows(128),
                    BatchOrder::Shuffle { seed: 1 },
                    Init::Torch { seed: 0 },
                    threads,
                    1,
                    &mut f32s,
                )
            }
            Workload::P5 {
                params,
                grads,
                optimizer,
            } => {
                optimizer.step(1e-3, params, grads);
                Ok(())
            }
            Workload::Small(spec) => {
                let mut spec = (**spec).clone();
                spec.threads = threads;
                let mut run = Run::<f64>::new(spec)?;
                std::hint::black_box(run.train(&mut f64s)?);
                Ok(())
            }
            Workload::SmallLinear { data } => {
                let model = ModelKind::Linear.build(10, 1)?;
                train(
                    &model,
                    Loss::Mse,
                    data,
                    "sgd",
                    0.01,
                    BatchSize::Rows(32),
                    BatchOrder::Shuffle { seed: 1 },
                    Init::Zeros,
                    threads,
                    5,
                    &mut f64s,
                )
            }
        }
    }
}

/// A one-hidden-layer ReLU MLP of `hidden` units on the built-in set `name`.
fn small_mlp(name: &str, hidden: usize) -> RunSpec {
    RunSpec::builtin(name)
        .model(ModelKind::Mlp {
            hidden: vec![hidden],
            activation: Activation::Relu,
        })
        .optimizer("adam", 0.01)
        .batch(16)
        .epochs(100)
}

#[allow(clippy::too_many_arguments)]
fn train<F: Float>(
    model: &Sequential,
    loss: Loss,
    data: &TrainData<F>,
    optimizer: &str,
    lr: f64,
    batch: BatchSize,
    order: BatchOrder,
    init: Init,
    threads: Option<usize>,
    epochs: usize,
    observers: &mut [&mut dyn Observer<F>],
) -> Result<()> {
    let params = Params::<F>::init(model.layout(), &init)?;
    let opt = OptimizerSpec::new(optimizer)
        .with("lr", lr)
        .build::<F>(vec![(0..params.len(), GroupOptions::default())])?;
    let config = TrainConfig {
        threads,
        ..TrainConfig::new(epochs, batch, order)
    };
    let mut t = Trainer::new(model, loss, config, params, opt, Box::new(Constant { lr }))?;
    std::hint::black_box(t.run(data, None, observers)?);
    Ok(())
}

/// The classic 2-3-2-12-2 sigmoid network, 3 samples, 100 full-batch epochs with each of the
/// four classic optimizer settings.
fn p1(threads: Option<usize>, observers: &mut [&mut dyn Observer<f32>]) -> Result<()> {
    let mut layers = Vec::new();
    for (i, o) in [(2, 3), (3, 2), (2, 12), (12, 2)] {
        layers.push(Layer::Linear {
            in_features: i,
            out_features: o,
            bias: true,
        });
        layers.push(Layer::Sigmoid);
    }
    let model = Sequential::new(layers)?;
    let x = ndarray::array![[0.1f32, 0.2], [0.3, 0.4], [0.5, 0.6]];
    let y = ndarray::array![[0.2f32, 0.8], [0.4, 0.6], [0.6, 0.4]];
    let data = TrainData { x, y };
    let settings: [(&str, f64, Option<f64>); 4] = [
        ("sgd", 0.1, Some(0.6)),
        ("adagrad", 0.1, None),
        ("rmsprop", 0.01, Some(0.8)),
        ("adam", 0.1, None),
    ];
    for (name, lr, momentum) in settings {
        let params = Params::<f32>::init(model.layout(), &Init::Torch { seed: 0 })?;
        let mut spec = OptimizerSpec::new(name).with("lr", lr);
        if let Some(m) = momentum {
            spec = spec.with("momentum", m);
        }
        let opt = spec.build::<f32>(vec![(0..params.len(), GroupOptions::default())])?;
        let config = TrainConfig {
            threads,
            ..TrainConfig::new(100, BatchSize::Full, BatchOrder::Sequential)
        };
        let mut t = Trainer::new(
            &model,
            Loss::Mse,
            config,
            params,
            opt,
            Box::new(Constant { lr }),
        )?;
        std::hint::black_box(t.run(&data, None, observers)?);
    }
    Ok(())
}

/// The machine limit a workload runs against, measured in the same process as the workload
/// (so that `descent bench` can say how close each result is to it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floor {
    /// Which limit: `"copy"` (memory bandwidth, measured by copying a buffer the size of
    /// the workload's data) or `"gemm"` (the GEMM crate's f32 rate on a 1024³ product).
    pub limit: &'static str,
    /// The time the workload's data movement or arithmetic takes at that limit.
    pub seconds: f64,
}

impl Workload {
    /// The shortest time the machine allows for one repetition, where one limit bounds it:
    /// - P2: reading the table once, at the copy rate of a buffer the table's size
    ///   (table bytes / bytes copied per second);
    /// - P4: the epoch's floating-point work (4·784·256 + 6·256·10 FLOPs a row: forward,
    ///   weight gradients, and the hidden layer's input gradient) at the GEMM rate;
    /// - P5: Adam's 28 bytes a parameter (read p, g, m, v; write p, m, v) at the rate a copy
    ///   moves bytes (read + written) through a working set of P5's 16 bytes a parameter.
    ///
    /// `None` for workloads bound by arithmetic that no one figure stands for (P1, P3, the
    /// small runs).
    pub fn floor(&self, threads: usize) -> Option<Floor> {
        match self {
            Workload::P2 { data, .. } => {
                let bytes = std::mem::size_of_val(data.x.as_slice()?);
                Some(Floor {
                    limit: "copy",
                    seconds: bytes as f64 / copy_rate(bytes, threads),
                })
            }
            Workload::P4 { data } => {
                let flops = data.x.nrows() as f64 * (4.0 * 784.0 * 256.0 + 6.0 * 256.0 * 10.0);
                Some(Floor {
                    limit: "gemm",
                    seconds: flops / gemm_rate(),
                })
            }
            Workload::P5 { params, .. } => {
                let n = params.len();
                let moved = 28.0 * n as f64;
                // A copy of 8n bytes into 8n more: a working set of 16 bytes a parameter,
                // moving 2 bytes (one read, one written) per byte copied.
                Some(Floor {
                    limit: "copy",
                    seconds: moved / (2.0 * copy_rate(8 * n, threads)),
                })
            }
            _ => None,
        }
    }
}

/// Bytes copied per second from one buffer of `bytes` into another, on `threads` threads
/// (each copying a contiguous share); the best of five copies after a first that touches
/// every page.
pub fn copy_rate(bytes: usize, threads: usize) -> f64 {
    let n = bytes.max(8) / 8;
    let src: Vec<u64> = (0..n as u64).collect();
    let mut dst = vec![0u64; n];
    let threads = threads.max(1);
    let share = n.div_ceil(threads);
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let t = std::time::Instant::now();
        std::thread::scope(|scope| {
            for (d, s) in dst.chunks_mut(share).zip(src.chunks(share)) {
                scope.spawn(move || d.copy_from_slice(s));
            }
        });
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&mut dst);
    }
    (8 * n) as f64 / best
}

/// FLOPs per second of the MLP kernel's GEMM ([`crate::kernels::matmul`], f32: the AVX-512
/// `gemm` where the CPU has it, else matrixmultiply; one thread) on a 1024³ product; the best
/// of three after one warm-up.
pub fn gemm_rate() -> f64 {
    let n = 1024;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let a = normal_matrix::<f32>(&mut rng, n, n);
    let b = normal_matrix::<f32>(&mut rng, n, n);
    let mut c = Array2::<f32>::zeros((n, n));
    let mut best = f64::INFINITY;
    for _ in 0..4 {
        let t = std::time::Instant::now();
        let backend = crate::kernels::matmul::backend();
        crate::kernels::matmul::matmul(backend, a.view(), b.view(), c.view_mut());
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&mut c);
    }
    2.0 * (n * n * n) as f64 / best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_are_given_where_one_limit_bounds_the_work() {
        let p2 = Workload::prepare("P2-sgd", Some(4096), Some(1)).unwrap();
        let f = p2.floor(1).unwrap();
        assert_eq!(f.limit, "copy");
        assert!(f.seconds > 0.0 && f.seconds.is_finite());
        let p5 = Workload::prepare("P5", Some(1 << 16), Some(1)).unwrap();
        assert_eq!(p5.floor(1).unwrap().limit, "copy");
        assert!(Workload::prepare("P1", None, Some(1))
            .unwrap()
            .floor(1)
            .is_none());
    }

    #[test]
    fn the_copy_rate_counts_bytes_copied() {
        // 4 MiB copied: at any real machine's rate between 100 MB/s and 10 TB/s.
        let r = copy_rate(4 << 20, 2);
        assert!((1e8..1e13).contains(&r), "{r}");
    }
}
