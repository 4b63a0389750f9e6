defmodule Nx.FloatFormat do
  # Shortest round-trip printing of floating point tensor elements.
  #
  # Every element is printed with the fewest significant digits that
  # still identify the element within its own type: if the printed
  # number is parsed back and rounded to the type, the original value
  # comes back. When several numbers with that many digits qualify,
  # the one closest to the exact value is picked (ties go to the even
  # digit).
  #
  # Layout: `f64` follows `Float.to_string/1`. Every other float type
  # uses the same rules to choose between plain and exponent notation
  # (pick the shorter one, see `layout/2`) but writes exponent notation
  # without a trailing ".0" when there is a single significant digit,
  # as Nx does: `1e10` for `f32` against `1.0e10` for `f64`.
  @moduledoc false

  import Bitwise

  @typedoc "A float type, such as `{:f, 32}`, or a complex type."
  @type type :: {:f, 8 | 16 | 32 | 64} | {:bf, 16} | {:f8_e4m3fn, 8} | {:c, 64 | 128}

  # {mantissa bits, exponent bits, finite-only?} per type.
  @formats %{
    {:f, 8} => {2, 5, false},
    {:f8_e4m3fn, 8} => {3, 4, true},
    {:f, 16} => {10, 5, false},
    {:bf, 16} => {7, 8, false},
    {:f, 32} => {23, 8, false}
  }

  @doc """
  Converts a number (or `:nan`, `:infinity`, `:neg_infinity`) to the
  string Nx prints for it once stored as an element of `type`.

  The number is first converted to `type` (see `Nx.Shared.encode/2`),
  so precision beyond the type is not shown. Complex types accept
  complex numbers (or real numbers) and print both parts.

  ## Examples

      iex> Nx.FloatFormat.to_string(0.1, {:f, 32})
      "0.1"

      iex> Nx.FloatFormat.to_string(1 / 3, {:f, 32})
      "0.33333334"

      iex> Nx.FloatFormat.to_string(1 / 3, {:f, 64})
      "0.3333333333333333"

      iex> Nx.FloatFormat.to_string(1 / 3, {:f, 16})
      "0.3333"

      iex> Nx.FloatFormat.to_string(1 / 3, {:bf, 16})
      "0.332"

      iex> Nx.FloatFormat.to_string(1, {:f, 32})
      "1.0"

      iex> Nx.FloatFormat.to_string(1.0e10, {:f, 32})
      "1e10"

      iex> Nx.FloatFormat.to_string(1.0e10, {:f, 64})
      "1.0e10"

      iex> Nx.FloatFormat.to_string(1.5e-7, {:f, 32})
      "1.5e-7"

      iex> Nx.FloatFormat.to_string(-0.0, {:f, 32})
      "-0.0"

      iex> Nx.FloatFormat.to_string(:neg_infinity, {:f, 16})
      "-Inf"

      iex> Nx.FloatFormat.to_string(:infinity, {:f8_e4m3fn, 8})
      "450.0"

      iex> Nx.FloatFormat.to_string(Complex.new(1.0, -2.0), {:c, 64})
      "1.0-2.0i"

  """
  @spec to_string(number | :nan | :infinity | :neg_infinity | Complex.t(), type) ::
          String.t()
  def to_string(value, {:c, size}) do
    half = div(size, 2)

    {re, im} =
      case value do
        %Complex{re: re, im: im} -> {re, im}
        other -> {other, 0.0}
      end

    complex(to_string(re, {:f, half}), to_string(im, {:f, half}))
  end

  def to_string(:nan, {:f, 64}), do: "NaN"
  def to_string(:infinity, {:f, 64}), do: "Inf"
  def to_string(:neg_infinity, {:f, 64}), do: "-Inf"
  def to_string(value, {:f, 64}) when is_number(value), do: Float.to_string(value * 1.0)

  def to_string(value, {_, size} = type) when is_map_key(@formats, type) do
    <<bits::native-size(size)>> = Nx.Shared.encode(value, type)
    bits_to_string(bits, type)
  end

  @doc """
  Converts the bit pattern of an element of the float `type` (given as
  an unsigned integer) to the string Nx prints for it.

  For complex types, the bits of the real part are the most significant
  half.

  ## Examples

      iex> Nx.FloatFormat.bits_to_string(0x3DCCCCCD, {:f, 32})
      "0.1"

      iex> Nx.FloatFormat.bits_to_string(0x7BFF, {:f, 16})
      "6.55e4"

      iex> Nx.FloatFormat.bits_to_string(0x0001, {:f, 16})
      "6e-8"

      iex> Nx.FloatFormat.bits_to_string(0xFFC00001, {:f, 32})
      "NaN"

      iex> Nx.FloatFormat.bits_to_string(0x7E, {:f8_e4m3fn, 8})
      "450.0"

      iex> Nx.FloatFormat.bits_to_string(0x3FF0000000000000, {:f, 64})
      "1.0"

  """
  @spec bits_to_string(non_neg_integer, type) :: String.t()
  def bits_to_string(bits, {:c, size}) do
    half = div(size, 2)

    complex(
      bits_to_string(bits >>> half, {:f, half}),
      bits_to_string(bits &&& (1 <<< half) - 1, {:f, half})
    )
  end

  def bits_to_string(bits, {:f, 64}) do
    case <<bits::64>> do
      <<float::float-64>> -> Float.to_string(float)
      _ when (bits &&& 0xFFFFFFFFFFFFF) != 0 -> "NaN"
      _ when bits >>> 63 == 1 -> "-Inf"
      _ -> "Inf"
    end
  end

  def bits_to_string(bits, type) do
    {mantissa_bits, exponent_bits, finite?} = Map.fetch!(@formats, type)
    sign = bits >>> (mantissa_bits + exponent_bits) &&& 1
    exponent = bits >>> mantissa_bits &&& (1 <<< exponent_bits) - 1
    mantissa = bits &&& (1 <<< mantissa_bits) - 1
    max_exponent = (1 <<< exponent_bits) - 1
    max_mantissa = (1 <<< mantissa_bits) - 1
    minus = if sign == 1, do: "-", else: ""

    cond do
      exponent == 0 and mantissa == 0 ->
        minus <> "0.0"

      exponent == max_exponent and finite? and mantissa == max_mantissa ->
        "NaN"

      exponent == max_exponent and not finite? and mantissa != 0 ->
        "NaN"

      exponent == max_exponent and not finite? ->
        minus <> "Inf"

      true ->
        {digits, place} = shortest(mantissa, exponent, mantissa_bits, exponent_bits)
        minus <> layout(Integer.to_string(digits), place)
    end
  end

  defp complex(re, "-" <> _ = im), do: re <> im <> "i"
  defp complex(re, im), do: re <> "+" <> im <> "i"

  # Finds the shortest `digits * 10^place` that rounds back to the
  # (positive, finite, non-zero) float given by its fields.
  #
  # The float is `c * 2^q`. Any number strictly closer to it than to
  # its neighbours rounds back to it; numbers exactly halfway round to
  # it when `c` is even (round half to even). All quantities are kept
  # as integers in units of `2^(q - 2)`, divided by `den`.
  defp shortest(mantissa, exponent, mantissa_bits, exponent_bits) do
    bias = (1 <<< (exponent_bits - 1)) - 1

    {c, q} =
      if exponent == 0,
        do: {mantissa, 1 - bias - mantissa_bits},
        else: {(1 <<< mantissa_bits) + mantissa, exponent - bias - mantissa_bits}

    # The gap below is halved at the start of a binade.
    low_gap = if mantissa == 0 and exponent > 1, do: 1, else: 2
    inclusive? = rem(c, 2) == 0

    {scale, den} = if q >= 2, do: {1 <<< (q - 2), 1}, else: {1, 1 <<< (2 - q)}
    value = 4 * c * scale
    low = (4 * c - low_gap) * scale
    high = (4 * c + 2) * scale

    # Upper bound for log10(high / den).
    start = div((bit_length(high) - bit_length(den) + 1) * 30103, 100_000) + 1
    search(start, value, low, high, den, inclusive?)
  end

  defp search(k, value, low, high, den, inclusive?) do
    {value_k, low_k, high_k, unit} =
      if k >= 0 do
        {value, low, high, den * pow10(k)}
      else
        p = pow10(-k)
        {value * p, low * p, high * p, den}
      end

    first =
      if inclusive?,
        do: ceil_div(low_k, unit),
        else: div(low_k, unit) + 1

    last =
      if inclusive?,
        do: div(high_k, unit),
        else: ceil_div(high_k, unit) - 1

    if first <= last do
      {closest(value_k, unit) |> max(first) |> min(last), k}
    else
      search(k - 1, value, low, high, den, inclusive?)
    end
  end

  # The integer closest to value / unit, ties to even.
  defp closest(value, unit) do
    quotient = div(value, unit)
    twice_remainder = 2 * (value - quotient * unit)

    cond do
      twice_remainder < unit -> quotient
      twice_remainder > unit -> quotient + 1
      rem(quotient, 2) == 0 -> quotient
      true -> quotient + 1
    end
  end

  defp ceil_div(a, b), do: div(a + b - 1, b)

  defp pow10(0), do: 1
  defp pow10(n), do: Integer.pow(10, n)

  defp bit_length(0), do: 0
  defp bit_length(n), do: n |> Integer.digits(2) |> length()

  # Places a decimal point in `digits * 10^place`, choosing between
  # plain and exponent notation by whichever is shorter.
  @doc false
  @spec layout(String.t(), integer) :: String.t()
  def layout(digits, place) do
    length = byte_size(digits)
    exponent = place + length - 1
    exponent_string = Integer.to_string(exponent)
    exponent_cost = byte_size(exponent_string) + 2

    cond do
      place < 0 and exponent >= 0 ->
        {integer, fraction} = String.split_at(digits, length + place)
        integer <> "." <> fraction

      place < 0 and 2 - place - length <= exponent_cost ->
        "0." <> String.duplicate("0", -place - length) <> digits

      place < 0 ->
        scientific(digits, exponent_string)

      exponent_cost + if(length == 1, do: 1, else: 0) >= place + 2 ->
        digits <> String.duplicate("0", place) <> ".0"

      true ->
        scientific(digits, exponent_string)
    end
  end

  defp scientific(<<first::binary-size(1)>>, exponent), do: first <> "e" <> exponent

  defp scientific(<<first::binary-size(1), rest::binary>>, exponent),
    do: first <> "." <> rest <> "e" <> exponent
end
