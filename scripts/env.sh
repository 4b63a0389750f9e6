# Sourced by the other scripts: where LibTorch and cargo's target directory live.
NX_TORCH_CACHE="${NX_TORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nx_torch}"
export NX_TORCH_CACHE
LIBTORCH="$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure_libtorch.sh" | tail -n 1)"
export LIBTORCH
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NX_TORCH_CACHE/target}"
export MIX_HOME="${MIX_HOME:-$HOME/.mix}"
