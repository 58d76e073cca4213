//! `descent lr-find`: the learning-rate range test (lr grows geometrically, one full-batch
//! update per step, the suggestion read from the unsmoothed loss: a full-batch loss has no
//! noise to smooth), its plot, a suggested lr with the reason, and for least-squares models
//! the stable bound of the optimizer (from the exact curvature, the same numbers as `analyze`
//! and the divergence message) drawn on the same axis.

use std::process::ExitCode;

use anyhow::{ensure, Result};
use descent::analysis::{
    curvature, lr_range_test_model, stable_lr, Curvature, CurvatureConfig, LrRangeConfig, SgdForm,
    StableLr, StepRule,
};
#[cfg(test)]
use descent::optim::OptimizerSpec;
use descent::train::diagnosis::{bound_formula, fastest_lr, form_name};

use super::analyze::NOT_CONVERGED;
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
        // Each step's loss is over the whole data set: exact, nothing to smooth, and an EMA
        // would lag the lr by a decade.
        smoothing: 0.0,
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
        let c = curvature(x, prep.has_bias(), y.ncols(), &CurvatureConfig::default())?;
        let rule = StepRule::try_from(&spec)?;
        let (line, form, bound) = bound_summary(&c, &rule, &args.optimizer);
        println!("{line}");
        if let Some(s) = range.suggestion {
            let sgd_form = matches!(rule, StepRule::Sgd(_));
            println!(
                "  the suggestion is {:.3} × the bound of {}{}",
                s / bound,
                form_name(&form),
                if sgd_form && s >= bound {
                    ": above it, full-batch training diverges; use a smaller lr"
                } else {
                    ""
                }
            );
        }
        vlines.push(VLine {
            name: format!("{} = {bound:.2e} (stable bound)", bound_formula(&form)),
            x: bound,
        });
    }
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    create_dir(&out)?;
    let title = format!("lr range test: {} on {}", args.optimizer, prep.name);
    let chart = LineChart {
        title: &title,
        x_label: "learning rate (log scale)",
        y_label: &format!("{} loss", prep.loss),
        series: vec![Series {
            name: "full-batch loss (not smoothed)".into(),
            points: range
                .lrs
                .iter()
                .copied()
                .zip(range.losses.iter().copied())
                .collect(),
        }],
        log_x: true,
        log_y: range.losses.iter().all(|l| *l > 0.0),
        vlines,
        ..LineChart::default()
    };
    let files = save_both(&chart, &out, "lr_find")?;
    println!("wrote {} in {}", files.join(", "), out.display());
    Ok(ExitCode::SUCCESS)
}

/// The least-squares line of the report: the optimizer's bound (or, for one without a fixed
/// bound, plain gradient descent's, saying so), `λ_max`, `λ_min`, κ and the best fixed lr,
/// each `not converged` when the curvature did not find it. Returns the line, the form whose
/// bound is drawn, and the bound.
fn bound_summary(c: &Curvature, rule: &StepRule, optimizer: &str) -> (String, SgdForm, f64) {
    // The bound drawn is the optimizer's own; for one without a fixed bound, plain
    // gradient descent's, named as such.
    let (form, bound, note) = match (rule, stable_lr(rule, c.lambda_max)) {
        (StepRule::Sgd(f), StableLr::Bound(b)) => (*f, b, String::new()),
        (_, other) => {
            let f = SgdForm::gd();
            let why = match other {
                StableLr::NotApplicable { reason } | StableLr::Unstable { reason } => reason,
                StableLr::Bound(_) => String::new(),
            };
            let note = format!("{} has no fixed stable lr ({why}); ", optimizer);
            (f, 2.0 / c.lambda_max, note)
        }
    };
    let unknown = || NOT_CONVERGED.to_string();
    let kappa = match c.condition_number {
        Some(k) if k.is_infinite() => format!(
            "∞, rank {} of {}",
            c.rank.map_or_else(unknown, |r| r.to_string()),
            c.n_params
        ),
        Some(k) => format!("{k:.4e}"),
        None => unknown(),
    };
    let best = match fastest_lr(&SgdForm::gd(), c) {
        Some((lr, _)) => format!("{lr:.6e}"),
        None => unknown(),
    };
    let line = format!(
        "least squares: {note}{} is stable for lr < {} = {:.6e} \
         (λ_max {:.6e}, λ_min {}, condition number {kappa}; best fixed lr 2/(λ_min+λ_max) = {best})",
        form_name(&form),
        bound_formula(&form),
        bound,
        c.lambda_max,
        c.lambda_min.map_or_else(unknown, |l| format!("{l:.6e}")),
    );
    (line, form, bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent::analysis::CurvatureMethod;

    /// A Lanczos result that found λ_max but not λ_min.
    fn unconverged() -> Curvature {
        Curvature {
            lambda_max: 4.0,
            lambda_min: None,
            lambda_min_nonzero: None,
            condition_number: None,
            rank: None,
            n_params: 3000,
            method: CurvatureMethod::Iterative,
            converged: false,
        }
    }

    #[test]
    fn an_unconverged_curvature_is_said_so_not_printed_as_a_number() {
        let rule = StepRule::try_from(&OptimizerSpec::new("sgd").with("momentum", 0.5)).unwrap();
        let (line, _, bound) = bound_summary(&unconverged(), &rule, "sgd");
        assert_eq!(bound, 0.75);
        assert!(line.contains("2(1 + μ)/λ_max = 7.500000e-1"), "{line}");
        assert!(line.contains("λ_min not converged"), "{line}");
        assert!(line.contains("condition number not converged"), "{line}");
        assert!(line.contains("2/(λ_min+λ_max) = not converged"), "{line}");
        // A singular H whose rank is unknown (a wide block on the Lanczos path).
        let wide = Curvature {
            lambda_min: Some(0.0),
            condition_number: Some(f64::INFINITY),
            ..unconverged()
        };
        let (line, _, _) = bound_summary(&wide, &rule, "sgd");
        assert!(
            line.contains("condition number ∞, rank not converged of 3000"),
            "{line}"
        );
    }
}
