#!/usr/bin/env bash
# Two binaries on one workload, interleaved: old against new, round by round, the order
# alternating, so that the load of a shared machine falls on both alike.
#
#   bench/versus.sh OLD_BIN NEW_BIN [--rounds N] [--repeat R] WORKLOAD [BENCH ARGS...]
#
# e.g. bench/versus.sh old/descent target/release/descent --rounds 3 --repeat 3 P4 --threads 1
# Prints every round's medians and ratio (new / old; below 1: the new binary is faster),
# the median ratio, and the load average before and after.
set -euo pipefail
old="$1"; new="$2"; shift 2
rounds=3
repeat=3
while [[ "${1:-}" == --* ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
w="$1"; shift
median() { "$1" bench "$w" "${@:2}" --repeat "$repeat" --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seconds"])'; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=()
for r in $(seq "$rounds"); do
    if (( r % 2 )); then
        o="$(median "$old" "$@")"; n="$(median "$new" "$@")"
    else
        n="$(median "$new" "$@")"; o="$(median "$old" "$@")"
    fi
    ratio="$(python3 -c "print(f'{$n / $o:.3f}')")"
    ratios+=("$ratio")
    echo "$w $* round $r: old $o s, new $n s, new/old $ratio"
done
python3 -c "import statistics,sys; print('$w $* median new/old:', statistics.median(float(v) for v in sys.argv[1:]))" "${ratios[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
