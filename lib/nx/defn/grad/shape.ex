defmodule Nx.Defn.Grad.Shape do
  # Gradient rules of operations that move elements without computing on
  # them: reshaping, transposing, broadcasting, padding, slicing,
  # concatenating and indexing. Their gradients move the incoming gradient
  # back (and add it up where an element was used several times).
  #
  # Same contract as `Nx.Defn.Grad.Elementwise.grad/4`.
  @moduledoc false

  @doc false
  def grad(op, args, ans, g)

  def grad(:reshape, [x], _ans, g), do: [{x, Nx.reshape(g, x.shape)}]
  def grad(:squeeze, [x, _axes], _ans, g), do: [{x, Nx.reshape(g, x.shape)}]
  def grad(:transpose, [x, axes], _ans, g), do: [{x, Nx.transpose(g, axes: inverse(axes))}]
  def grad(:reverse, [x, axes], _ans, g), do: [{x, Nx.reverse(g, axes: axes)}]

  # The axes of the result that are not in `axes` are new; the axes of `x`
  # of size 1 mapped to larger ones are expanded: both are summed.
  def grad(:broadcast, [x, shape, axes], _ans, g) do
    new_axes = Nx.axes(shape) -- axes
    g = if new_axes == [], do: g, else: Nx.sum(g, axes: new_axes)

    # The remaining axes are in increasing order; put them in the order of x.
    sorted = Enum.sort(axes)

    g =
      if sorted == axes, do: g, else: Nx.transpose(g, axes: Enum.map(axes, &index_of(sorted, &1)))

    expanded =
      for {axis, i} <- Enum.with_index(axes),
          elem(x.shape, i) == 1 and elem(shape, axis) != 1,
          do: i

    g = if expanded == [], do: g, else: Nx.sum(g, axes: expanded, keep_axes: true)
    [{x, Nx.reshape(g, x.shape)}]
  end

  # The elements of x sit at lo + i * (interior + 1) in the result: undo
  # the edges (negative edges crop, so undoing them pads with zeros), then
  # take every (interior + 1)-th element. The pad value got the rest.
  def grad(:pad, [x, value, config], _ans, g) do
    unpadded = Nx.pad(g, 0, Enum.map(config, fn {lo, hi, _} -> {-lo, -hi, 0} end))
    strides = Enum.map(config, fn {_, _, interior} -> interior + 1 end)
    starts = List.duplicate(0, Nx.rank(x))
    gx = Nx.slice(unpadded, starts, Tuple.to_list(unpadded.shape), strides: strides)
    [{x, gx}, {value, Nx.subtract(Nx.sum(g), Nx.sum(gx))}]
  end

  # Spreads the gradient back with the strides, and pads it to the whole
  # slice length so that put_slice clamps the start as slice did.
  def grad(:slice, [x, starts, lengths, strides], _ans, g) do
    config =
      [Tuple.to_list(g.shape), lengths, strides]
      |> Enum.zip_with(fn [n, len, stride] -> {0, len - ((n - 1) * stride + 1), stride - 1} end)

    spread = Nx.pad(g, 0, config)
    [{x, Nx.put_slice(zeros_like(g, x.shape), starts, spread)}]
  end

  def grad(:put_slice, [x, starts, update], _ans, g) do
    gx = Nx.put_slice(g, starts, zeros_like(g, update.shape))
    gu = Nx.slice(g, starts, Tuple.to_list(update.shape))
    [{x, gx}, {update, gu}]
  end

  def grad(:concatenate, [tensors, axis], _ans, g) do
    {pairs, _} =
      Enum.map_reduce(tensors, 0, fn t, offset ->
        size = elem(t.shape, axis)
        {{t, Nx.slice_along_axis(g, offset, size, axis: axis)}, offset + size}
      end)

    pairs
  end

  def grad(:stack, [tensors, axis], _ans, g) do
    tensors
    |> Enum.with_index()
    |> Enum.map(fn {t, i} ->
      {t, g |> Nx.slice_along_axis(i, 1, axis: axis) |> Nx.reshape(t.shape)}
    end)
  end

  # Gathered elements send their gradient back to where they came from,
  # adding up when an element was gathered several times. Indices are
  # clamped as gather clamps them.
  def grad(:gather, [x, indices, opts], _ans, g) do
    axes = opts[:axes]
    k = length(axes)
    count = div(Nx.size(indices.shape), k)

    indices =
      indices |> clamp_indices(Enum.map(axes, &elem(x.shape, &1))) |> Nx.reshape({count, k})

    kept = for axis <- Nx.axes(x.shape), axis not in axes, do: elem(x.shape, axis)
    updates = Nx.reshape(g, List.to_tuple([count | kept]))
    [{x, Nx.indexed_add(zeros_like(g, x.shape), indices, updates, axes: axes)}]
  end

  # take and take_along_axis: the gradient of each element of x is the sum
  # of the gradients of the positions that picked it, computed by comparing
  # the indices with every position of the axis.
  def grad(:take, [x, indices, opts], _ans, g) do
    axis = opts[:axis]
    n = elem(x.shape, axis)
    rank = Nx.rank(indices)
    one_hot = one_hot(indices, n, g.type)

    gx =
      Nx.dot(g, Enum.to_list(axis..(axis + rank - 1)//1), one_hot, Enum.to_list(0..(rank - 1)//1))

    [{x, move_last_axis(gx, axis)}]
  end

  def grad(:take_along_axis, [x, indices, opts], _ans, g) do
    axis = opts[:axis]
    one_hot = one_hot(indices, elem(x.shape, axis), g.type)

    gx =
      g
      |> Nx.new_axis(-1)
      |> Nx.multiply(one_hot)
      |> Nx.sum(axes: [axis])
      |> move_last_axis(axis)

    [{x, gx}]
  end

  def grad(:indexed_add, [target, indices, updates, opts], _ans, g) do
    [{target, g}, {updates, gathered(g, indices, updates, opts[:axes])}]
  end

  # Overwritten positions get no gradient from the target.
  def grad(:indexed_put, [target, indices, updates, opts], _ans, g) do
    axes = opts[:axes]
    gt = Nx.indexed_put(g, indices, zeros_like(g, updates.shape), axes: axes)
    [{target, gt}, {updates, gathered(g, indices, updates, axes)}]
  end

  def grad(_op, _args, _ans, _g), do: nil

  ## Helpers

  defp inverse(axes), do: axes |> Enum.with_index() |> Enum.sort() |> Enum.map(&elem(&1, 1))

  defp index_of(list, value), do: Enum.find_index(list, &(&1 == value))

  defp zeros_like(%{type: type}, shape) do
    0 |> Nx.tensor(type: type, backend: Nx.Defn.Expr) |> Nx.broadcast(shape)
  end

  defp clamp_indices(indices, sizes) do
    limits = Nx.tensor(Enum.map(sizes, &(&1 - 1)), type: indices.type, backend: Nx.Defn.Expr)
    indices |> Nx.max(0) |> Nx.min(limits)
  end

  defp one_hot(indices, n, type) do
    indices = Nx.clip(indices, 0, n - 1)
    positions = Nx.iota({n}, type: indices.type, backend: Nx.Defn.Expr)
    indices |> Nx.new_axis(-1) |> Nx.equal(positions) |> Nx.as_type(type)
  end

  # Moves the last axis of `t` to position `axis`.
  defp move_last_axis(t, axis) do
    last = Nx.rank(t) - 1

    if axis == last do
      t
    else
      Nx.transpose(t,
        axes: Enum.to_list(0..(axis - 1)//1) ++ [last] ++ Enum.to_list(axis..(last - 1)//1)
      )
    end
  end

  # The gradient of each update: the gradient at the positions it went to
  # (updates may cover the leading part of the other axes only).
  defp gathered(g, indices, updates, axes) do
    taken = Nx.gather(g, indices, axes: axes)

    if taken.shape == updates.shape do
      taken
    else
      Nx.slice(taken, List.duplicate(0, Nx.rank(updates)), Tuple.to_list(updates.shape))
    end
  end
end
