defmodule Nx.Defn.EvaluatorTest do
  use ExUnit.Case, async: true

  import Nx.Defn

  defn nested_cond(x) do
    cond do
      x > 10 -> {x, x * 2}
      x > 5 -> {x * 3, x}
      true -> {x, x}
    end
  end

  defn collatz_steps(n) do
    {_, steps} =
      while {n, steps = 0}, n != 1 do
        next = if rem(n, 2) == 0, do: div(n, 2), else: 3 * n + 1
        {next, steps + 1}
      end

    steps
  end

  defn rows_sum(t) do
    while acc = Nx.broadcast(0, {3}), row <- t do
      acc + row
    end
  end

  test "cond with tuple branches" do
    assert nested_cond(Nx.tensor(12)) |> Tuple.to_list() |> Enum.map(&Nx.to_number/1) == [12, 24]
    assert nested_cond(Nx.tensor(6)) |> Tuple.to_list() |> Enum.map(&Nx.to_number/1) == [18, 6]
    assert nested_cond(Nx.tensor(1)) |> Tuple.to_list() |> Enum.map(&Nx.to_number/1) == [1, 1]
  end

  test "while with cond in the body" do
    assert Nx.to_number(collatz_steps(Nx.tensor(6))) == 8
    assert Nx.to_number(collatz_steps(Nx.tensor(1))) == 0
  end

  test "tensor generators iterate over the first axis" do
    assert Nx.to_list(rows_sum(Nx.iota({4, 3}))) == [18, 22, 26]
  end

  test "results equal eager execution" do
    t = Nx.iota({2, 3, 4})
    fun = fn t -> t |> Nx.transpose(axes: [2, 0, 1]) |> Nx.reshape({4, 6}) |> Nx.new_axis(0) end
    assert Nx.to_list(Nx.Defn.jit(fun).(t)) == Nx.to_list(fun.(t))
  end

  test "hook callbacks see runtime values" do
    pid = self()

    fun =
      Nx.Defn.jit(fn t ->
        Nx.Defn.Kernel.hook(Nx.transpose(t), &send(pid, {:value, Nx.to_list(&1)}))
      end)

    fun.(Nx.iota({1, 2}))
    assert_received {:value, [[0], [1]]}
  end

  test "partitions and backend" do
    assert Nx.Defn.Evaluator.__partitions_options__(max_concurrency: 2) == [
             [max_concurrency: 2],
             [max_concurrency: 2]
           ]

    assert {Nx.Torch.Backend, _} = Nx.Defn.Evaluator.__to_backend__([])
  end
end
