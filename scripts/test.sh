#!/usr/bin/env bash
# The whole test suite: linters, the engine's Rust tests, then ExUnit (with doctests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/lint.sh
echo "==> cargo test (engine)"
cargo test --release -p nx_engine
echo "==> mix test"
mix test "$@"
