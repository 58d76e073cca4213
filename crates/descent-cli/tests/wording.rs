//! What the help and the tour say is what the code does: `--beta`'s first step, and the
//! tour's EMA lesson labelling the t-th value as t.

mod common;
use common::ok;

fn number_after(text: &str, key: &str) -> f64 {
    let rest = &text[text
        .find(key)
        .unwrap_or_else(|| panic!("`{key}` not in {text}"))
        + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.').parse().unwrap()
}

#[test]
fn beta_help_states_the_first_step_and_it_is_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let help = ok(&["train", "--help"], d);
    assert!(
        help.contains("The first step sets v = g") && help.contains("moves the parameters by lr·g"),
        "{help}"
    );
    // One step of momentum-ema on y = w x (x = 1, 2, 3; y = 2x) from w = 1: the gradient is
    // 2·mean(x (w x - y)) = -28/3, so w moves by lr·28/3, not (1 - β)·lr·28/3.
    let line = "train --data builtin:classic --model linear-nobias --init 1.0 --optimizer \
                momentum-ema --beta 0.9 --lr 0.01 --epochs 1 --out one -q";
    ok(&line.split_whitespace().collect::<Vec<_>>(), d);
    let w: f64 = ok(&["predict", "--model", "one", "--input", "1"], d)
        .trim()
        .parse()
        .unwrap();
    assert!((w - (1.0 + 0.01 * 28.0 / 3.0)).abs() < 1e-15, "{w}");
}

#[test]
fn the_tour_labels_the_tenth_average_t_10() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = ok(&["tour", "--out", "t"], dir.path());
    let raw = number_after(
        &stdout,
        "(after the 10th value) the raw β = 0.98 average is ",
    );
    let corrected = number_after(&stdout, "the corrected one ");
    // v_10 = m_10 (1 - β^10); the 11th would carry 1 - β^11 (0.063 here, not 0.058).
    let want = corrected * (1.0 - 0.98f64.powi(10));
    assert!((raw - want).abs() < 1.5e-3, "{raw} vs {want}");
    assert!((raw - corrected * (1.0 - 0.98f64.powi(11))).abs() > 3e-3);
}
