defmodule Nx.Defn.Expr do
  @moduledoc """
  The tracing backend: inside `defn`, every `Nx` operation records an
  expression node instead of computing.

  While a numerical definition is traced (see `Nx.Defn.Compiler`), this
  module is the default backend, so tensors created inside `defn` and the
  results of every operation are tensors whose `:data` is an
  `%Nx.Defn.Expr{}`:

    * `:id` - a unique reference naming the node (shared subexpressions
      have the same id)
    * `:op` - the operation: the name of the `Nx.Backend` callback, or one
      of the syntax nodes below
    * `:args` - the callback's arguments after `out`, in the callback's own
      order (tensor arguments are expression tensors)
    * `:context` - the scope the node belongs to: `:root` for the traced
      function, `{kind, ref}` for the body of a `while` or of a function
      given to `Nx.reduce/4`, or `nil` for nodes that depend on no
      parameter (constants, `iota`, ...)

  The tensor around the node carries the result's type, shape and names,
  exactly as the `out` template the `Nx` API computed.

  ## Syntax nodes

  Besides the backend callbacks, compilers must handle:

    * `parameter(index)` - the index-th flattened argument of the scope
    * `constant(number)` - a number broadcast to the node's shape
    * `tensor(tensor)` - a tensor (of a real backend) used as a literal
    * `metadata(expr, map)` - `expr` annotated for tools such as grad;
      evaluates to `expr`
    * `elem(tuple_expr, index)` - one element of a node whose type is
      `{:tuple, size}`
    * `fun(parameters, body, mfa)` - a function traced into an expression,
      as given to `Nx.reduce/4` and `Nx.window_reduce/5`
    * `cond(clauses, last)` - clauses are `{predicate, branch}` pairs
    * `while(initial, arg, condition, body)` - `arg` are the parameters of
      the loop's scope; `condition` and `body` are written in terms of them
    * `token(%Nx.Defn.Token{})` and `attach_token(token_expr, expr)` - hooks
    * `optional(call, default, fun)` and
      `block(name, args, default, fun)` - composite operations: `call` shows
      the operation, `default` is its implementation in other nodes

  Every node is immutable and holds its arguments, so a traced result is a
  DAG; `Nx.Defn.Tree` and `Nx.Defn.Composite` walk it.

  ## Simplifications while tracing

  Operations whose arguments are all constants are computed at once (on the
  backend that was the default before tracing started). Trivial identities
  are folded: `x + 0`, `0 + x`, `x - 0`, `x * 1`, `1 * x`, `x / 1` and
  `x ** 1` return `x` (converted to the result's type and shape), and
  constants are moved to the left of additions and multiplications.
  `x * 0` is not folded, since `NaN * 0` is `NaN`.

  ## How it differs from Nx

  Tensors of any real backend (not only scalars) can be captured by a
  traced function: scalars become constants, others `tensor` nodes.
  """

  alias Nx.Defn.{Composite, Token}
  alias Nx.Tensor, as: T

  @enforce_keys [:id, :op, :args, :context]
  defstruct [:id, :op, :args, :context]

  @type t :: %__MODULE__{id: reference, op: atom, args: list, context: term}

  @behaviour Nx.Backend

  @outer_backend_key {__MODULE__, :outer_backend}

  ## Building nodes

  @doc """
  Converts a tensor or a number into an expression tensor.

  Expression tensors are returned as they are; numbers and scalar tensors
  become constants; other tensors become `tensor` nodes.

  ## Examples

      iex> t = Nx.Defn.Expr.tensor(3)
      iex> t.data.op
      :constant
      iex> t.data.args
      [3]

      iex> Nx.Defn.Expr.tensor(Nx.iota({2})).data.op
      :tensor
  """
  @spec tensor(Nx.Tensor.t() | number | Complex.t()) :: Nx.Tensor.t()
  def tensor(tensor_or_number), do: to_expr(tensor_or_number)

  @doc """
  Creates the parameter `index` with the template (type, shape and names)
  and the context of the expression tensor `tensor`.

  ## Examples

      iex> p = Nx.Defn.Expr.parameter(Nx.Defn.Expr.tensor(Nx.iota({2})), 0)
      iex> {p.data.op, p.data.args, p.shape}
      {:parameter, [0], {2}}
  """
  @spec parameter(Nx.Tensor.t(), non_neg_integer) :: Nx.Tensor.t()
  def parameter(%T{data: %__MODULE__{context: context}} = tensor, index),
    do: parameter(tensor, context, index)

  @doc """
  Creates the parameter `index` of `context`, with the template of `tensor`.

  ## Examples

      iex> p = Nx.Defn.Expr.parameter(Nx.template({3}, :f32), :root, 1)
      iex> {p.data.op, p.data.args, p.data.context, p.type}
      {:parameter, [1], :root, {:f, 32}}
  """
  @spec parameter(Nx.Tensor.t(), term, non_neg_integer) :: Nx.Tensor.t()
  def parameter(%T{} = tensor, context, index) when is_integer(index) and index >= 0,
    do: node(tensor, context, :parameter, [index])

  @doc """
  Creates the parameter `index` of `context` with the given type and shape
  (and no names).

  ## Examples

      iex> p = Nx.Defn.Expr.parameter(:root, {:s, 64}, {2, 2}, 0)
      iex> {p.type, p.shape, p.names}
      {{:s, 64}, {2, 2}, [nil, nil]}
  """
  @spec parameter(term, Nx.Type.t(), tuple, non_neg_integer) :: Nx.Tensor.t()
  def parameter(context, type, shape, index) do
    names = List.duplicate(nil, tuple_size(shape))
    node(%T{type: type, shape: shape, names: names}, context, :parameter, [index])
  end

  @doc """
  Wraps every tensor of `expr` (a tensor or a container) in a `metadata`
  node carrying the map `metadata`.

  Metadata evaluates to the wrapped expression. Keys known to this
  project: `:stop_grad` and `:custom_grad` (used by gradients) and
  `:inspect`, which, when present, makes the node visible when the
  expression is printed.

  ## Examples

      iex> t = Nx.Defn.Expr.metadata(Nx.Defn.Expr.tensor(Nx.iota({2})), %{note: 1})
      iex> {t.data.op, tl(t.data.args)}
      {:metadata, [%{note: 1}]}
  """
  @spec metadata(term, map) :: term
  def metadata(expr, metadata) when is_map(metadata) do
    Composite.traverse(expr, fn leaf ->
      %T{data: %__MODULE__{context: context}} = leaf = to_expr(leaf)
      node(leaf, context, :metadata, [leaf, metadata])
    end)
  end

  @doc """
  Returns a tuple of `elem` nodes pointing at the tuple expression `expr`:
  one per tensor of `templates`, which give each element's type and shape.

  ## Examples

      iex> out = %Nx.Tensor{type: {:tuple, 2}, shape: {}, names: []}
      iex> tuple = %{out | data: %Nx.Defn.Expr{id: make_ref(), op: :custom, args: [], context: nil}}
      iex> {a, b} = Nx.Defn.Expr.tuple(tuple, [Nx.template({2}, :f32), Nx.template({}, :s32)])
      iex> {a.data.op, a.data.args |> tl(), b.shape}
      {:elem, [0], {}}
  """
  @spec tuple(Nx.Tensor.t(), [Nx.Tensor.t()]) :: tuple
  def tuple(%T{type: {:tuple, size}, data: %__MODULE__{context: context}} = expr, templates)
      when is_list(templates) and length(templates) == size do
    templates
    |> Enum.with_index(fn %T{} = template, i -> node(template, context, :elem, [expr, i]) end)
    |> List.to_tuple()
  end

  @doc false
  @spec id() :: reference
  def id, do: make_ref()

  ## Control flow

  @doc """
  Builds a `cond` expression from `{predicate, branch}` clauses and the
  branch `last`, taken when no predicate holds.

  Predicates must be scalar expressions. The branches must have the same
  structure; tensors in the same position are converted to their merged
  type and broadcast to a common shape. Branches that return several
  tensors produce a tuple node and `elem` nodes in the branches' structure.

  ## Examples

      iex> pred = Nx.Defn.Expr.parameter(:root, {:u, 8}, {}, 0)
      iex> x = Nx.Defn.Expr.parameter(:root, {:f, 32}, {2}, 1)
      iex> result = Nx.Defn.Expr.cond([{pred, x}], 0)
      iex> {result.data.op, result.type, result.shape}
      {:cond, {:f, 32}, {2}}
  """
  @spec cond([{Nx.Tensor.t(), term}], term) :: term
  def cond([], last), do: last

  def cond(clauses, last) do
    if vectorized_cond?(clauses, last),
      do: vectorized_cond(clauses, last),
      else: plain_cond(clauses, last)
  end

  defp vectorized_cond?(clauses, last) do
    values = [last | Enum.flat_map(clauses, &Tuple.to_list/1)]
    values |> Composite.flatten_list() |> Nx.Vectorize.any?()
  end

  # With vectorized predicates or branches each vector entry takes its own branch: every
  # branch is computed and the entries are picked from them with select.
  defp vectorized_cond(clauses, last) do
    last = to_container_expr(last)

    clauses
    |> Enum.reverse()
    |> Enum.reduce(last, fn {pred, branch}, acc ->
      branch_leaves = Composite.flatten_list([to_container_expr(branch)])
      acc_leaves = Composite.flatten_list([acc])
      rebuild(last, Enum.zip_with(branch_leaves, acc_leaves, &Nx.select(pred, &1, &2)))
    end)
  end

  defp plain_cond(clauses, last) do
    {preds, branches} = Enum.unzip(clauses)
    {preds, context} = to_exprs(preds)
    branches = Enum.map([last | branches], &to_container_expr/1)
    [last | branches] = unify_branches(branches)

    leaves = Enum.map([last | branches], &Composite.flatten_list([&1]))
    context = Enum.reduce(List.flatten(leaves), context, &merge_context!/2)
    [last_leaves | branch_leaves] = leaves

    case last_leaves do
      [] ->
        last

      [template] ->
        args = [Enum.zip(preds, Enum.map(branch_leaves, &hd/1)), template]
        result = node(template, context, :cond, args)
        rebuild(last, [result])

      templates ->
        args = [
          Enum.zip(preds, Enum.map(branch_leaves, &List.to_tuple/1)),
          List.to_tuple(templates)
        ]

        tuple = node(tuple_out(length(templates)), context, :cond, args)
        rebuild(last, tuple |> tuple(templates) |> Tuple.to_list())
    end
  end

  # Converts every tensor of each branch to the merged type and common
  # shape of the tensors in the same position in the other branches.
  defp unify_branches([first | _] = branches) do
    columns = branches |> Enum.map(&Composite.flatten_list([&1])) |> Enum.zip_with(& &1)

    targets =
      Enum.map(columns, fn [head | tail] ->
        Enum.reduce(tail, {head.type, head.shape, head.names}, fn t, {type, shape, names} ->
          {shape, names} = broadcast_shapes(shape, names, t.shape, t.names)
          {Nx.Type.merge(type, t.type), shape, names}
        end)
      end)

    _ = first

    Enum.map(branches, fn branch ->
      {branch, []} =
        Composite.traverse(branch, targets, fn t, [{type, shape, names} | rest] ->
          t = t |> Nx.as_type(type) |> Nx.broadcast(shape)
          {%{t | names: names}, rest}
        end)

      branch
    end)
  end

  defp broadcast_shapes(left, left_names, right, right_names) do
    rank = max(tuple_size(left), tuple_size(right))

    pad = fn dims, names ->
      extra = rank - length(dims)
      {List.duplicate(1, extra) ++ dims, List.duplicate(nil, extra) ++ names}
    end

    {ldims, lnames} = pad.(Tuple.to_list(left), left_names)
    {rdims, rnames} = pad.(Tuple.to_list(right), right_names)

    {dims, names} =
      Enum.zip_with([ldims, rdims, lnames, rnames], fn [l, r, ln, rn] ->
        dim =
          cond do
            l == r or r == 1 ->
              l

            l == 1 ->
              r

            true ->
              raise ArgumentError,
                    "cannot broadcast branch shapes #{inspect(left)} and #{inspect(right)}"
          end

        {dim, ln || rn}
      end)
      |> Enum.unzip()

    {List.to_tuple(dims), names}
  end

  # Puts `results` (one per leaf, in order) back into the structure of `shape`.
  defp rebuild(shape, results) do
    {rebuilt, []} = Composite.traverse(shape, results, fn _, [head | tail] -> {head, tail} end)
    rebuilt
  end

  @doc """
  Builds a `while` expression.

  `initial` is the loop's initial state (a tensor or container of
  expressions), `arg` the same structure of parameters of `context`, and
  `condition` (a scalar) and `body` (the next state) are written in terms
  of `arg`.

  ## Examples

      iex> context = {:while, make_ref()}
      iex> x = Nx.Defn.Expr.parameter(context, {:s, 32}, {}, 0)
      iex> cond = Nx.Defn.Expr.parameter(context, {:u, 8}, {}, 1)
      iex> result = Nx.Defn.Expr.while(Nx.Defn.Expr.tensor(0), context, x, cond, x)
      iex> result.data.op
      :while
  """
  @spec while(term, term, term, Nx.Tensor.t(), term) :: term
  def while(initial, context, arg, condition, body) do
    [initial_flat, arg_flat, body_flat] =
      Enum.map([initial, arg, body], &Composite.flatten_list([&1], [], fn n -> to_expr(n) end))

    root_context = Enum.reduce(initial_flat, nil, &merge_context!/2)

    pack = fn
      [single] -> single
      list -> List.to_tuple(list)
    end

    args = [pack.(initial_flat), pack.(arg_flat), condition, pack.(body_flat)]
    _ = context

    case initial_flat do
      [template] ->
        rebuild(initial, [node(template, root_context, :while, args)])

      templates ->
        tuple = node(tuple_out(length(templates)), root_context, :while, args)
        rebuild(initial, tuple |> tuple(templates) |> Tuple.to_list())
    end
  end

  ## Hooks and tokens (called by Nx.Defn.Kernel)

  @doc false
  def add_hook(%Token{} = token, expr, name, callback) do
    expr = to_container_expr(expr)
    {Token.add_hook(token, expr, name, callback), expr}
  end

  @doc false
  def attach_token(%Token{hooks: hooks} = token, expr) do
    token_expr = node(tuple_out(length(hooks)), nil, :token, [token])

    Composite.traverse(expr, fn leaf ->
      %T{data: %__MODULE__{context: context}} = leaf = to_expr(leaf)
      node(leaf, context, :attach_token, [token_expr, leaf])
    end)
  end

  ## Nx.Defn.Kernel entry points

  @doc false
  def defn_cond(file, clauses) do
    [{first_meta, _} | _] = clauses

    clauses =
      clauses
      |> Enum.map(fn {meta, {pred, branch}} ->
        {meta, to_pred(pred, meta[:line], file, :cond), branch}
      end)
      |> Enum.reject(fn {_meta, pred, _} -> constant_value(pred) == 0 end)
      |> take_until_always_true()

    case clauses do
      [] ->
        compile_error!(
          file,
          first_meta[:line],
          "cond/if expects at least one branch to always evaluate to true"
        )

      [{_meta, pred, branch} | _] = all ->
        if always_true?(pred) do
          branch.()
        else
          {last_meta, last_pred, _} = List.last(all)

          unless always_true?(last_pred) do
            compile_error!(
              file,
              last_meta[:line],
              "cond/if expects at least one branch to always evaluate to true"
            )
          end

          built = Enum.map(all, fn {meta, pred, branch} -> {meta, pred, branch.()} end)
          [{_, _, first} | _] = built

          Enum.each(built, fn {meta, _pred, result} ->
            unless Composite.compatible?(first, result, fn _, _ -> true end) do
              compile_error!(file, meta[:line], """
              cond/if expects all branches to return compatible tensor types.

              First branch: #{inspect(Composite.to_template(first))}

              Other branch: #{inspect(Composite.to_template(result))}
              """)
            end
          end)

          {clauses, [{_, _, last}]} = Enum.split(built, -1)
          cond(Enum.map(clauses, fn {_, pred, result} -> {pred, result} end), last)
        end
    end
  end

  defp take_until_always_true([]), do: []

  defp take_until_always_true([{_, pred, _} = clause | rest]) do
    if always_true?(pred), do: [clause], else: [clause | take_until_always_true(rest)]
  end

  defp always_true?(pred) do
    case constant_value(pred) do
      nil -> false
      value -> value != 0
    end
  end

  defp to_pred(pred, line, file, op) do
    pred =
      cond do
        is_boolean(pred) ->
          constant(%T{type: {:u, 8}, shape: {}, names: []}, if(pred, do: 1, else: 0))

        is_atom(pred) or is_binary(pred) or is_list(pred) ->
          compile_error!(
            file,
            line,
            "#{op} in defn expects the predicate to be true, false, or a scalar tensor " <>
              "where 0 is false and everything else is true, got: #{inspect(pred)}"
          )

        true ->
          to_expr(pred)
      end

    unless pred.shape == {} do
      compile_error!(
        file,
        line,
        "condition must be a scalar tensor, got: #{inspect(pred)}, " <>
          "consider using Nx.all/1 or Nx.any/1 to obtain a scalar predicate from tensor"
      )
    end

    pred
  end

  @doc false
  def defn_while(file, line, initial, generator, condition_body, opts) do
    initial = to_container_expr(initial)

    case generator do
      :none ->
        if opts != [] do
          compile_error!(
            file,
            line,
            "options are not supported on while with conditions, only with generators, got: #{inspect(opts)}"
          )
        end

        {arg, context} = to_params(initial, :while)
        condition = condition_body.(:condition, arg) |> to_pred(line, file, :while)
        body = condition_body.(:body, arg) |> to_container_expr()

        if condition.vectorized_axes == [] and
             Composite.flatten_list([initial]) |> Enum.map(& &1.vectorized_axes) ==
               Composite.flatten_list([body]) |> Enum.map(& &1.vectorized_axes) do
          compatible_while!(file, line, initial, body)
          while(initial, context, arg, condition, body)
        else
          vectorized_while(file, line, initial, condition_body, 4)
        end

      {:while, %T{} = tensor} ->
        tensor = to_expr(tensor)

        if tensor.shape == {} do
          compile_error!(file, line, "cannot have a scalar tensor as generator")
        end

        step = fn which, {{index, gen}, acc} ->
          condition_body.(which, {take_row(gen, index), acc})
        end

        range = 0..(elem(tensor.shape, 0) - 1)//1
        while_range(range, file, line, initial, tensor, step, opts)

      {:while, %Range{} = range} ->
        step = fn which, {{index, {}}, acc} -> condition_body.(which, {index, acc}) end
        while_range(range, file, line, initial, {}, step, opts)

      {:while, other} ->
        compile_error!(
          file,
          line,
          "generators in while expect a range or a tensor, got: #{inspect(other)}"
        )
    end
  end

  # A condition or state that differs per vector entry: every entry carries its own state
  # (each part of the state is broadcast over the vectorized axes of the condition and of
  # what the body makes of it, traced again until they are stable), the loop runs while
  # the condition of some entry holds, and entries whose condition fails keep their state.
  defp vectorized_while(file, line, initial, condition_body, rounds) do
    {arg, context} = to_params(initial, :while)
    condition = condition_body.(:condition, arg) |> to_pred(line, file, :while)
    body = condition_body.(:body, arg) |> to_container_expr()
    initial_leaves = Composite.flatten_list([initial])
    body_leaves = Composite.flatten_list([body])

    grown =
      Enum.zip_with(initial_leaves, body_leaves, fn leaf, next ->
        with_vectors(leaf, Nx.Vectorize.canonical_axes([condition, leaf, next]))
      end)

    stable? =
      Enum.zip_with(
        initial_leaves,
        grown,
        &(Enum.sort(&1.vectorized_axes) == Enum.sort(&2.vectorized_axes))
      )
      |> Enum.all?()

    cond do
      stable? ->
        arg_leaves = Composite.flatten_list([arg])

        next =
          Enum.zip_with(body_leaves, arg_leaves, fn next, current ->
            condition |> Nx.select(next, current) |> with_vectors(current.vectorized_axes)
          end)

        body = rebuild(body, next)
        compatible_while!(file, line, initial, body)
        any = condition |> Nx.devectorize() |> Nx.any()
        while(initial, context, arg, any, body)

      rounds > 0 ->
        vectorized_while(file, line, rebuild(initial, grown), condition_body, rounds - 1)

      true ->
        compatible_while!(file, line, initial, body)
    end
  end

  # The tensor broadcast over the vectorized `axes` (a superset of its own), in their order.
  defp with_vectors(tensor, []), do: tensor

  defp with_vectors(tensor, axes) do
    anchor =
      0
      |> Nx.tensor(backend: __MODULE__)
      |> Nx.broadcast(List.to_tuple(Keyword.values(axes)))
      |> Nx.vectorize(Keyword.keys(axes))

    [_, tensor] = Nx.broadcast_vectors([anchor, tensor])
    tensor
  end

  defp take_row(tensor, index) do
    {_, rest} = tensor.shape |> Tuple.to_list() |> List.pop_at(0)
    start = [index | List.duplicate(0, length(rest))]

    tensor
    |> Nx.slice(start, [1 | rest])
    |> Nx.squeeze(axes: [0])
  end

  defp while_range(range, file, line, initial, carried, condition_body, opts) do
    unroll =
      case Keyword.validate(opts, unroll: false) do
        {:ok, opts} ->
          opts[:unroll]

        {:error, keys} ->
          compile_error!(file, line, "unknown options for while: #{inspect(keys)}")
      end

    size = Range.size(range)

    {looped, unrolled} =
      case unroll do
        false ->
          {{range, 1}, []}

        true ->
          {nil, Enum.to_list(range)}

        n when is_integer(n) and n >= size ->
          {nil, Enum.to_list(range)}

        n when is_integer(n) and n > 0 ->
          split_unroll(range, size, n)

        other ->
          compile_error!(
            file,
            line,
            ":unroll must be a boolean or a positive integer, got: #{inspect(other)}"
          )
      end

    state =
      case looped do
        {sub_range, per_iteration} when size > 0 ->
          range_loop(sub_range, per_iteration, file, line, initial, carried, condition_body)

        _ ->
          initial
      end

    Enum.reduce(unrolled, state, fn index, acc ->
      body = condition_body.(:body, {{index, carried}, acc}) |> to_container_expr()
      compatible_while!(file, line, initial, body)
      body
    end)
  end

  # Loops over `range` running `per_iteration` bodies per loop iteration;
  # returns the elements of the range left to unroll afterwards.
  defp split_unroll(first.._//step = range, size, n) do
    looped_size = size - rem(size, n)

    looped =
      if looped_size == 0, do: nil, else: {first..(first + step * (looped_size - 1))//step, n}

    {looped, range |> Enum.drop(looped_size)}
  end

  defp range_loop(first..last//step, per_iteration, file, line, initial, carried, condition_body) do
    loop_initial = {{to_expr(first), carried}, initial}
    {{{index, carried_param}, arg} = loop_arg, context} = to_params(loop_initial, :while)

    condition = if step > 0, do: Nx.less_equal(index, last), else: Nx.greater_equal(index, last)

    body =
      Enum.reduce(0..(per_iteration - 1)//1, arg, fn k, acc ->
        current = if k == 0, do: index, else: Nx.add(index, step * k)
        body = condition_body.(:body, {{current, carried_param}, acc}) |> to_container_expr()
        compatible_while!(file, line, initial, body)
        body
      end)

    loop_body = {{Nx.add(index, step * per_iteration), carried_param}, body}
    {_index, result} = while(loop_initial, context, loop_arg, condition, loop_body)
    result
  end

  defp compatible_while!(file, line, initial, body) do
    unless Composite.same_templates?(initial, body) do
      compile_error!(file, line, """
      the do-block in while must return tensors with the same shape, type, and names as the initial arguments.

      Body: #{inspect(Composite.to_template(body))}

      Initial: #{inspect(Composite.to_template(initial))}
      """)
    end
  end

  defp compile_error!(file, line, description) do
    raise CompileError, file: file, line: line || 0, description: description
  end

  ## Nx.Backend callbacks

  @impl true
  def init([]), do: []

  def init(opts) do
    raise ArgumentError, "Nx.Defn.Expr accepts no options, got: #{inspect(opts)}"
  end

  @impl true
  def constant(out, number, _opts), do: constant(out, number)

  @impl true
  def from_binary(%T{shape: {}, type: type} = out, binary, _opts) do
    [number] = Nx.Shared.decode(binary, type)
    constant(out, number)
  end

  def from_binary(out, binary, _opts) do
    {backend, opts} = outer_backend()
    tensor = backend.from_binary(%{out | data: nil}, binary, opts)
    node(out, nil, :tensor, [tensor])
  end

  @impl true
  def eye(out, _opts), do: node(out, nil, :eye, [])

  @impl true
  def iota(out, axis, _opts), do: node(out, nil, :iota, [axis])

  @impl true
  def add(out, left, right) do
    {[left, right], context} = to_exprs([left, right])

    case {constant_value(left), constant_value(right)} do
      {zero, _} when zero == 0 -> coerce(right, out)
      {_, zero} when zero == 0 -> coerce(left, out)
      {nil, c} when c != nil -> binary_node(out, context, :add, right, left)
      _ -> binary_node(out, context, :add, left, right)
    end
  end

  @impl true
  def subtract(out, left, right) do
    {[left, right], context} = to_exprs([left, right])

    case constant_value(right) do
      zero when zero == 0 -> coerce(left, out)
      _ -> binary_node(out, context, :subtract, left, right)
    end
  end

  @impl true
  def multiply(out, left, right) do
    {[left, right], context} = to_exprs([left, right])

    case {constant_value(left), constant_value(right)} do
      {one, _} when one == 1 -> coerce(right, out)
      {_, one} when one == 1 -> coerce(left, out)
      {nil, c} when c != nil -> binary_node(out, context, :multiply, right, left)
      _ -> binary_node(out, context, :multiply, left, right)
    end
  end

  for op <- [:divide, :pow] do
    @impl true
    def unquote(op)(out, left, right) do
      {[left, right], context} = to_exprs([left, right])

      case constant_value(right) do
        one when one == 1 -> coerce(left, out)
        _ -> binary_node(out, context, unquote(op), left, right)
      end
    end
  end

  for op <- Nx.Backend.binary_ops() -- [:add, :subtract, :multiply, :divide, :pow] do
    @impl true
    def unquote(op)(out, left, right) do
      {[left, right], context} = to_exprs([left, right])
      binary_node(out, context, unquote(op), left, right)
    end
  end

  for op <- Nx.Backend.unary_ops() ++ [:logical_not, :phase, :as_type] do
    @impl true
    def unquote(op)(out, tensor) do
      %T{data: %__MODULE__{context: context}} = tensor = to_expr(tensor)

      case constant_value(tensor) do
        nil ->
          node(out, context, unquote(op), [tensor])

        value ->
          fold(unquote(op), out, [{value, tensor.type}]) ||
            node(out, context, unquote(op), [tensor])
      end
    end
  end

  @impl true
  def broadcast(out, tensor, shape, axes) do
    %T{data: %__MODULE__{context: context}} = tensor = to_expr(tensor)

    case constant_value(tensor) do
      nil -> node(out, context, :broadcast, [tensor, shape, axes])
      value -> constant(out, value)
    end
  end

  @impl true
  def reduce(out, tensor, acc, opts, fun),
    do: record(:reduce, out, [tensor, acc, opts, trace_fun(out, fun, :reduce)])

  @impl true
  def window_reduce(out, tensor, acc, window, opts, fun),
    do:
      record(:window_reduce, out, [tensor, acc, window, opts, trace_fun(out, fun, :window_reduce)])

  @impl true
  def optional(name, args, fun) do
    default = args |> then(&apply(fun, &1)) |> to_container_expr()
    {call, context} = record_node(name, template_of(default), args)
    wrap_composite(default, context, :optional, fn _out -> [call, default, fun] end)
  end

  @impl true
  def block(name, out, args, default) do
    result =
      cond do
        # Operations without a default written in Nx (eigh, svd) record opaque results that
        # only a backend's own implementation computes (see the Evaluator's :block clause).
        Nx.Block.opaque?(default) ->
          Composite.traverse(out, &node(%{&1 | data: nil}, nil, :block_result, [name]))

        is_function(default, length(args)) ->
          apply(default, args)

        true ->
          default.(args)
      end

    {args, context} = convert_args(args)
    result = to_container_expr(result)
    # The output template travels with the name so a compiler can hand the block to the
    # backend (LibTorch's native linalg) instead of running the traced default.
    tag = {name, Composite.traverse(out, &%{&1 | data: %Nx.TemplateBackend{}})}
    wrap_composite(result, context, :block, fn _out -> [tag, args, result, default] end)
  end

  defp wrap_composite(%T{} = result, context, op, args_fun) do
    node(result, merge_context!(result, context), op, args_fun.(result))
  end

  defp wrap_composite(result, context, op, args_fun) do
    templates = Composite.flatten_list([result])

    tuple =
      node(tuple_out(length(templates)), context, op, args_fun.(tuple_out(length(templates))))

    rebuild(result, tuple |> tuple(templates) |> Tuple.to_list())
  end

  defp template_of(%T{} = t), do: t
  defp template_of(composite), do: tuple_out(Composite.count(composite))

  @impl true
  def backend_transfer(%T{data: %__MODULE__{}} = tensor, __MODULE__, _opts), do: tensor

  def backend_transfer(tensor, backend, _opts),
    do: unsupported!(:backend_transfer, 3, tensor, backend)

  @impl true
  def backend_copy(%T{data: %__MODULE__{}} = tensor, __MODULE__, _opts), do: tensor
  def backend_copy(tensor, backend, _opts), do: unsupported!(:backend_copy, 3, tensor, backend)

  @impl true
  def backend_deallocate(tensor), do: unsupported!(:backend_deallocate, 1, tensor, nil)

  @impl true
  def to_binary(tensor, _limit), do: unsupported!(:to_binary, 2, tensor, nil)

  @impl true
  def to_batched(_out, tensor, _opts), do: unsupported!(:to_batched, 3, tensor, nil)

  @impl true
  def from_pointer(_pointer, _type, _shape, _backend_opts, _opts),
    do: unsupported!(:from_pointer, 5, nil, nil)

  @impl true
  def to_pointer(tensor, _opts), do: unsupported!(:to_pointer, 2, tensor, nil)

  defp unsupported!(name, arity, _tensor, _other) do
    raise ArgumentError, """
    cannot invoke #{name}/#{arity} on Nx.Defn.Expr.

    This typically means an Nx function that needs tensor values (such as \
    Nx.to_number/1 or Nx.to_binary/2) was called inside defn or a function \
    being compiled with Nx.Defn.jit/2, where tensors only describe the computation\
    """
  end

  @impl true
  def inspect(tensor, opts), do: Nx.Defn.Expr.Printer.inspect(tensor, opts)

  @handled [:init, :constant, :from_binary, :eye, :iota, :broadcast, :reduce, :window_reduce] ++
             [:optional, :block, :backend_transfer, :backend_copy, :backend_deallocate] ++
             [:to_binary, :to_batched, :from_pointer, :to_pointer, :inspect, :logical_not] ++
             [:phase, :as_type] ++ Nx.Backend.binary_ops() ++ Nx.Backend.unary_ops()

  for {name, arity} <- Nx.Backend.behaviour_info(:callbacks), name not in @handled do
    [out | args] = Macro.generate_arguments(arity, __MODULE__)

    @impl true
    def unquote(name)(unquote(out), unquote_splicing(args)) do
      record(unquote(name), unquote(out), unquote(args))
    end
  end

  ## Helpers

  # Records `op` with `args` (tensors converted to expressions). Tuple outs
  # (qr, svd, ...) become a tuple node plus one elem node per element.
  defp record(op, out, args) do
    case out do
      %T{} = out ->
        {node, _context} = record_node(op, out, args)
        node

      tuple when is_tuple(tuple) ->
        templates = Enum.map(Tuple.to_list(tuple), &%{&1 | data: nil})

        {node, _context} =
          record_node(op, tuple_out(length(templates)), [List.to_tuple(templates) | args])

        node |> tuple(templates)
    end
  end

  defp record_node(op, out, args) do
    {args, context} = convert_args(args)
    {node(out, context, op, args), context}
  end

  defp convert_args(args) do
    Enum.map_reduce(args, nil, fn
      %T{data: %__MODULE__{op: :fun}} = fun, context ->
        {fun, context}

      %T{} = tensor, context ->
        tensor = to_expr(tensor)
        {tensor, merge_context!(tensor, context)}

      list, context when is_list(list) ->
        Enum.map_reduce(list, context, fn
          %T{} = tensor, context ->
            tensor = to_expr(tensor)
            {tensor, merge_context!(tensor, context)}

          other, context ->
            {other, context}
        end)

      other, context ->
        {other, context}
    end)
  end

  defp trace_fun(%T{type: type}, fun, kind) do
    context = {kind, make_ref()}
    {:arity, arity} = Function.info(fun, :arity)
    params = for i <- 0..(arity - 1)//1, do: parameter(context, type, {}, i)
    body = to_expr(apply(fun, params))

    if body.shape != {} do
      raise ArgumentError,
            "#{kind} function must return a scalar tensor, got shape #{inspect(body.shape)}"
    end

    {:module, module} = Function.info(fun, :module)
    {:name, name} = Function.info(fun, :name)
    node(%{body | type: type}, context, :fun, [params, body, {module, name, arity}])
  end

  defp node(%T{} = tensor, context, op, args) do
    %{tensor | data: %__MODULE__{id: make_ref(), op: op, args: args, context: context}}
  end

  defp tuple_out(size), do: %T{type: {:tuple, size}, shape: {}, names: []}

  defp to_expr(%T{data: %__MODULE__{}} = tensor), do: tensor

  defp to_expr(%T{shape: {}, vectorized_axes: []} = tensor) do
    constant(tensor, Nx.to_number(tensor))
  end

  defp to_expr(%T{} = tensor), do: node(tensor, nil, :tensor, [tensor])

  defp to_expr(number) when is_number(number) or is_struct(number, Complex) do
    constant(%T{type: Nx.Type.infer(number), shape: {}, names: []}, number)
  end

  defp to_expr(other) do
    raise ArgumentError,
          "unable to build tensor expression, expected a tensor or a number, got: #{inspect(other)}"
  end

  defp to_exprs(list) do
    Enum.map_reduce(list, nil, fn tensor, context ->
      tensor = to_expr(tensor)
      {tensor, merge_context!(tensor, context)}
    end)
  end

  defp to_container_expr(composite), do: Composite.traverse(composite, &to_expr/1)

  defp to_params(composite, kind) do
    context = {kind, make_ref()}

    {params, _} =
      Composite.traverse(composite, 0, fn leaf, i ->
        {parameter(to_expr(leaf), context, i), i + 1}
      end)

    {params, context}
  end

  defp merge_context!(%T{data: %__MODULE__{context: context}}, acc) do
    cond do
      context == nil -> acc
      acc == nil or acc == context -> context
      true -> raise_context_mismatch!(context, acc)
    end
  end

  defp raise_context_mismatch!(left, right) do
    raise ArgumentError, """
    cannot build defn expression from values of different scopes \
    (#{inspect(left)} and #{inspect(right)}).

    A while loop, or a function given to an operation such as Nx.reduce/4, \
    can only use the values it receives as arguments. To use an outer value \
    inside a while loop, pass it in the loop state, for example:

        while {x = 0, step}, Nx.less(x, 10) do
          {x + step, step}
        end
    """
  end

  ## Constants and folding

  defp constant(%T{type: type} = out, number) do
    number =
      cond do
        is_integer(number) and not Nx.Type.integer?(type) ->
          number * 1.0

        Nx.Type.integer?(type) and not is_integer(number) ->
          raise ArgumentError,
                "value #{inspect(number)} is not valid for constant of type #{inspect(type)}"

        true ->
          number
      end

    %{out | data: %__MODULE__{id: make_ref(), op: :constant, args: [number], context: nil}}
  end

  defp constant_value(%T{data: %__MODULE__{op: :constant, args: [value]}}), do: value
  defp constant_value(_), do: nil

  defp binary_node(out, context, op, left, right) do
    with l when l != nil <- constant_value(left),
         r when r != nil <- constant_value(right),
         %T{} = folded <- fold(op, out, [{l, left.type}, {r, right.type}]) do
      folded
    else
      _ -> node(out, context, op, [left, right])
    end
  end

  # Computes an operation on constants with the backend that was the default
  # before tracing, so the result follows that backend's exact semantics.
  defp fold(op, out, constants) do
    {backend, opts} = outer_backend()
    scalar = %{out | shape: {}, names: [], data: nil}

    args =
      Enum.map(constants, fn {value, type} ->
        backend.constant(%T{type: type, shape: {}, names: []}, value, opts)
      end)

    constant(out, Nx.to_number(apply(backend, op, [scalar | args])))
  rescue
    _ -> nil
  end

  defp coerce(tensor, out) do
    tensor |> Nx.as_type(out.type) |> Nx.broadcast(out.shape) |> Map.put(:names, out.names)
  end

  @doc false
  def __outer_backend_key__, do: @outer_backend_key

  defp outer_backend do
    Process.get(@outer_backend_key) ||
      case Application.fetch_env(:nx, :default_backend) do
        {:ok, {module, opts}} when module != __MODULE__ -> {module, module.init(opts)}
        {:ok, module} when is_atom(module) and module != __MODULE__ -> {module, module.init([])}
        _ -> {Nx.Torch.Backend, Nx.Torch.Backend.init([])}
      end
  end
end
