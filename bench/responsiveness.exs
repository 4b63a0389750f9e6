# Scheduler responsiveness: how late a process on a normal scheduler wakes up while large
# matrix products run (they run on dirty CPU schedulers, so the normal ones stay free).
#
#   mix run bench/responsiveness.exs
#
# Prints the wake-up lateness of a process that sleeps 1 ms in a loop, first on an idle VM,
# then while two processes multiply 2048x2048 f32 matrices back to back.

defmodule Responsiveness do
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

  def measure(seconds, load?) do
    until = System.monotonic_time(:microsecond) + seconds * 1_000_000
    parent = self()

    workers =
      if load? do
        a = Nx.iota({2048, 2048}, type: :f32) |> Nx.divide(2048 * 2048)

        for _ <- 1..2 do
          spawn(fn -> work(a, until, 0) |> then(&send(parent, {:products, &1})) end)
        end
      else
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

  defp work(a, until, n) do
    if System.monotonic_time(:microsecond) >= until do
      n
    else
      Nx.dot(a, a) |> Nx.backend_deallocate()
      work(a, until, n + 1)
    end
  end

  def pct(sorted, p), do: Enum.at(sorted, min(length(sorted) - 1, trunc(length(sorted) * p)))

  def report(label, {lateness, products}) do
    IO.puts(
      "#{String.pad_trailing(label, 28)} wake-ups #{length(lateness)}, lateness p50 " <>
        "#{pct(lateness, 0.5)} µs, p99 #{pct(lateness, 0.99)} µs, max #{List.last(lateness)} µs" <>
        if(products > 0, do: ", #{products} matmuls done", else: "")
    )
  end
end

Responsiveness.report("idle", Responsiveness.measure(3, false))
Responsiveness.report("2 x 2048^2 matmul loops", Responsiveness.measure(5, true))
