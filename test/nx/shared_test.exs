defmodule Nx.SharedTest do
  use ExUnit.Case, async: true

  import Nx.Shared, only: [encode: 2, encode_list: 2, decode: 2]

  doctest Nx.Shared

  @float_types [{:f, 8}, {:f8_e4m3fn, 8}, {:f, 16}, {:bf, 16}, {:f, 32}, {:f, 64}]

  # Built at runtime so the compiler cannot fold it into 0.0
  defp negative_zero do
    <<x::float-64>> = <<1::1, 0::63>>
    x
  end

  defp roundtrip(list, type), do: list |> encode_list(type) |> decode(type)

  describe "integers" do
    test "round-trip the whole range of each type" do
      for size <- [2, 4, 8, 16, 32, 64] do
        min = -Integer.pow(2, size - 1)
        max = Integer.pow(2, size - 1) - 1
        values = [min, min + 1, -1, 0, 1, max - 1, max]
        assert roundtrip(values, {:s, size}) == values

        umax = Integer.pow(2, size) - 1
        values = [0, 1, div(umax, 2), umax - 1, umax]
        assert roundtrip(values, {:u, size}) == values
      end
    end

    test "every value of sub-byte types" do
      assert roundtrip(Enum.to_list(-2..1), {:s, 2}) == Enum.to_list(-2..1)
      assert roundtrip(Enum.to_list(-8..7), {:s, 4}) == Enum.to_list(-8..7)
      assert roundtrip(Enum.to_list(0..3), {:u, 2}) == Enum.to_list(0..3)
      assert roundtrip(Enum.to_list(0..15), {:u, 4}) == Enum.to_list(0..15)
    end

    test "u64 and s64 extremes" do
      assert encode(18_446_744_073_709_551_615, {:u, 64}) == <<-1::64>>
      assert decode(<<-1::64>>, {:u, 64}) == [18_446_744_073_709_551_615]
      assert decode(<<-1::64>>, {:s, 64}) == [-1]

      assert roundtrip([-9_223_372_036_854_775_808, 9_223_372_036_854_775_807], {:s, 64}) ==
               [-9_223_372_036_854_775_808, 9_223_372_036_854_775_807]
    end

    test "wrap around when out of range" do
      assert encode_list([300, 301, 302], {:s, 8}) == <<44, 45, 46>>
      assert encode(256, {:u, 8}) == <<0>>
      assert encode(-1, {:u, 8}) == <<255>>
      assert encode(128, {:s, 8}) == <<128>>
      assert decode(encode(128, {:s, 8}), {:s, 8}) == [-128]
      assert decode(encode(-1, {:u, 32}), {:u, 32}) == [4_294_967_295]
      assert decode(encode(9, {:s, 4}), {:s, 4}) == [-7]
      assert decode(encode(5, {:u, 2}), {:u, 2}) == [1]
    end

    test "are stored in native endianness" do
      assert encode(0x0102, {:s, 16}) == <<0x0102::16-native>>
      assert encode(0x01020304, {:u, 32}) == <<0x01020304::32-native>>
      assert encode(-2, {:s, 64}) == <<-2::64-signed-native>>
    end

    test "sub-byte types are packed, first element in the high bits" do
      assert encode_list([1, 2, 3, 4], {:u, 4}) == <<0x12, 0x34>>
      assert encode_list([1, 2, 3], {:u, 4}) == <<0x12, 3::4>>
      assert bit_size(encode_list([1, 2, 3], {:s, 4})) == 12
      assert encode_list([1, -1, 0, -2], {:s, 2}) == <<0b01_11_00_10>>
      assert encode_list([3, 0, 1], {:u, 2}) == <<0b11_00_01::6>>
      assert decode(<<0x12, 0x34>>, {:u, 4}) == [1, 2, 3, 4]
      assert decode(<<0xF8>>, {:s, 4}) == [-1, -8]
    end

    test "booleans" do
      assert encode_list([true, false], {:u, 8}) == <<1, 0>>
      assert encode(true, {:s, 2}) == <<1::2>>
      assert encode(true, {:f, 32}) == <<1.0::float-32-native>>
      assert encode(false, {:c, 64}) == <<0.0::float-32-native, 0.0::float-32-native>>
    end

    test "reject floats and non-finite values" do
      assert_raise ArgumentError, fn -> encode(1.5, {:s, 32}) end
      assert_raise ArgumentError, fn -> encode(:nan, {:u, 8}) end
      assert_raise ArgumentError, fn -> encode(Complex.new(1, 2), {:s, 64}) end
    end
  end

  describe "f64, f32 and f16" do
    test "use the Erlang float encoding in native endianness" do
      for size <- [16, 32, 64], x <- [0.0, 1.0, -2.5, 0.1, 1.0e-3, 3] do
        assert encode(x, {:f, size}) == <<x::float-native-size(size)>>
      end
    end

    test "round-trip exactly representable values" do
      values = [0.0, 1.0, -1.5, 0.25, 65504.0, 6.103515625e-5, 5.960464477539063e-8]
      assert roundtrip(values, {:f, 16}) == values
      assert roundtrip(values, {:f, 32}) == values
      assert roundtrip([0.1, 1.0e300, -5.0e-324], {:f, 64}) == [0.1, 1.0e300, -5.0e-324]
    end

    test "round to nearest, ties to even" do
      assert decode(encode(2049, {:f, 16}), {:f, 16}) == [2048.0]
      assert decode(encode(2051, {:f, 16}), {:f, 16}) == [2052.0]
      assert decode(encode(16_777_217, {:f, 32}), {:f, 32}) == [16_777_216.0]
      assert decode(encode(0.1, {:f, 32}), {:f, 32}) == [0.10000000149011612]
      assert decode(encode(0.1, {:f, 16}), {:f, 16}) == [0.0999755859375]
    end

    test "overflow to infinity" do
      assert decode(encode(65520.0, {:f, 16}), {:f, 16}) == [:infinity]
      assert decode(encode(-1.0e39, {:f, 32}), {:f, 32}) == [:neg_infinity]
    end

    test "keep the sign of zero" do
      assert encode(negative_zero(), {:f, 32}) == <<0x80000000::32-native>>
      [decoded] = decode(<<0x8000::16-native>>, {:f, 16})
      assert <<1::1, _::63>> = <<decoded::float-64>>
    end

    test "any NaN payload decodes as :nan" do
      assert decode(<<0x7FC00001::32-native, 0xFFC00000::32-native>>, {:f, 32}) == [:nan, :nan]
      assert decode(<<0x7C01::16-native, 0xFE00::16-native>>, {:f, 16}) == [:nan, :nan]
      assert decode(<<0x7FF0000000000001::64-native>>, {:f, 64}) == [:nan]
    end
  end

  describe "bf16" do
    test "keeps the high half of the f32 encoding" do
      assert encode(1.0, {:bf, 16}) == <<0x3F80::16-native>>
      assert encode(-2.5, {:bf, 16}) == <<0xC020::16-native>>
      # 0.1 as f32 is 0x3DCCCCCD: Nx truncates it to 0x3DCC
      assert encode(0.1, {:bf, 16}) == <<0x3DCC::16-native>>
      assert decode(encode(0.1, {:bf, 16}), {:bf, 16}) == [0.099609375]
      assert decode(encode(1 / 3, {:bf, 16}), {:bf, 16}) == [0.33203125]
      assert encode(1.0e39, {:bf, 16}) == <<0x7F80::16-native>>
    end

    test "decodes every bit pattern" do
      decoded = decode(encode_list(Enum.to_list(0..0xFFFF), {:u, 16}), {:bf, 16})
      assert Enum.count(decoded, &(&1 == :nan)) == 2 * 127
      assert Enum.at(decoded, 0x7F80) == :infinity
      assert Enum.at(decoded, 0xFF80) == :neg_infinity
      assert Enum.at(decoded, 0x0001) == 9.183549615799121e-41
      assert Enum.at(decoded, 0x7F7F) == 3.3895313892515355e38
      assert Enum.at(decoded, 0xC049) == -3.140625
    end
  end

  describe "f8 (E5M2)" do
    test "keeps the high byte of the f16 encoding" do
      assert encode(1.0, {:f, 8}) == <<0x3C>>
      assert encode(-2.0, {:f, 8}) == <<0xC0>>
      assert encode(1.75, {:f, 8}) == <<0x3F>>
      # 1.2 as f16 is 0x3CCD: the low byte is discarded
      assert encode(1.2, {:f, 8}) == <<0x3C>>
      assert encode(57344.0, {:f, 8}) == <<0x7B>>
      assert encode(70000.0, {:f, 8}) == <<0x7C>>
    end

    test "decodes every bit pattern" do
      decoded = decode(:binary.list_to_bin(Enum.to_list(0..255)), {:f, 8})
      assert Enum.at(decoded, 0x00) == 0.0
      assert Enum.at(decoded, 0x01) == 1.52587890625e-5
      assert Enum.at(decoded, 0x04) == 6.103515625e-5
      assert Enum.at(decoded, 0x3C) == 1.0
      assert Enum.at(decoded, 0x7B) == 57344.0
      assert Enum.at(decoded, 0x7C) == :infinity
      assert Enum.at(decoded, 0xFC) == :neg_infinity
      assert Enum.slice(decoded, 0x7D..0x7F) == [:nan, :nan, :nan]
      assert Enum.slice(decoded, 0xFD..0xFF) == [:nan, :nan, :nan]
      assert Enum.at(decoded, 0xBC) == -1.0

      finite = Enum.filter(0..255, &is_float(Enum.at(decoded, &1)))
      assert length(finite) == 248

      for byte <- finite do
        assert encode(Enum.at(decoded, byte), {:f, 8}) == <<byte>>
      end
    end
  end

  describe "f8_e4m3fn" do
    test "encodes as Nx does" do
      assert encode(1.0, {:f8_e4m3fn, 8}) == <<0x38>>
      assert encode(1, {:f8_e4m3fn, 8}) == <<0x38>>
      assert encode(-1, {:f8_e4m3fn, 8}) == <<0xB8>>
      assert encode(0.0, {:f8_e4m3fn, 8}) == <<0x00>>
      assert encode(0, {:f8_e4m3fn, 8}) == <<0x00>>
      assert encode(negative_zero(), {:f8_e4m3fn, 8}) == <<0x80>>
      assert encode(448.0, {:f8_e4m3fn, 8}) == <<0x7E>>
      assert encode(-448.0, {:f8_e4m3fn, 8}) == <<0xFE>>
      assert encode(:infinity, {:f8_e4m3fn, 8}) == <<0x7E>>
      assert encode(:neg_infinity, {:f8_e4m3fn, 8}) == <<0xFE>>
      assert encode(:nan, {:f8_e4m3fn, 8}) == <<0x7F>>
    end

    test "saturates out of range values" do
      assert encode(1000.0, {:f8_e4m3fn, 8}) == <<0x7E>>
      assert encode(-1.0e10, {:f8_e4m3fn, 8}) == <<0xFE>>
      assert encode(470.0, {:f8_e4m3fn, 8}) == <<0x7E>>
    end

    test "rounds the mantissa half away from zero without carry" do
      # 100 = 1.5625 * 2^6: the 4.5 mantissa steps round up to 5
      assert encode(100.0, {:f8_e4m3fn, 8}) == <<0x6D>>
      # 1.95 needs 7.6 mantissa steps: capped at 7 (1.875)
      assert encode(1.95, {:f8_e4m3fn, 8}) == <<0x3F>>
      assert encode(0.001, {:f8_e4m3fn, 8}) == <<0x01>>
      assert encode(0.0005, {:f8_e4m3fn, 8}) == <<0x00>>
    end

    test "decodes every bit pattern" do
      decoded = decode(:binary.list_to_bin(Enum.to_list(0..255)), {:f8_e4m3fn, 8})
      assert Enum.at(decoded, 0x7F) == :nan
      assert Enum.at(decoded, 0xFF) == :nan
      assert Enum.at(decoded, 0x7E) == 448.0
      assert Enum.at(decoded, 0x78) == 256.0
      assert Enum.at(decoded, 0x79) == 288.0
      assert Enum.at(decoded, 0x01) == 0.001953125
      assert Enum.at(decoded, 0x08) == 0.015625
      assert Enum.at(decoded, 0x38) == 1.0
      assert Enum.at(decoded, 0xFE) == -448.0
      refute Enum.any?(decoded, &(&1 in [:infinity, :neg_infinity]))

      # every finite value encodes back to itself
      for byte <- 0..255, byte not in [0x7F, 0xFF] do
        assert encode(Enum.at(decoded, byte), {:f8_e4m3fn, 8}) == <<byte>>
      end
    end
  end

  describe "non-finite values" do
    test "use the Nx bit patterns" do
      patterns = [
        {{:f, 8}, 0x7E, 0x7C, 0xFC},
        {{:f8_e4m3fn, 8}, 0x7F, 0x7E, 0xFE},
        {{:f, 16}, 0x7E00, 0x7C00, 0xFC00},
        {{:bf, 16}, 0x7FC0, 0x7F80, 0xFF80},
        {{:f, 32}, 0x7FC00000, 0x7F800000, 0xFF800000},
        {{:f, 64}, 0x7FF8000000000000, 0x7FF0000000000000, 0xFFF0000000000000}
      ]

      for {{_, size} = type, nan, inf, neg_inf} <- patterns do
        assert encode(:nan, type) == <<nan::native-size(size)>>
        assert encode(:infinity, type) == <<inf::native-size(size)>>
        assert encode(:neg_infinity, type) == <<neg_inf::native-size(size)>>
      end
    end

    test "round-trip" do
      for type <- @float_types -- [{:f8_e4m3fn, 8}] do
        assert roundtrip([:nan, :infinity, :neg_infinity, 1.0], type) ==
                 [:nan, :infinity, :neg_infinity, 1.0]
      end

      assert roundtrip([:nan, :infinity, :neg_infinity], {:f8_e4m3fn, 8}) ==
               [:nan, 448.0, -448.0]
    end
  end

  describe "complex" do
    test "encodes two floats of half the size" do
      assert encode(Complex.new(1, 2), {:c, 64}) ==
               <<1.0::float-32-native, 2.0::float-32-native>>

      assert encode(Complex.new(1, 2), {:c, 128}) ==
               <<1.0::float-64-native, 2.0::float-64-native>>

      assert encode(3, {:c, 128}) == <<3.0::float-64-native, 0.0::float-64-native>>
      assert encode(-1.5, {:c, 64}) == <<-1.5::float-32-native, 0.0::float-32-native>>
    end

    test "supports non-finite parts" do
      assert encode(:nan, {:c, 64}) == <<0x7FC00000::32-native, 0.0::float-32-native>>

      assert encode(Complex.new(:infinity, :neg_infinity), {:c, 128}) ==
               <<0x7FF0000000000000::64-native, 0xFFF0000000000000::64-native>>

      assert roundtrip([Complex.new(:nan, 1.0), Complex.new(0.0, :infinity)], {:c, 64}) ==
               [Complex.new(:nan, 1.0), Complex.new(0.0, :infinity)]
    end

    test "decodes into complex numbers" do
      assert roundtrip([1, Complex.new(0.5, -0.25)], {:c, 128}) ==
               [Complex.new(1.0, 0.0), Complex.new(0.5, -0.25)]

      assert decode(encode(Complex.new(0.1, 0.2), {:c, 64}), {:c, 64}) ==
               [Complex.new(0.10000000149011612, 0.20000000298023224)]
    end
  end

  test "decode requires whole elements" do
    assert decode(<<>>, {:f, 32}) == []
    assert_raise ArgumentError, fn -> decode(<<1, 2, 3>>, {:s, 16}) end
    assert_raise ArgumentError, fn -> decode(<<1::3>>, {:u, 2}) end
  end

  test "encode_list/2 matches encode/2 for every type" do
    values = [0, 1, true, 2]

    for type <- @float_types ++ [{:s, 4}, {:u, 8}, {:s, 64}, {:c, 64}] do
      assert encode_list(values, type) ==
               values |> Enum.map(&encode(&1, type)) |> :erlang.list_to_bitstring()
    end
  end
end
