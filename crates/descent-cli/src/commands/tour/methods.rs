//! Lessons 7–13: the adaptive optimizers, moving averages, feature scaling, numerical
//! derivatives, the Newton step, saddle points and the normal equation.

use anyhow::{Context, Result};
use descent::analysis::optima::{optimal_gd, optimal_heavy_ball, Spectrum, Tuning};
use descent::analysis::{curvature, CurvatureConfig};
use descent::analysis::{
    ema, ema_corrected, gradcheck, loss_and_gradient, lr_bound, model_hessian, newton_step_1d,
    newton_step_objective, normal_equation, GradCheckConfig, PowerIteration,
};
use descent::data::Dataset;
use descent::loss::{accuracy, Loss};
use descent::nn::{Activation, ModelKind};
use descent::objective::{descend, Objective, Rosenbrock, Saddle};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::basics::{builtin, losses, sgd, with_features};
use super::Tour;
use crate::commands::surface;
use crate::optimizer_list::Entry;
use crate::plot::{ContourChart, LineChart, Marker, Path2d, Series};
use crate::prep::{scalar_names, train_config, Prepared};

/// 200 points in the square [-1, 1]², class 1 where x1·x2 > 0 (XOR: no line separates it).
fn xor_data() -> Result<Dataset> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let n = 200;
    let mut x = Array2::zeros((n, 2));
    let mut y = Array2::zeros((n, 1));
    for i in 0..n {
        let (a, b) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        x[[i, 0]] = a;
        x[[i, 1]] = b;
        y[[i, 0]] = if a * b > 0.0 { 1.0 } else { 0.0 };
    }
    let mut d = Dataset::new(x, y, vec!["x1".into(), "x2".into()], vec!["class".into()])?;
    d.classes = Some(vec!["0".into(), "1".into()]);
    Ok(d)
}

/// The 2-3-2-12-2 sigmoid network on the XOR points, with torch's initialisation (seed 0).
fn network() -> Result<Prepared> {
    let kind = ModelKind::Mlp {
        hidden: vec![3, 2, 12],
        activation: Activation::Sigmoid,
    };
    Prepared::from_dataset(
        "xor (200 points)",
        xor_data()?,
        kind,
        Loss::CrossEntropy,
        Init::Torch { seed: 0 },
    )
}

fn entry(label: &str, name: &str, lr: f64, momentum: Option<f64>) -> Entry {
    let mut spec = OptimizerSpec::new(name).with("lr", lr);
    if let Some(m) = momentum {
        spec = spec.with("momentum", m);
    }
    Entry {
        label: label.into(),
        spec,
        lr,
    }
}

/// The update rules of the optimizers of lesson 7, as PyTorch computes them (g the gradient,
/// η the lr, t the step from 1), in MathML.
const RULES: [(&str, &str); 5] = [
    ("gradient descent", "<math><mi>w</mi><mo>←</mo><mi>w</mi><mo>−</mo><mi>η</mi><mi>g</mi></math>"),
    ("momentum", "<math><mi>v</mi><mo>←</mo><mi>μ</mi><mi>v</mi><mo>+</mo><mi>g</mi><mo>,</mo><mspace width=\"1em\"/><mi>w</mi><mo>←</mo><mi>w</mi><mo>−</mo><mi>η</mi><mi>v</mi></math>"),
    ("AdaGrad", "<math><mi>G</mi><mo>←</mo><mi>G</mi><mo>+</mo><msup><mi>g</mi><mn>2</mn></msup><mo>,</mo><mspace width=\"1em\"/><mi>w</mi><mo>←</mo><mi>w</mi><mo>−</mo><mfrac><mi>η</mi><mrow><msqrt><mi>G</mi></msqrt><mo>+</mo><mi>ε</mi></mrow></mfrac><mi>g</mi></math>"),
    ("RMSProp (with momentum μ)", "<math><mi>s</mi><mo>←</mo><mi>α</mi><mi>s</mi><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>α</mi><mo>)</mo><msup><mi>g</mi><mn>2</mn></msup><mo>,</mo><mspace width=\"1em\"/><mi>b</mi><mo>←</mo><mi>μ</mi><mi>b</mi><mo>+</mo><mfrac><mi>g</mi><mrow><msqrt><mi>s</mi></msqrt><mo>+</mo><mi>ε</mi></mrow></mfrac><mo>,</mo><mspace width=\"1em\"/><mi>w</mi><mo>←</mo><mi>w</mi><mo>−</mo><mi>η</mi><mi>b</mi></math>"),
    ("Adam", "<math><mi>m</mi><mo>←</mo><msub><mi>β</mi><mn>1</mn></msub><mi>m</mi><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>β</mi><mn>1</mn></msub><mo>)</mo><mi>g</mi><mo>,</mo><mspace width=\"1em\"/><mi>v</mi><mo>←</mo><msub><mi>β</mi><mn>2</mn></msub><mi>v</mi><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>β</mi><mn>2</mn></msub><mo>)</mo><msup><mi>g</mi><mn>2</mn></msup><mo>,</mo><mspace width=\"1em\"/><mi>w</mi><mo>←</mo><mi>w</mi><mo>−</mo><mi>η</mi><mfrac><mrow><mi>m</mi><mo>/</mo><mo>(</mo><mn>1</mn><mo>−</mo><msubsup><mi>β</mi><mn>1</mn><mi>t</mi></msubsup><mo>)</mo></mrow><mrow><msqrt><mrow><mi>v</mi><mo>/</mo><mo>(</mo><mn>1</mn><mo>−</mo><msubsup><mi>β</mi><mn>2</mn><mi>t</mi></msubsup><mo>)</mo></mrow></msqrt><mo>+</mo><mi>ε</mi></mrow></mfrac></math>"),
];

pub fn optimizers(tour: &mut Tour) -> Result<()> {
    tour.lesson("Momentum, AdaGrad, RMSProp and Adam");
    let prep = network()?;
    let settings = [
        entry("momentum 0.6", "sgd", 0.1, Some(0.6)),
        entry("adagrad", "adagrad", 0.1, None),
        entry("rmsprop, momentum 0.8", "rmsprop", 0.01, Some(0.8)),
        entry("adam", "adam", 0.1, None),
    ];
    tour.say("A 2-3-2-12-2 network with sigmoid activations learns XOR on 200 points (mini-batches of 20, 200 epochs, the same start and batch order for all).");
    for (name, rule) in RULES {
        tour.maths(name, rule);
    }
    let config = train_config(200, "20", 0)?;
    let mut series = Vec::new();
    for e in &settings {
        let run = prep.train_with(&e.spec, &config)?;
        let params = Params::from_values(
            prep.model.layout(),
            run.path.last().context("path")?.clone(),
        )?;
        let out = prep.model.predict(&params, prep.data.x.view())?;
        let acc = accuracy(out.view(), prep.data.y.view());
        tour.say(format!(
            "{} (lr {}): final loss {:.4}, accuracy {:.1}%.",
            e.label,
            e.lr,
            run.final_loss,
            100.0 * acc
        ));
        series.push(losses(&format!("{} (lr {})", e.label, e.lr), &run));
    }
    tour.say("Deep sigmoid networks have tiny, uneven gradients; the adaptive methods scale each parameter's step by its own gradient history and get moving much sooner.");
    let chart = LineChart {
        title: "2-3-2-12-2 sigmoid network on XOR: loss per epoch",
        x_label: "epoch",
        y_label: "cross-entropy loss",
        series,
        legend_room: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "network")?;

    let f = Rosenbrock::default();
    let start = f.default_start();
    let rosen = [
        entry("momentum 0.6", "sgd", 0.001, Some(0.6)),
        entry("adagrad", "adagrad", 0.5, None),
        entry("rmsprop, momentum 0.8", "rmsprop", 0.001, Some(0.8)),
        entry("adam", "adam", 0.05, None),
    ];
    let trajectories = surface::descend_all(&f, &rosen, start, 1000)?;
    for (e, t) in rosen.iter().zip(&trajectories) {
        let p = t.points[t.points.len() - 1];
        tour.say(format!(
            "Rosenbrock, {} (lr {}): after 1000 steps at ({:.4}, {:.4}), f = {:.3e}.",
            e.label,
            e.lr,
            p[0],
            p[1],
            t.values[t.values.len() - 1]
        ));
    }
    tour.say("On the banana-shaped valley of Rosenbrock's function (minimum at (1, 1)) every method first falls into the valley, then crawls along its flat floor.");
    tour.command("descent surface --function rosenbrock --optimizers adagrad,adam --lr adagrad=0.5,adam=0.05 --steps 1000 --frames 30");
    tour.caption("The loss per epoch of the four optimizers on the XOR network.");
    let files = surface::draw(
        &f,
        &rosen,
        &trajectories,
        tour.out(),
        "lesson07_rosenbrock_",
        Some(30),
    )?;
    tour.caption("Rosenbrock's function (shading: f − min f, log scale) with 1000 steps of each optimizer; the black ring is the common start, each end carries its optimizer's marker.");
    tour.attach(&files[..2]);
    tour.caption(
        "The same trajectories drawn step by step (the step counter is in the top left corner).",
    );
    tour.attach(&files[2..]);
    Ok(())
}

/// The step number of the value at index `i`: the series and its averages count from
/// t = 1, as the EMA formulas do (`v_t` after the t-th value).
fn t_of(i: usize) -> f64 {
    (i + 1) as f64
}

pub fn moving_average(tour: &mut Tour) -> Result<()> {
    tour.lesson("The exponential moving average");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let clean: Vec<f64> = (0..200).map(|t| (t as f64 / 25.0).sin()).collect();
    let noisy: Vec<f64> = clean
        .iter()
        .map(|c| c + rng.random_range(-0.6..0.6))
        .collect();
    let rms = |v: &[f64]| {
        (v.iter()
            .zip(&clean)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / v.len() as f64)
            .sqrt()
    };
    tour.say(format!(
        "A sine wave plus uniform noise: the noisy series is off the sine by {:.3} (root mean square).",
        rms(&noisy)
    ));
    let mut series = vec![
        Series {
            name: "noisy series".into(),
            points: noisy
                .iter()
                .enumerate()
                .map(|(i, &v)| (t_of(i), v))
                .collect(),
        },
        Series {
            name: "true signal sin(t/25)".into(),
            points: clean
                .iter()
                .enumerate()
                .map(|(i, &v)| (t_of(i), v))
                .collect(),
        },
    ];
    for beta in [0.5, 0.9, 0.98] {
        let m = ema_corrected(&noisy, beta)?;
        tour.say(format!(
            "β = {beta} averages about the last 1/(1−β) = {:.0} points: off by {:.3}.",
            1.0 / (1.0 - beta),
            rms(&m)
        ));
        series.push(Series {
            name: format!("β = {beta} (bias-corrected)"),
            points: m.iter().enumerate().map(|(i, &v)| (t_of(i), v)).collect(),
        });
    }
    tour.say("A larger β smooths more but lags behind the signal: past a point the lag costs more than the noise it removes.");
    let raw = ema(&noisy, 0.98)?;
    // raw[t - 1] is v_t, the average after the t-th value.
    tour.say(format!(
        "Without bias correction the average starts at zero: at t = 10 (after the 10th value) the raw β = 0.98 average is {:.3}, the corrected one {:.3}. Adam corrects its averages the same way.",
        raw[9],
        ema_corrected(&noisy, 0.98)?[9]
    ));
    series.push(Series {
        name: "β = 0.98 without correction".into(),
        points: raw.iter().enumerate().map(|(i, &v)| (t_of(i), v)).collect(),
    });
    let chart = LineChart {
        title: "exponential moving averages of a noisy series",
        x_label: "t",
        y_label: "value",
        series,
        thin_first: true,
        ..LineChart::default()
    };
    tour.caption("A noisy sine (thin grey), the sine itself, and its moving averages for three β.");
    tour.figure(&chart, "ema")?;
    let (raw9, cor9) = (ema(&noisy, 0.9)?, ema_corrected(&noisy, 0.9)?);
    tour.say(format!(
        "At β = 0.9 the first average is v₁ = 0.1·x₁ = {:.3} against x₁ = {:.3}; dividing by 1 − 0.9ᵗ gives {:.3}. By t = 30 the two differ by {:.1e}: the correction matters for the first few dozen steps only.",
        raw9[0], noisy[0], cor9[0], (raw9[29] - cor9[29]).abs()
    ));
    tour.maths("exponential moving average", "<math><msub><mi>v</mi><mi>t</mi></msub><mo>=</mo><mi>β</mi><msub><mi>v</mi><mrow><mi>t</mi><mo>−</mo><mn>1</mn></mrow></msub><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><mi>β</mi><mo>)</mo><msub><mi>x</mi><mi>t</mi></msub><mo>,</mo><mspace width=\"1em\"/><msub><mi>v</mi><mn>0</mn></msub><mo>=</mo><mn>0</mn><mo>,</mo><mspace width=\"1em\"/><msub><mover><mi>v</mi><mo>^</mo></mover><mi>t</mi></msub><mo>=</mo><mfrac><msub><mi>v</mi><mi>t</mi></msub><mrow><mn>1</mn><mo>−</mo><msup><mi>β</mi><mi>t</mi></msup></mrow></mfrac></math>");
    let first = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .take(40)
            .enumerate()
            .map(|(i, &x)| (t_of(i), x))
            .collect()
    };
    let chart = LineChart {
        title: "β = 0.9 with and without bias correction",
        x_label: "t",
        y_label: "value",
        series: vec![
            Series {
                name: "noisy series".into(),
                points: first(&noisy),
            },
            Series {
                name: "true signal sin(t/25)".into(),
                points: first(&clean),
            },
            Series {
                name: "β = 0.9, bias-corrected".into(),
                points: first(&cor9),
            },
            Series {
                name: "β = 0.9, no correction (starts at 0)".into(),
                points: first(&raw9),
            },
        ],
        thin_first: true,
        ..LineChart::default()
    };
    tour.caption("The first 40 steps at β = 0.9: without correction the average starts near 0 and lags; the corrected one follows the signal from the start.");
    tour.figure(&chart, "ema_bias")
}

pub fn scaling(tour: &mut Tour) -> Result<()> {
    tour.lesson("Feature scaling");
    tour.say("Linear regression of diabetes progression on body-mass index (w, b), batch gradient descent with lr 1/λmax (half the stable bound) for 100 epochs.");
    for (scale, label) in [("none", "raw"), ("standard", "standardized")] {
        let prep = with_features("diabetes", "linear", None, scale, Some(vec!["bmi".into()]))?;
        let (x, y) = (prep.data.x.view(), prep.data.y.view());
        let b = lr_bound(x, true, &PowerIteration::default())?;
        let lr = b.lr_max_stable / 2.0;
        let run = prep.train_with(&sgd(lr), &train_config(100, "full", 0)?)?;
        let ls = normal_equation(x, y, true)?;
        let opt = ls.to_flat();
        tour.say(format!(
            "{label} bmi: condition number {:.1}, lr {:.3e}; after 100 epochs the loss is {:.2} against the optimum {:.2}.",
            b.condition_number, lr, run.final_loss, ls.mse
        ));
        let c = curvature(x, true, 1, &CurvatureConfig::default())?;
        if let Some(s) = Spectrum::of(&c) {
            let (gd, hb) = (optimal_gd(&s), optimal_heavy_ball(&s));
            let steps = |t: &Tuning| match t.iterations(1e-3) {
                Some(1) => "1 step".to_string(),
                Some(n) => format!("{n} steps"),
                None => "no finite number of steps".to_string(),
            };
            tour.say(format!(
                "The theory for this bowl (λmin {:.4}, λmax {:.4}): the fastest fixed step, lr = 2/(λmax+λmin) = {:.4}, shrinks the error by (κ−1)/(κ+1) = {:.4} a step ({} for a thousandfold); the best heavy ball, lr = (2/(√λmax+√λmin))² = {:.4} with momentum ((√κ−1)/(√κ+1))² = {:.4}, by (√κ−1)/(√κ+1) = {:.4} ({}). ",
                s.lambda_min, s.lambda_max, gd.lr, gd.rate, steps(&gd), hb.lr, hb.momentum, hb.rate, steps(&hb)
            ));
        }
        tour.command(&format!(
            "descent analyze --data builtin:diabetes --features bmi --scale {scale}"
        ));
        let title = format!(
            "{label} feature: condition number {:.1}",
            b.condition_number
        );
        tour.caption(&format!("The loss over (w, b) for the {label} feature, drawn at equal scale on both axes, with 100 steps of gradient descent."));
        let path = Path2d {
            name: format!("sgd (lr {lr:.3e})"),
            points: run.path.iter().map(|p| (p[0], p[1])).collect(),
        };
        tour.least_squares_contour(&prep, &title, vec![path], &opt, &format!("contour_{label}"))?;
    }
    tour.say("Raw, the valley is long and narrow: a step small enough for its steep walls barely moves along its floor. Standardized, the contours are circles and one step lands near the optimum.");
    Ok(())
}

pub fn derivatives(tour: &mut Tour) -> Result<()> {
    tour.lesson("Numerical against analytic derivatives");
    let prep = network()?;
    let params = prep.params()?;
    let (x, y) = (prep.data.x.view(), prep.data.y.view());
    let check = gradcheck(
        &prep.model,
        prep.loss,
        &params,
        x,
        y,
        &GradCheckConfig::default(),
    )?;
    tour.say(format!(
        "Backpropagation through the 2-3-2-12-2 network against central differences with h = 1e-6: the largest relative error over its {} parameters is {:.2e}.",
        params.len(),
        check.max_rel
    ));
    let (_, g) = loss_and_gradient(&prep.model, prep.loss, &params, x, y)?;
    // The parameter with the largest gradient: its error curve is the clearest.
    let i = (0..g.len())
        .max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))
        .context("the network has parameters")?;
    let at = |v: f64| -> Result<f64> {
        let mut p = params.values.clone();
        p[i] = v;
        prep.loss_at(&p)
    };
    let (p0, f0) = (params.values[i], prep.loss_at(&params.values)?);
    let (mut central, mut forward) = (Vec::new(), Vec::new());
    for k in 2..=26 {
        let h = 10f64.powf(-(k as f64) / 2.0);
        let c = (at(p0 + h)? - at(p0 - h)?) / (2.0 * h);
        let f = (at(p0 + h)? - f0) / h;
        central.push((h, (c - g[i]).abs()));
        forward.push((h, (f - g[i]).abs()));
    }
    let best = |v: &[(f64, f64)]| {
        v.iter()
            .copied()
            .filter(|p| p.1 > 0.0)
            .fold(
                (f64::NAN, f64::INFINITY),
                |a, p| if p.1 < a.1 { p } else { a },
            )
    };
    let (bc, bf) = (best(&central), best(&forward));
    tour.say(format!(
        "For {} (the largest gradient, {:.4}), the forward difference (f(p+h) − f(p))/h is at best {:.1e} off (at h = {:.0e}); the central difference is at best {:.1e} off (at h = {:.0e}).",
        scalar_names(&params.layout, &prep.data.feature_names)[i],
        g[i],
        bf.1,
        bf.0,
        bc.1,
        bc.0
    ));
    tour.say("Shrinking h helps until rounding takes over: the error falls like h (forward) or h² (central), then grows like 1/h.");
    let chart = LineChart {
        title: "finite-difference error against step h",
        x_label: "h (log scale)",
        y_label: "|numeric − analytic| (log scale)",
        series: vec![
            Series {
                name: "central difference".into(),
                points: central,
            },
            Series {
                name: "forward difference".into(),
                points: forward,
            },
        ],
        log_x: true,
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "fd_error")
}

pub fn newton(tour: &mut Tour) -> Result<()> {
    tour.lesson("The Newton step against the gradient step");
    let prep = builtin("classic", "linear-nobias", Some("1.0"), "none")?;
    let params = prep.params()?;
    let (x, y) = (prep.data.x.view(), prep.data.y.view());
    let (_, g) = loss_and_gradient(&prep.model, prep.loss, &params, x, y)?;
    let h = model_hessian(&prep.model, prep.loss, &params, x, y, 1e-4)?;
    let w = params.values[0] - newton_step_1d(g[0], h[[0, 0]])?;
    let mut v = params.values[0];
    let mut steps = 0;
    while (v - 2.0).abs() > 1e-6 && steps < 100_000 {
        let (_, g) = loss_and_gradient(
            &prep.model,
            prep.loss,
            &Params::from_values(prep.model.layout(), vec![v])?,
            x,
            y,
        )?;
        v -= 0.01 * g[0];
        steps += 1;
    }
    tour.say(format!(
        "On the classic data one Newton step w ← w − L'(w)/L''(w) from w = 1 lands on w = {w:.12} (L'' = {:.4}); gradient steps with lr 0.01 need {steps} to get within 1e-6 of 2.",
        h[[0, 0]]
    ));
    let f = Rosenbrock::default();
    let start = f.default_start();
    let mut newton_path = vec![start];
    let mut p = start;
    for _ in 0..20 {
        p = newton_step_objective(&f, p)?;
        newton_path.push(p);
        let gr = f.gradient(p);
        if gr[0].hypot(gr[1]) < 1e-12 {
            break;
        }
    }
    let mut opt = OptimizerSpec::new("sgd")
        .with("lr", 1e-3)
        .build::<f64>(vec![(0..2, GroupOptions::default())])?;
    let gd = descend(&f, opt.as_mut(), 1e-3, start, 1000);
    let end = gd.points[gd.points.len() - 1];
    tour.say(format!(
        "On Rosenbrock's function Newton's method reaches ({:.6}, {:.6}) in {} steps, using the Hessian; 1000 gradient steps with lr 0.001 end at ({:.4}, {:.4}), f = {:.3e}.",
        p[0], p[1], newton_path.len() - 1, end[0], end[1], gd.values[gd.values.len() - 1]
    ));
    tour.say("Each Newton step costs a Hessian solve, affordable for 2 parameters, not for millions: that is why deep learning uses gradient steps.");
    let mut traj = gd.clone();
    traj.points.extend(newton_path.iter().copied());
    let field = surface::view_field(&f, std::slice::from_ref(&traj));
    let within = |q: &[f64; 2]| {
        (field.x.0..=field.x.1).contains(&q[0]) && (field.y.0..=field.y.1).contains(&q[1])
    };
    let chart = ContourChart {
        title: "Rosenbrock: Newton steps against gradient steps",
        x_label: "x",
        y_label: "y",
        field: &field,
        paths: vec![
            Path2d {
                name: "sgd (lr 0.001, 1000 steps)".into(),
                points: gd
                    .points
                    .iter()
                    .take_while(|q| within(q))
                    .map(|q| (q[0], q[1]))
                    .collect(),
            },
            Path2d {
                name: format!("newton ({} steps)", newton_path.len() - 1),
                points: newton_path
                    .iter()
                    .filter(|q| within(q))
                    .map(|q| (q[0], q[1]))
                    .collect(),
            },
        ],
        markers: vec![Marker {
            name: "minimum".into(),
            points: vec![(1.0, 1.0)],
        }],
        dots: Vec::new(),
        boundaries: Vec::new(),
        equal_aspect: false,
        note: None,
        regions: None,
    };
    tour.figure(&chart, "newton")
}

pub fn saddle(tour: &mut Tour) -> Result<()> {
    tour.lesson("A saddle point");
    let f = Saddle;
    let start = [1.0, 1e-3];
    let entries = [
        entry("sgd", "sgd", 0.01, None),
        entry("momentum 0.9", "sgd", 0.01, Some(0.9)),
    ];
    let trajectories = surface::descend_all(&f, &entries, start, 100)?;
    tour.say("f(x, y) = x² − y² curves up along x and down along y; (0, 0) is a saddle point where the gradient vanishes but nothing is minimal. Both methods start at (1, 0.001) with lr 0.01.");
    for (e, t) in entries.iter().zip(&trajectories) {
        let p = t.points[t.points.len() - 1];
        tour.say(format!(
            "{} after 100 steps: ({:.4}, {:.4}), f = {:.4}.",
            e.label,
            p[0],
            p[1],
            t.values[t.values.len() - 1]
        ));
    }
    tour.say("Plain gradient descent slides into the saddle and stalls there, its y growing by only 2% a step; momentum builds speed along the escape direction and leaves.");
    let files = surface::draw(
        &f,
        &entries,
        &trajectories,
        tour.out(),
        "lesson12_saddle_",
        Some(25),
    )?;
    tour.command("descent surface --function saddle --optimizers sgd,momentum --lr 0.01 --start 1,0.001 --steps 100 --frames 25");
    tour.caption("f(x, y) = x² − y² with 100 steps of each method from (1, 0.001): gradient descent (wide, under) stalls near the saddle; momentum 0.9 (on top) leaves along y.");
    tour.attach(&files[..2]);
    tour.caption("The same paths step by step.");
    tour.attach(&files[2..]);
    Ok(())
}

pub fn closed_form(tour: &mut Tour) -> Result<()> {
    tour.lesson("The normal equation against gradient descent");
    let prep = builtin("diabetes", "linear", None, "standard")?;
    let (x, y) = (prep.data.x.view(), prep.data.y.view());
    let ls = normal_equation(x, y, true)?;
    let opt = ls.to_flat();
    let b = lr_bound(x, true, &PowerIteration::default())?;
    let run = prep.train_with(&sgd(b.lr_best), &train_config(2000, "full", 0)?)?;
    let mut gap = Vec::new();
    let mut dist = Vec::new();
    for (k, p) in run.path.iter().enumerate() {
        gap.push((k as f64, prep.loss_at(p)? - ls.mse));
        let d: f64 = p
            .iter()
            .zip(&opt)
            .map(|(a, o)| (a - o).powi(2))
            .sum::<f64>()
            .sqrt();
        dist.push((k as f64, d));
    }
    let reached = gap
        .iter()
        .find(|g| g.1 <= 1e-3 * ls.mse)
        .map(|g| g.0 as usize);
    tour.say(format!(
        "Diabetes, 10 standardized features: the normal equation solves for all 11 parameters at once, MSE {:.4}.",
        ls.mse
    ));
    tour.say(format!(
        "Gradient descent (lr {:.4}, condition number {:.0}) gets within 0.1% of it at epoch {}; after 2000 epochs the loss gap is {:.3e} and the distance to the optimum {:.3e}.",
        b.lr_best,
        b.condition_number,
        reached.map_or("-".to_string(), |k| k.to_string()),
        gap[gap.len() - 1].1,
        dist[dist.len() - 1].1
    ));
    tour.say("The closed form is exact and fast for least squares with few features; gradient descent is what still works when the model is not linear or the data do not fit in memory.");
    let chart = LineChart {
        title: "gradient descent approaching the normal-equation loss",
        x_label: "epoch",
        y_label: "loss − optimal loss (log scale)",
        series: vec![Series {
            name: "loss − optimal loss".into(),
            points: gap,
        }],
        log_y: true,
        ..LineChart::default()
    };
    tour.caption("The loss above the least-squares optimum per epoch.");
    tour.figure(&chart, "gap")?;
    let chart = LineChart {
        title: "gradient descent approaching the normal-equation parameters",
        x_label: "epoch",
        y_label: "distance ‖w − w*‖ (log scale)",
        series: vec![Series {
            name: "distance to the optimal parameters".into(),
            points: dist,
        }],
        log_y: true,
        ..LineChart::default()
    };
    tour.caption("The Euclidean distance of the parameters from the normal-equation solution per epoch: it falls more slowly than the loss gap, along the flat directions of the bowl.");
    tour.figure(&chart, "distance")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_value_is_t_1() {
        assert_eq!(super::t_of(0), 1.0);
        assert_eq!(super::t_of(9), 10.0);
    }
}
