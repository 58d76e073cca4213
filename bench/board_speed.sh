#!/usr/bin/env bash
# The board's speed figures (issue 15, item 8) in one command, no test harness. Run it on a
# quiet machine:
#     cargo build --release -p descent-cli && bench/board_speed.sh [ROUNDS]
# (DESCENT_BIN: the binary, default target/release/descent or $CARGO_TARGET_DIR's.)
#
# 1. Reading runs: 1,000 run directories (five real `descent train` runs of 300 epochs,
#    each copied 200 times: metrics.csv, events.jsonl, summary.json, model.json) and one
#    real run of 100,000 epochs. A board is started on them and timed from its start to
#    (a) the first `GET /api/runs` answered, with all 1,001 runs (checked), and
#    (b) `GET /api/runs/big/metrics`, all 100,000 epochs (checked), first and best of 3.
# 2. The event-file observer's cost on `descent bench P2-sgd` and `descent bench P4`: the
#    same binary without and with the observer attached (`descent bench --events DIR`),
#    ROUNDS rounds (default 5) interleaved, the order alternating (A B, B A, ...); each
#    figure is the median of `--repeat 3`; the ratio with/without per round, its min and
#    median. SKIP_OVERHEAD=1 skips part 2.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DESCENT_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/descent}"
bin="$(realpath "$bin")"
rounds="${1:-5}"
work="$(mktemp -d)"
trap 'kill "${board_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
echo "binary: $bin; $(nproc) cores; load:$(uptime | sed 's/.*load average://')"

now() { date +%s.%N; }

# --- 1. reading runs -------------------------------------------------------------------
t0=$(now)
i=0
for cfg in "sgd 0.05" "sgd 0.01" "adam 0.1" "rmsprop 0.01" "adagrad 0.5"; do
    set -- $cfg
    "$bin" train --data builtin:classic --model linear --optimizer "$1" --lr "$2" \
        --batch full --val-fraction 0.3 --epochs 300 -q --out "proto/$i" 2>/dev/null
    i=$((i + 1))
done
mkdir runs
for r in $(seq 0 999); do cp -r "proto/$((r % 5))" "runs/r$(printf %04d "$r")"; done
"$bin" train --data builtin:classic --model linear --optimizer sgd --lr 0.01 --batch full \
    --val-fraction 0.3 --epochs 100000 -q --out runs/big 2>/dev/null
printf 'made 1,000 runs of 300 epochs (%s events.jsonl, %s lines each) and one of 100,000 epochs (%s) in %.1f s\n' \
    "$(du -h proto/0/events.jsonl | cut -f1)" "$(wc -l < proto/0/events.jsonl)" \
    "$(du -h runs/big/events.jsonl | cut -f1)" "$(echo "$(now) - $t0" | bc -l)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
count_runs() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["runs"]))' "$1"; }
t0=$(now)
"$bin" board runs --port "$port" > board.out 2>&1 &
board_pid=$!
# Refused until the port is bound; then answered once the first scan is done.
until curl -sf -o list.json "http://127.0.0.1:$port/api/runs" 2>/dev/null \
    && [ "$(count_runs list.json)" = 1001 ]; do
    kill -0 "$board_pid" || { cat board.out; exit 1; }
    sleep 0.005
done
t1=$(now)
# The board's CPU time so far (user + system, all threads): the first read, less load-bound.
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$board_pid/stat")
printf '(a) board start to the first GET /api/runs with all 1,001 runs: %.3f s (%.2f MB); board CPU by then %.2f s\n' \
    "$(echo "$t1 - $t0" | bc -l)" "$(echo "$(stat -c %s list.json) / 1000000" | bc -l)" "$cpu"
for i in 1 2 3; do
    curl -sf -o metrics.json -w '%{time_total} %{size_download}\n' \
        "http://127.0.0.1:$port/api/runs/big/metrics"
    n=$(python3 -c 'import json; print(len(json.load(open("metrics.json"))["epoch"]))')
    [ "$n" = 100000 ] || { echo "GET /api/runs/big/metrics: $n epochs, not 100,000"; exit 1; }
done > metrics.times
awk 'NR == 1 {first = $1} {if (best == "" || $1 < best) best = $1; mb = $2 / 1e6}
     END {printf "(b) GET /api/runs/big/metrics (100,000 epochs, %.1f MB): first %.3f s, best of 3 %.3f s\n", mb, first, best}' metrics.times
for i in 1 2 3; do
    curl -sf -o list.json -w '%{time_total}\n' "http://127.0.0.1:$port/api/runs"
done | sort -g | head -1 | awk '{printf "    GET /api/runs again (read): best of 3 %.3f s\n", $1}'
kill "$board_pid"
wait "$board_pid" 2>/dev/null || true
board_pid=

# --- 2. the observer's cost -------------------------------------------------------------
[ -n "${SKIP_OVERHEAD:-}" ] && exit 0
seconds() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["seconds"])'; }
for w in P2-sgd P4; do
    : > "$w.ab"
    for r in $(seq "$rounds"); do
        a() { "$bin" bench "$w" --repeat 3 --json | seconds; }
        b() { "$bin" bench "$w" --repeat 3 --json --events "events-$w" | seconds; }
        if [ $((r % 2)) = 1 ]; then ta=$(a); tb=$(b); else tb=$(b); ta=$(a); fi
        echo "$ta $tb" >> "$w.ab"
    done
    python3 - "$w" "$w.ab" <<'PY'
import statistics, sys
w, rows = sys.argv[1], [tuple(map(float, l.split())) for l in open(sys.argv[2])]
a, b = [r[0] for r in rows], [r[1] for r in rows]
ratios = [y / x for x, y in rows]
print(f"{w}: without the observer median {statistics.median(a):.4f} s (min {min(a):.4f}), "
      f"with {statistics.median(b):.4f} s (min {min(b):.4f}); ratio with/without per round: "
      f"min {min(ratios):.4f}, median {statistics.median(ratios):.4f} "
      f"({len(rows)} rounds interleaved, each a median of 3)")
PY
done
echo "load at the end:$(uptime | sed 's/.*load average://')"
