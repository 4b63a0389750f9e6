"""The PyTorch side of `make bench` (see bench/README.md).

Runs the workloads W1-W10 with PyTorch eager (torch==2.11.0, the same LibTorch as the
engine) and, where they apply, torch.compile and jax.jit, and writes one JSON object per
line to $BENCH_OUT (stdout when unset). Progress goes to stderr.

Environment: BENCH_QUICK=1 (few repetitions), BENCH_ONLY=W1,W3 (a subset),
BENCH_TORCH_COMPILE=0/1 (default: on, off with BENCH_QUICK=1), BENCH_JAX=1 (jax.jit rows),
BENCH_THREADS=n (torch.set_num_threads; run.sh passes the engine's LibTorch thread count).

Forward-only rows run under torch.inference_mode() (the faster of PyTorch's eager modes);
the training step (W7) uses autograd.
"""

import json
import os
import platform
import queue
import statistics
import sys
import threading
import time
import traceback

if os.environ.get("BENCH_TORCH_COMPILE", "") != "0" and "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
    # A fresh inductor cache for every run, so torch.compile's first-call times are cold
    # compiles like the engine's (inductor otherwise reuses kernels from earlier runs).
    import atexit
    import shutil
    import tempfile

    _cache = tempfile.mkdtemp(prefix="bench-inductor-")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

import torch
import torch.nn.functional as F

LR = 0.01
BATCH = 128
SIZES = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]


def env_flag(name, default):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    return v in ("1", "true", "yes")


QUICK = env_flag("BENCH_QUICK", False)
ONLY = [w.strip() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()] or None
TORCH_COMPILE = env_flag("BENCH_TORCH_COMPILE", not QUICK)
WANT_JAX = env_flag("BENCH_JAX", False)

if QUICK:
    CFG = dict(warmup=2, min_samples=3, max_samples=10, budget_s=0.6, sample_s=0.005,
               w1_samples=10, serving_requests=8)
else:
    CFG = dict(warmup=3, min_samples=10, max_samples=60, budget_s=3.0, sample_s=0.01,
               w1_samples=30, serving_requests=40)

OUT = open(os.environ["BENCH_OUT"], "a") if os.environ.get("BENCH_OUT") else sys.stdout


def emit(record):
    OUT.write(json.dumps(record) + "\n")
    OUT.flush()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- measurement
#
# fun(state) -> state. After warm-up, each sample times `inner` calls (calibrated so a
# sample takes about CFG["sample_s"]); samples are taken until max_samples, or budget_s
# has passed with at least min_samples. Returns seconds per call.

def now():
    return time.perf_counter_ns()


def measure(fun, state=None, warmup=None, inner=None, min_samples=None, max_samples=None):
    warmup = CFG["warmup"] if warmup is None else warmup
    for _ in range(warmup):
        state = fun(state)
    if inner is None:
        t0 = now()
        state = fun(state)
        t = max(now() - t0, 1)
        inner = min(max(round(CFG["sample_s"] * 1e9 / t), 1), 100_000)
    min_samples = CFG["min_samples"] if min_samples is None else min_samples
    max_samples = max(CFG["max_samples"] if max_samples is None else max_samples, min_samples)
    deadline = now() + CFG["budget_s"] * 1e9
    samples = []
    while len(samples) < max_samples and (len(samples) < min_samples or now() < deadline):
        t0 = now()
        for _ in range(inner):
            state = fun(state)
        samples.append((now() - t0) / 1e9 / inner)
    return dict(samples=len(samples), inner=inner, median_s=statistics.median(samples),
                min_s=min(samples), state=state)


def result(m, unit, scale, **extra):
    r = dict(median_s=m["median_s"], min_s=m["min_s"], samples=m["samples"], inner=m["inner"],
             unit=unit, scale=scale)
    r.update(extra)
    return r


def scaled(m, div):
    return dict(m, median_s=m["median_s"] / div, min_s=m["min_s"] / div)


# ---------------------------------------------------------------- data (fixed seeds)

def rand(shape, seed, lo=-1.0, hi=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo


def one_hot_labels(rows, classes, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, classes, (rows,), generator=g)


def mlp_params(requires_grad=False):
    params = []
    for i, (fan_in, fan_out) in enumerate([(784, 512), (512, 512), (512, 10)], 1):
        a = (6 / (fan_in + fan_out)) ** 0.5
        params += [rand((fan_in, fan_out), 100 + i, -a, a), torch.zeros(fan_out)]
    for p in params:
        p.requires_grad_(requires_grad)
    return params


# ---------------------------------------------------------------- workloads

def chain(x):
    return torch.tanh(x * 2 + 1) * torch.sigmoid(x) - torch.exp(-(x * x))


def softmax(x):
    return torch.softmax(x, dim=-1)


def forward(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = torch.relu(x @ w1 + b1)
    h = torch.relu(h @ w2 + b2)
    return h @ w3 + b3


def loss_fn(params, x, y):
    return F.cross_entropy(forward(params, x), y)


def sci(n):
    e = len(str(n)) - 1
    return f"1e{e}" if 10 ** e == n else str(n)


def w1_rows():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    b = torch.tensor([0.5, -1.0, 2.5, 3.0])
    samples = max(CFG["w1_samples"], 10)

    def add(s):
        _ = a + b
        return s

    def chain5(s):
        _ = torch.tanh(-((a + b) * a - b))
        return s

    out = []
    for case, fun, ops, inner in [("add f32[4]", add, 1, 10_000),
                                  ("5-op chain f32[4]", chain5, 5, 2_000)]:
        with torch.inference_mode():
            m = measure(fun, warmup=1000, inner=inner, min_samples=samples, max_samples=samples)
        out.append(("W1", case, "torch_eager",
                    result(scaled(m, ops), "µs/op", 1e6, ops=samples * inner * ops)))
    return out


def chain_records(impl, n, m):
    recs = [("W9", f"n={sci(n)}", impl, result(scaled(m, n), "ns/elem", 1e9))]
    if n >= 1_000_000:
        recs.insert(0, ("W2", f"n={sci(n)}", impl,
                        result(m, "ms", 1e3, figure=8 * n / m["median_s"] / 1e9, figure_unit="GB/s")))
    return recs


def chain_rows(impl):
    out = []
    for n in SIZES:
        x = rand((n,), 1, -2.0, 2.0)
        if impl == "torch_eager":
            f = chain
        elif impl == "torch_compile":
            f = torch.compile(chain, dynamic=False)
        else:
            f = jax_fns()["chain"]
            x = jax_array(x)
        ctx = torch.inference_mode() if impl != "jax_jit" else nullctx()
        with ctx:
            m = measure(lambda s: block(f(x)) and s)
        out += chain_records(impl, n, m)
    return out


def w3_rows():
    out = []
    for n in [1024, 2048]:
        a, b = rand((n, n), 2), rand((n, n), 3)
        with torch.inference_mode():
            m = measure(lambda s: (a @ b) is None or s)
        out.append(("W3", f"{n}x{n} dot", "torch_eager",
                    result(m, "ms", 1e3, figure=2 * n ** 3 / m["median_s"] / 1e9, figure_unit="GFLOP/s")))
    return out


def w4_rows():
    t = rand((4096, 4096), 4)
    out = []
    for case, f in [("sum axis 1 {4096,4096}", lambda: t.sum(dim=1)),
                    ("sum all {4096,4096}", lambda: t.sum()),
                    ("argmax axis 1 {4096,4096}", lambda: t.argmax(dim=1))]:
        with torch.inference_mode():
            m = measure(lambda s, f=f: f() is None or s)
        out.append(("W4", case, "torch_eager",
                    result(m, "ms", 1e3, figure=4096 * 4096 * 4 / m["median_s"] / 1e9, figure_unit="GB/s")))
    return out


def w5_rows(impl):
    x = rand((1024, 1024), 5, -4.0, 4.0)
    if impl == "torch_eager":
        f = softmax
    elif impl == "torch_compile":
        f = torch.compile(softmax, dynamic=False)
    else:
        f = jax_fns()["softmax"]
        x = jax_array(x)
    ctx = torch.inference_mode() if impl != "jax_jit" else nullctx()
    with ctx:
        m = measure(lambda s: block(f(x)) and s)
    return [("W5", "softmax {1024,1024}", impl,
             result(m, "ms", 1e3, figure=8 * 1024 * 1024 / m["median_s"] / 1e9, figure_unit="GB/s"))]


def w6_rows():
    x = rand((32, 3, 64, 64), 6)
    w = rand((16, 3, 3, 3), 7)
    with torch.inference_mode():
        m = measure(lambda s: F.conv2d(x, w, stride=1, padding=1) is None or s)
    flops = 2 * 32 * 16 * 64 * 64 * 3 * 3 * 3
    return [("W6", "conv {32,3,64,64}*{16,3,3,3}", "torch_eager",
             result(m, "ms", 1e3, figure=flops / m["median_s"] / 1e9, figure_unit="GFLOP/s"))]


def w7_rows(impl):
    x = rand((BATCH, 784), 8, 0.0, 1.0)
    y = one_hot_labels(BATCH, 10, 9)
    if impl == "jax_jit":
        fns = jax_fns()
        params = [jax_array(p) for p in mlp_params()]
        xj, yj = jax_array(x), jax_array(F.one_hot(y, 10).float())

        def step(p):
            p, loss = fns["train_step"](p, xj, yj)
            block(loss)
            return p

        state = params
        loss_of = lambda p: float(fns["loss"](p, xj, yj))
    else:
        params = mlp_params(requires_grad=True)
        lf = torch.compile(loss_fn) if impl == "torch_compile" else loss_fn

        def step(p):
            loss = lf(p, x, y)
            loss.backward()
            with torch.no_grad():
                for q in p:
                    q.sub_(q.grad, alpha=LR)
                    q.grad = None
            return p

        state = params

        def loss_of(p):
            with torch.no_grad():
                return float(loss_fn(p, x, y))

    loss_first = loss_of(state)
    t0 = now()
    state = step(state)
    first = (now() - t0) / 1e9
    m = measure(step, state=state)
    # The first call's time is the compile time of the compiled variants.
    extra = {} if impl == "torch_eager" else dict(first_call_s=first)
    return [("W7", "MLP train step b=128", impl,
             result(m, "ms/step", 1e3, figure=1 / m["median_s"], figure_unit="steps/s",
                    loss_first=loss_first, loss_last=loss_of(m["state"]), **extra))]


def w8_rows(impl):
    params = mlp_params()
    x = rand((1, 784), 10, 0.0, 1.0)
    if impl == "jax_jit":
        f = jax_fns()["forward"]
        params = [jax_array(p) for p in params]
        x = jax_array(x)
    elif impl == "torch_compile":
        f = torch.compile(forward, dynamic=False)
    else:
        f = forward
    ctx = torch.inference_mode() if impl != "jax_jit" else nullctx()
    with ctx:
        t0 = now()
        block(f(params, x))
        first = (now() - t0) / 1e9
        m = measure(lambda s: block(f(params, x)) and s)
    extra = {} if impl == "torch_eager" else dict(first_call_s=first)
    return [("W8", "MLP forward b=1", impl,
             result(m, "µs/call", 1e6, figure=1 / m["median_s"], figure_unit="calls/s", **extra))]


def w10_rows():
    """The counterpart of Nx.Serving: a batcher thread that collects up to 32 requests
    (waiting at most 10 ms after the first) and runs the W8 net on them; 64 client
    threads each send single-row requests and wait for their row."""
    params = mlp_params()
    requests = queue.Queue()
    stop = object()

    def batcher():
        with torch.inference_mode():
            while True:
                item = requests.get()
                if item is stop:
                    return
                items = [item]
                deadline = time.monotonic() + 0.010
                while len(items) < 32:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        nxt = requests.get(timeout=left)
                    except queue.Empty:
                        break
                    if nxt is stop:
                        requests.put(stop)
                        break
                    items.append(nxt)
                out = forward(params, torch.stack([x for x, _ in items]))
                for i, (_, box) in enumerate(items):
                    box["out"] = out[i]
                    box["done"].set()

    def call(x):
        box = {"done": threading.Event(), "out": None}
        requests.put((x, box))
        box["done"].wait()
        return box["out"]

    worker = threading.Thread(target=batcher, daemon=True)
    worker.start()
    inputs = [rand((784,), 1000 + i, 0.0, 1.0) for i in range(1, 65)]

    def clients(n):
        latencies = []
        lock = threading.Lock()

        def client(x):
            mine = []
            for _ in range(n):
                t0 = now()
                call(x)
                mine.append((now() - t0) / 1e9)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(x,)) for x in inputs]
        t0 = now()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return (now() - t0) / 1e9, latencies

    try:
        clients(2)
        wall, lat = clients(CFG["serving_requests"])
    finally:
        requests.put(stop)
        worker.join()
    lat.sort()
    n = len(lat)
    return [("W10", "serving 64 callers b=32", "torch_eager",
             dict(median_s=statistics.median(lat), min_s=lat[0], samples=n, inner=1,
                  unit="ms p50 latency", scale=1e3, figure=n / wall, figure_unit="req/s",
                  p99_s=lat[min(n - 1, round(n * 0.99) - 1)], requests=n))]


# ---------------------------------------------------------------- jax (BENCH_JAX=1)

class nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def block(v):
    """Waits for an asynchronous (jax) result; returns something truthy."""
    if hasattr(v, "block_until_ready"):
        v.block_until_ready()
    return True


_JAX = {}


def jax_array(t):
    import jax.numpy as jnp
    return jnp.asarray(t.detach().numpy())


def jax_fns():
    if _JAX:
        return _JAX
    import jax
    import jax.numpy as jnp

    def jchain(x):
        return jnp.tanh(x * 2 + 1) * jax.nn.sigmoid(x) - jnp.exp(-(x * x))

    def jforward(params, x):
        w1, b1, w2, b2, w3, b3 = params
        h = jax.nn.relu(x @ w1 + b1)
        h = jax.nn.relu(h @ w2 + b2)
        return h @ w3 + b3

    def jloss(params, x, y):
        logp = jax.nn.log_softmax(jforward(params, x), axis=1)
        return -jnp.sum(y * logp) / x.shape[0]

    def jstep(params, x, y):
        loss, grads = jax.value_and_grad(jloss)(params, x, y)
        return [p - LR * g for p, g in zip(params, grads)], loss

    _JAX.update(chain=jax.jit(jchain), softmax=jax.jit(lambda x: jax.nn.softmax(x, axis=-1)),
                forward=jax.jit(jforward), loss=jax.jit(jloss), train_step=jax.jit(jstep))
    return _JAX


# ---------------------------------------------------------------- driver

def info(jax_version, compile_status):
    return dict(type="info", side="torch", quick=QUICK, torch=torch.__version__,
                python=platform.python_version(), torch_threads=torch.get_num_threads(),
                torch_interop_threads=torch.get_num_interop_threads(),
                mkldnn=torch.backends.mkldnn.is_available(), mkl=torch.backends.mkl.is_available(),
                torch_compile=compile_status, jax=jax_version, loadavg=os.getloadavg()[0])


def reason_of(e):
    line = (str(e).strip().splitlines() or [type(e).__name__])[0]
    line = f"{type(e).__name__}: {line}"
    return line if len(line) <= 160 else line[:157] + "..."


def main():
    threads = os.environ.get("BENCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))

    jax_version = None
    jax_reason = "not asked for (BENCH_JAX=1)"
    if WANT_JAX:
        try:
            import jax
            jax_version = jax.__version__
            jax_reason = None
        except Exception as e:  # noqa: BLE001
            jax_reason = reason_of(e)

    compile_reason = None if TORCH_COMPILE else (
        "off in quick mode (BENCH_TORCH_COMPILE=1)" if QUICK else "off (BENCH_TORCH_COMPILE=0)")
    emit(info(jax_version, "on" if compile_reason is None else compile_reason))

    plan = [
        ("W1", "torch_eager", w1_rows, None),
        ("W2", "torch_eager", lambda: chain_rows("torch_eager"), None),
        ("W2", "torch_compile", lambda: chain_rows("torch_compile"), compile_reason),
        ("W2", "jax_jit", lambda: chain_rows("jax_jit"), jax_reason),
        ("W3", "torch_eager", w3_rows, None),
        ("W4", "torch_eager", w4_rows, None),
        ("W5", "torch_eager", lambda: w5_rows("torch_eager"), None),
        ("W5", "torch_compile", lambda: w5_rows("torch_compile"), compile_reason),
        ("W5", "jax_jit", lambda: w5_rows("jax_jit"), jax_reason),
        ("W6", "torch_eager", w6_rows, None),
        ("W7", "torch_eager", lambda: w7_rows("torch_eager"), None),
        ("W7", "torch_compile", lambda: w7_rows("torch_compile"), compile_reason),
        ("W7", "jax_jit", lambda: w7_rows("jax_jit"), jax_reason),
        ("W8", "torch_eager", lambda: w8_rows("torch_eager"), None),
        ("W8", "torch_compile", lambda: w8_rows("torch_compile"), compile_reason),
        ("W8", "jax_jit", lambda: w8_rows("jax_jit"), jax_reason),
        ("W10", "torch_eager", w10_rows, None),
    ]
    for workload, impl, fn, skip in plan:
        # The chain rows also give W9 (W2's chain at every size).
        covers = ["W2", "W9"] if workload == "W2" else [workload]
        if ONLY is not None and not any(w in ONLY for w in covers):
            continue
        if skip is not None:
            # Not asked for: the info record says so, and the table leaves the column out.
            if not skip.startswith(("off", "not asked")):
                emit(dict(type="skip", side="torch", impl=impl, workload=workload, case="*", reason=skip))
            continue
        try:
            for wl, case, impl_, rec in fn():
                rec.pop("state", None)
                rec.update(type="result", side="torch", impl=impl_, workload=wl, case=case)
                log(f"  {wl} {case} {impl_}: {rec['median_s'] * rec['scale']:.4g} {rec['unit']} (median)")
                emit(rec)
        except Exception as e:  # noqa: BLE001
            reason = reason_of(e)
            log(f"  {workload} {impl}: cannot run: {reason}")
            if os.environ.get("BENCH_DEBUG"):
                traceback.print_exc()
            emit(dict(type="skip", side="torch", impl=impl, workload=workload, case="*", reason=reason))


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(") ", 1)[1].split()


def own_cpu_ticks():
    """CPU time of this process and its children (inductor's compile workers among them),
    all threads, in clock ticks (see run.sh)."""
    try:
        me = os.getpid()
        fields = _stat("self")
        ticks = sum(int(v) for v in fields[11:15])
        parents = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                parents[int(pid)] = _stat(pid)
            except (OSError, IndexError):
                pass
        live = {me}
        changed = True
        while changed:
            changed = False
            for pid, f in parents.items():
                if pid not in live and int(f[1]) in live:
                    live.add(pid)
                    ticks += sum(int(v) for v in f[11:15])
                    changed = True
        return ticks
    except (OSError, IndexError, ValueError):
        return None


if __name__ == "__main__":
    main()
    emit(dict(type="end", side="torch", cpu_ticks=own_cpu_ticks()))
