defmodule Nx.Defn.Grad.Reduce do
  # Gradient rules of operations that combine elements: aggregates,
  # cumulative operations, dot, sort and top_k.
  #
  # Same contract as `Nx.Defn.Grad.Elementwise.grad/4`; tuple results
  # (top_k) get a list with one gradient (or nil) per element.
  @moduledoc false

  alias Nx.Defn.{Expr, Grad}

  @doc false
  def grad(op, args, ans, g)

  def grad(:sum, [x, opts], _ans, g), do: [{x, spread(g, x, opts)}]

  # Ties share the gradient equally. Winners are counted as 1.0/0.0 in the
  # gradient's float type (the same values as counting the u8 mask, which
  # sums to u32), so that compilers can fuse the count with its neighbours.
  def grad(op, [x, opts], ans, g) when op in [:reduce_max, :reduce_min] do
    axes = reduced_axes(x, opts)
    mask = Nx.equal(x, kept(ans, x, axes))

    winners =
      case Nx.type(g) do
        {:f, _} = t -> Nx.select(mask, Nx.tensor(1, type: t), Nx.tensor(0, type: t))
        _other -> mask
      end

    count = Nx.sum(winners, axes: axes, keep_axes: true)
    [{x, g |> kept(x, axes) |> Nx.multiply(winners) |> Nx.divide(count)}]
  end

  # d/dx_i prod(x) = prod of the others: ans / x_i when no element is zero;
  # with one zero, only the zero element gets the product of the others;
  # with more zeros, every derivative is zero.
  def grad(:product, [x, opts], ans, g) do
    axes = reduced_axes(x, opts)
    zero? = Nx.equal(x, 0)
    zeros = Nx.sum(zero?, axes: axes, keep_axes: true)
    nonzero = Nx.select(zero?, 1, x)
    others = Nx.product(nonzero, axes: axes, keep_axes: true)

    dx =
      Grad.select(
        Nx.equal(zeros, 0),
        Nx.divide(kept(ans, x, axes), nonzero),
        Grad.select(Nx.logical_and(zero?, Nx.equal(zeros, 1)), others, 0)
      )

    [{x, Nx.multiply(kept(g, x, axes), dx)}]
  end

  def grad(:cumulative_sum, [x, opts], _ans, g),
    do: [{x, Nx.cumulative_sum(g, axis: opts[:axis], reverse: not opts[:reverse])}]

  # y_k = prod_{j <= k} x_j, so dx_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j
  # (mirrored when reversed). The inner products are running products of
  # x with x_i replaced by 1, one row per i: quadratic in the axis length,
  # exact with zeros.
  def grad(:cumulative_product, [x, opts], _ans, g) do
    %{axis: axis, reverse: reverse} = Map.new(opts)

    along_last(x, axis, fn x ->
      n = last_dim(x)
      {rows, cols} = square_iotas(n)
      without_self = Grad.select(Nx.equal(rows, cols), 1, Nx.new_axis(x, -2))
      products = Nx.cumulative_product(without_self, axis: -1, reverse: reverse)
      later = if reverse, do: Nx.less_equal(cols, rows), else: Nx.greater_equal(cols, rows)
      g = move_to_last(g, axis)

      products
      |> Nx.multiply(Nx.new_axis(g, -2))
      |> then(&Grad.select(later, &1, 0))
      |> Nx.sum(axes: [-1])
    end)
  end

  # cumulative_max(x)_k = reduce_max(x_0..x_k): g_k goes to the positions
  # j <= k holding that maximum, shared equally when tied.
  def grad(op, [x, opts], ans, g) when op in [:cumulative_max, :cumulative_min] do
    %{axis: axis, reverse: reverse} = Map.new(opts)

    along_last(x, axis, fn x ->
      {rows, cols} = square_iotas(last_dim(x))
      # rows index k (the output), cols index j (the input)
      seen = if reverse, do: Nx.greater_equal(cols, rows), else: Nx.less_equal(cols, rows)
      ans = move_to_last(ans, axis)
      g = move_to_last(g, axis)
      winners = Nx.logical_and(seen, Nx.equal(Nx.new_axis(x, -2), Nx.new_axis(ans, -1)))
      count = Nx.sum(winners, axes: [-1], keep_axes: true)

      winners
      |> Nx.multiply(Nx.new_axis(g, -1))
      |> Nx.divide(count)
      |> Nx.sum(axes: [-2])
    end)
  end

  # The gradient of the sorted element at position k goes back to where it
  # came from: the inverse permutation of the sorting one.
  def grad(:sort, [x, opts], _ans, g) do
    axis = opts[:axis]
    order = Nx.argsort(x, axis: axis, direction: opts[:direction] || :asc, stable: true)
    inverse = Nx.argsort(order, axis: axis)
    [{x, Nx.take_along_axis(g, inverse, axis: axis)}]
  end

  def grad(:top_k, [{values, indices}, x, _opts], ans, [g_values, _g_indices]) do
    if g_values == nil do
      []
    else
      {_values, indices} = Expr.tuple(ans, [values, indices])
      positions = Nx.iota({last_dim(x)}, type: indices.type, backend: Expr)
      one_hot = indices |> Nx.new_axis(-1) |> Nx.equal(positions)
      [{x, one_hot |> Nx.multiply(Nx.new_axis(g_values, -1)) |> Nx.sum(axes: [-2])}]
    end
  end

  # For the result axes (batch, free axes of x, free axes of y) the
  # gradient of x contracts g with y over the free axes of y, batched the
  # same way; what is left (batch, free of x, contracted of y) is put back
  # in the order of the axes of x. Symmetrically for y.
  def grad(:dot, [x, cx, bx, y, cy, by], _ans, g) do
    nb = length(bx)
    free_x = Nx.axes(x.shape) -- (cx ++ bx)
    free_y = Nx.axes(y.shape) -- (cy ++ by)
    batch_g = Enum.to_list(0..(nb - 1)//1)
    g_free_x = Enum.to_list(nb..(nb + length(free_x) - 1)//1)
    g_free_y = Enum.to_list((nb + length(free_x))..(Nx.rank(g) - 1)//1)

    gx =
      g
      |> Nx.dot(g_free_y, batch_g, y, free_y, by)
      |> Nx.transpose(axes: inverse(bx ++ free_x ++ paired(cy, cx)))

    gy =
      g
      |> Nx.dot(g_free_x, batch_g, x, free_x, bx)
      |> Nx.transpose(axes: inverse(by ++ free_y ++ paired(cx, cy)))

    [{x, gx}, {y, gy}]
  end

  def grad(op, _args, _ans, _g) when op in [:reduce, :window_reduce, :window_product] do
    raise ArgumentError, """
    cannot compute the gradient of Nx.#{op}.

    Use the specific aggregate (such as Nx.sum/2 or Nx.window_sum/3) if there is one, \
    wrap the value in stop_grad/1 to treat it as a constant, or give it a gradient \
    with custom_grad/3\
    """
  end

  def grad(_op, _args, _ans, _g), do: nil

  ## Helpers

  defp reduced_axes(x, opts), do: opts[:axes] || Nx.axes(x.shape)

  # Reshapes a reduced tensor so that it broadcasts against x.
  defp kept(t, x, axes) do
    shape = Enum.reduce(axes, x.shape, &put_elem(&2, &1, 1))
    Nx.reshape(t, shape)
  end

  defp spread(g, x, opts), do: g |> kept(x, reduced_axes(x, opts)) |> Nx.broadcast(x.shape)

  defp inverse(axes), do: axes |> Enum.with_index() |> Enum.sort() |> Enum.map(&elem(&1, 1))

  # The axes of `to` paired with `from` (contracted together), listed in
  # the increasing order of `from`.
  defp paired(from, to) do
    pairs = Enum.zip(from, to)
    from |> Enum.sort() |> Enum.map(&Enum.find_value(pairs, fn {f, t} -> f == &1 && t end))
  end

  defp last_dim(t), do: elem(t.shape, Nx.rank(t) - 1)

  defp square_iotas(n) do
    rows = Nx.iota({n, n}, axis: 0, backend: Expr)
    cols = Nx.iota({n, n}, axis: 1, backend: Expr)
    {rows, cols}
  end

  defp move_to_last(t, axis) do
    last = Nx.rank(t) - 1
    if axis == last, do: t, else: Nx.transpose(t, axes: (Nx.axes(t.shape) -- [axis]) ++ [axis])
  end

  # Runs `fun` on x with `axis` moved last and returns `{x, result}` with
  # the axis moved back.
  defp along_last(x, axis, fun) do
    result = fun.(move_to_last(x, axis))
    last = Nx.rank(x) - 1

    result =
      if axis == last do
        result
      else
        Nx.transpose(result,
          axes: Enum.to_list(0..(axis - 1)//1) ++ [last] ++ Enum.to_list(axis..(last - 1)//1)
        )
      end

    [{x, result}]
  end
end
