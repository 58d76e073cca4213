#!/usr/bin/env bash
# MPI scaling of data-parallel `descent train` (issue 17), measured here:
#   1. α (latency) and β (s/byte) by ping-pong between two ranks, and one MPI_Allreduce /
#      MPI_Allgather / MPI_Bcast of 8 B .. 8 MiB on 1, 2 and 4 ranks
#      (examples/mpi_pingpong.rs)                     -> bench/mpi-collectives.csv (+ .load)
#   2. P2 (linear regression, 100 f32 features, batches of 256, SGD) and P4 (MLP 784-256-10,
#      cross-entropy, batches of 128, Adam) for one epoch on 1 and 2 ranks, ordered and plain
#      all-reduce; rank 0's time in collectives per step         -> bench/mpi-train.csv (+ .load)
#   3. bench/mpi_model.py fits the α-β model of the ring all-reduce to 1. and 2. and writes its
#      predictions for 2..256 ranks and 1e2..1e8 parameters (bench/mpi-model.csv, .svg).
# Usage: bench/mpi.sh [--p2-rows N] [--p4-rows N]   (defaults 100000 and 10000: the data is
# written as CSV and read by every rank). Needs Open MPI, `pip install numpy matplotlib`.
# SKIP_COLLECTIVES=1 keeps the last bench/mpi-collectives.csv, SKIP_TRAIN=1 the last
# bench/mpi-train.csv. Run it on a quiet machine; figures taken under load say so in bench/RESULTS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
P2_ROWS=100000
P4_ROWS=10000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --p2-rows) P2_ROWS="$2"; shift 2 ;;
        --p4-rows) P4_ROWS="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "mpi.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
PYTHON="${PYTHON:-python3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# DESCENT_BIN / PINGPONG_BIN: binaries built with --features mpi elsewhere (nothing is built then).
if [[ -z "${DESCENT_BIN:-}" || -z "${PINGPONG_BIN:-}" ]]; then
    cargo build --release -q -p descent-cli --features mpi --bin descent --example mpi_pingpong
fi
BIN="${DESCENT_BIN:-$TARGET/release/descent}"
PINGPONG="${PINGPONG_BIN:-$TARGET/release/examples/mpi_pingpong}"
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== collectives (1, 2 and 4 ranks; 4 oversubscribed on a 2-core machine)"
if [[ -z "${SKIP_COLLECTIVES:-}" ]]; then
    "${MPIRUN[@]}" -n 1 "$PINGPONG" > bench/mpi-collectives.csv
    "${MPIRUN[@]}" -n 2 "$PINGPONG" --no-header >> bench/mpi-collectives.csv
    "${MPIRUN[@]}" -n 4 "$PINGPONG" --no-header >> bench/mpi-collectives.csv
    echo "load average when measured: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" | tee bench/mpi-collectives.load
fi
column -s, -t < bench/mpi-collectives.csv | head -n 4
if [[ -n "${SKIP_TRAIN:-}" ]]; then
    echo "== model (SKIP_TRAIN: the last bench/mpi-train.csv)"
    "$PYTHON" bench/mpi_model.py
    exit 0
fi

echo "== data: P2 $P2_ROWS x 100, P4 $P4_ROWS x 784"
"$PYTHON" - "$WORK" "$P2_ROWS" "$P4_ROWS" <<'PY'
import sys, numpy as np
work, n2, n4 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
x = rng.standard_normal((n2, 100)).astype(np.float32)
y = x @ rng.standard_normal(100).astype(np.float32) + 0.1 * rng.standard_normal(n2).astype(np.float32)
np.savetxt(f"{work}/p2.csv", np.column_stack([x, y]), delimiter=",", fmt="%.6g",
           header=",".join([f"x{i}" for i in range(100)] + ["y"]), comments="")
x = rng.random((n4, 784)).astype(np.float32)
y = (x[:, :10].argmax(axis=1)).astype(int)
np.savetxt(f"{work}/p4.csv", np.column_stack([x, y]), delimiter=",", fmt="%.4g",
           header=",".join([f"p{i}" for i in range(784)] + ["label"]), comments="")
PY

echo "workload,ranks,allreduce,params,steps,train_seconds,collective_seconds,values_sent" > bench/mpi-train.csv
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
run() { # workload ranks allreduce params args...
    local w="$1" n="$2" mode="$3" params="$4"; shift 4
    local err
    err="$("${MPIRUN[@]}" -n "$n" "$BIN" train "$@" --allreduce "$mode" --threads 1 --epochs 1 \
        --out "$WORK/run-$w-$n-$mode" 2>&1 >/dev/null | grep 'note: MPI rank 0')"
    # note: MPI rank 0 of N: C collective operations, V values sent, S s in them during T s of training
    echo "$err" | sed -E "s/.*: ([0-9]+) collective operations, ([0-9]+) values sent, ([0-9.]+) s in them during ([0-9.]+) s of training/$w,$n,$mode,$params,\1,\4,\3,\2/" \
        | tee -a bench/mpi-train.csv
}
for n in 1 2; do
    for mode in ordered plain; do
        run P2 "$n" "$mode" 101 --data "$WORK/p2.csv" --model linear --dtype f32 --batch 256 --optimizer sgd --lr 0.01
        run P4 "$n" "$mode" 203530 --data "$WORK/p4.csv" --model mlp --hidden 256 --activation relu --loss cross-entropy --dtype f32 --batch 128 --optimizer adam --lr 0.001
    done
done

echo "load average when measured: $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after, on $(nproc) cores" | tee bench/mpi-train.load

echo "== model"
"$PYTHON" bench/mpi_model.py
