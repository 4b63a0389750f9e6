defmodule Nx.Defn.ExprTest do
  use ExUnit.Case, async: true

  alias Nx.Defn.Expr
  doctest Nx.Defn.Expr

  defp debug(fun, args), do: Nx.Defn.debug_expr_apply(fun, args)

  test "every Nx.Backend callback is implemented" do
    for {name, arity} <- Nx.Backend.behaviour_info(:callbacks) do
      assert function_exported?(Expr, name, arity), "missing #{name}/#{arity}"
    end
  end

  test "nodes record the out template and the callback arguments" do
    expr = debug(&Nx.transpose(&1, axes: [1, 0]), [Nx.iota({2, 3}, names: [:x, :y])])
    assert %{shape: {3, 2}, names: [:y, :x], type: {:s, 32}} = expr
    assert %Expr{op: :transpose, args: [param, [1, 0]], context: :root} = expr.data
    assert %Expr{op: :parameter, args: [0]} = param.data
  end

  test "creation inside a trace records nodes without context" do
    expr = debug(fn -> Nx.iota({2, 2}) end, [])
    assert %Expr{op: :iota, args: [nil], context: nil} = expr.data

    expr = debug(fn -> Nx.eye(2) end, [])
    assert expr.data.op == :eye
  end

  test "literal tensors become tensor nodes and scalars constants" do
    expr = debug(fn -> Nx.tensor([1, 2, 3]) end, [])
    assert %Expr{op: :tensor, args: [tensor]} = expr.data
    assert Nx.to_list(tensor) == [1, 2, 3]

    expr = debug(fn -> Nx.tensor(2.5) end, [])
    assert %Expr{op: :constant, args: [2.5]} = expr.data
    assert inspect(expr) =~ "Nx.Defn.Expr\n  2.5"
  end

  test "constants are folded through broadcast and conversion" do
    expr = debug(fn -> Nx.broadcast(3, {2, 2}) end, [])
    assert %{shape: {2, 2}, data: %Expr{op: :constant, args: [3]}} = expr

    expr = debug(fn -> Nx.as_type(Nx.tensor(3), :f32) end, [])
    assert %{type: {:f, 32}, data: %Expr{op: :constant, args: [3.0]}} = expr
  end

  test "tuple results of tuple-typed nodes" do
    out = %Nx.Tensor{type: {:tuple, 2}, shape: {}, names: []}
    node = %{out | data: %Expr{id: make_ref(), op: :custom, args: [], context: :root}}
    {a, b} = Expr.tuple(node, [Nx.template({1}, :f32), Nx.template({}, :s32)])
    assert a.data.args == [node, 0] and b.data.args == [node, 1]
  end

  test "metadata is transparent in printing unless it has :inspect" do
    expr =
      debug(
        fn t -> Nx.transpose(Nx.Defn.Kernel.stop_grad(t)) end,
        [Nx.iota({2})]
      )

    assert inspect(expr) =~ "b = metadata a, :stop_grad"

    expr = debug(fn t -> Nx.transpose(Expr.metadata(t, %{hidden: true})) end, [Nx.iota({2})])
    refute inspect(expr) =~ "metadata"
  end

  test "the printing limit elides the remaining nodes" do
    fun = fn t -> t |> Nx.transpose() |> Nx.reshape({3, 2}) |> Nx.transpose() end
    expr = debug(fun, [Nx.iota({2, 3})])
    printed = inspect(expr, limit: 2)
    assert printed =~ "..."
    refute printed =~ "parameter a:0"
  end

  test "values from another scope are rejected" do
    outer = Expr.parameter(:root, {:s, 32}, {}, 0)
    inner = Expr.parameter({:while, make_ref()}, {:s, 32}, {}, 0)

    assert_raise ArgumentError, ~r/different scopes/, fn ->
      Expr.cond([{inner, outer}], inner)
    end
  end

  test "functions that need values raise inside defn" do
    assert_raise ArgumentError, ~r/cannot invoke to_binary\/2 on Nx.Defn.Expr/, fn ->
      Nx.Defn.jit_apply(fn t -> Nx.to_binary(t) end, [Nx.iota({2})])
    end
  end

  test "tokens carry hooks in order" do
    expr =
      debug(
        fn t -> Nx.Defn.Kernel.hook(Nx.transpose(t), :first) end,
        [Nx.iota({2, 1})]
      )

    assert inspect(expr) =~ "c = token first: b"
    assert inspect(expr) =~ "d = attach_token c, b"
  end
end
