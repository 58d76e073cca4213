//! `descent predict`: apply a saved model to a CSV or Parquet file or to one input.
//!
//! A file's predictions come out beside its rows: every input column (or those of `--keep`),
//! then the prediction columns. When the file holds the target, the predictions are scored
//! (MSE and R², or accuracy and log loss), printed, and written to `OUT.metrics.json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, ensure, Context, Result};
use descent::data::parquet::{is_parquet, ParquetFiles, ParquetTable};
use descent::data::{
    is_missing, read_csv_bytes_with, read_text_table, Columns, DataSource, Dataset, ReadOptions,
    TargetKind,
};
use descent::loss::{r2_score, Loss};
use descent::{DType, Model};
use ndarray::Array2;
use serde::Serialize;
use serde_json::Value;

use crate::args::PredictArgs;
use crate::fsutil::write_atomic;

pub fn run(args: PredictArgs) -> Result<ExitCode> {
    let (path, warning) = resolve_model(&args.model)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let model =
        Model::load(&path).with_context(|| format!("cannot read model {}", path.display()))?;
    check_data_flags(&args, &model)?;
    match &args.input {
        Some(input) => predict_one(&model, input, &args),
        None => predict_file(&model, &args),
    }
}

/// The model file `--model PATH` names: a file as given; for a run directory its
/// `model.json`, or after a divergence its `best-model.json` (with a warning saying so).
pub fn resolve_model(path: &Path) -> Result<(PathBuf, Option<String>)> {
    if !path.is_dir() {
        ensure!(
            path.exists(),
            "{}: no such file or directory; --model takes a run directory (the --out of `descent train`) or a model file in one",
            path.display()
        );
        return Ok((path.to_path_buf(), None));
    }
    let (model, best) = (path.join("model.json"), path.join("best-model.json"));
    let summary: Option<Value> = std::fs::read(path.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok());
    let outcome = summary.as_ref().map(|s| &s["outcome"]);
    let diverged = outcome.is_some_and(|o| o["stop"]["status"] == "diverged");
    let best_epoch = outcome
        .and_then(|o| o["best_epoch"].as_u64())
        .map_or_else(String::new, |e| format!(" (epoch {e})"));
    let dir = path.display();
    match (model.is_file(), best.is_file()) {
        (false, true) => Ok((
            best,
            Some(format!(
                "the run in {dir} diverged and wrote no model.json; predicting with {dir}/best-model.json, the best parameters{best_epoch} before it diverged"
            )),
        )),
        (true, true) if diverged => Ok((
            model,
            Some(format!(
                "the last run in {dir} diverged, so its model.json is from an earlier run; the diverged run's best parameters{best_epoch} are in {dir}/best-model.json (--model {dir}/best-model.json)"
            )),
        )),
        (true, _) => Ok((model, None)),
        (false, false) if path.join("checkpoint.json").is_file() => bail!(
            "{dir} holds no model.json yet: the run has not finished (continue it with `descent train --resume {dir}`)"
        ),
        (false, false) => bail!(
            "{dir} holds no model.json: is it the --out directory of a finished `descent train`?"
        ),
    }
}

/// The data flags that describe how the model reads its data must agree with the model:
/// its input columns and its one-hot encoding were fixed when it was trained.
fn check_data_flags(args: &PredictArgs, model: &Model) -> Result<()> {
    let d = &args.data;
    if let Some(features) = &d.features {
        let (mut given, mut inputs) = (features.clone(), model.inputs().to_vec());
        given.sort();
        inputs.sort();
        ensure!(
            given == inputs,
            "--features {}: the model reads the columns {} (fixed when it was trained); leave --features out",
            features.join(","),
            model.inputs().join(",")
        );
    }
    let encoded: Vec<&str> = model
        .one_hot
        .iter()
        .flat_map(|e| e.columns.iter().map(|c| c.column.as_str()))
        .collect();
    if let Some(asked) = &d.one_hot {
        let same = match asked {
            descent::data::OneHotColumns::Auto => true,
            descent::data::OneHotColumns::Named(names) => {
                names.iter().all(|n| encoded.contains(&n.as_str())) && names.len() == encoded.len()
            }
        };
        ensure!(
            same,
            "--one-hot {asked}: the model's encoding is saved with it ({}); leave --one-hot out",
            if encoded.is_empty() {
                "no one-hot columns".to_string()
            } else {
                format!("one-hot columns: {}", encoded.join(", "))
            }
        );
    }
    Ok(())
}

/// `--input`: one row, printed as the prediction (a value per target, or the class label).
fn predict_one(model: &Model, input: &[String], args: &PredictArgs) -> Result<ExitCode> {
    let inputs = model.inputs();
    let what = if model.one_hot.is_some() {
        "input column(s)"
    } else {
        "feature(s)"
    };
    ensure!(
        input.len() == inputs.len(),
        "--input has {} value(s) but the model takes {} {what}: {}",
        input.len(),
        inputs.len(),
        inputs.join(", ")
    );
    let x = match &model.one_hot {
        None => {
            let values: Vec<f64> = input
                .iter()
                .map(|v| v.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--input values must be numbers (the model's features are {})",
                        inputs.join(", ")
                    )
                })?;
            ensure!(
                values.iter().all(|v| v.is_finite()),
                "--input values must be finite numbers"
            );
            ensure!(
                model.dtype != DType::F32 || values.iter().all(|&v| (v as f32).is_finite()),
                "--input values must fit in f32 (magnitude below 3.4e38): the model predicts in f32"
            );
            Array2::from_shape_vec((1, values.len()), values)?
        }
        // Text values: one CSV row through the reader, which applies the encoding.
        Some(_) => {
            let mut text = csv::Writer::from_writer(Vec::new());
            text.write_record(inputs)?;
            text.write_record(input.iter().map(|v| v.trim()))?;
            let bytes = text.into_inner().context("cannot build the --input row")?;
            let columns = Columns {
                targets: Some(Vec::new()),
                features: Some(inputs.to_vec()),
                drop_missing: false,
            };
            let options =
                model.read_options(Some(descent::data::Delimiter(b',')), args.unknown_category);
            let data = read(model, Path::new("--input"), &bytes, &columns, &options)?;
            warn_unknown(&data);
            data.x
        }
    };
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
    Ok(ExitCode::SUCCESS)
}

/// Reads `bytes` in the model's precision (a value too large for it is an error).
fn read(
    model: &Model,
    origin: &Path,
    bytes: &[u8],
    columns: &Columns,
    options: &ReadOptions,
) -> descent::Result<Dataset> {
    let kind = if model.classes.is_some() && columns.targets.as_ref().is_some_and(|t| !t.is_empty())
    {
        TargetKind::Classes
    } else {
        TargetKind::Real
    };
    match model.dtype {
        // The reader's advice is for training; here the model's precision is fixed.
        DType::F32 => {
            read_csv_bytes_with::<f32>(origin, bytes, columns, kind, options).map_err(|e| match e {
                descent::Error::Csv {
                    path,
                    line,
                    column,
                    reason,
                } => descent::Error::Csv {
                    path,
                    line,
                    column,
                    reason: f32_advice(reason),
                },
                other => other,
            })
        }
        DType::F64 => read_csv_bytes_with::<f64>(origin, bytes, columns, kind, options),
    }
}

/// The reader's advice for a value too large for f32, made for prediction: the model's
/// precision is fixed.
pub(super) fn f32_advice(reason: String) -> String {
    reason.replace(
        "rescale this column or train in f64 (--dtype f64)",
        "the model predicts in f32; retrain it in f64 (`descent train ... --dtype f64`) for such values",
    )
}

fn warn_unknown(data: &Dataset) {
    if data.unknown_categories.is_empty() {
        return;
    }
    let cells: usize = data.unknown_categories.iter().map(|(_, _, n)| n).sum();
    let values: Vec<String> = data
        .unknown_categories
        .iter()
        .take(8)
        .map(|(c, v, _)| format!("{c}: {v}"))
        .collect();
    eprintln!(
        "warning: {cells} cell(s) hold categories the model was not trained on ({}); their indicator columns are all 0 (--unknown-category zeros)",
        values.join(", ")
    );
}

fn predict_file(model: &Model, args: &PredictArgs) -> Result<ExitCode> {
    let d = &args.data;
    let source = DataSource::parse(d.data.as_deref().unwrap_or_default());
    if let DataSource::File(path) = &source {
        if super::predict_stream::wanted(args, model)? {
            return super::predict_stream::run(model, args, path);
        }
    }
    // Parquet data is rendered as CSV text (exactly), its errors located in the files.
    let mut parquet = None;
    let (origin, bytes) = match &source {
        DataSource::File(p) if is_parquet(p) => {
            let mut table = ParquetTable::read(ParquetFiles::open(p)?)?;
            let bytes = std::mem::take(&mut table.bytes);
            parquet = Some(table);
            (p.clone(), bytes)
        }
        DataSource::File(p) => (
            p.clone(),
            std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        ),
        DataSource::Builtin(name) => (
            PathBuf::from(source.describe()),
            descent::data::builtin::csv_text(name)?.into_owned(),
        ),
    };
    let delimiter = match parquet {
        Some(_) => Some(descent::data::Delimiter(b',')),
        None => d.delimiter,
    };
    let locate = |e: descent::Error| match &parquet {
        Some(table) => table.locate(e),
        None => e,
    };
    let (header, rows) = read_text_table(&origin, &bytes, delimiter).map_err(locate)?;
    // The target to score against: the one named, else the model's when the file has it.
    let targets: Vec<String> = match &d.target {
        Some(t) => t.clone(),
        None if model.targets.iter().all(|t| header.contains(t)) => model.targets.clone(),
        None => Vec::new(),
    };
    let options = model.read_options(delimiter, args.unknown_category);
    let columns = |targets: Vec<String>| Columns {
        targets: Some(targets),
        features: Some(model.inputs().to_vec()),
        drop_missing: d.drop_missing,
    };
    let read = |columns: &Columns| read(model, &origin, &bytes, columns, &options).map_err(locate);
    let (data, scored) = match read(&columns(targets.clone())) {
        Ok(data) => (data, !targets.is_empty()),
        // The target column is there but not filled in everywhere: predict without a score.
        Err(e) if d.target.is_none() && !targets.is_empty() => {
            let data = read(&columns(Vec::new()))?;
            note!("no score: {e}");
            (data, false)
        }
        Err(e) => return Err(e.into()),
    };
    if data.dropped_rows > 0 {
        note!(
            "dropped {} row(s) with a missing value (--drop-missing); they have no prediction",
            data.dropped_rows
        );
    }
    warn_unknown(&data);
    let out = model.outputs(data.x.view())?;
    // The text rows the reader kept, in order.
    let used: Vec<usize> = model
        .inputs()
        .iter()
        .chain(if scored { &targets[..] } else { &[] })
        .filter_map(|c| header.iter().position(|h| h == c))
        .collect();
    let kept: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| !d.drop_missing || !used.iter().any(|&j| is_missing(&r[j])))
        .collect();
    ensure!(
        kept.len() == data.n_rows(),
        "internal: {} text rows for {} rows of data",
        kept.len(),
        data.n_rows()
    );
    let keep: Vec<usize> = match &args.keep {
        None => (0..header.len()).collect(),
        Some(names) => names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| {
                header.iter().position(|h| h == n).with_context(|| {
                    format!(
                        "--keep {n}: no such column; the columns are: {}",
                        header.join(", ")
                    )
                })
            })
            .collect::<Result<_>>()?,
    };
    let text = to_csv(model, &header, &keep, &kept, &out)?;
    match &args.out {
        Some(path) => write_atomic(path, &text)?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&text)?;
        }
    }
    if scored {
        let scores = score(model, &data, &out, &targets);
        let line = scores.line();
        match &args.out {
            Some(path) => {
                let json = path.with_extension("metrics.json");
                crate::fsutil::write_json_atomic(&json, &scores)?;
                println!("{line}; wrote {}", json.display());
            }
            None => eprintln!("{line}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The kept input columns of every row, then one prediction column per target
/// (regression), or the predicted label and one probability column per class.
fn to_csv(
    model: &Model,
    header: &[String],
    keep: &[usize],
    rows: &[&Vec<String>],
    out: &Array2<f64>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut names: Vec<String> = keep.iter().map(|&j| header[j].clone()).collect();
    match &model.classes {
        None => names.extend(model.targets.iter().map(|t| format!("{t}_pred"))),
        Some(classes) => {
            names.push("predicted".into());
            names.extend(classes.iter().map(|c| format!("p_{c}")));
        }
    }
    w.write_record(&names)?;
    for (row, logits) in rows.iter().zip(out.rows()) {
        let mut cells: Vec<String> = keep.iter().map(|&j| row[j].clone()).collect();
        let logits: Vec<f64> = logits.to_vec();
        match &model.classes {
            None => cells.extend(logits.iter().map(|v| model.format_value(*v))),
            Some(classes) => {
                cells.push(classes[model.class_of(&logits)].clone());
                cells.extend(
                    model
                        .probabilities(&logits)
                        .into_iter()
                        .map(|p| model.format_value(p)),
                );
            }
        }
        w.write_record(&cells)?;
    }
    w.into_inner().context("cannot write the predictions")
}

/// How the predictions compare with the target column.
#[derive(Debug, Serialize)]
struct Scores {
    rows: usize,
    target: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mse: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    r2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy: Option<f64>,
    /// Mean negative log-likelihood of the true class; `None` when a label is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    log_loss: Option<f64>,
    /// Rows whose label the model does not know (counted as wrong).
    #[serde(skip_serializing_if = "is_zero")]
    unknown_labels: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Scores {
    fn line(&self) -> String {
        let mut s = match (self.mse, self.r2, self.accuracy) {
            (Some(mse), Some(r2), _) => format!("mse {mse}  r2 {r2:.6}"),
            (_, _, Some(acc)) => format!(
                "accuracy {:.2}%  log loss {}",
                100.0 * acc,
                self.log_loss
                    .map_or_else(|| "n/a".to_string(), |l| l.to_string())
            ),
            _ => String::new(),
        };
        s += &format!(" on {} rows (target {})", self.rows, self.target.join(","));
        if self.unknown_labels > 0 {
            s += &format!(
                "; {} row(s) have labels the model does not know, counted as wrong",
                self.unknown_labels
            );
        }
        s
    }
}

fn score(model: &Model, data: &Dataset, out: &Array2<f64>, targets: &[String]) -> Scores {
    let mut s = Scores {
        rows: data.n_rows(),
        target: targets.to_vec(),
        mse: None,
        r2: None,
        accuracy: None,
        log_loss: None,
        unknown_labels: 0,
    };
    let Some(classes) = &model.classes else {
        let sq: f64 = out
            .iter()
            .zip(data.y.iter())
            .map(|(p, t)| (p - t).powi(2))
            .sum();
        s.mse = Some(sq / out.len() as f64);
        s.r2 = Some(r2_score(out.view(), data.y.view()));
        return s;
    };
    // The file's labels, mapped to the model's classes by text (or value, for numbers).
    let file_labels = data.classes.clone().unwrap_or_default();
    let same = |a: &str, b: &str| {
        a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    };
    let to_model: Vec<Option<usize>> = file_labels
        .iter()
        .map(|l| classes.iter().position(|c| same(c, l)))
        .collect();
    let (mut correct, mut nll) = (0usize, 0.0f64);
    for (logits, y) in out.rows().into_iter().zip(data.y.column(0)) {
        let logits = logits.to_vec();
        let Some(truth) = to_model[*y as usize] else {
            s.unknown_labels += 1;
            continue;
        };
        correct += usize::from(model.class_of(&logits) == truth);
        nll += neg_log_likelihood(model.loss, &logits, truth);
    }
    s.accuracy = Some(correct as f64 / s.rows.max(1) as f64);
    s.log_loss = (s.unknown_labels == 0).then(|| nll / s.rows.max(1) as f64);
    s
}

/// `-log p(truth)` from the logits, without forming `p` (exact for confident predictions).
fn neg_log_likelihood(loss: Loss, logits: &[f64], truth: usize) -> f64 {
    let softplus = |t: f64| t.max(0.0) + (-t.abs()).exp().ln_1p();
    if loss == Loss::BceWithLogits {
        let z = logits[0];
        return if truth == 1 {
            softplus(-z)
        } else {
            softplus(z)
        };
    }
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + logits.iter().map(|z| (z - m).exp()).sum::<f64>().ln();
    lse - logits[truth]
}
