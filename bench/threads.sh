#!/usr/bin/env bash
# The default thread count against one thread, workload by workload, interleaved: the
# default must never be slower (issue: small models once ran 5-24x slower on two threads).
#
#   bench/threads.sh [--rounds N] [WORKLOAD...]     (default: every workload of `descent bench`)
#
# Prints, per workload, the median of each round's median for both settings and their ratio
# (default / one thread; below 1 is faster). DESCENT_BIN picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
if [[ "${1:-}" == "--rounds" ]]; then rounds="$2"; shift 2; fi
bin="${DESCENT_BIN:-target/release/descent}"
[[ -x "$bin" ]] || cargo build --release -p descent-cli
workloads=("$@")
[[ ${#workloads[@]} -eq 0 ]] && workloads=(S-tour S-iris-mlp S-wine-mlp S-linear-10k P1 P2-sgd P2-adam P3-reg P3-clf P4 P5)
printf '%-14s %12s %12s %8s\n' workload "1 thread s" "default s" ratio
for w in "${workloads[@]}"; do
    one=(); def=()
    for _ in $(seq "$rounds"); do
        one+=("$("$bin" bench "$w" --threads 1 --repeat 5 --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seconds"])')")
        def+=("$("$bin" bench "$w" --repeat 5 --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seconds"])')")
    done
    python3 - "$w" "${one[*]}" "${def[*]}" <<'PY'
import statistics, sys
w, one, dflt = sys.argv[1], [float(v) for v in sys.argv[2].split()], [float(v) for v in sys.argv[3].split()]
a, b = statistics.median(one), statistics.median(dflt)
print(f"{w:<14} {a:12.6f} {b:12.6f} {b / a:8.3f}")
PY
done
