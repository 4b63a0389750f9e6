defmodule Nx.Shared do
  # Internal helpers shared by Nx modules and backends.
  #
  # The functions below convert tensor elements to and from the binary
  # representation used by `Nx.from_binary/3` and `Nx.to_binary/1`:
  # elements are laid out one after the other, in the machine's native
  # endianness, using exactly the number of bits of the element type.
  # Sub-byte types (s2, s4, u2, u4) are therefore packed as bitstrings,
  # the first element occupying the most significant bits of the first
  # byte.
  @moduledoc false

  import Bitwise

  @typedoc "An element type, such as `{:f, 32}`."
  @type type :: {atom, pos_integer}

  @typedoc "A value that can be stored in a tensor."
  @type element ::
          number | boolean | :nan | :infinity | :neg_infinity | Complex.t()

  @typedoc "A value read back from a tensor."
  @type decoded :: number | :nan | :infinity | :neg_infinity | Complex.t()

  # Special encodings, as bit patterns, per floating point type.
  @nan %{
    {:f, 8} => 0x7E,
    {:f8_e4m3fn, 8} => 0x7F,
    {:f, 16} => 0x7E00,
    {:bf, 16} => 0x7FC0,
    {:f, 32} => 0x7FC00000,
    {:f, 64} => 0x7FF8000000000000
  }

  @infinity %{
    {:f, 8} => 0x7C,
    {:f8_e4m3fn, 8} => 0x7E,
    {:f, 16} => 0x7C00,
    {:bf, 16} => 0x7F80,
    {:f, 32} => 0x7F800000,
    {:f, 64} => 0x7FF0000000000000
  }

  @neg_infinity %{
    {:f, 8} => 0xFC,
    {:f8_e4m3fn, 8} => 0xFE,
    {:f, 16} => 0xFC00,
    {:bf, 16} => 0xFF80,
    {:f, 32} => 0xFF800000,
    {:f, 64} => 0xFFF0000000000000
  }

  @non_finite [:nan, :infinity, :neg_infinity]

  ## Encoding

  @doc """
  Encodes a single element as a bitstring of the given `type`.

  Integers are written in two's complement and wrap around when they
  do not fit the type. Floats are rounded to the nearest value of the
  type (`bf16` and `f8` keep the most significant bits of the `f32`
  and `f16` encodings respectively). `true` and `false` are stored as
  `1` and `0`. The atoms `:nan`, `:infinity` and `:neg_infinity` are
  accepted by floating point and complex types. `f8_e4m3fn` has no
  infinities, so out of range values and infinities saturate at
  `448.0` and `-448.0`.

  ## Examples

      iex> Nx.Shared.encode(1, {:u, 8})
      <<1>>

      iex> Nx.Shared.encode(300, {:s, 8})
      <<44>>

      iex> Nx.Shared.encode(-1, {:u, 16})
      <<0xFFFF::16-native>>

      iex> Nx.Shared.encode(-2, {:s, 4})
      <<14::4>>

      iex> Nx.Shared.encode(1.5, {:f, 32})
      <<1.5::float-32-native>>

      iex> Nx.Shared.encode(:infinity, {:f, 16})
      <<0x7C00::16-native>>

      iex> Nx.Shared.encode(true, {:f, 64})
      <<1.0::float-64-native>>

      iex> Nx.Shared.encode(1.0, {:bf, 16})
      <<0x3F80::16-native>>

      iex> Nx.Shared.encode(:infinity, {:f8_e4m3fn, 8})
      <<0x7E>>

      iex> Nx.Shared.encode(Complex.new(1.0, -1.0), {:c, 64})
      <<1.0::float-32-native, -1.0::float-32-native>>

  """
  @spec encode(element, type) :: bitstring
  def encode(true, type), do: encode(1, type)
  def encode(false, type), do: encode(0, type)

  def encode(value, {:s, size}) when is_integer(value),
    do: <<value::signed-integer-native-size(size)>>

  def encode(value, {:u, size}) when is_integer(value),
    do: <<value::unsigned-integer-native-size(size)>>

  def encode(value, {:c, size}) do
    half = div(size, 2)

    case value do
      %Complex{re: re, im: im} -> float_bits(re, half) <> float_bits(im, half)
      other -> float_bits(other, half) <> <<0.0::float-native-size(half)>>
    end
  end

  def encode(value, {kind, _} = type)
      when kind in [:f, :bf, :f8_e4m3fn] and (is_number(value) or value in @non_finite),
      do: float_bits(value, type)

  def encode(value, type) do
    raise ArgumentError,
          "cannot encode #{inspect(value)} as an element of type #{inspect(type)}"
  end

  @doc """
  Encodes a flat list of elements as a bitstring of the given `type`.

  See `encode/2` for how each element is encoded.

  ## Examples

      iex> Nx.Shared.encode_list([1, 2, 3], {:u, 8})
      <<1, 2, 3>>

      iex> Nx.Shared.encode_list([1, -1, 7], {:s, 4})
      <<1::4, 15::4, 7::4>>

      iex> Nx.Shared.encode_list([], {:f, 32})
      <<>>

  """
  @spec encode_list([element], type) :: bitstring
  def encode_list(list, type) when is_list(list) do
    list
    |> Enum.map(&encode(&1, type))
    |> :erlang.list_to_bitstring()
  end

  defp float_bits(value, half) when is_integer(half), do: float_bits(value, {:f, half})

  defp float_bits(value, {:f, 64} = type) when value in @non_finite,
    do: special(value, type)

  defp float_bits(value, {:f, 64}), do: <<value::float-native-64>>

  defp float_bits(value, {:f, 32} = type) when value in @non_finite,
    do: special(value, type)

  defp float_bits(value, {:f, 32}), do: <<value::float-native-32>>

  defp float_bits(value, {:f, 16} = type) when value in @non_finite,
    do: special(value, type)

  defp float_bits(value, {:f, 16}), do: <<value::float-native-16>>

  defp float_bits(value, {:bf, 16} = type) when value in @non_finite,
    do: special(value, type)

  defp float_bits(value, {:bf, 16}) do
    <<high::16, _low::16>> = <<value::float-big-32>>
    <<high::16-native>>
  end

  defp float_bits(value, {:f, 8} = type) when value in @non_finite,
    do: special(value, type)

  defp float_bits(value, {:f, 8}) do
    <<high::8, _low::8>> = <<value::float-big-16>>
    <<high::8>>
  end

  defp float_bits(value, {:f8_e4m3fn, 8} = type) when value in @non_finite,
    do: special(value, type)

  defp float_bits(value, {:f8_e4m3fn, 8}), do: <<e4m3fn_bits(value)::8>>

  defp float_bits(value, type) do
    raise ArgumentError,
          "cannot encode #{inspect(value)} as an element of type #{inspect(type)}"
  end

  defp special(:nan, {_, size} = type), do: <<Map.fetch!(@nan, type)::native-size(size)>>

  defp special(:infinity, {_, size} = type),
    do: <<Map.fetch!(@infinity, type)::native-size(size)>>

  defp special(:neg_infinity, {_, size} = type),
    do: <<Map.fetch!(@neg_infinity, type)::native-size(size)>>

  # E4M3FN: 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits.
  # Values saturate at +-448.0 (0x7E/0xFE) and the mantissa is rounded
  # half away from zero without carrying into the exponent, as Nx does.
  defp e4m3fn_bits(value) do
    float = value * 1.0
    <<sign_bit::1, _::63>> = <<float::float-64>>

    if float == 0.0 do
      sign_bit <<< 7
    else
      magnitude = min(abs(float), 448.0)
      exponent = floor(:math.log2(magnitude))
      biased = exponent + 7

      {biased, mantissa} =
        cond do
          biased <= 0 ->
            {0, min(round(magnitude * 512), 7)}

          true ->
            mantissa = round((magnitude / :math.pow(2, exponent) - 1.0) * 8)
            mantissa = mantissa |> max(0) |> min(7)

            if biased >= 15 and mantissa == 7,
              do: {15, 6},
              else: {min(biased, 15), mantissa}
        end

      sign_bit <<< 7 ||| biased <<< 3 ||| mantissa
    end
  end

  ## Decoding

  @doc """
  Decodes a bitstring of elements of the given `type` into a flat list.

  Integers are returned as integers, floats as floats and non-finite
  floats as `:nan`, `:infinity` or `:neg_infinity`. Complex types return
  `Complex` structs whose parts follow the same rules. The bitstring
  must have a whole number of elements.

  ## Examples

      iex> Nx.Shared.decode(<<1, 2, 255>>, {:u, 8})
      [1, 2, 255]

      iex> Nx.Shared.decode(<<1, 2, 255>>, {:s, 8})
      [1, 2, -1]

      iex> Nx.Shared.decode(<<1::4, 15::4, 7::4>>, {:s, 4})
      [1, -1, 7]

      iex> Nx.Shared.decode(<<1.5::float-32-native, 0x7FC00000::32-native>>, {:f, 32})
      [1.5, :nan]

      iex> Nx.Shared.decode(<<0x3F80::16-native, 0xFF80::16-native>>, {:bf, 16})
      [1.0, :neg_infinity]

      iex> Nx.Shared.decode(<<0x7E, 0x7F>>, {:f8_e4m3fn, 8})
      [448.0, :nan]

      iex> Nx.Shared.decode(<<1.0::float-32-native, 0x7F800000::32-native>>, {:c, 64})
      [Complex.new(1.0, :infinity)]

  """
  @spec decode(bitstring, type) :: [decoded]
  def decode(bitstring, {_, size} = type) when is_bitstring(bitstring) do
    if rem(bit_size(bitstring), size) != 0 do
      raise ArgumentError,
            "expected a bitstring with a whole number of #{inspect(type)} elements, " <>
              "got #{bit_size(bitstring)} bits"
    end

    do_decode(bitstring, type)
  end

  defp do_decode(bin, {:s, size}), do: for(<<x::signed-integer-native-size(size) <- bin>>, do: x)

  defp do_decode(bin, {:u, size}),
    do: for(<<x::unsigned-integer-native-size(size) <- bin>>, do: x)

  defp do_decode(bin, {:c, size}) do
    half = div(size, 2)

    for <<re::bitstring-size(half), im::bitstring-size(half) <- bin>> do
      Complex.new(read_float(re, {:f, half}), read_float(im, {:f, half}))
    end
  end

  defp do_decode(bin, {kind, size} = type) when kind in [:f, :bf, :f8_e4m3fn],
    do: for(<<x::bitstring-size(size) <- bin>>, do: read_float(x, type))

  defp do_decode(_bin, type), do: raise(ArgumentError, "unknown type #{inspect(type)}")

  defp read_float(<<x::float-native-64>>, {:f, 64}), do: x
  defp read_float(<<bits::native-64>>, {:f, 64}), do: non_finite(bits, 64, 52)
  defp read_float(<<x::float-native-32>>, {:f, 32}), do: x
  defp read_float(<<bits::native-32>>, {:f, 32}), do: non_finite(bits, 32, 23)
  defp read_float(<<x::float-native-16>>, {:f, 16}), do: x
  defp read_float(<<bits::native-16>>, {:f, 16}), do: non_finite(bits, 16, 10)

  defp read_float(<<bits::native-16>>, {:bf, 16}) do
    case <<bits::16, 0::16>> do
      <<x::float-big-32>> -> x
      _ -> non_finite(bits, 16, 7)
    end
  end

  defp read_float(<<bits::8>>, {:f, 8}) do
    case <<bits::8, 0::8>> do
      <<x::float-big-16>> -> x
      _ -> non_finite(bits, 8, 2)
    end
  end

  defp read_float(<<_sign::1, 15::4, 7::3>>, {:f8_e4m3fn, 8}), do: :nan

  defp read_float(<<sign::1, exponent::4, mantissa::3>>, {:f8_e4m3fn, 8}) do
    magnitude =
      if exponent == 0,
        do: mantissa / 512,
        else: (8 + mantissa) * :math.pow(2, exponent - 10)

    if sign == 1, do: -1.0 * magnitude, else: magnitude
  end

  # Only called when the exponent bits are all ones.
  defp non_finite(bits, size, mantissa_bits) do
    cond do
      (bits &&& (1 <<< mantissa_bits) - 1) != 0 -> :nan
      bits >>> (size - 1) == 1 -> :neg_infinity
      true -> :infinity
    end
  end
end
