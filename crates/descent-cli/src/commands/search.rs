//! `descent search`: brute-force grid search over one or two parameters (the baseline before
//! gradient descent), the loss curve or heat map, the best point, and what a short run of
//! batch gradient descent finds, each with its number of evaluations.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use descent::analysis::{grid_search_1d, grid_search_2d, GridSearch, Range};
use descent::optim::OptimizerSpec;

use crate::fsutil::{create_dir, default_run_dir};
use crate::plot::{save_both, ContourChart, Field, LineChart, Marker, Path2d, Series};
use crate::prep::{scalar_names, train_config, Prepared};
use crate::viz_args::SearchArgs;

/// At most this many grid points (a guard against a mistyped step).
const MAX_POINTS: usize = 4_000_000;

pub fn run(args: SearchArgs) -> Result<ExitCode> {
    let ranges: Vec<Range> = args
        .range
        .iter()
        .map(|r| parse_range(r))
        .collect::<Result<_>>()?;
    if ranges.len() > 2 {
        bail!(
            "--range can be given once or twice (one or two parameters), not {} times",
            ranges.len()
        );
    }
    let total: usize = ranges.iter().map(Range::len).product();
    if total > MAX_POINTS {
        bail!("the grid has {total} points (at most {MAX_POINTS}); use larger steps in --range");
    }
    if !(args.lr.is_finite() && args.lr > 0.0) {
        bail!("--lr must be a positive number, not {}", args.lr);
    }
    let prep = Prepared::new(&args.probe)?;
    let n_params = prep.model.layout().len();
    let names = scalar_names(&prep.model.layout(), &prep.data.feature_names);
    if n_params != ranges.len() {
        bail!(
            "--model {} on {} feature(s) has {n_params} parameter(s) ({}), but {} --range was given: give one range per parameter",
            prep.kind.name(),
            prep.data.n_features(),
            names.join(", "),
            ranges.len()
        );
    }
    let loss = |p: &[f64]| prep.loss_at(p).unwrap_or(f64::NAN);
    let grid = match ranges.as_slice() {
        [a] => grid_search_1d(a, loss)?,
        [a, b] => grid_search_2d(a, b, loss)?,
        _ => unreachable!("one or two ranges, checked above"),
    };
    let best = grid
        .best
        .clone()
        .context("every grid point gave a NaN loss")?;
    let spec = OptimizerSpec::new("sgd").with("lr", args.lr);
    let gd = prep.train_with(
        &spec,
        &train_config(args.epochs, "full", args.probe.model.seed)?,
    )?;
    let end = gd.path.last().cloned().unwrap_or_default();

    let point = |p: &[f64]| {
        names
            .iter()
            .zip(p)
            .map(|(n, v)| format!("{n} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bounds = names
        .iter()
        .zip(&ranges)
        .map(|(n, r)| {
            let v = r.values();
            format!("{n} in [{}, {}] step {}", v[0], v[v.len() - 1], r.step)
        })
        .collect::<Vec<_>>()
        .join(", ");
    println!("grid search over {bounds}");
    println!(
        "  best {}, loss {:.6e} ({} loss evaluations)",
        point(&best.point),
        best.loss,
        grid.evaluations
    );
    println!(
        "gradient descent (batch, lr {}, {} epochs, from {})",
        args.lr,
        args.epochs,
        point(&gd.path[0])
    );
    println!(
        "  ends at {}, loss {:.6e} ({} gradient evaluations){}",
        point(&end),
        gd.final_loss,
        gd.losses.len(),
        if gd.diverged_at.is_some() {
            "  DIVERGED: lower --lr"
        } else {
            ""
        }
    );
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    create_dir(&out)?;
    let title = format!("grid search: {} on {}", prep.kind.name(), prep.name);
    let y_label = format!("{} loss", prep.loss);
    let gd_points: Vec<(Vec<f64>, f64)> = gd.path.iter().map(|p| (p.clone(), loss(p))).collect();
    let files = if n_params == 1 {
        let chart = LineChart {
            title: &title,
            x_label: &names[0],
            y_label: &y_label,
            series: vec![Series {
                name: "loss".into(),
                points: grid.axes[0]
                    .iter()
                    .copied()
                    .zip(grid.losses.iter().copied())
                    .collect(),
            }],
            markers: vec![
                Marker {
                    name: format!("gradient descent ({} steps)", gd.losses.len()),
                    points: gd_points.iter().map(|(p, l)| (p[0], *l)).collect(),
                },
                Marker {
                    name: format!("grid best ({} evaluations)", grid.evaluations),
                    points: vec![(best.point[0], best.loss)],
                },
            ],
            ..LineChart::default()
        };
        save_both(&chart, &out, "search")?
    } else {
        let field = heat_map(&grid);
        let chart = ContourChart {
            title: &title,
            x_label: &names[0],
            y_label: &names[1],
            field: &field,
            paths: vec![Path2d {
                name: format!("gradient descent ({} steps)", gd.losses.len()),
                points: gd.path.iter().map(|p| (p[0], p[1])).collect(),
            }],
            markers: vec![Marker {
                name: format!("grid best ({} evaluations)", grid.evaluations),
                points: vec![(best.point[0], best.point[1])],
            }],
            dots: Vec::new(),
            boundaries: Vec::new(),
            equal_aspect: false,
            note: None,
            regions: None,
        };
        save_both(&chart, &out, "search")?
    };
    println!("wrote {} in {}", files.join(", "), out.display());
    Ok(ExitCode::SUCCESS)
}

/// `START:STOP:STEP`, STOP included (numpy's `arange` with the end point kept).
fn parse_range(s: &str) -> Result<Range> {
    let parts: Vec<&str> = s.split(':').collect();
    let numbers: Option<Vec<f64>> = parts.iter().map(|p| p.trim().parse().ok()).collect();
    let (start, stop, step) = match numbers.as_deref() {
        Some(&[a, b, c]) => (a, b, c),
        _ => bail!("--range `{s}`: expected START:STOP:STEP with three numbers, e.g. 0:4:0.1"),
    };
    let r = Range::inclusive(start, stop, step).with_context(|| format!("--range `{s}`"))?;
    if r.is_empty() {
        bail!("--range `{s}` holds no point: STOP must lie beyond START in the direction of STEP");
    }
    if r.len() > MAX_POINTS {
        bail!("--range `{s}` has {} points; use a larger STEP", r.len());
    }
    Ok(r)
}

/// The grid as a field: one cell per grid point, the first parameter across.
fn heat_map(g: &GridSearch) -> Field {
    let (a, b) = (&g.axes[0], &g.axes[1]);
    let span = |v: &[f64]| {
        let (lo, hi) = (v[0].min(v[v.len() - 1]), v[0].max(v[v.len() - 1]));
        let half = if v.len() > 1 {
            (hi - lo) / (v.len() - 1) as f64 / 2.0
        } else {
            0.5
        };
        (lo - half, hi + half)
    };
    // Cells run from low to high coordinates; a negative step visits the axis backwards.
    let index = |v: &[f64], k: usize| {
        if v[0] <= v[v.len() - 1] {
            k
        } else {
            v.len() - 1 - k
        }
    };
    let mut values = vec![f64::NAN; a.len() * b.len()];
    for j in 0..b.len() {
        for i in 0..a.len() {
            values[j * a.len() + i] = g.losses[index(a, i) * b.len() + index(b, j)];
        }
    }
    Field {
        x: span(a),
        y: span(b),
        nx: a.len(),
        ny: b.len(),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_keep_their_end_and_reject_bad_specs() {
        assert_eq!(parse_range("0:4:0.1").unwrap().len(), 41);
        assert!(parse_range("0:4").is_err());
        assert!(parse_range("0:4:x").is_err());
        assert!(parse_range("4:0:1").is_err());
        assert!(parse_range("0:1:0").is_err());
    }
}
