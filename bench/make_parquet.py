"""Writes a synthetic Parquet file for the streaming benchmarks: ROWS rows of FEATURES
float32 features and a float32 target (a noisy linear function), snappy, row groups of
GROUP rows, written a row group at a time (memory stays at one group).

    python3 bench/make_parquet.py OUT ROWS [FEATURES=100] [GROUP=131072] [SEED=6]
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

out, rows = sys.argv[1], int(sys.argv[2])
features = int(sys.argv[3]) if len(sys.argv) > 3 else 100
group = int(sys.argv[4]) if len(sys.argv) > 4 else 131072
rng = np.random.default_rng(int(sys.argv[5]) if len(sys.argv) > 5 else 6)
w = rng.normal(size=features).astype(np.float32)
schema = pa.schema([(f"x{j}", pa.float32()) for j in range(features)] + [("y", pa.float32())])
with pq.ParquetWriter(out, schema, compression="snappy") as writer:
    for start in range(0, rows, group):
        n = min(group, rows - start)
        x = rng.normal(size=(n, features)).astype(np.float32)
        y = (x @ w + 0.1 * rng.normal(size=n)).astype(np.float32)
        cols = [pa.array(x[:, j]) for j in range(features)] + [pa.array(y)]
        writer.write_table(pa.Table.from_arrays(cols, schema=schema), row_group_size=group)
print(f"wrote {out}: {rows} rows x {features} features")
