defmodule Nx.Torch.MemoryTest do
  # Not async: it counts live tensors, which tests running at the same time would change.
  use ExUnit.Case, async: false

  test "live tensors return to the baseline after garbage collection" do
    baseline = Nx.Torch.memory_stats()[:cpu].tensors

    task =
      Task.async(fn ->
        tensors = for i <- 1..1000, do: Nx.tensor([i, i + 1])
        count = Nx.Torch.memory_stats()[:cpu].tensors
        length(tensors)
        count
      end)

    during = Task.await(task)
    assert during >= baseline + 1000
    :erlang.garbage_collect()

    assert Nx.Torch.memory_stats()[:cpu].tensors <= baseline
  end
end
