# Sourced by the other scripts and run by the Mix compiler: where LibTorch and cargo's target
# directory live. The target directory sits in the cache (outside the clone, so a kept machine
# builds incrementally) but is keyed by the checkout's path: two checkouts sharing one target
# directory would overwrite each other's NIF library.
NX_TORCH_CACHE="${NX_TORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nx_torch}"
export NX_TORCH_CACHE
_nx_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIBTORCH="$(bash "$_nx_root/scripts/ensure_libtorch.sh" | tail -n 1)"
export LIBTORCH
_nx_key="$(printf %s "$_nx_root" | cksum | cut -d' ' -f1)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NX_TORCH_CACHE/target-$_nx_key}"
export MIX_HOME="${MIX_HOME:-$HOME/.mix}"
# See the Makefile: LibTorch's OpenMP workers should sleep, not spin, between operations.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
