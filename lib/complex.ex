defmodule Complex do
  @moduledoc """
  Complex numbers and the scalar math Nx needs for them.

  This module stands in for the `complex` Hex package and keeps its
  API: a complex number is a `%Complex{re: re, im: im}` struct and all
  math is done with functions (`add/2`, `multiply/2`, `exp/1`, ...)
  instead of operators.

  Components are floats or one of the non-finite atoms `:nan`,
  `:infinity` and `:neg_infinity`, the same atoms Nx uses for
  non-finite tensor elements. `new/2` converts integers to floats.

  Every function also accepts real arguments (integers, floats and the
  non-finite atoms). Real arguments give real results and stay in the
  real domain: the square root or the logarithm of a negative real is
  `:nan`, as it is for real tensors, while the same value given as a
  complex number gives the complex result:

      iex> Complex.sqrt(-4)
      :nan
      iex> Complex.sqrt(Complex.new(-4))
      %Complex{re: 0.0, im: 2.0}

  Float overflow gives `:infinity` or `:neg_infinity` instead of
  raising, and operations without a meaningful value (such as
  `0 * :infinity`) give `:nan`, following IEEE 754.

  Complex numbers print as `re+imi`, for example `1.0-2.5i`,
  `Inf+NaNi` or `0.0+1.0i`. `parse/1` reads that format back.
  """

  import Kernel, except: [abs: 1]

  @typedoc "A non-finite float value."
  @type non_finite :: :nan | :infinity | :neg_infinity

  @typedoc "A real number, possibly non-finite."
  @type real :: number | non_finite

  @typedoc "A complex number."
  @type t :: %Complex{re: real, im: real}

  @typedoc "Anything the math functions of this module accept."
  @type value :: t | real

  defstruct re: 0.0, im: 0.0

  @non_finite [:nan, :infinity, :neg_infinity]
  @pi :math.pi()

  defguardp is_non_finite(x) when x in @non_finite
  defguardp is_real(x) when is_number(x) or x in @non_finite
  defguardp is_infinite(x) when x in [:infinity, :neg_infinity]

  defimpl Inspect do
    def inspect(z, _opts), do: Complex.to_string(z)
  end

  defimpl String.Chars do
    def to_string(z), do: Complex.to_string(z)
  end

  ## Building and reading

  @doc """
  Builds a complex number from its real part and, optionally, its
  imaginary part (which defaults to zero).

  Integers are converted to floats; the non-finite atoms are kept.

  ## Examples

      iex> Complex.new(1, -2)
      %Complex{re: 1.0, im: -2.0}
      iex> Complex.new(0.5)
      %Complex{re: 0.5, im: 0.0}
      iex> Complex.new(:nan, :infinity)
      %Complex{re: :nan, im: :infinity}

  """
  @spec new(real, real) :: t
  def new(re, im \\ 0) when is_real(re) and is_real(im),
    do: %Complex{re: to_float(re), im: to_float(im)}

  @doc """
  Returns the printed form of `z`: the real part followed by the
  signed imaginary part and `i`. Non-finite parts print as `Inf`,
  `-Inf` and `NaN`.

  This is also what `inspect/2` and `Kernel.to_string/1` return.

  ## Examples

      iex> Complex.to_string(Complex.new(1, 2))
      "1.0+2.0i"
      iex> Complex.to_string(Complex.new(-1.5, -0.25))
      "-1.5-0.25i"
      iex> Complex.to_string(Complex.new(:neg_infinity, :nan))
      "-Inf+NaNi"
      iex> inspect([Complex.new(0, 1)])
      "[0.0+1.0i]"

  """
  @spec to_string(t) :: String.t()
  def to_string(%Complex{re: re, im: im}) do
    real =
      case component_to_string(re) do
        "+" <> unsigned -> unsigned
        negative -> negative
      end

    real <> component_to_string(im) <> "i"
  end

  defp component_to_string(:nan), do: "+NaN"
  defp component_to_string(:infinity), do: "+Inf"
  defp component_to_string(:neg_infinity), do: "-Inf"
  defp component_to_string(x) when x == 0, do: "+0.0"
  defp component_to_string(x) when x < 0, do: "-" <> Kernel.to_string(-x)
  defp component_to_string(x), do: "+" <> Kernel.to_string(x)

  @doc """
  Parses a complex number at the start of `string`.

  Accepts the format printed by `to_string/1` (`"1.0+2.0i"`), as well
  as integers and exponents in either part (`"1-2i"`, `"1e-3+4i"`),
  a lone real (`"3.5"`), a lone imaginary (`"2i"`, `"-i"`) and the
  non-finite names `Inf`, `-Inf` and `NaN`.

  Returns `{complex, rest}` or `:error` when `string` does not start
  with a number.

  ## Examples

      iex> Complex.parse("1.5-2.0i")
      {%Complex{re: 1.5, im: -2.0}, ""}
      iex> Complex.parse("1+2i and more")
      {%Complex{re: 1.0, im: 2.0}, " and more"}
      iex> Complex.parse("-3i")
      {%Complex{re: 0.0, im: -3.0}, ""}
      iex> Complex.parse("2.5")
      {%Complex{re: 2.5, im: 0.0}, ""}
      iex> Complex.parse("Inf-NaNi")
      {%Complex{re: :infinity, im: :nan}, ""}
      iex> Complex.parse("1+i")
      {%Complex{re: 1.0, im: 1.0}, ""}
      iex> Complex.parse("abc")
      :error

  """
  @spec parse(String.t()) :: {t, String.t()} | :error
  def parse(string) when is_binary(string) do
    case parse_part(string) do
      {im, "i" <> rest} ->
        {new(0, im), rest}

      {re, <<sign, _::binary>> = rest} when sign in [?+, ?-] ->
        case parse_part(rest) do
          {im, "i" <> rest} -> {new(re, im), rest}
          _ -> {new(re), rest}
        end

      {re, rest} ->
        {new(re), rest}

      :error ->
        :error
    end
  end

  # Parses an optionally signed real, "Inf" or "NaN". A sign directly
  # followed by "i" reads as a unit imaginary part.
  defp parse_part("+" <> rest), do: parse_unsigned(rest, 1)
  defp parse_part("-" <> rest), do: parse_unsigned(rest, -1)
  defp parse_part(string), do: parse_unsigned(string, 1)

  defp parse_unsigned("Inf" <> rest, sign), do: {multiply(sign, :infinity), rest}
  defp parse_unsigned("NaN" <> rest, _sign), do: {:nan, rest}
  defp parse_unsigned("i" <> _ = rest, sign), do: {sign, rest}

  defp parse_unsigned(<<digit, _::binary>> = string, sign) when digit in ?0..?9 do
    case Float.parse(string) do
      {value, ".i" <> rest} -> {sign * value, "i" <> rest}
      {value, rest} -> {sign * value, rest}
    end
  end

  defp parse_unsigned(_string, _sign), do: :error

  @doc """
  Builds a complex number from its magnitude `r` and its angle `phi`
  in radians. Also accepts the `{r, phi}` tuple returned by `to_polar/1`.

  ## Examples

      iex> Complex.from_polar(2, 0)
      %Complex{re: 2.0, im: 0.0}
      iex> Complex.from_polar(1, :math.pi() / 2)
      %Complex{re: 6.123233995736766e-17, im: 1.0}
      iex> Complex.from_polar({:infinity, :math.pi()})
      %Complex{re: :neg_infinity, im: 0.0}

  """
  @spec from_polar({real, real}) :: t
  def from_polar({r, phi}), do: from_polar(r, phi)

  @spec from_polar(real, real) :: t
  def from_polar(r, phi) when is_real(r) and phi == 0, do: new(r)

  def from_polar(r, phi) when is_real(r) and is_real(phi) do
    {c, s} = {cos(phi), sin(phi)}

    # Without this, the rounding error of cos/sin at multiples of pi/2
    # would turn an infinite magnitude into spurious infinite parts.
    snap = fn x ->
      if is_infinite(r) and is_number(x) and Kernel.abs(x) < 1.0e-12, do: 0, else: x
    end

    new(mul_limit(r, snap.(c)), mul_limit(r, snap.(s)))
  end

  @doc """
  Returns the magnitude and the angle of `z` as a `{r, phi}` tuple,
  the inverse of `from_polar/2`.

  ## Examples

      iex> Complex.to_polar(Complex.new(0, 2))
      {2.0, 1.5707963267948966}
      iex> Complex.to_polar(-3)
      {3, 3.141592653589793}

  """
  @spec to_polar(value) :: {real, real}
  def to_polar(z), do: {abs(z), phase(z)}

  @doc """
  Returns the real part of `z`. Reals are returned as they are.

  ## Examples

      iex> Complex.real(Complex.new(3, 4))
      3.0
      iex> Complex.real(-7)
      -7

  """
  @spec real(value) :: real
  def real(%Complex{re: re}), do: re
  def real(x) when is_real(x), do: x

  @doc """
  Returns the imaginary part of `z`, which is zero for reals.

  ## Examples

      iex> Complex.imag(Complex.new(3, 4))
      4.0
      iex> Complex.imag(2.5)
      0.0
      iex> Complex.imag(3)
      0

  """
  @spec imag(value) :: real
  def imag(%Complex{im: im}), do: im
  def imag(x) when is_number(x), do: x * 0
  def imag(x) when is_non_finite(x), do: 0.0

  @doc """
  Returns the magnitude of `z`. It is `:infinity` when any part is
  infinite, even if the other part is NaN.

  ## Examples

      iex> Complex.abs(Complex.new(3, -4))
      5.0
      iex> Complex.abs(Complex.new(:nan, :neg_infinity))
      :infinity
      iex> Complex.abs(-2)
      2
      iex> Complex.abs(:neg_infinity)
      :infinity

  """
  @spec abs(value) :: real
  def abs(%Complex{re: re, im: im}) when is_infinite(re) or is_infinite(im), do: :infinity
  def abs(%Complex{re: :nan}), do: :nan
  def abs(%Complex{im: :nan}), do: :nan
  def abs(%Complex{re: re, im: im}), do: hypot(Kernel.abs(re), Kernel.abs(im))
  def abs(x) when is_number(x), do: Kernel.abs(x)
  def abs(:nan), do: :nan
  def abs(x) when is_infinite(x), do: :infinity

  # sqrt(x^2 + y^2) scaled by the larger side so that it neither
  # overflows nor underflows for large or small inputs.
  defp hypot(x, y) when x == 0, do: y
  defp hypot(x, y) when y == 0, do: x
  defp hypot(x, y) when x > y, do: mul(x, :math.sqrt(1 + y / x * (y / x)))
  defp hypot(x, y), do: mul(y, :math.sqrt(1 + x / y * (x / y)))

  @doc """
  Returns the squared magnitude of `z`, which needs no square root.

  ## Examples

      iex> Complex.abs_squared(Complex.new(1, 2))
      5.0
      iex> Complex.abs_squared(-3)
      9
      iex> Complex.abs_squared(Complex.new(:infinity, 0))
      :infinity

  """
  @spec abs_squared(value) :: real
  def abs_squared(%Complex{re: re, im: im}) when is_infinite(re) or is_infinite(im), do: :infinity
  def abs_squared(%Complex{re: re, im: im}), do: add(square(re), square(im))
  def abs_squared(x) when is_real(x), do: square(abs(x))

  @doc """
  Returns the angle of `z` in radians, in the range `[-pi, pi]`.

  Non-finite parts follow the C99 `carg` rules: an infinite part
  dominates a finite one and NaN in either part gives NaN.

  ## Examples

      iex> Complex.phase(Complex.new(0, 1))
      1.5707963267948966
      iex> Complex.phase(Complex.new(-1, -1))
      -2.356194490192345
      iex> Complex.phase(Complex.new(:infinity, :infinity))
      0.7853981633974483
      iex> Complex.phase(-2)
      3.141592653589793
      iex> Complex.phase(2)
      0.0

  """
  @spec phase(value) :: real
  def phase(%Complex{re: re, im: im}), do: atan2(im, re)
  def phase(x) when is_real(x), do: atan2(0.0, x)

  @doc """
  Returns the angle of the point `(a, b)`, that is the phase of
  `a + bi`. Arguments are reals, or complex numbers with a zero
  imaginary part (which give a complex result).

  Non-finite arguments follow the C99 `atan2` rules.

  ## Examples

      iex> Complex.atan2(1, 1)
      0.7853981633974483
      iex> Complex.atan2(1, :neg_infinity)
      3.141592653589793
      iex> Complex.atan2(:neg_infinity, 5)
      -1.5707963267948966
      iex> Complex.atan2(Complex.new(1), Complex.new(-1))
      %Complex{re: 2.356194490192345, im: 0.0}
      iex> Complex.atan2(Complex.new(0, 1), 1)
      ** (ArithmeticError) Complex.atan2 only accepts real numbers as arguments

  """
  @spec atan2(value, value) :: value
  def atan2(b, a) when is_number(b) and is_number(a), do: :math.atan2(b, a)
  def atan2(b, a) when b == :nan or a == :nan, do: :nan
  def atan2(b, :infinity) when is_infinite(b), do: sign_of(b) * @pi / 4
  def atan2(b, :neg_infinity) when is_infinite(b), do: sign_of(b) * 3 * @pi / 4
  def atan2(b, a) when is_infinite(b) and is_number(a), do: sign_of(b) * @pi / 2
  def atan2(b, :infinity) when is_number(b), do: 0.0 * sign_of(b)
  def atan2(b, :neg_infinity) when is_number(b), do: if(b < 0, do: -@pi, else: @pi)

  def atan2(b, a) do
    if imag(b) != 0 or imag(a) != 0 do
      raise ArithmeticError, "Complex.atan2 only accepts real numbers as arguments"
    end

    new(atan2(real(b), real(a)))
  end

  @doc """
  Returns the complex conjugate of `z`: the imaginary part negated.

  ## Examples

      iex> Complex.conjugate(Complex.new(1, 2))
      %Complex{re: 1.0, im: -2.0}
      iex> Complex.conjugate(Complex.new(0, :infinity))
      %Complex{re: 0.0, im: :neg_infinity}
      iex> Complex.conjugate(5)
      5

  """
  @spec conjugate(value) :: value
  def conjugate(%Complex{re: re, im: im}), do: new(re, negate(im))
  def conjugate(x) when is_real(x), do: x

  ## Arithmetic

  @doc """
  Negates `z` (both parts of a complex number).

  ## Examples

      iex> Complex.negate(Complex.new(1, -2))
      %Complex{re: -1.0, im: 2.0}
      iex> Complex.negate(:infinity)
      :neg_infinity
      iex> Complex.negate(3)
      -3

  """
  @spec negate(value) :: value
  def negate(%Complex{re: re, im: im}), do: new(negate(re), negate(im))
  def negate(x) when is_number(x), do: -x
  def negate(:nan), do: :nan
  def negate(:infinity), do: :neg_infinity
  def negate(:neg_infinity), do: :infinity

  @doc """
  Adds `left` and `right`. Integers added to integers stay integers.

  ## Examples

      iex> Complex.add(Complex.new(1, 2), Complex.new(3, -4))
      %Complex{re: 4.0, im: -2.0}
      iex> Complex.add(Complex.new(1, 2), 10)
      %Complex{re: 11.0, im: 2.0}
      iex> Complex.add(2, 3)
      5
      iex> Complex.add(:infinity, :neg_infinity)
      :nan

  """
  @spec add(value, value) :: value
  def add(left, right) when is_real(left) and is_real(right), do: radd(left, right)

  def add(left, right) do
    {a, b} = parts(left)
    {c, d} = parts(right)
    new(radd(a, c), radd(b, d))
  end

  @doc """
  Subtracts `right` from `left`.

  ## Examples

      iex> Complex.subtract(Complex.new(1, 2), Complex.new(3, 4))
      %Complex{re: -2.0, im: -2.0}
      iex> Complex.subtract(10, Complex.new(1, 2))
      %Complex{re: 9.0, im: -2.0}
      iex> Complex.subtract(:infinity, :infinity)
      :nan

  """
  @spec subtract(value, value) :: value
  def subtract(left, right), do: add(left, negate(right))

  @doc """
  Multiplies `left` by `right`.

  A real factor scales both parts of a complex number, so it never
  mixes them: `2 * (Inf+1i)` is `Inf+2i`.

  ## Examples

      iex> Complex.multiply(Complex.new(1, 2), Complex.new(3, 4))
      %Complex{re: -5.0, im: 10.0}
      iex> Complex.multiply(Complex.new(0, 1), Complex.new(0, 1))
      %Complex{re: -1.0, im: 0.0}
      iex> Complex.multiply(-2, Complex.new(:infinity, 1))
      %Complex{re: :neg_infinity, im: -2.0}
      iex> Complex.multiply(3, 4)
      12
      iex> Complex.multiply(0, :infinity)
      :nan

  """
  @spec multiply(value, value) :: value
  def multiply(left, right) when is_real(left) and is_real(right), do: mul(left, right)

  def multiply(left, %Complex{re: c, im: d}) when is_real(left),
    do: new(mul(left, c), mul(left, d))

  def multiply(%Complex{} = left, right) when is_real(right), do: multiply(right, left)

  def multiply(%Complex{re: a, im: b}, %Complex{re: c, im: d}),
    do: new(rsub(mul(a, c), mul(b, d)), radd(mul(a, d), mul(b, c)))

  @doc """
  Returns `z` multiplied by itself.

  ## Examples

      iex> Complex.square(Complex.new(1, 1))
      %Complex{re: 0.0, im: 2.0}
      iex> Complex.square(-3)
      9

  """
  @spec square(value) :: value
  def square(z), do: multiply(z, z)

  @doc """
  Divides `left` by `right`.

  Division always returns floats. Dividing a non-zero real by zero
  gives a signed infinity and `0 / 0` gives `:nan`. A finite complex
  number divided by an infinite one is zero.

  ## Examples

      iex> Complex.divide(Complex.new(-5, 10), Complex.new(3, 4))
      %Complex{re: 1.0, im: 2.0}
      iex> Complex.divide(Complex.new(2, 4), 2)
      %Complex{re: 1.0, im: 2.0}
      iex> Complex.divide(1, Complex.new(0, 1))
      %Complex{re: 0.0, im: -1.0}
      iex> Complex.divide(Complex.new(1, 1), Complex.new(:infinity, 0))
      %Complex{re: 0.0, im: 0.0}
      iex> Complex.divide(3, 2)
      1.5
      iex> Complex.divide(-1, 0)
      :neg_infinity

  """
  @spec divide(value, value) :: value
  def divide(left, right) when is_real(left) and is_real(right), do: rdiv(left, right)

  def divide(%Complex{re: a, im: b}, right) when is_real(right),
    do: new(rdiv(a, right), rdiv(b, right))

  def divide(left, right) do
    {a, b} = parts(left)
    {c, d} = parts(right)

    cond do
      :nan in [a, b, c, d] ->
        new(:nan, :nan)

      is_number(a) and is_number(b) and (is_infinite(c) or is_infinite(d)) ->
        new(0, 0)

      is_number(a) and is_number(b) and is_number(c) and is_number(d) and (c != 0 or d != 0) ->
        smith_divide(a, b, c, d)

      is_number(a) and is_number(b) and c == 0 and d == 0 ->
        new(rdiv(a, 0), rdiv(b, 0))

      true ->
        # Non-finite numerators or a zero denominator: the plain formula
        # gives the right infinities and NaNs.
        den = radd(mul(c, c), mul(d, d))
        re = rdiv(radd(mul(a, c), mul(b, d)), den)
        im = rdiv(rsub(mul(b, c), mul(a, d)), den)
        new(re, im)
    end
  end

  # Smith's algorithm: divides by the larger part of the denominator
  # first, avoiding the overflow of c^2 + d^2.
  defp smith_divide(a, b, c, d) do
    if Kernel.abs(c) >= Kernel.abs(d) do
      r = d / c
      den = c + d * r
      new(rdiv(a + b * r, den), rdiv(b - a * r, den))
    else
      r = c / d
      den = c * r + d
      new(rdiv(a * r + b, den), rdiv(b * r - a, den))
    end
  end

  @doc """
  Raises `base` to the power `exponent`.

  With reals, integer powers of integers are exact integers and a
  negative base with a non-integer exponent gives `:nan`. Complex
  powers use the principal branch `exp(exponent * log(base))`.

  ## Examples

      iex> Complex.pow(2, 10)
      1024
      iex> Complex.pow(4, 0.5)
      2.0
      iex> Complex.pow(-8, 1 / 3)
      :nan
      iex> Complex.pow(0.5, :infinity)
      0.0
      iex> Complex.pow(Complex.new(0, 1), 2)
      %Complex{re: -1.0, im: 1.2246467991473532e-16}
      iex> Complex.pow(Complex.new(1, 1), Complex.new(0, 0))
      %Complex{re: 1.0, im: 0.0}

  """
  @spec pow(value, value) :: value
  def pow(base, exponent) when is_real(base) and is_real(exponent), do: rpow(base, exponent)

  def pow(base, exponent) do
    {a, b} = parts(base)
    {c, d} = parts(exponent)

    cond do
      Enum.any?([a, b, c, d], &is_non_finite/1) -> new(:nan, :nan)
      c == 0 and d == 0 -> new(1)
      a == 0 and b == 0 and c > 0 -> new(0)
      a == 0 and b == 0 and d == 0 -> new(:infinity, 0)
      a == 0 and b == 0 -> new(:nan, :nan)
      c == 1 and d == 0 -> new(a, b)
      c == -1 and d == 0 -> divide(1, new(a, b))
      true -> polar_pow(new(a, b), c, d)
    end
  end

  defp polar_pow(z, c, d) do
    rho = abs(z)
    theta = phase(z)
    magnitude = mul(rpow(rho, c), exp(-d * theta))
    angle = radd(c * theta, mul(d, log(rho)))
    new(mul(magnitude, cos(angle)), mul(magnitude, sin(angle)))
  end

  ## Roots, exponentials and logarithms

  @doc """
  Returns the principal square root of `z`.

  A negative real gives `:nan`; wrap it with `new/1` to get the
  imaginary root.

  ## Examples

      iex> Complex.sqrt(Complex.new(-4, 0))
      %Complex{re: 0.0, im: 2.0}
      iex> Complex.sqrt(Complex.new(3, 4))
      %Complex{re: 2.0, im: 1.0}
      iex> Complex.sqrt(Complex.new(1, :infinity))
      %Complex{re: :infinity, im: :infinity}
      iex> Complex.sqrt(16)
      4.0
      iex> Complex.sqrt(-1)
      :nan

  """
  @spec sqrt(value) :: value
  def sqrt(%Complex{im: im}) when is_infinite(im), do: new(:infinity, im)
  def sqrt(%Complex{re: :nan}), do: new(:nan, :nan)
  def sqrt(%Complex{re: :infinity, im: :nan}), do: new(:infinity, :nan)
  def sqrt(%Complex{re: :infinity, im: im}), do: new(:infinity, mul(0.0, sign_of(im)))
  def sqrt(%Complex{re: :neg_infinity, im: :nan}), do: new(:nan, :infinity)

  def sqrt(%Complex{re: :neg_infinity, im: im}),
    do: new(0, if(im < 0, do: :neg_infinity, else: :infinity))

  def sqrt(%Complex{im: :nan}), do: new(:nan, :nan)
  def sqrt(%Complex{re: re, im: im}) when re == 0 and im == 0, do: new(0, im)

  def sqrt(%Complex{re: re, im: im}) do
    {x, y} = {Kernel.abs(re), Kernel.abs(im)}

    w =
      if x >= y do
        r = y / x
        :math.sqrt(x) * :math.sqrt(0.5 * (1 + :math.sqrt(1 + r * r)))
      else
        r = x / y
        :math.sqrt(y) * :math.sqrt(0.5 * (r + :math.sqrt(1 + r * r)))
      end

    if re >= 0,
      do: new(w, im / (2 * w)),
      else: new(y / (2 * w), if(im < 0, do: -w, else: w))
  end

  def sqrt(x) when is_number(x) and x >= 0, do: :math.sqrt(x)
  def sqrt(:infinity), do: :infinity
  def sqrt(x) when is_real(x), do: :nan

  @doc """
  Returns the cube root of `z`.

  Reals have a real cube root, negative ones included. Complex
  numbers get the principal root, whose angle is a third of theirs.

  ## Examples

      iex> Complex.cbrt(-27)
      -3.0
      iex> Complex.cbrt(:neg_infinity)
      :neg_infinity
      iex> Complex.cbrt(Complex.new(0, 8))
      %Complex{re: 1.7320508075688774, im: 0.9999999999999999}

  """
  @spec cbrt(value) :: value
  def cbrt(%Complex{} = z), do: from_polar(cbrt(abs(z)), divide(phase(z), 3))
  def cbrt(x) when is_number(x) and x >= 0, do: :math.pow(x, 1 / 3)
  def cbrt(x) when is_number(x), do: -:math.pow(-x, 1 / 3)
  def cbrt(x) when is_non_finite(x), do: x

  @doc """
  Returns the exponential `e^z`.

  ## Examples

      iex> Complex.exp(0)
      1.0
      iex> Complex.exp(:neg_infinity)
      0.0
      iex> Complex.exp(1000)
      :infinity
      iex> Complex.exp(Complex.new(0, :math.pi()))
      %Complex{re: -1.0, im: 1.2246467991473532e-16}
      iex> Complex.exp(Complex.new(:infinity, 0))
      %Complex{re: :infinity, im: 0.0}

  """
  @spec exp(value) :: value
  def exp(%Complex{re: re, im: im}) when im == 0, do: new(exp(re), im)
  def exp(%Complex{re: :neg_infinity, im: im}) when is_number(im), do: new(0, 0)
  def exp(%Complex{re: :infinity, im: im}) when is_non_finite(im), do: new(:infinity, :nan)
  def exp(%Complex{re: re, im: im}) when re == :nan or is_non_finite(im), do: new(:nan, :nan)

  def exp(%Complex{re: re, im: im}) do
    rho = exp(re)
    new(mul(rho, :math.cos(im)), mul(rho, :math.sin(im)))
  end

  def exp(x) when is_number(x), do: guard_overflow(fn -> :math.exp(x) end, 1)
  def exp(:infinity), do: :infinity
  def exp(:neg_infinity), do: 0.0
  def exp(:nan), do: :nan

  @doc """
  Returns the natural logarithm of `z`, on the principal branch
  (imaginary part in `(-pi, pi]`).

  ## Examples

      iex> Complex.log(Complex.new(-1))
      %Complex{re: 0.0, im: 3.141592653589793}
      iex> Complex.log(Complex.new(0, 0))
      %Complex{re: :neg_infinity, im: 0.0}
      iex> Complex.log(:math.exp(2))
      2.0
      iex> Complex.log(0)
      :neg_infinity
      iex> Complex.log(-1)
      :nan

  """
  @spec log(value) :: value
  def log(%Complex{} = z), do: new(log(abs(z)), phase(z))
  def log(x) when is_number(x) and x > 0, do: :math.log(x)
  def log(x) when x == 0, do: :neg_infinity
  def log(:infinity), do: :infinity
  def log(x) when is_real(x), do: :nan

  @doc """
  Returns the base 2 logarithm of `z`.

  ## Examples

      iex> Complex.log2(8)
      3.0
      iex> Complex.log2(Complex.new(0, 2))
      %Complex{re: 1.0, im: 2.266180070913597}

  """
  @spec log2(value) :: value
  def log2(%Complex{} = z), do: divide(log(z), :math.log(2))
  def log2(x) when is_number(x) and x > 0, do: :math.log2(x)
  def log2(x), do: log(x)

  @doc """
  Returns the base 10 logarithm of `z`.

  ## Examples

      iex> Complex.log10(1000)
      3.0
      iex> Complex.log10(Complex.new(-100))
      %Complex{re: 2.0, im: 1.3643763538418412}

  """
  @spec log10(value) :: value
  def log10(%Complex{} = z), do: divide(log(z), :math.log(10))
  def log10(x) when is_number(x) and x > 0, do: :math.log10(x)
  def log10(x), do: log(x)

  ## Trigonometry

  @doc """
  Returns the sine of `z`.

  ## Examples

      iex> Complex.sin(:math.pi() / 2)
      1.0
      iex> Complex.sin(Complex.new(0, 1))
      %Complex{re: 0.0, im: 1.1752011936438014}
      iex> Complex.sin(:infinity)
      :nan

  """
  @spec sin(value) :: value
  def sin(%Complex{re: a, im: b}) when is_number(a) and is_real(b) and b != :nan,
    do: new(mul_limit(:math.sin(a), cosh(b)), mul_limit(:math.cos(a), sinh(b)))

  def sin(%Complex{}), do: new(:nan, :nan)
  def sin(x) when is_number(x), do: :math.sin(x)
  def sin(x) when is_non_finite(x), do: :nan

  @doc """
  Returns the cosine of `z`.

  ## Examples

      iex> Complex.cos(0)
      1.0
      iex> Complex.cos(Complex.new(0, 1))
      %Complex{re: 1.5430806348152437, im: -0.0}

  """
  @spec cos(value) :: value
  def cos(%Complex{re: a, im: b}) when is_number(a) and is_real(b) and b != :nan,
    do: new(mul_limit(:math.cos(a), cosh(b)), negate(mul_limit(:math.sin(a), sinh(b))))

  def cos(%Complex{}), do: new(:nan, :nan)
  def cos(x) when is_number(x), do: :math.cos(x)
  def cos(x) when is_non_finite(x), do: :nan

  @doc """
  Returns the tangent of `z`.

  For complex numbers it uses `tan(a+bi) = (sin 2a + i sinh 2b) / (cos 2a + cosh 2b)`,
  which tends to `±i` as the imaginary part grows.

  ## Examples

      iex> Complex.tan(:math.pi() / 4)
      0.9999999999999999
      iex> Complex.tan(Complex.new(0, 1))
      %Complex{re: 0.0, im: 0.761594155955765}
      iex> Complex.tan(Complex.new(1, :infinity))
      %Complex{re: 0.0, im: 1.0}

  """
  @spec tan(value) :: value
  def tan(%Complex{re: a, im: b})
      when is_number(a) and (is_infinite(b) or (is_number(b) and Kernel.abs(b) > 20)),
      do: new(0, sign_of(b))

  def tan(%Complex{re: a, im: b}) when is_number(a) and is_number(b) do
    den = :math.cos(2 * a) + cosh(2 * b)
    new(rdiv(:math.sin(2 * a), den), rdiv(sinh(2 * b), den))
  end

  def tan(%Complex{}), do: new(:nan, :nan)
  def tan(x) when is_number(x), do: :math.tan(x)
  def tan(x) when is_non_finite(x), do: :nan

  @doc """
  Returns the cotangent of `z`, `cos(z) / sin(z)`.

  ## Examples

      iex> Complex.cot(:math.pi() / 4)
      1.0000000000000002
      iex> Complex.cot(0)
      :infinity
      iex> Complex.cot(Complex.new(0, 1))
      %Complex{re: 0.0, im: -1.3130352854993312}

  """
  @spec cot(value) :: value
  def cot(z) when is_real(z), do: rdiv(cos(z), sin(z))
  def cot(z), do: divide(cos(z), sin(z))

  @doc """
  Returns the secant of `z`, `1 / cos(z)`.

  ## Examples

      iex> Complex.sec(0)
      1.0
      iex> Complex.sec(Complex.new(0, 1))
      %Complex{re: 0.6480542736638855, im: 0.0}

  """
  @spec sec(value) :: value
  def sec(z), do: divide(1, cos(z))

  @doc """
  Returns the cosecant of `z`, `1 / sin(z)`.

  ## Examples

      iex> Complex.csc(:math.pi() / 2)
      1.0
      iex> Complex.csc(Complex.new(0, 1))
      %Complex{re: 0.0, im: -0.8509181282393216}

  """
  @spec csc(value) :: value
  def csc(z), do: divide(1, sin(z))

  @doc """
  Returns the inverse sine of `z`, `-i log(iz + sqrt(1 - z^2))`.

  Reals outside `[-1, 1]` give `:nan`.

  ## Examples

      iex> Complex.asin(1)
      1.5707963267948966
      iex> Complex.asin(2)
      :nan
      iex> Complex.asin(Complex.new(2))
      %Complex{re: 1.5707963267948966, im: -1.3169578969248166}

  """
  @spec asin(value) :: value
  def asin(x) when is_number(x) and x >= -1 and x <= 1, do: :math.asin(x)
  def asin(x) when is_real(x), do: :nan

  def asin(z) do
    with_finite(z, fn ->
      i = new(0, 1)
      root = sqrt(subtract(1, square(z)))
      multiply(negate(i), log(add(multiply(i, z), root)))
    end)
  end

  @doc """
  Returns the inverse cosine of `z`, `-i log(z + sqrt(z^2 - 1))`.

  Reals outside `[-1, 1]` give `:nan`.

  ## Examples

      iex> Complex.acos(-1)
      3.141592653589793
      iex> Complex.acos(Complex.new(0.5))
      %Complex{re: 1.0471975511965976, im: 0.0}

  """
  @spec acos(value) :: value
  def acos(x) when is_number(x) and x >= -1 and x <= 1, do: :math.acos(x)
  def acos(x) when is_real(x), do: :nan

  def acos(z) do
    with_finite(z, fn ->
      root = sqrt(subtract(square(z), 1))
      multiply(new(0, -1), log(add(z, root)))
    end)
  end

  @doc """
  Returns the inverse tangent of `z`, `i/2 (log(1 - iz) - log(1 + iz))`.

  ## Examples

      iex> Complex.atan(1)
      0.7853981633974483
      iex> Complex.atan(:neg_infinity)
      -1.5707963267948966
      iex> Complex.atan(Complex.new(0, 0.5))
      %Complex{re: 0.0, im: 0.5493061443340548}

  """
  @spec atan(value) :: value
  def atan(x) when is_number(x), do: :math.atan(x)
  def atan(x) when is_infinite(x), do: sign_of(x) * @pi / 2
  def atan(:nan), do: :nan

  def atan(z) do
    with_finite(z, fn ->
      iz = multiply(new(0, 1), z)
      multiply(new(0, 0.5), subtract(log(subtract(1, iz)), log(add(1, iz))))
    end)
  end

  @doc """
  Returns the inverse cotangent of `z`, `atan(1 / z)`.

  ## Examples

      iex> Complex.acot(1)
      0.7853981633974483
      iex> Complex.acot(0)
      1.5707963267948966
      iex> Complex.acot(Complex.new(1, 1))
      %Complex{re: 0.5535743588970452, im: -0.4023594781085251}

  """
  @spec acot(value) :: value
  def acot(z) when is_real(z), do: atan(divide(1, z))

  def acot(z) do
    with_finite(z, fn ->
      i_over_z = divide(new(0, 1), z)
      multiply(new(0, 0.5), subtract(log(subtract(1, i_over_z)), log(add(1, i_over_z))))
    end)
  end

  @doc """
  Returns the inverse secant of `z`, `acos(1 / z)`.

  ## Examples

      iex> Complex.asec(2)
      1.0471975511965979
      iex> Complex.asec(0.5)
      :nan
      iex> Complex.asec(Complex.new(2))
      %Complex{re: 1.0471975511965976, im: 0.0}

  """
  @spec asec(value) :: value
  def asec(z) when is_real(z), do: acos(divide(1, z))

  def asec(z) do
    with_finite(z, fn ->
      inv = divide(1, z)
      root = multiply(new(0, 1), sqrt(subtract(1, square(inv))))
      multiply(new(0, -1), log(add(root, inv)))
    end)
  end

  @doc """
  Returns the inverse cosecant of `z`, `asin(1 / z)`.

  ## Examples

      iex> Complex.acsc(2)
      0.5235987755982989
      iex> Complex.acsc(Complex.new(2))
      %Complex{re: 0.5235987755982989, im: 0.0}

  """
  @spec acsc(value) :: value
  def acsc(z) when is_real(z), do: asin(divide(1, z))

  def acsc(z) do
    with_finite(z, fn ->
      root = sqrt(subtract(1, divide(1, square(z))))
      multiply(new(0, -1), log(add(root, divide(new(0, 1), z))))
    end)
  end

  ## Hyperbolic functions

  @doc """
  Returns the hyperbolic sine of `z`.

  ## Examples

      iex> Complex.sinh(1)
      1.1752011936438014
      iex> Complex.sinh(:neg_infinity)
      :neg_infinity
      iex> Complex.sinh(Complex.new(0, :math.pi() / 2))
      %Complex{re: 0.0, im: 1.0}

  """
  @spec sinh(value) :: value
  def sinh(%Complex{re: a, im: b}) when is_real(a) and a != :nan and is_number(b),
    do: new(mul_limit(sinh(a), :math.cos(b)), mul_limit(cosh(a), :math.sin(b)))

  def sinh(%Complex{}), do: new(:nan, :nan)
  def sinh(x) when is_number(x), do: guard_overflow(fn -> :math.sinh(x) end, sign_of(x))
  def sinh(x) when is_non_finite(x), do: x

  @doc """
  Returns the hyperbolic cosine of `z`.

  ## Examples

      iex> Complex.cosh(0)
      1.0
      iex> Complex.cosh(-1000)
      :infinity
      iex> Complex.cosh(Complex.new(0, :math.pi()))
      %Complex{re: -1.0, im: 0.0}

  """
  @spec cosh(value) :: value
  def cosh(%Complex{re: a, im: b}) when is_real(a) and a != :nan and is_number(b),
    do: new(mul_limit(cosh(a), :math.cos(b)), mul_limit(sinh(a), :math.sin(b)))

  def cosh(%Complex{}), do: new(:nan, :nan)
  def cosh(x) when is_number(x), do: guard_overflow(fn -> :math.cosh(x) end, 1)
  def cosh(x) when is_infinite(x), do: :infinity
  def cosh(:nan), do: :nan

  @doc """
  Returns the hyperbolic tangent of `z`.

  For complex numbers it uses `tanh(a+bi) = (sinh 2a + i sin 2b) / (cosh 2a + cos 2b)`,
  which tends to `±1` as the real part grows.

  ## Examples

      iex> Complex.tanh(0.5)
      0.46211715726000974
      iex> Complex.tanh(:infinity)
      1.0
      iex> Complex.tanh(Complex.new(0, :math.pi() / 4))
      %Complex{re: 0.0, im: 1.0}
      iex> Complex.tanh(Complex.new(-50, 1))
      %Complex{re: -1.0, im: 0.0}

  """
  @spec tanh(value) :: value
  def tanh(%Complex{re: a, im: b})
      when is_number(b) and (is_infinite(a) or (is_number(a) and Kernel.abs(a) > 20)),
      do: new(sign_of(a), 0)

  def tanh(%Complex{re: a, im: b}) when is_number(a) and is_number(b) do
    den = cosh(2 * a) + :math.cos(2 * b)
    new(rdiv(sinh(2 * a), den), rdiv(:math.sin(2 * b), den))
  end

  def tanh(%Complex{}), do: new(:nan, :nan)
  def tanh(x) when is_number(x), do: :math.tanh(x)
  def tanh(x) when is_infinite(x), do: sign_of(x) * 1.0
  def tanh(:nan), do: :nan

  @doc """
  Returns the hyperbolic cotangent of `z`, `cosh(z) / sinh(z)`.

  ## Examples

      iex> Complex.coth(1)
      1.3130352854993315
      iex> Complex.coth(0)
      :infinity
      iex> Complex.coth(Complex.new(1))
      %Complex{re: 1.3130352854993312, im: 0.0}

  """
  @spec coth(value) :: value
  def coth(z) when is_real(z), do: rdiv(1, tanh(z))
  def coth(z), do: divide(cosh(z), sinh(z))

  @doc """
  Returns the hyperbolic secant of `z`, `1 / cosh(z)`.

  ## Examples

      iex> Complex.sech(0)
      1.0
      iex> Complex.sech(:infinity)
      0.0
      iex> Complex.sech(Complex.new(1, 1))
      %Complex{re: 0.49833703055518686, im: -0.5910838417210451}

  """
  @spec sech(value) :: value
  def sech(z), do: divide(1, cosh(z))

  @doc """
  Returns the hyperbolic cosecant of `z`, `1 / sinh(z)`.

  ## Examples

      iex> Complex.csch(1)
      0.8509181282393216
      iex> Complex.csch(Complex.new(0, :math.pi() / 2))
      %Complex{re: 0.0, im: -1.0}

  """
  @spec csch(value) :: value
  def csch(z), do: divide(1, sinh(z))

  @doc """
  Returns the inverse hyperbolic sine of `z`, `log(z + sqrt(z^2 + 1))`.

  ## Examples

      iex> Complex.asinh(0)
      0.0
      iex> Complex.asinh(:infinity)
      :infinity
      iex> Complex.asinh(Complex.new(0, 1))
      %Complex{re: 0.0, im: 1.5707963267948966}

  """
  @spec asinh(value) :: value
  def asinh(x) when is_number(x), do: :math.asinh(x)
  def asinh(x) when is_non_finite(x), do: x

  def asinh(z) do
    with_finite(z, fn -> log(add(z, sqrt(add(square(z), 1)))) end)
  end

  @doc """
  Returns the inverse hyperbolic cosine of `z`, `log(z + sqrt(z^2 - 1))`.

  Reals below 1 give `:nan`.

  ## Examples

      iex> Complex.acosh(1)
      0.0
      iex> Complex.acosh(0.5)
      :nan
      iex> Complex.acosh(Complex.new(0.5))
      %Complex{re: 0.0, im: 1.0471975511965976}

  """
  @spec acosh(value) :: value
  def acosh(x) when is_number(x) and x >= 1, do: :math.acosh(x)
  def acosh(:infinity), do: :infinity
  def acosh(x) when is_real(x), do: :nan

  def acosh(z) do
    with_finite(z, fn -> log(add(z, sqrt(subtract(square(z), 1)))) end)
  end

  @doc """
  Returns the inverse hyperbolic tangent of `z`, `log((1 + z) / (1 - z)) / 2`.

  Reals outside `[-1, 1]` give `:nan`, and `±1` give `±:infinity`.

  ## Examples

      iex> Complex.atanh(0.5)
      0.5493061443340548
      iex> Complex.atanh(-1)
      :neg_infinity
      iex> Complex.atanh(Complex.new(0, 1))
      %Complex{re: 0.0, im: 0.7853981633974483}

  """
  @spec atanh(value) :: value
  def atanh(x) when x == 1, do: :infinity
  def atanh(x) when x == -1, do: :neg_infinity
  def atanh(x) when is_number(x) and x > -1 and x < 1, do: :math.atanh(x)
  def atanh(x) when is_real(x), do: :nan

  def atanh(z) do
    with_finite(z, fn -> multiply(0.5, log(divide(add(1, z), subtract(1, z)))) end)
  end

  @doc """
  Returns the inverse hyperbolic cotangent of `z`, `atanh(1 / z)`.

  ## Examples

      iex> Complex.acoth(2)
      0.5493061443340548
      iex> Complex.acoth(Complex.new(2))
      %Complex{re: 0.5493061443340548, im: 0.0}

  """
  @spec acoth(value) :: value
  def acoth(z) when is_real(z), do: atanh(divide(1, z))

  def acoth(z) do
    with_finite(z, fn ->
      inv = divide(1, z)
      multiply(0.5, subtract(log(add(1, inv)), log(subtract(1, inv))))
    end)
  end

  @doc """
  Returns the inverse hyperbolic secant of `z`, `acosh(1 / z)`.

  ## Examples

      iex> Complex.asech(0.5)
      1.3169578969248166
      iex> Complex.asech(Complex.new(0.5))
      %Complex{re: 1.3169578969248166, im: 0.0}

  """
  @spec asech(value) :: value
  def asech(z) when is_real(z), do: acosh(divide(1, z))

  def asech(z) do
    with_finite(z, fn ->
      inv = divide(1, z)
      log(add(inv, multiply(sqrt(add(inv, 1)), sqrt(subtract(inv, 1)))))
    end)
  end

  @doc """
  Returns the inverse hyperbolic cosecant of `z`, `asinh(1 / z)`.

  ## Examples

      iex> Complex.acsch(1)
      0.881373587019543
      iex> Complex.acsch(0)
      :infinity
      iex> Complex.acsch(Complex.new(1))
      %Complex{re: 0.8813735870195429, im: 0.0}

  """
  @spec acsch(value) :: value
  def acsch(z) when is_real(z), do: asinh(divide(1, z))

  def acsch(z) do
    with_finite(z, fn ->
      inv = divide(1, z)
      log(add(inv, sqrt(add(square(inv), 1))))
    end)
  end

  ## Error functions

  @doc """
  Returns the error function of `z`.

  Only reals are supported: a complex number must have a zero
  imaginary part, otherwise `ArithmeticError` is raised.

  ## Examples

      iex> Complex.erf(0.5)
      0.5204998778130465
      iex> Complex.erf(:neg_infinity)
      -1.0
      iex> Complex.erf(Complex.new(0.5))
      %Complex{re: 0.5204998778130465, im: 0.0}
      iex> Complex.erf(Complex.new(0, 1))
      ** (ArithmeticError) erf not implemented for non-real numbers

  """
  @spec erf(value) :: value
  def erf(x) when is_number(x), do: :math.erf(x)
  def erf(x) when is_infinite(x), do: sign_of(x) * 1.0
  def erf(:nan), do: :nan
  def erf(%Complex{} = z), do: new(erf(real_part!(z, "erf")))

  @doc """
  Returns the complementary error function of `z`, `1 - erf(z)`.

  Only reals are supported, as in `erf/1`.

  ## Examples

      iex> Complex.erfc(0.5)
      0.4795001221869535
      iex> Complex.erfc(:neg_infinity)
      2.0
      iex> Complex.erfc(Complex.new(0, 1))
      ** (ArithmeticError) erfc not implemented for non-real numbers

  """
  @spec erfc(value) :: value
  def erfc(x) when is_number(x), do: :math.erfc(x)
  def erfc(:infinity), do: 0.0
  def erfc(:neg_infinity), do: 2.0
  def erfc(:nan), do: :nan
  def erfc(%Complex{} = z), do: new(erfc(real_part!(z, "erfc")))

  @doc """
  Returns the inverse error function of `z`: the `x` for which `erf(x) == z`.

  It is defined on `[-1, 1]`, with `±1` giving `±:infinity`; other
  reals give `:nan`. Results are accurate to double precision. Only
  reals are supported, as in `erf/1`.

  ## Examples

      iex> Complex.erf_inv(0.5204998778130465)
      0.5
      iex> Complex.erf_inv(-1)
      :neg_infinity
      iex> Complex.erf_inv(Complex.new(0))
      %Complex{re: 0.0, im: 0.0}
      iex> Complex.erf_inv(Complex.new(0, 1))
      ** (ArithmeticError) erf_inv not implemented for non-real numbers

  """
  @spec erf_inv(value) :: value
  def erf_inv(x) when x == 1, do: :infinity
  def erf_inv(x) when x == -1, do: :neg_infinity
  def erf_inv(x) when x == 0, do: 0.0
  def erf_inv(x) when is_number(x) and x > 0 and x < 1, do: erf_inv_positive(x)
  def erf_inv(x) when is_number(x) and x > -1 and x < 0, do: -erf_inv_positive(-x)
  def erf_inv(x) when is_real(x), do: :nan
  def erf_inv(%Complex{} = z), do: new(erf_inv(real_part!(z, "erf_inv")))

  # Winitzki's closed-form approximation (about 3 digits) refined with
  # Halley's method on f(x) = erf(x) - y, whose derivative is
  # 2/sqrt(pi) exp(-x^2). Close to 1 the residual is computed with erfc
  # to keep its relative precision.
  defp erf_inv_positive(y) do
    a = 0.147
    l = :math.log((1 - y) * (1 + y))
    t = 2 / (@pi * a) + l / 2
    x0 = :math.sqrt(:math.sqrt(t * t - l / a) - t)
    Enum.reduce(1..3, x0, fn _, x -> halley_erf_step(x, y) end)
  end

  defp halley_erf_step(x, y) do
    f = if y > 0.5, do: 1 - y - :math.erfc(x), else: :math.erf(x) - y
    df = 2 / :math.sqrt(@pi) * :math.exp(-x * x)
    if df == 0, do: x, else: x - f / (df + x * f)
  end

  defp real_part!(%Complex{re: re, im: im}, name) do
    if im != 0, do: raise(ArithmeticError, "#{name} not implemented for non-real numbers")
    re
  end

  ## Extended real arithmetic
  #
  # The helpers below work on reals including the non-finite atoms and
  # turn float overflow (which raises in the BEAM) into infinities.

  defp to_float(x) when is_number(x), do: x * 1.0
  defp to_float(x), do: x

  defp parts(%Complex{re: re, im: im}), do: {re, im}
  defp parts(x) when is_real(x), do: {x, 0.0}

  defp sign_of(:infinity), do: 1
  defp sign_of(:neg_infinity), do: -1
  defp sign_of(x) when x > 0, do: 1
  defp sign_of(x) when x < 0, do: -1
  defp sign_of(_zero), do: 0

  defp signed_infinity(sign) when sign < 0, do: :neg_infinity
  defp signed_infinity(_sign), do: :infinity

  defp guard_overflow(fun, sign) do
    fun.()
  rescue
    ArithmeticError -> signed_infinity(sign)
  end

  defp radd(:nan, _), do: :nan
  defp radd(_, :nan), do: :nan

  defp radd(a, b) when is_number(a) and is_number(b),
    do: guard_overflow(fn -> a + b end, sign_of(a))

  defp radd(a, b) when is_infinite(a) and is_infinite(b) and a != b, do: :nan
  defp radd(a, _) when is_infinite(a), do: a
  defp radd(_, b), do: b

  defp rsub(a, b), do: radd(a, negate(b))

  defp mul(:nan, _), do: :nan
  defp mul(_, :nan), do: :nan

  defp mul(a, b) when is_number(a) and is_number(b),
    do: guard_overflow(fn -> a * b end, sign_of(a) * sign_of(b))

  defp mul(a, b) when a == 0 or b == 0, do: :nan
  defp mul(a, b), do: signed_infinity(sign_of(a) * sign_of(b))

  # Like mul/2, but an exact zero times an infinity is zero: used where
  # the infinity is the limit of a factor (cosh, sinh, exp) that only
  # overflowed, so the zero must win.
  defp mul_limit(a, b) when a == 0 and is_infinite(b), do: 0.0
  defp mul_limit(a, b) when b == 0 and is_infinite(a), do: 0.0
  defp mul_limit(a, b), do: mul(a, b)

  defp rdiv(:nan, _), do: :nan
  defp rdiv(_, :nan), do: :nan
  defp rdiv(a, b) when is_infinite(a) and is_infinite(b), do: :nan
  defp rdiv(a, b) when is_infinite(b) and is_number(a), do: 0.0

  defp rdiv(a, b) when is_infinite(a),
    do: signed_infinity(sign_of(a) * if(b < 0, do: -1, else: 1))

  defp rdiv(a, b) when b == 0 and a == 0, do: :nan
  defp rdiv(a, b) when b == 0, do: signed_infinity(sign_of(a))
  defp rdiv(a, b), do: guard_overflow(fn -> a / b end, sign_of(a) * sign_of(b))

  defp rpow(:nan, y) when y == 0, do: 1.0
  defp rpow(_, :nan), do: :nan
  defp rpow(:nan, _), do: :nan
  defp rpow(x, y) when is_integer(x) and is_integer(y) and y >= 0, do: Integer.pow(x, y)
  defp rpow(_, y) when y == 0, do: 1.0
  defp rpow(x, :infinity), do: pow_to_infinity(abs(x))
  defp rpow(x, :neg_infinity), do: rdiv(1, pow_to_infinity(abs(x)))
  defp rpow(:infinity, y), do: if(y > 0, do: :infinity, else: 0.0)

  defp rpow(:neg_infinity, y) do
    odd? = is_number(y) and y == trunc(y) and rem(trunc(y), 2) != 0

    cond do
      y < 0 -> 0.0
      odd? -> :neg_infinity
      true -> :infinity
    end
  end

  defp rpow(x, y) when x == 0 and y < 0, do: :infinity
  defp rpow(x, y) when x < 0 and y != trunc(y), do: :nan

  defp rpow(x, y) do
    odd? = y == trunc(y) and rem(trunc(y), 2) != 0
    guard_overflow(fn -> :math.pow(x, y) end, if(x < 0 and odd?, do: -1, else: 1))
  end

  defp pow_to_infinity(magnitude) do
    cond do
      magnitude == :nan -> :nan
      magnitude == :infinity -> :infinity
      magnitude > 1 -> :infinity
      magnitude < 1 -> 0.0
      true -> 1.0
    end
  end

  # Inverse functions of complex arguments go through logarithms that
  # cannot handle non-finite parts meaningfully, so those give NaN.
  defp with_finite(%Complex{re: re, im: im}, fun) when is_number(re) and is_number(im), do: fun.()
  defp with_finite(%Complex{}, _fun), do: new(:nan, :nan)
end
