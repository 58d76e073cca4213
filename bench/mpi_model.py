"""The alpha-beta model of gradient all-reduce for data-parallel `descent train`.

Reads bench/mpi-collectives.csv and bench/mpi-train.csv (bench/mpi.sh), fits
  alpha (s per message) and beta (s per byte) to the ping-pong times,
  gamma (s per row x parameter of a step) to the 1-rank P2 epoch,
and predicts, for 2..256 ranks and 1e2..1e8 parameters (f64 on the wire, batch 256):
  ring all-reduce     T = 2 (p-1) alpha + 2 (p-1)/p * 8 n beta
  ordered all-gather  T = (p-1) alpha + (p-1)/p * 8 C (n+1) beta   (C = 256/64 = 4 chunk sums)
  step time           t(p) = gamma B n / p + T,  efficiency E = t(1) / (p t(p))
Writes bench/mpi-model.csv and bench/mpi-model.svg; prints the fit.
"""
import csv
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(HERE, "mpi-collectives.csv"))))
ping = [(int(r["bytes"]), float(r["seconds"])) for r in rows if r["kind"] == "pingpong"]
small = sorted(t for b, t in ping if b <= 1024)
alpha = small[len(small) // 2]
big = [(b, t) for b, t in ping if b >= 1 << 20]
mb = sum(b for b, _ in big) / len(big)
mt = sum(t for _, t in big) / len(big)
beta = sum((b - mb) * (t - mt) for b, t in big) / sum((b - mb) ** 2 for b, _ in big)
print(f"alpha = {alpha * 1e6:.2f} us, beta = {beta * 1e9:.4f} ns/B ({1 / beta / 1e9:.2f} GB/s)")

ar = {int(r["bytes"]): float(r["seconds"]) for r in rows if r["kind"] == "allreduce"}
for b in (8, 8 << 10, 8 << 20):
    if b in ar:
        model = 2 * alpha + b * beta  # p = 2
        print(f"allreduce {b:>9} B on 2 ranks: measured {ar[b] * 1e6:9.1f} us, ring model {model * 1e6:9.1f} us")

train = list(csv.DictReader(open(os.path.join(HERE, "mpi-train.csv"))))
p2 = [r for r in train if r["workload"] == "P2" and r["ranks"] == "1" and r["allreduce"] == "ordered"]
B = 256
if p2:
    r = p2[0]
    step = float(r["train_seconds"]) / int(r["steps"])
    gamma = step / (B * int(r["params"]))
else:
    gamma = 1e-9
print(f"gamma = {gamma * 1e9:.3f} ns per row x parameter (P2, 1 rank)")
for r in train:
    steps = int(r["steps"])
    print(f"{r['workload']} {r['ranks']} rank(s) {r['allreduce']:>7}: {float(r['train_seconds']) / steps * 1e6:8.1f} us/step,"
          f" {float(r['collective_seconds']) / steps * 1e6:8.1f} us/step in collectives")

ranks = [2, 4, 8, 16, 32, 64, 128, 256]
params = [10 ** k for k in range(2, 9)]
out = []
for n in params:
    t1 = gamma * B * n
    for p in ranks:
        ring = 2 * (p - 1) * alpha + 2 * (p - 1) / p * 8 * n * beta
        gath = (p - 1) * alpha + (p - 1) / p * 8 * 4 * (n + 1) * beta
        # Only 4 chunks to share: beyond 4 ranks the ordered gather divides no more work.
        for name, comm, div in (("ring", ring, p), ("ordered", gath, min(p, 4))):
            tp = t1 / div + comm
            out.append(dict(algorithm=name, ranks=p, params=n, step_s=f"{tp:.3e}",
                            comm_s=f"{comm:.3e}", efficiency=f"{t1 / (p * tp):.4f}"))
with open(os.path.join(HERE, "mpi-model.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(out[0]))
    w.writeheader()
    w.writerows(out)
print("ring all-reduce efficiency (rows: parameters, columns: ranks)")
print("params    " + "".join(f"{p:>8}" for p in ranks))
for n in params:
    e = [float(o["efficiency"]) for o in out if o["params"] == n and o["algorithm"] == "ring"]
    print(f"{n:<10.0e}" + "".join(f"{x:8.3f}" for x in e))
print(f"bandwidth-bound limit: E = 1/2 at p = gamma B / (16 beta) = {gamma * B / (16 * beta):.2f} ranks")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for n in params:
        e = [float(o["efficiency"]) for o in out if o["params"] == n and o["algorithm"] == "ring"]
        ax.plot(ranks, e, marker="o", label=f"{n:.0e} params")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("ranks")
    ax.set_ylabel("parallel efficiency (ring all-reduce)")
    ax.set_title(f"alpha-beta model: alpha {alpha * 1e6:.1f} us, beta {beta * 1e9:.3f} ns/B, batch {B}")
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(HERE, "mpi-model.svg"))
    print("wrote bench/mpi-model.svg")
except ImportError:
    print("matplotlib missing: pip install matplotlib (no plot drawn)")
