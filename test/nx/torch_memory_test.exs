defmodule Nx.Torch.MemoryTest do
  # Not async: it counts live tensors, which tests running at the same time would change.
  use ExUnit.Case, async: false

  defp live_tensors, do: Nx.Torch.memory_stats()[:cpu].tensors

  # A dead process's heap is released during its exit, which may finish just after its
  # monitor fires: poll briefly instead of racing it.
  defp wait_until(fun, tries \\ 100) do
    cond do
      fun.() -> true
      tries == 0 -> false
      true -> Process.sleep(10) && wait_until(fun, tries - 1)
    end
  end

  test "live tensors return to the baseline after the owner dies" do
    baseline = live_tensors()
    parent = self()

    {pid, ref} =
      spawn_monitor(fn ->
        tensors = for i <- 1..1000, do: Nx.tensor([i, i + 1])
        send(parent, {:live, live_tensors()})
        length(tensors)
      end)

    assert_receive {:live, during}, 5000
    assert during >= baseline + 1000
    assert_receive {:DOWN, ^ref, :process, ^pid, :normal}, 5000
    assert wait_until(fn -> live_tensors() <= baseline end)
  end

  test "garbage collection releases tensors a process no longer references" do
    baseline = live_tensors()
    for i <- 1..1000, do: Nx.tensor([i])
    :erlang.garbage_collect()
    assert wait_until(fn -> live_tensors() <= baseline end)
  end

  test "a loop creating 100 MB tensors without deallocating stays bounded" do
    baseline = Nx.Torch.memory_stats()[:cpu].bytes
    parent = self()

    loop = fn ->
      peak =
        Enum.reduce(1..30, 0, fn i, peak ->
          # 25M f32 elements = 100 MB, a new tensor each iteration, the old one dropped
          t = Nx.broadcast(Nx.tensor(i * 1.0), {25_000_000}) |> Nx.multiply(2.0)
          _ = t
          max(peak, Nx.Torch.memory_stats()[:cpu].bytes - baseline)
        end)

      send(parent, {:peak, peak})
    end

    # A large heap means the process would not be collected for its own small terms for a
    # long time: only the tensor accounting triggers the collections. Without it, this loop
    # holds 30 x 100 MB.
    :erlang.spawn_opt(loop, min_heap_size: 50_000_000)
    assert_receive {:peak, peak}, 60_000
    assert peak < 700_000_000
  end

  test "release_cached_memory empties the allocator's cache" do
    for _ <- 1..3, do: Nx.iota({1_000_000}, type: :f32) |> Nx.backend_deallocate()
    assert Nx.Torch.release_cached_memory() == :ok
    assert Nx.Torch.info().allocator_cached_bytes == 0
  end
end
