#!/usr/bin/env bash
# Peak memory (RSS) and time of streamed training and of the decode-only floor on a large
# synthetic Parquet file, with /usr/bin/time -v; P6 side by side with PyTorch + pyarrow.
#
#   bench/stream_rss.sh [ROWS=5000000] [FEATURES=100] [DIR=/tmp/descent-p6]
#
# Then the same for CSV: a file of CSV_ROWS rows x 20 features written by `descent generate
# linear` (1 500 000 rows: about 620 MB), streamed in chunks (the example's `index_seconds`
# is the pass that finds them), against the file read whole, and `predict` on it streamed (to
# CSV and to Parquet) and read whole. ONLY=csv runs that part alone.
#
# 5 M rows x 100 float32 features is P6 (about 2 GB of snappy Parquet); 10 M rows x 100 is
# the 4 GB acceptance file. Needs pyarrow (and torch for the PyTorch side), GNU time, and a
# release build (`cargo build --release -p descent-cli`; the decode floor is the example
# `decode_parquet`). Run it on a quiet machine.
set -euo pipefail
rows="${1:-5000000}"
features="${2:-100}"
dir="${3:-/tmp/descent-p6}"
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
bin="${DESCENT_BIN:-$target/release/descent}"
mkdir -p "$dir"
file="$dir/p6-${rows}x${features}.parquet"
cargo build --quiet --release -p descent --example decode_parquet
measure() { # NAME COMMAND...: prints NAME, wall seconds and peak RSS in MiB
    local name="$1"; shift
    local log="$dir/$name.time"
    /usr/bin/time -v "$@" > "$dir/$name.out" 2> "$log"
    local rss wall
    rss=$(awk -F': ' '/Maximum resident set size/ {print int($2/1024)}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    printf '%-22s wall %-10s peak RSS %6s MiB\n' "$name" "$wall" "$rss"
}
csv_case() {
    local csv_rows="${CSV_ROWS:-1500000}"
    local csv="$dir/linear-${csv_rows}x20.csv"
    [[ -f "$csv" ]] || "$bin" generate linear --rows "$csv_rows" --features 20 --out "$csv"
    ls -l "$csv"
    measure csv-decode-floor "$target/release/examples/decode_parquet" "$csv"
    cat "$dir/csv-decode-floor.out"
    measure csv-stream "$bin" train --data "$csv" --target y --model linear --optimizer sgd \
        --lr 0.01 --batch 256 --epochs 1 --no-shuffle --stream --scale minmax --dtype f32 --out "$dir/csv-run" -q
    measure csv-shuffled "$bin" train --data "$csv" --target y --model linear --optimizer sgd \
        --lr 0.01 --batch 256 --epochs 1 --stream --scale minmax --dtype f32 --out "$dir/csv-run-shuffled" -q
    measure csv-in-memory "$bin" train --data "$csv" --target y --model linear --optimizer sgd \
        --lr 0.01 --batch 256 --epochs 1 --no-shuffle --scale minmax --dtype f32 --out "$dir/csv-run-memory" -q
    cmp "$dir/csv-run/metrics.csv" "$dir/csv-run-memory/metrics.csv" \
        && echo "csv-stream metrics.csv: the in-memory run's bytes"
    # Predictions from the CSV file: streamed (to CSV, to Parquet) and read whole.
    measure csv-predict-stream "$bin" predict --stream --model "$dir/csv-run" --data "$csv" \
        --out "$dir/csv-preds-stream.csv"
    measure csv-predict-parquet "$bin" predict --stream --model "$dir/csv-run" --data "$csv" \
        --out "$dir/csv-preds-stream.parquet"
    measure csv-predict-memory "$bin" predict --model "$dir/csv-run" --data "$csv" \
        --out "$dir/csv-preds-memory.csv"
    cmp "$dir/csv-preds-stream.csv" "$dir/csv-preds-memory.csv" \
        && echo "csv-predict-stream: the in-memory predictions' bytes"
}
if [[ "${ONLY:-}" == csv ]]; then
    csv_case
    exit 0
fi
[[ -f "$file" ]] || python3 bench/make_parquet.py "$file" "$rows" "$features"
ls -l "$file"
measure decode-floor "$target/release/examples/decode_parquet" "$file"
measure descent-stream "$bin" train --data "$file" --target y --model linear --optimizer sgd \
    --lr 0.01 --batch 256 --epochs 1 --no-shuffle --stream --dtype f32 --out "$dir/run" -q
measure descent-shuffled "$bin" train --data "$file" --target y --model linear --optimizer sgd \
    --lr 0.01 --batch 256 --epochs 1 --stream --shuffle-buffer 65536 --dtype f32 --out "$dir/run-shuffled" -q
# The statistics pass (setup) and the epoch (train) of the streamed runs, from summary.json.
for run in run run-shuffled; do
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timing"]; print("%-22s statistics pass %.2f s, epoch %.2f s" % (sys.argv[2], t["setup_s"], t["train_s"]))' \
        "$dir/$run/summary.json" "$run"
done
measure predict-csv "$bin" predict --stream --model "$dir/run" --data "$file" --out "$dir/preds.csv"
measure predict-parquet "$bin" predict --stream --model "$dir/run" --data "$file" --out "$dir/preds.parquet"
if python3 -c "import torch" 2>/dev/null; then
    measure pytorch-pyarrow python3 bench/p6_torch.py "$file"
fi
csv_case
