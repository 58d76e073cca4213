//! Reading a CSV file with a header row into a [`Dataset`], with errors that name the file,
//! the line and the column.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::Dataset;
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
    let parse_cell = |cell: &str| parse_cell(cell).and_then(fits::<F>(cell));
    let err = |line: Option<u64>, column: Option<&str>, reason: String| Error::Csv {
        path: origin.to_path_buf(),
        line,
        column: column.map(str::to_string),
        reason,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(origin, e))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(err(
            Some(1),
            None,
            "the file is empty; expected a header row naming the columns".into(),
        ));
    }
    check_header(&header).map_err(|reason| err(Some(1), None, reason))?;
    let (feature_idx, target_idx) =
        select_columns(&header, columns).map_err(|r| err(Some(1), None, r))?;

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
            Err(e) => return Err(csv_error(origin, e)),
        }
        let line = record.position().map(|p| p.line());
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
        for &j in &feature_idx {
            xs.push(parse_cell(&record[j]).map_err(|r| err(line, Some(&header[j]), r))?);
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
    let x = Array2::from_shape_vec((rows, feature_idx.len()), xs).expect("row-major fill");
    let y = Array2::from_shape_vec((rows, target_idx.len()), ys).expect("row-major fill");
    let mut data = Dataset::new(x, y, name(&feature_idx), name(&target_idx))?;
    data.classes = classes;
    data.dropped_rows = dropped;
    Ok(data)
}

fn csv_error(origin: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
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
            Err(format!(
                "`{cell}` is too large for {} (largest magnitude {:.3e}); rescale this column or train in f64 (--dtype f64)",
                F::NAME,
                F::max_value().f64()
            ))
        }
    }
}

/// Whether `cell` marks a missing value (see [`Columns::drop_missing`]).
fn is_missing(cell: &str) -> bool {
    const MARKERS: [&str; 5] = ["na", "n/a", "null", "none", "?"];
    cell.is_empty()
        || MARKERS.iter().any(|m| cell.eq_ignore_ascii_case(m))
        || cell.parse::<f64>().is_ok_and(|v| !v.is_finite())
}

fn parse_cell(cell: &str) -> std::result::Result<f64, String> {
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
fn encode_labels(cells: &[String]) -> (Vec<f64>, Vec<String>) {
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
