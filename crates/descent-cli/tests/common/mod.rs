//! Helpers shared by the end-to-end tests: run the real `descent` binary in a directory.
//! (Not every test binary uses every helper.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use descent::data::parquet::{ColumnChunks, ParquetFiles};

/// Runs `descent args...` in `dir`.
pub fn descent(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(args: &[&str], dir: &Path) -> String {
    let out = descent(args, dir);
    assert!(
        out.status.success(),
        "descent {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `out` of a command that must have succeeded (its stderr in the failure message).
pub fn succeeded(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The stderr of a command that must have exited with status 1 (it in the failure message).
pub fn failed(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    err
}

/// The bytes of the file at `path` (the path in the failure message).
pub fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every column of a Parquet file as numbers (text and nulls as NaN), column by column, and
/// the column names and the first file's row-group sizes.
pub fn parquet_numbers(path: &Path) -> (Vec<String>, Vec<u64>, Vec<Vec<f64>>) {
    let files = Arc::new(ParquetFiles::open(path).unwrap());
    let names = files.names();
    let groups = files.files[0].row_groups.clone();
    let mut columns = vec![Vec::new(); names.len()];
    let mut chunks = ColumnChunks::new(files, (0..names.len()).collect()).unwrap();
    while let Some(chunk) = chunks.next_chunk().unwrap() {
        for (c, cursor) in chunk.cursors.iter().enumerate() {
            let mut k = 0;
            for &valid in &cursor.valid {
                columns[c].push(if valid {
                    k += 1;
                    cursor.number(k - 1).unwrap_or(f64::NAN)
                } else {
                    f64::NAN
                });
            }
        }
    }
    (names, groups, columns)
}

/// The text of `file` in `dir`.
pub fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// The path of one of the library's Parquet fixtures (crates/descent/tests/fixtures/parquet).
pub fn parquet_fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../descent/tests/fixtures/parquet")
        .join(name)
        .display()
        .to_string()
}
