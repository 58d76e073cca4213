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
    assert_eq!(html.matches("<li><a href=\"#lesson").count(), 16);
    assert_eq!(
        html.matches("<figure>").count(),
        html.matches("<figcaption>").count()
    );
    for k in 1..=16 {
        let start = html.find(&format!("<section id=\"lesson{k}\">")).unwrap();
        let end = start + html[start..].find("</section>").unwrap();
        let section = &html[start..end];
        assert!(section.contains("<figcaption>"), "lesson {k} has a caption");
        assert!(
            section.contains("<pre class=\"command\">"),
            "lesson {k} has a command"
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
