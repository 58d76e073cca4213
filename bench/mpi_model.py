"""The alpha-beta model of gradient all-reduce for data-parallel `descent train`.

Reads bench/mpi-collectives.csv and bench/mpi-train.csv (bench/mpi.sh), fits
  alpha (s per message) and beta (s per byte) to the 2-rank ping-pong (median of the
      messages up to 1 KiB for alpha, least squares over 64 KiB .. 8 MiB for beta),
  a + b * bytes to every collective on every rank count (to compare with the model),
  gamma (s per row x parameter of a step) to the 1-rank P2 epoch,
and predicts, for 2..256 ranks and 1e2..1e8 parameters (f64 on the wire, batch B = 256,
C = B/64 = 4 chunks):
  ring all-reduce (plain)  T = 2 (p-1) alpha + 2 (p-1)/p * 8 n beta
  ordered, allgather       T = (p-1) alpha + (p-1)/p * 8 C (n+1) beta
  ordered, chain           T = (p-1 + ceil(log2 p)) (alpha + 8 (n+2) beta)
  step time                t(p) = gamma B n / d(p) + T, efficiency E = t(1) / (p t(p))
where d(p) = p for the plain all-reduce and min(p, C) for the ordered combine (a rank
computes whole chunks; beyond C ranks some have none). The ordered run uses the cheaper of
its two algorithms, as `descent train` chooses at start-up (crates/descent-cli/src/cluster.rs).
Writes bench/mpi-model.csv, bench/mpi-model.svg (efficiency) and bench/mpi-collectives.svg
(measured collectives against the fitted model); prints the fit and the tables.
"""
import csv
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(HERE, "mpi-collectives.csv"))))
meas = {}
for r in rows:
    meas.setdefault((r["kind"], int(r["ranks"])), []).append((int(r["bytes"]), float(r["seconds"])))
for v in meas.values():
    v.sort()


def lsq(points):
    """Least squares t = a + b * bytes."""
    n = len(points)
    mb = sum(b for b, _ in points) / n
    mt = sum(t for _, t in points) / n
    b = sum((x - mb) * (t - mt) for x, t in points) / sum((x - mb) ** 2 for x, _ in points)
    return mt - b * mb, b


ping = meas[("pingpong", 2)]
small = sorted(t for b, t in ping if b <= 1024)
alpha = small[len(small) // 2]
_, beta = lsq([(b, t) for b, t in ping if b >= 64 << 10])
print(f"ping-pong fit: alpha = {alpha * 1e6:.2f} us, beta = {beta * 1e9:.4f} ns/B ({1 / beta / 1e9:.2f} GB/s)")


def ring(p, nbytes):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def allgather(p, nbytes):  # nbytes: the gathered total
    return (p - 1) * alpha + (p - 1) / p * nbytes * beta


def bcast(p, nbytes):
    return math.ceil(math.log2(p)) * (alpha + nbytes * beta) if p > 1 else 0.0


MODEL = {"allreduce": ring, "allgather": allgather, "bcast": bcast}
print("collective fits t = a + b * bytes (64 KiB .. 8 MiB), and the smallest and largest message (us) against the alpha-beta model")
print(f"{'kind':<10} {'ranks':>5} {'a (us)':>9} {'b (ns/B)':>9} {'small':>10} {'model':>10} {'8 MiB':>11} {'model':>10}")
fits = []
for (kind, p), pts in sorted(meas.items()):
    if kind == "pingpong":
        continue
    a, b = lsq([(x, t) for x, t in pts if x >= 64 << 10])
    (b0, t8), (b1, tb) = pts[0], pts[-1]
    m8, mb = MODEL[kind](p, b0), MODEL[kind](p, b1)
    fits.append((kind, p, a, b))
    print(f"{kind:<10} {p:>5} {a * 1e6:9.1f} {b * 1e9:9.4f} {t8 * 1e6:10.1f} {m8 * 1e6:10.1f} {tb * 1e6:11.1f} {mb * 1e6:10.1f}")

train = list(csv.DictReader(open(os.path.join(HERE, "mpi-train.csv"))))
p2 = [r for r in train if r["workload"] == "P2" and r["ranks"] == "1" and r["allreduce"] == "ordered"]
B, C = 256, 4
if p2:
    r = p2[0]
    gamma = float(r["train_seconds"]) / int(r["steps"]) / (B * int(r["params"]))
else:
    gamma = 1e-9
print(f"gamma = {gamma * 1e9:.3f} ns per row x parameter (P2, 1 rank)")


def ordered_costs(p, n, c=C):
    ag = (p - 1) * alpha + (p - 1) / p * 8 * c * (n + 1) * beta
    ch = (p - 1 + math.ceil(math.log2(p))) * (alpha + 8 * (n + 2) * beta)
    return ag, ch


ranks = [2, 4, 8, 16, 32, 64, 128, 256]
params = [10 ** k for k in range(2, 9)]
out = []
for n in params:
    t1 = gamma * B * n
    for p in ranks:
        ag, ch = ordered_costs(p, n)
        rows_ = [("plain", ring(p, 8 * (n + 1)), p, "ring"),
                 ("ordered", min(ag, ch), min(p, C), "chain" if ch < ag else "allgather")]
        for name, comm, div, how in rows_:
            tp = t1 / div + comm
            out.append(dict(combine=name, algorithm=how, ranks=p, params=n, step_s=f"{tp:.3e}",
                            comm_s=f"{comm:.3e}", efficiency=f"{t1 / (p * tp):.4f}"))
with open(os.path.join(HERE, "mpi-model.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(out[0]))
    w.writeheader()
    w.writerows(out)


def table(combine, field, fmt):
    print("params    " + "".join(f"{p:>9}" for p in ranks))
    for n in params:
        e = [o[field] for o in out if o["params"] == n and o["combine"] == combine]
        print(f"{n:<10.0e}" + "".join(f"{fmt(x):>9}" for x in e))


print("plain (ring all-reduce) efficiency; rows: parameters, columns: ranks")
table("plain", "efficiency", lambda x: f"{float(x):.3f}")
print("plain step time (ms)")
table("plain", "step_s", lambda x: f"{float(x) * 1e3:.3g}")
print("ordered efficiency (the cheaper algorithm)")
table("ordered", "efficiency", lambda x: f"{float(x):.3f}")
print("ordered combine, the algorithm chosen and its time (us) by batch: rows parameters, columns ranks")
for batch in (256, 4096):
    c = batch // 64
    print(f"batch {batch} ({c} chunks)")
    print("params    " + "".join(f"{p:>16}" for p in ranks))
    for n in params:
        cells = []
        for p in ranks:
            ag, ch = ordered_costs(p, n, c)
            cells.append(f"{'chain' if ch < ag else 'allgather'} {min(ag, ch) * 1e6:.3g}")
        print(f"{n:<10.0e}" + "".join(f"{x:>16}" for x in cells))
print(f"bandwidth-bound limit of the ring: E = 1/2 at p = gamma B / (16 beta) = {gamma * B / (16 * beta):.2f} ranks")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib missing: pip install matplotlib (no plot drawn)")
    raise SystemExit(0)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, combine in zip(axes, ["plain", "ordered"]):
    for n in params:
        e = [float(o["efficiency"]) for o in out if o["params"] == n and o["combine"] == combine]
        ax.plot(ranks, e, marker="o", label=f"{n:.0e} params")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("ranks")
    ax.set_ylabel("parallel efficiency (model)")
    ax.set_title(f"{combine}" + (" (ring all-reduce)" if combine == "plain" else " (allgather or chain)"))
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_ylim(0, 1.05)
axes[0].legend(fontsize=8)
fig.suptitle(f"alpha-beta model, batch {B}: alpha {alpha * 1e6:.1f} us, beta {beta * 1e9:.3f} ns/B, "
             f"gamma {gamma * 1e9:.2f} ns (measured under load)", fontsize=10)
fig.tight_layout()
fig.savefig(os.path.join(HERE, "mpi-model.svg"))

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
for ax, kind in zip(axes, ["allreduce", "allgather", "bcast"]):
    for i, p in enumerate(sorted(p for k, p in meas if k == kind)):
        pts = meas[(kind, p)]
        xs = [b for b, _ in pts]
        ax.plot(xs, [t for _, t in pts], marker=".", ls="", color=f"C{i}", label=f"{p} rank(s), measured")
        if p > 1:
            ax.plot(xs, [MODEL[kind](p, b) for b in xs], color=f"C{i}", lw=1, label=f"{p} ranks, model")
    if kind == "allreduce":
        pts = meas[("pingpong", 2)]
        ax.plot([b for b, _ in pts], [t for _, t in pts], marker="x", ls="", color="k", label="ping-pong (half round trip)")
        ax.plot([b for b, _ in pts], [alpha + b * beta for b, _ in pts], color="k", lw=0.8, label="alpha + beta bytes")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("message (bytes)")
    ax.set_title(kind)
    ax.legend(fontsize=7)
axes[0].set_ylabel("seconds (median)")
fig.suptitle("MPI collectives on this machine (Open MPI, shared memory, 2 cores, under load)", fontsize=10)
fig.tight_layout()
fig.savefig(os.path.join(HERE, "mpi-collectives.png"), dpi=90)
print("wrote bench/mpi-model.svg and bench/mpi-collectives.png")
