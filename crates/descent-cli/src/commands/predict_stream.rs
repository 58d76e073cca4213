//! `descent predict` on Parquet data as a stream (`--stream`, or data over the memory
//! budget): a chunk of rows is read, predicted and written before the next, so memory stays
//! bounded whatever the size of the data.
//!
//! The CSV written is the in-memory path's byte for byte: the same kept columns rendered as
//! the same text ([`Cursor::text`](descent::data::parquet::Cursor::text)), the features read
//! as the numbers that text parses to, the predictions formatted by the model. `--out
//! FILE.parquet` writes Parquet instead (numbers as DOUBLE, text as UTF-8, nulls kept). The
//! output goes to a temporary file beside `--out`, renamed when complete: an error leaves
//! nothing half written. Streamed predictions are not scored.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use descent::data::parquet::{
    resolve_columns, Chunk, ColumnChunks, Conv, Cursor, Kind, OutColumn, OutKind, ParquetFiles,
    ParquetSink,
};
use descent::data::{Columns, DataSource};
use descent::{DType, Model};
use ndarray::Array2;

use crate::args::PredictArgs;
use crate::fsutil::tmp_path;

/// Output rows per Parquet row group (bounded memory: a group's values are held).
const OUT_GROUP_ROWS: usize = 16_384;

/// Whether `predict` streams: `--stream`, or Parquet data over the memory budget.
pub fn wanted(args: &PredictArgs) -> Result<bool> {
    if args.input.is_some() {
        return Ok(false);
    }
    if args.data.stream {
        return Ok(true);
    }
    // Predictions stream from Parquet only: a CSV file is read whole.
    let parquet = args.data.data.as_deref().is_some_and(|d| {
        matches!(DataSource::parse(d), DataSource::File(p) if descent::data::parquet::is_parquet(&p))
    });
    Ok(parquet && crate::stream::over_budget(&args.data, true)?.is_some())
}

pub fn run(model: &Model, args: &PredictArgs, path: &Path) -> Result<ExitCode> {
    if !descent::data::parquet::is_parquet(path) {
        bail!(
            "--stream: {} is not Parquet; streamed prediction reads Parquet files (CSV is read whole)",
            path.display()
        );
    }
    if model.one_hot.is_some() {
        bail!("--stream: a model with one-hot encoded columns predicts on data read whole; leave out --stream");
    }
    let files =
        Arc::new(ParquetFiles::open(path).with_context(|| format!("--data {}", path.display()))?);
    let columns = Columns {
        targets: Some(Vec::new()),
        features: Some(model.inputs().to_vec()),
        drop_missing: args.data.drop_missing,
    };
    resolve_columns(&files, &columns)?;
    // The header of the in-memory path: every readable column, in schema order.
    let header: Vec<usize> = (0..files.columns.len())
        .filter(|&j| matches!(files.columns[j].1, Kind::Read(_)))
        .collect();
    let name = |j: usize| files.columns[j].0.clone();
    let keep: Vec<usize> = match &args.keep {
        None => header.clone(),
        Some(names) => names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| {
                header
                    .iter()
                    .copied()
                    .find(|&j| &files.columns[j].0 == n)
                    .with_context(|| {
                        let all: Vec<String> = header.iter().map(|&j| name(j)).collect();
                        format!(
                            "--keep {n}: no such column; the columns are: {}",
                            all.join(", ")
                        )
                    })
            })
            .collect::<Result<_>>()?,
    };
    let features: Vec<usize> = model
        .inputs()
        .iter()
        .map(|f| files.columns.iter().position(|(n, _)| n == f))
        .collect::<Option<_>>()
        .context("internal: a feature column vanished")?;
    if args.data.target.is_some()
        || model
            .targets
            .iter()
            .all(|t| header.iter().any(|&j| name(j) == *t))
    {
        eprintln!("note: streamed predictions are not scored (read the data whole, without --stream, for a score)");
    }
    // One reader over the kept columns and the features (each column once).
    let mut read: Vec<usize> = keep.clone();
    for &j in &features {
        if !read.contains(&j) {
            read.push(j);
        }
    }
    let at = |j: usize| read.iter().position(|&r| r == j).unwrap_or(0);
    let keep_at: Vec<usize> = keep.iter().map(|&j| at(j)).collect();
    let feature_at: Vec<usize> = features.iter().map(|&j| at(j)).collect();
    let kept_names: Vec<String> = keep.iter().map(|&j| name(j)).collect();
    let kept_kinds: Vec<OutKind> = keep
        .iter()
        .map(|&j| match files.columns[j].1 {
            Kind::Read(Conv::Text) => OutKind::Text,
            _ => OutKind::Number,
        })
        .collect();
    let mut chunks = ColumnChunks::new(files.clone(), read)?;
    let mut out = Output::create(args.out.as_deref(), model, &kept_names, &kept_kinds)?;
    let drop_missing = args.data.drop_missing;
    let result = predict_chunks(
        model,
        &mut chunks,
        &mut out,
        &feature_at,
        &keep_at,
        drop_missing,
    );
    match result {
        Ok(dropped) => {
            out.finish()?;
            if dropped > 0 {
                eprintln!(
                    "note: dropped {dropped} row(s) with a missing value (--drop-missing); they have no prediction"
                );
            }
        }
        Err(e) => {
            out.abandon();
            return Err(e);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads, predicts and writes every chunk; returns the rows dropped.
fn predict_chunks(
    model: &Model,
    chunks: &mut ColumnChunks,
    out: &mut Output,
    feature_at: &[usize],
    keep_at: &[usize],
    drop_missing: bool,
) -> Result<u64> {
    let mut dropped = 0u64;
    while let Some(chunk) = chunks.next_chunk()? {
        let (x, kept) = features_of(model, &chunk, feature_at, drop_missing)?;
        dropped += (chunk.rows - kept.len()) as u64;
        let preds = model.outputs(x.view())?;
        out.write(model, &chunk, keep_at, &kept, &preds)?;
    }
    Ok(dropped)
}

/// The chunk's feature rows (of the rows kept) as the model reads them, and which rows
/// were kept: a null, NaN or infinite feature is an error, or with `drop_missing` the row
/// is left out (the rules of the in-memory reader).
fn features_of(
    model: &Model,
    chunk: &Chunk<'_>,
    feature_at: &[usize],
    drop_missing: bool,
) -> Result<(Array2<f64>, Vec<usize>)> {
    let (n, d) = (chunk.rows, feature_at.len());
    let mut x = vec![0.0f64; n * d];
    let mut bad: Vec<Option<(usize, String)>> = vec![None; n];
    for (c, &r) in feature_at.iter().enumerate() {
        let cursor = &chunk.cursors[r];
        if cursor.fill_numbers(&mut x[c..], d) {
            continue;
        }
        let mut k = 0;
        for (i, &valid) in cursor.valid.iter().take(n).enumerate() {
            let value = if valid {
                k += 1;
                cursor.number(k - 1).and_then(|v| {
                    if v.is_finite() {
                        Ok(v)
                    } else {
                        Err(format!("`{v}` is not a finite number; fill it in, remove the row, or pass --drop-missing"))
                    }
                })
            } else {
                Err("null value; fill it in, remove the row, or pass --drop-missing".into())
            };
            match value {
                Ok(v) => x[i * d + c] = v,
                Err(reason) if bad[i].is_none() => bad[i] = Some((c, reason)),
                Err(_) => {}
            }
        }
    }
    let f32_model = model.dtype == DType::F32;
    let mut kept = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n * d);
    for (i, b) in bad.iter().enumerate() {
        let row = &x[i * d..(i + 1) * d];
        if let Some((c, reason)) = b {
            let missing = reason.contains("--drop-missing");
            if drop_missing && missing {
                continue;
            }
            let column = &model.inputs()[*c];
            return Err(chunk.error(i, column, reason.clone()).into());
        }
        if f32_model {
            if let Some(c) = row.iter().position(|&v| !(v as f32).is_finite()) {
                let reason = format!(
                    "`{}` is too large for f32; the model predicts in f32; retrain it in f64 (`descent train ... --dtype f64`) for such values",
                    row[c]
                );
                return Err(chunk.error(i, &model.inputs()[c], reason).into());
            }
        }
        kept.push(i);
        rows.extend_from_slice(row);
    }
    let x = Array2::from_shape_vec((kept.len(), d), rows)?;
    Ok((x, kept))
}

/// The prediction columns' names: one per target, or the label and a probability per class.
fn prediction_names(model: &Model) -> Vec<(String, OutKind)> {
    match &model.classes {
        None => model
            .targets
            .iter()
            .map(|t| (format!("{t}_pred"), OutKind::Number))
            .collect(),
        Some(classes) => std::iter::once(("predicted".to_string(), OutKind::Text))
            .chain(classes.iter().map(|c| (format!("p_{c}"), OutKind::Number)))
            .collect(),
    }
}

/// Where the predictions go.
enum Output {
    Csv {
        writer: Box<csv::Writer<Box<dyn Write>>>,
        /// `(temporary, destination)` for a file.
        paths: Option<(std::path::PathBuf, std::path::PathBuf)>,
    },
    Parquet {
        sink: Box<ParquetSink>,
        columns: Vec<OutColumn>,
        paths: (std::path::PathBuf, std::path::PathBuf),
    },
}

impl Output {
    fn create(
        out: Option<&Path>,
        model: &Model,
        kept: &[String],
        kinds: &[OutKind],
    ) -> Result<Self> {
        let preds = prediction_names(model);
        let parquet = out
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        let Some(path) = out else {
            let mut writer = csv::Writer::from_writer(
                Box::new(BufWriter::new(std::io::stdout())) as Box<dyn Write>
            );
            write_header(&mut writer, kept, &preds)?;
            return Ok(Output::Csv {
                writer: Box::new(writer),
                paths: None,
            });
        };
        let tmp = tmp_path(path);
        let paths = (tmp.clone(), path.to_path_buf());
        if parquet {
            let schema: Vec<(String, OutKind, bool)> = kept
                .iter()
                .zip(kinds)
                .map(|(n, k)| (n.clone(), *k, true))
                .chain(preds.iter().map(|(n, k)| (n.clone(), *k, false)))
                .collect();
            let sink = Box::new(ParquetSink::create(&tmp, &schema)?);
            let columns = schema
                .iter()
                .map(|(_, k, _)| match k {
                    OutKind::Number => OutColumn::Numbers(Vec::new()),
                    OutKind::Text => OutColumn::Texts(Vec::new()),
                })
                .collect();
            return Ok(Output::Parquet {
                sink,
                columns,
                paths,
            });
        }
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut writer = csv::Writer::from_writer(
            Box::new(BufWriter::with_capacity(1 << 20, file)) as Box<dyn Write>,
        );
        write_header(&mut writer, kept, &preds)?;
        Ok(Output::Csv {
            writer: Box::new(writer),
            paths: Some(paths),
        })
    }

    /// Writes the kept rows `kept` of `chunk` with their predictions `preds`.
    fn write(
        &mut self,
        model: &Model,
        chunk: &Chunk<'_>,
        keep_at: &[usize],
        kept: &[usize],
        preds: &Array2<f64>,
    ) -> Result<()> {
        // Each kept column's values per row of the chunk, as the in-memory path renders them.
        let dense_index = |cursor: &Cursor| -> Vec<Option<usize>> {
            let mut k = 0;
            cursor
                .valid
                .iter()
                .map(|&v| {
                    v.then(|| {
                        k += 1;
                        k - 1
                    })
                })
                .collect()
        };
        let index: Vec<Vec<Option<usize>>> = keep_at
            .iter()
            .map(|&r| dense_index(&chunk.cursors[r]))
            .collect();
        let text = |c: usize, i: usize| -> Result<String> {
            let cursor = &chunk.cursors[keep_at[c]];
            match index[c][i] {
                None => Ok(String::new()),
                Some(k) => cursor.text(k).map_err(|reason| {
                    let name = "a kept column";
                    chunk.error(i, name, reason).into()
                }),
            }
        };
        match self {
            Output::Csv { writer, .. } => {
                for (&i, logits) in kept.iter().zip(preds.rows()) {
                    for c in 0..keep_at.len() {
                        writer.write_field(text(c, i)?)?;
                    }
                    let logits = logits.to_vec();
                    match &model.classes {
                        None => {
                            for v in &logits {
                                writer.write_field(model.format_value(*v))?;
                            }
                        }
                        Some(classes) => {
                            writer.write_field(&classes[model.class_of(&logits)])?;
                            for p in model.probabilities(&logits) {
                                writer.write_field(model.format_value(p))?;
                            }
                        }
                    }
                    writer.write_record(None::<&[u8]>)?;
                }
            }
            Output::Parquet { sink, columns, .. } => {
                for (&i, logits) in kept.iter().zip(preds.rows()) {
                    let logits = logits.to_vec();
                    for (c, column) in columns.iter_mut().enumerate() {
                        if c < keep_at.len() {
                            let cursor = &chunk.cursors[keep_at[c]];
                            match column {
                                OutColumn::Numbers(v) => v.push(match index[c][i] {
                                    None => None,
                                    Some(k) => cursor.number(k).ok(),
                                }),
                                OutColumn::Texts(v) => v.push(match index[c][i] {
                                    None => None,
                                    Some(_) => Some(text(c, i)?),
                                }),
                            }
                            continue;
                        }
                        let p = c - keep_at.len();
                        match (column, &model.classes) {
                            (OutColumn::Numbers(v), None) => v.push(Some(logits[p])),
                            (OutColumn::Texts(v), Some(classes)) => {
                                v.push(Some(classes[model.class_of(&logits)].clone()))
                            }
                            (OutColumn::Numbers(v), Some(_)) => {
                                v.push(Some(model.probabilities(&logits)[p - 1]))
                            }
                            (OutColumn::Texts(_), None) => {
                                bail!("internal: a text prediction column")
                            }
                        }
                    }
                }
                let rows = match columns.first() {
                    Some(OutColumn::Numbers(v)) => v.len(),
                    Some(OutColumn::Texts(v)) => v.len(),
                    None => 0,
                };
                if rows >= OUT_GROUP_ROWS {
                    flush_group(sink, columns)?;
                }
            }
        }
        Ok(())
    }

    /// Completes the output and moves it into place.
    fn finish(self) -> Result<()> {
        let paths = match self {
            Output::Csv { writer, paths } => {
                let mut inner = (*writer)
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("cannot write the predictions: {e}"))?;
                inner.flush()?;
                paths
            }
            Output::Parquet {
                mut sink,
                mut columns,
                paths,
            } => {
                flush_group(&mut sink, &mut columns)?;
                sink.finish()?;
                Some(paths)
            }
        };
        if let Some((tmp, path)) = paths {
            std::fs::rename(&tmp, &path).with_context(|| {
                let _ = std::fs::remove_file(&tmp);
                format!("cannot write {}", path.display())
            })?;
        }
        Ok(())
    }

    /// Removes the temporary file after an error (the destination is left as it was).
    fn abandon(self) {
        let tmp = match self {
            Output::Csv { paths, .. } => paths.map(|p| p.0),
            Output::Parquet { paths, .. } => Some(paths.0),
        };
        if let Some(tmp) = tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

fn write_header(
    writer: &mut csv::Writer<Box<dyn Write>>,
    kept: &[String],
    preds: &[(String, OutKind)],
) -> Result<()> {
    for name in kept.iter().chain(preds.iter().map(|(n, _)| n)) {
        writer.write_field(name)?;
    }
    writer.write_record(None::<&[u8]>)?;
    Ok(())
}

fn flush_group(sink: &mut ParquetSink, columns: &mut [OutColumn]) -> Result<()> {
    let group: Vec<OutColumn> = columns
        .iter_mut()
        .map(|c| match c {
            OutColumn::Numbers(v) => OutColumn::Numbers(std::mem::take(v)),
            OutColumn::Texts(v) => OutColumn::Texts(std::mem::take(v)),
        })
        .collect();
    sink.write_group(&group)?;
    Ok(())
}
