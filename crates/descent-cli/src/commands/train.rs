//! `descent train`: flags -> [`RunSpec`], a library [`Run`] with the command's observers
//! (progress bar, `metrics.csv`, checkpoints, Ctrl-C, plots), then `model.json`,
//! `summary.json` and a short summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use descent::data::Scaling;
use descent::nn::ModelKind;
use descent::optim::OptimizerSpec;
use descent::run::checkpoint_file::{self, Origin, SavedRun};
use descent::run::{DataSpec, Report, RUN_SPEC_VERSION};
use descent::train::diagnosis::{constant_baseline, diagnose_divergence, diagnose_stall, RunFacts};
use descent::train::{Combine, DivergenceRule, Observer, Outcome, SchedulePer, Stop};
use descent::{DType, Float, Run, RunSpec};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{EXIT_DIVERGED, EXIT_INTERRUPTED};
use crate::args::{AllReduce, Cli, Command, OptimArgs, SchedulePerArg, TrainArgs};
use crate::cluster::Cluster;
use crate::flags::with_flags;
use crate::fsutil::{create_dir, default_run_dir, write_json_atomic};
use crate::lock::RunLock;
use crate::observers::{
    events, interrupt, CheckpointWriter, EventFile, Interrupt, MetricsCsv, Plots, Progress,
};

/// What `train` does besides the run itself: where its files go and what it draws. Stored
/// in checkpoints beside the run specification, so that `--resume` writes the same files.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outputs {
    #[serde(skip)]
    pub out: PathBuf,
    #[serde(skip)]
    pub quiet: bool,
    /// The end-of-run summary as JSON on stdout (`--json`).
    #[serde(skip)]
    pub json: bool,
    pub checkpoint_every: Option<usize>,
    pub plot: bool,
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let combine = match args.allreduce {
        AllReduce::Ordered => Combine::Ordered,
        AllReduce::Plain => Combine::Sum,
    };
    let Some(cluster) = Cluster::detect(combine)? else {
        return run_in(&args, None);
    };
    if !args.quiet {
        note!("{} (MPI); rank 0 writes the files", cluster.describe());
    }
    // An error on any rank ends them all: the others may be waiting for this one.
    match run_in(&args, Some(&cluster)) {
        Err(e) => cluster.abort(&crate::message(&e)),
        ok => ok,
    }
}

fn run_in(args: &TrainArgs, cluster: Option<&Cluster>) -> Result<ExitCode> {
    // Under MPI the launcher handles Ctrl-C (it ends every rank; checkpoints are written
    // whole or not at all): one rank stopping alone would leave the others waiting.
    if cluster.is_none() {
        interrupt::install();
    }
    if let Some(dir) = &args.resume {
        return resume(dir, args, cluster);
    }
    let (spec, outputs) = from_args(args)?;
    match spec.dtype {
        DType::F64 => train::<f64>(spec, outputs, None, None, cluster),
        DType::F32 => train::<f32>(spec, outputs, None, None, cluster),
    }
}

/// `--resume DIR`: rebuild the run from the checkpoint and continue it. `--epochs` raises
/// the total, `--threads` and `--quiet` apply; everything else is the original run's.
fn resume(dir: &Path, args: &TrainArgs, cluster: Option<&Cluster>) -> Result<ExitCode> {
    let file = checkpoint_file::path(dir);
    ensure!(
        file.is_file(),
        "cannot read checkpoint {}: there is none (was the run started with --checkpoint-every?)",
        file.display()
    );
    let (dtype, text) = checkpoint_file::peek(dir)?;
    match dtype {
        DType::F64 => resume_in::<f64>(dir, args, &text, cluster),
        DType::F32 => resume_in::<f32>(dir, args, &text, cluster),
    }
}

fn resume_in<F: Float>(
    dir: &Path,
    args: &TrainArgs,
    text: &str,
    cluster: Option<&Cluster>,
) -> Result<ExitCode> {
    let saved = checkpoint_file::load::<F>(dir, text)?;
    let root = cluster.is_none_or(Cluster::is_root);
    // A live run in the directory would overwrite what this one writes: refuse it before
    // the data is read (under MPI, rank 0 alone writes, and locks).
    let lock = root.then(|| acquire_lock(dir, args.quiet)).transpose()?;
    let ignored = crate::flags::given_train_flags(&[
        "resume",
        "epochs",
        "threads",
        "quiet",
        "json",
        "allreduce",
    ]);
    if !ignored.is_empty() && root {
        eprintln!(
            "warning: {} ignored with --resume: the run continues with its own settings from the checkpoint (only --epochs, --threads, --quiet and --json apply); to change them, start a new run with another --out",
            ignored.join(", ")
        );
    }
    let (mut spec, mut outputs) = match &saved.origin {
        Origin::Spec(spec) => {
            let outputs: Outputs = saved
                .front_end
                .clone()
                .map(serde_json::from_value)
                .transpose()
                .with_context(|| {
                    format!(
                        "the checkpoint in {} has unreadable output settings",
                        dir.display()
                    )
                })?
                .unwrap_or(Outputs {
                    out: PathBuf::new(),
                    quiet: false,
                    json: false,
                    checkpoint_every: None,
                    plot: false,
                });
            ((**spec).clone(), outputs)
        }
        // Release 0.1 stored the command line: parse it as that release did.
        Origin::Args(stored) => {
            let mut argv = vec!["descent".to_string(), "train".to_string()];
            argv.extend(stored.iter().cloned());
            let Command::Train(original) = Cli::try_parse_from(&argv)
                .with_context(|| {
                    format!(
                        "the checkpoint in {} (version 1) holds arguments this version cannot read",
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
            from_args(&original)?
        }
    };
    outputs.out = dir.to_path_buf();
    outputs.quiet = args.quiet;
    outputs.json = args.json;
    let mut overridden = Vec::new();
    if let Some(e) = args.epochs.filter(|&e| e != spec.epochs) {
        overridden.push(format!(
            "--epochs {e} (the run's total was {})",
            spec.epochs
        ));
        spec.epochs = e;
    }
    if let Some(t) = args.threads.filter(|&t| spec.threads != Some(t)) {
        ensure!(t > 0, "--threads must be at least 1");
        descent::parallel::check_threads(t).context("--threads")?;
        let was = spec.threads.map_or_else(
            || "the count chosen from its work".to_string(),
            |n| n.to_string(),
        );
        overridden.push(format!("--threads {t} (the run had {was})"));
        spec.threads = Some(t);
    }
    if !overridden.is_empty() && !args.quiet && root {
        note!(
            "resuming {} with {}; every other setting is the run's own",
            dir.display(),
            overridden.join(" and ")
        );
    }
    ensure!(
        spec.epochs >= saved.state.epoch,
        "the checkpoint is at epoch {}, beyond --epochs {}",
        saved.state.epoch,
        spec.epochs
    );
    train::<F>(spec, outputs, Some(saved), lock, cluster)
}

/// The run specification and the output settings from the command line, checked before
/// any data is read.
pub fn from_args(a: &TrainArgs) -> Result<(RunSpec, Outputs)> {
    let model = a.model.kind()?;
    let epochs = a.epochs.unwrap_or(100);
    ensure!(epochs > 0, "--epochs must be at least 1");
    ensure!(
        a.checkpoint_every != Some(0),
        "--checkpoint-every must be at least 1"
    );
    if let Some(t) = a.threads {
        ensure!(t > 0, "--threads must be at least 1");
        descent::parallel::check_threads(t).context("--threads")?;
    }
    let shuffle = if a.no_shuffle {
        Some(false)
    } else if a.shuffle {
        Some(true)
    } else {
        None
    };
    ensure!(
        a.val_fraction.is_finite() && (0.0..1.0).contains(&a.val_fraction),
        "--val-fraction must be in [0, 1), not {}",
        a.val_fraction
    );
    let optimizer = optimizer_spec(&a.optim)?;
    let lr = optimizer.lr()?;
    if lr < 0.0 {
        bail!("--lr must be positive, not {lr}: a negative learning rate climbs the loss instead of descending it");
    }
    ensure!(
        lr > 0.0,
        "--lr must be > 0: with a zero learning rate nothing is learned"
    );
    if let Some(l) = a.model.loss {
        descent::run::check_loss_fits_model(&model, l)
            .with_context(|| format!("--loss {l} does not fit --model {}", model.name()))?;
    }
    let mut data = DataSpec {
        val_fraction: a.val_fraction,
        ..a.data.spec()?
    };
    if data.stream.is_none() {
        data.stream = crate::stream::over_budget(&a.data, a.quiet)?;
    }
    if let Some(from) = &a.scale_from {
        let Some(stream) = data.stream.as_mut() else {
            bail!("--scale-from applies to streamed training; add --stream (data read whole fits its scalers in memory)");
        };
        stream.scale_from = Some(from.clone());
    }
    let spec = RunSpec {
        version: RUN_SPEC_VERSION,
        data,
        init: a.model.init()?,
        model,
        loss: a.model.loss,
        scale: a.model.scale,
        scale_target: a.scale_target,
        dtype: a.dtype,
        optimizer,
        no_decay_bias: a.optim.no_decay_bias,
        schedule: a.optim.schedule.clone(),
        schedule_per: match a.optim.schedule_per {
            SchedulePerArg::Epoch => SchedulePer::Epoch,
            SchedulePerArg::Step => SchedulePer::Step,
        },
        epochs,
        batch: a.batch,
        shuffle,
        seed: a.model.seed,
        clip_norm: a.optim.clip_norm,
        clip_value: a.optim.clip_value,
        divergence: DivergenceRule {
            on_divergence: a.on_divergence,
            ..DivergenceRule::default()
        },
        early_stopping: a.early_stopping.clone(),
        threads: a.threads,
    };
    spec.validate()?;
    let outputs = Outputs {
        out: a.out.clone().unwrap_or_else(default_run_dir),
        quiet: a.quiet,
        json: a.json,
        checkpoint_every: a.checkpoint_every,
        plot: a.plot,
    };
    Ok((spec, outputs))
}

/// The optimizer spec from the flags that were given (only those: an option that does not
/// apply to the optimizer is an error from the spec, not silently ignored).
pub(crate) fn optimizer_spec(o: &OptimArgs) -> Result<OptimizerSpec> {
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

fn train<F: Float>(
    spec: RunSpec,
    o: Outputs,
    resumed: Option<SavedRun<F>>,
    lock: Option<RunLock>,
    cluster: Option<&Cluster>,
) -> Result<ExitCode> {
    let started = Instant::now();
    if let Some(c) = cluster {
        let same = json!({ "spec": spec, "checkpoint_every": o.checkpoint_every });
        c.check_same(&same.to_string())?;
    }
    let root = cluster.is_none_or(Cluster::is_root);
    // Seconds reading the in-memory data (a stream reads as it trains).
    let mut read_s = 0.0;
    let (mut run, mut stream) = if spec.data.stream.is_some() {
        // Each rank would read the whole validation stream after every epoch: refused until
        // the ranks share that pass.
        anyhow::ensure!(
            cluster.is_none() || spec.data.val_fraction == 0.0,
            "--val-fraction on streamed data is not available under mpirun yet; run without it (or in one process), or hold out a validation file and check it with `descent predict`"
        );
        // Under MPI rank 0 alone makes the pass for the statistics and sends them on.
        let mut alone = descent::run::Alone;
        let mut shared = cluster;
        let share: &mut dyn descent::run::ShareStats = match &mut shared {
            Some(c) => c,
            None => &mut alone,
        };
        let given = crate::stream::scale_from(&spec)?;
        let scalers = given.as_ref().map(|g| g.scalers.clone());
        let (run, source, report) =
            Run::<F>::streaming_with(spec.clone(), scalers, share).map_err(with_flags)?;
        if let Some(g) = &given {
            g.check_columns(&run.train_set.feature_names, &run.train_set.target_names)?;
        }
        if !o.quiet && root {
            note!("{}", report.line());
        }
        if let (Some(c), false) = (cluster, o.quiet) {
            note!("{}", c.stats_note(report.stats_read));
        }
        (run, Some(source))
    } else {
        // Run::new in two steps, to time reading the data apart from building the run.
        spec.validate().map_err(with_flags)?;
        let data =
            descent::run::load_data::<F>(&spec.data, &spec.model, spec.loss).map_err(with_flags)?;
        read_s = started.elapsed().as_secs_f64();
        (
            Run::<F>::from_dataset(spec.clone(), data).map_err(with_flags)?,
            None,
        )
    };
    if let Some(c) = cluster {
        let rows = run.train_set.n_rows() + stream.as_ref().map_or(0, |s| s.n_rows() as usize);
        let batch = match spec.batch {
            descent::data::BatchSize::Rows(b) => b.min(rows),
            descent::data::BatchSize::Full => rows,
        };
        let ordered = c.plan(run.trainer.params.values.len(), batch)?;
        if !o.quiet && c.is_root() {
            let mlp = matches!(spec.model, ModelKind::Mlp { .. });
            note!("{}", c.note(ordered, mlp));
        }
        run.trainer.set_gradient_hook(c.hook::<F>(ordered));
        if !c.is_root() {
            // The same run as rank 0's, without its files and messages.
            if let Some(r) = &resumed {
                run.restore(&r.state)?;
            }
            match &mut stream {
                Some(source) => {
                    run.train_source(source, &mut [])?;
                    if !o.quiet {
                        note!("{}", read_share(c, source)?);
                    }
                    // This rank's share of rank 0's final metrics.
                    let m2 = source.stats().targets.m2.clone();
                    run.report_source(source, &m2)?;
                }
                None => {
                    run.train(&mut [])?;
                }
            };
            return Ok(ExitCode::SUCCESS);
        }
    }
    let started_training = Instant::now();
    let streamed_rows = stream.as_ref().map_or(0, |s| s.n_rows() as usize);
    let dropped = run.train_set.dropped_rows;
    if dropped > 0 && !o.quiet {
        let rows = run.train_set.n_rows()
            + run.val_set.as_ref().map_or(0, |v| v.n_rows())
            + streamed_rows
            + run.val_stream_rows() as usize;
        note!(
            "dropped {dropped} of {} rows with a missing value (--drop-missing)",
            dropped + rows
        );
    }
    if let (Some(e), false) = (&run.train_set.one_hot, o.quiet) {
        for line in e.describe() {
            note!("one-hot encoded {line}");
        }
    }
    create_dir(&o.out)?;
    // Held until the run returns: a second run into the directory is refused meanwhile.
    let _lock = match lock {
        Some(lock) => lock,
        None => acquire_lock(&o.out, o.quiet)?,
    };
    let previous = resumed
        .as_ref()
        .map(|r| r.metrics.clone())
        .unwrap_or_default();
    let mut metrics = MetricsCsv::create(&o.out.join("metrics.csv"), &previous)?;
    let front_end = serde_json::to_value(&o).context("cannot record the output settings")?;
    let mut checkpoints = CheckpointWriter::new(
        o.out.clone(),
        o.checkpoint_every,
        spec.clone(),
        front_end,
        previous,
    );
    let mut progress = Progress::new(o.quiet);
    let mut interrupt = Interrupt;
    let mut events = EventFile::create(
        &o.out.join(events::EVENTS_FILE),
        json!({ "stable_lr": stable_lr(&spec, &run) }),
    )?;
    let start_values = match &resumed {
        Some(r) => r.state.params.clone(),
        None => run.trainer.params.values.clone(),
    };
    let mut plots = Plots::new(o.plot, &start_values);
    plots.resume_from(&checkpoints.history.records);
    if let Some(r) = &resumed {
        run.restore(&r.state)?;
    }
    let mut observers: [&mut dyn Observer<F>; 6] = [
        &mut metrics,
        &mut checkpoints,
        &mut progress,
        &mut interrupt,
        &mut plots,
        &mut events,
    ];
    let setup_s = started.elapsed().as_secs_f64() - read_s;
    let training = Instant::now();
    let outcome = match &mut stream {
        Some(source) => run.train_source(source, &mut observers)?,
        None => run.train(&mut observers)?,
    };
    let train_s = training.elapsed().as_secs_f64();
    drop(events);
    if let (Some(c), Some(source), false) = (cluster, &stream, o.quiet) {
        note!("{}", read_share(c, source)?);
    }
    if let (Some(c), false) = (cluster, o.quiet) {
        note!(
            "MPI rank 0 of {}: {} during {:.3} s of training",
            c.size(),
            c.traffic(),
            started_training.elapsed().as_secs_f64()
        );
    }
    let interrupted =
        matches!(&outcome.stop, Stop::Stopped { reason } if reason == interrupt::REASON);
    let diverged = matches!(outcome.stop, Stop::Diverged { .. });
    // A final checkpoint (a diverged run keeps its last good one).
    if (o.checkpoint_every.is_some() || interrupted) && !diverged {
        checkpoints.write(&run.trainer.checkpoint())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let report = match &mut stream {
        Some(source) => {
            let m2 = source.stats().targets.m2.clone();
            run.report_source(source, &m2)?
        }
        None => run.report()?,
    };
    // A diverged run keeps its best parameters apart: it never replaces a good model.
    let name = if diverged {
        "best-model.json"
    } else {
        "model.json"
    };
    run.model().save(&o.out.join(name))?;
    let train = &run.train_set;
    let lr = spec.lr()?;
    // Whether a run that ended on its own reached what the model can reach.
    let fit = match &outcome.stop {
        // A streamed run's table is not in memory to check the fit on.
        _ if stream.is_some() => None,
        Stop::Completed | Stop::EarlyStopped { .. } => {
            Some(run.check_fit(&checkpoints.history.records, &report)?)
        }
        _ => None,
    };
    let converged = match (&fit, diverged) {
        (Some(f), _) => Some(f.converged),
        (None, true) => Some(false),
        (None, false) => None,
    };
    let summary = json!({
        "descent_version": env!("CARGO_PKG_VERSION"),
        "spec": spec,
        "data": {
            "source": spec.data.source.describe(),
            "features": train.feature_names,
            "targets": train.target_names,
            "classes": train.classes,
            "train_rows": train.n_rows() + streamed_rows,
            "val_rows": run
                .val_set
                .as_ref()
                .map(|v| v.n_rows())
                .or((run.val_stream_rows() > 0).then(|| run.val_stream_rows() as usize)),
            "dropped_rows": train.dropped_rows,
            "scale": run.scaler,
        },
        "model": spec.model,
        "loss": run.trainer.loss(),
        "dtype": F::NAME,
        "init": spec.resolved_init(),
        "optimizer": spec.optimizer,
        "lr": lr,
        "schedule": spec.schedule.as_ref().map(ToString::to_string),
        "config": run.trainer.config(),
        "seed": spec.seed,
        "outcome": outcome,
        "final": report,
        "converged": converged,
        "fit": fit,
        "seconds": seconds,
        // Reading the data, building the run (split, scaler, table, model), and the epochs
        // with their observers; `seconds` is the whole run.
        "timing": { "read_s": read_s, "setup_s": setup_s, "train_s": train_s },
    });
    let mut summary = summary;
    if let Some(e) = &train.one_hot {
        summary["data"]["one_hot"] = json!(e);
    }
    if let Some(c) = run.model().coefficients() {
        summary["coefficients"] = json!(c);
    }
    write_json_atomic(&o.out.join("summary.json"), &summary)?;
    if o.json {
        let end = json!({
            "out": o.out,
            "model": o.out.join(name),
            "outcome": outcome,
            "final": report,
            "seconds": seconds,
        });
        println!("{end}");
    } else if !o.quiet {
        print_summary(&spec, &o, &outcome, &report, seconds);
    }
    if stream.is_none() {
        plots.write(
            &o.out,
            run.trainer.model(),
            run.trainer.loss(),
            train,
            &run.scaler,
        )?;
    }
    if let Stop::Diverged {
        epoch,
        step,
        loss,
        cause,
    } = &outcome.stop
    {
        let facts = RunFacts {
            model: &spec.model,
            loss: run.trainer.loss(),
            optimizer: &spec.optimizer,
            lr,
            no_decay_bias: spec.no_decay_bias,
            x: train.x.view(),
            targets: train.y.ncols(),
            scaled: spec.scale != Scaling::None,
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
            o.out.join("best-model.json").display()
        );
        return Ok(ExitCode::from(EXIT_DIVERGED));
    }
    let has_hidden = matches!(&spec.model, ModelKind::Mlp { hidden, .. } if !hidden.is_empty());
    let stall = constant_baseline(run.trainer.loss(), train.y.view())
        .filter(|_| has_hidden && stream.is_none())
        .and_then(|baseline| diagnose_stall(&checkpoints.history.records, baseline));
    if let Some(w) = stall {
        eprintln!("warning: {w}");
    }
    if let Some(f) = fit.filter(|f| !f.converged) {
        eprintln!(
            "warning: the run did not converge: {}.",
            f.reasons.join("; ")
        );
        for (i, line) in f.advice.iter().enumerate() {
            eprintln!("  {}. {line}", i + 1);
        }
    }
    if interrupted {
        eprintln!(
            "interrupted: state saved; continue with `descent train --resume {}`",
            o.out.display()
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The largest stable constant learning rate of least squares for the run's optimizer (the
/// board draws it on the lr panel); `None` for other models and optimizers, and for data too
/// large to find the curvature in a moment.
fn stable_lr<F: Float>(spec: &RunSpec, run: &Run<F>) -> Option<f64> {
    let train = &run.train_set;
    if train.x.len() > 2_000_000 {
        return None;
    }
    let facts = RunFacts {
        model: &spec.model,
        loss: run.trainer.loss(),
        optimizer: &spec.optimizer,
        lr: spec.lr().ok()?,
        no_decay_bias: spec.no_decay_bias,
        x: train.x.view(),
        targets: train.y.ncols(),
        scaled: spec.scale != Scaling::None,
        feature_names: &train.feature_names,
    };
    let c = facts.curvature()?;
    descent::analysis::stable_lr(&facts.step_rule()?, c.lambda_max)
        .bound()
        .filter(|b| b.is_finite())
}

fn print_summary(spec: &RunSpec, o: &Outputs, outcome: &Outcome, r: &Report, seconds: f64) {
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
        spec.model,
        spec.data.source.describe(),
        outcome.epochs,
        outcome.steps
    );
    println!("{}", r.train.line("train"));
    if let Some(v) = &r.val {
        println!("{}", v.line("val  "));
    }
    println!("  wrote {}", o.out.display());
}

/// The lock on the run directory `dir`, with a note when it takes over a stale one.
fn acquire_lock(dir: &Path, quiet: bool) -> Result<RunLock> {
    let (lock, stale) = RunLock::acquire(dir)?;
    if let (Some(pid), false) = (stale, quiet) {
        note!(
            "{} held a lock of process {pid}, which is no longer running (killed?); taking it over",
            dir.display()
        );
    }
    Ok(lock)
}

/// `rank R of N read G of T row groups per epoch (P% of the bytes)`: what a rank's
/// training epochs read of a streamed file (a linear model's rank reads only the row groups
/// that hold rows of its chunks).
fn read_share<F: Float>(
    c: &Cluster,
    source: &descent::data::parquet::ParquetBatches<F>,
) -> Result<String> {
    let s = source.read_share()?;
    let epochs = s.epochs.max(1) as f64;
    Ok(format!(
        "{} read {:.1} of {} row groups per epoch ({:.1}% of the {} bytes of the chosen columns)",
        c.describe(),
        s.groups as f64 / epochs,
        s.file_groups,
        100.0 * s.bytes as f64 / (epochs * s.file_bytes.max(1) as f64),
        s.file_bytes
    ))
}
