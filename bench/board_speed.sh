#!/usr/bin/env bash
# The board's speed figures (issue 15, item 8), no test harness: run on a quiet machine.
#   1. the event-file observer's cost: the same `descent train` by a binary without it
#      (BASE_BIN, e.g. a build of the commit before the board) and with it (DESCENT_BIN),
#      interleaved A/B, median of each; reported as a ratio;
#   2. `GET /api/runs` over 1,000 runs and `GET /api/runs/big/metrics` of a 100,000-epoch run.
# Usage: DESCENT_BIN=target/release/descent [BASE_BIN=...] bench/board_speed.sh [REPEAT]
set -euo pipefail
bin="${DESCENT_BIN:-target/release/descent}"
repeat="${1:-5}"
work="$(mktemp -d)"
trap 'kill "${board_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

if [ -n "${BASE_BIN:-}" ]; then
    # P2's shape at a tenth of the rows (100,000 x 100, batch 256, shuffled) and P4-like MLP
    # batches; the data is generated once, not timed.
    "$bin" generate linear --rows 100000 --features 100 --noise 0.1 --seed 1 --out p2.csv
    p2=(train --data p2.csv --model linear --optimizer sgd --lr 0.01 --batch 256 --epochs 5 -q)
    p4=(train --data p2.csv --model mlp --hidden 256 --optimizer sgd --lr 0.01 --batch 128 --epochs 2 -q)
    for w in p2 p4; do
        declare -n args="$w"
        : > "a-$w"; : > "b-$w"
        for i in $(seq "$repeat"); do
            seconds "$BASE_BIN" "${args[@]}" --out "run-a-$w-$i" >> "a-$w"
            seconds "$bin" "${args[@]}" --out "run-b-$w-$i" >> "b-$w"
        done
        a=$(median < "a-$w"); b=$(median < "b-$w")
        printf '%s: without events.jsonl %.3f s, with %.3f s, ratio %.4f (median of %d, interleaved)\n' \
            "$w" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$repeat"
    done
fi

# 1,000 runs of 100 epochs each, and one of 100,000 epochs (metrics.csv and events.jsonl).
python3 - <<'PY'
import json, os
for r in range(1000):
    d = f"runs/r{r:04d}"; os.makedirs(d)
    with open(f"{d}/events.jsonl", "w") as f:
        f.write(json.dumps({"type": "start", "time": 1.7e9, "from_epoch": 0, "epochs": 100,
                            "spec": {"model": {"kind": "linear"}, "epochs": 100,
                                     "optimizer": {"name": "sgd", "options": {"lr": 0.01 * (1 + r % 7)}}}}) + "\n")
        for e in range(1, 101):
            f.write(json.dumps({"type": "epoch", "time": 1.7e9 + e, "epoch": e, "step": e, "loss": 1 / e,
                                "val_loss": None, "lr": 0.01, "grad_norm": 1 / e}) + "\n")
os.makedirs("runs/big")
with open("runs/big/events.jsonl", "w") as f:
    for e in range(1, 100001):
        f.write(json.dumps({"type": "epoch", "time": 1.7e9 + e, "epoch": e, "step": e * 10,
                            "loss": 1 / e, "val_loss": 2 / e, "lr": 0.01, "grad_norm": 1 / e}) + "\n")
PY
t0=$(date +%s.%N)
"$bin" board runs --port 0 > board.out 2>&1 &
board_pid=$!
until grep -q http board.out; do sleep 0.05; done
t1=$(date +%s.%N)
port=$(grep -o '127.0.0.1:[0-9]*' board.out | cut -d: -f2)
printf 'start-up with 1,001 runs (scan and read every file): %.3f s\n' "$(echo "$t1 - $t0" | bc -l)"
for path in /api/runs /api/runs/big/metrics; do
    for i in 1 2 3; do
        curl -s -o body.json -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$port$path"
    done | sort -g | head -1 | awk -v p="$path" '{printf "GET %s: %.3f s, %.1f MB (best of 3)\n", p, $1, $2/1e6}'
done
