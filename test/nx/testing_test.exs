defmodule Nx.TestingTest do
  use ExUnit.Case, async: true
  import Nx.Testing
  doctest Nx.Testing

  test "positions are reported per axis" do
    error =
      assert_raise ExUnit.AssertionError, fn ->
        assert_equal(Nx.iota({2, 3}), Nx.tensor([[0, 1, 2], [3, 9, 5]]))
      end

    assert error.message =~ "index [1, 1]: 4 != 9"
  end

  test "shapes must match" do
    assert_raise ExUnit.AssertionError, ~r/different shapes/, fn ->
      assert_equal(Nx.iota({2}), Nx.iota({3}))
    end
  end

  test "numbers, infinities and complex numbers" do
    assert assert_equal(Nx.tensor(3), 3)
    assert assert_all_close(Nx.tensor([:infinity]), Nx.tensor([:infinity]))
    assert assert_all_close(Nx.tensor([Complex.new(1, 1)]), Nx.tensor([Complex.new(1.00001, 1)]))

    assert_raise ExUnit.AssertionError, fn ->
      assert_all_close(Nx.tensor([:infinity]), Nx.tensor([:neg_infinity]))
    end
  end
end
