#!/usr/bin/env bash
# How P2 (mini-batch linear regression, one epoch) scales with rows and threads, descent and
# PyTorch side by side, with each run's peak resident memory.
#
# Usage (from anywhere):
#   bench/scaling.sh [--rows "10000 100000 1000000 10000000"] [--threads "1 2"] [--repeat N]
#                    [--reference-max-rows N]   (PyTorch only up to N rows; default: all)
#
# For every (workload, threads, rows) it runs `descent bench` and then bench/reference.py on
# the same work, one after the other, under /usr/bin/time to read the peak RSS. Writes
# bench/scaling.csv (workload,impl,threads,rows,seconds,min,max,peak_rss_mb,data_mb) and
# draws bench/scaling.svg with bench/plot_scaling.py (matplotlib). Run it on a quiet machine;
# see compare.sh for OPENBLAS_* and other notes. 10^7 rows need about 4 GB per process.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROWS="10000 100000 1000000 10000000"
THREADS="1 2"
REPEAT=3
REF_MAX=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        --reference-max-rows) REF_MAX="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "scaling.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
DESCENT_BIN="${DESCENT_BIN:-$ROOT/target/release/descent}"
PYTHON="${PYTHON:-python3}"
[[ -x "$DESCENT_BIN" ]] || { echo "build first: cargo build --release -p descent-cli" >&2; exit 1; }
OUT="$ROOT/bench/scaling.csv"
echo "workload,impl,threads,rows,seconds,min,max,peak_rss_mb,data_mb" > "$OUT"

# Runs a command that prints JSON lines; appends one CSV row per line with the peak RSS.
measure() {
    local rows="$1"; shift
    local tmp; tmp="$(mktemp)"
    /usr/bin/time -f '%M' -o "$tmp.rss" "$@" > "$tmp" 2> "$tmp.err" || { cat "$tmp.err" >&2; exit 1; }
    local rss_kb; rss_kb="$(tail -n 1 "$tmp.rss")"
    "$PYTHON" - "$tmp" "$rows" "$rss_kb" >> "$OUT" <<'EOF'
import json, sys
path, rows, rss_kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data_mb = rows * 101 * 4 / 1e6  # f32 features and target
for line in open(path):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    print(f'{r["workload"]},{r.get("impl", "descent")},{r["threads"]},{rows},'
          f'{r["seconds"]},{r["min"]},{r["max"]},{rss_kb / 1024:.1f},{data_mb:.1f}')
EOF
    rm -f "$tmp" "$tmp.rss" "$tmp.err"
}

for workload in P2-sgd P2-adam; do
    for threads in $THREADS; do
        for rows in $ROWS; do
            echo "== $workload threads=$threads rows=$rows" >&2
            measure "$rows" "$DESCENT_BIN" bench "$workload" --rows "$rows" --threads "$threads" --repeat "$REPEAT" --json
            [[ "$REF_MAX" -gt 0 && "$rows" -gt "$REF_MAX" ]] && continue
            measure "$rows" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" bench/reference.py "$workload" --rows "$rows" --threads "$threads" --repeat "$REPEAT"
        done
    done
done
column -s, -t < "$OUT"
"$PYTHON" bench/plot_scaling.py "$OUT" "$ROOT/bench/scaling.svg"
