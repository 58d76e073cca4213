"""P6, the PyTorch side: one epoch of mini-batch SGD (batch 256, lr 0.01, a linear model,
MSE) on a Parquet file, fed by pyarrow's `iter_batches` (no shuffle), as descent's
`train --stream --no-shuffle` reads it. Prints one JSON line with the seconds.

    python3 bench/p6_torch.py FILE [THREADS=2]
"""
import json
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import torch

path = sys.argv[1]
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
started = time.perf_counter()
f = pq.ParquetFile(path)
names = f.schema_arrow.names
features = [n for n in names if n != "y"]
model = torch.nn.Linear(len(features), 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = torch.nn.MSELoss()
rows = 0
for batch in f.iter_batches(batch_size=256, columns=features + ["y"]):
    x = torch.from_numpy(np.stack([batch.column(n).to_numpy() for n in features], axis=1))
    y = torch.from_numpy(batch.column("y").to_numpy()).unsqueeze(1)
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    rows += len(y)
print(json.dumps({"side": "pytorch+pyarrow", "rows": rows, "seconds": time.perf_counter() - started}))
