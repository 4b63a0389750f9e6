defmodule Nx.LinAlgTest do
  use ExUnit.Case, async: true

  doctest Nx.LinAlg

  alias Nx.LinAlg

  # Golden values from test/fixtures/gen_linalg_fft.py (NumPy/LAPACK in float64), regenerated
  # with `/tmp/venv_la/bin/python test/fixtures/gen_linalg_fft.py`.
  @fixtures "test/fixtures/linalg_fft.exs" |> Code.eval_file() |> elem(0)

  defp from_fixture({shape, values}) do
    complex? = Enum.any?(values, &is_tuple/1)
    type = if complex?, do: :c128, else: :f64

    values
    |> Enum.map(fn
      {re, im} -> Complex.new(re, im)
      v -> v
    end)
    |> then(&if(&1 == [], do: [], else: &1))
    |> Nx.tensor(type: type)
    |> Nx.reshape(shape)
  end

  defp assert_close(left, right, tol \\ 1.0e-6) do
    left = Nx.as_type(left, Nx.Type.merge(Nx.type(left), {:f, 64}))
    right = Nx.as_type(right, Nx.type(left))
    assert Nx.shape(left) == Nx.shape(right)

    assert Nx.to_number(Nx.all_close(left, right, atol: tol, rtol: tol)) == 1,
           "expected\n#{inspect(left)}\nto be close to\n#{inspect(right)}"
  end

  defp eye_like(%Nx.Tensor{shape: shape, type: type}), do: Nx.eye(shape, type: type)

  defp mm(a, b) do
    rank = Nx.rank(a)
    batch = Enum.to_list(0..(rank - 3)//1)
    Nx.dot(a, [rank - 1], batch, b, [rank - 2], batch)
  end

  describe "golden values" do
    for op <-
          ~w(determinant invert solve triangular_solve cholesky pinv matrix_rank least_squares norm)a do
      test "#{op} matches NumPy" do
        cases = Enum.filter(@fixtures, &(&1.op == unquote(op)))
        assert cases != []

        for %{args: args, opts: opts, expected: expected} <- cases do
          args = Enum.map(args, &from_fixture/1)
          result = apply(LinAlg, unquote(op), args ++ if(opts == [], do: [], else: [opts]))
          assert_close(result, from_fixture(expected))
        end
      end
    end

    test "eigh eigenvalues match NumPy (ascending)" do
      for %{op: :eigh, args: [a], expected: expected} <- @fixtures do
        {w, _} = LinAlg.eigh(from_fixture(a))
        assert_close(Nx.real(w), from_fixture(expected))
      end
    end

    test "svd singular values and |R| of qr match NumPy" do
      for %{op: op, args: [a], expected: expected} <- @fixtures, op in [:svd, :qr] do
        result =
          case op do
            :svd -> LinAlg.svd(from_fixture(a)) |> elem(1)
            :qr -> LinAlg.qr(from_fixture(a)) |> elem(1) |> Nx.abs()
          end

        assert_close(result, from_fixture(expected))
      end
    end
  end

  describe "identities" do
    setup do
      key = :rand.seed_s(:exsss, {1, 2, 3})

      {values, _} =
        Enum.map_reduce(1..(3 * 4 * 4), key, fn _, key ->
          {v, key} = :rand.uniform_s(key)
          {v * 2 - 1, key}
        end)

      %{batch: Nx.tensor(values, type: :f64) |> Nx.reshape({3, 4, 4})}
    end

    test "Q . R = A with orthonormal Q, in both modes", %{batch: a} do
      for t <- [a, Nx.slice(a[0], [0, 0], [4, 2]), Nx.slice(a[1], [0, 0], [2, 4])],
          mode <- [:reduced, :complete] do
        {q, r} = LinAlg.qr(t, mode: mode)
        assert_close(mm(q, r), t)
        assert_close(mm(LinAlg.adjoint(q), q), eye_like(mm(LinAlg.adjoint(q), q)))
        assert_close(r, Nx.triu(r))
      end
    end

    test "L . L^H = A for positive-definite A", %{batch: a} do
      spd = Nx.add(mm(a, LinAlg.adjoint(a)), Nx.multiply(eye_like(a), 4))
      l = LinAlg.cholesky(spd)
      assert_close(mm(l, LinAlg.adjoint(l)), spd)
      assert_close(l, Nx.tril(l))
    end

    test "U . diag(S) . Vt = A", %{batch: a} do
      for t <- [a, Nx.slice(a, [0, 0, 0], [3, 4, 3]), Nx.slice(a, [0, 0, 0], [3, 2, 4])] do
        {u, s, vt} = LinAlg.svd(t, full_matrices?: false)
        assert_close(mm(Nx.multiply(u, Nx.new_axis(s, -2)), vt), t)
        {u, _s, vt} = LinAlg.svd(t)
        assert_close(mm(LinAlg.adjoint(u), u), eye_like(mm(LinAlg.adjoint(u), u)))
        assert_close(mm(vt, LinAlg.adjoint(vt)), eye_like(mm(vt, LinAlg.adjoint(vt))))
      end
    end

    test "eigh reconstructs A = V . diag(W) . V^H", %{batch: a} do
      sym = Nx.divide(Nx.add(a, LinAlg.adjoint(a)), 2)
      {w, v} = LinAlg.eigh(sym)
      assert_close(mm(Nx.multiply(v, Nx.new_axis(w, -2)), LinAlg.adjoint(v)), sym)
      assert Nx.to_flat_list(w) |> Enum.chunk_every(4) |> Enum.all?(&(&1 == Enum.sort(&1)))
    end

    test "A . solve(A, B) = B and inv(A) . A = I", %{batch: a} do
      b = Nx.slice(a, [0, 0, 0], [3, 4, 2])
      assert_close(mm(a, LinAlg.solve(a, b)), b)
      assert_close(mm(LinAlg.invert(a), a), eye_like(a))
    end

    test "P . L . U = A", %{batch: a} do
      {p, l, u} = LinAlg.lu(a)
      assert_close(mm(mm(p, l), u), a)
      assert_close(l, Nx.tril(l))
      assert_close(u, Nx.triu(u))
    end

    test "the determinant of a triangular matrix is the product of its diagonal", %{batch: a} do
      t = Nx.triu(a)
      diagonal = Nx.sum(Nx.multiply(t, eye_like(t)), axes: [-1])
      assert_close(LinAlg.determinant(t), Nx.product(diagonal, axes: [-1]))
    end

    test "pinv satisfies the Penrose conditions", %{batch: a} do
      t = Nx.slice(a, [0, 0, 0], [1, 4, 3]) |> Nx.reshape({4, 3})
      t = Nx.concatenate([t, Nx.slice(t, [0, 0], [4, 1])], axis: 1)
      p = LinAlg.pinv(t)
      assert_close(Nx.dot(Nx.dot(t, p), t), t)
      assert_close(Nx.dot(Nx.dot(p, t), p), p)
      assert_close(LinAlg.adjoint(Nx.dot(t, p)), Nx.dot(t, p))
      assert_close(LinAlg.adjoint(Nx.dot(p, t)), Nx.dot(p, t))
    end

    test "matrix_power with negative powers inverts", %{batch: a} do
      assert_close(LinAlg.matrix_power(a, -3), LinAlg.invert(mm(mm(a, a), a)), 1.0e-5)
      assert_close(LinAlg.matrix_power(a, 5), mm(mm(mm(mm(a, a), a), a), a))
    end

    test "batched results equal a loop over the batch", %{batch: a} do
      sym = Nx.add(mm(a, LinAlg.adjoint(a)), eye_like(a))

      for fun <- [
            &LinAlg.determinant/1,
            &LinAlg.invert/1,
            &LinAlg.cholesky/1,
            &(&1 |> LinAlg.svd() |> elem(1)),
            &(&1 |> LinAlg.eigh() |> elem(0)),
            &(&1 |> LinAlg.qr() |> elem(1)),
            &(&1 |> LinAlg.lu() |> elem(2)),
            &LinAlg.pinv/1,
            &LinAlg.solve(&1, Nx.broadcast(Nx.iota({4, 4}, type: :f64), Nx.shape(&1)))
          ] do
        batched = fun.(sym)
        looped = Nx.stack(for i <- 0..2, do: fun.(sym[i]))
        assert_close(batched, looped)
      end
    end
  end

  describe "singular and degenerate inputs" do
    test "invert gives NaN only for the singular matrices of a batch" do
      result = LinAlg.invert(Nx.tensor([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 2.0]]]))
      assert Nx.to_flat_list(result[0]) |> Enum.all?(&(&1 == :nan))
      assert Nx.to_flat_list(result[1]) == [0.5, 0.0, 0.0, 0.5]
    end

    test "cholesky of a matrix that is not positive-definite is NaN" do
      assert LinAlg.cholesky(Nx.tensor([[0.0, 0.0], [0.0, 0.0]]))
             |> Nx.to_flat_list()
             |> Enum.all?(&(&1 == :nan))
    end

    test "solve and triangular_solve raise for singular systems" do
      assert_raise ArgumentError, "can't solve for singular matrix", fn ->
        LinAlg.solve(Nx.tensor([[1.0, 1.0], [1.0, 1.0]]), Nx.tensor([1.0, 2.0]))
      end

      assert_raise ArgumentError, "can't solve for singular matrix", fn ->
        LinAlg.triangular_solve(Nx.tensor([[1.0, 0.0], [1.0, 0.0]]), Nx.tensor([[1.0], [2.0]]))
      end
    end

    test "determinant, matrix_rank and pinv of zero matrices" do
      zero = Nx.broadcast(0.0, {3, 3})
      assert Nx.to_number(LinAlg.determinant(zero)) == 0.0
      assert Nx.to_number(LinAlg.matrix_rank(zero)) == 0
      assert Nx.to_flat_list(LinAlg.pinv(zero)) == List.duplicate(0.0, 9)
      assert Nx.to_number(LinAlg.pinv(0)) == 0.0
      assert Nx.to_flat_list(LinAlg.pinv(Nx.tensor([0, 0]))) == [0.0, 0.0]
    end

    test "singular values of a rank-deficient matrix" do
      {_u, s, _vt} = LinAlg.svd(Nx.tensor([[1.0, 2.0], [2.0, 4.0]]))
      [big, small] = Nx.to_flat_list(s)
      assert_in_delta big, 5.0, 1.0e-5
      assert_in_delta small, 0.0, 1.0e-5
    end
  end

  describe "types" do
    test "integers become f32; f16, bf16 and f64 are kept" do
      a = Nx.tensor([[4, 2], [2, 3]])

      for {type, expected} <- [
            {:s32, {:f, 32}},
            {:u8, {:f, 32}},
            {:f16, {:f, 16}},
            {:bf16, {:bf, 16}},
            {:f64, {:f, 64}}
          ] do
        t = Nx.as_type(a, type)
        assert Nx.type(LinAlg.cholesky(t)) == expected
        assert Nx.type(LinAlg.determinant(t)) == expected
        assert Nx.type(LinAlg.invert(t)) == expected
        assert Nx.type(elem(LinAlg.qr(t), 0)) == expected
        assert Nx.type(elem(LinAlg.svd(t), 1)) == expected
        assert Nx.type(elem(LinAlg.eigh(t), 0)) == expected
        assert Nx.type(LinAlg.solve(t, Nx.tensor([1, 2]))) == expected
        assert_close(LinAlg.determinant(t), Nx.tensor(8.0), 1.0e-2)
      end
    end

    test "lu keeps the input type for p" do
      {p, l, _u} = LinAlg.lu(Nx.tensor([[1, 2], [3, 4]], type: :s64))
      assert Nx.type(p) == {:s, 64}
      assert Nx.type(l) == {:f, 32}
    end

    test "complex matrices" do
      a =
        Nx.tensor([
          [Complex.new(2, 0), Complex.new(0, 1)],
          [Complex.new(0, -1), Complex.new(3, 0)]
        ])

      l = LinAlg.cholesky(a)
      assert Nx.type(l) == {:c, 64}
      assert_close(mm(l, LinAlg.adjoint(l)), a)
      {q, r} = LinAlg.qr(a)
      assert_close(mm(q, r), a)
      assert_close(mm(a, LinAlg.invert(a)), eye_like(a))
      {w, v} = LinAlg.eigh(a)
      assert Nx.type(w) == {:c, 64}
      assert_close(mm(Nx.multiply(v, Nx.new_axis(w, -2)), LinAlg.adjoint(v)), a)
    end

    test "matrix_rank is u32 and least_squares merges types" do
      assert Nx.type(LinAlg.matrix_rank(Nx.eye(3))) == {:u, 32}
      x = LinAlg.least_squares(Nx.tensor([[1, 0], [0, 1]]), Nx.tensor([1.0, 2.0], type: :f64))
      assert Nx.type(x) == {:f, 64}
    end
  end

  describe "default implementations" do
    alias Nx.LinAlg.Defaults

    test "agree with LibTorch" do
      a = Nx.tensor([[4.0, 1.0, 2.0], [1.0, 5.0, 3.0], [2.0, 3.0, 6.0]], type: :f64)
      batch = Nx.stack([a, Nx.multiply(a, 2)])
      b = Nx.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], type: :f64)

      assert_close(Defaults.cholesky(batch), LinAlg.cholesky(batch))
      assert_close(Defaults.determinant(batch), LinAlg.determinant(batch))
      assert_close(Defaults.invert(batch), LinAlg.invert(batch))
      assert_close(Defaults.solve(batch, b), LinAlg.solve(batch, b))

      p = Nx.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]], type: :f64)
      assert_close(Defaults.determinant(p), LinAlg.determinant(p))

      for t <- [a, Nx.slice(a, [0, 0], [3, 2]), Nx.slice(a, [0, 0], [2, 3])],
          mode <- [:reduced, :complete] do
        {q, r} = Defaults.qr(t, mode: mode)
        assert_close(mm(q, r), t)
        assert_close(mm(LinAlg.adjoint(q), q), eye_like(mm(LinAlg.adjoint(q), q)))
        assert_close(Nx.abs(r), Nx.abs(elem(LinAlg.qr(t, mode: mode), 1)))
      end
    end

    test "run inside defn through the evaluator" do
      a = Nx.tensor([[4.0, 2.0], [2.0, 3.0]])

      fun =
        Nx.Defn.jit(&{LinAlg.cholesky(&1), LinAlg.determinant(&1), LinAlg.qr(&1)},
          compiler: Nx.Defn.Evaluator
        )

      {l, det, {q, r}} = fun.(a)
      assert_close(l, LinAlg.cholesky(a))
      assert_close(det, LinAlg.determinant(a))
      assert_close(mm(q, r), a)
    end

    test "eigh and svd have none" do
      assert_raise ArgumentError, ~r/has no default implementation/, fn ->
        Defaults.svd(Nx.eye(2), [])
      end
    end
  end
end
