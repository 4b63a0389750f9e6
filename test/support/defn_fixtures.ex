defmodule Nx.DefnFixtures do
  # defn functions shared by the defn test suite and the compiler's differential test, which
  # runs them under both Nx.Defn.Evaluator and Nx.Torch.
  @moduledoc false
  import Nx.Defn

  defn reshape_transpose(t), do: t |> Nx.reshape({3, 2}) |> Nx.transpose()
  defn affine(x, y), do: x + y * 2

  defn cast(t, opts \\ []) do
    opts = keyword!(opts, type: :f32)
    Nx.as_type(t, opts[:type])
  end

  defn abs_value(x) do
    if x > 0, do: x, else: -x
  end

  defn sign_of(x) do
    cond do
      x > 0 -> 1
      x < 0 -> -1
      true -> 0
    end
  end

  defn doubled_three_times(x) do
    {_, acc} =
      while {i = 0, acc = x}, i < 3 do
        {i + 1, acc * 2}
      end

    acc
  end

  defn sum_with_generator(t) do
    while acc = 0, i <- 0..3, unroll: 2 do
      acc + i
    end
    |> Nx.add(t)
  end
end
