//! `descent surface`: optimizers on a 2-D test function from the same start; a contour plot
//! with every trajectory and its final point, an animated GIF of the descent, and the final
//! points and values printed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use descent::objective::{self, descend, Objective, Trajectory};
use descent::optim::GroupOptions;

use crate::fsutil::{create_dir, default_run_dir};
use crate::optimizer_list::{self, Entry};
use crate::plot::{save_both, save_gif, ContourChart, Field, Marker, Path2d};
use crate::viz_args::SurfaceArgs;

pub fn run(args: SurfaceArgs) -> Result<ExitCode> {
    let f = objective::by_name(&args.function)?;
    let entries = optimizer_list::parse(&args.optimizers, &args.lr)?;
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if !(2..=200).contains(&args.frames) {
        bail!("--frames must be between 2 and 200, not {}", args.frames);
    }
    let start = match args.start.as_deref() {
        None => f.default_start(),
        Some(&[x, y]) if x.is_finite() && y.is_finite() => [x, y],
        Some(v) => bail!("--start takes two finite numbers x,y, e.g. -1.5,2; got {v:?}"),
    };
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    create_dir(&out)?;
    let trajectories = descend_all(f.as_ref(), &entries, start, args.steps)?;
    println!(
        "{} from ({}, {}), {} steps",
        f.name(),
        start[0],
        start[1],
        args.steps
    );
    println!(
        "{:<14} {:>10} {:>26} {:>14} {:>14}",
        "optimizer", "lr", "final (x, y)", "f(x, y)", "to minimum"
    );
    for (e, t) in entries.iter().zip(&trajectories) {
        let p = t.points[t.points.len() - 1];
        let v = t.values[t.values.len() - 1];
        let dist = f
            .minima()
            .iter()
            .map(|m| ((p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        let point = format!("({}, {})", coordinate(p[0]), coordinate(p[1]));
        let note = if t.diverged {
            format!("  diverged after {} steps", t.points.len() - 1)
        } else {
            String::new()
        };
        let dist = if dist.is_finite() {
            format!("{dist:.3e}")
        } else {
            "-".into()
        };
        println!(
            "{:<14} {:>10} {point:>26} {v:>14.6e} {dist:>14}{note}",
            e.label, e.lr
        );
    }
    let files = draw(
        f.as_ref(),
        &entries,
        &trajectories,
        &out,
        "",
        Some(args.frames),
    )?;
    println!("wrote {} in {}", files.join(", "), out.display());
    Ok(ExitCode::SUCCESS)
}

/// Six decimals, or scientific notation for a coordinate far from the plot (a run that left).
fn coordinate(v: f64) -> String {
    if v.abs() < 1e6 {
        format!("{v:.6}")
    } else {
        format!("{v:.4e}")
    }
}

/// Every optimizer's trajectory from `start`.
pub fn descend_all(
    f: &dyn Objective,
    entries: &[Entry],
    start: [f64; 2],
    steps: usize,
) -> Result<Vec<Trajectory>> {
    entries
        .iter()
        .map(|e| {
            let mut opt = e.spec.build::<f64>(vec![(0..2, GroupOptions::default())])?;
            Ok(descend(f, opt.as_mut(), e.lr, start, steps))
        })
        .collect()
}

/// The contour plot (`PREFIXcontour.svg`, `.png`) and, with `frames`, the animation
/// (`PREFIXdescent.gif`); returns the file names.
pub fn draw(
    f: &dyn Objective,
    entries: &[Entry],
    trajectories: &[Trajectory],
    out: &Path,
    prefix: &str,
    frames: Option<usize>,
) -> Result<Vec<String>> {
    let field = view_field(f, trajectories);
    let title = format!("{}: trajectories", f.name());
    let chart = ContourChart {
        title: &title,
        x_label: "x",
        y_label: "y",
        field: &field,
        paths: entries
            .iter()
            .zip(trajectories)
            .map(|(e, t)| {
                let points = inside(&field, t);
                let off = if points.len() < t.points.len() {
                    ", leaves the plot"
                } else {
                    ""
                };
                Path2d {
                    name: format!("{} (lr {}){off}", e.label, e.lr),
                    points,
                }
            })
            .collect(),
        markers: if f.minima().is_empty() {
            Vec::new()
        } else {
            vec![Marker {
                name: "minimum".into(),
                points: f.minima().iter().map(|m| (m[0], m[1])).collect(),
            }]
        },
        dots: Vec::new(),
        boundaries: Vec::new(),
        equal_aspect: false,
        note: None,
        regions: None,
    };
    let mut files = save_both(&chart, out, &format!("{prefix}contour"))?.to_vec();
    if let Some(n) = frames {
        let longest = chart
            .paths
            .iter()
            .map(|p| p.points.len())
            .max()
            .unwrap_or(1);
        let frames: Vec<ContourChart> = (1..=n)
            .map(|k| chart.truncated((k * longest).div_ceil(n)))
            .collect();
        let gif = format!("{prefix}descent.gif");
        save_gif(&out.join(&gif), &frames, 80)?;
        files.push(gif);
    }
    Ok(files)
}

/// The function's plot box, widened to hold the start points.
pub fn view_field(f: &dyn Objective, trajectories: &[Trajectory]) -> Field {
    let (mut lo, mut hi) = f.default_view();
    // The start and the end of every path inside the view (an end far off, beyond three
    // times the default view, is marked as leaving the plot instead).
    let (dlo, dhi) = (lo, hi);
    for t in trajectories {
        for (k, p) in [t.points[0], t.points[t.points.len() - 1]]
            .into_iter()
            .enumerate()
        {
            let near = k == 0
                || (0..2).all(|d| {
                    let w = dhi[d] - dlo[d];
                    p[d].is_finite() && p[d] > dlo[d] - w && p[d] < dhi[d] + w
                });
            if !near {
                continue;
            }
            for d in 0..2 {
                let w = 0.1 * (hi[d] - lo[d]);
                lo[d] = lo[d].min(p[d] - w);
                hi[d] = hi[d].max(p[d] + w);
            }
        }
    }
    Field::sample((lo[0], hi[0]), (lo[1], hi[1]), 180, 120, |x, y| {
        f.value([x, y])
    })
}

/// The trajectory up to where it first leaves the plot box.
fn inside(field: &Field, t: &Trajectory) -> Vec<(f64, f64)> {
    t.points
        .iter()
        .map(|p| (p[0], p[1]))
        .take_while(|p| {
            (field.x.0..=field.x.1).contains(&p.0) && (field.y.0..=field.y.1).contains(&p.1)
        })
        .collect()
}
