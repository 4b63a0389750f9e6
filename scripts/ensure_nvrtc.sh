#!/usr/bin/env bash
# Fetches NVRTC 13.0 (the PyPI wheel nvidia-cuda-nvrtc, ~90 MB, the version the CUDA set-up
# uses) into the cache, so that the engine's tests compile every generated CUDA kernel even on
# a machine without a GPU. Prints the path of libnvrtc.so.13 on its last line, or nothing when
# it cannot be fetched (the test then says it was skipped). Honors NX_TORCH_NVRTC (used as is).
set -uo pipefail
if [ -n "${NX_TORCH_NVRTC:-}" ]; then
  echo "$NX_TORCH_NVRTC"
  exit 0
fi
CACHE="${NX_TORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nx_torch}"
DIR="$CACHE/nvrtc-13.0"
if [ ! -f "$DIR/.complete" ]; then
  echo "==> fetching NVRTC 13.0 into $DIR (to check generated CUDA kernels)" >&2
  mkdir -p "$CACHE"
  TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  if ! "${PYTHON:-python3}" -m pip download --quiet --no-deps --only-binary=:all: \
      --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_12_x86_64 -d "$TMP" "nvidia-cuda-nvrtc==13.0.*" >&2; then
    echo "==> NVRTC could not be fetched; the NVRTC test will be skipped" >&2
    exit 0
  fi
  mkdir -p "$TMP/out"
  "${PYTHON:-python3}" - "$TMP" "$TMP/out" <<'PYEOF'
import glob, os, sys, zipfile
for whl in glob.glob(os.path.join(sys.argv[1], "nvidia_cuda_nvrtc-*.whl")):
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            base = os.path.basename(n)
            if "/lib/" in n and base.startswith("libnvrtc"):
                with z.open(n) as src, open(os.path.join(sys.argv[2], base), "wb") as dst:
                    dst.write(src.read())
PYEOF
  touch "$TMP/out/.complete"
  rm -rf "$DIR"
  mv "$TMP/out" "$DIR"
fi
[ -f "$DIR/libnvrtc.so.13" ] && echo "$DIR/libnvrtc.so.13"
exit 0
