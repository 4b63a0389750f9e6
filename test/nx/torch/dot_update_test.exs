defmodule Nx.Torch.DotUpdateTest do
  # `w - dot(a, b) * lr` of f32 matrices compiles to one GEMM onto `w` (LibTorch's addmm):
  # the results must agree with Nx.Defn.Evaluator's three separate operations to within f32
  # rounding, for every pair of contraction axes, and the rewrite must leave alone products
  # that something else reads.
  use ExUnit.Case, async: true

  import Nx.Testing

  defp values(shape, seed), do: Nx.SpreadValues.values(shape, seed, -0.5, 0.5)

  defp both(fun, args) do
    torch = apply(Nx.Defn.jit(fun, compiler: Nx.Torch), args)
    evaluator = apply(Nx.Defn.jit(fun, compiler: Nx.Defn.Evaluator), args)
    {torch, evaluator}
  end

  test "SGD steps on weights whose gradient is a product, all contraction axes" do
    # x: [128, 300], g: [128, 200], w: [300, 200] (7.7M multiply-adds: above the small loops)
    x = values({128, 300}, 1)
    g = values({128, 200}, 2)
    w = values({300, 200}, 3)

    cases = [
      {fn w, x, g -> Nx.subtract(w, Nx.multiply(Nx.dot(x, [0], g, [0]), 0.01)) end, [w, x, g]},
      {fn w, x, g -> Nx.subtract(w, Nx.multiply(0.5, Nx.dot(Nx.transpose(x), g))) end, [w, x, g]},
      {fn w, xt, g -> Nx.subtract(w, Nx.multiply(Nx.dot(xt, [1], g, [0]), 0.25)) end,
       [w, Nx.transpose(x), g]},
      {fn w, x, gt -> Nx.subtract(w, Nx.multiply(Nx.dot(x, [0], gt, [1]), 2)) end,
       [w, x, Nx.transpose(g)]}
    ]

    for {fun, args} <- cases do
      {torch, evaluator} = both(fun, args)
      assert torch.shape == {300, 200} and torch.type == {:f, 32}
      assert_all_close(torch, evaluator, rtol: 1.0e-5, atol: 1.0e-5)
    end
  end

  test "products read elsewhere and f64 keep their own operations; a scale tensor works" do
    x = values({128, 300}, 4)
    g = values({128, 200}, 5)
    w = values({300, 200}, 6)

    shared = fn w, x, g ->
      p = Nx.dot(x, [0], g, [0])
      {Nx.subtract(w, Nx.multiply(p, 0.01)), Nx.sum(p)}
    end

    {{t1, t2}, {e1, e2}} = both(shared, [w, x, g])
    assert_all_close(t1, e1, rtol: 1.0e-5, atol: 1.0e-5)
    assert_all_close(t2, e2, rtol: 1.0e-4)

    scaled_by_tensor = fn w, x, g, lr ->
      Nx.subtract(w, Nx.multiply(Nx.dot(x, [0], g, [0]), lr))
    end

    {t, e} = both(scaled_by_tensor, [w, x, g, Nx.tensor(0.1, type: :f32)])
    assert_all_close(t, e, rtol: 1.0e-5, atol: 1.0e-5)

    f64 = fn w, x, g -> Nx.subtract(w, Nx.multiply(Nx.dot(x, [0], g, [0]), 0.01)) end
    args = Enum.map([w, x, g], &Nx.as_type(&1, :f64))
    {t, e} = both(f64, args)
    assert t.type == {:f, 64}
    assert_all_close(t, e, rtol: 1.0e-10)
  end
end
