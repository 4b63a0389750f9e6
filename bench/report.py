"""Joins the two sides' JSON lines into one table (see bench/README.md).

    python bench/report.py --nx NX.jsonl --torch TORCH.jsonl --out-dir bench/results \
        [--stamp STAMP] [--commit SHA] [--nx-status N]

Prints the table and writes it as Markdown and JSON: <out-dir>/bench-<stamp>.{md,json} and
<out-dir>/latest.{md,json}. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re

NX_VARIANTS = {"nx_eager": "eager", "nx_compiled": "compiled", "nx_serving": "serving"}


def load(path):
    records = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    return records


def wl_key(workload):
    m = re.match(r"W(\d+)", workload)
    return int(m.group(1)) if m else 999


def num(v):
    if v is None:
        return ""
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    if a >= 1:
        return f"{v:.3f}"
    return f"{v:.4f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return None


class Lookup:
    """Results and skips of one side, by (workload, case, impl); a skip with case "*"
    covers every case of its workload and impl."""

    def __init__(self, records):
        self.by_key = {}
        self.wild = {}
        rounds = {}
        for r in records:
            if r.get("type") not in ("result", "skip"):
                continue
            if r.get("case") == "*":
                self.wild[(r["workload"], r["impl"])] = r
            else:
                rounds.setdefault((r["workload"], r["case"], r["impl"]), []).append(r)
        for key, rs in rounds.items():
            self.by_key[key] = merge_rounds(rs)

    def get(self, workload, case, impl):
        return self.by_key.get((workload, case, impl)) or self.wild.get((workload, impl))


def merge_rounds(rs):
    """One record for a row measured in several rounds (run.sh repeats W4): the round with
    the median median (the upper one of two), with the smallest min of all rounds."""
    results = [r for r in rs if r["type"] == "result"]
    if not results:
        return rs[-1]
    if len(results) == 1:
        return results[0]
    ordered = sorted(results, key=lambda r: r["median_s"])
    pick = dict(ordered[len(ordered) // 2])
    pick["min_s"] = min(r["min_s"] for r in results)
    pick["rounds"] = len(results)
    return pick


def cell(rec):
    """A side's part of a row: median, min, figure (display units), or why it cannot run."""
    if rec is None:
        return None
    if rec["type"] == "skip":
        return {"cannot_run": rec["reason"]}
    s = rec["scale"]
    out = {"median": rec["median_s"] * s, "min": rec["min_s"] * s, "unit": rec["unit"],
           "samples": rec.get("samples"), "median_s": rec["median_s"], "min_s": rec["min_s"]}
    if rec.get("figure") is not None:
        out["figure"] = rec["figure"]
        out["figure_unit"] = rec["figure_unit"]
    for k in ("first_call_s", "p99_s", "requests", "ops", "loss_first", "loss_last"):
        if k in rec:
            out[k] = rec[k]
    return out


NOISY = 1.5


def noisy(c):
    """A median this far above the min: the row was disturbed (other work on the machine)."""
    return bool(c) and "median" in c and c["min"] > 0 and c["median"] > NOISY * c["min"] \
        and c.get("unit") != "ms p50 latency"


def figure_text(c):
    if not c or "figure" not in c:
        return ""
    text = f"{num(c['figure'])} {c['figure_unit']}"
    if "p99_s" in c:
        text += f", p99 {num(c['p99_s'] * 1e3)} ms"
    if "first_call_s" in c and c.get("figure_unit") == "steps/s":
        text += f", first call {num(c['first_call_s'])} s"
    return text


def median_text(c, missing="no result"):
    if c is None:
        return f"cannot run: {missing}"
    if "cannot_run" in c:
        return f"cannot run: {c['cannot_run']}"
    return num(c["median"])


def build_rows(nx, torch, nx_missing):
    nx_l, t_l = Lookup(nx), Lookup(torch)
    keys = []
    seen = set()
    for r in nx:
        if r.get("type") in ("result", "skip") and r.get("case") != "*":
            k = (r["workload"], r["case"], NX_VARIANTS.get(r["impl"], r["impl"]), r["impl"])
            if k not in seen:
                seen.add(k)
                keys.append(k)
    # PyTorch rows the Nx side said nothing about (e.g. it did not run at all).
    nx_cases = {(k[0], k[1]) for k in keys}
    for r in torch:
        if r.get("type") == "result" and r["impl"] == "torch_eager" and (r["workload"], r["case"]) not in nx_cases:
            keys.append((r["workload"], r["case"], "-", None))
            nx_cases.add((r["workload"], r["case"]))
    keys.sort(key=lambda k: wl_key(k[0]))  # stable: keeps each side's order within a workload

    rows = []
    for workload, case, variant, impl in keys:
        ours = cell(nx_l.get(workload, case, impl)) if impl else None
        eager = cell(t_l.get(workload, case, "torch_eager"))
        row = {"workload": workload, "case": case, "variant": variant, "ours": ours,
               "torch_eager": eager}
        if ours is None:
            row["ours"] = {"cannot_run": nx_missing}
        unit = next((c["unit"] for c in (row["ours"], eager) if c and "unit" in c), "")
        row["unit"] = unit
        if row["ours"] and eager and "median" in row["ours"] and "median" in eager:
            row["ratio"] = row["ours"]["median"] / eager["median"]
        if variant == "compiled":
            row["torch_compile"] = cell(t_l.get(workload, case, "torch_compile"))
            row["jax_jit"] = cell(t_l.get(workload, case, "jax_jit"))
        rows.append(row)
    return rows


COLUMNS = ["workload", "case", "variant", "unit", "ours median / min", "PyTorch eager median / min",
           "ours/PyTorch", "ours figure", "PyTorch figure", "torch.compile median", "jax.jit median"]


def table_cells(row, width=None):
    ours, eager = row["ours"], row["torch_eager"]

    def short(text):
        if width and len(text) > width:
            return text[: width - 3] + "..."
        return text

    def both(c, missing):
        if c is None or "cannot_run" in c:
            return short(median_text(c, missing))
        return f"{median_text(c)} / {num(c['min'])}{'*' if noisy(c) else ''}"

    def opt(c):
        if c is None:
            return ""
        if "cannot_run" in c:
            return short("cannot run: " + c["cannot_run"])
        text = median_text(c)
        if "first_call_s" in c and c.get("figure_unit") == "steps/s":
            text += f" (first call {num(c['first_call_s'])} s)"
        return text

    return [
        row["workload"], row["case"], row["variant"], row["unit"],
        both(ours, "no result"), both(eager, "no PyTorch result"),
        f"{num(row['ratio'])}x" if "ratio" in row else "",
        figure_text(ours), figure_text(eager),
        opt(row.get("torch_compile")), opt(row.get("jax_jit")),
    ]


def header_lines(h):
    nx, t = h["nx"], h["torch"]
    return [
        f"make bench{' (BENCH_QUICK=1)' if h['quick'] else ''} - {h['date']} - commit {h['commit']}",
        f"CPU: {h['cpu']} ({h['logical_cpus']} logical CPUs, {h['mem_gib']} GiB), {h['os']}",
        f"Threads: LibTorch intra-op (Nx.Torch.info().threads) {nx.get('torch_threads', '?')}, "
        f"torch.get_num_threads() {t.get('torch_threads', '?')}; BEAM schedulers "
        f"{nx.get('schedulers', '?')} (+{nx.get('dirty_cpu_schedulers', '?')} dirty CPU)",
        f"Versions: Elixir {nx.get('elixir', '?')} / OTP {nx.get('otp', '?')}, Nx {nx.get('nx', '?')} "
        f"(MIX_ENV={nx.get('mix_env', '?')}); torch {t.get('torch', '?')} (Python {t.get('python', '?')}); "
        f"jax {t.get('jax') or '-'}",
        f"OpenMP: OMP_WAIT_POLICY={h.get('omp_wait_policy') or '(unset)'} for both sides",
        f"compiled = Nx.Defn.jit(fun, compiler: {nx.get('compiler', '?')}); torch.compile: "
        f"{t.get('torch_compile', '?')}; PyTorch forward-only rows run under torch.inference_mode()",
        f"CPU in use in the second before the run: {pct(h['busy_before'])}; 1-minute load average "
        f"at start: {nx.get('loadavg', '?')}",
        "median/min over repeated samples (each sample averages many calls); "
        "ours/PyTorch = our median / PyTorch eager median (below 1: ours is faster)",
    ]


def text_table(rows, width=48):
    cells = [COLUMNS] + [table_cells(r, width) for r in rows]
    used = [i for i in range(len(COLUMNS)) if any(c[i] for c in cells[1:])]
    widths = {i: max(len(c[i]) for c in cells) for i in used}
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(c[i].ljust(widths[i]) for i in used).rstrip())
        if n == 0:
            lines.append("  ".join("-" * widths[i] for i in used))
    return "\n".join(lines)


def md_table(rows):
    cells = [table_cells(r) for r in rows]
    used = [i for i in range(len(COLUMNS)) if any(c[i] for c in cells)]
    esc = lambda s: s.replace("|", "\\|").replace("*", "\\*")
    lines = ["| " + " | ".join(COLUMNS[i] for i in used) + " |",
             "|" + "|".join("---" for _ in used) + "|"]
    for c in cells:
        lines.append("| " + " | ".join(esc(c[i]) for i in used) + " |")
    return "\n".join(lines)


def others_share(ticks, records):
    """Percent of the machine's CPU time used by other processes while a side ran: the
    machine's busy ticks minus the side's own (its "end" records), over the total."""
    ends = [r.get("cpu_ticks") for r in records if r.get("type") == "end"]
    if not ticks or not ends or None in ends or ticks[1] <= 0:
        return None
    busy, total = ticks
    return max(0, round(100 * (busy - sum(ends)) / total))


def pct(v):
    return "?" if v is None else f"{v}%"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nx", required=True)
    ap.add_argument("--torch", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--stamp", default=datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    ap.add_argument("--commit", default="?")
    ap.add_argument("--nx-status", type=int, default=0)
    ap.add_argument("--torch-status", type=int, default=0)
    ap.add_argument("--busy", type=int, help="percent of CPU in use just before the run")
    ap.add_argument("--nx-ticks", type=int, nargs=2, help="/proc/stat busy and total ticks while the Nx side ran")
    ap.add_argument("--torch-ticks", type=int, nargs=2)
    args = ap.parse_args()

    nx, torch = load(args.nx), load(args.torch)
    nx_info = next((r for r in nx if r.get("type") == "info"), {})
    t_info = next((r for r in torch if r.get("type") == "info"), {})
    nx_missing = ("the Nx side produced no record" if args.nx_status == 0
                  else f"the Nx side failed (exit status {args.nx_status})")
    rows = build_rows(nx, torch, nx_missing)

    header = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": args.commit,
        "quick": bool(nx_info.get("quick", t_info.get("quick", False))),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "mem_gib": mem_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "nx": {k: v for k, v in nx_info.items() if k != "type"},
        "torch": {k: v for k, v in t_info.items() if k != "type"},
        "nx_status": args.nx_status,
        "torch_status": args.torch_status,
        "busy_before": args.busy,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }
    others = [others_share(args.nx_ticks, nx), others_share(args.torch_ticks, torch)]
    header["others_during"] = others
    head = header_lines(header)
    head.insert(-1, "CPU used by other processes while each side ran: "
                f"Nx {pct(others[0])}, PyTorch {pct(others[1])}")
    if any(isinstance(b, int) and b >= 20 for b in others):
        head.append("WARNING: other processes were using the CPU; LibTorch's threads then wait on "
                    "each other and figures can be several times too slow. Rerun on a quiet machine.")
    if args.torch_status:
        head.append(f"the PyTorch side failed (exit status {args.torch_status})")

    repeated = sorted({r["workload"] for r in nx + torch
                       if r.get("type") == "result"
                       and sum(1 for q in nx if q.get("type") == "result"
                               and (q["workload"], q["case"], q["impl"])
                               == (r["workload"], r["case"], r["impl"])) > 1})
    if repeated:
        head.append(f"{', '.join(repeated)}: measured in several rounds, the sides alternating; "
                    "each side shows the round with its median median, and its smallest min")

    if any(noisy(r["ours"]) or noisy(r["torch_eager"]) for r in rows):
        head.append(f"* median more than {NOISY}x the min: that row was disturbed; read its min")

    print("\n".join(head))
    print()
    print(text_table(rows))

    os.makedirs(args.out_dir, exist_ok=True)
    md = "\n".join(["# Benchmarks", "", *[f"- {line.replace('*', chr(92) + '*')}" for line in head], "",
                    md_table(rows), ""])
    doc = {"header": header, "columns": COLUMNS, "rows": rows, "records": {"nx": nx, "torch": torch}}
    for name in (f"bench-{args.stamp}", "latest"):
        with open(os.path.join(args.out_dir, name + ".md"), "w") as f:
            f.write(md)
        with open(os.path.join(args.out_dir, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
    print()
    print(f"written: {args.out_dir}/bench-{args.stamp}.md, .json (and latest.md, latest.json)")


if __name__ == "__main__":
    main()
