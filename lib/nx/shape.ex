defmodule Nx.Shape do
  @moduledoc """
  Shape and axis-name inference for tensor operations.

  Every function here works on plain data: shapes are tuples of
  dimension sizes (`{2, 3}`), names are lists with one atom or `nil`
  per axis (`[:batch, nil]`) and axes are integers (possibly negative)
  or names. Given the shapes and names of the inputs of an operation,
  these functions validate them and compute the shape and names of
  the output, raising `ArgumentError` with the same messages as Nx
  when the inputs do not fit together. They never touch tensor data.

  ## Axis names

  When two shapes are combined axis by axis (broadcasting, slicing,
  stacking, ...) their names are merged: `nil` matches any name, equal
  names stay, and two different names raise:

      iex> Nx.Shape.binary_broadcast({2, 1}, [:rows, nil], {2, 3}, [nil, :cols])
      {{2, 3}, [:rows, :cols]}
      iex> Nx.Shape.binary_broadcast({2}, [:x], {2}, [:y])
      ** (ArgumentError) cannot merge name :x on axis 0 with name :y on axis 0

  ## Vectorized offsets

  Some functions take an `offset`: the number of leading (vectorized)
  axes of the shape that are not visible to the user. Positive user
  axes are shifted past them.
  """

  @type shape :: tuple
  @type names :: [atom | nil]
  @type axis :: integer | atom
  @type padding_config :: [{integer, integer}]

  ## Validation and printing

  @doc """
  Checks that `shape` is a tuple of positive integers and returns it.

  `kind` names the argument in error messages.

  ## Examples

      iex> Nx.Shape.validate!({3, 1, 2}, :window_dimensions)
      {3, 1, 2}
      iex> Nx.Shape.validate!({}, :shape)
      {}

      iex> Nx.Shape.validate!({2, -1}, :shape)
      ** (ArgumentError) invalid dimension in axis 1 found in shape. Each dimension must be a positive integer, got -1 in shape {2, -1}

      iex> Nx.Shape.validate!([2, 3], :shape)
      ** (ArgumentError) invalid shape. shape is a n-element tuple with the size of each dimension. Got: [2, 3]

  """
  @spec validate!(shape, atom) :: shape
  def validate!(shape, kind) when is_tuple(shape) do
    # Checked from the last axis, like Nx, so the reported axis matches.
    for axis <- (tuple_size(shape) - 1)..0//-1 do
      validate_dim!(shape, axis, elem(shape, axis), kind)
    end

    shape
  end

  def validate!(other, kind) do
    raise ArgumentError,
          "invalid #{kind}. #{kind} is a n-element tuple with the size of each dimension. " <>
            "Got: #{inspect(other)}"
  end

  defp validate_dim!(_shape, _axis, dim, _kind) when is_integer(dim) and dim > 0, do: :ok

  defp validate_dim!(shape, axis, dim, kind) when is_struct(dim, Nx.Tensor) do
    raise ArgumentError, """
    invalid dimension in axis #{axis} found in #{kind}. Each dimension must be a \
    positive integer, but instead got a tensor as dimension: #{inspect(dim)}

    Shapes must be known when the code is compiled, so they cannot come from \
    tensors. Inside defn, pass dimensions as options instead of arguments.

    Invalid shape: #{inspect(shape)}
    """
  end

  defp validate_dim!(shape, axis, dim, kind) do
    raise ArgumentError,
          "invalid dimension in axis #{axis} found in #{kind}. Each dimension must be " <>
            "a positive integer, got #{inspect(dim)} in shape #{inspect(shape)}"
  end

  @doc """
  Returns an `Inspect.Algebra` document for `shape` and `names`, with
  each axis between `open` and `close` and prefixed by its name if any.

  ## Examples

      iex> doc = Nx.Shape.to_algebra({2, 3}, [:x, nil], "<", ">")
      iex> doc |> Inspect.Algebra.format(80) |> IO.iodata_to_binary()
      "<x: 2><3>"

  """
  @spec to_algebra(shape, names, String.t(), String.t()) :: Inspect.Algebra.t()
  def to_algebra(shape, names, open, close) do
    shape
    |> Tuple.to_list()
    |> Enum.zip_with(names, fn
      dim, nil -> Inspect.Algebra.concat([open, Integer.to_string(dim), close])
      dim, name -> Inspect.Algebra.concat([open, "#{name}: #{dim}", close])
    end)
    |> Inspect.Algebra.concat()
  end

  @doc """
  Returns `shape` and `names` as printed in tensor headers.

  ## Examples

      iex> Nx.Shape.to_string({2, 3, 4}, [:batch, nil, :features])
      "[batch: 2][3][features: 4]"
      iex> Nx.Shape.to_string({}, [])
      ""

  """
  @spec to_string(shape, names) :: String.t()
  def to_string(shape, names) do
    shape
    |> to_algebra(names, "[", "]")
    |> Inspect.Algebra.format(:infinity)
    |> IO.iodata_to_binary()
  end

  @doc """
  Returns the names for a tensor of `shape`: `names` itself after
  checking it has one entry per axis, or all `nil` when `names` is `nil`.

  ## Examples

      iex> Nx.Shape.named_axes!(nil, {2, 3})
      [nil, nil]
      iex> Nx.Shape.named_axes!([:x, nil], {2, 3})
      [:x, nil]

      iex> Nx.Shape.named_axes!([:x], {2, 3})
      ** (ArgumentError) invalid names for tensor of rank 2, when specifying names every dimension must have a name or be nil

  """
  @spec named_axes!(names | nil, shape) :: names
  def named_axes!(nil, shape), do: List.duplicate(nil, tuple_size(shape))

  def named_axes!(names, shape) do
    if length(names) != tuple_size(shape) do
      raise ArgumentError,
            "invalid names for tensor of rank #{tuple_size(shape)}, when specifying names " <>
              "every dimension must have a name or be nil"
    end

    names
  end

  @doc """
  Returns the index of the axis called `name`.

  ## Examples

      iex> Nx.Shape.find_name!([:batch, :x, :y], :y)
      2

      iex> Nx.Shape.find_name!([:batch, nil], :x)
      ** (ArgumentError) tensor does not have name :x. The tensor names are: [:batch, nil]

  """
  @spec find_name!(names, atom) :: non_neg_integer
  def find_name!(names, name) do
    Enum.find_index(names, &(&1 == name)) ||
      raise ArgumentError,
            "tensor does not have name #{inspect(name)}. The tensor names are: #{inspect(names)}"
  end

  ## Reshaping and broadcasting

  @doc """
  Returns `new_shape` after checking it has as many elements as `old_shape`.

  One dimension of `new_shape` may be `:auto`: it is replaced by
  whatever size makes the element counts match.

  ## Examples

      iex> Nx.Shape.reshape({2, 6}, {3, 4})
      {3, 4}
      iex> Nx.Shape.reshape({2, 6}, {:auto, 3})
      {4, 3}
      iex> Nx.Shape.reshape({5}, {})
      ** (ArgumentError) cannot reshape, current shape {5} is not compatible with new shape {}

      iex> Nx.Shape.reshape({2, 3}, {4, :auto})
      ** (ArgumentError) cannot reshape, current shape {2, 3} is not compatible with new shape {4, 1}

      iex> Nx.Shape.reshape({2, 3}, {7, :auto})
      ** (ArgumentError) cannot reshape, current shape {2, 3} is not compatible with new shape {7}

  """
  @spec reshape(shape, tuple) :: shape
  def reshape(old_shape, new_shape) do
    size = Tuple.product(old_shape)

    new_shape =
      case Enum.find_index(Tuple.to_list(new_shape), &(&1 == :auto)) do
        nil ->
          new_shape

        index ->
          known = Tuple.delete_at(new_shape, index)
          known_size = Tuple.product(known)
          inferred = if known_size == 0, do: 0, else: div(size, known_size)
          if inferred == 0, do: raise_reshape(old_shape, known)
          put_elem(new_shape, index, inferred)
      end

    if Tuple.product(new_shape) != size, do: raise_reshape(old_shape, new_shape)
    new_shape
  end

  defp raise_reshape(old_shape, new_shape) do
    raise ArgumentError,
          "cannot reshape, current shape #{inspect(old_shape)} is not compatible with " <>
            "new shape #{inspect(new_shape)}"
  end

  @doc """
  Checks that `old_shape` can be broadcast to `new_shape`, where
  `axes` maps each axis of `old_shape`, in increasing order, to an
  axis of `new_shape`. Each mapped dimension must be 1 or equal to
  the target dimension. Returns `:ok`.

  `offset` leading (vectorized) axes are left out of error messages.

  ## Examples

      iex> Nx.Shape.broadcast!({3}, {2, 3}, [1])
      :ok
      iex> Nx.Shape.broadcast!({1, 4}, {2, 3, 4}, [0, 2])
      :ok
      iex> Nx.Shape.broadcast!({}, {5}, [])
      :ok

      iex> Nx.Shape.broadcast!({3}, {2, 3}, [0])
      ** (ArgumentError) cannot broadcast tensor of dimensions {3} to {2, 3} with axes [0]

      iex> Nx.Shape.broadcast!({1, 1}, {2, 2}, [1, 0])
      ** (ArgumentError) broadcast axes must be ordered, got 0 after 1

      iex> Nx.Shape.broadcast!({3}, {3, 3}, [0, 1])
      ** (ArgumentError) expected length of axes (2) to match rank of shape (1)

  """
  @spec broadcast!(shape, shape, [non_neg_integer], non_neg_integer) :: :ok
  def broadcast!(old_shape, new_shape, axes, offset \\ 0)
      when is_tuple(old_shape) and is_tuple(new_shape) and is_list(axes) do
    old_rank = tuple_size(old_shape)

    if length(axes) != old_rank do
      raise ArgumentError,
            "expected length of axes (#{length(axes)}) to match rank of shape (#{old_rank})"
    end

    if old_rank > tuple_size(new_shape) or
         not broadcastable?(Enum.with_index(axes), -1, old_shape, new_shape) do
      {old_shape, new_shape, axes} =
        if offset > 0 do
          drop = &(&1 |> Tuple.to_list() |> Enum.drop(offset) |> List.to_tuple())

          {drop.(old_shape), drop.(new_shape),
           axes |> Enum.drop(offset) |> Enum.map(&(&1 - offset))}
        else
          {old_shape, new_shape, axes}
        end

      raise ArgumentError,
            "cannot broadcast tensor of dimensions #{inspect(old_shape)} " <>
              "to #{inspect(new_shape)} with axes #{inspect(axes)}"
    end

    :ok
  end

  defp broadcastable?([], _previous, _old_shape, _new_shape), do: true

  defp broadcastable?([{target, axis} | rest], previous, old_shape, new_shape) do
    if target < previous do
      raise ArgumentError, "broadcast axes must be ordered, got #{target} after #{previous}"
    end

    dim = elem(old_shape, axis)

    target < tuple_size(new_shape) and (dim == 1 or dim == elem(new_shape, target)) and
      broadcastable?(rest, target, old_shape, new_shape)
  end

  @doc """
  Broadcasts two shapes against each other and returns the common
  shape and the merged names.

  Shapes are aligned on their last axis; a missing leading axis counts
  as a dimension of 1. Aligned dimensions must be equal or one of them
  must be 1, in which case the other wins.

  ## Examples

      iex> Nx.Shape.binary_broadcast({3}, [nil], {2, 3}, [:rows, :cols])
      {{2, 3}, [:rows, :cols]}
      iex> Nx.Shape.binary_broadcast({4, 1, 6}, [:a, nil, nil], {5, 1}, [nil, :c])
      {{4, 5, 6}, [:a, nil, :c]}
      iex> Nx.Shape.binary_broadcast({}, [], {}, [])
      {{}, []}

      iex> Nx.Shape.binary_broadcast({2, 3}, [nil, nil], {3, 3}, [nil, nil])
      ** (ArgumentError) cannot broadcast tensor of dimensions {2, 3} to {3, 3}

  """
  @spec binary_broadcast(shape, names, shape, names) :: {shape, names}
  def binary_broadcast(shape, names, shape, names), do: {shape, names}

  def binary_broadcast(left_shape, left_names, right_shape, right_names)
      when is_tuple(left_shape) and is_tuple(right_shape) do
    rank = max(tuple_size(left_shape), tuple_size(right_shape))
    left = right_aligned(left_shape, left_names, rank)
    right = right_aligned(right_shape, right_names, rank)

    # Walk from the last axis so errors are raised in the same order as Nx.
    {dims, names} =
      Enum.zip([left, right, 0..(rank - 1)//1])
      |> Enum.reverse()
      |> Enum.reduce({[], []}, fn {{ldim, lname}, {rdim, rname}, axis}, {dims, names} ->
        unless ldim == rdim or ldim == 1 or rdim == 1 do
          raise ArgumentError,
                "cannot broadcast tensor of dimensions #{inspect(left_shape)} " <>
                  "to #{inspect(right_shape)}"
        end

        {[max(ldim, rdim) | dims], [merge_name!(lname, rname, axis, axis) | names]}
      end)

    {List.to_tuple(dims), names}
  end

  defp right_aligned(shape, names, rank) do
    padding = List.duplicate({1, nil}, rank - tuple_size(shape))
    padding ++ Enum.zip(Tuple.to_list(shape), names)
  end

  @doc """
  Returns the axes of a shape of rank `tuple_size(new_shape)` that the
  axes of `shape` map to when broadcasting by rank (aligned on the last
  axis). Dimensions are not checked.

  ## Examples

      iex> Nx.Shape.broadcast_axes({4, 5}, {2, 3, 4, 5})
      [2, 3]
      iex> Nx.Shape.broadcast_axes({}, {2, 3})
      []

      iex> Nx.Shape.broadcast_axes({2, 3}, {3})
      ** (ArgumentError) cannot broadcast tensor of dimensions {2, 3} to {3}

  """
  @spec broadcast_axes(shape, shape) :: [non_neg_integer]
  def broadcast_axes(shape, new_shape) when tuple_size(shape) > tuple_size(new_shape) do
    raise ArgumentError,
          "cannot broadcast tensor of dimensions #{inspect(shape)} to #{inspect(new_shape)}"
  end

  def broadcast_axes(shape, new_shape) do
    first = tuple_size(new_shape) - tuple_size(shape)
    Enum.to_list(first..(tuple_size(new_shape) - 1)//1)
  end

  ## Axes

  @doc """
  Turns `axis` into a non-negative axis index of `shape`.

  Negative axes count from the end and atoms are looked up in
  `names`. Non-negative integer axes are shifted by `offset`.

  ## Examples

      iex> Nx.Shape.normalize_axis({2, 3, 4}, -1, [nil, nil, nil])
      2
      iex> Nx.Shape.normalize_axis({2, 3, 4}, :y, [:x, :y, :z])
      1
      iex> Nx.Shape.normalize_axis({5, 2, 3}, 1, [nil, nil, nil], 1)
      2

      iex> Nx.Shape.normalize_axis({2, 3}, 2, [nil, nil])
      ** (ArgumentError) given axis (2) invalid for shape with rank 2

      iex> Nx.Shape.normalize_axis({2, 3}, -3, [nil, nil])
      ** (ArgumentError) given axis (-3) invalid for shape with rank 2

      iex> Nx.Shape.normalize_axis({2, 3}, :w, [:x, :y])
      ** (ArgumentError) name :w not found in tensor with names [:x, :y]

      iex> Nx.Shape.normalize_axis({2, 3}, nil, [nil, :y])
      ** (ArgumentError) axis name cannot be nil

  """
  @spec normalize_axis(shape, axis, names, non_neg_integer) :: non_neg_integer
  def normalize_axis(shape, axis, names, offset \\ 0)

  def normalize_axis(shape, axis, _names, _offset)
      when is_integer(axis) and axis < 0 and -axis <= tuple_size(shape),
      do: tuple_size(shape) + axis

  def normalize_axis(shape, axis, _names, offset)
      when is_integer(axis) and axis >= 0 and axis < tuple_size(shape),
      do: axis + offset

  def normalize_axis(_shape, nil, _names, _offset),
    do: raise(ArgumentError, "axis name cannot be nil")

  def normalize_axis(_shape, axis, names, _offset) when is_atom(axis) do
    Enum.find_index(names, &(&1 == axis)) ||
      raise ArgumentError,
            "name #{inspect(axis)} not found in tensor with names #{inspect(names)}"
  end

  def normalize_axis(shape, axis, _names, _offset) do
    raise ArgumentError,
          "given axis (#{inspect(axis)}) invalid for shape with rank #{tuple_size(shape)}"
  end

  @doc """
  Normalizes each of `axes` with `normalize_axis/4` and checks that
  they are unique.

  ## Examples

      iex> Nx.Shape.normalize_axes({2, 3, 4}, [:z, 0], [:x, :y, :z])
      [2, 0]

      iex> Nx.Shape.normalize_axes({2, 3, 4}, [-1, 2], [nil, nil, nil])
      ** (ArgumentError) axes [-1, 2] must be unique integers between 0 and 2

  """
  @spec normalize_axes(shape, [axis], names, non_neg_integer) :: [non_neg_integer]
  def normalize_axes(shape, axes, names, offset \\ 0) when is_list(axes) do
    normalized = Enum.map(axes, &normalize_axis(shape, &1, names, offset))

    if length(Enum.uniq(normalized)) != length(normalized) do
      raise ArgumentError,
            "axes #{inspect(axes)} must be unique integers between 0 and " <>
              "#{tuple_size(shape) - 1 - offset}"
    end

    normalized
  end

  @doc """
  Returns the permutation that reverses the axes of `shape` (the
  default transposition), shifted by `offset`.

  ## Examples

      iex> Nx.Shape.transpose_axes({2, 3, 4})
      [2, 1, 0]
      iex> Nx.Shape.transpose_axes({})
      []

  """
  @spec transpose_axes(shape, non_neg_integer) :: [non_neg_integer]
  def transpose_axes(shape, offset \\ 0) do
    rank = tuple_size(shape)
    Enum.to_list((rank + offset - 1)..offset//-1)
  end

  @doc """
  Returns the axes of `shape` whose size is 1, ignoring the first
  `offset` axes (and counting from there).

  ## Examples

      iex> Nx.Shape.squeeze_axes({1, 3, 1})
      [0, 2]
      iex> Nx.Shape.squeeze_axes({1, 3, 1}, 1)
      [1]

  """
  @spec squeeze_axes(shape, non_neg_integer) :: [non_neg_integer]
  def squeeze_axes(shape, offset \\ 0) do
    shape
    |> Tuple.to_list()
    |> Enum.drop(offset)
    |> Enum.with_index()
    |> Enum.flat_map(fn {dim, axis} -> if dim == 1, do: [axis], else: [] end)
  end

  @doc """
  Removes the (normalized) `axes`, which must all have size 1, from
  `shape` and `names`.

  ## Examples

      iex> Nx.Shape.squeeze({1, 3, 1}, [0, 2], [:a, :b, :c])
      {{3}, [:b]}

      iex> Nx.Shape.squeeze({1, 3}, [1], [nil, nil])
      ** (ArgumentError) cannot squeeze dimensions whose sizes are not 1, got 3 for dimension 1

  """
  @spec squeeze(shape, [non_neg_integer], names) :: {shape, names}
  def squeeze(shape, axes, names) do
    shape
    |> Tuple.to_list()
    |> Enum.zip(names)
    |> Enum.with_index()
    |> Enum.reject(fn {{dim, _name}, axis} -> squeezed?(dim, axis, axes) end)
    |> unzip_axes()
  end

  defp squeezed?(dim, axis, axes) do
    cond do
      axis not in axes ->
        false

      dim == 1 ->
        true

      true ->
        raise ArgumentError,
              "cannot squeeze dimensions whose sizes are not 1, got #{dim} for dimension #{axis}"
    end
  end

  @doc """
  Reorders the axes of `shape` and `names` following `permutation`,
  a list with the old axis to put at each position.

  ## Examples

      iex> Nx.Shape.transpose({2, 3, 4}, [2, 0, 1], [:x, :y, :z])
      {{4, 2, 3}, [:z, :x, :y]}

      iex> Nx.Shape.transpose({2, 3}, [0], [nil, nil])
      ** (ArgumentError) expected length of permutation (1) to match rank of shape (2)

  """
  @spec transpose(shape, [non_neg_integer], names) :: {shape, names}
  def transpose(shape, permutation, names) when tuple_size(shape) == length(permutation) do
    names = List.to_tuple(names)

    permutation
    |> Enum.map(&{elem(shape, &1), elem(names, &1)})
    |> unzip_dims()
  end

  def transpose(shape, permutation, _names) do
    raise ArgumentError,
          "expected length of permutation (#{length(permutation)}) to match rank of shape " <>
            "(#{tuple_size(shape)})"
  end

  @doc """
  Reduces the (normalized) `axes` of `shape`: they are removed, or
  kept with size 1 when `keep_axes` is true. Names follow their axes.

  ## Examples

      iex> Nx.Shape.contract({2, 3, 4}, [0, 2], [:x, :y, :z], false)
      {{3}, [:y]}
      iex> Nx.Shape.contract({2, 3, 4}, [1], [:x, :y, :z], true)
      {{2, 1, 4}, [:x, :y, :z]}
      iex> Nx.Shape.contract({2, 3}, [], [nil, nil], false)
      {{2, 3}, [nil, nil]}

  """
  @spec contract(shape, [non_neg_integer], names, boolean) :: {shape, names}
  def contract(shape, axes, names, keep_axes) do
    shape
    |> Tuple.to_list()
    |> Enum.zip(names)
    |> Enum.with_index()
    |> Enum.flat_map(fn {{dim, name}, axis} ->
      cond do
        axis not in axes -> [{dim, name}]
        keep_axes -> [{1, name}]
        true -> []
      end
    end)
    |> unzip_dims()
  end

  @doc """
  Returns the shape and names of `Nx.flatten/2`: the (consecutive)
  `axes` are merged into one unnamed axis. `nil` flattens every axis
  and `[]` none.

  ## Examples

      iex> Nx.Shape.flatten({2, 3, 4}, [:x, :y, :z], nil)
      {{24}, [nil]}
      iex> Nx.Shape.flatten({2, 3, 4}, [:x, :y, :z], [1, 2])
      {{2, 12}, [:x, nil]}
      iex> Nx.Shape.flatten({2, 3, 4}, [:x, :y, :z], [:x, :y])
      {{6, 4}, [nil, :z]}

      iex> Nx.Shape.flatten({2, 3, 4}, [nil, nil, nil], [0, 2])
      ** (ArgumentError) flatten axes must be consecutive

  """
  @spec flatten(shape, names, [axis] | nil) :: {shape, names}
  def flatten(shape, _names, nil), do: {{Tuple.product(shape)}, [nil]}
  def flatten(shape, names, []), do: {shape, names}

  def flatten(shape, names, axes) do
    [first | _] = axes = normalize_axes(shape, axes, names)

    unless axes == Enum.to_list(first..(first + length(axes) - 1)) do
      raise ArgumentError, "flatten axes must be consecutive"
    end

    {kept, kept_names} = contract(shape, axes, names, false)
    size = axes |> Enum.map(&elem(shape, &1)) |> Enum.product()
    {Tuple.insert_at(kept, first, size), List.insert_at(kept_names, first, nil)}
  end

  @doc """
  Merges two lists of names axis by axis, raising on conflicting names.

  ## Examples

      iex> Nx.Shape.merge_names!([:x, nil, nil], [nil, :y, nil])
      [:x, :y, nil]

      iex> Nx.Shape.merge_names!([:x, :y], [:x, :z])
      ** (ArgumentError) cannot merge name :y on axis 1 with name :z on axis 1

  """
  @spec merge_names!(names, names) :: names
  def merge_names!(left, right) do
    [left, right, 0..(length(left) - 1)//1]
    |> Enum.zip_with(fn [l, r, axis] -> merge_name!(l, r, axis, axis) end)
  end

  defp merge_name!(nil, right, _, _) when is_atom(right), do: right
  defp merge_name!(left, nil, _, _) when is_atom(left), do: left
  defp merge_name!(name, name, _, _) when is_atom(name), do: name

  defp merge_name!(left, right, left_axis, right_axis) do
    raise ArgumentError,
          "cannot merge name #{inspect(left)} on axis #{left_axis} " <>
            "with name #{inspect(right)} on axis #{right_axis}"
  end

  # Merges a list of name lists into one, as stack and concatenate do.
  defp merge_many_names!(names_list, axis) do
    Enum.zip_with(names_list, fn [first | rest] ->
      Enum.reduce(rest, first, &merge_name!(&1, &2, axis, axis))
    end)
  end

  ## Padding, windows and convolutions

  @doc """
  Returns the shape after padding `shape` with `padding_config`, one
  `{low, high, interior}` tuple per axis: `low` and `high` elements
  are added at each end and `interior` ones between each pair of
  elements. Negative `low` and `high` remove elements.

  ## Examples

      iex> Nx.Shape.pad({3, 4}, [{1, 2, 0}, {0, 0, 1}])
      {6, 7}
      iex> Nx.Shape.pad({5}, [{-1, -2, 0}])
      {2}

      iex> Nx.Shape.pad({3, 4}, [{1, 1, 0}])
      ** (ArgumentError) invalid padding configuration, rank of padding configuration and shape must match

  """
  @spec pad(shape, [{integer, integer, non_neg_integer}]) :: shape
  def pad(shape, padding_config) do
    if length(padding_config) != tuple_size(shape) do
      raise ArgumentError,
            "invalid padding configuration, rank of padding configuration and shape must match"
    end

    shape
    |> Tuple.to_list()
    |> Enum.zip_with(padding_config, fn dim, {low, high, interior} ->
      dim + (dim - 1) * interior + low + high
    end)
    |> List.to_tuple()
  end

  @doc """
  Returns the shape after inserting `rate - 1` holes between the
  elements of each axis.

  ## Examples

      iex> Nx.Shape.dilate({3, 4}, [2, 1])
      {5, 4}

      iex> Nx.Shape.dilate({3}, [0])
      ** (ArgumentError) dilation rates must be greater than or equal to 1 got [0]

  """
  @spec dilate(shape, [pos_integer]) :: shape
  def dilate(shape, dilation) when is_tuple(shape) and is_list(dilation) do
    unless Enum.all?(dilation, &(&1 >= 1)) do
      raise ArgumentError,
            "dilation rates must be greater than or equal to 1 got #{inspect(dilation)}"
    end

    pad(shape, Enum.map(dilation, &{0, 0, &1 - 1}))
  end

  @doc """
  Turns a padding mode into explicit `{low, high}` padding per axis.

  `:valid` pads nothing. `:same` pads `kernel - 1` elements per axis
  (the extra one going to the high side) so that, with unit strides,
  the output keeps the input size. A list of `{low, high}` integer
  pairs is returned as is.

  ## Examples

      iex> Nx.Shape.to_padding_config({10, 10}, {3, 3}, :valid)
      [{0, 0}, {0, 0}]
      iex> Nx.Shape.to_padding_config({10, 10}, {3, 4}, :same)
      [{1, 1}, {1, 2}]
      iex> Nx.Shape.to_padding_config({10}, {3}, [{2, 0}])
      [{2, 0}]

      iex> Nx.Shape.to_padding_config({10}, {3}, [{1, 1, 1}])
      ** (ArgumentError) padding must be a list of {high, low} tuples, where each element is an integer. Got: [{1, 1, 1}]

      iex> Nx.Shape.to_padding_config({10}, {3}, :full)
      ** (ArgumentError) invalid padding mode specified, padding must be one of :valid, :same, or a padding configuration, got: :full

  """
  @spec to_padding_config(shape, shape, :valid | :same | padding_config) :: padding_config
  def to_padding_config(shape, _kernel_size, :valid),
    do: List.duplicate({0, 0}, tuple_size(shape))

  def to_padding_config(_shape, kernel_size, :same) do
    for k <- Tuple.to_list(kernel_size) do
      total = max(k - 1, 0)
      {div(total, 2), total - div(total, 2)}
    end
  end

  def to_padding_config(_shape, _kernel_size, config) when is_list(config) do
    unless Enum.all?(config, &match?({low, high} when is_integer(low) and is_integer(high), &1)) do
      raise ArgumentError,
            "padding must be a list of {high, low} tuples, where each element is an integer. " <>
              "Got: #{inspect(config)}"
    end

    config
  end

  def to_padding_config(_shape, _kernel_size, mode) do
    raise ArgumentError,
          "invalid padding mode specified, padding must be one of :valid, :same, " <>
            "or a padding configuration, got: #{inspect(mode)}"
  end

  @doc """
  Returns the output shape and the padding configuration of a window
  operation (pooling, window reductions, window scatters) over `shape`.

  The window of size `kernel_size`, dilated by `kernel_dilation`, moves
  with `strides` over `shape` padded according to `padding` (see
  `to_padding_config/3`).

  ## Examples

      iex> Nx.Shape.pool({4, 6}, {2, 2}, [2, 2], :valid, [1, 1])
      {{2, 3}, [{0, 0}, {0, 0}]}
      iex> Nx.Shape.pool({4, 6}, {3, 3}, [1, 1], :same, [1, 1])
      {{4, 6}, [{1, 1}, {1, 1}]}
      iex> Nx.Shape.pool({5}, {2}, [1], :valid, [2])
      {{3}, [{0, 0}]}

      iex> Nx.Shape.pool({2, 2}, {3, 1}, [1, 1], :valid, [1, 1])
      ** (ArgumentError) window dimensions would result in empty tensor which is not currently supported in Nx, please open an issue if you'd like this behavior to change

      iex> Nx.Shape.pool({2, 2}, {1}, [1, 1], :valid, [1, 1])
      ** (ArgumentError) invalid window dimensions, rank of shape (2) does not match rank of window (1)

      iex> Nx.Shape.pool({2, 2}, {1, 1}, [1], :valid, [1, 1])
      ** (ArgumentError) invalid stride dimensions, rank of shape (2) does not match rank of stride (1)

  """
  @spec pool(shape, shape, [pos_integer], :valid | :same | padding_config, [pos_integer]) ::
          {shape, padding_config}
  def pool(shape, kernel_size, strides, padding, kernel_dilation) do
    if tuple_size(shape) != tuple_size(kernel_size) do
      raise ArgumentError,
            "invalid window dimensions, rank of shape (#{tuple_size(shape)}) " <>
              "does not match rank of window (#{tuple_size(kernel_size)})"
    end

    if tuple_size(shape) != length(strides) do
      raise ArgumentError,
            "invalid stride dimensions, rank of shape (#{tuple_size(shape)}) " <>
              "does not match rank of stride (#{length(strides)})"
    end

    kernel_size = dilate(kernel_size, kernel_dilation)
    padding_config = to_padding_config(shape, kernel_size, padding)
    padded = pad(shape, Enum.map(padding_config, fn {low, high} -> {low, high, 0} end))

    dims =
      [Tuple.to_list(padded), Tuple.to_list(kernel_size), strides]
      |> Enum.zip_with(fn [dim, window, stride] ->
        # Truncating division, as in Nx.
        out = div(dim - window, stride) + 1

        if out <= 0 do
          raise ArgumentError,
                "window dimensions would result in empty tensor which is not currently " <>
                  "supported in Nx, please open an issue if you'd like this behavior to change"
        end

        out
      end)

    {List.to_tuple(dims), padding_config}
  end

  @doc """
  Checks the ranks of the input and kernel of a convolution, before
  `conv/13` computes the output.

  ## Examples

      iex> Nx.Shape.validate_conv!({1, 3, 28, 28}, {16, 3, 5, 5})
      :ok

      iex> Nx.Shape.validate_conv!({3, 28}, {16, 3, 5})
      ** (ArgumentError) input shape in conv requires at least rank 3, shape {3, 28} has rank 2

      iex> Nx.Shape.validate_conv!({1, 3, 28}, {16, 3})
      ** (ArgumentError) kernel shape in conv requires at least rank 3, shape {16, 3} has rank 2

  """
  @spec validate_conv!(shape, shape) :: :ok
  def validate_conv!(input_shape, kernel_shape) do
    for {shape, kind} <- [{input_shape, "input"}, {kernel_shape, "kernel"}],
        tuple_size(shape) < 3 do
      raise ArgumentError,
            "#{kind} shape in conv requires at least rank 3, " <>
              "shape #{inspect(shape)} has rank #{tuple_size(shape)}"
    end

    :ok
  end

  @doc """
  Returns the output shape, output names and padding configuration of
  a convolution.

  Once permuted by `input_permutation` and `kernel_permutation`, the
  input is `{batch, channels, spatial...}` and the kernel
  `{filters, channels / feature_group_count, spatial...}`. `strides`,
  `input_dilation` and `kernel_dilation` have one entry per spatial
  axis. The output, `{batch / batch_group_count, filters, spatial...}`,
  is permuted back with the inverse of `output_permutation`, and keeps
  the names of the permuted input axes.

  ## Examples

      iex> Nx.Shape.conv(
      ...>   {8, 3, 32, 32}, [:batch, :channels, :h, :w],
      ...>   {16, 3, 5, 5}, [nil, nil, nil, nil],
      ...>   [1, 1], :valid, 1, 1, [1, 1], [1, 1],
      ...>   [0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]
      ...> )
      {{8, 16, 28, 28}, [:batch, :channels, :h, :w], [{0, 0}, {0, 0}]}

  Channels-last input, strides and `:same` padding:

      iex> Nx.Shape.conv(
      ...>   {2, 10, 10, 4}, [nil, nil, nil, nil],
      ...>   {6, 2, 3, 3}, [nil, nil, nil, nil],
      ...>   [2, 2], :same, 2, 1, [1, 1], [1, 1],
      ...>   [0, 3, 1, 2], [0, 1, 2, 3], [0, 3, 1, 2]
      ...> )
      {{2, 5, 5, 6}, [nil, nil, nil, nil], [{1, 1}, {1, 1}]}

      iex> Nx.Shape.conv(
      ...>   {1, 4, 5}, [nil, nil, nil], {2, 3, 3}, [nil, nil, nil],
      ...>   [1], :valid, 1, 1, [1], [1], [0, 1, 2], [0, 1, 2], [0, 1, 2]
      ...> )
      ** (ArgumentError) size of input channels divided by feature groups must match size of kernel channels, got 4 / 1 != 3 for shapes {1, 4, 5} and {2, 3, 3}

  """
  @spec conv(
          shape,
          names,
          shape,
          names,
          [pos_integer],
          :valid | :same | padding_config,
          pos_integer,
          pos_integer,
          [pos_integer],
          [pos_integer],
          [non_neg_integer],
          [non_neg_integer],
          [non_neg_integer]
        ) :: {shape, names, padding_config}
  def conv(
        input_shape,
        input_names,
        kernel_shape,
        kernel_names,
        strides,
        padding,
        feature_group_count,
        batch_group_count,
        input_dilation,
        kernel_dilation,
        input_permutation,
        kernel_permutation,
        output_permutation
      ) do
    validate_conv_strides!(input_shape, strides)
    validate_conv_dilations!(input_shape, kernel_shape, input_dilation, kernel_dilation)

    {input_shape, input_names} = transpose(input_shape, input_permutation, input_names)
    input_shape = dilate(input_shape, [1, 1 | input_dilation])
    {kernel_shape, _} = transpose(kernel_shape, kernel_permutation, kernel_names)
    kernel_shape = dilate(kernel_shape, [1, 1 | kernel_dilation])

    validate_conv_groups!(input_shape, kernel_shape, feature_group_count, batch_group_count)

    [batch, _channels | spatial] = Tuple.to_list(input_shape)
    [filters, _kernel_channels | window] = Tuple.to_list(kernel_shape)

    padding_config = to_padding_config(List.to_tuple(spatial), List.to_tuple(window), padding)

    padded =
      spatial
      |> List.to_tuple()
      |> pad(Enum.map(padding_config, fn {low, high} -> {low, high, 0} end))
      |> Tuple.to_list()

    spatial =
      [padded, window, strides]
      |> Enum.zip_with(fn [dim, w, stride] ->
        out = floor((dim - w) / stride) + 1

        if out <= 0 do
          raise ArgumentError,
                "conv would result in empty tensor which is not currently supported in Nx, " <>
                  "please open an issue if you'd like this behavior to change"
        end

        out
      end)

    shape = List.to_tuple([div(batch, batch_group_count), filters | spatial])
    {shape, names} = transpose(shape, inverse_permutation(output_permutation), input_names)
    {shape, names, padding_config}
  end

  defp inverse_permutation(permutation) do
    permutation
    |> Enum.with_index()
    |> Enum.sort()
    |> Enum.map(&elem(&1, 1))
  end

  defp validate_conv_strides!(input_shape, strides) do
    if length(strides) != tuple_size(input_shape) - 2 do
      raise ArgumentError,
            "rank of strides much match rank of spatial dimensions got strides " <>
              "#{inspect(strides)} with rank #{length(strides)} and got input shape " <>
              "#{inspect(input_shape)} of rank #{tuple_size(input_shape) - 2}"
    end
  end

  defp validate_conv_dilations!(input_shape, kernel_shape, input_dilation, kernel_dilation) do
    for {dilation, shape, kind} <- [
          {input_dilation, input_shape, "input"},
          {kernel_dilation, kernel_shape, "kernel"}
        ],
        is_list(dilation) do
      if length(dilation) != tuple_size(shape) - 2 do
        raise ArgumentError,
              "must specify dilation for each spatial dimension of the #{kind} " <>
                "or specify an integer dilation factor"
      end

      if Enum.any?(dilation, &(not is_integer(&1) or &1 < 1)) do
        raise ArgumentError,
              "#{kind} dilation of each dimension must be a positive integer, got " <>
                inspect(dilation)
      end
    end
  end

  defp validate_conv_groups!(input_shape, kernel_shape, feature_groups, batch_groups) do
    batch = elem(input_shape, 0)
    input_channels = elem(input_shape, 1)
    filters = elem(kernel_shape, 0)
    kernel_channels = elem(kernel_shape, 1)

    cond do
      batch_groups != 1 and feature_groups != 1 ->
        raise ArgumentError,
              "either batch groups or feature groups must be 1, got batch_groups = " <>
                "#{batch_groups} and feature_groups = #{feature_groups}"

      rem(batch, batch_groups) != 0 ->
        raise ArgumentError,
              "batch groups must evenly divide input batch size got " <>
                "rem(#{batch_groups}, #{batch}) != 0"

      rem(filters, feature_groups) != 0 ->
        raise ArgumentError,
              "size of kernel output channels must be evenly divisible by feature groups got " <>
                "rem(#{filters}, #{feature_groups}) != 0 for kernel with shape " <>
                inspect(kernel_shape)

      rem(filters, batch_groups) != 0 ->
        raise ArgumentError,
              "size of kernel output channels must be evenly divisible by batch groups got " <>
                "rem(#{filters}, #{batch_groups}) != 0 for kernel with shape " <>
                inspect(kernel_shape)

      input_channels != kernel_channels * feature_groups ->
        raise ArgumentError,
              "size of input channels divided by feature groups must match size of kernel " <>
                "channels, got #{input_channels} / #{feature_groups} != #{kernel_channels} " <>
                "for shapes #{inspect(input_shape)} and #{inspect(kernel_shape)}"

      true ->
        :ok
    end
  end

  ## Slicing and indexing

  @doc """
  Checks the arguments of a slice and returns the start indices
  (clamped so that the slice fits in `shape`) and the output shape.

  Start indices may be integers or tensors; only integers are clamped.
  Each axis of the output has `ceil(length / stride)` elements.

  ## Examples

      iex> Nx.Shape.slice({10, 8}, [2, 1], [4, 6], [1, 2])
      {[2, 1], {4, 3}}
      iex> Nx.Shape.slice({10}, [8], [5], [1])
      {[5], {5}}

      iex> Nx.Shape.slice({10}, [0], [11], [1])
      ** (ArgumentError) length at axis 0 must be less than axis size of 10, got: 11

      iex> Nx.Shape.slice({10}, [0], [0], [1])
      ** (ArgumentError) length at axis 0 must be greater than or equal to 1, got: 0

      iex> Nx.Shape.slice({10, 8}, [0, 0], [1, 1], [1])
      ** (ArgumentError) invalid strides rank for shape of rank 2

  """
  @spec slice(shape, [integer | term], [pos_integer], [pos_integer]) :: {[integer | term], shape}
  def slice(shape, start_indices, lengths, strides) do
    rank = tuple_size(shape)

    for {list, what} <-
          [{strides, "strides"}, {start_indices, "start indices"}] ++
            [{lengths, "limit indices"}],
        length(list) != rank do
      raise ArgumentError, "invalid #{what} rank for shape of rank #{rank}"
    end

    [Tuple.to_list(shape), start_indices, lengths, strides, 0..(rank - 1)//1]
    |> Enum.zip_with(fn [dim, start, len, stride, axis] ->
      if not is_integer(len) or len < 1 do
        raise ArgumentError,
              "length at axis #{axis} must be greater than or equal to 1, got: #{inspect(len)}"
      end

      if not is_integer(stride) or stride < 1 do
        raise ArgumentError,
              "stride at axis #{axis} must be greater than or equal to 1, got: " <>
                inspect(stride)
      end

      if len > dim do
        raise ArgumentError,
              "length at axis #{axis} must be less than axis size of #{dim}, got: #{len}"
      end

      start = if is_integer(start), do: min(start, dim - len), else: start
      {start, div(len + stride - 1, stride)}
    end)
    |> Enum.unzip()
    |> then(fn {starts, dims} -> {starts, List.to_tuple(dims)} end)
  end

  @doc """
  Checks a `put_slice` of `slice_shape` into `shape` and returns the
  shape (unchanged) and the merged names.

  ## Examples

      iex> Nx.Shape.put_slice({4, 5}, [:x, nil], {2, 5}, [nil, :y], [1, 0])
      {{4, 5}, [:x, :y]}

      iex> Nx.Shape.put_slice({4, 5}, [nil, nil], {2, 6}, [nil, nil], [0, 0])
      ** (ArgumentError) slice shape {2, 6} must be less than or equal to tensor shape {4, 5}

      iex> Nx.Shape.put_slice({4, 5}, [nil, nil], {2}, [nil], [0, 0])
      ** (ArgumentError) invalid slice for put_slice, rank of slice must match 2, got: 1

  """
  @spec put_slice(shape, names, shape, names, [integer | term]) :: {shape, names}
  def put_slice(shape, names, slice_shape, slice_names, start_indices) do
    rank = tuple_size(shape)

    if length(start_indices) != rank do
      raise ArgumentError, "invalid start indices rank for shape of rank #{rank}"
    end

    if tuple_size(slice_shape) != rank do
      raise ArgumentError,
            "invalid slice for put_slice, rank of slice must match #{rank}, " <>
              "got: #{tuple_size(slice_shape)}"
    end

    names =
      [Tuple.to_list(shape), names, Tuple.to_list(slice_shape), slice_names, 0..(rank - 1)//1]
      |> Enum.zip_with(fn [dim, name, slice_dim, slice_name, axis] ->
        if slice_dim > dim do
          raise ArgumentError,
                "slice shape #{inspect(slice_shape)} must be less than or equal to " <>
                  "tensor shape #{inspect(shape)}"
        end

        merge_name!(name, slice_name, axis, axis)
      end)

    {shape, names}
  end

  @doc """
  Returns the shape and names of `Nx.take/3`: `axis` is replaced by
  the axes of the indices. A single indices axis merges its name with
  the name of `axis`.

  ## Examples

      iex> Nx.Shape.take({5, 3}, [:x, :y], {2, 4}, [nil, nil], 0)
      {{2, 4, 3}, [nil, nil, :y]}
      iex> Nx.Shape.take({5, 3}, [:x, :y], {7}, [nil], 0)
      {{7, 3}, [:x, :y]}

      iex> Nx.Shape.take({5, 3}, [:x, :y], {7}, [:z], 1)
      ** (ArgumentError) cannot merge name :y on axis 1 with name :z on axis 0

  """
  @spec take(shape, names, shape, names, non_neg_integer) :: {shape, names}
  def take(shape, names, indices_shape, indices_names, axis) do
    {before, [_ | rest]} = shape |> Tuple.to_list() |> Enum.split(axis)
    {names_before, [axis_name | names_rest]} = Enum.split(names, axis)

    indices_names =
      case indices_names do
        [name] -> [merge_name!(axis_name, name, axis, 0)]
        names -> names
      end

    {List.to_tuple(before ++ Tuple.to_list(indices_shape) ++ rest),
     names_before ++ indices_names ++ names_rest}
  end

  @doc """
  Checks the indices shape of `Nx.take_along_axis/3` and returns it,
  which is also the output shape: it must have the rank of `shape`
  and the same dimensions outside `axis`.

  ## Examples

      iex> Nx.Shape.take_along_axis({3, 4}, {3, 9}, 1)
      {3, 9}

      iex> Nx.Shape.take_along_axis({3, 4}, {2, 9}, 1)
      ** (ArgumentError) non-indexing dimensions must match. Expected {3, *}, got: {2, 9}

      iex> Nx.Shape.take_along_axis({3, 4}, {9}, 1)
      ** (ArgumentError) shapes must have the same number of dimensions. Expected {3, *}, got: {9}

      iex> Nx.Shape.take_along_axis({3, 4}, {3, 4}, 2)
      ** (ArgumentError) axis must be a non-negative less than 2

  """
  @spec take_along_axis(shape, shape, non_neg_integer) :: shape
  def take_along_axis(shape, indices_shape, axis) do
    rank = tuple_size(shape)

    if axis < 0 or axis >= rank do
      raise ArgumentError, "axis must be a non-negative less than #{rank}"
    end

    mismatch =
      cond do
        tuple_size(indices_shape) != rank ->
          "shapes must have the same number of dimensions"

        Tuple.delete_at(shape, axis) != Tuple.delete_at(indices_shape, axis) ->
          "non-indexing dimensions must match"

        true ->
          nil
      end

    if mismatch do
      raise ArgumentError,
            "#{mismatch}. Expected #{template_on_axis(shape, axis)}, got: #{inspect(indices_shape)}"
    end

    indices_shape
  end

  # Prints shape with `*` in place of axis: {2, *, 4}
  defp template_on_axis(shape, axis) do
    inner =
      shape
      |> Tuple.to_list()
      |> List.replace_at(axis, "*")
      |> Enum.join(", ")

    "{#{inner}}"
  end

  @doc """
  Returns the shape and names of `Nx.gather/3`: the leading axes of the
  indices followed by the axes of `shape` not in `axes`. The last axis
  of the indices holds one index per gathered axis.

  ## Examples

      iex> Nx.Shape.gather({4, 5}, {3, 2}, [0, 1])
      {{3}, [nil]}
      iex> Nx.Shape.gather({4, 5, 6}, {2, 7, 1}, [1])
      {{2, 7, 4, 6}, [nil, nil, nil, nil]}

      iex> Nx.Shape.gather({4, 5}, {}, [])
      ** (ArgumentError) expected indices rank to be at least 1, got: 0

      iex> Nx.Shape.gather({4, 5}, {3, 3}, [0, 1])
      ** (ArgumentError) expected the last indices dimension size (3) to be less than or equal to the tensor rank (2)

  """
  @spec gather(shape, shape, [non_neg_integer]) :: {shape, names}
  def gather(_shape, {}, _axes),
    do: raise(ArgumentError, "expected indices rank to be at least 1, got: 0")

  def gather(shape, indices_shape, axes) do
    rank = tuple_size(shape)
    {outer, [last]} = indices_shape |> Tuple.to_list() |> Enum.split(-1)

    if last > rank do
      raise ArgumentError,
            "expected the last indices dimension size (#{last}) to be less than or equal " <>
              "to the tensor rank (#{rank})"
    end

    inner = for axis <- 0..(rank - 1)//1, axis not in axes, do: elem(shape, axis)
    dims = outer ++ inner
    {List.to_tuple(dims), List.duplicate(nil, length(dims))}
  end

  @doc """
  Checks the shapes of `Nx.indexed_add/4` and `Nx.indexed_put/4` with
  a single index: `indices` of shape `{rank}` need scalar updates.

  ## Examples

      iex> Nx.Shape.indexed_scalar({4, 5}, {2}, {})
      :ok

      iex> Nx.Shape.indexed_scalar({4, 5}, {3}, {})
      ** (ArgumentError) expected indices to have shape {2}, got: {3}

      iex> Nx.Shape.indexed_scalar({4, 5}, {2}, {1})
      ** (ArgumentError) updates must be a scalar tensor when indices has rank 1, got: {1}

  """
  @spec indexed_scalar(shape, shape, shape) :: :ok
  def indexed_scalar(target_shape, indices_shape, updates_shape) do
    rank = tuple_size(target_shape)

    case indices_shape do
      {n} when n != rank ->
        raise ArgumentError, "expected indices to have shape {#{rank}}, got: #{inspect({n})}"

      {_} when updates_shape != {} ->
        raise ArgumentError,
              "updates must be a scalar tensor when indices has rank 1, got: " <>
                inspect(updates_shape)

      _ ->
        :ok
    end
  end

  @doc """
  Checks the shapes of `Nx.indexed_add/4` and `Nx.indexed_put/4`.

  `indices` is `{n, k}`: `n` indices into the `k` axes of the target
  listed in `axes`. `updates` has `n` as its leading axis followed by
  the target axes that are not indexed, each at most as large as in
  the target.

  ## Examples

      iex> Nx.Shape.indexed({4, 5}, {3, 2}, {3}, [0, 1])
      :ok
      iex> Nx.Shape.indexed({4, 5, 6}, {3, 1}, {3, 5, 2}, [0])
      :ok

      iex> Nx.Shape.indexed({4, 5}, {3, 2}, {2}, [0, 1])
      ** (ArgumentError) expected the leading axis of indices ({3, 2}) and leading axis of updates ({2}) to match

      iex> Nx.Shape.indexed({4, 5}, {3, 1}, {3}, [0])
      ** (ArgumentError) expected the rank of the input (2) to be equal to the rank of the updates (1) plus the trailing axis of indices ({3, 1}) minus one

      iex> Nx.Shape.indexed({4, 5}, {3}, {3}, [0])
      ** (ArgumentError) indices must be a rank 1 or 2 tensor, got: 1

  """
  @spec indexed(shape, shape, shape, [non_neg_integer]) :: :ok
  def indexed(target_shape, indices_shape, updates_shape, axes) do
    rank = tuple_size(target_shape)
    updates_rank = tuple_size(updates_shape)

    case indices_shape do
      {n, _} when updates_rank == 0 or n != elem(updates_shape, 0) ->
        raise ArgumentError,
              "expected the leading axis of indices (#{inspect(indices_shape)}) and leading " <>
                "axis of updates (#{inspect(updates_shape)}) to match"

      {_, k} when updates_rank - 1 + k != rank ->
        raise ArgumentError,
              "expected the rank of the input (#{rank}) to be equal to the rank of the " <>
                "updates (#{updates_rank}) plus the trailing axis of indices " <>
                "(#{inspect(indices_shape)}) minus one"

      {_, _} when updates_rank == 1 ->
        :ok

      {_, _} ->
        (Enum.to_list(0..(rank - 1)//1) -- axes)
        |> Enum.with_index(1)
        |> Enum.each(fn {target_axis, update_axis} ->
          if elem(updates_shape, update_axis) > elem(target_shape, target_axis) do
            raise ArgumentError,
                  "axis (#{update_axis}) of updates (#{inspect(updates_shape)}) must be less " <>
                    "than or equal to the axis (#{target_axis}) of #{inspect(target_shape)})"
          end
        end)

      _ ->
        raise ArgumentError,
              "indices must be a rank 1 or 2 tensor, got: #{tuple_size(indices_shape)}"
    end
  end

  ## Diagonals

  @doc """
  Splits a shape of rank 2 or more into its batch shape and its
  trailing matrix shape, as `Nx.take_diagonal/2` needs.

  ## Examples

      iex> Nx.Shape.take_diagonal({3, 4})
      {{}, {3, 4}}
      iex> Nx.Shape.take_diagonal({2, 3, 4})
      {{2}, {3, 4}}

      iex> Nx.Shape.take_diagonal({3})
      ** (ArgumentError) take_diagonal/2 expects tensor of rank 2 or higher, got tensor of rank: 1

  """
  @spec take_diagonal(shape) :: {shape, shape}
  def take_diagonal(shape) when tuple_size(shape) > 1 do
    {batch, matrix} = shape |> Tuple.to_list() |> Enum.split(-2)
    {List.to_tuple(batch), List.to_tuple(matrix)}
  end

  def take_diagonal(shape) do
    raise ArgumentError,
          "take_diagonal/2 expects tensor of rank 2 or higher, got tensor of rank: " <>
            "#{tuple_size(shape)}"
  end

  @doc """
  Checks that `shape` is a vector, as `Nx.make_diagonal/2` needs, and returns it.

  ## Examples

      iex> Nx.Shape.make_diagonal({3})
      {3}

      iex> Nx.Shape.make_diagonal({3, 3})
      ** (ArgumentError) make_diagonal/2 expects tensor of rank 1, got tensor of rank: 2

  """
  @spec make_diagonal(shape) :: shape
  def make_diagonal({_} = shape), do: shape

  def make_diagonal(shape) do
    raise ArgumentError,
          "make_diagonal/2 expects tensor of rank 1, got tensor of rank: #{tuple_size(shape)}"
  end

  @doc """
  Checks that `offset` selects a diagonal of the matrix `shape`:
  positive offsets move right (up to the number of columns), negative
  ones move down (up to the number of rows).

  ## Examples

      iex> Nx.Shape.validate_diag_offset!({2, 5}, 4)
      :ok
      iex> Nx.Shape.validate_diag_offset!({2, 5}, -1)
      :ok

      iex> Nx.Shape.validate_diag_offset!({2, 5}, 5)
      ** (ArgumentError) offset must be less than length of axis 1 when positive, got: 5

      iex> Nx.Shape.validate_diag_offset!({2, 5}, -2)
      ** (ArgumentError) absolute value of offset must be less than length of axis 0 when negative, got: -2

      iex> Nx.Shape.validate_diag_offset!({5}, 0)
      ** (ArgumentError) expected shape of rank 2 to be given, got shape of rank: 1

  """
  @spec validate_diag_offset!(shape, integer) :: :ok
  def validate_diag_offset!({rows, cols}, offset) do
    cond do
      offset >= 0 and offset < cols ->
        :ok

      offset >= 0 ->
        raise ArgumentError,
              "offset must be less than length of axis 1 when positive, got: #{inspect(offset)}"

      -offset < rows ->
        :ok

      true ->
        raise ArgumentError,
              "absolute value of offset must be less than length of axis 0 when negative, " <>
                "got: #{inspect(offset)}"
    end
  end

  def validate_diag_offset!(shape, _offset) when is_tuple(shape) do
    raise ArgumentError,
          "expected shape of rank 2 to be given, got shape of rank: #{tuple_size(shape)}"
  end

  @doc """
  Checks the arguments of `Nx.put_diagonal/3`: a matrix `shape`, a
  vector `diagonal_shape` as long as the diagonal at `offset`.

  ## Examples

      iex> Nx.Shape.put_diagonal({3, 4}, {3}, 0)
      :ok
      iex> Nx.Shape.put_diagonal({3, 4}, {3}, 1)
      :ok
      iex> Nx.Shape.put_diagonal({3, 4}, {2}, -1)
      :ok

      iex> Nx.Shape.put_diagonal({3, 4}, {3}, 2)
      ** (ArgumentError) expected diagonal tensor of length: 2, got diagonal tensor of length: 3

      iex> Nx.Shape.put_diagonal({3}, {3}, 0)
      ** (ArgumentError) put_diagonal/3 expects tensor of rank 2, got tensor of rank: 1

      iex> Nx.Shape.put_diagonal({3, 3}, {3, 1}, 0)
      ** (ArgumentError) put_diagonal/3 expects diagonal of rank 1, got tensor of rank: 2

  """
  @spec put_diagonal(shape, shape, integer) :: :ok
  def put_diagonal({rows, cols} = shape, {length}, offset) do
    validate_diag_offset!(shape, offset)
    expected = if offset > 0, do: min(rows, cols - offset), else: min(rows + offset, cols)

    if expected != length do
      raise ArgumentError,
            "expected diagonal tensor of length: #{expected}, got diagonal tensor of length: " <>
              "#{length}"
    end

    :ok
  end

  def put_diagonal({_, _}, diagonal_shape, _offset) do
    raise ArgumentError,
          "put_diagonal/3 expects diagonal of rank 1, got tensor of rank: " <>
            "#{tuple_size(diagonal_shape)}"
  end

  def put_diagonal(shape, _diagonal_shape, _offset) do
    raise ArgumentError,
          "put_diagonal/3 expects tensor of rank 2, got tensor of rank: #{tuple_size(shape)}"
  end

  ## Joining and repeating

  @doc """
  Returns the shape, names and position of an axis of size `size`
  and name `name` inserted at `axis`.

  Non-negative positions are shifted by `offset`; negative ones count
  from the end, `-1` meaning after the last axis.

  ## Examples

      iex> Nx.Shape.new_axis({2, 3}, [:x, :y], 1, :new, 4, 0)
      {{2, 4, 3}, [:x, :new, :y], 1}
      iex> Nx.Shape.new_axis({2, 3}, [:x, :y], -1, nil, 1, 0)
      {{2, 3, 1}, [:x, :y, nil], 2}

      iex> Nx.Shape.new_axis({2, 3}, [:x, :y], 3, nil, 1, 0)
      ** (ArgumentError) new axis position for shape {2, 3} must be a number between -3 and 2, got: 3

  """
  @spec new_axis(shape, names, integer, atom | nil, pos_integer, non_neg_integer) ::
          {shape, names, non_neg_integer}
  def new_axis(shape, names, axis, name, size, offset) do
    rank = tuple_size(shape)
    position = if axis < 0, do: axis + rank + 1, else: axis + offset

    if position < offset or position > rank do
      raise ArgumentError,
            "new axis position for shape #{inspect(shape)} must be a number between " <>
              "#{-rank - 1 + offset} and #{rank - offset}, got: #{axis}"
    end

    {Tuple.insert_at(shape, position, size), List.insert_at(names, position, name), position}
  end

  @doc """
  Returns the shape, names and position of the new axis of
  `Nx.stack/2`. All shapes must be equal; their names are merged.

  ## Examples

      iex> Nx.Shape.stack([{2, 3}, {2, 3}], [[:x, nil], [nil, :y]], 0, :stacked, 0)
      {{2, 2, 3}, [:stacked, :x, :y], 0}
      iex> Nx.Shape.stack([{2}, {2}, {2}], [[nil], [nil], [nil]], 1, nil, 0)
      {{2, 3}, [nil, nil], 1}

      iex> Nx.Shape.stack([{2}, {3}], [[nil], [nil]], 0, nil, 0)
      ** (ArgumentError) can only stack tensors of the same shape, got distinct shapes: [{2}, {3}]

  """
  @spec stack([shape], [names], integer, atom | nil, non_neg_integer) ::
          {shape, names, non_neg_integer}
  def stack(shapes, names, axis, name, offset) do
    names = merge_many_names!(names, axis)

    case Enum.uniq(shapes) do
      [shape] ->
        new_axis(shape, names, axis, name, length(shapes), offset)

      distinct ->
        raise ArgumentError,
              "can only stack tensors of the same shape, got distinct shapes: #{inspect(distinct)}"
    end
  end

  @doc """
  Returns the shape, names and normalized axis of `Nx.concatenate/2`.
  All shapes must be equal outside `axis`; their names are merged.

  ## Examples

      iex> Nx.Shape.concatenate([{2, 3}, {4, 3}], [[:x, nil], [nil, :y]], 0, 0)
      {{6, 3}, [:x, :y], 0}
      iex> Nx.Shape.concatenate([{2, 3}, {2, 1}, {2, 2}], [[nil, nil], [nil, nil], [nil, nil]], -1, 0)
      {{2, 6}, [nil, nil], 1}

      iex> Nx.Shape.concatenate([{2, 3}, {3, 3}], [[nil, nil], [nil, nil]], 1, 0)
      ** (ArgumentError) expected all shapes to match {2, *}, got unmatching shape: {3, 3}

  """
  @spec concatenate([shape], [names], axis, non_neg_integer) :: {shape, names, non_neg_integer}
  def concatenate([first | _] = shapes, [first_names | _] = names, axis, offset) do
    axis = normalize_axis(first, axis, first_names, offset)
    names = merge_many_names!(names, axis)
    template = Tuple.delete_at(first, axis)

    for shape <- shapes,
        tuple_size(shape) != tuple_size(first) or Tuple.delete_at(shape, axis) != template do
      raise ArgumentError,
            "expected all shapes to match #{template_on_axis(first, axis)}, " <>
              "got unmatching shape: #{inspect(shape)}"
    end

    size = shapes |> Enum.map(&elem(&1, axis)) |> Enum.sum()
    {put_elem(first, axis, size), names, axis}
  end

  @doc """
  Returns the shapes `Nx.tile/2` goes through: the tensor is reshaped
  to `reshape`, broadcast to `broadcast` and reshaped to `result`.

  Accepts a shape or anything with a `:shape` field, such as a tensor.
  When `repetitions` and the shape have different lengths, the shorter
  one is padded with leading ones.

  ## Examples

      iex> Nx.Shape.tile({2, 3}, [2, 1])
      {{1, 2, 1, 3}, {2, 2, 1, 3}, {4, 3}}
      iex> Nx.Shape.tile({3}, [2, 2])
      {{1, 1, 1, 3}, {2, 1, 2, 3}, {2, 6}}

  """
  @spec tile(shape | %{shape: shape}, [pos_integer]) :: {shape, shape, shape}
  def tile(%{shape: shape}, repetitions), do: tile(shape, repetitions)

  def tile(shape, repetitions) when is_tuple(shape) do
    rank = max(tuple_size(shape), length(repetitions))
    dims = List.duplicate(1, rank - tuple_size(shape)) ++ Tuple.to_list(shape)
    reps = List.duplicate(1, rank - length(repetitions)) ++ repetitions

    reshape = List.to_tuple(Enum.flat_map(dims, &[1, &1]))
    broadcast = List.to_tuple(Enum.zip_with(reps, dims, &[&1, &2]) |> List.flatten())
    result = List.to_tuple(Enum.zip_with(reps, dims, &(&1 * &2)))
    {reshape, broadcast, result}
  end

  ## Contractions

  @doc """
  Returns the shape and names of a contraction of `s1` along `axes1`
  with `s2` along `axes2` (as in a dot product without batching): the
  remaining axes of `s1` followed by the remaining axes of `s2`.

  ## Examples

      iex> Nx.Shape.zip_reduce({2, 3}, [1], [:i, nil], {3, 4}, [0], [nil, :j])
      {{2, 4}, [:i, :j]}
      iex> Nx.Shape.zip_reduce({2, 3}, [0, 1], [nil, nil], {3, 2}, [1, 0], [nil, nil])
      {{}, []}

      iex> Nx.Shape.zip_reduce({2, 3}, [1], [nil, nil], {2, 4}, [0], [nil, nil])
      ** (ArgumentError) dot/zip expects shapes to be compatible, dimension 1 of left-side (3) does not equal dimension 0 of right-side (2)

      iex> Nx.Shape.zip_reduce({2, 3}, [1], [:x, nil], {3, 2}, [0], [nil, :x])
      ** (ArgumentError) operation would result in duplicate names [:x, :x], please rename your tensors to avoid duplicates

  """
  @spec zip_reduce(shape, [non_neg_integer], names, shape, [non_neg_integer], names) ::
          {shape, names}
  def zip_reduce(s1, axes1, names1, s2, axes2, names2) do
    validate_zip_reduce_axes!(s1, axes1, s2, axes2)
    {left, left_names} = contract(s1, axes1, names1, false)
    {right, right_names} = contract(s2, axes2, names2, false)
    names = left_names ++ right_names
    named = Enum.reject(names, &is_nil/1)

    if length(named) != length(Enum.uniq(named)) do
      raise ArgumentError,
            "operation would result in duplicate names #{inspect(names)}, " <>
              "please rename your tensors to avoid duplicates"
    end

    {List.to_tuple(Tuple.to_list(left) ++ Tuple.to_list(right)), names}
  end

  @doc """
  Checks that the dimensions of `s1` at `axes1` match, pair by pair,
  the dimensions of `s2` at `axes2`.

  ## Examples

      iex> Nx.Shape.validate_zip_reduce_axes!({2, 3}, [0, 1], {3, 2}, [1, 0])
      :ok

      iex> Nx.Shape.validate_zip_reduce_axes!({2, 3}, [0], {3, 2}, [0])
      ** (ArgumentError) dot/zip expects shapes to be compatible, dimension 0 of left-side (2) does not equal dimension 0 of right-side (3)

      iex> Nx.Shape.validate_zip_reduce_axes!({2, 3}, [0, 1], {3, 2}, [1])
      ** (ArgumentError) dot/zip expects the same number of axes on both sides, got [0, 1] and [1]

  """
  @spec validate_zip_reduce_axes!(shape, [non_neg_integer], shape, [non_neg_integer]) :: :ok
  def validate_zip_reduce_axes!(s1, axes1, s2, axes2) do
    if length(axes1) != length(axes2) do
      raise ArgumentError,
            "dot/zip expects the same number of axes on both sides, got " <>
              "#{inspect(axes1)} and #{inspect(axes2)}"
    end

    Enum.zip_with(axes1, axes2, fn a1, a2 ->
      {d1, d2} = {elem(s1, a1), elem(s2, a2)}

      if d1 != d2 do
        raise ArgumentError,
              "dot/zip expects shapes to be compatible, dimension #{a1} of left-side (#{d1}) " <>
                "does not equal dimension #{a2} of right-side (#{d2})"
      end
    end)

    :ok
  end

  @doc """
  Returns the shape and names of `Nx.dot/6`: `s1` and `s2` are
  contracted along `c1` and `c2`, and the batch axes `b1` and `b2`
  (which must be the leading axes of both, in order, with equal sizes)
  come first in the output, named after the left side.

  ## Examples

      iex> Nx.Shape.dot({2, 3}, [1], [nil, nil], [], {3, 4}, [0], [nil, nil], [])
      {{2, 4}, [nil, nil]}
      iex> Nx.Shape.dot({5, 2, 3}, [2], [:batch, nil, nil], [0], {5, 3, 4}, [1], [nil, nil, nil], [0])
      {{5, 2, 4}, [:batch, nil, nil]}

      iex> Nx.Shape.dot({5, 2, 3}, [2], [nil, nil, nil], [0], {3, 4}, [0], [nil, nil], [])
      ** (ArgumentError) right tensor must be batched if left tensor is batched

      iex> Nx.Shape.dot({5, 2, 3}, [2], [nil, nil, nil], [1], {5, 3, 4}, [1], [nil, nil, nil], [1])
      ** (ArgumentError) invalid dot batch axis for the left tensor, batch axes must be successive dimensions starting from 0, got [1]

      iex> Nx.Shape.dot({5, 2, 3}, [0], [nil, nil, nil], [0], {5, 3, 4}, [0], [nil, nil, nil], [0])
      ** (ArgumentError) dot batch axes for left tensor ([0]) cannot be in contract axes ([0])

  """
  @spec dot(
          shape,
          [non_neg_integer],
          names,
          [non_neg_integer],
          shape,
          [non_neg_integer],
          names,
          [non_neg_integer]
        ) :: {shape, names}
  def dot(s1, c1, names1, b1, s2, c2, names2, b2) do
    validate_dot_axes!(s1, c1, b1, s2, c2, b2)
    batch = length(b1)
    {batch_dims, s1} = s1 |> Tuple.to_list() |> Enum.split(batch)
    {batch_names, names1} = Enum.split(names1, batch)
    s2 = s2 |> Tuple.to_list() |> Enum.drop(batch)
    names2 = Enum.drop(names2, batch)
    shift = &Enum.map(&1, fn axis -> axis - batch end)

    {shape, names} =
      zip_reduce(List.to_tuple(s1), shift.(c1), names1, List.to_tuple(s2), shift.(c2), names2)

    {List.to_tuple(batch_dims ++ Tuple.to_list(shape)), batch_names ++ names}
  end

  defp validate_dot_axes!(s1, c1, b1, s2, c2, b2) do
    cond do
      b1 == [] and b2 != [] ->
        raise ArgumentError, "left tensor must be batched if right tensor is batched"

      b1 != [] and b2 == [] ->
        raise ArgumentError, "right tensor must be batched if left tensor is batched"

      true ->
        :ok
    end

    leading = Enum.to_list(0..(length(b1) - 1)//1)

    for {axes, side} <- [{b1, "left"}, {b2, "right"}], axes != [] and axes != leading do
      raise ArgumentError,
            "invalid dot batch axis for the #{side} tensor, batch axes must be successive " <>
              "dimensions starting from 0, got #{inspect(axes)}"
    end

    sizes1 = Enum.map(b1, &elem(s1, &1))
    sizes2 = Enum.map(b2, &elem(s2, &1))

    if sizes1 != sizes2 do
      raise ArgumentError,
            "dot batch dimension sizes must match, but the left batch dimension of axes " <>
              "#{inspect(b1)} has dimension sizes #{inspect(sizes1)}and the right batch " <>
              "dimension of axes #{inspect(b2)} has sizes #{inspect(sizes2)}"
    end

    for {batch, contract, side} <- [{b1, c1, "left"}, {b2, c2, "right"}],
        Enum.any?(batch, &(&1 in contract)) do
      raise ArgumentError,
            "dot batch axes for #{side} tensor (#{inspect(batch)}) cannot be in contract " <>
              "axes (#{inspect(contract)})"
    end

    :ok
  end

  ## Linear algebra

  @doc """
  Returns the shape and names of a Cholesky decomposition, after
  checking `shape` is a square matrix or a batch of them.

  ## Examples

      iex> Nx.Shape.cholesky({3, 3}, [:i, :j])
      {{3, 3}, [:i, :j]}
      iex> Nx.Shape.cholesky({2, 3, 3}, [nil, nil, nil])
      {{2, 3, 3}, [nil, nil, nil]}

      iex> Nx.Shape.cholesky({3, 2}, [nil, nil])
      ** (ArgumentError) tensor must be a square matrix or a batch of square matrices, got shape: {3, 2}

      iex> Nx.Shape.cholesky({3}, [nil])
      ** (ArgumentError) tensor must have at least rank 2, got rank 1 with shape {3}

  """
  @spec cholesky(shape, names) :: {shape, names}
  def cholesky(shape, names) do
    square_matrices!(shape)
    {shape, names}
  end

  @doc """
  Returns the shapes of the `q` and `r` results of a QR decomposition
  of a matrix (or batch of matrices) of `shape`.

  `opts[:mode]` is `:reduced` (`q` is `{m, k}` and `r` is `{k, n}`,
  with `k = min(m, n)`) or anything else for the complete mode (`q`
  is `{m, m}` and `r` is `{m, n}`).

  ## Examples

      iex> Nx.Shape.qr({4, 3}, mode: :reduced)
      {{4, 3}, {3, 3}}
      iex> Nx.Shape.qr({4, 3}, mode: :complete)
      {{4, 4}, {4, 3}}
      iex> Nx.Shape.qr({2, 3, 5}, mode: :reduced)
      {{2, 3, 3}, {2, 3, 5}}

      iex> Nx.Shape.qr({3}, [])
      ** (ArgumentError) tensor must have at least rank 2, got rank 1 with shape {3}

  """
  @spec qr(shape, keyword) :: {shape, shape}
  def qr(shape, opts) do
    {batch, m, n} = matrices!(shape)
    k = min(m, n)

    if opts[:mode] == :reduced,
      do: {batch_shape(batch, [m, k]), batch_shape(batch, [k, n])},
      else: {batch_shape(batch, [m, m]), batch_shape(batch, [m, n])}
  end

  @doc """
  Returns the shapes of the eigenvalues and eigenvectors of a square
  matrix (or batch of them) of `shape`.

  ## Examples

      iex> Nx.Shape.eigh({3, 3})
      {{3}, {3, 3}}
      iex> Nx.Shape.eigh({5, 2, 2})
      {{5, 2}, {5, 2, 2}}

      iex> Nx.Shape.eigh({2, 3})
      ** (ArgumentError) tensor must be a square matrix or a batch of square matrices, got shape: {2, 3}

  """
  @spec eigh(shape) :: {shape, shape}
  def eigh(shape) do
    {batch, n, n} = square_matrices!(shape)
    {batch_shape(batch, [n]), batch_shape(batch, [n, n])}
  end

  @doc """
  Returns the shapes of `u`, `s` and `vt` of a singular value
  decomposition of a matrix (or batch of matrices) of `shape`.

  With `full_matrices?: true` in `opts`, `u` is `{m, m}` and `vt`
  `{n, n}`; by default they are `{m, k}` and `{k, n}`, where
  `k = min(m, n)` is also the length of `s`.

  ## Examples

      iex> Nx.Shape.svd({4, 3})
      {{4, 3}, {3}, {3, 3}}
      iex> Nx.Shape.svd({4, 3}, full_matrices?: true)
      {{4, 4}, {3}, {3, 3}}
      iex> Nx.Shape.svd({2, 3, 5})
      {{2, 3, 3}, {2, 3}, {2, 3, 5}}

  """
  @spec svd(shape, keyword) :: {shape, shape, shape}
  def svd(shape, opts \\ []) do
    {batch, m, n} = matrices!(shape)
    k = min(m, n)

    if opts[:full_matrices?],
      do: {batch_shape(batch, [m, m]), batch_shape(batch, [k]), batch_shape(batch, [n, n])},
      else: {batch_shape(batch, [m, k]), batch_shape(batch, [k]), batch_shape(batch, [k, n])}
  end

  @doc """
  Returns the shapes of `p`, `l` and `u` of an LU decomposition of a
  square matrix (or batch of them): all equal to `shape`.

  ## Examples

      iex> Nx.Shape.lu({3, 3})
      {{3, 3}, {3, 3}, {3, 3}}

      iex> Nx.Shape.lu({3, 4})
      ** (ArgumentError) tensor must be a square matrix or a batch of square matrices, got shape: {3, 4}

  """
  @spec lu(shape) :: {shape, shape, shape}
  def lu(shape) do
    square_matrices!(shape)
    {shape, shape, shape}
  end

  @doc """
  Checks that `shape` is a square matrix or a batch of them, as
  `Nx.LinAlg.matrix_power/2` needs.

  ## Examples

      iex> Nx.Shape.matrix_power({2, 4, 4})
      :ok

      iex> Nx.Shape.matrix_power({4})
      ** (ArgumentError) matrix_power/2 expects a square matrix or a batch of square matrices, got tensor with shape: {4}

  """
  @spec matrix_power(shape) :: :ok
  def matrix_power(shape) do
    case shape_matrices(shape) do
      {_batch, n, n} ->
        :ok

      _ ->
        raise ArgumentError,
              "matrix_power/2 expects a square matrix or a batch of square matrices, " <>
                "got tensor with shape: #{inspect(shape)}"
    end
  end

  @doc """
  Checks the shapes of `Nx.LinAlg.triangular_solve/3`: `a` is a square
  matrix (or batch) of size `n` and `b` a vector of length `n`, or a
  matrix with `n` rows when `left_side` is true and `n` columns
  otherwise, with the same batch shape.

  ## Examples

      iex> Nx.Shape.triangular_solve({3, 3}, {3}, true)
      :ok
      iex> Nx.Shape.triangular_solve({3, 3}, {3, 5}, true)
      :ok
      iex> Nx.Shape.triangular_solve({3, 3}, {5, 3}, false)
      :ok
      iex> Nx.Shape.triangular_solve({2, 3, 3}, {2, 3, 4}, true)
      :ok

      iex> Nx.Shape.triangular_solve({3, 3}, {5, 3}, true)
      ** (ArgumentError) incompatible dimensions for a and b on triangular solve

      iex> Nx.Shape.triangular_solve({3, 4}, {3}, true)
      ** (ArgumentError) triangular_solve/3 expected a square matrix or a batch of square matrices, got tensor with shape: {3, 4}

  """
  @spec triangular_solve(shape, shape, boolean) :: :ok
  def triangular_solve(a_shape, b_shape, left_side) do
    with {batch, n, n} <- shape_matrices(a_shape),
         true <- solvable?(batch, n, b_shape, left_side) do
      :ok
    else
      {_batch, _m, _n} when tuple_size(a_shape) == 2 or tuple_size(b_shape) > 1 ->
        raise ArgumentError,
              "triangular_solve/3 expected a square matrix or a batch of square matrices, " <>
                "got tensor with shape: #{inspect(a_shape)}"

      _ ->
        raise ArgumentError, "incompatible dimensions for a and b on triangular solve"
    end
  end

  # Whether b (batch ++ [n]) or (batch ++ [n, m] on the left side,
  # batch ++ [m, n] on the right side) can be solved against a.
  defp solvable?(batch, n, b_shape, left_side) do
    case b_shape |> Tuple.to_list() |> Enum.split(length(batch)) do
      {^batch, [^n]} -> true
      {^batch, [^n, _]} when left_side -> true
      {^batch, [_, ^n]} when not left_side -> true
      _ -> false
    end
  end

  @doc """
  Returns the output shape of `Nx.LinAlg.solve/2` (the shape of `b`),
  after checking `a` is a square matrix (or batch) of size `n` and `b`
  a vector of length `n` or a matrix with `n` rows, with the same
  batch shape.

  ## Examples

      iex> Nx.Shape.solve({3, 3}, {3})
      {3}
      iex> Nx.Shape.solve({3, 3}, {3, 2})
      {3, 2}
      iex> Nx.Shape.solve({4, 3, 3}, {4, 3})
      {4, 3}

      iex> Nx.Shape.solve({3, 3}, {2})
      ** (ArgumentError) `b` tensor has incompatible dimensions, expected {3, 3} or {3}, got: {2}

      iex> Nx.Shape.solve({4, 3, 3}, {4, 2})
      ** (ArgumentError) `b` tensor has incompatible dimensions, expected {4, 3, "m"} or {4, 3}, got: {4, 2}

      iex> Nx.Shape.solve({3, 2}, {3})
      ** (ArgumentError) `a` tensor has incompatible dimensions, expected a square matrix or a batch of square matrices, got: {3, 2}

  """
  @spec solve(shape, shape) :: shape
  def solve(a_shape, b_shape) do
    case shape_matrices(a_shape) do
      # Like Nx, a batch of matrices with a vector is reported as a bad `a`.
      {batch, n, n} when batch == [] or tuple_size(b_shape) > 1 ->
        unless solvable?(batch, n, b_shape, true) do
          expected =
            if batch == [],
              do: "#{inspect({n, n})} or {#{n}}",
              else:
                "#{inspect(batch_shape(batch, [n, "m"]))} or #{inspect(batch_shape(batch, [n]))}"

          raise ArgumentError,
                "`b` tensor has incompatible dimensions, expected #{expected}, got: " <>
                  inspect(b_shape)
        end

        b_shape

      _ ->
        raise ArgumentError,
              "`a` tensor has incompatible dimensions, expected a square matrix or a batch " <>
                "of square matrices, got: #{inspect(a_shape)}"
    end
  end

  # {batch_dims, rows, cols} for a shape of rank 2 or more, nil otherwise.
  defp shape_matrices(shape) when tuple_size(shape) >= 2 do
    {batch, [m, n]} = shape |> Tuple.to_list() |> Enum.split(-2)
    {batch, m, n}
  end

  defp shape_matrices(_shape), do: nil

  defp matrices!(shape) do
    shape_matrices(shape) ||
      raise ArgumentError,
            "tensor must have at least rank 2, got rank #{tuple_size(shape)} " <>
              "with shape #{inspect(shape)}"
  end

  defp square_matrices!(shape) do
    case matrices!(shape) do
      {_, n, n} = matrices ->
        matrices

      _ ->
        raise ArgumentError,
              "tensor must be a square matrix or a batch of square matrices, " <>
                "got shape: #{inspect(shape)}"
    end
  end

  defp batch_shape(batch, dims), do: List.to_tuple(batch ++ dims)

  ## Other operations

  @doc """
  Returns `shape`, the output shape of `Nx.fft/2` and `Nx.ifft/2`,
  after checking it has at least one axis.

  ## Examples

      iex> Nx.Shape.fft({4, 8})
      {4, 8}

      iex> Nx.Shape.fft({})
      ** (ArgumentError) expected a tensor with rank > 0, got tensor with rank 0

  """
  @spec fft(shape) :: shape
  def fft({}), do: raise(ArgumentError, "expected a tensor with rank > 0, got tensor with rank 0")
  def fft(shape) when is_tuple(shape), do: shape

  @doc """
  Returns `shape`, the output shape of `Nx.fft2/2` and `Nx.ifft2/2`,
  after checking it has at least two axes.

  ## Examples

      iex> Nx.Shape.fft2({4, 8})
      {4, 8}

      iex> Nx.Shape.fft2({8})
      ** (ArgumentError) expected a tensor with rank > 1, got tensor with rank 1

  """
  @spec fft2(shape) :: shape
  def fft2(shape) when tuple_size(shape) < 2 do
    raise ArgumentError,
          "expected a tensor with rank > 1, got tensor with rank #{tuple_size(shape)}"
  end

  def fft2(shape) when is_tuple(shape), do: shape

  @doc """
  Returns the shape and names of `Nx.top_k/2`: the last axis shrinks to `k`.

  ## Examples

      iex> Nx.Shape.top_k({3, 10}, [:rows, :scores], 4)
      {{3, 4}, [:rows, :scores]}

      iex> Nx.Shape.top_k({3, 2}, [nil, nil], 4)
      ** (ArgumentError) top_k input last axis size must be greater than or equal to k, got size=2 and k=4

      iex> Nx.Shape.top_k({}, [], 1)
      ** (ArgumentError) top_k input must have at least rank 1

      iex> Nx.Shape.top_k({3}, [nil], 0)
      ** (ArgumentError) top_k k must be an integer greater than or equal to 1, got k=0

  """
  @spec top_k(shape, names, pos_integer) :: {shape, names}
  def top_k(shape, names, k) when is_integer(k) and k >= 1 do
    rank = tuple_size(shape)

    if rank == 0 do
      raise ArgumentError, "top_k input must have at least rank 1"
    end

    size = elem(shape, rank - 1)

    if size < k do
      raise ArgumentError,
            "top_k input last axis size must be greater than or equal to k, " <>
              "got size=#{size} and k=#{k}"
    end

    {put_elem(shape, rank - 1, k), names}
  end

  def top_k(_shape, _names, k) do
    k = if is_number(k), do: k, else: inspect(k)
    raise ArgumentError, "top_k k must be an integer greater than or equal to 1, got k=#{k}"
  end

  ## Helpers

  defp unzip_dims(dims_and_names) do
    {dims, names} = Enum.unzip(dims_and_names)
    {List.to_tuple(dims), names}
  end

  defp unzip_axes(indexed), do: indexed |> Enum.map(&elem(&1, 0)) |> unzip_dims()
end
