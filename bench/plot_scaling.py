#!/usr/bin/env python3
"""Draws bench/scaling.csv (from bench/scaling.sh) as seconds per epoch against rows, log-log,
one panel per workload, one line per implementation and thread count, with a dotted line of
slope 1 (linear cost) through descent's largest point.

Usage: python3 bench/plot_scaling.py bench/scaling.csv bench/scaling.svg
"""

import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"descent": "#1f77b4", "pytorch": "#ff7f0e"}


def main(src, dst):
    series = defaultdict(list)
    for r in csv.DictReader(open(src)):
        series[(r["workload"], r["impl"], int(r["threads"]))].append(
            (int(r["rows"]), float(r["seconds"]))
        )
    workloads = sorted({k[0] for k in series})
    fig, axes = plt.subplots(1, len(workloads), figsize=(6 * len(workloads), 4.5), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        for (wl, impl, threads), pts in sorted(series.items()):
            if wl != w:
                continue
            pts.sort()
            xs, ys = zip(*pts)
            style = "-" if threads > 1 else "--"
            ax.plot(xs, ys, style, marker="o", color=COLOURS.get(impl, "grey"),
                    label=f"{impl}, {threads} thread{'s' if threads > 1 else ''}")
            if impl == "descent" and threads > 1:
                x1, y1 = xs[-1], ys[-1]
                ax.plot([xs[0], x1], [y1 * xs[0] / x1, y1], ":", color="black", linewidth=1,
                        label="linear in rows")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows (x 100 features, f32)")
        ax.set_ylabel("seconds per epoch")
        ax.set_title(f"{w}: one epoch, mini-batch 256")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(dst)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
