//! Load a CSV, train linear regression with Adam and a cosine schedule, predict: the core is
//! eight lines (marked below). Then the model is saved to `model.json`, loaded back, and
//! shown to predict the same numbers.
//!
//! The CSV is written first to a temporary directory: 200 rows of
//! `y = 3 x1 - 2 x2 + 0.5 x3 + 1` plus a little deterministic noise.
//!
//! Run it with `cargo run -p descent --release --example csv_regression`.

use std::io::Write;

use descent::data::Scaling;
use descent::schedule::ScheduleSpec;
use descent::{Model, RunSpec};
use ndarray::array;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("descent-csv-regression-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("data.csv");
    write_csv(&csv)?;

    // The core: eight lines of user code, from `let spec` to `model.predict`.
    let spec = RunSpec::csv(&csv)
        .scale(Scaling::Standard)
        .optimizer("adam", 0.1)
        .schedule(ScheduleSpec::parse("cosine:t_max=100")?)
        .batch(32)
        .epochs(100);
    let model = descent::fit(&spec)?.model;
    let prediction = model.predict(array![[1.0, 2.0, 3.0]].view())?;

    let y = prediction
        .values()
        .expect("linear regression predicts values");
    println!(
        "features {:?} -> target {:?}",
        model.features, model.targets
    );
    println!(
        "prediction for (1, 2, 3): {:.4} (the plane: 1.5)",
        y[[0, 0]]
    );
    assert!(
        (y[[0, 0]] - 1.5).abs() < 0.05,
        "the fit should recover the plane"
    );

    // A saved model predicts the same bits after loading (it keeps its scaler).
    let path = dir.join("model.json");
    model.save(&path)?;
    let loaded = Model::load(&path)?;
    assert_eq!(loaded.predict(array![[1.0, 2.0, 3.0]].view())?, prediction);
    println!(
        "saved to {} and loaded back: same prediction",
        path.display()
    );

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// 200 rows of `x1,x2,x3,y`, the noise in `[-0.05, 0.05]` from a fixed pattern.
fn write_csv(path: &std::path::Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "x1,x2,x3,y")?;
    for i in 0..200u32 {
        let x1 = f64::from(i % 10) / 2.0;
        let x2 = f64::from(i * 3 % 7);
        let x3 = f64::from(i * 5 % 11) / 3.0;
        let noise = f64::from(i * 7919 % 101) / 1000.0 - 0.05;
        let y = 3.0 * x1 - 2.0 * x2 + 0.5 * x3 + 1.0 + noise;
        writeln!(out, "{x1},{x2},{x3},{y}")?;
    }
    out.flush()
}
