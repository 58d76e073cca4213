//! `descent lr-find`: the learning-rate range test (lr grows geometrically, one full-batch
//! update per step), its plot, a suggested lr with the reason, and for least-squares models
//! the stable bound 2/λ_max of the loss Hessian drawn on the same axis.

use std::process::ExitCode;

use anyhow::{ensure, Result};
use descent::analysis::{lr_bound, lr_range_test_model, LrRangeConfig, PowerIteration};

use crate::fsutil::{create_dir, default_run_dir};
use crate::optimizer_list::spec_for;
use crate::plot::{save_both, LineChart, Series, VLine};
use crate::prep::Prepared;
use crate::viz_args::LrFindArgs;

pub fn run(args: LrFindArgs) -> Result<ExitCode> {
    let spec = spec_for(&args.optimizer)?;
    let config = LrRangeConfig {
        lr_min: args.lr_min,
        lr_max: args.lr_max,
        steps: args.steps,
        ..LrRangeConfig::default()
    };
    ensure!(
        args.lr_min > 0.0 && args.lr_max > args.lr_min && args.lr_max.is_finite(),
        "--lr-min and --lr-max must be positive with --lr-min < --lr-max (got {} and {})",
        args.lr_min,
        args.lr_max
    );
    ensure!(args.steps >= 2, "--steps must be at least 2");
    let prep = Prepared::new(&args.probe)?;
    let (x, y) = (prep.data.x.view(), prep.data.y.view());
    let range = lr_range_test_model(&prep.model, prep.loss, x, y, &spec, &prep.init, &config)?;
    println!(
        "lr range test: {} on {} with {} ({} steps, lr {:e} to {:e}){}",
        prep.kind,
        prep.name,
        args.optimizer,
        args.steps,
        args.lr_min,
        args.lr_max,
        if range.stopped_early {
            format!(
                "; stopped at lr {:.3e}: the loss diverged",
                config.lr_at(range.lrs.len())
            )
        } else {
            String::new()
        }
    );
    match range.suggestion {
        Some(s) => println!("suggested lr {s:.3e}: {}", range.reason),
        None => println!("no suggestion: {}", range.reason),
    }
    let mut vlines = Vec::new();
    if let Some(s) = range.suggestion {
        vlines.push(VLine {
            name: format!("suggested lr {s:.2e}"),
            x: s,
        });
    }
    if prep.is_least_squares() {
        let b = lr_bound(x, prep.has_bias(), &PowerIteration::default())?;
        println!(
            "least squares: gradient descent is stable for lr < 2/λ_max = {:.6e} \
             (λ_max {:.6e}, λ_min {:.6e}, condition number {:.4e}; best fixed lr 2/(λ_min+λ_max) = {:.6e})",
            b.lr_max_stable, b.lambda_max, b.lambda_min, b.condition_number, b.lr_best
        );
        if let Some(s) = range.suggestion {
            println!(
                "  the suggestion is {:.3} × the bound{}",
                s / b.lr_max_stable,
                if spec.canonical_name()? == "sgd" && s >= b.lr_max_stable {
                    ": above it, plain gradient descent diverges; use a smaller lr"
                } else {
                    ""
                }
            );
        }
        vlines.push(VLine {
            name: format!("2/λ_max = {:.2e} (stable bound)", b.lr_max_stable),
            x: b.lr_max_stable,
        });
    }
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    create_dir(&out)?;
    let title = format!("lr range test: {} on {}", args.optimizer, prep.name);
    let chart = LineChart {
        title: &title,
        x_label: "learning rate (log scale)",
        y_label: &format!("{} loss", prep.loss),
        series: vec![
            Series {
                name: "loss".into(),
                points: range
                    .lrs
                    .iter()
                    .copied()
                    .zip(range.losses.iter().copied())
                    .collect(),
            },
            Series {
                name: "smoothed (EMA 0.98, bias-corrected)".into(),
                points: range
                    .lrs
                    .iter()
                    .copied()
                    .zip(range.smoothed.iter().copied())
                    .collect(),
            },
        ],
        log_x: true,
        log_y: range.losses.iter().all(|l| *l > 0.0),
        vlines,
        ..LineChart::default()
    };
    let files = save_both(&chart, &out, "lr_find")?;
    println!("wrote {} in {}", files.join(", "), out.display());
    Ok(ExitCode::SUCCESS)
}
