//! The stability bounds and optimal settings of `analysis::{bounds, optima}` checked by
//! training: the library's own optimizers (built from `OptimizerSpec`, stepped with full-batch
//! gradients from `analysis::loss_and_gradient`) on small generated least-squares problems.
//!
//! - Each SGD form converges at 0.99x its bound and diverges at 1.01x; and for each form a
//!   plausible wrong formula (the heavy-ball bound for Nesterov, `2/λ_max` for momentum, no
//!   weight decay, one target instead of three, ...) fails the same test, so the test can
//!   tell the formulas apart.
//! - At the optimal fixed step, the optimal heavy ball and the best lr for a given momentum,
//!   the error contracts at the predicted rate.

use descent::analysis::{
    best_lr_for_momentum, curvature, loss_and_gradient, optimal_gd, optimal_heavy_ball,
    stable_lr_of, CurvatureConfig, Spectrum, StableLr,
};
use descent::loss::Loss;
use descent::nn::{ModelKind, Sequential};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Problem {
    model: Sequential,
    x: Array2<f64>,
    y: Array2<f64>,
    bias: bool,
    targets: usize,
    /// For a designed problem: the eigenvectors of H, one per column, in the order of the
    /// eigenvalues given.
    eigenvectors: Option<Array2<f64>>,
}

/// 40 rows, 4 features of different scales and a bias, `targets` noisy linear targets.
fn problem(targets: usize, seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (n, d) = (40, 4);
    let scales = [1.0, 0.5, 2.0, 0.3];
    let x = Array2::from_shape_fn((n, d), |(_, j)| {
        scales[j] * rng.random_range(-1.0..1.0) + 0.2
    });
    let w: Vec<f64> = (0..d * targets)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    let y = Array2::from_shape_fn((n, targets), |(i, t)| {
        (0..d).map(|j| w[t * d + j] * x[[i, j]]).sum::<f64>()
            + 0.5
            + 0.1 * rng.random_range(-1.0..1.0)
    });
    Problem {
        model: ModelKind::Linear.build(d, targets).unwrap(),
        x,
        y,
        bias: true,
        targets,
        eigenvectors: None,
    }
}

/// How a full-batch run ended: the length of the first and last steps, the loss before and
/// after, and whether the iterates blew up (non-finite or a step 1e6 times the first).
#[derive(Debug)]
struct Run {
    first_step: f64,
    last_step: f64,
    loss_start: f64,
    loss_end: f64,
    blew_up: bool,
}

impl Run {
    /// The iterates settle: the last step is 1e-6 of the first and the loss fell.
    fn converged(&self) -> bool {
        !self.blew_up && self.last_step <= 1e-6 * self.first_step && self.loss_end < self.loss_start
    }
}

const STEPS: usize = 4000;

fn train(pb: &Problem, spec: &OptimizerSpec, lr: f64, init: &[f64]) -> Run {
    let mut params = Params::<f64>::init(pb.model.layout(), &Init::Zeros).unwrap();
    params.values.copy_from_slice(init);
    let n = params.len();
    let mut opt = spec
        .clone()
        .with("lr", lr)
        .build::<f64>(vec![(0..n, GroupOptions::default())])
        .unwrap();
    let grad = |p: &Params<f64>| {
        loss_and_gradient(&pb.model, Loss::Mse, p, pb.x.view(), pb.y.view()).unwrap()
    };
    let (loss_start, _) = grad(&params);
    let mut run = Run {
        first_step: 0.0,
        last_step: 0.0,
        loss_start,
        loss_end: loss_start,
        blew_up: false,
    };
    for t in 0..STEPS {
        let (_, g) = grad(&params);
        let before = params.values.clone();
        opt.step(lr, &mut params.values, &g);
        let step = before
            .iter()
            .zip(&params.values)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        if t == 0 {
            run.first_step = step;
        }
        run.last_step = step;
        if !step.is_finite() || step > 1e6 * run.first_step {
            run.blew_up = true;
            return run;
        }
    }
    run.loss_end = grad(&params).0;
    run
}

struct Form {
    name: &'static str,
    spec: OptimizerSpec,
    targets: usize,
    /// A plausible wrong bound from `λ_max` (of the right target count) and `λ_max` of one
    /// target, which the test must reject.
    wrong: fn(f64, f64) -> f64,
}

fn forms() -> Vec<Form> {
    let sgd = || OptimizerSpec::new("sgd");
    vec![
        Form {
            name: "gd",
            spec: sgd(),
            targets: 1,
            wrong: |l, _| 1.0 / l,
        },
        Form {
            name: "heavy ball μ 0.7",
            spec: sgd().with("momentum", 0.7),
            targets: 1,
            wrong: |l, _| 2.0 / l,
        },
        Form {
            name: "nesterov μ 0.7",
            spec: sgd().with("momentum", 0.7).with("nesterov", true),
            targets: 1,
            // The heavy-ball bound 2 (1 + μ)/λ_max, and plain 2/λ_max, are both too large.
            wrong: |l, _| 2.0 / l,
        },
        Form {
            name: "nesterov as heavy ball",
            spec: sgd().with("momentum", 0.7).with("nesterov", true),
            targets: 1,
            wrong: |l, _| 2.0 * 1.7 / l,
        },
        Form {
            name: "dampening 0.5, μ 0.6",
            spec: sgd().with("momentum", 0.6).with("dampening", 0.5),
            targets: 1,
            wrong: |l, _| 2.0 * 1.6 / l,
        },
        Form {
            name: "momentum-ema β 0.9",
            spec: OptimizerSpec::new("momentum-ema").with("beta", 0.9),
            targets: 1,
            wrong: |l, _| 2.0 * 1.9 / l,
        },
        Form {
            name: "weight decay 3, μ 0.5",
            spec: sgd().with("momentum", 0.5).with("weight_decay", 3.0),
            targets: 1,
            wrong: |l, _| 2.0 * 1.5 / l,
        },
        Form {
            name: "nesterov μ 0.5, weight decay 2",
            spec: sgd()
                .with("momentum", 0.5)
                .with("nesterov", true)
                .with("weight_decay", 2.0),
            targets: 1,
            wrong: |l, _| 2.0 * 1.5 / (2.0 * l),
        },
        Form {
            name: "k = 3 targets, μ 0.3",
            spec: sgd().with("momentum", 0.3),
            targets: 3,
            wrong: |_, l1| 2.0 * 1.3 / l1,
        },
    ]
}

#[test]
fn each_sgd_form_converges_below_its_bound_and_diverges_above() {
    for f in forms() {
        let pb = problem(f.targets, 7);
        let c = curvature(
            pb.x.view(),
            pb.bias,
            pb.targets,
            &CurvatureConfig::default(),
        )
        .unwrap();
        let one = curvature(pb.x.view(), pb.bias, 1, &CurvatureConfig::default()).unwrap();
        let bound = match stable_lr_of(&f.spec, &c).unwrap() {
            StableLr::Bound(b) => b,
            other => panic!("{}: {other:?}", f.name),
        };
        let n = pb.model.layout().len();
        // A start away from the solution along every direction.
        let init: Vec<f64> = (0..n).map(|i| 1.0 - 0.3 * i as f64).collect();
        let below = train(&pb, &f.spec, 0.99 * bound, &init);
        let above = train(&pb, &f.spec, 1.01 * bound, &init);
        println!(
            "{:>30}: bound {bound:.6} (λ_max {:.4}, κ {:.1}); 0.99x: last/first step {:.1e}, \
             loss {:.4} -> {:.4}; 1.01x: blew up {}",
            f.name,
            c.lambda_max,
            c.condition_number.unwrap(),
            below.last_step / below.first_step,
            below.loss_start,
            below.loss_end,
            above.blew_up
        );
        assert!(below.converged(), "{} at 0.99x: {below:?}", f.name);
        assert!(above.blew_up, "{} at 1.01x: {above:?}", f.name);

        // The same test rejects the wrong formula: too large a bound diverges at 0.99x, too
        // small a bound converges at 1.01x.
        let wrong = (f.wrong)(c.lambda_max, one.lambda_max);
        assert!(
            (wrong / bound - 1.0).abs() > 0.05,
            "{}: {wrong} vs {bound}",
            f.name
        );
        if wrong > bound {
            let r = train(&pb, &f.spec, 0.99 * wrong, &init);
            assert!(
                r.blew_up,
                "{}: the wrong bound {wrong} passed: {r:?}",
                f.name
            );
        } else {
            let r = train(&pb, &f.spec, 1.01 * wrong, &init);
            assert!(
                r.converged(),
                "{}: the wrong bound {wrong} passed: {r:?}",
                f.name
            );
        }
    }
}

#[test]
fn adaptive_optimizers_have_no_bound() {
    let pb = problem(1, 7);
    let c = curvature(pb.x.view(), pb.bias, 1, &CurvatureConfig::default()).unwrap();
    for name in [
        "adam", "adamw", "rmsprop", "adagrad", "nadam", "radam", "adadelta", "rprop",
    ] {
        let s = stable_lr_of(&OptimizerSpec::new(name), &c).unwrap();
        assert!(matches!(s, StableLr::NotApplicable { .. }), "{name}: {s:?}");
    }
}

/// A no-bias problem with a chosen spectrum: `x = U S Vᵀ` (orthonormal `U`, `V` from
/// Gram-Schmidt on random matrices) with `2 s_i² / n = λ_i`; targets 0, so the minimizer is
/// 0 and the parameters are the error, which can shrink to 1e-200 without a rounding floor.
fn designed(lambdas: &[f64], seed: u64) -> Problem {
    let (n, d) = (30, lambdas.len());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let orthonormal = |rows: usize, rng: &mut ChaCha8Rng| {
        let mut q: Array2<f64> = Array2::from_shape_fn((rows, d), |_| rng.random_range(-1.0..1.0));
        for j in 0..d {
            for _ in 0..2 {
                for i in 0..j {
                    let c = q.column(i).dot(&q.column(j));
                    let qi = q.column(i).to_owned();
                    q.column_mut(j).scaled_add(-c, &qi);
                }
            }
            let norm = q.column(j).dot(&q.column(j)).sqrt();
            q.column_mut(j).mapv_inplace(|v| v / norm);
        }
        q
    };
    let u = orthonormal(n, &mut rng);
    let v = orthonormal(d, &mut rng);
    let s: Vec<f64> = lambdas
        .iter()
        .map(|l| (l * n as f64 / 2.0).sqrt())
        .collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        (0..d).map(|m| u[[i, m]] * s[m] * v[[j, m]]).sum()
    });
    Problem {
        model: ModelKind::LinearNobias.build(d, 1).unwrap(),
        x,
        y: Array2::zeros((n, 1)),
        bias: false,
        targets: 1,
        eigenvectors: Some(v),
    }
}

/// `‖p_t‖` for t = 0..=steps under `spec` at `lr` from `start`, or p = (1, ..., 1).
fn error_norms(
    pb: &Problem,
    spec: &OptimizerSpec,
    lr: f64,
    steps: usize,
    start: Option<&[f64]>,
) -> Vec<f64> {
    let mut params = Params::<f64>::init(pb.model.layout(), &Init::Constant(1.0)).unwrap();
    if let Some(p) = start {
        params.values.copy_from_slice(p);
    }
    let n = params.len();
    let mut opt = spec
        .clone()
        .with("lr", lr)
        .build::<f64>(vec![(0..n, GroupOptions::default())])
        .unwrap();
    let norm = |p: &[f64]| p.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut out = vec![norm(&params.values)];
    for _ in 0..steps {
        let (_, g) =
            loss_and_gradient(&pb.model, Loss::Mse, &params, pb.x.view(), pb.y.view()).unwrap();
        opt.step(lr, &mut params.values, &g);
        out.push(norm(&params.values));
    }
    out
}

/// The per-step rate over `[t1, t2]`, after dividing out a polynomial factor `t^power` (the
/// double root of the optimal heavy ball makes the error decay as `t · rate^t`).
fn measured_rate(e: &[f64], t1: usize, t2: usize, power: i32) -> f64 {
    let poly = (t2 as f64 / t1 as f64).powi(power);
    (e[t2] / e[t1] / poly).powf(1.0 / (t2 - t1) as f64)
}

#[test]
fn the_error_contracts_at_the_predicted_rates() {
    // κ = 400; the inner eigenvalues are far from both ends, so that after t1 steps only the
    // extreme directions are left in the error.
    let lambdas = [0.1, 1.0, 5.0, 20.0, 40.0];
    let pb = designed(&lambdas, 3);
    let c = curvature(pb.x.view(), false, 1, &CurvatureConfig::default()).unwrap();
    let rel = |a: f64, b: f64| (a - b).abs() / b;
    assert!(rel(c.lambda_max, 40.0) < 1e-13 && rel(c.lambda_min.unwrap(), 0.1) < 1e-12);
    let s = Spectrum::of(&c).unwrap();
    let sgd = OptimizerSpec::new("sgd");

    // Optimal fixed step: both extreme directions shrink by exactly (κ-1)/(κ+1) per step, the
    // next ones by at most 0.951, so the ratio over [500, 1500] is the rate to ~1e-13;
    // tolerance 1e-10.
    let gd = optimal_gd(&s);
    let e = error_norms(&pb, &sgd, gd.lr, 1500, None);
    let r = measured_rate(&e, 500, 1500, 0);
    println!("gd: rate {:.12} measured {r:.12}", gd.rate);
    assert!(rel(r, gd.rate) < 1e-10, "{r} vs {}", gd.rate);
    // The predicted iterations to 1e-8 of the start are an upper bound for plain GD
    // (‖e_t‖ ≤ rate^t ‖e_0‖) and exact, to one step, for the worst start: one in the span of
    // the two extreme eigenvectors, which both shrink by exactly the rate.
    let predicted = gd.iterations(1e-8).unwrap() as usize;
    let reached = |start: Option<&[f64]>| {
        let e = error_norms(&pb, &sgd, gd.lr, predicted + 2, start);
        e.iter().position(|&v| v <= 1e-8 * e[0]).unwrap()
    };
    let v = pb.eigenvectors.as_ref().unwrap();
    let worst: Vec<f64> = (0..lambdas.len()).map(|i| v[[i, 0]] + v[[i, 4]]).collect();
    let (any, extreme) = (reached(None), reached(Some(&worst)));
    println!("gd: 1e-8 after {any} steps from (1, ..), {extreme} from the worst start; predicted {predicted}");
    assert!(any <= predicted, "{any} vs {predicted}");
    assert!(extreme.abs_diff(predicted) <= 1, "{extreme} vs {predicted}");

    // Optimal heavy ball: complex roots of modulus (√κ-1)/(√κ+1) = 19/21 inside, double
    // roots at both ends, so ‖e_t‖ ≈ C t rate^t. Dividing out t leaves an O(1/t1) error in
    // the ratio, i.e. ~1e-6 in the rate; tolerance 1e-5.
    let hb = optimal_heavy_ball(&s);
    assert!(rel(hb.rate, 19.0 / 21.0) < 1e-12);
    let spec = sgd.clone().with("momentum", hb.momentum);
    let e = error_norms(&pb, &spec, hb.lr, 1500, None);
    let r = measured_rate(&e, 500, 1500, 1);
    println!(
        "heavy ball: lr {:.6} momentum {:.6} rate {:.9} measured {r:.9} (without the t factor {:.9})",
        hb.lr,
        hb.momentum,
        hb.rate,
        measured_rate(&e, 500, 1500, 0)
    );
    assert!(rel(r, hb.rate) < 1e-5, "{r} vs {}", hb.rate);
    // Momentum beats the fixed step by far: 1e-8 in about 200 steps instead of 3700.
    assert!(e[250] < 1e-8 * e[0], "{}", e[250] / e[0]);

    // The best lr for momentum 0.5: real roots at both ends (rate 0.98480...), no double
    // root, so the measurement is as clean as for plain GD; tolerance 1e-10.
    let t = best_lr_for_momentum(&s, 0.5).unwrap();
    let e = error_norms(&pb, &sgd.clone().with("momentum", 0.5), t.lr, 1500, None);
    let r = measured_rate(&e, 500, 1500, 0);
    println!(
        "momentum 0.5: lr {:.6} rate {:.12} measured {r:.12}",
        t.lr, t.rate
    );
    assert!(rel(r, t.rate) < 1e-10, "{r} vs {}", t.rate);
    // And it is the best lr for that momentum: 2% either side is slower.
    for factor in [0.98, 1.02] {
        let e = error_norms(
            &pb,
            &sgd.clone().with("momentum", 0.5),
            factor * t.lr,
            1500,
            None,
        );
        assert!(
            measured_rate(&e, 500, 1500, 0) > t.rate * (1.0 + 1e-6),
            "{factor}"
        );
    }
}
