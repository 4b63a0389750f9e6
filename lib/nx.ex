defmodule Nx do
  @moduledoc """
  Numerical Elixir: multi-dimensional tensors and the operations on them.

  This project implements the public API of Nx 0.13 on a Rust engine over
  LibTorch. Tensors are created with `tensor/2`, `from_binary/3`,
  `iota/2`, `eye/2` and friends:

      iex> t = Nx.tensor([[1, 2], [3, 4]], names: [:x, :y])
      iex> Nx.shape(t)
      {2, 2}
      iex> Nx.type(t)
      {:s, 32}

  ## Types

  Every tensor has one element type (see `Nx.Type`): signed integers
  (`:s2`, `:s4`, `:s8`, `:s16`, `:s32`, `:s64`), unsigned integers (`:u2`
  ... `:u64`), floats (`:f8`, `:f8_e4m3fn`, `:f16`, `:bf16`, `:f32`,
  `:f64`) and complex numbers (`:c64`, `:c128`). Integers default to s32
  and floats to f32.

  ## Access syntax

  Tensors support `tensor[index]` (see `Nx.Tensor`). An integer (negative
  ones count from the end) or a scalar tensor picks one entry of the first
  axis and removes that axis; an inclusive range, with an optional positive
  step, keeps it; a list addresses several axes in order and a keyword list
  addresses them by name; a tensor of indices works as `take/3`:

      iex> t = Nx.iota({3, 4}, names: [:x, :y])
      iex> t[1]
      #Nx.Tensor<
        s32[y: 4]
        [4, 5, 6, 7]
      >
      iex> t[[1..-1//1, 0..3//2]]
      #Nx.Tensor<
        s32[x: 2][y: 2]
        [
          [4, 6],
          [8, 10]
        ]
      >
      iex> t[y: -1]
      #Nx.Tensor<
        s32[x: 3]
        [3, 7, 11]
      >
      iex> t[Nx.tensor([2, 0])][[.., 1]]
      #Nx.Tensor<
        s32[x: 2]
        [9, 1]
      >

  Integer indices outside an axis raise; indices given as tensors are
  clamped into the axis, as in `slice/4`:

      iex> Nx.tensor([1, 2])[2]
      ** (ArgumentError) index 2 is out of bounds for axis 0 in shape {2}

      iex> Nx.tensor([1, 2])[Nx.tensor(5)]
      #Nx.Tensor<
        s32
        2
      >

  ## Vectorization

  `vectorize/2` turns leading axes of a tensor into named *vectorized
  axes*. They are no longer part of the shape: every function treats the
  tensor as a collection of tensors of the remaining (inner) shape and
  works on each of them separately, as a loop over the entries would,
  while running as one batched operation:

      iex> rows = Nx.vectorize(Nx.tensor([[1, 2, 3], [4, 5, 6]]), :row)
      iex> Nx.divide(rows, Nx.sum(rows))
      #Nx.Tensor<
        vectorized[row: 2]
        f32[3]
        [
          [0.16666667, 0.33333334, 0.5],
          [0.26666668, 0.33333334, 0.4]
        ]
      >

  Axis options (`:axes`, `:axis`, permutations, windows) refer to the
  inner shape. When several inputs are vectorized, their vectorized axes
  are matched by name: axes of the same name must have the same size (or
  size 1, which is repeated), and the result is vectorized over every
  name found, in order of appearance. `devectorize/2` turns vectorized
  axes back into leading axes; `revectorize/3`, `reshape_vectors/2` and
  `broadcast_vectors/2` rearrange them. Vectorized tensors work inside
  `defn` too.

  ## Backends

  The `Nx` module validates arguments and computes the type, shape and
  names of each result; a backend (see `Nx.Backend`) computes the values.
  The default backend is `Nx.Torch.Backend` on the CPU; choose another with
  `config :nx, default_backend: {Nx.Torch.Backend, device: :cuda}`,
  `default_backend/1`, or the `:backend` option of creation functions.
  """

  alias Nx.Tensor, as: T

  # Nx defines abs/1, max/2 and min/2 on tensors; Kernel's versions are called qualified.
  import Kernel, except: [abs: 1, max: 2, min: 2]

  @type t :: number | Complex.t() | Nx.Tensor.t()
  @type shape :: number | Nx.Tensor.t() | Nx.Tensor.shape()
  @type axis :: Nx.Tensor.axis()
  @type axes :: Nx.Tensor.axes()
  @type template :: Nx.Tensor.t(%Nx.TemplateBackend{})

  @default_backend {Nx.Torch.Backend, [device: :cpu]}

  ## Creation

  @doc """
  Builds a tensor from a number, a boolean, a `Complex` number or a
  (nested) list of them.

  The type is inferred from the values unless given: integers give `:s32`,
  floats (and `:nan`, `:infinity`, `:neg_infinity`) give `:f32`, booleans
  give `:u8` and complex numbers give `:c64`.

  ## Options

    * `:type` - the element type (see `Nx.Type`)
    * `:names` - a list of axis names (atoms or `nil`), one per axis
    * `:backend` - the backend to create the tensor on

  ## Examples

      iex> Nx.tensor([1, 2, 3])
      #Nx.Tensor<
        s32[3]
        [1, 2, 3]
      >

      iex> Nx.tensor([[1, 2], [3, 4]], names: [:x, :y]) |> Nx.as_type(:f32)
      #Nx.Tensor<
        f32[x: 2][y: 2]
        [
          [1.0, 2.0],
          [3.0, 4.0]
        ]
      >

      iex> Nx.tensor(0.1, type: :f64)
      #Nx.Tensor<
        f64
        0.1
      >

      iex> Nx.tensor([:nan, :infinity, :neg_infinity])
      #Nx.Tensor<
        f32[3]
        [NaN, Inf, -Inf]
      >

  ## Error cases

      iex> Nx.tensor([[1, 2], [3]])
      ** (ArgumentError) lists have different shapes: expected a list of 2 elements, got [3]

      iex> Nx.tensor([1, 2], names: [:x, :y])
      ** (ArgumentError) invalid names for tensor of rank 1, when specifying names every dimension must have a name or be nil
  """
  @spec tensor(number | boolean | Complex.t() | list | Nx.Tensor.t(), keyword) :: Nx.Tensor.t()
  def tensor(arg, opts \\ [])

  def tensor(%T{} = tensor, opts) do
    opts = Keyword.validate!(opts, [:type, :names, :backend])

    tensor =
      case opts[:type] do
        nil -> tensor
        type -> as_type(tensor, type)
      end

    case opts[:names] do
      nil -> tensor
      names -> rename(tensor, names)
    end
  end

  def tensor(arg, opts) do
    opts = Keyword.validate!(opts, [:type, :names, :backend])
    {shape, flat} = flatten_list(arg)
    type = if type = opts[:type], do: Nx.Type.normalize!(type), else: infer_list_type(flat, arg)
    names = names!(opts[:names], shape)
    binary = Nx.Shared.encode_list(Enum.map(flat, &cast_element!(type, &1)), type)
    {backend, backend_opts} = backend_from_options!(opts) || default_backend()
    out = %T{type: type, shape: shape, names: names}
    backend.from_binary(out, binary, backend_opts)
  end

  defp flatten_list(list) when is_list(list) do
    {shape, acc} = flatten_list(list, [], [])
    {List.to_tuple(shape), Enum.reverse(acc)}
  end

  defp flatten_list(number), do: {{}, [number]}

  defp flatten_list([], _path, _acc) do
    raise ArgumentError, "cannot build an empty tensor"
  end

  defp flatten_list([head | _] = list, path, acc) when is_list(head) do
    {[inner | _] = shapes, acc} =
      Enum.map_reduce(list, acc, fn
        sub, acc when is_list(sub) ->
          flatten_list(sub, [length(list) | path], acc)

        other, _ ->
          raise ArgumentError,
                "lists have different shapes: expected a list, got #{inspect(other)}"
      end)

    Enum.each(shapes, fn shape ->
      if shape != inner do
        raise ArgumentError,
              "lists have different shapes: expected a list of #{hd(inner)} elements, got " <>
                inspect(Enum.find(list, &(length(&1) != hd(inner))))
      end
    end)

    {[length(list) | inner], acc}
  end

  defp flatten_list(list, _path, acc) do
    Enum.reduce(list, {[length(list)], acc}, fn
      element, {shape, acc} when is_list(element) ->
        raise ArgumentError,
              "lists have different shapes: expected a number, got #{inspect(element)}"

        {shape, acc}

      element, {shape, acc} ->
        {shape, [element | acc]}
    end)
  end

  defp infer_list_type(flat, arg) do
    Enum.reduce(flat, nil, fn value, acc ->
      type =
        try do
          Nx.Type.infer(value)
        rescue
          _ in [ArgumentError, FunctionClauseError] ->
            raise ArgumentError,
                  "invalid value given to Nx.tensor/1, got: #{inspect(value)} in #{inspect(arg)}"
        end

      if acc, do: Nx.Type.merge(acc, type), else: type
    end)
  end

  defp cast_element!(type, true), do: Nx.Type.cast_number!(type, 1)
  defp cast_element!(type, false), do: Nx.Type.cast_number!(type, 0)
  defp cast_element!(type, value), do: Nx.Type.cast_number!(type, value)

  defp names!(names, shape), do: Nx.Shape.named_axes!(names, shape)

  defp rename(%T{shape: shape} = tensor, names), do: %{tensor | names: names!(names, shape)}

  @doc """
  Builds a one-dimensional tensor from a binary of elements of `type`, in
  native endianness (sub-byte types packed as in Elixir bitstrings).

  ## Options

    * `:backend` - the backend to create the tensor on

  ## Examples

      iex> Nx.from_binary(<<1, 2, 3>>, :u8)
      #Nx.Tensor<
        u8[3]
        [1, 2, 3]
      >

      iex> Nx.from_binary(<<1.5::float-32-native, -2.0::float-32-native>>, :f32)
      #Nx.Tensor<
        f32[2]
        [1.5, -2.0]
      >

  ## Error cases

      iex> Nx.from_binary(<<1, 2, 3>>, :s16)
      ** (ArgumentError) binary does not match the given size
  """
  @spec from_binary(bitstring, Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def from_binary(binary, type, opts \\ []) when is_bitstring(binary) do
    opts = Keyword.validate!(opts, [:backend])
    {_, bits} = type = Nx.Type.normalize!(type)

    if rem(bit_size(binary), bits) != 0 do
      raise ArgumentError, "binary does not match the given size"
    end

    {backend, backend_opts} = backend_from_options!(opts) || default_backend()
    out = %T{type: type, shape: {div(bit_size(binary), bits)}, names: [nil]}
    backend.from_binary(out, binary, backend_opts)
  end

  @doc """
  Returns the tensor's elements as a binary in native endianness.

  ## Options

    * `:limit` - return only the first `limit` elements

  ## Examples

      iex> Nx.to_binary(Nx.tensor([1, 2, 3], type: :u8))
      <<1, 2, 3>>

      iex> Nx.to_binary(Nx.tensor([1, 2, 3], type: :u8), limit: 2)
      <<1, 2>>
  """
  @spec to_binary(Nx.Tensor.t() | number, keyword) :: bitstring
  def to_binary(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:limit])
    %T{data: %backend{}} = tensor = tensor |> to_tensor() |> Nx.Vectorize.devectorize()
    limit = if limit = opts[:limit], do: Kernel.min(size(tensor), limit), else: size(tensor)
    backend.to_binary(tensor, limit)
  end

  @doc """
  Returns the tensor's elements as a flat list.

  Non-finite floats are returned as `:nan`, `:infinity` and
  `:neg_infinity`, complex numbers as `Complex` structs.

  ## Options

    * `:limit` - return only the first `limit` elements

  ## Examples

      iex> Nx.to_flat_list(Nx.tensor([[1, 2], [3, 4]]))
      [1, 2, 3, 4]

      iex> Nx.to_flat_list(Nx.tensor([1.0, :nan]), limit: 1)
      [1.0]
  """
  @spec to_flat_list(Nx.Tensor.t() | number, keyword) :: list
  def to_flat_list(tensor, opts \\ []) do
    %T{type: type} = tensor = to_tensor(tensor)
    tensor |> to_binary(opts) |> Nx.Shared.decode(type)
  end

  @doc """
  Returns the tensor's elements as a nested list (a number for scalars).

  ## Examples

      iex> Nx.to_list(Nx.tensor([[1, 2], [3, 4]]))
      [[1, 2], [3, 4]]

      iex> Nx.to_list(Nx.tensor(3.5))
      3.5
  """
  @spec to_list(Nx.Tensor.t()) :: number | list
  def to_list(tensor) do
    # Vectorized axes count as leading axes of the list.
    %T{shape: shape} = tensor = tensor |> to_tensor() |> Nx.Vectorize.devectorize()
    flat = to_flat_list(tensor)

    case Tuple.to_list(shape) do
      [] -> hd(flat)
      dims -> nest(flat, dims)
    end
  end

  defp nest(flat, [_]), do: flat

  defp nest(flat, [_ | inner]) do
    chunk = Enum.reduce(inner, 1, &(&1 * &2))

    if chunk == 0 do
      []
    else
      flat |> Enum.chunk_every(chunk) |> Enum.map(&nest(&1, inner))
    end
  end

  @doc """
  Returns the value of a tensor with a single element (shape `{}`) as a
  number, one of `:nan`, `:infinity`, `:neg_infinity`, or a `Complex`.

  ## Examples

      iex> Nx.to_number(Nx.tensor(42))
      42

      iex> Nx.to_number(Nx.tensor(:infinity))
      :infinity

  ## Error cases

      iex> Nx.to_number(Nx.tensor([1, 2]))
      ** (ArgumentError) cannot convert tensor of shape {2} to number
  """
  @spec to_number(Nx.Tensor.t() | number) :: number | atom | Complex.t()
  def to_number(number) when is_number(number), do: number

  def to_number(tensor) do
    %T{shape: shape} = tensor = to_tensor(tensor)

    if tensor.vectorized_axes != [] do
      raise ArgumentError,
            "cannot convert vectorized tensor with axes #{inspect(tensor.vectorized_axes)} " <>
              "and shape #{inspect(shape)} to number"
    end

    if shape != {} do
      raise ArgumentError, "cannot convert tensor of shape #{inspect(shape)} to number"
    end

    hd(to_flat_list(tensor))
  end

  @doc """
  Creates a template: a tensor with a type, shape and names but no data
  (its backend is `Nx.TemplateBackend`).

  ## Options

    * `:names` - a list of axis names

  ## Examples

      iex> Nx.template({2, 3}, :f32)
      #Nx.Tensor<
        f32[2][3]
        Nx.TemplateBackend
      >
  """
  @spec template(Nx.Tensor.shape(), Nx.Type.t() | atom, keyword) :: template
  def template(shape, type, opts \\ []) when is_tuple(shape) do
    opts = Keyword.validate!(opts, [:names])
    shape = shape!(shape)
    type = Nx.Type.normalize!(type)
    %T{data: %Nx.TemplateBackend{}, shape: shape, type: type, names: names!(opts[:names], shape)}
  end

  @doc """
  Creates a tensor of the given shape counting up from 0 in row-major
  order, or along one axis.

  `shape` may be a shape tuple or a tensor (whose shape is used).

  ## Options

    * `:type` - the element type, defaults to `{:s, 32}`
    * `:axis` - count along this axis only (repeating the count over the
      other axes)
    * `:names` - a list of axis names
    * `:backend` - the backend to create the tensor on
    * `:vectorized_axes` - a keyword list of names and sizes: the result
      is vectorized over them, with the same values for every entry

  ## Examples

      iex> Nx.iota({2, 3})
      #Nx.Tensor<
        s32[2][3]
        [
          [0, 1, 2],
          [3, 4, 5]
        ]
      >

      iex> Nx.iota({2, 3}, axis: 1, type: :f32)
      #Nx.Tensor<
        f32[2][3]
        [
          [0.0, 1.0, 2.0],
          [0.0, 1.0, 2.0]
        ]
      >

      iex> Nx.iota({3}, vectorized_axes: [batch: 2])
      #Nx.Tensor<
        vectorized[batch: 2]
        s32[3]
        [
          [0, 1, 2],
          [0, 1, 2]
        ]
      >
  """
  @spec iota(shape, keyword) :: Nx.Tensor.t()
  def iota(tensor_or_shape, opts \\ []) do
    opts = Keyword.validate!(opts, [:type, :axis, :names, :backend, :vectorized_axes])
    shape = shape!(tensor_or_shape)
    names = names!(opts[:names], shape)
    type = Nx.Type.normalize!(opts[:type] || {:s, 32})
    {backend, backend_opts} = backend_from_options!(opts) || default_backend()
    out = %T{type: type, shape: shape, names: names}

    case opts[:axis] do
      nil ->
        backend.iota(out, nil, backend_opts)

      axis ->
        axis = normalize_axis!(shape, axis, names)
        backend.iota(out, axis, backend_opts)
    end
    |> with_vectorized_axes(opts[:vectorized_axes])
  end

  # The same tensor for every entry of the given vectorized axes.
  defp with_vectorized_axes(tensor, nil), do: tensor
  defp with_vectorized_axes(tensor, []), do: tensor

  defp with_vectorized_axes(%T{shape: shape, names: names} = tensor, axes) when is_list(axes) do
    for axis <- axes,
        not match?({name, size} when is_atom(name) and is_integer(size) and size > 0, axis) do
      raise ArgumentError,
            ":vectorized_axes must be a keyword list of names and positive sizes, got: " <>
              inspect(axes)
    end

    sizes = Keyword.values(axes)
    rank = tuple_size(shape)
    full = List.to_tuple(sizes ++ Tuple.to_list(shape))
    leading = Enum.map(sizes, fn _ -> nil end)
    lead_count = length(sizes)
    broadcast_axes = Enum.to_list(lead_count..(lead_count + rank - 1)//1)

    tensor
    |> broadcast(full, axes: broadcast_axes, names: leading ++ names)
    |> vectorize(Keyword.keys(axes))
  end

  @doc """
  Creates an identity matrix of size `n`, or identity matrices over the
  last two axes of a given shape (the leading axes are batch axes).

  ## Options

    * `:type` - the element type, defaults to `{:s, 32}`
    * `:names` - a list of axis names
    * `:backend` - the backend to create the tensor on
    * `:vectorized_axes` - a keyword list of names and sizes: the result
      is vectorized over them, with the same values for every entry

  ## Examples

      iex> Nx.eye(2)
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 0],
          [0, 1]
        ]
      >

      iex> Nx.eye({2, 2, 3}, type: :u8)
      #Nx.Tensor<
        u8[2][2][3]
        [
          [
            [1, 0, 0],
            [0, 1, 0]
          ],
          [
            [1, 0, 0],
            [0, 1, 0]
          ]
        ]
      >

  ## Error cases

      iex> Nx.eye({3})
      ** (ArgumentError) eye/2 expects a shape with at least 2 dimensions, got: {3}
  """
  @spec eye(non_neg_integer | shape, keyword) :: Nx.Tensor.t()
  def eye(n_or_shape, opts \\ [])

  def eye(n, opts) when is_integer(n) and n >= 0, do: eye({n, n}, opts)

  def eye(shape, opts) do
    opts = Keyword.validate!(opts, [:type, :names, :backend, :vectorized_axes])
    shape = shape!(shape)

    if tuple_size(shape) < 2 do
      raise ArgumentError,
            "eye/2 expects a shape with at least 2 dimensions, got: #{inspect(shape)}"
    end

    type = Nx.Type.normalize!(opts[:type] || {:s, 32})
    {backend, backend_opts} = backend_from_options!(opts) || default_backend()

    %T{type: type, shape: shape, names: names!(opts[:names], shape)}
    |> backend.eye(backend_opts)
    |> with_vectorized_axes(opts[:vectorized_axes])
  end

  ## Type shortcuts

  for {kind, sizes} <-
        [s: [2, 4, 8, 16, 32, 64], u: [2, 4, 8, 16, 32, 64], f: [8, 16, 32, 64]] ++
          [bf: [16], c: [64, 128], f8_e4m3fn: [8]],
      size <- sizes do
    name = if kind == :f8_e4m3fn, do: :f8_e4m3fn, else: :"#{kind}#{size}"

    @doc """
    Short for `Nx.tensor(tensor_or_number_or_list, type: #{inspect(name)})`.

    ## Examples

        iex> Nx.#{name}([1, 0]) |> Nx.type()
        #{inspect({kind, size})}
    """
    @spec unquote(name)(t | list) :: Nx.Tensor.t()
    def unquote(name)(tensor_or_number_or_list) do
      tensor(tensor_or_number_or_list, type: unquote({kind, size}))
    end
  end

  ## Conversion

  @doc """
  Converts the tensor to another type.

  Floats become integers by truncation toward zero; NaN becomes 0 and the
  infinities the integer type's extremes. Integers that do not fit wrap.
  Complex numbers lose their imaginary part when converted to real types.

  ## Examples

      iex> Nx.as_type(Nx.tensor([-3.7, 3.7]), :s32)
      #Nx.Tensor<
        s32[2]
        [-3, 3]
      >

      iex> Nx.as_type(Nx.tensor([:nan, :infinity, :neg_infinity]), :s8)
      #Nx.Tensor<
        s8[3]
        [0, 127, -128]
      >

      iex> Nx.as_type(Nx.tensor([1, 2], type: :u8), :f64)
      #Nx.Tensor<
        f64[2]
        [1.0, 2.0]
      >
  """
  @spec as_type(t, Nx.Type.t() | atom) :: Nx.Tensor.t()
  def as_type(tensor, type) do
    %T{type: old_type} = tensor = to_tensor(tensor)
    type = Nx.Type.normalize!(type)

    if old_type == type do
      tensor
    else
      vectorized_call(tensor, %{tensor | type: type}, fn out, t, _ -> impl!(t).as_type(out, t) end)
    end
  end

  @doc """
  Reinterprets the bits of each element as another type of the same bit
  size.

  ## Examples

      iex> Nx.bitcast(Nx.tensor([0, 1065353216], type: :s32), :f32)
      #Nx.Tensor<
        f32[2]
        [0.0, 1.0]
      >

      iex> Nx.bitcast(Nx.tensor([-1], type: :s8), :u8)
      #Nx.Tensor<
        u8[1]
        [255]
      >

  ## Error cases

      iex> Nx.bitcast(Nx.tensor([1], type: :s32), :f64)
      ** (ArgumentError) input type width must match new type width, got input type {:s, 32} and output type {:f, 64}
  """
  @spec bitcast(t, Nx.Type.t() | atom) :: Nx.Tensor.t()
  def bitcast(tensor, type) do
    %T{type: {_, bits} = old_type} = tensor = to_tensor(tensor)
    {_, new_bits} = type = Nx.Type.normalize!(type)

    if bits != new_bits do
      raise ArgumentError,
            "input type width must match new type width, got input type #{inspect(old_type)} " <>
              "and output type #{inspect(type)}"
    end

    if old_type == type do
      tensor
    else
      vectorized_call(tensor, %{tensor | type: type}, fn out, t, _ -> impl!(t).bitcast(out, t) end)
    end
  end

  ## Shape

  @doc """
  Changes the shape of a tensor, keeping its elements in row-major order.

  One dimension of the new shape may be `:auto`, computed from the others.
  `shape` may also be a tensor, whose shape is used.

  ## Options

    * `:names` - names for the new axes

  ## Examples

      iex> Nx.reshape(Nx.iota({6}), {2, 3}, names: [:rows, :cols])
      #Nx.Tensor<
        s32[rows: 2][cols: 3]
        [
          [0, 1, 2],
          [3, 4, 5]
        ]
      >

      iex> Nx.reshape(Nx.iota({2, 3}), {:auto, 2}) |> Nx.shape()
      {3, 2}

  ## Error cases

      iex> Nx.reshape(Nx.iota({6}), {4})
      ** (ArgumentError) cannot reshape, current shape {6} is not compatible with new shape {4}
  """
  @spec reshape(t, shape | tuple, keyword) :: Nx.Tensor.t()
  def reshape(tensor, new_shape, opts \\ []) do
    opts = Keyword.validate!(opts, [:names])
    %T{shape: old_shape} = tensor = to_tensor(tensor)

    new_shape =
      case new_shape do
        %T{shape: shape} -> shape
        shape -> Nx.Shape.reshape(old_shape, shape)
      end

    names = Nx.Shape.named_axes!(opts[:names], new_shape)

    if old_shape == new_shape do
      %{tensor | names: names}
    else
      reshape_impl(tensor, new_shape, names)
    end
  end

  @doc """
  Removes axes of size 1.

  ## Options

    * `:axes` - the axes to remove (all axes of size 1 by default)

  ## Examples

      iex> Nx.squeeze(Nx.tensor([[[1, 2, 3]]])) |> Nx.shape()
      {3}

      iex> Nx.squeeze(Nx.tensor([[1], [2]], names: [:x, :y]), axes: [:y])
      #Nx.Tensor<
        s32[x: 2]
        [1, 2]
      >

  ## Error cases

      iex> Nx.squeeze(Nx.tensor([[1, 2]]), axes: [1])
      ** (ArgumentError) cannot squeeze dimensions whose sizes are not 1, got 2 for dimension 1
  """
  @spec squeeze(t, keyword) :: Nx.Tensor.t()
  def squeeze(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)

    axes =
      case opts[:axes] do
        nil -> Nx.Shape.squeeze_axes(shape)
        axes -> Nx.Shape.normalize_axes(shape, axes, names)
      end

    {new_shape, new_names} = Nx.Shape.squeeze(shape, axes, names)

    if new_shape == shape do
      tensor
    else
      vectorized_call(tensor, %{tensor | shape: new_shape, names: new_names}, fn out, t, n ->
        impl!(t).squeeze(out, t, Nx.Vectorize.shift(axes, n))
      end)
    end
  end

  @doc """
  Adds a new axis of size 1 at position `axis` (negative positions count
  from the end), optionally named.

  ## Examples

      iex> Nx.new_axis(Nx.tensor([1, 2, 3], names: [:x]), 0, :batch)
      #Nx.Tensor<
        s32[batch: 1][x: 3]
        [
          [1, 2, 3]
        ]
      >

      iex> Nx.new_axis(Nx.tensor([1, 2, 3]), -1) |> Nx.shape()
      {3, 1}
  """
  @spec new_axis(t, integer, atom) :: Nx.Tensor.t()
  def new_axis(tensor, axis, name \\ nil) when is_integer(axis) do
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    rank = tuple_size(shape)
    position = if axis < 0, do: rank + axis + 1, else: axis

    if position < 0 or position > rank do
      raise ArgumentError,
            "given axis (#{axis}) invalid for shape with rank #{rank}"
    end

    new_shape = Tuple.insert_at(shape, position, 1)
    new_names = List.insert_at(names, position, name)
    reshape_impl(tensor, new_shape, new_names)
  end

  @doc """
  Permutes the axes of a tensor (reverses them by default).

  ## Options

    * `:axes` - the new order of the axes, by index or name

  ## Examples

      iex> Nx.transpose(Nx.tensor([[1, 2, 3], [4, 5, 6]], names: [:x, :y]))
      #Nx.Tensor<
        s32[y: 3][x: 2]
        [
          [1, 4],
          [2, 5],
          [3, 6]
        ]
      >

      iex> Nx.transpose(Nx.iota({2, 3, 4}), axes: [2, 0, 1]) |> Nx.shape()
      {4, 2, 3}

  ## Error cases

      iex> Nx.transpose(Nx.iota({2, 3}), axes: [0])
      ** (ArgumentError) expected length of permutation (1) to match rank of shape (2)
  """
  @spec transpose(t, keyword) :: Nx.Tensor.t()
  def transpose(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)

    axes =
      case opts[:axes] do
        nil -> Nx.Shape.transpose_axes(shape)
        axes -> Nx.Shape.normalize_axes(shape, axes, names)
      end

    if axes == axes(shape) do
      tensor
    else
      {new_shape, new_names} = Nx.Shape.transpose(shape, axes, names)

      vectorized_call(tensor, %{tensor | shape: new_shape, names: new_names}, fn out, t, n ->
        impl!(t).transpose(out, t, Enum.to_list(0..(n - 1)//1) ++ Nx.Vectorize.shift(axes, n))
      end)
    end
  end

  @doc """
  Broadcasts a tensor (or number) to a shape.

  By default the tensor's axes align with the last axes of `shape`; each
  must be 1 or equal to the target dimension.

  ## Options

    * `:axes` - which axes of `shape` the tensor's axes map to
    * `:names` - names for the result's axes

  ## Examples

      iex> Nx.broadcast(1, {2, 2})
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 1],
          [1, 1]
        ]
      >

      iex> Nx.broadcast(Nx.tensor([1, 2]), {2, 2}, axes: [0])
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 1],
          [2, 2]
        ]
      >

  ## Error cases

      iex> Nx.broadcast(Nx.tensor([1, 2, 3]), {2, 2})
      ** (ArgumentError) cannot broadcast tensor of dimensions {3} to {2, 2} with axes [1]
  """
  @spec broadcast(t, shape, keyword) :: Nx.Tensor.t()
  def broadcast(tensor, shape, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes, :names])
    %T{shape: old_shape} = tensor = to_tensor(tensor)
    shape = shape!(shape)
    names = Nx.Shape.named_axes!(opts[:names], shape)

    axes =
      case opts[:axes] do
        nil -> Nx.Shape.broadcast_axes(old_shape, shape)
        axes -> Nx.Shape.normalize_axes(shape, axes, names)
      end

    Nx.Shape.broadcast!(old_shape, shape, axes)

    if old_shape == shape do
      %{tensor | names: names}
    else
      vectorized_call(tensor, %{tensor | shape: shape, names: names}, fn out, t, n ->
        lead = Enum.to_list(0..(n - 1)//1)
        impl!(t).broadcast(out, t, out.shape, lead ++ Nx.Vectorize.shift(axes, n))
      end)
    end
  end

  @doc """
  Flattens a tensor into one dimension, or flattens the given consecutive
  axes into one.

  ## Options

    * `:axes` - consecutive axes to merge (all by default)

  ## Examples

      iex> Nx.flatten(Nx.tensor([[1, 2], [3, 4]]))
      #Nx.Tensor<
        s32[4]
        [1, 2, 3, 4]
      >

      iex> Nx.flatten(Nx.iota({2, 3, 4}), axes: [1, 2]) |> Nx.shape()
      {2, 12}
  """
  @spec flatten(t, keyword) :: Nx.Tensor.t()
  def flatten(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)

    axes =
      case opts[:axes] do
        nil -> nil
        axes -> Nx.Shape.normalize_axes(shape, axes, names)
      end

    {new_shape, new_names} = Nx.Shape.flatten(shape, names, axes)

    if new_shape == shape do
      tensor
    else
      reshape_impl(tensor, new_shape, new_names)
    end
  end

  @doc """
  Sums the elements, over all axes or the given ones.

  Integers are summed in at least 32 bits (`Nx.Type.to_aggregate/1`):
  s8/s16 give s32, u8/u16 give u32, and 64-bit types stay 64-bit.

  ## Options

    * `:axes` - the axes to sum over (all by default)
    * `:keep_axes` - keep the summed axes with size 1 (default `false`)

  ## Examples

      iex> Nx.sum(Nx.tensor([[1, 2], [3, 4]], names: [:x, :y]), axes: [:x])
      #Nx.Tensor<
        s32[y: 2]
        [4, 6]
      >

      iex> Nx.sum(Nx.tensor([200, 100], type: :u8))
      #Nx.Tensor<
        u32
        300
      >

      iex> Nx.sum(Nx.iota({2, 3}, type: :f32), axes: [1], keep_axes: true)
      #Nx.Tensor<
        f32[2][1]
        [
          [3.0],
          [12.0]
        ]
      >
  """
  @spec sum(t, keyword) :: Nx.Tensor.t()
  def sum(tensor, opts \\ []), do: aggregate(:sum, tensor, opts, &Nx.Type.to_aggregate/1)

  @doc """
  Multiplies the elements, over all axes or the given ones. Types as in
  `sum/2`.

  ## Options

    * `:axes` - the axes to multiply over (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.product(Nx.tensor([[1, 2], [3, 4]]), axes: [1])
      #Nx.Tensor<
        s32[2]
        [2, 12]
      >

      iex> Nx.product(Nx.tensor([2.5, 4.0]))
      #Nx.Tensor<
        f32
        10.0
      >
  """
  @spec product(t, keyword) :: Nx.Tensor.t()
  def product(tensor, opts \\ []), do: aggregate(:product, tensor, opts, &Nx.Type.to_aggregate/1)

  @doc """
  The largest element, over all axes or the given ones. The type is kept.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.reduce_max(Nx.tensor([[1, 5], [7, 2]], names: [:x, :y]), axes: [:y])
      #Nx.Tensor<
        s32[x: 2]
        [5, 7]
      >

      iex> Nx.reduce_max(Nx.tensor([1, 18_446_744_073_709_551_615], type: :u64))
      #Nx.Tensor<
        u64
        18446744073709551615
      >
  """
  @spec reduce_max(t, keyword) :: Nx.Tensor.t()
  def reduce_max(tensor, opts \\ []), do: aggregate(:reduce_max, tensor, opts, &real_type!/1)

  @doc """
  The smallest element, over all axes or the given ones. The type is kept.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.reduce_min(Nx.tensor([[1.5, -5.0], [7.0, 2.0]]))
      #Nx.Tensor<
        f32
        -5.0
      >
  """
  @spec reduce_min(t, keyword) :: Nx.Tensor.t()
  def reduce_min(tensor, opts \\ []), do: aggregate(:reduce_min, tensor, opts, &real_type!/1)

  @doc """
  Returns 1 (as u8) when every element is non-zero, over all axes or the
  given ones, else 0.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.all(Nx.tensor([[1, 0], [2, 3]]), axes: [1])
      #Nx.Tensor<
        u8[2]
        [0, 1]
      >
  """
  @spec all(t, keyword) :: Nx.Tensor.t()
  def all(tensor, opts \\ []), do: aggregate(:all, tensor, opts, fn _ -> {:u, 8} end)

  @doc """
  Returns 1 (as u8) when any element is non-zero, over all axes or the
  given ones, else 0.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.any(Nx.tensor([[0, 0], [2, 0]]), axes: [1])
      #Nx.Tensor<
        u8[2]
        [0, 1]
      >
  """
  @spec any(t, keyword) :: Nx.Tensor.t()
  def any(tensor, opts \\ []), do: aggregate(:any, tensor, opts, fn _ -> {:u, 8} end)

  defp aggregate(op, tensor, opts, type_fun) do
    opts = Keyword.validate!(opts, [:axes, keep_axes: false])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    keep_axes = opts[:keep_axes]

    axes =
      case opts[:axes] do
        nil -> axes(shape)
        axes -> normalize_axes!(shape, axes, names) |> Enum.sort()
      end

    {new_shape, new_names} = reduced_shape(shape, names, axes, keep_axes)
    out = %{tensor | type: type_fun.(type), shape: new_shape, names: new_names}

    vectorized_call(tensor, out, fn out, t, n ->
      apply(impl!(t), op, [out, t, [axes: Nx.Vectorize.shift(axes, n), keep_axes: keep_axes]])
    end)
  end

  defp reduced_shape(shape, names, axes, keep_axes) do
    pairs = Enum.zip(Tuple.to_list(shape), names) |> Enum.with_index()

    kept =
      for {{dim, name}, i} <- pairs, keep_axes or i not in axes do
        if i in axes, do: {1, name}, else: {dim, name}
      end

    {kept |> Enum.map(&elem(&1, 0)) |> List.to_tuple(), Enum.map(kept, &elem(&1, 1))}
  end

  defp real_type!({:c, _} = type) do
    raise ArgumentError,
          "Nx.reduce_max/reduce_min/argmax/argmin are not supported for complex type #{inspect(type)}"
  end

  defp real_type!(type), do: type

  @doc """
  The index of the largest element, over the flattened tensor or along
  one axis.

  ## Options

    * `:axis` - the axis to search along (the flattened tensor by default)
    * `:tie_break` - `:low` (default) or `:high`: which index wins a tie
    * `:keep_axis` - keep the reduced axis with size 1 (default `false`)
    * `:type` - the output integer type (default `{:s, 32}`)

  ## Examples

      iex> Nx.argmax(Nx.tensor([[1, 9, 9], [4, 2, 0]]))
      #Nx.Tensor<
        s32
        1
      >

      iex> Nx.argmax(Nx.tensor([[1, 9, 9], [4, 2, 0]], names: [:x, :y]), axis: :y, tie_break: :high)
      #Nx.Tensor<
        s32[x: 2]
        [2, 0]
      >
  """
  @spec argmax(t, keyword) :: Nx.Tensor.t()
  def argmax(tensor, opts \\ []), do: arg_aggregate(:argmax, tensor, opts)

  @doc """
  The index of the smallest element, over the flattened tensor or along
  one axis. Options as in `argmax/2`.

  ## Examples

      iex> Nx.argmin(Nx.tensor([[3, 1], [0, 4]]), axis: 0, keep_axis: true)
      #Nx.Tensor<
        s32[1][2]
        [
          [1, 0]
        ]
      >
  """
  @spec argmin(t, keyword) :: Nx.Tensor.t()
  def argmin(tensor, opts \\ []), do: arg_aggregate(:argmin, tensor, opts)

  defp arg_aggregate(op, tensor, opts) do
    opts = Keyword.validate!(opts, [:axis, tie_break: :low, keep_axis: false, type: {:s, 32}])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    real_type!(type)

    unless opts[:tie_break] in [:low, :high] do
      raise ArgumentError,
            "unknown value for :tie_break, expected :high or :low, got: #{inspect(opts[:tie_break])}"
    end

    out_type = Nx.Type.normalize!(opts[:type])

    {axis, {new_shape, new_names}} =
      case opts[:axis] do
        nil ->
          {nil, {{}, []}}

        axis ->
          axis = normalize_axis!(shape, axis, names)
          {axis, reduced_shape(shape, names, [axis], opts[:keep_axis])}
      end

    out = %{tensor | type: out_type, shape: new_shape, names: new_names}
    backend_opts = [axis: axis, tie_break: opts[:tie_break], keep_axis: opts[:keep_axis]]

    case tensor do
      %T{vectorized_axes: []} ->
        apply(impl!(tensor), op, [out, tensor, backend_opts])

      # Without an axis, each entry is searched flattened.
      %T{} when axis == nil ->
        arg_aggregate(op, flatten(tensor), Keyword.put(opts, :axis, 0))

      %T{} ->
        vectorized_call(tensor, out, fn out, t, n ->
          apply(impl!(t), op, [out, t, Keyword.put(backend_opts, :axis, axis + n)])
        end)
    end
  end

  ## Contractions and order

  @doc """
  The dot product of two tensors.

  Vectors give their inner product; otherwise the last axis of `t1` is
  contracted with the second-to-last axis of `t2` (or its only axis when
  `t2` is a vector), like a matrix product. A number on either side scales
  the other tensor. The result type merges both input types.

  ## Examples

      iex> Nx.dot(Nx.tensor([1, 2, 3]), Nx.tensor([4, 5, 6]))
      #Nx.Tensor<
        s32
        32
      >

      iex> Nx.dot(Nx.tensor([[1, 2], [3, 4]], names: [:i, :j]), Nx.tensor([[1.0, 0.0], [0.0, 2.0]], names: [nil, :k]))
      #Nx.Tensor<
        f32[i: 2][k: 2]
        [
          [1.0, 4.0],
          [3.0, 8.0]
        ]
      >

      iex> Nx.dot(Nx.tensor([[1, 2], [3, 4]]), Nx.tensor([1, 1]))
      #Nx.Tensor<
        s32[2]
        [3, 7]
      >
  """
  @spec dot(t, t) :: Nx.Tensor.t()
  def dot(t1, t2) do
    %T{shape: s1} = t1 = to_tensor(t1)
    %T{shape: s2} = t2 = to_tensor(t2)

    case {tuple_size(s1), tuple_size(s2)} do
      {0, _} -> dot(t1, [], [], t2, [], [])
      {_, 0} -> dot(t1, [], [], t2, [], [])
      {r1, 1} -> dot(t1, [r1 - 1], [], t2, [0], [])
      {r1, r2} -> dot(t1, [r1 - 1], [], t2, [r2 - 2], [])
    end
  end

  @doc """
  Contracts the axes `axes1` of `t1` with the axes `axes2` of `t2`
  (pairwise, in order). The result has the remaining axes of `t1` followed
  by the remaining axes of `t2`.

  ## Examples

      iex> a = Nx.iota({2, 3})
      iex> Nx.dot(a, [0], a, [0])
      #Nx.Tensor<
        s32[3][3]
        [
          [9, 12, 15],
          [12, 17, 22],
          [15, 22, 29]
        ]
      >

  ## Error cases

      iex> Nx.dot(Nx.iota({2, 3}), [1], Nx.iota({2, 3}), [1, 0])
      ** (ArgumentError) dot/zip expects the same number of axes on both sides, got [1] and [1, 0]
  """
  @spec dot(t, [axis], t, [axis]) :: Nx.Tensor.t()
  def dot(t1, axes1, t2, axes2), do: dot(t1, axes1, [], t2, axes2, [])

  @doc """
  Contracts `contract_axes1` of `t1` with `contract_axes2` of `t2`, treating
  `batch_axes1`/`batch_axes2` as batch axes: each batch entry is contracted
  separately. The result has the batch axes first, then the remaining axes
  of `t1`, then those of `t2`.

  ## Examples

      iex> a = Nx.iota({2, 2, 3})
      iex> b = Nx.iota({2, 3}, type: :f32)
      iex> Nx.dot(a, [2], [0], b, [1], [0])
      #Nx.Tensor<
        f32[2][2]
        [
          [5.0, 14.0],
          [86.0, 122.0]
        ]
      >
  """
  @spec dot(t, [axis], [axis], t, [axis], [axis]) :: Nx.Tensor.t()
  def dot(t1, contract_axes1, batch_axes1, t2, contract_axes2, batch_axes2) do
    %T{shape: s1, names: n1, type: type1} = t1 = to_tensor(t1)
    %T{shape: s2, names: n2, type: type2} = t2 = to_tensor(t2)
    c1 = normalize_axes!(s1, contract_axes1, n1)
    c2 = normalize_axes!(s2, contract_axes2, n2)
    b1 = normalize_axes!(s1, batch_axes1, n1)
    b2 = normalize_axes!(s2, batch_axes2, n2)
    {shape, names} = Nx.Shape.dot(s1, c1, n1, b1, s2, c2, n2, b2)

    if t1.vectorized_axes == [] and t2.vectorized_axes == [] do
      out = %T{type: Nx.Type.merge(type1, type2), shape: shape, names: names}
      impl!(t1, t2).dot(out, t1, c1, b1, t2, c2, b2)
    else
      # The vectorized axes become the leading batch axes of the devectorized dot.
      Nx.Vectorize.apply_all([t1, t2], [broadcast: true], fn [d1, d2], n ->
        lead = Enum.to_list(0..(n - 1)//1)
        shift = &Nx.Vectorize.shift(&1, n)
        dot(d1, shift.(c1), lead ++ shift.(b1), d2, shift.(c2), lead ++ shift.(b2))
      end)
      |> Map.put(:names, names)
    end
  end

  @doc """
  The outer product: every element of `t1` times every element of `t2`,
  with both tensors flattened. The result has shape `{size1, size2}`
  (numbers contribute no axis).

  ## Examples

      iex> Nx.outer(Nx.tensor([1, 2], names: [:x]), Nx.tensor([10, 20, 30], names: [:y]))
      #Nx.Tensor<
        s32[x: 2][y: 3]
        [
          [10, 20, 30],
          [20, 40, 60]
        ]
      >
  """
  @spec outer(t, t) :: Nx.Tensor.t()
  def outer(t1, t2) do
    t1 = flatten_for_outer(to_tensor(t1))
    t2 = flatten_for_outer(to_tensor(t2))
    dot(t1, [], [], t2, [], [])
  end

  defp flatten_for_outer(%T{shape: {}} = t), do: t

  defp flatten_for_outer(%T{names: [name | _]} = t) do
    t |> flatten() |> rename([name])
  end

  @doc """
  Sorts the elements along an axis.

  NaN sorts after every number in ascending order (before in descending).

  ## Options

    * `:axis` - the axis to sort along (default `0`)
    * `:direction` - `:asc` (default) or `:desc`
    * `:stable` - keep equal elements in their original order (default
      `false`)

  ## Examples

      iex> Nx.sort(Nx.tensor([[3, 1, 2], [9, 8, 7]]), axis: 1)
      #Nx.Tensor<
        s32[2][3]
        [
          [1, 2, 3],
          [7, 8, 9]
        ]
      >

      iex> Nx.sort(Nx.tensor([2.0, :nan, -1.0]), direction: :desc)
      #Nx.Tensor<
        f32[3]
        [NaN, 2.0, -1.0]
      >
  """
  @spec sort(t, keyword) :: Nx.Tensor.t()
  def sort(tensor, opts \\ []) do
    {tensor, opts} = sort_options!(tensor, opts, [:axis, :direction, :stable])

    vectorized_call(tensor, tensor, fn out, t, n ->
      impl!(t).sort(out, t, Keyword.update!(opts, :axis, &(&1 + n)))
    end)
  end

  @doc """
  Returns the indices that would sort the tensor along an axis.

  ## Options

    * `:axis` - the axis to sort along (default `0`)
    * `:direction` - `:asc` (default) or `:desc`
    * `:stable` - equal elements keep their original order (default `false`)
    * `:type` - the integer type of the indices (default `{:s, 64}`)

  ## Examples

      iex> Nx.argsort(Nx.tensor([30, 10, 20]))
      #Nx.Tensor<
        s64[3]
        [1, 2, 0]
      >

      iex> Nx.argsort(Nx.tensor([1, 1, 0, 1]), direction: :desc, stable: true, type: :u8)
      #Nx.Tensor<
        u8[4]
        [0, 1, 3, 2]
      >
  """
  @spec argsort(t, keyword) :: Nx.Tensor.t()
  def argsort(tensor, opts \\ []) do
    {tensor, opts} = sort_options!(tensor, opts, [:axis, :direction, :stable, :type])
    type = Nx.Type.normalize!(opts[:type])

    unless Nx.Type.integer?(type) do
      raise ArgumentError, "argsort expects an integer :type, got: #{inspect(type)}"
    end

    vectorized_call(tensor, %{tensor | type: type}, fn out, t, n ->
      impl!(t).argsort(out, t, Keyword.update!(opts, :axis, &(&1 + n)))
    end)
  end

  defp sort_options!(tensor, opts, allowed) do
    defaults = [axis: 0, direction: :asc, stable: false, type: {:s, 64}]
    opts = Keyword.validate!(opts, Keyword.take(defaults, allowed))
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)

    if match?({:c, _}, type) do
      raise ArgumentError, "sorting is not supported for complex type #{inspect(type)}"
    end

    unless opts[:direction] in [:asc, :desc] do
      raise ArgumentError,
            "unknown value for :direction, expected :asc or :desc, got: #{inspect(opts[:direction])}"
    end

    {tensor, Keyword.put(opts, :axis, normalize_axis!(shape, opts[:axis], names))}
  end

  @doc """
  The `k` largest elements along the last axis, in descending order, with
  their indices (`{:s, 64}`), as a tuple `{values, indices}`.

  ## Options

    * `:k` - how many elements (default `1`)

  ## Examples

      iex> {values, indices} = Nx.top_k(Nx.tensor([[1, 5, 3], [9, 2, 7]]), k: 2)
      iex> values
      #Nx.Tensor<
        s32[2][2]
        [
          [5, 3],
          [9, 7]
        ]
      >
      iex> indices
      #Nx.Tensor<
        s64[2][2]
        [
          [1, 2],
          [0, 2]
        ]
      >
  """
  @spec top_k(t, keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  def top_k(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, k: 1)
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    {shape, names} = Nx.Shape.top_k(shape, names, opts[:k])
    values = %{tensor | shape: shape, names: names}
    indices = %{values | type: {:s, 64}}
    vectorized_call(tensor, {values, indices}, fn out, t, _ -> impl!(t).top_k(out, t, opts) end)
  end

  for {name, desc} <- [
        cumulative_sum: "sum",
        cumulative_product: "product",
        cumulative_max: "maximum",
        cumulative_min: "minimum"
      ] do
    @doc """
    The running #{desc} along an axis.

    ## Options

      * `:axis` - the axis (default `0`)
      * `:reverse` - accumulate from the end of the axis (default `false`)

    ## Examples

        iex> Nx.#{name}(Nx.tensor([3, 1, 4, 1, 5])) |> Nx.to_list()
        #{inspect(Enum.scan([3, 1, 4, 1, 5], &apply(Kernel, %{"sum" => :+, "product" => :*, "maximum" => :max, "minimum" => :min}[desc], [&1, &2])))}

        iex> Nx.#{name}(Nx.tensor([[1, 2], [3, 4]]), axis: 1, reverse: true) |> Nx.to_list()
        #{inspect(Enum.map([[1, 2], [3, 4]], fn row -> row |> Enum.reverse() |> Enum.scan(&apply(Kernel, %{"sum" => :+, "product" => :*, "maximum" => :max, "minimum" => :min}[desc], [&1, &2])) |> Enum.reverse() end))}
    """
    @spec unquote(name)(t, keyword) :: Nx.Tensor.t()
    def unquote(name)(tensor, opts \\ []) do
      opts = Keyword.validate!(opts, axis: 0, reverse: false)
      %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
      axis = normalize_axis!(shape, opts[:axis], names)

      out_type =
        if unquote(name) in [:cumulative_sum, :cumulative_product],
          do: Nx.Type.to_aggregate(type),
          else: type

      out = %{tensor | type: out_type}

      vectorized_call(tensor, out, fn out, t, n ->
        impl!(t).unquote(name)(out, t, axis: axis + n, reverse: opts[:reverse])
      end)
    end
  end

  ## Element-wise

  # Binary operations merge the input types with Nx.Type.merge/2 (numbers with
  # Nx.Type.merge_number/2), turn numbers into scalars of that type through the default
  # backend's constant/3 (so `Nx.add(t_u8, 1)` stays u8), and broadcast shapes and names with
  # Nx.Shape.binary_broadcast/4. The backend gets the output template and both tensors.

  @doc """
  Adds two tensors element by element.

  Numbers are accepted on either side. Shapes broadcast from the last
  axis (each pair of dimensions must be equal or one of them 1) and axis
  names merge (a name wins over `nil`; two different names raise).

  The result type merges both input types (see `Nx.Type.merge/2`):
  integers grow only as needed when a number is given, integers and
  floats give floats, and signed with unsigned integers give a signed
  type large enough for both. Integer results wrap around on overflow.

  ## Examples

      iex> Nx.add(Nx.tensor([1, 2, 3]), Nx.tensor([10, 20, 30]))
      #Nx.Tensor<
        s32[3]
        [11, 22, 33]
      >

      iex> Nx.add(Nx.tensor([[1], [2]], names: [:rows, nil]), Nx.tensor([10, 20], names: [:cols]))
      #Nx.Tensor<
        s32[rows: 2][cols: 2]
        [
          [11, 21],
          [12, 22]
        ]
      >

  Numbers keep the tensor's type when it can hold them:

      iex> Nx.add(Nx.tensor([250, 251], type: :u8), 5)
      #Nx.Tensor<
        u8[2]
        [255, 0]
      >

      iex> Nx.add(Nx.tensor([0, 1], type: :u8), -1)
      #Nx.Tensor<
        s16[2]
        [-1, 0]
      >

      iex> Nx.add(Nx.tensor([1, 2]), 0.5)
      #Nx.Tensor<
        f32[2]
        [1.5, 2.5]
      >

  Tensors of different types are promoted:

      iex> Nx.add(Nx.tensor([-1], type: :s8), Nx.tensor([200], type: :u8))
      #Nx.Tensor<
        s16[1]
        [199]
      >

  ## Error cases

      iex> Nx.add(Nx.tensor([1, 2, 3]), Nx.tensor([1, 2]))
      ** (ArgumentError) cannot broadcast tensor of dimensions {3} to {2}

      iex> Nx.add(Nx.tensor([1], names: [:x]), Nx.tensor([1], names: [:y]))
      ** (ArgumentError) cannot merge name :x on axis 0 with name :y on axis 0
  """
  @spec add(t, t) :: Nx.Tensor.t()
  def add(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      ),
      do: backend.add(left, left, right)

  def add(left, right), do: element_wise(:add, left, right, binary_type(left, right))

  @doc """
  Subtracts `right` from `left` element by element.

  Types and shapes combine as in `add/2`.

  ## Examples

      iex> Nx.subtract(Nx.tensor([10, 20, 30]), 1)
      #Nx.Tensor<
        s32[3]
        [9, 19, 29]
      >

      iex> Nx.subtract(Nx.tensor([0, 1], type: :u8), Nx.tensor(2, type: :u8))
      #Nx.Tensor<
        u8[2]
        [254, 255]
      >

      iex> Nx.subtract(1.5, Nx.tensor([[1, 2]], names: [nil, :y]))
      #Nx.Tensor<
        f32[1][y: 2]
        [
          [0.5, -0.5]
        ]
      >
  """
  @spec subtract(t, t) :: Nx.Tensor.t()
  def subtract(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      ),
      do: backend.subtract(left, left, right)

  def subtract(left, right), do: element_wise(:subtract, left, right, binary_type(left, right))

  @doc """
  Multiplies two tensors element by element.

  Types and shapes combine as in `add/2`; integer products wrap around.

  ## Examples

      iex> Nx.multiply(Nx.tensor([[1, 2], [3, 4]]), Nx.tensor([10, 100]))
      #Nx.Tensor<
        s32[2][2]
        [
          [10, 200],
          [30, 400]
        ]
      >

      iex> Nx.multiply(Nx.tensor([16, 17], type: :u8), 16)
      #Nx.Tensor<
        u8[2]
        [0, 16]
      >

      iex> Nx.multiply(Nx.tensor([Complex.new(0, 1)]), Complex.new(0, 1))
      #Nx.Tensor<
        c64[1]
        [-1.0+0.0i]
      >
  """
  @spec multiply(t, t) :: Nx.Tensor.t()
  def multiply(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      ),
      do: backend.multiply(left, left, right)

  def multiply(left, right), do: element_wise(:multiply, left, right, binary_type(left, right))

  @doc """
  Raises `left` to the power `right`, element by element.

  Types and shapes combine as in `add/2`. Integer powers wrap around like
  repeated multiplication; an integer raised to a negative integer power
  gives the integer part of the exact result (`1` for a base of 1, `1` or
  `-1` for a base of -1, and `0` otherwise).

  ## Examples

      iex> Nx.pow(Nx.tensor([1, 2, 3]), 2)
      #Nx.Tensor<
        s32[3]
        [1, 4, 9]
      >

      iex> Nx.pow(2, Nx.tensor([0.5, -1.0]))
      #Nx.Tensor<
        f32[2]
        [1.4142135, 0.5]
      >

      iex> Nx.pow(Nx.tensor([2, -1, 1]), -1)
      #Nx.Tensor<
        s32[3]
        [0, -1, 1]
      >
  """
  @spec pow(t, t) :: Nx.Tensor.t()
  def pow(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      ),
      do: backend.pow(left, left, right)

  def pow(left, right), do: element_wise(:pow, left, right, binary_type(left, right))

  @doc """
  The remainder of dividing `left` by `right`, element by element.

  The remainder has the sign of the dividend (`left`), as Elixir's
  `rem/2`. For integers, the remainder of a division by zero is the
  dividend itself; for floats it is NaN. Complex numbers are not
  supported.

  ## Examples

      iex> Nx.remainder(Nx.tensor([7, -7, 7, -7]), Nx.tensor([3, 3, -3, -3]))
      #Nx.Tensor<
        s32[4]
        [1, -1, 1, -1]
      >

      iex> Nx.remainder(Nx.tensor([5.5, -5.5]), 2)
      #Nx.Tensor<
        f32[2]
        [1.5, -1.5]
      >

      iex> Nx.remainder(Nx.tensor([7, 8]), 0)
      #Nx.Tensor<
        s32[2]
        [7, 8]
      >

  ## Error cases

      iex> Nx.remainder(Nx.tensor([Complex.new(1, 1)]), 2)
      ** (ArgumentError) Nx.remainder/2 does not support complex inputs
  """
  @spec remainder(t, t) :: Nx.Tensor.t()
  def remainder(left, right) do
    type = left |> binary_type(right) |> complex_not_supported!(:remainder, 2)
    element_wise(:remainder, left, right, type)
  end

  @doc """
  Divides `left` by `right`, element by element.

  The result is always a floating-point (or complex) tensor: integer
  inputs are converted to f32 first (see `Nx.Type.to_floating/1`), so
  dividing by zero gives infinities or NaN rather than an error.

  ## Examples

      iex> Nx.divide(Nx.tensor([1, 2, 3]), 2)
      #Nx.Tensor<
        f32[3]
        [0.5, 1.0, 1.5]
      >

      iex> Nx.divide(Nx.tensor([1.0, -1.0, 0.0], type: :f64), 0)
      #Nx.Tensor<
        f64[3]
        [Inf, -Inf, NaN]
      >

      iex> Nx.divide(Nx.tensor([3], type: :bf16), Nx.tensor([[1], [2]], names: [:x, nil]))
      #Nx.Tensor<
        bf16[x: 2][1]
        [
          [3.0],
          [1.5]
        ]
      >
  """
  @spec divide(t, t) :: Nx.Tensor.t()
  def divide(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      )
      when elem(type, 0) in [:f, :bf, :c, :f8_e4m3fn],
      do: backend.divide(left, left, right)

  def divide(left, right) do
    element_wise(:divide, left, right, Nx.Type.to_floating(binary_type(left, right)))
  end

  @doc """
  Integer division of `left` by `right`, truncated toward zero (as
  Elixir's `div/2`), element by element.

  Both inputs must be integers. Dividing by zero does not raise: the
  result is -1, which for unsigned types is the type's maximum value
  (as XLA defines it). The smallest signed value divided by -1 wraps
  around to itself.

  ## Examples

      iex> Nx.quotient(Nx.tensor([7, -7, 7, -7]), Nx.tensor([2, 2, -2, -2]))
      #Nx.Tensor<
        s32[4]
        [3, -3, -3, 3]
      >

      iex> Nx.quotient(Nx.tensor([10, 10], type: :u8), Nx.tensor([3, 0], type: :u8))
      #Nx.Tensor<
        u8[2]
        [3, 255]
      >

      iex> Nx.quotient(Nx.tensor(18_446_744_073_709_551_615, type: :u64), 2)
      #Nx.Tensor<
        u64
        9223372036854775807
      >

  ## Error cases

      iex> Nx.quotient(Nx.tensor([1.0, 2.0]), 2)
      ** (ArgumentError) quotient expects integer tensors as inputs and outputs an integer tensor, got: {:f, 32}
  """
  @spec quotient(t, t) :: Nx.Tensor.t()
  def quotient(left, right) do
    type = left |> binary_type(right) |> integer_type!("quotient expects")
    element_wise(:quotient, left, right, type)
  end

  @doc """
  The angle of the point `(right, left)` from the positive x axis, in
  radians between -π and π: the arc tangent of `left / right` that takes
  the signs of both into account.

  The result is floating-point, as in `divide/2`.

  ## Examples

      iex> Nx.atan2(Nx.tensor([1, 1, -1]), Nx.tensor([1, -1, -1]))
      #Nx.Tensor<
        f32[3]
        [0.7853982, 2.3561945, -2.3561945]
      >

      iex> Nx.atan2(Nx.tensor([0.0, -0.0], type: :f64), -1)
      #Nx.Tensor<
        f64[2]
        [3.141592653589793, -3.141592653589793]
      >
  """
  @spec atan2(t, t) :: Nx.Tensor.t()
  def atan2(left, right) do
    element_wise(:atan2, left, right, Nx.Type.to_floating(binary_type(left, right)))
  end

  @doc """
  The larger of each pair of elements.

  Types and shapes combine as in `add/2`. NaN wins over any number.
  Complex numbers are not supported.

  ## Examples

      iex> Nx.max(Nx.tensor([1, 5, 3]), Nx.tensor([4, 2, 6]))
      #Nx.Tensor<
        s32[3]
        [4, 5, 6]
      >

      iex> Nx.max(Nx.tensor([-1.5, :nan]), 0)
      #Nx.Tensor<
        f32[2]
        [0.0, NaN]
      >

  ## Error cases

      iex> Nx.max(Nx.tensor([Complex.new(1, 1)]), 0)
      ** (ArgumentError) Nx.max/2 does not support complex inputs
  """
  @spec max(t, t) :: Nx.Tensor.t()
  def max(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      )
      when elem(type, 0) != :c,
      do: backend.max(left, left, right)

  def max(left, right) do
    type = left |> binary_type(right) |> complex_not_supported!(:max, 2)
    element_wise(:max, left, right, type)
  end

  @doc """
  The smaller of each pair of elements.

  Types and shapes combine as in `add/2`. NaN wins over any number.
  Complex numbers are not supported.

  ## Examples

      iex> Nx.min(Nx.tensor([[1, 5]], names: [nil, :y]), Nx.tensor([[3], [0]], names: [:x, nil]))
      #Nx.Tensor<
        s32[x: 2][y: 2]
        [
          [1, 3],
          [0, 0]
        ]
      >

      iex> Nx.min(Nx.tensor([200, 100], type: :u8), Nx.tensor(-1, type: :s8))
      #Nx.Tensor<
        s16[2]
        [-1, -1]
      >
  """
  @spec min(t, t) :: Nx.Tensor.t()
  def min(
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
        %T{type: type, shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
      )
      when elem(type, 0) != :c,
      do: backend.min(left, left, right)

  def min(left, right) do
    type = left |> binary_type(right) |> complex_not_supported!(:min, 2)
    element_wise(:min, left, right, type)
  end

  @doc """
  Bitwise AND of each pair of integers.

  Both inputs must be integers; types and shapes combine as in `add/2`.

  ## Examples

      iex> Nx.bitwise_and(Nx.tensor([12, -1, 5]), 10)
      #Nx.Tensor<
        s32[3]
        [8, 10, 0]
      >

  ## Error cases

      iex> Nx.bitwise_and(Nx.tensor([1, 2]), 1.0)
      ** (ArgumentError) bitwise operators expect integer tensors as inputs and outputs an integer tensor, got: {:f, 32}
  """
  @spec bitwise_and(t, t) :: Nx.Tensor.t()
  def bitwise_and(left, right),
    do: element_wise(:bitwise_and, left, right, bitwise_type!(binary_type(left, right)))

  @doc """
  Bitwise OR of each pair of integers.

  Both inputs must be integers; types and shapes combine as in `add/2`.

  ## Examples

      iex> Nx.bitwise_or(Nx.tensor([12, 0, 5], type: :u8), Nx.tensor([3, 0, 2], type: :u8))
      #Nx.Tensor<
        u8[3]
        [15, 0, 7]
      >

  ## Error cases

      iex> Nx.bitwise_or(Nx.tensor([1.0]), 1)
      ** (ArgumentError) bitwise operators expect integer tensors as inputs and outputs an integer tensor, got: {:f, 32}
  """
  @spec bitwise_or(t, t) :: Nx.Tensor.t()
  def bitwise_or(left, right),
    do: element_wise(:bitwise_or, left, right, bitwise_type!(binary_type(left, right)))

  @doc """
  Bitwise exclusive OR of each pair of integers.

  Both inputs must be integers; types and shapes combine as in `add/2`.

  ## Examples

      iex> Nx.bitwise_xor(Nx.tensor([12, -1, 5]), 10)
      #Nx.Tensor<
        s32[3]
        [6, -11, 15]
      >
  """
  @spec bitwise_xor(t, t) :: Nx.Tensor.t()
  def bitwise_xor(left, right),
    do: element_wise(:bitwise_xor, left, right, bitwise_type!(binary_type(left, right)))

  @doc """
  Shifts the bits of `left` to the left by `right` positions.

  Both inputs must be integers. Bits shifted past the type's width are
  lost, and shifting by the width or more (or by a negative amount)
  gives 0.

  ## Examples

      iex> Nx.left_shift(Nx.tensor([1, 1, -3]), Nx.tensor([0, 4, 2]))
      #Nx.Tensor<
        s32[3]
        [1, 16, -12]
      >

      iex> Nx.left_shift(Nx.tensor([1, 255], type: :u8), 7)
      #Nx.Tensor<
        u8[2]
        [128, 128]
      >
  """
  @spec left_shift(t, t) :: Nx.Tensor.t()
  def left_shift(left, right),
    do: element_wise(:left_shift, left, right, bitwise_type!(binary_type(left, right)))

  @doc """
  Shifts the bits of `left` to the right by `right` positions.

  Both inputs must be integers. Signed integers shift arithmetically
  (keeping their sign), unsigned integers logically (filling with
  zeros). Shifting by the width or more (or by a negative amount) gives
  0, or -1 for negative signed values.

  ## Examples

      iex> Nx.right_shift(Nx.tensor([16, -16, -1]), 2)
      #Nx.Tensor<
        s32[3]
        [4, -4, -1]
      >

      iex> Nx.right_shift(Nx.tensor([128, 255], type: :u8), Nx.tensor([7, 4], type: :u8))
      #Nx.Tensor<
        u8[2]
        [1, 15]
      >
  """
  @spec right_shift(t, t) :: Nx.Tensor.t()
  def right_shift(left, right),
    do: element_wise(:right_shift, left, right, bitwise_type!(binary_type(left, right)))

  @doc """
  Compares each pair of elements for equality: 1 where they are equal,
  0 elsewhere, as `u8`.

  Shapes broadcast as in `add/2`. Values compare in their merged type
  (`Nx.Type.merge/2`), except that integers of any two types compare by
  value. NaN equals nothing, not even NaN.

  ## Examples

      iex> Nx.equal(Nx.tensor([1, 2, 3]), Nx.tensor([1, 0, 3]))
      #Nx.Tensor<
        u8[3]
        [1, 0, 1]
      >

      iex> Nx.equal(Nx.tensor([1.0, :nan], names: [:x]), Nx.tensor([1, 0]))
      #Nx.Tensor<
        u8[x: 2]
        [1, 0]
      >
  """
  @spec equal(t, t) :: Nx.Tensor.t()
  def equal(left, right), do: comparison(:equal, left, right)

  @doc """
  Compares each pair of elements for inequality: 1 where they differ, 0
  elsewhere, as `u8`. NaN differs from everything.

  ## Examples

      iex> Nx.not_equal(Nx.tensor([[1, 2], [3, 4]]), 2)
      #Nx.Tensor<
        u8[2][2]
        [
          [1, 0],
          [1, 1]
        ]
      >
  """
  @spec not_equal(t, t) :: Nx.Tensor.t()
  def not_equal(left, right), do: comparison(:not_equal, left, right)

  @doc """
  1 where `left` is greater than `right`, 0 elsewhere, as `u8`.

  Comparisons with NaN are false. Complex numbers are not supported.
  Integers of different types compare by value:

  ## Examples

      iex> Nx.greater(Nx.tensor([200], type: :u8), Nx.tensor([-1], type: :s8))
      #Nx.Tensor<
        u8[1]
        [1]
      >

      iex> Nx.greater(Nx.tensor([1.0, 2.0, :nan]), 1.5)
      #Nx.Tensor<
        u8[3]
        [0, 1, 0]
      >

  ## Error cases

      iex> Nx.greater(Nx.tensor([Complex.new(1, 1)]), 0)
      ** (ArgumentError) Nx.greater/2 does not support complex inputs
  """
  @spec greater(t, t) :: Nx.Tensor.t()
  def greater(left, right), do: ordered_comparison(:greater, left, right)

  @doc """
  1 where `left` is less than `right`, 0 elsewhere, as `u8`.

  Comparisons with NaN are false. Complex numbers are not supported.

  ## Examples

      iex> Nx.less(Nx.tensor([1, 2, 3], names: [:x]), 2)
      #Nx.Tensor<
        u8[x: 3]
        [1, 0, 0]
      >

      iex> Nx.less(Nx.tensor(18_446_744_073_709_551_615, type: :u64), Nx.tensor(-1, type: :s64))
      #Nx.Tensor<
        u8
        0
      >
  """
  @spec less(t, t) :: Nx.Tensor.t()
  def less(left, right), do: ordered_comparison(:less, left, right)

  @doc """
  1 where `left` is greater than or equal to `right`, 0 elsewhere, as
  `u8`.

  Comparisons with NaN are false. Complex numbers are not supported.

  ## Examples

      iex> Nx.greater_equal(Nx.tensor([1, 2, 3]), Nx.tensor([[2], [3]]))
      #Nx.Tensor<
        u8[2][3]
        [
          [0, 1, 1],
          [0, 0, 1]
        ]
      >
  """
  @spec greater_equal(t, t) :: Nx.Tensor.t()
  def greater_equal(left, right), do: ordered_comparison(:greater_equal, left, right)

  @doc """
  1 where `left` is less than or equal to `right`, 0 elsewhere, as `u8`.

  Comparisons with NaN are false. Complex numbers are not supported.

  ## Examples

      iex> Nx.less_equal(Nx.tensor([0.5, 1.0, 1.5]), 1)
      #Nx.Tensor<
        u8[3]
        [1, 1, 0]
      >
  """
  @spec less_equal(t, t) :: Nx.Tensor.t()
  def less_equal(left, right), do: ordered_comparison(:less_equal, left, right)

  @doc """
  Logical AND: 1 where both elements are non-zero, 0 elsewhere, as `u8`.

  Any non-zero value (including NaN) counts as true. Shapes broadcast as
  in `add/2`; the types of the inputs do not need to match.

  ## Examples

      iex> Nx.logical_and(Nx.tensor([0, 1, 2, 3]), Nx.tensor([0.0, 0.0, 0.5, -1.0]))
      #Nx.Tensor<
        u8[4]
        [0, 0, 1, 1]
      >
  """
  @spec logical_and(t, t) :: Nx.Tensor.t()
  def logical_and(left, right), do: predicate(:logical_and, left, right)

  @doc """
  Logical OR: 1 where either element is non-zero, 0 elsewhere, as `u8`.

  ## Examples

      iex> Nx.logical_or(Nx.tensor([[0, 1], [0, 0]], names: [:x, :y]), 0)
      #Nx.Tensor<
        u8[x: 2][y: 2]
        [
          [0, 1],
          [0, 0]
        ]
      >
  """
  @spec logical_or(t, t) :: Nx.Tensor.t()
  def logical_or(left, right), do: predicate(:logical_or, left, right)

  @doc """
  Logical exclusive OR: 1 where exactly one of the elements is non-zero,
  0 elsewhere, as `u8`.

  ## Examples

      iex> Nx.logical_xor(Nx.tensor([0, 0, 7, 7]), Nx.tensor([0, -1, 0, -1]))
      #Nx.Tensor<
        u8[4]
        [0, 1, 1, 0]
      >
  """
  @spec logical_xor(t, t) :: Nx.Tensor.t()
  def logical_xor(left, right), do: predicate(:logical_xor, left, right)

  @doc """
  Logical NOT: 1 where the element is zero, 0 elsewhere, as `u8`.

  ## Examples

      iex> Nx.logical_not(Nx.tensor([0, 3, -1]))
      #Nx.Tensor<
        u8[3]
        [1, 0, 0]
      >

      iex> Nx.logical_not(Nx.tensor([0.0, :nan], names: [:x]))
      #Nx.Tensor<
        u8[x: 2]
        [1, 0]
      >
  """
  @spec logical_not(t) :: Nx.Tensor.t()
  def logical_not(tensor) do
    %T{data: %backend{}} = tensor = to_tensor(tensor)

    if function_exported?(backend, :logical_not, 2) do
      unary(:logical_not, tensor, fn _ -> {:u, 8} end)
    else
      equal(tensor, 0)
    end
  end

  @doc """
  Picks elements from `on_true` where `pred` is non-zero and from
  `on_false` elsewhere.

  The result type merges the types of `on_true` and `on_false` (as in
  `add/2`). When `pred` is a scalar, the result has the broadcast shape
  of `on_true` and `on_false`; otherwise it has the shape and names of
  `pred`, and both branches must broadcast to it.

  ## Examples

      iex> Nx.select(Nx.tensor([1, 0, 2]), Nx.tensor([1, 2, 3]), 0)
      #Nx.Tensor<
        s32[3]
        [1, 0, 3]
      >

      iex> pred = Nx.tensor([[1, 0], [0, 1]], names: [:x, :y])
      iex> Nx.select(pred, 1.5, Nx.tensor([10, 20]))
      #Nx.Tensor<
        f32[x: 2][y: 2]
        [
          [1.5, 20.0],
          [10.0, 1.5]
        ]
      >

      iex> Nx.select(0, Nx.tensor([1, 2]), Nx.tensor([[3], [4]]))
      #Nx.Tensor<
        s32[2][2]
        [
          [3, 3],
          [4, 4]
        ]
      >

  ## Error cases

      iex> Nx.select(Nx.tensor([1, 0]), Nx.tensor([1, 2, 3]), 0)
      ** (ArgumentError) cannot broadcast tensor of dimensions {3} to {2} with axes [0]
  """
  @spec select(t, t, t) :: Nx.Tensor.t()
  def select(pred, on_true, on_false) do
    %T{shape: pred_shape, names: pred_names} = pred = operand(pred, nil, :select)
    type = binary_type(on_true, on_false)
    on_true = operand(on_true, type, :select)
    on_false = operand(on_false, type, :select)

    {shape, names} =
      if pred_shape == {} do
        broadcast_names(on_true.shape, on_true.names, on_false.shape, on_false.names)
      else
        {pred_shape, pred_names}
      end

    for %T{shape: branch_shape} <- [on_true, on_false] do
      Nx.Shape.broadcast!(branch_shape, shape, Nx.Shape.broadcast_axes(branch_shape, shape))
    end

    if Nx.Vectorize.any?([pred, on_true, on_false]) do
      vectorized_select(pred, on_true, on_false, shape, names)
    else
      out = %{pred | type: type, shape: shape, names: names}
      select_impl(out, pred, on_true, on_false)
    end
  end

  # Every input is broadcast to the vectorized axes followed by the per-entry shape.
  defp vectorized_select(pred, on_true, on_false, shape, names) do
    Nx.Vectorize.apply_all([pred, on_true, on_false], [broadcast: true], fn inputs, n ->
      [p, t, f] =
        Enum.map(inputs, fn %T{shape: s} = input ->
          lead = s |> Tuple.to_list() |> Enum.take(n)
          rank = tuple_size(s) - n
          start = n + tuple_size(shape) - rank
          axes = Enum.to_list(0..(n - 1)//1) ++ Enum.to_list(start..(start + rank - 1)//1)
          broadcast(input, List.to_tuple(lead ++ Tuple.to_list(shape)), axes: axes)
        end)

      select(p, t, f)
    end)
    |> Map.put(:names, names)
  end

  defp select_impl(out, pred, on_true, on_false) do
    backend = impl!(on_true, on_false)
    backend = if backend == impl!(pred), do: backend, else: impl!(pred, on_true)
    backend.select(out, pred, on_true, on_false)
  end

  @doc """
  Limits every element to the closed interval `[min, max]`: the result is
  `min(max(tensor, min), max)`.

  `min` and `max` are numbers or scalar tensors. The result type merges
  the types of all three (as in `add/2`); complex numbers are not
  supported.

  ## Examples

      iex> Nx.clip(Nx.tensor([[-2, 0], [5, 9]], names: [:x, :y]), 0, 5)
      #Nx.Tensor<
        s32[x: 2][y: 2]
        [
          [0, 0],
          [5, 5]
        ]
      >

      iex> Nx.clip(Nx.tensor([1, 2, 3]), 1.5, Nx.tensor(2.5, type: :f64))
      #Nx.Tensor<
        f64[3]
        [1.5, 2.0, 2.5]
      >

  ## Error cases

      iex> Nx.clip(Nx.tensor([1, 2, 3]), Nx.tensor([0, 1]), 2)
      ** (ArgumentError) min value must be a scalar shape, got: {2}
  """
  @spec clip(t, t, t) :: Nx.Tensor.t()
  def clip(tensor, min, max) do
    %T{type: type} = tensor = operand(tensor, nil, :clip)
    %T{type: min_type, shape: min_shape} = min = operand(min, nil, :clip)
    %T{type: max_type, shape: max_shape} = max = operand(max, nil, :clip)

    if min_shape != {} do
      raise ArgumentError, "min value must be a scalar shape, got: #{inspect(min_shape)}"
    end

    if max_shape != {} do
      raise ArgumentError, "max value must be a scalar shape, got: #{inspect(max_shape)}"
    end

    type =
      type
      |> Nx.Type.merge(Nx.Type.merge(min_type, max_type))
      |> complex_not_supported!(:clip, 3)

    if min.vectorized_axes == [] and max.vectorized_axes == [] do
      vectorized_call(tensor, %{tensor | type: type}, fn out, t, _ ->
        impl!(t).clip(out, t, min, max)
      end)
    else
      Nx.Vectorize.apply_all([tensor, min, max], [align_ranks: true], fn [t, lo, hi], _ ->
        t |> as_type(type) |> max(lo) |> min(hi) |> as_type(type)
      end)
    end
  end

  ## Element-wise unary functions

  @doc """
  The exponential `e ** x` of each element.

  Integer tensors are converted to f32 first (see
  `Nx.Type.to_floating/1`); floating-point and complex tensors keep their
  type.

  ## Examples

      iex> Nx.exp(Nx.tensor([0.0, 1.0, -1.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [1.0, 2.718281828459045, 0.36787944117144233]
      >

      iex> Nx.exp(Nx.tensor([0, 2], names: [:x]))
      #Nx.Tensor<
        f32[x: 2]
        [1.0, 7.389056]
      >
  """
  @spec exp(t) :: Nx.Tensor.t()
  def exp(tensor), do: unary(:exp, tensor, &Nx.Type.to_floating/1)

  @doc """
  `exp(x) - 1` of each element, accurate for `x` close to zero.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.expm1(Nx.tensor([1.0e-10, 1.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [1.00000000005e-10, 1.7182818284590453]
      >
  """
  @spec expm1(t) :: Nx.Tensor.t()
  def expm1(tensor), do: unary(:expm1, tensor, &Nx.Type.to_floating/1)

  @doc """
  The natural logarithm of each element. Zero gives `-Inf` and negative
  reals give NaN.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.log(Nx.tensor([1.0, 10.0, 0.0, -1.0], type: :f64))
      #Nx.Tensor<
        f64[4]
        [0.0, 2.302585092994046, -Inf, NaN]
      >
  """
  @spec log(t) :: Nx.Tensor.t()
  def log(tensor), do: unary(:log, tensor, &Nx.Type.to_floating/1)

  @doc """
  `log(1 + x)` of each element, accurate for `x` close to zero.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.log1p(Nx.tensor([1.0e-10, 1.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [9.999999999500001e-11, 0.6931471805599453]
      >
  """
  @spec log1p(t) :: Nx.Tensor.t()
  def log1p(tensor), do: unary(:log1p, tensor, &Nx.Type.to_floating/1)

  @doc """
  The logistic sigmoid `1 / (1 + exp(-x))` of each element.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.sigmoid(Nx.tensor([0, 2, -2]))
      #Nx.Tensor<
        f32[3]
        [0.5, 0.880797, 0.11920292]
      >
  """
  @spec sigmoid(t) :: Nx.Tensor.t()
  def sigmoid(tensor), do: unary(:sigmoid, tensor, &Nx.Type.to_floating/1)

  @doc """
  The cosine of each element (in radians).

  Types as in `exp/1`.

  ## Examples

      iex> Nx.cos(Nx.tensor([0.0, 3.141592653589793], type: :f64))
      #Nx.Tensor<
        f64[2]
        [1.0, -1.0]
      >
  """
  @spec cos(t) :: Nx.Tensor.t()
  def cos(tensor), do: unary(:cos, tensor, &Nx.Type.to_floating/1)

  @doc """
  The sine of each element (in radians).

  Types as in `exp/1`.

  ## Examples

      iex> Nx.sin(Nx.tensor([0.0, 1.5707963267948966], type: :f64))
      #Nx.Tensor<
        f64[2]
        [0.0, 1.0]
      >
  """
  @spec sin(t) :: Nx.Tensor.t()
  def sin(tensor), do: unary(:sin, tensor, &Nx.Type.to_floating/1)

  @doc """
  The tangent of each element (in radians).

  Types as in `exp/1`.

  ## Examples

      iex> Nx.tan(Nx.tensor([0.0, 0.7853981633974483], type: :f64))
      #Nx.Tensor<
        f64[2]
        [0.0, 0.9999999999999999]
      >
  """
  @spec tan(t) :: Nx.Tensor.t()
  def tan(tensor), do: unary(:tan, tensor, &Nx.Type.to_floating/1)

  @doc """
  The hyperbolic cosine of each element.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.cosh(Nx.tensor([0.0, 1.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [1.0, 1.5430806348152437]
      >
  """
  @spec cosh(t) :: Nx.Tensor.t()
  def cosh(tensor), do: unary(:cosh, tensor, &Nx.Type.to_floating/1)

  @doc """
  The hyperbolic sine of each element.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.sinh(Nx.tensor([0.0, 1.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [0.0, 1.1752011936438014]
      >
  """
  @spec sinh(t) :: Nx.Tensor.t()
  def sinh(tensor), do: unary(:sinh, tensor, &Nx.Type.to_floating/1)

  @doc """
  The hyperbolic tangent of each element.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.tanh(Nx.tensor([0.0, 1.0, -20.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 0.7615941559557649, -1.0]
      >
  """
  @spec tanh(t) :: Nx.Tensor.t()
  def tanh(tensor), do: unary(:tanh, tensor, &Nx.Type.to_floating/1)

  @doc """
  The arc cosine of each element, in radians between 0 and π. Reals
  outside `[-1, 1]` give NaN.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.acos(Nx.tensor([1.0, 0.0, -1.0, 2.0], type: :f64))
      #Nx.Tensor<
        f64[4]
        [0.0, 1.5707963267948966, 3.141592653589793, NaN]
      >
  """
  @spec acos(t) :: Nx.Tensor.t()
  def acos(tensor), do: unary(:acos, tensor, &Nx.Type.to_floating/1)

  @doc """
  The arc sine of each element, in radians between -π/2 and π/2. Reals
  outside `[-1, 1]` give NaN.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.asin(Nx.tensor([0.0, 1.0, 0.5], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 1.5707963267948966, 0.5235987755982989]
      >
  """
  @spec asin(t) :: Nx.Tensor.t()
  def asin(tensor), do: unary(:asin, tensor, &Nx.Type.to_floating/1)

  @doc """
  The arc tangent of each element, in radians between -π/2 and π/2.

  Types as in `exp/1`. See `atan2/2` for the angle of a point.

  ## Examples

      iex> Nx.atan(Nx.tensor([0.0, 1.0, :infinity], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 0.7853981633974483, 1.5707963267948966]
      >
  """
  @spec atan(t) :: Nx.Tensor.t()
  def atan(tensor), do: unary(:atan, tensor, &Nx.Type.to_floating/1)

  @doc """
  The inverse hyperbolic cosine of each element. Reals below 1 give NaN.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.acosh(Nx.tensor([1.0, 2.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [0.0, 1.3169578969248166]
      >
  """
  @spec acosh(t) :: Nx.Tensor.t()
  def acosh(tensor), do: unary(:acosh, tensor, &Nx.Type.to_floating/1)

  @doc """
  The inverse hyperbolic sine of each element.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.asinh(Nx.tensor([0.0, 1.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [0.0, 0.881373587019543]
      >
  """
  @spec asinh(t) :: Nx.Tensor.t()
  def asinh(tensor), do: unary(:asinh, tensor, &Nx.Type.to_floating/1)

  @doc """
  The inverse hyperbolic tangent of each element. ±1 give ±Inf and reals
  outside `[-1, 1]` give NaN.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.atanh(Nx.tensor([0.0, 0.5, 1.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 0.5493061443340548, Inf]
      >
  """
  @spec atanh(t) :: Nx.Tensor.t()
  def atanh(tensor), do: unary(:atanh, tensor, &Nx.Type.to_floating/1)

  @doc """
  The square root of each element. Negative reals give NaN; complex
  tensors give the principal root.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.sqrt(Nx.tensor([4, 2, -1]))
      #Nx.Tensor<
        f32[3]
        [2.0, 1.4142135, NaN]
      >

      iex> Nx.sqrt(Nx.tensor([Complex.new(-4, 0)]))
      #Nx.Tensor<
        c64[1]
        [0.0+2.0i]
      >
  """
  @spec sqrt(t) :: Nx.Tensor.t()
  def sqrt(tensor), do: unary(:sqrt, tensor, &Nx.Type.to_floating/1)

  @doc """
  The reciprocal of the square root, `1 / sqrt(x)`, of each element.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.rsqrt(Nx.tensor([4.0, 0.0, 0.25]))
      #Nx.Tensor<
        f32[3]
        [0.5, Inf, 2.0]
      >
  """
  @spec rsqrt(t) :: Nx.Tensor.t()
  def rsqrt(tensor), do: unary(:rsqrt, tensor, &Nx.Type.to_floating/1)

  @doc """
  The cube root of each element. Negative reals have negative (real)
  cube roots; complex tensors give the principal root.

  Types as in `exp/1`.

  ## Examples

      iex> Nx.cbrt(Nx.tensor([8.0, -27.0, 0.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [2.0, -3.0, 0.0]
      >
  """
  @spec cbrt(t) :: Nx.Tensor.t()
  def cbrt(tensor), do: unary(:cbrt, tensor, &Nx.Type.to_floating/1)

  @doc """
  The error function `erf(x) = 2/√π ∫₀ˣ e^(-t²) dt` of each element.

  Types as in `exp/1`; complex tensors are not supported.

  ## Examples

      iex> Nx.erf(Nx.tensor([0.0, 0.5, -3.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 0.5204998778130465, -0.9999779095030014]
      >

  ## Error cases

      iex> Nx.erf(Nx.tensor([Complex.new(0, 1)]))
      ** (ArgumentError) Nx.erf/1 does not support complex inputs
  """
  @spec erf(t) :: Nx.Tensor.t()
  def erf(tensor), do: unary(:erf, tensor, &real_floating!(&1, :erf))

  @doc """
  The complementary error function `1 - erf(x)` of each element,
  accurate where `erf(x)` is close to 1.

  Types as in `erf/1`.

  ## Examples

      iex> Nx.erfc(Nx.tensor([0.0, 5.0], type: :f64))
      #Nx.Tensor<
        f64[2]
        [1.0, 1.537459794428035e-12]
      >
  """
  @spec erfc(t) :: Nx.Tensor.t()
  def erfc(tensor), do: unary(:erfc, tensor, &real_floating!(&1, :erfc))

  @doc """
  The inverse error function of each element: the `x` with
  `erf(x) == y`. ±1 give ±Inf and values outside `[-1, 1]` give NaN.

  Types as in `erf/1`.

  ## Examples

      iex> Nx.erf_inv(Nx.tensor([0.0, 0.5204998778130465, 1.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 0.5, Inf]
      >
  """
  @spec erf_inv(t) :: Nx.Tensor.t()
  def erf_inv(tensor), do: unary(:erf_inv, tensor, &real_floating!(&1, :erf_inv))

  @doc """
  The absolute value of each element.

  Unsigned tensors are returned as they are; the absolute value of a
  complex number is its magnitude, a real of the matching precision.
  The smallest signed integer has no positive counterpart and stays as
  it is.

  ## Examples

      iex> Nx.abs(Nx.tensor([-2, 0, 3], type: :s8))
      #Nx.Tensor<
        s8[3]
        [2, 0, 3]
      >

      iex> Nx.abs(Nx.tensor([Complex.new(3, -4)]))
      #Nx.Tensor<
        f32[1]
        [5.0]
      >
  """
  @spec abs(t) :: Nx.Tensor.t()
  def abs(tensor) do
    case to_tensor(tensor) do
      %T{type: {:u, _}} = tensor -> tensor
      tensor -> unary(:abs, tensor, &real_part_type/1)
    end
  end

  @doc """
  Flips every bit of each integer.

  ## Examples

      iex> Nx.bitwise_not(Nx.tensor([0, -1, 5]))
      #Nx.Tensor<
        s32[3]
        [-1, 0, -6]
      >

      iex> Nx.bitwise_not(Nx.tensor([0, 15], type: :u4))
      #Nx.Tensor<
        u4[2]
        [15, 0]
      >

  ## Error cases

      iex> Nx.bitwise_not(Nx.tensor([1.0]))
      ** (ArgumentError) bitwise operators expect integer tensors as inputs and outputs an integer tensor, got: {:f, 32}
  """
  @spec bitwise_not(t) :: Nx.Tensor.t()
  def bitwise_not(tensor), do: unary(:bitwise_not, tensor, &bitwise_type!/1)

  @doc """
  Rounds each element up to the nearest integer, keeping the type.

  Integer tensors are returned as they are; complex tensors are not
  supported.

  ## Examples

      iex> Nx.ceil(Nx.tensor([-1.5, -0.5, 0.5, 1.0]))
      #Nx.Tensor<
        f32[4]
        [-1.0, -0.0, 1.0, 1.0]
      >
  """
  @spec ceil(t) :: Nx.Tensor.t()
  def ceil(tensor), do: rounding(:ceil, tensor)

  @doc """
  Rounds each element down to the nearest integer, keeping the type.

  Integer tensors are returned as they are; complex tensors are not
  supported.

  ## Examples

      iex> Nx.floor(Nx.tensor([-1.5, -0.5, 0.5, 1.0]))
      #Nx.Tensor<
        f32[4]
        [-2.0, -1.0, 0.0, 1.0]
      >
  """
  @spec floor(t) :: Nx.Tensor.t()
  def floor(tensor), do: rounding(:floor, tensor)

  @doc """
  Rounds each element to the nearest integer, halves away from zero
  (as Elixir's `round/1`), keeping the type.

  Integer tensors are returned as they are; complex tensors are not
  supported.

  ## Examples

      iex> Nx.round(Nx.tensor([-1.5, -0.5, 0.4, 0.5, 2.5]))
      #Nx.Tensor<
        f32[5]
        [-2.0, -1.0, 0.0, 1.0, 3.0]
      >

  ## Error cases

      iex> Nx.round(Nx.tensor([Complex.new(1, 1)]))
      ** (ArgumentError) Nx.round/1 does not support complex inputs
  """
  @spec round(t) :: Nx.Tensor.t()
  def round(tensor), do: rounding(:round, tensor)

  defp rounding(op, tensor) do
    case to_tensor(tensor) do
      %T{type: {kind, _}} = tensor when kind in [:s, :u] -> tensor
      %T{type: {:c, _} = type} -> complex_not_supported!(type, op, 1)
      tensor -> unary(op, tensor, & &1)
    end
  end

  @doc """
  The sign of each element: -1, 0 or 1 (NaN for NaN), in the tensor's
  type. For complex numbers it is `z / abs(z)` (0 for 0).

  ## Examples

      iex> Nx.sign(Nx.tensor([-3, 0, 7]))
      #Nx.Tensor<
        s32[3]
        [-1, 0, 1]
      >

      iex> Nx.sign(Nx.tensor([-0.5, :nan, :infinity]))
      #Nx.Tensor<
        f32[3]
        [-1.0, NaN, 1.0]
      >
  """
  @spec sign(t) :: Nx.Tensor.t()
  def sign(tensor), do: unary(:sign, tensor, & &1)

  @doc """
  Negates each element, keeping the type. Unsigned integers wrap around
  (`-x` is `2^bits - x`).

  ## Examples

      iex> Nx.negate(Nx.tensor([1, -2, 0]))
      #Nx.Tensor<
        s32[3]
        [-1, 2, 0]
      >

      iex> Nx.negate(Nx.tensor([0, 1, 2], type: :u8))
      #Nx.Tensor<
        u8[3]
        [0, 255, 254]
      >
  """
  @spec negate(t) :: Nx.Tensor.t()
  def negate(tensor), do: unary(:negate, tensor, & &1)

  @doc """
  The complex conjugate of each element: the imaginary part negated.

  Real tensors become complex (see `Nx.Type.to_complex/1`).

  ## Examples

      iex> Nx.conjugate(Nx.tensor([Complex.new(1, 2), Complex.new(3, -4)]))
      #Nx.Tensor<
        c64[2]
        [1.0-2.0i, 3.0+4.0i]
      >

      iex> Nx.conjugate(Nx.tensor([1.5], type: :f64))
      #Nx.Tensor<
        c128[1]
        [1.5-0.0i]
      >
  """
  @spec conjugate(t) :: Nx.Tensor.t()
  def conjugate(tensor), do: unary(:conjugate, tensor, &Nx.Type.to_complex/1)

  @doc """
  The real part of each element.

  Complex tensors give reals of the matching precision (c64 gives f32);
  floating-point tensors are returned as they are and integer tensors
  are converted to f32.

  ## Examples

      iex> Nx.real(Nx.tensor([Complex.new(1, 2), Complex.new(-3, 4)]))
      #Nx.Tensor<
        f32[2]
        [1.0, -3.0]
      >

      iex> Nx.real(Nx.tensor([1, 2]))
      #Nx.Tensor<
        f32[2]
        [1.0, 2.0]
      >
  """
  @spec real(t) :: Nx.Tensor.t()
  def real(tensor) do
    case to_tensor(tensor) do
      %T{type: {:c, _}} = tensor ->
        unary(:real, tensor, &Nx.Type.to_real/1)

      %T{type: type} = tensor ->
        if Nx.Type.float?(type), do: tensor, else: as_type(tensor, {:f, 32})
    end
  end

  @doc """
  The imaginary part of each element.

  Complex tensors give reals of the matching precision (c64 gives f32);
  other tensors give zeros of their floating-point type.

  ## Examples

      iex> Nx.imag(Nx.tensor([Complex.new(1, 2), Complex.new(-3, 4)]))
      #Nx.Tensor<
        f32[2]
        [2.0, 4.0]
      >

      iex> Nx.imag(Nx.tensor([1.5, 2.5], type: :bf16, names: [:x]))
      #Nx.Tensor<
        bf16[x: 2]
        [0.0, 0.0]
      >
  """
  @spec imag(t) :: Nx.Tensor.t()
  def imag(tensor), do: unary(:imag, tensor, &Nx.Type.to_real/1)

  @doc """
  1 where the element is NaN, 0 elsewhere, as `u8`. A complex number is
  NaN when either part is.

  ## Examples

      iex> Nx.is_nan(Nx.tensor([1.0, :nan, :infinity]))
      #Nx.Tensor<
        u8[3]
        [0, 1, 0]
      >

      iex> Nx.is_nan(Nx.tensor([1, 2]))
      #Nx.Tensor<
        u8[2]
        [0, 0]
      >
  """
  @spec is_nan(t) :: Nx.Tensor.t()
  def is_nan(tensor), do: unary(:is_nan, tensor, fn _ -> {:u, 8} end)

  @doc """
  1 where the element is infinite (positive or negative), 0 elsewhere,
  as `u8`. A complex number is infinite when either part is.

  ## Examples

      iex> Nx.is_infinity(Nx.tensor([:infinity, :neg_infinity, :nan, 1.0]))
      #Nx.Tensor<
        u8[4]
        [1, 1, 0, 0]
      >
  """
  @spec is_infinity(t) :: Nx.Tensor.t()
  def is_infinity(tensor), do: unary(:is_infinity, tensor, fn _ -> {:u, 8} end)

  @doc """
  The number of leading zero bits of each integer, in the tensor's
  width and type.

  ## Examples

      iex> Nx.count_leading_zeros(Nx.tensor([0, 1, 255, -1]))
      #Nx.Tensor<
        s32[4]
        [32, 31, 24, 0]
      >

      iex> Nx.count_leading_zeros(Nx.tensor([1, 128], type: :u8))
      #Nx.Tensor<
        u8[2]
        [7, 0]
      >
  """
  @spec count_leading_zeros(t) :: Nx.Tensor.t()
  def count_leading_zeros(tensor), do: unary(:count_leading_zeros, tensor, &bitwise_type!/1)

  @doc """
  The number of set bits of each integer, in the tensor's width and
  type.

  ## Examples

      iex> Nx.population_count(Nx.tensor([0, 7, 255, -1]))
      #Nx.Tensor<
        s32[4]
        [0, 3, 8, 32]
      >

      iex> Nx.population_count(Nx.tensor([-1, -128], type: :s8))
      #Nx.Tensor<
        s8[2]
        [8, 1]
      >
  """
  @spec population_count(t) :: Nx.Tensor.t()
  def population_count(tensor), do: unary(:population_count, tensor, &bitwise_type!/1)

  # Helpers of the element-wise functions

  defp element_wise(op, left, right, type) do
    left = operand(left, type, op)
    right = operand(right, type, op)

    if left.vectorized_axes == [] and right.vectorized_axes == [] do
      {shape, names} = broadcast_names(left.shape, left.names, right.shape, right.names)
      out = %{left | type: type, shape: shape, names: names}
      apply(impl!(left, right), op, [out, left, right])
    else
      vectorized_binary(left, right, &element_wise(op, &1, &2, type))
    end
  end

  # Vectorized axes match by name; inner shapes broadcast as usual (aligned at the end).
  defp vectorized_binary(left, right, fun) do
    Nx.Vectorize.apply_all([left, right], [align_ranks: true], fn [l, r], _ -> fun.(l, r) end)
  end

  # The common cases of Nx.Shape.binary_broadcast/4 without its general walk.
  defp broadcast_names(shape, names, shape, names), do: {shape, names}
  defp broadcast_names(shape, names, {}, []), do: {shape, names}
  defp broadcast_names({}, [], shape, names), do: {shape, names}

  defp broadcast_names(left_shape, left_names, right_shape, right_names),
    do: Nx.Shape.binary_broadcast(left_shape, left_names, right_shape, right_names)

  # Tensors pass through; numbers become scalars of `type` (their own type when nil).
  defp operand(%T{} = tensor, _type, _op), do: tensor

  defp operand(number, type, _op)
       when is_number(number) or is_struct(number, Complex) or
              number in [:nan, :infinity, :neg_infinity] do
    {backend, opts} = default_backend()
    type = type || own_type(number)
    backend.constant(%T{type: type, shape: {}, names: []}, number, opts)
  end

  defp operand(other, _type, _op), do: to_tensor(other)

  # The type both inputs of a binary operation are promoted to.
  defp binary_type(%T{type: left}, %T{type: right}), do: Nx.Type.merge(left, right)
  defp binary_type(%T{type: type}, number), do: merge_number!(type, number)
  defp binary_type(number, %T{type: type}), do: merge_number!(type, number)

  defp binary_type(left, right) when is_number(left) and is_number(right),
    do: Nx.Type.infer(left + right)

  defp binary_type(left, right), do: Nx.Type.merge(own_type(left), own_type(right))

  defp merge_number!(type, number)
       when is_number(number) or is_struct(number, Complex) or
              number in [:nan, :infinity, :neg_infinity],
       do: Nx.Type.merge_number(type, number)

  defp merge_number!(_type, other), do: to_tensor(other)

  # The type of an input on its own; integers beyond s32 are given s64.
  defp own_type(%T{type: type}), do: type
  defp own_type(number) when is_integer(number), do: Nx.Type.merge_number({:s, 32}, number)

  defp own_type(number)
       when is_number(number) or is_struct(number, Complex) or
              number in [:nan, :infinity, :neg_infinity],
       do: Nx.Type.infer(number)

  defp own_type(other), do: to_tensor(other)

  defp integer_type!(type, prefix) do
    if Nx.Type.integer?(type) do
      type
    else
      raise ArgumentError,
            prefix <>
              " integer tensors as inputs and outputs an integer tensor, got: #{inspect(type)}"
    end
  end

  defp bitwise_type!(type), do: integer_type!(type, "bitwise operators expect")

  defp complex_not_supported!({:c, _}, op, arity) do
    raise ArgumentError, "Nx.#{op}/#{arity} does not support complex inputs"
  end

  defp complex_not_supported!(type, _op, _arity), do: type

  defp real_floating!(type, op),
    do: type |> Nx.Type.to_floating() |> complex_not_supported!(op, 1)

  defp real_part_type({:c, _} = type), do: Nx.Type.to_real(type)
  defp real_part_type(type), do: type

  # Predicates give u8; logical operations take each input in its own type.
  defp predicate(op, left, right) do
    left = operand(left, nil, op)
    right = operand(right, nil, op)

    if left.vectorized_axes == [] and right.vectorized_axes == [] do
      {shape, names} = broadcast_names(left.shape, left.names, right.shape, right.names)
      out = %{left | type: {:u, 8}, shape: shape, names: names}
      apply(impl!(left, right), op, [out, left, right])
    else
      vectorized_binary(left, right, &predicate(op, &1, &2))
    end
  end

  # Numbers compared with tensors take the type the two would be promoted to.
  defp comparison(
         op,
         %T{shape: shape, names: names, vectorized_axes: [], data: %backend{}} = left,
         %T{shape: shape, names: names, vectorized_axes: [], data: %backend{}} = right
       ),
       do: apply(backend, op, [%{left | type: {:u, 8}}, left, right])

  defp comparison(op, %T{} = left, %T{} = right), do: predicate(op, left, right)

  defp comparison(op, left, right) do
    type = binary_type(left, right)
    predicate(op, operand(left, type, op), operand(right, type, op))
  end

  defp ordered_comparison(op, left, right) do
    complex_not_supported!(own_type(left), op, 2)
    complex_not_supported!(own_type(right), op, 2)
    comparison(op, left, right)
  end

  defp unary(op, tensor, type_fun) do
    %T{type: type} = tensor = operand(tensor, nil, op)

    vectorized_call(tensor, %{tensor | type: type_fun.(type)}, fn out, t, _ ->
      apply(impl!(t), op, [out, t])
    end)
  end

  ## Indexing and slicing

  # Shapes, names and Nx's error messages come from Nx.Shape. Start indices of slices are
  # clamped so the whole window fits; element indices of gather/take/indexed ops are clamped
  # into each axis by the backend. The composite functions (tile, split, tril/triu/tri,
  # diagonals, diff, linspace) are written with the primitives below.

  @doc """
  Repeats a tensor along each axis.

  `repetitions` holds one positive count per axis. When it is longer than
  the rank, the tensor gains leading axes of size 1 first; when it is
  shorter, the leading axes are repeated once.

  ## Examples

      iex> Nx.tile(Nx.tensor([7, 8]), [3])
      #Nx.Tensor<
        s32[6]
        [7, 8, 7, 8, 7, 8]
      >

      iex> Nx.tile(Nx.tensor([[1, 2], [3, 4]]), [2, 1])
      #Nx.Tensor<
        s32[4][2]
        [
          [1, 2],
          [3, 4],
          [1, 2],
          [3, 4]
        ]
      >

      iex> Nx.tile(Nx.tensor([1, 2]), [2, 2])
      #Nx.Tensor<
        s32[2][4]
        [
          [1, 2, 1, 2],
          [1, 2, 1, 2]
        ]
      >

  ## Error cases

      iex> Nx.tile(Nx.tensor([1, 2]), [0])
      ** (ArgumentError) repetitions must be a list of integers, got: [0]
  """
  @spec tile(t, [pos_integer]) :: Nx.Tensor.t()
  def tile(tensor, repetitions) do
    unless is_list(repetitions) and Enum.all?(repetitions, &(is_integer(&1) and &1 >= 1)) do
      raise ArgumentError,
            "repetitions must be a list of integers, got: #{inspect(repetitions)}"
    end

    tensor = to_tensor(tensor)
    {staged, expanded, result} = Nx.Shape.tile(tensor, repetitions)

    tensor
    |> reshape(staged)
    |> broadcast(expanded)
    |> reshape(result)
  end

  @doc """
  Pads a tensor with `pad_value`.

  `padding_config` has one `{low, high, interior}` tuple per axis: `low`
  and `high` elements are added before and after the axis and `interior`
  elements between each pair of neighbours. Negative `low` or `high`
  remove elements from that end instead; `interior` must not be negative.

  `pad_value` is a number or a scalar tensor; the result type merges it
  with the tensor's type.

  ## Examples

      iex> Nx.pad(Nx.tensor([1, 2, 3]), 0, [{2, 1, 0}])
      #Nx.Tensor<
        s32[6]
        [0, 0, 1, 2, 3, 0]
      >

      iex> Nx.pad(Nx.tensor([[1, 2], [3, 4]]), 9, [{0, 0, 1}, {1, 0, 1}])
      #Nx.Tensor<
        s32[3][4]
        [
          [9, 1, 9, 2],
          [9, 9, 9, 9],
          [9, 3, 9, 4]
        ]
      >

      iex> Nx.pad(Nx.tensor([1, 2, 3, 4, 5], names: [:x]), 0.5, [{-2, 1, 0}])
      #Nx.Tensor<
        f32[x: 4]
        [3.0, 4.0, 5.0, 0.5]
      >

  ## Error cases

      iex> Nx.pad(Nx.tensor([1, 2]), Nx.tensor([0, 0]), [{1, 1, 0}])
      ** (ArgumentError) padding value must be a scalar and non-vectorized

      iex> Nx.pad(Nx.tensor([1, 2]), 0, [{1, 1, 0}, {1, 1, 0}])
      ** (ArgumentError) invalid padding configuration, rank of padding configuration and shape must match
  """
  @spec pad(t, t, [{integer, integer, non_neg_integer}]) :: Nx.Tensor.t()
  def pad(tensor, pad_value, padding_config) when is_list(padding_config) do
    %T{type: type, shape: shape} = tensor = to_tensor(tensor)
    out_type = indexing_merge_type(type, pad_value)
    pad_value = to_tensor(pad_value)

    unless pad_value.shape == {} and pad_value.vectorized_axes == [] do
      raise ArgumentError, "padding value must be a scalar and non-vectorized"
    end

    for {low, high, interior} = entry <- padding_config,
        not (is_integer(low) and is_integer(high) and is_integer(interior) and interior >= 0) do
      raise ArgumentError,
            "padding configuration must be a list of {low, high, interior} integer tuples " <>
              "with non-negative interior, got: #{inspect(entry)}"
    end

    new_shape = Nx.Shape.pad(shape, padding_config)

    for {dim, axis} <- Enum.with_index(Tuple.to_list(new_shape)), dim < 1 do
      raise ArgumentError,
            "padding configuration #{inspect(padding_config)} would leave axis #{axis} of " <>
              "shape #{inspect(shape)} empty"
    end

    out = %{tensor | type: out_type, shape: new_shape}

    vectorized_call(tensor, out, fn out, t, n ->
      impl!(t, pad_value).pad(out, t, pad_value, List.duplicate({0, 0, 0}, n) ++ padding_config)
    end)
  end

  @doc """
  Reverses the order of the elements along the given axes (all by
  default).

  ## Options

    * `:axes` - the axes to reverse, by index or name

  ## Examples

      iex> Nx.reverse(Nx.tensor([1, 2, 3]))
      #Nx.Tensor<
        s32[3]
        [3, 2, 1]
      >

      iex> Nx.reverse(Nx.tensor([[1, 2, 3], [4, 5, 6]], names: [:x, :y]), axes: [:y])
      #Nx.Tensor<
        s32[x: 2][y: 3]
        [
          [3, 2, 1],
          [6, 5, 4]
        ]
      >
  """
  @spec reverse(t, keyword) :: Nx.Tensor.t()
  def reverse(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)

    axes =
      case opts[:axes] do
        nil -> axes(shape)
        axes -> normalize_axes!(shape, axes, names) |> Enum.sort()
      end

    if axes == [] do
      tensor
    else
      vectorized_call(tensor, tensor, fn out, t, n ->
        impl!(t).reverse(out, t, Nx.Vectorize.shift(axes, n))
      end)
    end
  end

  @doc """
  Joins tensors along an existing axis.

  `tensors` is a list (or a tuple, possibly nested) of tensors or
  numbers with the same rank and the same dimensions outside the joined
  axis. Their types merge into the result type and their names must be
  compatible.

  ## Options

    * `:axis` - the axis to join along, by index or name (default `0`)

  ## Examples

      iex> Nx.concatenate([Nx.tensor([1, 2]), Nx.tensor([3, 4, 5])])
      #Nx.Tensor<
        s32[5]
        [1, 2, 3, 4, 5]
      >

      iex> a = Nx.tensor([[1], [2]], names: [:row, :col])
      iex> b = Nx.tensor([[0.5, 1.5], [2.5, 3.5]], names: [:row, :col])
      iex> Nx.concatenate({a, b}, axis: :col)
      #Nx.Tensor<
        f32[row: 2][col: 3]
        [
          [1.0, 0.5, 1.5],
          [2.0, 2.5, 3.5]
        ]
      >

  ## Error cases

      iex> Nx.concatenate([Nx.iota({2, 3}), Nx.iota({3, 2})])
      ** (ArgumentError) expected all shapes to match {*, 3}, got unmatching shape: {3, 2}

      iex> Nx.concatenate([])
      ** (ArgumentError) no tensors were given to concatenate
  """
  @spec concatenate([t] | tuple, keyword) :: Nx.Tensor.t()
  def concatenate(tensors, opts \\ []) do
    opts = Keyword.validate!(opts, axis: 0)

    case flatten_tensors(tensors) do
      [] ->
        raise ArgumentError, "no tensors were given to concatenate"

      [tensor] ->
        tensor

      tensors ->
        {shapes, names, type} = join_info(tensors)
        {shape, names, axis} = Nx.Shape.concatenate(shapes, names, opts[:axis], 0)

        if Nx.Vectorize.any?(tensors) do
          Nx.Vectorize.apply_all(tensors, [broadcast: true], fn devectorized, n ->
            concatenate(devectorized, axis: axis + n)
          end)
          |> Map.put(:names, names)
        else
          out = %{hd(tensors) | type: type, shape: shape, names: names}
          list_impl!(tensors).concatenate(out, tensors, axis)
        end
    end
  end

  @doc """
  Joins tensors of the same shape along a new axis.

  `tensors` is a list (or a tuple, possibly nested) of tensors or
  numbers. Their types merge into the result type.

  ## Options

    * `:axis` - the position of the new axis (default `0`); negative
      positions count from the end
    * `:name` - the name of the new axis

  ## Examples

      iex> Nx.stack([1, 2, 3])
      #Nx.Tensor<
        s32[3]
        [1, 2, 3]
      >

      iex> Nx.stack([Nx.tensor([1, 2]), Nx.tensor([3, 4])], axis: -1, name: :pair)
      #Nx.Tensor<
        s32[2][pair: 2]
        [
          [1, 3],
          [2, 4]
        ]
      >

  ## Error cases

      iex> Nx.stack([Nx.tensor([1, 2]), Nx.tensor([1, 2, 3])])
      ** (ArgumentError) can only stack tensors of the same shape, got distinct shapes: [{2}, {3}]
  """
  @spec stack([t] | tuple, keyword) :: Nx.Tensor.t()
  def stack(tensors, opts \\ []) do
    opts = Keyword.validate!(opts, axis: 0, name: nil)

    case flatten_tensors(tensors) do
      [] ->
        raise ArgumentError, "no tensors were given to stack"

      [tensor] ->
        new_axis(tensor, opts[:axis], opts[:name])

      tensors ->
        {shapes, names, type} = join_info(tensors)
        {shape, names, axis} = Nx.Shape.stack(shapes, names, opts[:axis], opts[:name], 0)

        if Nx.Vectorize.any?(tensors) do
          Nx.Vectorize.apply_all(tensors, [broadcast: true], fn devectorized, n ->
            stack(devectorized, axis: axis + n)
          end)
          |> Map.put(:names, names)
        else
          out = %{hd(tensors) | type: type, shape: shape, names: names}
          list_impl!(tensors).stack(out, tensors, axis)
        end
    end
  end

  defp flatten_tensors(list) when is_list(list), do: Enum.flat_map(list, &flatten_tensors/1)

  defp flatten_tensors(tuple) when is_tuple(tuple),
    do: tuple |> Tuple.to_list() |> flatten_tensors()

  defp flatten_tensors(tensor), do: [to_tensor(tensor)]

  defp join_info(tensors) do
    shapes = Enum.map(tensors, & &1.shape)
    names = Enum.map(tensors, & &1.names)
    type = tensors |> Enum.map(& &1.type) |> Enum.reduce(&Nx.Type.merge(&2, &1))
    {shapes, names, type}
  end

  # The backend of an operation on several tensors, checked pairwise as impl!/2 does.
  defp list_impl!([first | rest]) do
    rest
    |> Enum.reduce(first, fn tensor, chosen ->
      if impl!(chosen, tensor) == impl!(chosen), do: chosen, else: tensor
    end)
    |> impl!()
  end

  @doc """
  Splits a tensor in two along an axis, returning `{left, right}`.

  `split` is either the number of elements that go left (an integer,
  counted from the end when negative) or the fraction of the axis that
  goes left (a float, rounded up). Both parts must be non-empty.

  ## Options

    * `:axis` - the axis to split, by index or name (default `0`)

  ## Examples

      iex> {left, right} = Nx.split(Nx.tensor([1, 2, 3, 4, 5]), 2)
      iex> left
      #Nx.Tensor<
        s32[2]
        [1, 2]
      >
      iex> right
      #Nx.Tensor<
        s32[3]
        [3, 4, 5]
      >

      iex> {left, right} = Nx.split(Nx.iota({2, 4}), 0.25, axis: 1)
      iex> Nx.shape(left)
      {2, 1}
      iex> right
      #Nx.Tensor<
        s32[2][3]
        [
          [1, 2, 3],
          [5, 6, 7]
        ]
      >

      iex> {_left, right} = Nx.split(Nx.tensor([1, 2, 3, 4]), -1)
      iex> right
      #Nx.Tensor<
        s32[1]
        [4]
      >

  ## Error cases

      iex> Nx.split(Nx.tensor([1, 2, 3]), 3)
      ** (ArgumentError) split must be an integer greater than zero and less than the length of the given axis
  """
  @spec split(t, integer | float, keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  def split(tensor, split, opts \\ []) do
    opts = Keyword.validate!(opts, axis: 0)
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    axis = normalize_axis!(shape, opts[:axis], names)
    size = elem(shape, axis)

    left =
      cond do
        is_integer(split) and split > 0 and split < size ->
          split

        is_integer(split) and split < 0 and split > -size ->
          size + split

        is_integer(split) ->
          raise ArgumentError,
                "split must be an integer greater than zero and less than the length of the given axis"

        is_float(split) and Kernel.ceil(split * size) > 0 and Kernel.ceil(split * size) < size ->
          Kernel.ceil(split * size)

        is_float(split) ->
          raise ArgumentError,
                "split must be a float such that 0 < split and ceil(split * axis_size) < 1"

        true ->
          raise ArgumentError,
                "invalid split received, expected a float or an integer, got: #{inspect(split)}"
      end

    {slice_along_axis(tensor, 0, left, axis: axis),
     slice_along_axis(tensor, left, size - left, axis: axis)}
  end

  @doc """
  Takes a window of `lengths` elements starting at `start_indices`,
  optionally every `strides` elements.

  Start indices are integers or integer scalar tensors, one per axis.
  When a window would end past its axis, its start moves back so that the
  whole window fits (the result always has the requested lengths): a
  start of 8 with a length of 5 on an axis of 10 starts at 5. Each axis of
  the result has `ceil(length / stride)` elements.

  ## Options

    * `:strides` - a positive integer for all axes or a list with one per
      axis (default `1`)

  ## Examples

      iex> Nx.slice(Nx.tensor([10, 11, 12, 13, 14, 15]), [1], [4])
      #Nx.Tensor<
        s32[4]
        [11, 12, 13, 14]
      >

      iex> Nx.slice(Nx.iota({3, 5}), [0, 1], [3, 4], strides: [2, 2])
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 3],
          [11, 13]
        ]
      >

  Starts are clamped so the window fits, also when they are tensors:

      iex> Nx.slice(Nx.tensor([0, 1, 2, 3, 4]), [4], [2])
      #Nx.Tensor<
        s32[2]
        [3, 4]
      >

      iex> Nx.slice(Nx.iota({3, 3}), [Nx.tensor(1), Nx.tensor(-3)], [2, 2])
      #Nx.Tensor<
        s32[2][2]
        [
          [3, 4],
          [6, 7]
        ]
      >

  ## Error cases

      iex> Nx.slice(Nx.tensor([1, 2, 3]), [0], [4])
      ** (ArgumentError) length at axis 0 must be less than axis size of 3, got: 4

      iex> Nx.slice(Nx.tensor([1, 2, 3]), [Nx.tensor(0.0)], [1])
      ** (ArgumentError) index must be integer type, got {:f, 32} for axis 0
  """
  @spec slice(t, [integer | Nx.Tensor.t()], [pos_integer], keyword) :: Nx.Tensor.t()
  def slice(tensor, start_indices, lengths, opts \\ [])
      when is_list(start_indices) and is_list(lengths) and is_list(opts) do
    opts = Keyword.validate!(opts, strides: 1)
    %T{shape: shape} = tensor = to_tensor(tensor)

    if shape == {} and start_indices == [] and lengths == [] do
      tensor
    else
      strides = opts[:strides]

      strides =
        if is_integer(strides), do: List.duplicate(strides, tuple_size(shape)), else: strides

      start_indices = start_index_tensors!(start_indices)
      {start_indices, new_shape} = Nx.Shape.slice(shape, start_indices, lengths, strides)

      cond do
        Nx.Vectorize.any?(start_indices) ->
          positions = window_positions(shape, start_indices, new_shape, lengths, strides)
          gather(tensor, positions)

        new_shape == shape and Enum.all?(start_indices, &(&1 == 0)) ->
          tensor

        true ->
          vectorized_call(tensor, %{tensor | shape: new_shape}, fn out, t, n ->
            lead = t.shape |> Tuple.to_list() |> Enum.take(n)
            starts = List.duplicate(0, n) ++ start_indices
            impl!(t).slice(out, t, starts, lead ++ lengths, List.duplicate(1, n) ++ strides)
          end)
      end
    end
  end

  # Start indices that differ per vector entry: the coordinates of every element of the
  # window (`start + stride * i` on each axis, starts clamped so the window fits), as a
  # tensor of shape `window_shape` followed by the rank, for gather/indexed_put.
  defp window_positions(shape, start_indices, window_shape, lengths, strides) do
    [Tuple.to_list(shape), start_indices, lengths, strides]
    |> Enum.zip_with(fn [dim, start, length, stride] -> {dim, start, length, stride} end)
    |> Enum.with_index(fn {dim, start, length, stride}, axis ->
      start = start |> as_type({:s, 64}) |> clip(0, dim - length)

      window_shape
      |> iota(axis: axis, type: {:s, 64})
      |> multiply(stride)
      |> add(start)
    end)
    |> stack(axis: -1)
  end

  defp start_index_tensors!(start_indices) do
    start_indices
    |> Enum.with_index()
    |> Enum.map(fn
      {index, _axis} when is_integer(index) ->
        index

      {index, axis} ->
        %T{shape: index_shape, type: index_type} = index = to_tensor(index)

        unless index_shape == {} do
          raise ArgumentError,
                "index must be scalar, got shape #{inspect(index_shape)} for axis #{axis}"
        end

        unless Nx.Type.integer?(index_type) do
          raise ArgumentError,
                "index must be integer type, got #{inspect(index_type)} for axis #{axis}"
        end

        index
    end)
  end

  @doc """
  Slices `len` elements along one axis starting at `start_index` (an
  integer or an integer scalar tensor), keeping the other axes whole.
  As in `slice/4`, the start is clamped so the window fits.

  ## Options

    * `:axis` - the axis to slice, by index or name (default `0`)
    * `:strides` - the step along that axis (default `1`)

  ## Examples

      iex> Nx.slice_along_axis(Nx.iota({2, 6}), 1, 4, axis: 1, strides: 2)
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 3],
          [7, 9]
        ]
      >

      iex> Nx.slice_along_axis(Nx.iota({3, 2}, names: [:x, :y]), 2, 1, axis: :x)
      #Nx.Tensor<
        s32[x: 1][y: 2]
        [
          [4, 5]
        ]
      >
  """
  @spec slice_along_axis(t, integer | Nx.Tensor.t(), pos_integer, keyword) :: Nx.Tensor.t()
  def slice_along_axis(tensor, start_index, len, opts \\ []) when is_integer(len) do
    opts = Keyword.validate!(opts, axis: 0, strides: 1)
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    axis = normalize_axis!(shape, opts[:axis], names)
    rank = tuple_size(shape)

    starts = List.duplicate(0, rank) |> List.replace_at(axis, start_index)
    lengths = shape |> put_elem(axis, len) |> Tuple.to_list()
    strides = List.duplicate(1, rank) |> List.replace_at(axis, opts[:strides])
    slice(tensor, starts, lengths, strides: strides)
  end

  @doc """
  Writes `slice` into `tensor` at `start_indices`, returning a new tensor.

  `slice` has the tensor's rank and fits inside it; starts (integers or
  integer scalar tensors) are clamped so the whole slice fits. The result
  type merges both types and names merge.

  ## Examples

      iex> Nx.put_slice(Nx.tensor([0, 1, 2, 3, 4]), [1], Nx.tensor([8, 9]))
      #Nx.Tensor<
        s32[5]
        [0, 8, 9, 3, 4]
      >

      iex> Nx.put_slice(Nx.iota({2, 3}), [Nx.tensor(1), 2], Nx.tensor([[0.5, 0.25]]))
      #Nx.Tensor<
        f32[2][3]
        [
          [0.0, 1.0, 2.0],
          [3.0, 0.5, 0.25]
        ]
      >

  ## Error cases

      iex> Nx.put_slice(Nx.iota({2, 2}), [0, 0], Nx.iota({3, 1}))
      ** (ArgumentError) slice shape {3, 1} must be less than or equal to tensor shape {2, 2}
  """
  @spec put_slice(t, [integer | Nx.Tensor.t()], t) :: Nx.Tensor.t()
  def put_slice(tensor, start_indices, slice) when is_list(start_indices) do
    %T{type: type, shape: shape, names: names} = tensor = to_tensor(tensor)
    %T{type: slice_type, shape: slice_shape, names: slice_names} = slice = to_tensor(slice)
    start_indices = start_index_tensors!(start_indices)

    {shape, names} = Nx.Shape.put_slice(shape, names, slice_shape, slice_names, start_indices)

    cond do
      Nx.Vectorize.any?(start_indices) ->
        rank = tuple_size(slice_shape)
        ones = List.duplicate(1, rank)
        lengths = Tuple.to_list(slice_shape)
        positions = window_positions(shape, start_indices, slice_shape, lengths, ones)
        count = Nx.size(slice_shape)

        tensor
        |> indexed_put(reshape(positions, {count, rank}), reshape(slice, {count}))
        |> Map.put(:names, names)

      Nx.Vectorize.any?([tensor, slice]) ->
        Nx.Vectorize.apply_all([tensor, slice], [broadcast: true], fn [t, s], n ->
          put_slice(t, List.duplicate(0, n) ++ start_indices, s)
        end)
        |> Map.put(:names, names)

      true ->
        out = %{tensor | type: Nx.Type.merge(type, slice_type), names: names}
        impl!(tensor, slice).put_slice(%{out | shape: shape}, tensor, start_indices, slice)
    end
  end

  @doc """
  Builds a tensor from elements (or sub-tensors) of `tensor` picked by
  `indices`.

  The last axis of `indices` holds one index per axis listed in `:axes`;
  the other axes of `indices` lead the result, followed by the axes of
  the tensor that are not indexed. Indices outside an axis are clamped to
  its first or last element.

  ## Options

    * `:axes` - the sorted axes the indices refer to (by default the
      leading axes, as many as the last axis of `indices` has entries)

  ## Examples

      iex> t = Nx.tensor([[1, 2], [3, 4]])
      iex> Nx.gather(t, Nx.tensor([[1, 0], [0, 1], [1, 1]]))
      #Nx.Tensor<
        s32[3]
        [3, 2, 4]
      >

      iex> t = Nx.tensor([[1, 2, 3], [4, 5, 6]])
      iex> Nx.gather(t, Nx.tensor([[2], [0]]), axes: [1])
      #Nx.Tensor<
        s32[2][2]
        [
          [3, 6],
          [1, 4]
        ]
      >

      iex> Nx.gather(Nx.tensor([1, 2, 3]), Nx.tensor([[-1], [7]]))
      #Nx.Tensor<
        s32[2]
        [1, 3]
      >

  ## Error cases

      iex> Nx.gather(Nx.tensor([1, 2]), Nx.tensor([[0.0]]))
      ** (ArgumentError) indices must be an integer tensor, got {:f, 32}

      iex> Nx.gather(Nx.tensor([1, 2]), Nx.tensor(0))
      ** (ArgumentError) expected indices rank to be at least 1, got: 0
  """
  @spec gather(t, Nx.Tensor.t(), keyword) :: Nx.Tensor.t()
  def gather(tensor, indices, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes])
    %T{shape: shape} = tensor = to_tensor(tensor)
    %T{shape: indices_shape, type: indices_type} = indices = to_tensor(indices)

    if indices_shape == {} do
      raise ArgumentError, "expected indices rank to be at least 1, got: 0"
    end

    axes = indexed_axes!(tensor, indices, opts)

    unless Nx.Type.integer?(indices_type) do
      raise ArgumentError, "indices must be an integer tensor, got #{inspect(indices_type)}"
    end

    {new_shape, names} = Nx.Shape.gather(shape, indices_shape, axes)

    if Nx.Vectorize.any?([tensor, indices]) do
      Nx.Vectorize.apply_all([tensor, indices], [broadcast: true], fn [t, i], n ->
        gather(t, with_vector_coordinates(i, n),
          axes: Enum.to_list(0..(n - 1)//1) ++ Nx.Vectorize.shift(axes, n)
        )
      end)
      |> Map.put(:names, names)
    else
      out = %{tensor | shape: new_shape, names: names}
      impl!(tensor, indices).gather(out, tensor, indices, axes: axes)
    end
  end

  # Prepends to the last axis of devectorized indices the coordinates of their `n` leading
  # (vectorized) axes, so that each entry indexes its own slice of the devectorized tensor.
  defp with_vector_coordinates(%T{shape: shape, type: type} = indices, n) do
    lead = shape |> Tuple.to_list() |> Enum.drop(-1)
    coordinates_shape = List.to_tuple(lead ++ [1])

    coordinates =
      for axis <- 0..(n - 1)//1 do
        iota(coordinates_shape, axis: axis, type: type, backend: backend_of(indices))
      end

    concatenate(coordinates ++ [indices], axis: tuple_size(shape) - 1)
  end

  defp indexed_axes!(%T{shape: shape, names: names}, %T{shape: indices_shape}, opts) do
    n = elem(indices_shape, tuple_size(indices_shape) - 1)

    case opts[:axes] do
      nil ->
        Enum.to_list(0..(n - 1)//1)

      axes ->
        axes = Nx.Shape.normalize_axes(shape, axes, names)

        unless axes == Enum.sort(axes) do
          raise ArgumentError, ":axes must be an ordered list"
        end

        unless length(axes) == n do
          raise ArgumentError,
                ":axes must have the same number of elements as the last dimension of indices"
        end

        axes
    end
  end

  @doc """
  Takes whole slices along an axis in the order given by `indices`.

  The axis is replaced by the axes of `indices` (an integer tensor of any
  shape; a scalar removes the axis). Indices outside the axis are
  clamped to its first or last slice.

  ## Options

    * `:axis` - the axis to take from, by index or name (default `0`)

  ## Examples

      iex> Nx.take(Nx.tensor([[1, 2], [3, 4], [5, 6]]), Nx.tensor([2, 0, 2]))
      #Nx.Tensor<
        s32[3][2]
        [
          [5, 6],
          [1, 2],
          [5, 6]
        ]
      >

      iex> t = Nx.tensor([[1, 2, 3], [4, 5, 6]], names: [:x, :y])
      iex> Nx.take(t, Nx.tensor([[0, 0], [2, 1]]), axis: :y)
      #Nx.Tensor<
        s32[x: 2][2][2]
        [
          [
            [1, 1],
            [3, 2]
          ],
          [
            [4, 4],
            [6, 5]
          ]
        ]
      >

  ## Error cases

      iex> Nx.take(Nx.tensor([1, 2]), Nx.tensor([0.0]))
      ** (ArgumentError) indices must be an integer tensor, got {:f, 32}
  """
  @spec take(t, t, keyword) :: Nx.Tensor.t()
  def take(tensor, indices, opts \\ []) when is_list(opts) do
    unless Nx.Type.integer?(type(indices)) do
      raise ArgumentError, "indices must be an integer tensor, got #{inspect(type(indices))}"
    end

    opts = Keyword.validate!(opts, axis: 0)
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    %T{shape: indices_shape, names: indices_names} = indices = to_tensor(indices)
    axis = normalize_axis!(shape, opts[:axis], names)
    {new_shape, new_names} = Nx.Shape.take(shape, names, indices_shape, indices_names, axis)
    out = %{tensor | shape: new_shape, names: new_names}

    if indices.vectorized_axes == [] do
      vectorized_call(tensor, out, fn out, t, n ->
        impl!(t, indices).take(out, t, indices, axis: axis + n)
      end)
    else
      # A gather of the whole slices, whose index axes then move to the position of `axis`.
      gathered = gather(tensor, new_axis(indices, -1), axes: [axis])
      index_rank = tuple_size(indices_shape)
      before = Enum.to_list(index_rank..(index_rank + axis - 1)//1)
      after_ = Enum.to_list((index_rank + axis)..(tuple_size(gathered.shape) - 1)//1)
      permutation = before ++ Enum.to_list(0..(index_rank - 1)//1) ++ after_
      %{transpose(gathered, axes: permutation) | names: new_names}
    end
  end

  @doc """
  Takes one element per index along an axis: `indices` has the shape of
  the tensor except on that axis, and so does the result. Indices outside
  the axis are clamped.

  This pairs with `argsort/2`: taking along an axis with the indices it
  returns sorts the tensor.

  ## Options

    * `:axis` - the axis to take from, by index or name (default `0`)

  ## Examples

      iex> t = Nx.tensor([[10, 20, 30], [40, 50, 60]])
      iex> Nx.take_along_axis(t, Nx.tensor([[2, 0], [1, 1]]), axis: 1)
      #Nx.Tensor<
        s32[2][2]
        [
          [30, 10],
          [50, 50]
        ]
      >

  ## Error cases

      iex> Nx.take_along_axis(Nx.iota({2, 2}), Nx.tensor([[0.0, 1.0], [1.0, 0.0]]), axis: 1)
      ** (ArgumentError) indices must be an integer tensor, got {:f, 32}
  """
  @spec take_along_axis(t, Nx.Tensor.t(), keyword) :: Nx.Tensor.t()
  def take_along_axis(tensor, indices, opts \\ []) when is_list(opts) do
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    %T{shape: indices_shape, type: indices_type} = indices = to_tensor(indices)

    unless Nx.Type.integer?(indices_type) do
      raise ArgumentError, "indices must be an integer tensor, got #{inspect(indices_type)}"
    end

    opts = Keyword.validate!(opts, axis: 0)
    axis = normalize_axis!(shape, opts[:axis], names)
    new_shape = Nx.Shape.take_along_axis(shape, indices_shape, axis)

    if Nx.Vectorize.any?([tensor, indices]) do
      Nx.Vectorize.apply_all([tensor, indices], [broadcast: true], fn [t, i], n ->
        take_along_axis(t, i, axis: axis + n)
      end)
    else
      out = %{tensor | shape: new_shape}
      impl!(tensor, indices).take_along_axis(out, tensor, indices, axis: axis)
    end
  end

  @doc """
  Adds `updates` into `target` at `indices`, returning a new tensor.

  `indices` is `{n, k}`: `n` positions, each with one index per axis in
  `:axes`. `updates` is `{n, ...}`: for each position, a block over the
  remaining axes (starting at their first element, at most as large as
  the target there). Repeated positions add up. A rank-1 `indices`
  addresses a single element and takes a scalar update. Indices outside
  an axis are clamped. The result type merges `target` and `updates`.

  ## Options

    * `:axes` - the sorted axes the indices refer to (by default the
      leading axes)

  ## Examples

      iex> Nx.indexed_add(Nx.tensor([0, 0, 0]), Nx.tensor([[0], [2], [0]]), Nx.tensor([1, 2, 3]))
      #Nx.Tensor<
        s32[3]
        [4, 0, 2]
      >

      iex> Nx.indexed_add(Nx.iota({2, 2}), Nx.tensor([1, 0]), 10)
      #Nx.Tensor<
        s32[2][2]
        [
          [0, 1],
          [12, 3]
        ]
      >

      iex> t = Nx.broadcast(0, {2, 3})
      iex> Nx.indexed_add(t, Nx.tensor([[2]]), Nx.tensor([[1.5, 2.5]]), axes: [1])
      #Nx.Tensor<
        f32[2][3]
        [
          [0.0, 0.0, 1.5],
          [0.0, 0.0, 2.5]
        ]
      >

  Unsigned integers wrap around in their own width:

      iex> Nx.indexed_add(Nx.tensor([250, 1], type: :u8), Nx.tensor([[0]]), Nx.tensor([10], type: :u8))
      #Nx.Tensor<
        u8[2]
        [4, 1]
      >

  ## Error cases

      iex> Nx.indexed_add(Nx.tensor([1, 2]), Nx.tensor([[0], [1]]), Nx.tensor([1]))
      ** (ArgumentError) expected the leading axis of indices ({2, 1}) and leading axis of updates ({1}) to match

      iex> Nx.indexed_add(Nx.tensor([1, 2]), Nx.tensor([[0.0]]), Nx.tensor([1]))
      ** (ArgumentError) indices must be an integer tensor, got type: {:f, 32}
  """
  @spec indexed_add(t, Nx.Tensor.t(), t, keyword) :: Nx.Tensor.t()
  def indexed_add(target, indices, updates, opts \\ []),
    do: indexed_op(:indexed_add, target, indices, updates, opts)

  @doc """
  Writes `updates` into `target` at `indices`, returning a new tensor.

  `indices` and `updates` are laid out as in `indexed_add/4`. When a
  position repeats, which of its updates wins is unspecified. Indices
  outside an axis are clamped. The result type merges `target` and
  `updates`.

  ## Options

    * `:axes` - the sorted axes the indices refer to (by default the
      leading axes)

  ## Examples

      iex> Nx.indexed_put(Nx.tensor([0, 0, 0, 0]), Nx.tensor([[3], [1]]), Nx.tensor([7, 8]))
      #Nx.Tensor<
        s32[4]
        [0, 8, 0, 7]
      >

      iex> t = Nx.iota({2, 3})
      iex> Nx.indexed_put(t, Nx.tensor([[1, 0]]), Nx.tensor([[-1, -2]]), axes: [0, 1])
      ** (ArgumentError) expected the rank of the input (2) to be equal to the rank of the updates (2) plus the trailing axis of indices ({1, 2}) minus one

      iex> t = Nx.iota({2, 3})
      iex> Nx.indexed_put(t, Nx.tensor([[1]]), Nx.tensor([[-1, -2]]))
      #Nx.Tensor<
        s32[2][3]
        [
          [0, 1, 2],
          [-1, -2, 5]
        ]
      >

  ## Error cases

      iex> Nx.indexed_put(Nx.iota({2, 2}), Nx.tensor([[0, 1]]), Nx.tensor([1]), axes: [1, 0])
      ** (ArgumentError) :axes must be an ordered list
  """
  @spec indexed_put(t, Nx.Tensor.t(), t, keyword) :: Nx.Tensor.t()
  def indexed_put(target, indices, updates, opts \\ []),
    do: indexed_op(:indexed_put, target, indices, updates, opts)

  defp indexed_op(op, target, %T{shape: {_}} = index, update, opts) do
    %T{shape: target_shape} = target = to_tensor(target)
    update = to_tensor(update)
    Nx.Shape.indexed_scalar(target_shape, index.shape, update.shape)
    indexed_op(op, target, new_axis(index, 0), new_axis(update, 0), opts)
  end

  defp indexed_op(op, target, indices, updates, opts) do
    opts = Keyword.validate!(opts, [:axes])
    %T{type: type, shape: shape} = target = to_tensor(target)
    %T{type: indices_type, shape: indices_shape} = indices = to_tensor(indices)
    %T{type: updates_type, shape: updates_shape} = updates = to_tensor(updates)

    unless Nx.Type.integer?(indices_type) do
      raise ArgumentError,
            "indices must be an integer tensor, got type: #{inspect(indices_type)}"
    end

    if indices_shape == {} do
      raise ArgumentError, "indices must be a rank 1 or 2 tensor, got: 0"
    end

    axes = indexed_axes!(target, indices, opts)
    Nx.Shape.indexed(shape, indices_shape, updates_shape, axes)

    if Nx.Vectorize.any?([target, indices, updates]) do
      vectorized_indexed(op, target, indices, updates, axes)
    else
      out = %{target | type: Nx.Type.merge(type, updates_type)}
      backend = list_impl!([target, indices, updates])
      apply(backend, op, [out, target, indices, updates, [axes: axes]])
    end
  end

  # The positions of all entries become one list of positions into the devectorized target.
  defp vectorized_indexed(op, target, indices, updates, axes) do
    Nx.Vectorize.apply_all([target, indices, updates], [broadcast: true], fn [t, i, u], n ->
      %T{shape: indices_shape} = i = with_vector_coordinates(i, n)
      positions = indices_shape |> Tuple.to_list() |> Enum.drop(-1) |> Enum.product()
      i = reshape(i, {positions, elem(indices_shape, tuple_size(indices_shape) - 1)})
      rest = u.shape |> Tuple.to_list() |> Enum.drop(n + 1)
      u = reshape(u, List.to_tuple([positions | rest]))
      axes = Enum.to_list(0..(n - 1)//1) ++ Nx.Vectorize.shift(axes, n)
      indexed_op(op, t, i, u, axes: axes)
    end)
  end

  @doc """
  Keeps the lower triangle of the matrices in the last two axes, zeroing
  the elements above diagonal `k` (`0` is the main diagonal, positive
  values move up, negative ones down).

  ## Options

    * `:k` - the diagonal above which elements become zero (default `0`)

  ## Examples

      iex> Nx.tril(Nx.iota({3, 3}))
      #Nx.Tensor<
        s32[3][3]
        [
          [0, 0, 0],
          [3, 4, 0],
          [6, 7, 8]
        ]
      >

      iex> Nx.tril(Nx.iota({2, 4}, type: :f32), k: 1)
      #Nx.Tensor<
        f32[2][4]
        [
          [0.0, 1.0, 0.0, 0.0],
          [4.0, 5.0, 6.0, 0.0]
        ]
      >

  ## Error cases

      iex> Nx.tril(Nx.tensor([1, 2]))
      ** (ArgumentError) tril/2 expects a tensor with at least 2 dimensions, got: #Nx.Tensor<
        s32[2]
        [1, 2]
      >
  """
  @spec tril(t, keyword) :: Nx.Tensor.t()
  def tril(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, k: 0)
    tensor = to_tensor(tensor)
    triangle(tensor, :tril, opts[:k], true)
  end

  @doc """
  Keeps the upper triangle of the matrices in the last two axes, zeroing
  the elements below diagonal `k` (`0` is the main diagonal, positive
  values move up, negative ones down).

  ## Options

    * `:k` - the diagonal below which elements become zero (default `0`)

  ## Examples

      iex> Nx.triu(Nx.iota({3, 3}))
      #Nx.Tensor<
        s32[3][3]
        [
          [0, 1, 2],
          [0, 4, 5],
          [0, 0, 8]
        ]
      >

      iex> Nx.triu(Nx.iota({2, 2, 2}), k: -1) |> Nx.to_list()
      [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]

  ## Error cases

      iex> Nx.triu(Nx.tensor(1))
      ** (ArgumentError) triu/2 expects a tensor with at least 2 dimensions, got: #Nx.Tensor<
        s32
        1
      >
  """
  @spec triu(t, keyword) :: Nx.Tensor.t()
  def triu(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, k: 0)
    tensor = to_tensor(tensor)
    triangle(tensor, :triu, opts[:k] - 1, false)
  end

  defp triangle(%T{shape: shape, names: names} = tensor, fun, k, keep_lower?) do
    rank = tuple_size(shape)

    if rank < 2 do
      raise ArgumentError,
            "#{fun}/2 expects a tensor with at least 2 dimensions, got: #{inspect(tensor)}"
    end

    mask =
      tri(elem(shape, rank - 2), elem(shape, rank - 1), k: k)
      |> broadcast(shape, axes: [rank - 2, rank - 1])

    result = if keep_lower?, do: select(mask, tensor, 0), else: select(mask, 0, tensor)
    %{result | names: names}
  end

  @doc """
  A `{n, m}` matrix of `u8` with ones on and below diagonal `k` and zeros
  above it.

  ## Options

    * `:k` - the last diagonal of ones (default `0`, the main diagonal;
      positive values move up, negative ones down)

  ## Examples

      iex> Nx.tri(3, 4)
      #Nx.Tensor<
        u8[3][4]
        [
          [1, 0, 0, 0],
          [1, 1, 0, 0],
          [1, 1, 1, 0]
        ]
      >

      iex> Nx.tri(2, 2, k: -1)
      #Nx.Tensor<
        u8[2][2]
        [
          [0, 0],
          [1, 0]
        ]
      >
  """
  @spec tri(pos_integer, pos_integer, keyword) :: Nx.Tensor.t()
  def tri(n, m, opts \\ []) do
    opts = Keyword.validate!(opts, k: 0)
    greater_equal(iota({n, 1}), subtract(iota({1, m}), opts[:k]))
  end

  @doc """
  The diagonal of the matrices in the last two axes; a diagonal `offset`
  above (positive) or below (negative) the main one may be given.

  The result has the leading (batch) axes followed by one axis with the
  diagonal's elements.

  ## Options

    * `:offset` - which diagonal to take (default `0`)

  ## Examples

      iex> Nx.take_diagonal(Nx.iota({3, 3}))
      #Nx.Tensor<
        s32[3]
        [0, 4, 8]
      >

      iex> Nx.take_diagonal(Nx.iota({2, 2, 3}), offset: 1)
      #Nx.Tensor<
        s32[2][2]
        [
          [1, 5],
          [7, 11]
        ]
      >

  ## Error cases

      iex> Nx.take_diagonal(Nx.iota({2, 2}), offset: 2)
      ** (ArgumentError) offset must be less than length of axis 1 when positive, got: 2
  """
  @spec take_diagonal(t, keyword) :: Nx.Tensor.t()
  def take_diagonal(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, offset: 0)
    %T{shape: shape} = tensor = to_tensor(tensor)
    {batch, matrix} = Nx.Shape.take_diagonal(shape)
    offset = opts[:offset]
    Nx.Shape.validate_diag_offset!(matrix, offset)
    rank = tuple_size(shape)
    indices = diagonal_indices(matrix, offset)

    gathered = gather(tensor, indices, axes: [rank - 2, rank - 1])
    batch_rank = tuple_size(batch)

    if batch_rank == 0 do
      gathered
    else
      transpose(gathered, axes: Enum.to_list(1..batch_rank) ++ [0])
    end
  end

  @doc """
  A square matrix with the vector `tensor` on one diagonal and zeros
  elsewhere. With an `offset`, the diagonal sits above (positive) or
  below (negative) the main one and the matrix grows by `abs(offset)`.

  The zeros are s32, so the result type merges s32 with the tensor's
  type (as Nx does).

  ## Options

    * `:offset` - which diagonal to fill (default `0`)

  ## Examples

      iex> Nx.make_diagonal(Nx.tensor([1, 2, 3]))
      #Nx.Tensor<
        s32[3][3]
        [
          [1, 0, 0],
          [0, 2, 0],
          [0, 0, 3]
        ]
      >

      iex> Nx.make_diagonal(Nx.tensor([1.5, 2.5]), offset: -1)
      #Nx.Tensor<
        f32[3][3]
        [
          [0.0, 0.0, 0.0],
          [1.5, 0.0, 0.0],
          [0.0, 2.5, 0.0]
        ]
      >

  ## Error cases

      iex> Nx.make_diagonal(Nx.iota({2, 2}))
      ** (ArgumentError) make_diagonal/2 expects tensor of rank 1, got tensor of rank: 2
  """
  @spec make_diagonal(t, keyword) :: Nx.Tensor.t()
  def make_diagonal(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, offset: 0)
    %T{shape: shape} = tensor = to_tensor(tensor)
    {len} = Nx.Shape.make_diagonal(shape)
    size = len + Kernel.abs(opts[:offset])

    0
    |> broadcast({size, size})
    |> indexed_put(diagonal_indices({size, size}, opts[:offset]), tensor)
  end

  @doc """
  Writes the vector `diagonal` on a diagonal of the matrix `tensor`
  (the main one, or `offset` above or below it), returning a new tensor.
  The vector must be exactly as long as that diagonal. The result type
  merges both types.

  ## Options

    * `:offset` - which diagonal to write (default `0`)

  ## Examples

      iex> Nx.put_diagonal(Nx.broadcast(0, {3, 3}), Nx.tensor([7, 8, 9]))
      #Nx.Tensor<
        s32[3][3]
        [
          [7, 0, 0],
          [0, 8, 0],
          [0, 0, 9]
        ]
      >

      iex> Nx.put_diagonal(Nx.iota({2, 3}), Nx.tensor([-1, -2]), offset: 1)
      #Nx.Tensor<
        s32[2][3]
        [
          [0, -1, 2],
          [3, 4, -2]
        ]
      >

  ## Error cases

      iex> Nx.put_diagonal(Nx.iota({3, 3}), Nx.tensor([1, 2]))
      ** (ArgumentError) expected diagonal tensor of length: 3, got diagonal tensor of length: 2
  """
  @spec put_diagonal(t, t, keyword) :: Nx.Tensor.t()
  def put_diagonal(tensor, diagonal, opts \\ []) do
    opts = Keyword.validate!(opts, offset: 0)
    %T{shape: shape} = tensor = to_tensor(tensor)
    %T{shape: diagonal_shape} = diagonal = to_tensor(diagonal)
    Nx.Shape.put_diagonal(shape, diagonal_shape, opts[:offset])
    indexed_put(tensor, diagonal_indices(shape, opts[:offset]), diagonal)
  end

  # {len, 2} indices (row, column) of a diagonal of a matrix of shape {rows, cols}
  defp diagonal_indices({rows, cols}, offset) do
    {row, col} = if offset >= 0, do: {0, offset}, else: {-offset, 0}
    len = Kernel.min(rows - row, cols - col)
    pairs = for i <- 0..(len - 1)//1, do: [row + i, col + i]
    tensor(pairs, type: {:s, 64})
  end

  @doc """
  The `n`-th discrete difference along an axis: each element minus the
  one before it, applied `order` times. The axis shrinks by `order`.

  ## Options

    * `:order` - how many times to take the difference (default `1`;
      `0` returns the tensor)
    * `:axis` - the axis, by index or name (default `-1`)

  ## Examples

      iex> Nx.diff(Nx.tensor([1, 4, 9, 16, 25]))
      #Nx.Tensor<
        s32[4]
        [3, 5, 7, 9]
      >

      iex> Nx.diff(Nx.tensor([1, 4, 9, 16, 25]), order: 2)
      #Nx.Tensor<
        s32[3]
        [2, 2, 2]
      >

      iex> Nx.diff(Nx.tensor([[1, 2], [5, 3]]), axis: 0)
      #Nx.Tensor<
        s32[1][2]
        [
          [4, 1]
        ]
      >

  ## Error cases

      iex> Nx.diff(Nx.tensor([1, 2]), order: -1)
      ** (ArgumentError) order must be non-negative but got: -1
  """
  @spec diff(t, keyword) :: Nx.Tensor.t()
  def diff(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, order: 1, axis: -1)
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    order = opts[:order]

    if shape == {} do
      raise ArgumentError, "cannot compute diff of a scalar"
    end

    unless is_integer(order) and order >= 0 do
      raise ArgumentError, "order must be non-negative but got: #{inspect(order)}"
    end

    axis = normalize_axis!(shape, opts[:axis], names)
    size = elem(shape, axis)

    Enum.reduce(1..order//1, tensor, fn step, acc ->
      len = size - step
      after_ = slice_along_axis(acc, 1, len, axis: axis)
      before = slice_along_axis(acc, 0, len, axis: axis)
      subtract(after_, before)
    end)
  end

  @doc """
  `n` evenly spaced values from `start` to `stop`.

  `start` and `stop` are numbers or tensors of the same shape; the values
  run along a new last axis. They are converted to `:type` first, the
  points are computed in floating point and converted to `:type` at the
  end (integer types truncate).

  ## Options

    * `:n` - the number of points (required, positive)
    * `:type` - the result type (default `{:f, 32}`)
    * `:endpoint` - whether `stop` is the last point (default `true`);
      when `false` the points stop one step before it
    * `:name` - the name of the new axis

  ## Examples

      iex> Nx.linspace(0, 1, n: 5)
      #Nx.Tensor<
        f32[5]
        [0.0, 0.25, 0.5, 0.75, 1.0]
      >

      iex> Nx.linspace(0, 10, n: 4, endpoint: false, type: :s64, name: :t)
      #Nx.Tensor<
        s64[t: 4]
        [0, 2, 5, 7]
      >

      iex> Nx.linspace(Nx.tensor([0, 10]), Nx.tensor([1, 20]), n: 3)
      #Nx.Tensor<
        f32[2][3]
        [
          [0.0, 0.5, 1.0],
          [10.0, 15.0, 20.0]
        ]
      >

  ## Error cases

      iex> Nx.linspace(0, 1, n: 0)
      ** (ArgumentError) expected n to be a non-negative integer, got: 0
  """
  @spec linspace(t, t, keyword) :: Nx.Tensor.t()
  def linspace(start, stop, opts \\ []) do
    opts = Keyword.validate!(opts, [:n, :name, type: {:f, 32}, endpoint: true])
    type = Nx.Type.normalize!(opts[:type])
    n = opts[:n]

    unless is_integer(n) and n > 0 do
      raise ArgumentError, "expected n to be a non-negative integer, got: #{inspect(n)}"
    end

    start = as_type(start, type)
    stop = as_type(stop, type)

    if start.shape != stop.shape do
      raise ArgumentError,
            "expected start and stop to have the same shape. Got shapes " <>
              "#{inspect(start.shape)} and #{inspect(stop.shape)}"
    end

    start = new_axis(start, -1, opts[:name])

    if n == 1 do
      start
    else
      stop = new_axis(stop, -1, opts[:name])
      shape = put_elem(start.shape, tuple_size(start.shape) - 1, n)
      steps = if opts[:endpoint], do: n - 1, else: n
      step = divide(subtract(stop, start), steps)

      iota(shape, axis: -1, type: type)
      |> multiply(step)
      |> add(start)
      |> as_type(type)
      |> Map.put(:names, start.names)
    end
  end

  defp indexing_merge_type(type, %T{type: other}), do: Nx.Type.merge(type, other)

  defp indexing_merge_type(type, number)
       when is_number(number) or is_struct(number, Complex) or
              number in [:nan, :infinity, :neg_infinity],
       do: Nx.Type.merge_number(type, number)

  defp indexing_merge_type(_type, other) do
    raise ArgumentError, "expected a %Nx.Tensor{} or a number, got: #{inspect(other)}"
  end

  ## Composite functions

  @doc """
  The angle of each complex element (`atan2(imag, real)`); 0 or π for
  real numbers.

  ## Examples

      iex> Nx.phase(Nx.tensor([Complex.new(1, 1), Complex.new(-1, 0)]))
      #Nx.Tensor<
        f32[2]
        [0.7853982, 3.1415927]
      >

      iex> Nx.phase(Nx.tensor([2.0, -2.0]))
      #Nx.Tensor<
        f32[2]
        [0.0, 3.1415927]
      >
  """
  @spec phase(t) :: Nx.Tensor.t()
  def phase(tensor) do
    tensor = to_tensor(tensor)
    atan2(imag(tensor), real(tensor))
  end

  @doc """
  Builds complex numbers from real and imaginary parts (broadcast
  together). f64 parts give c128, anything else c64.

  ## Examples

      iex> Nx.complex(Nx.tensor([1.0, 2.0]), Nx.tensor([-1.0, 0.5]))
      #Nx.Tensor<
        c64[2]
        [1.0-1.0i, 2.0+0.5i]
      >
  """
  @spec complex(t, t) :: Nx.Tensor.t()
  def complex(real, imag) do
    real = to_tensor(real)
    imag = to_tensor(imag)
    type = Nx.Type.merge(Nx.Type.to_floating(type(real)), Nx.Type.to_floating(type(imag)))
    complex_type = Nx.Type.to_complex(type)
    i = Nx.Constants.i(complex_type)
    add(as_type(real, complex_type), multiply(as_type(imag, complex_type), i))
  end

  @doc """
  Base-2 logarithm.

  ## Examples

      iex> Nx.log2(Nx.tensor([1, 8, 1024]))
      #Nx.Tensor<
        f32[3]
        [0.0, 3.0, 10.0]
      >
  """
  @spec log2(t) :: Nx.Tensor.t()
  def log2(tensor), do: log_base(tensor, 2)

  @doc """
  Base-10 logarithm.

  ## Examples

      iex> Nx.log10(Nx.tensor([1.0, 10.0, 100.0], type: :f64))
      #Nx.Tensor<
        f64[3]
        [0.0, 1.0, 2.0]
      >
  """
  @spec log10(t) :: Nx.Tensor.t()
  def log10(tensor), do: log_base(tensor, 10)

  @doc """
  The logarithm in the given base: `log(tensor) / log(base)`.

  ## Examples

      iex> Nx.log(Nx.tensor([9.0, 81.0]), 3)
      #Nx.Tensor<
        f32[2]
        [2.0, 4.0]
      >
  """
  @spec log(t, number) :: Nx.Tensor.t()
  def log(tensor, base) when is_number(base) and base > 0, do: log_base(tensor, base)

  # Dividing by the logarithm of the base computed in f64 and rounded once to the tensor's type
  # keeps exact powers exact (log(8)/log(2) rounds to 3.0).
  defp log_base(tensor, base) do
    tensor = to_tensor(tensor)
    type = Nx.Type.to_floating(type(tensor))
    divide(log(tensor), tensor(:math.log(base), type: Nx.Type.to_real(type)))
  end

  @doc """
  A tensor of the same shape (and names) as `tensor` with every element set
  to `value`.

  ## Options

    * `:type` - the type of the result (the tensor's type by default)

  ## Examples

      iex> Nx.fill(Nx.iota({2, 2}), 7)
      #Nx.Tensor<
        s32[2][2]
        [
          [7, 7],
          [7, 7]
        ]
      >

      iex> Nx.fill(Nx.iota({2}), :nan, type: :f16)
      #Nx.Tensor<
        f16[2]
        [NaN, NaN]
      >
  """
  @spec fill(t, number | atom | Complex.t(), keyword) :: Nx.Tensor.t()
  def fill(tensor, value, opts \\ []) do
    opts = Keyword.validate!(opts, [:type])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    type = Nx.Type.normalize!(opts[:type] || type)
    {backend, backend_opts} = backend_of(tensor)
    out = %T{type: type, shape: shape, names: names, vectorized_axes: tensor.vectorized_axes}

    vectorized_call(tensor, out, fn out, _t, _n ->
      backend.constant(out, Nx.Type.cast_number!(type, value), backend_opts)
    end)
  end

  defp backend_of(%T{data: %Nx.Torch.Backend{device: device}}),
    do: {Nx.Torch.Backend, [device: device]}

  defp backend_of(_tensor), do: default_backend()

  @doc """
  The arithmetic mean, over all axes or the given ones. The result is a
  floating type.

  ## Options

    * `:axes` - the axes to average over (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.mean(Nx.tensor([[1, 2], [3, 4]]))
      #Nx.Tensor<
        f32
        2.5
      >

      iex> Nx.mean(Nx.tensor([[1, 2], [3, 4]], names: [:x, :y]), axes: [:y])
      #Nx.Tensor<
        f32[x: 2]
        [1.5, 3.5]
      >
  """
  @spec mean(t, keyword) :: Nx.Tensor.t()
  def mean(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes, keep_axes: false])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    count = reduced_count(shape, names, opts[:axes])
    divide(sum(tensor, opts), count)
  end

  defp reduced_count(shape, _names, nil), do: size(shape)

  defp reduced_count(shape, names, axes) do
    shape |> Nx.Shape.normalize_axes(axes, names) |> Enum.reduce(1, &(elem(shape, &1) * &2))
  end

  @doc """
  Returns 1 (as u8) when every pair of elements of `a` and `b` satisfies
  `|a - b| <= atol + rtol * |b|` (equal infinities count as close), else 0.

  ## Options

    * `:atol` - absolute tolerance (default `1.0e-8`)
    * `:rtol` - relative tolerance (default `1.0e-5`)
    * `:equal_nan` - whether NaN is close to NaN (default `false`)

  ## Examples

      iex> Nx.all_close(Nx.tensor([1.0e10, 1.0e-7]), Nx.tensor([1.00001e10, 1.0e-8]))
      #Nx.Tensor<
        u8
        0
      >

      iex> Nx.all_close(Nx.tensor([1.0, :nan]), Nx.tensor([1.0, :nan]), equal_nan: true)
      #Nx.Tensor<
        u8
        1
      >
  """
  @spec all_close(t, t, keyword) :: Nx.Tensor.t()
  def all_close(a, b, opts \\ []) do
    opts = Keyword.validate!(opts, atol: 1.0e-8, rtol: 1.0e-5, equal_nan: false)
    a = to_tensor(a)
    b = to_tensor(b)
    tolerance = add(opts[:atol], multiply(opts[:rtol], abs(b)))
    close = logical_or(less_equal(abs(subtract(a, b)), tolerance), equal(a, b))

    close =
      if opts[:equal_nan] and not Nx.Type.integer?(Nx.Type.merge(type(a), type(b))),
        do: logical_or(close, logical_and(is_nan(a), is_nan(b))),
        else: close

    all(close)
  end

  @doc """
  `log(sum(exp(tensor)))` over all axes or the given ones, computed without
  overflow (the maximum is subtracted first).

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)
    * `:exp_scaling_factor` - a tensor of factors multiplying `exp(tensor)`
      before the sum (default `1`)

  ## Examples

      iex> Nx.logsumexp(Nx.tensor([1000.0, 1000.0]))
      #Nx.Tensor<
        f32
        1000.6932
      >

      iex> Nx.logsumexp(Nx.tensor([[0.0, 0.0], [1.0, 2.0]], type: :f64), axes: [1])
      #Nx.Tensor<
        f64[2]
        [0.6931471805599453, 2.313261687518223]
      >
  """
  @spec logsumexp(t, keyword) :: Nx.Tensor.t()
  def logsumexp(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes, keep_axes: false, exp_scaling_factor: 1])
    tensor = to_tensor(tensor)
    axes_opts = [axes: opts[:axes], keep_axes: true]
    max = reduce_max(tensor, axes_opts)
    # an infinite maximum would turn x - max into NaN; shift by 0 there instead
    shift = select(is_infinity(max), 0, max)
    scaled = multiply(exp(subtract(tensor, shift)), opts[:exp_scaling_factor])
    result = add(log(sum(scaled, axes_opts)), shift)

    if opts[:keep_axes],
      do: result,
      else: squeeze(result, axes: reduced_axes(tensor, opts[:axes]))
  end

  defp reduced_axes(%T{shape: shape}, nil), do: axes(shape)
  defp reduced_axes(%T{shape: shape, names: names}, axes), do: normalize_axes!(shape, axes, names)

  @doc """
  The variance, over all axes or the given ones: the mean squared distance
  from the mean, divided by `n - ddof`.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:ddof` - delta degrees of freedom (default `0`)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.variance(Nx.tensor([1, 2, 3, 4]))
      #Nx.Tensor<
        f32
        1.25
      >

      iex> Nx.variance(Nx.tensor([[1.0, 3.0], [2.0, 2.0]]), axes: [1], ddof: 1)
      #Nx.Tensor<
        f32[2]
        [2.0, 0.0]
      >
  """
  @spec variance(t, keyword) :: Nx.Tensor.t()
  def variance(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes, ddof: 0, keep_axes: false])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    count = reduced_count(shape, names, opts[:axes])
    mean = mean(tensor, axes: opts[:axes], keep_axes: true)
    centered = subtract(tensor, mean)

    squares =
      sum(multiply(centered, conjugate_if_complex(centered)),
        axes: opts[:axes],
        keep_axes: opts[:keep_axes]
      )

    divide(real_if_complex(squares), count - opts[:ddof])
  end

  defp conjugate_if_complex(%T{type: {:c, _}} = t), do: conjugate(t)
  defp conjugate_if_complex(t), do: t
  defp real_if_complex(%T{type: {:c, _}} = t), do: real(t)
  defp real_if_complex(t), do: t

  @doc """
  The standard deviation: the square root of `variance/2` (same options).

  ## Examples

      iex> Nx.standard_deviation(Nx.tensor([2, 4, 4, 4, 5, 5, 7, 9]))
      #Nx.Tensor<
        f32
        2.0
      >
  """
  @spec standard_deviation(t, keyword) :: Nx.Tensor.t()
  def standard_deviation(tensor, opts \\ []), do: sqrt(variance(tensor, opts))

  @doc """
  The weighted mean over all axes or the given ones:
  `sum(tensor * weights) / sum(weights)`. `weights` has the tensor's shape,
  or is one-dimensional along the single axis given in `:axes`.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  ## Examples

      iex> Nx.weighted_mean(Nx.tensor([1, 2, 3]), Nx.tensor([3, 1, 0]))
      #Nx.Tensor<
        f32
        1.25
      >

      iex> Nx.weighted_mean(Nx.tensor([[1.0, 3.0], [2.0, 4.0]]), Nx.tensor([1.0, 3.0]), axes: [1])
      #Nx.Tensor<
        f32[2]
        [2.5, 3.5]
      >
  """
  @spec weighted_mean(t, t, keyword) :: Nx.Tensor.t()
  def weighted_mean(tensor, weights, opts \\ []) do
    opts = Keyword.validate!(opts, [:axes, keep_axes: false])
    %T{shape: shape, names: names} = tensor = to_tensor(tensor)
    %T{shape: wshape} = weights = to_tensor(weights)

    weights =
      cond do
        wshape == shape ->
          weights

        match?([_], opts[:axes] || []) and tuple_size(wshape) == 1 ->
          [axis] = normalize_axes!(shape, opts[:axes], names)
          broadcast(weights, shape, axes: [axis])

        true ->
          raise ArgumentError,
                "weights shape #{inspect(wshape)} must match tensor shape #{inspect(shape)}, " <>
                  "or be one-dimensional along a single reduced axis"
      end

    sum_opts = [axes: opts[:axes], keep_axes: opts[:keep_axes]]
    divide(sum(multiply(tensor, weights), sum_opts), sum(weights, sum_opts))
  end

  @doc """
  The median over all elements or along one axis. With an even count it is
  the mean of the two middle elements (a floating result); with an odd
  count it is the middle element itself.

  ## Options

    * `:axis` - the axis (the flattened tensor by default)
    * `:keep_axis` - keep the reduced axis with size 1 (default `false`)

  ## Examples

      iex> Nx.median(Nx.tensor([[1, 2, 3], [4, 5, 6]]))
      #Nx.Tensor<
        f32
        3.5
      >

      iex> Nx.median(Nx.tensor([[3, 1, 2], [9, 7, 8]]), axis: 1)
      #Nx.Tensor<
        s32[2]
        [2, 8]
      >
  """
  @spec median(t, keyword) :: Nx.Tensor.t()
  def median(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axis, keep_axis: false])
    tensor = to_tensor(tensor)

    {tensor, axis} =
      case opts[:axis] do
        nil -> {flatten(tensor), 0}
        axis -> {tensor, normalize_axis!(tensor.shape, axis, tensor.names)}
      end

    n = elem(tensor.shape, axis)
    sorted = sort(tensor, axis: axis)
    half = div(n, 2)

    result =
      if rem(n, 2) == 1 do
        slice_along_axis(sorted, half, 1, axis: axis)
      else
        sorted |> slice_along_axis(half - 1, 2, axis: axis) |> mean(axes: [axis], keep_axes: true)
      end

    if opts[:keep_axis] and opts[:axis] != nil, do: result, else: squeeze(result, axes: [axis])
  end

  @doc """
  The most frequent element over all elements or along one axis; ties go to
  the smallest value.

  ## Options

    * `:axis` - the axis (the flattened tensor by default)
    * `:keep_axis` - keep the reduced axis with size 1 (default `false`)

  ## Examples

      iex> Nx.mode(Nx.tensor([3, 1, 3, 2, 1]))
      #Nx.Tensor<
        s32
        1
      >

      iex> Nx.mode(Nx.tensor([[1, 2, 2], [5, 5, 4]]), axis: 1)
      #Nx.Tensor<
        s32[2]
        [2, 5]
      >
  """
  @spec mode(t, keyword) :: Nx.Tensor.t()
  def mode(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:axis, keep_axis: false])
    tensor = to_tensor(tensor)

    {tensor, axis} =
      case opts[:axis] do
        nil -> {flatten(tensor), 0}
        axis -> {tensor, normalize_axis!(tensor.shape, axis, tensor.names)}
      end

    # counts[..., i] = how many elements along the axis equal element i
    moved = moveaxis_last(tensor, axis)
    rank = tuple_size(moved.shape)
    counts = sum(equal(new_axis(moved, rank), new_axis(moved, rank - 1)), axes: [rank])
    best = reduce_max(counts, axes: [rank - 1], keep_axes: true)
    candidates = select(equal(counts, best), moved, Nx.Constants.max(moved.type))
    result = reduce_min(candidates, axes: [rank - 1], keep_axes: true)
    result = moveaxis_back(result, axis)

    if opts[:keep_axis] and opts[:axis] != nil, do: result, else: squeeze(result, axes: [axis])
  end

  defp moveaxis_last(%T{shape: shape} = t, axis) do
    rank = tuple_size(shape)
    others = Enum.to_list(0..(rank - 1)//1) -- [axis]
    transpose(t, axes: others ++ [axis])
  end

  defp moveaxis_back(%T{shape: shape} = t, axis) do
    rank = tuple_size(shape)
    perm = Enum.to_list(0..(rank - 2)//1) |> List.insert_at(axis, rank - 1)
    transpose(t, axes: perm)
  end

  @doc """
  The covariance matrix of the variables (columns) of a `{..., n, d}`
  tensor of `n` observations: a `{..., d, d}` tensor, normalized by
  `n - ddof`.

  ## Options

    * `:ddof` - delta degrees of freedom (default `0`)

  ## Examples

      iex> Nx.covariance(Nx.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]]), ddof: 1)
      #Nx.Tensor<
        f32[2][2]
        [
          [4.0, 8.0],
          [8.0, 16.0]
        ]
      >
  """
  @spec covariance(t, keyword) :: Nx.Tensor.t()
  def covariance(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, ddof: 0)
    %T{shape: shape} = tensor = to_tensor(tensor)
    rank = tuple_size(shape)

    if rank < 2 do
      raise ArgumentError, "covariance expects a tensor of rank 2 or more, got #{inspect(shape)}"
    end

    n = elem(shape, rank - 2)
    centered = subtract(tensor, mean(tensor, axes: [rank - 2], keep_axes: true))
    batch = Enum.to_list(0..(rank - 3)//1)
    products = dot(conjugate_if_complex(centered), [rank - 2], batch, centered, [rank - 2], batch)
    divide(products, n - opts[:ddof])
  end

  @doc """
  Reduces over all axes or the given ones with an Elixir function of two
  scalar tensors (the element and the accumulator), starting from `acc`.

  The function runs once per element, so this is meant for operations that
  have no built-in reduction; prefer `sum/2`, `product/2`, `reduce_max/2`
  and friends when they apply.

  ## Options

    * `:axes` - the axes to reduce (all by default)
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)
    * `:type` - the result type (the merge of the tensor's and the
      accumulator's types by default)

  ## Examples

      iex> Nx.reduce(Nx.tensor([1, 2, 3, 4]), 0, fn x, acc -> Nx.add(x, acc) end)
      #Nx.Tensor<
        s32
        10
      >

      iex> Nx.reduce(Nx.tensor([[1, 5], [7, 3]]), 1, [axes: [1]], &Nx.multiply/2)
      #Nx.Tensor<
        s32[2]
        [5, 21]
      >
  """
  @spec reduce(t, t, keyword, (Nx.Tensor.t(), Nx.Tensor.t() -> Nx.Tensor.t())) :: Nx.Tensor.t()
  def reduce(tensor, acc, opts \\ [], fun) when is_function(fun, 2) do
    opts = Keyword.validate!(opts, [:axes, :type, keep_axes: false])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    acc = to_tensor(acc)

    unless acc.shape == {} do
      raise ArgumentError,
            "the accumulator of reduce/4 must be a scalar, got shape #{inspect(acc.shape)}"
    end

    out_type = Nx.Type.normalize!(opts[:type] || Nx.Type.merge(type, acc.type))

    axes =
      case opts[:axes] do
        nil -> axes(shape)
        axes -> normalize_axes!(shape, axes, names) |> Enum.sort()
      end

    {new_shape, new_names} = reduced_shape(shape, names, axes, opts[:keep_axes])
    out = %T{tensor | type: out_type, shape: new_shape, names: new_names}

    if acc.vectorized_axes == [] do
      vectorized_call(tensor, out, fn out, t, n ->
        reduce_opts = [axes: Nx.Vectorize.shift(axes, n), keep_axes: opts[:keep_axes]]
        impl!(t).reduce(out, t, acc, reduce_opts, fun)
      end)
    else
      Nx.Vectorize.map_entries([tensor, acc], fn [t, a] -> reduce(t, a, opts, fun) end)
    end
  end

  ## Serialization

  @doc """
  Serializes a tensor, a number or a container of them (tuples, maps and
  structs deriving `Nx.Container`) to iodata, in Nx's format: data written
  here is read by Nx and the other way round (see `Nx.Serialize` for the
  layout). Numbers become scalar tensors.

  ## Options

    * `:compressed` - `true` or a zlib level (`0` to `9`) to compress the
      description of the value; the tensor data is stored as is.

  ## Examples

      iex> data = Nx.serialize({Nx.tensor([1, 2, 3], names: [:x]), %{bias: Nx.tensor(0.5)}})
      iex> {t, %{bias: bias}} = Nx.deserialize(data)
      iex> t
      #Nx.Tensor<
        s32[x: 3]
        [1, 2, 3]
      >
      iex> Nx.to_number(bias)
      0.5

      iex> Nx.serialize(Nx.iota({2}), compressed: 9) |> Nx.deserialize() |> Nx.to_list()
      [0, 1]
  """
  @spec serialize(Nx.Container.t() | t, keyword) :: iodata
  def serialize(tensor_or_container, opts \\ []),
    do: Nx.Serialize.serialize(tensor_or_container, opts)

  @doc """
  Deserializes what `serialize/2` (here or in Nx) wrote.

  It is safe on untrusted input: no atom is ever created (data naming an
  axis, map key or struct that this VM does not know raises), every
  tensor's size is checked against its shape and type before anything is
  allocated, and malformed data raises `ArgumentError`. `opts` may only be
  `[:safe]`, which is always in effect.

  ## Examples

      iex> Nx.tensor([[1.5, 2.5]]) |> Nx.serialize() |> Nx.deserialize()
      #Nx.Tensor<
        f32[1][2]
        [
          [1.5, 2.5]
        ]
      >

      iex> Nx.deserialize(<<"nx", 9>>)
      ** (ArgumentError) cannot deserialize Nx format v9
  """
  @spec deserialize(iodata, list) :: Nx.Container.t() | Nx.Tensor.t()
  def deserialize(data, opts \\ []), do: Nx.Serialize.deserialize(data, opts)

  @doc """
  Loads the contents of a NumPy `.npy` file (given as a binary) into a tensor.

  Format versions 1, 2 and 3, both byte orders, C and Fortran order, and
  the dtypes bool (as `:u8`), int8 to int64, uint8 to uint64, float16,
  float32, float64, complex64 and complex128 are supported. Anything
  else, or malformed data, raises `ArgumentError`. See `Nx.NumPy`.

  ## Examples

      iex> header = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }"
      iex> npy = <<0x93, "NUMPY", 1, 0, byte_size(header)::16-little, header::binary>>
      iex> Nx.load_numpy!(npy <> <<1::16-little, -1::16-little>>)
      #Nx.Tensor<
        s16[2]
        [1, -1]
      >
  """
  @spec load_numpy!(binary) :: Nx.Tensor.t()
  def load_numpy!(data), do: Nx.NumPy.load!(data)

  @doc """
  Loads a NumPy `.npz` archive (given as a binary): a zip file of `.npy`
  members, stored or deflated (`numpy.savez` and `numpy.savez_compressed`).

  Returns `{name, tensor}` pairs in archive order, names without their
  `.npy` extension. Raises `ArgumentError` on a malformed archive or member.

  ## Examples

      iex> npz = Nx.NumPy.dump_archive([{"a", Nx.tensor([1, 2])}, {"b", Nx.tensor(1.5)}])
      iex> [{"a", a}, {"b", b}] = Nx.load_numpy_archive!(npz)
      iex> {Nx.to_list(a), Nx.to_number(b)}
      {[1, 2], 1.5}
  """
  @spec load_numpy_archive!(binary) :: [{String.t(), Nx.Tensor.t()}]
  def load_numpy_archive!(archive), do: Nx.NumPy.load_archive!(archive)

  @doc """
  Returns an `Nx.Heatmap` of the tensor: inspecting it draws the values
  (of each matrix formed by the last two axes) as ANSI background colors
  from dark to light, or as digits from 0 to 9 when ANSI is off.

  ## Options

    * `:ansi_enabled` - draw with ANSI colors (defaults to `IO.ANSI.enabled?/0`)
    * `:ansi_whitespace` - the string drawn in each colored cell (defaults
      to `"\\u3000"`, a full-width space)

  ## Examples

      iex> Nx.tensor([[1, 2, 3], [4, 5, 6]]) |> Nx.to_heatmap(ansi_enabled: false) |> inspect()
      "#Nx.Heatmap<\\n  s32[2][3]\\n  \\n  024\\n  579\\n>"

      iex> Nx.to_heatmap(Nx.tensor(1))
      ** (ArgumentError) cannot show heatmap for scalar tensors, got: #Nx.Tensor<
        s32
        1
      >
  """
  @spec to_heatmap(t, keyword) :: Nx.Heatmap.t()
  def to_heatmap(tensor, opts \\ []) when is_list(opts) do
    tensor = to_tensor(tensor)

    if tensor.shape == {} do
      raise ArgumentError, "cannot show heatmap for scalar tensors, got: #{inspect(tensor)}"
    end

    if Nx.Type.complex?(tensor.type) do
      raise ArgumentError,
            "cannot show heatmap for complex tensors, got type #{inspect(tensor.type)}"
    end

    %Nx.Heatmap{tensor: tensor, opts: opts}
  end

  @doc """
  Splits the tensor along its first axis into a lazy stream of tensors of
  `batch_size` entries each.

  When the axis size is not a multiple of `batch_size`, `:leftover`
  decides: `:repeat` (the default) completes the last batch with entries
  from the start of the tensor, `:discard` drops the incomplete batch.

  ## Examples

      iex> Nx.iota({5, 2}, names: [:x, :y]) |> Nx.to_batched(2) |> Enum.map(&Nx.to_list/1)
      [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9], [0, 1]]]

      iex> Nx.iota({5}) |> Nx.to_batched(2, leftover: :discard) |> Enum.map(&Nx.to_list/1)
      [[0, 1], [2, 3]]

      iex> Nx.to_batched(Nx.tensor(1), 1)
      ** (ArgumentError) cannot batch non-vectorized scalar tensor #Nx.Tensor<
        s32
        1
      >
  """
  @spec to_batched(t, pos_integer, keyword) :: Enumerable.t()
  def to_batched(tensor, batch_size, opts \\ [])
      when is_integer(batch_size) and batch_size >= 1 do
    opts = Keyword.validate!(opts, leftover: :repeat)

    unless opts[:leftover] in [:repeat, :discard] do
      raise ArgumentError,
            ":leftover must be :repeat or :discard, got: #{inspect(opts[:leftover])}"
    end

    %T{vectorized_axes: vectorized, shape: shape, names: names} = tensor = to_tensor(tensor)

    if vectorized == [] and shape == {} do
      raise ArgumentError, "cannot batch non-vectorized scalar tensor #{inspect(tensor)}"
    end

    # Vectorized axes become leading axes; the batches are vectorized again.
    {vec_names, vec_sizes} = Enum.unzip(vectorized)
    full_shape = List.to_tuple(vec_sizes ++ Tuple.to_list(shape))
    flat = %{tensor | shape: full_shape, names: vec_names ++ names, vectorized_axes: []}

    if elem(full_shape, 0) < batch_size do
      raise ArgumentError, "cannot batch beyond original tensor"
    end

    out = %{flat | shape: put_elem(full_shape, 0, batch_size)}
    stream = impl!(flat).to_batched(out, flat, opts)

    case vectorized do
      [] ->
        stream

      [{name, _} | rest] ->
        axes = [{name, batch_size} | rest]
        count = length(axes)

        Stream.map(stream, fn %T{shape: s, names: n} = batch ->
          inner = s |> Tuple.to_list() |> Enum.drop(count) |> List.to_tuple()
          %{batch | shape: inner, names: Enum.drop(n, count), vectorized_axes: axes}
        end)
    end
  end

  @doc """
  Returns an `Nx.Pointer` to the tensor's data in memory (`mode: :local`,
  the only mode supported), as LibTorch holds it: elements in row-major
  order and native endianness, `data_size` bytes long.

  The address stays valid while the tensor is alive (referenced by some
  process) and not deallocated; once the tensor is garbage collected or
  `backend_deallocate/1` is called, it dangles. Nothing may write through
  it: tensors are immutable and may share memory. Sub-byte types (which
  LibTorch stores one per byte) and empty tensors have no pointer; CUDA
  tensors give a device address.

  ## Examples

      iex> t = Nx.tensor([1, 2, 3], type: :f32)
      iex> %Nx.Pointer{kind: :local, data_size: 12, address: address} = Nx.to_pointer(t)
      iex> is_integer(address) and address > 0
      true
  """
  @spec to_pointer(Nx.Tensor.t(), keyword) :: Nx.Pointer.t()
  def to_pointer(%T{} = tensor, opts \\ []) do
    opts = Keyword.validate!(opts, mode: :local)

    unless opts[:mode] in [:local, :ipc] do
      raise ArgumentError, ":mode must be :local or :ipc, got: #{inspect(opts[:mode])}"
    end

    reject_vectorized!(tensor, :to_pointer)

    case impl!(tensor).to_pointer(tensor, opts) do
      {:ok, pointer} -> pointer
      {:error, reason} -> raise ArgumentError, "to_pointer/2 failed: #{reason}"
    end
  end

  @doc """
  Creates a tensor of `type` and `shape` on `backend` by copying
  `pointer.data_size` bytes from the memory an `Nx.Pointer` of kind
  `:local` points to (for example one from `to_pointer/2`, or memory
  owned by a NIF). The memory must stay valid during the call only: the
  new tensor owns a copy.

  `data_size` must be exactly the tensor's size in bytes. The address is
  trusted: an address that is not readable memory of that size crashes the
  VM, as any native code would.

  ## Options

    * `:names` - the axis names

  ## Examples

      iex> t = Nx.tensor([[1, 2], [3, 4]], type: :s16)
      iex> pointer = Nx.to_pointer(t)
      iex> Nx.from_pointer(Nx.Torch.Backend, pointer, :s16, {2, 2}, names: [:x, :y])
      #Nx.Tensor<
        s16[x: 2][y: 2]
        [
          [1, 2],
          [3, 4]
        ]
      >
  """
  @spec from_pointer(
          module | {module, keyword},
          Nx.Pointer.t(),
          Nx.Type.t() | atom,
          tuple,
          keyword
        ) ::
          Nx.Tensor.t()
  def from_pointer(backend, %Nx.Pointer{} = pointer, type, shape, opts \\ [])
      when is_tuple(shape) do
    opts = Keyword.validate!(opts, [:names])
    {backend, backend_opts} = backend!(backend)
    type = Nx.Type.normalize!(type)
    shape = Nx.Shape.validate!(shape, :shape)
    names = names!(opts[:names], shape)
    out = %T{type: type, shape: shape, names: names}

    case backend.from_pointer(pointer, type, shape, backend_opts, names: names) do
      {:ok, tensor} -> %{tensor | names: out.names}
      {:error, reason} -> raise ArgumentError, "from_pointer/5 failed: #{reason}"
    end
  end

  ## Convolution and windows

  @doc """
  Convolves `tensor` with `kernel` over their spatial axes, as neural
  networks do (a cross-correlation: the kernel is neither reversed nor
  conjugated).

  By default the input is `{batch, channels, spatial...}` and the kernel
  `{filters, channels, spatial...}`, with at least one spatial axis; the
  result is `{batch, filters, spatial...}`. Its type is the merge of both
  types, converted to a float type (see `Nx.Type.to_floating/1`).

  ## Options

    * `:strides` - the step of the window along each spatial axis, an
      integer or one per axis (default `1`)
    * `:padding` - `:valid` (the default, no padding), `:same` (pad so
      that unit strides keep the spatial size) or `{low, high}` pairs of
      integers, one per spatial axis, which may be negative
    * `:input_dilation` - inserts `dilation - 1` zeros between input
      elements, an integer or one per spatial axis (default `1`)
    * `:kernel_dilation` - the same for the kernel (default `1`)
    * `:feature_group_size` - splits input channels and filters into that
      many groups, convolved independently (default `1`)
    * `:batch_group_size` - splits the batch into that many groups, each
      convolved with its own group of filters; the result has
      `batch / batch_group_size` entries (default `1`)
    * `:input_permutation` - where the input keeps its
      `[batch, channels, spatial...]` axes (names or indices)
    * `:kernel_permutation` - where the kernel keeps its
      `[filters, channels, spatial...]` axes
    * `:output_permutation` - where the result puts its
      `[batch, filters, spatial...]` axes, by the names of the input

  ## Examples

  A difference filter over one spatial axis:

      iex> Nx.conv(Nx.iota({1, 1, 5}), Nx.tensor([[[1, 0, -1]]]))
      #Nx.Tensor<
        f32[1][1][3]
        [
          [
            [-2.0, -2.0, -2.0]
          ]
        ]
      >

  A 3x3 box filter with `:same` padding and strides of 2:

      iex> kernel = Nx.broadcast(1.0, {1, 1, 3, 3})
      iex> Nx.conv(Nx.iota({1, 1, 4, 4}), kernel, strides: 2, padding: :same)
      #Nx.Tensor<
        f32[1][1][2][2]
        [
          [
            [
              [10.0, 24.0],
              [51.0, 90.0]
            ]
          ]
        ]
      >

  Channels last, one filter per channel (a depthwise convolution):

      iex> t = Nx.tensor([[[1, 10], [2, 20], [3, 30]]])
      iex> kernel = Nx.tensor([[[1, 1]], [[1, -1]]])
      iex> Nx.conv(t, kernel,
      ...>   feature_group_size: 2,
      ...>   input_permutation: [0, 2, 1],
      ...>   output_permutation: [0, 2, 1]
      ...> )
      #Nx.Tensor<
        f32[1][2][2]
        [
          [
            [3.0, -10.0],
            [5.0, -10.0]
          ]
        ]
      >

  Input dilation spreads the input out (a transposed convolution):

      iex> Nx.conv(Nx.tensor([[[1.0, 2.0, 3.0]]]), Nx.tensor([[[1.0, 1.0]]]), input_dilation: 2)
      #Nx.Tensor<
        f32[1][1][4]
        [
          [
            [1.0, 2.0, 2.0, 3.0]
          ]
        ]
      >

  With batch groups, filter group `g` sees the `g`-th slice of the batch:

      iex> t = Nx.tensor([[[1, 2, 3]], [[4, 5, 6]]])
      iex> Nx.conv(t, Nx.tensor([[[1]], [[10]]]), batch_group_size: 2)
      #Nx.Tensor<
        f32[1][2][3]
        [
          [
            [1.0, 2.0, 3.0],
            [40.0, 50.0, 60.0]
          ]
        ]
      >

  ## Error cases

      iex> Nx.conv(Nx.iota({1, 4, 5}), Nx.iota({2, 3, 3}))
      ** (ArgumentError) size of input channels divided by feature groups must match size of kernel channels, got 4 / 1 != 3 for shapes {1, 4, 5} and {2, 3, 3}

      iex> Nx.conv(Nx.iota({1, 1, 5}), Nx.iota({1, 1, 2}), input_dilation: 1.5)
      ** (ArgumentError) input dilation must be a positive integer or list of positive integers, got 1.5
  """
  @spec conv(Nx.Tensor.t(), Nx.Tensor.t(), keyword) :: Nx.Tensor.t()
  def conv(tensor, kernel, opts \\ []) when is_list(opts) do
    opts =
      Keyword.validate!(opts, [
        :input_permutation,
        :kernel_permutation,
        :output_permutation,
        padding: :valid,
        strides: 1,
        input_dilation: 1,
        kernel_dilation: 1,
        feature_group_size: 1,
        batch_group_size: 1
      ])

    %T{shape: input_shape} = tensor = to_tensor(tensor)
    %T{shape: kernel_shape} = kernel = to_tensor(kernel)
    Nx.Shape.validate_conv!(input_shape, kernel_shape)

    if Nx.Vectorize.any?([tensor, kernel]) do
      vectorized_conv(tensor, kernel, opts)
    else
      conv_impl(tensor, kernel, opts)
    end
  end

  # A vectorized input alone folds its vectorized axes into the batch axis; otherwise each
  # entry is convolved on its own.
  defp vectorized_conv(tensor, kernel, opts) do
    foldable? =
      kernel.vectorized_axes == [] and tuple_size(tensor.shape) == tuple_size(kernel.shape) and
        opts[:input_permutation] == nil and opts[:output_permutation] == nil and
        opts[:batch_group_size] == 1

    groupable? =
      tuple_size(tensor.shape) == tuple_size(kernel.shape) and
        opts[:input_permutation] == nil and opts[:output_permutation] == nil and
        opts[:kernel_permutation] == nil and opts[:batch_group_size] == 1

    cond do
      foldable? ->
        fold_vectorized_conv(tensor, kernel, opts)

      groupable? ->
        grouped_vectorized_conv(tensor, kernel, opts)

      true ->
        Nx.Vectorize.map_entries([tensor, kernel], fn [t, k] -> conv_impl(t, k, opts) end)
    end
  end

  # A vectorized kernel: the entries become feature groups of one convolution, their
  # channels side by side in the input and their output channels in the kernel.
  defp grouped_vectorized_conv(tensor, kernel, opts) do
    Nx.Vectorize.apply_all([tensor, kernel], [broadcast: true], fn [t, k], n ->
      {lead, [batch, channels | spatial]} = t.shape |> Tuple.to_list() |> Enum.split(n)
      {_, [outputs, inputs | kernel_spatial]} = k.shape |> Tuple.to_list() |> Enum.split(n)
      entries = Enum.product(lead)
      rest = Enum.to_list(2..(length(spatial) + 2)//1)

      t =
        t
        |> reshape(List.to_tuple([entries, batch, channels | spatial]))
        |> transpose(axes: [1, 0 | rest])
        |> reshape(List.to_tuple([batch, entries * channels | spatial]))

      k = reshape(k, List.to_tuple([entries * outputs, inputs | kernel_spatial]))
      groups = entries * opts[:feature_group_size]
      out = conv_impl(t, k, Keyword.put(opts, :feature_group_size, groups))
      [_, _ | out_spatial] = Tuple.to_list(out.shape)

      out
      |> reshape(List.to_tuple([batch, entries, outputs | out_spatial]))
      |> transpose(axes: [1, 0 | rest])
      |> reshape(List.to_tuple(lead ++ [batch, outputs | out_spatial]))
    end)
  end

  defp fold_vectorized_conv(tensor, kernel, opts) do
    Nx.Vectorize.apply(tensor, fn %T{shape: shape, names: names} = t, n ->
      {lead, [batch | rest]} = shape |> Tuple.to_list() |> Enum.split(n)
      inner_names = Enum.drop(names, n)
      folded = reshape(t, List.to_tuple([Enum.product(lead) * batch | rest]), names: inner_names)
      %T{shape: out_shape, names: out_names} = out = conv_impl(folded, kernel, opts)
      [_ | out_rest] = Tuple.to_list(out_shape)
      out_names = List.duplicate(nil, n) ++ [hd(inner_names) | tl(out_names)]
      reshape(out, List.to_tuple(lead ++ [batch | out_rest]), names: out_names)
    end)
  end

  defp conv_impl(tensor, kernel, opts) do
    %T{shape: input_shape, names: input_names} = tensor
    %T{shape: kernel_shape, names: kernel_names} = kernel

    if tuple_size(input_shape) != tuple_size(kernel_shape) do
      raise ArgumentError,
            "conv expects the input and the kernel to have the same rank, got shapes " <>
              "#{inspect(input_shape)} and #{inspect(kernel_shape)}"
    end

    type = tensor.type |> Nx.Type.merge(kernel.type) |> Nx.Type.to_floating()
    spatial = tuple_size(input_shape) - 2

    permutation = fn key, shape, names ->
      normalize_axes!(shape, opts[key] || axes(shape), names)
    end

    input_permutation = permutation.(:input_permutation, input_shape, input_names)
    kernel_permutation = permutation.(:kernel_permutation, kernel_shape, kernel_names)
    output_permutation = permutation.(:output_permutation, input_shape, input_names)

    strides = per_spatial_axis(opts[:strides], spatial)
    input_dilation = conv_dilation!(opts[:input_dilation], spatial, "input")
    kernel_dilation = conv_dilation!(opts[:kernel_dilation], spatial, "kernel")
    feature_groups = opts[:feature_group_size]
    batch_groups = opts[:batch_group_size]

    {shape, names, padding} =
      Nx.Shape.conv(
        input_shape,
        input_names,
        kernel_shape,
        kernel_names,
        strides,
        opts[:padding],
        feature_groups,
        batch_groups,
        input_dilation,
        kernel_dilation,
        input_permutation,
        kernel_permutation,
        output_permutation
      )

    out = %{tensor | type: type, shape: shape, names: names}

    impl!(tensor, kernel).conv(out, tensor, kernel,
      strides: strides,
      padding: padding,
      input_dilation: input_dilation,
      kernel_dilation: kernel_dilation,
      feature_group_size: feature_groups,
      batch_group_size: batch_groups,
      input_permutation: input_permutation,
      kernel_permutation: kernel_permutation,
      output_permutation: output_permutation
    )
  end

  defp per_spatial_axis(value, count) when is_integer(value), do: List.duplicate(value, count)
  defp per_spatial_axis(value, _count), do: value

  defp conv_dilation!(dilation, count, _kind) when is_integer(dilation),
    do: List.duplicate(dilation, count)

  defp conv_dilation!(dilation, _count, _kind) when is_list(dilation), do: dilation

  defp conv_dilation!(dilation, _count, kind) do
    raise ArgumentError,
          "#{kind} dilation must be a positive integer or list of positive integers, got " <>
            inspect(dilation)
  end

  @doc """
  Sums each window of size `window_dimensions` sliding over `tensor`.

  The result keeps the tensor's type (integers wrap around as in
  `sum/2` of that type) and has one element per window position.

  ## Options

    * `:strides` - the step between windows, an integer or one per axis
      (default `1`)
    * `:padding` - `:valid` (the default), `:same` (keep the size with
      unit strides) or `{low, high}` pairs, one per axis; the padding
      holds zeros
    * `:window_dilations` - spreads the window's elements `dilation`
      apart, an integer or one per axis (default `1`)

  ## Examples

      iex> t = Nx.tensor([[1, 2, 3], [4, 5, 6]])
      iex> Nx.window_sum(t, {1, 2})
      #Nx.Tensor<
        s32[2][2]
        [
          [3, 5],
          [9, 11]
        ]
      >
      iex> Nx.window_sum(t, {2, 2}, padding: :same)
      #Nx.Tensor<
        s32[2][3]
        [
          [12, 16, 9],
          [9, 11, 6]
        ]
      >

      iex> Nx.window_sum(Nx.iota({6}), {2}, window_dilations: 3)
      #Nx.Tensor<
        s32[3]
        [3, 5, 7]
      >

  ## Error cases

      iex> Nx.window_sum(Nx.iota({2, 2}), {3, 1})
      ** (ArgumentError) window dimensions would result in empty tensor which is not currently supported in Nx, please open an issue if you'd like this behavior to change
  """
  @spec window_sum(t, tuple, keyword) :: Nx.Tensor.t()
  def window_sum(tensor, window_dimensions, opts \\ []),
    do: window_op(:window_sum, tensor, window_dimensions, opts)

  @doc """
  Averages each window of size `window_dimensions` sliding over
  `tensor`: `window_sum/3` divided by the window's size (padding
  included), so the result is a float.

  Takes the options of `window_sum/3`.

  ## Examples

      iex> Nx.window_mean(Nx.tensor([1, 2, 3, 4]), {2})
      #Nx.Tensor<
        f32[3]
        [1.5, 2.5, 3.5]
      >

      iex> Nx.window_mean(Nx.tensor([1, 2, 3, 4]), {2}, padding: [{1, 1}])
      #Nx.Tensor<
        f32[5]
        [0.5, 1.5, 2.5, 3.5, 2.0]
      >
  """
  @spec window_mean(t, tuple, keyword) :: Nx.Tensor.t()
  def window_mean(tensor, window_dimensions, opts \\ []) do
    tensor
    |> window_sum(window_dimensions, opts)
    |> divide(Nx.Shape.validate!(window_dimensions, :window_dimensions) |> Tuple.product())
  end

  @doc """
  Multiplies the elements of each window of size `window_dimensions`
  sliding over `tensor`.

  Takes the options of `window_sum/3`; the padding holds ones.

  ## Examples

      iex> Nx.window_product(Nx.tensor([1, 2, 3, 4]), {2})
      #Nx.Tensor<
        s32[3]
        [2, 6, 12]
      >

      iex> Nx.window_product(Nx.tensor([1, 2, 3, 4]), {2}, strides: 2)
      #Nx.Tensor<
        s32[2]
        [2, 12]
      >

      iex> Nx.window_product(Nx.tensor([1.5, 2.0]), {2}, padding: [{1, 0}])
      #Nx.Tensor<
        f32[2]
        [1.5, 3.0]
      >
  """
  @spec window_product(t, tuple, keyword) :: Nx.Tensor.t()
  def window_product(tensor, window_dimensions, opts \\ []),
    do: window_op(:window_product, tensor, window_dimensions, opts)

  @doc """
  The largest element of each window of size `window_dimensions`
  sliding over `tensor`.

  Takes the options of `window_sum/3`; the padding holds the type's
  lowest value (`-Inf` for floats), so a window made only of padding
  gives it.

  ## Examples

      iex> Nx.window_max(Nx.tensor([[1, 5, 2], [7, 3, 4]]), {2, 2})
      #Nx.Tensor<
        s32[1][2]
        [
          [7, 5]
        ]
      >

      iex> Nx.window_max(Nx.tensor([3, 1], type: :s8), {1}, padding: [{1, 0}])
      #Nx.Tensor<
        s8[3]
        [-128, 3, 1]
      >

      iex> Nx.window_max(Nx.tensor([1.0, -2.0]), {2}, padding: [{0, 2}])
      #Nx.Tensor<
        f32[3]
        [1.0, -2.0, -Inf]
      >
  """
  @spec window_max(t, tuple, keyword) :: Nx.Tensor.t()
  def window_max(tensor, window_dimensions, opts \\ []) do
    tensor = to_tensor(tensor)
    complex_not_supported!(tensor.type, :window_max, 3)
    window_op(:window_max, tensor, window_dimensions, opts)
  end

  @doc """
  The smallest element of each window of size `window_dimensions`
  sliding over `tensor`.

  Takes the options of `window_sum/3`; the padding holds the type's
  highest value (`Inf` for floats).

  ## Examples

      iex> Nx.window_min(Nx.tensor([[1, 5, 2], [7, 3, 4]]), {2, 2})
      #Nx.Tensor<
        s32[1][2]
        [
          [1, 2]
        ]
      >

      iex> Nx.window_min(Nx.tensor([4, 2], type: :s8), {1}, padding: [{0, 1}])
      #Nx.Tensor<
        s8[3]
        [4, 2, 127]
      >
  """
  @spec window_min(t, tuple, keyword) :: Nx.Tensor.t()
  def window_min(tensor, window_dimensions, opts \\ []) do
    tensor = to_tensor(tensor)
    complex_not_supported!(tensor.type, :window_min, 3)
    window_op(:window_min, tensor, window_dimensions, opts)
  end

  @doc """
  Folds each window of size `window_dimensions` sliding over `tensor`
  with an Elixir function of two scalar tensors (the element and the
  accumulator), starting from `acc`.

  The padding holds `acc`. The result keeps the tensor's type. The
  function runs once per element of each window, so prefer
  `window_sum/3`, `window_max/3` and friends when they apply.

  Takes the options of `window_sum/3`.

  ## Examples

      iex> Nx.window_reduce(Nx.tensor([3, 1, 4, 1, 5]), 0, {2}, fn x, acc -> Nx.max(x, acc) end)
      #Nx.Tensor<
        s32[4]
        [3, 4, 4, 5]
      >

  Padding elements are folded too, holding the accumulator:

      iex> t = Nx.tensor([[1, 2], [3, 4]])
      iex> Nx.window_reduce(t, 10, {2, 2}, [padding: [{0, 1}, {0, 1}]], &Nx.add/2)
      #Nx.Tensor<
        s32[2][2]
        [
          [20, 36],
          [37, 44]
        ]
      >
  """
  @spec window_reduce(t, t, tuple, keyword, (Nx.Tensor.t(), Nx.Tensor.t() -> Nx.Tensor.t())) ::
          Nx.Tensor.t()
  def window_reduce(tensor, acc, window_dimensions, opts \\ [], fun)
      when is_tuple(window_dimensions) and is_function(fun, 2) do
    acc = to_tensor(acc)

    unless acc.shape == {} do
      raise ArgumentError,
            "the accumulator of window_reduce/5 must be a scalar, got shape #{inspect(acc.shape)}"
    end

    {out, tensor, opts} = window_out(:window_reduce, tensor, window_dimensions, opts)

    if acc.vectorized_axes == [] do
      vectorized_call(tensor, out, fn out, t, n ->
        dims = leading_window(window_dimensions, n)
        impl!(t).window_reduce(out, t, acc, dims, leading_window_opts(opts, n), fun)
      end)
    else
      Nx.Vectorize.map_entries([tensor, acc], fn [t, a] ->
        window_reduce(t, a, window_dimensions, opts, fun)
      end)
    end
  end

  defp window_op(op, tensor, window_dimensions, opts) do
    {out, tensor, opts} = window_out(op, tensor, window_dimensions, opts)

    vectorized_call(tensor, out, fn out, t, n ->
      dims = leading_window(window_dimensions, n)
      apply(impl!(t), op, [out, t, dims, leading_window_opts(opts, n)])
    end)
  end

  # Windows of size 1 (no padding, stride 1) over the leading vectorized axes.
  defp leading_window(window_dimensions, n),
    do: List.to_tuple(List.duplicate(1, n) ++ Tuple.to_list(window_dimensions))

  defp leading_window_opts(opts, n) do
    Enum.map(opts, fn
      {:padding, padding} -> {:padding, List.duplicate({0, 0}, n) ++ padding}
      {key, values} -> {key, List.duplicate(1, n) ++ values}
    end)
  end

  defp window_out(_op, tensor, window_dimensions, opts) do
    opts = Keyword.validate!(opts, [:window_dilations, padding: :valid, strides: 1])
    %T{shape: shape} = tensor = to_tensor(tensor)
    Nx.Shape.validate!(window_dimensions, :window_dimensions)
    rank = tuple_size(shape)
    strides = per_spatial_axis(opts[:strides], rank)
    dilations = per_spatial_axis(opts[:window_dilations] || 1, rank)

    {out_shape, padding} =
      Nx.Shape.pool(shape, window_dimensions, strides, opts[:padding], dilations)

    opts = [padding: padding, strides: strides, window_dilations: dilations]
    {%{tensor | shape: out_shape}, tensor, opts}
  end

  @doc """
  Adds each value of `source` to the position of the largest element of
  the matching window of `tensor` (the last one when several hold it);
  every other position holds `init_value`, and positions chosen by
  several windows receive the sum of their values. This is the gradient
  of `window_max/3`.

  `source` has one element per window, that is the shape of
  `window_max(tensor, window_dimensions, opts)`. The result has the shape
  of `tensor` and the merged type of `source` and `init_value`.

  ## Options

    * `:strides` - the step between windows (default `1`)
    * `:padding` - `:valid` (the default), `:same` or `{low, high}`
      pairs; padding positions are never chosen

  ## Examples

      iex> t = Nx.tensor([[1, 6, 2, 2], [5, 3, 2, 0]])
      iex> Nx.window_scatter_max(t, Nx.tensor([[10, 20]]), 0, {2, 2}, strides: 2)
      #Nx.Tensor<
        s32[2][4]
        [
          [0, 10, 0, 0],
          [0, 0, 20, 0]
        ]
      >

      iex> Nx.window_scatter_max(Nx.tensor([1, 3, 2]), Nx.tensor([5.0, 7.0]), 1, {2})
      #Nx.Tensor<
        f32[3]
        [1.0, 13.0, 1.0]
      >
  """
  @spec window_scatter_max(t, t, t, tuple, keyword) :: Nx.Tensor.t()
  def window_scatter_max(tensor, source, init_value, window_dimensions, opts \\ []),
    do: window_scatter(:window_scatter_max, tensor, source, init_value, window_dimensions, opts)

  @doc """
  Adds each value of `source` to the position of the smallest element of
  the matching window of `tensor` (the last one when several hold it);
  every other position holds `init_value`. This is the gradient of
  `window_min/3`.

  Takes the options of `window_scatter_max/5`.

  ## Examples

      iex> t = Nx.tensor([[1, 6, 2, 2], [5, 3, 2, 0]])
      iex> Nx.window_scatter_min(t, Nx.tensor([[10, 20]]), 0, {2, 2}, strides: 2)
      #Nx.Tensor<
        s32[2][4]
        [
          [10, 0, 0, 0],
          [0, 0, 0, 20]
        ]
      >

  ## Error cases

      iex> Nx.window_scatter_min(Nx.iota({4}), Nx.iota({2}), 0, {2})
      ** (ArgumentError) source shape must match valid windows in input tensor
  """
  @spec window_scatter_min(t, t, t, tuple, keyword) :: Nx.Tensor.t()
  def window_scatter_min(tensor, source, init_value, window_dimensions, opts \\ []),
    do: window_scatter(:window_scatter_min, tensor, source, init_value, window_dimensions, opts)

  defp window_scatter(op, tensor, source, init_value, window_dimensions, opts) do
    opts = Keyword.validate!(opts, padding: :valid, strides: 1)
    %T{shape: shape} = tensor = to_tensor(tensor)
    %T{shape: source_shape} = source = to_tensor(source)
    init_value = to_tensor(init_value)
    Nx.Shape.validate!(window_dimensions, :window_dimensions)

    unless init_value.shape == {} do
      raise ArgumentError,
            "the initial value of #{op} must be a scalar, got shape #{inspect(init_value.shape)}"
    end

    rank = tuple_size(shape)
    strides = per_spatial_axis(opts[:strides], rank)
    dilations = List.duplicate(1, rank)

    {windows_shape, padding} =
      Nx.Shape.pool(shape, window_dimensions, strides, opts[:padding], dilations)

    unless windows_shape == source_shape do
      raise ArgumentError, "source shape must match valid windows in input tensor"
    end

    type =
      source.type
      |> Nx.Type.merge(init_value.type)
      |> complex_not_supported!(op, 5)

    complex_not_supported!(tensor.type, op, 5)

    cond do
      init_value.vectorized_axes != [] ->
        Nx.Vectorize.map_entries([tensor, source, init_value], fn [t, s, i] ->
          window_scatter(op, t, s, i, window_dimensions, padding: padding, strides: strides)
        end)

      Nx.Vectorize.any?([tensor, source]) ->
        Nx.Vectorize.apply_all([tensor, source], [broadcast: true], fn [t, s], n ->
          dims = leading_window(window_dimensions, n)
          opts = leading_window_opts([padding: padding, strides: strides], n)
          window_scatter(op, t, s, init_value, dims, opts)
        end)

      true ->
        window_scatter_impl(
          op,
          %{tensor | type: type},
          tensor,
          source,
          init_value,
          window_dimensions,
          padding,
          strides
        )
    end
  end

  defp window_scatter_impl(
         op,
         out,
         tensor,
         source,
         init_value,
         window_dimensions,
         padding,
         strides
       ) do
    apply(impl!(tensor, source), op, [
      out,
      tensor,
      source,
      init_value,
      window_dimensions,
      [padding: padding, strides: strides]
    ])
  end

  ## FFT

  @doc """
  The discrete Fourier transform along one axis: for each position `k`,
  `sum(x[j] * exp(-2πi * j * k / n))` over the `n` elements `x[j]` of the
  axis. The result is complex (c64, or c128 for f64 and c128 inputs).

  ## Options

    * `:axis` - the axis to transform (default: the last one)
    * `:length` - the number of points `n`: a positive integer or
      `:power_of_two` (the next power of two of the axis size). The axis is
      padded with zeros or truncated to it. Defaults to the axis size.
    * `:eps` - components whose magnitude is below it become zero
      (default `1.0e-10`)

  ## Examples

      iex> Nx.fft(Nx.tensor([1, 0, 0, 0]))
      #Nx.Tensor<
        c64[4]
        [1.0+0.0i, 1.0+0.0i, 1.0+0.0i, 1.0+0.0i]
      >

      iex> Nx.fft(Nx.tensor([1, 2, 3, 4]))
      #Nx.Tensor<
        c64[4]
        [10.0+0.0i, -2.0+2.0i, -2.0+0.0i, -2.0-2.0i]
      >

      iex> Nx.fft(Nx.tensor([1.0, 1.0], type: :f64), length: 4)
      #Nx.Tensor<
        c128[4]
        [2.0+0.0i, 1.0-1.0i, 0.0+0.0i, 1.0+1.0i]
      >

      iex> Nx.fft(Nx.tensor([[1, 2], [3, 4]]), axis: 0)
      #Nx.Tensor<
        c64[2][2]
        [
          [4.0+0.0i, 6.0+0.0i],
          [-2.0+0.0i, -2.0+0.0i]
        ]
      >

      iex> Nx.fft(Nx.tensor([1, 1, 1]), length: :power_of_two)
      #Nx.Tensor<
        c64[4]
        [3.0+0.0i, 0.0-1.0i, 1.0+0.0i, 0.0+1.0i]
      >

  ## Error cases

      iex> Nx.fft(Nx.tensor([1, 1]), length: 0)
      ** (RuntimeError) expected an integer or :power_of_two as length, got: 0
  """
  @spec fft(t, keyword) :: Nx.Tensor.t()
  def fft(tensor, opts \\ []), do: fft_1d(:fft, tensor, opts)

  @doc """
  The inverse discrete Fourier transform along one axis:
  `sum(x[j] * exp(2πi * j * k / n)) / n`. Takes the same options as
  `fft/2`.

  ## Examples

      iex> Nx.ifft(Nx.tensor([4, 0, 0, 0]))
      #Nx.Tensor<
        c64[4]
        [1.0+0.0i, 1.0+0.0i, 1.0+0.0i, 1.0+0.0i]
      >

      iex> Nx.ifft(Nx.fft(Nx.tensor([1.0, 2.0, 3.0])))
      #Nx.Tensor<
        c64[3]
        [1.0+0.0i, 2.0+0.0i, 3.0+0.0i]
      >

      iex> Nx.ifft(Nx.tensor([2, 2, 2, 2, 2]), length: 2)
      #Nx.Tensor<
        c64[2]
        [2.0+0.0i, 0.0+0.0i]
      >
  """
  @spec ifft(t, keyword) :: Nx.Tensor.t()
  def ifft(tensor, opts \\ []), do: fft_1d(:ifft, tensor, opts)

  defp fft_1d(kind, tensor, opts) do
    opts = Keyword.validate!(opts, [:length, axis: -1, eps: 1.0e-10])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    shape = Nx.Shape.fft(shape)
    axis = Nx.Shape.normalize_axis(shape, opts[:axis], names)
    size = elem(shape, axis)

    length =
      case opts[:length] do
        nil -> size
        :power_of_two -> next_power_of_two(size)
        n when is_integer(n) and n > 0 -> n
        other -> raise "expected an integer or :power_of_two as length, got: #{inspect(other)}"
      end

    out = %{tensor | shape: put_elem(shape, axis, length), type: Nx.Type.to_complex(type)}

    vectorized_call(tensor, out, fn out, t, n ->
      apply(impl!(t), kind, [out, t, [length: length, axis: axis + n, eps: opts[:eps]]])
    end)
  end

  defp next_power_of_two(n), do: next_power_of_two(n, 1)
  defp next_power_of_two(n, p) when p >= n, do: p
  defp next_power_of_two(n, p), do: next_power_of_two(n, p * 2)

  @doc """
  The two-dimensional discrete Fourier transform over two axes.

  ## Options

    * `:axes` - the two axes to transform (default: the last two)
    * `:lengths` - the number of points along each of them, as a list of
      two positive integers or `:power_of_two` (default: the axis sizes);
      the axes are padded with zeros or truncated
    * `:eps` - components whose magnitude is below it become zero
      (default `1.0e-10`)

  ## Examples

      iex> Nx.fft2(Nx.tensor([[1, 2], [3, 4]]))
      #Nx.Tensor<
        c64[2][2]
        [
          [10.0+0.0i, -2.0+0.0i],
          [-4.0+0.0i, 0.0+0.0i]
        ]
      >

      iex> Nx.fft2(Nx.tensor([[1, 0], [0, 0]]), lengths: [2, 3])
      #Nx.Tensor<
        c64[2][3]
        [
          [1.0+0.0i, 1.0+0.0i, 1.0+0.0i],
          [1.0+0.0i, 1.0+0.0i, 1.0+0.0i]
        ]
      >

      iex> Nx.fft2(Nx.tensor([[[1, 2]], [[3, 4]]]), axes: [0, 2])
      #Nx.Tensor<
        c64[2][1][2]
        [
          [
            [10.0+0.0i, -2.0+0.0i]
          ],
          [
            [-4.0+0.0i, 0.0+0.0i]
          ]
        ]
      >

  ## Error cases

      iex> Nx.fft2(Nx.tensor([1, 2]))
      ** (ArgumentError) expected a tensor with rank > 1, got tensor with rank 1

      iex> Nx.fft2(Nx.tensor([[1, 2]]), lengths: [:invalid, 2])
      ** (ArgumentError) expected :lengths to be a list of lengths or :power_of_two, got: [:invalid, 2]
  """
  @spec fft2(t, keyword) :: Nx.Tensor.t()
  def fft2(tensor, opts \\ []), do: fft_2d(:fft2, tensor, opts)

  @doc """
  The inverse two-dimensional discrete Fourier transform over two axes.
  Takes the same options as `fft2/2`.

  ## Examples

      iex> Nx.ifft2(Nx.tensor([[10, -2], [-4, 0]]))
      #Nx.Tensor<
        c64[2][2]
        [
          [1.0+0.0i, 2.0+0.0i],
          [3.0+0.0i, 4.0+0.0i]
        ]
      >

      iex> Nx.ifft2(Nx.tensor([[4, 4], [4, 4]]), lengths: [1, 1])
      #Nx.Tensor<
        c64[1][1]
        [
          [4.0+0.0i]
        ]
      >
  """
  @spec ifft2(t, keyword) :: Nx.Tensor.t()
  def ifft2(tensor, opts \\ []), do: fft_2d(:ifft2, tensor, opts)

  defp fft_2d(kind, tensor, opts) do
    opts = Keyword.validate!(opts, [:lengths, axes: [-2, -1], eps: 1.0e-10])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    shape = Nx.Shape.fft2(shape)

    [ax1, ax2] =
      case opts[:axes] do
        [_, _] = axes ->
          Nx.Shape.normalize_axes(shape, axes, names)

        axes ->
          raise ArgumentError, "expected :axes to be a list with 2 axes, got: #{inspect(axes)}"
      end

    lengths =
      case opts[:lengths] do
        nil ->
          [elem(shape, ax1), elem(shape, ax2)]

        [l1, l2] = lengths
        when (l1 == :power_of_two or (is_integer(l1) and l1 > 0)) and
               (l2 == :power_of_two or (is_integer(l2) and l2 > 0)) ->
          Enum.zip_with(lengths, [ax1, ax2], fn
            :power_of_two, axis -> next_power_of_two(elem(shape, axis))
            length, _axis -> length
          end)

        other ->
          raise ArgumentError,
                "expected :lengths to be a list of lengths or :power_of_two, got: #{inspect(other)}"
      end

    [l1, l2] = lengths
    out_shape = shape |> put_elem(ax1, l1) |> put_elem(ax2, l2)
    out = %{tensor | shape: out_shape, type: Nx.Type.to_complex(type)}
    one_d = if kind == :fft2, do: &fft/2, else: &ifft/2

    vectorized_call(tensor, out, fn out, t, n ->
      fft_2d_block(kind, out, t, lengths, [ax1 + n, ax2 + n], opts[:eps], one_d)
    end)
  end

  defp fft_2d_block(kind, out, tensor, [l1, l2] = lengths, [ax1, ax2], eps, one_d) do
    Nx.Block.run(kind, out, [tensor, [lengths: lengths, axes: [ax1, ax2], eps: eps]], fn
      t, o ->
        t
        |> one_d.(axis: ax2, length: l2, eps: o[:eps])
        |> one_d.(axis: ax1, length: l1, eps: o[:eps])
    end)
  end

  @doc """
  The discrete Fourier transform of a real signal along one axis: the
  `div(n, 2) + 1` non-negative frequencies of `fft/2` (the others are
  their complex conjugates).

  ## Options

    * `:axis` - the axis to transform (default: the last one)
    * `:length` - the number of points `n` (a positive integer or
      `:power_of_two`); the axis is padded with zeros or truncated to it.
      Defaults to the axis size.
    * `:eps` - components whose magnitude is below it become zero
      (default `1.0e-10`)

  ## Examples

      iex> Nx.rfft(Nx.tensor([1, 2, 3, 4]))
      #Nx.Tensor<
        c64[3]
        [10.0+0.0i, -2.0+2.0i, -2.0+0.0i]
      >

      iex> Nx.rfft(Nx.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), axis: 1)
      #Nx.Tensor<
        c64[2][2]
        [
          [1.0+0.0i, 1.0+0.0i],
          [3.0+0.0i, 0.0+0.0i]
        ]
      >

      iex> Nx.rfft(Nx.tensor([1, 1]), length: 4)
      #Nx.Tensor<
        c64[3]
        [2.0+0.0i, 1.0-1.0i, 0.0+0.0i]
      >

  ## Error cases

      iex> Nx.rfft(Nx.tensor([Complex.new(1, 1)]))
      ** (ArgumentError) Nx.rfft/2 expects a real tensor, got type: {:c, 64}

      iex> Nx.rfft(Nx.tensor([1, 2]), length: :invalid)
      ** (ArgumentError) expected an integer or :power_of_two as length, got: :invalid
  """
  @spec rfft(t, keyword) :: Nx.Tensor.t()
  def rfft(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:length, axis: -1, eps: 1.0e-10])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)

    if Nx.Type.complex?(type) do
      raise ArgumentError, "Nx.rfft/2 expects a real tensor, got type: #{inspect(type)}"
    end

    shape = Nx.Shape.fft(shape)
    axis = Nx.Shape.normalize_axis(shape, opts[:axis], names)

    length =
      case opts[:length] do
        nil ->
          elem(shape, axis)

        :power_of_two ->
          next_power_of_two(elem(shape, axis))

        n when is_integer(n) and n > 0 ->
          n

        other ->
          raise ArgumentError,
                "expected an integer or :power_of_two as length, got: #{inspect(other)}"
      end

    out = %{
      tensor
      | shape: put_elem(shape, axis, div(length, 2) + 1),
        type: Nx.Type.to_complex(type)
    }

    vectorized_call(tensor, out, fn out, tensor, n ->
      rfft_opts = [length: length, axis: axis + n, eps: opts[:eps]]
      Nx.Block.run(:rfft, out, [tensor, rfft_opts], &rfft_default/2)
    end)
  end

  defp rfft_default(t, o) do
    t
    |> fft(length: o[:length], axis: o[:axis], eps: o[:eps])
    |> slice_along_axis(0, div(o[:length], 2) + 1, axis: o[:axis])
  end

  @doc """
  The real signal of `n` points whose discrete Fourier transform starts
  with the given non-negative frequencies: the inverse of `rfft/2`.
  Frequencies beyond `div(n, 2) + 1` are ignored and missing ones are
  zero; the imaginary parts of the zero frequency (and, for even `n`, of
  the last one) do not contribute.

  ## Options

    * `:axis` - the axis to transform (default: the last one)
    * `:length` - the number of points `n` of the result, a positive
      integer. Defaults to `2 * (m - 1)` for an axis of size `m`, which
      fits even-length signals; give it to recover odd-length ones.
    * `:eps` - values whose magnitude is below it become zero (default
      `1.0e-10`)

  ## Examples

      iex> Nx.irfft(Nx.tensor([10, Complex.new(-2, 2), -2]))
      #Nx.Tensor<
        f32[4]
        [1.0, 2.0, 3.0, 4.0]
      >

      iex> Nx.irfft(Nx.rfft(Nx.tensor([1.0, 2.0, 3.0], type: :f64)), length: 3)
      #Nx.Tensor<
        f64[3]
        [1.0, 2.0, 3.0]
      >

  ## Error cases

      iex> Nx.irfft(Nx.tensor([1.0, 1.0]), length: :invalid)
      ** (ArgumentError) expected a positive integer as length, got: :invalid
  """
  @spec irfft(t, keyword) :: Nx.Tensor.t()
  def irfft(tensor, opts \\ []) do
    opts = Keyword.validate!(opts, [:length, axis: -1, eps: 1.0e-10])
    %T{shape: shape, names: names, type: type} = tensor = to_tensor(tensor)
    shape = Nx.Shape.fft(shape)
    axis = Nx.Shape.normalize_axis(shape, opts[:axis], names)

    length =
      case opts[:length] do
        nil ->
          2 * (elem(shape, axis) - 1)

        n when is_integer(n) and n > 0 ->
          n

        other ->
          raise ArgumentError, "expected a positive integer as length, got: #{inspect(other)}"
      end

    if length < 1 do
      raise ArgumentError,
            "irfft needs an axis of size 2 or more or an explicit :length, got shape #{inspect(shape)}"
    end

    out = %{tensor | shape: put_elem(shape, axis, length), type: Nx.Type.to_real(type)}

    vectorized_call(tensor, out, fn out, tensor, n ->
      irfft_opts = [length: length, axis: axis + n, eps: opts[:eps]]

      Nx.Block.run(:irfft, out, [tensor, irfft_opts], fn t, o ->
        irfft_default(t, o[:length], o[:axis], o[:eps])
      end)
    end)
  end

  # Rebuilds the full Hermitian spectrum (the half given, padded or truncated to n/2 + 1
  # entries, then the conjugates of entries 1..n - n/2 - 1 in reverse) and takes its ifft.
  defp irfft_default(%T{shape: shape} = t, n, axis, eps) do
    half = div(n, 2) + 1
    size = elem(shape, axis)

    t =
      cond do
        size > half ->
          slice_along_axis(t, 0, half, axis: axis)

        size < half ->
          config =
            List.duplicate({0, 0, 0}, tuple_size(shape))
            |> List.replace_at(axis, {0, half - size, 0})

          pad(t, 0, config)

        true ->
          t
      end

    spectrum =
      case n - half do
        0 ->
          t

        mirrored ->
          mirror =
            t |> slice_along_axis(1, mirrored, axis: axis) |> conjugate() |> reverse(axes: [axis])

          concatenate([t, mirror], axis: axis)
      end

    spectrum |> ifft(axis: axis, eps: eps) |> real()
  end

  ## Vectorization

  @doc """
  Vectorizes the leading axes of a tensor: they leave the shape and become
  named vectorized axes, and every operation then works on each entry of
  them separately, as if it ran in a loop over the entries.

  `name_or_axes` is one atom (the first axis of the shape is vectorized
  under that name) or a list whose elements are atoms or `{name, size}`
  pairs (the size is checked against the axis). Vectorizing an already
  vectorized tensor appends to its vectorized axes. Tuples, maps and other
  containers of tensors are vectorized tensor by tensor.

  ## Examples

      iex> v = Nx.vectorize(Nx.tensor([[1, 2], [3, 4], [5, 6]]), :rows)
      #Nx.Tensor<
        vectorized[rows: 3]
        s32[2]
        [
          [1, 2],
          [3, 4],
          [5, 6]
        ]
      >
      iex> Nx.sum(v)
      #Nx.Tensor<
        vectorized[rows: 3]
        s32
        [3, 7, 11]
      >

      iex> Nx.iota({2, 3, 1}) |> Nx.vectorize(a: 2, b: 3) |> Nx.multiply(10)
      #Nx.Tensor<
        vectorized[a: 2][b: 3]
        s32[1]
        [
          [
            [0],
            [10],
            [20]
          ],
          [
            [30],
            [40],
            [50]
          ]
        ]
      >

  Vectorized axes of different tensors match by name; the other names add
  new vectorized axes to the result:

      iex> x = Nx.vectorize(Nx.tensor([1, 2]), :x)
      iex> y = Nx.vectorize(Nx.tensor([10, 20, 30]), :y)
      iex> Nx.add(x, y)
      #Nx.Tensor<
        vectorized[x: 2][y: 3]
        s32
        [
          [11, 21, 31],
          [12, 22, 32]
        ]
      >

  ## Error cases

      iex> Nx.vectorize(Nx.tensor(7), :x)
      ** (ArgumentError) cannot vectorize tensor of rank 0

      iex> Nx.vectorize(Nx.tensor([1, 2]), [:x, :y])
      ** (ArgumentError) number of vectorized axes must not be greater than the shape size

      iex> Nx.vectorize(Nx.tensor([1, 2]), x: 3)
      ** (ArgumentError) expected vectorized axis :x to have size 3, got 2

      iex> Nx.vectorize(Nx.iota({2, 2}, names: [nil, :x]), :x)
      ** (ArgumentError) cannot use name :x for new vectorized axes because there's already an axis with the same name
  """
  @spec vectorize(t | Nx.Container.t(), atom | [atom | {atom, pos_integer}]) ::
          Nx.Tensor.t() | Nx.Container.t()
  def vectorize(tensor, name_or_axes)

  def vectorize(%T{} = tensor, []), do: tensor

  def vectorize(%T{shape: {}}, _name_or_axes) do
    raise ArgumentError, "cannot vectorize tensor of rank 0"
  end

  def vectorize(%T{} = tensor, name) when is_atom(name), do: vectorize(tensor, [name])

  def vectorize(%T{shape: shape, names: names, vectorized_axes: current} = tensor, specs)
      when is_list(specs) do
    count = length(specs)

    if count > tuple_size(shape) do
      raise ArgumentError, "number of vectorized axes must not be greater than the shape size"
    end

    {sizes, inner} = shape |> Tuple.to_list() |> Enum.split(count)

    new_axes =
      Enum.zip_with(specs, sizes, fn
        name, size when is_atom(name) ->
          {name, size}

        {name, size}, size when is_atom(name) ->
          {name, size}

        {name, expected}, size when is_atom(name) and is_integer(expected) ->
          raise ArgumentError,
                "expected vectorized axis #{inspect(name)} to have size #{expected}, got #{size}"

        spec, _size ->
          raise ArgumentError,
                "expected vectorized axis specification to be an atom or a tuple of " <>
                  "{atom, pos_integer}, got: #{inspect(spec)}"
      end)

    inner_names = Enum.drop(names, count)

    for {name, _} <- new_axes do
      cond do
        name in inner_names ->
          raise ArgumentError,
                "cannot use name #{inspect(name)} for new vectorized axes because there's " <>
                  "already an axis with the same name"

        List.keymember?(current, name, 0) ->
          raise ArgumentError,
                "cannot use name #{inspect(name)} for new vectorized axes because there's " <>
                  "already a vectorized axis with the same name"

        true ->
          :ok
      end
    end

    %{
      tensor
      | shape: List.to_tuple(inner),
        names: inner_names,
        vectorized_axes: current ++ new_axes
    }
  end

  def vectorize(number, name_or_axes)
      when is_number(number) or is_struct(number, Complex) or
             number in [:nan, :infinity, :neg_infinity],
      do: vectorize(to_tensor(number), name_or_axes)

  def vectorize(container, name_or_axes),
    do: Nx.Defn.Composite.traverse(container, &vectorize(&1, name_or_axes))

  @doc """
  Turns the vectorized axes of a tensor back into ordinary leading axes.

  Non-vectorized tensors are returned as they are, numbers become
  tensors and containers are devectorized tensor by tensor.

  ## Options

    * `:keep_names` - name the new leading axes after the vectorized axes
      (default `true`); with `false` they have no names

  ## Examples

      iex> v = Nx.iota({2, 3}) |> Nx.vectorize(:rows)
      iex> Nx.devectorize(v)
      #Nx.Tensor<
        s32[rows: 2][3]
        [
          [0, 1, 2],
          [3, 4, 5]
        ]
      >
      iex> Nx.devectorize(v, keep_names: false) |> Nx.names()
      [nil, nil]
  """
  @spec devectorize(t | Nx.Container.t(), keyword) :: Nx.Tensor.t() | Nx.Container.t()
  def devectorize(tensor_or_container, opts \\ [])

  def devectorize(%T{vectorized_axes: []} = tensor, opts) do
    Keyword.validate!(opts, keep_names: true)
    tensor
  end

  def devectorize(%T{names: names, vectorized_axes: axes} = tensor, opts) do
    opts = Keyword.validate!(opts, keep_names: true)
    devectorized = Nx.Vectorize.devectorize(tensor)

    if opts[:keep_names],
      do: %{devectorized | names: Keyword.keys(axes) ++ names},
      else: devectorized
  end

  def devectorize(number, opts)
      when is_number(number) or is_struct(number, Complex) or
             number in [:nan, :infinity, :neg_infinity],
      do: devectorize(to_tensor(number), opts)

  def devectorize(container, opts),
    do: Nx.Defn.Composite.traverse(container, &devectorize(&1, opts))

  @doc """
  Rearranges the vectorized axes of a tensor: the tensor is devectorized,
  reshaped to the sizes of `target_axes` followed by the inner shape, and
  vectorized again under the names of `target_axes`.

  `target_axes` is a keyword list of names and sizes; one size (in
  `target_axes` and `:target_shape` together) may be `:auto`. Containers
  are revectorized tensor by tensor.

  ## Options

    * `:target_shape` - the new inner shape (the current one by default);
      with it, elements may move between vectorized and inner axes
    * `:target_names` - names for the axes of `:target_shape`

  ## Examples

      iex> t = Nx.iota({2, 3, 2}) |> Nx.vectorize(a: 2, b: 3)
      iex> Nx.revectorize(t, ab: :auto)
      #Nx.Tensor<
        vectorized[ab: 6]
        s32[2]
        [
          [0, 1],
          [2, 3],
          [4, 5],
          [6, 7],
          [8, 9],
          [10, 11]
        ]
      >
      iex> Nx.revectorize(t, [a: 2], target_shape: {6}, target_names: [:flat])
      #Nx.Tensor<
        vectorized[a: 2]
        s32[flat: 6]
        [
          [0, 1, 2, 3, 4, 5],
          [6, 7, 8, 9, 10, 11]
        ]
      >

  ## Error cases

      iex> t = Nx.iota({2, 3}) |> Nx.vectorize(:a)
      iex> Nx.revectorize(t, [a: :auto], target_shape: {:auto})
      ** (ArgumentError) cannot have more than one `:auto` occurrence between target_axes and the :target_shape option
  """
  @spec revectorize(t | Nx.Container.t(), keyword, keyword) :: Nx.Tensor.t() | Nx.Container.t()
  def revectorize(tensor, target_axes, opts \\ [])

  def revectorize(%T{} = tensor, target_axes, opts) when is_list(target_axes) do
    opts = Keyword.validate!(opts, [:target_shape, :target_names])
    {axes_names, axes_sizes} = Enum.unzip(target_axes)

    {target_shape, target_names} =
      case opts[:target_shape] do
        nil ->
          {tensor.shape, tensor.names}

        shape when is_tuple(shape) ->
          {shape, opts[:target_names] || List.duplicate(nil, tuple_size(shape))}
      end

    dims = axes_sizes ++ Tuple.to_list(target_shape)

    if Enum.count(dims, &(&1 == :auto)) > 1 do
      raise ArgumentError,
            "cannot have more than one `:auto` occurrence between target_axes and " <>
              "the :target_shape option"
    end

    tensor
    |> devectorize(keep_names: false)
    |> reshape(List.to_tuple(dims), names: Enum.map(axes_names, fn _ -> nil end) ++ target_names)
    |> Nx.Vectorize.revectorize(axes_names)
  end

  def revectorize(number, target_axes, opts)
      when is_number(number) or is_struct(number, Complex),
      do: revectorize(to_tensor(number), target_axes, opts)

  def revectorize(container, target_axes, opts),
    do: Nx.Defn.Composite.traverse(container, &revectorize(&1, target_axes, opts))

  @doc """
  Gives a list of tensors (or numbers) the same vectorized axes, without
  copying data: each result has every vectorized axis of the inputs, in
  order of first appearance, with size 1 where its input lacked it.
  Axes of the same name must have the same size or size 1.

  Inputs are returned as tensors, unchanged, when none is vectorized.

  ## Options

    * `:align_ranks` - also give every inner shape the largest inner rank
      among the inputs, by adding leading axes of size 1 (default `false`)

  ## Examples

      iex> x = Nx.vectorize(Nx.tensor([1, 2, 3]), :x)
      iex> y = Nx.vectorize(Nx.tensor([[4, 5]]), :y)
      iex> [x, y] = Nx.reshape_vectors([x, y])
      iex> {x.vectorized_axes, y.vectorized_axes}
      {[x: 3, y: 1], [x: 1, y: 1]}
      iex> [_, y] = Nx.reshape_vectors([5, y], align_ranks: true)
      iex> y.shape
      {2}

  ## Error cases

      iex> x = Nx.vectorize(Nx.tensor([1, 2, 3]), :x)
      iex> Nx.reshape_vectors([x, Nx.vectorize(Nx.tensor([1, 2]), :x)])
      ** (ArgumentError) expected vectorized axis :x to have the same size in both tensors or to one of them to have size 1, got 2 and 3
  """
  @spec reshape_vectors([t], keyword) :: [Nx.Tensor.t()]
  def reshape_vectors(tensors, opts \\ []) when is_list(tensors) do
    opts = Keyword.validate!(opts, align_ranks: false)
    align_vectors(tensors, broadcast: false, align_ranks: opts[:align_ranks])
  end

  @doc """
  Like `reshape_vectors/2`, but broadcasts the vectorized axes so that
  every result has all of them at their full sizes. Inner shapes are
  kept (or rank-aligned with `:align_ranks`).

  ## Options

    * `:align_ranks` - also give every inner shape the largest inner rank
      among the inputs, by adding leading axes of size 1 (default `false`)

  ## Examples

      iex> x = Nx.vectorize(Nx.tensor([1, 2]), :x)
      iex> y = Nx.vectorize(Nx.tensor([[10, 20, 30]]), :y)
      iex> [bx, by] = Nx.broadcast_vectors([x, y])
      iex> bx
      #Nx.Tensor<
        vectorized[x: 2][y: 1]
        s32
        [
          [1],
          [2]
        ]
      >
      iex> by
      #Nx.Tensor<
        vectorized[x: 2][y: 1]
        s32[3]
        [
          [
            [10, 20, 30]
          ],
          [
            [10, 20, 30]
          ]
        ]
      >
  """
  @spec broadcast_vectors([t], keyword) :: [Nx.Tensor.t()]
  def broadcast_vectors(tensors, opts \\ []) when is_list(tensors) do
    opts = Keyword.validate!(opts, align_ranks: false)
    align_vectors(tensors, broadcast: true, align_ranks: opts[:align_ranks])
  end

  # Calls `fun` with the output template, the tensor and the number of vectorized axes:
  # for vectorized tensors, both are devectorized (the template gains the leading axes of
  # the tensor) and the result is vectorized again.
  defp vectorized_call(%T{vectorized_axes: []} = tensor, out, fun), do: fun.(out, tensor, 0)

  defp vectorized_call(tensor, out, fun) do
    Nx.Vectorize.apply(tensor, fn t, n -> fun.(leading_out(out, t, n), t, n) end)
  end

  defp leading_out(out, t, n) when is_tuple(out) do
    out |> Tuple.to_list() |> Enum.map(&leading_out(&1, t, n)) |> List.to_tuple()
  end

  defp leading_out(%T{shape: shape, names: names} = out, %T{shape: full}, n) do
    lead = full |> Tuple.to_list() |> Enum.take(n)

    %{
      out
      | shape: List.to_tuple(lead ++ Tuple.to_list(shape)),
        names: List.duplicate(nil, n) ++ names,
        vectorized_axes: []
    }
  end

  defp reshape_impl(tensor, shape, names) do
    vectorized_call(tensor, %{tensor | shape: shape, names: names}, fn out, t, _ ->
      impl!(t).reshape(out, t)
    end)
  end

  defp align_vectors(tensors, opts) do
    case Nx.Vectorize.align(tensors, opts) do
      {tensors, []} ->
        tensors

      {devectorized, canonical} ->
        names = Keyword.keys(canonical)
        Enum.map(devectorized, &Nx.Vectorize.revectorize(&1, names))
    end
  end

  ## Introspection

  @doc """
  Returns the type of a tensor (or of a number).

  ## Examples

      iex> Nx.type(Nx.tensor([1.0, 2.0], type: :bf16))
      {:bf, 16}

      iex> Nx.type(1)
      {:s, 32}
  """
  @spec type(t) :: Nx.Type.t()
  def type(%T{type: type}), do: type
  def type(number), do: Nx.Type.infer(number)

  @doc """
  Returns the shape of a tensor as a tuple (`{}` for numbers).

  ## Examples

      iex> Nx.shape(Nx.iota({2, 3}))
      {2, 3}

      iex> Nx.shape(10)
      {}
  """
  @spec shape(t | tuple) :: Nx.Tensor.shape()
  def shape(%T{shape: shape}), do: shape
  def shape(shape) when is_tuple(shape), do: shape
  def shape(number) when is_number(number), do: {}
  def shape(%Complex{}), do: {}

  def shape(other) do
    raise ArgumentError, "expected a tensor, a number or a shape, got: #{inspect(other)}"
  end

  @doc """
  Returns the number of axes.

  ## Examples

      iex> Nx.rank(Nx.iota({2, 3, 4}))
      3

      iex> Nx.rank(1)
      0
  """
  @spec rank(t | tuple) :: non_neg_integer
  def rank(tensor_or_shape), do: tuple_size(shape(tensor_or_shape))

  @doc """
  Returns the number of elements.

  ## Examples

      iex> Nx.size(Nx.iota({2, 3}))
      6

      iex> Nx.size({4, 0})
      0
  """
  @spec size(t | tuple) :: non_neg_integer
  def size(shape) when is_tuple(shape), do: tuple_product(shape, tuple_size(shape), 1)
  def size(tensor), do: size(shape(tensor))

  defp tuple_product(_shape, 0, acc), do: acc
  defp tuple_product(shape, i, acc), do: tuple_product(shape, i - 1, acc * elem(shape, i - 1))

  @doc """
  Returns the number of elements including vectorized axes.

  ## Examples

      iex> Nx.flat_size(Nx.iota({2, 3}))
      6
  """
  @spec flat_size(t) :: non_neg_integer
  def flat_size(%T{vectorized_axes: axes} = tensor) do
    Enum.reduce(axes, size(tensor), fn {_, n}, acc -> acc * n end)
  end

  def flat_size(number), do: size(number)

  @doc """
  Returns the size in bytes of the tensor's data (sub-byte types rounded
  up to whole bytes).

  ## Examples

      iex> Nx.byte_size(Nx.iota({2, 3}, type: :f64))
      48

      iex> Nx.byte_size(Nx.iota({3}, type: :u4))
      2
  """
  @spec byte_size(t) :: non_neg_integer
  def byte_size(tensor) do
    %T{type: {_, bits}} = tensor = to_tensor(tensor)
    div(flat_size(tensor) * bits + 7, 8)
  end

  @doc """
  Returns the list of axis indexes.

  ## Examples

      iex> Nx.axes(Nx.iota({2, 3}))
      [0, 1]
  """
  @spec axes(t | tuple) :: [non_neg_integer]
  def axes(tensor_or_shape), do: Enum.to_list(0..(rank(tensor_or_shape) - 1)//1)

  @doc """
  Returns the list of axis names (`nil` for unnamed axes).

  ## Examples

      iex> Nx.names(Nx.iota({2, 3}, names: [:x, nil]))
      [:x, nil]
  """
  @spec names(t) :: [atom | nil]
  def names(%T{names: names}), do: names
  def names(number) when is_number(number), do: []

  @doc """
  Returns the size of one axis, given by index (negative counts from the
  end) or name.

  ## Examples

      iex> Nx.axis_size(Nx.iota({2, 3}, names: [:x, :y]), :y)
      3

      iex> Nx.axis_size(Nx.iota({2, 3}), -1)
      3

  ## Error cases

      iex> Nx.axis_size(Nx.iota({2, 3}), 2)
      ** (ArgumentError) given axis (2) invalid for shape with rank 2
  """
  @spec axis_size(t, axis) :: non_neg_integer
  def axis_size(tensor, axis) do
    %T{shape: shape, names: names} = to_tensor(tensor)
    elem(shape, normalize_axis!(shape, axis, names))
  end

  @doc """
  Returns the index of an axis, given by index or name.

  ## Examples

      iex> Nx.axis_index(Nx.iota({2, 3}, names: [:x, :y]), :y)
      1

      iex> Nx.axis_index(Nx.iota({2, 3}), -2)
      0

  ## Error cases

      iex> Nx.axis_index(Nx.iota({2, 3}, names: [:x, :y]), :z)
      ** (ArgumentError) name :z not found in tensor with names [:x, :y]
  """
  @spec axis_index(t, axis) :: non_neg_integer
  def axis_index(tensor, axis) do
    %T{shape: shape, names: names} = to_tensor(tensor)
    normalize_axis!(shape, axis, names)
  end

  defp normalize_axis!(shape, axis, names), do: Nx.Shape.normalize_axis(shape, axis, names)

  defp normalize_axes!(shape, axes, names), do: Nx.Shape.normalize_axes(shape, axes, names)

  defp shape!(%T{shape: shape}), do: shape
  defp shape!(shape), do: Nx.Shape.validate!(shape, :shape)

  ## Backends

  @doc """
  Returns the default backend of the current process, as
  `{module, options}`.

  It is, in order: the one set with `default_backend/1` in this process,
  `config :nx, default_backend: ...`, or `{Nx.Torch.Backend, device: :cpu}`.

  ## Examples

      iex> {Nx.Torch.Backend, _opts} = Nx.default_backend()
  """
  @spec default_backend() :: {module, keyword}
  def default_backend do
    Process.get({Nx, :default_backend}) ||
      case Application.fetch_env(:nx, :default_backend) do
        {:ok, backend} -> backend!(backend)
        :error -> @default_backend
      end
  end

  @doc """
  Sets the default backend of the current process and returns the previous
  one.

  ## Examples

      iex> previous = Nx.default_backend({Nx.Torch.Backend, device: :cpu})
      iex> Nx.default_backend()
      {Nx.Torch.Backend, [device: :cpu]}
      iex> Nx.default_backend(previous)
      {Nx.Torch.Backend, [device: :cpu]}
  """
  @spec default_backend(module | {module, keyword}) :: {module, keyword}
  def default_backend(backend) do
    previous = default_backend()
    Process.put({Nx, :default_backend}, backend!(backend))
    previous
  end

  @doc """
  Sets the default backend of all processes (the application environment)
  and returns the previous global default. Processes that set their own with
  `default_backend/1` keep it.

  ## Examples

      iex> previous = Nx.global_default_backend(Nx.Torch.Backend)
      iex> Nx.global_default_backend(previous)
      {Nx.Torch.Backend, [device: :cpu]}
  """
  @spec global_default_backend(module | {module, keyword}) :: {module, keyword}
  def global_default_backend(backend) do
    previous =
      case Application.fetch_env(:nx, :default_backend) do
        {:ok, backend} -> backend!(backend)
        :error -> @default_backend
      end

    Application.put_env(:nx, :default_backend, backend!(backend))
    previous
  end

  @doc """
  Runs `fun` with `backend` as the process's default backend, restoring the
  previous one afterwards.

  ## Examples

      iex> Nx.with_default_backend({Nx.Torch.Backend, device: :cpu}, fn ->
      ...>   Nx.tensor([1, 2]) |> Nx.to_list()
      ...> end)
      [1, 2]
  """
  @spec with_default_backend(module | {module, keyword}, (() -> result)) :: result
        when result: var
  def with_default_backend(backend, fun) when is_function(fun, 0) do
    previous = default_backend(backend)

    try do
      fun.()
    after
      default_backend(previous)
    end
  end

  defp backend!(backend) when is_atom(backend), do: backend!({backend, []})

  defp backend!({backend, opts}) when is_atom(backend) and is_list(opts) do
    Code.ensure_loaded(backend)

    unless function_exported?(backend, :init, 1) do
      raise ArgumentError, "#{inspect(backend)} is not a backend (it does not define init/1)"
    end

    {backend, backend.init(opts)}
  end

  defp backend!(other) do
    raise ArgumentError,
          "backend must be an atom or a tuple {backend, options}, got: #{inspect(other)}"
  end

  defp backend_from_options!(opts) do
    case Keyword.fetch(opts, :backend) do
      {:ok, backend} -> backend!(backend)
      :error -> nil
    end
  end

  @doc """
  Copies the tensor to another backend (by default the default backend).
  The original stays usable.

  ## Examples

      iex> t = Nx.tensor([1, 2])
      iex> copy = Nx.backend_copy(t, {Nx.Torch.Backend, device: :cpu})
      iex> Nx.to_list(copy)
      [1, 2]
      iex> Nx.to_list(t)
      [1, 2]
  """
  @spec backend_copy(t, module | {module, keyword}) :: Nx.Tensor.t()
  def backend_copy(tensor, backend \\ default_backend()) do
    tensor = to_tensor(tensor)
    {backend, opts} = backend!(backend)
    Nx.Vectorize.apply(tensor, fn t, _ -> impl!(t).backend_copy(t, backend, opts) end)
  end

  @doc """
  Moves the tensor to another backend (by default the default backend),
  releasing the original's memory when it is not shared with the result.

  ## Examples

      iex> t = Nx.tensor([1, 2])
      iex> Nx.backend_transfer(t, Nx.Torch.Backend) |> Nx.to_list()
      [1, 2]
  """
  @spec backend_transfer(t, module | {module, keyword}) :: Nx.Tensor.t()
  def backend_transfer(tensor, backend \\ default_backend()) do
    tensor = to_tensor(tensor)
    {backend, opts} = backend!(backend)
    Nx.Vectorize.apply(tensor, fn t, _ -> impl!(t).backend_transfer(t, backend, opts) end)
  end

  @doc """
  Releases the tensor's memory now. Later use of the tensor raises.

  Returns `:ok`, or `:already_deallocated` when called again.

  ## Examples

      iex> t = Nx.tensor([1, 2, 3])
      iex> Nx.backend_deallocate(t)
      :ok
      iex> Nx.backend_deallocate(t)
      :already_deallocated
  """
  @spec backend_deallocate(Nx.Tensor.t() | number) :: :ok | :already_deallocated
  def backend_deallocate(%T{} = tensor), do: impl!(tensor).backend_deallocate(tensor)
  def backend_deallocate(number) when is_number(number), do: :ok

  ## Helpers shared by the API

  @doc false
  def to_tensor(%T{} = tensor), do: tensor

  def to_tensor(number)
      when is_number(number) or is_struct(number, Complex) or
             number in [:nan, :infinity, :neg_infinity] do
    {backend, opts} = default_backend()
    type = Nx.Type.infer(number)
    backend.constant(%T{type: type, shape: {}, names: []}, number, opts)
  end

  def to_tensor(other) do
    raise ArgumentError, "expected a %Nx.Tensor{} or a number, got: #{inspect(other)}"
  end

  defp impl!(%T{data: %backend{}}), do: backend

  # The backend of an operation on two tensors: Nx.Defn.Expr wins (tracing), then any backend
  # other than the template one; different real backends must be transferred explicitly.
  defp impl!(%T{data: %b1{}}, %T{data: %b2{}}) do
    cond do
      b1 == b2 ->
        b1

      b1 == Nx.Defn.Expr or b2 == Nx.Defn.Expr ->
        Nx.Defn.Expr

      b1 == Nx.TemplateBackend ->
        b2

      b2 == Nx.TemplateBackend ->
        b1

      true ->
        raise ArgumentError,
              "cannot operate on tensors of different backends #{inspect(b1)} and #{inspect(b2)}; " <>
                "use Nx.backend_transfer/2 first"
    end
  end

  defp reject_vectorized!(%T{vectorized_axes: []}, _fun), do: :ok

  defp reject_vectorized!(_tensor, fun) do
    raise ArgumentError, "#{fun} does not support vectorized tensors, devectorize first"
  end
end
