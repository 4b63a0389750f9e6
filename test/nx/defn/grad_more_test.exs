defmodule Nx.Defn.GradMoreTest do
  # Gradients of conv, the window operations, the Fourier transforms and
  # Nx.LinAlg, against central finite differences in f64 and closed forms.
  use ExUnit.Case, async: true

  import Nx.Defn
  import Nx.Defn.GradCheck
  import Nx.Testing

  setup do
    :rand.seed(:exsss, {3, 5, 17})
    # The finite differences call jitted functions many times; the
    # Evaluator's trace cache copies each expression into ETS, which
    # unshares the large traced default implementations of the linear
    # algebra blocks (cholesky, qr) and makes every call slow.
    Nx.Defn.default_options(cache: false)
    :ok
  end

  # Weights make every output element count differently, so that a wrong
  # permutation or offset in a rule cannot go unnoticed.
  defp weighted(t), do: Nx.sum(Nx.multiply(t, weights(Nx.shape(t))))

  defp weights(shape), do: shape |> Nx.iota(type: :f64) |> Nx.add(1) |> Nx.sqrt()

  # A real loss of a complex tensor that depends on both parts.
  defp weighted_complex(z),
    do: Nx.add(weighted(Nx.real(z)), Nx.multiply(weighted(Nx.imag(z)), 0.7))

  defp symmetric(a), do: Nx.divide(Nx.add(a, Nx.LinAlg.adjoint(a)), 2)

  # Symmetric positive-definite matrices with distinct eigenvalues.
  defp spd(shape) do
    x = random(shape)
    n = elem(shape, tuple_size(shape) - 1)
    rank = tuple_size(shape)
    batch = Enum.to_list(0..(rank - 3)//1)
    xxt = Nx.dot(x, [rank - 1], batch, x, [rank - 1], batch)
    Nx.add(xxt, Nx.multiply(Nx.eye(n, type: :f64), n))
  end

  describe "conv" do
    @conv_cases [
      {"one spatial axis", {2, 3, 6}, {2, 3, 3}, []},
      {"strides and asymmetric padding", {1, 2, 6, 5}, {3, 2, 3, 2},
       [strides: [2, 1], padding: [{1, 2}, {0, 1}]]},
      {"negative padding and padding larger than the kernel", {1, 1, 9}, {2, 1, 2},
       [padding: [{-2, 4}]]},
      {"same padding with strides", {1, 2, 5, 5}, {2, 2, 3, 3}, [strides: 2, padding: :same]},
      {"input dilation", {1, 2, 4}, {3, 2, 3}, [input_dilation: 2, padding: [{1, 1}]]},
      {"kernel dilation and strides", {1, 2, 11}, {2, 2, 3}, [kernel_dilation: 2, strides: 3]},
      {"all dilations together", {2, 1, 5, 4}, {2, 1, 2, 3},
       [
         input_dilation: [2, 1],
         kernel_dilation: [1, 2],
         strides: [1, 2],
         padding: [{0, 1}, {2, 0}]
       ]},
      {"feature groups", {2, 6, 5}, {4, 3, 2}, [feature_group_size: 2]},
      {"depthwise", {1, 3, 6}, {3, 1, 3}, [feature_group_size: 3, padding: :same]},
      {"batch groups", {4, 2, 6}, {6, 2, 3}, [batch_group_size: 2, strides: 2]},
      {"batch groups with dilations", {6, 1, 7}, {3, 1, 2},
       [batch_group_size: 3, kernel_dilation: 2, input_dilation: 2, padding: [{1, 0}]]},
      {"three spatial axes", {1, 2, 3, 4, 3}, {2, 2, 2, 2, 2}, [padding: :same]}
    ]

    for {name, in_shape, k_shape, opts} <- @conv_cases do
      test name do
        x = random(unquote(Macro.escape(in_shape)))
        k = random(unquote(Macro.escape(k_shape)))
        opts = unquote(opts)
        check_grad(fn {x, k} -> weighted(Nx.conv(x, k, opts)) end, {x, k})
      end
    end

    test "permutations (channels last)" do
      x = random({2, 5, 4, 3})
      k = random({3, 2, 3, 4})

      opts = [
        input_permutation: [0, 3, 1, 2],
        kernel_permutation: [3, 2, 0, 1],
        output_permutation: [0, 3, 1, 2],
        strides: [2, 1],
        padding: [{1, 0}, {0, 1}]
      ]

      assert Nx.conv(x, k, opts).shape == {2, 2, 4, 4}
      check_grad(fn {x, k} -> weighted(Nx.conv(x, k, opts)) end, {x, k})
    end

    test "permutations with feature groups" do
      # the input as [width, batch, channels], the kernel as [width, channels, filters]
      x = random({5, 2, 4})
      k = random({2, 2, 6})

      opts = [
        input_permutation: [1, 2, 0],
        kernel_permutation: [2, 1, 0],
        output_permutation: [1, 2, 0],
        feature_group_size: 2
      ]

      check_grad(fn {x, k} -> weighted(Nx.conv(x, k, opts)) end, {x, k})
    end

    test "complex inputs" do
      f = fn {a, b, c, d} ->
        x = Nx.complex(a, b)
        k = Nx.complex(c, d)
        weighted_complex(Nx.conv(x, k, padding: [{1, 0}], strides: 2))
      end

      check_grad(f, {random({1, 2, 5}), random({1, 2, 5}), random({2, 2, 2}), random({2, 2, 2})})
    end

    test "grad of grad" do
      x = random({1, 2, 5, 4})
      k = random({3, 2, 2, 3})
      opts = [strides: [1, 2], padding: :same, kernel_dilation: [2, 1]]

      first = fn {x, k} ->
        grad({x, k}, fn {x, k} -> weighted(Nx.tanh(Nx.conv(x, k, opts))) end)
      end

      second = fn {x, k} ->
        {gx, gk} = first.({x, k})
        Nx.add(weighted(Nx.multiply(gx, gx)), Nx.sum(Nx.sin(gk)))
      end

      check_grad(second, {x, k}, atol: 1.0e-4)
    end

    test "the kernel and the input are the same tensor" do
      x = random({1, 1, 4})
      check_grad(&weighted(Nx.conv(&1, &1, padding: [{3, 3}])), x)
    end
  end

  describe "window_sum and window_mean" do
    @window_cases [
      {{6}, {3}, []},
      {{5, 4}, {2, 2}, [strides: [2, 1]]},
      {{5, 4}, {3, 2}, [padding: :same]},
      {{7, 3}, {2, 2}, [padding: [{2, 1}, {0, 2}], strides: [3, 2]]},
      {{8}, {3}, [window_dilations: 2, strides: 2]},
      {{6, 6}, {2, 3}, [window_dilations: [2, 1], padding: [{1, 1}, {-1, 2}], strides: [2, 2]]},
      {{2, 3, 4}, {1, 2, 3}, [padding: :same, window_dilations: [1, 2, 1]]}
    ]

    for {{shape, window, opts}, i} <- Enum.with_index(@window_cases) do
      test "case #{i}: #{inspect(window)} #{inspect(opts)}" do
        x = random(unquote(Macro.escape(shape)))
        window = unquote(Macro.escape(window))
        opts = unquote(opts)
        check_grad(&weighted(Nx.window_sum(&1, window, opts)), x)
        check_grad(&weighted(Nx.window_mean(&1, window, opts)), x)
      end
    end

    test "closed form: every element counts once per window covering it" do
      g = grad(Nx.iota({5}, type: :f64), &Nx.sum(Nx.window_sum(&1, {3})))
      assert Nx.to_list(g) == [1.0, 2.0, 3.0, 2.0, 1.0]

      g = grad(Nx.iota({4}, type: :f64), &Nx.sum(Nx.window_mean(&1, {2}, padding: :same)))
      assert_all_close(g, Nx.tensor([0.5, 1.0, 1.0, 1.0]))
    end
  end

  describe "window_max and window_min" do
    @select_cases [
      {{6}, {2}, []},
      {{5, 4}, {2, 2}, [strides: [2, 1]]},
      {{5, 5}, {3, 3}, [padding: :same, strides: 2]},
      {{7, 3}, {2, 2}, [padding: [{1, 0}, {0, 1}], strides: [3, 1]]},
      {{9}, {3}, [window_dilations: 2]},
      {{6, 5}, {2, 2}, [window_dilations: [2, 1], padding: [{1, 0}, {0, 1}], strides: [1, 2]]}
    ]

    for {{shape, window, opts}, i} <- Enum.with_index(@select_cases),
        op <- [:window_max, :window_min] do
      test "#{op} case #{i}: #{inspect(window)} #{inspect(opts)}" do
        # distinct values, so that the selection is unique
        shape = unquote(Macro.escape(shape))
        n = Nx.size(shape)
        x = Enum.shuffle(0..(n - 1)) |> Nx.tensor(type: :f64) |> Nx.divide(n) |> Nx.reshape(shape)
        window = unquote(Macro.escape(window))
        opts = unquote(opts)
        check_grad(&weighted(Nx.unquote(op)(&1, window, opts)), x, h: 1.0e-7)
      end
    end

    test "each window's gradient goes to the element it selected" do
      x = Nx.tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 4.0]])
      g = grad(x, &weighted(Nx.window_max(&1, {2, 2})))
      # windows: max 7 (weight 1), max 5 (weight sqrt 2)
      assert_all_close(g, Nx.tensor([[0.0, :math.sqrt(2), 0.0], [1.0, 0.0, 0.0]]))

      g = grad(x, &Nx.sum(Nx.window_min(&1, {1, 2}, strides: [1, 1])))
      assert Nx.to_list(g) == [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]
    end

    test "ties: the gradient goes to one element, as window_scatter_max chooses" do
      x = Nx.tensor([3.0, 3.0, 1.0])
      g = grad(x, &Nx.sum(Nx.window_max(&1, {2})))
      assert Nx.to_list(g) == Nx.to_list(Nx.window_scatter_max(x, Nx.tensor([1.0, 1.0]), 0, {2}))
      assert Nx.to_number(Nx.sum(g)) == 2.0

      # with dilations (computed without window_scatter_max), the last one wins too
      g =
        grad(
          Nx.tensor([3.0, 0.0, 3.0, 0.0]),
          &Nx.sum(Nx.window_max(&1, {2}, window_dilations: 2))
        )

      assert Nx.to_list(g) == [0.0, 0.0, 1.0, 1.0]
    end

    test "window_product has no gradient" do
      assert_raise ArgumentError, ~r/cannot compute the gradient of Nx.window_product/, fn ->
        grad(Nx.tensor([1.0, 2.0, 3.0]), &Nx.sum(Nx.window_product(&1, {2})))
      end
    end
  end

  describe "window_scatter_max and window_scatter_min" do
    for op <- [:window_scatter_max, :window_scatter_min] do
      test "#{op}: source and init value" do
        t = Nx.tensor([[1, 6, 2, 2, 0], [5, 3, 7, 1, 4], [0, 9, 8, 2, 6]], type: :f64)
        source = random({2, 3})
        init = Nx.tensor(0.5, type: :f64)
        opts = [strides: [1, 2], padding: [{0, 0}, {1, 1}]]

        f = fn {source, init} -> weighted(Nx.unquote(op)(t, source, init, {2, 2}, opts)) end
        check_grad(f, {source, init})

        # the tensor only chooses positions
        g = grad(t, &weighted(Nx.unquote(op)(&1, source, init, {2, 2}, opts)))
        assert Nx.to_flat_list(g) == List.duplicate(0.0, 15)
      end
    end
  end

  describe "fft" do
    test "fft and ifft of real and complex inputs" do
      for op <- [:fft, :ifft] do
        fun = &apply(Nx, op, [&1])
        check_grad(&weighted_complex(fun.(&1)), random({2, 5}))

        check_grad(
          fn {a, b} -> weighted_complex(fun.(Nx.complex(a, b))) end,
          {random({3, 4}), random({3, 4})}
        )
      end
    end

    test "lengths that pad and truncate, other axes" do
      for op <- [:fft, :ifft],
          opts <- [[length: 7], [length: 3], [axis: 0, length: 4], [axis: 0]] do
        check_grad(&weighted_complex(apply(Nx, op, [&1, opts])), random({3, 5}))
      end

      check_grad(&weighted_complex(Nx.fft(&1, length: :power_of_two)), random({5}))
    end

    test "fft2 and ifft2" do
      for op <- [:fft2, :ifft2],
          opts <- [[], [lengths: [3, 6]], [axes: [0, 2], lengths: [2, 2]]] do
        check_grad(&weighted_complex(apply(Nx, op, [&1, opts])), random({3, 2, 4}))
      end
    end

    test "rfft and irfft" do
      for opts <- [[], [length: 8], [length: 3], [axis: 0]] do
        check_grad(&weighted_complex(Nx.rfft(&1, opts)), random({4, 5}))
      end

      for opts <- [[], [length: 5], [length: 3], [axis: 0, length: 6]] do
        f = fn {a, b} -> weighted(Nx.irfft(Nx.complex(a, b), opts)) end
        check_grad(f, {random({4, 3}), random({4, 3})})
      end
    end

    test "closed form: the gradient of sum(fft(x)) is n at the zero frequency" do
      g = grad(Nx.tensor([1.0, 2.0, 3.0, 4.0]), &Nx.sum(Nx.fft(&1)))
      assert_all_close(g, Nx.tensor([4.0, 0.0, 0.0, 0.0]))

      g = grad(Nx.tensor([1.0, 2.0, 3.0, 4.0]), &Nx.sum(Nx.fft(&1, length: 8)))
      assert_all_close(g, Nx.tensor([8.0, 0.0, 0.0, 0.0]))

      g = grad(Nx.tensor([1.0, 2.0, 3.0, 4.0]), &Nx.sum(Nx.ifft(&1, length: 8)))
      assert_all_close(g, Nx.tensor([1.0, 0.0, 0.0, 0.0]))
    end

    test "grad of grad through fft" do
      second = fn x -> Nx.sum(Nx.sin(grad(x, &weighted_complex(Nx.exp(Nx.fft(&1)))))) end
      check_grad(second, random({4}, -0.3, 0.3), atol: 1.0e-4)
    end
  end

  describe "linear systems" do
    test "solve, with matrix and vector right-hand sides, batched" do
      a = Nx.add(random({3, 3}), Nx.multiply(Nx.eye(3, type: :f64), 3))
      check_grad(fn {a, b} -> weighted(Nx.LinAlg.solve(a, b)) end, {a, random({3, 2})})
      check_grad(fn {a, b} -> weighted(Nx.LinAlg.solve(a, b)) end, {a, random({3})})

      batched = Nx.add(random({2, 3, 3}), Nx.multiply(Nx.eye(3, type: :f64), 3))
      check_grad(fn {a, b} -> weighted(Nx.LinAlg.solve(a, b)) end, {batched, random({2, 3, 2})})
    end

    test "invert" do
      a = Nx.add(random({3, 3}), Nx.multiply(Nx.eye(3, type: :f64), 3))
      check_grad(&weighted(Nx.LinAlg.invert(&1)), a)
      check_grad(&weighted(Nx.LinAlg.invert(&1)), Nx.stack([a, Nx.transpose(a)]))
    end

    test "closed form: d tr(inv(A)) / dA = -(A^-2)^T" do
      a = Nx.add(random({3, 3}), Nx.multiply(Nx.eye(3, type: :f64), 2))
      inv = Nx.LinAlg.invert(a)
      expected = Nx.negate(Nx.transpose(Nx.dot(inv, inv)))
      g = grad(a, &Nx.sum(Nx.take_diagonal(Nx.LinAlg.invert(&1))))
      assert_all_close(g, expected)
    end

    test "invert: Nx's value for an upper triangular matrix" do
      t = Nx.tensor([[1.0, 2.0, 3.0], [0, 4, 5], [0, 0, -6]])

      assert_all_close(
        grad(t, &Nx.sum(Nx.LinAlg.invert(&1))),
        Nx.tensor([
          [-0.5833, -0.4583, 0.1667],
          [0.14583, 0.1146, -0.0417],
          [-0.0729, -0.0573, 0.0208]
        ]),
        atol: 1.0e-4
      )
    end

    test "determinant" do
      a = random({3, 3})
      check_grad(&Nx.LinAlg.determinant/1, a)
      check_grad(&weighted(Nx.LinAlg.determinant(&1)), random({2, 4, 4}))
    end

    test "closed form: d det(A) / dA = det(A) A^-T" do
      a = random({4, 4})
      expected = Nx.multiply(Nx.LinAlg.determinant(a), Nx.transpose(Nx.LinAlg.invert(a)))
      assert_all_close(grad(a, &Nx.LinAlg.determinant/1), expected)

      # d log|det(A)| / dA = A^-T
      g = grad(a, &Nx.log(Nx.abs(Nx.LinAlg.determinant(&1))))
      assert_all_close(g, Nx.transpose(Nx.LinAlg.invert(a)))
    end

    test "triangular_solve with every option" do
      a = Nx.add(random({3, 3}), Nx.multiply(Nx.eye(3, type: :f64), 3))

      for lower <- [true, false],
          left_side <- [true, false],
          transform_a <- [:none, :transpose],
          b_shape <- [{3, 2}, {2, 3}, {3}] do
        b_fits =
          if left_side,
            do: elem(b_shape, 0) == 3,
            else: elem(b_shape, tuple_size(b_shape) - 1) == 3

        if b_fits do
          opts = [lower: lower, left_side: left_side, transform_a: transform_a]
          f = fn {a, b} -> weighted(Nx.LinAlg.triangular_solve(a, b, opts)) end
          check_grad(f, {a, random(b_shape)})
        end
      end
    end

    test "triangular_solve batched" do
      a = Nx.add(random({2, 3, 3}), Nx.multiply(Nx.eye(3, type: :f64), 3))
      f = fn {a, b} -> weighted(Nx.LinAlg.triangular_solve(a, b, lower: false)) end
      check_grad(f, {a, random({2, 3, 4})})
    end
  end

  describe "factorizations" do
    test "cholesky, through a symmetric parametrization" do
      for shape <- [{3, 3}, {2, 4, 4}] do
        a = spd(shape)
        check_grad(&weighted(Nx.LinAlg.cholesky(symmetric(&1))), a)
      end
    end

    test "cholesky: Nx's values for a {2, 2} matrix" do
      t = Nx.tensor([[1.0, 2.0], [2.0, 5.0]])
      assert Nx.to_list(grad(t, &Nx.sum(Nx.LinAlg.cholesky(&1)))) == [[1.5, -1.0], [0.0, 0.5]]

      assert_all_close(
        grad(t, &Nx.sum(Nx.cos(Nx.LinAlg.cholesky(&1)))),
        Nx.tensor([[-1.1943799, 0.84147096], [-0.06782645, -0.42073548]])
      )

      assert_all_close(
        grad(t, &Nx.sum(Nx.LinAlg.cholesky(Nx.exp(&1)))),
        Nx.tensor([[-0.5299541, -0.88652998], [3.59515929, 6.550619]])
      )
    end

    test "cholesky: grad of grad" do
      a = spd({3, 3})

      second = fn a ->
        g = grad(a, &weighted(Nx.LinAlg.cholesky(symmetric(&1))))
        Nx.sum(Nx.multiply(g, g))
      end

      check_grad(second, a, atol: 1.0e-4)
    end

    test "closed form: d log det(A) / dA = A^-1 through the cholesky factor" do
      a = spd({3, 3})

      logdet = fn a ->
        a
        |> symmetric()
        |> Nx.LinAlg.cholesky()
        |> Nx.take_diagonal()
        |> Nx.log()
        |> Nx.sum()
        |> Nx.multiply(2)
      end

      assert_all_close(grad(a, logdet), Nx.LinAlg.invert(a))
    end

    test "lu" do
      a = random({4, 4})

      f = fn a ->
        {_p, l, u} = Nx.LinAlg.lu(a)
        Nx.add(weighted(l), weighted(Nx.sin(u)))
      end

      check_grad(f, a)
      check_grad(&weighted(elem(Nx.LinAlg.lu(&1), 2)), random({2, 3, 3}))

      # Nx's value
      t = Nx.tensor([[1.0, 2.0], [1.0, -1.0]])

      lu_sum = fn t ->
        {p, l, u} = Nx.LinAlg.lu(t)
        l |> Nx.add(u) |> Nx.add(p) |> Nx.sum()
      end

      assert_all_close(grad(t, lu_sum), Nx.tensor([[2.0, 0.0], [-1.0, 1.0]]))
    end

    test "qr: square, tall, wide, complete and batched" do
      f = fn opts ->
        fn a ->
          {q, r} = Nx.LinAlg.qr(a, opts)
          Nx.add(weighted(q), weighted(Nx.sin(r)))
        end
      end

      check_grad(f.([]), random({3, 3}))
      check_grad(f.([]), random({4, 2}))
      check_grad(f.([]), random({2, 4}))
      check_grad(f.(mode: :complete), random({2, 3}))
      check_grad(f.(mode: :complete), random({3, 3}))
      check_grad(f.([]), random({2, 3, 2}))
      check_grad(&weighted(elem(Nx.LinAlg.qr(&1), 1)), random({3, 2}))
    end

    test "qr complete with more rows than columns has no gradient" do
      assert_raise ArgumentError, ~r/mode: :complete/, fn ->
        grad(random({3, 2}), &Nx.sum(elem(Nx.LinAlg.qr(&1, mode: :complete), 0)))
      end
    end

    test "eigh, through a symmetric parametrization" do
      for shape <- [{3, 3}, {2, 4, 4}] do
        a = random(shape)

        f = fn a ->
          {w, v} = Nx.LinAlg.eigh(symmetric(a))
          # eigenvectors are defined up to their sign: use sign-free functions
          Nx.add(weighted(w), weighted(Nx.multiply(v, v)))
        end

        check_grad(f, a)
      end
    end

    test "eigh: eigenvalues only, with repeated eigenvalues" do
      # d sum(w) / dA = I, also when the eigenvalues are equal
      g = grad(Nx.eye(3, type: :f64), &Nx.sum(elem(Nx.LinAlg.eigh(&1), 0)))
      assert_all_close(g, Nx.eye(3, type: :f64))

      # d w_max / dA = v v^T
      a = symmetric(random({3, 3}))
      {_w, v} = Nx.LinAlg.eigh(a)
      top = Nx.slice_along_axis(v, 2, 1, axis: 1)
      g = grad(a, &(elem(Nx.LinAlg.eigh(&1), 0) |> Nx.slice([2], [1]) |> Nx.sum()))
      assert_all_close(g, Nx.dot(top, Nx.transpose(top)))
    end

    test "svd: square, tall, wide, reduced and batched" do
      f = fn opts ->
        fn a ->
          {u, s, vt} = Nx.LinAlg.svd(a, opts)
          k = elem(s.shape, tuple_size(s.shape) - 1)
          u = Nx.slice_along_axis(u, 0, k, axis: -1)
          vt = Nx.slice_along_axis(vt, 0, k, axis: -2)
          # sign-free functions of the singular vectors
          weighted(s)
          |> Nx.add(weighted(Nx.multiply(u, u)))
          |> Nx.add(weighted(Nx.multiply(vt, vt)))
        end
      end

      check_grad(f.([]), random({3, 3}))
      check_grad(f.([]), random({4, 2}))
      check_grad(f.([]), random({2, 4}))
      check_grad(f.(full_matrices?: false), random({4, 3}))
      check_grad(f.(full_matrices?: false), random({3, 5}))
      check_grad(f.([]), random({2, 3, 2}))
    end

    test "svd: singular values only, and the nuclear norm" do
      a = random({3, 4})
      {u, _s, vt} = Nx.LinAlg.svd(a, full_matrices?: false)
      g = grad(a, &Nx.sum(elem(Nx.LinAlg.svd(&1), 1)))
      assert_all_close(g, Nx.dot(u, vt))
    end

    test "pinv and least_squares go through svd" do
      check_grad(&weighted(Nx.LinAlg.pinv(&1)), random({3, 2}))

      check_grad(
        fn {a, b} -> weighted(Nx.LinAlg.least_squares(a, b)) end,
        {random({4, 2}), random({4})}
      )
    end
  end

  describe "inside defn" do
    defn conv_loss(x, k), do: Nx.sum(Nx.conv(x, k, padding: :same) ** 2)
    defn conv_grad(x, k), do: grad({x, k}, fn {x, k} -> conv_loss(x, k) end)

    defn spd_loss(a) do
      l = Nx.LinAlg.cholesky(a)
      Nx.sum(Nx.LinAlg.triangular_solve(l, Nx.iota({3}, type: :f64)) ** 2)
    end

    defn spd_grad(a), do: grad(a, &spd_loss/1)

    test "jitted gradients equal the eager ones" do
      x = random({1, 2, 5})
      k = random({3, 2, 3})
      {gx, gk} = conv_grad(x, k)
      {ex, ek} = grad({x, k}, fn {x, k} -> Nx.sum(Nx.pow(Nx.conv(x, k, padding: :same), 2)) end)
      assert_all_close(gx, ex)
      assert_all_close(gk, ek)

      a = spd({3, 3})
      assert_all_close(spd_grad(a), grad(a, &spd_loss/1))
      check_grad(&spd_loss(symmetric(&1)), a)
    end
  end
end
