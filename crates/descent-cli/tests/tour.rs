//! What the tour's page says is what the lessons computed, and every command it prints runs:
//! the new lessons' numbers (sign descent, the double well, the difference quotient), the page's
//! structure (contents, captions, a command per lesson, MathML update rules), and each printed
//! `descent` command through the real binary.

use std::fs;
use std::path::Path;
use std::process::Command;

fn descent(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("descent runs");
    assert!(
        out.status.success(),
        "descent {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The number that follows `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> f64 {
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} in {text}"))
        + prefix.len();
    let rest = &text[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
        .unwrap_or(rest.len());
    rest[..end]
        .trim_end_matches('.')
        .parse()
        .unwrap_or_else(|_| panic!("{:?}", &rest[..end]))
}

#[test]
fn the_tour_page_holds_what_the_lessons_computed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = descent(d, &["tour", "--out", "t"]);

    // Sign descent from 0 with η = 0.3 on L = 14/3 (w − 2)²: 0, 0.3, ..., 1.8, 2.1, 1.8, ...
    assert!(
        stdout.contains("in 6 steps, then jumps between w = 2.1 and w = 1.8 for ever"),
        "{stdout}"
    );
    // Gradient descent, lr 0.05: the error shrinks by |1 − 0.05·28/3| a step.
    let w = number_after(
        &stdout,
        "Gradient descent with lr 0.05 takes steps that shrink with the slope and ends at w = ",
    );
    let want = 2.0 - 2.0 * (1.0f64 - 0.05 * 28.0 / 3.0).powi(20);
    assert!((w - want).abs() < 1e-6, "{w} vs {want}");

    // The double well: the left starts reach the deeper valley, the right ones the other.
    for (start, global) in [("-2", true), ("-0.3", true), ("0.3", false), ("2", false)] {
        let x = number_after(&stdout, &format!("From x = {start}: ends at x = "));
        assert_eq!(x < 0.0, global, "start {start}: {x}");
        let slope = 4.0 * x.powi(3) - 4.0 * x + 0.3;
        assert!(slope.abs() < 1e-3, "x = {x} is a minimum");
        let label = if global {
            "the global minimum"
        } else {
            "a local minimum only"
        };
        assert!(stdout.contains(&format!("From x = {start}: ends at x = {x:.4}")));
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("From x = {start}:")))
            .unwrap();
        assert!(line.contains(label), "{line}");
    }

    // The difference quotient of x³ at 1: error 3h + h² until rounding.
    for (k, h) in [(1, 0.1), (4, 1e-4)] {
        let e = number_after(&stdout, &format!("h = 1e-{k}: quotient "));
        assert!((e - (3.0 + 3.0 * h + h * h)).abs() < 1e-9, "{e}");
    }
    let e8 = number_after(&stdout, "h = 1e-8: quotient ");
    let e12 = number_after(&stdout, "h = 1e-12: quotient ");
    assert!(
        (e12 - 3.0).abs() > (e8 - 3.0).abs(),
        "rounding takes over below 1e-8"
    );

    // The EMA at β = 0.9: the first raw average is a tenth of the first value.
    let v1 = number_after(&stdout, "the first average is v₁ = 0.1·x₁ = ");
    let x1 = number_after(&stdout, &format!("v₁ = 0.1·x₁ = {v1:.3} against x₁ = "));
    assert!((v1 - 0.1 * x1).abs() < 1.5e-3, "{v1} vs {x1}");

    // The page: contents, a caption on every figure, a command and a section per lesson.
    let html = fs::read_to_string(d.join("t/index.html")).unwrap();
    assert!(html.contains("<meta name=\"viewport\""));
    assert_eq!(html.matches("<li><a href=\"#lesson").count(), 18);
    assert_eq!(
        html.matches("<figure>").count(),
        html.matches("<figcaption>").count()
    );
    for k in 1..=18 {
        let start = html.find(&format!("<section id=\"lesson{k}\">")).unwrap();
        let end = start + html[start..].find("</section>").unwrap();
        let section = &html[start..end];
        assert!(section.contains("<figcaption>"), "lesson {k} has a caption");
        assert!(
            section.contains("<pre class=\"command\">"),
            "lesson {k} has a command"
        );
        assert!(
            section.contains(&format!("<code>descent tour --lesson {k}</code>")),
            "lesson {k} names the command that draws exactly its figures"
        );
    }
    assert!(
        html.contains("<math>") && html.contains("<msqrt>"),
        "MathML rules"
    );
    assert!(!html.contains("λ_max") && !html.contains("41^10"));
    assert!(
        !html.contains("<script"),
        "no scripts: the page works offline"
    );
}

#[test]
fn every_command_the_tour_prints_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = descent(d, &["tour", "--out", "t"]);
    let commands: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("reproduce: descent "))
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    for (k, c) in commands.iter().enumerate() {
        let mut args: Vec<String> = c.split_whitespace().map(str::to_string).collect();
        if args[0] != "analyze" {
            args.extend(["--out".to_string(), format!("r{k}")]);
        }
        if args[0] == "train" {
            args.push("--quiet".into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        descent(d, &refs);
    }
}

/// The `f after 100 steps` that lesson 17 printed for `name`, and its lr.
fn lesson17(stdout: &str, name: &str) -> (f64, f64) {
    let lr = number_after(stdout, &format!("\n   {name}: best lr "));
    let f = number_after(stdout, &format!("{name}: best lr {lr}, f after 100 steps "));
    (lr, f)
}

#[test]
fn the_update_rules_lesson_matches_the_surface_command_and_its_grid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = descent(d, &["tour", "--lesson", "17", "--out", "t"]);
    // Every optimizer of the library has a rule on the page.
    let html = fs::read_to_string(d.join("t/lesson17.html")).unwrap();
    let listing = descent(d, &["optimizers"]);
    for line in listing
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
    {
        let name = line.split_whitespace().next().unwrap();
        assert!(
            html.contains(&format!("<b>{name}")),
            "the rule of {name} is on the page"
        );
    }
    // The printed command reruns the same trajectories: its table's f values are the
    // lesson's.
    let commands: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("reproduce: descent surface "))
        .collect();
    assert_eq!(commands.len(), 2, "{stdout}");
    for (k, c) in commands.iter().enumerate() {
        let mut args: Vec<String> = std::iter::once("surface".to_string())
            .chain(c.split_whitespace().map(str::to_string))
            .collect();
        args.extend([
            "--frames".into(),
            "2".into(),
            "--out".into(),
            format!("s{k}"),
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let table = descent(d, &refs);
        let names = c.split_whitespace().nth(3).unwrap();
        for name in names.split(',') {
            let (lr, f) = lesson17(&stdout, name);
            let row = table
                .lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("{name} in {table}"));
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[1].parse::<f64>().unwrap(), lr, "{row}");
            let table_f: f64 = cells[cells.len() - 2].parse().unwrap();
            assert!(
                (table_f - f).abs() <= 5e-4 * f.abs().max(1e-300),
                "{name}: {table_f} vs {f}"
            );
        }
    }
    // The chosen lr is the best of the grid: one grid step either side ends no lower.
    let grid = [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
    ];
    let (lr, f) = lesson17(&stdout, "adam");
    let at = grid.iter().position(|&g| g == lr).unwrap();
    for &other in [at.checked_sub(1), Some(at + 1)].iter().flatten() {
        let Some(&other_lr) = grid.get(other) else {
            continue;
        };
        let table = descent(
            d,
            &[
                "surface",
                "--function",
                "ill-conditioned",
                "--optimizers",
                "adam",
                "--lr",
                &other_lr.to_string(),
                "--steps",
                "100",
                "--frames",
                "2",
                "--out",
                "o",
            ],
        );
        let row = table.lines().find(|l| l.starts_with("adam")).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        let other_f: f64 = cells[cells.len() - 2].parse().unwrap();
        assert!(
            other_f.is_nan() || other_f >= f * (1.0 - 5e-4),
            "lr {other_lr}: {other_f} < {f}"
        );
    }
}

#[test]
fn momentum_tuning_measures_the_rates_the_curvature_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = descent(d, &["tour", "--lesson", "18", "--out", "t"]);
    // The settings are the ones `analyze` computes for the same data.
    let analysis: serde_json::Value = serde_json::from_str(&descent(
        d,
        &[
            "analyze",
            "--data",
            "builtin:beans",
            "--model",
            "linear",
            "--json",
        ],
    ))
    .unwrap();
    let text = analysis.to_string();
    let hb_lr = number_after(&stdout, "optimal heavy ball: lr ");
    let hb_momentum = number_after(
        &stdout,
        &format!("optimal heavy ball: lr {hb_lr:.4}, momentum "),
    );
    let find = |key: &str| -> Vec<f64> {
        // Every number stored under `key` anywhere in the JSON.
        let mut out = Vec::new();
        fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<f64>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        if k == key {
                            if let Some(f) = x.as_f64() {
                                out.push(f);
                            }
                        }
                        walk(x, key, out);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
                _ => {}
            }
        }
        walk(&analysis, key, &mut out);
        out
    };
    assert!(
        find("momentum")
            .iter()
            .any(|m| (m - hb_momentum).abs() < 1e-4),
        "momentum {hb_momentum} in {text}"
    );
    assert!(
        find("lr").iter().any(|l| (l - hb_lr).abs() < 1e-4),
        "lr {hb_lr} in {text}"
    );
    // Measured against predicted epochs to shrink the distance a millionfold: gradient
    // descent's single root is exact, the optimal heavy ball's double root needs a few more
    // (t·ρ^t), and momentum 0.9 is slower than both.
    let epochs = |label: &str| -> (f64, Option<f64>) {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        let predicted = number_after(line, "a step, ");
        let measured = line
            .split("measured: ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok());
        (predicted, measured)
    };
    let (p, m) = epochs("sgd, lr");
    assert!(
        (m.unwrap() - p).abs() <= 2.0,
        "gradient descent: {m:?} vs {p}"
    );
    let (p, m) = epochs("optimal heavy ball");
    let m = m.unwrap();
    assert!(m >= p && m <= 1.5 * p, "heavy ball: {m} vs {p}");
    let (p, m) = epochs("too much momentum");
    assert!(p > 200.0 && m.is_none(), "momentum 0.9: {m:?} vs {p}");
    // The claim "the best momentum is set by κ alone": ((√κ−1)/(√κ+1))² from the printed κ
    // (κ printed to 2 decimals, μ to 4: together under 1e-4 of rounding).
    let kappa = number_after(&stdout, "condition number κ = ");
    let r = (kappa.sqrt() - 1.0) / (kappa.sqrt() + 1.0);
    assert!(
        (r * r - hb_momentum).abs() < 2e-4,
        "{} vs {hb_momentum}",
        r * r
    );
}

#[test]
fn one_lesson_alone_writes_the_same_files_and_keeps_the_whole_page() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    descent(d, &["tour", "--out", "all"]);
    let index = fs::read(d.join("all/index.html")).unwrap();
    descent(d, &["tour", "--lesson", "14,18", "--out", "all"]);
    assert_eq!(
        fs::read(d.join("all/index.html")).unwrap(),
        index,
        "index.html kept"
    );
    descent(d, &["tour", "--lesson", "14,18", "--out", "part"]);
    let mut files: Vec<String> = fs::read_dir(d.join("part"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert!(files.contains(&"lesson14-18.html".to_string()), "{files:?}");
    let figures: Vec<&String> = files.iter().filter(|f| !f.ends_with(".html")).collect();
    assert!(figures.len() >= 4, "{files:?}");
    for f in figures {
        assert!(
            f.starts_with("lesson14_") || f.starts_with("lesson18_"),
            "{f}"
        );
        assert_eq!(
            fs::read(d.join("part").join(f)).unwrap(),
            fs::read(d.join("all").join(f)).unwrap(),
            "{f} is the whole tour's file, byte for byte"
        );
    }
    for bad in ["0", "19", "x"] {
        let out = Command::new(env!("CARGO_BIN_EXE_descent"))
            .args(["tour", "--lesson", bad, "--out", "bad"])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--lesson"), "{bad}: {err}");
        assert!(
            !d.join("bad").exists(),
            "nothing written for --lesson {bad}"
        );
    }
}
