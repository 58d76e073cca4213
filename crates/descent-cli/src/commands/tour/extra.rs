//! Lessons 14–16: fixed-step (sign) descent, local against global minima, and the derivative
//! by its definition against the derivative by the rules.

use anyhow::{Context, Result};
use descent::analysis::loss_and_gradient;
use descent::params::Params;

use super::basics::builtin;
use super::Tour;
use crate::plot::{LineChart, Marker, Series};

/// The gradient of the classic data's loss at `w` (the model y = w·x, mean squared error).
fn classic_gradient(w: f64) -> Result<f64> {
    let prep = builtin("classic", "linear-nobias", Some("1.0"), "none")?;
    let p = Params::from_values(prep.model.layout(), vec![w])?;
    let (_, g) = loss_and_gradient(
        &prep.model,
        prep.loss,
        &p,
        prep.data.x.view(),
        prep.data.y.view(),
    )?;
    Ok(g[0])
}

pub fn sign_descent(tour: &mut Tour) -> Result<()> {
    tour.lesson("Fixed-step (sign) descent");
    let (eta, steps) = (0.3, 20);
    let (mut sign, mut plain) = (vec![0.0f64], vec![0.0f64]);
    for _ in 0..steps {
        let w = *sign.last().context("a start")?;
        sign.push(w - eta * classic_gradient(w)?.signum());
        let w = *plain.last().context("a start")?;
        plain.push(w - 0.05 * classic_gradient(w)?);
    }
    let (a, b) = (sign[steps - 1], sign[steps]);
    tour.say("Sign descent moves every parameter by the same fixed step η against the sign of its slope, w ← w − η·sign(dL/dw), however steep or flat the loss is.");
    tour.maths(
        "sign descent",
        "<math><mi>w</mi><mo>←</mo><mi>w</mi><mo>−</mo><mi>η</mi><mo>·</mo><mi>sign</mi><mo>(</mo><mi>g</mi><mo>)</mo></math>",
    );
    tour.say(format!(
        "On the classic data from w = 0 with η = {eta}, it reaches the minimum's neighbourhood in {} steps, then jumps between w = {a:.1} and w = {b:.1} for ever: a fixed step cannot get closer than η. Gradient descent with lr 0.05 takes steps that shrink with the slope and ends at w = {:.6}.",
        sign.iter().position(|w| (w - 2.0).abs() < eta).unwrap_or(steps),
        plain[steps]
    ));
    tour.say("Fixed steps are robust to badly scaled gradients (Rprop and Adam's early steps behave like this) but need a shrinking η to settle.");
    let as_series = |name: &str, v: &[f64]| Series {
        name: name.into(),
        points: v.iter().enumerate().map(|(k, &w)| (k as f64, w)).collect(),
    };
    let chart = LineChart {
        title: "sign descent against gradient descent: w per step",
        x_label: "step",
        y_label: "w",
        series: vec![
            as_series("gradient descent (lr 0.05)", &plain),
            as_series("sign descent (η 0.3)", &sign),
        ],
        hline: Some(2.0),
        ..LineChart::default()
    };
    tour.caption("w per step on the classic data (minimum w = 2, dashed): sign descent walks at a constant speed, then oscillates by ±η around the minimum.");
    tour.figure(&chart, "w")
}

/// A tilted double well: a local minimum near x = 0.96 and the global one near x = −1.04.
fn well(x: f64) -> f64 {
    x.powi(4) - 2.0 * x * x + 0.3 * x
}

fn well_slope(x: f64) -> f64 {
    4.0 * x.powi(3) - 4.0 * x + 0.3
}

pub fn local_minima(tour: &mut Tour) -> Result<()> {
    tour.lesson("Local and global minima");
    tour.say("f(x) = x⁴ − 2x² + 0.3x has two valleys; the left one is deeper. Gradient descent (lr 0.05, 100 steps) only ever goes downhill, so the valley it ends in depends on where it starts.");
    let mut markers = Vec::new();
    let mut ends = Vec::new();
    for start in [-2.0, -0.3, 0.3, 2.0] {
        let mut x: f64 = start;
        for _ in 0..100 {
            x -= 0.05 * well_slope(x);
        }
        tour.say(format!(
            "From x = {start}: ends at x = {x:.4}, f = {:.4} ({}).",
            well(x),
            if x < 0.0 {
                "the global minimum"
            } else {
                "a local minimum only"
            }
        ));
        markers.push(Marker {
            name: format!("start x = {start}"),
            points: vec![(start, well(start))],
        });
        ends.push((x, well(x)));
    }
    tour.say("Nothing in the gradient tells a local minimum from the global one: restarts from several points, noise (stochastic gradients) or momentum are the usual ways out of a shallow valley.");
    markers.push(Marker {
        name: "where the runs end".into(),
        points: ends,
    });
    let chart = LineChart {
        title: "local against global minimum of x⁴ − 2x² + 0.3x",
        x_label: "x",
        y_label: "f(x)",
        series: vec![Series {
            name: "f(x)".into(),
            points: (0..=200)
                .map(|i| -2.1 + 4.2 * f64::from(i) / 200.0)
                .map(|x| (x, well(x)))
                .collect(),
        }],
        markers,
        ..LineChart::default()
    };
    tour.caption("The double well with four starts and where gradient descent from each ends: the two starts on the right end in the shallower valley.");
    tour.figure(&chart, "wells")
}

pub fn by_definition(tour: &mut Tour) -> Result<()> {
    tour.lesson("The derivative by definition and by the rules");
    tour.say("By definition f′(x) is the limit of the difference quotient (f(x + h) − f(x))/h as h → 0; the rules (here (xⁿ)′ = n·xⁿ⁻¹) give it exactly. For f(x) = x³ at x = 1 the rules say f′(1) = 3.");
    let f = |x: f64| x * x * x;
    let mut points = Vec::new();
    for k in 1..=15 {
        let h = 10f64.powi(-k);
        let q = (f(1.0 + h) - f(1.0)) / h;
        points.push((h, (q - 3.0).abs()));
        if k == 1 || k == 4 || k == 8 || k == 12 {
            tour.say(format!(
                "h = 1e-{k}: quotient {q:.12}, error {:.2e}.",
                (q - 3.0).abs()
            ));
        }
    }
    tour.say("The exact error is 3h + h², so it falls tenfold with every tenfold smaller h, until h ≈ 1e-8: below that, f(1 + h) − f(1) loses its digits to rounding and the error grows again. Automatic differentiation applies the rules to the program, so it has no h at all.");
    let chart = LineChart {
        title: "difference quotient of x³ at x = 1 against the exact f′(1) = 3",
        x_label: "h",
        y_label: "|quotient − 3|",
        series: vec![Series {
            name: "forward difference".into(),
            points,
        }],
        log_x: true,
        log_y: true,
        ..LineChart::default()
    };
    tour.caption("The error of the forward difference quotient against h, both on log scales: slope 1 (error ≈ 3h) down to h ≈ 1e-8, rounding above it.");
    tour.figure(&chart, "quotient")
}
