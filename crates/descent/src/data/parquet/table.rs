//! Parquet data read whole into memory: every row group decoded and handed to the CSV
//! reader's rules, so that a Parquet file gives the dataset the same data gives as CSV
//! (labels, one-hot encoding, missing values, the hints for a text column), with errors
//! that name the file, the row group, the row and the column instead of a line.
//!
//! The values are rendered as text exactly: integers and decimals digit for digit, floats in
//! the shortest form that reads back to the same number, nulls as empty cells (a missing
//! value). This costs a text copy of the table while it is read; data larger than memory
//! takes the streaming path ([`ParquetBatches`](super::ParquetBatches)).

use std::path::{Path, PathBuf};

use super::column::{Cursor, Kind};
use super::files::{describe, ParquetFiles};
use super::guard;
use crate::data::{read_csv_bytes_with, Columns, Dataset, Delimiter, ReadOptions, TargetKind};
use crate::{Error, Float, Result};

/// A Parquet data set rendered as CSV text, and the way back from a line of it to the
/// file, row group and row.
#[derive(Debug)]
pub struct ParquetTable {
    pub files: ParquetFiles,
    /// CSV text (comma-separated, a header row, one line per row).
    pub bytes: Vec<u8>,
    /// The line each row starts on (a text value may hold line breaks).
    lines: Vec<u64>,
}

impl ParquetTable {
    /// Reads every column a run can read (numbers and text) of every file.
    pub fn read(files: ParquetFiles) -> Result<Self> {
        let readable: Vec<usize> = (0..files.columns.len())
            .filter(|&j| matches!(files.columns[j].1, Kind::Read(_)))
            .collect();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = readable
            .iter()
            .map(|&j| files.columns[j].0.as_str())
            .collect();
        writer.write_record(&header).map_err(csv_write)?;
        // Capacities are capped: a corrupt footer may claim any number of rows.
        let mut lines = Vec::with_capacity((files.n_rows() as usize).min(1 << 20));
        let mut line = 2u64;
        let mut row_text: Vec<String> = vec![String::new(); readable.len()];
        for (f, g, first) in files.row_groups() {
            let path = &files.files[f].path;
            let reader = super::files::open(path)?;
            let group =
                guard::caught(|| parquet::file::reader::FileReader::get_row_group(&reader, g))
                    .map_err(|e| group_error(path, g, None, e.to_string()))?;
            let rows = files.files[f].row_groups[g] as usize;
            let mut cells: Vec<Vec<String>> = Vec::with_capacity(readable.len());
            for &j in &readable {
                let name = &files.columns[j].0;
                let Kind::Read(conv) = files.columns[j].1 else {
                    unreachable!("filtered above")
                };
                let column = column_reader(&*group, j, path, g, name)?;
                let descr = group.metadata().schema_descr().column(j);
                let mut cursor = Cursor::new(column, &descr, conv);
                let got = cursor
                    .read(rows)
                    .map_err(|e| group_error(path, g, Some(name), corrupt(e)))?;
                if got != rows {
                    let reason = format!("{got} values where the row group holds {rows} rows");
                    return Err(group_error(path, g, Some(name), reason));
                }
                let mut k = 0;
                let mut texts = Vec::with_capacity(rows.min(1 << 16));
                for (i, &valid) in cursor.valid.iter().enumerate() {
                    if !valid {
                        texts.push(String::new());
                        continue;
                    }
                    let text = cursor.text(k).map_err(|reason| Error::Parquet {
                        path: path.clone(),
                        row_group: Some(g),
                        row: Some(first + i as u64),
                        column: Some(name.clone()),
                        reason,
                    })?;
                    texts.push(text);
                    k += 1;
                }
                cells.push(texts);
            }
            for i in 0..rows {
                let mut breaks = 0;
                for (c, column) in cells.iter_mut().enumerate() {
                    row_text[c] = std::mem::take(&mut column[i]);
                    breaks += row_text[c].matches('\n').count() as u64;
                }
                writer.write_record(&row_text).map_err(csv_write)?;
                lines.push(line);
                line += 1 + breaks;
            }
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| Error::Data(format!("cannot render the table: {e}")))?;
        Ok(ParquetTable {
            files,
            bytes,
            lines,
        })
    }

    /// Turns a CSV reader's error about [`bytes`](Self::bytes) into one about the Parquet
    /// file, row group, row and column it came from.
    pub fn locate(&self, e: Error) -> Error {
        let Error::Csv {
            line,
            column,
            reason,
            ..
        } = e
        else {
            return e;
        };
        let reason = reason
            .replace(
                "empty cell; fill it in, remove the row,",
                "null (or empty) value; fill it in, remove the row,",
            )
            .replace(
                "the file has a header but no data rows",
                "the data has no rows",
            );
        let record = line
            .filter(|&l| l >= 2)
            .map(|l| self.lines.partition_point(|&start| start <= l).max(1) - 1);
        match record.and_then(|r| self.files.locate(r as u64)) {
            Some((path, g, row)) => Error::Parquet {
                path: path.to_path_buf(),
                row_group: Some(g),
                row: Some(row),
                column,
                reason,
            },
            None => Error::Parquet {
                path: self.files.origin.clone(),
                row_group: None,
                row: None,
                column,
                reason,
            },
        }
    }
}

fn csv_write(e: csv::Error) -> Error {
    Error::Data(format!("cannot render the table: {e}"))
}

fn corrupt(e: parquet::errors::ParquetError) -> String {
    format!("cannot decode the column ({e}); the file may be corrupt")
}

/// Column `j`'s reader in row group `g` (read by `rg`) of the file at `path`, or an error
/// naming the place. The column chunk's start and length are checked first, as the parquet
/// crate asserts them: a corrupt footer may hold negative ones, on which it panics.
pub(super) fn column_reader(
    rg: &dyn parquet::file::reader::RowGroupReader,
    j: usize,
    path: &Path,
    g: usize,
    name: &str,
) -> Result<parquet::column::reader::ColumnReader> {
    let chunk = rg.metadata().column(j);
    let start = chunk
        .dictionary_page_offset()
        .unwrap_or(chunk.data_page_offset());
    let length = chunk.compressed_size();
    if start < 0 || length < 0 {
        let reason = format!("corrupt column chunk (starts at byte {start}, {length} bytes long)");
        return Err(group_error(path, g, Some(name), reason));
    }
    guard::caught(|| rg.get_column_reader(j))
        .map_err(|e| group_error(path, g, Some(name), e.to_string()))
}

/// An error in row group `g` of `path`.
pub fn group_error(path: &Path, g: usize, column: Option<&str>, reason: String) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        row_group: Some(g),
        row: None,
        column: column.map(str::to_string),
        reason,
    }
}

/// The target and feature columns `columns` selects from `files`, by name, with the
/// defaults of CSV (target: the last column; features: every other), checking that each is a
/// column a run can read.
pub fn resolve_columns(files: &ParquetFiles, columns: &Columns) -> Result<Columns> {
    let names = files.names();
    let err = |reason: String| Error::Parquet {
        path: files.origin.clone(),
        row_group: None,
        row: None,
        column: None,
        reason,
    };
    if names.is_empty() {
        return Err(err("the file has no columns".into()));
    }
    let targets = columns
        .targets
        .clone()
        .unwrap_or_else(|| vec![names[names.len() - 1].clone()]);
    let features = columns.features.clone().unwrap_or_else(|| {
        names
            .iter()
            .filter(|n| !targets.contains(n))
            .cloned()
            .collect()
    });
    let readable: Vec<&str> = files
        .columns
        .iter()
        .filter(|(n, k)| matches!(k, Kind::Read(_)) && !targets.contains(n))
        .map(|(n, _)| n.as_str())
        .collect();
    for name in targets.iter().chain(&features) {
        let Some((_, kind)) = files.columns.iter().find(|(n, _)| n == name) else {
            return Err(err(format!(
                "no column named `{name}`; the columns are: {}",
                names.join(", ")
            )));
        };
        if let Kind::Other(_) = kind {
            let others: Vec<&str> = readable
                .iter()
                .copied()
                .filter(|n| features.iter().any(|f| f == n))
                .collect();
            let fix = if targets.contains(name) || others.is_empty() {
                "choose another column".to_string()
            } else {
                format!("leave it out with --features {}", others.join(","))
            };
            return Err(Error::Parquet {
                path: files.origin.clone(),
                row_group: None,
                row: None,
                column: Some(name.clone()),
                reason: format!(
                    "`{name}` is {}, not a number or text; {fix}",
                    describe(kind)
                ),
            });
        }
    }
    Ok(Columns {
        targets: Some(targets),
        features: Some(features),
        drop_missing: columns.drop_missing,
    })
}

/// Reads the Parquet data at `origin` (a file, a directory of files or a glob) as
/// [`read_csv_with`](crate::data::read_csv_with) reads a CSV file, in precision `F`.
pub fn read_parquet_with<F: Float>(
    origin: &Path,
    columns: &Columns,
    kind: TargetKind,
    options: &ReadOptions,
) -> Result<Dataset> {
    let files = ParquetFiles::open(origin)?;
    let columns = resolve_columns(&files, columns)?;
    let table = ParquetTable::read(files)?;
    let options = ReadOptions {
        delimiter: Some(Delimiter(b',')),
        ..options.clone()
    };
    let name: PathBuf = origin.to_path_buf();
    read_csv_bytes_with::<F>(&name, &table.bytes, &columns, kind, &options)
        .map_err(|e| table.locate(e))
}
