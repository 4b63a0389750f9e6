# Scheduler responsiveness: how late a process on a normal scheduler wakes up while large
# matrix products run (they run on dirty CPU schedulers, so the normal ones stay free).
#
#   mix run bench/responsiveness.exs
#
# Prints the wake-up lateness of a process that sleeps 1 ms in a loop, first on an idle VM,
# then while two processes multiply 2048x2048 f32 matrices back to back, then while two
# processes run a compiled element-wise chain on 1e7 elements (fused kernels, split across
# cores by the engine's own helper threads) back to back.

defmodule Responsiveness do
  import Nx.Defn

  def pinger(parent, until) do
    lateness = loop(until, [])
    send(parent, {:lateness, lateness})
  end

  defp loop(until, acc) do
    if System.monotonic_time(:microsecond) >= until do
      acc
    else
      t0 = System.monotonic_time(:microsecond)
      Process.sleep(1)
      late = System.monotonic_time(:microsecond) - t0 - 1000
      loop(until, [max(late, 0) | acc])
    end
  end

  def measure(seconds, load) do
    until = System.monotonic_time(:microsecond) + seconds * 1_000_000
    parent = self()

    workers =
      case load do
        :matmul ->
          a = Nx.iota({2048, 2048}, type: :f32) |> Nx.divide(2048 * 2048)
          step = fn -> Nx.dot(a, a) |> Nx.backend_deallocate() end
          for _ <- 1..2, do: spawn(fn -> send(parent, {:products, work(step, until, 0)}) end)

        :fused ->
          x = Nx.iota({10_000_000}, type: :f32) |> Nx.divide(10_000_000)
          chain = Nx.Defn.jit(&chain/1, compiler: Nx.Torch)
          step = fn -> chain.(x) |> Nx.backend_deallocate() end
          for _ <- 1..2, do: spawn(fn -> send(parent, {:products, work(step, until, 0)}) end)

        nil ->
          []
      end

    spawn(fn -> pinger(parent, until) end)

    lateness =
      receive do
        {:lateness, l} -> Enum.sort(l)
      end

    products =
      for _ <- workers do
        receive do
          {:products, n} -> n
        end
      end

    {lateness, Enum.sum(products)}
  end

  defp work(step, until, n) do
    if System.monotonic_time(:microsecond) >= until do
      n
    else
      step.()
      work(step, until, n + 1)
    end
  end

  defn chain(x), do: Nx.tanh(x * 2 + 1) * Nx.sigmoid(x) - Nx.exp(-(x * x))

  def pct(sorted, p), do: Enum.at(sorted, min(length(sorted) - 1, trunc(length(sorted) * p)))

  def report(label, {lateness, products}) do
    IO.puts(
      "#{String.pad_trailing(label, 28)} wake-ups #{length(lateness)}, lateness p50 " <>
        "#{pct(lateness, 0.5)} µs, p99 #{pct(lateness, 0.99)} µs, max #{List.last(lateness)} µs" <>
        if(products > 0, do: ", #{products} operations done", else: "")
    )
  end
end

Responsiveness.report("idle", Responsiveness.measure(3, nil))
Responsiveness.report("2 x 2048^2 matmul loops", Responsiveness.measure(5, :matmul))
Responsiveness.report("2 x compiled 1e7 chain loops", Responsiveness.measure(5, :fused))
