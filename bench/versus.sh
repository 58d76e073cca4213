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
source "$(dirname "$0")/lib.sh"
old="$1"; new="$2"; shift 2
rounds=3
repeat=3
bench_options "$@"
set -- "${rest[@]}"
w="$1"; shift
median() { "$1" bench "$w" "${@:2}" --repeat "$repeat" --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seconds"])'; }
load before
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
load after
