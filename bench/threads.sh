#!/usr/bin/env bash
# The default thread count against one thread, workload by workload, interleaved: the
# default must never be slower (issue 19: small models once ran 5-24x slower on two threads;
# a run given no --threads now chooses its count from its work, `parallel::threads_for`).
#
#   bench/threads.sh [--rounds N] [--repeat R] [WORKLOAD...]  (default: every workload)
#
# Each round runs `descent bench W --repeat R` once with --threads 1 and once with the
# default, the order alternating from round to round. Prints, per workload, the median of
# each setting's per-round medians, every round's ratio and their median (default / one
# thread; below 1: the default is faster), the ratio of the fastest repetitions (less
# sensitive to a loaded machine), and the load average before and after.
# DESCENT_BIN picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=3
repeat=5
bench_options "$@"
set -- "${rest[@]}"
bin="${DESCENT_BIN:-target/release/descent}"
[[ -x "$bin" ]] || cargo build --release -p descent-cli
workloads=("$@")
[[ ${#workloads[@]} -eq 0 ]] && workloads=(S-tour S-iris-mlp S-wine-mlp S-linear-10k P1 P2-sgd P2-adam P2-sgd-f64 P2-adam-f64 P3-reg P3-clf P4 P4-f64 P5)
# "median:min" of one `descent bench` run.
median() { "$bin" bench "$1" "${@:2}" --repeat "$repeat" --json | python3 -c 'import json,sys; r = json.loads(sys.stdin.readline()); print(r["seconds"], r["min"], sep=":")'; }
load before
printf '%-14s %12s %12s %8s %8s   %s\n' workload "1 thread s" "default s" ratio "min rat" "per round"
for w in "${workloads[@]}"; do
    one=(); def=()
    for r in $(seq "$rounds"); do
        if (( r % 2 )); then
            one+=("$(median "$w" --threads 1)"); def+=("$(median "$w")")
        else
            def+=("$(median "$w")"); one+=("$(median "$w" --threads 1)")
        fi
    done
    python3 - "$w" "${one[*]}" "${def[*]}" <<'PY'
import statistics, sys
pairs = lambda arg: [tuple(float(x) for x in v.split(":")) for v in arg.split()]
w, one, dflt = sys.argv[1], pairs(sys.argv[2]), pairs(sys.argv[3])
ratios = [d[0] / o[0] for o, d in zip(one, dflt)]
a, b = statistics.median(o[0] for o in one), statistics.median(d[0] for d in dflt)
fastest = min(d[1] for d in dflt) / min(o[1] for o in one)
print(f"{w:<14} {a:12.6f} {b:12.6f} {statistics.median(ratios):8.3f} {fastest:8.3f}   {' '.join(f'{r:.3f}' for r in ratios)}")
PY
done
load after
