#!/usr/bin/env bash
# `make bench`: builds the NIF, makes sure the PyTorch venv exists, runs the workloads
# W1-W10 on both sides in this invocation (Nx first, then PyTorch; never at the same time)
# and prints one table, also written to bench/results/ as Markdown and JSON.
#
#   BENCH_QUICK=1   few repetitions (about 1-2 minutes)
#   BENCH_ONLY=W1,W4  a subset of the workloads
#   BENCH_JAX=1     also jax.jit (installs jax[cpu] into the venv once)
#   BENCH_TORCH_COMPILE=0/1  torch.compile rows (default: on, off with BENCH_QUICK=1)
#   BENCH_WAIT_IDLE=N  wait up to N s before each side for other processes to quiet down
#   NX_TORCH_THREADS=n  LibTorch's threads; the PyTorch side uses the engine's count
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export MIX_ENV="${MIX_ENV:-prod}"

PYBIN="$(bash bench/ensure_venv.sh | tail -n 1)"

echo "==> mix compile (MIX_ENV=$MIX_ENV)" >&2
mix compile >&2

RESULTS=bench/results
mkdir -p "$RESULTS"
STAMP="$(date +%Y%m%d-%H%M%S)"
NX_OUT="$RESULTS/raw-$STAMP-nx.jsonl"
TORCH_OUT="$RESULTS/raw-$STAMP-torch.jsonl"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT+dirty"; fi

# Percent of CPU time that other processes used during one second (/proc/stat): on a shared
# machine this says how much to trust the figures that follow.
cpu_busy() {
  local a b
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
  sleep 1
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
  a=$(((u2 + n2 + s2 + q2 + sq2 + st2) - (u1 + n1 + s1 + q1 + sq1 + st1)))
  b=$((a + (i2 + w2) - (i1 + w1)))
  echo $((b > 0 ? 100 * a / b : 0))
}

# With BENCH_WAIT_IDLE=N, waits up to N seconds for other processes to use less than 20%.
quiet_cpu_busy() {
  local busy end=$((SECONDS + ${BENCH_WAIT_IDLE:-0}))
  busy="$(cpu_busy)"
  while [ "$busy" -ge 20 ] && [ "$SECONDS" -lt "$end" ]; do
    echo "    (CPU ${busy}% busy with other work; waiting)" >&2
    busy="$(cpu_busy)"
  done
  echo "$busy"
}

# The machine's busy and total CPU ticks so far (/proc/stat).
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

echo "==> Nx side (mix run bench/nx_side.exs)" >&2
nx_busy="$(quiet_cpu_busy)"
nx_status=0
nx_ticks="$(cpu_ticks)"
BENCH_OUT="$NX_OUT" mix run bench/nx_side.exs || nx_status=$?
nx_ticks="$nx_ticks $(cpu_ticks)"

# The PyTorch side uses as many intra-op threads as the engine's LibTorch.
THREADS="$("$PYBIN" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "info" and r.get("torch_threads"): print(r["torch_threads"]); break' "$NX_OUT" 2>/dev/null || true)"

echo "==> PyTorch side (bench/torch_side.py)" >&2
torch_busy="$(quiet_cpu_busy)"
torch_status=0
torch_ticks="$(cpu_ticks)"
BENCH_OUT="$TORCH_OUT" BENCH_THREADS="${THREADS:-}" "$PYBIN" bench/torch_side.py || torch_status=$?
torch_ticks="$torch_ticks $(cpu_ticks)"

echo >&2
"$PYBIN" bench/report.py --nx "$NX_OUT" --torch "$TORCH_OUT" --out-dir "$RESULTS" \
  --stamp "$STAMP" --commit "$COMMIT" --nx-status "$nx_status" --torch-status "$torch_status" \
  --busy "$nx_busy" "$torch_busy" --nx-ticks $nx_ticks --torch-ticks $torch_ticks
