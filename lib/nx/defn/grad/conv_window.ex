defmodule Nx.Defn.Grad.ConvWindow do
  # Gradient rules of convolutions and window aggregates.
  #
  # Both are sums over windows, so their transposes are again convolutions
  # or window sums: the incoming gradient is spread out by the strides
  # (interior padding), padded so that every window that saw an element
  # covers it again, and correlated with the reversed window. window_max
  # and window_min send the gradient to the element each window selected,
  # as Nx does, with window_scatter_max/min.
  #
  # Same contract as `Nx.Defn.Grad.Elementwise.grad/4`.
  @moduledoc false

  alias Nx.Defn.Expr

  @doc false
  def grad(op, args, ans, g)

  ## conv

  # In the canonical layouts (input [batch, channels, spatial...], kernel
  # [filters, channels, spatial...], result [batch, filters, spatial...])
  # and along one spatial axis, with the input dilated by `id` and padded
  # by `{lo, hi}`:
  #
  #     y[n, o, j] = sum(c, k) xp[n, c, j * s + k * kd] * w[o, c, k]
  #
  # The input gradient is a convolution of g (dilated by s) with the
  # reversed kernel (filters and channels swapped, per group), whose
  # padding puts each position p of xp under every window that read it; a
  # stride of `id` keeps the positions of the undilated input. The kernel
  # gradient is a convolution of the input (as [channels, batch, ...])
  # with g (as [filters, batch, ...]) used as the kernel: g's positions are
  # `s` apart (kernel dilation s) and the kernel's taps `kd` apart (stride
  # kd). Feature groups of one become batch groups of the other and vice
  # versa. Complex values get the conjugate of the other factor.
  def grad(:conv, [x, kernel, opts], _ans, g) do
    in_perm = opts[:input_permutation]
    kernel_perm = opts[:kernel_permutation]
    out_perm = opts[:output_permutation]
    strides = opts[:strides]
    padding = opts[:padding]
    in_dil = opts[:input_dilation]
    k_dil = opts[:kernel_dilation]
    feature_groups = opts[:feature_group_size]
    batch_groups = opts[:batch_group_size]
    groups = max(feature_groups, batch_groups)

    x_c = permute(x, in_perm)
    k_c = permute(kernel, kernel_perm)
    g_c = permute(g, out_perm)
    spatial_axes = Enum.to_list(2..(Nx.rank(x) - 1)//1)

    [_, _ | in_sizes] = Tuple.to_list(x_c.shape)
    [_, _ | k_sizes] = Tuple.to_list(k_c.shape)
    [_, _ | out_sizes] = Tuple.to_list(g_c.shape)

    # per spatial axis: the dilated input and kernel sizes, and the extent
    # of the windows' starts
    dims =
      [in_sizes, k_sizes, out_sizes, strides, padding, in_dil, k_dil]
      |> Enum.zip_with(fn [size, k, out, s, {lo, hi}, id, kd] ->
        %{
          input: (size - 1) * id + 1,
          span: (k - 1) * kd + 1,
          reach: (out - 1) * s,
          lo: lo,
          hi: hi
        }
      end)

    back_kernel =
      k_c
      |> regroup_filters(groups)
      |> Nx.reverse(axes: spatial_axes)
      |> conj()

    x_padding = Enum.map(dims, &{&1.span - 1 - &1.lo, &1.input + &1.lo - &1.reach - 1})

    gx_c =
      Nx.conv(g_c, back_kernel,
        strides: in_dil,
        padding: x_padding,
        input_dilation: strides,
        kernel_dilation: k_dil,
        feature_group_size: groups
      )

    gx_c = if batch_groups > 1, do: ungroup_batch(gx_c, batch_groups), else: gx_c

    k_padding = Enum.map(dims, &{&1.lo, &1.reach + &1.span - &1.input - &1.lo})

    group_opts =
      cond do
        batch_groups > 1 -> [feature_group_size: batch_groups]
        feature_groups > 1 -> [batch_group_size: feature_groups]
        true -> []
      end

    gk_c =
      x_c
      |> swap_leading()
      |> conj()
      |> Nx.conv(
        swap_leading(g_c),
        [
          strides: k_dil,
          padding: k_padding,
          input_dilation: in_dil,
          kernel_dilation: strides
        ] ++ group_opts
      )
      |> swap_leading()

    [{x, unpermute(gx_c, in_perm)}, {kernel, unpermute(gk_c, kernel_perm)}]
  end

  ## Windows

  # Position p of the padded input is read by the windows j with
  # p = j * s + k * d: spreading g by the strides, padding it by the
  # window's span (less the input's padding, which is cropped away) and
  # summing windows of the same size and dilations gives, for each input
  # position, the sum of the gradients of the windows that read it.
  def grad(:window_sum, [x, window, opts], _ans, g) do
    config =
      [
        Tuple.to_list(x.shape),
        Tuple.to_list(window),
        Tuple.to_list(g.shape),
        opts[:strides],
        opts[:padding],
        opts[:window_dilations]
      ]
      |> Enum.zip_with(fn [size, w, out, s, {lo, _hi}, d] ->
        span = (w - 1) * d + 1
        {span - 1 - lo, size + lo - (out - 1) * s - 1, s - 1}
      end)

    gx =
      g
      |> Nx.pad(0, config)
      |> Nx.window_sum(window, window_dilations: opts[:window_dilations])

    [{x, gx}]
  end

  # The gradient of each window goes to the element it selected (the last
  # one when several hold the value, as window_scatter_max/min choose).
  def grad(op, [x, window, opts], _ans, g) when op in [:window_max, :window_min] do
    gx =
      if Enum.all?(opts[:window_dilations], &(&1 == 1)) do
        scatter =
          if op == :window_max, do: &Nx.window_scatter_max/5, else: &Nx.window_scatter_min/5

        scatter.(x, g, 0, window, padding: opts[:padding], strides: opts[:strides])
      else
        scatter_selected(op, x, g, window, opts)
      end

    [{x, gx}]
  end

  # The result is init_value plus, at each selected position, the sum of
  # the source values of the windows that selected it: the source gets the
  # gradient at its window's selected position, init_value the sum of all,
  # and the tensor (which only chooses positions) none.
  def grad(op, [tensor, source, init_value, window, opts], _ans, g)
      when op in [:window_scatter_max, :window_scatter_min] do
    select_op = if op == :window_scatter_max, do: :window_max, else: :window_min
    rank = Nx.rank(tensor)
    opts = Keyword.put(opts, :window_dilations, List.duplicate(1, rank))
    {_padded_shape, chosen} = selected_positions(select_op, tensor, window, source.shape, opts)
    padded_g = Nx.pad(g, 0, Enum.map(opts[:padding], fn {lo, hi} -> {lo, hi, 0} end))
    gs = Nx.gather(padded_g, chosen)

    [
      {tensor, Nx.Defn.Grad.zeros(tensor)},
      {source, gs},
      {init_value, Nx.sum(g)}
    ]
  end

  def grad(_op, _args, _ans, _g), do: nil

  ## Helpers

  defp conj(%{type: {:c, _}} = t), do: Nx.conjugate(t)
  defp conj(t), do: t

  defp identity?(perm), do: perm == Enum.to_list(0..(length(perm) - 1)//1)

  # The canonical layout of a conv operand given its permutation, and back.
  defp permute(t, perm), do: if(identity?(perm), do: t, else: Nx.transpose(t, axes: perm))

  defp unpermute(t, perm),
    do: if(identity?(perm), do: t, else: Nx.transpose(t, axes: inverse(perm)))

  defp inverse(axes), do: axes |> Enum.with_index() |> Enum.sort() |> Enum.map(&elem(&1, 1))

  defp swap_leading(t), do: Nx.transpose(t, axes: [1, 0 | Enum.to_list(2..(Nx.rank(t) - 1)//1)])

  # [groups * o, c, k...] -> [groups * c, o, k...]: filters and channels
  # swapped within each group.
  defp regroup_filters(kernel, groups) do
    [filters, channels | window] = Tuple.to_list(kernel.shape)
    per_group = div(filters, groups)

    kernel
    |> Nx.reshape(List.to_tuple([groups, per_group, channels | window]))
    |> Nx.transpose(axes: [0, 2, 1 | Enum.to_list(3..(length(window) + 2)//1)])
    |> Nx.reshape(List.to_tuple([groups * channels, per_group | window]))
  end

  # [n, groups * c, ...] -> [groups * n, c, ...]: batch group i holds the
  # batch entries i * n ..
  defp ungroup_batch(t, groups) do
    [n, channels | spatial] = Tuple.to_list(t.shape)
    per_group = div(channels, groups)
    rest = Enum.to_list(3..(length(spatial) + 2)//1)

    t
    |> Nx.reshape(List.to_tuple([n, groups, per_group | spatial]))
    |> Nx.transpose(axes: [1, 0, 2 | rest])
    |> Nx.reshape(List.to_tuple([groups * n, per_group | spatial]))
  end

  # For window_max/min with dilated windows (window_scatter has no
  # dilations): the selected positions, found by gathering every window,
  # receive the gradient with indexed_add; the padding is cropped after.
  defp scatter_selected(op, x, g, window, opts) do
    {padded_shape, chosen} = selected_positions(op, x, window, g.shape, opts)
    count = Nx.size(g.shape)
    rank = Nx.rank(x)

    zeros = Nx.broadcast(Nx.tensor(0, type: g.type, backend: Expr), padded_shape)

    zeros
    |> Nx.indexed_add(Nx.reshape(chosen, {count, rank}), Nx.reshape(g, {count}))
    |> Nx.pad(0, Enum.map(opts[:padding], fn {lo, hi} -> {-lo, -hi, 0} end))
  end

  # The position, in the padded tensor, of the element each window selects
  # (the largest for window_max, the smallest for window_min, the last one
  # on ties); returns the padded shape and positions shaped
  # `windows_shape ++ {rank}`. Padding holds the type's lowest (highest)
  # value, so it is selected only by windows made of padding.
  defp selected_positions(op, x, window, windows_shape, opts) do
    rank = Nx.rank(x)
    padding = opts[:padding]

    fill =
      if op == :window_max,
        do: Nx.Constants.min(x.type, backend: Expr),
        else: Nx.Constants.max(x.type, backend: Expr)

    padded = Nx.pad(x, fill, Enum.map(padding, fn {lo, hi} -> {lo, hi, 0} end))
    window_dims = Tuple.to_list(window)
    full = List.to_tuple(Tuple.to_list(windows_shape) ++ window_dims)
    per_window = Enum.product(window_dims)

    positions =
      [opts[:strides], opts[:window_dilations]]
      |> Enum.zip()
      |> Enum.with_index()
      |> Enum.map(fn {{s, d}, axis} ->
        start = Nx.multiply(Nx.iota(full, axis: axis, backend: Expr), s)
        Nx.add(start, Nx.multiply(Nx.iota(full, axis: rank + axis, backend: Expr), d))
      end)
      |> Nx.stack(axis: -1)
      |> Nx.reshape(List.to_tuple(Tuple.to_list(windows_shape) ++ [per_window, rank]))

    values = Nx.gather(padded, positions)

    arg =
      if op == :window_max,
        do: Nx.argmax(values, axis: -1, tie_break: :high, keep_axis: true),
        else: Nx.argmin(values, axis: -1, tie_break: :high, keep_axis: true)

    one_hot = Nx.equal(Nx.iota({per_window}, backend: Expr), arg)
    chosen = positions |> Nx.multiply(Nx.new_axis(one_hot, -1)) |> Nx.sum(axes: [-2])
    {padded.shape, chosen}
  end
end
