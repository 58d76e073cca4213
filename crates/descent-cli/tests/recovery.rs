//! Never lose a run, through the real binary: checkpoint and resume (bit-identical to an
//! uninterrupted run), Ctrl-C, SIGKILL at a random moment, early stopping, divergence
//! handling and diagnosis, the saddle-point warning, and determinism across thread counts.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use descent::analysis::{lr_bound, PowerIteration};
use descent::data::{builtin, Columns, Scaler, Scaling, TargetKind};
use descent::train::diagnosis::num;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

mod common;
use common::{descent, ok};

/// A command line, split at whitespace.
fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Runs a command that must exit with `code`; returns its stderr.
fn exits(code: i32, args: &[&str], dir: &Path) -> String {
    let out = descent(args, dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "descent {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn summary(run: &Path) -> Value {
    serde_json::from_slice(&read(&run.join("summary.json"))).unwrap()
}

/// The `val_loss` column of metrics.csv.
fn val_losses(run: &Path) -> Vec<f64> {
    String::from_utf8(read(&run.join("metrics.csv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect()
}

/// The same run's files, byte for byte (summary.json holds timings and is not compared).
fn assert_same_run(a: &Path, b: &Path) {
    for file in ["metrics.csv", "model.json"] {
        assert!(
            read(&a.join(file)) == read(&b.join(file)),
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// A run with shuffled mini-batches, a validation split and a schedule.
fn wine(optimizer: &str, lr: &str, out: &str, rest: &str) -> String {
    format!(
        "train --data builtin:wine --model mlp --hidden 6 --loss cross-entropy --scale standard \
         --optimizer {optimizer} --lr {lr} --batch 16 --val-fraction 0.2 --seed 3 \
         --schedule step:step_size=4,gamma=0.7 --out {out} -q {rest}"
    )
}

#[test]
fn resuming_from_a_checkpoint_equals_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let optimizers = [
        ("sgd", "0.05"),
        ("adam", "0.01"),
        ("rmsprop", "0.005"),
        ("asgd", "0.05"),
        ("rprop", "0.001"),
        ("adadelta", "1.0"),
    ];
    for (optimizer, lr) in optimizers {
        let full = format!("{optimizer}-full");
        ok(&argv(&wine(optimizer, lr, &full, "--epochs 12")), d);
        for stop_at in [1, 5, 11] {
            let part = format!("{optimizer}-{stop_at}");
            let rest = format!("--epochs {stop_at} --checkpoint-every {stop_at}");
            ok(&argv(&wine(optimizer, lr, &part, &rest)), d);
            ok(&argv(&format!("train --resume {part} --epochs 12 -q")), d);
            assert_same_run(&d.join(&full), &d.join(&part));
        }
    }
}

#[test]
fn a_resumed_run_keeps_checkpointing_and_can_be_resumed_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&argv(&wine("nadam", "0.01", "full", "--epochs 9")), d);
    let rest = "--epochs 3 --checkpoint-every 2";
    ok(&argv(&wine("nadam", "0.01", "part", rest)), d);
    ok(&argv("train --resume part --epochs 6 -q"), d);
    let c: Value = serde_json::from_slice(&read(&d.join("part/checkpoint.json"))).unwrap();
    assert_eq!(c["body"]["state"]["epoch"], 6);
    ok(&argv("train --resume part --epochs 9 -q"), d);
    assert_same_run(&d.join("full"), &d.join("part"));
    let e = exits(1, &argv("train --resume part --epochs 4 -q"), d);
    assert!(
        e.contains("the checkpoint is at epoch 9, beyond --epochs 4"),
        "{e}"
    );
}

/// A long run on generated data, checkpointing every epoch.
fn long_run(out: &str) -> String {
    format!(
        "train --data big.csv --model linear --scale standard --optimizer adam --lr 0.001 \
         --batch 4 --epochs 60 --checkpoint-every 1 --out {out} -q"
    )
}

fn generate_big(d: &Path) {
    let line = "generate linear --rows 20000 --features 4 --noise 0.1 --seed 5 --out big.csv";
    ok(&argv(line), d);
}

/// The epoch of the checkpoint in `run`, if one is there.
fn checkpoint_epoch(run: &Path) -> Option<u64> {
    let text = std::fs::read(run.join("checkpoint.json")).ok()?;
    let c: Value = serde_json::from_slice(&text).ok()?;
    c["body"]["state"]["epoch"].as_u64()
}

/// Starts `long_run(out)` and waits until it has checkpointed epoch `epoch`.
fn start_and_wait_for_checkpoint(d: &Path, out: &str, epoch: u64) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(argv(&long_run(out)))
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint_epoch(&d.join(out)).is_none_or(|e| e < epoch) {
        assert!(
            Instant::now() < deadline,
            "no checkpoint of epoch {epoch} appeared"
        );
        std::thread::sleep(Duration::from_millis(1)); // polling, not timing
    }
    child
}

#[test]
fn a_run_killed_at_a_random_moment_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_big(d);
    ok(&argv(&long_run("ref")), d);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    for round in 0..3 {
        let out = format!("killed{round}");
        // Some moment of the run, most likely mid-epoch or mid-write of a file.
        let mut child = start_and_wait_for_checkpoint(d, &out, rng.random_range(1..45));
        std::thread::sleep(Duration::from_micros(rng.random_range(0..5000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        ok(&argv(&format!("train --resume {out} -q")), d);
        assert_same_run(&d.join("ref"), &d.join(&out));
    }
}

#[test]
fn ctrl_c_stops_cleanly_saves_the_state_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_big(d);
    // A run far too long to end on its own during the test (10^6 epochs of about a
    // millisecond): SIGINT certainly reaches it while it trains.
    let forever = long_run("int").replace("--epochs 60", "--epochs 1000000");
    let child = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(argv(&forever))
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint_epoch(&d.join("int")).is_none_or(|e| e < 3) {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(1)); // polling, not timing
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Delivered and handled: exit 130, the message, a stopped summary, a model.
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("descent train --resume int"), "{stderr}");
    let s = summary(&d.join("int"));
    assert_eq!(s["outcome"]["stop"]["status"], "stopped", "{s}");
    assert_eq!(
        s["outcome"]["stop"]["reason"], "interrupted (Ctrl-C)",
        "{s}"
    );
    assert!(d.join("int/model.json").exists());
    // Resumed to a few epochs past the stop, it equals a straight run of that length.
    let stopped_at = checkpoint_epoch(&d.join("int")).unwrap();
    let total = (stopped_at + 3).to_string();
    ok(&argv(&format!("train --resume int --epochs {total} -q")), d);
    ok(
        &argv(&long_run("ref").replace("--epochs 60", &format!("--epochs {total}"))),
        d,
    );
    assert_same_run(&d.join("ref"), &d.join("int"));
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = "train --data builtin:iris --model mlp --hidden 64 --loss cross-entropy \
                --scale standard --optimizer adam --lr 0.05 --batch 16 --epochs 500 \
                --val-fraction 0.3 --early-stopping patience=5 --out es -q";
    ok(&argv(line), d);
    let s = summary(&d.join("es"));
    let stop = &s["outcome"]["stop"];
    assert_eq!(stop["status"], "early-stopped", "{s}");
    let epoch = stop["epoch"].as_u64().unwrap() as usize;
    let best = stop["best_epoch"].as_u64().unwrap() as usize;
    assert!(epoch < 500 && epoch == best + 5, "{stop}");
    let val = val_losses(&d.join("es"));
    assert_eq!(val.len(), epoch);
    let min = val.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(val[best - 1], min);
    // The model written is the best epoch's: its validation loss is that minimum.
    assert_eq!(s["final"]["val"]["loss"].as_f64().unwrap(), min);
}

#[test]
fn divergence_is_explained_with_the_stable_bound_and_the_unscaled_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = "train --data builtin:diabetes --model linear --lr 0.5 --epochs 50 --out div -q";
    let e = exits(3, &argv(line), d);
    assert!(e.contains("error: training diverged at epoch"), "{e}");
    assert!(e.contains("diverges when lr > 2/λ_max"), "{e}");
    assert!(e.contains("The features are not scaled: `s1`"), "{e}");
    assert!(e.contains("--scale standard"), "{e}");
    assert!(!d.join("div/model.json").exists());
    assert!(d.join("div/best-model.json").exists());
    assert_eq!(
        summary(&d.join("div"))["outcome"]["stop"]["status"],
        "diverged"
    );

    // Scaled, the only cause left is the learning rate; the bound is the library's.
    let line = "train --data builtin:diabetes --model linear --scale standard --lr 2.5 \
                --epochs 50 --out div2 -q";
    let e = exits(3, &argv(line), d);
    let mut data = builtin::load("diabetes", &Columns::default(), TargetKind::Real).unwrap();
    Scaler::fit(Scaling::Standard, &data.x)
        .transform(&mut data.x)
        .unwrap();
    let opts = PowerIteration {
        max_iter: 20_000,
        tol: 1e-12,
        seed: 0,
    };
    let bound = lr_bound(data.x.view(), true, &opts).unwrap();
    let expected = format!("2/λ_max = {}", num(bound.lr_max_stable));
    assert!(e.contains(&expected), "`{expected}` not in {e}");
    assert!(!e.contains("not scaled"), "{e}");

    // Momentum widens the bound (2 (1 + m) / λ_max, λ_max = 2 mean(x²) = 28/3) and is named.
    let line = "train --data builtin:classic --model linear-nobias --lr 0.5 --momentum 0.9 \
                --epochs 100 --out mom -q";
    let e = exits(3, &argv(line), d);
    assert!(e.contains("for heavy-ball momentum 0.9"), "{e}");
    assert!(e.contains("2(1 + μ)/λ_max = 0.4071"), "{e}");
    assert!(e.contains("Momentum 0.9 lets steps grow"), "{e}");
}

#[test]
fn reduce_lr_recovers_a_diverging_run_and_continue_lets_it_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "train --data builtin:classic --model linear-nobias --init 1.0 --lr 0.5 \
                --batch full -q";
    ok(
        &argv(&format!(
            "{base} --epochs 100 --on-divergence reduce-lr --out r"
        )),
        d,
    );
    let s = summary(&d.join("r"));
    assert_eq!(s["outcome"]["stop"]["status"], "completed", "{s}");
    assert_eq!(s["outcome"]["lr_scale"].as_f64().unwrap(), 0.1, "{s}");
    // lr 0.05 is stable here (2/λ_max = 0.214): the fit is w = 2.
    let w = ok(&argv("predict --model r --input 1"), d);
    assert!((w.trim().parse::<f64>().unwrap() - 2.0).abs() < 1e-9, "{w}");

    // `continue` lets a rising loss go on until it overflows; then it stops all the same.
    let line = format!("{base} --epochs 2000 --on-divergence continue --out c");
    let e = exits(3, &argv(&line), d);
    assert!(e.contains("the loss became"), "{e}");
}

#[test]
fn a_network_stuck_at_a_saddle_point_gets_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "train --data builtin:diabetes --model mlp --hidden 8 --activation tanh \
                --scale standard --lr 0.1 --epochs 300";
    let e = exits(0, &argv(&format!("{base} --init zeros --out z")), d);
    assert!(e.contains("warning: ") && e.contains("saddle point"), "{e}");
    assert!(e.contains("--init torch"), "{e}");
    let e = exits(0, &argv(&format!("{base} --out t")), d);
    assert!(!e.contains("saddle"), "{e}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for threads in ["1", "2"] {
        let rest = format!("--epochs 5 --threads {threads} --deterministic");
        ok(
            &argv(&wine("adam", "0.01", &format!("t{threads}"), &rest)),
            d,
        );
    }
    assert_same_run(&d.join("t1"), &d.join("t2"));
}
