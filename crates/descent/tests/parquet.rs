//! Parquet input: files written by pyarrow and pandas (tests/fixtures/parquet/make.py) read
//! to exactly the data their CSV twins give, with every codec, dictionary encoding, nulls,
//! several row groups and files; bad files get errors naming the file, row group and column.

use std::path::{Path, PathBuf};

use descent::data::{
    read_csv, Columns, DataSource, OneHotColumns, OneHotMode, ReadOptions, TargetKind,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parquet")
        .join(name)
}

fn load(
    path: &Path,
    columns: &Columns,
    kind: TargetKind,
) -> descent::Result<descent::data::Dataset> {
    DataSource::File(path.to_path_buf()).load::<f64>(columns, kind)
}

fn dropping() -> Columns {
    Columns {
        drop_missing: true,
        ..Columns::default()
    }
}

#[test]
fn every_codec_reads_to_the_csv_twins_data_bit_for_bit() {
    let csv = read_csv(&fixture("numbers.csv"), &dropping(), TargetKind::Real).unwrap();
    assert!(csv.dropped_rows > 0, "the fixture has nulls");
    for codec in ["none", "snappy", "gzip", "zstd", "lz4"] {
        let path = fixture(&format!("numbers_{codec}.parquet"));
        let parquet = load(&path, &dropping(), TargetKind::Real).unwrap();
        assert_eq!(parquet, csv, "{codec}");
    }
    // A directory of files (Spark's _SUCCESS beside them) and a glob read as one table.
    let dir = load(&fixture("parts"), &dropping(), TargetKind::Real).unwrap();
    assert_eq!(dir, csv);
    let glob = fixture("parts").join("part-*.parquet");
    assert_eq!(load(&glob, &dropping(), TargetKind::Real).unwrap(), csv);
}

#[test]
fn a_null_without_drop_missing_names_file_row_group_row_and_column() {
    let path = fixture("numbers_snappy.parquet");
    let e = load(&path, &Columns::default(), TargetKind::Real)
        .unwrap_err()
        .to_string();
    // Row 5 is the first null of `level` (every 17th row from row 5); row groups hold 32.
    assert_eq!(
        e,
        format!(
            "{}, row group 0, row 5, column level: null (or empty) value; fill it in, remove the row, or pass --drop-missing",
            path.display()
        )
    );
}

#[test]
fn pandas_categorical_labels_and_text_features_read_as_from_csv() {
    let columns = Columns::default();
    let csv_path = fixture("classes.csv");
    let options = ReadOptions {
        delimiter: None,
        one_hot: OneHotMode::Fit {
            columns: OneHotColumns::Named(vec!["city".into()]),
            max_categories: 32,
        },
    };
    let from_csv = DataSource::File(csv_path)
        .load_with::<f64>(&columns, TargetKind::Classes, &options)
        .unwrap();
    let from_parquet = DataSource::File(fixture("classes.parquet"))
        .load_with::<f64>(&columns, TargetKind::Classes, &options)
        .unwrap();
    assert_eq!(from_parquet, from_csv);
    assert_eq!(
        from_parquet.classes.as_deref().unwrap(),
        ["cat", "dog", "eel"]
    );
    // Without --one-hot the text column is refused with the CSV reader's hint.
    let e = load(&fixture("classes.parquet"), &columns, TargetKind::Classes)
        .unwrap_err()
        .to_string();
    assert!(e.contains("row group 0, row 0, column city: `"), "{e}");
    assert!(e.contains("encode it with --one-hot city"), "{e}");
}

#[test]
fn bad_columns_and_schemas_are_named() {
    let e = load(
        &fixture("when.parquet"),
        &Columns::default(),
        TargetKind::Real,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with("column when: `when` is TIMESTAMP, not a number or text; leave it out with --features a"),
        "{e}"
    );
    let cols = Columns {
        targets: Some(vec!["price".into()]),
        ..Columns::default()
    };
    let e = load(&fixture("numbers_none.parquet"), &cols, TargetKind::Real)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column named `price`; the columns are: i8, i16"),
        "{e}"
    );
    let e = load(
        &fixture("other_schema"),
        &Columns::default(),
        TargetKind::Real,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("b.parquet: its schema differs from"), "{e}");
    assert!(e.contains("column `a` is text instead of float"), "{e}");
}

/// Writes `bytes` to a fresh file in the temp dir and returns its path.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn truncated_bad_magic_and_corrupt_files_are_errors_naming_the_file() {
    let good = std::fs::read(fixture("numbers_snappy.parquet")).unwrap();
    let truncated = temp_file("truncated.parquet", &good[..good.len() / 2]);
    let e = load(&truncated, &dropping(), TargetKind::Real)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{}: not a readable Parquet file",
            truncated.display()
        )),
        "{e}"
    );
    let mut magic = good.clone();
    let end = magic.len();
    magic[end - 4..].copy_from_slice(b"PAR2");
    let bad = temp_file("magic.parquet", &magic);
    let e = load(&bad, &dropping(), TargetKind::Real)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a readable Parquet file"), "{e}");
    // Scramble the data pages (after the magic, before the footer): an error, never a panic.
    let mut corrupt = good.clone();
    for b in &mut corrupt[4..2000] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    let bad = temp_file("corrupt.parquet", &corrupt);
    let e = load(&bad, &dropping(), TargetKind::Real)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}, row group 0, column ", bad.display())),
        "{e}"
    );
}

/// A footer whose column chunk starts at a negative byte (found by the `parquet_reader` fuzz
/// target): the parquet crate asserts against it, so it must be refused before a column
/// reader is made, in memory and on a stream, with the file, row group and column named.
#[test]
fn a_column_chunk_at_a_negative_offset_is_an_error_not_a_panic() {
    let path = fixture("negative_column_start.parquet");
    let expected = format!(
        "{}, row group 0, column y: corrupt column chunk (starts at byte -319438, 106 bytes long)",
        path.display()
    );
    for kind in [TargetKind::Real, TargetKind::Classes] {
        let e = load(&path, &dropping(), kind).unwrap_err().to_string();
        assert_eq!(e, expected);
    }
    let e = stream_scan_error(&path);
    assert_eq!(e, expected);
}

/// A dictionary page whose PLAIN byte-array values run past the page's end (found by the
/// `parquet_reader` fuzz target): the parquet crate's decoder panics on it (reading a length
/// out of an empty buffer). Every call into the crate is guarded, so it is an error naming
/// the file, row group and column, in memory and on a stream.
#[test]
fn a_decoder_panic_on_corrupt_pages_is_an_error_naming_the_place() {
    let path = fixture("byte_array_past_page_end.parquet");
    let expected = format!(
        "{}, row group 0, column a: cannot decode the column (Parquet error: the parquet \
         decoder failed on this data: range end index 4 out of range for slice of length 0); \
         the file may be corrupt",
        path.display()
    );
    for kind in [TargetKind::Real, TargetKind::Classes] {
        let e = load(&path, &dropping(), kind).unwrap_err().to_string();
        assert_eq!(e, expected);
    }
    let e = stream_scan_error(&path);
    assert!(
        e.starts_with(&format!("{}, row group 0, column a: ", path.display())),
        "{e}"
    );
    assert!(e.contains("the parquet decoder failed on this data"), "{e}");
}

/// The error of the streamed reader's statistics pass over `path` (the default columns,
/// dropping rows with missing cells).
fn stream_scan_error(path: &Path) -> String {
    use std::sync::Arc;

    use descent::data::parquet::{resolve_columns, scan, ParquetFiles, Selection};

    let files = ParquetFiles::open(path).unwrap();
    let chosen = resolve_columns(&files, &dropping()).unwrap();
    let names = files.names();
    let index = |n: &String| names.iter().position(|m| m == n).unwrap();
    let sel = Selection {
        features: chosen.features.unwrap().iter().map(index).collect(),
        targets: chosen.targets.unwrap().iter().map(index).collect(),
        classes: None,
        drop_missing: true,
        split: None,
        dtype: descent::DType::F64,
    };
    scan(&Arc::new(files), &sel, false).unwrap_err().to_string()
}
