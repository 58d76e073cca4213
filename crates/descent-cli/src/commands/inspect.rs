//! `descent inspect RUN`: what a trained model is, in words: architecture, the parameters by
//! name, the coefficients in the features' original units (one-layer models), the scaler, the
//! one-hot encoding and the class labels.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use descent::data::Scaler;
use descent::model::Affine;
use descent::params::scalar_names;
use descent::Model;

use super::predict::resolve_model;
use crate::args::InspectArgs;

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let (path, warning) = resolve_model(&args.model)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let model =
        Model::load(&path).with_context(|| format!("cannot read model {}", path.display()))?;
    print!("{}", describe(&model, &path.display().to_string()));
    Ok(ExitCode::SUCCESS)
}

/// The whole description, as printed.
fn describe(m: &Model, origin: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{origin}: {} ({}), loss {}",
        m.kind,
        m.dtype.name(),
        m.loss
    );
    let layers: Vec<String> = m.net.layers().iter().map(|l| format!("{l:?}")).collect();
    let _ = writeln!(s, "  layers: {}", layers.join(" -> "));
    let _ = writeln!(s, "  inputs: {}", m.inputs().join(", "));
    if let Some(e) = &m.one_hot {
        for line in e.describe() {
            let _ = writeln!(s, "  one-hot: {line}");
        }
    }
    let _ = writeln!(s, "  targets: {}", m.targets.join(", "));
    if let Some(classes) = &m.classes {
        let labels: Vec<String> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{i} = {c}"))
            .collect();
        let _ = writeln!(s, "  classes: {}", labels.join(", "));
    }
    let _ = writeln!(s, "scaler: {}", scaler_line(&m.scaler));
    if let Some(affine) = m.scaler.affine() {
        for (f, (shift, scale)) in m.features.iter().zip(affine) {
            let _ = writeln!(s, "  {f}: shift {shift}, scale {scale}");
        }
    }
    let names = scalar_names(&m.net.layout(), &m.features);
    let _ = writeln!(s, "parameters ({}):", names.len());
    for (name, v) in names.iter().zip(&m.params) {
        let _ = writeln!(s, "  {name} = {}", m.format_value(*v));
    }
    if let Some(c) = m.coefficients() {
        let scaled = match (&m.scaler, &m.target_scaler) {
            (Scaler::None, Scaler::None) => {
                " (the features are not scaled: the same as the parameters)"
            }
            (_, Scaler::None) => "",
            _ => " and the targets' (the target scaler undone)",
        };
        let _ = writeln!(s, "coefficients in the features' original units{scaled}:");
        for a in &c.original_units {
            let _ = writeln!(s, "  {}", equation(a, &c.features));
        }
    }
    s
}

fn scaler_line(scaler: &Scaler) -> &'static str {
    match scaler {
        Scaler::None => "none (the model sees the raw features)",
        Scaler::Standard { .. } => "standard: x' = (x - mean) / std",
        Scaler::MinMax { .. } => "minmax: x' = (x - min) / (max - min)",
    }
}

/// `y = 1.5 + 2·x1 - 0.25·x2`, to 12 significant digits (the exact values are in
/// `summary.json`): undoing the scaler leaves rounding noise in the last digits.
fn equation(a: &Affine, features: &[String]) -> String {
    let mut s = format!("{} = {}", a.output, short(a.intercept));
    for (w, f) in a.weights.iter().zip(features) {
        let sign = if *w < 0.0 { '-' } else { '+' };
        let _ = write!(s, " {sign} {}·{f}", short(w.abs()));
    }
    s
}

fn short(v: f64) -> String {
    format!("{v:.11e}").parse::<f64>().unwrap_or(v).to_string()
}
