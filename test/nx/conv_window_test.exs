defmodule Nx.ConvWindowTest do
  use ExUnit.Case, async: true
  import Nx.GoldenFixtures

  # Golden values from NumPy (test/fixtures/gen_conv_window.py): convolutions with strides,
  # padding, dilations, groups and permutations; window ops over every integer and float type.
  @fixtures Code.eval_file("test/fixtures/conv_window.exs") |> elem(0)

  defp run_case(%{op: :conv, inputs: [x, w], opts: o}), do: Nx.conv(x, w, o)

  defp run_case(%{op: :window_reduce, inputs: [x], opts: o}) do
    {window, o} = Keyword.pop!(o, :window)
    {acc, o} = Keyword.pop!(o, :acc)
    Nx.window_reduce(x, acc, window, o, &Nx.add/2)
  end

  defp run_case(%{op: op, inputs: [x], opts: o}) do
    {window, o} = Keyword.pop!(o, :window)
    apply(Nx, op, [x, window, o])
  end

  defp run_case(%{op: op, inputs: [x, source], opts: o})
       when op in [:window_scatter_max, :window_scatter_min] do
    {window, o} = Keyword.pop!(o, :window)
    {init, o} = Keyword.pop!(o, :init)
    apply(Nx, op, [x, source, init, window, o])
  end

  defp tolerance({:f, 16}), do: 2.0e-3
  defp tolerance({:bf, 16}), do: 1.6e-2
  defp tolerance({:f, 64}), do: 1.0e-12
  defp tolerance({:c, 128}), do: 1.0e-12
  defp tolerance(_), do: 1.0e-5

  describe "golden values from NumPy" do
    for {op, cases} <- Enum.group_by(@fixtures, & &1.op) do
      test "#{op}" do
        for fixture <- unquote(Macro.escape(cases)) do
          inputs = Enum.map(fixture.inputs, &build/1)
          %{expected: {type, shape, values}} = fixture
          result = run_case(%{fixture | inputs: inputs})
          label = inspect(Map.delete(fixture, :inputs), limit: 12)
          assert Nx.type(result) == type, label
          assert Nx.shape(result) == shape, label
          expected = Enum.map(values, &element/1)
          tol = tolerance(type)

          assert Enum.zip(Nx.to_flat_list(result), expected)
                 |> Enum.all?(fn {a, b} -> close?(a, b, tol) end),
                 "#{label}\n  got: #{inspect(Nx.to_flat_list(result))}"
        end
      end
    end
  end

  describe "conv" do
    test "the common NCHW case equals a loop over the definition" do
      x = Nx.iota({2, 3, 6, 6}, type: :f32) |> Nx.divide(10)
      w = Nx.iota({4, 3, 3, 3}, type: :f32) |> Nx.subtract(50) |> Nx.divide(25)
      out = Nx.conv(x, w, padding: [{1, 1}, {1, 1}])
      assert Nx.shape(out) == {2, 4, 6, 6}

      padded = Nx.pad(x, 0.0, [{0, 0, 0}, {0, 0, 0}, {1, 1, 0}, {1, 1, 0}])
      # output (b, f, i, j) = sum over c, di, dj of padded(b, c, i + di, j + dj) * w(f, c, di, dj)
      for {b, f, i, j} <- [{0, 0, 0, 0}, {1, 3, 5, 5}, {0, 2, 3, 1}, {1, 1, 0, 4}] do
        window = Nx.slice(padded, [b, 0, i, j], [1, 3, 3, 3]) |> Nx.reshape({3, 3, 3})
        expected = Nx.sum(Nx.multiply(window, w[f])) |> Nx.to_number()
        assert_in_delta Nx.to_number(out[b][f][i][j]), expected, 1.0e-4
      end
    end

    test "names follow the input's axes, permuted by the output permutation" do
      x = Nx.iota({1, 5, 5, 2}, names: [:batch, :h, :w, :c], type: :f32)
      w = Nx.broadcast(1.0, {3, 2, 2, 2})

      out =
        Nx.conv(x, w,
          input_permutation: [:batch, :c, :h, :w],
          output_permutation: [:batch, :c, :h, :w]
        )

      assert Nx.names(out) == [:batch, :h, :w, :c]
      assert Nx.shape(out) == {1, 4, 4, 3}
    end

    test "types: integers give f32, f64 stays, f16 and bf16 are kept" do
      x = Nx.iota({1, 1, 4})
      assert Nx.type(Nx.conv(x, Nx.tensor([[[1, 1]]]))) == {:f, 32}
      assert Nx.type(Nx.conv(Nx.as_type(x, :f64), Nx.tensor([[[1, 1]]]))) == {:f, 64}
      out = Nx.conv(Nx.as_type(x, :f16), Nx.tensor([[[1, 1]]], type: :f16))
      assert Nx.type(out) == {:f, 16}
      assert Nx.to_flat_list(out) == [1.0, 3.0, 5.0]
      out = Nx.conv(Nx.as_type(x, :bf16), Nx.tensor([[[1, 1]]], type: :bf16))
      assert Nx.to_flat_list(out) == [1.0, 3.0, 5.0]
    end

    test "error cases carry Nx's messages" do
      assert_raise ArgumentError, ~r/input shape in conv requires at least rank 3/, fn ->
        Nx.conv(Nx.iota({2, 2}), Nx.iota({1, 1, 1}))
      end

      assert_raise ArgumentError, ~r/size of input channels divided by feature groups/, fn ->
        Nx.conv(Nx.iota({1, 3, 5}), Nx.iota({2, 2, 2}))
      end

      assert_raise ArgumentError, ~r/either batch groups or feature groups must be 1/, fn ->
        Nx.conv(Nx.iota({2, 2, 5}), Nx.iota({2, 1, 2}), feature_group_size: 2, batch_group_size: 2)
      end

      assert_raise ArgumentError, ~r/batch groups must evenly divide input batch size/, fn ->
        Nx.conv(Nx.iota({3, 1, 5}), Nx.iota({2, 1, 2}), batch_group_size: 2)
      end

      assert_raise ArgumentError, ~r/rank of strides much match rank of spatial dimensions/, fn ->
        Nx.conv(Nx.iota({1, 1, 5}), Nx.iota({1, 1, 2}), strides: [1, 1])
      end

      assert_raise ArgumentError, ~r/kernel dilation must be a positive integer/, fn ->
        Nx.conv(Nx.iota({1, 1, 5}), Nx.iota({1, 1, 2}), kernel_dilation: :two)
      end

      assert_raise ArgumentError, ~r/conv would result in empty tensor/, fn ->
        Nx.conv(Nx.iota({1, 1, 2}), Nx.iota({1, 1, 3}))
      end

      assert_raise ArgumentError, ~r/invalid padding mode specified/, fn ->
        Nx.conv(Nx.iota({1, 1, 5}), Nx.iota({1, 1, 2}), padding: :full)
      end
    end
  end

  describe "windows" do
    test "window_mean divides by the window size" do
      t = Nx.tensor([[1, 2], [3, 4]])
      assert Nx.to_flat_list(Nx.window_mean(t, {2, 2})) == [2.5]
      assert Nx.type(Nx.window_mean(Nx.tensor([1, 2], type: :f64), {1})) == {:f, 64}
    end

    test "strides and dilations may be integers" do
      t = Nx.iota({5, 5})

      assert Nx.to_list(Nx.window_sum(t, {2, 2}, strides: 2, window_dilations: 2)) ==
               Nx.to_list(Nx.window_sum(t, {2, 2}, strides: [2, 2], window_dilations: [2, 2]))
    end

    test "u64 windows compare and wrap as unsigned" do
      t = Nx.tensor([18_446_744_073_709_551_615, 3, 2], type: :u64)
      assert Nx.to_flat_list(Nx.window_max(t, {2})) == [18_446_744_073_709_551_615, 3]
      assert Nx.to_flat_list(Nx.window_min(t, {2})) == [3, 2]
      assert Nx.to_flat_list(Nx.window_sum(t, {2})) == [2, 5]
    end

    test "f8_e4m3fn max pads with its lowest finite value" do
      t = Nx.tensor([1.0, 2.0], type: :f8_e4m3fn)
      assert Nx.to_flat_list(Nx.window_max(t, {1}, padding: [{1, 0}])) == [-448.0, 1.0, 2.0]
    end

    test "window_reduce calls the function with scalars, in window order" do
      t = Nx.tensor([1, 2, 3])

      {:ok, agent} = Agent.start_link(fn -> [] end)

      out =
        Nx.window_reduce(t, 0, {2}, fn x, acc ->
          Agent.update(agent, &[{Nx.shape(x), Nx.to_number(x)} | &1])
          Nx.add(Nx.multiply(acc, 10), x)
        end)

      assert Nx.to_flat_list(out) == [12, 23]
      assert agent |> Agent.get(& &1) |> Enum.reverse() == [{{}, 1}, {{}, 2}, {{}, 2}, {{}, 3}]
    end

    test "window scatters never select padding" do
      t = Nx.tensor([-5, -6])
      out = Nx.window_scatter_max(t, Nx.tensor([1, 1, 1]), 0, {2}, padding: [{1, 1}])
      assert Nx.to_flat_list(out) == [2, 1]
    end

    test "error cases" do
      assert_raise ArgumentError, ~r/window dimensions would result in empty tensor/, fn ->
        Nx.window_sum(Nx.iota({2}), {3})
      end

      assert_raise ArgumentError, ~r/invalid window dimensions, rank of shape \(2\)/, fn ->
        Nx.window_max(Nx.iota({2, 2}), {1})
      end

      assert_raise ArgumentError, ~r/invalid stride dimensions/, fn ->
        Nx.window_min(Nx.iota({2, 2}), {1, 1}, strides: [1])
      end

      assert_raise ArgumentError, ~r/does not support complex inputs/, fn ->
        Nx.window_max(Nx.tensor([Complex.new(1, 1)]), {1})
      end

      assert_raise ArgumentError, ~r/source shape must match valid windows/, fn ->
        Nx.window_scatter_max(Nx.iota({4}), Nx.iota({2}), 0, {2})
      end

      assert_raise ArgumentError, ~r/unknown keys \[:window\]/, fn ->
        Nx.window_sum(Nx.iota({4}), {2}, window: 2)
      end
    end
  end
end
