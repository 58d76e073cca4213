//! `descent analyze`: what the curvature of a least-squares problem says before any training.
//! λ_max, λ_min, the condition number and the rank of the Hessian (after the run's scaling),
//! the largest stable lr of the optimizer in use (or why it has none), the fastest fixed step
//! and the fastest heavy ball with their rates, the full-batch epochs they need, and the
//! closed-form solution. `--json` prints the same as one object.
//!
//! A value an iteration could not determine is printed as `not converged` (the string
//! `"not converged"` in JSON), never as a number.

use std::process::ExitCode;

use anyhow::{ensure, Result};
use descent::analysis::{
    curvature, normal_equation, optimal_gd, optimal_heavy_ball, predicted_iterations, rate_of,
    stable_lr, Curvature, CurvatureConfig, CurvatureMethod, LeastSquares, SgdForm, Spectrum,
    StableLr, StepRule,
};
use descent::loss::r2_score;
use descent::nn::ModelKind;
use descent::optim::OptimizerSpec;
use descent::train::diagnosis::{bound_formula, fastest_lr, form_name, num};
use ndarray::Array2;
use serde_json::{json, Value};

use super::train::optimizer_spec;
use crate::prep::{scalar_names, Prepared};
use crate::viz_args::AnalyzeArgs;

/// What JSON and the report print for a value that did not converge.
pub const NOT_CONVERGED: &str = "not converged";

pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    ensure!(
        args.tol > 0.0 && args.tol < 1.0,
        "--tol must be in (0, 1): the factor by which the error should shrink, e.g. 1e-6"
    );
    let optimizer = optimizer_spec(&args.optim)?;
    // Every option checked as `train` checks it.
    StepRule::try_from(&optimizer)?;
    let prep = Prepared::new(&args.probe)?;
    let report = analyze(&prep, &optimizer, args.tol)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// A number, or `"inf"`, for JSON.
fn number(v: f64) -> Value {
    if v.is_infinite() {
        json!("inf")
    } else {
        json!(v)
    }
}

/// A known number, or `"not converged"`.
fn known(v: Option<f64>) -> Value {
    v.map_or(json!(NOT_CONVERGED), number)
}

/// The analysis as one JSON object (the report prints from it).
fn analyze(prep: &Prepared, optimizer: &OptimizerSpec, tol: f64) -> Result<Value> {
    let targets = prep.data.y.ncols();
    let mut out = json!({
        "data": prep.name,
        "rows": prep.data.n_rows(),
        "features": prep.data.n_features(),
        "targets": targets,
        "model": prep.kind.name(),
        "loss": prep.loss.to_string(),
        "optimizer": optimizer,
        "least_squares": prep.is_least_squares(),
        "tol": tol,
    });
    let keys = [
        "lambda_max",
        "lambda_min",
        "condition_number",
        "rank",
        "stable_lr",
        "best_lr",
        "best_rate",
        "heavy_ball",
        "closed_form",
    ];
    if !prep.is_least_squares() {
        for k in keys {
            out[k] = Value::Null;
        }
        out["applies"] = json!(format!(
            "{} under {} is not least squares: its Hessian changes with the parameters, so the \
             curvature, the stable lr, the optimal settings and the closed form (which are for a \
             linear model under mse) do not apply; `descent lr-find` measures a learning rate \
             empirically",
            prep.kind.name(),
            prep.loss
        ));
        return Ok(out);
    }
    let (x, y) = (prep.data.x.view(), prep.data.y.view());
    let c = curvature(x, prep.has_bias(), targets, &CurvatureConfig::default())?;
    let rule = StepRule::try_from(optimizer)?;
    let form = match &rule {
        StepRule::Sgd(f) => Some(*f),
        StepRule::Other { .. } => None,
    };
    let wd = form.map_or(0.0, |f| f.weight_decay);
    out["lambda_max"] = json!(c.lambda_max);
    out["lambda_min"] = known(c.lambda_min);
    out["lambda_min_nonzero"] = known(c.lambda_min_nonzero);
    out["condition_number"] = known(c.condition_number);
    out["rank"] = c.rank.map_or(json!(NOT_CONVERGED), |r| json!(r));
    out["n_params"] = json!(c.n_params);
    out["curvature_method"] = json!(match c.method {
        CurvatureMethod::Dense => "dense",
        CurvatureMethod::Iterative => "lanczos",
    });
    out["converged"] = json!(c.converged);
    stability(&mut out, &rule, &c, optimizer.lr().ok());
    optima(&mut out, &c, wd, tol);
    out["closed_form"] = closed_form(prep, &normal_equation(x, y, prep.has_bias())?)?;
    if wd > 0.0 {
        out["closed_form"]["note"] = json!(
            "without weight decay: the minimum of the loss itself, not of the loss plus the decay"
        );
    }
    if let (Some(f), Ok(lr)) = (form, optimizer.lr()) {
        out["optimizer_at_lr"] = at_lr(&f, lr, &c, tol);
    }
    Ok(out)
}

/// `stable_lr` (a number, `"no fixed bound"` or `"unstable"`) with its formula or reason, and
/// the given lr as a multiple of it.
fn stability(out: &mut Value, rule: &StepRule, c: &Curvature, lr: Option<f64>) {
    if let Some(lr) = lr {
        out["lr"] = json!(lr);
    }
    match stable_lr(rule, c.lambda_max) {
        StableLr::Bound(b) => {
            out["stable_lr"] = number(b);
            if let StepRule::Sgd(f) = rule {
                out["stable_lr_form"] = json!(form_name(f));
                out["stable_lr_formula"] = json!(bound_formula(f));
            }
            if let Some(lr) = lr {
                out["lr_over_stable_lr"] = json!(lr / b);
            }
        }
        StableLr::NotApplicable { reason } => {
            out["stable_lr"] = json!("no fixed bound");
            out["stable_lr_reason"] = json!(reason);
        }
        StableLr::Unstable { reason } => {
            out["stable_lr"] = json!("unstable");
            out["stable_lr_reason"] = json!(reason);
        }
    }
}

/// The fastest fixed step and heavy ball on the spectrum (shifted by weight decay), their
/// rates and predicted epochs; `"not converged"` when `λ_min` is unknown.
fn optima(out: &mut Value, c: &Curvature, wd: f64, tol: f64) {
    let spectrum = Spectrum::of(c).and_then(|s| s.with_weight_decay(wd).ok());
    let Some(s) = spectrum else {
        let why = if c.lambda_min.is_none() {
            json!(NOT_CONVERGED)
        } else {
            Value::Null // a zero Hessian: no curvature, no optimum
        };
        for k in ["best_lr", "best_rate", "best_epochs"] {
            out[k] = why.clone();
        }
        out["heavy_ball"] = json!({"lr": why, "momentum": why, "rate": why, "epochs": why});
        return;
    };
    let epochs = |rate: f64| predicted_iterations(rate, tol).map_or(Value::Null, |n| json!(n));
    let gd = optimal_gd(&s);
    out["best_lr"] = json!(gd.lr);
    out["best_rate"] = json!(gd.rate);
    out["best_epochs"] = epochs(gd.rate);
    let hb = optimal_heavy_ball(&s);
    out["heavy_ball"] = json!({
        "lr": hb.lr,
        "momentum": hb.momentum,
        "rate": hb.rate,
        "epochs": epochs(hb.rate),
    });
}

/// The rate of the optimizer in use at its lr, its predicted epochs, and the fastest lr for
/// its momentum.
fn at_lr(f: &SgdForm, lr: f64, c: &Curvature, tol: f64) -> Value {
    let Some(s) = Spectrum::of(c) else {
        return json!({"lr": lr, "rate": NOT_CONVERGED, "epochs": NOT_CONVERGED});
    };
    let rate = rate_of(f, lr, &s);
    let epochs = predicted_iterations(rate, tol).map_or(Value::Null, |n| json!(n));
    let mut v = json!({"lr": lr, "form": form_name(f), "rate": number(rate), "epochs": epochs});
    if let Some((best, formula)) = fastest_lr(f, c) {
        v["fastest_lr"] = json!(best);
        v["fastest_lr_formula"] = json!(formula);
    }
    v
}

/// The closed-form solution: parameters in layout order with their names, the loss, R², the
/// method and the rank of the design matrix.
fn closed_form(prep: &Prepared, ls: &LeastSquares) -> Result<Value> {
    let params = ls.to_flat();
    let names = scalar_names(&prep.model.layout(), &prep.data.feature_names);
    let (x, y) = (&prep.data.x, &prep.data.y);
    let pred = Array2::from_shape_fn(y.dim(), |(i, t)| {
        let w = &ls.weight[t];
        let b = ls.bias.as_ref().map_or(0.0, |b| b[t]);
        (0..x.ncols()).map(|j| w[j] * x[[i, j]]).sum::<f64>() + b
    });
    Ok(json!({
        "params": params,
        "names": names,
        "loss": ls.mse,
        "r2": r2_score(pred.view(), y.view()),
        "method": ls.method.name(),
        "rank": ls.rank,
        "columns": x.ncols() + usize::from(prep.kind == ModelKind::Linear),
    }))
}

/// A JSON value as report text: numbers with 7 significant digits.
fn show(v: &Value) -> String {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if n.is_u64() {
                x.to_string()
            } else {
                format!("{x:.6e}")
            }
        }
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// The human report.
fn text(r: &Value) -> String {
    let mut s = format!(
        "analyze: {} on {} ({} rows, {} features, {} target column{}), loss {}\n",
        show(&r["model"]),
        show(&r["data"]),
        r["rows"],
        r["features"],
        r["targets"],
        if r["targets"] == 1 { "" } else { "s" },
        show(&r["loss"]),
    );
    if r["least_squares"] != true {
        s += &format!("{}.\n", show(&r["applies"]));
        return s;
    }
    let n = r["n_params"].as_u64().unwrap_or(0);
    s += &format!(
        "Hessian of the loss (H = 2 AᵀA/(n·k), {n} parameters, {}):\n",
        if r["curvature_method"] == "dense" {
            "exact, from the SVD of A"
        } else {
            "Lanczos iterations"
        }
    );
    s += &format!("  λ_max             {}\n", show(&r["lambda_max"]));
    s += &format!("  λ_min             {}\n", show(&r["lambda_min"]));
    let rank = &r["rank"];
    let kappa = match &r["condition_number"] {
        Value::String(k) if k == "inf" => format!("∞ (H is singular: rank {} of {n})", show(rank)),
        other => show(other),
    };
    s += &format!("  condition number  {kappa}\n");
    s += &format!("  rank              {} of {n}\n", show(rank));
    s += &stability_text(r);
    s += &optima_text(r);
    s += &closed_form_text(&r["closed_form"]);
    s
}

fn stability_text(r: &Value) -> String {
    match &r["stable_lr"] {
        Value::Number(_) => {
            let mut s = format!(
                "stable lr ({}): lr < {} = {}\n",
                show(&r["stable_lr_form"]),
                show(&r["stable_lr_formula"]),
                show(&r["stable_lr"])
            );
            if let Some(k) = r["lr_over_stable_lr"].as_f64() {
                s += &format!(
                    "  the lr {} is {} times the bound: {}\n",
                    show(&r["lr"]),
                    num(k),
                    if k < 1.0 {
                        "full-batch training converges"
                    } else {
                        "full-batch training diverges"
                    }
                );
            }
            s
        }
        other => format!(
            "stable lr: {} ({})\n",
            show(other),
            show(&r["stable_lr_reason"])
        ),
    }
}

/// A contraction rate: close to 1 as `1 - 1e-8`, so that the digits that matter show.
fn show_rate(v: &Value) -> String {
    match v.as_f64() {
        Some(r) if r > 0.999 && r < 1.0 => format!("1 - {:.6e}", 1.0 - r),
        _ => show(v),
    }
}

fn optima_text(r: &Value) -> String {
    let tol = show(&r["tol"]);
    let epochs = |v: &Value, rate: &Value| match (v, rate.as_f64()) {
        (Value::Null, Some(x)) if x > 1.0 => "none: the error grows (rate above 1)".to_string(),
        (Value::Null, _) => "no finite number (rate 1)".to_string(),
        (other, _) => show(other),
    };
    let hb = &r["heavy_ball"];
    let mut s = format!(
        "fastest fixed step 2/(λ_min + λ_max): lr {}, rate (κ-1)/(κ+1) = {}, epochs to shrink \
         the error by {tol}: {}\n",
        show(&r["best_lr"]),
        show_rate(&r["best_rate"]),
        epochs(&r["best_epochs"], &r["best_rate"])
    );
    s += &format!(
        "optimal heavy ball (Goh 2017): lr {}, momentum {}, rate (√κ-1)/(√κ+1) = {}, epochs: {}\n",
        show(&hb["lr"]),
        show_rate(&hb["momentum"]),
        show_rate(&hb["rate"]),
        epochs(&hb["epochs"], &hb["rate"])
    );
    let at = &r["optimizer_at_lr"];
    if at.is_object() {
        s += &format!(
            "{} at lr {}: rate {}, epochs: {}",
            show(&at["form"]),
            show(&at["lr"]),
            show_rate(&at["rate"]),
            epochs(&at["epochs"], &at["rate"])
        );
        if at["fastest_lr"].is_number() {
            s += &format!(
                "; its fastest lr {} = {}",
                show(&at["fastest_lr_formula"]),
                show(&at["fastest_lr"])
            );
        }
        s.push('\n');
    }
    s
}

fn closed_form_text(cf: &Value) -> String {
    let method = match cf["method"].as_str() {
        Some("qr") => "QR: A has full column rank, the solution is unique".to_string(),
        _ => format!(
            "SVD: A has rank {} of {} columns, this is the minimum-norm solution",
            show(&cf["rank"]),
            show(&cf["columns"])
        ),
    };
    let mut s = format!(
        "closed form ({method}): loss {}, r2 {}\n",
        show(&cf["loss"]),
        show(&cf["r2"])
    );
    if let Some(note) = cf["note"].as_str() {
        s += &format!("  ({note})\n");
    }
    let names = cf["names"].as_array().cloned().unwrap_or_default();
    let params = cf["params"].as_array().cloned().unwrap_or_default();
    for (name, p) in names.iter().zip(&params) {
        s += &format!("  {:<24} {}\n", show(name), show(p));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unconverged_values_are_strings_in_json_and_words_in_the_report() {
        let c = Curvature {
            lambda_max: 4.0,
            lambda_min: None,
            lambda_min_nonzero: None,
            condition_number: None,
            rank: None,
            n_params: 3000,
            method: CurvatureMethod::Iterative,
            converged: false,
        };
        let mut r = json!({"least_squares": true, "n_params": 3000, "tol": 1e-6,
            "model": "linear", "data": "d", "rows": 2, "features": 2999, "targets": 1,
            "loss": "mse", "curvature_method": "lanczos",
            "closed_form": {"method": "svd-min-norm", "rank": 2, "columns": 3000,
                "loss": 0.0, "r2": 1.0, "names": [], "params": []}});
        r["lambda_max"] = json!(c.lambda_max);
        r["lambda_min"] = known(c.lambda_min);
        r["condition_number"] = known(c.condition_number);
        r["rank"] = json!(NOT_CONVERGED);
        let rule = StepRule::try_from(&OptimizerSpec::new("sgd").with("lr", 0.1)).unwrap();
        stability(&mut r, &rule, &c, Some(0.1));
        optima(&mut r, &c, 0.0, 1e-6);
        for key in [
            "lambda_min",
            "condition_number",
            "rank",
            "best_lr",
            "best_rate",
        ] {
            assert_eq!(r[key], NOT_CONVERGED, "{key}");
        }
        assert_eq!(r["heavy_ball"]["momentum"], NOT_CONVERGED);
        assert_eq!(r["stable_lr"], 0.5, "λ_max alone gives the bound");
        let report = text(&r);
        for line in [
            "λ_min             not converged",
            "condition number  not converged",
        ] {
            assert!(report.contains(line), "{report}");
        }
        assert!(report.contains("lr not converged, rate (κ-1)/(κ+1) = not converged"));
        let at = at_lr(&SgdForm::gd(), 0.1, &c, 1e-6);
        assert_eq!(
            (&at["rate"], &at["epochs"]),
            (&json!(NOT_CONVERGED), &json!(NOT_CONVERGED))
        );
    }
}
