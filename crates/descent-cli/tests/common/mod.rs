//! Helpers shared by the end-to-end tests: run the real `descent` binary in a directory.
//! (Not every test binary uses every helper.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
