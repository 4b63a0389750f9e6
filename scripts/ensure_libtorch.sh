#!/usr/bin/env bash
# Fetches LibTorch 2.11.0 (from the PyPI wheel torch==2.11.0) and the two small CUDA runtime
# libraries that libtorch_cpu.so names as NEEDED, into a cache directory outside the repository.
# Prints the LibTorch directory on its last line. Honors LIBTORCH=<dir> (used as is).
set -euo pipefail
TORCH_VERSION=2.11.0
if [ -n "${LIBTORCH:-}" ]; then
  if [ ! -f "$LIBTORCH/lib/libtorch_cpu.so" ]; then
    echo "LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so" >&2
    exit 1
  fi
  echo "$LIBTORCH"
  exit 0
fi
CACHE="${NX_TORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nx_torch}"
DIR="$CACHE/libtorch-$TORCH_VERSION"
if [ "${NX_TORCH_CUDA:-0}" = "1" ]; then
  # The CUDA variant: the same LibTorch plus the NVIDIA libraries that libtorch_cuda.so needs,
  # at the versions torch 2.11.0 pins, beside it in lib/ (its RPATH has $ORIGIN).
  CPU_DIR="$DIR"
  DIR="$CACHE/libtorch-$TORCH_VERSION-cuda"
  if [ -f "$DIR/.complete" ]; then
    echo "$DIR"
    exit 0
  fi
  NX_TORCH_CUDA=0 bash "$0" >/dev/null
  echo "==> fetching the CUDA libraries for LibTorch $TORCH_VERSION into $DIR" >&2
  TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
  "${PYTHON:-python3}" -m pip download --quiet --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_25_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_18_x86_64 --platform manylinux2014_x86_64 -d "$TMP/wheels" \
    "cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.2" \
    "nvidia-cudnn-cu13==9.19.0.56" "nvidia-cusparselt-cu13==0.8.0" "nvidia-nccl-cu13==2.28.9" \
    "nvidia-nvshmem-cu13==3.4.5" >&2
  mkdir -p "$TMP/out"
  cp -al "$CPU_DIR/." "$TMP/out/"
  rm -f "$TMP/out/.complete"
  "${PYTHON:-python3}" - "$TMP/wheels" "$TMP/out/lib" <<'PYEOF'
import glob, os, sys, zipfile
wheels, lib = sys.argv[1], sys.argv[2]
for whl in glob.glob(os.path.join(wheels, "nvidia_*.whl")):
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            base = os.path.basename(n)
            if "/lib/" in n and ".so" in base:
                target = os.path.join(lib, base)
                if os.path.exists(target):
                    os.remove(target)  # a hard link into the CPU directory: replace, never write through
                with z.open(n) as src, open(target, "wb") as dst:
                    dst.write(src.read())
PYEOF
  touch "$TMP/out/.complete"
  rm -rf "$DIR"
  mv "$TMP/out" "$DIR"
  echo "$DIR"
  exit 0
fi
if [ -f "$DIR/.complete" ]; then
  echo "$DIR"
  exit 0
fi
echo "==> fetching LibTorch $TORCH_VERSION into $DIR" >&2
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
PY="${PYTHON:-python3}"
PIPDL=("$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_25_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$TMP")
"${PIPDL[@]}" "torch==$TORCH_VERSION" >&2
"${PIPDL[@]}" "nvidia-cuda-runtime==13.0.96.*" "nvidia-cuda-cupti==13.0.85.*" >&2
mkdir -p "$TMP/out"
(cd "$TMP/out" && "$PY" - "$TMP" <<'PYEOF'
import sys, zipfile, glob, os
tmp = sys.argv[1]
torch_whl = glob.glob(os.path.join(tmp, "torch-*.whl"))[0]
with zipfile.ZipFile(torch_whl) as z:
    for n in z.namelist():
        if n.startswith(("torch/lib/", "torch/include/", "torch/share/")):
            rel = n[len("torch/"):]
            if n.endswith("/"):
                continue
            os.makedirs(os.path.dirname(rel), exist_ok=True)
            with z.open(n) as src, open(rel, "wb") as dst:
                dst.write(src.read())
for whl in glob.glob(os.path.join(tmp, "nvidia_*.whl")):
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            base = os.path.basename(n)
            if "/lib/" in n and (base.startswith("libcudart.so") or base.startswith("libcupti.so")):
                with z.open(n) as src, open(os.path.join("lib", base), "wb") as dst:
                    dst.write(src.read())
PYEOF
)
touch "$TMP/out/.complete"
rm -rf "$DIR"
mv "$TMP/out" "$DIR"
echo "$DIR"
