defmodule Nx.ElementwiseTest do
  use ExUnit.Case, async: true

  # Golden values from test/fixtures/gen_elementwise.py (NumPy/SciPy and exact integer
  # arithmetic in Python), regenerated with `python3 test/fixtures/gen_elementwise.py`.
  @fixtures "test/fixtures/elementwise.exs" |> Code.eval_file() |> elem(0)

  @int_types [s: 2, s: 4, s: 8, s: 16, s: 32, s: 64, u: 2, u: 4, u: 8, u: 16, u: 32, u: 64]
  @float_types [f: 8, f8_e4m3fn: 8, f: 16, bf: 16, f: 32, f: 64]

  defp close?(:nan, expected, _type), do: expected == :nan
  defp close?(value, value, _type), do: true
  defp close?(value, expected, _type) when is_atom(value) or is_atom(expected), do: false

  defp close?(value, expected, type) do
    {rtol, atol} = tolerance(type)
    abs(value - expected) <= atol + rtol * abs(expected)
  end

  defp tolerance({:f, 64}), do: {1.0e-12, 1.0e-300}
  defp tolerance({:f, 32}), do: {2.0e-6, 1.0e-30}
  defp tolerance({:f, 16}), do: {2.0e-3, 1.0e-7}
  defp tolerance({:bf, 16}), do: {8.0e-3, 1.0e-30}

  describe "golden values" do
    test "match the independent implementation" do
      failures =
        for %{op: op, args: args, out: out, expected: expected} <- @fixtures,
            result =
              apply(
                Nx,
                op,
                Enum.map(args, fn {type, values} -> Nx.tensor(values, type: type) end)
              ),
            got = Nx.to_flat_list(result),
            bad =
              Enum.zip([got, expected])
              |> Enum.with_index()
              |> Enum.reject(fn {{g, e}, _} ->
                if Nx.Type.integer?(out), do: g == e, else: close?(g, e, out)
              end),
            bad != [] or Nx.type(result) != out do
          {op, Enum.map(args, &elem(&1, 0)), Nx.type(result), Enum.take(bad, 3)}
        end

      assert failures == []
      assert length(@fixtures) > 400
    end
  end

  describe "type promotion" do
    test "two tensors merge with Nx.Type.merge/2" do
      types = @int_types ++ [f: 16, bf: 16, f: 32, f: 64, c: 64, c: 128]

      for a <- types, b <- types do
        result = Nx.add(Nx.tensor([1], type: a), Nx.tensor([0], type: b))
        assert Nx.type(result) == Nx.Type.merge(a, b), "#{inspect(a)} + #{inspect(b)}"
        assert Nx.to_flat_list(Nx.real(result)) == [1.0]
      end
    end

    test "numbers merge with Nx.Type.merge_number/2" do
      u8 = Nx.tensor([1, 2], type: :u8)
      assert Nx.type(Nx.add(u8, 1)) == {:u, 8}
      assert Nx.type(Nx.add(1, u8)) == {:u, 8}
      assert Nx.type(Nx.add(u8, 256)) == {:u, 16}
      assert Nx.to_flat_list(Nx.add(u8, -1)) == [0, 1]
      assert Nx.type(Nx.add(u8, -1)) == {:s, 16}
      assert Nx.type(Nx.add(Nx.tensor([1], type: :s32), 1.5)) == {:f, 32}
      assert Nx.type(Nx.multiply(Nx.tensor([1], type: :f16), 1.5)) == {:f, 16}
      assert Nx.type(Nx.multiply(Nx.tensor([1], type: :bf16), 70_000)) == {:bf, 16}
      assert Nx.type(Nx.add(Nx.tensor([1], type: :s32), 2 ** 40)) == {:s, 64}
      assert Nx.to_flat_list(Nx.add(Nx.tensor([1], type: :s32), 2 ** 40)) == [2 ** 40 + 1]
      assert Nx.type(Nx.add(Nx.tensor([1.0], type: :f64), Complex.new(0, 1))) == {:c, 128}
      assert Nx.type(Nx.add(Nx.tensor([1]), :nan)) == {:f, 32}
      assert Nx.type(Nx.add(1, 2)) == {:s, 32}
      assert Nx.type(Nx.add(1, 2.0)) == {:f, 32}
      assert Nx.to_number(Nx.add(1, 2.5)) == 3.5
    end

    test "s8 with u8 gives s16 and keeps the values" do
      result = Nx.subtract(Nx.tensor([-128, 127], type: :s8), Nx.tensor([255, 0], type: :u8))
      assert Nx.type(result) == {:s, 16}
      assert Nx.to_flat_list(result) == [-383, 127]
    end

    test "divide and atan2 give floats" do
      for type <- @int_types do
        assert Nx.type(Nx.divide(Nx.tensor([1], type: type), Nx.tensor([1], type: type))) ==
                 {:f, 32}
      end

      assert Nx.type(Nx.divide(Nx.tensor([1], type: :f64), 2)) == {:f, 64}
      assert Nx.type(Nx.atan2(Nx.tensor([1], type: :bf16), 2)) == {:bf, 16}

      assert Nx.to_flat_list(Nx.divide(Nx.tensor([1, -1, 0]), 0)) == [
               :infinity,
               :neg_infinity,
               :nan
             ]
    end

    test "comparisons and logical operations give u8" do
      for op <-
            [:equal, :not_equal, :greater, :less, :greater_equal, :less_equal] ++
              [:logical_and, :logical_or, :logical_xor],
          type <- [s: 8, u: 64, f: 16, f: 64] do
        assert Nx.type(apply(Nx, op, [Nx.tensor([1], type: type), 1])) == {:u, 8}
      end

      assert Nx.type(Nx.logical_not(Nx.tensor([1.0]))) == {:u, 8}
      assert Nx.type(Nx.is_nan(Nx.tensor([1]))) == {:u, 8}
    end

    test "unary results" do
      assert Nx.type(Nx.exp(Nx.tensor([1], type: :s8))) == {:f, 32}
      assert Nx.type(Nx.exp(Nx.tensor([1], type: :bf16))) == {:bf, 16}
      assert Nx.type(Nx.sqrt(Nx.tensor([1], type: :c128))) == {:c, 128}
      assert Nx.type(Nx.abs(Nx.tensor([Complex.new(3, 4)], type: :c128))) == {:f, 64}
      assert Nx.type(Nx.conjugate(Nx.tensor([1], type: :s8))) == {:c, 64}
      assert Nx.type(Nx.conjugate(Nx.tensor([1], type: :f64))) == {:c, 128}
      assert Nx.type(Nx.real(Nx.tensor([1], type: :s8))) == {:f, 32}
      assert Nx.type(Nx.imag(Nx.tensor([1], type: :u8))) == {:f, 32}
      assert Nx.type(Nx.imag(Nx.tensor([1], type: :f16))) == {:f, 16}

      u8 = Nx.tensor([1, 2], type: :u8)
      assert Nx.abs(u8) == u8
      assert Nx.floor(u8) == u8
      assert Nx.round(Nx.tensor([3])) |> Nx.to_flat_list() == [3]
    end
  end

  describe "broadcasting" do
    test "aligns shapes on the last axis and merges names" do
      left = Nx.iota({2, 1, 3}, names: [:batch, nil, :cols])
      right = Nx.iota({4, 1}, names: [:rows, nil])
      result = Nx.add(left, right)
      assert Nx.shape(result) == {2, 4, 3}
      assert Nx.names(result) == [:batch, :rows, :cols]

      assert Nx.to_flat_list(result) ==
               for(b <- 0..1, r <- 0..3, c <- 0..2, do: b * 3 + c + r)
    end

    test "scalars and numbers broadcast to any shape" do
      t = Nx.iota({2, 3}, names: [:x, :y])
      assert Nx.names(Nx.multiply(t, Nx.tensor(2))) == [:x, :y]
      assert Nx.names(Nx.multiply(2, t)) == [:x, :y]
      assert Nx.to_flat_list(Nx.greater(t, 2)) == [0, 0, 0, 1, 1, 1]
      assert Nx.shape(Nx.select(1, t, 0)) == {2, 3}
    end

    test "errors" do
      assert_raise ArgumentError, "cannot broadcast tensor of dimensions {2, 3} to {3, 2}", fn ->
        Nx.add(Nx.iota({2, 3}), Nx.iota({3, 2}))
      end

      assert_raise ArgumentError, ~r/cannot merge name :x on axis 0 with name :y/, fn ->
        Nx.equal(Nx.iota({2}, names: [:x]), Nx.iota({2}, names: [:y]))
      end
    end
  end

  describe "integer division" do
    test "by zero gives -1 (all ones) and the remainder the dividend, for every type" do
      for {kind, bits} = type <- @int_types do
        a = Nx.tensor([1, 0], type: type)
        zero = Nx.tensor([0, 0], type: type)
        expected = if kind == :u, do: 2 ** bits - 1, else: -1
        assert Nx.to_flat_list(Nx.quotient(a, zero)) == [expected, expected]
        assert Nx.to_flat_list(Nx.remainder(a, zero)) == [1, 0]
      end
    end

    test "the smallest signed value divided by -1 wraps" do
      for bits <- [8, 16, 32, 64] do
        min = -(2 ** (bits - 1))
        a = Nx.tensor([min, min], type: {:s, bits})
        b = Nx.tensor([-1, 1], type: {:s, bits})
        assert Nx.to_flat_list(Nx.quotient(a, b)) == [min, min]
        assert Nx.to_flat_list(Nx.remainder(a, b)) == [0, 0]
      end
    end

    test "truncates toward zero, remainder takes the dividend's sign" do
      a = Nx.tensor([7, -7, 7, -7, 6])
      b = Nx.tensor([2, 2, -2, -2, 3])
      assert Nx.to_flat_list(Nx.quotient(a, b)) == [3, -3, -3, 3, 2]
      assert Nx.to_flat_list(Nx.remainder(a, b)) == [1, -1, 1, -1, 0]

      assert Nx.to_flat_list(Nx.remainder(Nx.tensor([-7.5, 7.5]), Nx.tensor([2.0, -2.0]))) ==
               [-1.5, 1.5]
    end
  end

  describe "u64 above 2^63" do
    @max 18_446_744_073_709_551_615
    @half 9_223_372_036_854_775_808

    test "arithmetic wraps modulo 2^64" do
      t = Nx.tensor([@max, @half], type: :u64)
      assert Nx.to_flat_list(Nx.add(t, 1)) == [0, @half + 1]
      assert Nx.to_flat_list(Nx.multiply(t, 2)) == [@max - 1, 0]
      assert Nx.to_flat_list(Nx.subtract(Nx.tensor([0], type: :u64), 1)) == [@max]
      assert Nx.to_flat_list(Nx.negate(Nx.tensor([1], type: :u64))) == [@max]
    end

    test "division, remainder, max and min are unsigned" do
      t = Nx.tensor([@max, @half, @max, 10], type: :u64)
      d = Nx.tensor([7, 3, @half, @half + 1], type: :u64)
      assert Nx.to_flat_list(Nx.quotient(t, d)) == [div(@max, 7), div(@half, 3), 1, 0]
      assert Nx.to_flat_list(Nx.remainder(t, d)) == [rem(@max, 7), rem(@half, 3), @half - 1, 10]
      assert Nx.to_flat_list(Nx.max(t, d)) == [@max, @half, @max, @half + 1]
      assert Nx.to_flat_list(Nx.min(t, d)) == [7, 3, @half, 10]
      assert Nx.to_flat_list(Nx.right_shift(t, 62)) == [3, 2, 3, 0]

      assert Nx.to_flat_list(Nx.divide(Nx.tensor([@max], type: :u64), 2) |> Nx.as_type(:f64)) == [
               @half * 1.0
             ]
    end

    test "comparisons are exact, also against signed and float values" do
      t = Nx.tensor([@max, @half, 5], type: :u64)
      assert Nx.to_flat_list(Nx.greater(t, Nx.tensor([1, @half - 1, 6], type: :u64))) == [1, 1, 0]
      assert Nx.to_flat_list(Nx.greater(t, Nx.tensor([-1, 0, 5], type: :s64))) == [1, 1, 0]
      assert Nx.to_flat_list(Nx.less_equal(Nx.tensor([-1, 0, 5], type: :s64), t)) == [1, 1, 1]
      assert Nx.to_flat_list(Nx.equal(t, Nx.tensor([@max, @half, 5], type: :u64))) == [1, 1, 1]
      assert Nx.to_flat_list(Nx.equal(t, Nx.tensor(-1, type: :s64))) == [0, 0, 0]
      assert Nx.to_flat_list(Nx.greater(t, 1.0e19)) == [1, 0, 0]
      bounds = [Nx.tensor(6, type: :u64), Nx.tensor(@half + 1, type: :u64)]
      assert Nx.to_flat_list(apply(Nx, :clip, [t | bounds])) == [@half + 1, @half, 6]
    end

    test "bit counts use all 64 bits" do
      t = Nx.tensor([@max, @half, 1], type: :u64)
      assert Nx.to_flat_list(Nx.population_count(t)) == [64, 1, 1]
      assert Nx.to_flat_list(Nx.count_leading_zeros(t)) == [0, 0, 63]
    end
  end

  describe "bitwise operations" do
    test "on every integer type" do
      for {kind, bits} = type <- @int_types do
        max = if kind == :u, do: 2 ** bits - 1, else: 2 ** (bits - 1) - 1
        min = if kind == :u, do: 0, else: -(2 ** (bits - 1))
        t = Nx.tensor([max, min, 1], type: type)
        assert Nx.to_flat_list(Nx.bitwise_and(t, Nx.tensor(1, type: type))) == [1, 0, 1]
        assert Nx.to_flat_list(Nx.bitwise_xor(t, t)) == [0, 0, 0]
        assert Nx.to_flat_list(Nx.bitwise_not(Nx.bitwise_not(t))) == [max, min, 1]
        top_bit = if kind == :u, do: 2 ** (bits - 1), else: min
        shift = Nx.tensor(bits - 1, type: type)
        assert Nx.to_flat_list(Nx.left_shift(Nx.tensor([1], type: type), shift)) == [top_bit]

        assert Nx.to_flat_list(Nx.right_shift(t, Nx.tensor(bits - 1, type: type))) ==
                 [if(kind == :u, do: 1, else: 0), if(kind == :u, do: 0, else: -1), 0]

        assert Nx.to_flat_list(Nx.population_count(Nx.tensor([max], type: type))) ==
                 [if(kind == :u, do: bits, else: bits - 1)]
      end
    end

    test "shifting by the width or more" do
      assert Nx.to_flat_list(
               Nx.left_shift(Nx.tensor([1, 1], type: :u16), Nx.tensor([16, 40], type: :u16))
             ) == [0, 0]

      assert Nx.to_flat_list(Nx.right_shift(Nx.tensor([-8, 8], type: :s32), 40)) == [-1, 0]
      assert Nx.to_flat_list(Nx.right_shift(Nx.tensor([65_535], type: :u16), 15)) == [1]
      assert Nx.to_flat_list(Nx.right_shift(Nx.tensor([4_294_967_295], type: :u32), 31)) == [1]
    end

    test "reject floating-point and complex inputs" do
      message =
        "bitwise operators expect integer tensors as inputs and outputs an integer tensor, got: {:f, 32}"

      for op <- [:bitwise_and, :bitwise_or, :bitwise_xor, :left_shift, :right_shift] do
        assert_raise ArgumentError, message, fn -> apply(Nx, op, [Nx.tensor([1.0]), 1]) end
        assert_raise ArgumentError, message, fn -> apply(Nx, op, [Nx.tensor([1]), 1.0]) end
      end

      for op <- [:bitwise_not, :population_count, :count_leading_zeros] do
        assert_raise ArgumentError, message, fn -> apply(Nx, op, [Nx.tensor([1.0])]) end
      end

      assert_raise ArgumentError, ~r/got: \{:c, 64\}/, fn ->
        Nx.bitwise_and(Nx.tensor([Complex.new(1, 0)]), 1)
      end
    end
  end

  describe "floating-point types" do
    test "f16, bf16 and f8 compute in f32 and come back in their own type" do
      for type <- @float_types do
        t = Nx.tensor([0.5, 1.5, -2.0], type: type)
        assert Nx.type(Nx.add(t, t)) == type
        assert Nx.to_flat_list(Nx.add(t, t)) == [1.0, 3.0, -4.0]
        assert Nx.to_flat_list(Nx.multiply(t, 2)) == [1.0, 3.0, -4.0]
        assert Nx.to_flat_list(Nx.negate(t)) == [-0.5, -1.5, 2.0]
        assert Nx.to_flat_list(Nx.round(t)) == [1.0, 2.0, -2.0]
        assert Nx.to_flat_list(Nx.max(t, 1)) == [1.0, 1.5, 1.0]
        assert Nx.to_flat_list(Nx.less(t, 1)) == [1, 0, 1]

        for op <- [:exp, :log1p, :sin, :tanh, :sigmoid, :sqrt, :erf, :cbrt] do
          result = apply(Nx, op, [t])
          assert Nx.type(result) == type, "#{op} on #{inspect(type)}"
        end
      end
    end

    test "rounding is half away from zero" do
      t = Nx.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997], type: :f32)
      assert Nx.to_flat_list(Nx.round(t)) == [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 0.0]

      t = Nx.tensor([0.49999999999999994, -1.0e300, 4.5], type: :f64)
      assert Nx.to_flat_list(Nx.round(t)) == [0.0, -1.0e300, 5.0]
      assert Nx.to_flat_list(Nx.round(Nx.tensor([:nan, :infinity]))) == [:nan, :infinity]
    end

    test "non-finite values" do
      t = Nx.tensor([:nan, :infinity, :neg_infinity, 1.0])
      assert Nx.to_flat_list(Nx.is_nan(t)) == [1, 0, 0, 0]
      assert Nx.to_flat_list(Nx.is_infinity(t)) == [0, 1, 1, 0]
      assert Nx.to_flat_list(Nx.sign(t)) == [:nan, 1.0, -1.0, 1.0]
      assert Nx.to_flat_list(Nx.equal(t, t)) == [0, 1, 1, 1]
      assert Nx.to_flat_list(Nx.not_equal(t, t)) == [1, 0, 0, 0]
      assert Nx.to_flat_list(Nx.logical_not(t)) == [0, 0, 0, 0]

      c = Nx.tensor([Complex.new(0, :nan), Complex.new(:infinity, 0), Complex.new(1, 1)])
      assert Nx.to_flat_list(Nx.is_nan(c)) == [1, 0, 0]
      assert Nx.to_flat_list(Nx.is_infinity(c)) == [0, 1, 0]
    end

    test "complex numbers" do
      z = Nx.tensor([Complex.new(3, 4), Complex.new(0, -2)])
      assert Nx.to_flat_list(Nx.abs(z)) == [5.0, 2.0]
      assert Nx.to_flat_list(Nx.real(z)) == [3.0, 0.0]
      assert Nx.to_flat_list(Nx.imag(z)) == [4.0, -2.0]
      assert Nx.to_flat_list(Nx.conjugate(z)) == [Complex.new(3, -4), Complex.new(0, 2)]
      assert Nx.to_flat_list(Nx.multiply(z, z)) == [Complex.new(-7, 24), Complex.new(-4, 0)]
      signs = Nx.sign(Nx.tensor([Complex.new(0, -2), Complex.new(-5, 0), Complex.new(0, 0)]))
      assert Nx.to_flat_list(signs) == [Complex.new(0, -1), Complex.new(-1, 0), Complex.new(0, 0)]
      assert Nx.to_flat_list(Nx.equal(z, Complex.new(3, 4))) == [1, 0]

      [w] = Nx.to_flat_list(Nx.exp(Nx.tensor([Complex.new(0, :math.pi())], type: :c128)))
      assert_in_delta w.re, -1.0, 1.0e-15
      assert_in_delta w.im, 0.0, 1.0e-15

      [a] =
        Nx.to_flat_list(Nx.atan2(Nx.tensor([Complex.new(1, 0)]), Nx.tensor([Complex.new(1, 0)])))

      assert_in_delta a.re, :math.pi() / 4, 1.0e-6
    end

    test "complex inputs are rejected where Nx rejects them" do
      z = Nx.tensor([Complex.new(1, 1)])

      for {op, args} <- [
            remainder: [z, 1],
            max: [z, 1],
            min: [1, z],
            greater: [z, 1],
            less: [1, z],
            greater_equal: [z, z],
            less_equal: [z, 0]
          ] do
        assert_raise ArgumentError, "Nx.#{op}/2 does not support complex inputs", fn ->
          apply(Nx, op, args)
        end
      end

      for op <- [:erf, :erfc, :erf_inv, :floor, :ceil, :round] do
        assert_raise ArgumentError, "Nx.#{op}/1 does not support complex inputs", fn ->
          apply(Nx, op, [z])
        end
      end

      assert_raise ArgumentError, "Nx.clip/3 does not support complex inputs", fn ->
        Nx.clip(z, 0, 1)
      end
    end
  end

  describe "integer math" do
    test "pow wraps and negative exponents truncate" do
      assert Nx.to_flat_list(Nx.pow(Nx.tensor([2], type: :s8), Nx.tensor([7], type: :s8))) == [
               -128
             ]

      assert Nx.to_flat_list(
               Nx.pow(Nx.tensor([3, 2, -1, -1, 1]), Nx.tensor([40, -1, -1, -2, -7]))
             ) ==
               [(3 ** 40) |> rem(2 ** 32) |> wrap32(), 0, -1, 1, 1]
    end

    test "abs, negate and sign of the extremes" do
      t = Nx.tensor([-128, 127, 0], type: :s8)
      assert Nx.to_flat_list(Nx.abs(t)) == [-128, 127, 0]
      assert Nx.to_flat_list(Nx.negate(t)) == [-128, -127, 0]
      assert Nx.to_flat_list(Nx.sign(t)) == [-1, 1, 0]
      assert Nx.to_flat_list(Nx.sign(Nx.tensor([0, 200], type: :u8))) == [0, 1]
    end
  end

  describe "select and clip" do
    test "select converts both branches to the merged type" do
      pred = Nx.tensor([[1, 0, 2]], type: :u8)
      result = Nx.select(pred, Nx.tensor([1, 2, 3], type: :s8), Nx.tensor(255, type: :u8))
      assert Nx.type(result) == {:s, 16}
      assert Nx.shape(result) == {1, 3}
      assert Nx.to_flat_list(result) == [1, 255, 3]

      assert Nx.to_flat_list(Nx.select(Nx.tensor([0.0, :nan]), 1, 2)) == [2, 1]

      assert Nx.names(
               Nx.select(Nx.tensor([1, 0], names: [:x]), Nx.tensor([1, 2], names: [:y]), 0)
             ) == [:x]
    end

    test "clip merges all three types and requires scalar bounds" do
      t = Nx.tensor([-5, 0, 300], type: :s16)
      assert Nx.to_flat_list(Nx.clip(t, 0, 255)) == [0, 0, 255]
      assert Nx.type(Nx.clip(t, 0, 255)) == {:s, 32}
      assert Nx.type(Nx.clip(t, Nx.tensor(0, type: :s8), Nx.tensor(1, type: :u8))) == {:s, 16}
      assert Nx.to_flat_list(Nx.clip(Nx.tensor([:nan, 5.0]), 0, 1)) == [:nan, 1.0]

      assert_raise ArgumentError, "max value must be a scalar shape, got: {3}", fn ->
        Nx.clip(t, 0, Nx.iota({3}))
      end
    end
  end

  describe "engine" do
    test "large tensors run on dirty schedulers" do
      n = Nx.Torch.Backend.dirty_threshold() * 2
      t = Nx.iota({n}, type: :f32)
      assert Nx.to_number(Nx.sum(Nx.subtract(Nx.add(t, 1), t))) == n * 1.0
      assert Nx.to_flat_list(Nx.exp(t), limit: 1) == [1.0]
    end

    test "a deallocated tensor raises instead of crashing" do
      t = Nx.tensor([1, 2])
      Nx.backend_deallocate(t)
      assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.add(t, 1) end
      assert_raise ArgumentError, ~r/deallocated/, fn -> Nx.exp(t) end
    end

    test "the NIFs validate what they are given" do
      a = Nx.Torch.Backend.ref(Nx.tensor([1, 2, 3]))
      b = Nx.Torch.Backend.ref(Nx.tensor([1, 2]))
      code = Nx.Torch.Backend.type_code({:s, 32})

      assert_raise ArgumentError, ~r/cannot broadcast/, fn ->
        Nx.Torch.NIF.t_binary(:add, a, b, code)
      end

      assert_raise ArgumentError, ~r/unknown binary/, fn ->
        Nx.Torch.NIF.t_binary(:nope, a, a, code)
      end

      assert_raise ArgumentError, ~r/unknown type code/, fn ->
        Nx.Torch.NIF.t_binary(:add, a, a, 99)
      end

      assert_raise ArgumentError, ~r/integer/, fn ->
        Nx.Torch.NIF.t_binary(:quotient, a, a, 16)
      end

      assert_raise ArgumentError, ~r/unknown unary/, fn -> Nx.Torch.NIF.t_unary(:add, a, code) end
      assert_raise ArgumentError, ~r/select/, fn -> Nx.Torch.NIF.t_select(a, a, b, code, {3}) end
    end
  end

  defp wrap32(v) when v >= 2_147_483_648, do: v - 4_294_967_296
  defp wrap32(v), do: v
end
