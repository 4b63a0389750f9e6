defmodule Nx.Defn.BlockTest do
  use ExUnit.Case, async: true
  import Nx.Defn
  import Nx.Testing

  defn eigh_values(t), do: Nx.LinAlg.eigh(t) |> elem(0)
  defn svd_values(t), do: Nx.LinAlg.svd(t) |> elem(1)
  defn cholesky_sum(t), do: Nx.LinAlg.cholesky(t) |> Nx.sum()

  defp a, do: Nx.tensor([[2.0, 1.0], [1.0, 2.0]])

  test "blocks without a default in Nx (eigh, svd) run on the backend inside defn" do
    assert_all_close(Nx.sort(eigh_values(a())), Nx.tensor([1.0, 3.0]))
    assert_all_close(Nx.sort(svd_values(a())), Nx.tensor([1.0, 3.0]))
  end

  test "results inside defn equal the eager ones" do
    {eager_values, _} = Nx.LinAlg.eigh(a())
    assert_all_close(eigh_values(a()), eager_values)
    assert_all_close(cholesky_sum(a()), Nx.sum(Nx.LinAlg.cholesky(a())))
  end

  test "blocks with a default are still differentiable" do
    grad = Nx.Defn.grad(a(), &cholesky_sum/1)
    assert Nx.shape(grad) == {2, 2}
    assert Nx.to_number(Nx.all(Nx.is_nan(grad) |> Nx.logical_not())) == 1
  end
end
