defmodule Nx.ConstantsTest do
  use ExUnit.Case, async: true
  doctest Nx.Constants

  test "values agree with Elixir's math" do
    assert Nx.to_number(Nx.Constants.pi({:f, 64})) == :math.pi()
    assert Nx.to_number(Nx.Constants.e({:f, 64})) == :math.exp(1)
    assert Nx.to_number(Nx.Constants.epsilon({:f, 32})) == :math.pow(2, -23)
    assert Nx.to_number(Nx.Constants.max_finite({:u, 64})) == 18_446_744_073_709_551_615
    assert Nx.to_number(Nx.Constants.min({:s, 64})) == -9_223_372_036_854_775_808
  end

  test "types and backends" do
    assert Nx.type(Nx.Constants.pi()) == {:f, 32}
    assert Nx.type(Nx.Constants.i({:c, 128})) == {:c, 128}
    t = Nx.Constants.nan({:f, 16}, backend: Nx.Torch.Backend)
    assert Nx.to_number(t) == :nan
    assert_raise ArgumentError, fn -> Nx.Constants.pi({:s, 32}) end
  end
end
