defmodule Nx.Vectorize do
  @moduledoc false

  # The machinery behind vectorized tensors (see the "Vectorization" functions of `Nx`).
  #
  # A vectorized tensor keeps its data with every axis: the vectorized axes lead, followed
  # by the inner `shape`. Backends only ever see devectorized tensors. An operation on
  # vectorized inputs devectorizes them (aligning their vectorized axes by name), runs the
  # ordinary operation on the leading-axes layout with its axes shifted past the vectorized
  # ones, and turns the leading axes of the result back into vectorized axes.
  #
  # Internally the leading axes carry no names (`nil`): inner names may repeat the name of
  # a vectorized axis of another input, and the leading names are dropped on the way back.

  alias Nx.Tensor, as: T

  @doc "Whether a value is a vectorized tensor."
  def vectorized?(%T{vectorized_axes: [_ | _]}), do: true
  def vectorized?(_), do: false

  @doc "Whether any of the values is a vectorized tensor."
  def any?(values), do: Enum.any?(values, &vectorized?/1)

  @doc "The tensor with its vectorized axes as leading axes without names."
  def devectorize(%T{vectorized_axes: []} = tensor), do: tensor

  def devectorize(%T{shape: shape, names: names, vectorized_axes: axes} = tensor) do
    sizes = Keyword.values(axes)

    %{
      tensor
      | shape: List.to_tuple(sizes ++ Tuple.to_list(shape)),
        names: List.duplicate(nil, length(sizes)) ++ names,
        vectorized_axes: []
    }
  end

  @doc """
  Turns the leading axes of `result` (a tensor, or a tuple or list of tensors) into
  vectorized axes called `names`, with the sizes the result has there.
  """
  def revectorize(result, []), do: result

  def revectorize(%T{shape: shape, names: names} = tensor, vectorized_names) do
    count = length(vectorized_names)
    {sizes, inner} = shape |> Tuple.to_list() |> Enum.split(count)

    %{
      tensor
      | shape: List.to_tuple(inner),
        names: Enum.drop(names, count),
        vectorized_axes: Enum.zip(vectorized_names, sizes)
    }
  end

  def revectorize(tuple, vectorized_names) when is_tuple(tuple) do
    tuple |> Tuple.to_list() |> revectorize(vectorized_names) |> List.to_tuple()
  end

  def revectorize(list, vectorized_names) when is_list(list),
    do: Enum.map(list, &revectorize(&1, vectorized_names))

  @doc """
  Runs `fun` on the devectorized tensor and the number of vectorized axes, then
  vectorizes what it returns over the same axes.
  """
  def apply(%T{vectorized_axes: axes} = tensor, fun) when is_function(fun, 2) do
    tensor |> devectorize() |> fun.(length(axes)) |> revectorize(Keyword.keys(axes))
  end

  @doc """
  The vectorized axes of several tensors merged by name, in order of first appearance:
  sizes of the same name must be equal or one of them 1.
  """
  def canonical_axes(tensors) do
    Enum.reduce(tensors, [], fn
      %T{vectorized_axes: axes}, acc -> Enum.reduce(axes, acc, &merge_axis/2)
      _number, acc -> acc
    end)
  end

  defp merge_axis({name, size}, acc) do
    case List.keyfind(acc, name, 0) do
      nil ->
        acc ++ [{name, size}]

      {_, ^size} ->
        acc

      {_, other} when other == 1 or size == 1 ->
        List.keyreplace(acc, name, 0, {name, Kernel.max(size, other)})

      {_, other} ->
        raise ArgumentError,
              "expected vectorized axis #{inspect(name)} to have the same size in both " <>
                "tensors or to one of them to have size 1, got #{inspect(size)} and " <>
                inspect(other)
    end
  end

  @doc """
  Devectorizes `tensors` (numbers become tensors) so that all of them lead with the same
  vectorized axes, in canonical order: axes a tensor lacks get size 1, or the full size
  with `broadcast: true`. With `align_ranks: true` the inner shapes also get leading axes
  of size 1 up to the largest inner rank.

  Returns `{devectorized_tensors, canonical_axes}`; when no tensor is vectorized the
  tensors are returned as they are, with `[]`.
  """
  def align(tensors, opts \\ []) do
    tensors = Enum.map(tensors, &Nx.to_tensor/1)

    case canonical_axes(tensors) do
      [] ->
        {tensors, []}

      canonical ->
        rank =
          if opts[:align_ranks],
            do: tensors |> Enum.map(&tuple_size(&1.shape)) |> Enum.max(),
            else: nil

        {Enum.map(tensors, &align_one(&1, canonical, opts[:broadcast], rank)), canonical}
    end
  end

  defp align_one(
         %T{shape: shape, names: names, vectorized_axes: axes} = tensor,
         canonical,
         bc?,
         rank
       ) do
    own = Keyword.keys(axes)
    order = for {name, _} <- canonical, name in own, do: name
    tensor = devectorize(tensor)

    # Reorder this tensor's own vectorized axes into the canonical order.
    tensor =
      if order == own do
        tensor
      else
        lead = Enum.map(order, fn name -> Enum.find_index(own, &(&1 == name)) end)
        rest = Enum.to_list(length(own)..(tuple_size(tensor.shape) - 1)//1)
        Nx.transpose(tensor, axes: lead ++ rest)
      end

    pad = if rank, do: rank - tuple_size(shape), else: 0
    inner = Tuple.to_list(shape)
    lead_sizes = for {name, _} <- canonical, do: Keyword.get(axes, name, 1)
    target_names = List.duplicate(nil, length(canonical) + pad) ++ names
    target = List.to_tuple(lead_sizes ++ List.duplicate(1, pad) ++ inner)

    tensor =
      if tensor.shape == target,
        do: %{tensor | names: target_names},
        else: Nx.reshape(tensor, target, names: target_names)

    full = List.to_tuple(Keyword.values(canonical) ++ List.duplicate(1, pad) ++ inner)

    if bc? && full != target do
      Nx.broadcast(tensor, full, names: target_names)
    else
      tensor
    end
  end

  @doc """
  Runs `fun` on the aligned devectorized tensors (see `align/2`) and the number of
  vectorized axes, and vectorizes its result over the canonical axes. Without vectorized
  inputs `fun` gets the tensors and 0.
  """
  def apply_all(tensors, opts, fun) when is_function(fun, 2) do
    case align(tensors, opts) do
      {tensors, []} ->
        fun.(tensors, 0)

      {devectorized, canonical} ->
        devectorized |> fun.(length(canonical)) |> revectorize(Keyword.keys(canonical))
    end
  end

  @doc """
  Runs `fun` once per entry of the (broadcast) vectorized axes of `tensors`: it gets a list
  with one non-vectorized tensor per input and returns a tensor or a tuple of tensors,
  which are stacked back under the vectorized axes. The fallback for operations without a
  batched formulation.
  """
  def map_entries(tensors, fun) when is_function(fun, 1) do
    case align(tensors, broadcast: true) do
      {tensors, []} ->
        fun.(tensors)

      {devectorized, canonical} ->
        count = length(canonical)
        sizes = Keyword.values(canonical)
        total = Enum.product(sizes)

        flat =
          Enum.map(devectorized, fn %T{shape: shape, names: names} = t ->
            inner = shape |> Tuple.to_list() |> Enum.drop(count)
            Nx.reshape(t, List.to_tuple([total | inner]), names: [nil | Enum.drop(names, count)])
          end)

        results =
          for i <- 0..(total - 1) do
            flat
            |> Enum.map(&(&1 |> Nx.slice_along_axis(i, 1, axis: 0) |> Nx.squeeze(axes: [0])))
            |> fun.()
          end

        results
        |> stack_entries(sizes)
        |> revectorize(Keyword.keys(canonical))
    end
  end

  defp stack_entries([first | _] = results, sizes) when is_tuple(first) do
    for i <- 0..(tuple_size(first) - 1) do
      results |> Enum.map(&elem(&1, i)) |> stack_entries(sizes)
    end
    |> List.to_tuple()
  end

  defp stack_entries([%T{shape: shape, names: names} | _] = results, sizes) do
    leading = List.duplicate(nil, length(sizes))

    results
    |> Nx.stack()
    |> Nx.reshape(List.to_tuple(sizes ++ Tuple.to_list(shape)), names: leading ++ names)
  end

  @doc "Integer axes (already normalized against the inner shape) shifted by `offset`."
  def shift(nil, _offset), do: nil
  def shift(axes, offset) when is_list(axes), do: Enum.map(axes, &(&1 + offset))
  def shift(axis, offset) when is_integer(axis), do: axis + offset

  @doc "A list of `count` leading entries followed by `list`."
  def lead(list, count, value), do: List.duplicate(value, count) ++ list
end
