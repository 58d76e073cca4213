//! A run directory while its run is alive, through the real binary: `metrics.csv` grows line
//! by line as epochs end (a killed run leaves complete lines), a second run into the same
//! directory is refused while the first holds its lock (and the first finishes intact), a
//! killed run's stale lock is taken over, and `--resume` says which settings it overrode.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{descent, ok};

fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of 20000-row generated data, mini-batches of 4: a few milliseconds per epoch.
fn long_run(out: &str, epochs: usize) -> String {
    format!(
        "train --data big.csv --model linear --scale standard --optimizer adam --lr 0.001 \
         --batch 4 --epochs {epochs} --checkpoint-every 1 --out {out} -q"
    )
}

fn generate_big(d: &Path) {
    let line = "generate linear --rows 20000 --features 4 --noise 0.1 --seed 5 --out big.csv";
    ok(&argv(line), d);
}

fn spawn(line: &str, d: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(argv(line))
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Polls (not timing) until `done` holds, for at most two minutes.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The data lines of `run/metrics.csv` (0 if it is not there yet).
fn metric_rows(run: &Path) -> usize {
    std::fs::read_to_string(run.join("metrics.csv"))
        .map_or(0, |t| t.lines().count().saturating_sub(1))
}

#[test]
fn metrics_csv_grows_while_the_run_lives_and_a_killed_run_leaves_complete_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_big(d);
    let mut child = spawn(&long_run("live", 1_000_000), d);
    // `tail -f` would see these: rows on disk while the process still runs.
    wait_for("three rows in metrics.csv", || {
        metric_rows(&d.join("live")) >= 3
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run is still going"
    );
    child.kill().unwrap(); // SIGKILL, mid-epoch or mid-line
    child.wait().unwrap();
    let text = String::from_utf8(read(&d.join("live/metrics.csv"))).unwrap();
    assert!(
        text.ends_with('\n'),
        "a torn last line: {:?}",
        text.lines().last()
    );
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("epoch,step,loss,val_loss,lr,grad_norm"));
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 6, "{line}");
        assert_eq!(cells[0], (i + 1).to_string());
        assert!(cells[2].parse::<f64>().is_ok(), "{line}");
    }
    assert!(!d.join("live/.metrics.csv.tmp").exists());
    // The killed run's lock is stale: a resume takes it over, says so, and ends clean.
    assert!(d.join("live/run.lock").exists());
    let epochs = metric_rows(&d.join("live")) + 2;
    let line = format!("train --resume live --epochs {epochs}");
    let out = descent(&argv(&line), d);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("held a lock of process") && stderr.contains("no longer running"),
        "{stderr}"
    );
    assert!(!d.join("live/run.lock").exists(), "released on exit");
}

#[test]
fn a_second_run_into_a_live_runs_directory_is_refused_and_the_first_finishes_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate_big(d);
    let first = spawn(&long_run("same", 200), d);
    let pid = first.id();
    wait_for("the first run's lock", || d.join("same/run.lock").exists());
    // A second run, and a resume, into the same directory: refused, naming the first.
    for line in [
        "train --data big.csv --epochs 3 --out same -q".to_string(),
        "train --resume same -q".to_string(),
    ] {
        if line.contains("--resume") {
            wait_for("a checkpoint", || d.join("same/checkpoint.json").exists());
        }
        let out = descent(&argv(&line), d);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{line}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "same is in use by a run that is still going (process {pid}"
            )),
            "{line}: {stderr}"
        );
        assert!(stderr.contains("another --out"), "{stderr}");
    }
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Its files are those of the same run made alone.
    ok(&argv(&long_run("alone", 200)), d);
    for file in ["metrics.csv", "model.json"] {
        assert!(
            read(&d.join("same").join(file)) == read(&d.join("alone").join(file)),
            "{file}"
        );
    }
    assert!(!d.join("same/run.lock").exists());
}

#[test]
fn resume_says_which_settings_it_overrode_and_which_flags_it_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let line = "train --data builtin:wine --model softmax --scale standard --optimizer adam \
                --lr 0.01 --batch 16 --epochs 4 --checkpoint-every 2 --threads 2 --out r -q";
    ok(&argv(line), d);
    let out = descent(
        &argv("train --resume r --epochs 6 --threads 1 --lr 0.5 --batch 8"),
        d,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: resuming r with --epochs 6 (the run's total was 4) and --threads 1 (the run had 2); every other setting is the run's own"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: --batch, --lr ignored with --resume"),
        "{stderr}"
    );
    // The same values as the run's own: nothing to say.
    let out = descent(&argv("train --resume r --epochs 6 --threads 1"), d);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note: resuming"));
}
