defmodule Nx.Random do
  @moduledoc """
  Counter-based pseudo-random number generation with explicit keys.

  There is no hidden generator state: every function takes a PRNG key,
  a `u32[2]` tensor, and computes its values from that key alone. The
  same key always gives the same numbers, on every backend and inside or
  outside `defn`:

      iex> key = Nx.Random.key(7)
      #Nx.Tensor<
        u32[2]
        [0, 7]
      >
      iex> {a, _} = Nx.Random.uniform(key)
      iex> {b, _} = Nx.Random.uniform(key)
      iex> Nx.to_number(a) == Nx.to_number(b)
      true

  Functions that draw values return them together with a fresh key, to
  be used for the next draw:

      iex> key = Nx.Random.key(7)
      iex> {first, key} = Nx.Random.uniform(key)
      iex> {second, _key} = Nx.Random.uniform(key)
      iex> Nx.to_number(first) == Nx.to_number(second)
      false

  Each of them has a `*_split` twin that takes a key the caller has
  already split (see `split/2`) and returns only the values.

  ## The generator

  The bits come from Threefry-2x32 with 20 rounds (Salmon et al.,
  "Parallel random numbers: as easy as 1, 2, 3", SC 2011), a keyed
  bijection applied to a counter, as in JAX's `jax.random` with its
  original (non-partitionable) layout: `key/1`, `split/2` and
  `fold_in/2` give the keys JAX gives, and the numbers are those of Nx.
  Since values depend only on the key and their position, they can be
  computed in parallel and reproduced exactly.

  Keys are cheap: split a key whenever independent streams are needed,
  and never use one key for two different purposes.

  ## Reproducing Nx exactly

  Every draw is a fixed sequence of tensor operations, so results do not
  depend on the backend, with two precautions taken where backends'
  results may differ in the last bit:

    * normal draws use the `erf_inv` approximation Nx computes with
      (M. Giles' single-precision polynomials), evaluated in f64 and
      rounded to the requested type;
    * the logarithms of Gumbel draws are computed in f64 and rounded.

  Draws of 8- and 16-bit types take the low bits of one 32-bit word per
  value, as Nx does (JAX packs several values into each word instead).
  """

  import Nx.Defn, only: [defn: 2, defnp: 2, deftransform: 2, deftransformp: 2]

  alias Nx.Tensor, as: T

  # Threefry-2x32 rotation distances, one group of four rounds after the
  # other, and the constant mixed into the third key word.
  @rotations {[13, 15, 26, 6], [17, 29, 16, 24]}
  @key_parity 0x1BD11BDA

  # The number of explicit mantissa bits and the bit pattern of 1.0 of each float type.
  @float_layout %{
    {:f, 8} => {2, 0x3C},
    {:f8_e4m3fn, 8} => {3, 0x38},
    {:f, 16} => {10, 0x3C00},
    {:bf, 16} => {7, 0x3F80},
    {:f, 32} => {23, 0x3F80_0000},
    {:f, 64} => {52, 0x3FF0_0000_0000_0000}
  }

  ## Keys

  @doc """
  Builds a PRNG key from a seed.

  The seed is an integer, or a `u64` or `s64` scalar tensor; its 64 bits
  become the two words of the key, high word first. Negative integers
  and `s64` tensors are read as their two's complement bits.

  ## Examples

      iex> Nx.Random.key(2024)
      #Nx.Tensor<
        u32[2]
        [0, 2024]
      >

      iex> Nx.Random.key(0x1234_5678_9ABC_DEF0)
      #Nx.Tensor<
        u32[2]
        [305419896, 2596069104]
      >

      iex> Nx.Random.key(-1)
      #Nx.Tensor<
        u32[2]
        [4294967295, 4294967295]
      >

      iex> Nx.Random.key(Nx.tensor(5, type: :s64))
      #Nx.Tensor<
        u32[2]
        [0, 5]
      >

      iex> Nx.Random.key(1.5)
      ** (ArgumentError) expected seed to be an integer, u64 tensor or s64 tensor, got: 1.5
  """
  @spec key(integer | Nx.Tensor.t()) :: Nx.Tensor.t()
  deftransform key(seed) do
    seed =
      case seed do
        seed
        when is_integer(seed) and seed >= -0x8000_0000_0000_0000 and seed <= 0xFFFF_FFFF_FFFF_FFFF ->
          Nx.tensor(Bitwise.band(seed, 0xFFFF_FFFF_FFFF_FFFF), type: {:u, 64})

        %T{type: {:u, 64}, shape: {}} = seed ->
          seed

        %T{type: {:s, 64}, shape: {}} = seed ->
          Nx.bitcast(seed, {:u, 64})

        other ->
          raise ArgumentError,
                "expected seed to be an integer, u64 tensor or s64 tensor, got: #{inspect(other)}"
      end

    key_from_seed(seed)
  end

  defnp key_from_seed(seed) do
    Nx.stack([Nx.right_shift(seed, 32), Nx.bitwise_and(seed, 0xFFFF_FFFF)])
    |> Nx.as_type({:u, 32})
    |> stop_grad()
  end

  @doc """
  Splits a key into new, independent keys, stacked along a new leading
  axis.

  ## Options

    * `:parts` - how many keys to make. Defaults to `2`

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> Nx.Random.split(key)
      #Nx.Tensor<
        u32[2][2]
        [
          [2144031507, 1159266824],
          [2801530850, 3394888281]
        ]
      >

      iex> key = Nx.Random.key(2024)
      iex> Nx.Random.split(key, parts: 3)
      #Nx.Tensor<
        u32[3][2]
        [
          [871888290, 3784946017],
          [3809071079, 534719396],
          [943282923, 1174458418]
        ]
      >

      iex> Nx.Random.split(Nx.tensor([1, 2]))
      ** (ArgumentError) expected key with 32-bit unsigned integer type, got key with type {:s, 32}
  """
  @spec split(Nx.Tensor.t(), keyword) :: Nx.Tensor.t()
  defn split(key, opts \\ []) do
    opts = keyword!(opts, parts: 2)
    key |> split_keys(opts[:parts]) |> stop_grad()
  end

  deftransformp split_keys(key, parts) do
    assert_key!(key)

    unless is_integer(parts) and parts >= 1 do
      raise ArgumentError, "expected :parts to be a positive integer, got: #{inspect(parts)}"
    end

    counter_bits(key, {parts, 2})
  end

  @doc """
  Derives a new key from `key` and integer `data`.

  `data` may be any integer tensor: each element gives its own key, so
  the result has the shape of `data` followed by an axis of size 2.
  Folding the same data into the same key always gives the same key.

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> Nx.Random.fold_in(key, 7)
      #Nx.Tensor<
        u32[2]
        [3896399097, 4206781431]
      >

      iex> key = Nx.Random.key(2024)
      iex> Nx.Random.fold_in(key, Nx.tensor([7, 8]))
      #Nx.Tensor<
        u32[2][2]
        [
          [3896399097, 4206781431],
          [3469808773, 2120656389]
        ]
      >
  """
  @spec fold_in(Nx.Tensor.t(), Nx.Tensor.t() | integer) :: Nx.Tensor.t()
  defn fold_in(key, data) do
    key |> fold(data) |> stop_grad()
  end

  deftransformp fold(key, data) do
    assert_key!(key)

    unless Nx.Type.integer?(Nx.type(data)) do
      raise ArgumentError, "expected data to be an integer, got: #{inspect(Nx.type(data))}"
    end

    data = Nx.as_type(data, {:u, 64})

    shape = Nx.shape(data)
    high = data |> Nx.right_shift(32) |> Nx.as_type({:u, 32}) |> Nx.flatten()
    low = data |> Nx.bitwise_and(0xFFFF_FFFF) |> Nx.as_type({:u, 32}) |> Nx.flatten()
    {x0, x1} = threefry(high, low, key)

    Nx.stack([x0, x1], axis: 1)
    |> Nx.reshape(Tuple.insert_at(shape, tuple_size(shape), 2))
  end

  @doc """
  Applies Threefry-2x32 (20 rounds) keyed by `ks` to the counters `xs`.

  `xs` is a `u32[2][n]` tensor holding `n` counter pairs, one word per
  row, and `ks` a key. The result holds the first output word of every
  pair followed by the second one, as a `u32[2 * n]` tensor. This is the
  primitive the rest of the module builds on.

  ## Examples

  The known-answer vectors of the Random123 library (zeros, ones, and
  digits of pi):

      iex> Nx.Random.threefry2x32_20_concat(Nx.tensor([[0], [0]], type: :u32), Nx.tensor([0, 0], type: :u32))
      #Nx.Tensor<
        u32[2]
        [1797259609, 2579123966]
      >

      iex> ones = Nx.tensor([0xFFFFFFFF, 0xFFFFFFFF], type: :u32)
      iex> Nx.Random.threefry2x32_20_concat(Nx.reshape(ones, {2, 1}), ones)
      #Nx.Tensor<
        u32[2]
        [481924860, 3137350631]
      >

      iex> Nx.Random.threefry2x32_20_concat(
      ...>   Nx.tensor([[0x243F6A88], [0x85A308D3]], type: :u32),
      ...>   Nx.tensor([0x13198A2E, 0x03707344], type: :u32)
      ...> )
      #Nx.Tensor<
        u32[2]
        [3297917596, 1212020640]
      >
  """
  @spec threefry2x32_20_concat(Nx.Tensor.t(), Nx.Tensor.t()) :: Nx.Tensor.t()
  defn threefry2x32_20_concat(xs, ks) do
    threefry_concat(xs, ks)
  end

  deftransformp threefry_concat(xs, ks) do
    assert_key!(ks)

    case xs do
      %T{type: {:u, 32}, shape: {2, _}} ->
        :ok

      %T{type: type, shape: shape} ->
        raise ArgumentError,
              "expected counters of type {:u, 32} and shape {2, n}, " <>
                "got type #{inspect(type)} and shape #{inspect(shape)}"
    end

    {x0, x1} = threefry(xs[0], xs[1], ks)
    Nx.concatenate([x0, x1])
  end

  ## The generator

  # Threefry-2x32 with 20 rounds on the counter words x0 and x1 (tensors of one shape),
  # keyed by the u32[2] tensor key: five groups of four rounds, each group followed by
  # a key injection.
  defp threefry(x0, x1, key) do
    k0 = key[0]
    k1 = key[1]
    schedule = {k0, k1, k0 |> Nx.bitwise_xor(k1) |> Nx.bitwise_xor(@key_parity)}

    Enum.reduce(1..5, {Nx.add(x0, k0), Nx.add(x1, k1)}, fn group, state ->
      {y0, y1} = Enum.reduce(elem(@rotations, rem(group + 1, 2)), state, &mix/2)
      y0 = Nx.add(y0, elem(schedule, rem(group, 3)))
      y1 = y1 |> Nx.add(elem(schedule, rem(group + 1, 3))) |> Nx.add(group)
      {y0, y1}
    end)
  end

  defp mix(rotation, {x0, x1}) do
    y0 = Nx.add(x0, x1)
    rotated = Nx.bitwise_or(Nx.left_shift(x1, rotation), Nx.right_shift(x1, 32 - rotation))
    {y0, Nx.bitwise_xor(rotated, y0)}
  end

  # u32 bits for every position of `shape`: the counters 0, 1, ..., n - 1 are cut in two
  # halves that form the counter pairs (an odd count gets a trailing 0), and the results
  # are laid out first words first.
  defp counter_bits(key, shape) do
    size = Tuple.product(shape)

    if size == 0 do
      Nx.broadcast(Nx.tensor(0, type: {:u, 32}), shape)
    else
      half = div(size + 1, 2)
      counters = Nx.iota({size}, type: {:u, 32})

      counters =
        if rem(size, 2) == 1,
          do: Nx.concatenate([counters, Nx.tensor([0], type: {:u, 32})]),
          else: counters

      counters = Nx.reshape(counters, {2, half})
      {x0, x1} = threefry(counters[0], counters[1], key)

      Nx.concatenate([x0, x1])
      |> Nx.slice([0], [size])
      |> Nx.reshape(shape)
    end
  end

  # Unsigned integers of `width` bits, one per position of `shape`.
  defp random_bits(key, shape, width) do
    case width do
      32 ->
        counter_bits(key, shape)

      64 ->
        words = key |> counter_bits({2, Tuple.product(shape)}) |> Nx.as_type({:u, 64})

        words[0]
        |> Nx.left_shift(32)
        |> Nx.bitwise_or(words[1])
        |> Nx.reshape(shape)

      width ->
        key |> counter_bits(shape) |> Nx.as_type({:u, width})
    end
  end

  ## Integers

  @doc """
  Draws integers uniformly from `[min_value, max_value)` and returns them
  with a new key.

  See `randint_split/4` for the options.

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> {dice, _new_key} = Nx.Random.randint(key, 1, 7, shape: {8})
      iex> dice
      #Nx.Tensor<
        s32[8]
        [4, 6, 4, 6, 4, 4, 4, 3]
      >

      iex> key = Nx.Random.key(2024)
      iex> {value, _new_key} = Nx.Random.randint(key, -5, 5, type: :s8)
      iex> value
      #Nx.Tensor<
        s8
        4
      >
  """
  @spec randint(Nx.Tensor.t(), Nx.Tensor.t() | number, Nx.Tensor.t() | number, keyword) ::
          {Nx.Tensor.t(), Nx.Tensor.t()}
  defn randint(key, min_value, max_value, opts \\ []) do
    keys = split(key)
    {randint_split(keys[1], min_value, max_value, opts), keys[0]}
  end

  @doc """
  Draws integers uniformly from `[min_value, max_value)` with a key that
  has already been split.

  `min_value` and `max_value` are numbers or tensors broadcastable to the
  shape of the result.

  ## Options

    * `:type` - an integer type for the result. Defaults to the type of
      `min_value` and `max_value` merged
    * `:shape` - the shape of the result. Defaults to `{}`
    * `:names` - the names of the result's axes

  ## Examples

      iex> key = Nx.Random.key(5)
      iex> Nx.Random.randint_split(key, 0, 1000, shape: {2, 3}, names: [:x, :y])
      #Nx.Tensor<
        s32[x: 2][y: 3]
        [
          [108, 44, 779],
          [782, 923, 933]
        ]
      >

      iex> key = Nx.Random.key(5)
      iex> Nx.Random.randint_split(key, Nx.tensor([0, 100, 200]), 10, type: :u8, shape: {3})
      #Nx.Tensor<
        u8[3]
        [6, 246, 7]
      >

      iex> Nx.Random.randint_split(Nx.Random.key(5), 0, 10, type: :f32)
      ** (ArgumentError) expected integer type, got type {:f, 32}
  """
  @spec randint_split(Nx.Tensor.t(), Nx.Tensor.t() | number, Nx.Tensor.t() | number, keyword) ::
          Nx.Tensor.t()
  defn randint_split(key, min_value, max_value, opts \\ []) do
    opts = keyword!(opts, [:names, :type, shape: {}])
    key |> integers(min_value, max_value, opts) |> stop_grad()
  end

  deftransformp integers(key, min_value, max_value, opts) do
    assert_key!(key)
    shape = opts[:shape]
    type = merged_type(min_value, max_value, opts[:type])

    nbits =
      case type do
        {kind, nbits} when kind in [:s, :u] -> nbits
        _ -> raise ArgumentError, "expected integer type, got type #{inspect(type)}"
      end

    min_value = Nx.broadcast(min_value, shape)
    max_value = Nx.broadcast(max_value, shape)
    bits = random_bits(key, Tuple.insert_at(shape, 0, 2), nbits)
    span = max_value |> Nx.subtract(min_value) |> Nx.as_type({:u, nbits})

    # Two words of bits are combined modulo span as high * 2^nbits + low, with
    # 2^nbits reduced modulo span first so that nothing overflows.
    multiplier =
      Nx.tensor(2, type: {:u, 64})
      |> Nx.pow(Nx.quotient(nbits, 2))
      |> Nx.remainder(span)
      |> Nx.pow(2)
      |> Nx.remainder(span)

    offset =
      bits[0]
      |> Nx.remainder(span)
      |> Nx.multiply(multiplier)
      |> Nx.add(Nx.remainder(bits[1], span))
      |> Nx.remainder(span)

    min_value
    |> Nx.add(offset)
    |> Nx.as_type(type)
    |> reshape_named(shape, opts[:names])
  end

  ## Floats

  @doc """
  Same as `uniform(key, 0.0, 1.0, opts)`.

  ## Examples

      iex> {value, _new_key} = Nx.Random.uniform(Nx.Random.key(2024), type: :f64)
      iex> value
      #Nx.Tensor<
        f64
        0.933877609224468
      >
  """
  @spec uniform(Nx.Tensor.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  defn uniform(key, opts \\ []) do
    uniform(key, 0.0, 1.0, opts)
  end

  @doc """
  Draws floats uniformly from `[min_value, max_value)` and returns them
  with a new key.

  See `uniform_split/4` for the options.

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> {values, new_key} = Nx.Random.uniform(key, -1.0, 1.0, shape: {4})
      iex> values
      #Nx.Tensor<
        f32[4]
        [0.10219598, -0.15089822, -0.23469448, -0.48735523]
      >
      iex> new_key
      #Nx.Tensor<
        u32[2]
        [2144031507, 1159266824]
      >
  """
  @spec uniform(Nx.Tensor.t(), Nx.Tensor.t() | number, Nx.Tensor.t() | number, keyword) ::
          {Nx.Tensor.t(), Nx.Tensor.t()}
  defn uniform(key, min_value, max_value, opts \\ []) do
    keys = split(key)
    {uniform_split(keys[1], min_value, max_value, opts), keys[0]}
  end

  @doc """
  Draws floats uniformly from `[min_value, max_value)` with a key that
  has already been split.

  The mantissa of each value is filled with random bits, which gives
  every representable float of `[1, 2)` the same chance; the value is
  then moved to the requested interval. Complex types get independent
  real and imaginary parts, each drawn from the interval.

  ## Options

    * `:type` - a float or complex type for the result. Defaults to the
      type of `min_value` and `max_value` merged, made floating
    * `:shape` - the shape of the result. Defaults to `{}`
    * `:names` - the names of the result's axes

  ## Examples

      iex> key = Nx.Random.key(5)
      iex> Nx.Random.uniform_split(key, 10, 20, shape: {2, 2}, type: :bf16)
      #Nx.Tensor<
        bf16[2][2]
        [
          [16.5, 19.0],
          [16.5, 16.5]
        ]
      >

      iex> key = Nx.Random.key(5)
      iex> Nx.Random.uniform_split(key, 0, 1, shape: {2}, type: :c64)
      #Nx.Tensor<
        c64[2]
        [0.83689356+0.12452543i, 0.41553724+0.8879342i]
      >

      iex> Nx.Random.uniform_split(Nx.Random.key(5), 0, 1, type: :s32)
      ** (ArgumentError) expected float or complex type, got type {:s, 32}
  """
  @spec uniform_split(Nx.Tensor.t(), Nx.Tensor.t() | number, Nx.Tensor.t() | number, keyword) ::
          Nx.Tensor.t()
  defn uniform_split(key, min_value, max_value, opts \\ []) do
    opts = keyword!(opts, [:names, :type, shape: {}])
    key |> uniform_values(min_value, max_value, opts) |> stop_grad()
  end

  deftransformp uniform_values(key, min_value, max_value, opts) do
    assert_key!(key)
    type = floating_type(min_value, max_value, opts[:type])

    key
    |> real_or_complex(type, opts[:shape], fn key, type, shape ->
      uniform_real(key, min_value, max_value, type, shape)
    end)
    |> reshape_named(opts[:shape], opts[:names])
  end

  defp uniform_real(key, min_value, max_value, {_, nbits} = type, shape) do
    {mantissa, one} = float_layout!(type)
    min_value = Nx.as_type(min_value, type)
    max_value = Nx.as_type(max_value, type)

    # Random mantissa bits under the exponent of 1.0 give a float in [1, 2).
    key
    |> random_bits(shape, nbits)
    |> Nx.right_shift(nbits - mantissa)
    |> Nx.bitwise_or(one)
    |> Nx.bitcast(type)
    |> Nx.subtract(1.0)
    |> Nx.multiply(Nx.subtract(max_value, min_value))
    |> Nx.add(min_value)
    |> Nx.max(min_value)
  end

  defp float_layout!(type) do
    case @float_layout do
      %{^type => layout} -> layout
      %{} -> raise ArgumentError, "expected float or complex type, got type #{inspect(type)}"
    end
  end

  @doc """
  Same as `normal(key, 0.0, 1.0, opts)`.

  ## Examples

      iex> {value, _new_key} = Nx.Random.normal(Nx.Random.key(2024))
      iex> value
      #Nx.Tensor<
        f32
        -0.21106268
      >
  """
  @spec normal(Nx.Tensor.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  defn normal(key, opts \\ []) do
    normal(key, 0.0, 1.0, opts)
  end

  @doc """
  Draws from the normal distribution of the given `mean` and
  `standard_deviation` and returns the values with a new key.

  See `normal_split/4` for the options.

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> {values, _new_key} = Nx.Random.normal(key, 100, 15, shape: {3})
      iex> values
      #Nx.Tensor<
        f32[3]
        [101.92654, 80.489395, 95.52219]
      >
  """
  @spec normal(Nx.Tensor.t(), Nx.Tensor.t() | number, Nx.Tensor.t() | number, keyword) ::
          {Nx.Tensor.t(), Nx.Tensor.t()}
  defn normal(key, mean, standard_deviation, opts \\ []) do
    keys = split(key)
    {normal_split(keys[1], mean, standard_deviation, opts), keys[0]}
  end

  @doc """
  Draws from the normal distribution of the given `mean` and
  `standard_deviation` with a key that has already been split.

  Values are obtained by inverse transform sampling: a uniform draw `u`
  from the open interval `(-1, 1)` becomes `sqrt(2) * erf_inv(u)`.
  Complex types get independent real and imaginary parts, each drawn
  from the given distribution.

  ## Options

    * `:type` - a float or complex type for the result. Defaults to the
      type of `mean` and `standard_deviation` merged, made floating
    * `:shape` - the shape of the result. Defaults to `{}`
    * `:names` - the names of the result's axes

  ## Examples

      iex> key = Nx.Random.key(5)
      iex> Nx.Random.normal_split(key, 0, 1, shape: {2, 2}, type: :f64)
      #Nx.Tensor<
        f64[2][2]
        [
          [-0.8095067332940975, -2.499840830401254],
          [-0.09575793429795126, -1.3326790549047878]
        ]
      >

      iex> key = Nx.Random.key(5)
      iex> Nx.Random.normal_split(key, 0, 1, shape: {2}, type: :c64)
      #Nx.Tensor<
        c64[2]
        [0.98177063-1.1526577i, -0.21332364+1.2156153i]
      >
  """
  @spec normal_split(Nx.Tensor.t(), Nx.Tensor.t() | number, Nx.Tensor.t() | number, keyword) ::
          Nx.Tensor.t()
  defn normal_split(key, mean, standard_deviation, opts \\ []) do
    opts = keyword!(opts, [:names, :type, shape: {}])
    key |> normal_values(mean, standard_deviation, opts) |> stop_grad()
  end

  deftransformp normal_values(key, mean, standard_deviation, opts) do
    assert_key!(key)
    type = floating_type(mean, standard_deviation, opts[:type])

    key
    |> real_or_complex(type, opts[:shape], fn key, type, shape ->
      normal = key |> uniform_real(above_minus_one(type), 1, type, shape) |> standard_normal()

      standard_deviation
      |> Nx.as_type(type)
      |> Nx.multiply(normal)
      |> Nx.add(Nx.as_type(mean, type))
    end)
    |> reshape_named(opts[:shape], opts[:names])
  end

  defp standard_normal(%T{type: type} = u) do
    Nx.multiply(Nx.sqrt(Nx.tensor(2, type: type)), inverse_erf(u))
  end

  # erf_inv as Nx computes it for the values it documents: M. Giles' single-precision
  # approximation ("Approximating the erfinv function", GPU Computing Gems, 2010),
  # evaluated in f64 and rounded to the input's type. A polynomial in w = -log(1 - x^2),
  # one for the central region (w < 5) and one in sqrt(w) for the tails.
  @erf_inv_central [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06] ++
                     [0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
  @erf_inv_tail [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844] ++
                  [0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]

  defp inverse_erf(%T{type: type} = x) do
    x = Nx.as_type(x, {:f, 64})
    w = Nx.negate(Nx.log(Nx.multiply(Nx.subtract(1, x), Nx.add(1, x))))
    central = horner(@erf_inv_central, Nx.subtract(w, 2.5))
    tail = horner(@erf_inv_tail, Nx.subtract(Nx.sqrt(w), 3))

    Nx.less(w, 5)
    |> Nx.select(central, tail)
    |> Nx.multiply(x)
    |> Nx.as_type(type)
  end

  defp horner([first | rest], t) do
    Enum.reduce(rest, Nx.tensor(first, type: {:f, 64}), fn c, acc ->
      acc |> Nx.multiply(t) |> Nx.add(c)
    end)
  end

  # The float of `type` closest to -1 on its right, -(1 - 2^-(mantissa + 1)): a uniform
  # draw from it up to 1 never reaches -1, where erf_inv is infinite.
  defp above_minus_one(type) do
    {mantissa, _one} = float_layout!(type)
    -(1.0 - :math.pow(2, -(mantissa + 1)))
  end

  @doc """
  Draws from the multivariate normal distribution of the given `mean`
  (a vector of size `n`) and `covariance` (an `n`-by-`n` positive
  semi-definite matrix) and returns the values with a new key.

  See `multivariate_normal_split/4` for the options.

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> mean = Nx.tensor([0.0, 10.0])
      iex> covariance = Nx.tensor([[1.0, 0.0], [0.0, 4.0]])
      iex> {values, _new_key} = Nx.Random.multivariate_normal(key, mean, covariance)
      iex> values
      #Nx.Tensor<
        f32[2]
        [1.5053085, 7.265316]
      >
  """
  @spec multivariate_normal(Nx.Tensor.t(), Nx.Tensor.t(), Nx.Tensor.t(), keyword) ::
          {Nx.Tensor.t(), Nx.Tensor.t()}
  defn multivariate_normal(key, mean, covariance, opts \\ []) do
    keys = split(key)
    {multivariate_normal_split(keys[1], mean, covariance, opts), keys[0]}
  end

  @doc """
  Draws from a multivariate normal distribution with a key that has
  already been split.

  With `z` standard normal draws and `a` a factor of the covariance
  (`a . aᵀ = covariance`), the result is `mean + z . aᵀ`. A covariance
  that is not positive semi-definite gives values that are not normally
  distributed.

  ## Options

    * `:type` - a float type for the result. Defaults to the type of
      `mean` and `covariance` merged, made floating
    * `:shape` - the batch shape: the result has this shape followed by
      the size of `mean`. Defaults to `{}`
    * `:names` - the names of the result's axes
    * `:method` - how to factor the covariance: `:cholesky` (the
      default), or `:svd` and `:eigh`, which also accept singular
      covariances

  ## Examples

      iex> key = Nx.Random.key(5)
      iex> mean = Nx.tensor([1.0, -1.0])
      iex> covariance = Nx.tensor([[2.0, 1.0], [1.0, 2.0]])
      iex> Nx.Random.multivariate_normal_split(key, mean, covariance, shape: {3})
      #Nx.Tensor<
        f32[3][2]
        [
          [1.6789372, -0.018492937],
          [1.7719193, 0.08654654],
          [-1.1407561, -1.804199]
        ]
      >

      iex> Nx.Random.multivariate_normal_split(Nx.Random.key(5), Nx.tensor([0.0]), Nx.tensor([1.0]))
      ** (ArgumentError) expected covariance to have rank 2, got tensor with rank 1
  """
  @spec multivariate_normal_split(Nx.Tensor.t(), Nx.Tensor.t(), Nx.Tensor.t(), keyword) ::
          Nx.Tensor.t()
  defn multivariate_normal_split(key, mean, covariance, opts \\ []) do
    opts = keyword!(opts, [:names, :type, :shape, method: :cholesky])
    key |> multivariate_values(mean, covariance, opts) |> stop_grad()
  end

  deftransformp multivariate_values(key, mean, covariance, opts) do
    assert_key!(key)

    unless opts[:method] in [:svd, :eigh, :cholesky] do
      raise ArgumentError,
            "method must be one of :svd, :eigh and :cholesky, got: #{inspect(opts[:method])}"
    end

    type = floating_type(mean, covariance, opts[:type])

    case type do
      {:c, _} ->
        raise ArgumentError, "multivariate_normal does not support complex types"

      {kind, _} when kind in [:f, :bf, :f8_e4m3fn] ->
        :ok

      _ ->
        raise ArgumentError, "expected float or complex type, got type #{inspect(type)}"
    end

    if Nx.rank(mean) != 1 do
      raise ArgumentError, "expected mean to have rank 1, got tensor with rank #{Nx.rank(mean)}"
    end

    if Nx.rank(covariance) != 2 do
      raise ArgumentError,
            "expected covariance to have rank 2, got tensor with rank #{Nx.rank(covariance)}"
    end

    {rows, cols} = Nx.shape(covariance)

    if rows != cols do
      raise ArgumentError,
            "expected covariance to be a square matrix, got tensor with shape " <>
              inspect(Nx.shape(covariance))
    end

    dim = Nx.size(mean)

    if rows != dim do
      raise ArgumentError,
            "expected mean and covariance to have the same dimensions, got #{dim} and #{rows}"
    end

    shape =
      case opts[:shape] do
        nil -> {dim}
        batch when is_tuple(batch) -> Tuple.insert_at(batch, tuple_size(batch), dim)
        _ -> raise ArgumentError, "shape must be a tuple of integers"
      end

    mean = Nx.as_type(mean, type)
    factor = covariance |> Nx.as_type(type) |> factor(opts[:method])

    z =
      key
      |> normal_values(0.0, 1.0, shape: shape, type: type)
      |> Nx.reshape({div(Tuple.product(shape), dim), dim})

    mean
    |> Nx.add(Nx.dot(z, [1], factor, [1]))
    |> reshape_named(shape, opts[:names])
  end

  # A matrix `a` with `a . aᵀ == covariance`.
  defp factor(covariance, :cholesky), do: Nx.LinAlg.cholesky(covariance)

  defp factor(covariance, :svd) do
    {u, s, _vt} = Nx.LinAlg.svd(covariance)
    Nx.multiply(u, Nx.sqrt(s))
  end

  defp factor(covariance, :eigh) do
    {s, u} = Nx.LinAlg.eigh(covariance)
    Nx.multiply(u, Nx.sqrt(s))
  end

  ## Gumbel

  @doc """
  Draws from the standard Gumbel distribution and returns the values
  with a new key.

  See `gumbel_split/2` for the options.

  ## Examples

      iex> {values, _new_key} = Nx.Random.gumbel(Nx.Random.key(2024), shape: {3})
      iex> values
      #Nx.Tensor<
        f32[3]
        [0.51777864, -0.84859234, 0.04016875]
      >
  """
  @spec gumbel(Nx.Tensor.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  defn gumbel(key, opts \\ []) do
    keys = split(key)
    {gumbel_split(keys[1], opts), keys[0]}
  end

  @doc """
  Draws from the standard Gumbel distribution (location 0, scale 1)
  with a key that has already been split: `-log(-log(u))` for `u`
  uniform in `(0, 1)`.

  ## Options

    * `:shape` - the shape of the result. Defaults to `{}`
    * `:type` - a float type for the result. Defaults to `{:f, 32}`

  ## Examples

      iex> Nx.Random.gumbel_split(Nx.Random.key(5), shape: {2}, type: :f64)
      #Nx.Tensor<
        f64[2]
        [1.7256444640935666, -0.7339268220393945]
      >

      iex> Nx.Random.gumbel_split(Nx.Random.key(5), type: :s32)
      ** (ArgumentError) output type must be floating-point, got: {:s, 32}
  """
  @spec gumbel_split(Nx.Tensor.t(), keyword) :: Nx.Tensor.t()
  defn gumbel_split(key, opts \\ []) do
    opts = keyword!(opts, shape: {}, type: {:f, 32})
    key |> gumbel_values(opts) |> stop_grad()
  end

  deftransformp gumbel_values(key, opts) do
    assert_key!(key)
    type = Nx.Type.normalize!(opts[:type])

    unless match?({kind, _} when kind in [:f, :bf, :f8_e4m3fn], type) do
      raise ArgumentError, "output type must be floating-point, got: #{inspect(type)}"
    end

    tiny = Nx.Constants.smallest_positive_normal(type)

    key
    |> uniform_real(tiny, 1, type, opts[:shape])
    |> rounded_log()
    |> Nx.negate()
    |> rounded_log()
    |> Nx.negate()
  end

  # The logarithm computed in f64 and rounded to the input's type, so that the last bit
  # does not depend on the precision of the backend's own f32 (or narrower) log.
  defp rounded_log(x) do
    case Nx.type(x) do
      {kind, bits} = type when kind in [:f, :bf, :f8_e4m3fn] and bits < 64 ->
        x |> Nx.as_type({:f, 64}) |> Nx.log() |> Nx.as_type(type)

      _ ->
        Nx.log(x)
    end
  end

  ## Permutations and sampling

  @doc """
  Shuffles the entries of `tensor` along an axis and returns the result
  with a new key.

  ## Options

    * `:axis` - the axis to shuffle. Defaults to `0`
    * `:independent` - when `true`, every line along `:axis` gets its own
      permutation; when `false` (the default), the slices along `:axis`
      are permuted as a whole

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> {shuffled, _new_key} = Nx.Random.shuffle(key, Nx.tensor([[1, 2], [3, 4], [5, 6]]))
      iex> shuffled
      #Nx.Tensor<
        s32[3][2]
        [
          [3, 4],
          [5, 6],
          [1, 2]
        ]
      >

      iex> key = Nx.Random.key(2024)
      iex> t = Nx.iota({2, 5}, axis: 1)
      iex> {shuffled, _new_key} = Nx.Random.shuffle(key, t, axis: 1, independent: true)
      iex> shuffled
      #Nx.Tensor<
        s32[2][5]
        [
          [1, 4, 3, 0, 2],
          [0, 1, 4, 3, 2]
        ]
      >
  """
  @spec shuffle(Nx.Tensor.t(), Nx.Tensor.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  defn shuffle(key, tensor, opts \\ []) do
    opts = keyword!(opts, axis: 0, independent: false)
    {shuffled, key} = permute(key, tensor, opts[:axis], opts[:independent])
    {shuffled, stop_grad(key)}
  end

  deftransformp permute(key, tensor, axis, independent) do
    assert_key!(key)
    tensor = Nx.to_tensor(tensor)
    axis = Nx.Shape.normalize_axis(Nx.shape(tensor), axis, Nx.names(tensor))

    if independent do
      sort_rounds(key, tensor, axis)
    else
      {order, key} = sort_rounds(key, Nx.iota({Nx.axis_size(tensor, axis)}), 0)
      {Nx.take(tensor, order, axis: axis), key}
    end
  end

  # Sorts along `axis` by fresh random u32 keys, as many times as needed for collisions
  # among the sort keys to be unlikely (3 * log(size) / log(2^32 - 1) rounds).
  defp sort_rounds(key, tensor, axis) do
    size = Nx.size(tensor)
    rounds = if size > 1, do: ceil(3 * :math.log(size) / :math.log(4_294_967_295)), else: 0

    Enum.reduce(List.duplicate(nil, rounds), {tensor, key}, fn nil, {tensor, key} ->
      keys = split_keys(key, 2)
      sort_keys = random_bits(keys[1], Nx.shape(tensor), 32)
      order = Nx.argsort(sort_keys, axis: axis)
      {Nx.take_along_axis(tensor, order, axis: axis), keys[0]}
    end)
  end

  @choice_options """
  ## Options

    * `:samples` - how many samples to take. Defaults to `1`
    * `:axis` - the axis to take samples along. Defaults to `nil`: the
      tensor is flattened first
    * `:replace` - whether an entry may be drawn more than once.
      Defaults to `true`
  """

  @doc """
  Takes random samples from `tensor`, all entries being equally likely,
  and returns them with a new key.

  Without replacement, `:samples` may not exceed the size of `tensor`
  (or of the axis).

  #{@choice_options}

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> {samples, _new_key} = Nx.Random.choice(key, Nx.tensor([10, 20, 30, 40]), samples: 6)
      iex> samples
      #Nx.Tensor<
        s32[6]
        [20, 20, 30, 30, 10, 30]
      >

      iex> key = Nx.Random.key(2024)
      iex> t = Nx.iota({2, 3})
      iex> {samples, _new_key} = Nx.Random.choice(key, t, samples: 2, axis: 1, replace: false)
      iex> samples
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 2],
          [4, 5]
        ]
      >

      iex> Nx.Random.choice(Nx.Random.key(1), Nx.iota({3}), samples: 4, replace: false)
      ** (ArgumentError) cannot take more samples than the input size when replace: false
  """
  @spec choice(Nx.Tensor.t(), Nx.Tensor.t(), Nx.Tensor.t() | keyword) ::
          {Nx.Tensor.t(), Nx.Tensor.t()}
  deftransform choice(key, tensor, opts \\ []) do
    if is_list(opts) do
      uniform_choice(key, tensor, opts)
    else
      choice(key, tensor, opts, [])
    end
  end

  defnp uniform_choice(key, tensor, opts) do
    {samples, key} = choose(key, tensor, nil, opts)
    {samples, stop_grad(key)}
  end

  @doc """
  Takes random samples from `tensor`, entry `i` being drawn with
  probability `p[i]`, and returns them with a new key.

  `p` is a rank-1 tensor of probabilities with one entry per element of
  `tensor` (or per entry of the axis). With replacement, samples are
  drawn by inverting the cumulative distribution; without, by ordering
  the entries by Gumbel-perturbed log-probabilities.

  #{@choice_options}

  ## Examples

      iex> key = Nx.Random.key(2024)
      iex> t = Nx.tensor([0, 1, 2])
      iex> p = Nx.tensor([0.8, 0.1, 0.1])
      iex> {samples, _new_key} = Nx.Random.choice(key, t, p, samples: 8)
      iex> samples
      #Nx.Tensor<
        s32[8]
        [0, 0, 2, 0, 0, 0, 1, 0]
      >
      iex> {samples, _new_key} = Nx.Random.choice(key, t, p, samples: 3, replace: false)
      iex> samples
      #Nx.Tensor<
        s32[3]
        [0, 2, 1]
      >

      iex> Nx.Random.choice(Nx.Random.key(1), Nx.iota({3}), Nx.tensor([0.5, 0.5]), [])
      ** (ArgumentError) probability tensor of size 2 is expected to have size 3
  """
  @spec choice(Nx.Tensor.t(), Nx.Tensor.t(), Nx.Tensor.t(), keyword) ::
          {Nx.Tensor.t(), Nx.Tensor.t()}
  defn choice(key, tensor, p, opts) do
    {samples, key} = choose(key, tensor, p, opts)
    {samples, stop_grad(key)}
  end

  deftransformp choose(key, tensor, p, opts) do
    assert_key!(key)
    opts = Keyword.validate!(opts, [:axis, samples: 1, replace: true])
    tensor = Nx.to_tensor(tensor)

    if Nx.rank(tensor) < 1 do
      raise ArgumentError, "tensor must have rank 1 or greater"
    end

    {tensor, axis} =
      case opts[:axis] do
        nil -> {Nx.flatten(tensor), 0}
        axis -> {tensor, Nx.Shape.normalize_axis(Nx.shape(tensor), axis, Nx.names(tensor))}
      end

    draws = opts[:samples]
    inputs = Nx.axis_size(tensor, axis)

    unless is_integer(draws) and draws >= 1 do
      raise ArgumentError, "must take at least one sample, got samples=#{inspect(draws)}"
    end

    if not opts[:replace] and draws > inputs do
      raise ArgumentError, "cannot take more samples than the input size when replace: false"
    end

    if p == nil,
      do: choose_uniformly(key, tensor, axis, inputs, draws, opts[:replace]),
      else: choose_weighted(key, tensor, axis, inputs, draws, opts[:replace], p)
  end

  defp choose_uniformly(key, tensor, axis, inputs, draws, true) do
    keys = split_keys(key, 2)
    index = integers(keys[1], 0, inputs, shape: {draws}, type: {:u, 32})
    {Nx.take(tensor, index, axis: axis), keys[0]}
  end

  defp choose_uniformly(key, tensor, axis, _inputs, draws, false) do
    {shuffled, key} = permute(key, tensor, axis, false)
    {Nx.slice_along_axis(shuffled, 0, draws, axis: axis), key}
  end

  defp choose_weighted(key, tensor, axis, inputs, draws, replace, p) do
    p = Nx.to_tensor(p)

    if Nx.rank(p) != 1 do
      raise ArgumentError, "probability tensor must have rank 1, got: #{Nx.rank(p)}"
    end

    if Nx.size(p) != inputs do
      raise ArgumentError,
            "probability tensor of size #{Nx.size(p)} is expected to have size #{inputs}"
    end

    keys = split_keys(key, 2)

    index =
      if replace do
        # Inverse transform sampling: the first entry whose cumulative probability
        # exceeds a uniform draw scaled to the total.
        cumulative = Nx.cumulative_sum(p)
        type = Nx.type(cumulative)

        u =
          uniform_values(keys[1], 0.0, 1.0, shape: {draws}, type: type)
          |> then(&Nx.subtract(1, &1))

        targets = Nx.multiply(cumulative[inputs - 1], u)

        cumulative
        |> Nx.new_axis(0)
        |> Nx.less_equal(Nx.new_axis(targets, 1))
        |> Nx.argmin(axis: 1, tie_break: :low)
      else
        # Gumbel top-k: the largest log(p) + g without repetition.
        gumbel = gumbel_values(keys[1], shape: {inputs}, type: Nx.type(p))

        gumbel
        |> Nx.negate()
        |> Nx.subtract(rounded_log(p))
        |> Nx.argsort()
        |> Nx.slice_along_axis(0, draws, axis: 0)
      end

    {Nx.take(tensor, index, axis: axis), keys[0]}
  end

  ## Helpers

  defp assert_key!(%T{shape: shape, type: type}) do
    if shape != {2} do
      raise ArgumentError,
            "expected key to have shape {2}, got tensor with shape #{inspect(shape)}"
    end

    if type != {:u, 32} do
      raise ArgumentError,
            "expected key with 32-bit unsigned integer type, got key with type #{inspect(type)}"
    end
  end

  defp assert_key!(other) do
    raise ArgumentError, "expected key to be a u32[2] tensor, got: #{inspect(other)}"
  end

  defp merged_type(left, right, nil), do: Nx.Type.merge(Nx.type(left), Nx.type(right))
  defp merged_type(_left, _right, type), do: Nx.Type.normalize!(type)

  defp floating_type(left, right, nil),
    do: Nx.Type.to_floating(Nx.Type.merge(Nx.type(left), Nx.type(right)))

  defp floating_type(_left, _right, type), do: Nx.Type.normalize!(type)

  # Runs `fun` with the real type; complex types draw the real and imaginary parts
  # along a trailing axis of size 2.
  defp real_or_complex(key, type, shape, fun) do
    case type do
      {:c, _} ->
        real = Nx.Type.to_real(type)
        parts = fun.(key, real, Tuple.insert_at(shape, tuple_size(shape), 2))
        last = tuple_size(shape)

        Nx.complex(
          Nx.squeeze(Nx.slice_along_axis(parts, 0, 1, axis: last), axes: [last]),
          Nx.squeeze(Nx.slice_along_axis(parts, 1, 1, axis: last), axes: [last])
        )

      {kind, _} when kind in [:f, :bf, :f8_e4m3fn] ->
        fun.(key, type, shape)

      _ ->
        raise ArgumentError, "expected float or complex type, got type #{inspect(type)}"
    end
  end

  defp reshape_named(tensor, shape, nil), do: Nx.reshape(tensor, shape)
  defp reshape_named(tensor, shape, names), do: Nx.reshape(tensor, shape, names: names)
end
