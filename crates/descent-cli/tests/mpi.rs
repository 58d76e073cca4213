//! `mpirun -n N descent train ...` (the `mpi` feature, Open MPI): the files of a run on N
//! ranks are byte for byte those of the single process, for N = 1, 2, 3 and 8
//! (oversubscribed), across linear, logistic, softmax and MLP models, SGD, momentum and
//! Adam, f64 and f32, and with each ordered algorithm forced (all-gather, chain); streamed
//! ranks read only the row groups of their chunks (of a streamed CSV file, its chunks of rows)
//! and write the same bytes, their
//! statistics made once on rank 0 and their final metrics split; rank 0 alone
//! writes; mismatched ranks are refused at start; an error or a killed rank ends every rank
//! within 10 seconds with a message, a bad streamed file on rank 0 too; `--resume` on the same ranks continues to the
//! uninterrupted run's files; a validation split of streamed data is refused.
#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{bytes as read, ok};

const BIN: &str = env!("CARGO_BIN_EXE_descent");

/// `mpirun -n N descent ARGS` in `dir` (as root in CI, more ranks than cores).
fn mpirun_cmd(n: usize, args: &[&str], dir: &Path) -> Command {
    let mut c = Command::new("mpirun");
    c.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-n",
        &n.to_string(),
        BIN,
    ])
    .args(args)
    .current_dir(dir)
    // Containers often forbid the cross-memory attach Open MPI's shared-memory
    // transport tries first.
    .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    c
}

fn mpirun(n: usize, args: &[&str], dir: &Path) -> Output {
    mpirun_cmd(n, args, dir).output().expect("mpirun runs")
}

fn mpirun_ok(n: usize, args: &[&str], dir: &Path) -> String {
    let out = mpirun(n, args, dir);
    assert!(
        out.status.success(),
        "mpirun -n {n} descent {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The runs of the matrix: each model, optimizer and precision at least once; batches
/// cut into several 64-row chunks, and one shorter last batch per epoch.
const CASES: [(&str, &str); 4] = [
    (
        "linear-sgd-f64",
        "--data builtin:diabetes --model linear --scale standard --optimizer sgd --lr 0.05 --batch 200 --epochs 6",
    ),
    (
        "logistic-momentum-f32",
        "--data builtin:breast_cancer --model logistic --scale standard --optimizer sgd --lr 0.1 --momentum 0.9 --batch 150 --epochs 5 --dtype f32",
    ),
    (
        "softmax-adam-f64",
        "--data builtin:wine --model softmax --scale standard --optimizer adam --lr 0.05 --batch 100 --epochs 5 --val-fraction 0.2",
    ),
    (
        "mlp-adam-f32",
        "--data builtin:iris --model mlp --hidden 8 --activation tanh --scale standard --optimizer adam --lr 0.01 --batch 70 --epochs 5 --dtype f32",
    ),
];

fn args_of<'a>(case: &'a str, out: &'a str) -> Vec<&'a str> {
    let mut a = vec!["train"];
    a.extend(case.split_whitespace());
    a.extend(["--out", out, "--threads", "1", "--seed", "5"]);
    a
}

/// Runs `case` on one process and on each of `ranks`, comparing the files.
fn bit_equal(name: &str, case: &str, ranks: &[usize]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let single = format!("{name}-1p");
    ok(&args_of(case, &single), dir);
    for &n in ranks {
        let out = format!("{name}-{n}r");
        let stderr = mpirun_ok(n, &args_of(case, &out), dir);
        for r in 0..n {
            assert!(
                stderr.contains(&format!("rank {r} of {n}")),
                "no `rank {r} of {n}` note: {stderr}"
            );
        }
        let (a, b) = (dir.join(&single), dir.join(&out));
        assert_eq!(files(&a), files(&b), "{name} on {n} ranks: other files");
        for f in ["metrics.csv", "model.json"] {
            assert!(
                read(&a.join(f)) == read(&b.join(f)),
                "{name} on {n} ranks: {f} differs from the single process's"
            );
        }
    }
}

#[test]
fn one_two_and_three_ranks_write_the_single_process_bytes() {
    for (name, case) in CASES {
        bit_equal(name, case, &[1, 2, 3]);
    }
}

#[test]
fn eight_oversubscribed_ranks_write_the_single_process_bytes() {
    // 442 rows in batches of 200: 4 chunks for 8 ranks, some with none.
    bit_equal(CASES[0].0, CASES[0].1, &[8]);
    bit_equal(CASES[3].0, CASES[3].1, &[8]);
}

/// The ordered combine's two algorithms, forced with `DESCENT_MPI_ORDERED` (all-gather of
/// the chunk sums, or the running sum passed from rank to rank), write the single process's
/// bytes on 2, 3 and 8 ranks; rank 0 says which it used, with the α and β it measured; an
/// unknown name is refused.
#[test]
fn both_ordered_algorithms_write_the_single_process_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, case) in &CASES[..3] {
        let single = format!("{name}-1p");
        ok(&args_of(case, &single), dir);
        for (n, how) in [
            (2, "allgather"),
            (2, "chain"),
            (3, "allgather"),
            (3, "chain"),
        ] {
            let out = format!("{name}-{n}r-{how}");
            let run = mpirun_cmd(n, &args_of(case, &out), dir)
                .env("DESCENT_MPI_ORDERED", how)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&run.stderr);
            assert!(run.status.success(), "{name} on {n} ranks by {how}: {err}");
            assert!(
                err.contains(&format!("note: MPI {n} ranks, α "))
                    && err.contains(&format!("ordered combine by {how}")),
                "no note of the algorithm: {err}"
            );
            for f in ["metrics.csv", "model.json"] {
                assert!(
                    read(&dir.join(&single).join(f)) == read(&dir.join(&out).join(f)),
                    "{name} on {n} ranks by {how}: {f} differs from the single process's"
                );
            }
        }
    }
    // 8 ranks on 4 chunks, the chain passing through ranks without any.
    let (name, case) = CASES[0];
    let run = mpirun_cmd(8, &args_of(case, "chain-8"), dir)
        .env("DESCENT_MPI_ORDERED", "chain")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for f in ["metrics.csv", "model.json"] {
        assert!(
            read(&dir.join(format!("{name}-1p")).join(f)) == read(&dir.join("chain-8").join(f)),
            "{name} on 8 ranks by chain: {f} differs"
        );
    }
    let run = mpirun_cmd(2, &args_of(case, "bad"), dir)
        .env("DESCENT_MPI_ORDERED", "tree")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        err.contains("DESCENT_MPI_ORDERED=\"tree\" is not an ordered combine"),
        "{err}"
    );
}

/// Trains `BASE ORDER` alone (`--out NAME-1p`) and on 2 ranks (`--out NAME-2r`) in `dir`,
/// checks that the files are the same bytes, and returns the ranks' stderr.
fn alone_and_on_two_ranks(base: &str, order: &str, name: &str, dir: &Path) -> String {
    let single = format!("{name}-1p");
    let args = format!("{base} {order} --out {single}");
    ok(&args.split_whitespace().collect::<Vec<_>>(), dir);
    let out = format!("{name}-2r");
    let args = format!("{base} {order} --out {out}");
    let err = mpirun_ok(2, &args.split_whitespace().collect::<Vec<_>>(), dir);
    for f in ["metrics.csv", "model.json"] {
        assert!(
            read(&dir.join(&single).join(f)) == read(&dir.join(&out).join(f)),
            "{name}: {f} on 2 ranks differs from the single streamed run's"
        );
    }
    err
}

/// The row groups (a CSV file's chunks) each of the 2 ranks says in `err` it read per epoch,
/// of the file's 3. Taken note by note rather than line by line, so that a note still
/// counts if another rank's output lands on its line.
fn groups_read(err: &str) -> Vec<f64> {
    let read_by: Vec<f64> = err
        .split("note: ")
        .filter(|l| l.contains("row groups per epoch"))
        .map(|line| {
            assert!(line.contains("of 3 row groups"), "{line}");
            line.split(" read ")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("no figure in {line}"))
        })
        .collect();
    assert_eq!(read_by.len(), 2, "a note per rank: {err}");
    read_by
}

/// `--stream` under MPI, a linear model: each rank reads only the row groups that hold rows
/// of its chunks (fewer than the file's 3 in file order and with row groups permuted, every
/// row group read by some rank), and the files are the single streamed run's bytes, also
/// with a shuffle buffer that spreads every row group over both ranks.
#[test]
fn streamed_ranks_read_only_their_row_groups_and_write_the_single_process_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../descent/tests/fixtures/parquet/numbers_snappy.parquet");
    // 96 rows in 3 row groups of 32; one batch of 96 rows: chunk 0 (rows 0-63) on rank 0,
    // chunk 1 (rows 64-95) on rank 1.
    let base = format!(
        "train --data {} --features i8,i16,u8,u32,f16,f32,f64,flag,d32,d64 --stream --scale minmax --model linear --optimizer adam --lr 0.01 --batch 128 --epochs 4 --threads 1 --seed 5",
        data.display()
    );
    for (name, order, spared) in [
        ("file-order", "--no-shuffle", true),
        ("groups-permuted", "--shuffle-buffer 1", true),
        ("buffered", "--shuffle-buffer 1000", false),
    ] {
        let err = alone_and_on_two_ranks(&base, order, name, dir);
        let read_by = groups_read(&err);
        if spared {
            assert!(
                read_by.iter().all(|&g| g < 3.0) && read_by.iter().sum::<f64>() >= 3.0,
                "{name}: row groups read per epoch by the ranks: {read_by:?}"
            );
        }
    }
}

/// `--stream` of a CSV file under MPI: each rank makes the opening pass for the chunks'
/// positions, reads only the chunks that hold rows of its share of each batch (fewer than the
/// file's 3, every chunk read by some rank), and the files are the single streamed run's
/// bytes, in file order and with the chunks permuted.
#[test]
fn streamed_csv_ranks_read_only_their_chunks_and_write_the_single_process_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        &[
            "generate",
            "linear",
            "--rows",
            "96",
            "--features",
            "4",
            "--seed",
            "2",
            "--out",
            "g.csv",
        ],
        dir,
    );
    // 96 rows in 3 chunks of 32; one batch of 96 rows: rows 0-63 on rank 0, 64-95 on rank 1.
    let base = "train --data g.csv --stream --chunk-rows 32 --scale standard --model linear --optimizer adam --lr 0.01 --batch 128 --epochs 4 --threads 1 --seed 5";
    for (name, order) in [
        ("file-order", "--no-shuffle"),
        ("chunks-permuted", "--shuffle-buffer 1"),
    ] {
        let err = alone_and_on_two_ranks(base, order, name, dir);
        let read_by = groups_read(&err);
        assert!(
            read_by.iter().all(|&g| g < 3.0) && read_by.iter().sum::<f64>() >= 3.0,
            "{name}: chunks read per epoch by the ranks: {read_by:?}"
        );
    }
}

/// `--allreduce plain` sums the ranks' sums: not the same bits, but the same run to 1e-12.
#[test]
fn a_plain_all_reduce_agrees_to_1e_12_after_50_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let case = "--data builtin:diabetes --model linear --scale standard --optimizer adam --lr 0.01 --batch 300 --epochs 50";
    ok(&args_of(case, "one"), dir);
    let mut args = args_of(case, "plain");
    args.extend(["--allreduce", "plain"]);
    mpirun_ok(3, &args, dir);
    let params = |d: &str| -> Vec<f64> {
        let m: serde_json::Value =
            serde_json::from_slice(&read(&dir.join(d).join("model.json"))).unwrap();
        let mut v = Vec::new();
        collect_numbers(&m["parameters"], &mut v);
        v
    };
    let (a, b) = (params("one"), params("plain"));
    assert!(!a.is_empty() && a.len() == b.len());
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = a
        .iter()
        .zip(&b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(worst <= 1e-12 * scale, "plain all-reduce off by {worst:e}");
}

fn collect_numbers(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_numbers(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_numbers(x, out)),
        _ => {}
    }
}

/// Ranks started with different arguments are refused before training.
#[test]
fn ranks_with_different_arguments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "train --data builtin:diabetes --model linear --batch 100 --threads 1 --out r";
    let mut c = Command::new("mpirun");
    c.args(["--allow-run-as-root", "--oversubscribe", "-n", "1", BIN])
        .args(base.split_whitespace())
        .args(["--epochs", "3", ":", "-n", "1", BIN])
        .args(base.split_whitespace())
        .args(["--epochs", "4"])
        .current_dir(tmp.path())
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("rank(s) 1 differs from rank 0"),
        "no message naming the rank: {err}"
    );
    assert!(!tmp.path().join("r").join("model.json").exists());
}

/// One rank's error (its copy of the data has a bad row) ends every rank with a message
/// naming that rank and the cause.
#[test]
fn an_error_on_one_rank_ends_every_rank_with_its_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let good: String = (0..200)
        .map(|i| format!("{},{}\n", i as f64 / 10.0, i as f64 / 5.0))
        .collect();
    std::fs::write(a.join("d.csv"), format!("x,y\n{good}")).unwrap();
    std::fs::write(b.join("d.csv"), format!("x,y\n{good}3.0,oops\n")).unwrap();
    let out_dir = tmp.path().join("out");
    let args = [
        "train",
        "--data",
        "d.csv",
        "--epochs",
        "3",
        "--threads",
        "1",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let started = Instant::now();
    let mut c = Command::new("mpirun");
    c.args(["--allow-run-as-root", "--oversubscribe"])
        .args(["-n", "1", "-wdir", a.to_str().unwrap(), BIN])
        .args(args)
        .args([":", "-n", "1", "-wdir", b.to_str().unwrap(), BIN])
        .args(args)
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains("error: rank 1 of 2"), "no rank in: {err}");
    assert!(err.contains("oops"), "no cause in: {err}");
}

/// The pids of the `descent` processes whose parent is `parent` (this test's own mpirun).
fn children(parent: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(parent) && comm.ends_with("(descent") {
            pids.push(pid);
        }
    }
    pids
}

fn waits_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// SIGKILL on one rank mid-run: every rank has ended within 10 s, the last checkpoint is
/// whole, and `--resume` on the same ranks ends with the uninterrupted run's files.
#[test]
fn a_killed_rank_ends_the_run_and_resume_matches_the_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let case = "--data builtin:diabetes --model linear --scale standard --optimizer adam --lr 0.01 --batch 64 --checkpoint-every 1";
    let with = |out: &str, epochs: &str| {
        let mut a = args_of(case, out);
        a.extend(["--epochs", epochs, "--quiet"]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    // Long enough to be killed mid-run.
    let args = with("killed", "1000000");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = mpirun_cmd(2, &args, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ckpt = dir.join("killed").join("checkpoint.json");
    assert!(
        waits_until(Duration::from_secs(60), || ckpt.exists()),
        "no checkpoint written"
    );
    let ranks = children(child.id());
    assert_eq!(ranks.len(), 2, "rank processes: {ranks:?}");
    // SAFETY: kill(2) on a process this test started (a child of its own mpirun).
    assert_eq!(unsafe { libc::kill(ranks[1] as i32, libc::SIGKILL) }, 0);
    let killed_at = Instant::now();
    let ended = waits_until(Duration::from_secs(10), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    let took = killed_at.elapsed();
    if !ended {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    assert!(
        ended,
        "mpirun still running {took:?} after a rank was killed"
    );
    assert!(!status.success());
    assert!(
        !Path::new(&format!("/proc/{}", ranks[0])).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", ranks[0]))
                .is_ok_and(|s| s.contains(") Z ")),
        "rank 0 still alive"
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&read(&ckpt)).expect("a whole checkpoint");
    assert!(saved.is_object());

    // Resume on the same ranks continues to the uninterrupted run's files.
    let full = with("full", "8");
    mpirun_ok(2, &full.iter().map(String::as_str).collect::<Vec<_>>(), dir);
    let part = with("part", "3");
    mpirun_ok(2, &part.iter().map(String::as_str).collect::<Vec<_>>(), dir);
    let resume = ["train", "--resume", "part", "--epochs", "8", "--quiet"];
    mpirun_ok(2, &resume, dir);
    for f in ["metrics.csv", "model.json"] {
        assert!(
            read(&dir.join("full").join(f)) == read(&dir.join("part").join(f)),
            "{f}: the resumed run differs from the uninterrupted one"
        );
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../descent/tests/fixtures/parquet")
        .join(name)
        .display()
        .to_string()
}

/// `summary.json` without what differs between any two runs (the wall-clock seconds).
fn summary(dir: &Path) -> serde_json::Value {
    let mut s: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("summary.json"))).unwrap();
    let o = s.as_object_mut().unwrap();
    assert!(o.remove("seconds").is_some() && o.remove("timing").is_some());
    s
}

/// `--stream` on 2 and 3 ranks: rank 0 alone makes the pass for the statistics (it reads
/// the file's row groups for them; every other rank says it received them and read none),
/// and `metrics.csv`, `model.json` and `summary.json` (its final metrics split across the
/// ranks by whole batches) are the single streamed run's (the summary's exact figures: all
/// but its wall-clock seconds), for standard and min-max scaling, a linear model, an MLP
/// (whose ranks read every row) and class labels that travel with the statistics.
#[test]
fn streamed_statistics_come_from_rank_0_and_the_files_are_the_single_process_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let numbers = fixture("numbers_snappy.parquet");
    let classes = fixture("classes.parquet");
    let cases = [
        (
            "linear",
            format!("--data {numbers} --features i8,i16,f16,f32,f64,d32 --scale standard --scale-target standard --model linear --optimizer adam --lr 0.01 --batch 20 --shuffle-buffer 40"),
            3,
        ),
        (
            "mlp",
            format!("--data {numbers} --features u8,u32,f64,flag,d64 --scale minmax --model mlp --hidden 5 --optimizer sgd --lr 0.05 --batch 30 --no-shuffle"),
            3,
        ),
        (
            "softmax",
            format!("--data {classes} --features size,count --target label --scale standard --model softmax --optimizer adam --lr 0.05 --batch 16"),
            1,
        ),
    ];
    for (name, case, groups) in &cases {
        let args = |out: &str| {
            let mut a = vec!["train".to_string(), "--stream".to_string()];
            a.extend(case.split_whitespace().map(String::from));
            a.extend(
                [
                    "--epochs",
                    "4",
                    "--threads",
                    "1",
                    "--seed",
                    "3",
                    "--out",
                    out,
                ]
                .map(String::from),
            );
            a
        };
        let single = format!("{name}-1p");
        let a = args(&single);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>(), dir);
        for n in [2, 3] {
            let out = format!("{name}-{n}r");
            let a = args(&out);
            let err = mpirun_ok(n, &a.iter().map(String::as_str).collect::<Vec<_>>(), dir);
            let root = format!("statistics from one pass over {groups} row group(s) (");
            let root_lines: Vec<&str> = err.lines().filter(|l| l.contains(&root)).collect();
            assert!(
                root_lines.len() == 1 && root_lines[0].contains(&format!("rank 0 of {n}")),
                "{name}: rank 0 made the pass: {err}"
            );
            for r in 1..n {
                assert!(
                    err.lines().any(|l| l.contains(&format!("rank {r} of {n}"))
                        && l.contains("statistics received from rank 0 (")
                        && l.contains("read 0 row group(s) for them")),
                    "{name}: rank {r} of {n} received the statistics and read nothing: {err}"
                );
            }
            for f in ["metrics.csv", "model.json"] {
                assert!(
                    read(&dir.join(&single).join(f)) == read(&dir.join(&out).join(f)),
                    "{name} on {n} ranks: {f} differs from the single streamed run's"
                );
            }
            assert_eq!(
                summary(&dir.join(&single)),
                summary(&dir.join(&out)),
                "{name} on {n} ranks: summary.json differs"
            );
        }
    }
}

/// A streamed file whose pass for the statistics fails (a missing value, no
/// `--drop-missing`) ends every rank, non-zero and within 10 s, with the file named: rank 0
/// made the pass and failed, and the others, waiting for its statistics, learn why.
#[test]
fn a_bad_streamed_file_ends_every_rank_with_the_file_named() {
    let tmp = tempfile::tempdir().unwrap();
    let numbers = fixture("numbers_snappy.parquet");
    let args = format!(
        "train --data {numbers} --features f64,level --stream --model linear --batch 16 --epochs 2 --threads 1 --out r"
    );
    let args: Vec<&str> = args.split_whitespace().collect();
    for n in [2, 3] {
        let started = Instant::now();
        let out = mpirun(n, &args, tmp.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{n} ranks took {:?}",
            started.elapsed()
        );
        // Whichever rank's MPI_Abort comes first may end the others before they print.
        let named = |l: &&str| l.contains("numbers_snappy.parquet") && l.contains("column level");
        let from_root = |l: &&str| {
            l.contains(&format!("error: rank 0 of {n}: "))
                || l.contains("rank 0 could not make the pass over the data for its statistics")
        };
        assert!(
            err.lines().any(|l| named(&l) && from_root(&l)),
            "no line naming rank 0, the file and the column in: {err}"
        );
        assert!(!tmp.path().join("r").join("model.json").exists());
    }
}

/// A validation split of streamed data is refused under mpirun (each rank would read the
/// validation rows whole after every epoch), on every rank, before anything is written.
#[test]
fn a_streamed_validation_split_is_refused_on_every_rank() {
    let tmp = tempfile::tempdir().unwrap();
    let numbers = fixture("numbers_snappy.parquet");
    let args = format!(
        "train --data {numbers} --features f64,f32 --drop-missing --stream --val-fraction 0.2 --model linear --batch 16 --epochs 2 --threads 1 --out r"
    );
    let args: Vec<&str> = args.split_whitespace().collect();
    let out = mpirun(2, &args, tmp.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("--val-fraction on streamed data is not available under mpirun"),
        "{err}"
    );
    assert!(!tmp.path().join("r").join("model.json").exists());
}
