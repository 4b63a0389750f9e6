# Eager allocation-heavy chain with and without the caching CPU allocator:
#   mix run bench/allocator.exs; NX_TORCH_ALLOCATOR=system mix run bench/allocator.exs
t = Nx.iota({10_000_000}, type: :f32)

run = fn ->
  Enum.reduce(1..10, t, fn _, acc -> acc |> Nx.as_type(:f64) |> Nx.as_type(:f32) end)
end

for _ <- 1..2, do: run.()

times =
  for _ <- 1..7 do
    {us, _} = :timer.tc(run)
    :erlang.garbage_collect()
    us / 1000
  end

IO.puts(
  "20 conversions over 1e7 elements: median #{Enum.at(Enum.sort(times), 3)} ms, min #{Enum.min(times)} ms  #{inspect(Map.take(Nx.Torch.info(), [:allocator_hits, :allocator_misses]))}"
)
