defmodule Nx.Defn.Grad do
  # Symbolic reverse-mode differentiation of traced `defn` expressions: the
  # engine behind `Nx.Defn.grad/2` and `Nx.Defn.value_and_grad/3`.
  #
  # The function is traced with each tensor to differentiate wrapped in a
  # metadata node (a "target"). The gradient is then built as new expression
  # nodes: the nodes that depend on a target are visited from the output
  # down, in reverse topological order, and each one hands the sum of the
  # gradients it received to its arguments through the rule of its
  # operation (`Nx.Defn.Grad.Elementwise`, `Nx.Defn.Grad.Shape`,
  # `Nx.Defn.Grad.Reduce`, `Nx.Defn.Grad.ConvWindow`, `Nx.Defn.Grad.FFT`,
  # `Nx.Defn.Grad.LinAlg`). Nodes that depend on no target are never
  # visited, so constants and non-differentiable values cost nothing.
  #
  # Blocks (composite operations) are differentiated through their default
  # implementation, except the linear algebra blocks that have a rule of
  # their own (found by the block's name): their backend's implementation
  # stays the forward pass.
  #
  # Control flow:
  #
  #   * `cond`: each branch is differentiated on its own, down to the
  #     targets, and the gradients are combined with a `cond` on the same
  #     predicates.
  #   * `while`: an exact reverse pass. A loop counts the iterations, then a
  #     backward loop walks them from the last to the first; at step k it
  #     recomputes the k-th state from the initial one (a nested loop) and
  #     applies the transposed Jacobian of the body there. This costs a
  #     quadratic number of body evaluations and no memory per iteration.
  #     The new loops reuse the original body and its scope, with extra
  #     parameters after the state's.
  #
  # This module must not evaluate anything: it only builds expressions.
  @moduledoc false

  alias Nx.Defn.{Composite, Expr, Tree}
  alias Nx.Tensor, as: T

  @rule_modules [
    Nx.Defn.Grad.Elementwise,
    Nx.Defn.Grad.Shape,
    Nx.Defn.Grad.Reduce,
    Nx.Defn.Grad.ConvWindow,
    Nx.Defn.Grad.FFT,
    Nx.Defn.Grad.LinAlg
  ]

  # Operations whose result is piecewise constant in their inputs, or not
  # a function of any differentiable input: their gradient is zero.
  @zero_grad_ops [:constant, :tensor, :parameter, :eye, :iota, :fun, :token] ++
                   [:all, :any, :argmax, :argmin, :argsort, :all_close] ++
                   [:bitwise_and, :bitwise_or, :bitwise_xor, :bitwise_not] ++
                   [:logical_and, :logical_or, :logical_xor, :logical_not] ++
                   [:left_shift, :right_shift, :count_leading_zeros, :population_count] ++
                   [:floor, :round, :ceil, :sign, :is_nan, :is_infinity] ++
                   [:equal, :not_equal, :greater, :greater_equal, :less, :less_equal]

  @doc false
  # Traces `fun` on `to_grad` (a tensor or container) and returns
  # `{value, gradient}`, where the gradient is taken of `transform.(value)`
  # and has the structure of `to_grad`. Must be called while tracing.
  def transform(to_grad, fun, transform) when is_function(fun, 1) and is_function(transform, 1) do
    {wrapped, targets, value, output} = trace(to_grad, fun, transform)

    # Vectorized outputs are differentiated entry by entry: inputs lacking some of the
    # output's vectorized axes are broadcast over them (and traced again), so that each
    # entry of the output depends only on its own entries of the inputs.
    {wrapped, targets, value, output} =
      case output.vectorized_axes do
        [] ->
          {wrapped, targets, value, output}

        axes ->
          if Enum.all?(targets, &Enum.all?(axes, fn {name, _} -> &1.vectorized_axes[name] end)) do
            {wrapped, targets, value, output}
          else
            to_grad |> Composite.traverse(&broadcast_vectors(&1, axes)) |> trace(fun, transform)
          end
      end

    # Expressions compute on devectorized tensors: the gradient of the sum of all entries
    # of the output is taken with respect to the devectorized targets.
    output = Nx.Vectorize.devectorize(output)
    grads = backprop([{output, ones(output)}], Enum.map(targets, &Nx.Vectorize.devectorize/1))

    grads =
      Enum.zip_with(grads, targets, fn grad, target ->
        Nx.Vectorize.revectorize(grad, Keyword.keys(target.vectorized_axes))
      end)

    {gradient, []} =
      Composite.traverse(wrapped, grads, fn _leaf, [grad | rest] -> {grad, rest} end)

    {value, gradient}
  end

  defp trace(to_grad, fun, transform) do
    {wrapped, targets} =
      Composite.traverse(to_grad, [], fn leaf, acc ->
        target = Expr.metadata(leaf, %{__MODULE__ => :to_grad})
        {target, [target | acc]}
      end)

    value = fun.(wrapped)
    {wrapped, Enum.reverse(targets), value, value |> transform.() |> output!()}
  end

  defp broadcast_vectors(leaf, axes) do
    anchor =
      0.0
      |> Nx.tensor(backend: Expr)
      |> Nx.broadcast(List.to_tuple(Keyword.values(axes)))
      |> Nx.vectorize(Keyword.keys(axes))

    [_, leaf] = Nx.broadcast_vectors([anchor, leaf])
    leaf
  end

  defp output!(%T{data: %Expr{}} = tensor), do: tensor
  defp output!(%T{} = tensor), do: Expr.tensor(tensor)
  defp output!(number) when is_number(number), do: Expr.tensor(number)

  defp output!(other) do
    raise ArgumentError,
          "grad expects the function (after the value transform) to return a single tensor " <>
            "expression, got: #{inspect(other)}"
  end

  # The seed: the gradient of the output with respect to itself. A
  # non-scalar output is differentiated as the sum of its elements.
  defp ones(%T{type: type, shape: shape}) do
    1.0
    |> Nx.tensor(type: Nx.Type.to_floating(type), backend: Expr)
    |> Nx.broadcast(shape)
  end

  @doc false
  # Returns zeros of the floating type of `tensor` and its shape.
  def zeros(%T{type: type, shape: shape}) do
    0.0
    |> Nx.tensor(type: Nx.Type.to_floating(type), backend: Expr)
    |> Nx.broadcast(shape)
  end

  ## Reverse pass

  @doc false
  # Differentiates the `{output, seed}` pairs (the seed has the output's
  # shape) with respect to `targets` (expression tensors). Returns one
  # gradient per target, with the target's shape and names.
  def backprop(pairs, targets) do
    pairs
    |> partial_grads(targets)
    |> Enum.zip_with(targets, fn
      nil, target -> finish(zeros(target), target)
      grad, target -> finish(grad, target)
    end)
  end

  # As backprop/2, with nil for the targets no gradient reaches.
  defp partial_grads(pairs, targets) do
    ctx = %{
      targets: targets |> Enum.with_index() |> Map.new(fn {t, i} -> {id(t), i} end),
      target_list: targets
    }

    outputs = Enum.map(pairs, &elem(&1, 0))
    deps = Enum.reduce(outputs, %{}, &(depends(&1, ctx, &2) |> elem(1)))
    ctx = Map.put(ctx, :deps, deps)

    acc = Enum.reduce(pairs, %{}, fn {output, seed}, acc -> add_grad(acc, output, seed, ctx) end)

    acc =
      outputs
      |> topological_order(deps)
      |> Enum.reduce(acc, &propagate(&1, &2, ctx))

    Enum.map(targets, fn target ->
      case Map.get(acc, id(target)) do
        nil -> nil
        gs -> finish(sum_grads(gs), target)
      end
    end)
  end

  defp finish(grad, %T{shape: shape, names: names}) do
    grad = if grad.shape == shape, do: grad, else: Nx.broadcast(grad, shape)
    %{grad | names: names}
  end

  defp id(%T{data: %Expr{id: id}}), do: id

  # Whether `node` depends on a target through differentiable arguments.
  # Every node reached is recorded (no short-circuit), so later lookups can
  # trust a missing id to mean "not reached".
  defp depends(%T{data: %Expr{id: id}} = node, ctx, memo) do
    cond do
      Map.has_key?(memo, id) ->
        {Map.fetch!(memo, id), memo}

      Map.has_key?(ctx.targets, id) ->
        {true, Map.put(memo, id, true)}

      true ->
        {result, memo} =
          node
          |> dependency_args()
          |> Enum.reduce({false, Map.put(memo, id, false)}, fn arg, {result, memo} ->
            {depends?, memo} = depends(arg, ctx, memo)
            {result or depends?, memo}
          end)

        {result, Map.put(memo, id, result)}
    end
  end

  defp depends(_other, _ctx, memo), do: {false, memo}

  defp depends?(%T{data: %Expr{id: id}}, ctx), do: Map.get(ctx.deps, id, false)
  defp depends?(_other, _ctx), do: false

  # The arguments a node's value depends on differentiably.
  defp dependency_args(%T{data: %Expr{op: :cond, args: [clauses, last]}}) do
    Composite.flatten_list([last | Enum.map(clauses, &elem(&1, 1))])
  end

  defp dependency_args(node), do: grad_args(node)

  # The arguments a node passes its gradient to during the reverse pass.
  # `cond` branches are differentiated by the cond rule itself.
  defp grad_args(%T{data: %Expr{op: op, args: args}} = node) do
    case {op, args} do
      {op, _} when op in @zero_grad_ops -> []
      {:cond, _} -> []
      {:metadata, [_, %{stop_grad: true}]} -> []
      {:metadata, [_, %{custom_grad: {inputs, _}}]} -> Enum.filter(inputs, &expr?/1)
      {:metadata, [inner, _]} -> [inner]
      {:elem, [tuple, _]} -> [tuple]
      {:attach_token, [_, expr]} -> [expr]
      {:while, [initial | _]} -> Composite.flatten_list([initial])
      {:optional, [_call, default, _fun]} -> Composite.flatten_list([default])
      {:block, [tag, args, default, _fun]} -> block_args(tag, args, default)
      _ -> node |> Tree.apply_args([], &{&1, [&1 | &2]}) |> elem(1) |> Enum.reverse()
    end
  end

  defp block_args(tag, args, default) do
    Nx.Defn.Grad.LinAlg.block_inputs(tag, args) || Composite.flatten_list([default])
  end

  defp expr?(%T{data: %Expr{}}), do: true
  defp expr?(_), do: false

  # Depth-first post-order over the dependent nodes, reversed: every node
  # comes before its arguments.
  defp topological_order(outputs, deps) do
    {order, _seen} =
      Enum.reduce(outputs, {[], %{}}, fn output, acc -> visit(output, deps, acc) end)

    order
  end

  defp visit(%T{data: %Expr{id: id}} = node, deps, {order, seen}) do
    if Map.has_key?(seen, id) or not Map.get(deps, id, false) do
      {order, seen}
    else
      {order, seen} =
        node |> grad_args() |> Enum.reduce({order, Map.put(seen, id, true)}, &visit(&1, deps, &2))

      {[node | order], seen}
    end
  end

  # Gradients are accumulated as lists per node id; tuple nodes (results
  # of cond, while and of operations returning tuples) as maps from the
  # element index to lists.
  defp add_grad(acc, %T{data: %Expr{id: id}} = node, g, ctx) do
    if depends?(node, ctx) do
      g = fit!(g, node)
      Map.update(acc, id, [g], &[g | &1])
    else
      acc
    end
  end

  defp add_elem_grad(acc, %T{data: %Expr{id: id}} = tuple, index, g, ctx) do
    if depends?(tuple, ctx) do
      Map.update(acc, id, %{index => [g]}, fn map -> Map.update(map, index, [g], &[g | &1]) end)
    else
      acc
    end
  end

  # Rules return gradients with the shape of the argument; scalars (from
  # constants) are broadcast. Names are dropped: they carry no meaning for
  # gradients and could conflict between paths. Complex gradients follow
  # the convention dL/dRe + i dL/dIm, so a real value keeps the real part.
  defp fit!(%T{type: {:c, _}} = g, %T{type: {kind, _}} = node) when kind != :c,
    do: fit!(Nx.real(g), node)

  defp fit!(%T{shape: shape} = g, %T{shape: shape}), do: unname(g)
  defp fit!(%T{shape: {}} = g, %T{shape: shape}), do: g |> Nx.broadcast(shape) |> unname()

  defp fit!(g, node) do
    raise "internal gradient error: the gradient for #{node.data.op} has shape " <>
            "#{inspect(g.shape)}, expected #{inspect(node.shape)}"
  end

  @doc false
  # Nx.select/3 whose predicate is broadcast with both branches (Nx takes
  # the shape of a non-scalar predicate as the result's).
  def select(pred, on_true, on_false) do
    shape =
      [pred, on_true, on_false]
      |> Enum.map(&(&1 |> Nx.shape() |> Tuple.to_list() |> Enum.reverse()))
      |> Enum.reduce(fn dims, acc -> merge_dims(dims, acc) end)
      |> Enum.reverse()
      |> List.to_tuple()

    Nx.select(Nx.broadcast(pred, shape), on_true, on_false)
  end

  defp merge_dims([a | as], [b | bs]), do: [max(a, b) | merge_dims(as, bs)]
  defp merge_dims(as, []), do: as
  defp merge_dims([], bs), do: bs

  @doc false
  def unname(%T{names: names} = t), do: %{t | names: Enum.map(names, fn _ -> nil end)}

  defp sum_grads([g]), do: g
  defp sum_grads([g | gs]), do: Enum.reduce(gs, g, &Nx.add/2)

  defp propagate(%T{data: %Expr{id: id}} = node, acc, ctx) do
    cond do
      Map.has_key?(ctx.targets, id) ->
        acc

      true ->
        case Map.pop(acc, id) do
          {nil, acc} ->
            acc

          {gs, acc} ->
            node
            |> node_grads(collect(node, gs), ctx)
            |> Enum.reduce(acc, fn
              {:elem, tuple, index, g}, acc -> add_elem_grad(acc, tuple, index, g, ctx)
              {arg, g}, acc -> add_grad(acc, arg, g, ctx)
            end)
        end
    end
  end

  # A tensor node gets the sum of its gradients; a tuple node a list with
  # one gradient (or nil) per element.
  defp collect(%T{type: {:tuple, size}}, gs) when is_map(gs) do
    for i <- 0..(size - 1)//1 do
      case gs do
        %{^i => list} -> sum_grads(list)
        %{} -> nil
      end
    end
  end

  defp collect(_node, gs) when is_list(gs), do: sum_grads(gs)

  ## Gradients of syntax nodes, then of operations

  defp node_grads(%T{data: %Expr{op: op, args: args}} = node, g, ctx) do
    case {op, args} do
      {:metadata, [_expr, %{custom_grad: {inputs, fun}}]} ->
        custom_grads(inputs, fun, g)

      {:metadata, [expr, _]} ->
        [{expr, g}]

      {:elem, [tuple, index]} ->
        [{:elem, tuple, index, g}]

      {:attach_token, [_token, expr]} ->
        [{expr, g}]

      {:optional, [_call, default, _fun]} ->
        composite_grads(default, g)

      {:block, [tag, args, default, _fun]} ->
        Nx.Defn.Grad.LinAlg.block_grad(tag, args, node, g) || composite_grads(default, g)

      {:cond, [clauses, last]} ->
        cond_grads(clauses, last, List.wrap(g), ctx)

      {:while, [initial, arg, condition, body]} ->
        while_grads(initial, arg, condition, body, List.wrap(g))

      _ ->
        rule(node, g)
    end
  end

  defp composite_grads(%T{} = default, g), do: [{default, g}]

  defp composite_grads(default, gs) do
    default
    |> List.wrap()
    |> Composite.flatten_list()
    |> Enum.zip(gs)
    |> Enum.reject(fn {_, g} -> g == nil end)
  end

  defp custom_grads(inputs, fun, g) do
    grads = fun.(g)

    unless is_list(grads) and length(grads) == length(inputs) and
             Enum.all?(grads, &(is_struct(&1, T) or is_number(&1))) do
      raise ArgumentError,
            "the function given to custom_grad/3 must return a list with one tensor per input " <>
              "(#{length(inputs)} inputs), got: #{inspect(grads)}"
    end

    inputs
    |> Enum.zip(grads)
    |> Enum.filter(fn {input, _} -> expr?(input) end)
    |> Enum.map(fn {input, grad} -> {input, Nx.broadcast(Expr.tensor(grad), input.shape)} end)
  end

  defp rule(%T{data: %Expr{op: op}} = node, g) do
    {args, _} = Tree.apply_args(node, nil, fn arg, acc -> {unname(arg), acc} end)
    ans = unname(node)

    Enum.find_value(@rule_modules, fn module -> module.grad(op, args, ans, g) end) ||
      raise ArgumentError, """
      gradient is not implemented for Nx.#{op}/#{length(args)}.

      Wrap the value in stop_grad/1 to treat it as a constant, or give it a \
      gradient with custom_grad/3\
      """
  end

  ## cond

  # Each branch is differentiated down to the targets; the gradients that
  # are not zero in every branch are chosen with the cond's predicates.
  defp cond_grads(clauses, last, gs, ctx) do
    targets = ctx.target_list

    per_branch =
      Enum.map([last | Enum.map(clauses, &elem(&1, 1))], fn branch ->
        [branch]
        |> Composite.flatten_list()
        |> Enum.zip(gs)
        |> Enum.reject(fn {_, g} -> g == nil end)
        |> partial_grads(targets)
      end)

    used =
      per_branch
      |> Enum.zip_with(& &1)
      |> Enum.zip(targets)
      |> Enum.reject(fn {column, _target} -> Enum.all?(column, &is_nil/1) end)

    if used == [] do
      []
    else
      [last_grads | clause_grads] =
        Enum.map(0..length(clauses)//1, fn branch ->
          used
          |> Enum.map(fn {column, target} -> Enum.at(column, branch) || zeros(target) end)
          |> List.to_tuple()
        end)

      preds = Enum.map(clauses, &elem(&1, 0))
      result = Expr.cond(Enum.zip(preds, clause_grads), last_grads)
      Enum.zip(Enum.map(used, &elem(&1, 1)), Tuple.to_list(result))
    end
  end

  ## while

  # See the module comment. `arg` holds the parameters of the loop's scope:
  # the new loops put their extra values after them, at higher indices.
  defp while_grads(initial, arg, condition, body, gs) do
    initial = Composite.flatten_list([initial])
    params = Composite.flatten_list([arg])
    body = Composite.flatten_list([body])
    scope = hd(params).data.context
    size = length(params)

    gs =
      Enum.zip_with(gs, initial, fn
        nil, init ->
          zeros(init)

        g, init ->
          type = Nx.Type.merge(Nx.Type.to_floating(init.type), g.type)
          g |> Nx.as_type(type) |> Nx.broadcast(init.shape)
      end)

    # 1. How many iterations the loop runs.
    counter = Expr.parameter(Expr.tensor(0), scope, size)

    count =
      loop(
        initial ++ [Expr.tensor(0)],
        params ++ [counter],
        condition,
        body ++ [Nx.add(counter, 1)]
      )
      |> List.last()

    # 2. The transposed Jacobian of the body, in the loop's scope: a
    # function of the state (params) and of the gradient of the next state.
    seeds = gs |> Enum.with_index(size) |> Enum.map(fn {g, i} -> Expr.parameter(g, scope, i) end)

    vjp =
      body
      |> Enum.zip(seeds)
      |> backprop(params)
      |> Enum.zip_with(seeds, fn grad, seed ->
        grad |> Nx.as_type(seed.type) |> Nx.broadcast(seed.shape) |> unname()
      end)

    # 3. The backward loop over k = count - 1 .. 0, carrying the gradient
    # and the initial state.
    back_scope = {:while, make_ref()}
    step = Expr.parameter(Expr.tensor(0), back_scope, 0)

    back_gs =
      gs |> Enum.with_index(1) |> Enum.map(fn {g, i} -> Expr.parameter(g, back_scope, i) end)

    back_initial =
      initial
      |> Enum.with_index(size + 1)
      |> Enum.map(fn {t, i} -> Expr.parameter(t, back_scope, i) end)

    # The k-th state, recomputed from the initial one.
    index = Expr.parameter(Expr.tensor(0), scope, size)
    limit = Expr.parameter(Expr.tensor(0), scope, size + 1)

    state =
      loop(
        back_initial ++ [Expr.tensor(0), step],
        params ++ [index, limit],
        Nx.less(index, limit),
        body ++ [Nx.add(index, 1), limit]
      )
      |> Enum.take(size)

    # One pass of the Jacobian loop body: a loop that runs once.
    flag = Expr.parameter(Nx.tensor(1, type: :u8, backend: Expr), scope, 2 * size)

    next_gs =
      loop(
        state ++ back_gs ++ [Nx.tensor(1, type: :u8, backend: Expr)],
        params ++ seeds ++ [flag],
        flag,
        params ++ vjp ++ [Nx.tensor(0, type: :u8, backend: Expr)]
      )
      |> Enum.slice(size, size)

    back =
      loop(
        [Nx.subtract(count, 1) | gs] ++ initial,
        [step | back_gs] ++ back_initial,
        Nx.greater_equal(step, 0),
        [Nx.subtract(step, 1) | next_gs] ++ back_initial
      )

    initial |> Enum.zip(Enum.slice(back, 1, size)) |> Enum.filter(fn {t, _} -> expr?(t) end)
  end

  # Builds a while loop from flat lists and returns the flat list of its
  # results.
  defp loop(initial, params, condition, body) do
    context = hd(params).data.context

    initial
    |> List.to_tuple()
    |> Expr.while(context, List.to_tuple(params), condition, List.to_tuple(body))
    |> Tuple.to_list()
  end
end
