defmodule Nx.Torch.CompilerVectorizedTest do
  use ExUnit.Case, async: true

  test "vectorized inputs run through the Evaluator with the same results" do
    fun = fn x -> Nx.sum(Nx.multiply(x, 2)) end
    x = Nx.iota({2, 3}) |> Nx.vectorize(:rows)
    compiled = Nx.Defn.jit(fun, compiler: Nx.Torch).(x)
    evaluated = Nx.Defn.jit(fun, compiler: Nx.Defn.Evaluator).(x)
    assert compiled.vectorized_axes == [rows: 2]
    assert Nx.to_list(Nx.devectorize(compiled)) == [6, 24]
    assert Nx.to_list(Nx.devectorize(compiled)) == Nx.to_list(Nx.devectorize(evaluated))
  end
end
