#!/usr/bin/env bash
# What each rank of a streamed MPI run reads of the file (issue 17, item 2): a Parquet file
# of ROWS x FEATURES float32 in row groups of GROUP rows (bench/make_parquet.py), `train
# --stream` of a linear model, batches of BATCH rows, one process and 2 ranks, in file order,
# with row groups permuted (--shuffle-buffer 1) and with a shuffle buffer of 65 536 rows:
# each rank's note of the row groups and bytes it read per epoch, the wall time, and whether
# metrics.csv and model.json are byte-identical to the single process's.
# Usage: bench/mpi_stream.sh [ROWS=200000] [FEATURES=20] [GROUP=1024] [BATCH=4096] [EPOCHS=3]
# DESCENT_BIN: a descent built with --features mpi (else it is built here).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-200000}" FEATURES="${2:-20}" GROUP="${3:-1024}" BATCH="${4:-4096}" EPOCHS="${5:-3}"
if [[ -z "${DESCENT_BIN:-}" ]]; then
    cargo build --release -q -p descent-cli --features mpi --bin descent
fi
BIN="${DESCENT_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/descent}"
export OMPI_MCA_btl_vader_single_copy_mechanism=none
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 "$ROOT/bench/make_parquet.py" "$WORK/d.parquet" "$ROWS" "$FEATURES" "$GROUP"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
ARGS=(train --data "$WORK/d.parquet" --stream --scale standard --model linear --optimizer sgd
      --lr 0.01 --batch "$BATCH" --epochs "$EPOCHS" --threads 1 --seed 5)
for order in "--no-shuffle" "--shuffle-buffer 1" "--shuffle-buffer 65536"; do
    tag="$(echo "$order" | tr -d ' -')"
    # shellcheck disable=SC2086
    /usr/bin/time -f %e -o "$WORK/t1" "$BIN" "${ARGS[@]}" $order --out "$WORK/1-$tag" -q
    # shellcheck disable=SC2086
    /usr/bin/time -f %e -o "$WORK/t2" mpirun --allow-run-as-root --oversubscribe -n 2 "$BIN" \
        "${ARGS[@]}" $order --out "$WORK/2-$tag" >/dev/null 2>"$WORK/err-$tag"
    t1="$(tail -1 "$WORK/t1")" t2="$(tail -1 "$WORK/t2")"
    same=yes
    for f in metrics.csv model.json; do
        cmp -s "$WORK/1-$tag/$f" "$WORK/2-$tag/$f" || same=no
    done
    echo "== $order: 1 process ${t1} s, 2 ranks ${t2} s, files byte-identical: $same"
    grep "row groups per epoch" "$WORK/err-$tag" | sort
done
