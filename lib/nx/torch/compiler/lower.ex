defmodule Nx.Torch.Compiler.Lower do
  # Lowers a traced defn graph (Nx.Defn.Expr) into the instruction list that the engine builds
  # into a program (native/nx_engine/src/program). Values live in numbered slots, each written
  # once: the inputs take slots 0..n-1, literals (constants, captured tensors, iota, eye) and
  # instruction results the following ones.
  #
  # While lowering it removes common subexpressions (the same operation on the same slots with
  # the same attributes is emitted once per scope) and dead code (only what the outputs and the
  # hooks that will run reach is emitted). Constants were already folded while tracing; iota
  # and eye become literals built once. Operations it cannot lower throw
  # {:unsupported, reason}, and the compiler runs that function with Nx.Defn.Evaluator.
  @moduledoc false

  alias Nx.Defn.{Composite, Expr, Token, Tree}
  alias Nx.Tensor, as: T
  alias Nx.Torch.Backend

  @unary Nx.Backend.unary_ops() ++ [:logical_not]
  @binary Nx.Backend.binary_ops()
  @reductions [:sum, :product, :reduce_max, :reduce_min, :all, :any]
  @cumulative [:cumulative_sum, :cumulative_product, :cumulative_max, :cumulative_min]
  @plain [:as_type, :bitcast, :reshape, :select, :clip]

  @doc false
  # outputs: the flat list of result expressions; templates: the inputs' templates.
  # hook_names: the hooks given at jit time (a map). Returns {:ok, spec} or
  # {:unsupported, reason}.
  def lower(outputs, templates, device, hook_names) do
    n = length(templates)

    st = %{
      next: n,
      instrs: [],
      memo: [%{}],
      cse: [%{}],
      literals: [],
      lit_memo: %{},
      params: List.to_tuple(Enum.to_list(0..(n - 1)//1)),
      device: device,
      hooks: [],
      hook_names: hook_names,
      root?: true
    }

    {slots, st} = Enum.map_reduce(outputs, st, &value/2)
    hooks = Enum.reverse(st.hooks)

    inputs =
      templates
      |> Enum.with_index()
      |> Enum.map(fn {t, i} -> {i, Backend.type_code(t.type), t.shape} end)

    {:ok,
     %{
       inputs: inputs,
       literals: Enum.reverse(st.literals),
       instrs: Enum.reverse(st.instrs),
       outputs: slots ++ Enum.flat_map(hooks, & &1.slots),
       hooks: hooks
     }}
  catch
    {:unsupported, reason} -> {:unsupported, reason}
  end

  defp unsupported!(reason), do: throw({:unsupported, reason})

  ## Values

  defp value(%T{data: %Expr{id: id}} = t, st) do
    case lookup(st.memo, id) do
      {:ok, slot} ->
        {slot, st}

      :error ->
        {slot, st} = node(t, st)
        {slot, put_memo(st, id, slot)}
    end
  end

  defp value(other, _st), do: unsupported!("a #{inspect(other)} where a tensor was expected")

  defp container(composite, st) do
    [composite]
    |> Composite.flatten_list()
    |> Enum.map_reduce(st, fn
      %T{} = t, st -> value(t, st)
      other, _st -> unsupported!("a #{inspect(other)} in a result")
    end)
  end

  defp lookup([scope | parents], key) do
    case scope do
      %{^key => value} -> {:ok, value}
      %{} -> lookup(parents, key)
    end
  end

  defp lookup([], _key), do: :error

  defp put_memo(%{memo: [scope | parents]} = st, id, value),
    do: %{st | memo: [Map.put(scope, id, value) | parents]}

  ## Nodes

  defp node(%T{data: %Expr{op: :parameter, args: [i]}}, st) do
    if i < tuple_size(st.params),
      do: {elem(st.params, i), st},
      else: unsupported!("parameter #{i} outside of its scope")
  end

  defp node(%T{data: %Expr{op: :constant, args: [number]}} = t, st) do
    key = {:constant, :erlang.term_to_binary(number), t.type}

    {slot, st} =
      literal(key, st, fn ->
        Backend.constant(%T{type: t.type, shape: {}, names: []}, number, device: st.device)
      end)

    if t.shape == {}, do: {slot, st}, else: emit(:broadcast, t, [slot], [], st)
  end

  defp node(%T{data: %Expr{op: :tensor, args: [tensor]}}, st) do
    literal({:tensor, make_ref()}, st, fn -> on_device(tensor, st.device) end)
  end

  defp node(%T{data: %Expr{op: op, args: args}} = t, st) when op in [:iota, :eye] do
    literal({op, make_ref()}, st, fn ->
      out = %{t | data: nil}

      case {op, args} do
        {:iota, [axis]} -> Backend.iota(out, axis, device: st.device)
        {:eye, []} -> Backend.eye(out, device: st.device)
      end
    end)
  end

  defp node(%T{data: %Expr{op: :metadata, args: [inner, _meta]}}, st), do: value(inner, st)

  defp node(%T{data: %Expr{op: :elem, args: [tuple, i]}}, st) do
    {slots, st} = value(tuple, st)
    {Enum.at(slots, i), st}
  end

  defp node(%T{data: %Expr{op: op, args: args}} = t, st) when op in [:optional, :block] do
    default = if op == :optional, do: Enum.at(args, 1), else: Enum.at(args, 2)
    {slots, st} = container(default, st)

    case t.type do
      {:tuple, _} -> {slots, st}
      _ -> {hd(slots), st}
    end
  end

  defp node(%T{data: %Expr{op: :attach_token, args: [token, expr]}}, st) do
    st = token(token, st)
    value(expr, st)
  end

  defp node(%T{data: %Expr{op: :cond, args: [clauses, last]}} = t, st) do
    {preds, st} = Enum.map_reduce(clauses, st, fn {pred, _}, st -> value(pred, st) end)

    {blocks, st} =
      Enum.map_reduce(clauses, st, fn {_, branch}, st ->
        block(st, &container(branch, &1))
      end)

    {last_block, st} = block(st, &container(last, &1))
    outs = result_templates(t, last)
    emit_raw(:cond, outs, preds, {blocks, last_block}, st)
  end

  defp node(%T{data: %Expr{op: :while, args: [initial, _arg, condition, body]}} = t, st) do
    {init, st} = container(initial, st)
    {state, st} = alloc(length(init), st)
    saved = Map.take(st, [:instrs, :memo, :cse, :params, :root?])

    st = %{st | instrs: [], memo: [%{}], cse: [%{}], params: List.to_tuple(state), root?: false}
    {pred, st} = value(condition, st)
    cond_instrs = Enum.reverse(st.instrs)
    st = %{st | instrs: [], memo: [%{} | st.memo], cse: [%{} | st.cse]}
    {body_slots, st} = container(body, st)
    body_instrs = Enum.reverse(st.instrs)
    st = Map.merge(st, saved)

    outs = result_templates(t, initial)
    attrs = {state, cond_instrs, pred, body_instrs, body_slots}
    emit_raw(:while, outs, init, attrs, st)
  end

  defp node(%T{data: %Expr{op: op}}, _st) when op in [:fun, :token],
    do: unsupported!("#{op} nodes")

  defp node(%T{data: %Expr{op: op, args: original}} = t, st) do
    {args, st} =
      Tree.apply_args(t, st, fn arg, st ->
        {slot, st} = value(arg, st)
        {{:slot, slot}, st}
      end)

    {name, slots, attrs} = encode(op, args)

    outs =
      case original do
        [tuple | _] when is_tuple(tuple) -> Tuple.to_list(tuple)
        _ -> t
      end

    emit(name, outs, slots, attrs, st)
  end

  # A nested block (a cond branch): its own instructions and scope, reading the enclosing ones.
  defp block(st, fun) do
    saved = Map.take(st, [:instrs, :memo, :cse, :root?])
    st = %{st | instrs: [], memo: [%{} | st.memo], cse: [%{} | st.cse], root?: false}
    {slots, st} = fun.(st)
    instrs = Enum.reverse(st.instrs)
    {{instrs, slots}, Map.merge(st, saved)}
  end

  defp result_templates(%T{type: {:tuple, _}}, container), do: Composite.flatten_list([container])
  defp result_templates(%T{} = t, _container), do: t

  ## Hooks

  # Hooks run after the program, in order, with the values the program returns for them.
  defp token(%T{data: %Expr{id: id, op: :token, args: [%Token{hooks: hooks}]}}, st) do
    case lookup(st.memo, id) do
      {:ok, _} ->
        st

      :error ->
        st =
          Enum.reduce(hooks, st, fn %{name: name, expr: expr, callback: callback}, st ->
            if callback == nil and not Map.has_key?(st.hook_names, name) do
              st
            else
              unless st.root?, do: unsupported!("hooks inside while or cond")
              {slots, st} = container(expr, st)
              hook = %{name: name, callback: callback, slots: slots, template: template(expr)}
              %{st | hooks: [hook | st.hooks]}
            end
          end)

        put_memo(st, id, :done)
    end
  end

  @doc false
  def template(composite) do
    Composite.traverse(composite, fn
      %T{} = t -> %{t | data: nil}
      other -> other
    end)
  end

  ## Emission

  defp alloc(n, st), do: {Enum.to_list(st.next..(st.next + n - 1)//1), %{st | next: st.next + n}}

  defp literal(key, st, build) do
    case st.lit_memo do
      %{^key => slot} ->
        {slot, st}

      %{} ->
        tensor = build.()
        {[slot], st} = alloc(1, st)
        lit_memo = Map.put(st.lit_memo, key, slot)
        {slot, %{st | literals: [{slot, Backend.ref(tensor)} | st.literals], lit_memo: lit_memo}}
    end
  end

  defp on_device(%T{data: %Backend{device: device}} = tensor, device), do: tensor
  defp on_device(tensor, device), do: Nx.backend_copy(tensor, {Backend, device: device})

  defp emit(op, outs, args, attrs, st) do
    key = {op, args, attrs, outs |> List.wrap() |> Enum.map(&{&1.type, &1.shape})}

    case lookup(st.cse, key) do
      {:ok, result} ->
        {result, st}

      :error ->
        {result, st} = emit_raw(op, outs, args, attrs, st)
        [scope | parents] = st.cse
        {result, %{st | cse: [Map.put(scope, key, result) | parents]}}
    end
  end

  # `outs` is a template (one result: returns its slot) or a list (returns the slots).
  defp emit_raw(op, outs, args, attrs, st) do
    multi? = is_list(outs)
    outs = List.wrap(outs)
    {slots, st} = alloc(length(outs), st)

    out_terms =
      Enum.zip_with(slots, outs, fn slot, %T{type: type, shape: shape} ->
        {slot, Backend.type_code(type), shape}
      end)

    st = %{st | instrs: [{op, out_terms, args, attrs} | st.instrs]}

    if multi?, do: {slots, st}, else: {hd(slots), st}
  end

  ## Operations

  defp slot!({:slot, s}), do: s
  defp slot!(other), do: unsupported!("a non-tensor argument #{inspect(other)}")

  defp encode(op, [a]) when op in @unary, do: {op, [slot!(a)], nil}
  defp encode(op, [a, b]) when op in @binary, do: {op, [slot!(a), slot!(b)], nil}
  defp encode(op, args) when op in @plain, do: {op, Enum.map(args, &slot!/1), nil}
  defp encode(:squeeze, [a, _axes]), do: {:reshape, [slot!(a)], nil}
  defp encode(:broadcast, [a, _shape, axes]), do: {:broadcast, [slot!(a)], axes}
  defp encode(op, [a, axes]) when op in [:transpose, :reverse], do: {op, [slot!(a)], axes}

  defp encode(op, [a, opts]) when op in @reductions do
    axes = opts[:axes] || unsupported!("#{op} without axes")
    {op, [slot!(a)], {axes, opts[:keep_axes] == true}}
  end

  defp encode(op, [a, opts]) when op in [:argmax, :argmin] do
    attrs = {opts[:axis] || -1, opts[:keep_axis] == true, opts[:tie_break] == :high}
    {op, [slot!(a)], attrs}
  end

  defp encode(:dot, [a, c1, b1, b, c2, b2]), do: {:dot, [slot!(a), slot!(b)], {c1, b1, c2, b2}}

  defp encode(:slice, [a, starts, lengths, strides]) do
    {static, dynamic} = starts(starts)
    {:slice, [slot!(a) | dynamic], {static, lengths, strides}}
  end

  defp encode(:put_slice, [a, starts, u]) do
    {static, dynamic} = starts(starts)
    {:put_slice, [slot!(a), slot!(u) | dynamic], static}
  end

  defp encode(:pad, [a, v, config]), do: {:pad, [slot!(a), slot!(v)], config}

  defp encode(op, [tensors, axis]) when op in [:concatenate, :stack],
    do: {op, Enum.map(tensors, &slot!/1), axis}

  defp encode(:gather, [a, i, opts]), do: {:gather, [slot!(a), slot!(i)], opts[:axes]}

  defp encode(op, [a, i, opts]) when op in [:take, :take_along_axis],
    do: {op, [slot!(a), slot!(i)], opts[:axis]}

  defp encode(op, [t, i, u, opts]) when op in [:indexed_add, :indexed_put],
    do: {op, [slot!(t), slot!(i), slot!(u)], opts[:axes]}

  defp encode(op, [a, opts]) when op in [:sort, :argsort] do
    {op, [slot!(a)], {opts[:axis], opts[:direction] == :desc, opts[:stable] == true}}
  end

  defp encode(:top_k, [_templates, a, opts]), do: {:top_k, [slot!(a)], opts[:k]}

  defp encode(op, [a, opts]) when op in @cumulative,
    do: {op, [slot!(a)], {opts[:axis], opts[:reverse] == true}}

  defp encode(op, _args), do: unsupported!("#{op}")

  defp starts(starts) do
    {static, dynamic} =
      Enum.map_reduce(starts, [], fn
        start, acc when is_integer(start) -> {start, acc}
        {:slot, s}, acc -> {nil, [s | acc]}
        other, _acc -> unsupported!("start index #{inspect(other)}")
      end)

    {static, Enum.reverse(dynamic)}
  end
end
