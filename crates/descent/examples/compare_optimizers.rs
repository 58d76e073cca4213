//! SGD, SGD with momentum 0.9 and Adam on the same problem: linear regression on
//! `builtin:diabetes` (features scaled), from the same start (zeros) through the same batch
//! order (one seed). Prints the final loss and the first epoch whose mean loss is within 5% of
//! the least-squares optimum, read from each run's `History`.
//!
//! Run it with `cargo run -p descent --release --example compare_optimizers`.

use descent::analysis::normal_equation::normal_equation;
use descent::data::{builtin, Columns, Scaling, TargetKind};
use descent::optim::OptimizerSpec;
use descent::RunSpec;

fn main() -> descent::Result<()> {
    // The loss gradient descent should reach: least squares in closed form (the scaling does
    // not change it, as the model has a bias).
    let data = builtin::load("diabetes", &Columns::default(), TargetKind::Real)?;
    let optimum = normal_equation(data.x.view(), data.y.view(), true)?.mse;
    let tolerance = 1.05 * optimum;
    println!("least-squares mse {optimum:.1}; tolerance {tolerance:.1}\n");

    let optimizers = [
        ("sgd", OptimizerSpec::new("sgd").with("lr", 0.01)),
        (
            "sgd, momentum 0.9",
            OptimizerSpec::new("sgd")
                .with("lr", 0.01)
                .with("momentum", 0.9),
        ),
        ("adam", OptimizerSpec::new("adam").with("lr", 1.0)),
    ];
    println!(
        "{:<18} {:>6} {:>12} {:>16}",
        "optimizer", "lr", "final loss", "epochs to tol."
    );
    let mut epochs_to_tolerance = Vec::new();
    for (label, optimizer) in optimizers {
        let lr = optimizer.lr()?;
        let spec = RunSpec::builtin("diabetes")
            .scale(Scaling::Standard)
            .optimizer_spec(optimizer)
            .batch(32)
            .epochs(100)
            .seed(3);
        let fitted = descent::fit(&spec)?;
        let reached = fitted.history.losses().iter().position(|&l| l <= tolerance);
        let reached = reached.map(|i| i + 1); // epochs count from 1
        println!(
            "{label:<18} {lr:>6} {:>12.1} {:>16}",
            fitted.report.train.loss,
            reached.map_or("-".to_string(), |e| e.to_string())
        );
        assert!(
            fitted.report.train.loss < tolerance,
            "{label} should converge"
        );
        epochs_to_tolerance.push(reached.unwrap_or(usize::MAX));
    }
    assert!(
        epochs_to_tolerance[1] < epochs_to_tolerance[0],
        "momentum should get there sooner than plain SGD at the same lr"
    );
    Ok(())
}
