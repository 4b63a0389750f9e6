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
end
