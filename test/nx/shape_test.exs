defmodule Nx.ShapeTest do
  use ExUnit.Case, async: true

  doctest Nx.Shape

  alias Nx.Shape

  describe "validate!/2" do
    test "reports the last invalid axis, zero included" do
      assert_raise ArgumentError, ~r/invalid dimension in axis 2 found in shape.*got 0/, fn ->
        Shape.validate!({0, 2, 0}, :shape)
      end

      assert_raise ArgumentError, ~r/got :auto in shape \{:auto, 2\}/, fn ->
        Shape.validate!({:auto, 2}, :shape)
      end
    end

    test "explains tensors given as dimensions" do
      fake_tensor = %{__struct__: Nx.Tensor, shape: {}}

      error = assert_raise ArgumentError, fn -> Shape.validate!({2, fake_tensor}, :shape) end

      assert error.message =~
               "invalid dimension in axis 1 found in shape. Each dimension must be a"

      assert error.message =~ "but instead got a tensor as dimension"
    end
  end

  describe "binary_broadcast/4" do
    test "is symmetric in the resulting shape" do
      pairs = [{{1, 3}, {4, 1}}, {{5, 1, 7}, {6, 1}}, {{}, {2, 2}}, {{3}, {3}}]

      for {left, right} <- pairs do
        nils = &List.duplicate(nil, tuple_size(&1))
        {shape, _} = Shape.binary_broadcast(left, nils.(left), right, nils.(right))
        assert {^shape, _} = Shape.binary_broadcast(right, nils.(right), left, nils.(left))
      end
    end

    test "names: nil matches anything, equal names are kept" do
      assert Shape.binary_broadcast({2, 3}, [:x, nil], {2, 3}, [nil, :y]) ==
               {{2, 3}, [:x, :y]}

      assert Shape.binary_broadcast({2, 3}, [:x, :y], {1, 3}, [:x, :y]) ==
               {{2, 3}, [:x, :y]}

      # The missing leading axis of the right side is unnamed.
      assert Shape.binary_broadcast({2, 3}, [:x, :y], {3}, [:y]) == {{2, 3}, [:x, :y]}
    end

    test "reports name conflicts on the axis of the output" do
      assert_raise ArgumentError, "cannot merge name :a on axis 1 with name :b on axis 1", fn ->
        Shape.binary_broadcast({2, 3}, [nil, :a], {3}, [:b])
      end
    end

    test "size conflicts report the original shapes" do
      assert_raise ArgumentError,
                   "cannot broadcast tensor of dimensions {2, 3} to {4, 1, 2}",
                   fn ->
                     Shape.binary_broadcast({2, 3}, [nil, nil], {4, 1, 2}, [nil, nil, nil])
                   end
    end
  end

  describe "broadcast!/4" do
    test "targets out of range are reported as a failed broadcast" do
      assert_raise ArgumentError, ~r/cannot broadcast tensor of dimensions \{3\} to \{3\}/, fn ->
        Shape.broadcast!({3}, {3}, [1])
      end
    end

    test "error messages hide vectorized axes" do
      message = "cannot broadcast tensor of dimensions {3} to {4} with axes [0]"

      assert_raise ArgumentError, message, fn ->
        Shape.broadcast!({7, 3}, {7, 4}, [0, 1], 1)
      end
    end
  end

  describe "axes" do
    test "normalize_axis/4 with a vectorized offset" do
      # Negative axes already count the full shape; positive ones are shifted.
      assert Shape.normalize_axis({5, 2, 3}, -1, [nil, nil, nil], 1) == 2
      assert Shape.normalize_axis({5, 2, 3}, 0, [nil, nil, nil], 1) == 1
    end

    test "normalize_axis/4 rejects non-integer axes" do
      assert_raise ArgumentError, "given axis (1.0) invalid for shape with rank 2", fn ->
        Shape.normalize_axis({2, 3}, 1.0, [nil, nil])
      end
    end

    test "normalize_axes/4 mentions the visible rank" do
      assert_raise ArgumentError, "axes [0, 0] must be unique integers between 0 and 1", fn ->
        Shape.normalize_axes({9, 2, 3}, [0, 0], [nil, nil, nil], 1)
      end
    end

    test "transpose_axes/2 and squeeze_axes/2" do
      assert Shape.transpose_axes({2, 3, 4}, 1) == [3, 2, 1]
      assert Shape.squeeze_axes({1, 1, 2}, 1) == [0]
      assert Shape.squeeze_axes({}) == []
    end

    test "transpose/3 applies the permutation to names" do
      assert Shape.transpose({1, 2, 3, 4}, [3, 1, 2, 0], [:a, :b, :c, :d]) ==
               {{4, 2, 3, 1}, [:d, :b, :c, :a]}
    end
  end

  describe "reshape/2" do
    test "infers the auto dimension anywhere" do
      assert Shape.reshape({2, 3, 4}, {2, :auto, 2}) == {2, 6, 2}
      assert Shape.reshape({6}, {:auto}) == {6}
      assert Shape.reshape({}, {1, :auto}) == {1, 1}
    end

    test "auto with a zero-sized known part" do
      assert_raise ArgumentError, ~r/cannot reshape/, fn -> Shape.reshape({2}, {0, :auto}) end
    end
  end

  describe "padding, windows and convolutions" do
    test "to_padding_config/3 with :same for even and odd kernels" do
      assert Shape.to_padding_config({9, 9, 9}, {1, 2, 5}, :same) == [{0, 0}, {0, 1}, {2, 2}]
    end

    test "pool/5 with explicit padding and strides" do
      # (7 + 1 + 2 - 3) / 2 + 1 = 4
      assert Shape.pool({7}, {3}, [2], [{1, 2}], [1]) == {{4}, [{1, 2}]}
      # window 2 dilated by 3 spans 4 elements: (8 - 4) / 1 + 1 = 5
      assert Shape.pool({8}, {2}, [1], :valid, [3]) == {{5}, [{0, 0}]}
    end

    test "conv/13 with dilations, strides and padding" do
      names = [nil, nil, nil, nil]

      # Input dilation 2 makes 5 -> 9 and kernel dilation 2 makes 3 -> 5, so the
      # first axis gives 9 - 5 + 1 = 5; the second gives floor((4 + 1 - 2) / 2) + 1 = 2.
      assert {{1, 2, 5, 2}, ^names, [{0, 0}, {1, 0}]} =
               Shape.conv(
                 {1, 3, 5, 4},
                 names,
                 {2, 3, 3, 2},
                 names,
                 [1, 2],
                 [{0, 0}, {1, 0}],
                 1,
                 1,
                 [2, 1],
                 [2, 1],
                 [0, 1, 2, 3],
                 [0, 1, 2, 3],
                 [0, 1, 2, 3]
               )
    end

    test "conv/13 with batch groups divides the batch" do
      assert {{2, 6, 3}, _, _} =
               Shape.conv(
                 {6, 2, 3},
                 [nil, nil, nil],
                 {6, 2, 1},
                 [nil, nil, nil],
                 [1],
                 :valid,
                 1,
                 3,
                 [1],
                 [1],
                 [0, 1, 2],
                 [0, 1, 2],
                 [0, 1, 2]
               )
    end

    test "conv/13 errors" do
      names = [nil, nil, nil]
      perm = [0, 1, 2]

      conv = fn input, kernel, strides, feature_groups, batch_groups, input_dilation ->
        Shape.conv(
          input,
          names,
          kernel,
          names,
          strides,
          :valid,
          feature_groups,
          batch_groups,
          input_dilation,
          [1],
          perm,
          perm,
          perm
        )
      end

      assert_raise ArgumentError, ~r/conv would result in empty tensor/, fn ->
        conv.({1, 1, 1}, {1, 1, 2}, [1], 1, 1, [1])
      end

      assert_raise ArgumentError, ~r/rank of strides much match rank of spatial dimensions/, fn ->
        conv.({1, 1, 5}, {1, 1, 2}, [1, 1], 1, 1, [1])
      end

      assert_raise ArgumentError, ~r/either batch groups or feature groups must be 1/, fn ->
        conv.({2, 2, 5}, {2, 1, 2}, [1], 2, 2, [1])
      end

      assert_raise ArgumentError,
                   "batch groups must evenly divide input batch size got rem(2, 3) != 0",
                   fn ->
                     conv.({3, 1, 5}, {2, 1, 2}, [1], 1, 2, [1])
                   end

      assert_raise ArgumentError, ~r/must be evenly divisible by feature groups/, fn ->
        conv.({1, 4, 5}, {3, 2, 2}, [1], 2, 1, [1])
      end

      assert_raise ArgumentError,
                   "input dilation of each dimension must be a positive integer, got [0]",
                   fn -> conv.({1, 1, 5}, {1, 1, 2}, [1], 1, 1, [0]) end

      assert_raise ArgumentError,
                   ~r/must specify dilation for each spatial dimension of the input/,
                   fn ->
                     conv.({1, 1, 5}, {1, 1, 2}, [1], 1, 1, [1, 1])
                   end
    end
  end

  describe "slicing and indexing" do
    test "slice/4 keeps tensor start indices and clamps integer ones" do
      tensor_index = make_ref()
      assert Shape.slice({5, 5}, [tensor_index, 4], [2, 3], [1, 1]) == {[tensor_index, 2], {2, 3}}
    end

    test "slice/4 validates strides" do
      assert_raise ArgumentError,
                   "stride at axis 1 must be greater than or equal to 1, got: 0",
                   fn ->
                     Shape.slice({5, 5}, [0, 0], [1, 1], [1, 0])
                   end
    end

    test "put_slice/5 merges names axis by axis" do
      assert_raise ArgumentError, "cannot merge name :a on axis 1 with name :b on axis 1", fn ->
        Shape.put_slice({3, 3}, [nil, :a], {1, 1}, [nil, :b], [0, 0])
      end
    end

    test "indexed/4 checks the sizes of the non-indexed axes" do
      message =
        "axis (2) of updates ({2, 3, 7}) must be less than or equal to the axis (2) of {4, 5, 6})"

      assert_raise ArgumentError, message, fn ->
        Shape.indexed({4, 5, 6}, {2, 1}, {2, 3, 7}, [0])
      end
    end

    test "indexed_scalar/3 accepts non-vector indices" do
      assert Shape.indexed_scalar({4, 5}, {3, 2}, {3}) == :ok
    end
  end

  describe "joining" do
    test "stack/5 with a vectorized offset and a negative axis" do
      assert Shape.stack([{7, 2}, {7, 2}], [[nil, nil], [nil, nil]], 1, :s, 1) ==
               {{7, 2, 2}, [nil, nil, :s], 2}

      assert Shape.stack([{2}, {2}], [[:x], [:x]], -1, :s, 0) == {{2, 2}, [:x, :s], 1}
    end

    test "stack/5 and concatenate/4 report name conflicts" do
      assert_raise ArgumentError, ~r/cannot merge name :y on axis 0 with name :x on axis 0/, fn ->
        Shape.stack([{2}, {2}], [[:x], [:y]], 0, nil, 0)
      end

      assert_raise ArgumentError, ~r/cannot merge name :y on axis 0 with name :x on axis 0/, fn ->
        Shape.concatenate([{2}, {2}], [[:x], [:y]], 0, 0)
      end
    end

    test "concatenate/4 rejects different ranks" do
      assert_raise ArgumentError,
                   "expected all shapes to match {*, 3}, got unmatching shape: {2}",
                   fn ->
                     Shape.concatenate([{2, 3}, {2}], [[nil, nil], [nil]], 0, 0)
                   end
    end

    test "concatenate/4 with a name axis" do
      assert Shape.concatenate([{2, 3}, {2, 5}], [[:x, :y], [:x, :y]], :y, 0) ==
               {{2, 8}, [:x, :y], 1}
    end

    test "tile/2 accepts anything with a shape field" do
      assert Shape.tile(%{shape: {2}}, [3]) == {{1, 2}, {3, 2}, {6}}
      assert Shape.tile({2, 3}, [2]) == {{1, 2, 1, 3}, {1, 2, 2, 3}, {2, 6}}
    end

    test "new_axis/6 with a vectorized offset" do
      assert Shape.new_axis({7, 2}, [:v, nil], 0, :n, 1, 1) == {{7, 1, 2}, [:v, :n, nil], 1}

      assert_raise ArgumentError, ~r/must be a number between -2 and 1, got: -4/, fn ->
        Shape.new_axis({7, 2}, [:v, nil], -4, nil, 1, 1)
      end
    end
  end

  describe "dot and zip_reduce" do
    test "dot/8 with several batch axes keeps the left batch names" do
      assert Shape.dot(
               {2, 3, 4, 5},
               [3],
               [:a, :b, nil, nil],
               [0, 1],
               {2, 3, 5, 6},
               [2],
               [nil, nil, nil, :out],
               [0, 1]
             ) == {{2, 3, 4, 6}, [:a, :b, nil, :out]}
    end

    test "dot/8 batch size mismatch" do
      assert_raise ArgumentError, ~r/dot batch dimension sizes must match/, fn ->
        Shape.dot({2, 3}, [1], [nil, nil], [0], {4, 3}, [1], [nil, nil], [0])
      end

      assert_raise ArgumentError, "left tensor must be batched if right tensor is batched", fn ->
        Shape.dot({2, 3}, [1], [nil, nil], [], {2, 3}, [1], [nil, nil], [0])
      end
    end

    test "outer product" do
      assert Shape.zip_reduce({2}, [], [:i], {3}, [], [:j]) == {{2, 3}, [:i, :j]}
    end
  end

  describe "linear algebra" do
    test "triangular_solve/3 with batches" do
      assert Shape.triangular_solve({2, 3, 3}, {2, 3}, true) == :ok
      assert Shape.triangular_solve({2, 3, 3}, {2, 4, 3}, false) == :ok

      assert_raise ArgumentError, ~r/incompatible dimensions/, fn ->
        Shape.triangular_solve({2, 3, 3}, {5, 3}, true)
      end

      assert_raise ArgumentError, ~r/incompatible dimensions/, fn ->
        Shape.triangular_solve({3}, {3}, true)
      end

      assert_raise ArgumentError, ~r/expected a square matrix/, fn ->
        Shape.triangular_solve({2, 3, 4}, {2, 3, 4}, true)
      end
    end

    test "solve/2 with a batch of matrices and a plain vector blames a" do
      assert_raise ArgumentError, ~r/`a` tensor has incompatible dimensions/, fn ->
        Shape.solve({2, 3, 3}, {3})
      end

      assert_raise ArgumentError,
                   "`b` tensor has incompatible dimensions, expected {3, 3} or {3}, got: {3, 3, 1}",
                   fn ->
                     Shape.solve({3, 3}, {3, 3, 1})
                   end
    end

    test "qr/2 and svd/2 on wide matrices" do
      assert Shape.qr({2, 5}, mode: :reduced) == {{2, 2}, {2, 5}}
      assert Shape.svd({2, 5}) == {{2, 2}, {2}, {2, 5}}
      assert Shape.svd({2, 5}, full_matrices?: true) == {{2, 2}, {2}, {5, 5}}
    end

    test "rank errors" do
      for fun <- [&Shape.eigh/1, &Shape.lu/1, &Shape.svd/1, &Shape.qr(&1, [])] do
        assert_raise ArgumentError,
                     "tensor must have at least rank 2, got rank 0 with shape {}",
                     fn ->
                       fun.({})
                     end
      end
    end
  end

  describe "to_string/2" do
    test "prints every dimension" do
      assert Shape.to_string({1, 2}, [nil, nil]) == "[1][2]"
    end
  end

  test "top_k/3 with a non-integer k" do
    assert_raise ArgumentError,
                 "top_k k must be an integer greater than or equal to 1, got k=1.5",
                 fn ->
                   Shape.top_k({3}, [nil], 1.5)
                 end
  end
end
