//! A multi-layer perceptron (one hidden layer of 16 ReLUs) classifying the three wine
//! cultivars of `builtin:wine` with cross-entropy: standard scaling, Adam, mini-batches of 16,
//! a fifth of the rows held out. Prints the accuracy on both splits and a few predicted
//! labels with their class probabilities.
//!
//! Run it with `cargo run -p descent --release --example mlp_classification`.

use descent::data::{builtin, Columns, Scaling, TargetKind};
use descent::loss::Loss;
use descent::nn::{Activation, ModelKind};
use descent::RunSpec;
use ndarray::Axis;

fn main() -> descent::Result<()> {
    let mlp = ModelKind::Mlp {
        hidden: vec![16],
        activation: Activation::Relu,
    };
    let spec = RunSpec::builtin("wine")
        .model(mlp)
        // An MLP's loss is not inferred from the data: without this it would regress on the
        // class numbers with mean squared error.
        .loss(Loss::CrossEntropy)
        .scale(Scaling::Standard)
        .optimizer("adam", 0.01)
        .batch(16)
        .epochs(40)
        .val_fraction(0.2)
        .seed(1);
    let fitted = descent::fit(&spec)?;
    let val = fitted.report.val.expect("a fifth of the rows is held out");
    let train_accuracy = fitted.report.train.accuracy.unwrap_or(f64::NAN);
    let val_accuracy = val.accuracy.unwrap_or(f64::NAN);
    println!(
        "{} epochs in {:.2} s: accuracy {:.1}% on training rows, {:.1}% on held-out rows",
        fitted.outcome.epochs,
        fitted.seconds,
        100.0 * train_accuracy,
        100.0 * val_accuracy,
    );
    assert!(
        val_accuracy > 0.9,
        "the MLP should tell the cultivars apart"
    );

    // The model takes raw, unscaled features: its scaler travels with it.
    let wine = builtin::load("wine", &Columns::default(), TargetKind::Classes)?;
    let rows = [0, 70, 140];
    let prediction = fitted.model.predict(wine.x.select(Axis(0), &rows).view())?;
    let labels = prediction.labels().expect("a classifier predicts labels");
    let probabilities = prediction.probabilities().expect("and probabilities");
    let cultivars = wine.classes.as_deref().unwrap_or_default();
    for (i, &row) in rows.iter().enumerate() {
        let p: Vec<String> = probabilities
            .row(i)
            .iter()
            .map(|p| format!("{p:.3}"))
            .collect();
        println!(
            "row {row:>3}: cultivar {} (true {}), probabilities [{}]",
            labels[i],
            cultivars[wine.y[[row, 0]] as usize],
            p.join(", ")
        );
    }
    Ok(())
}
