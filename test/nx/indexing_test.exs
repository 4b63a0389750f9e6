defmodule Nx.IndexingTest do
  use ExUnit.Case, async: true
  import Nx.GoldenFixtures

  # Golden values from NumPy (test/fixtures/gen_indexing.py): every op over all 20 types.
  @fixtures Code.eval_file("test/fixtures/indexing.exs") |> elem(0)

  defp run_case(%{op: :slice, inputs: [x], opts: o}),
    do: Nx.slice(x, o[:starts], o[:lengths], strides: o[:strides])

  defp run_case(%{op: :put_slice, inputs: [x, u], opts: o}), do: Nx.put_slice(x, o[:starts], u)
  defp run_case(%{op: :pad, inputs: [x, v], opts: o}), do: Nx.pad(x, v, o[:config])
  defp run_case(%{op: :reverse, inputs: [x], opts: o}), do: Nx.reverse(x, o)
  defp run_case(%{op: :concatenate, inputs: xs, opts: o}), do: Nx.concatenate(xs, o)
  defp run_case(%{op: :stack, inputs: xs, opts: o}), do: Nx.stack(xs, o)
  defp run_case(%{op: :gather, inputs: [x, i], opts: o}), do: Nx.gather(x, i, o)
  defp run_case(%{op: :take, inputs: [x, i], opts: o}), do: Nx.take(x, i, o)
  defp run_case(%{op: :take_along_axis, inputs: [x, i], opts: o}), do: Nx.take_along_axis(x, i, o)
  defp run_case(%{op: :tile, inputs: [x], opts: o}), do: Nx.tile(x, o[:reps])

  defp run_case(%{op: :split_right, inputs: [x], opts: o}),
    do: x |> Nx.split(o[:split], axis: o[:axis]) |> elem(1)

  defp run_case(%{op: :tril, inputs: [x], opts: o}), do: Nx.tril(x, o)
  defp run_case(%{op: :triu, inputs: [x], opts: o}), do: Nx.triu(x, o)
  defp run_case(%{op: :take_diagonal, inputs: [x], opts: o}), do: Nx.take_diagonal(x, o)
  defp run_case(%{op: :make_diagonal, inputs: [x], opts: o}), do: Nx.make_diagonal(x, o)
  defp run_case(%{op: :put_diagonal, inputs: [x, d], opts: o}), do: Nx.put_diagonal(x, d, o)
  defp run_case(%{op: :indexed_put, inputs: [x, i, u], opts: o}), do: Nx.indexed_put(x, i, u, o)
  defp run_case(%{op: :indexed_add, inputs: [x, i, u], opts: o}), do: Nx.indexed_add(x, i, u, o)
  defp run_case(%{op: :diff, inputs: [x], opts: o}), do: Nx.diff(x, o)

  defp run_case(%{op: :linspace, inputs: [], opts: o}),
    do: Nx.linspace(o[:start], o[:stop], Keyword.take(o, [:n, :endpoint, :type]))

  describe "golden values from NumPy" do
    for {op, cases} <- Enum.group_by(@fixtures, & &1.op) do
      test "#{op} over every type" do
        for fixture <- unquote(Macro.escape(cases)) do
          inputs = Enum.map(fixture.inputs, &build/1)
          %{expected: {type, shape, values}} = fixture
          result = run_case(%{fixture | inputs: inputs})
          label = inspect(Map.delete(fixture, :inputs), limit: 8)
          assert Nx.type(result) == type, label
          assert Nx.shape(result) == shape, label
          expected = Enum.map(values, &element/1)
          tol = if fixture.op == :linspace, do: 2.0e-3, else: 0.0

          assert Enum.zip(Nx.to_flat_list(result), expected)
                 |> Enum.all?(fn {a, b} -> close?(a, b, tol) end),
                 "#{label}\n  got: #{inspect(Nx.to_flat_list(result))}"
        end
      end
    end
  end

  describe "Access" do
    setup do
      %{t: Nx.iota({3, 4}, names: [:x, :y])}
    end

    test "integers, negative integers and scalar tensors drop the axis", %{t: t} do
      assert Nx.to_list(t[1]) == [4, 5, 6, 7]
      assert Nx.names(t[1]) == [:y]
      assert Nx.to_number(t[-1][-1]) == 11
      assert Nx.to_number(t[Nx.tensor(2)][Nx.tensor(1, type: :u8)]) == 9
      # dynamic indices are clamped instead of raising
      assert Nx.to_list(t[Nx.tensor(7)]) == [8, 9, 10, 11]
      assert Nx.to_list(t[Nx.tensor(-4)]) == [0, 1, 2, 3]
    end

    test "ranges keep the axis, with steps and negative ends", %{t: t} do
      assert Nx.to_list(t[1..2]) == [[4, 5, 6, 7], [8, 9, 10, 11]]
      assert Nx.to_list(t[0..-1//2]) == [[0, 1, 2, 3], [8, 9, 10, 11]]
      assert Nx.to_list(t[[.., 1..-2//1]]) == [[1, 2], [5, 6], [9, 10]]
      assert Nx.to_list(t[[-2..-1, 0..3//3]]) == [[4, 7], [8, 11]]
    end

    test "lists mix integers and ranges; keywords use names", %{t: t} do
      assert Nx.to_list(t[[0, 1..2]]) == [1, 2]
      assert Nx.to_list(t[y: 3]) == [3, 7, 11]
      assert Nx.names(t[y: 3]) == [:x]
      assert Nx.to_list(t[x: 0..1, y: 2]) == [2, 6]
      assert t[[]] == t
    end

    test "tensors of indices take along the first axis", %{t: t} do
      assert Nx.to_list(t[Nx.tensor([2, 0])]) == [[8, 9, 10, 11], [0, 1, 2, 3]]
      assert Nx.shape(t[Nx.tensor([[1, 1, 1]])]) == {1, 3, 4}
    end

    test "errors", %{t: t} do
      assert_raise ArgumentError, "index 3 is out of bounds for axis 0 in shape {3, 4}", fn ->
        t[3]
      end

      assert_raise ArgumentError, "index -5 is out of bounds for axis 1 in shape {3, 4}", fn ->
        t[[0, -5]]
      end

      assert_raise ArgumentError, ~r/range step must be positive.*Did you mean/, fn ->
        t[2..0//-1]
      end

      assert_raise ArgumentError, ~r/requires a non-empty range/, fn -> t[2..1//1] end

      assert_raise ArgumentError,
                   "unknown or duplicate axis 2 found when slicing shape {3, 4}",
                   fn -> t[[0, 1, 2]] end

      assert_raise ArgumentError, ~r/cannot use the tensor\[index\] syntax on scalar/, fn ->
        Nx.tensor(1)[0]
      end

      assert_raise ArgumentError, ~r/tensor must be a scalar/, fn ->
        t[[Nx.tensor([0, 1]), 0]]
      end

      assert_raise ArgumentError, ~r/does not have name :z/, fn -> t[z: 0] end
      assert_raise ArgumentError, ~r/got: :oops/, fn -> t[:oops] end
      assert_raise RuntimeError, ~r/put_slice/, fn -> put_in(t[0], 1) end
    end
  end

  describe "out-of-range indices are clamped" do
    test "gather, take and take_along_axis" do
      t = Nx.tensor([10, 20, 30])
      assert Nx.to_list(Nx.take(t, Nx.tensor([-100, 100]))) == [10, 30]

      assert Nx.to_list(Nx.take(t, Nx.tensor([18_446_744_073_709_551_615, 1], type: :u64))) ==
               [30, 20]

      assert Nx.to_list(Nx.take(t, Nx.tensor([4_294_967_295], type: :u32))) == [30]
      assert Nx.to_list(Nx.gather(t, Nx.tensor([[-1], [3]], type: :s8))) == [10, 30]
      assert Nx.to_list(Nx.take_along_axis(t, Nx.tensor([5, -5]), axis: 0)) == [30, 10]
    end

    test "indexed_add and indexed_put" do
      t = Nx.tensor([0, 0, 0])
      assert Nx.to_list(Nx.indexed_add(t, Nx.tensor([[-9], [9]]), Nx.tensor([1, 2]))) == [1, 0, 2]

      assert Nx.to_list(Nx.indexed_put(t, Nx.tensor([[7]], type: :u16), Nx.tensor([5]))) == [
               0,
               0,
               5
             ]
    end

    test "slice and put_slice starts, integer or tensor" do
      t = Nx.iota({5})
      assert Nx.to_list(Nx.slice(t, [9], [2])) == [3, 4]
      assert Nx.to_list(Nx.slice(t, [Nx.tensor(-9)], [2])) == [0, 1]
      assert Nx.to_list(Nx.slice(t, [Nx.tensor(255, type: :u8)], [3], strides: 2)) == [2, 4]
      assert Nx.to_list(Nx.put_slice(t, [Nx.tensor(9)], Nx.tensor([7, 7]))) == [0, 1, 2, 7, 7]
      assert Nx.to_list(Nx.slice_along_axis(t, Nx.tensor(4), 2)) == [3, 4]
    end
  end

  describe "types" do
    test "indexed_add on unsigned types adds in their own width" do
      for {type, max} <- [
            u8: 255,
            u16: 65_535,
            u32: 4_294_967_295,
            u64: 18_446_744_073_709_551_615
          ] do
        t = Nx.tensor([max, 1], type: type)
        r = Nx.indexed_add(t, Nx.tensor([[0], [1]]), Nx.tensor([2, max], type: type))
        assert Nx.type(r) == {:u, elem(Nx.Type.normalize!(type), 1)}
        assert Nx.to_list(r) == [1, 0]
      end

      r = Nx.indexed_add(Nx.tensor([15], type: :u4), Nx.tensor([[0]]), Nx.tensor([3], type: :u4))
      assert Nx.to_list(r) == [2]
    end

    test "results merge types as Nx does" do
      assert Nx.type(Nx.pad(Nx.tensor([1], type: :u8), 1, [{1, 1, 0}])) == {:u, 8}
      assert Nx.type(Nx.pad(Nx.tensor([1], type: :u8), 1.0, [{1, 1, 0}])) == {:f, 32}

      assert Nx.type(Nx.pad(Nx.tensor([1], type: :u8), Nx.tensor(1, type: :s8), [{1, 1, 0}])) ==
               {:s, 16}

      assert Nx.type(Nx.concatenate([Nx.tensor([1], type: :u8), Nx.tensor([-1], type: :s8)])) ==
               {:s, 16}

      assert Nx.type(Nx.stack([Nx.tensor(1, type: :f16), Nx.tensor(1, type: :f64)])) == {:f, 64}

      r = Nx.put_slice(Nx.tensor([1, 2], type: :u8), [0], Nx.tensor([0.5], type: :f16))
      assert {Nx.type(r), Nx.to_list(r)} == {{:f, 16}, [0.5, 2.0]}

      r =
        Nx.indexed_put(
          Nx.tensor([1, 2], type: :s64),
          Nx.tensor([[1]]),
          Nx.tensor([3], type: :u64)
        )

      assert Nx.type(r) == {:s, 64}
      assert Nx.type(Nx.make_diagonal(Nx.tensor([1, 2], type: :u8))) == {:s, 32}
      assert Nx.type(Nx.tril(Nx.iota({2, 2}, type: :u16))) == {:u, 16}
    end

    test "u64 values above 2^63 move bit for bit" do
      big = 18_446_744_073_709_551_615
      t = Nx.tensor([big, 1, big - 1], type: :u64)
      assert Nx.to_list(Nx.reverse(t)) == [big - 1, 1, big]
      assert Nx.to_list(Nx.pad(t, big, [{1, 0, 1}])) == [big, big, big, 1, big, big - 1]
      assert Nx.to_list(Nx.take(t, Nx.tensor([2, 0]))) == [big - 1, big]
      assert Nx.to_list(Nx.diff(t)) == [2, big - 2]
    end
  end

  describe "shapes and names" do
    test "names flow through" do
      t = Nx.iota({2, 3}, names: [:x, :y])
      assert Nx.names(Nx.slice(t, [0, 1], [2, 2])) == [:x, :y]
      assert Nx.names(Nx.pad(t, 0, [{1, 0, 0}, {0, 0, 0}])) == [:x, :y]
      assert Nx.names(Nx.reverse(t)) == [:x, :y]
      assert Nx.names(Nx.take(t, Nx.tensor([0, 0]), axis: :y)) == [:x, :y]
      assert Nx.names(Nx.take(t, Nx.tensor([[0, 0]]), axis: :y)) == [:x, nil, nil]
      assert Nx.names(Nx.tril(t)) == [:x, :y]
      assert Nx.names(Nx.concatenate([t, Nx.iota({1, 3}, names: [:x, nil])])) == [:x, :y]
      assert Nx.names(Nx.gather(t, Nx.tensor([[0, 1]]))) == [nil]
      assert Nx.names(Nx.linspace(0, 1, n: 3, name: :t)) == [:t]
    end

    test "slicing a scalar returns it and full slices return the tensor" do
      s = Nx.tensor(3)
      assert Nx.slice(s, [], []) == s
      t = Nx.iota({2, 2})
      assert Nx.slice(t, [0, 0], [2, 2]) == t
      assert Nx.reverse(t, axes: []) == t
      assert Nx.concatenate([t]) == t
      assert Nx.shape(Nx.stack([t])) == {1, 2, 2}
    end

    test "tile, split and diff edge cases" do
      assert Nx.shape(Nx.tile(Nx.iota({2, 3}), [1])) == {2, 3}
      assert Nx.shape(Nx.tile(Nx.iota({2, 3}), [2, 1, 1])) == {2, 2, 3}
      {l, r} = Nx.split(Nx.iota({5}), 0.5)
      assert {Nx.to_list(l), Nx.to_list(r)} == {[0, 1, 2], [3, 4]}
      assert Nx.diff(Nx.iota({3}), order: 0) |> Nx.to_list() == [0, 1, 2]
      assert_raise ArgumentError, ~r/length at axis 0/, fn -> Nx.diff(Nx.iota({2}), order: 2) end
      assert_raise ArgumentError, ~r/split must be a float/, fn -> Nx.split(Nx.iota({4}), 1.0) end
      assert_raise ArgumentError, ~r/invalid split/, fn -> Nx.split(Nx.iota({4}), :half) end
    end

    test "linspace" do
      assert Nx.to_list(Nx.linspace(0, 24, n: 8, type: :u8)) == [0, 3, 6, 10, 13, 17, 20, 24]
      assert Nx.to_list(Nx.linspace(5, 6, n: 1)) == [5.0]

      assert_raise ArgumentError, ~r/same shape/, fn ->
        Nx.linspace(Nx.tensor([0, 1]), Nx.tensor([1, 2, 3]), n: 2)
      end
    end
  end

  describe "errors" do
    test "shape and option validation" do
      assert_raise ArgumentError, ~r/rank of padding configuration/, fn ->
        Nx.pad(Nx.iota({2}), 0, [])
      end

      assert_raise ArgumentError, ~r/non-negative interior/, fn ->
        Nx.pad(Nx.iota({2}), 0, [{0, 0, -1}])
      end

      assert_raise ArgumentError, ~r/empty/, fn -> Nx.pad(Nx.iota({2}), 0, [{-1, -1, 0}]) end

      assert_raise ArgumentError, ~r/invalid strides rank/, fn ->
        Nx.slice(Nx.iota({2, 2}), [0, 0], [1, 1], strides: [1])
      end

      assert_raise ArgumentError, ~r/stride at axis 0/, fn ->
        Nx.slice(Nx.iota({2}), [0], [1], strides: 0)
      end

      assert_raise ArgumentError, "index must be scalar, got shape {2} for axis 0", fn ->
        Nx.slice(Nx.iota({4}), [Nx.tensor([0, 1])], [1])
      end

      assert_raise ArgumentError, ~r/:axes must have the same number of elements/, fn ->
        Nx.gather(Nx.iota({2, 2}), Nx.tensor([[0, 0]]), axes: [1])
      end

      assert_raise ArgumentError, ~r/non-indexing dimensions must match/, fn ->
        Nx.take_along_axis(Nx.iota({2, 3}), Nx.tensor([[0]]), axis: 1)
      end

      assert_raise ArgumentError, ~r/expected indices to have shape \{2\}/, fn ->
        Nx.indexed_put(Nx.iota({2, 2}), Nx.tensor([0]), 1)
      end

      assert_raise ArgumentError, ~r/indices must be a rank 1 or 2 tensor, got: 3/, fn ->
        Nx.indexed_add(Nx.iota({2}), Nx.tensor([[[0]]]), Nx.tensor([1]))
      end

      assert_raise ArgumentError, ~r/put_diagonal\/3 expects tensor of rank 2/, fn ->
        Nx.put_diagonal(Nx.iota({2, 2, 2}), Nx.iota({2}))
      end

      assert_raise ArgumentError, ~r/absolute value of offset/, fn ->
        Nx.take_diagonal(Nx.iota({2, 3}), offset: -2)
      end

      assert_raise ArgumentError, ~r/repetitions must be a list/, fn ->
        Nx.tile(Nx.iota({2}), 2)
      end

      assert_raise ArgumentError, ~r/no tensors were given to stack/, fn -> Nx.stack({}) end
    end

    test "the NIFs validate what reaches LibTorch" do
      ref = Nx.Torch.Backend.ref(Nx.iota({2, 2}))
      idx = Nx.Torch.Backend.ref(Nx.tensor([[0, 0]]))
      assert_raise ArgumentError, ~r/gather/, fn -> Nx.Torch.NIF.t_gather(ref, idx, [0, 5]) end
      assert_raise ArgumentError, ~r/take/, fn -> Nx.Torch.NIF.t_take(ref, idx, 7) end
      assert_raise ArgumentError, ~r/slice/, fn -> Nx.Torch.NIF.t_slice(ref, [0], [1], [1]) end

      assert_raise ArgumentError, ~r/slice/, fn ->
        Nx.Torch.NIF.t_slice(ref, [0, 0], [3, 1], [1, 1])
      end

      assert_raise ArgumentError, ~r/indexed_add/, fn ->
        Nx.Torch.NIF.t_indexed(true, ref, idx, idx, [0, 1], 4)
      end

      assert_raise ArgumentError, ~r/pad/, fn ->
        Nx.Torch.NIF.t_pad(ref, ref, [{0, 0, 0}, {0, 0, 0}], 4)
      end

      assert_raise ArgumentError, ~r/stack/, fn -> Nx.Torch.NIF.t_stack([ref, idx], 0, 4) end
      assert_raise ArgumentError, ~r/concatenate/, fn -> Nx.Torch.NIF.t_concatenate([], 0, 4) end
    end
  end

  describe "engine behaviour" do
    test "inputs are never modified" do
      t = Nx.tensor([1, 2, 3])
      v = Nx.tensor(0)
      _ = Nx.pad(t, v, [{1, 1, 1}])
      _ = Nx.pad(Nx.tensor([5]), v, [{0, 0, 0}])
      _ = Nx.put_slice(t, [0], Nx.tensor([9]))
      _ = Nx.indexed_add(t, Nx.tensor([[0]]), Nx.tensor([9]))
      _ = Nx.indexed_put(t, Nx.tensor([[0]]), Nx.tensor([9]))
      assert Nx.to_list(t) == [1, 2, 3]
      assert Nx.to_number(v) == 0
    end

    test "large inputs run on dirty schedulers" do
      n = Nx.Torch.Backend.dirty_threshold() * 2
      t = Nx.iota({n})
      assert Nx.to_number(Nx.reverse(t)[0]) == n - 1
      assert Nx.to_number(Nx.take(t, Nx.iota({n}) |> Nx.reverse())[0]) == n - 1
      assert Nx.size(Nx.concatenate([t, t])) == 2 * n
      s = Nx.indexed_add(t, Nx.tensor([[0]]), Nx.tensor([5]))
      assert Nx.to_number(s[0]) == 5
      assert Nx.size(Nx.pad(t, 0, [{1, 1, 1}])) == 2 * n + 1
    end
  end
end
