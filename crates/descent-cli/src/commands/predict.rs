//! `descent predict`: apply a saved model to a CSV file or to one input.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{ensure, Result};
use descent::data::{Columns, TargetKind};
use descent::loss::{predicted_class, Loss};
use ndarray::Array2;

use crate::args::PredictArgs;
use crate::data_source::DataSource;
use crate::fsutil::write_atomic;
use crate::model_file::ModelFile;

pub fn run(args: PredictArgs) -> Result<ExitCode> {
    let model = ModelFile::load(&args.model)?;
    if let Some(input) = &args.input {
        ensure!(
            input.len() == model.features.len(),
            "--input has {} value(s) but the model takes {} feature(s): {}",
            input.len(),
            model.features.len(),
            model.features.join(", ")
        );
        ensure!(
            input.iter().all(|v| v.is_finite()),
            "--input values must be finite numbers"
        );
        ensure!(
            model.dtype != "f32" || input.iter().all(|&v| (v as f32).is_finite()),
            "--input values must fit in f32 (magnitude below 3.4e38): the model predicts in f32"
        );
        let x = Array2::from_shape_vec((1, input.len()), input.clone())?;
        let out = model.outputs(x)?;
        let row: Vec<f64> = out.row(0).to_vec();
        match &model.classes {
            Some(classes) => println!("{}", classes[class_of(&model, &row)]),
            None => {
                for v in row {
                    println!("{}", format_value(&model, v));
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let source = DataSource::parse(args.data.as_deref().unwrap_or_default());
    let columns = Columns {
        targets: Some(Vec::new()),
        features: Some(model.features.clone()),
        drop_missing: false, // a prediction per input row: rows are never dropped
    };
    let data = match model.dtype.as_str() {
        "f32" => source.load::<f32>(&columns, TargetKind::Real)?,
        _ => source.load::<f64>(&columns, TargetKind::Real)?,
    };
    let out = model.outputs(data.x.clone())?;
    let text = to_csv(&model, &data.x, &out);
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn class_of(model: &ModelFile, logits: &[f64]) -> usize {
    predicted_class(logits.iter().copied()).min(model.classes.as_ref().map_or(1, Vec::len) - 1)
}

/// Shortest text that round-trips the value in the model's precision.
fn format_value(model: &ModelFile, v: f64) -> String {
    if model.dtype == "f32" {
        format!("{}", v as f32)
    } else {
        format!("{v}")
    }
}

/// The features, then one prediction column per target (regression), or the predicted label
/// and one probability column per class (classification).
fn to_csv(model: &ModelFile, x: &Array2<f64>, out: &Array2<f64>) -> String {
    let mut s = model.features.join(",");
    match &model.classes {
        None => {
            for t in &model.targets {
                let _ = write!(s, ",{t}_pred");
            }
        }
        Some(classes) => {
            s.push_str(",predicted");
            for c in classes {
                let _ = write!(s, ",p_{c}");
            }
        }
    }
    s.push('\n');
    for (xr, or) in x.rows().into_iter().zip(out.rows()) {
        let cells: Vec<String> = xr.iter().map(|v| v.to_string()).collect();
        s.push_str(&cells.join(","));
        let logits: Vec<f64> = or.to_vec();
        match &model.classes {
            None => {
                for v in &logits {
                    let _ = write!(s, ",{}", format_value(model, *v));
                }
            }
            Some(classes) => {
                let _ = write!(s, ",{}", classes[class_of(model, &logits)]);
                for p in probabilities(model.loss, &logits) {
                    let _ = write!(s, ",{}", format_value(model, p));
                }
            }
        }
        s.push('\n');
    }
    s
}

fn probabilities(loss: Loss, logits: &[f64]) -> Vec<f64> {
    if loss == Loss::BceWithLogits {
        let p = 1.0 / (1.0 + (-logits[0]).exp());
        return vec![1.0 - p, p];
    }
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|z| (z - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}
