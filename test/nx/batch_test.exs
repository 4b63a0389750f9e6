defmodule Nx.BatchTest do
  use ExUnit.Case, async: true

  doctest Nx.Batch

  defp join(batch), do: Nx.Defn.jit_apply(&Function.identity/1, [batch])

  describe "stack/2 and concatenate/2" do
    test "mix stacked and concatenated entries" do
      batch =
        Nx.Batch.new()
        |> Nx.Batch.stack([Nx.tensor([1, 2])])
        |> Nx.Batch.concatenate([Nx.tensor([[3, 4], [5, 6]])])
        |> Nx.Batch.stack([Nx.tensor([7, 8])])

      assert batch.size == 4
      assert join(batch) |> Nx.to_list() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    end

    test "numbers become scalar tensors" do
      batch = Nx.Batch.stack([1, 2, 3])
      result = join(batch)
      assert Nx.type(result) == {:s, 32}
      assert Nx.to_list(result) == [1, 2, 3]
    end

    test "maps and tuples keep their structure" do
      batch =
        Nx.Batch.stack([
          %{a: Nx.tensor(1.0), b: {Nx.tensor([1, 2]), 3}},
          %{a: Nx.tensor(2.0), b: {Nx.tensor([4, 5]), 6}}
        ])

      %{a: a, b: {b1, b2}} = join(batch)
      assert Nx.to_list(a) == [1.0, 2.0]
      assert Nx.to_list(b1) == [[1, 2], [4, 5]]
      assert Nx.to_list(b2) == [3, 6]
    end

    test "names are kept and the batch axis is unnamed" do
      batch = Nx.Batch.stack([Nx.tensor([1, 2], names: [:x])])
      assert Nx.names(join(batch)) == [nil, :x]
    end

    test "incompatible entries raise" do
      assert_raise ArgumentError, ~r/cannot add an entry of template f32\[2\]/, fn ->
        Nx.Batch.stack([Nx.tensor([1, 2]), Nx.tensor([1.0, 2.0])])
      end

      batch = Nx.Batch.stack([{1, 2}])

      assert_raise ArgumentError, fn -> Nx.Batch.stack(batch, [{1, 2, 3}]) end
      assert_raise ArgumentError, fn -> Nx.Batch.stack(batch, [%{a: 1, b: 2}]) end
    end

    test "concatenate requires the same number of rows in an entry" do
      assert_raise ArgumentError, ~r/same number of rows, got 2 and 3/, fn ->
        Nx.Batch.concatenate([{Nx.iota({2, 1}), Nx.iota({3, 1})}])
      end
    end

    test "an empty batch cannot be joined" do
      assert_raise ArgumentError, ~r/without entries/, fn -> join(Nx.Batch.new()) end
    end
  end

  describe "pad/2" do
    test "pads every leaf with zeros of its type" do
      batch =
        Nx.Batch.stack([{Nx.tensor([1.5, 2.5]), Nx.tensor(7, type: :u8)}]) |> Nx.Batch.pad(2)

      {floats, bytes} = join(batch)
      assert Nx.to_list(floats) == [[1.5, 2.5], [0.0, 0.0], [0.0, 0.0]]
      assert Nx.type(bytes) == {:u, 8}
      assert Nx.to_list(bytes) == [7, 0, 0]
      assert batch.size == 1
    end
  end

  describe "merge/1,2" do
    test "keeps order, sums sizes and pads" do
      a = Nx.Batch.stack([1, 2]) |> Nx.Batch.pad(1)
      b = Nx.Batch.concatenate([Nx.tensor([3, 4, 5])]) |> Nx.Batch.pad(2)
      merged = Nx.Batch.merge(a, b)
      assert {merged.size, merged.pad} == {5, 3}
      assert join(merged) |> Nx.to_list() == [1, 2, 3, 4, 5, 0, 0, 0]
    end

    test "empty batches merge with anything" do
      merged = Nx.Batch.merge([Nx.Batch.new(), Nx.Batch.stack([1]), Nx.Batch.new()])
      assert join(merged) |> Nx.to_list() == [1]
      assert Nx.Batch.merge([]).size == 0
    end

    test "incompatible templates raise" do
      assert_raise ArgumentError, ~r/cannot merge batches of templates/, fn ->
        Nx.Batch.merge(Nx.Batch.stack([1]), Nx.Batch.stack([1.0]))
      end
    end
  end

  describe "split/2" do
    test "every split point of a mixed batch" do
      batch =
        Nx.Batch.new()
        |> Nx.Batch.concatenate([Nx.tensor([0, 1, 2])])
        |> Nx.Batch.stack([3])
        |> Nx.Batch.concatenate([Nx.tensor([4, 5])])

      for n <- 1..7 do
        {first, rest} = Nx.Batch.split(batch, n)
        taken = min(n, 6)
        assert first.size == taken
        assert rest.size == 6 - taken
        assert join(first) |> Nx.to_list() == Enum.to_list(0..(taken - 1))

        if rest.size > 0 do
          assert join(rest) |> Nx.to_list() == Enum.to_list(taken..5)
        end
      end
    end

    test "repeated splits cover the batch" do
      batch = Nx.Batch.concatenate([Nx.iota({10})])

      chunks =
        Stream.unfold(batch, fn
          %{size: 0} -> nil
          batch -> Nx.Batch.split(batch, 3)
        end)
        |> Enum.map(&(join(&1) |> Nx.to_list()))

      assert chunks == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    end

    test "split keeps the key" do
      batch = Nx.Batch.stack([1, 2, 3]) |> Nx.Batch.key(:k)
      {a, b} = Nx.Batch.split(batch, 1)
      assert {a.key, b.key} == {:k, :k}
    end

    test "padding goes first to the first part" do
      batch = Nx.Batch.stack([1, 2]) |> Nx.Batch.pad(4)
      {first, rest} = Nx.Batch.split(batch, 3)
      assert {first.size, first.pad, rest.size, rest.pad} == {2, 1, 0, 3}
      assert join(first) |> Nx.to_list() == [1, 2, 0]

      {first, rest} = Nx.Batch.split(batch, 1)
      assert {first.size, first.pad, rest.size, rest.pad} == {1, 0, 1, 4}
      assert join(rest) |> Nx.to_list() == [2, 0, 0, 0, 0]
    end
  end

  test "inspect shows the public fields" do
    assert inspect(Nx.Batch.stack([1, 2])) =~ "size: 2"
  end
end
