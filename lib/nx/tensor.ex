defmodule Nx.Tensor do
  @moduledoc """
  The tensor struct and the behaviours it implements.

  A tensor holds:

    * `:data` - the backend's own data (for example an `Nx.Torch.Backend` struct)
    * `:type` - the element type, such as `{:f, 32}` (see `Nx.Type`)
    * `:shape` - a tuple of non-negative integers
    * `:names` - a list of axis names (atoms or `nil`), one per axis
    * `:vectorized_axes` - a keyword list of vectorized axes and their sizes

  `Nx.Tensor` implements the `Access` behaviour, so `tensor[0]`, `tensor[1..2]`,
  `tensor[[0, 1..-1//1]]`, `tensor[x: 0]` and `tensor[indices_tensor]` work
  as described in the "Access syntax" section of the `Nx` module, on top of
  `Nx.slice/4`, `Nx.squeeze/2` and `Nx.take/3`.

  Users should not build this struct by hand: create tensors with the `Nx`
  functions and read its fields with `Nx.type/1`, `Nx.shape/1`, `Nx.names/1`.
  """

  @type data :: term()
  @type type :: Nx.Type.t()
  @type shape :: tuple()
  @type axis :: name | integer
  @type axes :: [axis]
  @type name :: atom

  @type t :: %Nx.Tensor{
          data: data,
          type: type,
          shape: shape,
          names: [name | nil],
          vectorized_axes: [{name, pos_integer}]
        }

  @type t(data) :: %Nx.Tensor{
          data: data,
          type: type,
          shape: shape,
          names: [name | nil],
          vectorized_axes: [{name, pos_integer}]
        }

  @enforce_keys [:type, :shape, :names]
  defstruct [:data, :type, :shape, :names, vectorized_axes: []]

  ## Access: tensor[index]
  #
  # An integer (negative counts from the end) or a scalar tensor selects one entry of the
  # first axis and removes it; a range (`first..last//step`, inclusive, positive step)
  # keeps the axis; a list or keyword list addresses several axes (by position or name);
  # a tensor of indices of any other shape is `Nx.take/3`. Everything but tensors of
  # indices becomes one `Nx.slice/4` followed by `Nx.squeeze/2`.

  @behaviour Access

  @impl Access
  def fetch(%Nx.Tensor{shape: {}} = tensor, _index) do
    raise ArgumentError,
          "cannot use the tensor[index] syntax on scalar tensor #{inspect(tensor)}"
  end

  def fetch(tensor, %Nx.Tensor{shape: {}} = index), do: {:ok, access(tensor, [{0, index}])}
  def fetch(tensor, %Nx.Tensor{} = indices), do: {:ok, Nx.take(tensor, indices)}
  def fetch(tensor, index) when is_integer(index), do: {:ok, access(tensor, [{0, index}])}
  def fetch(tensor, _.._//_ = range), do: {:ok, access(tensor, [{0, range}])}
  def fetch(tensor, []), do: {:ok, tensor}

  def fetch(%Nx.Tensor{names: names} = tensor, [{key, _} | _] = keyword) when is_atom(key) do
    {:ok, access(tensor, Enum.map(keyword, fn {k, v} -> {Nx.Shape.find_name!(names, k), v} end))}
  end

  def fetch(tensor, [_ | _] = list),
    do: {:ok, access(tensor, Enum.with_index(list, fn value, axis -> {axis, value} end))}

  def fetch(_tensor, other) do
    raise ArgumentError,
          "tensor[index] expects an integer or a scalar tensor (a zero-based index), " <>
            "a first..last//step range with a positive step, a tensor of indices, or a " <>
            "list or keyword list of integers, scalar tensors and ranges, got: " <>
            inspect(other)
  end

  @impl Access
  def get_and_update(_tensor, _index, _fun) do
    raise "Access.get_and_update/3 is not supported by Nx.Tensor, use Nx.put_slice/3 instead"
  end

  @impl Access
  def pop(_tensor, _index) do
    raise "Access.pop/2 is not supported by Nx.Tensor"
  end

  defp access(%Nx.Tensor{shape: shape} = tensor, selections) do
    rank = tuple_size(shape)

    for {axis, _} <- selections,
        Enum.count(selections, &(elem(&1, 0) == axis)) > 1 or axis >= rank do
      raise ArgumentError,
            "unknown or duplicate axis #{axis} found when slicing shape #{inspect(shape)}"
    end

    specs =
      for axis <- 0..(rank - 1)//1 do
        dim = elem(shape, axis)

        case List.keyfind(selections, axis, 0) do
          nil -> {0, dim, 1, false}
          {_, value} -> axis_selection(value, axis, shape)
        end
      end

    starts = Enum.map(specs, &elem(&1, 0))
    lengths = Enum.map(specs, &elem(&1, 1))
    strides = Enum.map(specs, &elem(&1, 2))
    squeeze = for {{_, _, _, true}, axis} <- Enum.with_index(specs), do: axis

    sliced = Nx.slice(tensor, starts, lengths, strides: strides)
    if squeeze == [], do: sliced, else: Nx.squeeze(sliced, axes: squeeze)
  end

  defp axis_selection(%Nx.Tensor{shape: {}} = index, _axis, _shape), do: {index, 1, 1, true}

  defp axis_selection(%Nx.Tensor{} = index, _axis, _shape) do
    raise ArgumentError,
          "tensor must be a scalar when accessing a list/keyword of dimensions, got: " <>
            inspect(index)
  end

  defp axis_selection(index, axis, shape) when is_integer(index),
    do: {in_bounds!(index, axis, shape), 1, 1, true}

  defp axis_selection(first..last//step = range, axis, shape) do
    if step < 0 do
      hint =
        if step == -1,
          do: ". Did you mean to pass the range #{inspect(first..last//1)} instead?",
          else: ""

      raise ArgumentError, "range step must be positive, got range: #{inspect(range)}" <> hint
    end

    first = in_bounds!(first, axis, shape)
    last = in_bounds!(last, axis, shape)

    if last < first do
      raise ArgumentError,
            "slicing a tensor requires a non-empty range, got: #{inspect(first..last//step)}"
    end

    {first, last - first + 1, step, false}
  end

  defp axis_selection(other, _axis, _shape) do
    raise ArgumentError,
          "slicing a tensor on an axis requires an integer, a scalar tensor or a range, got: " <>
            inspect(other)
  end

  defp in_bounds!(index, axis, shape) do
    dim = elem(shape, axis)
    position = if index < 0, do: dim + index, else: index

    if position < 0 or position >= dim do
      raise ArgumentError,
            "index #{index} is out of bounds for axis #{axis} in shape #{inspect(shape)}"
    end

    position
  end
end
