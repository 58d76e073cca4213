//! `descent schedule`: preview the learning rate a schedule gives, with warnings about likely
//! mistakes.

use std::process::ExitCode;

use anyhow::{ensure, Result};
use descent::schedule::ScheduleSpec;

use crate::args::ScheduleArgs;
use crate::plot::{LineChart, Series};

pub fn run(args: ScheduleArgs) -> Result<ExitCode> {
    ensure!(args.steps > 0, "--steps must be at least 1");
    ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr must be a positive number"
    );
    let spec = ScheduleSpec::parse(&args.schedule)?;
    for w in spec.warnings(args.steps) {
        eprintln!("warning: {w}");
    }
    let mut schedule = spec.build(args.lr, args.momentum, args.steps)?;
    let metrics = args.metrics.unwrap_or_default();
    let mut rows = Vec::with_capacity(args.steps);
    for i in 0..args.steps {
        rows.push((i, schedule.lr(), schedule.momentum()));
        let m = metrics.get(i).or(metrics.last()).copied().unwrap_or(0.0);
        schedule.step(m);
    }
    let with_momentum = rows.iter().any(|r| r.2.is_some());
    if let Some(path) = &args.plot {
        let title = format!("learning rate: {spec}");
        LineChart {
            title: &title,
            x_label: "step",
            y_label: "learning rate",
            series: vec![Series {
                name: String::new(),
                points: rows.iter().map(|r| (r.0 as f64, r.1)).collect(),
            }],
            ..LineChart::default()
        }
        .save(path)?;
        eprintln!("wrote {}", path.display());
    }
    if args.csv {
        println!("step,lr{}", if with_momentum { ",momentum" } else { "" });
        for (i, lr, m) in &rows {
            match m {
                Some(m) => println!("{i},{lr},{m}"),
                None => println!("{i},{lr}"),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("{spec} over {} steps, base lr {}", args.steps, args.lr);
    println!(
        "{:>6}  {:>14}{}",
        "step",
        "lr",
        if with_momentum {
            "        momentum"
        } else {
            ""
        }
    );
    // Every step for short runs; otherwise the first and last few and every change of value.
    let mut last_printed = None;
    for (k, (i, lr, m)) in rows.iter().enumerate() {
        let edge = k < 5 || k + 5 >= rows.len();
        let changed = k > 0 && rows[k - 1].1 != *lr && (rows.len() <= 60);
        if rows.len() <= 30 || edge || changed || k % (rows.len() / 10).max(1) == 0 {
            if let Some(p) = last_printed {
                if k > p + 1 {
                    println!("{:>6}", "...");
                }
            }
            match m {
                Some(m) => println!("{i:>6}  {lr:>14.8e}  {m:>14.6}"),
                None => println!("{i:>6}  {lr:>14.8e}"),
            }
            last_printed = Some(k);
        }
    }
    Ok(ExitCode::SUCCESS)
}
