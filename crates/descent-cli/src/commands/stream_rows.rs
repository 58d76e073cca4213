//! The rows streamed prediction reads, from either source, behind one interface: Parquet
//! column chunks ([`ColumnChunks`]) or CSV records ([`CsvRecords`]). A [`Piece`] is a chunk
//! of rows; its cells are addressed by their place in the chunk (`at`: a cursor of the
//! Parquet reader, a field of the CSV record) and read by the in-memory reader's rules.

use std::io::Write;

use anyhow::Result;
use descent::data::parquet::{Chunk, ColumnChunks, CsvRecords, CsvRows, OutKind};
use descent::data::{is_missing, parse_cell_as, too_large_for};

/// Where the rows come from.
pub enum Source {
    Parquet(ColumnChunks),
    Csv(CsvRecords),
}

/// A chunk of rows.
pub enum Piece<'a> {
    /// With, per read column, each row's index among the column's dense values (`None`:
    /// null).
    Parquet(Chunk<'a>, Vec<Vec<Option<usize>>>),
    Csv(CsvRows<'a>),
}

/// A row's feature cells as the model reads them: the first bad cell (its feature position
/// and why), and whether any is a missing value (a row `--drop-missing` drops).
#[derive(Clone, Default)]
pub struct RowCheck {
    pub bad: Option<(usize, String)>,
    pub missing: bool,
}

/// Why a number is too large for the f32 model, as the in-memory predict says it: the
/// library's reason with the advice made for prediction.
pub fn too_large_for_f32(cell: &str) -> String {
    super::predict::f32_advice(too_large_for::<f32>(cell))
}

impl Source {
    /// The next chunk, or `None` after the last row.
    pub fn next(&mut self) -> Result<Option<Piece<'_>>> {
        Ok(match self {
            Source::Parquet(chunks) => chunks.next_chunk()?.map(|chunk| {
                let index = chunk
                    .cursors
                    .iter()
                    .map(|c| dense_index(&c.valid))
                    .collect();
                Piece::Parquet(chunk, index)
            }),
            Source::Csv(records) => records.next_chunk()?.map(Piece::Csv),
        })
    }
}

/// Each row's index among the dense values of a column with validity `valid`.
fn dense_index(valid: &[bool]) -> Vec<Option<usize>> {
    let mut k = 0;
    valid
        .iter()
        .map(|&v| {
            v.then(|| {
                k += 1;
                k - 1
            })
        })
        .collect()
}

impl Piece<'_> {
    pub fn rows(&self) -> usize {
        match self {
            Piece::Parquet(chunk, _) => chunk.rows,
            Piece::Csv(rows) => rows.records.len(),
        }
    }

    /// The features at `at` of every row, row-major, and each row's check; with `f32`, a
    /// value too large for f32 is a bad cell.
    pub fn features(&self, at: &[usize], f32: bool) -> (Vec<f64>, Vec<RowCheck>) {
        let (n, d) = (self.rows(), at.len());
        let mut x = vec![0.0f64; n * d];
        let mut checks = vec![RowCheck::default(); n];
        let mut mark = |i: usize, c: usize, reason: String, missing: bool| {
            let check: &mut RowCheck = &mut checks[i];
            check.missing |= missing;
            if check.bad.is_none() {
                check.bad = Some((c, reason));
            }
        };
        match self {
            Piece::Csv(rows) => {
                for i in 0..n {
                    for (c, &j) in at.iter().enumerate() {
                        let value = if f32 {
                            rows.number::<f32>(i, j).map_err(super::predict::f32_advice)
                        } else {
                            rows.number::<f64>(i, j)
                        };
                        match value {
                            Ok(v) => x[i * d + c] = v,
                            Err(reason) => {
                                let missing = is_missing(&rows.records[i][j]);
                                mark(i, c, reason, missing);
                            }
                        }
                    }
                }
            }
            Piece::Parquet(chunk, index) => {
                for (c, &r) in at.iter().enumerate() {
                    let cursor = &chunk.cursors[r];
                    let filled = cursor.fill_numbers(&mut x[c..], d);
                    if filled && !f32 {
                        continue; // no null, every value finite
                    }
                    for i in 0..n {
                        let value = match index[r][i] {
                            _ if filled => Ok(x[i * d + c]),
                            None => Err("null value; fill it in, remove the row, or pass --drop-missing".to_string()),
                            Some(k) => cursor.number(k).and_then(|v| {
                                if v.is_finite() {
                                    Ok(v)
                                } else {
                                    Err(format!("`{v}` is not a finite number; fill it in, remove the row, or pass --drop-missing"))
                                }
                            }),
                        };
                        match value {
                            Ok(v) if f32 && !(v as f32).is_finite() => {
                                let text = index[r][i]
                                    .and_then(|k| cursor.text(k).ok())
                                    .unwrap_or_else(|| v.to_string());
                                mark(i, c, too_large_for_f32(&text), false);
                            }
                            Ok(v) => x[i * d + c] = v,
                            Err(reason) => {
                                let missing = reason.contains("--drop-missing");
                                mark(i, c, reason, missing);
                            }
                        }
                    }
                }
            }
        }
        (x, checks)
    }

    /// Whether the cell at `at` of row `i` is a missing value (as its text read whole would
    /// be: empty, a marker such as `NA`, NaN or infinite).
    pub fn missing(&self, i: usize, at: usize) -> bool {
        match self {
            Piece::Csv(rows) => is_missing(&rows.records[i][at]),
            Piece::Parquet(chunk, index) => match index[at][i] {
                None => true,
                Some(k) => chunk.cursors[at].text(k).map_or(true, |t| is_missing(&t)),
            },
        }
    }

    /// Why the target cell at `at` of row `i` (not missing) cannot be read as in memory: a
    /// number for regression (finite, within f32 with `f32`), a label for classification.
    pub fn target_error(&self, i: usize, at: usize, labels: bool, f32: bool) -> Option<String> {
        let text = match self {
            Piece::Csv(rows) => rows.records[i][at].to_string(),
            Piece::Parquet(chunk, index) => match index[at][i] {
                None => String::new(),
                Some(k) => chunk.cursors[at].text(k).unwrap_or_default(),
            },
        };
        if labels {
            return text.is_empty().then(|| "empty label".to_string());
        }
        let value = if f32 {
            parse_cell_as::<f32>(&text).map_err(super::predict::f32_advice)
        } else {
            parse_cell_as::<f64>(&text)
        };
        value.err()
    }

    /// An error about row `i` of the chunk in column `column`, naming the file and the row
    /// group and row (Parquet) or the line (CSV).
    pub fn error(&self, i: usize, column: &str, reason: String) -> descent::Error {
        match self {
            Piece::Parquet(chunk, _) => chunk.error(i, column, reason),
            Piece::Csv(rows) => rows.error(i, column, reason),
        }
    }

    /// Writes the cell at `at` of row `i` as the in-memory predict echoes it: the CSV cell's
    /// text (trimmed), a Parquet value as the text it reads whole to, empty for a null.
    pub fn write_text<W: Write>(
        &self,
        at: usize,
        i: usize,
        column: &str,
        writer: &mut csv::Writer<W>,
    ) -> Result<()> {
        match self {
            Piece::Csv(rows) => writer.write_field(&rows.records[i][at])?,
            Piece::Parquet(chunk, index) => match index[at][i] {
                None => writer.write_field("")?,
                Some(k) => {
                    let text = chunk.cursors[at]
                        .text(k)
                        .map_err(|reason| chunk.error(i, column, reason))?;
                    writer.write_field(text)?
                }
            },
        }
        Ok(())
    }

    /// The cell at `at` of row `i` as a number (`None`: null, or a missing value of a CSV
    /// column); a CSV cell that is no number is an error: its column was found to hold
    /// numbers ([`Piece::kinds`]).
    pub fn number(&self, at: usize, i: usize, column: &str) -> Result<Option<f64>> {
        match self {
            Piece::Parquet(chunk, index) => {
                Ok(index[at][i].and_then(|k| chunk.cursors[at].number(k).ok()))
            }
            Piece::Csv(rows) => {
                let cell = &rows.records[i][at];
                if is_missing(cell) {
                    return Ok(None);
                }
                match cell.parse::<f64>() {
                    Ok(v) => Ok(Some(v)),
                    Err(_) => Err(rows.error(i, column, format!(
                        "`{cell}` is not a number, but the column's first rows are, so the Parquet output holds it as numbers; write CSV (--out FILE.csv) or leave the column out (--keep)"
                    )).into()),
                }
            }
        }
    }

    /// The cell at `at` of row `i` as text (`None`: null).
    pub fn text(&self, at: usize, i: usize, column: &str) -> Result<Option<String>> {
        match self {
            Piece::Csv(rows) => Ok(Some(rows.records[i][at].to_string())),
            Piece::Parquet(chunk, index) => match index[at][i] {
                None => Ok(None),
                Some(k) => Ok(Some(
                    chunk.cursors[at]
                        .text(k)
                        .map_err(|reason| chunk.error(i, column, reason))?,
                )),
            },
        }
    }

    /// For a CSV chunk, the kind each column at `at` takes in Parquet output: numbers when
    /// every cell of the chunk that is not missing is a number (and one is), else text; as
    /// polars infers a CSV schema from its first rows. (A Parquet chunk: `None`, its
    /// columns' kinds are the file's.)
    pub fn kinds(&self, at: &[usize]) -> Option<Vec<OutKind>> {
        let Piece::Csv(rows) = self else {
            return None;
        };
        let kind = |j: usize| {
            let mut cells = rows
                .records
                .iter()
                .map(|r| &r[j])
                .filter(|c| !is_missing(c));
            let first = cells.next();
            match first {
                Some(c) if c.parse::<f64>().is_ok() && cells.all(|c| c.parse::<f64>().is_ok()) => {
                    OutKind::Number
                }
                _ => OutKind::Text,
            }
        };
        Some(at.iter().map(|&j| kind(j)).collect())
    }
}
