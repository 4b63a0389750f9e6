defmodule Nx.Defn.Tree do
  @moduledoc """
  Helpers for compilers and tools that walk `Nx.Defn.Expr` graphs.

  A traced graph is a DAG: the same node (same id) may be an argument of
  many others, so recursive walks should remember the ids they visited.
  """

  alias Nx.Defn.{Composite, Expr, Token}
  alias Nx.Tensor, as: T

  @doc """
  Maps `fun` over the expression arguments of a node, threading `acc`.

  `fun` is called with every expression tensor among the node's arguments
  (including those in lists, in `cond` clauses, in `while` states, in
  hooks of a token, and in the parameters and body of a `fun` node) and
  returns `{new_arg, acc}`. Other arguments (options, shapes, output
  templates of tuple nodes) are left untouched. Returns `{args, acc}`.

  ## Examples

      iex> a = Nx.Defn.Expr.parameter(:root, {:f, 32}, {}, 0)
      iex> b = Nx.Defn.Expr.parameter(:root, {:f, 32}, {}, 1)
      iex> node = %{a | data: %Nx.Defn.Expr{id: make_ref(), op: :add, args: [a, b], context: :root}}
      iex> {_args, ops} = Nx.Defn.Tree.apply_args(node, [], fn t, acc -> {t, [t.data.args | acc]} end)
      iex> ops
      [[1], [0]]
  """
  @spec apply_args(Nx.Tensor.t(), acc, (Nx.Tensor.t(), acc -> {term, acc})) :: {list, acc}
        when acc: term
  def apply_args(%T{data: %Expr{op: op, args: args}}, acc, fun), do: map_args(op, args, acc, fun)

  defp map_args(:token, [%Token{hooks: hooks} = token], acc, fun) do
    {hooks, acc} =
      Enum.map_reduce(hooks, acc, fn hook, acc ->
        {expr, acc} = Composite.traverse(hook.expr, acc, fun)
        {%{hook | expr: expr}, acc}
      end)

    {[%{token | hooks: hooks}], acc}
  end

  defp map_args(:fun, [params, body, mfa], acc, fun) do
    {params, acc} = Enum.map_reduce(params, acc, fun)
    {body, acc} = Composite.traverse(body, acc, fun)
    {[params, body, mfa], acc}
  end

  defp map_args(:cond, [clauses, last], acc, fun) do
    {clauses, acc} =
      Enum.map_reduce(clauses, acc, fn {pred, branch}, acc ->
        {pred, acc} = fun.(pred, acc)
        {branch, acc} = Composite.traverse(branch, acc, fun)
        {{pred, branch}, acc}
      end)

    {last, acc} = Composite.traverse(last, acc, fun)
    {[clauses, last], acc}
  end

  defp map_args(:while, [initial, arg, condition, body], acc, fun) do
    {initial, acc} = Composite.traverse(initial, acc, fun)
    {arg, acc} = Composite.traverse(arg, acc, fun)
    {condition, acc} = fun.(condition, acc)
    {body, acc} = Composite.traverse(body, acc, fun)
    {[initial, arg, condition, body], acc}
  end

  defp map_args(:block, [name, args, default, callback], acc, fun) do
    {args, acc} = map_list(args, acc, fun)
    {default, acc} = Composite.traverse(default, acc, fun)
    {[name, args, default, callback], acc}
  end

  defp map_args(_op, [tuple | args], acc, fun) when is_tuple(tuple) do
    {args, acc} = map_list(args, acc, fun)
    {[tuple | args], acc}
  end

  defp map_args(_op, args, acc, fun), do: map_list(args, acc, fun)

  defp map_list(args, acc, fun) do
    Enum.map_reduce(args, acc, fn
      %T{data: %Expr{}} = arg, acc -> fun.(arg, acc)
      [_ | _] = list, acc -> map_list(list, acc, fun)
      arg, acc -> {arg, acc}
    end)
  end

  @doc """
  Returns a copy of the node with new arguments and a new id.

  ## Examples

      iex> a = Nx.Defn.Expr.parameter(:root, {:f, 32}, {}, 0)
      iex> b = Nx.Defn.Tree.put_args(a, [3])
      iex> {b.data.args, b.data.id == a.data.id}
      {[3], false}
  """
  @spec put_args(Nx.Tensor.t(), list) :: Nx.Tensor.t()
  def put_args(%T{data: %Expr{} = expr} = tensor, args),
    do: %{tensor | data: %{expr | id: Expr.id(), args: args}}

  @doc """
  Returns the node with new arguments, keeping its id.

  Only safe when every occurrence of the node in a graph gets the same
  arguments; otherwise two different nodes would share an id.

  ## Examples

      iex> a = Nx.Defn.Expr.parameter(:root, {:f, 32}, {}, 0)
      iex> b = Nx.Defn.Tree.replace_args(a, [1])
      iex> {b.data.args, b.data.id == a.data.id}
      {[1], true}
  """
  @spec replace_args(Nx.Tensor.t(), list) :: Nx.Tensor.t()
  def replace_args(%T{data: %Expr{} = expr} = tensor, args),
    do: %{tensor | data: %{expr | args: args}}

  @doc """
  Returns true when the graph has a hook that would run: one with a
  callback, or whose name is a key of `hooks`.

  ## Examples

      iex> x = Nx.Defn.Expr.parameter(:root, {:f, 32}, {}, 0)
      iex> Nx.Defn.Tree.has_hooks?(x, %{})
      false
  """
  @spec has_hooks?(term, map) :: boolean
  def has_hooks?(composite, hooks) do
    Composite.reduce(composite, %{}, &find_hooks(&1, &2, hooks))
    false
  catch
    :found_hook -> true
  end

  defp find_hooks(%T{data: %Expr{id: id, op: op, args: args}} = tensor, seen, hooks) do
    cond do
      Map.has_key?(seen, id) ->
        seen

      op == :token and Enum.any?(hd(args).hooks, &(&1.callback || Map.has_key?(hooks, &1.name))) ->
        throw(:found_hook)

      true ->
        {_, seen} = apply_args(tensor, Map.put(seen, id, true), &{&1, find_hooks(&1, &2, hooks)})
        seen
    end
  end

  defp find_hooks(_other, seen, _hooks), do: seen
end
