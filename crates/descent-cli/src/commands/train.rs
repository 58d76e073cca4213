//! `descent train`: read data, scale, build model and optimizer, run the trainer with its
//! observers, then write `model.json` and `summary.json` and print a short summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use descent::data::{BatchOrder, BatchSize, Columns, Dataset, Scaler, Scaling, TargetKind};
use descent::loss::{accuracy, r2_score, Loss};
use descent::nn::{Activation, ModelKind, Sequential};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::{Constant, ScheduleSpec, Scheduler};
use descent::train::{
    evaluate, Observer, Outcome, SchedulePer, Stop, TrainConfig, TrainData, Trainer,
};
use descent::Float;
use serde_json::json;

use super::EXIT_DIVERGED;
use crate::args::{OptimArgs, TrainArgs};
use crate::data_source::DataSource;
use crate::fsutil::{create_dir, default_run_dir, write_json_atomic};
use crate::model_file::ModelFile;
use crate::observers::{MetricsCsv, Plots, Progress};

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
    plot: bool,
    optimizer: OptimizerSpec,
    no_decay_bias: bool,
    schedule: Option<ScheduleSpec>,
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let setup = Setup::new(&args)?;
    match args.dtype.as_str() {
        "f64" => train::<f64>(&setup),
        "f32" => train::<f32>(&setup),
        other => bail!("--dtype must be f64 or f32, not `{other}`"),
    }
}

impl Setup {
    fn new(a: &TrainArgs) -> Result<Self> {
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
        ensure!(a.epochs > 0, "--epochs must be at least 1");
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
        let config = TrainConfig {
            epochs: a.epochs,
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
        };
        Ok(Setup {
            source: DataSource::parse(&a.data),
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

fn check_loss_fits_model(kind: &ModelKind, loss: Loss) -> Result<()> {
    match kind {
        ModelKind::Logistic if loss != Loss::BceWithLogits => {
            bail!("--model logistic trains with bce-with-logits, not {loss}")
        }
        ModelKind::Softmax if loss != Loss::CrossEntropy => {
            bail!("--model softmax trains with cross-entropy, not {loss}")
        }
        ModelKind::Linear | ModelKind::LinearNobias if loss.is_classification() => bail!(
            "--model {} is a regression model; use --model logistic (binary) or softmax (classes) for {loss}",
            kind.name()
        ),
        _ => Ok(()),
    }
}

fn parse_init(s: &str, seed: u64) -> Result<Init> {
    Ok(match s {
        "zeros" => Init::Zeros,
        "torch" => Init::Torch { seed },
        _ => {
            if let Some(std) = s.strip_prefix("normal:") {
                let std: f64 = std
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                    .with_context(|| {
                        format!("--init normal:STD needs a finite STD >= 0, not `{std}`")
                    })?;
                Init::Normal { std, seed }
            } else {
                let c: f64 = s
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .with_context(|| {
                        format!("--init must be zeros, torch, normal:STD or a number, not `{s}`")
                    })?;
                Init::Constant(c)
            }
        }
    })
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
    if let (Some(classes), Loss::BceWithLogits) = (&data.classes, setup.loss) {
        ensure!(
            classes.len() == 2,
            "{}: binary classification needs exactly 2 distinct labels in `{}`, found {}: {}",
            setup.source.describe(),
            data.target_names[0],
            classes.len(),
            classes
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        let numeric: Option<Vec<f64>> = classes.iter().map(|c| c.parse().ok()).collect();
        if let Some(n) = numeric {
            ensure!(
                n == [0.0, 1.0],
                "{}: logistic regression needs labels 0 and 1 in `{}`, found {} and {}; recode them, or use --model softmax",
                setup.source.describe(),
                data.target_names[0],
                classes[0],
                classes[1]
            );
        }
    }
    let (mut train, mut val) = data.split(setup.val_fraction, setup.seed)?;
    let scaler = Scaler::fit(setup.scaling, &train.x);
    scaler.transform(&mut train.x)?;
    if let Some(v) = &mut val {
        scaler.transform(&mut v.x)?;
    }
    Ok((train, val, scaler))
}

fn n_outputs(loss: Loss, data: &Dataset) -> usize {
    match (loss, data.n_classes()) {
        (Loss::BceWithLogits, _) => 1,
        (Loss::CrossEntropy, Some(k)) => k,
        _ => data.target_names.len(),
    }
}

fn train<F: Float>(setup: &Setup) -> Result<ExitCode> {
    let started = Instant::now();
    let (train, val, scaler) = prepare::<F>(setup)?;
    let model = setup
        .kind
        .build(train.n_features(), n_outputs(setup.loss, &train))?;
    let params = Params::<F>::init(model.layout(), &setup.init)?;
    let mut plots = Plots::new(setup.plot, &params);
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
    let mut metrics = MetricsCsv::create(&setup.out.join("metrics.csv"), Vec::new())?;
    let mut progress = Progress::new(setup.quiet);
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
    let outcome = trainer.run(
        &train_data,
        val_data.as_ref(),
        &mut [
            &mut metrics as &mut dyn Observer<F>,
            &mut progress,
            &mut plots,
        ],
    )?;
    let seconds = started.elapsed().as_secs_f64();

    let report = Report::new(
        &model,
        setup.loss,
        &trainer.params,
        &train_data,
        val_data.as_ref(),
    )?;
    let diverged = matches!(outcome.stop, Stop::Diverged { .. });
    if !diverged {
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
        write_json_atomic(&setup.out.join("model.json"), &file)?;
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
    if let Stop::Diverged { epoch, step, loss } = outcome.stop {
        eprintln!(
            "error: training diverged at epoch {epoch} (update {step}): the loss became {loss}. \
             The learning rate {lr} is probably too large for this data: try a smaller --lr{}. \
             Metrics and summary are in {}; model.json was not written.",
            if setup.scaling == Scaling::None {
                " or --scale standard"
            } else {
                ""
            },
            setup.out.display()
        );
        return Ok(ExitCode::from(EXIT_DIVERGED));
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
