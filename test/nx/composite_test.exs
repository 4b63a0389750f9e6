defmodule Nx.CompositeTest do
  use ExUnit.Case, async: true
  import Nx.Testing

  setup do
    :rand.seed(:exsss, {3, 1, 4})
    rows = for _ <- 1..6, do: for(_ <- 1..5, do: :rand.uniform() * 10 - 5)
    %{rows: rows, t: Nx.tensor(rows, type: :f64)}
  end

  defp mean_of(list), do: Enum.sum(list) / length(list)

  test "mean and variance agree with a computation in Elixir", %{rows: rows, t: t} do
    flat = List.flatten(rows)
    m = mean_of(flat)
    assert_all_close(Nx.mean(t), m, atol: 1.0e-12)
    var = Enum.sum(Enum.map(flat, &((&1 - m) ** 2))) / length(flat)
    assert_all_close(Nx.variance(t), var, atol: 1.0e-12)
    var1 = Enum.sum(Enum.map(flat, &((&1 - m) ** 2))) / (length(flat) - 1)
    assert_all_close(Nx.standard_deviation(t, ddof: 1), :math.sqrt(var1), atol: 1.0e-12)

    row_means = Enum.map(rows, &mean_of/1)
    assert_all_close(Nx.mean(t, axes: [1]), Nx.tensor(row_means, type: :f64), atol: 1.0e-12)
    assert Nx.shape(Nx.variance(t, axes: [0], keep_axes: true)) == {1, 5}
  end

  test "logsumexp is log(sum(exp)) and survives large and infinite inputs", %{rows: rows, t: t} do
    expected = Enum.map(rows, fn row -> :math.log(Enum.sum(Enum.map(row, &:math.exp/1))) end)
    assert_all_close(Nx.logsumexp(t, axes: [1]), Nx.tensor(expected, type: :f64), atol: 1.0e-12)
    assert Nx.to_number(Nx.logsumexp(Nx.tensor([:neg_infinity, :neg_infinity]))) == :neg_infinity
    assert_all_close(Nx.logsumexp(Nx.tensor([1.0e4, 0.0])), 1.0e4)

    assert_all_close(
      Nx.logsumexp(Nx.tensor([0.0, 0.0]), exp_scaling_factor: Nx.tensor([1.0, 3.0])),
      :math.log(4)
    )
  end

  test "median and mode", %{rows: rows, t: t} do
    sorted = rows |> List.flatten() |> Enum.sort()
    expected = (Enum.at(sorted, 14) + Enum.at(sorted, 15)) / 2
    assert_all_close(Nx.median(t), expected, atol: 1.0e-12)
    assert Nx.to_list(Nx.median(Nx.tensor([[5, 1, 3]]), axis: 1, keep_axis: true)) == [[3]]
    assert Nx.to_number(Nx.mode(Nx.tensor([4, 4, 1, 1, 7]))) == 1
    assert Nx.to_list(Nx.mode(Nx.tensor([[1, 1], [2, 9], [2, 9]]), axis: 0)) == [2, 9]
    assert Nx.to_number(Nx.mode(Nx.tensor([18_446_744_073_709_551_615, 3, 3], type: :u64))) == 3
  end

  test "weighted mean and covariance" do
    assert_all_close(Nx.weighted_mean(Nx.tensor([1.0, 2.0]), Nx.tensor([1.0, 1.0])), 1.5)
    assert_raise ArgumentError, fn -> Nx.weighted_mean(Nx.iota({2, 2}), Nx.iota({3})) end

    x = [[1.0, 2.0, 0.5], [2.0, 1.0, 0.0], [4.0, 0.0, 1.5], [3.0, 5.0, 2.0]]
    cols = Enum.zip_with(x, & &1)
    means = Enum.map(cols, &mean_of/1)

    expected =
      for {ci, mi} <- Enum.zip(cols, means) do
        for {cj, mj} <- Enum.zip(cols, means) do
          Enum.zip_with(ci, cj, fn a, b -> (a - mi) * (b - mj) end) |> Enum.sum() |> Kernel./(3)
        end
      end

    assert_all_close(
      Nx.covariance(Nx.tensor(x, type: :f64), ddof: 1),
      Nx.tensor(expected, type: :f64)
    )
  end

  test "all_close" do
    assert Nx.to_number(Nx.all_close(Nx.tensor([1.0, :infinity]), Nx.tensor([1.0, :infinity]))) ==
             1

    assert Nx.to_number(Nx.all_close(Nx.tensor([:nan]), Nx.tensor([:nan]))) == 0
    assert Nx.to_number(Nx.all_close(Nx.tensor([1, 2]), Nx.tensor([1, 2]))) == 1
    assert Nx.to_number(Nx.all_close(Nx.tensor([1.0]), Nx.tensor([1.1]), atol: 0.2)) == 1
  end

  test "reduce with an Elixir function" do
    t = Nx.tensor([[3, 9, 2], [7, 1, 8]])
    max_fun = fn x, acc -> Nx.select(Nx.greater(x, acc), x, acc) end
    assert Nx.to_list(Nx.reduce(t, -1000, [axes: [1]], max_fun)) == [9, 8]
    assert Nx.to_list(Nx.reduce(t, 0, [axes: [0], keep_axes: true], &Nx.add/2)) == [[10, 10, 10]]
    assert Nx.type(Nx.reduce(t, 0.0, &Nx.add/2)) == {:f, 32}
    assert_raise ArgumentError, fn -> Nx.reduce(t, Nx.tensor([0, 0]), &Nx.add/2) end
  end

  test "fill, complex, phase, logarithms in a base" do
    assert Nx.to_list(Nx.fill(Nx.iota({3}, type: :u64), 18_446_744_073_709_551_615)) ==
             List.duplicate(18_446_744_073_709_551_615, 3)

    z = Nx.complex(Nx.tensor([3.0], type: :f64), Nx.tensor([4.0], type: :f64))
    assert Nx.type(z) == {:c, 128}
    assert Nx.to_list(Nx.abs(z)) == [5.0]
    assert_all_close(Nx.phase(z), Nx.tensor([:math.atan2(4, 3)], type: :f64), atol: 1.0e-12)
    assert_all_close(Nx.log2(Nx.tensor([0.5, 4.0])), Nx.tensor([-1.0, 2.0]))
    assert_all_close(Nx.log(Nx.tensor([125.0]), 5), Nx.tensor([3.0]))
  end
end
