defmodule Nx.ContractOrderTest do
  use ExUnit.Case, async: true

  defp random_matrix(rows, cols, seed) do
    :rand.seed(:exsss, {seed, seed + 1, seed + 2})
    for _ <- 1..rows, do: for(_ <- 1..cols, do: :rand.uniform(21) - 11)
  end

  defp matmul(a, b) do
    cols = Enum.zip_with(b, & &1)
    for row <- a, do: for(col <- cols, do: Enum.zip_with(row, col, &(&1 * &2)) |> Enum.sum())
  end

  describe "dot" do
    test "matrix products agree with a product computed in Elixir" do
      a = random_matrix(7, 5, 1)
      b = random_matrix(5, 3, 2)
      assert Nx.to_list(Nx.dot(Nx.tensor(a), Nx.tensor(b))) == matmul(a, b)

      assert Nx.to_list(Nx.dot(Nx.tensor(a, type: :f64), Nx.tensor(b, type: :f64))) ==
               Enum.map(matmul(a, b), fn row -> Enum.map(row, &(&1 * 1.0)) end)
    end

    test "batched dot equals a loop over the batch" do
      a = for s <- 1..3, do: random_matrix(2, 4, s)
      b = for s <- 4..6, do: random_matrix(4, 3, s)
      r = Nx.dot(Nx.tensor(a), [2], [0], Nx.tensor(b), [1], [0])
      assert Nx.to_list(r) == Enum.zip_with(a, b, &matmul/2)
    end

    test "contraction over several axes and transposed operands" do
      a = Nx.iota({2, 3, 4})
      b = Nx.iota({4, 3})
      # sum over j, k of a[i, j, k] * b[k, j]
      r = Nx.dot(a, [1, 2], b, [1, 0])

      expected =
        for i <- 0..1 do
          for j <- 0..2, k <- 0..3, reduce: 0 do
            acc -> acc + (i * 12 + j * 4 + k) * (k * 3 + j)
          end
        end

      assert Nx.to_list(r) == expected
    end

    test "types: promotion, u64 wrapping, half precision, complex" do
      assert Nx.type(Nx.dot(Nx.tensor([1, 2], type: :s8), Nx.tensor([1, 2], type: :u8))) ==
               {:s, 16}

      big = Nx.tensor([9_223_372_036_854_775_808], type: :u64)

      assert Nx.to_number(Nx.dot(big, Nx.tensor([3], type: :u64))) ==
               rem(3 * 9_223_372_036_854_775_808, 18_446_744_073_709_551_616)

      h = Nx.dot(Nx.tensor([0.5, 1.5], type: :bf16), Nx.tensor([2.0, 2.0], type: :bf16))
      assert Nx.type(h) == {:bf, 16}
      assert Nx.to_number(h) == 4.0

      c = Nx.dot(Nx.tensor([Complex.new(0, 1)]), Nx.tensor([Complex.new(0, 1)]))
      assert Nx.to_number(c) == Complex.new(-1.0, 0.0)
    end

    test "scalars scale" do
      assert Nx.to_list(Nx.dot(2, Nx.tensor([1, 2]))) == [2, 4]
    end

    test "errors" do
      assert_raise ArgumentError, fn -> Nx.dot(Nx.iota({2, 3}), Nx.iota({2, 3})) end
    end
  end

  describe "sort, argsort, top_k" do
    test "agree with Enum.sort on random data, both directions" do
      :rand.seed(:exsss, {9, 9, 9})
      list = for _ <- 1..200, do: :rand.uniform(1000) - 500
      t = Nx.tensor(list)
      assert Nx.to_list(Nx.sort(t)) == Enum.sort(list)
      assert Nx.to_list(Nx.sort(t, direction: :desc)) == Enum.sort(list, :desc)
      idx = Nx.to_list(Nx.argsort(t))
      assert Enum.map(idx, &Enum.at(list, &1)) == Enum.sort(list)
    end

    test "stable argsort keeps the order of ties" do
      t = Nx.tensor([2, 1, 2, 1, 2])
      assert Nx.to_list(Nx.argsort(t, stable: true)) == [1, 3, 0, 2, 4]
      assert Nx.to_list(Nx.argsort(t, stable: true, direction: :desc)) == [0, 2, 4, 1, 3]
    end

    test "unsigned 64-bit and u32 order" do
      t = Nx.tensor([18_446_744_073_709_551_615, 0, 9_223_372_036_854_775_808], type: :u64)
      assert Nx.to_list(Nx.sort(t)) == [0, 9_223_372_036_854_775_808, 18_446_744_073_709_551_615]
      u = Nx.tensor([4_000_000_000, 7], type: :u32)
      assert Nx.to_list(Nx.sort(u)) == [7, 4_000_000_000]
    end

    test "sorting keeps every bit (f16 values are gathered, not converted)" do
      t = Nx.tensor([3.0, -0.0, 1.5, 65504.0], type: :f16)
      assert Nx.to_list(Nx.sort(t)) == [-0.0, 1.5, 3.0, 65504.0]
    end

    test "along named axes" do
      t = Nx.tensor([[3, 1], [2, 4]], names: [:x, :y])
      assert Nx.to_list(Nx.sort(t, axis: :x)) == [[2, 1], [3, 4]]
    end

    test "top_k matches sorting" do
      list = [5, 9, 1, 9, 3]
      {v, i} = Nx.top_k(Nx.tensor(list), k: 3)
      assert Nx.to_list(v) == Enum.take(Enum.sort(list, :desc), 3)
      assert Enum.map(Nx.to_list(i), &Enum.at(list, &1)) == Nx.to_list(v)
      assert_raise ArgumentError, fn -> Nx.top_k(Nx.tensor(list), k: 6) end
    end

    test "errors" do
      assert_raise ArgumentError, fn -> Nx.sort(Nx.tensor([1]), direction: :up) end
      assert_raise ArgumentError, fn -> Nx.sort(Nx.tensor([Complex.new(1, 1)])) end
      assert_raise ArgumentError, fn -> Nx.argsort(Nx.tensor([1]), type: :f32) end
    end
  end

  describe "cumulative" do
    test "agree with Enum.scan, forwards and in reverse" do
      list = [3, -1, 4, -1, 5, -9, 2, 6]
      t = Nx.tensor(list)
      assert Nx.to_list(Nx.cumulative_sum(t)) == Enum.scan(list, &+/2)
      assert Nx.to_list(Nx.cumulative_product(t)) == Enum.scan(list, &*/2)
      assert Nx.to_list(Nx.cumulative_max(t)) == Enum.scan(list, &max/2)

      assert Nx.to_list(Nx.cumulative_min(t, reverse: true)) ==
               list |> Enum.reverse() |> Enum.scan(&min/2) |> Enum.reverse()
    end

    test "types follow Nx: sums aggregate, max keeps the type" do
      t = Nx.tensor([200, 100], type: :u8)
      assert Nx.type(Nx.cumulative_sum(t)) == {:u, 32}
      assert Nx.to_list(Nx.cumulative_sum(t)) == [200, 300]
      assert Nx.type(Nx.cumulative_max(t)) == {:u, 8}
    end

    test "u64 maximum compares unsigned" do
      t = Nx.tensor([1, 18_446_744_073_709_551_615, 2], type: :u64)

      assert Nx.to_list(Nx.cumulative_max(t)) ==
               [1, 18_446_744_073_709_551_615, 18_446_744_073_709_551_615]
    end
  end
end
