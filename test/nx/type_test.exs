defmodule Nx.TypeTest do
  use ExUnit.Case, async: true

  doctest Nx.Type

  alias Nx.Type

  @integers for kind <- [:s, :u], size <- [2, 4, 8, 16, 32, 64], do: {kind, size}
  @floats [{:f, 8}, {:f8_e4m3fn, 8}, {:f, 16}, {:bf, 16}, {:f, 32}, {:f, 64}]
  @complex [{:c, 64}, {:c, 128}]
  @all @integers ++ @floats ++ @complex

  describe "normalize!/1" do
    test "accepts all 20 types in both spellings" do
      assert length(@all) == 20

      for {kind, size} = type <- @all do
        assert Type.normalize!(type) == type
        short = if kind == :f8_e4m3fn, do: :f8_e4m3fn, else: :"#{kind}#{size}"
        assert Type.normalize!(short) == type
      end
    end

    test "rejects unknown sizes, kinds and shapes of input" do
      for bad <-
            [{:s, 1}, {:u, 128}, {:f, 128}, {:bf, 32}, {:c, 32}, {:f8_e4m3fn, 16}] ++
              [:f8_e4m3fn8, :s, :float32, "f32", {:f, "32"}, {:tuple, 2}, nil] do
        message =
          "invalid numerical type: #{inspect(bad)} (see Nx.Type docs for all supported types)"

        assert_raise ArgumentError, message, fn -> Type.normalize!(bad) end
      end
    end
  end

  describe "merge/2" do
    # Expected results written out from the promotion rules: c > f > bf > s > u,
    # u + s gives a signed type twice the unsigned size (capped at 64 bits).
    test "unsigned with signed integers" do
      table = [
        {{:u, 2}, {:s, 2}, {:s, 4}},
        {{:u, 4}, {:s, 2}, {:s, 8}},
        {{:u, 8}, {:s, 8}, {:s, 16}},
        {{:u, 8}, {:s, 32}, {:s, 32}},
        {{:u, 16}, {:s, 8}, {:s, 32}},
        {{:u, 32}, {:s, 8}, {:s, 64}},
        {{:u, 64}, {:s, 8}, {:s, 64}},
        {{:u, 64}, {:s, 64}, {:s, 64}}
      ]

      for {u, s, expected} <- table do
        assert Type.merge(u, s) == expected
        assert Type.merge(s, u) == expected
      end
    end

    test "same kinds pick the larger size" do
      assert Type.merge({:u, 2}, {:u, 64}) == {:u, 64}
      assert Type.merge({:s, 16}, {:s, 4}) == {:s, 16}
      assert Type.merge({:f, 16}, {:f, 8}) == {:f, 16}
      assert Type.merge({:c, 128}, {:c, 64}) == {:c, 128}
      assert Type.merge({:f8_e4m3fn, 8}, {:f8_e4m3fn, 8}) == {:f8_e4m3fn, 8}
    end

    test "integers with floats give the float, whatever the sizes" do
      for int <- @integers, float <- @floats do
        assert Type.merge(int, float) == float
        assert Type.merge(float, int) == float
      end
    end

    test "bf16 loses to every f type, including f8" do
      for f <- [{:f, 8}, {:f8_e4m3fn, 8}, {:f, 16}, {:f, 32}, {:f, 64}] do
        assert Type.merge({:bf, 16}, f) == f
        assert Type.merge(f, {:bf, 16}) == f
      end
    end

    test "e4m3fn ranks with f and merges into wider f types in either order" do
      for f <- [{:f, 16}, {:f, 32}, {:f, 64}] do
        assert Type.merge({:f8_e4m3fn, 8}, f) == f
        assert Type.merge(f, {:f8_e4m3fn, 8}) == f
      end

      message =
        "cannot merge {:f8_e4m3fn, 8} and {:f, 8}, convert one of them with Nx.as_type/2 first"

      assert_raise ArgumentError, message, fn -> Type.merge({:f8_e4m3fn, 8}, {:f, 8}) end
    end

    test "complex absorbs real types, widening for f64" do
      for real <- @integers ++ @floats do
        expected = if real == {:f, 64}, do: {:c, 128}, else: {:c, 64}
        assert Type.merge(real, {:c, 64}) == expected
        assert Type.merge({:c, 64}, real) == expected
        assert Type.merge(real, {:c, 128}) == {:c, 128}
      end
    end

    test "is commutative wherever it is defined" do
      for a <- @all,
          b <- @all,
          {a, b} != {{:f, 8}, {:f8_e4m3fn, 8}},
          {a, b} != {{:f8_e4m3fn, 8}, {:f, 8}} do
        assert Type.merge(a, b) == Type.merge(b, a), "#{inspect(a)} vs #{inspect(b)}"
      end
    end
  end

  describe "merge_number/2" do
    test "unsigned types grow to the boundary of each size" do
      assert Type.merge_number({:u, 8}, 255) == {:u, 8}
      assert Type.merge_number({:u, 8}, 256) == {:u, 16}
      assert Type.merge_number({:u, 8}, 65_535) == {:u, 16}
      assert Type.merge_number({:u, 8}, 65_536) == {:u, 32}
      assert Type.merge_number({:u, 32}, 4_294_967_296) == {:u, 64}
      assert Type.merge_number({:u, 2}, 1) == {:u, 2}
      assert Type.merge_number({:u, 2}, 2) == {:u, 8}
    end

    test "negative integers turn unsigned types into wider signed ones" do
      assert Type.merge_number({:u, 8}, -32_768) == {:s, 16}
      assert Type.merge_number({:u, 8}, -32_769) == {:s, 32}
      assert Type.merge_number({:u, 16}, -1) == {:s, 32}
      assert Type.merge_number({:u, 32}, -1) == {:s, 64}
    end

    test "signed types grow to the boundary of each size" do
      assert Type.merge_number({:s, 8}, 127) == {:s, 8}
      assert Type.merge_number({:s, 8}, 128) == {:s, 16}
      assert Type.merge_number({:s, 8}, -32_768) == {:s, 16}
      assert Type.merge_number({:s, 8}, 2_147_483_648) == {:s, 64}
      assert Type.merge_number({:s, 2}, 1) == {:s, 2}
      assert Type.merge_number({:s, 2}, -2) == {:s, 2}
    end

    test "floats and non-finite values" do
      assert Type.merge_number({:u, 8}, 1.0) == {:f, 32}
      assert Type.merge_number({:s, 64}, :infinity) == {:f, 32}
      assert Type.merge_number({:f, 16}, 1.0e10) == {:f, 16}
      assert Type.merge_number({:f8_e4m3fn, 8}, 3) == {:f8_e4m3fn, 8}
      assert Type.merge_number({:c, 64}, 1.0) == {:c, 64}
    end

    test "complex numbers" do
      assert Type.merge_number({:s, 8}, Complex.new(1, 2)) == {:c, 64}
      assert Type.merge_number({:c, 128}, Complex.new(1, 2)) == {:c, 128}
    end
  end

  describe "conversions" do
    test "to_floating/1, to_real/1, to_complex/1 and to_aggregate/1 over all types" do
      for type <- @all do
        floating = Type.to_floating(type)
        assert Type.float?(floating)
        if Type.float?(type), do: assert(floating == type), else: assert(floating == {:f, 32})

        real = Type.to_real(type)
        refute Type.complex?(real)
        assert Type.float?(real)

        assert Type.complex?(Type.to_complex(type))
        assert Type.to_complex(Type.to_real(Type.to_complex(type))) == Type.to_complex(type)
      end

      assert Type.to_aggregate({:u, 2}) == {:u, 32}
      assert Type.to_aggregate({:s, 32}) == {:s, 32}
      assert Type.to_aggregate({:f8_e4m3fn, 8}) == {:f8_e4m3fn, 8}
      assert Type.to_aggregate({:c, 64}) == {:c, 64}
    end

    test "cast_number!/2" do
      assert Type.cast_number!({:f8_e4m3fn, 8}, 2) === 2.0
      assert Type.cast_number!({:c, 128}, Complex.new(1, 2)) == Complex.new(1.0, 2.0)
      assert Type.cast_number!({:c, 64}, :nan) == Complex.new(:nan, 0)

      assert_raise ArgumentError, "cannot cast number :nan to {:s, 8}", fn ->
        Type.cast_number!({:s, 8}, :nan)
      end
    end
  end

  describe "predicates and names" do
    test "every type is exactly one of integer, real float or complex" do
      for type <- @all do
        kinds = [Type.integer?(type), Type.float?(type) and not Type.complex?(type)]
        kinds = kinds ++ [Type.complex?(type)]
        assert Enum.count(kinds, & &1) == 1, inspect(type)
      end
    end

    test "to_string/1 round-trips through normalize!/1" do
      for type <- @all do
        assert type |> Type.to_string() |> String.to_atom() |> Type.normalize!() == type
      end
    end

    test "infer/1 rejects non-numbers" do
      assert_raise ArgumentError, ~r/cannot infer/, fn -> Type.infer("1") end
    end
  end

  describe "special value binaries" do
    test "integer limits for every integer size" do
      for size <- [2, 4, 8, 16, 32, 64] do
        assert <<min::size(size)-signed-native>> = Type.min_finite_binary({:s, size})
        assert min == -Integer.pow(2, size - 1)
        assert <<max::size(size)-signed-native>> = Type.max_finite_binary({:s, size})
        assert max == Integer.pow(2, size - 1) - 1
        assert <<0::size(size)>> = Type.min_binary({:u, size})
        assert <<umax::size(size)-native>> = Type.max_binary({:u, size})
        assert umax == Integer.pow(2, size) - 1
      end
    end

    test "f16, f32 and f64 values decode to the IEEE limits" do
      for size <- [16, 32, 64] do
        decode = fn bin ->
          case bin do
            <<x::float-size(size)-native>> -> x
            _ -> :non_finite
          end
        end

        assert decode.(Type.nan_binary({:f, size})) == :non_finite
        assert decode.(Type.infinity_binary({:f, size})) == :non_finite
        assert decode.(Type.max_binary({:f, size})) == :non_finite
        assert decode.(Type.epsilon_binary({:f, size})) == :math.pow(2, -precision(size))
        assert decode.(Type.smallest_positive_normal_binary({:f, size})) == min_normal(size)

        assert decode.(Type.max_finite_binary({:f, size})) ==
                 -decode.(Type.min_finite_binary({:f, size}))

        assert_in_delta decode.(Type.pi_binary({:f, size})), :math.pi(), 2.0e-3
        assert_in_delta decode.(Type.e_binary({:f, size})), :math.exp(1), 2.0e-3
        assert_in_delta decode.(Type.euler_gamma_binary({:f, size})), 0.5772156649, 2.0e-3
      end

      assert Type.max_finite_binary({:f, 16}) == <<65504.0::float-16-native>>
    end

    test "bf16 values are the top half of the matching f32" do
      for fun <- [:pi_binary, :e_binary, :euler_gamma_binary, :max_finite_binary] do
        <<f32_bits::32-native>> = apply(Type, fun, [{:f, 32}])
        <<bf16_bits::16-native>> = apply(Type, fun, [{:bf, 16}])
        assert bf16_bits == Bitwise.bsr(f32_bits, 16)
      end
    end

    test "e4m3fn special values" do
      e4m3 = {:f8_e4m3fn, 8}
      assert Type.nan_binary(e4m3) == <<0x7F>>
      assert Type.max_binary(e4m3) == <<0x7E>>
      assert Type.min_binary(e4m3) == <<0xFE>>
      assert Type.infinity_binary(e4m3) == Type.max_finite_binary(e4m3)
      assert Type.neg_infinity_binary(e4m3) == Type.min_finite_binary(e4m3)
      # 1.0 has exponent field 7 and mantissa 0; epsilon is 2^-3.
      assert Type.epsilon_binary(e4m3) == <<0b0_0100_000>>
      # pi ~ 2 * 1.625 = 3.25, e ~ 2 * 1.375 = 2.75, gamma ~ 0.5 * 1.125 = 0.5625
      assert Type.pi_binary(e4m3) == <<0b0_1000_101>>
      assert Type.e_binary(e4m3) == <<0b0_1000_011>>
      assert Type.euler_gamma_binary(e4m3) == <<0b0_0110_001>>
    end

    test "f8 (E5M2) special values" do
      assert Type.infinity_binary({:f, 8}) == <<0x7C>>
      assert Type.neg_infinity_binary({:f, 8}) == <<0xFC>>
      assert Type.max_finite_binary({:f, 8}) == <<0x7B>>
      assert Type.pi_binary({:f, 8}) == <<0x42>>
      assert Type.e_binary({:f, 8}) == <<0x41>>
      assert Type.euler_gamma_binary({:f, 8}) == <<0x38>>
    end

    test "non-float types raise" do
      for fun <-
            [:nan_binary, :infinity_binary, :neg_infinity_binary, :epsilon_binary] ++
              [:smallest_positive_normal_binary, :pi_binary, :e_binary, :euler_gamma_binary],
          type <- [{:s, 8}, {:u, 64}, {:c, 64}] do
        assert_raise ArgumentError,
                     "only floating types are supported, got: #{inspect(type)}",
                     fn ->
                       apply(Type, fun, [type])
                     end
      end

      assert_raise ArgumentError, "only real types are supported, got: {:c, 128}", fn ->
        Type.max_finite_binary({:c, 128})
      end
    end
  end

  defp precision(16), do: 10
  defp precision(32), do: 23
  defp precision(64), do: 52

  defp min_normal(16), do: :math.pow(2, -14)
  defp min_normal(32), do: :math.pow(2, -126)
  defp min_normal(64), do: :math.pow(2, -1022)
end
