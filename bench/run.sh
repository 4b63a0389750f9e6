#!/usr/bin/env bash
# `make bench`: builds the NIF, makes sure the PyTorch venv exists, runs the workloads
# W1-W10 on both sides in this invocation and prints one table, also written to
# bench/results/ as Markdown and JSON. See bench/README.md.
#
# The sides alternate workload by workload (Nx, then PyTorch, never both at once), so that
# both measure each workload within seconds of each other on a machine whose load drifts.
#
#   BENCH_QUICK=1       few repetitions (well under 2 minutes)
#   BENCH_ONLY=W1,W4    a subset of the workloads
#   BENCH_JAX=1         also jax.jit (installs jax[cpu] into the venv once)
#   BENCH_TORCH_COMPILE=0/1  torch.compile rows (default: on, off with BENCH_QUICK=1)
#   BENCH_WAIT_IDLE=N   first wait up to N s for other processes to quiet down
#   BENCH_W4_ROUNDS=n   rounds of W4, the sides alternating (default 3)
#   NX_TORCH_THREADS=n  LibTorch's threads; the PyTorch side uses the engine's count
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export MIX_ENV="${MIX_ENV:-prod}"

PYBIN="$(bash bench/ensure_venv.sh | tail -n 1)"

# Compiled once here; each group then runs with --no-compile, the same code throughout.
echo "==> mix compile (MIX_ENV=$MIX_ENV)" >&2
mix compile >&2

RESULTS=bench/results
mkdir -p "$RESULTS"
STAMP="$(date +%Y%m%d-%H%M%S)"
NX_OUT="$RESULTS/raw-$STAMP-nx.jsonl"
TORCH_OUT="$RESULTS/raw-$STAMP-torch.jsonl"
: >"$NX_OUT"
: >"$TORCH_OUT"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT+dirty"; fi

# The machine's busy and total CPU ticks so far (/proc/stat).
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# Percent of the CPU that other processes used during one second.
cpu_busy() {
  local b1 t1 b2 t2
  read -r b1 t1 < <(cpu_ticks)
  sleep 1
  read -r b2 t2 < <(cpu_ticks)
  echo $((t2 > t1 ? 100 * (b2 - b1) / (t2 - t1) : 0))
}

busy="$(cpu_busy)"
end=$((SECONDS + ${BENCH_WAIT_IDLE:-0}))
while [ "$busy" -ge 20 ] && [ "$SECONDS" -lt "$end" ]; do
  echo "    (CPU ${busy}% busy with other work; waiting)" >&2
  busy="$(cpu_busy)"
done

# Runs one side on a group of workloads, adding the machine's busy/total ticks meanwhile to
# that side's counters (report.py subtracts the side's own CPU time, from its "end" records).
declare -A BUSY=([nx]=0 [torch]=0) TOTAL=([nx]=0 [torch]=0) STATUS=([nx]=0 [torch]=0)
run_side() {
  local side="$1" only="$2" b1 t1 b2 t2 status=0
  shift 2
  read -r b1 t1 < <(cpu_ticks)
  BENCH_ONLY="$only" "$@" || status=$?
  read -r b2 t2 < <(cpu_ticks)
  BUSY[$side]=$((BUSY[$side] + b2 - b1))
  TOTAL[$side]=$((TOTAL[$side] + t2 - t1))
  if [ "$status" -ne 0 ]; then STATUS[$side]=$status; fi
}

GROUPS_ALL=("W1" "W2,W9" "W3" "W4" "W5" "W6" "W7" "W8" "W10")
THREADS=""
for group in "${GROUPS_ALL[@]}"; do
  if [ -n "${BENCH_ONLY:-}" ]; then
    wanted=""
    for w in ${group//,/ }; do
      if [[ ",${BENCH_ONLY// /}," == *",$w,"* ]]; then wanted="$group"; fi
    done
    [ -n "$wanted" ] || continue
  fi
  # Memory-bound W4 runs in several rounds, the sides alternating: this machine's memory
  # bandwidth changes from one span of seconds to the next (LibTorch's own `sum`, which both
  # sides call, took 0.8 or 1.5-1.9 ms), and one round each would compare two different spans.
  # report.py keeps the round with the median median (and the smallest min).
  rounds=1
  if [ "$group" = "W4" ]; then rounds="${BENCH_W4_ROUNDS:-3}"; fi
  for ((round = 1; round <= rounds; round++)); do
  label=""
  if [ "$rounds" -gt 1 ]; then label=" (round $round of $rounds)"; fi
  echo "==> $group: Nx (bench/nx_side.exs)$label" >&2
  run_side nx "$group" env BENCH_OUT="$NX_OUT" mix run --no-compile bench/nx_side.exs
  # The PyTorch side uses as many intra-op threads as the engine's LibTorch.
  if [ -z "$THREADS" ]; then
    THREADS="$("$PYBIN" -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "info" and r.get("torch_threads"):
        print(r["torch_threads"]); break' "$NX_OUT" 2>/dev/null || true)"
  fi
  echo "==> $group: PyTorch (bench/torch_side.py)" >&2
  run_side torch "$group" env BENCH_OUT="$TORCH_OUT" BENCH_THREADS="$THREADS" "$PYBIN" bench/torch_side.py
  done
done

echo >&2
"$PYBIN" bench/report.py --nx "$NX_OUT" --torch "$TORCH_OUT" --out-dir "$RESULTS" \
  --stamp "$STAMP" --commit "$COMMIT" --nx-status "${STATUS[nx]}" --torch-status "${STATUS[torch]}" \
  --busy "$busy" --nx-ticks "${BUSY[nx]}" "${TOTAL[nx]}" --torch-ticks "${BUSY[torch]}" "${TOTAL[torch]}"

# Rows that cannot run are part of the table; a side that crashed fails the command.
if [ "${STATUS[nx]}" -ne 0 ] || [ "${STATUS[torch]}" -ne 0 ]; then
  echo "a side exited with an error (Nx: ${STATUS[nx]}, PyTorch: ${STATUS[torch]})" >&2
  exit 1
fi
