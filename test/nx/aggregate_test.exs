defmodule Nx.AggregateTest do
  use ExUnit.Case, async: true

  describe "sum and product" do
    test "integers accumulate in the aggregate type" do
      t = Nx.tensor([200, 200, 200], type: :u8)
      assert Nx.type(Nx.sum(t)) == {:u, 32}
      assert Nx.to_number(Nx.sum(t)) == 600
      assert Nx.to_number(Nx.sum(Nx.tensor([-100, -100], type: :s8))) == -200
    end

    test "identities: sum of iota is n(n-1)/2, product of 1..n is n!" do
      n = 1000
      assert Nx.to_number(Nx.sum(Nx.iota({n}, type: :s64))) == div(n * (n - 1), 2)
      t = Nx.tensor(Enum.to_list(1..10), type: :s64)
      assert Nx.to_number(Nx.product(t)) == Enum.reduce(1..10, &(&1 * &2))
    end

    test "axes, names and keep_axes" do
      t = Nx.iota({2, 3, 4}, names: [:a, :b, :c])
      s = Nx.sum(t, axes: [:a, :c])
      assert Nx.shape(s) == {3}
      assert Nx.names(s) == [:b]
      assert Nx.to_list(s) == [60, 92, 124]
      k = Nx.sum(t, axes: [-1], keep_axes: true)
      assert Nx.shape(k) == {2, 3, 1}
      assert Nx.names(k) == [:a, :b, :c]
      assert Nx.to_list(Nx.sum(t, axes: [])) == Nx.to_list(t)
    end

    test "u64 sums wrap modulo 2^64 like Nx" do
      t = Nx.tensor([18_446_744_073_709_551_615, 2], type: :u64)
      assert Nx.to_number(Nx.sum(t)) == 1
    end

    test "half precision floats" do
      t = Nx.tensor([1.5, 2.5, 3.0], type: :bf16)
      assert Nx.type(Nx.sum(t)) == {:bf, 16}
      assert Nx.to_number(Nx.sum(t)) == 7.0
      assert Nx.to_number(Nx.product(Nx.tensor([0.5, 4.0], type: :f16))) == 2.0
    end

    test "complex sums" do
      t = Nx.tensor([Complex.new(1, 2), Complex.new(3, -1)])
      assert Nx.to_number(Nx.sum(t)) == Complex.new(4.0, 1.0)
    end

    test "errors" do
      assert_raise ArgumentError, fn -> Nx.sum(Nx.iota({2}), axes: [1]) end
      assert_raise ArgumentError, fn -> Nx.sum(Nx.iota({2}), axes: [0, 0]) end
      assert_raise ArgumentError, fn -> Nx.sum(Nx.iota({2}), foo: 1) end
    end
  end

  describe "reduce_max and reduce_min" do
    test "unsigned 64-bit order" do
      t = Nx.tensor([9_223_372_036_854_775_808, 1, 18_446_744_073_709_551_615], type: :u64)
      assert Nx.to_number(Nx.reduce_max(t)) == 18_446_744_073_709_551_615
      assert Nx.to_number(Nx.reduce_min(t)) == 1
    end

    test "u32 above 2^31" do
      t = Nx.tensor([4_000_000_000, 5], type: :u32)
      assert Nx.to_number(Nx.reduce_max(t)) == 4_000_000_000
    end

    test "NaN propagates" do
      assert Nx.to_number(Nx.reduce_max(Nx.tensor([1.0, :nan, 3.0]))) == :nan
    end

    test "infinities" do
      assert Nx.to_number(Nx.reduce_min(Nx.tensor([1.0, :neg_infinity]))) == :neg_infinity
    end

    test "complex raises" do
      assert_raise ArgumentError, fn -> Nx.reduce_max(Nx.tensor([Complex.new(1, 1)])) end
    end
  end

  describe "all and any" do
    test "work on floats, integers and along axes" do
      assert Nx.to_number(Nx.all(Nx.tensor([1.0, 0.5]))) == 1
      assert Nx.to_number(Nx.all(Nx.tensor([1.0, 0.0]))) == 0
      assert Nx.to_number(Nx.any(Nx.tensor([0, 0, 7], type: :u64))) == 1

      assert Nx.to_list(Nx.any(Nx.tensor([[0, 0], [0, 1]]), axes: [0], keep_axes: true)) == [
               [0, 1]
             ]
    end
  end

  describe "argmax and argmin" do
    test "flattened and per axis, both tie breaks" do
      t = Nx.tensor([[3, 7, 7], [7, 1, 0]])
      assert Nx.to_number(Nx.argmax(t)) == 1
      assert Nx.to_number(Nx.argmax(t, tie_break: :high)) == 3
      assert Nx.to_list(Nx.argmax(t, axis: 0)) == [1, 0, 0]
      assert Nx.to_list(Nx.argmin(t, axis: 1)) == [0, 2]
    end

    test "unsigned 64-bit values compare as unsigned" do
      t = Nx.tensor([1, 18_446_744_073_709_551_615, 5], type: :u64)
      assert Nx.to_number(Nx.argmax(t)) == 1
      assert Nx.to_number(Nx.argmin(t)) == 0
    end

    test "output type and keep_axis" do
      t = Nx.tensor([[1.0, 2.0], [4.0, 3.0]], names: [:x, :y])
      r = Nx.argmax(t, axis: :y, type: :u8, keep_axis: true)
      assert Nx.type(r) == {:u, 8}
      assert Nx.names(r) == [:x, :y]
      assert Nx.to_list(r) == [[1], [0]]
    end

    test "errors" do
      assert_raise ArgumentError, fn -> Nx.argmax(Nx.iota({2}), tie_break: :middle) end
      assert_raise ArgumentError, fn -> Nx.argmax(Nx.iota({2}), axis: 3) end
    end

    test "agrees with a scan in Elixir on random data" do
      :rand.seed(:exsss, {1, 2, 3})
      rows = for _ <- 1..20, do: for(_ <- 1..33, do: :rand.uniform(10))
      t = Nx.tensor(rows)

      expected =
        Enum.map(rows, fn row ->
          max = Enum.max(row)
          Enum.find_index(row, &(&1 == max))
        end)

      assert Nx.to_list(Nx.argmax(t, axis: 1)) == expected
    end
  end
end
