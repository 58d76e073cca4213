//! `descent predict`: apply a saved model to a CSV file or to one input.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{ensure, Context, Result};
use descent::data::{Columns, DataSource, TargetKind};
use descent::{DType, Model};
use ndarray::Array2;

use crate::args::PredictArgs;
use crate::fsutil::write_atomic;

pub fn run(args: PredictArgs) -> Result<ExitCode> {
    let path = Model::resolve(&args.model);
    let model =
        Model::load(&path).with_context(|| format!("cannot read model {}", path.display()))?;
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
            model.dtype != DType::F32 || input.iter().all(|&v| (v as f32).is_finite()),
            "--input values must fit in f32 (magnitude below 3.4e38): the model predicts in f32"
        );
        let x = Array2::from_shape_vec((1, input.len()), input.clone())?;
        let out = model.outputs(x.view())?;
        let row: Vec<f64> = out.row(0).to_vec();
        match &model.classes {
            Some(classes) => println!("{}", classes[model.class_of(&row)]),
            None => {
                for v in row {
                    println!("{}", model.format_value(v));
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
    let data = match model.dtype {
        DType::F32 => source.load::<f32>(&columns, TargetKind::Real)?,
        DType::F64 => source.load::<f64>(&columns, TargetKind::Real)?,
    };
    let out = model.outputs(data.x.view())?;
    let text = to_csv(&model, &data.x, &out);
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The features, then one prediction column per target (regression), or the predicted label
/// and one probability column per class (classification).
fn to_csv(model: &Model, x: &Array2<f64>, out: &Array2<f64>) -> String {
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
                    let _ = write!(s, ",{}", model.format_value(*v));
                }
            }
            Some(classes) => {
                let _ = write!(s, ",{}", classes[model.class_of(&logits)]);
                for p in model.probabilities(&logits) {
                    let _ = write!(s, ",{}", model.format_value(p));
                }
            }
        }
        s.push('\n');
    }
    s
}
