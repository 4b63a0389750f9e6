# The project's side of `make bench` (see bench/README.md): runs the workloads W1-W10 with
# Nx on Nx.Torch.Backend, eager and compiled (`Nx.Defn.jit/2`), and writes one JSON object
# per line to $BENCH_OUT (stdout when unset). Progress goes to stderr.
#
#   MIX_ENV=prod mix run bench/nx_side.exs
#
# Environment: BENCH_QUICK=1 (few repetitions), BENCH_ONLY=W1,W3 (a subset),
# BENCH_OUT=<file>.
#
# A row whose functions do not exist yet, or that raises, is reported as
# {"type": "skip", "reason": ...}: it starts working when the function lands.
defmodule Bench.NxSide do
  # Functions that land later are looked up at run time, not at compile time.
  @compile {:no_warn_undefined, [Nx, Nx.Defn, Nx.Serving, Nx.Batch, Nx.Torch]}

  import Bitwise

  @lr 0.01
  @batch 128
  @sizes [1_000, 10_000, 100_000, 1_000_000, 10_000_000]

  ## Configuration and driver

  def main do
    cfg = config()
    out = open_output()
    emit(out, info(cfg))

    for row <- rows(cfg), Enum.any?(row.workloads, &selected?(cfg, &1)) do
      for record <- run_row(cfg, row), do: emit(out, record)
    end

    emit(out, %{type: "end", side: "nx", cpu_ticks: own_cpu_ticks()})
    if out != :stdio, do: File.close(out)
  end

  # CPU time of this OS process, all threads (LibTorch's too), in clock ticks: run.sh
  # subtracts it from the machine's to tell how much other processes ran meanwhile.
  defp own_cpu_ticks do
    with {:ok, stat} <- File.read("/proc/self/stat"),
         [_, rest] <- :binary.split(stat, ") ", [:trim_all]) do
      fields = String.split(rest)
      # utime, stime and those of the children waited for (cargo, via mix compile).
      fields |> Enum.slice(11, 4) |> Enum.map(&String.to_integer/1) |> Enum.sum()
    else
      _ -> nil
    end
  end

  defp config do
    quick = System.get_env("BENCH_QUICK") in ["1", "true"]

    only =
      case System.get_env("BENCH_ONLY") do
        nil -> nil
        "" -> nil
        list -> list |> String.split(",", trim: true) |> Enum.map(&String.trim/1)
      end

    base = %{quick: quick, only: only}

    if quick do
      Map.merge(base, %{
        warmup: 2,
        min_samples: 3,
        max_samples: 10,
        budget_s: 0.6,
        sample_s: 0.005,
        w1_samples: 10,
        row_timeout_s: 60,
        serving_requests: 8
      })
    else
      Map.merge(base, %{
        warmup: 3,
        min_samples: 10,
        max_samples: 60,
        budget_s: 3.0,
        sample_s: 0.01,
        w1_samples: 30,
        row_timeout_s: 180,
        serving_requests: 40
      })
    end
  end

  defp selected?(%{only: nil}, _), do: true
  defp selected?(%{only: only}, workload), do: workload in only

  defp open_output do
    case System.get_env("BENCH_OUT") do
      nil -> :stdio
      "" -> :stdio
      path -> File.open!(path, [:append, :utf8])
    end
  end

  defp emit(out, record), do: IO.write(out, json(record) <> "\n")

  defp info(cfg) do
    torch =
      try do
        Nx.Torch.info()
      rescue
        e -> %{error: Exception.message(e)}
      end

    %{
      type: "info",
      side: "nx",
      quick: cfg.quick,
      elixir: System.version(),
      otp: List.to_string(:erlang.system_info(:otp_release)),
      nx: to_string(Application.spec(:nx, :vsn) || "?"),
      mix_env: to_string(Mix.env()),
      schedulers: System.schedulers_online(),
      dirty_cpu_schedulers: :erlang.system_info(:dirty_cpu_schedulers_online),
      torch_threads: torch[:threads],
      torch_info:
        Map.new(torch, fn {k, v} ->
          {k, if(is_binary(v) or is_number(v), do: v, else: inspect(v))}
        end),
      compiler: inspect(compiler()),
      loadavg: loadavg()
    }
  end

  # The 1-minute load average when the side starts: other work on the machine shows here.
  defp loadavg do
    case File.read("/proc/loadavg") do
      {:ok, text} -> text |> String.split() |> hd() |> String.to_float()
      _ -> nil
    end
  end

  # The compiler behind the "compiled" rows: the project's own when it exists,
  # Nx's Evaluator before that.
  defp compiler do
    cond do
      loaded?(Nx.Torch) and function_exported?(Nx.Torch, :__jit__, 5) -> Nx.Torch
      loaded?(Nx.Defn.Evaluator) -> Nx.Defn.Evaluator
      true -> nil
    end
  end

  defp loaded?(mod), do: match?({:module, _}, Code.ensure_loaded(mod))

  defp jit(fun), do: Nx.Defn.jit(fun, compiler: compiler())

  ## Rows
  #
  # Each row: the workload and case it measures, the functions it needs (checked
  # before running, so a missing one gives a clear reason) and a function that
  # returns a list of result records.

  defp rows(cfg) do
    elementwise = [{Nx, :add, 2}, {Nx, :multiply, 2}, {Nx, :subtract, 2}]

    chain_ops =
      elementwise ++ [{Nx, :tanh, 1}, {Nx, :sigmoid, 1}, {Nx, :exp, 1}, {Nx, :negate, 1}]

    jit_needs = [{Nx.Defn, :jit, 2}]

    softmax_ops = [
      {Nx, :reduce_max, 2},
      {Nx, :subtract, 2},
      {Nx, :exp, 1},
      {Nx, :sum, 2},
      {Nx, :divide, 2}
    ]

    mlp_ops = [{Nx, :dot, 2}, {Nx, :add, 2}, {Nx, :max, 2}]

    loss_ops =
      mlp_ops ++
        softmax_ops ++
        [{Nx, :log, 1}, {Nx, :multiply, 2}, {Nx, :negate, 1}, {Nx.Defn, :value_and_grad, 2}]

    w1 = [
      row("W1", "add f32[4]", "eager", [{Nx, :add, 2}], &w1_add/1),
      row(
        "W1",
        "5-op chain f32[4]",
        "eager",
        [{Nx, :add, 2}, {Nx, :multiply, 2}, {Nx, :subtract, 2}, {Nx, :negate, 1}, {Nx, :tanh, 1}],
        &w1_chain/1
      )
    ]

    # W2 and W9 share one measurement of the chain per size and variant.
    chain =
      for n <- @sizes, variant <- ["eager", "compiled"] do
        needs = if variant == "compiled", do: chain_ops ++ jit_needs, else: chain_ops
        wl = if n >= 1_000_000, do: ["W2", "W9"], else: ["W9"]
        row(wl, "n=#{sci(n)}", variant, needs, &chain_row(&1, n, variant))
      end

    w3 =
      for n <- [1024, 2048] do
        row("W3", "#{n}x#{n} dot", "eager", [{Nx, :dot, 2}], &w3_row(&1, n))
      end

    w4 = [
      row("W4", "sum axis 1 {4096,4096}", "eager", [{Nx, :sum, 2}], &w4_row(&1, :sum_axis)),
      row("W4", "sum all {4096,4096}", "eager", [{Nx, :sum, 2}], &w4_row(&1, :sum_all)),
      row("W4", "argmax axis 1 {4096,4096}", "eager", [{Nx, :argmax, 2}], &w4_row(&1, :argmax))
    ]

    w5 =
      for variant <- ["eager", "compiled"] do
        needs = if variant == "compiled", do: softmax_ops ++ jit_needs, else: softmax_ops
        row("W5", "softmax {1024,1024}", variant, needs, &w5_row(&1, variant))
      end

    w6 = [row("W6", "conv {32,3,64,64}*{16,3,3,3}", "eager", [{Nx, :conv, 3}], &w6_row/1)]

    w7 = [
      row("W7", "MLP train step b=128", "compiled", loss_ops ++ jit_needs, &w7_row/1)
    ]

    w8 = [row("W8", "MLP forward b=1", "compiled", mlp_ops ++ jit_needs, &w8_row/1)]

    w10 = [
      row(
        "W10",
        "serving 64 callers b=32",
        "serving",
        mlp_ops ++
          jit_needs ++
          [{Nx.Serving, :new, 2}, {Nx.Serving, :batched_run, 2}, {Nx.Batch, :stack, 1}],
        &w10_row/1
      )
    ]

    _ = cfg
    w1 ++ chain ++ w3 ++ w4 ++ w5 ++ w6 ++ w7 ++ w8 ++ w10
  end

  defp row(workload, case_name, variant, needs, fun) do
    workloads = List.wrap(workload)

    %{
      workload: hd(workloads),
      workloads: workloads,
      case: case_name,
      variant: variant,
      needs: needs,
      fun: fun
    }
  end

  defp run_row(cfg, row) do
    label = "#{Enum.join(row.workloads, "/")} #{row.case} #{row.variant}"

    records =
      case missing(row.needs) do
        [] -> run_isolated(cfg, row)
        missing -> {:skip, Enum.map_join(missing, ", ", &mfa/1) <> " not implemented yet"}
      end

    case records do
      {:skip, reason} ->
        IO.puts(:stderr, "  #{label}: cannot run: #{reason}")

        for wl <- row.workloads do
          %{
            type: "skip",
            side: "nx",
            impl: "nx_" <> row.variant,
            workload: wl,
            case: row.case,
            variant: row.variant,
            reason: reason
          }
        end

      list ->
        Enum.map(list, fn r ->
          IO.puts(:stderr, "  #{r.workload} #{row.case} #{row.variant}: #{brief(r)}")

          Map.merge(r, %{
            type: "result",
            side: "nx",
            impl: "nx_" <> row.variant,
            case: row.case,
            variant: row.variant
          })
        end)
    end
  end

  defp missing(needs) do
    Enum.reject(needs, fn {m, f, a} -> loaded?(m) and function_exported?(m, f, a) end)
  end

  defp mfa({m, f, a}), do: "#{inspect(m)}.#{f}/#{a}"

  # Each row runs in its own process: its tensors die with it, a hang is cut
  # off by the row timeout, and a crash becomes a "cannot run" reason.
  defp run_isolated(cfg, row) do
    parent = self()
    ref = make_ref()

    {pid, mon} =
      spawn_monitor(fn ->
        result =
          try do
            {:ok, row.fun.(cfg)}
          rescue
            e -> {:skip, reason(Exception.message(e))}
          catch
            kind, value -> {:skip, reason("#{kind}: #{inspect(value)}")}
          end

        send(parent, {ref, result})
      end)

    receive do
      {^ref, {:ok, records}} ->
        Process.demonitor(mon, [:flush])
        Enum.map(records, &Map.put_new(&1, :workload, row.workload))

      {^ref, {:skip, reason}} ->
        Process.demonitor(mon, [:flush])
        {:skip, reason}

      {:DOWN, ^mon, :process, _, why} ->
        {:skip, reason("crashed: #{inspect(why)}")}
    after
      cfg.row_timeout_s * 1000 ->
        Process.exit(pid, :kill)
        {:skip, "timed out after #{cfg.row_timeout_s} s"}
    end
  end

  defp reason(message) do
    line = message |> String.split("\n", trim: true) |> List.first() || "error"
    if String.length(line) > 160, do: String.slice(line, 0, 157) <> "...", else: line
  end

  defp brief(%{median_s: m, scale: s, unit: u}), do: "#{fmt(m * s)} #{u} (median)"

  ## Measurement
  #
  # fun.(state) -> state. After warm-up, each sample times `inner` calls
  # (calibrated so a sample takes about cfg.sample_s); samples are taken until
  # cfg.max_samples, or cfg.budget_s has passed with at least cfg.min_samples.
  # Returns seconds per call: the samples, their median and min. Garbage is
  # collected between samples, outside the timing.

  defp measure(cfg, state, fun, opts \\ []) do
    warmup = Keyword.get(opts, :warmup, cfg.warmup)
    state = repeat(warmup, state, fun)
    :erlang.garbage_collect()
    {inner, state} = inner_count(cfg, state, fun, opts)
    min_samples = Keyword.get(opts, :min_samples, cfg.min_samples)
    max_samples = max(Keyword.get(opts, :max_samples, cfg.max_samples), min_samples)
    deadline = now() + round(cfg.budget_s * 1.0e9)
    {samples, state} = sample(state, fun, inner, min_samples, max_samples, deadline, [])
    sorted = Enum.sort(samples)

    %{
      samples: length(samples),
      inner: inner,
      median_s: median(sorted),
      min_s: hd(sorted),
      state: state
    }
  end

  defp inner_count(cfg, state, fun, opts) do
    case Keyword.fetch(opts, :inner) do
      {:ok, inner} ->
        {inner, state}

      :error ->
        t0 = now()
        state = fun.(state)
        t = max(now() - t0, 1)
        {min(max(round(cfg.sample_s * 1.0e9 / t), 1), 100_000), state}
    end
  end

  defp sample(state, _fun, _inner, _min, max, _deadline, acc) when length(acc) >= max,
    do: {acc, state}

  defp sample(state, fun, inner, min, max, deadline, acc) do
    if length(acc) >= min and now() >= deadline do
      {acc, state}
    else
      t0 = now()
      state = repeat(inner, state, fun)
      t = now() - t0
      :erlang.garbage_collect()
      sample(state, fun, inner, min, max, deadline, [t / 1.0e9 / inner | acc])
    end
  end

  defp repeat(0, state, _fun), do: state
  defp repeat(n, state, fun), do: repeat(n - 1, fun.(state), fun)

  defp now, do: System.monotonic_time(:nanosecond)

  defp median(sorted) do
    n = length(sorted)
    mid = div(n, 2)

    if rem(n, 2) == 1,
      do: Enum.at(sorted, mid),
      else: (Enum.at(sorted, mid - 1) + Enum.at(sorted, mid)) / 2
  end

  defp result(m, unit, scale, extra) do
    Map.merge(
      %{
        median_s: m.median_s,
        min_s: m.min_s,
        samples: m.samples,
        inner: m.inner,
        unit: unit,
        scale: scale
      },
      extra
    )
  end

  defp figure(value, unit), do: %{figure: value, figure_unit: unit}

  ## Data: fixed seeds. Blocks of at most 2^20 uniform values are repeated to
  ## fill larger tensors (generating 1e7 values in Elixir takes seconds).

  defp rand(shape, seed, lo \\ -1.0, hi \\ 1.0) do
    n = Nx.size(shape)
    period = min(n, 1 <<< 20)
    :rand.seed(:exsss, {seed, seed * 7 + 1, seed * 13 + 5})

    block =
      for _ <- 1..period, into: <<>>, do: <<lo + (hi - lo) * :rand.uniform()::float-32-native>>

    bin = :binary.copy(block, div(n, period)) <> binary_part(block, 0, rem(n, period) * 4)
    Nx.from_binary(bin, :f32) |> Nx.reshape(shape)
  end

  defp zeros(shape),
    do:
      Nx.from_binary(:binary.copy(<<0.0::float-32-native>>, Nx.size(shape)), :f32)
      |> Nx.reshape(shape)

  defp one_hot_labels(rows, classes, seed) do
    :rand.seed(:exsss, {seed, seed + 1, seed + 2})

    bin =
      for _ <- 1..rows, into: <<>> do
        k = :rand.uniform(classes) - 1

        for j <- 0..(classes - 1),
            into: <<>>,
            do: <<if(j == k, do: 1.0, else: 0.0)::float-32-native>>
      end

    Nx.from_binary(bin, :f32) |> Nx.reshape({rows, classes})
  end

  defp mlp_params do
    layers = [{784, 512}, {512, 512}, {512, 10}]

    layers
    |> Enum.with_index(1)
    |> Enum.flat_map(fn {{fan_in, fan_out}, i} ->
      a = :math.sqrt(6 / (fan_in + fan_out))
      [rand({fan_in, fan_out}, 100 + i, -a, a), zeros({fan_out})]
    end)
    |> List.to_tuple()
  end

  # Eager results may hold deferred element-wise work (see Nx.Torch, "Deferred element-wise
  # work"): every eager row waits for its values, as a GPU benchmark waits for the device.
  # W1's f32[4] results are never deferred (the engine defers 65,536 elements and more), so
  # W1 measures the bare call, like PyTorch's side.
  defp done(result), do: Nx.Torch.sync(result)

  ## W1: per-op overhead on f32[4]

  defp w1_add(cfg) do
    a = Nx.tensor([1.0, 2.0, 3.0, 4.0], type: :f32)
    b = Nx.tensor([0.5, -1.0, 2.5, 3.0], type: :f32)

    w1_measure(
      cfg,
      fn s ->
        _ = Nx.add(a, b)
        s
      end,
      1,
      10_000
    )
  end

  defp w1_chain(cfg) do
    a = Nx.tensor([1.0, 2.0, 3.0, 4.0], type: :f32)
    b = Nx.tensor([0.5, -1.0, 2.5, 3.0], type: :f32)

    fun = fn s ->
      _ = a |> Nx.add(b) |> Nx.multiply(a) |> Nx.subtract(b) |> Nx.negate() |> Nx.tanh()
      s
    end

    w1_measure(cfg, fun, 5, 2_000)
  end

  # inner calls per sample times ops per call = 10_000 ops per sample; at
  # least 10 samples, so at least 100k ops.
  defp w1_measure(cfg, fun, ops, inner) do
    samples = max(cfg.w1_samples, 10)

    m =
      measure(cfg, nil, fun,
        inner: inner,
        warmup: 1000,
        min_samples: samples,
        max_samples: samples
      )

    per_op = %{m | median_s: m.median_s / ops, min_s: m.min_s / ops}
    [result(per_op, "µs/op", 1.0e6, %{ops: samples * inner * ops})]
  end

  ## W2 and W9: y = tanh(x * 2 + 1) * sigmoid(x) - exp(-(x * x))

  def chain(x) do
    left = x |> Nx.multiply(2) |> Nx.add(1) |> Nx.tanh() |> Nx.multiply(Nx.sigmoid(x))
    Nx.subtract(left, x |> Nx.multiply(x) |> Nx.negate() |> Nx.exp())
  end

  defp chain_row(cfg, n, variant) do
    x = rand({n}, 1, -2.0, 2.0)
    f = if variant == "compiled", do: jit(&chain/1), else: &chain/1

    m =
      measure(cfg, nil, fn s ->
        _ = done(f.(x))
        s
      end)

    bytes = 8 * n

    w9 =
      result(%{m | median_s: m.median_s / n, min_s: m.min_s / n}, "ns/elem", 1.0e9, %{
        workload: "W9"
      })

    if n >= 1_000_000 do
      [
        result(
          m,
          "ms",
          1.0e3,
          Map.merge(%{workload: "W2"}, figure(bytes / m.median_s / 1.0e9, "GB/s"))
        ),
        w9
      ]
    else
      [w9]
    end
  end

  ## W3: matmul

  defp w3_row(cfg, n) do
    a = rand({n, n}, 2)
    b = rand({n, n}, 3)

    m =
      measure(cfg, nil, fn s ->
        _ = done(Nx.dot(a, b))
        s
      end)

    [result(m, "ms", 1.0e3, figure(2 * n * n * n / m.median_s / 1.0e9, "GFLOP/s"))]
  end

  ## W4: reductions over {4096, 4096}

  defp w4_row(cfg, which) do
    t = rand({4096, 4096}, 4)

    f =
      case which do
        :sum_axis -> fn -> Nx.sum(t, axes: [1]) end
        :sum_all -> fn -> Nx.sum(t) end
        :argmax -> fn -> Nx.argmax(t, axis: 1) end
      end

    m =
      measure(cfg, nil, fn s ->
        _ = done(f.())
        s
      end)

    [result(m, "ms", 1.0e3, figure(4096 * 4096 * 4 / m.median_s / 1.0e9, "GB/s"))]
  end

  ## W5: softmax over the last axis

  def softmax(x) do
    max = Nx.reduce_max(x, axes: [-1], keep_axes: true)
    e = Nx.exp(Nx.subtract(x, max))
    Nx.divide(e, Nx.sum(e, axes: [-1], keep_axes: true))
  end

  defp w5_row(cfg, variant) do
    x = rand({1024, 1024}, 5, -4.0, 4.0)
    f = if variant == "compiled", do: jit(&softmax/1), else: &softmax/1

    m =
      measure(cfg, nil, fn s ->
        _ = done(f.(x))
        s
      end)

    [result(m, "ms", 1.0e3, figure(8 * 1024 * 1024 / m.median_s / 1.0e9, "GB/s"))]
  end

  ## W6: conv, NCHW, stride 1, padding 1

  defp w6_row(cfg) do
    input = rand({32, 3, 64, 64}, 6)
    kernel = rand({16, 3, 3, 3}, 7)
    f = fn -> Nx.conv(input, kernel, strides: [1, 1], padding: [{1, 1}, {1, 1}]) end

    m =
      measure(cfg, nil, fn s ->
        _ = done(f.())
        s
      end)

    flops = 2 * 32 * 16 * 64 * 64 * 3 * 3 * 3
    [result(m, "ms", 1.0e3, figure(flops / m.median_s / 1.0e9, "GFLOP/s"))]
  end

  ## W7, W8, W10: the MLP 784 -> 512 -> 512 -> 10

  def forward({w1, b1, w2, b2, w3, b3}, x) do
    h = x |> Nx.dot(w1) |> Nx.add(b1) |> Nx.max(0)
    h = h |> Nx.dot(w2) |> Nx.add(b2) |> Nx.max(0)
    h |> Nx.dot(w3) |> Nx.add(b3)
  end

  def loss(params, x, y) do
    logits = forward(params, x)
    shifted = Nx.subtract(logits, Nx.reduce_max(logits, axes: [1], keep_axes: true))
    lse = shifted |> Nx.exp() |> Nx.sum(axes: [1], keep_axes: true) |> Nx.log()
    y |> Nx.multiply(Nx.subtract(shifted, lse)) |> Nx.sum() |> Nx.negate() |> Nx.divide(@batch)
  end

  def train_step(params, x, y) do
    {loss, grads} = Nx.Defn.value_and_grad(params, &loss(&1, x, y))

    params =
      Tuple.to_list(params)
      |> Enum.zip(Tuple.to_list(grads))
      |> Enum.map(fn {p, g} -> Nx.subtract(p, Nx.multiply(g, @lr)) end)
      |> List.to_tuple()

    {params, loss}
  end

  defp w7_row(cfg) do
    params = mlp_params()
    x = rand({@batch, 784}, 8, 0.0, 1.0)
    y = one_hot_labels(@batch, 10, 9)
    step = jit(&train_step/3)
    t0 = now()
    {params, loss} = step.(params, x, y)
    first = (now() - t0) / 1.0e9
    loss0 = Nx.to_number(loss)

    m = measure(cfg, params, fn p -> elem(step.(p, x, y), 0) end)
    {_, loss1} = step.(m.state, x, y)

    [
      result(
        m,
        "ms/step",
        1.0e3,
        Map.merge(figure(1 / m.median_s, "steps/s"), %{
          first_call_s: first,
          loss_first: loss0,
          loss_last: Nx.to_number(loss1)
        })
      )
    ]
  end

  defp w8_row(cfg) do
    params = mlp_params()
    x = rand({1, 784}, 10, 0.0, 1.0)
    f = jit(&forward/2)
    t0 = now()
    _ = f.(params, x)
    first = (now() - t0) / 1.0e9

    m =
      measure(cfg, nil, fn s ->
        _ = f.(params, x)
        s
      end)

    [
      result(
        m,
        "µs/call",
        1.0e6,
        Map.merge(figure(1 / m.median_s, "calls/s"), %{first_call_s: first})
      )
    ]
  end

  # W10: Nx.Serving over the W8 net; 64 concurrent callers each send
  # cfg.serving_requests single-row requests; batch_size 32, batch_timeout 10 ms.
  # Reports the latency per request (median = p50) and requests/s.
  defp w10_row(cfg) do
    params = mlp_params()
    c = compiler()

    serving =
      Nx.Serving.new(
        fn opts ->
          f = Nx.Defn.jit(&forward/2, opts)
          fn batch -> f.(params, batch) end
        end,
        compiler: c
      )

    name = :"bench_serving_#{System.unique_integer([:positive])}"

    {:ok, sup} =
      Supervisor.start_link(
        [{Nx.Serving, serving: serving, name: name, batch_size: 32, batch_timeout: 10}],
        strategy: :one_for_one
      )

    try do
      inputs = for i <- 1..64, do: rand({784}, 1000 + i, 0.0, 1.0)
      _ = clients(name, inputs, 2)
      {wall, latencies} = clients(name, inputs, cfg.serving_requests)
      sorted = Enum.sort(latencies)
      n = length(sorted)
      p99 = Enum.at(sorted, min(n - 1, round(n * 0.99) - 1))

      [
        %{
          median_s: median(sorted),
          min_s: hd(sorted),
          samples: n,
          inner: 1,
          unit: "ms p50 latency",
          scale: 1.0e3,
          figure: n / wall,
          figure_unit: "req/s",
          p99_s: p99,
          requests: n
        }
      ]
    after
      Supervisor.stop(sup)
    end
  end

  defp clients(name, inputs, requests) do
    t0 = now()

    latencies =
      inputs
      |> Enum.map(fn x ->
        Task.async(fn ->
          for _ <- 1..requests do
            t = now()
            _ = Nx.Serving.batched_run(name, Nx.Batch.stack([x]))
            (now() - t) / 1.0e9
          end
        end)
      end)
      |> Task.await_many(:infinity)
      |> List.flatten()

    {(now() - t0) / 1.0e9, latencies}
  end

  ## Formatting

  defp sci(n) do
    e = round(:math.log10(n))
    if 10 ** e == n, do: "1e#{e}", else: Integer.to_string(n)
  end

  defp fmt(x) when x >= 100, do: :erlang.float_to_binary(x / 1, decimals: 1)
  defp fmt(x) when x >= 1, do: :erlang.float_to_binary(x / 1, decimals: 2)
  defp fmt(x), do: :erlang.float_to_binary(x / 1, decimals: 4)

  # A minimal JSON encoder: maps, lists, strings, numbers, booleans, nil, atoms.
  defp json(nil), do: "null"
  defp json(true), do: "true"
  defp json(false), do: "false"
  defp json(a) when is_atom(a), do: json(Atom.to_string(a))
  defp json(i) when is_integer(i), do: Integer.to_string(i)
  defp json(f) when is_float(f), do: :erlang.float_to_binary(f, [:short])
  defp json(s) when is_binary(s), do: [?", escape(s), ?"] |> IO.iodata_to_binary()
  defp json(l) when is_list(l), do: "[" <> Enum.map_join(l, ",", &json/1) <> "]"

  defp json(m) when is_map(m) do
    "{" <> Enum.map_join(m, ",", fn {k, v} -> json(to_string(k)) <> ":" <> json(v) end) <> "}"
  end

  defp json(other), do: json(inspect(other))

  defp escape(s) do
    s = if String.valid?(s), do: s, else: inspect(s)

    for <<c::utf8 <- s>>, into: "" do
      case c do
        ?" -> "\\\""
        ?\\ -> "\\\\"
        c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
        c -> <<c::utf8>>
      end
    end
  end
end

Bench.NxSide.main()
