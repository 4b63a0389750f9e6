#!/usr/bin/env bash
# Fetches scikit-learn's "digits" data set (1,797 labelled 8x8 images) from the scikit-learn
# wheel on PyPI into the cache and prints the path of digits.csv.gz. Nothing is committed.
set -euo pipefail
CACHE="${NX_TORCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nx_torch}"
OUT="$CACHE/datasets/digits.csv.gz"
if [ -f "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
echo "==> fetching the digits data set (scikit-learn wheel from PyPI)" >&2
mkdir -p "$CACHE/datasets"
TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
"${PYTHON:-python3}" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$TMP" scikit-learn >&2
"${PYTHON:-python3}" - "$TMP" "$OUT.tmp" <<'PYEOF'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/scikit_learn-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("sklearn/datasets/data/digits.csv.gz")
open(sys.argv[2], "wb").write(data)
PYEOF
mv "$OUT.tmp" "$OUT"
echo "$OUT"
