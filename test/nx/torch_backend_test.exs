defmodule Nx.Torch.BackendTest do
  use ExUnit.Case, async: true

  alias Nx.Torch.NIF

  doctest Nx.Torch.Backend
  doctest Nx.Torch

  describe "binaries" do
    test "every type round-trips its bytes through LibTorch" do
      for {_, bits} = type <- Nx.Type.__all__() do
        # 12 elements of pseudo-random bits (NaN payloads excepted for floats: compared as bits)
        bin = for i <- 1..12, into: <<>>, do: <<i * 2_654_435_761 + 17::size(bits)>>
        t = Nx.from_binary(bin, type)
        assert Nx.shape(t) == {12}
        assert Nx.type(t) == type
        assert Nx.to_binary(t) == bin, "#{inspect(type)} did not round-trip"
      end
    end

    test "unsigned extremes survive, including u64 above 2^63" do
      values = [0, 1, 9_223_372_036_854_775_808, 18_446_744_073_709_551_615]
      assert Nx.to_list(Nx.tensor(values, type: :u64)) == values
      assert Nx.to_list(Nx.tensor([0, 65_535], type: :u16)) == [0, 65_535]
      assert Nx.to_list(Nx.tensor([0, 4_294_967_295], type: :u32)) == [0, 4_294_967_295]
    end

    test "sub-byte types pack like Elixir bitstrings" do
      t = Nx.tensor([-1, 2, -8], type: :s4)
      assert Nx.to_binary(t) == <<-1::4, 2::4, -8::4>>
      assert Nx.to_list(t) == [-1, 2, -8]
      assert Nx.to_list(Nx.tensor([3, 0, 1, 2, 3], type: :u2)) == [3, 0, 1, 2, 3]
    end

    test "limit returns a prefix, also for packed and transposed tensors" do
      t = Nx.iota({3, 4}) |> Nx.transpose()
      assert Nx.to_flat_list(t, limit: 5) == [0, 4, 8, 1, 5]
      assert Nx.to_binary(Nx.iota({5}, type: :u4), limit: 3) == <<0::4, 1::4, 2::4>>
    end

    test "zero-sized dimensions are rejected, as in Nx" do
      assert_raise ArgumentError, ~r/must be a positive integer/, fn -> Nx.iota({0, 3}) end
      assert_raise ArgumentError, fn -> Nx.tensor([]) end
    end
  end

  describe "creation" do
    test "tensor/2 infers types" do
      assert Nx.type(Nx.tensor([1, 2])) == {:s, 32}
      assert Nx.type(Nx.tensor([1, 2.0])) == {:f, 32}
      assert Nx.type(Nx.tensor([true, false])) == {:u, 8}
      assert Nx.to_list(Nx.tensor([true, false])) == [1, 0]
      assert Nx.type(Nx.tensor(Complex.new(1, 2))) == {:c, 64}
      assert Nx.to_number(Nx.tensor(Complex.new(1, -2))) == Complex.new(1.0, -2.0)
    end

    test "float precision of each type" do
      assert Nx.to_number(Nx.tensor(0.1, type: :f64)) == 0.1
      [f32] = Nx.to_flat_list(Nx.tensor([0.1]))
      assert f32 == 0.10000000149011612
      assert Nx.to_list(Nx.tensor([1.0, 0.5], type: :bf16)) == [1.0, 0.5]
      assert Nx.to_list(Nx.tensor([65504.0], type: :f16)) == [65504.0]
    end

    test "iota and eye" do
      assert Nx.to_list(Nx.iota({2, 2}, axis: 0)) == [[0, 0], [1, 1]]
      assert Nx.to_list(Nx.iota({2, 2}, axis: -1, type: :f64)) == [[0.0, 1.0], [0.0, 1.0]]
      assert Nx.to_list(Nx.iota({3}, type: :u64)) == [0, 1, 2]
      assert Nx.to_list(Nx.eye({2, 3})) == [[1, 0, 0], [0, 1, 0]]

      assert Nx.to_list(Nx.eye(2, type: :c64)) == [
               [Complex.new(1.0, 0.0), Complex.new(0.0, 0.0)],
               [Complex.new(0.0, 0.0), Complex.new(1.0, 0.0)]
             ]
    end

    test "iota's shape may come from a tensor" do
      assert Nx.shape(Nx.iota(Nx.eye(3))) == {3, 3}
    end

    test "invalid arguments raise ArgumentError" do
      assert_raise ArgumentError, fn -> Nx.iota({2, -1}) end
      assert_raise ArgumentError, fn -> Nx.iota({2}, axis: 1) end
      assert_raise ArgumentError, fn -> Nx.tensor([1], type: :f17) end
      assert_raise ArgumentError, fn -> Nx.from_binary(<<1, 2, 3>>, :f32) end
      assert_raise ArgumentError, fn -> Nx.tensor([1, [2]]) end
    end
  end

  describe "conversion" do
    test "as_type follows Nx: truncation, NaN to 0, infinities saturate, integers wrap" do
      t = Nx.tensor([-2.9, 2.9, :nan, :infinity, :neg_infinity])
      assert Nx.to_list(Nx.as_type(t, :s16)) == [-2, 2, 0, 32_767, -32_768]

      assert Nx.to_list(Nx.as_type(t, :u64)) == [
               18_446_744_073_709_551_614,
               2,
               0,
               18_446_744_073_709_551_615,
               0
             ]

      assert Nx.to_list(Nx.as_type(Nx.tensor([300, -1]), :u8)) == [44, 255]

      assert Nx.to_list(Nx.as_type(Nx.tensor([18_446_744_073_709_551_615], type: :u64), :f64)) ==
               [18_446_744_073_709_551_615.0]

      assert Nx.to_list(Nx.as_type(Nx.tensor([4_294_967_295], type: :u32), :s64)) ==
               [4_294_967_295]
    end

    test "as_type to and from complex" do
      assert Nx.to_list(Nx.as_type(Nx.tensor([Complex.new(1.5, 2.0)]), :f32)) == [1.5]
      assert Nx.to_list(Nx.as_type(Nx.tensor([2]), :c128)) == [Complex.new(2.0, 0.0)]
    end

    test "as_type to float8 rounds to the nearest representable value" do
      assert Nx.to_list(Nx.as_type(Nx.tensor([1.0, 3.0, 0.5]), :f8)) == [1.0, 3.0, 0.5]
      assert Nx.to_list(Nx.as_type(Nx.tensor([1.0, 448.0]), :f8_e4m3fn)) == [1.0, 448.0]
    end

    test "bitcast reinterprets bits" do
      assert Nx.to_list(Nx.bitcast(Nx.tensor([1.0]), :u32)) == [1_065_353_216]

      assert Nx.to_list(Nx.bitcast(Nx.tensor([-1], type: :s64), :u64)) == [
               18_446_744_073_709_551_615
             ]

      assert Nx.to_list(Nx.bitcast(Nx.tensor([-1, 7], type: :s4), :u4)) == [15, 7]
      # bitcast of a non-contiguous tensor
      t = Nx.iota({2, 2}, type: :s32) |> Nx.transpose() |> Nx.bitcast(:u32)
      assert Nx.to_list(t) == [[0, 2], [1, 3]]
    end
  end

  describe "shape" do
    test "reshape, squeeze, new_axis, transpose, broadcast, flatten compose" do
      t = Nx.iota({2, 3}, names: [:x, :y])
      assert Nx.to_list(Nx.transpose(t)) == [[0, 3], [1, 4], [2, 5]]
      assert Nx.names(Nx.transpose(t)) == [:y, :x]
      assert Nx.shape(Nx.new_axis(t, 1, :z)) == {2, 1, 3}
      assert Nx.names(Nx.new_axis(t, 1, :z)) == [:x, :z, :y]
      assert Nx.to_list(Nx.squeeze(Nx.new_axis(t, 0))) == Nx.to_list(t)
      b = Nx.broadcast(Nx.tensor([[1], [2]]), {2, 2, 3})
      assert Nx.to_list(b) == [[[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [2, 2, 2]]]
      assert Nx.to_list(Nx.flatten(Nx.transpose(t))) == [0, 3, 1, 4, 2, 5]
      assert_raise ArgumentError, fn -> Nx.reshape(t, {5}) end
      assert_raise ArgumentError, fn -> Nx.broadcast(t, {3, 3}) end
    end
  end

  describe "memory" do
    test "deallocate frees at once and use after free raises" do
      t = Nx.iota({1000}, type: :f64)
      assert Nx.backend_deallocate(t) == :ok
      assert Nx.backend_deallocate(t) == :already_deallocated

      assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.to_binary(t) end
      assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.as_type(t, :f32) end
    end

    test "backend_copy keeps the original, backend_transfer keeps the data" do
      t = Nx.tensor([1, 2, 3])
      copy = Nx.backend_copy(t, Nx.Torch.Backend)
      assert Nx.to_list(copy) == [1, 2, 3]
      assert Nx.to_list(t) == [1, 2, 3]
      assert Nx.to_list(Nx.backend_transfer(t, {Nx.Torch.Backend, device: :cpu})) == [1, 2, 3]
    end

    test "large CPU blocks are reused by the caching allocator" do
      %{allocator_hits: before} = Nx.Torch.info()
      for _ <- 1..5, do: Nx.iota({1_000_000}, type: :f32) |> Nx.backend_deallocate()
      assert Nx.Torch.info().allocator_hits >= before + 4
    end

    test "asking for CUDA without it raises a clear error" do
      if Nx.Torch.info().cuda_device_count == 0 do
        assert_raise ArgumentError, ~r/CUDA is not available/, fn ->
          Nx.tensor([1, 2], backend: {Nx.Torch.Backend, device: :cuda})
        end
      end
    end
  end

  describe "NIF safety" do
    test "panics in a NIF body, decoder or encoder become exceptions" do
      assert_raise ErlangError, fn -> NIF.dbg_panic_body() end
      assert_raise ErlangError, fn -> NIF.dbg_panic_decode(1) end
      assert_raise ErlangError, fn -> NIF.dbg_panic_encode() end
      assert Nx.to_list(Nx.tensor([1])) == [1]
    end

    test "invalid sizes, types and shapes at the NIF raise ArgumentError" do
      assert_raise ArgumentError, ~r/does not match/, fn ->
        NIF.t_from_binary(<<1, 2, 3>>, 4, {1}, -1)
      end

      assert_raise ArgumentError, ~r/unknown type/, fn -> NIF.t_from_binary(<<>>, 99, {0}, -1) end
      assert_raise ArgumentError, ~r/non-negative/, fn -> NIF.t_iota({-5}, -1, 4, -1) end
      assert_raise ArgumentError, fn -> NIF.t_iota({4_000_000_000, 4_000_000_000}, -1, 5, -1) end
      assert_raise ArgumentError, fn -> NIF.t_eye({1_099_511_627_776, 1_073_741_824}, 4, -1) end
      assert_raise ArgumentError, fn -> NIF.t_iota(:not_a_shape, -1, 4, -1) end
      assert_raise ArgumentError, fn -> NIF.t_iota({3}, 5, 4, -1) end
      assert_raise ArgumentError, fn -> NIF.t_iota({3}, -1, 4, -7) end

      ref = Nx.Torch.Backend.ref(Nx.iota({2, 3}))
      assert_raise ArgumentError, fn -> NIF.t_reshape(ref, {7}) end
      assert_raise ArgumentError, fn -> NIF.t_transpose(ref, [0, 0]) end
      assert_raise ArgumentError, fn -> NIF.t_transpose(ref, [0, 5]) end
      assert_raise ArgumentError, fn -> NIF.t_broadcast(ref, {3, 3}, [0, 1]) end
      assert_raise ArgumentError, fn -> NIF.t_bitcast(ref, 17) end
    end

    test "results larger than the available memory raise instead of waking the OOM killer" do
      huge = Nx.broadcast(Nx.tensor(1.0), {1_000_000_000_000})

      assert_raise RuntimeError, ~r/refusing to allocate/, fn -> Nx.multiply(huge, 2.0) end
      assert Nx.to_number(Nx.sum(Nx.tensor([1.0, 2.0]))) == 3.0
    end

    test "tensors shared by many processes" do
      t = Nx.iota({100}, type: :f32)

      results =
        1..50
        |> Enum.map(fn _ -> Task.async(fn -> Nx.to_list(Nx.as_type(t, :s32)) end) end)
        |> Enum.map(&Task.await/1)

      assert Enum.uniq(results) == [Enum.to_list(0..99)]
    end
  end
end
