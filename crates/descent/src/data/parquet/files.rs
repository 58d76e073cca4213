//! The Parquet files a `--data` path names (one file, a directory of them, or a glob), their
//! row groups, and the one schema they must share; or one CSV file cut into chunks of rows
//! that play the part of row groups ([`ParquetFiles::open_csv`], `csv_chunks.rs`), so that
//! everything that streams (the statistics pass, the shuffled order, resuming, the ranks'
//! shares, the validation split) reads either format. The names say Parquet because it came
//! first; a CSV data set is one file of one "row group" per chunk.

use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};

use super::column::{kind, Conv, Kind};
use super::csv_chunks::{self, CsvIndex};
use crate::{Error, Result};

/// One file: its path and the rows of each of its row groups.
#[derive(Clone, Debug)]
pub struct FileInfo {
    pub path: PathBuf,
    pub row_groups: Vec<u64>,
}

/// The files of a Parquet data set, in path order, with their shared columns.
#[derive(Clone, Debug)]
pub struct ParquetFiles {
    /// What the user named (a file, a directory or a glob), for messages.
    pub origin: PathBuf,
    pub files: Vec<FileInfo>,
    /// Every leaf column by name, with its kind (the same in every file); a CSV file's
    /// columns are text, parsed as numbers where a run reads numbers.
    pub columns: Vec<(String, Kind)>,
    /// For a CSV file: where its chunks start (its one [`FileInfo`] has a row group per
    /// chunk); `None`: Parquet.
    pub csv: Option<CsvIndex>,
}

/// Whether `path` names Parquet data: a directory, a glob (`*`, `?` or `[` in a path that
/// does not exist), a file ending in `.parquet`, `.parq` or `.pq`, or a file that starts
/// with Parquet's magic bytes `PAR1`.
pub fn is_parquet(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let text = path.to_string_lossy();
    if !path.exists() && text.contains(['*', '?', '[']) {
        return true;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ["parquet", "parq", "pq"].contains(&ext.to_ascii_lowercase().as_str()) {
        return true;
    }
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| &magic == b"PAR1")
}

/// An error about `path` (no row group, row or column).
pub fn file_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        row_group: None,
        row: None,
        column: None,
        reason: reason.into(),
    }
}

/// Opens `path` as Parquet, with an error saying what is wrong with it.
pub fn open(path: &Path) -> Result<SerializedFileReader<File>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    super::guard::caught(|| SerializedFileReader::new(file)).map_err(|e| {
        file_error(
            path,
            format!("not a readable Parquet file ({e}); is it truncated, or not Parquet?"),
        )
    })
}

impl ParquetFiles {
    /// Finds the files `origin` names and checks that they share one schema.
    pub fn open(origin: &Path) -> Result<Self> {
        let paths = list(origin)?;
        let mut files = Vec::with_capacity(paths.len());
        let mut columns: Option<(PathBuf, Vec<(String, Kind)>)> = None;
        for path in paths {
            let reader = open(&path)?;
            let meta = reader.metadata();
            let schema = meta.file_metadata().schema_descr();
            let these: Vec<(String, Kind)> = schema
                .columns()
                .iter()
                .map(|c| (c.path().string(), kind(c)))
                .collect();
            match &columns {
                None => columns = Some((path.clone(), these)),
                Some((first, cols)) => {
                    if let Some(reason) = schema_difference(cols, &these) {
                        return Err(file_error(
                            &path,
                            format!(
                                "its schema differs from {}'s: {reason}; every file of a data set needs the same columns",
                                first.display()
                            ),
                        ));
                    }
                }
            }
            let row_groups = meta
                .row_groups()
                .iter()
                .map(|g| g.num_rows().max(0) as u64)
                .collect();
            files.push(FileInfo { path, row_groups });
        }
        let columns = columns.map(|(_, c)| c).unwrap_or_default();
        Ok(ParquetFiles {
            origin: origin.to_path_buf(),
            files,
            columns,
            csv: None,
        })
    }

    /// The CSV file at `path` as a data set of one file whose row groups are chunks of
    /// `chunk_rows` data rows: one pass over the file to find where they start (see
    /// `csv_chunks.rs`); the separator is `delimiter` or detected as the in-memory reader
    /// detects it.
    pub fn open_csv(
        path: &Path,
        delimiter: Option<crate::data::Delimiter>,
        chunk_rows: usize,
    ) -> Result<Self> {
        let (header, index, row_groups) = csv_chunks::index(path, delimiter, chunk_rows)?;
        Ok(ParquetFiles {
            origin: path.to_path_buf(),
            files: vec![FileInfo {
                path: path.to_path_buf(),
                row_groups,
            }],
            columns: header
                .into_iter()
                .map(|n| (n, Kind::Read(Conv::Text)))
                .collect(),
            csv: Some(index),
        })
    }

    /// Row groups (CSV chunks) in all files, and the bytes of the columns `chosen` (Parquet:
    /// compressed; CSV: every column of the chunks' lines).
    pub fn chosen_bytes(&self, chosen: &[usize]) -> Result<(u64, u64)> {
        if let Some(index) = &self.csv {
            return Ok((index.starts.len() as u64, index.bytes.iter().sum()));
        }
        let (mut groups, mut bytes) = (0u64, 0u64);
        for f in &self.files {
            let reader = open(&f.path)?;
            for rg in reader.metadata().row_groups() {
                groups += 1;
                let b: i64 = chosen.iter().map(|&j| rg.column(j).compressed_size()).sum();
                bytes += b.max(0) as u64;
            }
        }
        Ok((groups, bytes))
    }

    /// The column names, in schema order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Rows in all files.
    pub fn n_rows(&self) -> u64 {
        self.files.iter().flat_map(|f| &f.row_groups).sum()
    }

    /// `(file, row group, first row of the group in its file)` of every row group, in order.
    pub fn row_groups(&self) -> Vec<(usize, usize, u64)> {
        let mut out = Vec::new();
        for (f, file) in self.files.iter().enumerate() {
            let mut first = 0;
            for (g, &rows) in file.row_groups.iter().enumerate() {
                out.push((f, g, first));
                first += rows;
            }
        }
        out
    }

    /// The file, row group and row in the file of the data set's row `row` (from 0).
    pub fn locate(&self, row: u64) -> Option<(&Path, usize, u64)> {
        let mut start = 0;
        for file in &self.files {
            let mut in_file = 0;
            for (g, &rows) in file.row_groups.iter().enumerate() {
                if row < start + rows {
                    return Some((&file.path, g, in_file + row - start));
                }
                start += rows;
                in_file += rows;
            }
        }
        None
    }
}

/// What makes `b` differ from `a`, if anything.
fn schema_difference(a: &[(String, Kind)], b: &[(String, Kind)]) -> Option<String> {
    let names = |c: &[(String, Kind)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    if names(a) != names(b) {
        return Some(format!(
            "columns {} instead of {}",
            names(b).join(", "),
            names(a).join(", ")
        ));
    }
    a.iter().zip(b).find(|(x, y)| x.1 != y.1).map(|(x, y)| {
        format!(
            "column `{}` is {} instead of {}",
            x.0,
            describe(&y.1),
            describe(&x.1)
        )
    })
}

/// A kind in words.
pub fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Read(conv) => format!("{conv:?}").to_lowercase(),
        Kind::Other(what) => what.clone(),
    }
}

/// The Parquet files `origin` names, sorted by path.
fn list(origin: &Path) -> Result<Vec<PathBuf>> {
    let text = origin.to_string_lossy().into_owned();
    let mut paths: Vec<PathBuf> = if origin.is_dir() {
        let entries = std::fs::read_dir(origin).map_err(|source| Error::Io {
            path: origin.to_path_buf(),
            source,
        })?;
        entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                // Spark and Hive leave `_SUCCESS`, `.crc` and `_metadata` beside the data.
                p.is_file() && !name.starts_with(['.', '_']) && is_parquet(p)
            })
            .collect()
    } else if !origin.exists() && text.contains(['*', '?', '[']) {
        let pattern = glob::glob(&text)
            .map_err(|e| file_error(origin, format!("not a valid glob pattern: {e}")))?;
        pattern
            .filter_map(|p| p.ok())
            .filter(|p| p.is_file())
            .collect()
    } else {
        vec![origin.to_path_buf()]
    };
    paths.sort();
    if paths.is_empty() {
        return Err(file_error(origin, "no Parquet files found there"));
    }
    Ok(paths)
}
