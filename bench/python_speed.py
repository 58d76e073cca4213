#!/usr/bin/env python3
"""Item 7 of issue 18: the Python package against the CLI/library on the same work.

    python3 bench/python_speed.py [--rows 1000000] [--epochs 5] [--repeat 3] [--descent-bin PATH]
        [--data-dir DIR] [--skip-p5]

- P2 (linear regression, rows x 100 features, shuffled batches of 256, SGD lr 0.01 / Adam
  lr 0.001, f32, no scaling, seed 1): the whole ``descent.Regressor.fit`` on a float32
  numpy array against the whole ``descent train`` on the same data (a CSV that ``descent
  generate linear`` writes, read once by both: the CLI's time is its summary's
  ``timing.setup_s + timing.train_s``, reading the CSV excluded), and the per-epoch figure
  of each (``train_s / epochs``: ``Regressor.timing_`` and the summary's ``timing``), the
  runs alternating side by side. Both must train the same numbers: the
  per-epoch losses of ``history_`` and ``metrics.csv`` are compared, and ``descent bench
  P2-*`` (the library timing one epoch in-process) is printed beside them.
- P5 (one Adam step over 10^7 float32 parameters): ``descent.optim.Adam.step`` on a numpy
  array against ``descent bench P5`` and ``torch.optim.Adam(fused=True)`` when torch is
  installed.

Prints one JSON object per line and a table of ratios; run it on a quiet machine (the load
average is printed with the figures).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import descent
import descent.optim

REPO = Path(__file__).resolve().parents[1]
SEED = 0  # as bench/reference.py
FEATURES = 100


def descent_bin(arg):
    target = os.environ.get("CARGO_TARGET_DIR")
    built = Path(target) / "release" / "descent" if target else None
    for c in (arg, os.environ.get("DESCENT_BIN"), built, REPO / "target" / "release" / "descent", shutil.which("descent")):
        if c and Path(c).is_file():
            return str(c)
    raise SystemExit("no descent binary: cargo build --release -p descent-cli, or --descent-bin PATH")


def cli_bench(binary, workload, repeat, rows=None):
    cmd = [binary, "bench", workload, "--repeat", str(repeat), "--json"]
    if rows:
        cmd += ["--rows", str(rows)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rec = json.loads(line)
            if rec.get("workload", workload) == workload:
                return rec
    raise SystemExit(f"no JSON from {' '.join(cmd)}:\n{out}")


def seconds_of(rec):
    for key in ("median", "seconds", "median_seconds"):
        if key in rec:
            return float(rec[key])
    raise SystemExit(f"no median in {rec}")


def p2_csv(binary, rows, folder):
    path = Path(folder) / f"p2-{rows}.csv"
    if not path.is_file():
        subprocess.run([binary, "generate", "linear", "--rows", str(rows), "--features", str(FEATURES),
                        "--seed", str(SEED), "--out", str(path)], check=True)
    return path


def p2_spec(optimizer, lr, epochs):
    """The run both sides make, as Regressor arguments and as CLI flags."""
    py = dict(model="linear", optimizer=optimizer, lr=lr, batch=256, epochs=epochs, scale="none",
              scale_target="none", dtype="f32", seed=1)
    cli = ["--model", "linear", "--optimizer", optimizer, "--lr", str(lr), "--batch", "256",
           "--epochs", str(epochs), "--scale", "none", "--scale-target", "none", "--dtype", "f32",
           "--seed", "1"]
    return py, cli


def python_fit(X, y, optimizer, lr, epochs):
    py, _ = p2_spec(optimizer, lr, epochs)
    est = descent.Regressor(**py)
    t0 = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t0, est.history_["loss"], est.timing_


def cli_train(binary, csv, optimizer, lr, epochs, out):
    _, flags = p2_spec(optimizer, lr, epochs)
    subprocess.run([binary, "train", "--data", str(csv), "--target", "y", *flags, "--out", str(out),
                    "--quiet"], check=True, capture_output=True)
    summary = json.loads((Path(out) / "summary.json").read_text())
    t = summary["timing"]
    losses = pd.read_csv(Path(out) / "metrics.csv")["loss"].to_numpy()
    return t["setup_s"] + t["train_s"], losses, t


def bench_p2(binary, rows, repeat, epochs, folder):
    csv = p2_csv(binary, rows, folder)
    table = pd.read_csv(csv, dtype=np.float64)
    X = table.drop(columns="y").to_numpy(dtype=np.float32)  # what the CLI's f32 table holds
    y = table["y"].to_numpy()
    del table
    out = []
    med = statistics.median
    for which, optimizer, lr in (("P2-sgd", "sgd", 0.01), ("P2-adam", "adam", 0.001)):
        py, cli = [], []
        for r in range(repeat):  # alternating, so that a change of load hits both sides
            py.append(python_fit(X, y, optimizer, lr, epochs))
            cli.append(cli_train(binary, csv, optimizer, lr, epochs, Path(folder) / f"run-{which}-{r}"))
        py_loss, cli_loss = py[-1][1], cli[-1][1]
        same = len(py_loss) == len(cli_loss) and bool(np.array_equal(py_loss, cli_loss))
        rel = (float(np.max(np.abs(py_loss - cli_loss) / np.abs(cli_loss)))
               if len(py_loss) == len(cli_loss) else None)
        py_fit, cli_fit = med(p[0] for p in py), med(c[0] for c in cli)
        py_epoch = med(p[2]["train_s"] for p in py) / epochs
        cli_epoch = med(c[2]["train_s"] for c in cli) / epochs
        rust = seconds_of(cli_bench(binary, which, repeat, rows))
        out.append({
            "workload": which, "rows": rows, "epochs": epochs, "repeat": repeat,
            # the whole fit (Python's wall clock, arrays to fitted estimator) against the whole
            # train without reading the CSV (setup_s + train_s)
            "python_fit_s": py_fit, "cli_train_s": cli_fit, "ratio_fit_over_train": py_fit / cli_fit,
            "python_epoch_s": py_epoch, "cli_epoch_s": cli_epoch, "ratio_epoch": py_epoch / cli_epoch,
            "python_setup_s": med(p[2]["setup_s"] for p in py), "cli_setup_s": med(c[2]["setup_s"] for c in cli),
            "bench_epoch_s": rust, "ratio_python_epoch_over_bench": py_epoch / rust,
            "same_losses": same, "max_rel_loss_diff": rel,
        })
    return out


def bench_p5(binary, repeat):
    n = 10_000_000
    rng = np.random.default_rng(SEED + 5)
    p = rng.standard_normal(n, dtype=np.float32)
    g = rng.standard_normal(n, dtype=np.float32)
    opt = descent.optim.Adam([p], lr=1e-3)
    times = []
    for i in range(repeat + 3):
        t0 = time.perf_counter()
        opt.step([g])
        if i >= 3:
            times.append(time.perf_counter() - t0)
    rec = {"workload": "P5", "python_step_s": statistics.median(times),
           "rust_step_s": seconds_of(cli_bench(binary, "P5", repeat))}
    rec["ratio_python_over_rust"] = rec["python_step_s"] / rec["rust_step_s"]
    try:
        import torch
    except ImportError:
        return rec
    tp = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n, dtype=np.float32)))
    tp.grad = torch.from_numpy(g.copy())
    topt = torch.optim.Adam([tp], lr=1e-3, fused=True)
    times = []
    for i in range(repeat + 3):
        t0 = time.perf_counter()
        topt.step()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    rec["torch_fused_step_s"] = statistics.median(times)
    rec["torch_threads"] = torch.get_num_threads()
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--descent-bin")
    ap.add_argument("--data-dir", help="where the P2 CSV is written and kept (default: a temporary folder)")
    ap.add_argument("--skip-p5", action="store_true")
    args = ap.parse_args()
    binary = descent_bin(args.descent_bin)
    print(json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count()}))
    with tempfile.TemporaryDirectory() as tmp:
        results = bench_p2(binary, args.rows, args.repeat, args.epochs, args.data_dir or tmp)
    if not args.skip_p5:
        results.append(bench_p5(binary, args.repeat))
    for r in results:
        print(json.dumps(r))
    print(f"\n{'workload':10} {'fit s':>8} {'train s':>8} {'ratio':>6} | {'epoch py':>9} {'epoch cli':>9} {'ratio':>6} | "
          f"{'setup py':>8} {'setup cli':>9} | {'bench':>8} {'same losses':>11}")
    for r in results:
        if "python_fit_s" in r:
            print(f"{r['workload']:10} {r['python_fit_s']:8.3f} {r['cli_train_s']:8.3f} {r['ratio_fit_over_train']:6.3f} | "
                  f"{r['python_epoch_s']:9.4f} {r['cli_epoch_s']:9.4f} {r['ratio_epoch']:6.3f} | "
                  f"{r['python_setup_s']:8.3f} {r['cli_setup_s']:9.3f} | "
                  f"{r['bench_epoch_s']:8.4f} {str(r['same_losses']):>11}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
