//! Helpers shared by the end-to-end tests: run the real `descent` binary in a directory.

use std::path::Path;
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
