//! `descent train`: read data, scale, build model and optimizer, run the trainer with its
//! observers, then write `model.json` and `summary.json` and print a short summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use descent::data::{BatchOrder, BatchSize, Columns, Dataset, Scaler, Scaling, TargetKind};
use descent::loss::{accuracy, r2_score, Loss};
use descent::nn::{Activation, ModelKind, Sequential};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::{Constant, ScheduleSpec, Scheduler};
use descent::train::diagnosis::{constant_baseline, diagnose_divergence, diagnose_stall, RunFacts};
use descent::train::{
    evaluate, DivergenceRule, EarlyStopping, Observer, Outcome, SchedulePer, Stop, TrainConfig,
    TrainData, Trainer,
};
use descent::Float;
use serde_json::json;

use super::{EXIT_DIVERGED, EXIT_INTERRUPTED};
use crate::args::{Cli, Command, OptimArgs, TrainArgs};
use crate::checkpoint_file;
use crate::data_source::DataSource;
use crate::fsutil::{create_dir, default_run_dir, write_json_atomic};
use crate::model_file::ModelFile;
use crate::observers::{interrupt, CheckpointWriter, Interrupt, MetricsCsv, Plots, Progress};
use crate::prep::{check_binary_labels, check_loss_fits_model, n_outputs, parse_init};

/// Everything `train` needs, validated before any data is read.
struct Setup {
    source: DataSource,
    columns: Columns,
    kind: ModelKind,
    loss: Loss,
    config: TrainConfig,
    seed: u64,
    init: Init,
    scaling: Scaling,
    val_fraction: f64,
    out: PathBuf,
    quiet: bool,
    checkpoint_every: Option<usize>,
    /// The `train` arguments, stored in checkpoints.
    argv: Vec<String>,
    plot: bool,
    optimizer: OptimizerSpec,
    no_decay_bias: bool,
    schedule: Option<ScheduleSpec>,
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    if let Some(t) = args.threads {
        ensure!(t > 0, "--threads must be at least 1");
        descent::parallel::set_threads(t);
        std::env::set_var("MATMUL_NUM_THREADS", t.to_string());
    }
    interrupt::install();
    if let Some(dir) = &args.resume {
        return resume(dir, &args);
    }
    // The arguments after `train`, stored in checkpoints so that --resume rebuilds the run.
    let argv: Vec<String> = std::env::args().skip(2).collect();
    let setup = Setup::new(&args, argv)?;
    match args.dtype.as_str() {
        "f64" => train::<f64>(&setup, None),
        "f32" => train::<f32>(&setup, None),
        other => bail!("--dtype must be f64 or f32, not `{other}`"),
    }
}

/// `--resume DIR`: rebuild the run from the checkpoint's arguments and continue it.
fn resume(dir: &Path, args: &TrainArgs) -> Result<ExitCode> {
    let (dtype, text) = checkpoint_file::peek(dir)?;
    match dtype.as_str() {
        "f64" => resume_in::<f64>(dir, args, &text),
        "f32" => resume_in::<f32>(dir, args, &text),
        other => bail!(
            "the checkpoint in {} has an unknown dtype `{other}`",
            dir.display()
        ),
    }
}

fn resume_in<F: Float>(dir: &Path, args: &TrainArgs, text: &str) -> Result<ExitCode> {
    let loaded = checkpoint_file::load::<F>(dir, text)?;
    let mut argv = vec!["descent".to_string(), "train".to_string()];
    argv.extend(loaded.args.iter().cloned());
    let Command::Train(mut original) = Cli::try_parse_from(&argv)
        .with_context(|| {
            format!(
                "the checkpoint in {} holds arguments this version cannot read",
                dir.display()
            )
        })?
        .command
    else {
        bail!(
            "the checkpoint in {} was not made by `descent train`",
            dir.display()
        );
    };
    original.out = Some(dir.to_path_buf());
    original.quiet = args.quiet;
    if args.epochs.is_some() {
        original.epochs = args.epochs;
    }
    let mut stored = loaded.args.clone();
    if let Some(e) = args.epochs {
        set_flag(&mut stored, "--epochs", &e.to_string());
    }
    let setup = Setup::new(&original, stored)?;
    ensure!(
        setup.config.epochs >= loaded.state.epoch,
        "the checkpoint is at epoch {}, beyond --epochs {}",
        loaded.state.epoch,
        setup.config.epochs
    );
    train::<F>(&setup, Some(loaded))
}

/// Sets `--flag value` in a stored argument list (replacing an earlier value).
fn set_flag(argv: &mut Vec<String>, flag: &str, value: &str) {
    let mut i = 0;
    while i < argv.len() {
        if argv[i] == flag {
            argv.drain(i..(i + 2).min(argv.len()));
        } else if argv[i].starts_with(&format!("{flag}=")) {
            argv.remove(i);
        } else {
            i += 1;
        }
    }
    argv.push(flag.to_string());
    argv.push(value.to_string());
}

impl Setup {
    fn new(a: &TrainArgs, argv: Vec<String>) -> Result<Self> {
        let activation: Activation = a.activation.parse()?;
        let kind = ModelKind::parse(&a.model, &a.hidden, activation)?;
        ensure!(
            a.hidden.is_empty() || matches!(kind, ModelKind::Mlp { .. }),
            "--hidden applies only to --model mlp"
        );
        let loss = match &a.loss {
            Some(l) => l.parse()?,
            None => kind.default_loss(None),
        };
        check_loss_fits_model(&kind, loss)?;
        let epochs = a.epochs.unwrap_or(100);
        ensure!(epochs > 0, "--epochs must be at least 1");
        ensure!(
            a.checkpoint_every != Some(0),
            "--checkpoint-every must be at least 1"
        );
        let batch: BatchSize = a.batch.parse()?;
        let shuffle = if a.no_shuffle {
            false
        } else {
            a.shuffle || batch != BatchSize::Full
        };
        let init = match &a.init {
            Some(s) => parse_init(s, a.seed)?,
            None if matches!(kind, ModelKind::Mlp { .. }) => Init::Torch { seed: a.seed },
            None => Init::Zeros,
        };
        ensure!(
            a.val_fraction.is_finite() && (0.0..1.0).contains(&a.val_fraction),
            "--val-fraction must be in [0, 1), not {}",
            a.val_fraction
        );
        let schedule_per = match a.optim.schedule_per.as_str() {
            "epoch" => SchedulePer::Epoch,
            "step" => SchedulePer::Step,
            other => bail!("--schedule-per must be epoch or step, not `{other}`"),
        };
        let optimizer = optimizer_spec(&a.optim)?;
        ensure!(
            optimizer.lr()? > 0.0,
            "--lr must be > 0: with a zero learning rate nothing is learned"
        );
        // Validate the hyper-parameters now, before reading any data.
        optimizer.build::<f64>(vec![(0..1, GroupOptions::default())])?;
        let schedule = a
            .optim
            .schedule
            .as_deref()
            .map(ScheduleSpec::parse)
            .transpose()?;
        let divergence = DivergenceRule {
            on_divergence: a.on_divergence.parse()?,
            ..DivergenceRule::default()
        };
        let early_stopping = a
            .early_stopping
            .as_deref()
            .map(str::parse::<EarlyStopping>)
            .transpose()?;
        let config = TrainConfig {
            divergence,
            early_stopping,
            epochs,
            batch,
            order: if shuffle {
                BatchOrder::Shuffle { seed: a.seed }
            } else {
                BatchOrder::Sequential
            },
            schedule_per,
            clip_norm: a.optim.clip_norm,
            clip_value: a.optim.clip_value,
        };
        config.validate()?;
        let columns = Columns {
            targets: a.target.clone(),
            features: a.features.clone(),
            drop_missing: a.drop_missing,
        };
        Ok(Setup {
            source: DataSource::parse(a.data.as_deref().unwrap_or_default()),
            columns,
            kind,
            loss,
            config,
            seed: a.seed,
            init,
            scaling: a.scale.parse()?,
            val_fraction: a.val_fraction,
            out: a.out.clone().unwrap_or_else(default_run_dir),
            quiet: a.quiet,
            checkpoint_every: a.checkpoint_every,
            argv,
            plot: a.plot,
            optimizer,
            no_decay_bias: a.optim.no_decay_bias,
            schedule,
        })
    }

    fn steps_per_epoch(&self, rows: usize) -> usize {
        match self.config.batch {
            BatchSize::Full => 1,
            BatchSize::Rows(b) => rows.div_ceil(b.max(1)),
        }
    }
}

/// The optimizer spec from the flags that were given (only those: an option that does not
/// apply to the optimizer is an error from the spec, not silently ignored).
fn optimizer_spec(o: &OptimArgs) -> Result<OptimizerSpec> {
    let mut spec = OptimizerSpec::new(&o.optimizer);
    let pair = |name: &str, v: &Vec<f64>| -> Result<serde_json::Value> {
        ensure!(
            v.len() == 2,
            "--{name} takes two comma-separated numbers, e.g. 0.9,0.999"
        );
        Ok(json!([v[0], v[1]]))
    };
    let numbers = [
        ("lr", o.lr),
        ("momentum", o.momentum),
        ("dampening", o.dampening),
        ("beta", o.beta),
        ("weight_decay", o.weight_decay),
        ("eps", o.eps),
        ("alpha", o.alpha),
        ("rho", o.rho),
        ("lr_decay", o.lr_decay),
        ("initial_accumulator_value", o.initial_accumulator_value),
        ("momentum_decay", o.momentum_decay),
        ("lambd", o.lambd),
        ("t0", o.t0),
    ];
    for (k, v) in numbers {
        if let Some(v) = v {
            spec = spec.with(k, v);
        }
    }
    let flags = [
        ("nesterov", o.nesterov),
        ("amsgrad", o.amsgrad),
        ("centered", o.centered),
        ("maximize", o.maximize),
        ("decoupled_weight_decay", o.decoupled_weight_decay),
    ];
    for (k, on) in flags {
        if on {
            spec = spec.with(k, true);
        }
    }
    for (k, v) in [
        ("betas", &o.betas),
        ("etas", &o.etas),
        ("step_sizes", &o.step_sizes),
    ] {
        if let Some(v) = v {
            spec = spec.with(k, pair(k, v)?);
        }
    }
    Ok(spec)
}

/// Reads the data, splits, fits the scaler on the training part and applies it to both.
fn prepare<F: Float>(setup: &Setup) -> Result<(Dataset, Option<Dataset>, Scaler)> {
    let target_kind = if setup.loss.is_classification() {
        TargetKind::Classes
    } else {
        TargetKind::Real
    };
    let data = setup.source.load::<F>(&setup.columns, target_kind)?;
    if data.dropped_rows > 0 && !setup.quiet {
        eprintln!(
            "note: dropped {} of {} rows with a missing value (--drop-missing)",
            data.dropped_rows,
            data.dropped_rows + data.n_rows()
        );
    }
    check_binary_labels(&setup.source, &data, setup.loss)?;
    let (mut train, mut val) = data.split(setup.val_fraction, setup.seed)?;
    let scaler = Scaler::fit(setup.scaling, &train.x);
    scaler.transform(&mut train.x)?;
    if let Some(v) = &mut val {
        scaler.transform(&mut v.x)?;
    }
    Ok((train, val, scaler))
}

fn train<F: Float>(setup: &Setup, resumed: Option<checkpoint_file::Loaded<F>>) -> Result<ExitCode> {
    let started = Instant::now();
    let (train, val, scaler) = prepare::<F>(setup)?;
    let model = setup
        .kind
        .build(train.n_features(), n_outputs(setup.loss, &train))?;
    let params = Params::<F>::init(model.layout(), &setup.init)?;
    let groups = params
        .layout
        .views()
        .iter()
        .map(|v| {
            let wd = (setup.no_decay_bias && v.is_bias()).then_some(0.0);
            (v.range(), GroupOptions { weight_decay: wd })
        })
        .collect();
    let optimizer = setup.optimizer.build::<F>(groups)?;
    let lr = setup.optimizer.lr()?;
    let total_schedule_steps = match setup.config.schedule_per {
        SchedulePer::Epoch => setup.config.epochs,
        SchedulePer::Step => setup.config.epochs * setup.steps_per_epoch(train.n_rows()),
    };
    let schedule: Box<dyn Scheduler> = match &setup.schedule {
        Some(s) => s.build(lr, optimizer.momentum(), total_schedule_steps)?,
        None => Box::new(Constant { lr }),
    };
    create_dir(&setup.out)?;
    let previous = resumed
        .as_ref()
        .map(|r| r.metrics.clone())
        .unwrap_or_default();
    let mut metrics = MetricsCsv::create(&setup.out.join("metrics.csv"), previous.clone())?;
    let mut checkpoints = CheckpointWriter::new(
        setup.out.clone(),
        setup.checkpoint_every,
        setup.argv.clone(),
        previous,
    );
    let mut progress = Progress::new(setup.quiet);
    let mut interrupt = Interrupt;
    let start_values = resumed.as_ref().map_or(&params.values, |r| &r.state.params);
    let mut plots = Plots::new(setup.plot, start_values);
    plots.resume_from(&checkpoints.rows);
    let train_data = TrainData::<F>::from_dataset(&train);
    let val_data = val.as_ref().map(TrainData::<F>::from_dataset);
    let mut trainer = Trainer::new(
        &model,
        setup.loss,
        setup.config.clone(),
        params,
        optimizer,
        schedule,
    )?;
    if let Some(r) = &resumed {
        trainer.restore(&r.state)?;
    }
    let outcome = trainer.run(
        &train_data,
        val_data.as_ref(),
        &mut [
            &mut metrics as &mut dyn Observer<F>,
            &mut checkpoints,
            &mut progress,
            &mut interrupt,
            &mut plots,
        ],
    )?;
    let interrupted =
        matches!(&outcome.stop, Stop::Stopped { reason } if reason == interrupt::REASON);
    // A final checkpoint (a diverged run keeps its last good one).
    if (setup.checkpoint_every.is_some() || interrupted)
        && !matches!(outcome.stop, Stop::Diverged { .. })
    {
        checkpoints.write(&trainer.checkpoint())?;
    }
    let seconds = started.elapsed().as_secs_f64();

    let report = Report::new(
        &model,
        setup.loss,
        &trainer.params,
        &train_data,
        val_data.as_ref(),
    )?;
    let diverged = matches!(outcome.stop, Stop::Diverged { .. });
    {
        let file = ModelFile::new(
            &setup.kind,
            &model,
            setup.loss,
            train.feature_names.clone(),
            train.target_names.clone(),
            train.classes.clone(),
            scaler.clone(),
            &trainer.params,
        );
        // A diverged run keeps its best parameters apart: it never replaces a good model.
        let name = if diverged {
            "best-model.json"
        } else {
            "model.json"
        };
        write_json_atomic(&setup.out.join(name), &file)?;
    }
    let summary = json!({
        "descent_version": env!("CARGO_PKG_VERSION"),
        "data": {
            "source": setup.source.describe(),
            "features": train.feature_names,
            "targets": train.target_names,
            "classes": train.classes,
            "train_rows": train.n_rows(),
            "val_rows": val.as_ref().map(Dataset::n_rows),
            "dropped_rows": train.dropped_rows,
            "scale": scaler,
        },
        "model": setup.kind,
        "loss": setup.loss,
        "dtype": F::NAME,
        "init": setup.init,
        "optimizer": setup.optimizer,
        "lr": lr,
        "schedule": setup.schedule.as_ref().map(ToString::to_string),
        "config": setup.config,
        "seed": setup.seed,
        "outcome": outcome,
        "final": report,
        "seconds": seconds,
    });
    write_json_atomic(&setup.out.join("summary.json"), &summary)?;
    print_summary(setup, &outcome, &report, seconds);
    plots.write(&setup.out, &model, setup.loss, &train, &scaler)?;
    if let Stop::Diverged {
        epoch,
        step,
        loss,
        cause,
    } = &outcome.stop
    {
        let facts = RunFacts {
            model: &setup.kind,
            loss: setup.loss,
            optimizer: setup.optimizer.canonical_name()?,
            lr,
            momentum: setup
                .optimizer
                .options
                .get("momentum")
                .and_then(serde_json::Value::as_f64),
            x: train.x.view(),
            scaled: setup.scaling != Scaling::None,
            feature_names: &train.feature_names,
        };
        eprintln!(
            "error: training diverged at epoch {epoch} (update {step}): {cause} (last loss {loss}).",
        );
        for (i, line) in diagnose_divergence(&facts).iter().enumerate() {
            eprintln!("  {}. {line}", i + 1);
        }
        eprintln!(
            "  The best parameters (epoch {}) are in {}; model.json was not replaced.",
            outcome.best_epoch,
            setup.out.join("best-model.json").display()
        );
        return Ok(ExitCode::from(EXIT_DIVERGED));
    }
    let has_hidden = matches!(&setup.kind, ModelKind::Mlp { hidden, .. } if !hidden.is_empty());
    let stall = constant_baseline(setup.loss, train.y.view())
        .filter(|_| has_hidden)
        .and_then(|baseline| diagnose_stall(&checkpoints.rows, baseline));
    if let Some(w) = stall {
        eprintln!("warning: {w}");
    }
    if interrupted {
        eprintln!(
            "interrupted: state saved; continue with `descent train --resume {}`",
            setup.out.display()
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Final metrics of one split: the loss, plus MSE and R² (regression) or accuracy
/// (classification).
#[derive(Clone, Copy, serde::Serialize)]
struct SplitMetrics {
    loss: f64,
    mse: Option<f64>,
    r2: Option<f64>,
    accuracy: Option<f64>,
}

impl SplitMetrics {
    fn new<F: Float>(
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
        d: &TrainData<F>,
    ) -> Result<Self> {
        let l = evaluate(model, loss, params, d.x.view(), d.y.view())?;
        let out = model.predict(params, d.x.view())?;
        let mut m = SplitMetrics {
            loss: l,
            mse: None,
            r2: None,
            accuracy: None,
        };
        if loss.is_classification() {
            m.accuracy = Some(accuracy(out.view(), d.y.view()));
        } else {
            let sq: f64 = out
                .iter()
                .zip(d.y.iter())
                .map(|(p, t)| (p.f64() - t.f64()).powi(2))
                .sum();
            m.mse = Some(sq / out.len() as f64);
            m.r2 = Some(r2_score(out.view(), d.y.view()));
        }
        Ok(m)
    }

    fn line(&self, label: &str) -> String {
        let mut line = format!("  {label} loss {}", self.loss);
        if let (Some(mse), Some(r2)) = (self.mse, self.r2) {
            line += &format!("  mse {mse:.6}  r2 {r2:.4}");
        }
        if let Some(acc) = self.accuracy {
            line += &format!("  accuracy {:.2}%", 100.0 * acc);
        }
        line
    }
}

/// Final metrics on the training and validation data.
#[derive(serde::Serialize)]
struct Report {
    train: SplitMetrics,
    val: Option<SplitMetrics>,
}

impl Report {
    fn new<F: Float>(
        model: &Sequential,
        loss: Loss,
        params: &Params<F>,
        train: &TrainData<F>,
        val: Option<&TrainData<F>>,
    ) -> Result<Self> {
        Ok(Report {
            train: SplitMetrics::new(model, loss, params, train)?,
            val: val
                .map(|v| SplitMetrics::new(model, loss, params, v))
                .transpose()?,
        })
    }
}

fn print_summary(setup: &Setup, outcome: &Outcome, r: &Report, seconds: f64) {
    let status = match &outcome.stop {
        Stop::Completed => "completed".to_string(),
        Stop::Diverged { .. } => "DIVERGED".to_string(),
        Stop::EarlyStopped { best_epoch, .. } => {
            format!("early-stopped (best epoch {best_epoch} restored)")
        }
        Stop::Stopped { reason } => format!("stopped: {reason}"),
    };
    println!(
        "{} on {}: {} epochs, {} updates, {status}, {seconds:.3} s",
        setup.kind,
        setup.source.describe(),
        outcome.epochs,
        outcome.steps
    );
    println!("{}", r.train.line("train"));
    if let Some(v) = &r.val {
        println!("{}", v.line("val  "));
    }
    println!("  wrote {}", setup.out.display());
}
