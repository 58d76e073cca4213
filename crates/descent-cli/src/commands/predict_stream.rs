//! `descent predict` on Parquet or CSV data as a stream (`--stream`, or data over the memory
//! budget): a chunk of rows is read, predicted and written before the next, so memory stays
//! bounded whatever the size of the data. Both sources go through one loop ([`Source`]:
//! Parquet column chunks or CSV records).
//!
//! The CSV written is the in-memory path's byte for byte: the same kept columns as the same
//! text (a CSV cell's own text, trimmed; a Parquet value as
//! [`Cursor::text`](descent::data::parquet::Cursor::text) renders it), the features read as
//! the in-memory reader reads them (its errors, naming the file and the line, or the row
//! group and row), the same rows dropped by `--drop-missing` (a row with a missing target too,
//! when the in-memory path would score), the predictions formatted by the model. `--out
//! FILE.parquet` writes Parquet instead (numbers as DOUBLE, text as UTF-8, nulls kept; a CSV
//! column is numbers when its first chunk's cells are). The output goes to a temporary file
//! beside `--out`, renamed when complete: an error leaves nothing half written. Streamed
//! predictions are not scored.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use descent::data::parquet::{
    is_parquet, resolve_columns, ColumnChunks, Conv, CsvRecords, Kind, OutColumn, OutKind,
    ParquetFiles, ParquetSink,
};
use descent::data::{Columns, DataSource};
use descent::{DType, Model};
use ndarray::Array2;

use super::stream_rows::{Piece, Source};
use crate::args::PredictArgs;
use crate::fsutil::tmp_path;

/// Output rows per Parquet row group (bounded memory: a group's values are held).
const OUT_GROUP_ROWS: usize = 16_384;

/// Whether `predict` streams: `--stream`, or file data over the memory budget (a model with
/// one-hot encoded columns reads its data whole).
pub fn wanted(args: &PredictArgs, model: &Model) -> Result<bool> {
    if args.input.is_some() {
        return Ok(false);
    }
    if args.data.stream {
        return Ok(true);
    }
    let file = args
        .data
        .data
        .as_deref()
        .is_some_and(|d| matches!(DataSource::parse(d), DataSource::File(_)));
    Ok(file && model.one_hot.is_none() && crate::stream::over_budget(&args.data, true)?.is_some())
}

/// Which columns of the data are read, and where each sits in a chunk.
struct Layout {
    path: PathBuf,
    /// Parquet: the files and the columns read (schema indices); CSV: `None`.
    parquet: Option<(Arc<ParquetFiles>, Vec<usize>)>,
    kept_names: Vec<String>,
    /// Parquet: the kept columns' kinds (a CSV file's are found from its first chunk).
    kinds: Option<Vec<OutKind>>,
    keep_at: Vec<usize>,
    feature_at: Vec<usize>,
    /// The target columns the in-memory path would score against, and their names.
    target_at: Vec<usize>,
    target_names: Vec<String>,
    /// Whether the target was named (`--target`): its cells must then be readable.
    explicit_target: bool,
}

/// The target to score against: the one named, else the model's when the data has it.
fn targets_of(model: &Model, args: &PredictArgs, header: &[String]) -> Vec<String> {
    match &args.data.target {
        Some(t) => t.clone(),
        None if model.targets.iter().all(|t| header.contains(t)) => model.targets.clone(),
        None => Vec::new(),
    }
}

/// The header positions of the `--keep` columns (every column without it).
fn keep_of(args: &PredictArgs, header: &[String]) -> Result<Vec<usize>> {
    match &args.keep {
        None => Ok((0..header.len()).collect()),
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
            .collect(),
    }
}

impl Layout {
    fn csv(model: &Model, args: &PredictArgs, path: &Path) -> Result<Self> {
        let records = CsvRecords::open(path, args.data.delimiter)?;
        let header = records.header().to_vec();
        let target_names = targets_of(model, args, &header);
        let columns = Columns {
            targets: Some(target_names.clone()),
            features: Some(model.inputs().to_vec()),
            drop_missing: args.data.drop_missing,
        };
        let (feature_at, target_at) = records.columns(&columns)?;
        let keep_at = keep_of(args, &header)?;
        Ok(Layout {
            path: path.to_path_buf(),
            parquet: None,
            kept_names: keep_at.iter().map(|&j| header[j].clone()).collect(),
            kinds: None,
            keep_at,
            feature_at,
            target_at,
            target_names,
            explicit_target: args.data.target.is_some(),
        })
    }

    fn parquet(model: &Model, args: &PredictArgs, path: &Path) -> Result<Self> {
        let files = Arc::new(
            ParquetFiles::open(path).with_context(|| format!("--data {}", path.display()))?,
        );
        let columns = Columns {
            targets: Some(Vec::new()),
            features: Some(model.inputs().to_vec()),
            drop_missing: args.data.drop_missing,
        };
        resolve_columns(&files, &columns)?;
        // The header of the in-memory path: every readable column, in schema order.
        let readable: Vec<usize> = (0..files.columns.len())
            .filter(|&j| matches!(files.columns[j].1, Kind::Read(_)))
            .collect();
        let header: Vec<String> = readable
            .iter()
            .map(|&j| files.columns[j].0.clone())
            .collect();
        let keep: Vec<usize> = keep_of(args, &header)?
            .into_iter()
            .map(|h| readable[h])
            .collect();
        let schema = |name: &String| {
            files
                .columns
                .iter()
                .position(|(n, _)| n == name)
                .with_context(|| {
                    format!(
                        "--target {name}: no such column; the columns are: {}",
                        header.join(", ")
                    )
                })
        };
        let features: Vec<usize> = model.inputs().iter().map(schema).collect::<Result<_>>()?;
        let target_names = targets_of(model, args, &header);
        let targets: Vec<usize> = target_names.iter().map(schema).collect::<Result<_>>()?;
        // One reader over the kept columns, the features and the targets (each once).
        let mut read: Vec<usize> = keep.clone();
        for &j in features.iter().chain(&targets) {
            if !read.contains(&j) {
                read.push(j);
            }
        }
        let at = |j: &usize| read.iter().position(|r| r == j).unwrap_or(0);
        let kinds = keep
            .iter()
            .map(|&j| match files.columns[j].1 {
                Kind::Read(Conv::Text) => OutKind::Text,
                _ => OutKind::Number,
            })
            .collect();
        Ok(Layout {
            path: path.to_path_buf(),
            kept_names: keep.iter().map(|&j| files.columns[j].0.clone()).collect(),
            kinds: Some(kinds),
            keep_at: keep.iter().map(at).collect(),
            feature_at: features.iter().map(at).collect(),
            target_at: targets.iter().map(at).collect(),
            target_names,
            explicit_target: args.data.target.is_some(),
            parquet: Some((files, read)),
        })
    }

    /// A reader from the first row.
    fn open(&self, args: &PredictArgs) -> Result<Source> {
        Ok(match &self.parquet {
            Some((files, read)) => Source::Parquet(ColumnChunks::new(files.clone(), read.clone())?),
            None => Source::Csv(CsvRecords::open(&self.path, args.data.delimiter)?),
        })
    }
}

pub fn run(model: &Model, args: &PredictArgs, path: &Path) -> Result<ExitCode> {
    if model.one_hot.is_some() {
        bail!("--stream: a model with one-hot encoded columns predicts on data read whole; leave out --stream");
    }
    let layout = if is_parquet(path) {
        Layout::parquet(model, args, path)?
    } else {
        Layout::csv(model, args, path)?
    };
    if !layout.target_names.is_empty() {
        note!("streamed predictions are not scored (read the data whole, without --stream, for a score)");
    }
    // Rows with a missing target are dropped as the in-memory path drops them when it
    // scores; finding that it cannot (a target cell that is no number) starts again
    // without dropping them.
    let mut drop_targets = args.data.drop_missing && !layout.target_at.is_empty();
    loop {
        let mut source = layout.open(args)?;
        let mut out = None;
        let result = predict_all(
            model,
            args,
            &layout,
            &mut source,
            &mut out,
            &mut drop_targets,
        );
        let (dropped, out) = match (result, out) {
            (Ok(_), None) => bail!("internal: no output"),
            (Ok(dropped), Some(out)) => (dropped, out),
            (Err(e), out) => {
                if let Some(out) = out {
                    out.abandon();
                }
                return Err(e);
            }
        };
        let Some(dropped) = dropped else {
            let to_stdout = matches!(out, Output::Csv { paths: None, .. });
            out.abandon();
            if to_stdout {
                bail!(
                    "{}: a target cell ({}) is not a number, so the data read whole is not scored and keeps the rows whose target is missing, which --drop-missing has left out of the predictions already written; write them to a file with --out, or leave out --stream",
                    path.display(),
                    layout.target_names.join(",")
                );
            }
            continue;
        };
        out.finish()?;
        if dropped > 0 {
            note!(
                "dropped {dropped} row(s) with a missing value (--drop-missing); they have no prediction"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
}

/// Reads, predicts and writes every chunk into `out` (created at the first chunk); the rows
/// dropped, or `None` to start again without dropping rows for their target.
fn predict_all(
    model: &Model,
    args: &PredictArgs,
    layout: &Layout,
    source: &mut Source,
    out: &mut Option<Output>,
    drop_targets: &mut bool,
) -> Result<Option<u64>> {
    let drop_missing = args.data.drop_missing;
    let f32 = model.dtype == DType::F32;
    let labels = model.classes.is_some();
    let d = layout.feature_at.len();
    let mut check_targets =
        !layout.target_at.is_empty() && (layout.explicit_target || *drop_targets);
    let (mut dropped, mut by_target, mut written) = (0u64, 0u64, 0u64);
    while let Some(piece) = source.next()? {
        if out.is_none() {
            let kinds = match &layout.kinds {
                Some(k) => k.clone(),
                None => piece.kinds(&layout.keep_at).unwrap_or_default(),
            };
            *out = Some(Output::create(
                args.out.as_deref(),
                model,
                &layout.kept_names,
                &kinds,
            )?);
        }
        let (x, checks) = piece.features(&layout.feature_at, f32);
        let mut kept = Vec::with_capacity(checks.len());
        let mut rows = Vec::with_capacity(checks.len() * d);
        for (i, check) in checks.iter().enumerate() {
            let target_missing =
                *drop_targets && layout.target_at.iter().any(|&t| piece.missing(i, t));
            if drop_missing && (check.missing || target_missing) {
                dropped += 1;
                by_target += u64::from(!check.missing);
                continue;
            }
            if let Some((c, reason)) = &check.bad {
                return Err(piece.error(i, &model.inputs()[*c], reason.clone()).into());
            }
            if check_targets {
                for (&at, name) in layout.target_at.iter().zip(&layout.target_names) {
                    let Some(reason) = piece.target_error(i, at, labels, f32) else {
                        continue;
                    };
                    if layout.explicit_target {
                        return Err(piece.error(i, name, reason).into());
                    }
                    // Read whole, the data is then not scored: no row is dropped for its
                    // target.
                    if by_target > 0 {
                        *drop_targets = false;
                        return Ok(None);
                    }
                    *drop_targets = false;
                    check_targets = false;
                    break;
                }
            }
            kept.push(i);
            rows.extend_from_slice(&x[i * d..(i + 1) * d]);
        }
        let x = Array2::from_shape_vec((kept.len(), d), rows)?;
        let preds = model.outputs(x.view())?;
        written += kept.len() as u64;
        if let Some(out) = out.as_mut() {
            out.write(model, &piece, layout, &kept, &preds)?;
        }
    }
    if written == 0 && by_target > 0 && !layout.explicit_target {
        // Read whole, every row dropped fails the scored read; the unscored one keeps them.
        *drop_targets = false;
        return Ok(None);
    }
    if written == 0 && layout.parquet.is_none() {
        let reason = if dropped > 0 {
            format!(
                "every data row ({dropped}) has a missing value and was dropped (--drop-missing)"
            )
        } else {
            "the file has a header but no data rows".into()
        };
        return Err(descent::Error::Csv {
            path: layout.path.clone(),
            line: Some(1),
            column: None,
            reason,
        }
        .into());
    }
    if out.is_none() {
        let kinds = layout.kinds.clone().unwrap_or_default();
        *out = Some(Output::create(
            args.out.as_deref(),
            model,
            &layout.kept_names,
            &kinds,
        )?);
    }
    Ok(Some(dropped))
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
        paths: Option<(PathBuf, PathBuf)>,
    },
    Parquet {
        sink: Box<ParquetSink>,
        columns: Vec<OutColumn>,
        paths: (PathBuf, PathBuf),
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

    /// Writes the kept rows `kept` of `piece` with their predictions `preds`.
    fn write(
        &mut self,
        model: &Model,
        piece: &Piece<'_>,
        layout: &Layout,
        kept: &[usize],
        preds: &Array2<f64>,
    ) -> Result<()> {
        let (keep_at, names) = (&layout.keep_at, &layout.kept_names);
        let mut logits = Vec::new();
        match self {
            Output::Csv { writer, .. } => {
                for (&i, row) in kept.iter().zip(preds.rows()) {
                    for (&at, name) in keep_at.iter().zip(names) {
                        piece.write_text(at, i, name, writer)?;
                    }
                    logits.clear();
                    logits.extend(row.iter().copied());
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
                for (&i, row) in kept.iter().zip(preds.rows()) {
                    logits.clear();
                    logits.extend(row.iter().copied());
                    for (c, column) in columns.iter_mut().enumerate() {
                        if let (Some(&at), Some(name)) = (keep_at.get(c), names.get(c)) {
                            match column {
                                OutColumn::Numbers(v) => v.push(piece.number(at, i, name)?),
                                OutColumn::Texts(v) => v.push(piece.text(at, i, name)?),
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
