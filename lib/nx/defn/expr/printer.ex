defmodule Nx.Defn.Expr.Printer do
  # Renders an expression tensor for `inspect`, in Nx's format: the
  # parameters and literal tensors first, then one line per node in the order
  # the nodes are computed, each as `var = op arg, arg, ...`, with every
  # line's type and shape aligned in a column. Constants are shown inline,
  # metadata without an `:inspect` key is transparent.
  @moduledoc false

  import Inspect.Algebra
  alias Nx.Defn.Expr
  alias Nx.Tensor, as: T

  @doc false
  def inspect(%T{data: %Expr{op: :constant, args: [value]}}, opts) do
    concat([line(), color("Nx.Defn.Expr", :map, opts), line(), to_string(value)])
  end

  def inspect(%T{} = tensor, opts) do
    state = %{names: %{}, params: [], lines: [], width: 0, limit: opts.limit, opts: opts}
    {_, state} = show(tensor, state)
    column = state.width + 3

    header = concat(line(), color("Nx.Defn.Expr", :map, opts))

    (Enum.reverse(state.params) ++ Enum.reverse(state.lines))
    |> Enum.reduce(header, fn {text, type_shape}, doc ->
      padding = String.duplicate(" ", max(column - byte_size(text), 1))
      concat([doc, line(), text, if(type_shape == "", do: "", else: padding <> type_shape)])
    end)
  end

  defp show(%T{data: %Expr{op: :constant, args: [value]}}, state), do: {to_string(value), state}

  defp show(%T{data: %Expr{op: :fun, args: [_, _, {m, f, a}]}}, state),
    do: {"&" <> Exception.format_mfa(m, f, a), state}

  defp show(%T{data: %Expr{op: :metadata, args: [inner, meta]}}, state)
       when not is_map_key(meta, :inspect),
       do: show(inner, state)

  defp show(%T{data: %Expr{op: :optional, args: [call, _default, _fun]}}, state),
    do: show(call, state)

  defp show(%T{data: %Expr{id: id, op: op, args: args}} = tensor, state) do
    case state.names do
      %{^id => name} ->
        {name, state}

      %{} ->
        limit = state.limit

        cond do
          limit == 0 ->
            state = %{state | limit: -1} |> store(:params, "...", "")
            name_node(id, state)

          is_integer(limit) and limit < 0 ->
            name_node(id, state)

          true ->
            state = if limit == :infinity, do: state, else: %{state | limit: limit - 1}
            show_node(op, args, id, type_shape(tensor), state)
        end
    end
  end

  defp show(tuple, state) when is_tuple(tuple) do
    {items, state} = tuple |> Tuple.to_list() |> Enum.map_reduce(state, &show/2)
    {"{" <> Enum.join(items, ", ") <> "}", state}
  end

  defp show([_ | _] = list, state) do
    if Keyword.keyword?(list) do
      text =
        Enum.map_join(list, ", ", fn {key, value} ->
          Macro.inspect_atom(:key, key) <> " " <> plain(value, state.opts)
        end)

      {text, state}
    else
      {items, state} = Enum.map_reduce(list, state, &show/2)
      {"[" <> Enum.join(items, ", ") <> "]", state}
    end
  end

  defp show(term, state), do: {plain(term, state.opts), state}

  defp show_node(:parameter, [index], id, type_shape, state) do
    {name, state} = name_node(id, state)
    {name, store(state, :params, "parameter #{name}:#{index}", type_shape)}
  end

  defp show_node(:tensor, [_], id, type_shape, state) do
    {name, state} = name_node(id, state)
    {name, store(state, :params, "tensor #{name}", type_shape)}
  end

  defp show_node(op, args, id, type_shape, state) do
    {label, args} = label_and_args(op, args)
    {shown, state} = show_args(op, args, state)
    {name, state} = name_node(id, state)
    text = "#{name} = #{label} " <> Enum.join(shown, ", ")
    {name, store(state, :lines, String.trim_trailing(text), type_shape)}
  end

  defp label_and_args(:block, [name, args, _default, _fun]) when is_atom(name), do: {name, args}
  defp label_and_args(:block, [name, args, _default, _fun]), do: {Kernel.inspect(name), args}
  defp label_and_args(:while, [initial | _]), do: {:while, [initial]}

  defp label_and_args(op, [tuple | args]) when is_tuple(tuple) and op not in [:elem],
    do: {op, args}

  defp label_and_args(op, args), do: {op, args}

  defp show_args(:token, [%Nx.Defn.Token{hooks: hooks}], state) do
    Enum.map_reduce(hooks, state, fn %{name: name, expr: expr}, state ->
      {shown, state} = show(expr, state)
      {Macro.inspect_atom(:key, name) <> " " <> shown, state}
    end)
  end

  defp show_args(:cond, [clauses, last], state) do
    Enum.map_reduce(clauses ++ [{true, last}], state, fn {pred, branch}, state ->
      {pred, state} = show(pred, state)
      {branch, state} = show(branch, state)
      {pred <> " -> " <> branch, state}
    end)
  end

  defp show_args(:metadata, [inner, %{inspect: inspect}], state) do
    {inner, state} = show(inner, state)
    {[inner, plain(inspect, state.opts)], state}
  end

  defp show_args(_op, args, state), do: Enum.map_reduce(args, state, &show/2)

  defp name_node(id, state) do
    name = IO.iodata_to_binary(counter_to_name(map_size(state.names)))
    {name, %{state | names: Map.put(state.names, id, name)}}
  end

  # a, b, ..., z, ba, bb, ...: the counter written in base 26 with letters.
  defp counter_to_name(counter) when counter >= 26,
    do: [counter_to_name(div(counter, 26)) | counter_to_name(rem(counter, 26))]

  defp counter_to_name(counter), do: [?a + counter]

  defp store(state, key, text, type_shape) do
    %{
      state
      | key => [{text, type_shape} | Map.fetch!(state, key)],
        width: max(state.width, byte_size(text))
    }
  end

  defp plain(term, opts), do: term |> to_doc(opts) |> format(:infinity) |> IO.iodata_to_binary()

  defp type_shape(%T{type: type, shape: shape}) do
    Nx.Type.to_string(type) <> Enum.map_join(Tuple.to_list(shape), &"[#{&1}]")
  end
end
