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

  ## Backends

  The `Nx` module validates arguments and computes the type, shape and
  names of each result; a backend (see `Nx.Backend`) computes the values.
  The default backend is `Nx.Torch.Backend` on the CPU; choose another with
  `config :nx, default_backend: {Nx.Torch.Backend, device: :cuda}`,
  `default_backend/1`, or the `:backend` option of creation functions.
  """

  alias Nx.Tensor, as: T

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
    %T{data: %backend{}} = tensor = to_tensor(tensor)
    limit = if limit = opts[:limit], do: min(size(tensor), limit), else: size(tensor)
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
    %T{shape: shape} = tensor = to_tensor(tensor)
    reject_vectorized!(tensor, :to_list)
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

    if shape != {} or tensor.vectorized_axes != [] do
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
  """
  @spec iota(shape, keyword) :: Nx.Tensor.t()
  def iota(tensor_or_shape, opts \\ []) do
    opts = Keyword.validate!(opts, [:type, :axis, :names, :backend])
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
  end

  @doc """
  Creates an identity matrix of size `n`, or identity matrices over the
  last two axes of a given shape (the leading axes are batch axes).

  ## Options

    * `:type` - the element type, defaults to `{:s, 32}`
    * `:names` - a list of axis names
    * `:backend` - the backend to create the tensor on

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
    opts = Keyword.validate!(opts, [:type, :names, :backend])
    shape = shape!(shape)

    if tuple_size(shape) < 2 do
      raise ArgumentError,
            "eye/2 expects a shape with at least 2 dimensions, got: #{inspect(shape)}"
    end

    type = Nx.Type.normalize!(opts[:type] || {:s, 32})
    {backend, backend_opts} = backend_from_options!(opts) || default_backend()
    backend.eye(%T{type: type, shape: shape, names: names!(opts[:names], shape)}, backend_opts)
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
      impl!(tensor).as_type(%{tensor | type: type}, tensor)
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

    if old_type == type, do: tensor, else: impl!(tensor).bitcast(%{tensor | type: type}, tensor)
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
      impl!(tensor).reshape(%{tensor | shape: new_shape, names: names}, tensor)
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
      impl!(tensor).squeeze(%{tensor | shape: new_shape, names: new_names}, tensor, axes)
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
    impl!(tensor).reshape(%{tensor | shape: new_shape, names: new_names}, tensor)
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
      impl!(tensor).transpose(%{tensor | shape: new_shape, names: new_names}, tensor, axes)
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
      impl!(tensor).broadcast(%{tensor | shape: shape, names: names}, tensor, shape, axes)
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
      impl!(tensor).reshape(%{tensor | shape: new_shape, names: new_names}, tensor)
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
    apply(impl!(tensor), op, [out, tensor, [axes: axes, keep_axes: keep_axes]])
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
    apply(impl!(tensor), op, [out, tensor, backend_opts])
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
    out = %T{type: Nx.Type.merge(type1, type2), shape: shape, names: names}
    impl!(t1, t2).dot(out, t1, c1, b1, t2, c2, b2)
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
    impl!(tensor).sort(tensor, tensor, opts)
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

    impl!(tensor).argsort(%{tensor | type: type}, tensor, opts)
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
    impl!(tensor).top_k({values, indices}, tensor, opts)
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
      impl!(tensor).unquote(name)(out, tensor, axis: axis, reverse: opts[:reverse])
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
    impl!(tensor).backend_copy(tensor, backend, opts)
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
    impl!(tensor).backend_transfer(tensor, backend, opts)
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
