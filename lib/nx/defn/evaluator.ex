defmodule Nx.Defn.Evaluator do
  @moduledoc """
  The reference `Nx.Defn.Compiler`: it walks the traced expression and
  calls the backend of the arguments operation by operation.

  It is the default compiler and the debugging path: every operation is
  an ordinary backend call (on `Nx.Torch.Backend` by default), so errors
  point at one operation and hooks see every value. Creation operations
  (`iota`, `eye`, constants) use `Nx.default_backend/0`.

  Traced expressions are cached per function and per argument templates
  (type, shape and names): calling again with tensors of the same shapes
  runs the cached expression without tracing the function again.

  ## Options

    * `:hooks` - a map from hook names to callbacks, overriding the
      callbacks given in the code (see `Nx.Defn.Kernel.hook/3`)
    * `:garbage_collect` - when true, garbage collects the calling process
      after each operation, releasing intermediate tensors early
    * `:cache` - when false, traces on every call (default true)
    * `:max_concurrency` - the number of partitions
      `c:Nx.Defn.Compiler.__partitions_options__/1` returns (default 1)
  """

  @behaviour Nx.Defn.Compiler

  alias Nx.Defn.{Composite, Expr, Token, Tree}
  alias Nx.Tensor, as: T

  @cache __MODULE__.Cache
  @cache_limit 256

  @impl true
  def __partitions_options__(opts),
    do: List.duplicate(opts, Keyword.get(opts, :max_concurrency, 1))

  @impl true
  def __to_backend__(_opts), do: Nx.default_backend()

  @impl true
  def __jit__(key, vars, fun, args_list, opts), do: __compile__(key, vars, fun, opts).(args_list)

  @impl true
  def __compile__(key, vars, fun, opts) do
    hooks = Keyword.get(opts, :hooks, %{})
    gc? = Keyword.get(opts, :garbage_collect, false)
    expr = traced(key, vars, fun, Keyword.get(opts, :cache, true))

    fn args_list ->
      Enum.map(args_list, fn args ->
        state = %{params: List.to_tuple(args), hooks: hooks, gc: gc?}
        {result, _caches} = Composite.traverse(expr, [%{}], &eval_output(&1, state, &2))
        restore_names(result, expr)
      end)
    end
  end

  ## Trace cache

  # Traced expressions are cached in the calling process's dictionary. An expression is a DAG
  # with heavy sharing (a block's traced default, an unrolled loop); copying it into ETS or
  # another process flattens the sharing, and a cached call of a cholesky then cost more than
  # tracing it again. The process dictionary keeps the term in place, so a hit costs nothing.
  # Each process traces a function once per input template; at most @cache_limit entries each.
  defp traced(_key, vars, fun, false), do: fun.(vars)

  defp traced(key, vars, fun, true) do
    cache_key = {@cache, key, Composite.flatten_list(vars) |> Enum.map(&%{&1 | data: nil})}

    case Process.get(cache_key) do
      nil ->
        expr = fun.(vars)
        remember(cache_key, expr)
        expr

      expr ->
        expr
    end
  end

  defp remember(cache_key, expr) do
    keys = Process.get(@cache, [])

    keys =
      if length(keys) >= @cache_limit do
        Enum.each(keys, &Process.delete/1)
        []
      else
        keys
      end

    Process.put(@cache, [cache_key | keys])
    Process.put(cache_key, expr)
  end

  ## Evaluation

  # `caches` is a list of maps from node ids to values: the innermost scope
  # (a cond branch) first, then its parents. Values are looked up in all of
  # them and stored in the innermost one.
  #
  # Values are devectorized tensors: nodes recorded from vectorized tensors (metadata,
  # tuples, ...) stand for their devectorized form.
  defp eval(%T{data: %Expr{}, vectorized_axes: [_ | _]} = expr, state, caches),
    do: eval(Nx.Vectorize.devectorize(expr), state, caches)

  defp eval(%T{data: %Expr{op: :constant, args: [number]}} = out, _state, caches) do
    {backend, opts} = Nx.default_backend()
    {backend.constant(%{out | data: nil}, number, opts), caches}
  end

  defp eval(%T{data: %Expr{op: :tensor, args: [tensor]}}, _state, caches),
    do: {Nx.Vectorize.devectorize(tensor), caches}

  defp eval(%T{data: %Expr{id: id}} = expr, state, caches) do
    case lookup(caches, id) do
      {:ok, value} ->
        {value, caches}

      :error ->
        {value, [current | parents]} = eval_op(expr, state, caches)
        if state.gc, do: :erlang.garbage_collect(self())
        {value, [Map.put(current, id, value) | parents]}
    end
  end

  defp eval(other, _state, caches), do: {other, caches}

  # Expressions compute on devectorized tensors (vectorized axes leading): a vectorized
  # output is evaluated devectorized and vectorized again.
  defp eval_output(%T{vectorized_axes: [_ | _] = axes} = expr, state, caches) do
    {value, caches} = eval(Nx.Vectorize.devectorize(expr), state, caches)
    {Nx.Vectorize.revectorize(value, Keyword.keys(axes)), caches}
  end

  defp eval_output(expr, state, caches), do: eval(expr, state, caches)

  defp lookup([cache | parents], id) do
    case cache do
      %{^id => value} -> {:ok, value}
      %{} -> lookup(parents, id)
    end
  end

  defp lookup([], _id), do: :error

  defp eval_op(%T{data: %Expr{op: :parameter, args: [index]}}, state, caches) do
    case elem(state.params, index) do
      lazy when is_function(lazy, 0) -> {check_param!(lazy.()), caches}
      value -> {check_param!(value), caches}
    end
  end

  defp eval_op(%T{data: %Expr{op: :elem, args: [tuple, index]}}, state, caches) do
    {tuple, caches} = eval(tuple, state, caches)
    {elem(tuple, index), caches}
  end

  defp eval_op(%T{data: %Expr{op: :metadata, args: [inner, _meta]}}, state, caches),
    do: eval(inner, state, caches)

  # A block whose backend implements it (e.g. LibTorch's native eigh or svd) runs there; other
  # backends get the default implementation, which Nx.Block.run applies to the values.
  defp eval_op(
         %T{data: %Expr{op: :block, args: [{name, template}, args, _result, default]}} = out,
         state,
         caches
       )
       when is_atom(name) and is_function(default) do
    {args, caches} =
      Enum.map_reduce(args, caches, fn
        %T{} = arg, caches -> eval(arg, state, caches)
        other, caches -> {other, caches}
      end)

    value = Nx.Block.run(name, template, args, default)
    {tuple_if_needed(out, value), caches}
  end

  defp eval_op(%T{data: %Expr{op: op, args: args}} = out, state, caches)
       when op in [:optional, :block] do
    default = if op == :optional, do: Enum.at(args, 1), else: Enum.at(args, 2)
    {value, caches} = Composite.traverse(default, caches, &eval(&1, state, &2))
    {tuple_if_needed(out, value), caches}
  end

  defp eval_op(%T{data: %Expr{op: :token, args: [%Token{hooks: hooks}]}}, state, caches) do
    caches =
      Enum.reduce(hooks, caches, fn %{name: name, expr: expr, callback: callback}, caches ->
        {value, caches} = Composite.traverse(expr, caches, &eval(&1, state, &2))

        case Map.get(state.hooks, name, callback) do
          nil -> :ok
          fun -> fun.(value)
        end

        caches
      end)

    {:token, caches}
  end

  defp eval_op(%T{data: %Expr{op: :attach_token, args: [token, expr]}}, state, caches) do
    {:token, caches} = eval(token, state, caches)
    eval(expr, state, caches)
  end

  defp eval_op(%T{data: %Expr{op: :cond, args: [clauses, last]}}, state, caches) do
    {branch, caches} = choose_branch(clauses, last, state, caches)

    {value, [_branch_cache | caches]} =
      Composite.traverse(branch, [%{} | caches], &eval(&1, state, &2))

    {value, caches}
  end

  defp eval_op(%T{data: %Expr{op: :while, args: [initial, _arg, condition, body]}}, state, caches) do
    {initial, caches} = Composite.traverse(initial, caches, &eval(&1, state, &2))
    {loop(initial, condition, body, state), caches}
  end

  defp eval_op(%T{data: %Expr{op: :fun, args: [params, body, _mfa]}}, state, caches) do
    fun =
      Nx.Defn.Compiler.fun(length(params), fn args ->
        state = %{state | params: List.to_tuple(Enum.map(args, &Nx.to_tensor/1))}
        {value, _} = Composite.traverse(body, [%{}], &eval(&1, state, &2))
        value
      end)

    {fun, caches}
  end

  defp eval_op(%T{data: %Expr{op: op}} = out, state, caches) when op in [:iota, :eye] do
    {args, caches} = Tree.apply_args(out, caches, &eval(&1, state, &2))
    {backend, opts} = Nx.default_backend()
    {apply(backend, op, [%{out | data: nil} | args] ++ [opts]), caches}
  end

  defp eval_op(%T{data: %Expr{op: op}} = out, state, caches) do
    {args, caches} = Tree.apply_args(out, caches, &eval(&1, state, &2))
    backend = backend_of(args)

    value =
      case args do
        [tuple | _] when is_tuple(tuple) -> apply(backend, op, args)
        _ -> apply(backend, op, [%{out | data: nil} | args])
      end

    {tuple_if_needed(out, value), caches}
  end

  defp choose_branch([{pred, branch} | clauses], last, state, caches) do
    {pred, caches} = eval(pred, state, caches)

    if Nx.to_number(pred) != 0,
      do: {branch, caches},
      else: choose_branch(clauses, last, state, caches)
  end

  defp choose_branch([], last, _state, caches), do: {last, caches}

  # Each iteration is a fresh scope whose parameters are the loop state.
  defp loop(state_value, condition, body, state) do
    params = if is_tuple(state_value), do: state_value, else: {state_value}
    iteration = %{state | params: params}
    {pred, caches} = eval(condition, iteration, [%{}])

    if Nx.to_number(pred) != 0 do
      {next, _} = Composite.traverse(body, caches, &eval(&1, iteration, &2))
      loop(next, condition, body, state)
    else
      state_value
    end
  end

  defp tuple_if_needed(%T{type: {:tuple, _}}, value) when not is_tuple(value),
    do: value |> List.wrap() |> Composite.flatten_list() |> List.to_tuple()

  defp tuple_if_needed(%T{type: {:tuple, _}}, value),
    do: [value] |> Composite.flatten_list() |> List.to_tuple()

  defp tuple_if_needed(_out, value), do: value

  defp backend_of(args) do
    Enum.find_value(List.flatten(args), fn
      %T{data: %backend{}} -> backend
      _ -> nil
    end) || elem(Nx.default_backend(), 0)
  end

  defp check_param!(%T{data: %Expr{}} = tensor) do
    raise ArgumentError,
          "cannot pass a tensor expression as argument to defn, got: #{inspect(tensor)}"
  end

  defp check_param!(%T{} = tensor), do: Nx.Vectorize.devectorize(tensor)
  defp check_param!(number), do: Nx.to_tensor(number)

  defp restore_names(result, expr) do
    {result, []} =
      Composite.traverse(result, Composite.flatten_list([expr]), fn
        %T{} = value, [%T{names: names} | rest] -> {%{value | names: names}, rest}
        value, [_ | rest] -> {value, rest}
      end)

    result
  end
end
