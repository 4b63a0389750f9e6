defmodule Nx.ConversionTest do
  # Nx.to_heatmap/2, Nx.to_batched/3, Nx.to_pointer/2 and Nx.from_pointer/5.
  use ExUnit.Case, async: true

  doctest Nx.Heatmap
  doctest Nx.Pointer

  defp ascii(tensor, inspect_opts \\ []),
    do: tensor |> Nx.to_heatmap(ansi_enabled: false) |> inspect(inspect_opts)

  describe "to_heatmap/2" do
    test "scales each matrix between its finite minimum and maximum" do
      assert ascii(Nx.tensor([[0, 1], [2, 3]])) == "#Nx.Heatmap<\n  s32[2][2]\n  \n  03\n  69\n>"
      assert ascii(Nx.tensor([[7, 7]])) == "#Nx.Heatmap<\n  s32[1][2]\n  \n  00\n>"

      assert ascii(Nx.tensor([[[0, 1]], [[10, 100]]])) ==
               "#Nx.Heatmap<\n  s32[2][1][2]\n  [\n    09,\n    \n    09\n  ]\n>"
    end

    test "non-finite values and names" do
      t = Nx.tensor([[:neg_infinity, 1.0, :nan, 2.0, :infinity]], names: [:x, :y])
      assert ascii(t) == "#Nx.Heatmap<\n  f32[x: 1][y: 5]\n  \n  -0x9+\n>"
    end

    test "the inspect limit caps the matrices drawn" do
      assert ascii(Nx.iota({3, 1, 1}), limit: 1) ==
               "#Nx.Heatmap<\n  s32[3][1][1]\n  [\n    0,\n    ...\n  ]\n>"
    end

    test "ANSI cells use the 24 grays, infinities and NaN" do
      t = Nx.tensor([0.0, 1.0, :infinity, :neg_infinity, :nan])
      out = t |> Nx.to_heatmap(ansi_enabled: true, ansi_whitespace: "#") |> inspect()
      assert out =~ IO.ANSI.color_background(232) <> "#"
      assert out =~ IO.ANSI.color_background(255) <> "#"
      assert out =~ IO.ANSI.color_background(255) <> "∞"
      assert out =~ IO.ANSI.color_background(232) <> "∞"
      assert out =~ IO.ANSI.red_background() <> "#"
      assert out =~ IO.ANSI.reset()
      assert inspect(Nx.to_heatmap(t, ansi_enabled: true)) =~ "\u3000"
    end

    test "Access gives heatmaps of sub-tensors, or scalars" do
      hm = Nx.to_heatmap(Nx.iota({2, 3}), ansi_enabled: false)
      assert %Nx.Heatmap{tensor: row} = hm[1]
      assert Nx.to_list(row) == [3, 4, 5]
      assert %Nx.Tensor{shape: {}} = hm[1][2]
    end

    test "errors" do
      assert_raise ArgumentError, ~r/scalar/, fn -> Nx.to_heatmap(1) end

      assert_raise ArgumentError, ~r/complex/, fn ->
        Nx.to_heatmap(Nx.tensor([Complex.new(1, 1)]))
      end
    end
  end

  describe "to_batched/3" do
    test "even and uneven batches, repeat and discard, names kept" do
      t = Nx.iota({7, 2}, names: [:rows, :cols])
      batches = t |> Nx.to_batched(3) |> Enum.to_list()
      assert Enum.map(batches, & &1.shape) == [{3, 2}, {3, 2}, {3, 2}]
      assert Enum.all?(batches, &(&1.names == [:rows, :cols]))
      assert batches |> List.last() |> Nx.to_list() == [[12, 13], [0, 1], [2, 3]]
      assert t |> Nx.to_batched(3, leftover: :discard) |> Enum.count() == 2
      assert t |> Nx.to_batched(7) |> Enum.map(&Nx.to_list/1) == [Nx.to_list(t)]
      assert Nx.iota({4}) |> Nx.to_batched(1) |> Enum.map(&Nx.to_list/1) == [[0], [1], [2], [3]]
    end

    test "every batch is computed lazily" do
      stream = Nx.to_batched(Nx.iota({1000, 4}), 10)
      assert [first] = Enum.take(stream, 1)
      assert Nx.to_list(first[0]) == [0, 1, 2, 3]
    end

    test "vectorized tensors batch along the first vectorized axis" do
      base = Nx.iota({3, 2})
      t = %{base | shape: {2}, names: [nil], vectorized_axes: [v: 3]}
      [first, second] = t |> Nx.to_batched(2) |> Enum.to_list()
      assert %{vectorized_axes: [v: 2], shape: {2}} = first
      assert Nx.to_binary(second) == Nx.to_binary(Nx.tensor([[4, 5], [0, 1]]))
    end

    test "errors" do
      assert_raise ArgumentError, ~r/beyond/, fn -> Nx.to_batched(Nx.iota({2}), 3) end

      assert_raise ArgumentError, ~r/leftover/, fn ->
        Nx.to_batched(Nx.iota({2}), 1, leftover: :x)
      end

      assert_raise FunctionClauseError, fn -> Nx.to_batched(Nx.iota({2}), 0) end
    end
  end

  describe "pointers" do
    test "round trip every byte-sized type through a local pointer" do
      for type <-
            [:s8, :s16, :s32, :s64, :u8, :u16, :u32, :u64, :f8, :f8_e4m3fn] ++
              [:f16, :bf16, :f32, :f64, :c64, :c128] do
        t = Nx.iota({2, 3}, type: type)
        pointer = Nx.to_pointer(t, mode: :local)
        assert %Nx.Pointer{kind: :local, data_size: size} = pointer
        assert size == Nx.byte_size(t)
        copy = Nx.from_pointer({Nx.Torch.Backend, device: :cpu}, pointer, type, {3, 2})
        assert Nx.to_binary(copy) == Nx.to_binary(t)
      end
    end

    test "a strided tensor is made contiguous and stays valid while referenced" do
      t = Nx.transpose(Nx.iota({3, 4}, type: :f32))
      pointer = Nx.to_pointer(t)
      :erlang.garbage_collect()
      copy = Nx.from_pointer(Nx.Torch.Backend, pointer, :f32, {4, 3}, names: [:a, :b])
      assert Nx.to_list(copy) == Nx.to_list(t)
      assert copy.names == [:a, :b]
      # the same address again: the resource keeps its contiguous tensor
      assert Nx.to_pointer(t).address == pointer.address
    end

    test "sizes, kinds and types are validated" do
      t = Nx.iota({4}, type: :s32)
      pointer = Nx.to_pointer(t)

      assert_raise ArgumentError, ~r/data_size is 16 bytes, a s32\[2\] tensor needs 8/, fn ->
        Nx.from_pointer(Nx.Torch.Backend, pointer, :s32, {2})
      end

      assert_raise ArgumentError, ~r/only :local/, fn ->
        Nx.from_pointer(Nx.Torch.Backend, %{pointer | kind: :ipc}, :s32, {4})
      end

      assert_raise ArgumentError, ~r/non-negative/, fn ->
        Nx.from_pointer(Nx.Torch.Backend, %{pointer | address: -1}, :s32, {4})
      end

      assert_raise ArgumentError, ~r/null/, fn ->
        Nx.from_pointer(Nx.Torch.Backend, %{pointer | address: 0}, :s32, {4})
      end

      assert_raise ArgumentError, ~r/sub-byte/, fn ->
        Nx.from_pointer(Nx.Torch.Backend, %{pointer | data_size: 4}, :u4, {4})
      end

      assert_raise ArgumentError, ~r/packed layout/, fn ->
        Nx.to_pointer(Nx.iota({4}, type: :s4))
      end

      assert_raise ArgumentError, ~r/empty/, fn -> Nx.to_pointer(Nx.from_binary(<<>>, :f32)) end
      assert_raise ArgumentError, ~r/mode: :local/, fn -> Nx.to_pointer(t, mode: :ipc) end
      Nx.backend_deallocate(t)
      assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.to_pointer(t) end
    end
  end
end
