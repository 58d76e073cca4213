#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after the other.
#
#   fuzz/run.sh [SECONDS] [TARGET ...]   (default 60 seconds per target, every target)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz passes nightly-only flags
# (-Zsanitizer, -Cpasses=sancov-module); on a stable toolchain RUSTC_BOOTSTRAP=1 lets stable
# rustc accept them, which is what this script does. With a nightly toolchain it is harmless.
# Corpora go to fuzz/corpus/TARGET and crashes to fuzz/artifacts/TARGET (both git-ignored);
# reproduce a crash with `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/FILE`.
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1

targets=(csv_reader schedule_spec optimizer_spec checkpoint model_file checkpoint_file parquet_reader)
[[ $# -gt 0 ]] && targets=("$@")
cargo fuzz build --release
status=0
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s"
    mkdir -p "fuzz/corpus/$target"
    if ! cargo fuzz run --release "$target" -- \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1; then
        echo "!! $target found a crash: see fuzz/artifacts/$target/"
        status=1
    fi
done
exit $status
