defmodule Nx.Tensor.Format do
  # Renders tensor data for `Inspect`.
  #
  # Backends implement `inspect/2` by fetching the tensor data (at least
  # `opts.limit` elements of it, or all of it when the limit is
  # `:infinity`) and calling `data/3`, which returns the document with
  # the elements nested in brackets, one row per line.
  @moduledoc false

  alias Inspect.Algebra, as: IA

  @doc """
  Returns the `Inspect.Algebra` document for the elements of a tensor.

  `tensor` only needs `:shape` and `:type`; `binary` holds the elements
  in row-major order (as in `Nx.to_binary/1`). At most `opts.limit`
  elements are shown, the remaining ones are replaced by `...`, so the
  binary may be truncated after that many elements.

  ## Examples

      iex> doc = Nx.Tensor.Format.data(%{shape: {3}, type: {:s, 8}}, <<1, 2, 3>>, %Inspect.Opts{})
      iex> doc |> Inspect.Algebra.format(80) |> IO.iodata_to_binary()
      "[1, 2, 3]"

      iex> binary = <<1.0::float-32-native, -0.5::float-32-native, 0x7FC00000::32-native>>
      iex> doc = Nx.Tensor.Format.data(%{shape: {3}, type: {:f, 32}}, binary, %Inspect.Opts{})
      iex> doc |> Inspect.Algebra.format(80) |> IO.iodata_to_binary()
      "[1.0, -0.5, NaN]"

      iex> doc = Nx.Tensor.Format.data(%{shape: {2, 2}, type: {:u, 8}}, <<1, 2, 3, 4>>, %Inspect.Opts{})
      iex> doc |> Inspect.Algebra.format(80) |> IO.iodata_to_binary()
      "[\\n  [1, 2],\\n  [3, 4]\\n]"

      iex> opts = %Inspect.Opts{limit: 3}
      iex> doc = Nx.Tensor.Format.data(%{shape: {2, 2}, type: {:u, 8}}, <<1, 2, 3>>, opts)
      iex> doc |> Inspect.Algebra.format(80) |> IO.iodata_to_binary()
      "[\\n  [1, 2],\\n  [3, ...]\\n]"

      iex> doc = Nx.Tensor.Format.data(%{shape: {}, type: {:f, 64}}, <<0.25::float-64-native>>, %Inspect.Opts{})
      iex> doc |> Inspect.Algebra.format(80) |> IO.iodata_to_binary()
      "0.25"

  """
  @spec data(
          %{
            required(:shape) => tuple,
            required(:type) => {atom, pos_integer},
            optional(atom) => term
          },
          bitstring,
          Inspect.Opts.t()
        ) :: Inspect.Algebra.t()
  def data(%{shape: shape, type: type}, binary, %Inspect.Opts{} = opts)
      when is_bitstring(binary) do
    docs = {IA.color("[", :list, opts), IA.color(",", :list, opts), IA.color("]", :list, opts)}
    {doc, _rest, _limit} = chunk(Tuple.to_list(shape), binary, type, opts.limit, docs)
    doc
  end

  defp chunk([], binary, {_, size} = type, limit, _docs) do
    <<element::bitstring-size(size), rest::bitstring>> = binary
    limit = if limit == :infinity, do: limit, else: limit - 1
    {element_to_string(element, type), rest, limit}
  end

  defp chunk([dim | dims], binary, type, limit, {open, sep, close} = docs) do
    {acc, rest, limit} = chunk_each(dim, binary, [], limit, &chunk(dims, &1, type, &2, docs))

    {open, sep, close, nest} =
      if dims == [] do
        {open, IA.concat(sep, " "), close, 0}
      else
        {IA.concat(open, IA.line()), IA.concat(sep, IA.line()), IA.concat(IA.line(), close), 2}
      end

    doc =
      open
      |> IA.concat(IA.concat(Enum.intersperse(acc, sep)))
      |> IA.nest(nest)
      |> IA.concat(close)

    {doc, rest, limit}
  end

  defp chunk_each(0, binary, acc, limit, _fun), do: {Enum.reverse(acc), binary, limit}
  defp chunk_each(_dim, binary, acc, 0, _fun), do: {Enum.reverse(["..." | acc]), binary, 0}

  defp chunk_each(dim, binary, acc, limit, fun) do
    {doc, rest, limit} = fun.(binary, limit)
    chunk_each(dim - 1, rest, [doc | acc], limit, fun)
  end

  defp element_to_string(element, {:s, size}) do
    <<value::signed-integer-native-size(size)>> = element
    Integer.to_string(value)
  end

  defp element_to_string(element, {:u, size}) do
    <<value::unsigned-integer-native-size(size)>> = element
    Integer.to_string(value)
  end

  defp element_to_string(element, {:c, size} = type) do
    half = div(size, 2)
    <<re::unsigned-integer-native-size(half), im::unsigned-integer-native-size(half)>> = element
    Nx.FloatFormat.bits_to_string(Bitwise.bsl(re, half) + im, type)
  end

  defp element_to_string(element, {_, size} = type) do
    <<bits::unsigned-integer-native-size(size)>> = element
    Nx.FloatFormat.bits_to_string(bits, type)
  end
end

defimpl Inspect, for: Nx.Tensor do
  import Inspect.Algebra

  def inspect(%Nx.Tensor{} = tensor, opts) do
    %{shape: shape, names: names, type: type, vectorized_axes: vectorized_axes} = tensor
    open = color("[", :list, opts)
    close = color("]", :list, opts)
    {vectorized_names, vectorized_sizes} = Enum.unzip(vectorized_axes)
    dims = Tuple.to_list(shape)
    names = names || List.duplicate(nil, length(dims))

    vectorized =
      if vectorized_axes == [] do
        empty()
      else
        concat(["vectorized", shape_doc(vectorized_sizes, vectorized_names, open, close), line()])
      end

    header =
      concat([
        vectorized,
        color(type_to_string(type), :atom, opts),
        shape_doc(dims, names, open, close)
      ])

    # Backends always see the devectorized tensor: vectorized axes
    # become the leading axes of the shape.
    devectorized = %{
      tensor
      | shape: List.to_tuple(vectorized_sizes ++ dims),
        names: vectorized_names ++ names,
        vectorized_axes: []
    }

    data = data_doc(devectorized, opts)

    inner =
      if data == empty(),
        do: concat(line(), header),
        else: concat([line(), header, line(), data])

    force_unfit(
      concat([
        color("#Nx.Tensor<", :map, opts),
        nest(inner, 2),
        line(),
        color(">", :map, opts)
      ])
    )
  end

  defp data_doc(%{data: %backend{}} = tensor, opts), do: backend.inspect(tensor, opts)
  defp data_doc(_tensor, _opts), do: empty()

  defp shape_doc(dims, names, open, close) do
    dims
    |> Enum.zip(names)
    |> Enum.map(fn
      {dim, nil} -> concat([open, Integer.to_string(dim), close])
      {dim, name} -> concat([open, Atom.to_string(name), ": ", Integer.to_string(dim), close])
    end)
    |> concat()
  end

  defp type_to_string({:f8_e4m3fn, 8}), do: "f8_e4m3fn"
  defp type_to_string({kind, size}), do: Atom.to_string(kind) <> Integer.to_string(size)
end
