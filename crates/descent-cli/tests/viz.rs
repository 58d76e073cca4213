//! End-to-end tests of the commands that show and explain (`compare`, `search`, `surface`,
//! `gradcheck`, `lr-find`, `tour`), through the real binary in a temporary directory: the
//! numbers they print, the files they write, and what can be checked of the figures (PNG
//! decodes at the expected size with enough non-white pixels; one SVG line per series in each
//! optimizer's fixed colour).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn descent(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the descent binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = descent(dir, args);
    assert!(
        out.status.success(),
        "descent {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a command that must fail with exit 1 and an `error:` message containing `needle`.
fn fails(dir: &Path, args: &[&str], needle: &str) {
    let out = descent(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "descent {args:?}: {err}");
    assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The number after `key` in `text` (up to the next space, comma or parenthesis).
fn number_after(text: &str, key: &str) -> f64 {
    let start = text
        .find(key)
        .unwrap_or_else(|| panic!("`{key}` in\n{text}"))
        + key.len();
    let rest = &text[start..];
    let end = rest.find([' ', ',', ')', '\n', ':']).unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|_| panic!("a number after `{key}`: `{}`", &rest[..end]))
}

/// Decodes a PNG and checks its size and that it is not blank; returns the RGB pixels.
fn check_png(path: &Path, size: (u32, u32)) -> Vec<[u8; 3]> {
    let decoder = png::Decoder::new(fs::File::open(path).expect("png exists"));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png decodes");
    assert_eq!((info.width, info.height), size, "{}", path.display());
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixels: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let ink = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(
        ink * 50 > pixels.len(),
        "{} is nearly blank ({ink} of {} pixels)",
        path.display(),
        pixels.len()
    );
    pixels
}

/// Decodes every frame of a GIF, checks the size and that the last frame is not blank;
/// returns the number of frames.
fn check_gif(path: &Path, size: (u16, u16)) -> usize {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(fs::File::open(path).expect("gif exists"))
        .expect("gif header");
    assert_eq!(
        (decoder.width(), decoder.height()),
        size,
        "{}",
        path.display()
    );
    let mut frames = 0;
    let mut last = Vec::new();
    while let Some(frame) = decoder.read_next_frame().expect("gif frame decodes") {
        frames += 1;
        last = frame.buffer.to_vec();
    }
    let ink = last.chunks(4).filter(|p| p[..3] != [255, 255, 255]).count();
    assert!(
        ink * 50 > last.len() / 4,
        "{}: last frame nearly blank",
        path.display()
    );
    frames
}

/// Whether the image holds at least `n` pixels of exactly this colour.
fn has_colour(pixels: &[[u8; 3]], rgb: [u8; 3], n: usize) -> bool {
    pixels.iter().filter(|p| **p == rgb).count() >= n
}

/// The stroke colours of the SVG's polylines, less black, greys and the contour lines.
fn series_colours(path: &Path) -> BTreeSet<String> {
    let svg = fs::read_to_string(path).expect("svg exists");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let s = p.find("stroke=\"#")? + 9;
            Some(p[s..s + 6].to_string())
        })
        .filter(|c| {
            let (r, g, b) = (&c[0..2], &c[2..4], &c[4..6]);
            !(r == g && g == b) && c != "46465A" && c != "B41E1E"
        })
        .collect()
}

const SGD: [u8; 3] = [31, 119, 180];
const MOMENTUM: [u8; 3] = [255, 127, 14];
const ADAM: [u8; 3] = [148, 103, 189];

fn hex(rgb: [u8; 3]) -> String {
    format!("{:02X}{:02X}{:02X}", rgb[0], rgb[1], rgb[2])
}

/// The classic loop for `y = w x + b` on x = 1, 2, 3 / y = 2, 4, 6, written out: batch
/// gradient descent on the mean squared error from (0, 0).
fn classic_sgd(lr: f64, epochs: usize) -> (f64, f64, f64) {
    let (xs, ys) = ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]);
    let (mut w, mut b) = (0.0f64, 0.0f64);
    let loss = |w: f64, b: f64| {
        xs.iter()
            .zip(&ys)
            .map(|(x, y)| (w * x + b - y).powi(2))
            .sum::<f64>()
            / 3.0
    };
    for _ in 0..epochs {
        let (mut gw, mut gb) = (0.0, 0.0);
        for (x, y) in xs.iter().zip(&ys) {
            let r = w * x + b - y;
            gw += 2.0 * r * x / 3.0;
            gb += 2.0 * r / 3.0;
        }
        w -= lr * gw;
        b -= lr * gb;
    }
    (w, b, loss(w, b))
}

#[test]
fn compare_runs_every_optimizer_from_the_same_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(
        d,
        &[
            "compare",
            "--data",
            "builtin:classic",
            "--model",
            "linear",
            "--optimizers",
            "sgd,momentum,adam",
            "--lr",
            "0.05,adam=0.1",
            "--epochs",
            "100",
            "--tol",
            "1e-3",
            "--log-y",
            "--out",
            "cmp",
        ],
    );
    let csv = fs::read_to_string(d.join("cmp/compare.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "optimizer",
            "lr",
            "final_loss",
            "tol_epoch",
            "seconds",
            "diverged_epoch"
        ]
    );
    assert_eq!(rows.len(), 4);
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0]).collect();
    assert_eq!(names, ["sgd", "momentum", "adam"]);
    assert_eq!(
        (rows[1][1], rows[2][1], rows[3][1]),
        ("0.05", "0.05", "0.1")
    );
    // SGD's final loss is the written-out loop's (same sums in another order: 1e-9 relative).
    let (_, _, want) = classic_sgd(0.05, 100);
    let sgd: f64 = rows[1][2].parse().unwrap();
    assert!((sgd - want).abs() <= 1e-9 * want, "{sgd} vs {want}");
    // The table on stdout shows the same numbers.
    let line = stdout.lines().find(|l| l.starts_with("sgd ")).unwrap();
    let printed: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!((printed - sgd).abs() <= 1e-6 * sgd, "{line}");
    // Momentum gets below the tolerance; plain SGD does not in 100 epochs.
    assert_eq!(rows[1][3], "-");
    let reached: usize = rows[2][3].parse().expect("momentum reaches the tolerance");
    assert!(reached > 1 && reached < 100);

    let want: BTreeSet<String> = [SGD, MOMENTUM, ADAM].into_iter().map(hex).collect();
    assert_eq!(series_colours(&d.join("cmp/loss.svg")), want);
    assert_eq!(series_colours(&d.join("cmp/contour.svg")), want);
    let loss = check_png(&d.join("cmp/loss.png"), (900, 600));
    let contour = check_png(&d.join("cmp/contour.png"), (900, 600));
    for c in [SGD, MOMENTUM, ADAM] {
        assert!(
            has_colour(&loss, c, 100) && has_colour(&contour, c, 30),
            "{c:?}"
        );
    }
}

#[test]
fn compare_rejects_bad_input_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fails(
        d,
        &[
            "compare",
            "--data",
            "builtin:classic",
            "--optimizers",
            "sgd,adamm",
        ],
        "unknown optimizer `adamm`",
    );
    fails(
        d,
        &[
            "compare",
            "--data",
            "builtin:classic",
            "--optimizers",
            "sgd",
            "--lr",
            "adam=0.1",
        ],
        "not in --optimizers",
    );
    fails(
        d,
        &[
            "compare",
            "--data",
            "builtin:diabetes",
            "--model",
            "linear",
            "--contour",
            "--out",
            "x",
        ],
        "exactly two parameters",
    );
}

#[test]
fn search_finds_w_2_on_the_classic_data_and_gradient_descent_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(
        d,
        &[
            "search",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--range",
            "0:4:0.1",
            "--out",
            "s",
        ],
    );
    assert_eq!(number_after(&stdout, "best w = "), 2.0);
    assert_eq!(number_after(&stdout, "loss "), 0.0);
    assert!(stdout.contains("(41 loss evaluations)"), "{stdout}");
    let gd = number_after(&stdout, "ends at w = ");
    // From w = 0 with lr 0.01 the error shrinks by 1 - 0.01 * 28/3 per step.
    let want = 2.0 - 2.0 * (1.0 - 0.01 * 28.0 / 3.0f64).powi(100);
    assert!((gd - want).abs() < 1e-12, "{gd} vs {want}");
    assert!(stdout.contains("(100 gradient evaluations)"));
    check_png(&d.join("s/search.png"), (900, 600));
    assert!(fs::read_to_string(d.join("s/search.svg"))
        .unwrap()
        .contains("<circle"));

    let stdout = ok(
        d,
        &[
            "search",
            "--data",
            "builtin:classic",
            "--model",
            "linear",
            "--range",
            "0:4:0.1",
            "--range",
            "-2:2:0.5",
            "--out",
            "s2",
        ],
    );
    assert_eq!(number_after(&stdout, "best w = "), 2.0);
    assert_eq!(number_after(&stdout, "b = "), 0.0);
    assert!(
        stdout.contains(&format!("({} loss evaluations)", 41 * 9)),
        "{stdout}"
    );
    check_png(&d.join("s2/search.png"), (900, 600));
    assert_eq!(series_colours(&d.join("s2/search.svg")).len(), 1);

    fails(
        d,
        &[
            "search",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--range",
            "0:4",
        ],
        "START:STOP:STEP",
    );
    fails(
        d,
        &[
            "search",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--range",
            "4:0:1",
        ],
        "holds no point",
    );
    fails(
        d,
        &[
            "search",
            "--data",
            "builtin:classic",
            "--model",
            "linear",
            "--range",
            "0:4:1",
        ],
        "one range per parameter",
    );
    fails(
        d,
        &[
            "search",
            "--data",
            "builtin:classic",
            "--model",
            "linear",
            "--range",
            "0:4:0.001",
            "--range",
            "0:4:0.001",
        ],
        "use larger steps",
    );
}

#[test]
fn surface_brings_adam_to_the_bottom_of_the_bowl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(
        d,
        &[
            "surface",
            "--function",
            "bowl",
            "--optimizers",
            "sgd,adam",
            "--lr",
            "0.1",
            "--steps",
            "300",
            "--start",
            "3,-2",
            "--frames",
            "10",
            "--out",
            "b",
        ],
    );
    let adam = stdout
        .lines()
        .find(|l| l.starts_with("adam "))
        .expect("adam row");
    let cols: Vec<&str> = adam.split_whitespace().collect();
    let value: f64 = cols[cols.len() - 2].parse().unwrap();
    let dist: f64 = cols[cols.len() - 1].parse().unwrap();
    assert!(value < 1e-4 && dist < 1e-2, "{adam}");
    // SGD with lr 0.1 on x² + y² multiplies the distance to the minimum by 0.8 per step.
    let sgd = stdout
        .lines()
        .find(|l| l.starts_with("sgd "))
        .expect("sgd row");
    let cols: Vec<&str> = sgd.split_whitespace().collect();
    let value: f64 = cols[cols.len() - 2].parse().unwrap();
    let bowl = descent::objective::by_name("bowl").unwrap();
    let want = bowl.value([3.0 * 0.8f64.powi(300), -2.0 * 0.8f64.powi(300)]);
    assert!(
        (value - want).abs() <= 1e-3 * want.abs() + 1e-300,
        "{sgd}: {want}"
    );

    let png = check_png(&d.join("b/contour.png"), (900, 600));
    assert!(has_colour(&png, ADAM, 30) && has_colour(&png, SGD, 30));
    let want: BTreeSet<String> = [SGD, ADAM].into_iter().map(hex).collect();
    assert_eq!(series_colours(&d.join("b/contour.svg")), want);
    // 10 frames, then the last one held.
    let frames = check_gif(&d.join("b/descent.gif"), (720, 480));
    assert!(frames >= 10, "{frames} frames");

    fails(
        d,
        &["surface", "--function", "banana"],
        "unknown test function",
    );
    fails(
        d,
        &["surface", "--function", "bowl", "--start", "1"],
        "--start takes two",
    );
    fails(
        d,
        &["surface", "--function", "bowl", "--optimizers", "nope"],
        "unknown optimizer",
    );
}

#[test]
fn gradcheck_agrees_with_finite_differences_and_fails_a_tiny_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(
        d,
        &[
            "gradcheck",
            "--data",
            "builtin:iris",
            "--model",
            "softmax",
            "--scale",
            "standard",
        ],
    );
    for name in ["layer0.weight", "layer0.bias"] {
        assert!(stdout.lines().any(|l| l.starts_with(name)), "{stdout}");
    }
    let max = number_after(&stdout, "max relative error ");
    assert!(max < 1e-6, "{stdout}");
    assert!(stdout.contains("passed"));
    let stdout = ok(
        d,
        &[
            "gradcheck",
            "--data",
            "builtin:classic",
            "--model",
            "mlp",
            "--hidden",
            "4",
            "--activation",
            "tanh",
        ],
    );
    assert!(
        number_after(&stdout, "max relative error ") < 1e-6,
        "{stdout}"
    );
    fails(
        d,
        &[
            "gradcheck",
            "--data",
            "builtin:classic",
            "--model",
            "linear",
            "--tol",
            "1e-30",
        ],
        "gradient check failed",
    );
    fails(
        d,
        &["gradcheck", "--data", "builtin:classic", "--eps", "0"],
        "--eps",
    );
}

#[test]
fn lr_find_suggests_a_rate_below_the_least_squares_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(
        d,
        &[
            "lr-find",
            "--data",
            "builtin:classic",
            "--model",
            "linear-nobias",
            "--optimizer",
            "sgd",
            "--out",
            "lr",
        ],
    );
    // y = w x on x = 1, 2, 3: the loss Hessian is 2·(1 + 4 + 9)/3 = 28/3, the bound 2/(28/3).
    let bound = number_after(&stdout, "2/λ_max = ");
    assert!((bound - 6.0 / 28.0).abs() < 1e-6 * bound, "{stdout}");
    let suggested = number_after(&stdout, "suggested lr ");
    assert!(suggested > 1e-5 && suggested < bound, "{stdout}");
    assert!(
        stdout.contains("stopped at lr"),
        "the sweep reaches divergence: {stdout}"
    );
    let png = check_png(&d.join("lr/lr_find.png"), (900, 600));
    assert!(has_colour(&png, [180, 30, 30], 20), "the bound is drawn");
    let svg = fs::read_to_string(d.join("lr/lr_find.svg")).unwrap();
    assert!(svg.contains("stable bound") && svg.contains("suggested lr"));
    fails(
        d,
        &[
            "lr-find",
            "--data",
            "builtin:classic",
            "--optimizer",
            "sgdd",
        ],
        "unknown optimizer",
    );
}

#[test]
fn tour_replays_the_lessons_and_links_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(d, &["tour", "--out", "t"]);
    assert!(
        stdout.contains("prediction at x = 4: 7.999777758621207\n"),
        "{stdout}"
    );
    assert!(stdout.contains("the best is w = 2 with loss 0."));
    for k in 1..=18 {
        assert!(stdout.contains(&format!("\n{k}. ")), "lesson {k}");
    }
    let html = fs::read_to_string(d.join("t/index.html")).unwrap();
    // 18 lessons and "how to run this yourself".
    assert_eq!(html.matches("<section").count(), 19);
    let mut figures = 0;
    for entry in fs::read_dir(d.join("t")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".png") || name.ends_with(".gif") {
            assert!(
                html.contains(&format!("src=\"{name}\"")),
                "{name} not in index.html"
            );
            figures += 1;
        }
        if name.ends_with(".png") {
            check_png(&d.join("t").join(&name), (900, 600));
        }
    }
    assert!(figures >= 20, "{figures} figures");
    // Every image the page shows exists.
    for src in html.split("src=\"").skip(1) {
        let name = &src[..src.find('"').unwrap()];
        assert!(d.join("t").join(name).is_file(), "{name}");
    }
}

#[test]
fn train_plot_draws_the_run_the_fit_and_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = ok(
        d,
        &[
            "train",
            "--data",
            "builtin:beans",
            "--model",
            "linear",
            "--lr",
            "0.1",
            "--epochs",
            "30",
            "--val-fraction",
            "0.2",
            "--plot",
            "--quiet",
            "--out",
            "r",
        ],
    );
    assert!(
        stdout.contains("plots: loss.svg, loss.png, lr.svg, lr.png, fit.svg, fit.png, fit.gif"),
        "{stdout}"
    );
    // Train and validation loss: two series.
    assert_eq!(series_colours(&d.join("r/loss.svg")).len(), 2);
    check_png(&d.join("r/loss.png"), (900, 600));
    let fit = check_png(&d.join("r/fit.png"), (900, 600));
    assert!(has_colour(&fit, SGD, 100), "the fitted line is drawn");
    // One frame per epoch and the start (31), then the last one held.
    assert!(check_gif(&d.join("r/fit.gif"), (720, 480)) >= 31);

    ok(
        d,
        &[
            "train",
            "--data",
            "builtin:iris",
            "--features",
            "petal_length_cm,petal_width_cm",
            "--model",
            "softmax",
            "--scale",
            "standard",
            "--optimizer",
            "adam",
            "--lr",
            "0.05",
            "--epochs",
            "50",
            "--plot",
            "--quiet",
            "--out",
            "c",
        ],
    );
    check_png(&d.join("c/boundary.png"), (900, 600));
    let svg = fs::read_to_string(d.join("c/boundary.svg")).unwrap();
    assert_eq!(
        svg.matches("<circle").count(),
        150 + 3,
        "every flower and 3 legend dots"
    );

    ok(
        d,
        &[
            "train",
            "--data",
            "builtin:classic",
            "--epochs",
            "5",
            "--quiet",
            "--out",
            "p",
        ],
    );
    assert!(!d.join("p/loss.png").exists(), "no figures without --plot");
}
