//! The README's first section, run as written: its shell block (less the `git`, `cargo` and
//! `PATH` lines, which the test harness has done) goes through `sh -e` with this build's
//! `descent` first on the PATH. Every command must succeed, and what it promises must be
//! there: predictions beside their input columns, a score, the same model from the TSV.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The first ```sh block after `## Start here`.
fn start_here_block() -> String {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    let section = text
        .split("## Start here")
        .nth(1)
        .expect("a `## Start here` section");
    let block = section.split("```sh\n").nth(1).expect("a sh block");
    block.split("\n```").next().unwrap().to_string()
}

#[test]
fn the_readme_walkthrough_runs_without_an_error() {
    let block = start_here_block();
    let script: Vec<&str> = block
        .lines()
        .filter(|l| {
            !["git ", "cargo ", "export PATH"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    let script = script.join("\n");
    assert!(script.contains("descent train") && script.contains("descent predict"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = Path::new(env!("CARGO_BIN_EXE_descent")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-e", "-c", &script])
        .env("PATH", path)
        .current_dir(d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(
        stdout.contains("coefficients in the features' original units"),
        "{stdout}"
    );
    let predictions = std::fs::read_to_string(d.join("predictions.csv")).unwrap();
    assert!(predictions.starts_with("sqft,rooms,city,price_pred\n1500,3,Shelbyville,"));
    let scores: Value =
        serde_json::from_slice(&std::fs::read(d.join("checked.metrics.json")).unwrap()).unwrap();
    assert!(scores["r2"].as_f64().unwrap() > 0.99, "{scores}");
    // Tab-separated, the same data gives the same model, byte for byte.
    let model = |run: &str| std::fs::read(d.join("runs").join(run).join("model.json")).unwrap();
    assert!(model("homes") == model("homes-tsv"));
}
