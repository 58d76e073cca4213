#!/usr/bin/env bash
# Parquet: regenerates the test files with the newest pyarrow and pandas from PyPI
# (crates/descent/tests/fixtures/parquet/make.py) and checks that descent trains on each
# fresh file to the metrics.csv and model.json of the committed one (same seeded data), and
# that a streamed run gives the in-memory run's metrics.csv; stream_stats.py checks the
# streaming statistics against numpy. Fresh machine: about 1-2 min
# (apt + pip wheels + the release binary the Cargo tests already built).
set -uo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv python3-pip >/dev/null
venv="$(mktemp -d)/venv"
python3 -m venv "$venv" && "$venv/bin/pip" install -q pyarrow pandas numpy || {
    echo "0 passed, 1 failed (could not install pyarrow)"; exit 1; }
fresh="$(mktemp -d)"
"$venv/bin/python" crates/descent/tests/fixtures/parquet/make.py "$fresh" >/dev/null
cargo build --quiet --release -p descent-cli
bin="${CARGO_TARGET_DIR:-target}/release/descent"
committed=crates/descent/tests/fixtures/parquet
work="$(mktemp -d)"
passed=0; failed=0
train() { # DATA OUT [FLAGS...]
    local data="$1" out="$2"; shift 2
    "$bin" train --data "$data" --target y --features f16,f32,f64,i16,u8,d32,d64,level \
        --drop-missing --scale minmax --optimizer adam --lr 0.01 --batch 16 --epochs 3 \
        --no-shuffle --out "$work/$out" -q "$@"
}
check() { # NAME A B: files must be equal
    if cmp -s "$2" "$3"; then passed=$((passed + 1)); else
        failed=$((failed + 1)); echo "FAILED: $1 ($2 vs $3)"; fi
}
for codec in none snappy gzip zstd lz4; do
    f="numbers_$codec.parquet"
    train "$committed/$f" "c-$codec" && train "$fresh/$f" "f-$codec" \
        && train "$fresh/$f" "s-$codec" --stream || { failed=$((failed + 1)); echo "FAILED: train $f"; continue; }
    check "fresh $f" "$work/c-$codec/model.json" "$work/f-$codec/model.json"
    check "stream $f" "$work/c-$codec/metrics.csv" "$work/s-$codec/metrics.csv"
done
for f in classes.parquet; do
    "$bin" train --data "$committed/$f" --model softmax --one-hot city --epochs 5 --out "$work/cc" -q \
        && "$bin" train --data "$fresh/$f" --model softmax --one-hot city --epochs 5 --out "$work/fc" -q \
        || { failed=$((failed + 1)); echo "FAILED: train $f"; continue; }
    check "fresh $f" "$work/cc/model.json" "$work/fc/model.json"
done
# The one-pass statistics against numpy (mean, std with a column offset by 1e6, min, max).
if "$venv/bin/python" .ci/suites/stream_stats.py "$bin" "$work/stats"; then
    passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: stream_stats.py"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
