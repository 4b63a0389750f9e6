defmodule Nx.Defn.GradCheck do
  @moduledoc """
  Test helpers for gradients: compares `Nx.Defn.grad/2` with central
  finite differences computed in f64.
  """

  import ExUnit.Assertions

  @doc """
  Asserts that the gradient of `fun` at `inputs` (an f64 tensor or a tuple
  of them) matches central finite differences with step `:h` (default
  `1.0e-6`), within `:atol`/`:rtol` (default `1.0e-5`). Non-scalar results
  are summed. Returns the symbolic gradient.
  """
  def check_grad(fun, inputs, opts \\ []) do
    opts = Keyword.validate!(opts, h: 1.0e-6, atol: 1.0e-5, rtol: 1.0e-5)
    symbolic = Nx.Defn.grad(inputs, fun)
    numeric = numeric_grad(fun, inputs, opts[:h])

    for {s, n} <- Enum.zip(leaves(symbolic), leaves(numeric)) do
      assert s.shape == n.shape
      Nx.Testing.assert_all_close(Nx.as_type(s, :f64), n, atol: opts[:atol], rtol: opts[:rtol])
    end

    symbolic
  end

  @doc """
  The gradient of the sum of `fun`'s result by central differences.
  """
  def numeric_grad(fun, inputs, h \\ 1.0e-6) do
    jitted = Nx.Defn.jit(fun)
    inputs_leaves = leaves(inputs)

    grads =
      inputs_leaves
      |> Enum.with_index()
      |> Enum.map(fn {leaf, li} ->
        values = Nx.to_flat_list(leaf)

        values
        |> Enum.with_index()
        |> Enum.map(fn {v, i} ->
          at = fn delta ->
            leaf =
              values
              |> List.replace_at(i, v + delta)
              |> Nx.tensor(type: :f64)
              |> Nx.reshape(leaf.shape)

            args = List.replace_at(inputs_leaves, li, leaf)
            args |> rebuild(inputs) |> jitted.() |> Nx.sum() |> Nx.to_number()
          end

          (at.(h) - at.(-h)) / (2 * h)
        end)
        |> Nx.tensor(type: :f64)
        |> Nx.reshape(leaf.shape)
      end)

    rebuild(grads, inputs)
  end

  defp leaves(%Nx.Tensor{} = t), do: [t]
  defp leaves(tuple) when is_tuple(tuple), do: Tuple.to_list(tuple)

  defp rebuild([t], %Nx.Tensor{}), do: t
  defp rebuild(list, tuple) when is_tuple(tuple), do: List.to_tuple(list)

  @doc """
  A random f64 tensor with elements uniform in `min..max` (from the
  process's `:rand` state).
  """
  def random(shape, min \\ -1.0, max \\ 1.0) do
    shape
    |> Nx.size()
    |> then(&List.duplicate(0, &1))
    |> Enum.map(fn _ -> min + (max - min) * :rand.uniform() end)
    |> Nx.tensor(type: :f64)
    |> Nx.reshape(shape)
  end
end
