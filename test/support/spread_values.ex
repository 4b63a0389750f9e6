defmodule Nx.SpreadValues do
  @moduledoc false
  # Deterministic f32 test values: element i is frac(i * (0.618... + seed)) mapped onto
  # [lo, hi), a spread without repeats or patterns that line up with rows.

  def values(shape, seed, lo \\ -4.0, hi \\ 4.0) do
    n = Tuple.product(shape)

    Nx.iota({n}, type: :f64)
    |> Nx.multiply(0.6180339887 + seed)
    |> Nx.remainder(1.0)
    |> Nx.multiply(hi - lo)
    |> Nx.add(lo)
    |> Nx.as_type(:f32)
    |> Nx.reshape(shape)
  end
end
