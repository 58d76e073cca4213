//! Chosen columns of a Parquet data set read a chunk of rows at a time, in file order, as
//! the column readers decode them (nulls, numbers and text left to the caller): what
//! streamed prediction reads, where every input column comes out beside the predictions.
//! Memory: one chunk ([`CHUNK`] rows) of the chosen columns.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::file::reader::{FileReader, SerializedFileReader};

use super::column::{Cursor, Kind};
use super::files::ParquetFiles;
use super::rows::{open_cursors, CHUNK};
use super::table::group_error;
use crate::{Error, Result};

/// A chunk of rows: one [`Cursor`] per chosen column, each holding the chunk's values.
pub struct Chunk<'a> {
    pub cursors: &'a [Cursor],
    pub path: &'a Path,
    /// The row group (from 0, in its file) and the file row of the chunk's first row.
    pub group: usize,
    pub first_row: u64,
    pub rows: usize,
}

impl Chunk<'_> {
    /// An error about row `i` of the chunk in column `column`.
    pub fn error(&self, i: usize, column: &str, reason: String) -> Error {
        Error::Parquet {
            path: self.path.to_path_buf(),
            row_group: Some(self.group),
            row: Some(self.first_row + i as u64),
            column: Some(column.to_string()),
            reason,
        }
    }
}

struct Open {
    cursors: Vec<Cursor>,
    file: usize,
    group: usize,
    first: u64,
    read: u64,
    rows: u64,
}

/// A reader of chosen columns, a chunk at a time, in file order.
pub struct ColumnChunks {
    files: Arc<ParquetFiles>,
    columns: Vec<usize>,
    groups: Vec<(usize, usize, u64)>,
    next_group: usize,
    file: Option<(usize, SerializedFileReader<File>)>,
    open: Option<Open>,
}

impl ColumnChunks {
    /// Reads the columns `columns` (schema indices) of `files`; each must be readable.
    pub fn new(files: Arc<ParquetFiles>, columns: Vec<usize>) -> Result<Self> {
        for &j in &columns {
            match files.columns.get(j) {
                Some((_, Kind::Read(_))) => {}
                Some((name, Kind::Other(what))) => {
                    return Err(Error::Parquet {
                        path: files.origin.clone(),
                        row_group: None,
                        row: None,
                        column: Some(name.clone()),
                        reason: format!("`{name}` is {what}, not a number or text"),
                    })
                }
                None => return Err(Error::Data(format!("internal: no column {j}"))),
            }
        }
        Ok(ColumnChunks {
            groups: files.row_groups(),
            files,
            columns,
            next_group: 0,
            file: None,
            open: None,
        })
    }

    fn open_group(&mut self) -> Result<bool> {
        let Some(&(f, g, first)) = self.groups.get(self.next_group) else {
            return Ok(false);
        };
        self.next_group += 1;
        if self.file.as_ref().is_none_or(|(of, _)| *of != f) {
            self.file = Some((f, super::files::open(&self.files.files[f].path)?));
        }
        let path = &self.files.files[f].path;
        let Some((_, reader)) = self.file.as_ref() else {
            return Ok(false);
        };
        let rg = super::guard::caught(|| reader.get_row_group(g))
            .map_err(|e| group_error(path, g, None, e.to_string()))?;
        let cursors = open_cursors(&self.files, &*rg, path, g, self.columns.iter().copied())?;
        self.open = Some(Open {
            cursors,
            file: f,
            group: g,
            first,
            read: 0,
            rows: self.files.files[f].row_groups[g],
        });
        Ok(true)
    }

    /// The next chunk of rows, or `None` after the last row group.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk<'_>>> {
        while self.open.as_ref().is_none_or(|o| o.read >= o.rows) {
            if !self.open_group()? {
                return Ok(None);
            }
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(None);
        };
        let path = &self.files.files[open.file].path;
        let want = CHUNK.min((open.rows - open.read) as usize);
        for (cursor, &j) in open.cursors.iter_mut().zip(&self.columns) {
            let name = &self.files.columns[j].0;
            let got = cursor.read(want).map_err(|e| {
                let reason = format!("cannot decode the column ({e}); the file may be corrupt");
                group_error(path, open.group, Some(name), reason)
            })?;
            if got != want {
                let reason = format!("{got} values where {want} rows remain in the row group");
                return Err(group_error(path, open.group, Some(name), reason));
            }
        }
        let first_row = open.first + open.read;
        open.read += want as u64;
        Ok(Some(Chunk {
            cursors: &open.cursors,
            path,
            group: open.group,
            first_row,
            rows: want,
        }))
    }
}
