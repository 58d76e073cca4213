//! A CSV file read a chunk of records at a time, in file order, with every cell's text left
//! to the caller: the CSV twin of [`ColumnChunks`](super::ColumnChunks), what streamed
//! prediction reads to echo input columns beside the predictions. One sequential pass, no
//! index: the reader is the in-memory reader's (`csv_reader.rs`: separator given or
//! detected, byte-order mark, trimmed cells, RFC 4180 quotes, blank lines skipped) and so
//! are the errors (file, line, column). Memory: one chunk ([`CHUNK`] records), the records
//! reused from chunk to chunk.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::csv_chunks::{file_line, open_reader, sniff};
use super::rows::CHUNK;
use crate::data::csv_reader::{csv_error, header_columns, parse_cell_as};
use crate::data::{Columns, Delimiter};
use crate::{Error, Float, Result};

/// A reader of a CSV file's data rows, a chunk of records at a time.
pub struct CsvRecords {
    path: PathBuf,
    bom: u64,
    reader: csv::Reader<File>,
    header: Vec<String>,
    given: Option<Delimiter>,
    records: Vec<csv::StringRecord>,
}

/// A chunk of data rows: each record's trimmed cells, in the header's order.
pub struct CsvRows<'a> {
    pub records: &'a [csv::StringRecord],
    path: &'a Path,
    bom: u64,
}

impl CsvRecords {
    /// Opens the CSV file at `path` and reads its header (trimmed); the separator is
    /// `delimiter` or detected as the in-memory reader detects it.
    pub fn open(path: &Path, delimiter: Option<Delimiter>) -> Result<Self> {
        let (bom, d) = sniff(path, delimiter)?;
        let mut reader = open_reader(path, bom, d)?;
        let header = reader
            .headers()
            .map_err(|e| csv_error(path, e, |p| file_line(path, bom, p)))?
            .iter()
            .map(str::to_string)
            .collect();
        Ok(CsvRecords {
            path: path.to_path_buf(),
            bom,
            reader,
            header,
            given: delimiter,
            records: Vec::new(),
        })
    }

    /// The header's column names, trimmed.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The chosen feature and target columns by index, the header checked (every column
    /// named once), with the in-memory reader's messages.
    pub fn columns(&self, columns: &Columns) -> Result<(Vec<usize>, Vec<usize>)> {
        header_columns(&self.path, &self.header, columns, self.given)
    }

    /// The next chunk of up to [`CHUNK`] data rows, or `None` after the last.
    pub fn next_chunk(&mut self) -> Result<Option<CsvRows<'_>>> {
        let mut n = 0;
        while n < CHUNK {
            if self.records.len() == n {
                self.records.push(csv::StringRecord::new());
            }
            let record = &mut self.records[n];
            match self.reader.read_record(record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(csv_error(&self.path, e, |p| {
                        file_line(&self.path, self.bom, p)
                    }))
                }
            }
            if !(record.len() == 1 && record[0].is_empty()) {
                n += 1;
            }
        }
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(CsvRows {
            records: &self.records[..n],
            path: &self.path,
            bom: self.bom,
        }))
    }
}

impl CsvRows<'_> {
    /// The line of the file record `i` starts on (read again from the file: for errors).
    pub fn line(&self, i: usize) -> Option<u64> {
        let pos = self.records[i].position()?;
        Some(file_line(self.path, self.bom, pos))
    }

    /// An error about record `i` in column `column`, naming the file and the line.
    pub fn error(&self, i: usize, column: &str, reason: String) -> Error {
        Error::Csv {
            path: self.path.to_path_buf(),
            line: self.line(i),
            column: Some(column.to_string()),
            reason,
        }
    }

    /// Cell `j` of record `i` as a number in precision `F`, by the in-memory reader's rules
    /// and with its reasons: empty, not a number, NaN or infinite, or too large for `F`.
    pub fn number<F: Float>(&self, i: usize, j: usize) -> std::result::Result<f64, String> {
        parse_cell_as::<F>(&self.records[i][j])
    }
}
