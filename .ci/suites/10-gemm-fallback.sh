#!/usr/bin/env bash
# GEMM fallback suite: the tests that hold the matrix products to account, rerun with the
# AVX-512 `gemm` path switched off (`DESCENT_GEMM=fallback`, kernels/matmul.rs), as on CPUs
# without AVX-512 (the AMD EPYC machines): the MLP kernel equal to the tape, data-parallel
# shards equal to the single process, the tape's gradients against finite differences, the
# oracle replays. The default run of the Cargo tests covers the AVX-512 path where the CPU
# has it.
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TERM_COLOR=never
export DESCENT_GEMM=fallback
log="$(mktemp)"
status=0
cargo test --release -p descent --test mlp_kernel --test shards --test autodiff_fd \
    --test oracle --test fused_steps 2>&1 | tee "$log" || status=$?
cargo test --release -p descent --lib kernels:: 2>&1 | tee -a "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "gemm-fallback: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
