#!/usr/bin/env python3
"""Item 7 of issue 18: the Python package against the CLI/library on the same work.

    python3 bench/python_speed.py [--rows 1000000] [--repeat 5] [--descent-bin PATH]

- P2 (linear regression, rows x 100 float32, shuffled batches of 256, SGD lr 0.01 / Adam
  lr 0.001): ``descent.Regressor.fit`` against ``descent bench P2-sgd|P2-adam`` (the library
  timing one epoch in-process). The fit's cost per epoch is the difference between a fit of
  1+E epochs and one of 1 epoch, over E, so that it measures the same thing as the bench
  (the epochs) and its one-off work (copying the arrays into the library's table, scaling,
  building the run) is reported apart.
- P5 (one Adam step over 10^7 float32 parameters): ``descent.optim.Adam.step`` on a numpy
  array against ``descent bench P5`` and ``torch.optim.Adam(fused=True)`` when torch is
  installed.

Prints one JSON object per line and a table; run it on a quiet machine (see README, Speed).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

import descent
import descent.optim

REPO = Path(__file__).resolve().parents[1]
SEED = 0  # as bench/reference.py
FEATURES = 100


def descent_bin(arg):
    for c in (arg, os.environ.get("DESCENT_BIN"), REPO / "target" / "release" / "descent", shutil.which("descent")):
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


def p2_data(rows):
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    w = rng.standard_normal((FEATURES, 1), dtype=np.float32)
    noise = np.float32(0.1) * rng.standard_normal((rows, 1), dtype=np.float32)
    y = (X @ w + np.float32(0.5) + noise).ravel()
    return X, y


def fit_seconds(X, y, optimizer, lr, epochs):
    est = descent.Regressor(
        model="linear", optimizer=optimizer, lr=lr, batch=256, epochs=epochs,
        scale="none", dtype="f32", seed=1,
    )
    t0 = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t0


def bench_p2(binary, rows, repeat, extra_epochs=4):
    X, y = p2_data(rows)
    out = []
    for which, optimizer, lr in (("P2-sgd", "sgd", 0.01), ("P2-adam", "adam", 0.001)):
        one, more = [], []
        for _ in range(repeat):
            one.append(fit_seconds(X, y, optimizer, lr, 1))
            more.append(fit_seconds(X, y, optimizer, lr, 1 + extra_epochs))
        per_epoch = (statistics.median(more) - statistics.median(one)) / extra_epochs
        rust = seconds_of(cli_bench(binary, which, repeat, rows))
        out.append({
            "workload": which, "python_epoch_s": per_epoch, "rust_epoch_s": rust,
            "ratio_python_over_rust": per_epoch / rust,
            "python_fit_overhead_s": statistics.median(one) - per_epoch,
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
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--descent-bin")
    args = ap.parse_args()
    binary = descent_bin(args.descent_bin)
    results = bench_p2(binary, args.rows, args.repeat) + [bench_p5(binary, args.repeat)]
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
