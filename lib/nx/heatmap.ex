defmodule Nx.Heatmap do
  @moduledoc """
  A tensor shown as a heatmap when inspected, built by `Nx.to_heatmap/2`.

  Each matrix formed by the last two axes (the whole tensor, for rank 1) is
  scaled between its smallest and largest finite values. With ANSI enabled
  every element is a cell whose background goes from dark (smallest) to
  light (largest) through the 24 grays of the 256-color palette; without
  ANSI it is a digit from `0` to `9`. Infinities are drawn as `∞` on the
  darkest or lightest cell (`-` and `+` without ANSI) and NaN as a red cell
  (`x`). Leading axes are nested in brackets as in tensor inspection, and
  the inspect `:limit` caps how many matrices are drawn.

  The struct implements `Access`: indexing it indexes the tensor and gives
  a heatmap again (or a scalar tensor).

  ## Examples

      iex> hm = Nx.to_heatmap(Nx.tensor([0, 5, 10, :nan, :infinity]), ansi_enabled: false)
      iex> inspect(hm)
      "#Nx.Heatmap<\\n  f32[5]\\n  059x+\\n>"
      iex> inspect(hm[0..1])
      "#Nx.Heatmap<\\n  f32[2]\\n  09\\n>"

      iex> hm = Nx.to_heatmap(Nx.tensor([1, 2]), ansi_enabled: true, ansi_whitespace: " ")
      iex> inspect(hm) =~ IO.ANSI.color_background(255)
      true
  """

  @behaviour Access

  @type t :: %Nx.Heatmap{tensor: Nx.Tensor.t(), opts: keyword}

  defstruct [:tensor, opts: []]

  @impl Access
  def fetch(%Nx.Heatmap{tensor: tensor} = heatmap, key) do
    case Access.fetch(tensor, key) do
      {:ok, %Nx.Tensor{shape: {}} = scalar} -> {:ok, scalar}
      {:ok, tensor} -> {:ok, %{heatmap | tensor: tensor}}
      :error -> :error
    end
  end

  @impl Access
  def get_and_update(%Nx.Heatmap{tensor: tensor} = heatmap, key, fun) do
    {value, tensor} = Access.get_and_update(tensor, key, fun)
    {value, %{heatmap | tensor: tensor}}
  end

  @impl Access
  def pop(%Nx.Heatmap{tensor: tensor} = heatmap, key) do
    {value, tensor} = Access.pop(tensor, key)
    {value, %{heatmap | tensor: tensor}}
  end

  defimpl Inspect do
    import Inspect.Algebra

    @darkest 232
    @lightest 255

    def inspect(%Nx.Heatmap{tensor: tensor, opts: heatmap_opts}, opts) do
      %Nx.Tensor{type: type, shape: shape, names: names, vectorized_axes: vectorized} = tensor
      {vec_names, vec_sizes} = Enum.unzip(vectorized)
      dims = vec_sizes ++ Tuple.to_list(shape)
      names = vec_names ++ names
      docs = {color("[", :list, opts), color(",", :list, opts), color("]", :list, opts)}
      {open, _, close} = docs

      header =
        concat(
          color(Nx.Type.to_string(type), :atom, opts),
          Nx.Shape.to_algebra(List.to_tuple(dims), names, open, close)
        )

      flat = %{tensor | shape: List.to_tuple(dims), names: names, vectorized_axes: []}
      data = data(flat, dims, painter(heatmap_opts), opts.limit, docs)

      concat([
        color("#Nx.Heatmap<", :map, opts),
        nest(concat([line(), header, line(), data]), 2),
        color("\n>", :map, opts)
      ])
    end

    # How to draw: {cell for a value scaled to 0..1, cell for a non-finite value, row}.
    defp painter(heatmap_opts) do
      ansi? = Keyword.get_lazy(heatmap_opts, :ansi_enabled, &IO.ANSI.enabled?/0)
      space = Keyword.get(heatmap_opts, :ansi_whitespace, "\u3000")

      if ansi? do
        steps = @lightest - @darkest

        {fn scaled -> [IO.ANSI.color_background(@darkest + round(scaled * steps)), space] end,
         fn
           :infinity -> [IO.ANSI.color_background(@lightest), "∞"]
           :neg_infinity -> [IO.ANSI.color_background(@darkest), "∞"]
           :nan -> [IO.ANSI.red_background(), space]
         end, fn cells -> IO.iodata_to_binary([cells | IO.ANSI.reset()]) end}
      else
        {fn scaled -> Integer.to_string(round(scaled * 9)) end,
         fn
           :infinity -> "+"
           :neg_infinity -> "-"
           :nan -> "x"
         end, &IO.iodata_to_binary/1}
      end
    end

    defp data(tensor, [_], painter, _limit, _docs) do
      values = Nx.to_flat_list(tensor)
      scale = scale(values)
      values |> Enum.map(&cell(&1, scale, painter)) |> elem(painter, 2).()
    end

    defp data(tensor, dims, painter, limit, docs) do
      {outer, [rows, cols]} = Enum.split(dims, -2)
      matrices = Enum.product(outer)
      shown = if limit == :infinity, do: matrices, else: min(matrices, max(limit, 0))
      values = if shown == 0, do: [], else: Nx.to_flat_list(tensor, limit: shown * rows * cols)
      {doc, _values, _limit} = level(outer, values, limit, {rows, cols, painter}, docs)
      doc
    end

    defp level([], values, limit, {rows, cols, painter}, _docs) do
      {matrix, rest} = Enum.split(values, rows * cols)
      scale = scale(matrix)

      doc =
        matrix
        |> Enum.chunk_every(cols)
        |> Enum.reduce(empty(), fn row, doc ->
          line = row |> Enum.map(&cell(&1, scale, painter)) |> elem(painter, 2).()
          concat([doc, line(), line])
        end)

      {doc, rest, if(limit == :infinity, do: limit, else: limit - 1)}
    end

    defp level([dim | dims], values, limit, state, {open, sep, close} = docs) do
      {items, rest, limit} = items(dim, values, [], limit, &level(dims, &1, &2, state, docs))

      doc =
        if(dims == [], do: open, else: concat(open, line()))
        |> concat(concat(Enum.intersperse(items, concat(sep, line()))))
        |> nest(2)
        |> concat(line())
        |> concat(close)

      {doc, rest, limit}
    end

    defp items(0, values, acc, limit, _fun), do: {Enum.reverse(acc), values, limit}
    defp items(_dim, values, acc, 0, _fun), do: {Enum.reverse(["..." | acc]), values, 0}

    defp items(dim, values, acc, limit, fun) do
      {doc, values, limit} = fun.(values, limit)
      items(dim - 1, values, [doc | acc], limit, fun)
    end

    # {min, range} of the finite values (range 1 when they are all equal).
    defp scale(values) do
      finite = Enum.filter(values, &is_number/1)

      case finite do
        [] ->
          {0, 1}

        _ ->
          {min, max} = Enum.min_max(finite)
          {min, if(max == min, do: 1, else: max - min)}
      end
    end

    defp cell(value, {min, range}, {scaled, _non_finite, _row}) when is_number(value),
      do: scaled.((value - min) / range)

    defp cell(value, _scale, {_scaled, non_finite, _row}), do: non_finite.(value)
  end
end
