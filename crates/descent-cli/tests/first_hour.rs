//! The first hour with your own data (issue 20), through the real binary: each test starts
//! from the mistake a new user made and asserts the message or behaviour that now answers it.
//! Separators, text feature columns, text labels, the same data flags everywhere, predictions
//! you can check, predicting from a diverged run, coefficients in original units, and the
//! small things (`-q`, `--json`, completions, error texts).

use std::path::Path;

use serde_json::Value;

mod common;
use common::{descent, ok};

/// Runs a command that must exit with `code`; returns its stderr.
fn exits(code: i32, args: &[&str], dir: &Path) -> String {
    let out = descent(args, dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "descent {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A command line, split at whitespace.
fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Homes: `id,sqft,rooms,city,price`, price exactly `50000 + 150 sqft + 10000 rooms` plus a
/// premium for each of the first `n_cities` cities, in the hundreds of thousands.
fn homes(rows: usize, n_cities: usize) -> String {
    let cities = [
        ("Springfield", 0.0),
        ("Shelbyville", 25_000.0),
        ("Ogdenville", -15_000.0),
    ];
    let mut s = String::from("id,sqft,rooms,city,price\n");
    for i in 0..rows {
        let sqft = 800 + (i * 137) % 1700;
        let rooms = 1 + (i * 7) % 5;
        let (city, premium) = cities[(i * 5 + i / 3) % n_cities];
        let price = 50_000.0 + 150.0 * sqft as f64 + 10_000.0 * rooms as f64 + premium;
        s += &format!("H{i},{sqft},{rooms},{city},{price}\n");
    }
    s
}

const FIT: &str = "--scale standard --optimizer sgd --lr 0.05 --epochs 3000 -q";

#[test]
fn separators_are_detected_and_a_one_column_file_says_what_was_tried() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let comma = "a,b,y\n1,2,5\n2,1,4\n3,3,9\n4,0,4\n";
    std::fs::write(d.join("comma.csv"), comma).unwrap();
    for (name, sep) in [("tab.tsv", "\t"), ("semi.csv", ";"), ("pipe.csv", "|")] {
        std::fs::write(d.join(name), comma.replace(',', sep)).unwrap();
    }
    ok(&argv("train --data comma.csv --epochs 20 --out c -q"), d);
    let model = std::fs::read(d.join("c/model.json")).unwrap();
    // The same data with another separator gives the same model, byte for byte.
    for name in ["tab.tsv", "semi.csv", "pipe.csv"] {
        let line = format!("train --data {name} --epochs 20 --out r-{name} -q");
        ok(&argv(&line), d);
        assert_eq!(
            std::fs::read(d.join(format!("r-{name}/model.json"))).unwrap(),
            model
        );
    }
    // A separator none of the four: the file reads as one column, and the message says so.
    std::fs::write(d.join("colon.csv"), comma.replace(',', ":")).unwrap();
    let e = exits(1, &argv("train --data colon.csv --out x -q"), d);
    assert!(
        e.contains("colon.csv, line 1: the header parses as one column, `a:b:y`"),
        "{e}"
    );
    assert!(
        e.contains("(comma, tab, semicolon, pipe)") && e.contains("--delimiter"),
        "{e}"
    );
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    ok(
        &argv("train --data colon.csv --delimiter : --epochs 20 --out colon -q"),
        d,
    );
    assert_eq!(std::fs::read(d.join("colon/model.json")).unwrap(), model);
    // An explicit separator that is wrong says which one was used.
    let e = exits(
        1,
        &argv("train --data comma.csv --delimiter tab --out x -q"),
        d,
    );
    assert!(e.contains("with the separator tab (--delimiter)"), "{e}");
}

#[test]
fn a_text_column_is_one_hot_encoded_on_request_and_applied_at_predict_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("homes.csv"), homes(40, 3)).unwrap();
    let base = format!("train --data homes.csv --features sqft,rooms,city {FIT}");
    // The mistake: a text column, no flag. The message names both ways out.
    let e = exits(1, &argv("train --data homes.csv --out x -q"), d);
    assert!(
        e.contains("column id: `H0` is not a number; `id` holds a different text in every row (an identifier?): leave it out with --features sqft,rooms,city"),
        "{e}"
    );
    let e = exits(1, &argv(&format!("{base} --out x")), d);
    assert!(
        e.contains("line 2, column city: `Springfield` is not a number; `city` holds text (3 distinct values: Ogdenville, Shelbyville, Springfield)"),
        "{e}"
    );
    assert!(
        e.contains(
            "--one-hot city (or --one-hot auto), or leave it out with --features sqft,rooms"
        ),
        "{e}"
    );
    // Named, or found by `auto` (which says what it encoded).
    ok(&argv(&format!("{base} --one-hot city --out named")), d);
    let e = exits(
        0,
        &argv(&format!("{base} --one-hot auto --out auto").replace(" -q", "")),
        d,
    );
    assert!(
        e.contains(
            "note: one-hot encoded `city` as 3 columns (Ogdenville, Shelbyville, Springfield)"
        ),
        "{e}"
    );
    let named = std::fs::read(d.join("named/model.json")).unwrap();
    assert_eq!(std::fs::read(d.join("auto/model.json")).unwrap(), named);
    let model = read_json(&d.join("named/model.json"));
    assert_eq!(
        model["one_hot"]["inputs"],
        serde_json::json!(["sqft", "rooms", "city"])
    );
    assert_eq!(model["features"][2], "city=Ogdenville");
    // `auto` on every column finds the id too, and its cap stops it with the reason.
    let e = exits(
        1,
        &argv(&format!(
            "train --data homes.csv --one-hot auto {FIT} --out x"
        )),
        d,
    );
    assert!(
        e.contains("`id` has more than 32 distinct values, too many to one-hot encode"),
        "{e}"
    );
    assert!(
        e.contains("raise --max-categories, or leave it out with --features sqft,rooms,city"),
        "{e}"
    );
    let e = exits(
        1,
        &argv(&format!("{base} --one-hot city --max-categories 2 --out x")),
        d,
    );
    assert!(e.contains("`city` has more than 2 distinct values"), "{e}");

    // Predict reads the text column and applies the saved encoding.
    let p = ok(&argv("predict --model named --input 1500,3,Shelbyville"), d);
    let price: f64 = p.trim().parse().unwrap();
    let expected = 50_000.0 + 150.0 * 1500.0 + 30_000.0 + 25_000.0;
    assert!(
        (price - expected).abs() < 1e-3 * expected,
        "{price} vs {expected}"
    );
    // A city the model never saw: an error naming it, or zeros with a warning.
    std::fs::write(
        d.join("new.csv"),
        "sqft,rooms,city\n1500,3,Shelbyville\n900,2,Capital City\n",
    )
    .unwrap();
    let e = exits(1, &argv("predict --model named --data new.csv"), d);
    assert!(e.contains("new.csv, line 3, column city: `Capital City` is not one of the categories the model was trained on for `city` (Ogdenville, Shelbyville, Springfield)"), "{e}");
    assert!(e.contains("--unknown-category zeros"), "{e}");
    let out = descent(
        &argv("predict --model named --data new.csv --unknown-category zeros"),
        d,
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: 1 cell(s) hold categories the model was not trained on (city: Capital City)"
        ),
        "{stderr}"
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.lines()
            .nth(2)
            .unwrap()
            .starts_with("900,2,Capital City,"),
        "{csv}"
    );
    // A model trained on numbers only, given text at predict time: retrain, the hint says.
    ok(
        &argv(&format!(
            "train --data homes.csv --features sqft,rooms {FIT} --out plain"
        )),
        d,
    );
    std::fs::write(d.join("typo.csv"), "sqft,rooms\n1500,three\n1200,two\n").unwrap();
    let e = exits(1, &argv("predict --model plain --data typo.csv"), d);
    assert!(
        e.contains("but the model was trained on it as numbers: retrain it with `descent train ... --one-hot rooms`"),
        "{e}"
    );
}

#[test]
fn text_labels_choose_the_loss_of_an_mlp_and_errors_name_the_loss_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut yes_no = String::from("income,debt,approved\n");
    let mut three = String::from("x1,x2,species\n");
    let mut numeric = String::from("x1,x2,y\n");
    for i in 0..30 {
        let (a, b) = ((i % 7) as f64, (i % 5) as f64);
        yes_no += &format!("{a},{b},{}\n", if a > b { "yes" } else { "no" });
        three += &format!("{a},{b},{}\n", ["setosa", "versicolor", "virginica"][i % 3]);
        numeric += &format!("{a},{b},{}\n", i % 2);
    }
    std::fs::write(d.join("loans.csv"), yes_no).unwrap();
    std::fs::write(d.join("flowers.csv"), three).unwrap();
    std::fs::write(d.join("numeric.csv"), numeric).unwrap();
    let mlp = "--model mlp --hidden 4 --epochs 5 -q";
    ok(
        &argv(&format!("train --data loans.csv {mlp} --out loans")),
        d,
    );
    let s = read_json(&d.join("loans/summary.json"));
    assert_eq!(s["loss"]["name"], "bce-with-logits", "{s}");
    assert_eq!(s["data"]["classes"], serde_json::json!(["no", "yes"]));
    ok(
        &argv(&format!("train --data flowers.csv {mlp} --out flowers")),
        d,
    );
    assert_eq!(
        read_json(&d.join("flowers/summary.json"))["loss"]["name"],
        "cross-entropy"
    );
    // Numeric labels keep the regression default (existing runs keep their numbers).
    ok(
        &argv(&format!("train --data numeric.csv {mlp} --out numeric")),
        d,
    );
    assert_eq!(
        read_json(&d.join("numeric/summary.json"))["loss"]["name"],
        "mse"
    );
    // Still an error when the loss or the model is a regression one: it names what works.
    let e = exits(
        1,
        &argv(&format!("train --data loans.csv {mlp} --loss mse --out x")),
        d,
    );
    assert!(e.contains("the target `approved` holds class labels (2: no, yes), not numbers; train with --loss bce-with-logits, or leave --loss out"), "{e}");
    let e = exits(
        1,
        &argv(&format!(
            "train --data flowers.csv {mlp} --loss mae --out x"
        )),
        d,
    );
    assert!(e.contains("train with --loss cross-entropy"), "{e}");
    let e = exits(1, &argv("train --data loans.csv --out x -q"), d);
    assert!(
        e.contains(
            "use --model logistic (or --model mlp --hidden N, whose loss follows the labels)"
        ),
        "{e}"
    );
    let e = exits(1, &argv("train --data flowers.csv --out x -q"), d);
    assert!(e.contains("use --model softmax"), "{e}");
    // The probing commands follow the labels too.
    ok(
        &argv("gradcheck --data loans.csv --model mlp --hidden 3"),
        d,
    );
}

#[test]
fn every_command_that_reads_data_takes_the_data_flags_its_hints_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("gaps.tsv"), "x\ty\n1\t2\n\t4\n3\t6\n4\t8\n").unwrap();
    ok(
        &argv("train --data gaps.tsv --drop-missing --epochs 5 --out m -q"),
        d,
    );
    // The hint names --drop-missing, and predict now takes it (and --delimiter, --target).
    let e = exits(1, &argv("predict --model m --data gaps.tsv"), d);
    assert!(e.contains("pass --drop-missing"), "{e}");
    let out = descent(
        &argv("predict --model m --data gaps.tsv --drop-missing --delimiter tab"),
        d,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("dropped 1 row(s) with a missing value"));
    for command in [
        "lr-find --data gaps.tsv --drop-missing --delimiter tab --steps 10 --out lr",
        "compare --data gaps.tsv --drop-missing --optimizers sgd,adam --epochs 3 --out cmp",
        "search --data gaps.tsv --drop-missing --model linear-nobias --range 0:4:1 --out s",
        "gradcheck --data gaps.tsv --drop-missing",
    ] {
        let e = exits(1, &argv(&command.replace(" --drop-missing", "")), d);
        assert!(e.contains("--drop-missing"), "{command}: {e}");
        ok(&argv(command), d);
    }
}

#[test]
fn predictions_keep_the_input_columns_and_are_scored_against_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("homes.csv"), homes(40, 3)).unwrap();
    let line =
        format!("train --data homes.csv --features sqft,rooms,city --one-hot city {FIT} --out m");
    ok(&argv(&line), d);
    let stdout = ok(&argv("predict --model m --data homes.csv --out p.csv"), d);
    let csv = std::fs::read_to_string(d.join("p.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id,sqft,rooms,city,price,price_pred"));
    assert!(
        lines.next().unwrap().starts_with("H0,800,1,Springfield,"),
        "{csv}"
    );
    // The target is there: the score is printed and written beside the output.
    assert!(
        stdout.starts_with("mse ") && stdout.contains(" on 40 rows (target price)"),
        "{stdout}"
    );
    let scores = read_json(&d.join("p.metrics.json"));
    assert!(scores["r2"].as_f64().unwrap() > 0.999_999, "{scores}");
    assert_eq!(scores["rows"], 40);
    // --keep chooses the columns copied.
    let kept = ok(&argv("predict --model m --data homes.csv --keep id"), d);
    assert!(kept.starts_with("id,price_pred\nH0,"), "{kept}");
    // Classification: accuracy and log loss (iris carries its labels).
    let line = "train --data builtin:iris --model softmax --scale standard --lr 0.5 --epochs 200 --out iris -q";
    ok(&argv(line), d);
    let out = descent(&argv("predict --model iris --data builtin:iris"), d);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("accuracy ")
            && stderr.contains("log loss ")
            && stderr.contains("on 150 rows (target species)"),
        "{stderr}"
    );
    let summary = read_json(&d.join("iris/summary.json"));
    let accuracy = summary["final"]["train"]["accuracy"].as_f64().unwrap();
    assert!(
        stderr.contains(&format!("accuracy {:.2}%", 100.0 * accuracy)),
        "{stderr}"
    );
    let log_loss = summary["final"]["train"]["loss"].as_f64().unwrap();
    let printed: f64 = stderr
        .split("log loss ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (printed - log_loss).abs() <= 1e-12 * log_loss,
        "{printed} vs {log_loss}"
    );
}

#[test]
fn predict_on_a_diverged_run_says_so_and_uses_its_best_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line =
        "train --data builtin:classic --model linear-nobias --lr 10 --epochs 300 --out dv -q";
    exits(3, &argv(line), d);
    let out = descent(&argv("predict --model dv --input 1"), d);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: the run in dv diverged and wrote no model.json; predicting with dv/best-model.json, the best parameters (epoch"), "{stderr}");
    // A directory that never held a run says what --model takes, with the OS text once.
    let e = exits(1, &argv("predict --model nothing --input 1"), d);
    assert!(
        e.contains("nothing: no such file or directory; --model takes a run directory"),
        "{e}"
    );
}

#[test]
fn coefficients_in_original_units_are_saved_and_inspect_prints_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // One city: the price is exactly linear in sqft and rooms.
    let one_city = homes(40, 1);
    std::fs::write(d.join("homes.csv"), one_city).unwrap();
    let line = format!("train --data homes.csv --features sqft,rooms {FIT} --out m");
    ok(&argv(&line), d);
    let s = read_json(&d.join("m/summary.json"));
    let c = &s["coefficients"];
    assert_eq!(c["features"], serde_json::json!(["sqft", "rooms"]));
    let original = &c["original_units"][0];
    let near = |v: &Value, e: f64| (v.as_f64().unwrap() - e).abs() <= 1e-6 * e.abs();
    assert!(near(&original["weights"][0], 150.0), "{c}");
    assert!(near(&original["weights"][1], 10_000.0), "{c}");
    assert!(near(&original["intercept"], 50_000.0), "{c}");
    // The scaled ones are what the model holds: its parameters.
    let model = read_json(&d.join("m/model.json"));
    assert_eq!(c["scaled"][0]["weights"], model["parameters"][0]["values"]);
    let text = ok(&argv("inspect m"), d);
    for part in [
        "m/model.json: linear (f64), loss mse",
        "inputs: sqft, rooms",
        "scaler: standard",
        "w(sqft) = ",
        "coefficients in the features' original units:",
        "price = 50000",
    ] {
        assert!(text.contains(part), "`{part}` not in:\n{text}");
    }
}

#[test]
fn small_things() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A missing file: the OS text once.
    for line in ["lr-find --data nofile.csv", "train --data nofile.csv -q"] {
        let out = descent(&argv(line), d);
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            e.matches("No such file or directory").count(),
            1,
            "{line}: {e}"
        );
    }
    // -q prints nothing on a successful run that fits (a run that did not fit still warns);
    // --json prints one JSON object.
    let out = descent(
        &argv(
            "train --data builtin:classic --model linear-nobias --lr 0.05 --epochs 100 --out q -q",
        ),
        d,
    );
    assert!(out.status.success());
    assert_eq!((out.stdout.len(), out.stderr.len()), (0, 0), "{out:?}");
    let json = ok(
        &argv("train --data builtin:classic --epochs 5 --out j --json -q"),
        d,
    );
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["outcome"]["epochs"], 5, "{v}");
    assert_eq!(v["out"], "j");
    assert!(v["final"]["train"]["mse"].is_number(), "{v}");
    // A negative learning rate is told it must be positive.
    let e = exits(
        1,
        &argv("train --data builtin:classic --lr -1 --out x -q"),
        d,
    );
    assert!(e.contains("--lr must be positive, not -1"), "{e}");
    assert!(!e.contains("zero"), "{e}");
    // Did you mean.
    let e = exits(
        2,
        &argv("train --data builtin:classic --optimizer adamm --out x -q"),
        d,
    );
    assert!(e.contains("a similar value exists: 'adam'"), "{e}");
    // Completions.
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(&["completions", shell], d);
        assert!(
            script.contains("descent") && script.contains("one-hot"),
            "{shell}"
        );
    }
    // The unscaled-features hint does not compare a column with itself.
    let mut wide = String::from("x,y\n");
    for i in 0..50 {
        wide += &format!("{},{}\n", i * 10, i * 20);
    }
    std::fs::write(d.join("wide.csv"), wide).unwrap();
    let e = exits(
        3,
        &argv("train --data wide.csv --lr 0.1 --epochs 50 --out w -q"),
        d,
    );
    assert!(
        e.contains("The features are not scaled: `x` (std 144.3) spread widely."),
        "{e}"
    );
    assert!(!e.contains("smallest std"), "{e}");
}
