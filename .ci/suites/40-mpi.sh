#!/usr/bin/env bash
# MPI suite: data-parallel `descent train` under `mpirun` (issue 17). Installs Open MPI and
# libclang (rsmpi's build needs both), builds with `--features mpi` and runs
# crates/descent-cli/tests/mpi.rs: byte-identical files for 1, 2, 3 and 8 ranks and for both
# ordered algorithms (all-gather, chain), streamed ranks reading only their row groups (or a
# streamed CSV file's chunks), the
# plain all-reduce's tolerance, mismatched ranks refused, a failing or killed rank ending the
# run, resume; and the cluster's unit tests (the α-β choice). Runs as root on a fresh Debian
# machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TERM_COLOR=never
export DEBIAN_FRONTEND=noninteractive
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null \
    || ! compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev libclang-dev >/dev/null
fi
mpirun --version | head -n 1

log="$(mktemp)"
status=0
cargo test --release -p descent-cli --features mpi --test mpi 2>&1 | tee "$log" || status=$?
cargo test --release -p descent-cli --features mpi --lib cluster:: 2>&1 | tee -a "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "mpi: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
