defmodule Nx.Type do
  @moduledoc """
  Numerical types: their names, validation, promotion and limits.

  Every tensor element type is a `{kind, bits}` tuple:

    * `:s` - signed integers of 2, 4, 8, 16, 32 or 64 bits
    * `:u` - unsigned integers of 2, 4, 8, 16, 32 or 64 bits
    * `:f` - IEEE floats of 8 (E5M2), 16, 32 or 64 bits
    * `:f8_e4m3fn` - the 8 bit E4M3FN float (`{:f8_e4m3fn, 8}`), which
      has no infinities and a single NaN encoding per sign
    * `:bf` - the 16 bit brain float
    * `:c` - complex numbers of 64 or 128 bits, made of two floats of
      half that size

  User code may also spell a type as an atom, such as `:u8`, `:f32`,
  `:bf16`, `:c64` or `:f8_e4m3fn`. Functions that receive types from
  users should call `normalize!/1` to get the tuple form; every other
  function in this module expects normalized types.

  The defaults are `{:s, 32}` for integers and `{:f, 32}` for floats.

  The `*_binary` functions return the in-memory (native endian)
  representation of special values for a given type, ready to be
  used as tensor data.

  The `defn` compiler also uses `{:tuple, size}` internally to
  describe tuples. That type never reaches user code and no function
  in this module accepts it.
  """

  import Bitwise, only: [>>>: 2]

  @type t ::
          {:s, 2}
          | {:s, 4}
          | {:s, 8}
          | {:s, 16}
          | {:s, 32}
          | {:s, 64}
          | {:u, 2}
          | {:u, 4}
          | {:u, 8}
          | {:u, 16}
          | {:u, 32}
          | {:u, 64}
          | {:f, 8}
          | {:f8_e4m3fn, 8}
          | {:f, 16}
          | {:f, 32}
          | {:f, 64}
          | {:bf, 16}
          | {:c, 64}
          | {:c, 128}
          | {:tuple, non_neg_integer}

  @type short_t ::
          :s2
          | :s4
          | :s8
          | :s16
          | :s32
          | :s64
          | :u2
          | :u4
          | :u8
          | :u16
          | :u32
          | :u64
          | :f8
          | :f8_e4m3fn
          | :f16
          | :f32
          | :f64
          | :bf16
          | :c64
          | :c128

  @typedoc "A number as stored in tensors: numbers, non-finite atoms and complex numbers."
  @type number_like :: number | :nan | :infinity | :neg_infinity | Complex.t()

  @integer_sizes [2, 4, 8, 16, 32, 64]

  # Every valid type, in tuple form, paired with its atom spelling.
  @all_types for(kind <- [:s, :u], size <- @integer_sizes, do: {kind, size}) ++
               [{:f, 8}, {:f8_e4m3fn, 8}, {:f, 16}, {:f, 32}, {:f, 64}, {:bf, 16}] ++
               [{:c, 64}, {:c, 128}]

  @doc false
  # Every type, for modules that must recognise them (serialization); not part of Nx's API.
  def __all__, do: @all_types

  @real_float_types [{:f, 8}, {:f8_e4m3fn, 8}, {:f, 16}, {:f, 32}, {:f, 64}, {:bf, 16}]

  # Bit patterns of the special values of each real float type:
  # {nan, infinity, neg_infinity, max_finite, min_finite, smallest_normal, epsilon}.
  # E4M3FN has no infinities: its "infinities" saturate to the finite extremes.
  @float_bits %{
    {:f, 8} => {0x7E, 0x7C, 0xFC, 0x7B, 0xFB, 0x04, 0x34},
    {:f8_e4m3fn, 8} => {0x7F, 0x7E, 0xFE, 0x7E, 0xFE, 0x08, 0x20},
    {:f, 16} => {0x7E00, 0x7C00, 0xFC00, 0x7BFF, 0xFBFF, 0x0400, 0x1400},
    {:bf, 16} => {0x7FC0, 0x7F80, 0xFF80, 0x7F7F, 0xFF7F, 0x0080, 0x3C00},
    {:f, 32} =>
      {0x7FC00000, 0x7F800000, 0xFF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x34000000},
    {:f, 64} =>
      {0x7FF8000000000000, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FEFFFFFFFFFFFFF,
       0xFFEFFFFFFFFFFFFF, 0x0010000000000000, 0x3CB0000000000000}
  }

  # Encodes a finite float constant into the bit pattern of a real float
  # type at compile time. bf16 keeps the top half of the f32 encoding and
  # f8 (E5M2) the top half of the f16 encoding, which is how those formats
  # are derived from their wider siblings. E4M3FN rounds to nearest.
  encode = fn
    {:f, size}, x when size in [16, 32, 64] ->
      <<bits::size(size)>> = <<x::float-size(size)>>
      bits

    {:bf, 16}, x ->
      <<bits::32>> = <<x::float-32>>
      bits >>> 16

    {:f, 8}, x ->
      <<bits::16>> = <<x::float-16>>
      bits >>> 8

    {:f8_e4m3fn, 8}, x when x > 0 ->
      exponent = floor(:math.log2(x))
      mantissa = round((x / :math.pow(2, exponent) - 1) * 8)
      (exponent + 7) * 8 + mantissa
  end

  @constants [pi: :math.pi(), e: :math.exp(1), euler_gamma: 0.5772156649015329]

  @constant_bits for type <- @real_float_types,
                     {name, value} <- @constants,
                     into: %{},
                     do: {{name, type}, encode.(type, value)}

  ## Special values

  @doc """
  Returns the lowest finite value of a real `type`, as a native binary.

  ## Examples

      iex> Nx.Type.min_finite_binary({:s, 8})
      <<128>>
      iex> Nx.Type.min_finite_binary({:u, 16})
      <<0, 0>>
      iex> <<x::float-32-native>> = Nx.Type.min_finite_binary({:f, 32})
      iex> x
      -3.4028234663852886e38
      iex> Nx.Type.min_finite_binary({:f8_e4m3fn, 8})
      <<0xFE>>

  """
  @spec min_finite_binary(t) :: bitstring
  def min_finite_binary({:s, size}) when size in @integer_sizes,
    do: <<-(2 ** (size - 1))::size(size)-signed-native>>

  def min_finite_binary({:u, size}) when size in @integer_sizes, do: <<0::size(size)-native>>
  def min_finite_binary(type), do: float_binary(type, 4, "real")

  @doc """
  Returns the lowest value of a real `type`, as a native binary.

  It is negative infinity for floats that have one, and the lowest
  finite value otherwise.

  ## Examples

      iex> Nx.Type.min_binary({:s, 16})
      <<0, 128>>
      iex> Nx.Type.min_binary({:f, 16}) == Nx.Type.neg_infinity_binary({:f, 16})
      true
      iex> Nx.Type.min_binary({:f8_e4m3fn, 8})
      <<0xFE>>

  """
  @spec min_binary(t) :: bitstring
  def min_binary(type) do
    if infinite_float?(type), do: neg_infinity_binary(type), else: min_finite_binary(type)
  end

  @doc """
  Returns the highest finite value of a real `type`, as a native binary.

  ## Examples

      iex> Nx.Type.max_finite_binary({:s, 8})
      <<127>>
      iex> Nx.Type.max_finite_binary({:u, 4})
      <<15::4>>
      iex> <<x::float-64-native>> = Nx.Type.max_finite_binary({:f, 64})
      iex> x
      1.7976931348623157e308
      iex> Nx.Type.max_finite_binary({:f8_e4m3fn, 8})
      <<0x7E>>

  """
  @spec max_finite_binary(t) :: bitstring
  def max_finite_binary({:s, size}) when size in @integer_sizes,
    do: <<2 ** (size - 1) - 1::size(size)-signed-native>>

  def max_finite_binary({:u, size}) when size in @integer_sizes,
    do: <<2 ** size - 1::size(size)-native>>

  def max_finite_binary(type), do: float_binary(type, 3, "real")

  @doc """
  Returns the highest value of a real `type`, as a native binary.

  It is infinity for floats that have one, and the highest finite
  value otherwise.

  ## Examples

      iex> Nx.Type.max_binary({:u, 8})
      <<255>>
      iex> Nx.Type.max_binary({:bf, 16}) == Nx.Type.infinity_binary({:bf, 16})
      true

  """
  @spec max_binary(t) :: bitstring
  def max_binary(type) do
    if infinite_float?(type), do: infinity_binary(type), else: max_finite_binary(type)
  end

  @doc """
  Returns NaN for a real float `type`, as a native binary.

  ## Examples

      iex> Nx.Type.nan_binary({:f, 8})
      <<0x7E>>
      iex> Nx.Type.nan_binary({:f8_e4m3fn, 8})
      <<0x7F>>
      iex> Nx.Type.nan_binary({:f, 32}) == <<0x7FC00000::32-native>>
      true
      iex> Nx.Type.nan_binary({:s, 32})
      ** (ArgumentError) only floating types are supported, got: {:s, 32}

  """
  @spec nan_binary(t) :: binary
  def nan_binary(type), do: float_binary(type, 0, "floating")

  @doc """
  Returns positive infinity for a real float `type`, as a native binary.

  `{:f8_e4m3fn, 8}` cannot represent infinity, so its largest finite
  value is returned instead, the same value overflowing numbers
  saturate to.

  ## Examples

      iex> Nx.Type.infinity_binary({:f, 16}) == <<0x7C00::16-native>>
      true
      iex> Nx.Type.infinity_binary({:f8_e4m3fn, 8})
      <<0x7E>>

  """
  @spec infinity_binary(t) :: binary
  def infinity_binary(type), do: float_binary(type, 1, "floating")

  @doc """
  Returns negative infinity for a real float `type`, as a native binary.

  `{:f8_e4m3fn, 8}` saturates to its lowest finite value.

  ## Examples

      iex> Nx.Type.neg_infinity_binary({:f, 64}) == <<0xFFF0000000000000::64-native>>
      true
      iex> Nx.Type.neg_infinity_binary({:f8_e4m3fn, 8})
      <<0xFE>>

  """
  @spec neg_infinity_binary(t) :: binary
  def neg_infinity_binary(type), do: float_binary(type, 2, "floating")

  @doc """
  Returns the smallest positive normal number of a real float `type`,
  as a native binary.

  ## Examples

      iex> <<x::float-32-native>> = Nx.Type.smallest_positive_normal_binary({:f, 32})
      iex> x
      1.1754943508222875e-38
      iex> Nx.Type.smallest_positive_normal_binary({:f8_e4m3fn, 8})
      <<0x08>>
      iex> Nx.Type.smallest_positive_normal_binary({:u, 8})
      ** (ArgumentError) only floating types are supported, got: {:u, 8}

  """
  @spec smallest_positive_normal_binary(t) :: binary
  def smallest_positive_normal_binary(type), do: float_binary(type, 5, "floating")

  @doc """
  Returns the machine epsilon of a real float `type` (the distance
  between 1.0 and the next representable number), as a native binary.

  ## Examples

      iex> <<x::float-16-native>> = Nx.Type.epsilon_binary({:f, 16})
      iex> x
      9.765625e-4
      iex> <<x::float-64-native>> = Nx.Type.epsilon_binary({:f, 64})
      iex> x
      2.220446049250313e-16
      iex> Nx.Type.epsilon_binary({:c, 64})
      ** (ArgumentError) only floating types are supported, got: {:c, 64}

  """
  @spec epsilon_binary(t) :: binary
  def epsilon_binary(type), do: float_binary(type, 6, "floating")

  @doc ~S"""
  Returns $\pi$ rounded to a real float `type`, as a native binary.

  ## Examples

      iex> <<x::float-32-native>> = Nx.Type.pi_binary({:f, 32})
      iex> x
      3.1415927410125732
      iex> Nx.Type.pi_binary({:f8_e4m3fn, 8})
      <<0x45>>

  """
  @spec pi_binary(t) :: binary
  def pi_binary(type), do: constant_binary(:pi, type)

  @doc """
  Returns Euler's number $e$ rounded to a real float `type`, as a native binary.

  ## Examples

      iex> <<x::float-64-native>> = Nx.Type.e_binary({:f, 64})
      iex> x
      2.718281828459045

  """
  @spec e_binary(t) :: binary
  def e_binary(type), do: constant_binary(:e, type)

  @doc ~S"""
  Returns the Euler-Mascheroni constant $\gamma$ rounded to a real float
  `type`, as a native binary.

  ## Examples

      iex> <<x::float-16-native>> = Nx.Type.euler_gamma_binary({:f, 16})
      iex> x
      0.5771484375

  """
  @spec euler_gamma_binary(t) :: binary
  def euler_gamma_binary(type), do: constant_binary(:euler_gamma, type)

  for {type, bits} <- @float_bits do
    {_, size} = type
    defp float_bits(unquote(type)), do: unquote(Macro.escape(bits))
    defp float_size(unquote(type)), do: unquote(size)
  end

  defp float_bits(_type), do: nil

  defp float_binary(type, index, kind) do
    case float_bits(type) do
      nil ->
        raise ArgumentError, "only #{kind} types are supported, got: #{inspect(type)}"

      bits ->
        size = float_size(type)
        <<elem(bits, index)::size(size)-native>>
    end
  end

  for {{name, type}, bits} <- @constant_bits do
    {_, size} = type

    defp constant_binary(unquote(name), unquote(type)),
      do: unquote(<<bits::size(size)-native>>)
  end

  defp constant_binary(_name, type),
    do: raise(ArgumentError, "only floating types are supported, got: #{inspect(type)}")

  ## Inference and normalization

  @doc """
  Returns the default type of a single number.

  Integers are `{:s, 32}`, floats and the non-finite atoms (`:nan`,
  `:infinity`, `:neg_infinity`) are `{:f, 32}`, booleans are `{:u, 8}`
  and complex numbers are `{:c, 64}`.

  ## Examples

      iex> Nx.Type.infer(42)
      {:s, 32}
      iex> Nx.Type.infer(-0.5)
      {:f, 32}
      iex> Nx.Type.infer(:nan)
      {:f, 32}
      iex> Nx.Type.infer(false)
      {:u, 8}
      iex> Nx.Type.infer(Complex.new(0, 1))
      {:c, 64}

  """
  @spec infer(number_like | boolean) :: t
  def infer(value) when is_integer(value), do: {:s, 32}
  def infer(value) when is_float(value), do: {:f, 32}
  def infer(value) when is_boolean(value), do: {:u, 8}
  def infer(value) when value in [:nan, :infinity, :neg_infinity], do: {:f, 32}
  def infer(value) when is_struct(value, Complex), do: {:c, 64}

  def infer(value),
    do: raise(ArgumentError, "cannot infer the numerical type of #{inspect(value)}")

  @doc """
  Validates a type given as a tuple or as an atom and returns its tuple form.

  Raises `ArgumentError` for anything that is not one of the supported types.

  ## Examples

      iex> Nx.Type.normalize!(:s64)
      {:s, 64}
      iex> Nx.Type.normalize!({:bf, 16})
      {:bf, 16}
      iex> Nx.Type.normalize!(:f8)
      {:f, 8}
      iex> Nx.Type.normalize!(:f8_e4m3fn)
      {:f8_e4m3fn, 8}

      iex> Nx.Type.normalize!({:f, 128})
      ** (ArgumentError) invalid numerical type: {:f, 128} (see Nx.Type docs for all supported types)

      iex> Nx.Type.normalize!(:int32)
      ** (ArgumentError) invalid numerical type: :int32 (see Nx.Type docs for all supported types)

  """
  @spec normalize!(t | short_t | term) :: t
  def normalize!(type) do
    case validate(type) do
      nil ->
        raise ArgumentError,
              "invalid numerical type: #{inspect(type)} (see Nx.Type docs for all supported types)"

      type ->
        type
    end
  end

  for {kind, size} = type <- @all_types do
    short = if kind == :f8_e4m3fn, do: :f8_e4m3fn, else: :"#{kind}#{size}"
    defp validate(unquote(type)), do: unquote(type)
    defp validate(unquote(short)), do: unquote(type)
  end

  defp validate(_other), do: nil

  ## Conversions

  @doc """
  Returns the smallest floating point type able to hold values of `type`.

  Real floats and complex types are already floating point and are
  returned as is; integer types become `{:f, 32}`.

  ## Examples

      iex> Nx.Type.to_floating({:u, 8})
      {:f, 32}
      iex> Nx.Type.to_floating({:s, 64})
      {:f, 32}
      iex> Nx.Type.to_floating({:f, 16})
      {:f, 16}
      iex> Nx.Type.to_floating({:f8_e4m3fn, 8})
      {:f8_e4m3fn, 8}
      iex> Nx.Type.to_floating({:c, 128})
      {:c, 128}

  """
  @spec to_floating(t) :: t
  def to_floating({kind, _} = type) when kind in [:f, :bf, :c, :f8_e4m3fn], do: type
  def to_floating(type), do: merge(type, {:f, 32})

  @doc """
  Returns the smallest complex type able to hold values of `type`.

  Only `{:f, 64}` needs `{:c, 128}`; every other real type fits in `{:c, 64}`.

  ## Examples

      iex> Nx.Type.to_complex({:u, 8})
      {:c, 64}
      iex> Nx.Type.to_complex({:f, 32})
      {:c, 64}
      iex> Nx.Type.to_complex({:f, 64})
      {:c, 128}
      iex> Nx.Type.to_complex({:c, 128})
      {:c, 128}

  """
  @spec to_complex(t) :: t
  def to_complex({:c, _} = type), do: type
  def to_complex({:f, 64}), do: {:c, 128}
  def to_complex(_type), do: {:c, 64}

  @doc """
  Returns the real floating point type matching `type`.

  Complex types give the type of their components, real floats are
  kept and integers become `{:f, 32}`.

  ## Examples

      iex> Nx.Type.to_real({:c, 64})
      {:f, 32}
      iex> Nx.Type.to_real({:c, 128})
      {:f, 64}
      iex> Nx.Type.to_real({:bf, 16})
      {:bf, 16}
      iex> Nx.Type.to_real({:s, 16})
      {:f, 32}

  """
  @spec to_real(t) :: t
  def to_real({:c, size}), do: {:f, div(size, 2)}
  def to_real({kind, _} = type) when kind in [:f, :bf, :f8_e4m3fn], do: type
  def to_real(_type), do: {:f, 32}

  @doc """
  Returns the type used to accumulate values of `type` in aggregations
  such as sums and products.

  Integers narrower than 32 bits are widened to 32 bits (keeping their
  signedness), `{:u, 64}` becomes `{:s, 64}`, and every other type is kept.

  ## Examples

      iex> Nx.Type.to_aggregate({:u, 8})
      {:u, 32}
      iex> Nx.Type.to_aggregate({:s, 4})
      {:s, 32}
      iex> Nx.Type.to_aggregate({:u, 64})
      {:s, 64}
      iex> Nx.Type.to_aggregate({:s, 64})
      {:s, 64}
      iex> Nx.Type.to_aggregate({:f, 16})
      {:f, 16}

  """
  @spec to_aggregate(t) :: t
  def to_aggregate({:u, 64}), do: {:s, 64}
  def to_aggregate({:u, _}), do: {:u, 32}
  def to_aggregate({:s, 64}), do: {:s, 64}
  def to_aggregate({:s, _}), do: {:s, 32}
  def to_aggregate(type), do: type

  @doc """
  Converts the Elixir `number` to the Elixir representation used for `type`.

  Integers are kept for integer types, converted to floats for float
  types and to `Complex` numbers for complex types. Range is not
  checked, but a value that does not belong to the type at all (a
  negative number for an unsigned type, a float for an integer type)
  raises.

  ## Examples

      iex> Nx.Type.cast_number!({:s, 8}, -3)
      -3
      iex> Nx.Type.cast_number!({:bf, 16}, 3)
      3.0
      iex> Nx.Type.cast_number!({:f, 32}, :infinity)
      :infinity
      iex> Nx.Type.cast_number!({:c, 64}, 2)
      %Complex{re: 2.0, im: 0.0}

      iex> Nx.Type.cast_number!({:u, 16}, -1)
      ** (ArgumentError) cannot cast number -1 to {:u, 16}

      iex> Nx.Type.cast_number!({:s, 32}, 1.5)
      ** (ArgumentError) cannot cast number 1.5 to {:s, 32}

  """
  @spec cast_number!(t, number_like) :: number_like
  def cast_number!({:u, _}, int) when is_integer(int) and int >= 0, do: int
  def cast_number!({:s, _}, int) when is_integer(int), do: int
  def cast_number!({:c, _}, %{__struct__: Complex, re: re, im: im}), do: Complex.new(re, im)
  def cast_number!({:c, _}, number) when is_number(number), do: Complex.new(number)

  def cast_number!({:c, _}, atom) when atom in [:nan, :infinity, :neg_infinity],
    do: Complex.new(atom)

  def cast_number!({kind, _}, int) when kind in [:f, :bf, :f8_e4m3fn] and is_integer(int),
    do: int * 1.0

  def cast_number!({kind, _}, value)
      when kind in [:f, :bf, :f8_e4m3fn] and
             (is_float(value) or value in [:nan, :infinity, :neg_infinity]),
      do: value

  def cast_number!(type, other),
    do: raise(ArgumentError, "cannot cast number #{inspect(other)} to #{inspect(type)}")

  ## Promotion

  @doc """
  Returns the type that can represent values of both `left` and `right`.

  Kinds are ranked `c > f > bf > s > u` (`:f8_e4m3fn` ranks as `f`)
  and the higher ranked kind wins:

    * two types of the same kind merge to the larger size
    * unsigned and signed integers merge to a signed integer twice the
      size of the unsigned one (capped at 64 bits), or the signed size
      if larger: `u8` and `s8` give `s16`, `u64` and `s8` give `s64`
    * integers and floats merge to the float type, whatever the sizes
    * `bf16` and `f16`/`f32`/`f64` merge to the `f` type
    * a complex type absorbs real types, growing to `{:c, 128}` when
      merged with `{:f, 64}` so the components keep their precision

  `{:f, 8}` and `{:f8_e4m3fn, 8}` are two different encodings of the
  same size with no natural winner, so merging them raises.

  ## Examples

      iex> Nx.Type.merge({:s, 8}, {:s, 32})
      {:s, 32}
      iex> Nx.Type.merge({:s, 8}, {:u, 8})
      {:s, 16}
      iex> Nx.Type.merge({:u, 32}, {:s, 16})
      {:s, 64}
      iex> Nx.Type.merge({:u, 64}, {:s, 64})
      {:s, 64}
      iex> Nx.Type.merge({:s, 64}, {:bf, 16})
      {:bf, 16}
      iex> Nx.Type.merge({:bf, 16}, {:f, 16})
      {:f, 16}
      iex> Nx.Type.merge({:f8_e4m3fn, 8}, {:f, 32})
      {:f, 32}
      iex> Nx.Type.merge({:c, 64}, {:f, 32})
      {:c, 64}
      iex> Nx.Type.merge({:f, 64}, {:c, 64})
      {:c, 128}

      iex> Nx.Type.merge({:f, 8}, {:f8_e4m3fn, 8})
      ** (ArgumentError) cannot merge {:f, 8} and {:f8_e4m3fn, 8}, convert one of them with Nx.as_type/2 first

  """
  @spec merge(t, t) :: t
  def merge({kind, left_size}, {kind, right_size}), do: {kind, max(left_size, right_size)}

  def merge(left, right) do
    case {rank(left), rank(right)} do
      {same, same} -> merge_same_rank(left, right)
      {l, r} when l < r -> promote(left, right)
      _ -> promote(right, left)
    end
  end

  # Only the two f-ranked kinds can meet here: {:f, _} and {:f8_e4m3fn, 8}.
  defp merge_same_rank({_, left_size} = left, {_, right_size} = right) do
    cond do
      left_size > right_size ->
        left

      right_size > left_size ->
        right

      true ->
        raise ArgumentError,
              "cannot merge #{inspect(left)} and #{inspect(right)}, " <>
                "convert one of them with Nx.as_type/2 first"
    end
  end

  # Merges `low` into `high`, where `high` has a greater rank.
  defp promote({:u, u_size}, {:s, s_size}), do: {:s, max(min(u_size * 2, 64), s_size)}
  defp promote(low, {:c, c_size}), do: {:c, max(c_size, elem(to_complex(low), 1))}
  defp promote(_low, high), do: high

  defp rank({:c, _}), do: 4
  defp rank({:f, _}), do: 3
  defp rank({:f8_e4m3fn, _}), do: 3
  defp rank({:bf, _}), do: 2
  defp rank({:s, _}), do: 1
  defp rank({:u, _}), do: 0

  @doc """
  Returns the type that can represent values of `type` and `number`.

  The goal is to keep `type` whenever possible. Integer types grow
  only as much as needed to hold the integer (an unsigned type turns
  signed for a negative integer), integer types merged with a float
  give `{:f, 32}`, and float and complex types are kept as they are.
  Complex numbers merge as `{:c, 64}` would.

  ## Examples

      iex> Nx.Type.merge_number({:u, 8}, 200)
      {:u, 8}
      iex> Nx.Type.merge_number({:u, 8}, 300)
      {:u, 16}
      iex> Nx.Type.merge_number({:u, 8}, -1)
      {:s, 16}
      iex> Nx.Type.merge_number({:u, 64}, -1)
      {:s, 64}
      iex> Nx.Type.merge_number({:s, 8}, -128)
      {:s, 8}
      iex> Nx.Type.merge_number({:s, 8}, -129)
      {:s, 16}
      iex> Nx.Type.merge_number({:s, 16}, 2.5)
      {:f, 32}
      iex> Nx.Type.merge_number({:bf, 16}, 70_000)
      {:bf, 16}
      iex> Nx.Type.merge_number({:f, 64}, :nan)
      {:f, 64}
      iex> Nx.Type.merge_number({:f, 64}, Complex.new(1, 1))
      {:c, 128}

  """
  @spec merge_number(t, number_like) :: t
  def merge_number({:u, size}, int) when is_integer(int) and int >= 0,
    do: {:u, max(unsigned_size(int), size)}

  def merge_number({:u, size}, int) when is_integer(int),
    do: merge_number({:s, min(size * 2, 64)}, int)

  def merge_number({:s, size}, int) when is_integer(int), do: {:s, max(signed_size(int), size)}
  def merge_number(type, number) when is_struct(number, Complex), do: merge(type, {:c, 64})

  def merge_number({kind, _} = type, number)
      when kind in [:f, :bf, :f8_e4m3fn, :c] and
             (is_number(number) or number in [:nan, :infinity, :neg_infinity]),
      do: type

  def merge_number({kind, _}, number)
      when kind in [:s, :u] and (is_float(number) or number in [:nan, :infinity, :neg_infinity]),
      do: {:f, 32}

  defp unsigned_size(int) when int <= 1, do: 1
  defp unsigned_size(int) when int <= 0xFF, do: 8
  defp unsigned_size(int) when int <= 0xFFFF, do: 16
  defp unsigned_size(int) when int <= 0xFFFFFFFF, do: 32
  defp unsigned_size(_int), do: 64

  defp signed_size(int) when int < 0, do: signed_size(-int - 1)
  defp signed_size(int) when int <= 1, do: 1
  defp signed_size(int) when int <= 0x7F, do: 8
  defp signed_size(int) when int <= 0x7FFF, do: 16
  defp signed_size(int) when int <= 0x7FFFFFFF, do: 32
  defp signed_size(_int), do: 64

  ## Predicates

  @doc """
  Returns `true` for signed and unsigned integer types.

  ## Examples

      iex> Nx.Type.integer?({:u, 2})
      true
      iex> Nx.Type.integer?({:s, 64})
      true
      iex> Nx.Type.integer?({:bf, 16})
      false

  """
  @spec integer?(t) :: boolean
  def integer?({kind, _}), do: kind in [:s, :u]

  @doc """
  Returns `true` for types whose elements are floats in Elixir: real
  floats and complex types (whose components are floats).

  ## Examples

      iex> Nx.Type.float?({:f, 8})
      true
      iex> Nx.Type.float?({:f8_e4m3fn, 8})
      true
      iex> Nx.Type.float?({:c, 64})
      true
      iex> Nx.Type.float?({:s, 32})
      false

  """
  @spec float?(t) :: boolean
  def float?({kind, _}), do: kind in [:f, :bf, :c, :f8_e4m3fn]

  @doc """
  Returns `true` for float types able to represent infinities.

  Every float and complex type can, except `{:f8_e4m3fn, 8}` (the
  "FN" suffix stands for "finite, no infinities"). Integer types
  return `false`.

  ## Examples

      iex> Nx.Type.infinite_float?({:f, 16})
      true
      iex> Nx.Type.infinite_float?({:f8_e4m3fn, 8})
      false
      iex> Nx.Type.infinite_float?({:u, 8})
      false

  """
  @spec infinite_float?(t) :: boolean
  def infinite_float?({:f8_e4m3fn, _}), do: false
  def infinite_float?(type), do: float?(type)

  @doc """
  Returns `true` for complex types.

  ## Examples

      iex> Nx.Type.complex?({:c, 128})
      true
      iex> Nx.Type.complex?({:f, 64})
      false

  """
  @spec complex?(t) :: boolean
  def complex?({kind, _}), do: kind == :c

  @doc """
  Returns the short name of `type`, as used when inspecting tensors.

  ## Examples

      iex> Nx.Type.to_string({:s, 32})
      "s32"
      iex> Nx.Type.to_string({:u, 4})
      "u4"
      iex> Nx.Type.to_string({:bf, 16})
      "bf16"
      iex> Nx.Type.to_string({:f, 8})
      "f8"
      iex> Nx.Type.to_string({:f8_e4m3fn, 8})
      "f8_e4m3fn"
      iex> Nx.Type.to_string({:c, 128})
      "c128"

  """
  @spec to_string(t) :: String.t()
  def to_string({:f8_e4m3fn, _}), do: "f8_e4m3fn"
  def to_string({kind, size}), do: Atom.to_string(kind) <> Integer.to_string(size)
end
