defmodule Nx.Torch.CompilerTest do
  # Differential tests: every function runs under Nx.Defn.Evaluator (the reference) and
  # Nx.Torch, and the results must agree in structure, type, shape, names and values
  # (integers exactly, floats to within the fused kernels' approximation error).
  use ExUnit.Case, async: true

  # several functions compile for many shapes on purpose: their warnings are expected
  @moduletag capture_log: true

  import Nx.Defn
  import ExUnit.CaptureLog

  ## Functions of the defn test suite (test/nx/defn_test.exs)

  import Nx.DefnFixtures

  defn(with_private(t), do: private_helper(t) |> Nx.new_axis(0))
  defnp(private_helper(t), do: Nx.transpose(t))
  defn(map_container(%{a: a, b: b}), do: %{sum: Nx.as_type(a, :f32) + b, b: b})
  defn(hooked(t), do: hook(Nx.transpose(t), :my_hook))

  ## Our own graphs

  defn w2_chain(x), do: Nx.tanh(x * 2 + 1) * Nx.sigmoid(x) - Nx.exp(-(x * x))

  defn fused_everything(x, y) do
    a = Nx.max(x, y) - Nx.min(x, 0.5) + Nx.abs(y) / 3
    b = Nx.sqrt(Nx.abs(x)) + Nx.rsqrt(Nx.abs(y) + 1)
    {a * b, Nx.negate(a), Nx.exp(b) |> Nx.sum()}
  end

  defn masks_and_rows(x, bias, pick, scale) do
    h = Nx.max(x + bias, 0)

    {h * scale, x + bias == h, Nx.select(pick, h, x) > 0.5, Nx.select(x < bias, scale, 0.25) - h}
  end

  defn compare_with(x, y), do: {x == y, x > y, Nx.select(y, x, -x)}

  defn relu_grad(w, x) do
    grad(w, fn w ->
      x |> Nx.dot(w) |> Nx.max(0) |> Nx.max(Nx.slice_along_axis(w, 0, 1)) |> Nx.sum()
    end)
  end

  defn transposed_dot(a, b) do
    p = Nx.dot(a, [0], b, [0])
    q = Nx.dot(a, [1], b, [1]) |> Nx.transpose()
    {Nx.transpose(p) * 0.5, q - 1}
  end

  defn transposed_dot_shared(a, b) do
    p = Nx.dot(a, [0], b, [0])
    {Nx.transpose(p) * 0.5, p + 1}
  end

  defn integer_ops(a, b) do
    {Nx.quotient(a, b), Nx.remainder(a, b), a + b, a * b, a - b, Nx.bitwise_xor(a, b),
     Nx.right_shift(a, Nx.remainder(Nx.abs(b), 8)), a > b, Nx.max(a, b), -a}
  end

  defn mixed_types(a, b), do: {a + b, a * 2.5, Nx.divide(a, b), a == b, Nx.pow(a, 2)}
  defn half_math(x), do: {Nx.exp(x), x * x + 1, Nx.tanh(x), Nx.sum(x), Nx.sigmoid(x)}

  defn nested_control(x, n) do
    {_, _, acc} =
      while {i = 0, n, acc = x}, i < n do
        acc =
          if Nx.sum(acc) > 100 do
            acc / 2
          else
            inner_double(acc)
          end

        {i + 1, n, acc}
      end

    acc
  end

  defn inner_double(x) do
    {_, y} = while({j = 0, y = x}, j < 2, do: {j + 1, y + y})
    y
  end

  defn shapes_and_indexing(t, i) do
    s = Nx.slice(t, [i, 1], [2, 2])
    p = Nx.put_slice(t, [0, i], Nx.broadcast(-1.0, {2, 2}))
    padded = Nx.pad(t, 0.5, [{1, 0, 0}, {0, 2, 1}])
    cat = Nx.concatenate([t, t * 2], axis: 1)
    stacked = Nx.stack([t, t], axis: 0)
    g = Nx.gather(t, Nx.tensor([[0, 1], [2, 3]]))
    taken = Nx.take(t, Nx.tensor([2, 0]), axis: 0)
    along = Nx.take_along_axis(t, Nx.tensor([[0], [1], [2]]), axis: 1)
    added = Nx.indexed_add(t, Nx.tensor([[0, 0], [2, 3]]), Nx.tensor([10.0, 20.0]))
    {s, p, padded, cat, stacked, g, taken, along, added, Nx.reverse(t, axes: [1])}
  end

  defn reductions(t) do
    {Nx.sum(t, axes: [1]), Nx.product(t, axes: [0], keep_axes: true), Nx.reduce_max(t),
     Nx.reduce_min(t, axes: [1]), Nx.all(t), Nx.any(t, axes: [0]), Nx.argmax(t, axis: 1),
     Nx.argmin(t, tie_break: :high), Nx.dot(t, Nx.transpose(t)), Nx.cumulative_sum(t, axis: 1),
     Nx.sort(t, axis: 1, direction: :desc), Nx.argsort(t, axis: 0), Nx.top_k(t, k: 2),
     Nx.select(t > 2, t, -t), Nx.clip(t, 1, 3), Nx.iota({3, 4}, axis: 1) + t,
     Nx.eye(3) |> Nx.dot(t)}
  end

  defn softmax_loss(x, y) do
    m = Nx.reduce_max(x, axes: [1], keep_axes: true)
    shifted = x - m
    lse = shifted |> Nx.exp() |> Nx.sum(axes: [1], keep_axes: true) |> Nx.log()
    -Nx.sum(y * (shifted - lse)) / 4
  end

  defn reduce_with_fun(t), do: Nx.reduce(t, 0, fn a, b -> a + b end)

  ## Helpers

  defp run_both(fun, args, opts \\ []) do
    expected = Nx.Defn.jit_apply(fun, args, Keyword.put(opts, :compiler, Nx.Defn.Evaluator))
    got = Nx.Defn.jit_apply(fun, args, Keyword.put(opts, :compiler, Nx.Torch))
    assert_same(got, expected)
    got
  end

  defp assert_same(got, expected) do
    got_leaves = Nx.Defn.Composite.flatten_list([got])
    expected_leaves = Nx.Defn.Composite.flatten_list([expected])

    assert Nx.Defn.Composite.compatible?(got, expected, fn _, _ -> true end),
           "structures differ: #{inspect(got)} vs #{inspect(expected)}"

    assert length(got_leaves) == length(expected_leaves)

    Enum.zip_with(got_leaves, expected_leaves, fn g, e ->
      assert {g.type, g.shape, g.names} == {e.type, e.shape, e.names}
      assert %Nx.Torch.Backend{} = g.data

      if Nx.Type.float?(e.type) do
        g64 = Nx.as_type(g, :f64)
        e64 = Nx.as_type(e, :f64)
        tol = if e.type in [{:f, 16}, {:bf, 16}], do: 1.0e-2, else: 1.0e-6
        diff = Nx.abs(Nx.subtract(g64, e64))
        bound = Nx.add(tol, Nx.multiply(Nx.abs(e64), tol))
        both_nan = Nx.logical_and(Nx.is_nan(g64), Nx.is_nan(e64))
        same_inf = Nx.logical_and(Nx.is_infinity(e64), Nx.equal(g64, e64))
        ok = Nx.logical_or(Nx.less_equal(diff, bound), Nx.logical_or(both_nan, same_inf))
        assert Nx.to_number(Nx.all(ok)) == 1, "values differ:\n#{inspect(g)}\n#{inspect(e)}"
      else
        assert Nx.to_binary(g) == Nx.to_binary(e), "values differ:\n#{inspect(g)}\n#{inspect(e)}"
      end
    end)
  end

  # Deterministic values spread over [lo, hi] (Nx.Random is slow on large shapes).
  defp rand(shape, lo \\ -2.0, hi \\ 2.0) do
    n = Tuple.product(shape)

    Nx.iota({n}, type: :f32)
    |> Nx.multiply(0.7548776662)
    |> Nx.sin()
    |> Nx.add(1.0)
    |> Nx.multiply((hi - lo) / 2)
    |> Nx.add(lo)
    |> Nx.reshape(shape)
  end

  ## Tests

  describe "the defn suite's functions" do
    test "agree with the Evaluator" do
      t = Nx.iota({6})
      run_both(&reshape_transpose/1, [t])
      run_both(&affine/2, [Nx.tensor([1, 2, 3]), 4])
      run_both(&cast/2, [Nx.iota({3}), [type: :f16]])
      run_both(&cast/1, [Nx.tensor([1.5, -2.5])])

      for x <- [3, -2, 0, 1.5] do
        run_both(&abs_value/1, [x])
        run_both(&sign_of/1, [x])
      end

      run_both(&doubled_three_times/1, [Nx.tensor([1.0, -2.0])])
      run_both(&sum_with_generator/1, [Nx.tensor([1, 2])])
      run_both(&with_private/1, [Nx.iota({2, 3}, names: [:x, :y])])
      run_both(&map_container/1, [%{a: Nx.tensor([1, 2]), b: Nx.tensor([0.5, 1.5])}])
    end

    test "named hooks run with the computed value" do
      fun = &hooked/1
      t = Nx.iota({2, 3})
      parent = self()
      hooks = %{my_hook: &send(parent, {:hook, &1})}
      result = Nx.Defn.jit_apply(fun, [t], compiler: Nx.Torch, hooks: hooks)
      assert_receive {:hook, value}
      assert Nx.to_list(value) == Nx.to_list(Nx.transpose(t))
      assert Nx.to_list(result) == Nx.to_list(Nx.transpose(t))
    end
  end

  describe "fused element-wise chains" do
    test "the W2 chain agrees on many sizes, with NaN and infinities" do
      for n <- [2, 7, 2048, 2049, 100_000, 300_001] do
        run_both(&w2_chain/1, [rand({n}, -10.0, 10.0)])
      end

      special = Nx.tensor([:nan, :infinity, :neg_infinity, 0.0, -0.0, 100.0, -100.0, 1.0e-30])
      run_both(&w2_chain/1, [special])
    end

    test "f16 and bf16 chains (fused, each result rounded to its type) agree" do
      for type <- [:f16, :bf16], n <- [3, 5000] do
        x = rand({n}, -4.0, 4.0) |> Nx.as_type(type)
        y = rand({n}, -1.0, 3.0) |> Nx.as_type(type)
        run_both(&w2_chain/1, [x])
        run_both(&fused_everything/2, [x, y])
        run_both(&compare_with/2, [x, y])
      end
    end

    test "every fused operation, scalars of other types and several outputs" do
      x = rand({3, 1000})
      y = rand({3, 1000}, -1.0, 3.0)
      run_both(&fused_everything/2, [x, y])
      run_both(&fused_everything/2, [x, y], fuse: false)
      run_both(&affine/2, [x, 3])
      run_both(&affine/2, [x, Nx.tensor(2, type: :u8)])
    end

    test "bias rows, comparisons, selects and narrow integer operands" do
      for rows <- [1, 3, 40, 3000] do
        x = rand({rows, 7}, -2.0, 2.0)
        bias = rand({7}, -1.0, 1.0)
        pick = Nx.remainder(Nx.iota({rows, 7}, type: :u8), 3)
        scale = Nx.tensor([[1, -2, 3, 300, -5, 6, 0]], type: :s16)
        run_both(&masks_and_rows/4, [x, bias, pick, scale])
        run_both(&masks_and_rows/4, [x, bias, Nx.as_type(pick, :s8), Nx.as_type(scale, :f32)])
      end
    end

    test "comparisons with f64 values and f64 predicates keep Nx's types" do
      x = Nx.tensor([0.1, 0.2, 1.0e-40, 3.0], type: :f32)

      for y <- [Nx.tensor(0.1, type: :f64), Nx.tensor(1.0e-50, type: :f64), Nx.tensor(0.1)] do
        run_both(&compare_with/2, [x, y])
      end
    end

    test "the ReLU gradient (ties split in half) agrees" do
      w = Nx.tensor([[1.0, -1.0, 0.0], [0.5, 2.0, 0.0]])
      x = Nx.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
      run_both(&relu_grad/2, [w, x])
      run_both(&relu_grad/2, [rand({64, 200}, -1.0, 1.0), rand({300, 64}, -1.0, 1.0)])
    end

    test "transposed products of matrices, alone or also read as they are" do
      a = rand({6, 5})
      b = rand({6, 5}, -1.0, 1.0)
      run_both(&transposed_dot/2, [a, b])
      run_both(&transposed_dot_shared/2, [a, b])
      run_both(&transposed_dot/2, [Nx.iota({4, 4}), Nx.iota({4, 4})])
      run_both(&transposed_dot/2, [Nx.iota({4, 3}, type: :s32), rand({4, 3})])
    end

    test "single-element operands of every common type, views included" do
      x = rand({2, 700})
      big = Nx.tensor(2 ** 40 + 3, type: :s64)
      view = Nx.iota({5}, type: :f32) |> Nx.add(0.25) |> Nx.slice([3], [1]) |> Nx.reshape({})

      for y <- [
            Nx.tensor(-3, type: :s32),
            big,
            Nx.tensor(-0.3, type: :f32),
            Nx.tensor(1.0e-30, type: :f32),
            Nx.tensor(:nan, type: :f32),
            view,
            Nx.tensor(7, type: :s16),
            Nx.tensor(200, type: :u8)
          ] do
        run_both(&affine/2, [x, y])
        run_both(&fused_everything/2, [x, y])
      end
    end

    test "f64 and integer chains take the plain path" do
      run_both(&w2_chain/1, [rand({1000}) |> Nx.as_type(:f64)])
      run_both(&affine/2, [Nx.iota({1000}), Nx.iota({1000})])
    end
  end

  describe "Nx semantics for every type" do
    test "integers: division by zero, overflow, unsigned, shifts" do
      for type <- [:s8, :s16, :s32, :s64, :u8, :u16, :u32, :u64] do
        a = Nx.tensor([7, 0, 100, 5, 1, 2], type: type)
        b = Nx.tensor([0, 3, 7, 5, 2, 1], type: type)
        run_both(&integer_ops/2, [a, b])
      end

      run_both(&integer_ops/2, [
        Nx.tensor([-7, -128, 127], type: :s8),
        Nx.tensor([2, -1, 1], type: :s8)
      ])

      big = Nx.tensor([18_446_744_073_709_551_615, 9_223_372_036_854_775_808], type: :u64)
      run_both(&integer_ops/2, [big, Nx.tensor([3, 2], type: :u64)])
    end

    test "mixed types and promotion" do
      run_both(&mixed_types/2, [Nx.tensor([1, 2, 3], type: :u8), Nx.tensor([-1, 2, 0], type: :s8)])

      run_both(&mixed_types/2, [Nx.tensor([1, 2], type: :s32), Nx.tensor([0.5, 2.0], type: :f32)])

      run_both(&mixed_types/2, [Nx.tensor([1.5, 2.5], type: :bf16), Nx.tensor([2, 3], type: :s16)])
    end

    test "f16 and bf16" do
      run_both(&half_math/1, [Nx.tensor([0.5, -1.25, 3.0, 60.0], type: :f16)])
      run_both(&half_math/1, [Nx.tensor([0.5, -1.25, 3.0, 60.0], type: :bf16)])
      run_both(&w2_chain/1, [Nx.tensor([0.5, -1.25, 3.0], type: :f16)])
    end
  end

  describe "control flow, shapes and LibTorch operations" do
    test "while and cond, nested, in one program" do
      run_both(&nested_control/2, [Nx.tensor([1.0, 2.0]), 5])
      run_both(&nested_control/2, [Nx.tensor([30.0, 40.0]), 3])
      run_both(&nested_control/2, [Nx.tensor([1.0, 2.0]), 0])
    end

    test "indexing, slicing, padding, concatenation" do
      t = Nx.iota({3, 4}, type: :f32)

      for i <- [0, 1, 5, -1] do
        run_both(&shapes_and_indexing/2, [t, i])
      end
    end

    test "reductions, dot, sort, scans, creation" do
      run_both(&reductions/1, [Nx.tensor([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8]])])
      run_both(&reductions/1, [Nx.tensor([[3.5, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8.25]])])
    end

    test "softmax cross-entropy" do
      x = rand({4, 10})
      y = Nx.equal(Nx.iota({4, 10}, axis: 1), Nx.tensor([[1], [3], [5], [9]]))
      run_both(&softmax_loss/2, [x, y])
    end
  end

  describe "fallback" do
    test "functions with what the lowering does not support run with the Evaluator" do
      log =
        capture_log(fn ->
          assert Nx.to_number(run_both(&reduce_with_fun/1, [Nx.iota({4})])) == 6
        end)

      assert log =~ "runs with Nx.Defn.Evaluator"
    end
  end

  describe "cache and callbacks" do
    test "compiles once per template, concurrently too" do
      counter = :counters.new(1, [])

      fun = fn x ->
        :counters.add(counter, 1, 1)
        Nx.multiply(x, 3)
      end

      jitted = Nx.Defn.jit(fun, compiler: Nx.Torch)

      1..8
      |> Task.async_stream(fn _ -> jitted.(Nx.iota({3})) end, max_concurrency: 8)
      |> Enum.each(fn {:ok, r} -> assert Nx.to_list(r) == [0, 3, 6] end)

      assert :counters.get(counter, 1) == 1
      assert Nx.to_list(jitted.(Nx.iota({2}))) == [0, 3]
      assert :counters.get(counter, 1) == 2
    end

    test "warns when a function keeps compiling for new shapes" do
      jitted = Nx.Defn.jit(&Nx.add(&1, 1), compiler: Nx.Torch)

      log =
        capture_log(fn ->
          for n <- 1..8, do: jitted.(Nx.iota({n}))
        end)

      assert log =~ "different argument shapes"
    end

    test "Nx.Defn.compile, partitions and the backend" do
      compiled =
        Nx.Defn.compile(&affine/2, [Nx.template({2}, :s32), Nx.template({2}, :s32)],
          compiler: Nx.Torch
        )

      assert Nx.to_list(compiled.(Nx.tensor([1, 2]), Nx.tensor([3, 4]))) == [7, 10]
      assert Nx.Torch.__partitions_options__(device: :cpu) == [[device: :cpu]]
      assert Nx.Torch.__to_backend__(device: :cpu) == {Nx.Torch.Backend, device: :cpu}
      assert Nx.Torch.__to_backend__([]) == {Nx.Torch.Backend, device: :cpu}
    end

    test "errors inside a program raise and leave the VM running" do
      fun = fn x -> Nx.slice(x, [0], [2]) end
      compiled = Nx.Defn.jit(fun, compiler: Nx.Torch)
      assert Nx.to_list(compiled.(Nx.iota({4}))) == [0, 1]

      assert_raise ArgumentError, fn ->
        Nx.Torch.NIF.p_build(
          [{0, 5, {2}}],
          [],
          [{:add, [{1, 5, {2}}], [0, 7], nil}],
          [1],
          -1,
          true
        )
      end
    end
  end
end
