//! Convergence table: every optimizer on a bowl, an ill-conditioned quadratic and Rosenbrock.
//!
//! Each row states the optimizer with its options, the function, the start, the number of steps
//! and the distance to the minimizer that must be reached. The hyper-parameters are chosen so
//! that each optimizer genuinely converges (not merely moves). Each tolerance is about ten times
//! the distance the row reaches (1e-12 where it reaches round-off), so that a broken update rule
//! fails the row; rows whose optimizer cannot get closer than a bound set by its lr (sign
//! descent, RMSprop, Adadelta) say so and use that bound.

use descent::optim::{GroupOptions, OptimizerSpec};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Function {
    /// f = x^2 + y^2, minimum at (0, 0).
    Bowl,
    /// f = (x^2 + 50 y^2) / 2 (Hessian diag(1, 50)), minimum at (0, 0).
    IllConditioned,
    /// f = (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1).
    Rosenbrock,
}

impl Function {
    fn gradient(self, v: &[f64]) -> [f64; 2] {
        let (x, y) = (v[0], v[1]);
        match self {
            Function::Bowl => [2.0 * x, 2.0 * y],
            Function::IllConditioned => [x, 50.0 * y],
            Function::Rosenbrock => [
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x),
            ],
        }
    }

    fn minimizer(self) -> [f64; 2] {
        match self {
            Function::Bowl | Function::IllConditioned => [0.0, 0.0],
            Function::Rosenbrock => [1.0, 1.0],
        }
    }
}

use Function::{Bowl, IllConditioned, Rosenbrock};

/// One row: optimizer name, options (torch names), function, steps, required distance.
struct Row {
    name: &'static str,
    options: Value,
    function: Function,
    start: [f64; 2],
    steps: usize,
    tolerance: f64,
}

fn row(
    name: &'static str,
    options: Value,
    function: Function,
    start: [f64; 2],
    steps: usize,
    tolerance: f64,
) -> Row {
    Row {
        name,
        options,
        function,
        start,
        steps,
        tolerance,
    }
}

fn table() -> Vec<Row> {
    vec![
        // Plain gradient descent: linear convergence on the quadratics (lr < 2/L), slow along
        // Rosenbrock's valley.
        row("sgd", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 100, 1e-8),
        row(
            "sgd",
            json!({"lr": 0.035}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "sgd",
            json!({"lr": 0.001}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            4e-3,
        ),
        row(
            "sgd",
            json!({"lr": 0.05, "momentum": 0.9}),
            Bowl,
            [3.0, -2.0],
            300,
            3e-6,
        ),
        row(
            "sgd",
            json!({"lr": 0.01, "momentum": 0.9}),
            IllConditioned,
            [3.0, 1.0],
            500,
            1e-10,
        ),
        row(
            "sgd",
            json!({"lr": 0.0005, "momentum": 0.9}),
            Rosenbrock,
            [-1.5, 2.0],
            10000,
            1e-8,
        ),
        row(
            "sgd",
            json!({"lr": 0.02, "momentum": 0.9, "nesterov": true}),
            IllConditioned,
            [3.0, 1.0],
            500,
            1e-12,
        ),
        row(
            "momentum-ema",
            json!({"lr": 0.1, "beta": 0.9}),
            Bowl,
            [3.0, -2.0],
            300,
            6e-6,
        ),
        row(
            "momentum-ema",
            json!({"lr": 0.03, "beta": 0.9}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "momentum-ema",
            json!({"lr": 0.001, "beta": 0.9}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            4e-3,
        ),
        row("adagrad", json!({"lr": 1.0}), Bowl, [3.0, -2.0], 300, 1e-12),
        row(
            "adagrad",
            json!({"lr": 1.0}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "adagrad",
            json!({"lr": 0.5}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            4e-4,
        ),
        // RMSprop with a constant lr ends up hovering within about lr of the minimum (its steps
        // are normalised by the recent gradient scale), so its tolerances are 2*lr.
        row(
            "rmsprop",
            json!({"lr": 0.001}),
            Bowl,
            [3.0, -2.0],
            5000,
            2e-3,
        ),
        row(
            "rmsprop",
            json!({"lr": 0.001}),
            IllConditioned,
            [3.0, 1.0],
            5000,
            2e-3,
        ),
        row(
            "rmsprop",
            json!({"lr": 0.001}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            2e-3,
        ),
        row("adam", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 1000, 1e-12),
        row(
            "adam",
            json!({"lr": 0.1}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "adam",
            json!({"lr": 0.02}),
            Rosenbrock,
            [-1.5, 2.0],
            10000,
            5e-5,
        ),
        row(
            "adam",
            json!({"lr": 0.1, "amsgrad": true}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        // Decoupled decay (default 1e-2) keeps the minimizer at the origin of the quadratics.
        row("adamw", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 1000, 1e-12),
        row(
            "adamw",
            json!({"lr": 0.1}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "adamw",
            json!({"lr": 0.02, "weight_decay": 0.0}),
            Rosenbrock,
            [-1.5, 2.0],
            10000,
            5e-5,
        ),
        row("adamax", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 1000, 1e-12),
        row(
            "adamax",
            json!({"lr": 0.1}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "adamax",
            json!({"lr": 0.02}),
            Rosenbrock,
            [-1.5, 2.0],
            10000,
            3e-5,
        ),
        row("nadam", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 1000, 1e-12),
        row(
            "nadam",
            json!({"lr": 0.1}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "nadam",
            json!({"lr": 0.005}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            5e-3,
        ),
        // RAdam starts with a few un-normalised momentum steps (rho_t <= 5), so Rosenbrock
        // needs a small lr to survive its steep walls.
        row("radam", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 1000, 1e-12),
        row(
            "radam",
            json!({"lr": 0.1}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-12,
        ),
        row(
            "radam",
            json!({"lr": 0.002}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            1e-6,
        ),
        // Adadelta hovers around the minimum of the ill-conditioned quadratic and crawls along
        // Rosenbrock's valley: the rows check that it gets there, at a looser distance.
        row(
            "adadelta",
            json!({"lr": 1.0}),
            Bowl,
            [3.0, -2.0],
            3000,
            1e-12,
        ),
        row(
            "adadelta",
            json!({"lr": 0.05}),
            IllConditioned,
            [3.0, 1.0],
            50000,
            1e-2,
        ),
        row(
            "adadelta",
            json!({"lr": 0.1}),
            Rosenbrock,
            [-1.5, 2.0],
            100000,
            0.5,
        ),
        row("asgd", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 200, 1e-12),
        row(
            "asgd",
            json!({"lr": 0.03}),
            IllConditioned,
            [3.0, 1.0],
            1000,
            1e-11,
        ),
        row(
            "asgd",
            json!({"lr": 0.001}),
            Rosenbrock,
            [-1.5, 2.0],
            20000,
            7e-3,
        ),
        row("rprop", json!({"lr": 0.1}), Bowl, [3.0, -2.0], 200, 5e-6),
        row(
            "rprop",
            json!({"lr": 0.1}),
            IllConditioned,
            [3.0, 1.0],
            200,
            8e-6,
        ),
        row(
            "rprop",
            json!({"lr": 0.01}),
            Rosenbrock,
            [-1.5, 2.0],
            5000,
            9e-3,
        ),
        // Sign descent moves every coordinate by exactly lr: it ends within lr*sqrt(2) of the
        // minimum (lr = 0.007 does not divide the start, so it cannot land on it exactly).
        row("sign", json!({"lr": 0.007}), Bowl, [3.0, -2.0], 600, 1e-2),
        row(
            "sign",
            json!({"lr": 0.007}),
            IllConditioned,
            [3.0, 1.0],
            600,
            1e-2,
        ),
        row(
            "sign",
            json!({"lr": 0.00003}),
            Rosenbrock,
            [-1.5, 2.0],
            200000,
            0.1,
        ),
    ]
}

/// Runs a row; returns the final distance to the minimizer.
fn run(r: &Row) -> f64 {
    let mut spec = OptimizerSpec::new(r.name);
    for (k, v) in r.options.as_object().expect("options are an object") {
        spec = spec.with(k, v.clone());
    }
    let lr = spec.lr().expect("lr");
    let mut opt = spec
        .build::<f64>(vec![(0..2, GroupOptions::default())])
        .unwrap_or_else(|e| panic!("{} {}: {e}", r.name, r.options));
    let mut v = r.start.to_vec();
    for _ in 0..r.steps {
        let g = r.function.gradient(&v);
        opt.step(lr, &mut v, &g);
    }
    let m = r.function.minimizer();
    ((v[0] - m[0]).powi(2) + (v[1] - m[1]).powi(2)).sqrt()
}

#[test]
fn every_optimizer_converges_on_every_function() {
    let mut failures = Vec::new();
    for r in table() {
        let d = run(&r);
        println!(
            "{:<13} {:<48} {:?} {:>6} steps: distance {d:.3e} (tolerance {:.0e})",
            r.name,
            r.options.to_string(),
            r.function,
            r.steps,
            r.tolerance
        );
        if d.is_nan() || d > r.tolerance {
            failures.push(format!(
                "{} {} on {:?}: distance {d:e} > {:e}",
                r.name, r.options, r.function, r.tolerance
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
