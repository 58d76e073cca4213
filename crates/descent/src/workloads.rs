//! The speed workloads P1–P5, shared by `descent bench` (timed as medians of repetitions,
//! beside PyTorch in `bench/compare.sh`) and `cargo bench -p descent` (`benches/`). Each
//! prepares its data once (not timed) and runs one repetition per [`Workload::run`].
//!
//! - P1: the classic 2-3-2-12-2 sigmoid network, 3 samples, 100 full-batch epochs with each
//!   of four optimizer settings;
//! - P2-sgd, P2-adam: linear regression, 10^6 × 100 f32, shuffled batches of 256, one epoch
//!   (P2-sgd-f64, P2-adam-f64: the same in f64, twice the bytes);
//! - P3-reg, P3-clf: per-sample SGD, linear and logistic regression, 10^6 × 100 f64;
//! - P4: an MLP 784-256-10 with cross-entropy, 60,000 f32 rows, shuffled batches of 128, Adam
//!   (P4-f64: the same in f64);
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

use crate::data::memory::{huge_filled, huge_vec};
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
pub const WORKLOADS: [&str; 14] = [
    "P1",
    "P2-sgd",
    "P2-adam",
    "P2-sgd-f64",
    "P2-adam-f64",
    "P3-reg",
    "P3-clf",
    "P4",
    "P4-f64",
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
        data: Table,
        optimizer: &'static str,
        lr: f64,
    },
    P3 {
        data: TrainData<f64>,
        kind: ModelKind,
        loss: Loss,
    },
    P4 {
        data: Table,
    },
    P5 {
        params: Vec<f32>,
        grads: Vec<f32>,
        optimizer: Box<dyn DynOptimizer<f32>>,
        /// The threads its step runs on.
        threads: usize,
    },
    /// A whole run of a built-in data set, as `descent train` does it (data read included).
    Small(Box<RunSpec>),
    /// Linear regression on a small generated table, several epochs.
    SmallLinear {
        data: TrainData<f64>,
    },
}

/// A generated table in the precision a workload trains in.
#[derive(Debug)]
pub enum Table {
    F32(TrainData<f32>),
    F64(TrainData<f64>),
}

impl Table {
    /// `f64` for ids ending in `-f64`, else `f32`, built by `make` in that precision.
    fn of(id: &str, make: impl TableMaker) -> Table {
        if id.ends_with("-f64") {
            Table::F64(make.make())
        } else {
            Table::F32(make.make())
        }
    }

    fn rows(&self) -> usize {
        match self {
            Table::F32(d) => d.x.nrows(),
            Table::F64(d) => d.x.nrows(),
        }
    }

    /// The bytes of the feature table (`None` if it is not one contiguous slice).
    fn feature_bytes(&self) -> Option<usize> {
        match self {
            Table::F32(d) => Some(std::mem::size_of_val(d.x.as_slice()?)),
            Table::F64(d) => Some(std::mem::size_of_val(d.x.as_slice()?)),
        }
    }
}

/// Builds a table in either precision (a generic closure).
trait TableMaker {
    fn make<F: Float>(&self) -> TrainData<F>;
}

/// P2's table: [`linear_data`] of `rows` × 100.
struct P2Table(usize);

impl TableMaker for P2Table {
    fn make<F: Float>(&self) -> TrainData<F> {
        linear_data(self.0, 100, false)
    }
}

/// P4's table: `rows` × 784 standard normal features and labels 0..10 (seed 4).
struct P4Table(usize);

impl TableMaker for P4Table {
    fn make<F: Float>(&self) -> TrainData<F> {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let x = normal_matrix::<F>(&mut rng, self.0, 784);
        let y =
            Array2::from_shape_simple_fn((self.0, 1), || F::of(rng.random_range(0..10u8).into()));
        TrainData { x, y }
    }
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
            "P2-sgd" | "P2-adam" | "P2-sgd-f64" | "P2-adam-f64" => {
                let sgd = id.starts_with("P2-sgd");
                Workload::P2 {
                    data: Table::of(id, P2Table(rows.unwrap_or(1_000_000))),
                    optimizer: if sgd { "sgd" } else { "adam" },
                    lr: if sgd { 0.01 } else { 0.001 },
                }
            }
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
            "P4" | "P4-f64" => Workload::P4 {
                data: Table::of(id, P4Table(rows.unwrap_or(60_000))),
            },
            "P5" => {
                let n = rows.unwrap_or(10_000_000);
                let mut rng = ChaCha8Rng::seed_from_u64(5);
                let mut params: Vec<f32> = huge_vec(n);
                params.extend((0..n).map(|_| -> f32 { StandardNormal.sample(&mut rng) }));
                let mut grads: Vec<f32> = huge_vec(n);
                grads.extend((0..n).map(|_| -> f32 { StandardNormal.sample(&mut rng) }));
                let mut optimizer = OptimizerSpec::new("adam")
                    .with("lr", 1e-3)
                    .build::<f32>(vec![(0..n, GroupOptions::default())])?;
                let threads = threads.unwrap_or_else(|| {
                    crate::parallel::threads_for(crate::parallel::Work {
                        batch_rows: 1,
                        params: n,
                        table_bytes: 0,
                    })
                });
                optimizer.set_threads(threads);
                Workload::P5 {
                    params,
                    grads,
                    optimizer,
                    threads,
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

    /// Untimed repetitions to run before the timed ones, as `bench/reference.py` runs its
    /// side: 3 for P5 (a step over 160 MB whose time settles only after a few steps on some
    /// machines, PyTorch's fused Adam as much as this one: 2.5 ms a step once settled against
    /// 4.4 ms for the two steps after the first, on a 300 MB-L3 Xeon), 1 for the others.
    pub fn warmups(&self) -> usize {
        match self {
            Workload::P5 { .. } => 3,
            _ => 1,
        }
    }

    /// One repetition of the workload on `threads` threads (`None`: the default rule);
    /// returns the count it ran on.
    pub fn run(&mut self, threads: Option<usize>) -> Result<usize> {
        self.run_observed(threads, &mut [])
    }

    /// One repetition with `observers` attached to every training run of it (P5, one
    /// optimizer step, has none): what an observer costs is the difference to [`run`](Self::run).
    pub fn run_observed(
        &mut self,
        threads: Option<usize>,
        observers: &mut [&mut dyn WorkloadObserver],
    ) -> Result<usize> {
        let mut f32s: Vec<&mut dyn Observer<f32>> = Vec::new();
        let mut f64s: Vec<&mut dyn Observer<f64>> = Vec::new();
        let f32_data = match self {
            Workload::P1 => true,
            Workload::P2 { data, .. } | Workload::P4 { data } => matches!(data, Table::F32(_)),
            _ => false,
        };
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
                let (batch, order) = (BatchSize::Rows(256), BatchOrder::Shuffle { seed: 1 });
                let (loss, init) = (Loss::Mse, Init::Zeros);
                match data {
                    Table::F32(d) => train(
                        &model, loss, d, optimizer, *lr, batch, order, init, threads, 1, &mut f32s,
                    ),
                    Table::F64(d) => train(
                        &model, loss, d, optimizer, *lr, batch, order, init, threads, 1, &mut f64s,
                    ),
                }
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
                let (batch, order) = (BatchSize::Rows(128), BatchOrder::Shuffle { seed: 1 });
                let (loss, init) = (Loss::CrossEntropy, Init::Torch { seed: 0 });
                match data {
                    Table::F32(d) => train(
                        &model, loss, d, "adam", 1e-3, batch, order, init, threads, 1, &mut f32s,
                    ),
                    Table::F64(d) => train(
                        &model, loss, d, "adam", 1e-3, batch, order, init, threads, 1, &mut f64s,
                    ),
                }
            }
            Workload::P5 {
                params,
                grads,
                optimizer,
                threads,
            } => {
                optimizer.step(1e-3, params, grads);
                Ok(*threads)
            }
            Workload::Small(spec) => {
                let mut spec = (**spec).clone();
                spec.threads = threads;
                let mut run = Run::<f64>::new(spec)?;
                std::hint::black_box(run.train(&mut f64s)?);
                Ok(run.threads())
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
) -> Result<usize> {
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
    Ok(t.threads())
}

/// The classic 2-3-2-12-2 sigmoid network, 3 samples, 100 full-batch epochs with each of the
/// four classic optimizer settings.
fn p1(threads: Option<usize>, observers: &mut [&mut dyn Observer<f32>]) -> Result<usize> {
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
    let mut ran_on = 1;
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
        ran_on = t.threads();
    }
    Ok(ran_on)
}

/// The machine limit a workload runs against, measured in the same process as the workload
/// (so that `descent bench` can say how close each result is to it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floor {
    /// Which limit: `"copy"` (memory bandwidth, measured by copying a buffer the size of
    /// the workload's data), `"update"` (memory bandwidth, measured by a pass that updates
    /// arrays in place as the workload does, [`update_rate`]) or `"gemm"` (the GEMM's rate
    /// on a 1024³ product in the workload's precision).
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
    /// - P5: Adam's 28 bytes a parameter (read p, g, m, v; write p, m, v back in place) at
    ///   the rate of an in-place pass that moves the same bytes through a working set of
    ///   P5's size and layout ([`update_rate`]): the time of that pass.
    ///
    /// `None` for workloads bound by arithmetic that no one figure stands for (P1, P3, the
    /// small runs).
    pub fn floor(&self, threads: usize) -> Option<Floor> {
        match self {
            Workload::P2 { data, .. } => {
                let bytes = data.feature_bytes()?;
                Some(Floor {
                    limit: "copy",
                    seconds: bytes as f64 / copy_rate(bytes, threads),
                })
            }
            Workload::P4 { data } => {
                let flops = data.rows() as f64 * (4.0 * 784.0 * 256.0 + 6.0 * 256.0 * 10.0);
                Some(Floor {
                    limit: "gemm",
                    seconds: flops
                        / match data {
                            Table::F32(_) => gemm_rate::<f32>(threads),
                            Table::F64(_) => gemm_rate::<f64>(threads),
                        },
                })
            }
            Workload::P5 { params, .. } => {
                let n = params.len();
                Some(Floor {
                    limit: "update",
                    seconds: ADAM_BYTES as f64 * n as f64 / update_rate(n, threads),
                })
            }
            _ => None,
        }
    }
}

/// Bytes copied per second from one buffer of `bytes` into another, on `threads` threads
/// (the run's pool, [`crate::parallel::pool`]; blocks of [`COPY_BLOCK`] bytes, each copied
/// by whichever thread comes to it first); the best of five copies after a first that
/// touches every page. Counts the bytes copied, as STREAM does, not the bytes moved: a
/// copy also reads each destination line before writing it (write-allocate), so it moves
/// about 3 bytes per byte copied through memory, not 2.
pub fn copy_rate(bytes: usize, threads: usize) -> f64 {
    let n = bytes.max(8) / 8;
    let src: Vec<u64> = (0..n as u64).collect();
    let mut dst = vec![0u64; n];
    let pool = crate::parallel::pool(threads);
    let block = COPY_BLOCK / 8;
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let t = std::time::Instant::now();
        let blocks: Vec<_> = dst.chunks_mut(block).zip(src.chunks(block)).collect();
        run_on(pool, blocks, |(d, s)| d.copy_from_slice(s));
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&mut dst);
    }
    (8 * n) as f64 / best
}

/// Bytes a block of [`copy_rate`]'s copy moves from one buffer to the other (4 MiB: a few
/// microseconds of work, so the threads share the copy evenly whatever the size).
pub const COPY_BLOCK: usize = 4 << 20;

/// Bytes one Adam step moves per parameter (f32): p, g, m and v read, then p, m and v
/// written back in place (each written line was just read, so no extra read for it).
pub const ADAM_BYTES: usize = 28;

/// Bytes moved per second by the pass that bounds an Adam step over `n` f32 parameters, on
/// `threads` threads ([`UpdateSet::pass`]: [`ADAM_BYTES`] an element); the best of five
/// passes after a first that touches every page.
pub fn update_rate(n: usize, threads: usize) -> f64 {
    let mut set = UpdateSet::new(n);
    let pool = crate::parallel::pool(threads);
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let t = std::time::Instant::now();
        set.pass(pool);
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&mut set);
    }
    (ADAM_BYTES * set.p.len()) as f64 / best
}

/// The working set of [`update_rate`]: four arrays of `n` 4-byte elements laid out as
/// [`Workload::P5`] lays out its own (p and g whole; m and v one allocation per shard of
/// [`crate::optim::SHARD`] elements, as the optimizer's state is), and backed as P5's are
/// (marked for huge pages before first touch, [`huge_filled`]).
#[derive(Debug)]
pub struct UpdateSet {
    p: Vec<u32>,
    g: Vec<u32>,
    m: Vec<Vec<u32>>,
    v: Vec<Vec<u32>>,
}

impl UpdateSet {
    /// The set for `n` elements (at least 1), g counting up from 0 and the others zero.
    pub fn new(n: usize) -> Self {
        let (n, shard) = (n.max(1), crate::optim::SHARD);
        let state = || -> Vec<Vec<u32>> {
            (0..n.div_ceil(shard))
                .map(|i| huge_filled(shard.min(n - i * shard), 0))
                .collect()
        };
        let mut g = huge_vec(n);
        g.extend(0..n as u32);
        UpdateSet {
            p: huge_filled(n, 0),
            g,
            m: state(),
            v: state(),
        }
    }

    /// One pass, shard by shard on `pool` as the optimizer steps them
    /// (`parallel::run_blocks`; `None`: on this thread): each element of g is read
    /// and added into p, m and v in place (wrapping), so 16 bytes are read and 12 written
    /// back an element, [`ADAM_BYTES`]; the arithmetic is one integer add per write, so
    /// that the pass is bound by memory alone.
    pub fn pass(&mut self, pool: Option<&rayon::ThreadPool>) {
        let shard = crate::optim::SHARD;
        let blocks: Vec<_> = self
            .p
            .chunks_mut(shard)
            .zip(self.g.chunks(shard))
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            .collect();
        run_on(pool, blocks, |((p, g), (m, v))| {
            for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *p = p.wrapping_add(*g);
                *m = m.wrapping_add(*g);
                *v = v.wrapping_add(*g);
            }
        });
    }
}

/// `f` on every block: on `pool` ([`crate::parallel::run_blocks`]), or in order on this
/// thread when there is none (one thread).
fn run_on<T: Send, G: Fn(T) + Sync>(pool: Option<&rayon::ThreadPool>, blocks: Vec<T>, f: G) {
    match pool {
        Some(pool) => crate::parallel::run_blocks(pool, blocks, f),
        None => blocks.into_iter().for_each(f),
    }
}

/// FLOPs per second of the MLP kernel's GEMM ([`crate::kernels::matmul`], in `F`: the AVX-512
/// `gemm` where the CPU has it, else matrixmultiply) on a 1024³ product on `threads` threads
/// (split into blocks as the MLP's products are, [`matmul_on`](crate::kernels::matmul::matmul_on));
/// the best of three after one warm-up.
pub fn gemm_rate<F: Float>(threads: usize) -> f64 {
    let n = 1024;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let a = normal_matrix::<F>(&mut rng, n, n);
    let b = normal_matrix::<F>(&mut rng, n, n);
    let mut c = Array2::<F>::zeros((n, n));
    let mut best = f64::INFINITY;
    for _ in 0..4 {
        let t = std::time::Instant::now();
        let backend = crate::kernels::matmul::backend();
        let pool = crate::parallel::pool(threads);
        crate::kernels::matmul::matmul_on(backend, pool, a.view(), b.view(), c.view_mut());
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&mut c);
    }
    2.0 * (n * n * n) as f64 / best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The untimed runs `bench/reference.py` makes before timing each workload family:
    /// `warmup=N` in its `time_runs` call, 1 where the call does not say.
    fn reference_warmups(family: &str) -> usize {
        let script = include_str!("../../../bench/reference.py");
        let start = script
            .find(&format!("def bench_{family}("))
            .unwrap_or_else(|| panic!("reference.py has no bench_{family}"));
        let body = &script[start..];
        let call = &body[body.find("time_runs(").expect("a time_runs call")..];
        let call = &call[..call.find(')').expect("the call's end")];
        match call.split("warmup=").nth(1) {
            Some(n) => n.trim().parse().expect("a warm-up count"),
            None => 1,
        }
    }

    #[test]
    fn warm_ups_are_the_reference_sides() {
        for id in [
            "P1",
            "P2-sgd",
            "P2-adam-f64",
            "P3-clf",
            "P4",
            "P4-f64",
            "P5",
        ] {
            let family = id[..2].to_lowercase();
            let rows = if id == "P5" { 1 << 10 } else { 64 };
            let w = Workload::prepare(id, Some(rows), Some(1)).unwrap();
            assert_eq!(w.warmups(), reference_warmups(&family), "{id}");
        }
    }

    #[test]
    fn floors_are_given_where_one_limit_bounds_the_work() {
        let p2 = Workload::prepare("P2-sgd", Some(4096), Some(1)).unwrap();
        let f = p2.floor(1).unwrap();
        assert_eq!(f.limit, "copy");
        assert!(f.seconds > 0.0 && f.seconds.is_finite());
        let p2_64 = Workload::prepare("P2-sgd-f64", Some(4096), Some(1)).unwrap();
        assert_eq!(p2_64.floor(1).unwrap().limit, "copy");
        let p5 = Workload::prepare("P5", Some(1 << 16), Some(1)).unwrap();
        assert_eq!(p5.floor(1).unwrap().limit, "update");
        assert!(Workload::prepare("P1", None, Some(1))
            .unwrap()
            .floor(1)
            .is_none());
    }

    #[test]
    fn the_f64_workloads_train_the_f32_tables_before_rounding() {
        for (a, b) in [("P2-adam", "P2-adam-f64"), ("P4", "P4-f64")] {
            let (
                Ok(Workload::P2 { data: t32, .. } | Workload::P4 { data: t32 }),
                Ok(Workload::P2 { data: t64, .. } | Workload::P4 { data: t64 }),
            ) = (
                Workload::prepare(a, Some(300), Some(1)),
                Workload::prepare(b, Some(300), Some(1)),
            )
            else {
                panic!("{a} and {b} are table workloads");
            };
            let (Table::F32(d32), Table::F64(d64)) = (t32, t64) else {
                panic!("{a} is f32 and {b} f64");
            };
            assert_eq!(d32.x.dim(), d64.x.dim());
            assert!(d32.x.iter().zip(&d64.x).all(|(a, b)| *a == *b as f32));
            // P4's labels are the same; P2's targets are computed from the rounded features.
            assert!(d32
                .y
                .iter()
                .zip(&d64.y)
                .all(|(a, b)| (f64::from(*a) - b).abs() <= 1e-5 * (1.0 + b.abs())));
            assert!(
                d64.x.iter().any(|v| f64::from(*v as f32) != *v),
                "f64 keeps more digits"
            );
        }
    }

    #[test]
    fn a_repetition_says_the_threads_it_ran_on() {
        // A small run given no count takes one thread; a count given is the count used.
        let mut tour = Workload::prepare("S-tour", None, None).unwrap();
        assert_eq!(tour.run(None).unwrap(), 1);
        assert_eq!(tour.run(Some(3)).unwrap(), 3);
        let mut p5 = Workload::prepare("P5", Some(1 << 10), Some(2)).unwrap();
        assert_eq!(p5.run(Some(2)).unwrap(), 2);
    }

    #[test]
    fn the_update_pass_reads_four_arrays_and_writes_three_in_place() {
        // Two shards and a part: m and v are cut as the optimizer's state is; after three
        // passes on two threads p, m and v hold 3g everywhere and g is unchanged.
        let n = 2 * crate::optim::SHARD + 5;
        let mut set = UpdateSet::new(n);
        assert_eq!(
            set.m.iter().map(Vec::len).collect::<Vec<_>>(),
            [crate::optim::SHARD, crate::optim::SHARD, 5]
        );
        for _ in 0..3 {
            set.pass(crate::parallel::pool(2));
        }
        let flat = |parts: &[Vec<u32>]| parts.concat();
        let expected: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(3)).collect();
        assert_eq!(set.g, (0..n as u32).collect::<Vec<_>>());
        assert_eq!(set.p, expected);
        assert_eq!(flat(&set.m), expected);
        assert_eq!(flat(&set.v), expected);
        // The P5 floor is the time of that pass: 28 bytes an element at its rate.
        let p5 = Workload::prepare("P5", Some(1 << 16), Some(2)).unwrap();
        let f = p5.floor(2).unwrap();
        assert_eq!(f.limit, "update");
        assert!(f.seconds > 0.0 && f.seconds.is_finite());
        let r = update_rate(1 << 16, 2);
        assert!((1e8..1e13).contains(&r), "{r}");
    }

    #[test]
    fn the_copy_rate_counts_bytes_copied() {
        // 4 MiB copied: at any real machine's rate between 100 MB/s and 10 TB/s.
        let r = copy_rate(4 << 20, 2);
        assert!((1e8..1e13).contains(&r), "{r}");
    }
}
