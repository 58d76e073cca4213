//! Reading a CSV file with a header row into a [`Dataset`], with errors that name the file,
//! the line and the column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::onehot::{Categories, Encoder, OneHot, OneHotColumns, OneHotMode, Refused};
use super::{Dataset, Delimiter};
use crate::{Error, Float, Result};

/// Which columns are targets and which are features (by header name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// Target columns; `None` means the last column. `Some(vec![])` reads no target (predict).
    pub targets: Option<Vec<String>>,
    /// Feature columns; `None` means every column that is not a target.
    pub features: Option<Vec<String>>,
    /// Drop rows with a missing value in a used column (an empty cell, `NaN`, `NA`, `N/A`,
    /// `null`, `?`, or an infinite number) instead of failing on them; the number dropped is
    /// [`Dataset::dropped_rows`]. A cell that is not a number for another reason (a typo) is
    /// still an error.
    pub drop_missing: bool,
}

/// How to read target cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Real numbers.
    Real,
    /// Class labels (integers or strings), mapped to indices `0..k` in sorted order
    /// (numerically when every label is a number).
    Classes,
}

/// Reads `path`. See [`read_csv_bytes`].
pub fn read_csv(path: &Path, columns: &Columns, kind: TargetKind) -> Result<Dataset> {
    read_csv_for::<f64>(path, columns, kind)
}

/// Reads `path` for a run in precision `F`: like [`read_csv`], and a numeric cell whose
/// magnitude does not fit `F` (e.g. `1e300` for `f32`) is an error naming its line and
/// column instead of silently becoming infinite when the data is converted.
pub fn read_csv_for<F: Float>(path: &Path, columns: &Columns, kind: TargetKind) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_csv_bytes_for::<F>(path, &bytes, columns, kind)
}

/// Parses CSV `bytes` (named `origin` in errors): a header row, then one row per sample.
/// Cells are trimmed; a UTF-8 byte-order mark and CRLF line ends are accepted; quoted fields
/// follow RFC 4180. Empty, non-numeric, NaN and infinite feature cells are errors.
///
/// # Example
/// ```
/// use std::path::Path;
/// use descent::data::{read_csv_bytes, Columns, TargetKind};
/// let csv = b"size,colour,label\n1.5,0,cat\n2.5,1,dog\n0.5,1,cat\n";
/// let pets = read_csv_bytes(Path::new("pets.csv"), csv, &Columns::default(), TargetKind::Classes)?;
/// assert_eq!(pets.feature_names, ["size", "colour"]);
/// assert_eq!(pets.classes, Some(vec!["cat".to_string(), "dog".to_string()]));
/// assert_eq!(pets.y.column(0).to_vec(), [0.0, 1.0, 0.0]); // class indices
/// // A bad cell is an error naming the file, the line and the column.
/// let bad = b"size,label\nbig,cat\n";
/// let err = read_csv_bytes(Path::new("pets.csv"), bad, &Columns::default(), TargetKind::Classes);
/// let message = err.unwrap_err().to_string();
/// assert!(message.starts_with("pets.csv, line 2, column size"), "{message}");
/// # Ok::<(), descent::Error>(())
/// ```
pub fn read_csv_bytes(
    origin: &Path,
    bytes: &[u8],
    columns: &Columns,
    kind: TargetKind,
) -> Result<Dataset> {
    read_csv_bytes_for::<f64>(origin, bytes, columns, kind)
}

/// [`read_csv_bytes`] for a run in precision `F` (see [`read_csv_for`]).
pub fn read_csv_bytes_for<F: Float>(
    origin: &Path,
    bytes: &[u8],
    columns: &Columns,
    kind: TargetKind,
) -> Result<Dataset> {
    read_csv_bytes_with::<F>(origin, bytes, columns, kind, &ReadOptions::default())
}

/// How to read a CSV file besides its columns: the separator and the one-hot encoding of
/// text columns. The default detects the separator and encodes nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOptions {
    /// `None`: detected from the header and the first lines ([`detect_delimiter`]).
    ///
    /// [`detect_delimiter`]: super::detect_delimiter
    pub delimiter: Option<Delimiter>,
    pub one_hot: OneHotMode,
}

/// Reads `path` with `options` (see [`read_csv_bytes_with`]).
pub fn read_csv_with<F: Float>(
    path: &Path,
    columns: &Columns,
    kind: TargetKind,
    options: &ReadOptions,
) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_csv_bytes_with::<F>(path, &bytes, columns, kind, options)
}

/// [`read_csv_bytes_for`] with a separator (given or detected) and one-hot encoding of text
/// feature columns ([`OneHotMode`]). A header that parses as one column when the selection
/// needs more is an error saying which separators were tried; a text cell in a column read
/// as numbers is an error suggesting to encode the column or leave it out.
pub fn read_csv_bytes_with<F: Float>(
    origin: &Path,
    bytes: &[u8],
    columns: &Columns,
    kind: TargetKind,
    options: &ReadOptions,
) -> Result<Dataset> {
    let parse_cell = |cell: &str| parse_cell(cell).and_then(fits::<F>(cell));
    let err = |line: Option<u64>, column: Option<&str>, reason: String| Error::Csv {
        path: origin.to_path_buf(),
        line,
        column: column.map(str::to_string),
        reason,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delimiter = options
        .delimiter
        .map_or_else(|| super::detect_delimiter(bytes), |d| d.0);
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter);
    let mut reader = builder.from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(origin, e, |p| line_in(bytes, p)))?
        .iter()
        .map(str::to_string)
        .collect();
    let (feature_idx, target_idx) = header_columns(origin, &header, columns, options.delimiter)?;
    let plan = Plan {
        bytes,
        builder: &builder,
        header: &header,
        features: &feature_idx,
        targets: &target_idx,
    };
    let (mut encoders, text_samples) = plan
        .encoders(&options.one_hot)
        .map_err(|r| err(Some(1), None, r))?;
    let mut unknown: BTreeMap<(String, String), usize> = BTreeMap::new();

    let mut xs: Vec<f64> = Vec::new();
    let mut target_cells: Vec<String> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    let mut rows = 0usize;
    let mut dropped = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(origin, e, |p| line_in(bytes, p))),
        }
        let line = record.position().map(|p| line_in(bytes, p));
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        if columns.drop_missing
            && feature_idx
                .iter()
                .chain(&target_idx)
                .any(|&j| is_missing(&record[j]))
        {
            dropped += 1;
            continue;
        }
        for (pos, &j) in feature_idx.iter().enumerate() {
            let cell = &record[j];
            let Some(encoder) = &mut encoders[pos] else {
                let v = parse_cell(cell).map_err(|r| {
                    let hint = plan.text_hint(pos, cell, &options.one_hot);
                    err(line, Some(&header[j]), r + &hint)
                })?;
                xs.push(v);
                continue;
            };
            if cell.is_empty() {
                let reason = parse_cell(cell).expect_err("an empty cell is no number");
                return Err(err(line, Some(&header[j]), reason));
            }
            match encoder.push(cell) {
                Ok(true) => {}
                Ok(false) => {
                    *unknown
                        .entry((header[j].clone(), cell.to_string()))
                        .or_default() += 1
                }
                Err(refused) => {
                    let reason = plan.refusal(pos, cell, refused, encoder, &text_samples[pos]);
                    return Err(err(line, Some(&header[j]), reason));
                }
            }
        }
        for &j in &target_idx {
            match kind {
                TargetKind::Real => {
                    ys.push(parse_cell(&record[j]).map_err(|r| err(line, Some(&header[j]), r))?)
                }
                TargetKind::Classes => {
                    if record[j].is_empty() {
                        return Err(err(line, Some(&header[j]), "empty label".into()));
                    }
                    target_cells.push(record[j].to_string());
                }
            }
        }
        rows += 1;
    }
    if rows == 0 {
        let reason = if dropped > 0 {
            format!(
                "every data row ({dropped}) has a missing value and was dropped (--drop-missing)"
            )
        } else {
            "the file has a header but no data rows".into()
        };
        return Err(err(Some(1), None, reason));
    }
    let mut classes = None;
    if kind == TargetKind::Classes && !target_idx.is_empty() {
        if target_idx.len() != 1 {
            return Err(err(
                None,
                None,
                "a classifier takes exactly one target column of labels".into(),
            ));
        }
        let (indices, labels) = encode_labels(&target_cells);
        ys = indices;
        classes = Some(labels);
    }
    let name = |idx: &[usize]| idx.iter().map(|&j| header[j].clone()).collect::<Vec<_>>();
    let (x, feature_names, one_hot) = if encoders.iter().all(Option::is_none) {
        let x = Array2::from_shape_vec((rows, feature_idx.len()), xs).expect("row-major fill");
        (x, name(&feature_idx), None)
    } else {
        let (x, encoding) = assemble(rows, name(&feature_idx), &xs, encoders);
        (x, encoding.feature_names(), Some(encoding))
    };
    let y = Array2::from_shape_vec((rows, target_idx.len()), ys).expect("row-major fill");
    let mut data = Dataset::new(x, y, feature_names, name(&target_idx))?;
    data.classes = classes;
    data.dropped_rows = dropped;
    data.one_hot = one_hot;
    data.unknown_categories = unknown.into_iter().map(|((c, v), n)| (c, v, n)).collect();
    Ok(data)
}

/// The header of a CSV file checked (not empty, every column named once) and the chosen
/// feature and target columns by index, with the in-memory reader's messages (line 1 of
/// `origin`): what a streamed CSV file checks before its first chunk.
pub(crate) fn header_columns(
    origin: &Path,
    header: &[String],
    columns: &Columns,
    given: Option<Delimiter>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let err = |reason: String| Error::Csv {
        path: origin.to_path_buf(),
        line: Some(1),
        column: None,
        reason,
    };
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(err(
            "the file is empty; expected a header row naming the columns".into(),
        ));
    }
    check_header(header).map_err(err)?;
    select_columns(header, columns).map_err(|r| err(one_column(r, header, given)))
}

/// The header and the data rows of CSV `bytes` as trimmed text, with the separator given or
/// detected, blank lines skipped as [`read_csv_bytes_with`] skips them: for front ends that
/// copy a file's columns into their output (a prediction beside its input row).
pub fn read_text_table(
    origin: &Path,
    bytes: &[u8],
    delimiter: Option<Delimiter>,
) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delimiter = delimiter.map_or_else(|| super::detect_delimiter(bytes), |d| d.0);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| csv_error(origin, e, |p| line_in(bytes, p)))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(origin, e, |p| line_in(bytes, p)))?;
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

/// The feature matrix with each encoded column replaced by its indicator columns, and the
/// encoding (`xs`: the numeric feature cells, row-major).
fn assemble(
    rows: usize,
    inputs: Vec<String>,
    xs: &[f64],
    encoders: Vec<Option<Encoder>>,
) -> (Array2<f64>, OneHot) {
    let n_numeric = encoders.iter().filter(|e| e.is_none()).count();
    let finished: Vec<Option<(Categories, Vec<u32>)>> = encoders
        .into_iter()
        .map(|e| e.map(Encoder::finish))
        .collect();
    let width: usize = finished
        .iter()
        .map(|f| f.as_ref().map_or(1, |(c, _)| c.categories.len()))
        .sum();
    let mut x = Array2::zeros((rows, width));
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        let out = row.as_slice_mut().expect("a standard-layout row");
        let (mut at, mut numeric) = (0, 0);
        for f in &finished {
            match f {
                None => {
                    out[at] = xs[i * n_numeric + numeric];
                    numeric += 1;
                    at += 1;
                }
                Some((c, codes)) => {
                    let k = c.categories.len();
                    Encoder::indicators(codes, i, &mut out[at..at + k]);
                    at += k;
                }
            }
        }
    }
    let encoding = OneHot {
        inputs,
        columns: finished.into_iter().flatten().map(|(c, _)| c).collect(),
    };
    (x, encoding)
}

/// The reason for a failed column selection; for a header of one column, that it is one
/// column and which separators were tried.
fn one_column(reason: String, header: &[String], given: Option<Delimiter>) -> String {
    if header.len() != 1 {
        return reason;
    }
    let tried = match given {
        Some(d) => format!("with the separator {} (--delimiter)", d.describe()),
        None => {
            let names: Vec<String> = super::delimiter::CANDIDATES
                .iter()
                .map(|&d| Delimiter(d).describe())
                .collect();
            format!("with each separator tried ({})", names.join(", "))
        }
    };
    format!(
        "the header parses as one column, `{}`, {tried}; if the file separates its columns with another character, pass it with --delimiter",
        header[0]
    )
}

/// What the reader needs to plan the encoding and to explain a text cell.
struct Plan<'a> {
    bytes: &'a [u8],
    builder: &'a csv::ReaderBuilder,
    header: &'a [String],
    features: &'a [usize],
    targets: &'a [usize],
}

/// A text cell seen in a column: its line and value.
type TextSample = Option<(Option<u64>, String)>;

impl Plan<'_> {
    /// One encoder per feature position (`None`: read as numbers), and for `auto` the first
    /// text cell of each chosen column.
    fn encoders(
        &self,
        mode: &OneHotMode,
    ) -> std::result::Result<(Vec<Option<Encoder>>, Vec<TextSample>), String> {
        let n = self.features.len();
        let mut encoders: Vec<Option<Encoder>> = (0..n).map(|_| None).collect();
        let mut samples: Vec<TextSample> = vec![None; n];
        match mode {
            OneHotMode::Off => {}
            OneHotMode::Fit {
                columns: OneHotColumns::Named(names),
                max_categories,
            } => {
                for name in names {
                    let pos = self.feature_position(name)?;
                    encoders[pos] = Some(Encoder::fit(name, *max_categories));
                }
            }
            OneHotMode::Fit {
                columns: OneHotColumns::Auto,
                max_categories,
            } => {
                samples = self.text_cells();
                for (pos, sample) in samples.iter().enumerate() {
                    if sample.is_some() {
                        let name = &self.header[self.features[pos]];
                        encoders[pos] = Some(Encoder::fit(name, *max_categories));
                    }
                }
            }
            OneHotMode::Apply { encoding, unknown } => {
                encoding.check()?;
                for c in &encoding.columns {
                    let pos = self.feature_position(&c.column)?;
                    encoders[pos] = Some(Encoder::apply(c, *unknown));
                }
            }
        }
        Ok((encoders, samples))
    }

    /// The position of feature column `name`, or why it is none.
    fn feature_position(&self, name: &str) -> std::result::Result<usize, String> {
        let j = self.header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "no column named `{name}` to one-hot encode; the columns are: {}",
                self.header.join(", ")
            )
        })?;
        if self.targets.contains(&j) {
            return Err(format!(
                "`{name}` is the target; one-hot encoding applies to feature columns"
            ));
        }
        self.features.iter().position(|&f| f == j).ok_or_else(|| {
            format!("`{name}` is not one of the feature columns, so it cannot be one-hot encoded")
        })
    }

    /// For every feature position, the first cell that is neither a number nor missing.
    fn text_cells(&self) -> Vec<TextSample> {
        let mut samples: Vec<TextSample> = vec![None; self.features.len()];
        let mut reader = self.builder.from_reader(self.bytes);
        let mut record = csv::StringRecord::new();
        while let Ok(true) = reader.read_record(&mut record) {
            for (pos, &j) in self.features.iter().enumerate() {
                let Some(cell) = record.get(j) else { continue };
                if samples[pos].is_none() && is_text(cell) {
                    let line = record.position().map(|p| line_in(self.bytes, p));
                    samples[pos] = Some((line, cell.to_string()));
                }
            }
        }
        samples
    }

    /// For a cell that is not a number: if its column holds mostly text, how to use or drop
    /// it (`; ...`); nothing for a number column with a stray cell (a typo).
    fn text_hint(&self, pos: usize, cell: &str, mode: &OneHotMode) -> String {
        if !is_text(cell) {
            return String::new();
        }
        let j = self.features[pos];
        let (mut text, mut text_cells, mut numbers) = (BTreeSet::new(), 0usize, 0usize);
        let mut reader = self.builder.from_reader(self.bytes);
        let mut record = csv::StringRecord::new();
        while let Ok(true) = reader.read_record(&mut record) {
            match record.get(j) {
                Some(c) if is_text(c) => {
                    text_cells += 1;
                    text.insert(c.to_string());
                }
                Some(c) if !is_missing(c) => numbers += 1,
                _ => {}
            }
        }
        // Mostly numbers: a typo, not a text column.
        if text_cells <= numbers {
            return String::new();
        }
        let n_text = text.len();
        let name = &self.header[j];
        let others: Vec<&str> = self
            .features
            .iter()
            .filter(|&&f| f != j)
            .map(|&f| self.header[f].as_str())
            .collect();
        let apply = matches!(mode, OneHotMode::Apply { .. });
        if n_text == text_cells && n_text >= 10 && !others.is_empty() && !apply {
            return format!(
                "; `{name}` holds a different text in every row (an identifier?): leave it out with --features {}",
                others.join(",")
            );
        }
        let shown: Vec<&str> = text.iter().take(4).map(String::as_str).collect();
        let more = if n_text > 4 { ", ..." } else { "" };
        let what = format!(
            "; `{name}` holds text ({n_text} distinct value{}: {}{more})",
            if n_text == 1 { "" } else { "s" },
            shown.join(", ")
        );
        if apply {
            return format!(
                "{what}, but the model was trained on it as numbers: retrain it with `descent train ... --one-hot {name}`"
            );
        }
        let leave_out = if others.is_empty() {
            String::new()
        } else {
            format!(", or leave it out with --features {}", others.join(","))
        };
        format!("{what}: encode it with --one-hot {name} (or --one-hot auto){leave_out}")
    }

    /// Why an encoder refused `cell`.
    fn refusal(
        &self,
        pos: usize,
        cell: &str,
        refused: Refused,
        encoder: &Encoder,
        sample: &TextSample,
    ) -> String {
        let name = &self.header[self.features[pos]];
        match refused {
            Refused::Unknown => {
                let known = encoder.categories();
                let shown: Vec<&str> = known.iter().take(8).map(String::as_str).collect();
                let more = if known.len() > 8 { ", ..." } else { "" };
                format!(
                    "`{cell}` is not one of the categories the model was trained on for `{name}` ({}{more}); pass --unknown-category zeros to predict with all its `{name}` indicators at 0",
                    shown.join(", ")
                )
            }
            Refused::TooMany => {
                let max = encoder.categories().len();
                let why = match sample {
                    Some((line, text)) => format!(
                        " (one-hot auto chose it for the text `{text}`{}: if it is a number column, fix that cell)",
                        line.map(|l| format!(" on line {l}")).unwrap_or_default()
                    ),
                    None => String::new(),
                };
                let others: Vec<&str> = self
                    .features
                    .iter()
                    .filter(|&&f| self.header[f] != *name)
                    .map(|&f| self.header[f].as_str())
                    .collect();
                let leave_out = if others.is_empty() {
                    String::new()
                } else {
                    format!(", or leave it out with --features {}", others.join(","))
                };
                format!(
                    "`{name}` has more than {max} distinct values, too many to one-hot encode{why}; raise --max-categories{leave_out}"
                )
            }
        }
    }
}

/// A cell that is neither a number nor a missing-value marker.
fn is_text(cell: &str) -> bool {
    !cell.is_empty() && cell.parse::<f64>().is_err() && !is_missing(cell)
}

/// The line a record read at `pos` starts on, `after` being the bytes from the position on.
/// The `csv` crate's position is where it began parsing the record: before the `\n` of a
/// CRLF line end, and before the blank lines it passes over; the line breaks from there to
/// the record's first byte are added.
pub(crate) fn record_line(pos: &csv::Position, after: impl IntoIterator<Item = u8>) -> u64 {
    let breaks = after
        .into_iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|&b| b == b'\n')
        .count();
    pos.line() + breaks as u64
}

/// [`record_line`] of a record of `bytes` (the text the reader was given).
fn line_in(bytes: &[u8], pos: &csv::Position) -> u64 {
    let after = bytes.get(pos.byte() as usize..).unwrap_or_default();
    record_line(pos, after.iter().copied())
}

/// The error `e` of reading `origin`, its line found by `line_of` from its position.
pub(crate) fn csv_error(
    origin: &Path,
    e: csv::Error,
    line_of: impl Fn(&csv::Position) -> u64,
) -> Error {
    let line = e.position().map(line_of);
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this row has {len} fields but the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8 text".to_string(),
        _ => e.to_string(),
    };
    Error::Csv {
        path: PathBuf::from(origin),
        line,
        column: None,
        reason,
    }
}

fn check_header(header: &[String]) -> std::result::Result<(), String> {
    let mut seen = BTreeSet::new();
    for (j, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(format!("column {} has no name in the header", j + 1));
        }
        if !seen.insert(name.as_str()) {
            return Err(format!(
                "the column name `{name}` appears twice in the header"
            ));
        }
    }
    Ok(())
}

fn select_columns(
    header: &[String],
    columns: &Columns,
) -> std::result::Result<(Vec<usize>, Vec<usize>), String> {
    let find = |name: &String| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "no column named `{name}`; the columns are: {}",
                header.join(", ")
            )
        })
    };
    let targets: Vec<usize> = match &columns.targets {
        None => vec![header.len() - 1],
        Some(names) => names
            .iter()
            .map(find)
            .collect::<std::result::Result<_, _>>()?,
    };
    let features: Vec<usize> = match &columns.features {
        None => (0..header.len()).filter(|j| !targets.contains(j)).collect(),
        Some(names) => names
            .iter()
            .map(find)
            .collect::<std::result::Result<_, _>>()?,
    };
    if let Some(j) = features.iter().find(|j| targets.contains(j)) {
        return Err(format!(
            "column `{}` is both a feature and a target",
            header[*j]
        ));
    }
    if features.is_empty() {
        return Err("no feature columns are left besides the target".into());
    }
    Ok((features, targets))
}

/// Checks that a finite `f64` read from `cell` stays finite when rounded to `F`.
fn fits<F: Float>(cell: &str) -> impl Fn(f64) -> std::result::Result<f64, String> + '_ {
    move |v| {
        if F::of(v).is_finite() {
            Ok(v)
        } else {
            Err(too_large_for::<F>(cell))
        }
    }
}

/// Why the number `cell` (finite in f64) cannot be read in precision `F`: it is too large
/// for it. The one wording of this refusal, wherever the number comes from (a CSV cell read
/// whole or streamed, a Parquet value streamed in f32, a streamed prediction of the CLI).
pub fn too_large_for<F: Float>(cell: &str) -> String {
    format!(
        "`{cell}` is too large for {} (largest magnitude {:.3e}); rescale this column or train in f64 (--dtype f64)",
        F::NAME,
        F::max_value().f64()
    )
}

/// Whether `cell` (trimmed) marks a missing value: empty, `NA`, `N/A`, `null`, `none`, `?`
/// (any case), `NaN` or infinite: the rows [`Columns::drop_missing`] drops.
pub fn is_missing(cell: &str) -> bool {
    const MARKERS: [&str; 5] = ["na", "n/a", "null", "none", "?"];
    cell.is_empty()
        || MARKERS.iter().any(|m| cell.eq_ignore_ascii_case(m))
        || cell.parse::<f64>().is_ok_and(|v| !v.is_finite())
}

/// A cell read as a number of precision `F` by the reader's rules, or why it cannot be: an
/// empty cell, not a number, NaN or infinite, or too large for `F` (the reader's reasons).
pub fn parse_cell_as<F: Float>(cell: &str) -> std::result::Result<f64, String> {
    parse_cell(cell).and_then(fits::<F>(cell))
}

pub(crate) fn parse_cell(cell: &str) -> std::result::Result<f64, String> {
    if cell.is_empty() {
        return Err("empty cell; fill it in, remove the row, or pass --drop-missing".into());
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(format!(
            "`{cell}` is {}; only finite numbers can be used (--drop-missing drops such rows)",
            if v.is_nan() { "NaN" } else { "infinite" }
        )),
        Err(_) => Err(format!("`{cell}` is not a number")),
    }
}

/// Maps labels to indices in sorted order (numeric order when all labels are numbers).
pub(crate) fn encode_labels(cells: &[String]) -> (Vec<f64>, Vec<String>) {
    let numeric: Option<Vec<f64>> = cells.iter().map(|c| c.parse::<f64>().ok()).collect();
    let mut labels: Vec<String> = cells
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if numeric.is_some() {
        labels.sort_by(|a, b| {
            let (a, b) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            a.total_cmp(&b)
        });
        labels.dedup_by(|a, b| a.parse::<f64>().ok() == b.parse::<f64>().ok());
    }
    let index = |c: &String| {
        labels
            .iter()
            .position(|l| {
                l == c || (numeric.is_some() && l.parse::<f64>().ok() == c.parse::<f64>().ok())
            })
            .unwrap_or(0) as f64
    };
    (cells.iter().map(index).collect(), labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::UnknownCategory;

    fn read(text: &str, kind: TargetKind) -> Result<Dataset> {
        read_csv_bytes(
            Path::new("t.csv"),
            text.as_bytes(),
            &Columns::default(),
            kind,
        )
    }

    #[test]
    fn reads_header_features_and_last_column_target() {
        let d = read("a,b,y\n1,2,3\n4,5,6\n", TargetKind::Real).unwrap();
        assert_eq!(d.feature_names, ["a", "b"]);
        assert_eq!(d.target_names, ["y"]);
        assert_eq!(d.x.row(1).to_vec(), [4.0, 5.0]);
        assert_eq!(d.y.column(0).to_vec(), [3.0, 6.0]);
    }

    #[test]
    fn accepts_bom_crlf_quotes_and_spaces() {
        let d = read("\u{feff}a, \"y\"\r\n 1 ,\"2\"\r\n", TargetKind::Real).unwrap();
        assert_eq!(d.feature_names, ["a"]);
        assert_eq!(d.y[[0, 0]], 2.0);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = read("a,y\n1,2\nx,3\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv, line 3, column a: `x` is not a number");
        let e = read("a,y\n1,2\n1,2,3\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv, line 3: this row has 3 fields but the header has 2"
        );
        let e = read("a,y\nnan,2\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column a: `nan` is NaN"), "{e}");
        let e = read("", TargetKind::Real).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = read("a,y\n", TargetKind::Real).unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
        let e = read("a,a\n1,2\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert!(e.contains("appears twice"), "{e}");
    }

    #[test]
    fn lines_count_crlf_line_ends_blank_lines_and_quoted_breaks() {
        // The csv crate's record positions start before a CRLF's `\n` and before blank
        // lines; every one of these has the bad cell on line 4.
        for text in [
            "a,y\r\n1,2\r\n\r\n1,x\r\n",
            "a,y\n1,2\n\n1,x\n",
            "a,y\r\n1,2\r\n1,2\r\n1,x",
            "a,y\n\"1\n\",2\n1,x\n",
        ] {
            let e = read(text, TargetKind::Real).unwrap_err().to_string();
            assert_eq!(
                e, "t.csv, line 4, column y: `x` is not a number",
                "{text:?}"
            );
        }
        let e = read("a,y\r\n1,2\r\n\r\n1,2,3\r\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv, line 4: this row has 3 fields but the header has 2"
        );
    }

    #[test]
    fn cells_too_large_for_f32_are_errors_in_an_f32_read() {
        let text = b"a,y\n1,2\n1e300,3\n";
        let origin = Path::new("t.csv");
        let cols = Columns::default();
        let e = read_csv_bytes_for::<f32>(origin, text, &cols, TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv, line 3, column a: `1e300` is too large for f32 (largest magnitude 3.403e38); \
             rescale this column or train in f64 (--dtype f64)"
        );
        let d = read_csv_bytes_for::<f64>(origin, text, &cols, TargetKind::Real).unwrap();
        assert_eq!(d.x[[1, 0]], 1e300);
    }

    #[test]
    fn drop_missing_drops_rows_with_missing_values_in_used_columns_only() {
        let cols = Columns {
            features: Some(vec!["a".into()]),
            drop_missing: true,
            ..Columns::default()
        };
        let text = "a,unused,y\n1,NA,2\nNaN,0,3\n2,0,\n3,0,inf\nn/a,0,1\n4,,?\n5,1,6\n";
        let d =
            read_csv_bytes(Path::new("t.csv"), text.as_bytes(), &cols, TargetKind::Real).unwrap();
        assert_eq!(d.dropped_rows, 5);
        assert_eq!(d.x.column(0).to_vec(), vec![1.0, 5.0]);
        assert_eq!(d.y.column(0).to_vec(), vec![2.0, 6.0]);
        // Without the flag the first missing value in a used column is an error.
        let strict = Columns {
            drop_missing: false,
            ..cols
        };
        let e = read_csv_bytes(
            Path::new("t.csv"),
            text.as_bytes(),
            &strict,
            TargetKind::Real,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3, column a: `NaN` is NaN"), "{e}");
    }

    #[test]
    fn missing_column_lists_the_columns() {
        let cols = Columns {
            targets: Some(vec!["z".into()]),
            ..Columns::default()
        };
        let e = read_csv_bytes(Path::new("t.csv"), b"a,y\n1,2\n", &cols, TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no column named `z`; the columns are: a, y"),
            "{e}"
        );
    }

    fn read_with(text: &str, cols: &Columns, one_hot: OneHotMode) -> Result<Dataset> {
        let options = ReadOptions {
            delimiter: None,
            one_hot,
        };
        read_csv_bytes_with::<f64>(
            Path::new("t.csv"),
            text.as_bytes(),
            cols,
            TargetKind::Real,
            &options,
        )
    }

    fn fit(columns: OneHotColumns, max_categories: usize) -> OneHotMode {
        OneHotMode::Fit {
            columns,
            max_categories,
        }
    }

    #[test]
    fn tab_and_semicolon_files_read_as_the_comma_file() {
        let comma = read("a,b,y\n1,2,3\n4,5,6\n", TargetKind::Real).unwrap();
        for sep in ["\t", ";", "|"] {
            let text = "a,b,y\n1,2,3\n4,5,6\n".replace(',', sep);
            assert_eq!(read(&text, TargetKind::Real).unwrap(), comma, "{sep:?}");
        }
    }

    #[test]
    fn a_header_of_one_column_says_which_separators_were_tried() {
        let e = read("a:b:y\n1:2:3\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv, line 1: the header parses as one column, `a:b:y`, with each separator tried \
             (comma, tab, semicolon, pipe); if the file separates its columns with another \
             character, pass it with --delimiter"
        );
        // One column is fine when the selection needs no more (a one-feature model predicts).
        let cols = Columns {
            targets: Some(vec![]),
            ..Columns::default()
        };
        let d = read_with("x\n1\n2\n", &cols, OneHotMode::Off).unwrap();
        assert_eq!(d.x.column(0).to_vec(), [1.0, 2.0]);
    }

    #[test]
    fn a_text_column_gets_a_hint_and_a_typo_does_not() {
        let e = read("a,city,y\n1,Paris,3\n2,Rome,4\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv, line 2, column city: `Paris` is not a number; `city` holds text (2 distinct \
             values: Paris, Rome): encode it with --one-hot city (or --one-hot auto), or leave it \
             out with --features a"
        );
        let e = read("a,y\n1,2\n2,3\nx,4\n", TargetKind::Real)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv, line 4, column a: `x` is not a number");
    }

    #[test]
    fn one_hot_fits_sorted_categories_in_place_and_applies_them() {
        let text = "a,city,y\n1,Rome,3\n2,Paris,4\n3,Rome,5\n";
        let named = fit(OneHotColumns::Named(vec!["city".into()]), 32);
        let d = read_with(text, &Columns::default(), named).unwrap();
        assert_eq!(d.feature_names, ["a", "city=Paris", "city=Rome"]);
        assert_eq!(d.x.row(0).to_vec(), [1.0, 0.0, 1.0]);
        assert_eq!(d.x.row(1).to_vec(), [2.0, 1.0, 0.0]);
        let auto = read_with(text, &Columns::default(), fit(OneHotColumns::Auto, 32)).unwrap();
        assert_eq!(auto, d);
        // Applied to new rows: the same columns; an unseen value is an error or zeros.
        let encoding = d.one_hot.clone().unwrap();
        let new = "a,city\n7,Paris\n8,Oslo\n";
        let cols = Columns {
            targets: Some(vec![]),
            features: Some(encoding.inputs.clone()),
            ..Columns::default()
        };
        let apply = |unknown| OneHotMode::Apply {
            encoding: encoding.clone(),
            unknown,
        };
        let e = read_with(new, &cols, apply(UnknownCategory::Error))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv, line 3, column city: `Oslo` is not one of the categories"),
            "{e}"
        );
        let z = read_with(new, &cols, apply(UnknownCategory::Zeros)).unwrap();
        assert_eq!(z.x.row(1).to_vec(), [8.0, 0.0, 0.0]);
        assert_eq!(
            z.unknown_categories,
            [("city".to_string(), "Oslo".to_string(), 1)]
        );
    }

    #[test]
    fn one_hot_refuses_too_many_categories_and_columns_it_cannot_encode() {
        let text = "a,city,y\n1,Rome,3\n2,Paris,4\n3,Oslo,5\n";
        let e = read_with(text, &Columns::default(), fit(OneHotColumns::Auto, 2))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 4, column city: `city` has more than 2 distinct values"),
            "{e}"
        );
        assert!(
            e.contains("one-hot auto chose it for the text `Rome` on line 2"),
            "{e}"
        );
        for (name, expected) in [
            ("y", "`y` is the target"),
            ("zip", "no column named `zip` to one-hot encode"),
        ] {
            let mode = fit(OneHotColumns::Named(vec![name.into()]), 32);
            let e = read_with(text, &Columns::default(), mode)
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{e}");
        }
    }

    #[test]
    fn string_and_numeric_labels_become_sorted_indices() {
        let d = read("a,y\n1,dog\n2,cat\n3,dog\n", TargetKind::Classes).unwrap();
        assert_eq!(d.classes.as_deref().unwrap(), ["cat", "dog"]);
        assert_eq!(d.y.column(0).to_vec(), [1.0, 0.0, 1.0]);
        let d = read("a,y\n1,10\n2,9\n3,10.0\n", TargetKind::Classes).unwrap();
        assert_eq!(d.classes.as_deref().unwrap(), ["9", "10"]);
        assert_eq!(d.y.column(0).to_vec(), [1.0, 0.0, 1.0]);
    }
}
