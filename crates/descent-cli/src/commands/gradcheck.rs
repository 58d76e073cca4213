//! `descent gradcheck`: the autodiff gradient against central finite differences, per
//! parameter, on the given data and model; exits 1 when the relative error exceeds `--tol`.

use std::process::ExitCode;

use anyhow::{bail, ensure, Result};
use descent::analysis::{gradcheck, GradCheckConfig};
use ndarray::s;

use crate::prep::Prepared;
use crate::viz_args::GradcheckArgs;

pub fn run(mut args: GradcheckArgs) -> Result<ExitCode> {
    ensure!(
        args.eps.is_finite() && args.eps > 0.0,
        "--eps must be a positive number, not {}",
        args.eps
    );
    ensure!(
        args.tol.is_finite() && args.tol > 0.0,
        "--tol must be a positive number, not {}",
        args.tol
    );
    ensure!(args.rows > 0, "--rows must be at least 1");
    // Random parameters by default: at zeros many gradients vanish and would check nothing.
    if args.probe.model.init.is_none() {
        args.probe.model.init = Some("torch".into());
    }
    let prep = Prepared::new(&args.probe)?;
    let params = prep.params()?;
    let rows = args.rows.min(prep.data.n_rows());
    let x = prep.data.x.slice(s![..rows, ..]);
    let y = prep.data.y.slice(s![..rows, ..]);
    let config = GradCheckConfig {
        h: args.eps,
        threshold: args.tol,
        ..GradCheckConfig::default()
    };
    let check = gradcheck(&prep.model, prep.loss, &params, x, y, &config)?;
    println!(
        "gradient check: {} on {} ({rows} rows, {} parameters, central differences h = {})",
        prep.kind,
        prep.name,
        params.len(),
        args.eps
    );
    println!(
        "{:<20} {:>8} {:>16} {:>16}",
        "parameter", "size", "max abs error", "max rel error"
    );
    for (v, e) in params.layout.views().iter().zip(&check.views) {
        println!(
            "{:<20} {:>8} {:>16.3e} {:>16.3e}",
            e.name,
            v.shape.0 * v.shape.1,
            e.max_abs,
            e.max_rel
        );
    }
    println!(
        "max relative error {:.3e} (tolerance {:e}): {}",
        check.max_rel,
        args.tol,
        if check.passed { "passed" } else { "FAILED" }
    );
    if !check.passed {
        let worst = check
            .views
            .iter()
            .max_by(|a, b| a.max_rel.total_cmp(&b.max_rel))
            .map_or(String::new(), |v| {
                format!(" (worst: {} element {})", v.name, v.worst)
            });
        bail!(
            "gradient check failed: relative error {:.3e} exceeds --tol {:e}{worst}; \
             try another --eps, or the gradient of this model is wrong",
            check.max_rel,
            args.tol
        );
    }
    Ok(ExitCode::SUCCESS)
}
