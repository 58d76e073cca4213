//! Rows of the chosen columns of a Parquet data set (or of a CSV file's chunks), read a
//! chunk at a time in a given order of row groups, as `f64` features and targets: what the
//! one-pass statistics and the streaming batches read. Memory: one chunk ([`CHUNK`] rows)
//! of the chosen columns.
//!
//! A row group is decoded by one of two readers, the one place where the formats differ:
//! Parquet's column cursors, or a CSV chunk's records parsed by the in-memory CSV reader's
//! rules (`decode_csv`). Both fill the same chunk of rows, with the first bad value of each
//! row; what follows (dropping, the split, the order) is shared.
//!
//! Missing values follow the CSV rules: a null, NaN or infinite value in a chosen column is
//! an error naming the file, row group, row and column, or with `drop_missing` the row is
//! left out (the streamed data is then the rows that remain, in order). In a CSV file a row
//! with a missing-value marker in a chosen column (`is_missing`: empty, NA, NaN, ...) is
//! dropped under `drop_missing` whatever its other cells hold, as in memory, and errors name
//! the file, line and column.
//!
//! A [`Selection`] with a split keeps one part of it ([`HashSplit`]), judged by the row's
//! index in the data set (in file order, dropped rows counted).
//!
//! [`RowReader::read_ahead`] moves the decoding to a thread of its own, a chunk or two ahead
//! of the caller (`ahead.rs`), with the same rows, counts and errors.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};

use super::ahead::{Ahead, ReadyChunk};
use super::column::{Cursor, Kind};
use super::csv_chunks::CsvChunk;
use super::files::ParquetFiles;
use super::table::group_error;
use crate::data::{HashSplit, Part};
use crate::{DType, Error, Result};

/// Rows decoded per column read.
pub const CHUNK: usize = 4096;

/// Cursors over `columns` of row group `g` (read by `rg`) of the file at `path`, in that
/// order; a column that is not readable is an error naming the file, group and column.
pub(super) fn open_cursors(
    files: &ParquetFiles,
    rg: &dyn RowGroupReader,
    path: &Path,
    g: usize,
    columns: impl Iterator<Item = usize>,
) -> Result<Vec<Cursor>> {
    let mut cursors = Vec::with_capacity(columns.size_hint().0);
    for j in columns {
        let (name, kind) = &files.columns[j];
        let Kind::Read(conv) = kind else {
            return Err(group_error(
                path,
                g,
                Some(name),
                "not a readable column".into(),
            ));
        };
        let column = super::table::column_reader(rg, j, path, g, name)?;
        let descr = rg.metadata().schema_descr().column(j);
        cursors.push(Cursor::new(column, &descr, *conv));
    }
    Ok(cursors)
}

/// The chosen columns by schema index, and how labels map to class indices.
#[derive(Clone, Debug)]
pub struct Selection {
    pub features: Vec<usize>,
    pub targets: Vec<usize>,
    /// For class targets: each label's index (filled by the statistics pass).
    pub classes: Option<BTreeMap<String, usize>>,
    pub drop_missing: bool,
    /// Only the rows of this part of the split (`None`: every row).
    pub split: Option<(HashSplit, Part)>,
    /// The run's precision: a number too large for it (`1e300` in f32) is an error, as in
    /// memory, not an infinity.
    pub dtype: DType,
}

impl Selection {
    pub fn width(&self) -> usize {
        self.features.len() + self.targets.len()
    }
}

/// One row group being read.
struct Group {
    /// Parquet: a cursor per chosen column; CSV: none, and the chunk's reader in `csv`.
    cursors: Vec<Cursor>,
    csv: Option<CsvChunk>,
    file: usize,
    group: usize,
    /// The file row of the group's first row, its index in the data set, and the rows
    /// read from it so far.
    first: u64,
    index: u64,
    read: u64,
    rows: u64,
}

/// A reader of rows in a chosen order of row groups.
pub struct RowReader {
    files: Arc<ParquetFiles>,
    sel: Arc<Selection>,
    /// `(file, row group, first row in its file)` of every row group.
    groups: Vec<(usize, usize, u64)>,
    /// The data set's index of every row group's first row.
    starts: Vec<u64>,
    order: Vec<usize>,
    next_group: usize,
    open: Option<(usize, SerializedFileReader<File>)>,
    group: Option<Group>,
    /// Decoded rows of the current chunk, row-major, `width` values each.
    chunk: Vec<f64>,
    chunk_rows: usize,
    chunk_next: usize,
    /// The data set's index of each row of the chunk.
    chunk_index: Vec<u64>,
    /// Text labels of the chunk (class targets only).
    labels: Vec<Vec<String>>,
    /// Where each row of the chunk starts before rows are left out (CSV only).
    lines: Vec<csv::Position>,
    /// Rows dropped so far (`drop_missing`).
    pub dropped: u64,
    /// Row groups opened so far, and the compressed bytes of their chosen columns.
    pub opened: (u64, u64),
    /// Decode on a thread of its own from the next chunk on ([`RowReader::read_ahead`]),
    /// the thread once started, and the row group of the chunk it handed over last.
    ahead_wanted: bool,
    ahead: Option<Ahead>,
    ahead_group: usize,
}

impl RowReader {
    /// Reads the row groups in `order` (indices into [`ParquetFiles::row_groups`]).
    pub fn new(files: Arc<ParquetFiles>, sel: Arc<Selection>, order: Vec<usize>) -> Self {
        let groups = files.row_groups();
        let starts = groups
            .iter()
            .scan(0u64, |next, &(f, g, _)| {
                let start = *next;
                *next += files.files[f].row_groups[g];
                Some(start)
            })
            .collect();
        RowReader {
            groups,
            starts,
            files,
            sel,
            order,
            next_group: 0,
            open: None,
            group: None,
            chunk: Vec::new(),
            chunk_rows: 0,
            chunk_next: 0,
            chunk_index: Vec::new(),
            labels: Vec::new(),
            lines: Vec::new(),
            dropped: 0,
            opened: (0, 0),
            ahead_wanted: false,
            ahead: None,
            ahead_group: 0,
        }
    }

    /// Decodes the chunks from the next one on a thread of its own (see `ahead.rs`): the
    /// same rows in the same order, the same counts and errors. The thread starts when the
    /// next chunk is needed, so that a [`RowReader::skip_kept`] before it still passes over
    /// whole row groups unread; after that, `skip_kept` reads the rows it skips.
    pub fn read_ahead(&mut self) {
        self.ahead_wanted = true;
    }

    /// Whether a read-ahead thread is decoding the chunks.
    pub fn is_reading_ahead(&self) -> bool {
        self.ahead.is_some()
    }

    /// The next chunk into place: decoded here, or taken from the read-ahead thread
    /// (started here the first time); `false` after the last.
    fn next_chunk(&mut self) -> Result<bool> {
        if self.ahead_wanted && self.ahead.is_none() {
            // The decoding state moves to the thread; this reader keeps the chunks.
            let decoder = RowReader {
                next_group: self.next_group,
                open: self.open.take(),
                group: self.group.take(),
                dropped: self.dropped,
                opened: self.opened,
                ..RowReader::new(self.files.clone(), self.sel.clone(), self.order.clone())
            };
            self.ahead = Some(Ahead::start(decoder));
        }
        let Some(ahead) = &mut self.ahead else {
            return self.read_chunk();
        };
        let Some(mut chunk) = ahead.next()? else {
            return Ok(false);
        };
        std::mem::swap(&mut chunk.rows, &mut self.chunk);
        std::mem::swap(&mut chunk.index, &mut self.chunk_index);
        std::mem::swap(&mut chunk.labels, &mut self.labels);
        (self.ahead_group, self.dropped, self.opened) = (chunk.group, chunk.dropped, chunk.opened);
        self.chunk_rows = self.chunk_index.len();
        self.chunk_next = 0;
        ahead.recycle(chunk);
        Ok(true)
    }

    /// Decodes the next chunk into `out` (the read-ahead thread's step), swapping buffers
    /// with it; `false` after the last row group.
    pub(super) fn decode_into(&mut self, out: &mut ReadyChunk) -> Result<bool> {
        if !self.read_chunk()? {
            return Ok(false);
        }
        std::mem::swap(&mut out.rows, &mut self.chunk);
        std::mem::swap(&mut out.index, &mut self.chunk_index);
        std::mem::swap(&mut out.labels, &mut self.labels);
        (out.group, out.dropped, out.opened) = (self.group(), self.dropped, self.opened);
        Ok(true)
    }

    /// The next row (features then targets) into `out`, or `false` after the last.
    pub fn next_row(&mut self, out: &mut [f64]) -> Result<bool> {
        while self.chunk_next == self.chunk_rows {
            if !self.next_chunk()? {
                return Ok(false);
            }
        }
        let w = self.sel.width();
        let i = self.chunk_next;
        out.copy_from_slice(&self.chunk[i * w..(i + 1) * w]);
        self.chunk_next += 1;
        Ok(true)
    }

    /// The row group (an index into [`ParquetFiles::row_groups`]) of the row last returned.
    pub fn group(&self) -> usize {
        if self.ahead.is_some() {
            return self.ahead_group;
        }
        self.order[self.next_group - 1]
    }

    /// The data set's index of the row last returned (in file order, from 0).
    pub fn last_index(&self) -> u64 {
        self.chunk_index[self.chunk_next - 1]
    }

    /// The label text of the row last returned (class targets), for the statistics pass.
    pub fn last_labels(&self) -> impl Iterator<Item = &str> {
        let i = self.chunk_next.wrapping_sub(1);
        self.labels
            .iter()
            .filter_map(move |l| l.get(i).map(String::as_str))
    }

    /// Skips `n` rows.
    pub fn skip(&mut self, n: u64) -> Result<()> {
        let mut row = vec![0.0; self.sel.width()];
        for _ in 0..n {
            if !self.next_row(&mut row)? {
                break;
            }
        }
        Ok(())
    }

    /// Skips `n` of the rows the statistics pass kept (`kept`: per row group, indexed as
    /// [`ParquetFiles::row_groups`]): a row group all of whose rows are skipped is passed
    /// over unopened and unread; the rows of the others are decoded and dropped. Once a
    /// read-ahead thread decodes the chunks, every skipped row is decoded (the thread may
    /// already have read the row group).
    pub fn skip_kept(&mut self, mut n: u64, kept: &[u64]) -> Result<()> {
        let mut row = vec![0.0; self.sel.width()];
        while n > 0 {
            let between = self.ahead.is_none()
                && self.chunk_next == self.chunk_rows
                && self.group.as_ref().is_none_or(|g| g.read >= g.rows);
            if between {
                let Some(&k) = self.order.get(self.next_group) else {
                    return Ok(());
                };
                let rows = kept.get(k).copied().unwrap_or(u64::MAX);
                if rows <= n {
                    self.next_group += 1;
                    self.group = None;
                    n -= rows;
                    continue;
                }
            }
            if !self.next_row(&mut row)? {
                return Ok(());
            }
            n -= 1;
        }
        Ok(())
    }

    fn open_group(&mut self) -> Result<bool> {
        let Some(&k) = self.order.get(self.next_group) else {
            return Ok(false);
        };
        self.next_group += 1;
        let (f, g, first) = self.groups[k];
        let path = &self.files.files[f].path;
        let group = |cursors, csv| Group {
            cursors,
            csv,
            file: f,
            group: g,
            first,
            index: self.starts[k],
            read: 0,
            rows: self.files.files[f].row_groups[g],
        };
        if let Some(index) = &self.files.csv {
            let chunk = CsvChunk::open(path, index, g)?;
            self.opened = (self.opened.0 + 1, self.opened.1 + index.bytes[g]);
            self.group = Some(group(Vec::new(), Some(chunk)));
            return Ok(true);
        }
        if self.open.as_ref().is_none_or(|(of, _)| *of != f) {
            self.open = Some((f, super::files::open(path)?));
        }
        let reader = &self.open.as_ref().expect("opened above").1;
        let rg = super::guard::caught(|| reader.get_row_group(g))
            .map_err(|e| group_error(path, g, None, e.to_string()))?;
        let chosen = self.sel.features.iter().chain(&self.sel.targets);
        let bytes: i64 = chosen
            .map(|&j| rg.metadata().column(j).compressed_size())
            .sum();
        self.opened = (self.opened.0 + 1, self.opened.1 + bytes.max(0) as u64);
        let columns = self.sel.features.iter().chain(&self.sel.targets).copied();
        let cursors = open_cursors(&self.files, &*rg, path, g, columns)?;
        self.group = Some(group(cursors, None));
        Ok(true)
    }

    /// Decodes the next chunk; `false` after the last row group.
    fn read_chunk(&mut self) -> Result<bool> {
        loop {
            let done = self.group.as_ref().is_none_or(|g| g.read >= g.rows);
            if !done {
                break;
            }
            if !self.open_group()? {
                return Ok(false);
            }
        }
        let w = self.sel.width();
        let n_features = self.sel.features.len();
        let group = self.group.as_mut().expect("a group is open");
        let path = &self.files.files[group.file].path;
        let want = CHUNK.min((group.rows - group.read) as usize);
        self.chunk.clear();
        self.chunk.resize(want * w, 0.0);
        let mut missing: Vec<Option<Bad>> = vec![None; want];
        self.labels.clear();
        let classes = self.sel.classes.as_ref();
        if let Some(csv) = &mut group.csv {
            let out = Decoded {
                chunk: &mut self.chunk,
                missing: &mut missing,
                labels: &mut self.labels,
                lines: &mut self.lines,
            };
            decode_csv(csv, path, &self.sel, out)?;
        }
        for (c, cursor) in group.cursors.iter_mut().enumerate() {
            let j = if c < n_features {
                self.sel.features[c]
            } else {
                self.sel.targets[c - n_features]
            };
            let name = &self.files.columns[j].0;
            let got = cursor
                .read(want)
                .map_err(|e| group_error(path, group.group, Some(name), corrupt(e)))?;
            if got != want {
                let reason = format!("{got} values where {want} rows remain in the row group");
                return Err(group_error(path, group.group, Some(name), reason));
            }
            let is_label = c >= n_features && classes.is_some();
            // Most columns: no nulls, finite numbers, decoded straight into the chunk.
            if !is_label && cursor.fill_numbers(&mut self.chunk[c..], w) {
                if self.sel.dtype == DType::F32 {
                    refuse_f32_overflow(&self.chunk, (c, w), j, &mut missing);
                }
                continue;
            }
            let mut texts = Vec::new();
            let mut k = 0;
            for (i, &valid) in cursor.valid.iter().take(want).enumerate() {
                let value = if !valid {
                    if is_label {
                        texts.push(String::new());
                    }
                    Err("null value; fill it in, remove the row, or pass --drop-missing".into())
                } else if is_label {
                    let t = cursor.text(k);
                    k += 1;
                    match t {
                        Ok(t) => {
                            let v = label_index(classes, &t);
                            texts.push(t);
                            v
                        }
                        Err(r) => {
                            texts.push(String::new());
                            Err(r)
                        }
                    }
                } else {
                    let v = cursor.number(k);
                    k += 1;
                    v.and_then(|v| {
                        if v.is_finite() {
                            Ok(v)
                        } else {
                            Err(format!(
                                "`{v}` is {}; only finite numbers can be used (--drop-missing drops such rows)",
                                if v.is_nan() { "NaN" } else { "infinite" }
                            ))
                        }
                    })
                };
                match value {
                    Ok(v) => self.chunk[i * w + c] = v,
                    Err(reason) => {
                        if missing[i].is_none() {
                            let missing_value =
                                reason.starts_with("null") || reason.contains("--drop-missing");
                            missing[i] = Some((j, reason, missing_value));
                        }
                    }
                }
            }
            if is_label {
                self.labels.push(texts);
            } else if self.sel.dtype == DType::F32 {
                refuse_f32_overflow(&self.chunk, (c, w), j, &mut missing);
            }
        }
        // Rows with a missing or bad value: an error, or left out; rows of the other part
        // of a split: left out.
        let mut kept = 0;
        self.chunk_index.clear();
        for (i, m) in missing.iter().enumerate() {
            if let Some((j, reason, missing_value)) = m {
                if !(self.sel.drop_missing && *missing_value) {
                    let column = Some(self.files.columns[*j].0.clone());
                    if let Some(csv) = &group.csv {
                        return Err(Error::Csv {
                            path: path.clone(),
                            line: Some(csv.line(path, &self.lines[i])),
                            column,
                            reason: reason.clone(),
                        });
                    }
                    return Err(Error::Parquet {
                        path: path.clone(),
                        row_group: Some(group.group),
                        row: Some(group.first + group.read + i as u64),
                        column,
                        reason: reason.clone(),
                    });
                }
                self.dropped += 1;
                continue;
            }
            let index = group.index + group.read + i as u64;
            if let Some((split, part)) = &self.sel.split {
                if split.part(index) != *part {
                    continue;
                }
            }
            self.chunk_index.push(index);
            if kept != i {
                self.chunk.copy_within(i * w..(i + 1) * w, kept * w);
                for l in &mut self.labels {
                    l.swap(kept, i);
                }
            }
            kept += 1;
        }
        self.chunk.truncate(kept * w);
        for l in &mut self.labels {
            l.truncate(kept);
        }
        group.read += want as u64;
        self.chunk_rows = kept;
        self.chunk_next = 0;
        Ok(true)
    }
}

/// Marks the rows whose value in column `c` of the chunk (rows of `w` values; schema column
/// `j`) is too large for f32, unless the row already has a bad value (in an earlier column):
/// the in-memory reader's error for the value's text.
fn refuse_f32_overflow(
    chunk: &[f64],
    (c, w): (usize, usize),
    j: usize,
    missing: &mut [Option<Bad>],
) {
    for (i, m) in missing.iter_mut().enumerate() {
        let v = chunk[i * w + c];
        if m.is_none() && v.is_finite() && !(v as f32).is_finite() {
            let reason = crate::data::csv_reader::too_large_for::<f32>(&format!("{v:?}"));
            *m = Some((j, reason, false));
        }
    }
}

/// The first bad value of a row: its column (schema index), why, and whether it is a
/// missing value (a row `drop_missing` drops) rather than an error in any case.
type Bad = (usize, String, bool);

/// What a row group's reader fills for a chunk of `missing.len()` rows.
struct Decoded<'a> {
    /// Row-major, the selection's width a row, already sized.
    chunk: &'a mut [f64],
    missing: &'a mut [Option<Bad>],
    /// One text a row per label column.
    labels: &'a mut Vec<Vec<String>>,
    lines: &'a mut Vec<csv::Position>,
}

/// Parses the next rows of a CSV chunk by the in-memory reader's rules: under
/// `drop_missing` a row with a missing-value marker in a chosen column is dropped whatever
/// else it holds; otherwise the first cell (features, then targets) that is not a finite
/// number, or an empty label, is the row's error, with the in-memory reader's reason.
fn decode_csv(csv: &mut CsvChunk, path: &Path, sel: &Selection, out: Decoded<'_>) -> Result<()> {
    use crate::data::csv_reader::{is_missing, parse_cell, parse_cell_as};
    let w = sel.width();
    let n_features = sel.features.len();
    let classes = sel.classes.as_ref();
    let chosen: Vec<usize> = sel.features.iter().chain(&sel.targets).copied().collect();
    out.lines.clear();
    if classes.is_some() {
        out.labels.resize(sel.targets.len(), Vec::new());
    }
    for i in 0..out.missing.len() {
        out.lines.push(csv.next(path)?);
        let record = &csv.record;
        for (c, &j) in chosen.iter().enumerate().skip(n_features) {
            if classes.is_some() {
                out.labels[c - n_features].push(record[j].to_string());
            }
        }
        if sel.drop_missing {
            if let Some(&j) = chosen.iter().find(|&&j| is_missing(&record[j])) {
                out.missing[i] = Some((j, format!("`{}` is missing", &record[j]), true));
                continue;
            }
        }
        for (c, &j) in chosen.iter().enumerate() {
            let cell = &record[j];
            let value = match classes {
                Some(map) if c >= n_features => {
                    if cell.is_empty() {
                        Err("empty label".to_string())
                    } else {
                        label_index(Some(map), cell)
                    }
                }
                _ if sel.dtype == DType::F32 => parse_cell_as::<f32>(cell),
                _ => parse_cell(cell),
            };
            match value {
                Ok(v) => out.chunk[i * w + c] = v,
                Err(reason) => {
                    out.missing[i] = Some((j, reason, false));
                    break;
                }
            }
        }
    }
    Ok(())
}

/// A label's class index (0 while the classes are not known yet: the statistics pass). A
/// numeric label matches a class of the same value written otherwise (`10.0` and `10`), as
/// in memory.
fn label_index(
    classes: Option<&BTreeMap<String, usize>>,
    text: &str,
) -> std::result::Result<f64, String> {
    if text.is_empty() {
        return Err("empty label; fill it in, remove the row, or pass --drop-missing".into());
    }
    match classes {
        Some(map) if !map.is_empty() => map
            .get(text)
            .or_else(|| {
                let v = text.parse::<f64>().ok()?;
                map.iter()
                    .find(|(l, _)| l.parse::<f64>().ok() == Some(v))
                    .map(|(_, k)| k)
            })
            .map(|&k| k as f64)
            .ok_or_else(|| {
                format!("`{text}` is not one of the labels found when the data was first read")
            }),
        _ => Ok(0.0),
    }
}

fn corrupt(e: parquet::errors::ParquetError) -> String {
    format!("cannot decode the column ({e}); the file may be corrupt")
}
