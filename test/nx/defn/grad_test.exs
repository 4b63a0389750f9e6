defmodule Nx.Defn.GradTest do
  use ExUnit.Case, async: true

  import Nx.Defn
  import Nx.Defn.GradCheck
  import Nx.Testing

  setup do
    :rand.seed(:exsss, {7, 11, 13})
    :ok
  end

  # Weights make every output element count differently, so that a wrong
  # permutation or broadcast in a rule cannot go unnoticed.
  defp weighted(t), do: Nx.sum(Nx.multiply(t, weights(Nx.shape(t))))

  defp weights(shape) do
    shape |> Nx.iota(type: :f64) |> Nx.add(1) |> Nx.sqrt()
  end

  describe "closed forms" do
    test "d/dx sum(x^2) = 2x" do
      x = random({3, 2})
      assert_all_close(grad(x, &Nx.sum(Nx.multiply(&1, &1))), Nx.multiply(x, 2))
    end

    test "d/dx exp(x) = exp(x)" do
      x = random({4})
      assert_all_close(grad(x, &Nx.sum(Nx.exp(&1))), Nx.exp(x))
    end

    test "softmax cross-entropy: softmax - one_hot" do
      logits = random({2, 4}, -2.0, 2.0)
      labels = Nx.tensor([[0, 0, 1, 0], [1, 0, 0, 0]], type: :f64)

      loss = fn logits ->
        max = Nx.reduce_max(logits, axes: [1], keep_axes: true)
        shifted = Nx.subtract(logits, Nx.Defn.Kernel.stop_grad(max))
        log_sum = Nx.log(Nx.sum(Nx.exp(shifted), axes: [1], keep_axes: true))
        Nx.negate(Nx.sum(Nx.multiply(labels, Nx.subtract(shifted, log_sum))))
      end

      exp = Nx.exp(logits)
      softmax = Nx.divide(exp, Nx.sum(exp, axes: [1], keep_axes: true))
      assert_all_close(grad(logits, loss), Nx.subtract(softmax, labels))
      check_grad(loss, logits)
    end

    test "second derivative of sin is -sin" do
      x = random({3})
      second = grad(x, fn x -> Nx.sum(grad(x, &Nx.sum(Nx.sin(&1)))) end)
      assert_all_close(second, Nx.negate(Nx.sin(x)))
    end

    test "third derivative of x^4 is 24x" do
      x = random({2})
      d = fn f -> fn x -> Nx.sum(grad(x, f)) end end
      third = grad(x, d.(d.(&Nx.sum(Nx.pow(&1, 4)))))
      assert_all_close(third, Nx.multiply(x, 24))
    end
  end

  describe "element-wise unary" do
    @unary [
      negate: {-2, 2},
      abs: {0.1, 2},
      exp: {-2, 2},
      expm1: {-2, 2},
      log: {0.1, 3},
      log1p: {-0.5, 3},
      sigmoid: {-3, 3},
      sin: {-3, 3},
      cos: {-3, 3},
      tan: {-1, 1},
      asin: {-0.9, 0.9},
      acos: {-0.9, 0.9},
      atan: {-3, 3},
      sinh: {-2, 2},
      cosh: {-2, 2},
      tanh: {-2, 2},
      asinh: {-3, 3},
      acosh: {1.1, 3},
      atanh: {-0.9, 0.9},
      sqrt: {0.1, 3},
      rsqrt: {0.1, 3},
      cbrt: {0.1, 3},
      erf: {-2, 2},
      erfc: {-2, 2},
      erf_inv: {-0.9, 0.9}
    ]

    for {op, {min, max}} <- @unary do
      test "#{op}" do
        x = random({2, 3}, unquote(min) * 1.0, unquote(max) * 1.0)
        check_grad(&weighted(Nx.unquote(op)(&1)), x)
      end
    end

    test "abs at zero takes the gradient of the identity" do
      assert grad(Nx.tensor([0.0, -1.0, 2.0]), &Nx.sum(Nx.abs(&1))) |> Nx.to_list() ==
               [1.0, -1.0, 1.0]
    end

    test "as_type passes the gradient through" do
      x = random({3})
      f = &weighted(Nx.as_type(Nx.multiply(&1, &1), :f32) |> Nx.as_type(:f64))
      check_grad(f, x, h: 1.0e-3, atol: 1.0e-3)
    end

    test "piecewise constant operations have a zero gradient" do
      x = random({4})

      for fun <- [
            &Nx.floor/1,
            &Nx.ceil/1,
            &Nx.round/1,
            &Nx.sign/1,
            &Nx.argmax/1,
            &Nx.greater(&1, 0)
          ] do
        assert grad(x, &Nx.sum(fun.(&1))) |> Nx.to_list() == [0.0, 0.0, 0.0, 0.0]
      end
    end
  end

  describe "element-wise binary" do
    for op <- [:add, :subtract, :multiply, :divide, :atan2, :max, :min] do
      test "#{op} with broadcasting" do
        x = random({2, 1, 3}, 0.5, 2.0)
        y = random({4, 1}, 0.5, 2.0)
        check_grad(fn {x, y} -> weighted(Nx.unquote(op)(x, y)) end, {x, y})
      end
    end

    test "pow with tensor base and exponent" do
      check_grad(fn {x, y} -> weighted(Nx.pow(x, y)) end, {random({3}, 0.5, 2.0), random({2, 1})})
    end

    test "pow with a zero base or a zero exponent" do
      assert grad(Nx.tensor([0.0, 2.0]), &Nx.sum(Nx.pow(&1, 2))) |> Nx.to_list() == [0.0, 4.0]
      assert grad(Nx.tensor([0.0, 2.0]), &Nx.sum(Nx.pow(&1, 0))) |> Nx.to_list() == [0.0, 0.0]

      assert grad(Nx.tensor(0.0), &Nx.pow(2.0, &1)) |> Nx.to_number() |> Float.round(5) ==
               Float.round(:math.log(2), 5)
    end

    test "remainder" do
      x = random({4}, -5.0, 5.0)
      y = random({4}, 0.7, 1.3)
      check_grad(fn {x, y} -> weighted(Nx.remainder(x, y)) end, {x, y})
    end

    test "max and min split the gradient on ties" do
      x = Nx.tensor([1.0, 2.0, 3.0])
      y = Nx.tensor([1.0, 3.0, 2.0])
      {dx, dy} = grad({x, y}, fn {x, y} -> Nx.sum(Nx.max(x, y)) end)
      assert Nx.to_list(dx) == [0.5, 0.0, 1.0]
      assert Nx.to_list(dy) == [0.5, 1.0, 0.0]
      {dx, dy} = grad({x, y}, fn {x, y} -> Nx.sum(Nx.min(x, y)) end)
      assert Nx.to_list(dx) == [0.5, 1.0, 0.0]
      assert Nx.to_list(dy) == [0.5, 0.0, 1.0]
    end

    test "quotient has no gradient" do
      assert_raise ArgumentError, ~r/cannot compute the gradient of Nx.quotient/, fn ->
        grad(Nx.tensor(3.0), fn x -> Nx.sum(Nx.quotient(Nx.as_type(x, :s32), 2)) end)
      end
    end

    test "the same tensor on both sides" do
      x = random({3})
      assert_all_close(grad(x, &Nx.sum(Nx.multiply(&1, &1))), Nx.multiply(x, 2))
      assert_all_close(grad(x, &Nx.sum(Nx.add(&1, &1))), Nx.broadcast(2.0, {3}))
    end
  end

  describe "select and clip" do
    test "select routes the gradient by the predicate" do
      x = random({2, 3})
      y = random({3})

      check_grad(
        fn {x, y} -> weighted(Nx.select(Nx.greater(x, 0), Nx.multiply(x, x), y)) end,
        {x, y}
      )
    end

    test "clip" do
      x = Nx.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])

      {dx, dmin, dmax} =
        grad({x, Nx.tensor(-1.0), Nx.tensor(1.0)}, fn {x, a, b} -> Nx.sum(Nx.clip(x, a, b)) end)

      assert Nx.to_list(dx) == [0.0, 1.0, 1.0, 1.0, 0.0]
      assert Nx.to_number(dmin) == 1.0
      assert Nx.to_number(dmax) == 1.0

      check_grad(
        fn {x, a, b} -> weighted(Nx.clip(x, a, b)) end,
        {random({6}, -2.0, 2.0), Nx.tensor(-0.8, type: :f64), Nx.tensor(0.7, type: :f64)}
      )
    end

    test "clip at a bound gives no gradient to the operand" do
      assert grad(Nx.tensor([1.0, 3.0]), &Nx.sum(Nx.clip(&1, 1.0, 3.0))) |> Nx.to_list() == [
               0.0,
               0.0
             ]
    end
  end

  describe "aggregates" do
    test "sum over axes, with and without keep_axes" do
      x = random({2, 3, 4})
      check_grad(&weighted(Nx.sum(&1, axes: [0, 2])), x)
      check_grad(&weighted(Nx.sum(&1, axes: [1], keep_axes: true)), x)
    end

    test "product, also with zeros" do
      x = random({3, 4}, 0.5, 1.5)
      check_grad(&weighted(Nx.product(&1, axes: [1])), x)
      check_grad(&weighted(Nx.product(&1)), x)

      one_zero = Nx.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], type: :f64)

      assert grad(one_zero, &Nx.sum(Nx.product(&1, axes: [1]))) |> Nx.to_list() ==
               [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]]

      check_grad(&weighted(Nx.product(&1, axes: [1])), one_zero)
    end

    test "reduce_max and reduce_min, ties share the gradient" do
      x = random({3, 4})
      check_grad(&weighted(Nx.reduce_max(&1, axes: [1])), x)
      check_grad(&weighted(Nx.reduce_min(&1, axes: [0], keep_axes: true)), x)

      tied = Nx.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
      third = 1 / 3
      expected = Nx.tensor([[0.0, 0.5, 0.5], [third, third, third]])
      assert_all_close(grad(tied, &Nx.sum(Nx.reduce_max(&1, axes: [1]))), expected)
    end

    test "mean built from sum and divide" do
      x = random({2, 5})
      assert_all_close(grad(x, &Nx.divide(Nx.sum(&1), 10)), Nx.broadcast(0.1, {2, 5}))
    end
  end

  describe "dot" do
    test "matrix products" do
      check_grad(fn {a, b} -> weighted(Nx.dot(a, b)) end, {random({2, 3}), random({3, 4})})
      check_grad(fn {a, b} -> weighted(Nx.dot(a, b)) end, {random({3}), random({3})})
      check_grad(fn {a, b} -> weighted(Nx.dot(a, b)) end, {random({2, 3}), random({3})})
      check_grad(fn {a, b} -> weighted(Nx.outer(a, b)) end, {random({2}), random({3})})
    end

    test "contraction over permuted axes" do
      a = random({2, 3, 4})
      b = random({4, 5, 3})
      check_grad(fn {a, b} -> weighted(Nx.dot(a, [2, 1], b, [0, 2])) end, {a, b})
      check_grad(fn {a, b} -> weighted(Nx.dot(a, [1], b, [2])) end, {a, b})
    end

    test "batched contraction" do
      a = random({2, 3, 4})
      b = random({2, 4, 3})
      check_grad(fn {a, b} -> weighted(Nx.dot(a, [2, 1], [0], b, [1, 2], [0])) end, {a, b})
      check_grad(fn {a, b} -> weighted(Nx.dot(a, [1], [0], b, [2], [0])) end, {a, b})
    end
  end

  describe "shapes" do
    test "reshape, transpose, squeeze, new_axis" do
      x = random({2, 3, 1})
      check_grad(&weighted(Nx.reshape(&1, {3, 2})), x)
      check_grad(&weighted(Nx.transpose(&1, axes: [2, 0, 1])), x)
      check_grad(&weighted(Nx.squeeze(&1)), x)
      check_grad(&weighted(Nx.new_axis(&1, 1)), x)
    end

    test "broadcast: new and expanded axes" do
      check_grad(&weighted(Nx.broadcast(&1, {4, 2, 3})), random({2, 1}))
      check_grad(&weighted(Nx.broadcast(&1, {3, 2, 4}, axes: [0, 2])), random({3, 1}))
    end

    test "pad with edges, negative edges and interior" do
      x = random({3, 4})
      check_grad(&weighted(Nx.pad(&1, 0.0, [{1, 2, 1}, {-1, 0, 0}])), x)

      check_grad(
        fn {x, v} -> weighted(Nx.pad(x, v, [{0, -1, 2}, {2, 1, 0}])) end,
        {x, Nx.tensor(0.3, type: :f64)}
      )
    end

    test "slice with strides and dynamic starts" do
      x = random({4, 5})
      check_grad(&weighted(Nx.slice(&1, [1, 0], [3, 5], strides: [2, 2])), x)
      check_grad(&weighted(Nx.slice(&1, [Nx.tensor(3), Nx.tensor(1)], [2, 3])), x)
      check_grad(&weighted(Nx.slice(&1, [Nx.tensor(3), 1], [2, 4], strides: [1, 3])), x)
    end

    test "put_slice" do
      check_grad(
        fn {x, u} -> weighted(Nx.put_slice(x, [2, 1], u)) end,
        {random({3, 4}), random({2, 2})}
      )
    end

    test "reverse, concatenate, stack" do
      x = random({2, 3})
      y = random({2, 2})
      check_grad(&weighted(Nx.reverse(&1, axes: [1])), x)
      check_grad(fn {x, y} -> weighted(Nx.concatenate([x, y, x], axis: 1)) end, {x, y})

      check_grad(
        fn {x, y} -> weighted(Nx.stack([x, Nx.multiply(x, y |> Nx.sum())], axis: 1)) end,
        {x, y}
      )
    end

    test "gather, take, take_along_axis" do
      x = random({3, 4})
      indices = Nx.tensor([[[2, 1], [0, 0]], [[2, 1], [1, 3]]])
      check_grad(&weighted(Nx.gather(&1, indices)), x)
      check_grad(&weighted(Nx.gather(&1, Nx.tensor([[3], [0], [3]]), axes: [1])), x)
      check_grad(&weighted(Nx.take(&1, Nx.tensor([[2, 0], [2, 2]]), axis: 1)), x)
      check_grad(&weighted(Nx.take(&1, Nx.tensor([1, 1, 0]))), x)

      check_grad(
        &weighted(
          Nx.take_along_axis(&1, Nx.tensor([[0, 2], [1, 1], [2, 0]]), axis: 0)
          |> Nx.sum(axes: [0])
        ),
        Nx.slice(x, [0, 0], [3, 2])
      )

      check_grad(
        &weighted(Nx.take_along_axis(&1, Nx.tensor([[3, 0, 3], [1, 1, 2], [0, 0, 0]]), axis: 1)),
        x
      )
    end

    test "indexed_add and indexed_put" do
      x = random({3, 4})
      indices = Nx.tensor([[0, 1], [2, 3], [0, 1]])
      check_grad(fn {x, u} -> weighted(Nx.indexed_add(x, indices, u)) end, {x, random({3})})

      check_grad(
        fn {x, u} -> weighted(Nx.indexed_add(x, Nx.tensor([[1], [2]]), u, axes: [0])) end,
        {x, random({2, 4})}
      )

      check_grad(
        fn {x, u} -> weighted(Nx.indexed_put(x, Nx.tensor([[0, 1], [2, 3]]), u)) end,
        {x, random({2})}
      )
    end
  end

  describe "sorting and cumulative operations" do
    test "sort in both directions" do
      x = random({3, 4})
      check_grad(&weighted(Nx.sort(&1, axis: 1)), x)
      check_grad(&weighted(Nx.sort(&1, axis: 0, direction: :desc)), x)
    end

    test "top_k" do
      check_grad(&weighted(elem(Nx.top_k(&1, k: 2), 0)), random({3, 5}))
    end

    for op <- [:cumulative_sum, :cumulative_product, :cumulative_max, :cumulative_min] do
      test "#{op}" do
        x = random({3, 4}, 0.5, 1.5)
        check_grad(&weighted(Nx.unquote(op)(&1, axis: 1)), x)
        check_grad(&weighted(Nx.unquote(op)(&1, axis: 0, reverse: true)), x)
      end
    end

    test "cumulative_product with zeros" do
      x = Nx.tensor([2.0, 0.0, 3.0, 0.0, 4.0], type: :f64)
      check_grad(&weighted(Nx.cumulative_product(&1)), x)
    end
  end

  describe "composite functions" do
    test "mean, variance, standard_deviation, logsumexp" do
      x = random({3, 4})
      check_grad(&weighted(Nx.mean(&1, axes: [1])), x)
      check_grad(&weighted(Nx.variance(&1, axes: [0])), x)
      check_grad(&weighted(Nx.standard_deviation(&1, axes: [1], ddof: 1)), x)
      check_grad(&weighted(Nx.logsumexp(&1, axes: [1])), x)
    end

    test "median, weighted_mean, covariance, log2" do
      x = random({3, 4}, 0.5, 2.0)
      check_grad(&weighted(Nx.median(&1, axis: 1)), x)

      check_grad(
        fn {x, w} -> weighted(Nx.weighted_mean(x, w, axes: [1])) end,
        {x, random({3, 4}, 0.5, 1.0)}
      )

      check_grad(&weighted(Nx.covariance(&1)), x)
      check_grad(&weighted(Nx.log2(&1)), x)
    end
  end

  describe "complex values" do
    test "holomorphic operations, real and imag" do
      f = fn {x, y} ->
        z = Nx.complex(x, y)
        u = Nx.multiply(Nx.exp(z), Nx.divide(z, Nx.add(z, 3)))
        Nx.add(weighted(Nx.real(u)), Nx.multiply(weighted(Nx.imag(u)), 2))
      end

      check_grad(f, {random({3}), random({3})})
    end

    test "abs and phase" do
      f = fn {x, y} ->
        z = Nx.complex(x, y)
        Nx.add(weighted(Nx.abs(Nx.multiply(z, z))), weighted(Nx.phase(z)))
      end

      check_grad(f, {random({3}), random({3})})
    end
  end

  describe "containers and types" do
    test "maps of variables" do
      x = random({2})
      y = random({2})
      %{a: da, b: db} = grad(%{a: x, b: y}, fn %{a: a, b: b} -> Nx.sum(Nx.multiply(a, b)) end)
      assert_all_close(da, y)
      assert_all_close(db, x)
    end

    test "unused variables get zeros of their shape" do
      {dx, dy} = grad({Nx.tensor([1.0, 2.0]), Nx.tensor([[1.0]])}, fn {x, _y} -> Nx.sum(x) end)
      assert Nx.to_list(dx) == [1.0, 1.0]
      assert Nx.to_list(dy) == [[0.0]]
    end

    test "integer variables get floating gradients" do
      assert grad(Nx.tensor([1, 2]), &Nx.sum(Nx.multiply(&1, &1))) |> Nx.to_list() == [2.0, 4.0]
      assert grad(Nx.tensor([1, 2]), &Nx.sum(Nx.multiply(&1, &1))) |> Nx.type() == {:f, 32}
    end

    test "f64 stays f64" do
      assert grad(random({2}), &Nx.sum(Nx.sin(&1))) |> Nx.type() == {:f, 64}
    end

    test "gradients keep the names of the variables" do
      x = Nx.tensor([[1.0, 2.0]], names: [:rows, :cols])
      assert grad(x, &Nx.sum(Nx.transpose(&1))) |> Nx.names() == [:rows, :cols]
    end

    test "hooks on the way do not change the gradient" do
      x = random({2})
      f = fn x -> x |> Nx.sin() |> Nx.Defn.Kernel.hook(fn _ -> :ok end) |> Nx.sum() end
      assert_all_close(grad(x, f), Nx.cos(x))
    end

    test "non-scalar results are summed" do
      x = random({3})
      assert_all_close(grad(x, &Nx.multiply(&1, &1)), Nx.multiply(x, 2))
    end

    test "captured tensors are constants" do
      y = Nx.tensor([2.0, 3.0])

      assert grad(Nx.tensor([1.0, 1.0]), &Nx.sum(Nx.multiply(&1, y))) |> Nx.to_list() == [
               2.0,
               3.0
             ]
    end

    test "the result must be a tensor" do
      assert_raise ArgumentError, ~r/return a single tensor expression/, fn ->
        grad(Nx.tensor(1.0), fn x -> {x, x} end)
      end
    end
  end

  describe "stop_grad and custom_grad" do
    test "stop_grad makes a value constant" do
      x = Nx.tensor([1.0, 2.0])
      f = fn x -> Nx.sum(Nx.multiply(x, Nx.Defn.Kernel.stop_grad(x))) end
      assert grad(x, f) |> Nx.to_list() == [1.0, 2.0]
    end

    test "custom_grad replaces the gradient" do
      x = Nx.tensor([1.0, 2.0])

      f = fn x ->
        y = Nx.exp(x)
        Nx.sum(Nx.Defn.Kernel.custom_grad(y, [x], fn g -> [Nx.multiply(g, 3)] end))
      end

      assert grad(x, f) |> Nx.to_list() == [3.0, 3.0]
    end

    test "custom_grad with several inputs and the chain rule" do
      f = fn {x, y} ->
        z = Nx.multiply(x, y)

        z =
          Nx.Defn.Kernel.custom_grad(z, [x, y], fn g -> [Nx.multiply(g, y), Nx.multiply(g, x)] end)

        weighted(Nx.sin(z))
      end

      check_grad(f, {random({3}), random({3})})
    end

    test "custom_grad must return one tensor per input" do
      f = fn x -> Nx.sum(Nx.Defn.Kernel.custom_grad(Nx.exp(x), [x], fn _g -> :bad end)) end

      assert_raise ArgumentError, ~r/custom_grad\/3 must return a list/, fn ->
        grad(Nx.tensor(1.0), f)
      end
    end
  end

  describe "control flow" do
    defn piecewise(x) do
      if Nx.sum(x) > 0 do
        Nx.sum(x * x)
      else
        Nx.sum(Nx.sin(x))
      end
    end

    defn piecewise_grad(x), do: grad(x, &piecewise/1)

    test "cond takes the gradient of the branch taken" do
      x = Nx.tensor([1.0, 2.0])
      assert piecewise_grad(x) |> Nx.to_list() == [2.0, 4.0]
      y = Nx.tensor([-1.0, -2.0])
      assert_all_close(piecewise_grad(y), Nx.cos(y))
      check_grad(&piecewise/1, random({3}, 0.1, 1.0))
      check_grad(&piecewise/1, random({3}, -1.0, -0.1))
    end

    defn multi_cond(x, y) do
      cond do
        x > 1 -> {x * y, y}
        x < -1 -> {y, x * x}
        true -> {x, y * y}
      end
    end

    test "cond with tuple results and several variables" do
      f = fn {x, y} ->
        {a, b} = multi_cond(x, y)
        Nx.add(Nx.multiply(a, 2), Nx.multiply(b, 3))
      end

      for x <- [2.0, -2.0, 0.5] do
        check_grad(f, {Nx.tensor(x, type: :f64), Nx.tensor(1.5, type: :f64)})
      end
    end

    defn power_loop(x, n) do
      {_i, _n, acc, _x} =
        while {i = 0, n, acc = x * 0 + 1, x}, i < n do
          {i + 1, n, acc * x, x}
        end

      acc
    end

    test "while: x^n" do
      x = random({3}, 0.5, 1.5)
      g = grad(x, &Nx.sum(power_loop(&1, 4)))
      assert_all_close(g, Nx.multiply(4, Nx.pow(x, 3)))
    end

    defn matrix_loop(v, m) do
      {_i, v, _m} =
        while {i = 0, v, m}, i < 3 do
          {i + 1, Nx.tanh(Nx.dot(m, v)) + v * 0.5, m}
        end

      v
    end

    test "while: a state whose steps do not commute" do
      v = random({3})
      m = random({3, 3})
      check_grad(fn {v, m} -> weighted(matrix_loop(v, m)) end, {v, m})
    end

    defn loop_with_cond(x) do
      {_i, x} =
        while {i = 0, x}, i < 4 do
          x = if Nx.sum(x) > 0.5, do: x * 0.5 + 0.1, else: Nx.sin(x) + 1
          {i + 1, x}
        end

      x
    end

    test "while with a cond in the body" do
      check_grad(&weighted(loop_with_cond(&1)), random({2}))
    end

    defn generator_loop(x, rows) do
      while acc = x, row <- rows do
        acc * row + Nx.exp(acc) * 0.1
      end
    end

    test "while over a tensor generator, and nested in grad of grad" do
      x = random({3})
      rows = random({4, 3})
      check_grad(fn {x, rows} -> weighted(generator_loop(x, rows)) end, {x, rows})

      second = fn x -> Nx.sum(grad(x, &weighted(generator_loop(&1, rows)))) end
      check_grad(second, x, atol: 1.0e-4)
    end

    test "a loop that does not run" do
      x = random({2})
      assert_all_close(grad(x, &Nx.sum(power_loop(&1, 0))), Nx.broadcast(0.0, {2}))
    end
  end

  describe "inside defn" do
    defn tanh_grad(t), do: grad(t, &Nx.tanh/1)

    defn value_and_grad_pair(a, b) do
      value_and_grad({a, b}, fn {a, b} -> Nx.tanh(a) + Nx.pow(b, 2) end)
    end

    test "grad and value_and_grad" do
      x = Nx.tensor([0.0, 1.0])
      assert_all_close(tanh_grad(x), Nx.subtract(1, Nx.pow(Nx.tanh(x), 2)))

      {value, {da, db}} = value_and_grad_pair(Nx.tensor(0.0), Nx.tensor(3.0))
      assert Nx.to_number(value) == 9.0
      assert Nx.to_number(da) == 1.0
      assert Nx.to_number(db) == 6.0
    end

    defn loss(w, b, x, y) do
      pred = Nx.dot(x, w) + b
      Nx.sum((pred - y) * (pred - y)) / Nx.axis_size(x, 0)
    end

    defn train(w, b, x, y) do
      {_i, w, b, _x, _y, _loss} =
        while {i = 0, w, b, x, y, loss = b * 0}, i < 200 do
          {loss, {gw, gb}} = value_and_grad({w, b}, fn {w, b} -> loss(w, b, x, y) end)
          {i + 1, w - 0.1 * gw, b - 0.1 * gb, x, y, loss}
        end

      {w, b}
    end

    test "a training loop written in defn" do
      x = random({20, 2})
      y = Nx.add(Nx.dot(x, Nx.tensor([2.0, -3.0], type: :f64)), 0.5)
      {w, b} = train(Nx.tensor([0.0, 0.0], type: :f64), Nx.tensor(0.0, type: :f64), x, y)
      assert_all_close(w, Nx.tensor([2.0, -3.0]), atol: 1.0e-2)
      assert_all_close(b, 0.5, atol: 1.0e-2)
    end
  end

  describe "errors" do
    test "reduce has no gradient" do
      assert_raise ArgumentError, ~r/cannot compute the gradient of Nx.reduce/, fn ->
        grad(Nx.tensor([1.0, 2.0]), &Nx.reduce(&1, 0, fn a, b -> Nx.add(a, b) end))
      end
    end
  end
end
