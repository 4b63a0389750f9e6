defmodule Nx.FloatFormatTest do
  use ExUnit.Case, async: true

  import Nx.FloatFormat, only: [to_string: 2, bits_to_string: 2]

  doctest Nx.FloatFormat

  defp negative_zero do
    <<x::float-64>> = <<1::1, 0::63>>
    x
  end

  describe "f32" do
    # Expected digits from numpy's shortest float32 repr, written with
    # the Nx layout.
    @numpy_f32 [
      {0x3EAAAAAB, "0.33333334"},
      {0x3F2AAAAB, "0.6666667"},
      {0x40490FDB, "3.1415927"},
      {0x402DF854, "2.7182817"},
      {0x2EDBE6FF, "1e-10"},
      {0x7F7FFFFF, "3.4028235e38"},
      {0x00000001, "1e-45"},
      {0x00800000, "1.1754944e-38"},
      {0x4B800000, "16777216.0"},
      {0x4B800001, "16777218.0"},
      {0x3DCCCCCD, "0.1"},
      {0x3E4CCCCD, "0.2"},
      {0x3E99999A, "0.3"},
      {0x3F8CCCCD, "1.1"},
      {0x47F12065, "123456.79"},
      {0x4B189680, "1e7"},
      {0x3BE56042, "0.007"},
      {0x38D1B716, "9.999999e-5"},
      {0x66FF0C2E, "6.0221406e23"},
      {0x477FE000, "65504.0"},
      {0x38FBA882, "1.2e-4"},
      {0x42C80000, "100.0"},
      {0x447A0000, "1e3"},
      {0x3727C5AC, "1e-5"}
    ]

    test "shortest digits that round-trip in f32" do
      for {bits, expected} <- @numpy_f32 do
        assert bits_to_string(bits, {:f, 32}) == expected
        <<float::float-32>> = <<bits::32>>
        assert to_string(float, {:f, 32}) == expected
      end
    end

    # f32 results printed in the Nx documentation
    @documented ~w(0.33333334 0.4636476 0.7853982 1.1071488 1.2490457 0.32175055
                   2.6779451 1.6666666 2.1333334 2.4444444 1.118034 1.2909944 6.363961
                   12.727922 0.70710677 7.071068 7.628073 6.4561934 5.7630463 6.356537
                   5.1429315 6.1429315 2.3132617 4.3132615 6.3132615 6.3314114 8.331411
                   2.6666667 3.6666667 0.05 2.25 3.25 5.75 7.25 0.6 1.6 3.1)

    test "values from the Nx documentation" do
      for string <- @documented do
        assert to_string(String.to_float(string), {:f, 32}) == string
      end
    end

    test "special values" do
      assert to_string(0.0, {:f, 32}) == "0.0"
      assert to_string(negative_zero(), {:f, 32}) == "-0.0"
      assert to_string(:nan, {:f, 32}) == "NaN"
      assert to_string(:infinity, {:f, 32}) == "Inf"
      assert to_string(:neg_infinity, {:f, 32}) == "-Inf"
      assert bits_to_string(0xFFC00000, {:f, 32}) == "NaN"
      assert bits_to_string(0x7F800001, {:f, 32}) == "NaN"
      assert bits_to_string(0xFF800000, {:f, 32}) == "-Inf"
      assert to_string(1.0e39, {:f, 32}) == "Inf"
    end

    test "integers and negative numbers" do
      assert to_string(3, {:f, 32}) == "3.0"
      assert to_string(-3, {:f, 32}) == "-3.0"
      assert to_string(-0.1, {:f, 32}) == "-0.1"
      assert to_string(-1.0e10, {:f, 32}) == "-1e10"
    end
  end

  describe "layout" do
    test "plain notation for integers while it is not longer than the exponent" do
      assert to_string(1.0, {:f, 32}) == "1.0"
      assert to_string(10.0, {:f, 32}) == "10.0"
      assert to_string(100.0, {:f, 32}) == "100.0"
      assert to_string(1000.0, {:f, 32}) == "1e3"
      assert to_string(120.0, {:f, 32}) == "120.0"
      assert to_string(1200.0, {:f, 32}) == "1.2e3"
      assert to_string(12300.0, {:f, 32}) == "1.23e4"
      assert to_string(1230.0, {:f, 32}) == "1230.0"
      assert to_string(1234.0, {:f, 32}) == "1234.0"
      assert to_string(123_456.0, {:f, 32}) == "123456.0"
      assert to_string(1_234_560.0, {:f, 32}) == "1234560.0"
      assert to_string(12_345_600.0, {:f, 32}) == "1.23456e7"
    end

    test "plain notation for small numbers while it is not longer than the exponent" do
      assert to_string(0.5, {:f, 32}) == "0.5"
      assert to_string(0.01, {:f, 32}) == "0.01"
      assert to_string(0.001, {:f, 32}) == "0.001"
      assert to_string(0.0001, {:f, 32}) == "1e-4"
      assert to_string(0.0012, {:f, 32}) == "0.0012"
      assert to_string(0.00012, {:f, 32}) == "1.2e-4"
      assert to_string(0.001234, {:f, 32}) == "0.001234"
      assert to_string(0.0001234, {:f, 32}) == "1.234e-4"
      assert to_string(1.5e-7, {:f, 32}) == "1.5e-7"
      assert to_string(12.5, {:f, 32}) == "12.5"
    end

    test "f64 uses Float.to_string/1" do
      assert to_string(1.0e10, {:f, 64}) == "1.0e10"
      assert to_string(1000.0, {:f, 64}) == "1.0e3"
      assert to_string(1.0e-128, {:f, 64}) == "1.0e-128"
      assert to_string(0.1, {:f, 64}) == "0.1"
      assert to_string(1 / 3, {:f, 64}) == "0.3333333333333333"
      assert to_string(0.03205860328008499, {:f, 64}) == "0.03205860328008499"
      assert to_string(3.141592653589793, {:f, 64}) == "3.141592653589793"
      assert to_string(2, {:f, 64}) == "2.0"
      assert to_string(negative_zero(), {:f, 64}) == "-0.0"
      assert to_string(:nan, {:f, 64}) == "NaN"
      assert to_string(:infinity, {:f, 64}) == "Inf"
      assert to_string(:neg_infinity, {:f, 64}) == "-Inf"
      assert bits_to_string(0x7FF8000000000001, {:f, 64}) == "NaN"
      assert bits_to_string(0xFFF0000000000000, {:f, 64}) == "-Inf"
      assert bits_to_string(0x3FB999999999999A, {:f, 64}) == "0.1"
    end
  end

  describe "f16" do
    # Lines of the f16 table Nx tests its printing against
    @nx_table [
      {0x0001, "6e-8"},
      {0x0004, "2.4e-7"},
      {0x0013, "1.13e-6"},
      {0x068E, "1e-4"},
      {0x0690, "1.0014e-4"},
      {0x0800, "1.221e-4"},
      {0x65A0, "1440.0"},
      {0x65DC, "1.5e3"},
      {0x67D0, "2e3"},
      {0x6801, "2050.0"},
      {0x681A, "2.1e3"},
      {0x6AA4, "3.4e3"}
    ]

    # Computed with an exact brute-force search in Python
    @brute_force [
      {0x0011, "1e-6"},
      {0x0229, "3.296e-5"},
      {0x03CE, "5.805e-5"},
      {0x06B2, "1.0216e-4"},
      {0x088D, "1.389e-4"},
      {0x0DCC, "3.538e-4"},
      {0x1968, "0.00264"},
      {0x1AD8, "0.003342"},
      {0x253C, "0.02045"},
      {0x300F, "0.1268"},
      {0x3179, "0.171"},
      {0x35BB, "0.3582"},
      {0x3C28, "1.039"},
      {0x4815, "8.164"},
      {0x5091, "36.53"},
      {0x57AA, "122.6"},
      {0x6215, "778.5"},
      {0x6C5C, "4464.0"},
      {0x7483, "18480.0"},
      {0x76A9, "27280.0"},
      {0x7AA1, "5.43e4"},
      {0x7BFF, "6.55e4"}
    ]

    test "shortest digits that round-trip in f16" do
      for {bits, expected} <- @nx_table ++ @brute_force do
        assert bits_to_string(bits, {:f, 16}) == expected
        assert bits_to_string(bits + 0x8000, {:f, 16}) == "-" <> expected
      end
    end

    test "values from the Nx documentation" do
      assert Enum.map([0.1, 0.2, 0.3, 0.4], &to_string(&1, {:f, 16})) ==
               ["0.1", "0.2", "0.3", "0.4"]

      assert to_string(:infinity, {:f, 16}) == "Inf"
      assert to_string(:nan, {:f, 16}) == "NaN"
    end

    test "special values" do
      assert bits_to_string(0x0000, {:f, 16}) == "0.0"
      assert bits_to_string(0x8000, {:f, 16}) == "-0.0"
      assert bits_to_string(0x7C00, {:f, 16}) == "Inf"
      assert bits_to_string(0xFC00, {:f, 16}) == "-Inf"
      assert bits_to_string(0x7C01, {:f, 16}) == "NaN"
      assert bits_to_string(0xFE00, {:f, 16}) == "NaN"
      assert to_string(65520.0, {:f, 16}) == "Inf"
    end

    test "every value reads back as itself" do
      for bits <- 0..0x7BFF do
        assert_roundtrip(bits, {:f, 16})
      end
    end
  end

  describe "bf16" do
    # Computed with an exact brute-force search in Python
    @brute_force [
      {0x0001, "1e-40"},
      {0x0080, "1.18e-38"},
      {0x012D, "3.18e-38"},
      {0x03D7, "1.264e-36"},
      {0x0F3E, "9.37e-30"},
      {0x2F45, "1.79e-10"},
      {0x3200, "7.45e-9"},
      {0x3ACB, "0.00155"},
      {0x3BD0, "0.00635"},
      {0x3DCC, "0.0996"},
      {0x3DEF, "0.1167"},
      {0x3EAA, "0.332"},
      {0x3F80, "1.0"},
      {0x4049, "3.14"},
      {0x4105, "8.3"},
      {0x4120, "10.0"},
      {0x4735, "4.63e4"},
      {0x477F, "6.53e4"},
      {0x4B4D, "1.343e7"},
      {0x50B6, "2.44e10"},
      {0x656A, "6.9e22"},
      {0x73CF, "3.28e31"},
      {0x7F7F, "3.39e38"},
      {0x7FF1, "NaN"}
    ]

    test "shortest digits that round-trip in bf16" do
      for {bits, expected} <- @brute_force do
        assert bits_to_string(bits, {:bf, 16}) == expected
      end
    end

    test "numbers are converted as Nx converts them" do
      assert to_string(0.1, {:bf, 16}) == "0.0996"
      assert to_string(1 / 3, {:bf, 16}) == "0.332"
      assert to_string(3, {:bf, 16}) == "3.0"
      assert to_string(:neg_infinity, {:bf, 16}) == "-Inf"
    end

    test "every value reads back as itself" do
      for bits <- 0..0x7F7F do
        assert_roundtrip(bits, {:bf, 16})
      end
    end
  end

  describe "f8" do
    # Computed with an exact brute-force search in Python
    @positive ~w(0.0 2e-5 3e-5 5e-5 6e-5 8e-5 9e-5 1e-4 1.2e-4 1.5e-4 1.8e-4 2e-4 2.4e-4
                 3e-4 3.7e-4 4e-4 5e-4 6e-4 7e-4 9e-4 0.001 0.0012 0.0015 0.0017 0.002
                 0.0024 0.003 0.0034 0.004 0.005 0.006 0.007 0.008 0.01 0.012 0.014 0.016
                 0.02 0.023 0.027 0.03 0.04 0.05 0.055 0.06 0.08 0.1 0.11 0.12 0.16 0.2
                 0.22 0.25 0.3 0.4 0.44 0.5 0.6 0.8 0.9 1.0 1.2 1.5 1.8 2.0 2.5 3.0 3.5 4.0
                 5.0 6.0 7.0 8.0 10.0 12.0 14.0 16.0 20.0 24.0 28.0 30.0 40.0 50.0 56.0
                 60.0 80.0 100.0 110.0 130.0 160.0 200.0 220.0 260.0 300.0 400.0 450.0
                 500.0 600.0 800.0 900.0 1e3 1.3e3 1.5e3 1.8e3 2e3 2.6e3 3e3 3.6e3 4e3
                 5e3 6e3 7e3 8e3 1e4 1.2e4 1.4e4 1.6e4 2e4 2.5e4 3e4 3.3e4 4e4 5e4 6e4
                 Inf NaN NaN NaN)

    test "every bit pattern" do
      for {expected, byte} <- Enum.with_index(@positive) do
        assert bits_to_string(byte, {:f, 8}) == expected
        assert bits_to_string(byte + 0x80, {:f, 8}) == negate(expected)
      end
    end

    test "every value reads back as itself" do
      for bits <- 0..0x7B do
        assert_roundtrip(bits, {:f, 8})
      end
    end
  end

  describe "f8_e4m3fn" do
    # Computed with an exact brute-force search in Python
    @positive ~w(0.0 0.002 0.004 0.006 0.008 0.01 0.012 0.014 0.016 0.018 0.02 0.021
                 0.023 0.025 0.027 0.03 0.031 0.035 0.04 0.043 0.047 0.05 0.055 0.06
                 0.062 0.07 0.08 0.086 0.09 0.1 0.11 0.12 0.13 0.14 0.16 0.17 0.19 0.2
                 0.22 0.23 0.25 0.28 0.3 0.34 0.38 0.4 0.44 0.47 0.5 0.56 0.6 0.7 0.75 0.8
                 0.9 0.94 1.0 1.1 1.2 1.4 1.5 1.6 1.8 1.9 2.0 2.2 2.5 2.8 3.0 3.2 3.5 3.8
                 4.0 4.5 5.0 5.5 6.0 6.5 7.0 7.5 8.0 9.0 10.0 11.0 12.0 13.0 14.0 15.0 16.0
                 18.0 20.0 22.0 24.0 26.0 28.0 30.0 32.0 36.0 40.0 44.0 50.0 52.0 56.0 60.0
                 64.0 70.0 80.0 90.0 100.0 104.0 110.0 120.0 130.0 140.0 160.0 180.0 200.0
                 210.0 220.0 240.0 260.0 300.0 320.0 350.0 400.0 420.0 450.0 NaN)

    test "every bit pattern" do
      for {expected, byte} <- Enum.with_index(@positive) do
        assert bits_to_string(byte, {:f8_e4m3fn, 8}) == expected
        assert bits_to_string(byte + 0x80, {:f8_e4m3fn, 8}) == negate(expected)
      end
    end

    test "numbers saturate as Nx converts them" do
      assert to_string(:infinity, {:f8_e4m3fn, 8}) == "450.0"
      assert to_string(:neg_infinity, {:f8_e4m3fn, 8}) == "-450.0"
      assert to_string(:nan, {:f8_e4m3fn, 8}) == "NaN"
      assert to_string(1.0e6, {:f8_e4m3fn, 8}) == "450.0"
      assert to_string(2, {:f8_e4m3fn, 8}) == "2.0"
    end
  end

  describe "complex" do
    test "prints both parts with the sign of the imaginary part" do
      assert to_string(Complex.new(1, -1), {:c, 64}) == "1.0-1.0i"
      assert to_string(Complex.new(1, 2), {:c, 64}) == "1.0+2.0i"
      assert to_string(Complex.new(0, 1), {:c, 128}) == "0.0+1.0i"
      assert to_string(1, {:c, 64}) == "1.0+0.0i"
      assert to_string(:infinity, {:c, 64}) == "Inf+0.0i"
      assert to_string(Complex.new(:infinity, 2), {:c, 64}) == "Inf+2.0i"
      assert to_string(Complex.new(:nan, :neg_infinity), {:c, 64}) == "NaN-Infi"
      assert to_string(Complex.new(1, :nan), {:c, 128}) == "1.0+NaNi"
      assert to_string(Complex.new(1 / 3, 0.1), {:c, 64}) == "0.33333334+0.1i"
      assert to_string(Complex.new(1 / 3, 0.1), {:c, 128}) == "0.3333333333333333+0.1i"
      assert to_string(Complex.new(1, negative_zero()), {:c, 64}) == "1.0-0.0i"
    end

    test "bits of the real part come first" do
      bits = Bitwise.bsl(0x3F800000, 32) + 0xBF800000
      assert bits_to_string(bits, {:c, 64}) == "1.0-1.0i"
    end
  end

  test "f32 shortest digits agree with f64 printing on exactly representable values" do
    # Small integers and dyadic fractions print the same in both layouts
    for numerator <- -64..64, denominator <- [1, 2, 4, 8, 16] do
      float = numerator / denominator
      assert to_string(float, {:f, 32}) == Float.to_string(float)
    end
  end

  defp negate("-" <> rest), do: rest
  defp negate("NaN"), do: "NaN"
  defp negate(string), do: "-" <> string

  # Parsing the printed string and rounding it to the nearest value of
  # the type (ties to even) must give back the same bits.
  defp assert_roundtrip(bits, type) do
    string = bits_to_string(bits, type)
    {parsed, ""} = Float.parse(string)
    [value] = Nx.Shared.decode(<<bits::native-size(elem(type, 1))>>, type)
    below = neighbour(bits - 1, type, value)
    above = neighbour(bits + 1, type, value)
    even? = rem(bits, 2) == 0

    assert closer_or_tie?(parsed, value, below, even?) and
             closer_or_tie?(parsed, value, above, even?),
           "#{string} does not read back as #{inspect(type)} #{bits}"
  end

  defp neighbour(bits, {_, size} = type, value) do
    case Nx.Shared.decode(<<bits::native-size(size)>>, type) do
      [other] when is_float(other) and bits >= 0 -> other
      _ when bits < 0 -> -value
      _ -> value + (value - neighbour_below(bits - 2, type))
    end
  end

  defp neighbour_below(bits, {_, size} = type) do
    [other] = Nx.Shared.decode(<<bits::native-size(size)>>, type)
    other
  end

  defp closer_or_tie?(parsed, value, other, even?) do
    distance = abs(parsed - value)
    other_distance = abs(parsed - other)
    distance < other_distance or (distance == other_distance and even?)
  end
end
