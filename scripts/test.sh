#!/usr/bin/env bash
# The whole test suite: linters, the engine's Rust tests, then ExUnit (with doctests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/lint.sh
echo "==> cargo test (engine)"
# NVRTC (no GPU needed) lets the tests compile every generated CUDA kernel
NVRTC="$(bash scripts/ensure_nvrtc.sh | tail -n 1)"
echo "    NVRTC for the generated CUDA kernels: ${NVRTC:-not available, that test is skipped}"
NX_TORCH_NVRTC="$NVRTC" cargo test --release -p nx_engine
echo "==> mix test"
mix test "$@"
