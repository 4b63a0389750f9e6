#!/usr/bin/env bash
# Creates (once) the Python virtual environment that runs the PyTorch side of `make bench`:
# torch==2.11.0 from PyPI (the same LibTorch as the engine), plus jax[cpu] when BENCH_JAX=1.
# It lives outside the repository, in $NX_TORCH_CACHE/bench-venv, and is reused on later runs.
# Prints the venv's python on its last line.
set -euo pipefail
TORCH_VERSION=2.11.0
CACHE="${NX_TORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nx_torch}"
VENV="${BENCH_VENV:-$CACHE/bench-venv}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ] && ! "$PY" -c "import venv, ensurepip" 2>/dev/null \
   && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing python3-venv from Debian's packages" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating the benchmark venv in $VENV" >&2
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
fi

if [ ! -f "$VENV/.torch-$TORCH_VERSION" ]; then
  echo "==> installing torch==$TORCH_VERSION into $VENV (first run only)" >&2
  "$VENV/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" numpy >&2
  "$VENV/bin/python" -c "import torch; torch.ones(1) + 1" >&2
  touch "$VENV/.torch-$TORCH_VERSION"
fi

if [ "${BENCH_JAX:-0}" = "1" ] && [ ! -f "$VENV/.jax" ]; then
  echo "==> installing jax[cpu] into $VENV (first run with BENCH_JAX=1 only)" >&2
  "$VENV/bin/python" -m pip install --quiet "jax[cpu]" >&2
  "$VENV/bin/python" -c "import jax, jax.numpy as jnp; jnp.ones(1).block_until_ready()" >&2
  touch "$VENV/.jax"
fi

echo "$VENV/bin/python"
