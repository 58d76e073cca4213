//! Every claim of the divergence message, through the real binary: the bound it quotes is the
//! library's (`stable_lr_of` on the exact curvature) for the optimizer in use (heavy ball,
//! Nesterov, dampening, momentum-ema, weight decay, several targets, no decay on biases), the
//! ratio is the lr over it, the fastest lr is the formula's, and the bound is right: training
//! at 0.95 times the printed bound finishes, at 1.05 times it diverges.

use std::path::Path;

use descent::analysis::{
    best_lr_for_momentum, curvature, optimal_gd, stable_lr_of, CurvatureConfig, Spectrum,
};
use descent::data::{Columns, DataSource, TargetKind};
use descent::optim::OptimizerSpec;
use descent::train::diagnosis::num;

mod common;
use common::{descent, ok};

/// Runs `descent train` with `line` (split at whitespace); returns the exit code and stderr.
fn train(line: &str, d: &Path) -> (i32, String) {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = descent(&args, d);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap(), stderr)
}

/// The bound of `spec` for a linear model with bias on `source` (unscaled) with `targets`.
fn bound(source: &str, targets: &[&str], spec: &OptimizerSpec, d: &Path) -> f64 {
    let columns = Columns {
        targets: Some(targets.iter().map(|t| t.to_string()).collect()),
        features: (!source.starts_with("builtin:")).then(|| vec!["a".into(), "b".into()]),
        ..Columns::default()
    };
    let source = match source.strip_prefix("builtin:") {
        Some(_) => DataSource::parse(source),
        None => DataSource::parse(d.join(source).to_str().unwrap()),
    };
    let data = source.load::<f64>(&columns, TargetKind::Real).unwrap();
    let c = curvature(
        data.x.view(),
        true,
        targets.len(),
        &CurvatureConfig::default(),
    )
    .unwrap();
    stable_lr_of(spec, &c).unwrap().bound().unwrap()
}

/// The number printed right after `key`.
fn number_after(text: &str, key: &str) -> f64 {
    let rest = &text[text
        .find(key)
        .unwrap_or_else(|| panic!("`{key}` not in {text}"))
        + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | '-')))
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.').parse().unwrap()
}

/// Two targets on two features, 40 rows.
fn write_two_targets(d: &Path) {
    let mut csv = String::from("a,b,y0,y1\n");
    for i in 0..40 {
        let (a, b) = ((i as f64 * 0.37).sin() * 2.0, (i as f64 * 0.11).cos());
        csv += &format!("{a},{b},{},{}\n", 3.0 * a - b + 1.0, 0.5 * b - 2.0);
    }
    std::fs::write(d.join("two.csv"), csv).unwrap();
}

struct Case {
    /// Flags after `--lr`.
    flags: &'static str,
    spec: OptimizerSpec,
    /// The form as the message names it and the formula it quotes.
    form: &'static str,
    formula: &'static str,
}

fn cases() -> Vec<Case> {
    let sgd = |m: f64| OptimizerSpec::new("sgd").with("momentum", m);
    vec![
        Case {
            flags: "",
            spec: OptimizerSpec::new("sgd"),
            form: "plain gradient descent",
            formula: "2/λ_max",
        },
        Case {
            flags: "--momentum 0.9",
            spec: sgd(0.9),
            form: "heavy-ball momentum 0.9",
            formula: "2(1 + μ)/λ_max",
        },
        Case {
            flags: "--momentum 0.9 --nesterov --weight-decay 0.5",
            spec: sgd(0.9).with("nesterov", true).with("weight_decay", 0.5),
            form: "Nesterov momentum 0.9 with weight decay 0.5",
            formula: "2(1 + μ)/((1 + 2μ)·(λ_max + weight_decay))",
        },
        Case {
            flags: "--momentum 0.8 --dampening 0.5",
            spec: sgd(0.8).with("dampening", 0.5),
            form: "heavy-ball momentum 0.8 with dampening 0.5",
            formula: "2(1 + μ)/((1 - dampening)·λ_max)",
        },
        Case {
            flags: "--optimizer momentum-ema --beta 0.8",
            spec: OptimizerSpec::new("momentum-ema").with("beta", 0.8),
            form: "momentum-ema β = 0.8",
            formula: "2(1 + β)/((1 - β)·λ_max)",
        },
    ]
}

#[test]
fn the_quoted_bound_is_the_optimizers_and_it_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "train --data builtin:classic --model linear --epochs 400 -q";
    for c in cases() {
        let b = bound("builtin:classic", &["y"], &c.spec, d);
        let lr = 1.05 * b;
        let (code, e) = train(&format!("{base} --lr {lr} {} --out above", c.flags), d);
        assert_eq!(code, 3, "{}: {e}", c.flags);
        let claim = format!(
            "The learning rate {lr} is 1.050 times the largest stable one for {} on this data: \
             on a least-squares loss it diverges when lr > {} = {}",
            c.form,
            c.formula,
            num(b)
        );
        assert!(e.contains(&claim), "`{claim}` not in {e}");
        // The printed bound is right: below it the run finishes.
        let printed = number_after(&e, &format!("{} = ", c.formula));
        let (code, e) = train(
            &format!("{base} --lr {} {} --out below", 0.95 * printed, c.flags),
            d,
        );
        assert_eq!(code, 0, "{}: {e}", c.flags);
    }
}

#[test]
fn the_fastest_lr_and_the_momentum_growth_are_the_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data =
        descent::data::builtin::load("classic", &Columns::default(), TargetKind::Real).unwrap();
    let c = curvature(data.x.view(), true, 1, &CurvatureConfig::default()).unwrap();
    let s = Spectrum::of(&c).unwrap();
    let base = "train --data builtin:classic --model linear --epochs 100 -q --out x";
    let (_, e) = train(&format!("{base} --lr 1"), d);
    let want = format!(
        "the fastest fixed step is 2/(λ_min + λ_max) = {}.",
        num(optimal_gd(&s).lr)
    );
    assert!(e.contains(&want), "`{want}` not in {e}");
    let (_, e) = train(&format!("{base} --lr 1 --momentum 0.8 --dampening 0.5"), d);
    let best = best_lr_for_momentum(&s, 0.8).unwrap().lr / 0.5;
    let want = format!(
        "with this momentum the fastest lr is 2(1 + μ)/((1 - dampening)(λ_min + λ_max)) = {}.",
        num(best)
    );
    assert!(e.contains(&want), "`{want}` not in {e}");
    // A buffer fed (1 - 0.5) g and kept at 0.8 reaches 0.5/0.2 = 2.5 times the plain step.
    assert!(
        e.contains("Momentum 0.8 lets steps grow up to 2.5 times the plain step"),
        "{e}"
    );
    // momentum-ema's buffer is an average: its steps do not grow, and no such claim is made.
    let (_, e) = train(&format!("{base} --lr 40 --optimizer momentum-ema"), d);
    assert!(!e.contains("lets steps grow"), "{e}");
}

#[test]
fn several_targets_make_the_bound_larger_and_the_message_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_two_targets(d);
    let sgd = OptimizerSpec::new("sgd");
    let one = bound("two.csv", &["y0"], &sgd, d);
    let two = bound("two.csv", &["y0", "y1"], &sgd, d);
    assert!((two / one - 2.0).abs() < 1e-12, "{one} {two}");
    let base = "train --data two.csv --target y0,y1 --features a,b --model linear --epochs 300 -q";
    // Between the one-target bound and the two-target one: it converges.
    let (code, e) = train(&format!("{base} --lr {} --out mid", 1.5 * one), d);
    assert_eq!(code, 0, "{e}");
    let (code, e) = train(&format!("{base} --lr {} --out above", 1.1 * two), d);
    assert_eq!(code, 3, "{e}");
    assert!(e.contains(&format!("2/λ_max = {}", num(two))), "{e}");
    assert!(
        e.contains("for the mean over 2 targets, which makes it 1/2 as large"),
        "{e}"
    );
}

#[test]
fn no_decay_on_biases_gives_the_bound_without_decay() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = bound("builtin:classic", &["y"], &OptimizerSpec::new("sgd"), d);
    let line = format!(
        "train --data builtin:classic --model linear --epochs 100 -q --out x --weight-decay 1 \
         --no-decay-bias --lr {}",
        1.2 * plain
    );
    let (code, e) = train(&line, d);
    assert_eq!(code, 3, "{e}");
    assert!(e.contains(&format!("for plain gradient descent on this data: on a least-squares loss it diverges when lr > 2/λ_max = {}", num(plain))), "{e}");
}

#[test]
fn the_message_lr_find_and_analyze_quote_the_same_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = "--data builtin:diabetes --model linear --scale standard";
    let (code, e) = train(
        &format!("train {data} --momentum 0.9 --lr 1 --epochs 50 -q --out x"),
        d,
    );
    assert_eq!(code, 3, "{e}");
    let message = number_after(&e, "2(1 + μ)/λ_max = ");
    let args = format!("lr-find {data} --optimizer momentum --out lf");
    let stdout = ok(&args.split_whitespace().collect::<Vec<_>>(), d);
    let lr_find = number_after(&stdout, "2(1 + μ)/λ_max = ");
    let args = format!("analyze {data} --momentum 0.9 --json");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&args.split_whitespace().collect::<Vec<_>>(), d)).unwrap();
    let analyze = json["stable_lr"].as_f64().unwrap();
    assert_eq!(num(analyze), num(message));
    assert!(
        (lr_find - analyze).abs() <= 5e-7 * analyze,
        "{lr_find} vs {analyze}"
    );
}
