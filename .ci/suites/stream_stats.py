"""Checks the one-pass streaming statistics against numpy: writes a Parquet file with
pyarrow (several row groups, float32 and float64 columns, one column offset by 1e6 where a
naive sum of squares loses every digit, an int column), trains on it with `--stream
--scale standard --scale-target standard` (one epoch) and with `--scale minmax`, and
compares the scalers saved in model.json with numpy's mean, population std (ddof=0), min
and max of the same values as float64.

    python3 .ci/suites/stream_stats.py DESCENT_BINARY [WORK_DIR]

Tolerances: mean 1e-12 relative to the column's scale (mean magnitude + std), std 1e-9
relative (Chan's merge and numpy's pairwise sums round differently, both near 1e-15),
min and max exact. Prints `N passed, N failed`.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

binary = sys.argv[1]
work = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp())
work.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(16)
rows = 50_000
cols = {
    "small": rng.normal(0.0, 1.0, rows).astype(np.float32),
    "offset": (1e6 + rng.normal(0.0, 1.0, rows)).astype(np.float64),
    "wide": rng.normal(-3.0, 1e4, rows).astype(np.float64),
    "count": rng.integers(-1000, 1000, rows).astype(np.int64),
}
y = (cols["small"] * 2.0 + cols["count"] * 1e-3 + rng.normal(0, 0.1, rows)).astype(np.float64)
table = pa.table({**cols, "y": y})
data = work / "stats.parquet"
pq.write_table(table, data, row_group_size=7_777, compression="snappy")
names = list(cols)
x = np.column_stack([np.asarray(cols[n], dtype=np.float64) for n in names])
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {what} {detail}")


def train(out, scale, scale_target):
    subprocess.run(
        [binary, "train", "--data", str(data), "--target", "y", "--features", ",".join(names),
         "--stream", "--no-shuffle", "--batch", "256", "--epochs", "1", "--lr", "1e-6",
         "--scale", scale, "--scale-target", scale_target, "--out", str(work / out), "-q"],
        check=True,
    )
    return json.loads((work / out / "model.json").read_text())


model = train("standard", "standard", "standard")
for label, values, scaler in [("features", x, model["scaler"]), ("target", y[:, None], model["target_scaler"])]:
    mean, std = values.mean(axis=0), values.std(axis=0)
    got_mean, got_std = np.array(scaler["mean"]), np.array(scaler["std"])
    scale = np.abs(mean) + std
    err_mean = np.abs(got_mean - mean) / scale
    err_std = np.abs(got_std - std) / std
    check(f"{label} mean", bool(np.all(err_mean <= 1e-12)), f"relative errors {err_mean}")
    check(f"{label} std", bool(np.all(err_std <= 1e-9)), f"relative errors {err_std}")
# The offset column: its std is about 1, as numpy says, not lost to cancellation.
check("offset std near 1", abs(model["scaler"]["std"][1] - 1.0) < 0.05, str(model["scaler"]["std"][1]))
model = train("minmax", "minmax", "none")
check("min", model["scaler"]["min"] == x.min(axis=0).tolist(), str(model["scaler"]["min"]))
check("max", model["scaler"]["max"] == x.max(axis=0).tolist(), str(model["scaler"]["max"]))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
