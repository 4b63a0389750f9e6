#!/usr/bin/env bash
# Formatters and linters, Rust and Elixir.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "==> mix format --check-formatted"
mix format --check-formatted
echo "==> mix compile --warnings-as-errors"
MIX_ENV=test mix compile --force --warnings-as-errors
