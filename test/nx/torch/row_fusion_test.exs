defmodule Nx.Torch.RowFusionTest do
  # Reductions over the last axis fused with their producers and consumers (row kernels):
  # every function runs compiled by Nx.Torch and by Nx.Defn.Evaluator, and the results must
  # agree (f32 to within the fused kernels' error and summation order).
  use ExUnit.Case, async: true

  import Nx.Defn
  import Nx.Testing

  defn softmax(x) do
    e = Nx.exp(x - Nx.reduce_max(x, axes: [-1], keep_axes: true))
    e / Nx.sum(e, axes: [-1], keep_axes: true)
  end

  defn logsumexp_rows(x) do
    m = Nx.reduce_max(x, axes: [1], keep_axes: true)
    # a row value read by another row operation, and one without the kept axis
    {Nx.log(Nx.sum(Nx.exp(x - m), axes: [1], keep_axes: true)) + m,
     Nx.reduce_min(x * 2, axes: [1])}
  end

  # a square matrix minus its row maxima *without* the kept axis: Nx broadcasts those along
  # the last axis (as columns), which a row kernel must not read as one value per row
  defn square_trap(x), do: x - Nx.reduce_max(x, axes: [1]) + Nx.sum(x, axes: [1], keep_axes: true)

  defn cross_entropy(w, x, y) do
    logits = Nx.dot(x, w)
    shifted = logits - Nx.reduce_max(logits, axes: [1], keep_axes: true)
    lse = shifted |> Nx.exp() |> Nx.sum(axes: [1], keep_axes: true) |> Nx.log()
    -Nx.sum(y * (shifted - lse)) / 128
  end

  defn loss_and_grad(w, x, y), do: value_and_grad(w, &cross_entropy(&1, x, y))

  defn row_stats(x) do
    s = Nx.sum(x, axes: [-1], keep_axes: true)
    mean = s / 64
    centered = x - mean
    {Nx.sum(centered * centered, axes: [-1]) / 64, Nx.reduce_min(centered, axes: [-1])}
  end

  import Nx.SpreadValues, only: [values: 2]

  defp compare(fun, args) do
    torch = apply(Nx.Defn.jit(fun, compiler: Nx.Torch), args)
    evaluator = apply(Nx.Defn.jit(fun, compiler: Nx.Defn.Evaluator), args)

    Enum.zip(
      Nx.Defn.Composite.flatten_list([torch]),
      Nx.Defn.Composite.flatten_list([evaluator])
    )
    |> Enum.each(fn {t, e} ->
      assert t.shape == e.shape and t.type == e.type
      assert_all_close(t, e, rtol: 1.0e-5, atol: 1.0e-5)
    end)
  end

  test "softmax over rows of several lengths" do
    for shape <- [{4, 10}, {128, 10}, {3, 5, 7}, {64, 1000}, {2, 20_000}] do
      compare(&softmax/1, [values(shape, 1)])
    end
  end

  test "row values read by row operations, and reductions without the kept axis" do
    compare(&logsumexp_rows/1, [values({96, 33}, 2)])
  end

  test "square matrices: reduced values broadcast as columns stay columns" do
    compare(&square_trap/1, [values({50, 50}, 3)])
    compare(&square_trap/1, [values({3, 3}, 4)])
  end

  test "the gradient of a softmax cross-entropy" do
    w = values({64, 10}, 5) |> Nx.multiply(0.1)
    x = values({128, 64}, 6)
    y = Nx.iota({128, 10}) |> Nx.remainder(10) |> Nx.equal(Nx.iota({128, 1}) |> Nx.remainder(10))
    compare(&loss_and_grad/3, [w, x, Nx.as_type(y, :f32)])
  end

  test "row statistics, NaN and infinity in rows" do
    x = values({40, 64}, 7)
    x = Nx.put_slice(x, [2, 3], Nx.tensor([[:nan]], type: :f32))
    x = Nx.put_slice(x, [5, 0], Nx.tensor([[:infinity]], type: :f32))
    {t_var, t_min} = Nx.Defn.jit(&row_stats/1, compiler: Nx.Torch).(x)
    {e_var, e_min} = Nx.Defn.jit(&row_stats/1, compiler: Nx.Defn.Evaluator).(x)
    assert Nx.to_number(t_var[2]) == :nan and Nx.to_number(t_min[2]) == :nan
    assert Nx.to_number(t_var[5]) == :nan
    keep = Nx.iota({40}) |> Nx.not_equal(2) |> Nx.logical_and(Nx.iota({40}) |> Nx.not_equal(5))
    assert_all_close(Nx.select(keep, t_var, 0), Nx.select(keep, e_var, 0), rtol: 1.0e-5)
    assert_all_close(Nx.select(keep, t_min, 0), Nx.select(keep, e_min, 0), rtol: 1.0e-5)
  end
end
