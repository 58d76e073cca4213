//! Lessons 17–18: every optimizer's update rule as descent (and PyTorch) computes it, each
//! tried on one ill-conditioned bowl at its best learning rate; and momentum's optimal
//! settings from the curvature, against plain gradient descent and a too-large momentum.

use anyhow::{Context, Result};
use descent::analysis::optima::{
    best_lr_for_momentum, optimal_gd, optimal_heavy_ball, Spectrum, Tuning,
};
use descent::analysis::{curvature, normal_equation, CurvatureConfig};
use descent::objective::{IllConditioned, Objective};
use descent::optim::OptimizerSpec;

use super::basics::{builtin, sgd};
use super::Tour;
use crate::commands::surface;
use crate::optimizer_list::{spec_for, Entry};
use crate::plot::{LineChart, Marker, Path2d, Series};
use crate::prep::train_config;

/// MathML pieces: an identifier, an operator, a number, and the layouts built from them.
fn i(s: &str) -> String {
    format!("<mi>{s}</mi>")
}
fn o(s: &str) -> String {
    format!("<mo>{s}</mo>")
}
fn n(s: &str) -> String {
    format!("<mn>{s}</mn>")
}
fn sub(base: &str, index: &str) -> String {
    format!("<msub>{base}{index}</msub>")
}
fn sup(base: &str, power: &str) -> String {
    format!("<msup>{base}{power}</msup>")
}
fn frac(top: &str, bottom: &str) -> String {
    format!("<mfrac><mrow>{top}</mrow><mrow>{bottom}</mrow></mfrac>")
}
fn sqrt(s: &str) -> String {
    format!("<msqrt>{s}</msqrt>")
}
/// `β₁`, `β₂`.
fn beta(k: &str) -> String {
    sub(&i("β"), &n(k))
}
/// `βₖᵗ`.
fn beta_t(k: &str) -> String {
    format!("<msubsup><mi>β</mi><mn>{k}</mn><mi>t</mi></msubsup>")
}
/// Words inside a formula, with a space after them.
fn text(s: &str) -> String {
    format!("<mtext>{s}&#160;</mtext>")
}
/// Statements of one rule, each its own `<math>` element, so that a narrow page wraps
/// between them rather than cutting a long rule off.
fn rule(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| format!("<math>{p}</math>"))
        .collect::<Vec<_>>()
        .join(", &#8195;")
}
/// `lhs ← rhs`.
fn set(lhs: &str, rhs: &str) -> String {
    format!("{lhs}{}{rhs}", o("←"))
}
/// An exponential moving average's update, `name ← decay·name + (1 − decay)·input`.
fn average(name: &str, decay: &str, input: &str) -> String {
    set(
        name,
        &format!("{decay}{name}{}{}{input}", o("+"), one_minus(decay)),
    )
}
/// `(1 − x)`.
fn one_minus(x: &str) -> String {
    format!("{}{}{}{x}{}", o("("), n("1"), o("−"), o(")"))
}

/// Every optimizer of the library with its update rule (`g` the gradient after weight decay,
/// `η` the lr, `t` the step from 1), as the optimizer's source documents it.
fn update_rules() -> Vec<(&'static str, String)> {
    let (w, g, eta) = (i("w"), i("g"), i("η"));
    let minus_eta = format!("{w}{}{eta}", o("−"));
    let g2 = sup(&g, &n("2"));
    let adam_v = average(&i("v"), &beta("2"), &g2);
    let adam_m = average(&i("m"), &beta("1"), &g);
    let adam_step = set(
        &w,
        &format!(
            "{minus_eta}{}",
            frac(
                &format!("{}{}{}", i("m"), o("/"), one_minus(&beta_t("1"))),
                &format!(
                    "{}{}{}",
                    sqrt(&format!("{}{}{}", i("v"), o("/"), one_minus(&beta_t("2")))),
                    o("+"),
                    i("ε")
                )
            )
        ),
    );
    vec![
        (
            "sgd (momentum μ, dampening τ; b₁ = g)",
            rule(&[
                set(
                    &i("b"),
                    &format!("{}{}{}{}{g}", i("μ"), i("b"), o("+"), one_minus(&i("τ"))),
                ),
                set(&w, &format!("{minus_eta}{}", i("b"))),
                format!(
                    "{}{}{}",
                    text("or, with Nesterov"),
                    o(":"),
                    set(
                        &w,
                        &format!(
                            "{minus_eta}{}{g}{}{}{}{}",
                            o("("),
                            o("+"),
                            i("μ"),
                            i("b"),
                            o(")")
                        )
                    )
                ),
            ]),
        ),
        (
            "momentum-ema (torch SGD with dampening = momentum = β; v₁ = g)",
            rule(&[
                average(&i("v"), &i("β"), &g),
                set(&w, &format!("{minus_eta}{}", i("v"))),
            ]),
        ),
        (
            "adagrad (lr decay δ)",
            rule(&[
                set(&i("G"), &format!("{}{}{g2}", i("G"), o("+"))),
                set(
                    &w,
                    &format!(
                        "{w}{}{}",
                        o("−"),
                        frac(
                            &eta,
                            &format!(
                                "{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}",
                                o("("),
                                n("1"),
                                o("+"),
                                o("("),
                                i("t"),
                                o("−"),
                                n("1"),
                                o(")"),
                                i("δ"),
                                o(")"),
                                o("("),
                                sqrt(&i("G")),
                                o("+"),
                                i("ε"),
                                o(")")
                            )
                        ) + &g
                    ),
                ),
            ]),
        ),
        (
            "rmsprop (momentum μ; μ = 0 steps by g/(√s + ε))",
            rule(&[
                average(&i("s"), &i("α"), &g2),
                set(
                    &i("b"),
                    &format!(
                        "{}{}{}{}",
                        i("μ"),
                        i("b"),
                        o("+"),
                        frac(&g, &format!("{}{}{}", sqrt(&i("s")), o("+"), i("ε")))
                    ),
                ),
                set(&w, &format!("{minus_eta}{}", i("b"))),
            ]),
        ),
        (
            "adam",
            rule(&[adam_m.clone(), adam_v.clone(), adam_step.clone()]),
        ),
        (
            "adamw (decoupled weight decay λ)",
            rule(&[
                set(
                    &w,
                    &format!("{w}{}{}{}{}{}{}", o("("), n("1"), o("−"), eta, i("λ"), o(")")),
                ),
                text("then Adam's step:") + &adam_step,
            ]),
        ),
        (
            "adamax",
            rule(&[
                adam_m.clone(),
                set(
                    &i("u"),
                    &format!(
                        "{}{}{}{}{}{}{g}{}{}{}{}",
                        i("max"),
                        o("("),
                        beta("2"),
                        i("u"),
                        o(","),
                        o("|"),
                        o("|"),
                        o("+"),
                        i("ε"),
                        o(")")
                    ),
                ),
                set(
                    &w,
                    &format!(
                        "{w}{}{}{}",
                        o("−"),
                        frac(&eta, &one_minus(&beta_t("1"))),
                        frac(&i("m"), &i("u"))
                    ),
                ),
            ]),
        ),
        (
            "nadam (momentum decay ψ; d = √(v/(1−β₂ᵗ)) + ε)",
            rule(&[
                set(
                    &sub(&i("μ"), &i("t")),
                    &format!(
                        "{}{}{}{}{}{}{}{}",
                        beta("1"),
                        o("("),
                        n("1"),
                        o("−"),
                        n("0.5"),
                        o("·"),
                        sup(&n("0.96"), &format!("{}{}", i("t"), i("ψ"))),
                        o(")")
                    ),
                ),
                adam_m.clone(),
                adam_v.clone(),
                set(
                    &w,
                    &format!(
                        "{w}{}{eta}{}{}",
                        o("−"),
                        frac(
                            &one_minus(&sub(&i("μ"), &i("t"))),
                            &format!("{}{}{}", n("1"), o("−"), "<mo>∏</mo><msub><mi>μ</mi><mi>i</mi></msub><mspace width=\"0.2em\"/><mo>(</mo><mi>i</mi><mo>≤</mo><mi>t</mi><mo>)</mo>")
                        ),
                        frac(&g, &i("d")),
                    ),
                ),
                set(
                    &w,
                    &format!(
                        "{w}{}{eta}{}{}",
                        o("−"),
                        frac(
                            &sub(&i("μ"), &format!("<mrow>{}{}{}</mrow>", i("t"), o("+"), n("1"))),
                            &format!("{}{}{}", n("1"), o("−"), "<mo>∏</mo><msub><mi>μ</mi><mi>i</mi></msub><mspace width=\"0.2em\"/><mo>(</mo><mi>i</mi><mo>≤</mo><mi>t</mi><mo>+</mo><mn>1</mn><mo>)</mo>")
                        ),
                        frac(&i("m"), &i("d"))
                    ),
                ),
            ]),
        ),
        (
            "radam (ρ∞ = 2/(1−β₂) − 1, ρₜ = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ), rₜ the variance rectification)",
            rule(&[
                adam_m.clone(),
                adam_v.clone(),
                format!(
                    "{}{}{}{}",
                    text("if"),
                    sub(&i("ρ"), &i("t")),
                    o(">"),
                    n("5")
                ) + &o(":")
                    + &set(
                        &w,
                        &format!(
                            "{minus_eta}{}{}",
                            sub(&i("r"), &i("t")),
                            frac(
                                &format!(
                                    "{}{}{}",
                                    i("m"),
                                    o("/"),
                                    one_minus(&beta_t("1"))
                                ),
                                &format!(
                                    "{}{}{}",
                                    sqrt(&format!(
                                        "{}{}{}",
                                        i("v"),
                                        o("/"),
                                        one_minus(&beta_t("2"))
                                    )),
                                    o("+"),
                                    i("ε")
                                )
                            )
                        ),
                    ),
                format!("{}{}", text("otherwise"), o(":"))
                    + &set(
                        &w,
                        &format!(
                            "{minus_eta}{}",
                            frac(&i("m"), &one_minus(&beta_t("1")))
                        ),
                    ),
            ]),
        ),
        (
            "adadelta (ρ)",
            rule(&[
                average(&i("v"), &i("ρ"), &g2),
                set(
                    &i("Δ"),
                    &(frac(
                        &sqrt(&format!("{}{}{}", i("u"), o("+"), i("ε"))),
                        &sqrt(&format!("{}{}{}", i("v"), o("+"), i("ε"))),
                    ) + &g),
                ),
                average(&i("u"), &i("ρ"), &sup(&i("Δ"), &n("2"))),
                set(&w, &format!("{minus_eta}{}", i("Δ"))),
            ]),
        ),
        (
            "asgd (λ, α, t₀; a the averaged parameters)",
            rule(&[
                set(
                    &sub(&i("η"), &i("t")),
                    &frac(
                        &eta,
                        &sup(
                            &format!(
                                "<mrow>{}{}{}{}{eta}{}{}</mrow>",
                                o("("),
                                n("1"),
                                o("+"),
                                i("λ"),
                                i("t"),
                                o(")")
                            ),
                            &i("α"),
                        ),
                    ),
                ),
                set(
                    &w,
                    &format!(
                        "{w}{}{}{}{}{}{}{}{}{}",
                        o("("),
                        n("1"),
                        o("−"),
                        i("λ"),
                        sub(&i("η"), &i("t")),
                        o(")"),
                        o("−"),
                        sub(&i("η"), &i("t")),
                        g
                    ),
                ),
                set(
                    &i("a"),
                    &format!(
                        "{}{}{}{}{}{}{}{}",
                        i("a"),
                        o("+"),
                        frac(
                            &n("1"),
                            &format!(
                                "{}{}{}{}{}{}{}{}",
                                i("max"),
                                o("("),
                                n("1"),
                                o(","),
                                i("t"),
                                o("−"),
                                sub(&i("t"), &n("0")),
                                o(")")
                            )
                        ),
                        o("("),
                        w,
                        o("−"),
                        i("a"),
                        o(")")
                    ),
                ),
            ]),
        ),
        (
            "rprop (η₊, η₋; step s starts at η, clamped to its limits; no move after a sign change)",
            rule(&[
                set(
                    &i("s"),
                    &(i("s")
                        + &o("·")
                        + &format!(
                            "<mrow><mo>{{</mo><mtable><mtr><mtd>{}</mtd><mtd><mtext>if g·g′ &gt; 0</mtext></mtd></mtr><mtr><mtd>{}</mtd><mtd><mtext>if g·g′ &lt; 0</mtext></mtd></mtr><mtr><mtd><mn>1</mn></mtd><mtd><mtext>otherwise</mtext></mtd></mtr></mtable></mrow>",
                            sub(&i("η"), &o("+")),
                            sub(&i("η"), &o("−"))
                        )),
                ),
                set(
                    &w,
                    &format!("{w}{}{}{}{g}{}{}", o("−"), i("sign"), o("("), o(")"), i("s")),
                ),
                set(&i("g′"), &g),
            ]),
        ),
        (
            "sign",
            rule(&[set(
                &w,
                &format!("{minus_eta}{}{}{g}{}", i("sign"), o("("), o(")")),
            )]),
        ),
    ]
}

/// A line of lesson 17's charts: the optimizers whose paths it stands for, and f per step.
struct Curve {
    /// The optimizers on this line, each with its learning rate as printed.
    names: Vec<(String, String)>,
    values: Vec<f64>,
}

impl Curve {
    /// `sgd (lr 0.02)`; for a line several optimizers share, `sgd, asgd (lr 0.02): same
    /// path` (or each with its own rate when they differ).
    fn label(&self) -> String {
        let same_lr = self.names.iter().all(|(_, lr)| *lr == self.names[0].1);
        let mut label = if same_lr {
            let names: Vec<&str> = self.names.iter().map(|(n, _)| n.as_str()).collect();
            format!("{} (lr {})", names.join(", "), self.names[0].1)
        } else {
            let named: Vec<String> = self
                .names
                .iter()
                .map(|(n, lr)| format!("{n} (lr {lr})"))
                .collect();
            named.join(", ")
        };
        if self.names.len() > 1 {
            label.push_str(": same path");
        }
        label
    }
}

/// Whether two runs' f per step agree within 0.1% at every step (so that one line would
/// hide the other).
fn same_curve(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-3 * x.abs().max(y.abs()))
}

/// The learning rates tried for every optimizer in lesson 17.
const LR_GRID: [f64; 11] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
];

/// The optimizer's trajectory at the lr of [`LR_GRID`] with the lowest final value (the
/// smaller lr on a tie; runs that leave the finite numbers are out).
fn best_of_grid(
    f: &dyn Objective,
    name: &str,
    start: [f64; 2],
    steps: usize,
) -> Result<(Entry, descent::objective::Trajectory)> {
    let mut best: Option<(Entry, descent::objective::Trajectory)> = None;
    for lr in LR_GRID {
        let entry = Entry {
            label: name.to_string(),
            spec: spec_for(name)?,
            lr,
        };
        let t = surface::descend_all(f, std::slice::from_ref(&entry), start, steps)?
            .pop()
            .context("one trajectory")?;
        let end = *t.values.last().context("a value")?;
        if t.diverged || !end.is_finite() || t.values.len() < steps + 1 {
            continue;
        }
        let better = match &best {
            None => true,
            Some((_, b)) => end < *b.values.last().context("a value")?,
        };
        if better {
            best = Some((entry, t));
        }
    }
    best.with_context(|| format!("{name}: no learning rate of the grid stays finite"))
}

pub fn update_rules_lesson(tour: &mut Tour) -> Result<()> {
    tour.lesson("Every optimizer's update rule");
    tour.say("Every optimizer of descent, written as descent computes it, which is PyTorch's torch.optim to the last bit (the oracle tests compare the trajectories): g is the gradient (with weight decay added where the optimizer couples it), η the learning rate, t the step from 1; the options keep PyTorch's names and defaults (`descent optimizers` lists them).");
    for (name, mathml) in update_rules() {
        tour.maths(name, &mathml);
    }
    let f = IllConditioned::default();
    let start = f.default_start();
    let steps = 100;
    tour.say(format!(
        "Each tried on the bowl f = ½(x² + 50y²) from ({}, {}) for {steps} steps, at the learning rate of {{0.001, 0.002, 0.005, …, 1, 2}} that ends lowest:",
        start[0], start[1]
    ));
    let families: [(&str, &str, &[&str]); 2] = [
        (
            "steps proportional to the gradient, or to its sign",
            "plain",
            &[
                "sgd",
                "momentum",
                "nesterov",
                "momentum-ema",
                "asgd",
                "sign",
                "rprop",
            ],
        ),
        (
            "steps scaled per parameter by the gradients' history",
            "adaptive",
            &[
                "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax", "nadam", "radam",
            ],
        ),
    ];
    for (title, stem, names) in families {
        let mut series: Vec<Curve> = Vec::new();
        let mut lrs = Vec::new();
        for &name in names {
            let (entry, t) = best_of_grid(&f, name, start, steps)?;
            let end = *t.values.last().context("a value")?;
            tour.say(format!(
                "{name}: best lr {}, f after {steps} steps {end:.3e}.",
                entry.lr
            ));
            lrs.push(format!("{name}={}", entry.lr));
            let label = (name.to_string(), entry.lr.to_string());
            // A path that another one already drawn covers everywhere (asgd's iterates are
            // sgd's up to its tiny decay) would be hidden under it: it joins that line's
            // legend entry instead.
            if let Some(twin) = series.iter_mut().find(|s| same_curve(&s.values, &t.values)) {
                twin.names.push(label);
                continue;
            }
            series.push(Curve {
                names: vec![label],
                values: t.values.clone(),
            });
        }
        // A curve that reaches exactly 0 leaves the log axis there: a marker at its last
        // drawable point says so.
        let zeros: Vec<Marker> = series
            .iter()
            .filter_map(|c| {
                let k = c.values.iter().position(|v| *v == 0.0)?;
                let last = k.checked_sub(1)?;
                let name = &c.names[0].0;
                Some(Marker {
                    name: format!("{name} reaches exactly 0 at step {k} (off the log axis)"),
                    points: vec![(last as f64, c.values[last])],
                })
            })
            .collect();
        let series: Vec<Series> = series
            .into_iter()
            .map(|c| Series {
                name: c.label(),
                points: c
                    .values
                    .iter()
                    .enumerate()
                    // The log axis cannot show an exact 0 (rprop and sign may land on the
                    // minimum): such a point is left out.
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(k, v)| (k as f64, *v))
                    .collect(),
            })
            .collect();
        tour.command(&format!(
            "descent surface --function ill-conditioned --optimizers {} --lr {} --steps {steps}",
            names.join(","),
            lrs.join(",")
        ));
        let chart_title = format!("ill-conditioned bowl: {title}");
        let chart = LineChart {
            title: &chart_title,
            x_label: "step",
            y_label: "f(x, y) (log scale)",
            series,
            markers: zeros,
            log_y: true,
            legend_beside: true,
            ..LineChart::default()
        };
        tour.caption(&format!("f per step on ½(x² + 50y²), each optimizer at its best learning rate of the grid: {title}. Optimizers whose f agrees within 0.1% at every step share one line and legend entry."));
        tour.figure(&chart, stem)?;
    }
    tour.say("`momentum` and `nesterov` are SGD with momentum 0.9. The ranking belongs to this bowl and this start: its axes are its eigen-directions, which the per-parameter scaling of AdaGrad and RMSprop fits exactly, and both coordinates of the start are multiples of 0.5, so sign descent at η = 0.5 lands on the minimum itself. On your own data compare them with `descent compare`.");
    Ok(())
}

/// Iterations until the distance to the optimum first falls below `reduction` times the
/// start's.
fn iterations_to(distances: &[f64], reduction: f64) -> Option<usize> {
    let d0 = *distances.first()?;
    distances.iter().position(|&d| d <= reduction * d0)
}

pub fn momentum_tuning(tour: &mut Tour) -> Result<()> {
    tour.lesson("Momentum's optimal settings");
    let prep = builtin("beans", "linear", None, "none")?;
    let (x, y) = (prep.data.x.view(), prep.data.y.view());
    let c = curvature(x, true, 1, &CurvatureConfig::default())?;
    let s = Spectrum::of(&c).context("the beans' Hessian has a smallest eigenvalue")?;
    let (gd, hb) = (optimal_gd(&s), optimal_heavy_ball(&s));
    let heavy = best_lr_for_momentum(&s, 0.9)?;
    let opt = normal_equation(x, y, true)?.to_flat();
    tour.say(format!(
        "Least squares on the raw beans (w, b; full batch): the Hessian's eigenvalues are λmin = {:.4} and λmax = {:.4}, condition number κ = {:.2}.",
        s.lambda_min,
        s.lambda_max,
        s.condition_number()
    ));
    tour.maths(
        "the best heavy ball (Polyak; Goh 2017)",
        &rule(&[
            set(
                &i("η"),
                &sup(
                    &format!(
                        "<mrow>{}{}{}</mrow>",
                        o("("),
                        frac(
                            &n("2"),
                            &format!(
                                "{}{}{}",
                                sqrt(&sub(&i("λ"), &i("max"))),
                                o("+"),
                                sqrt(&sub(&i("λ"), &i("min")))
                            )
                        ),
                        o(")")
                    ),
                    &n("2"),
                ),
            ),
            set(
                &i("μ"),
                &sup(
                    &format!(
                        "<mrow>{}{}{}</mrow>",
                        o("("),
                        frac(
                            &format!("{}{}{}", sqrt(&i("κ")), o("−"), n("1")),
                            &format!("{}{}{}", sqrt(&i("κ")), o("+"), n("1"))
                        ),
                        o(")")
                    ),
                    &n("2"),
                ),
            ),
            format!(
                "{}{}{}",
                i("rate"),
                o("="),
                frac(
                    &format!("{}{}{}", sqrt(&i("κ")), o("−"), n("1")),
                    &format!("{}{}{}", sqrt(&i("κ")), o("+"), n("1"))
                )
            ),
        ]),
    );
    let epochs = 200;
    let config = train_config(epochs, "full", 0)?;
    let runs: [(String, OptimizerSpec, &Tuning); 3] = [
        (format!("sgd, lr {:.4}", gd.lr), sgd(gd.lr), &gd),
        (
            format!(
                "optimal heavy ball: lr {:.4}, momentum {:.4}",
                hb.lr, hb.momentum
            ),
            sgd(hb.lr).with("momentum", hb.momentum),
            &hb,
        ),
        (
            format!("too much momentum: 0.9, lr {:.4}", heavy.lr),
            sgd(heavy.lr).with("momentum", 0.9),
            &heavy,
        ),
    ];
    let mut distance = Vec::new();
    let mut paths = Vec::new();
    for (label, spec, tuning) in &runs {
        let run = prep.train_with(spec, &config)?;
        let d: Vec<f64> = run
            .path
            .iter()
            .map(|p| {
                p.iter()
                    .zip(&opt)
                    .map(|(a, o)| (a - o).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let measured = iterations_to(&d, 1e-6);
        tour.say(format!(
            "{label}: predicted rate {:.4} a step, {} epochs to shrink the distance to the optimum a millionfold; measured: {} epochs.",
            tuning.rate,
            tuning
                .iterations(1e-6)
                .map_or("no finite number of".to_string(), |k| k.to_string()),
            measured.map_or(format!("more than {epochs}"), |k| k.to_string())
        ));
        distance.push(Series {
            name: label.clone(),
            points: d
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .map(|(k, v)| (k as f64, *v))
                .collect(),
        });
        paths.push(Path2d {
            name: label.clone(),
            points: run.path.iter().take(25).map(|p| (p[0], p[1])).collect(),
        });
    }
    tour.say("The optimal heavy ball's rate is a double root, so its error falls as t·rateᵗ and takes a few epochs more than rateᵗ alone predicts. Too little momentum wastes the speed the curvature allows; too much (0.9 here) swings the error around the optimum, shrinking it only by √μ a step. The best momentum is set by κ alone, the best lr by both ends of the spectrum; `descent analyze` prints both for any linear least-squares problem.");
    tour.command("descent analyze --data builtin:beans --model linear");
    tour.command(&format!(
        "descent train --data builtin:beans --model linear --batch full --lr {:.6} --momentum {:.6} --epochs {epochs} --plot",
        hb.lr, hb.momentum
    ));
    let chart = LineChart {
        title: "distance to the least-squares optimum per epoch",
        x_label: "epoch",
        y_label: "‖w − w*‖ (log scale)",
        series: distance,
        log_y: true,
        legend_room: true,
        ..LineChart::default()
    };
    tour.caption("The distance of (w, b) from the least-squares solution per epoch, on a log scale: the straight lines' slopes are the rates.");
    tour.figure(&chart, "rates")?;
    tour.caption("The loss over (w, b) at equal scale on both axes, with the first 25 steps of each run: plain gradient descent zigzags across the narrow valley, momentum 0.9 swings far past the optimum on both sides, the optimal heavy ball heads for it.");
    tour.least_squares_contour(
        &prep,
        "beans: the first 25 steps of each",
        paths,
        &opt,
        "paths",
    )
}
