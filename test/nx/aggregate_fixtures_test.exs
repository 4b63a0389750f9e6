defmodule Nx.AggregateFixturesTest do
  use ExUnit.Case, async: true
  import Nx.Testing

  # Golden values from test/fixtures/gen_aggregates.py (exact integer arithmetic in Python,
  # NumPy in float64), regenerated with `python3 test/fixtures/gen_aggregates.py`.
  @fixtures "test/fixtures/aggregates.exs" |> Code.eval_file() |> elem(0)

  test "the fixture covers every op on integer, float and complex types" do
    ops = @fixtures |> Enum.map(& &1.op) |> Enum.uniq() |> Enum.sort()

    assert ops ==
             Enum.sort(
               [:sum, :product, :reduce_max, :reduce_min, :argmax, :argmin] ++
                 [:cumulative_sum, :cumulative_product, :cumulative_max, :cumulative_min] ++
                 [:sort, :argsort, :dot]
             )

    assert @fixtures |> Enum.map(& &1.type) |> Enum.uniq() |> length() == 11
  end

  for {%{op: op, type: type, opts: opts} = c, i} <- Enum.with_index(@fixtures) do
    @case c
    test "#{i}: #{op} #{inspect(type)} #{inspect(opts)}" do
      %{op: op, type: type, input: input, opts: opts, out: out, expected: expected} = @case
      t = Nx.tensor(input, type: type) |> Nx.reshape({3, 4})

      result =
        case op do
          :dot ->
            Nx.dot(t, Nx.tensor(Map.fetch!(@case, :other), type: type) |> Nx.reshape({4, 2}))

          op ->
            apply(Nx, op, [t, opts])
        end

      assert Nx.type(result) == out
      expected = Nx.tensor(expected, type: out) |> Nx.reshape(Nx.shape(result))

      case out do
        {kind, _} when kind in [:s, :u] -> assert_equal(result, expected)
        _ -> assert_all_close(result, expected, rtol: 1.0e-6, atol: 1.0e-6)
      end
    end
  end
end
