//! `descent compare`: several optimizers from the same initial parameters, seed and batch
//! order; an overlaid loss plot, a table (stdout and `compare.csv`), and for a model with
//! exactly two parameters the loss contour with every optimizer's path.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, ensure, Result};
use descent::analysis::normal_equation;

use crate::fsutil::{create_dir, default_run_dir, write_atomic};
use crate::optimizer_list::{self, Entry};
use crate::plot::{field_around, save_both, ContourChart, LineChart, Marker, Path2d, Series};
use crate::prep::{scalar_names, train_config, Prepared, Run};
use crate::viz_args::CompareArgs;

pub fn run(args: CompareArgs) -> Result<ExitCode> {
    let entries = optimizer_list::parse(&args.optimizers, &args.lr)?;
    let config = train_config(args.epochs, &args.batch, args.probe.model.seed)?;
    if let Some(t) = args.tol {
        ensure!(t.is_finite(), "--tol must be a finite number, not {t}");
    }
    let prep = Prepared::new(&args.probe)?;
    let n_params = prep.model.layout().len();
    if args.contour && n_params != 2 {
        bail!(
            "--contour needs a model with exactly two parameters, but --model {} on {} feature(s) has {n_params}; \
             use --model linear with one feature or linear-nobias with two",
            prep.kind.name(),
            prep.data.n_features()
        );
    }
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    create_dir(&out)?;
    let mut runs = Vec::new();
    for e in &entries {
        runs.push(prep.train_with(&e.spec, &config)?);
    }
    let table = Table::new(&entries, &runs, args.tol);
    print!("{}", table.text());
    write_atomic(&out.join("compare.csv"), table.csv().as_bytes())?;

    let title = format!("loss per epoch: {} on {}", prep.kind.name(), prep.name);
    let chart = LineChart {
        title: &title,
        x_label: "epoch",
        y_label: &format!("{} loss", prep.loss),
        series: entries
            .iter()
            .zip(&runs)
            .map(|(e, r)| Series {
                name: format!("{} (lr {})", e.label, e.lr),
                points: r.losses.iter().map(|&(k, l)| (k as f64, l)).collect(),
            })
            .collect(),
        log_y: args.log_y,
        ..LineChart::default()
    };
    let mut written = save_both(&chart, &out, "loss")?.to_vec();
    if n_params == 2 {
        written.extend(contour(&prep, &entries, &runs, &out)?);
    } else {
        println!("(no contour: the model has {n_params} parameters, a contour needs exactly 2)");
    }
    println!("wrote {} in {}", written.join(", "), out.display());
    Ok(ExitCode::SUCCESS)
}

/// The results, one row per optimizer.
struct Table<'a> {
    rows: Vec<(&'a Entry, &'a Run, Option<usize>)>,
    tol: Option<f64>,
}

impl<'a> Table<'a> {
    fn new(entries: &'a [Entry], runs: &'a [Run], tol: Option<f64>) -> Self {
        let rows = entries
            .iter()
            .zip(runs)
            .map(|(e, r)| {
                let reached =
                    tol.and_then(|t| r.losses.iter().find(|(_, l)| *l <= t).map(|&(k, _)| k));
                (e, r, reached)
            })
            .collect();
        Table { rows, tol }
    }

    /// The epoch a run diverged at, unless it reached the tolerance first: a run whose loss
    /// got there converged, whatever it did after (it is reported as stopped, with the loss
    /// of the best parameters the trainer restored).
    fn diverged(r: &Run, reached: Option<usize>) -> Option<usize> {
        r.diverged_at.filter(|_| reached.is_none())
    }

    fn final_loss(r: &Run, reached: Option<usize>) -> String {
        match (r.diverged_at, reached) {
            (Some(k), None) => format!("diverged@{k}"),
            (Some(k), Some(_)) => format!("{:.6e} stopped@{k}", r.final_loss),
            (None, _) => format!("{:.6e}", r.final_loss),
        }
    }

    fn text(&self) -> String {
        let tol = self.tol.map_or("-".to_string(), |t| format!("{t:e}"));
        let mut s = format!(
            "{:<14} {:>10} {:>16} {:>14} {:>10}\n",
            "optimizer",
            "lr",
            "final loss",
            format!("epoch<={tol}"),
            "seconds"
        );
        for (e, r, reached) in &self.rows {
            let _ = writeln!(
                s,
                "{:<14} {:>10} {:>16} {:>14} {:>10.4}",
                e.label,
                e.lr,
                Self::final_loss(r, *reached),
                reached.map_or("-".to_string(), |k| k.to_string()),
                r.seconds
            );
        }
        s
    }

    fn csv(&self) -> String {
        let mut s = String::from("optimizer,lr,final_loss,tol_epoch,seconds,diverged_epoch\n");
        for (e, r, reached) in &self.rows {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                e.label,
                e.lr,
                r.final_loss,
                reached.map_or("-".to_string(), |k| k.to_string()),
                r.seconds,
                Self::diverged(r, *reached).map_or("-".to_string(), |k| k.to_string()),
            );
        }
        s
    }
}

/// The loss over the two parameters around every path, with the paths and (for least
/// squares) the closed-form optimum.
fn contour(prep: &Prepared, entries: &[Entry], runs: &[Run], out: &Path) -> Result<Vec<String>> {
    let optimum = if prep.is_least_squares() {
        let ls = normal_equation(prep.data.x.view(), prep.data.y.view(), prep.has_bias())?;
        Some(ls.to_flat())
    } else {
        None
    };
    let points = runs
        .iter()
        .flat_map(|r| r.path.iter())
        .chain(optimum.iter())
        .filter(|p| p.iter().all(|v| v.is_finite()));
    let field = field_around(points, |a, b| prep.loss_at(&[a, b]).unwrap_or(f64::NAN));
    let names = scalar_names(&prep.model.layout(), &prep.data.feature_names);
    let title = format!("loss over ({}, {}): {}", names[0], names[1], prep.name);
    let chart = ContourChart {
        title: &title,
        x_label: &names[0],
        y_label: &names[1],
        field: &field,
        paths: entries
            .iter()
            .zip(runs)
            .map(|(e, r)| Path2d {
                name: format!("{} (lr {})", e.label, e.lr),
                points: r.path.iter().map(|p| (p[0], p[1])).collect(),
            })
            .collect(),
        markers: optimum
            .iter()
            .map(|o| Marker {
                name: "least-squares optimum".into(),
                points: vec![(o[0], o[1])],
            })
            .collect(),
        dots: Vec::new(),
        boundaries: Vec::new(),
        equal_aspect: false,
        note: None,
        regions: None,
    };
    Ok(save_both(&chart, out, "contour")?.to_vec())
}
