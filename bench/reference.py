#!/usr/bin/env python3
"""Reference side of the descent benchmark suite (PyTorch / scikit-learn).

Usage:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python3 bench/reference.py [P1|P2-sgd|P2-adam|P2-sgd-f64|P2-adam-f64|P3-reg|P3-clf|P4|P4-f64|P5|all] \
        [--repeat N] [--threads N] [--rows N]

IMPORTANT: on some machines of this workplace OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are set in the environment (older OpenBLAS builds need them
on these processors). They force numpy's OpenBLAS onto an older, slower
kernel. For benchmarking, unset BOTH in the command that runs this script
(as above, and as bench/compare.sh does); never change them globally, in
tests or in CI. The script warns on stderr if either is still set, and prints
(via threadpoolctl) which BLAS/OpenMP libraries and kernels are loaded.

Busy machines: PyTorch's OpenMP threads spin-wait between parallel regions.
When the cores are shared with other work (e.g. a cargo build on a 2-core
box), a run with --threads 2 can be 5-15x slower than on a quiet machine and
very noisy (seen here: P2-sgd at 1e5 rows took 2.4 s with 2 threads vs 0.19 s
with 1 thread while builds ran; OMP_WAIT_POLICY=PASSIVE cut the 2-thread
time to 0.66 s). Benchmark on a quiet machine; this script changes no OpenMP
setting itself, so what it measures is PyTorch's default behaviour.

Output: one JSON object per line on stdout, e.g.
    {"workload": "P2-sgd", "impl": "pytorch", "seconds": 1.23, "min": 1.2,
     "max": 1.3, "repeat": 5, "threads": 2, "rows": 1000000}
"seconds" is the median over --repeat timed repetitions (default 5), after
one untimed warm-up run (three for P5, whose step time settles only after a
few steps; `descent bench` runs as many on its side, `Workload::warmups`).
Diagnostics go to stderr.

Workloads (data generated in-process with a fixed numpy seed, not timed;
float32 unless stated):
  P1       2-3-2-12-2 sigmoid MLP, 3 samples, MSELoss, 100 full-batch epochs
           with each of SGD(0.1, momentum 0.6), Adagrad(0.1),
           RMSprop(0.01, momentum 0.8), Adam(0.1); one run = all four
           trainings, fresh model each, eager PyTorch.
  P2-sgd   linear regression nn.Linear(100, 1), --rows x 100 (default
  P2-adam  1,000,000), MSELoss, batch 256, torch.randperm per epoch, X[idx]
           indexing per batch, one epoch; SGD(0.01) / Adam(0.001).
  P2-sgd-f64, P2-adam-f64: the same in float64 (data and model).
  P3-reg   scikit-learn SGDRegressor / SGDClassifier(log_loss) on float64
  P3-clf   --rows x 100, one epoch of plain per-sample SGD, constant lr 0.01,
           no regularisation, no shuffling; only fit() is timed.
           sklearn's per-sample SGD loop is single-threaded whatever the
           thread setting, so these lines report "threads": 1.
  P4       MLP 784-256-10, ReLU, CrossEntropyLoss, Adam(1e-3), batch 128,
           one epoch over 60,000 random samples in shuffled batches (a seeded
           permutation each epoch, each batch gathered from it, as descent does).
  P4-f64   the same in float64 (data and model).
  P5       one Adam(1e-3) step over a flat 10,000,000-element float32
           parameter with a random gradient; only optimizer.step() is timed.
           impls: "pytorch-fused" (fused=True), "pytorch-foreach"
           (foreach=True), and "pytorch-default" (no flag: on CPU PyTorch
           2.9 defaults to the single-tensor for-loop implementation, since
           foreach is only the default on CUDA/XPU devices).
"""

import argparse
import json
import os
import statistics
import sys
import time
import warnings

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    if _var in os.environ:
        print(
            f"WARNING: {_var}={os.environ[_var]} is set; numpy may use a slow "
            "OpenBLAS kernel. Run with: env -u OPENBLAS_CORETYPE -u "
            "OPENBLAS_L2_SIZE python3 bench/reference.py ...",
            file=sys.stderr,
        )

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

SEED = 20240601
FEATURES = 100
DEFAULT_ROWS = 1_000_000
WORKLOADS = ["P1", "P2-sgd", "P2-adam", "P2-sgd-f64", "P2-adam-f64", "P3-reg", "P3-clf", "P4",
             "P4-f64", "P5"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def emit(workload, impl, times, threads, **extra):
    rec = {
        "workload": workload,
        "impl": impl,
        "seconds": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "repeat": len(times),
        "threads": threads,
    }
    rec.update(extra)
    print(json.dumps(rec), flush=True)


def time_runs(fn, repeat, warmup=1):
    """Run fn() `warmup` times untimed, then `repeat` times timed.

    fn may return a float: then that is the measured time (used when only a
    part of the run is to be timed); otherwise the whole call is timed.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = fn()
        t1 = time.perf_counter()
        times.append(r if isinstance(r, float) else t1 - t0)
    return times


# --------------------------------------------------------------------- P1
def bench_p1(args):
    x = torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], dtype=torch.float32)
    t = torch.tensor([[0.2, 0.8], [0.4, 0.6], [0.6, 0.4]], dtype=torch.float32)
    loss_fn = nn.MSELoss()
    optimizers = [
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.6),
        lambda p: torch.optim.Adagrad(p, lr=0.1),
        lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.8),
        lambda p: torch.optim.Adam(p, lr=0.1),
    ]
    final = []

    def run():
        torch.manual_seed(SEED)
        final.clear()
        for make_opt in optimizers:
            model = nn.Sequential(
                nn.Linear(2, 3), nn.Sigmoid(),
                nn.Linear(3, 2), nn.Sigmoid(),
                nn.Linear(2, 12), nn.Sigmoid(),
                nn.Linear(12, 2), nn.Sigmoid(),
            )
            opt = make_opt(model.parameters())
            for _ in range(100):
                opt.zero_grad()
                loss = loss_fn(model(x), t)
                loss.backward()
                opt.step()
            final.append(loss.item())

    times = time_runs(run, args.repeat)
    log(f"P1 final losses (SGD, Adagrad, RMSprop, Adam): {final}")
    emit("P1", "pytorch", times, torch.get_num_threads())


# --------------------------------------------------------------------- P2
_p2_cache = {}


def p2_data(rows, dtype=torch.float32):
    if (rows, dtype) not in _p2_cache:
        _p2_cache.clear()
        rng = np.random.default_rng(SEED)
        X = rng.standard_normal((rows, FEATURES), dtype=np.float32)
        w = rng.standard_normal((FEATURES, 1), dtype=np.float32)
        b = np.float32(0.5)
        noise = np.float32(0.1) * rng.standard_normal((rows, 1), dtype=np.float32)
        y = X @ w + b + noise
        X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))
        _p2_cache[(rows, dtype)] = (X.to(dtype), y.to(dtype))
    return _p2_cache[(rows, dtype)]


def bench_p2(args, which, dtype=torch.float32):
    X, y = p2_data(args.rows, dtype)
    name = f"P2-{which}" + ("-f64" if dtype == torch.float64 else "")
    n = X.shape[0]
    batch = 256
    loss_fn = nn.MSELoss()
    last = []

    def run():
        torch.manual_seed(SEED)
        model = nn.Linear(FEATURES, 1).to(dtype)
        if which == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=0.001)
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = X[idx]
            yb = y[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        last[:] = [loss.item()]

    times = time_runs(run, args.repeat)
    log(f"{name} rows={n} last batch loss: {last[0]:.6g}")
    emit(name, "pytorch", times, torch.get_num_threads(), rows=n)


# --------------------------------------------------------------------- P3
_p3_cache = {}


def p3_data(rows):
    if rows not in _p3_cache:
        _p3_cache.clear()
        rng = np.random.default_rng(SEED + 3)
        X = rng.standard_normal((rows, FEATURES))  # float64, C-contiguous
        w = rng.standard_normal(FEATURES)
        b = 0.5
        noise = 0.1 * rng.standard_normal(rows)
        y_reg = X @ w + b + noise
        y_clf = (y_reg > b).astype(np.float64)
        _p3_cache[rows] = (X, y_reg, y_clf)
    return _p3_cache[rows]


def bench_p3(args, which):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    X, y_reg, y_clf = p3_data(args.rows)
    common = dict(
        max_iter=1,
        tol=None,
        shuffle=False,
        learning_rate="constant",
        eta0=0.01,
        penalty=None,
        alpha=0.0,
        fit_intercept=True,
        average=False,
        early_stopping=False,
    )
    score = []

    def run():
        if which == "reg":
            est = SGDRegressor(loss="squared_error", **common)
            y = y_reg
        else:
            est = SGDClassifier(loss="log_loss", **common)
            y = y_clf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            est.fit(X, y)
            t1 = time.perf_counter()
        score[:] = [est.score(X[:10000], y[:10000])]
        return t1 - t0

    times = time_runs(run, args.repeat)
    log(f"P3-{which} rows={X.shape[0]} score on first 10k rows: {score[0]:.6g}")
    # sklearn's plain SGD loop (_plain_sgd) runs on one thread.
    emit(f"P3-{which}", "sklearn", times, 1, rows=X.shape[0])


# --------------------------------------------------------------------- P4
def bench_p4(args, dtype=torch.float32):
    name = "P4-f64" if dtype == torch.float64 else "P4"
    rng = np.random.default_rng(SEED + 4)
    n = 60_000
    X = torch.from_numpy(rng.standard_normal((n, 784), dtype=np.float32)).to(dtype)
    y = torch.from_numpy(rng.integers(0, 10, size=n).astype(np.int64))
    batch = 128
    loss_fn = nn.CrossEntropyLoss()
    last = []

    def run():
        torch.manual_seed(SEED)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(dtype)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(SEED))
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            xb = X[idx]
            yb = y[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        last[:] = [loss.item()]

    times = time_runs(run, args.repeat)
    log(f"{name} last batch loss: {last[0]:.6g}")
    emit(name, "pytorch", times, torch.get_num_threads())


# --------------------------------------------------------------------- P5
def bench_p5(args):
    n = 10_000_000
    rng = np.random.default_rng(SEED + 5)
    init = torch.from_numpy(rng.standard_normal(n, dtype=np.float32))
    grad = torch.from_numpy(rng.standard_normal(n, dtype=np.float32))
    variants = [
        ("pytorch-fused", dict(fused=True)),
        ("pytorch-foreach", dict(foreach=True)),
        ("pytorch-default", dict()),
    ]
    for impl, kw in variants:
        p = nn.Parameter(init.clone())
        p.grad = grad.clone()
        opt = torch.optim.Adam([p], lr=1e-3, **kw)

        def step():
            t0 = time.perf_counter()
            opt.step()
            return time.perf_counter() - t0

        times = time_runs(step, args.repeat, warmup=3)
        emit("P5", impl, times, torch.get_num_threads())
        del opt, p


# ------------------------------------------------------------------- main
def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        log("threadpoolctl not installed; cannot report BLAS kernel")
        return
    for lib in sorted(threadpool_info(), key=lambda d: d.get("filepath", "")):
        log(
            "threadpool: {user_api}/{internal_api} {version} "
            "arch={architecture} threads={num_threads} {filepath}".format(
                **{k: lib.get(k) for k in (
                    "user_api", "internal_api", "version", "architecture",
                    "num_threads", "filepath")}
            )
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", nargs="?", default="all",
                    choices=WORKLOADS + ["all"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                    help="rows of the P2/P3 data sets (default 1,000,000)")
    args = ap.parse_args()
    if args.repeat < 1 or args.threads < 1 or args.rows < 1:
        ap.error("--repeat, --threads and --rows must be >= 1")

    todo = WORKLOADS if args.workload == "all" else [args.workload]
    if any(w.startswith("P3") for w in todo):
        # sklearn loads scipy's OpenBLAS and its own libgomp: import it before
        # limiting threads and reporting, so every loaded library is covered.
        # (Not imported for the torch-only workloads, to keep them clean.)
        import sklearn.linear_model  # noqa: F401
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    except ImportError:
        pass
    log(f"torch {torch.__version__} threads={torch.get_num_threads()} "
        f"numpy {np.__version__} rows={args.rows} repeat={args.repeat}")
    blas_info()

    for w in todo:
        if w == "P1":
            bench_p1(args)
        elif w == "P2-sgd":
            bench_p2(args, "sgd")
        elif w == "P2-adam":
            bench_p2(args, "adam")
        elif w == "P2-sgd-f64":
            bench_p2(args, "sgd", torch.float64)
        elif w == "P2-adam-f64":
            bench_p2(args, "adam", torch.float64)
        elif w == "P3-reg":
            bench_p3(args, "reg")
        elif w == "P3-clf":
            bench_p3(args, "clf")
        elif w == "P4":
            bench_p4(args)
        elif w == "P4-f64":
            bench_p4(args, torch.float64)
        elif w == "P5":
            bench_p5(args)


if __name__ == "__main__":
    main()
