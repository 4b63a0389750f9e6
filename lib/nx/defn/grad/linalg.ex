defmodule Nx.Defn.Grad.LinAlg do
  # Gradient rules of the linear algebra operations.
  #
  # triangular_solve and lu are backend callbacks and have ordinary rules
  # (`grad/4`, same contract as `Nx.Defn.Grad.Elementwise.grad/4`). The
  # others are blocks (`Nx.Block`): their rules are found by the block's
  # name (`block_inputs/2`, `block_grad/4`), so the forward pass keeps the
  # backend's own implementation and the default implementation recorded
  # in the block is never differentiated (eigh and svd have none).
  #
  # Notation: for A (or a batch of them) the gradient Ā has A's shape;
  # A^H is the adjoint (the conjugate transpose, the transpose for real
  # matrices); complex gradients are written dL/dRe + i dL/dIm. Matrices
  # are batched over their leading axes.
  #
  #   * solve, X = A^-1 B:      B̄ = A^-H X̄, Ā = -B̄ X^H
  #   * invert, Y = A^-1:       Ā = -Y^H Ȳ Y^H
  #   * determinant, d:         Ā = d̄ conj(d) A^-H (NaN for singular A)
  #   * triangular_solve:       as solve with op(A) and triangular solves,
  #                             Ā restricted to the triangle that is read
  #   * cholesky, A = L L^H:    Ā = L^-H Φ(L^H tril(L̄)) L^-1, Φ keeping the
  #                             lower triangle with the diagonal halved
  #   * lu, A = P L U:          Ā = P L^-H (tril(L^H L̄, -1) + triu(Ū U^H)) U^-H
  #   * qr, A = Q R (m >= n):   Ā = (Q̄ + Q copy(M)) R^-H, M = R̄ R^H - Q^H Q̄ (see
  #                             qr_grad; wide matrices split into a square part)
  #   * eigh, A = V diag(w) V^H: Ā = V (diag(w̄) + F ∘ (V^H V̄)) V^H,
  #                             F[i, j] = 1 / (w[j] - w[i]) off the diagonal
  #   * svd, A = U S V^H:       see svd_grad
  #
  # cholesky and eigh assume Hermitian inputs (they read one triangle). As
  # Nx, their gradients are the formulas above for a perturbation of the
  # whole matrix: only their Hermitian part is meaningful, and it is the
  # gradient of the function of a Hermitian matrix (compose with
  # (A + A^H) / 2 to differentiate through a symmetric parametrization).
  # eigh and svd are differentiable where the eigenvalues (singular
  # values) are distinct; ties give a zero coupling term instead of
  # infinities. The gradients of the columns of U (rows of V^H) beyond
  # min(m, n) with full_matrices? are ignored, as they are not determined
  # by the input.
  @moduledoc false

  alias Nx.Defn.{Expr, Grad}

  @blocks [:cholesky, :qr, :solve, :invert, :determinant, :eigh, :svd]

  @doc false
  # The tensors a block with a rule passes its gradient to, or nil for
  # blocks differentiated through their default implementation.
  def block_inputs({name, _template}, args) when name in @blocks,
    do: Enum.filter(args, &match?(%Nx.Tensor{data: %Expr{}}, &1))

  def block_inputs(_tag, _args), do: nil

  @doc false
  # Pairs {input, gradient} for a block with a rule (`node` is the block's
  # node: its result, or the tuple node of a result with several
  # tensors; `g` is a tensor or a list with a gradient or nil per
  # element), or nil.
  def block_grad({name, template}, args, node, g) when name in @blocks do
    args = Enum.map(args, fn t -> if is_struct(t, Nx.Tensor), do: Grad.unname(t), else: t end)

    out =
      case template do
        %Nx.Tensor{} -> Grad.unname(node)
        tuple -> node |> Grad.unname() |> Expr.tuple(Tuple.to_list(tuple)) |> unname_tuple()
      end

    if is_list(g) and Enum.all?(g, &is_nil/1), do: [], else: block(name, args, out, g)
  end

  def block_grad(_tag, _args, _node, _g), do: nil

  defp unname_tuple(tuple),
    do: tuple |> Tuple.to_list() |> Enum.map(&Grad.unname/1) |> List.to_tuple()

  ## Backend callbacks

  @doc false
  def grad(op, args, ans, g)

  # op(A) X = B (left side) or X op(A) = B, op(A) being A or A^T:
  # B̄ = op(A)^-H X̄ (or X̄ op(A)^-H) is a triangular solve with conj(A) and
  # the other transform; op(A)̄ = -B̄ X^H (or -X^H B̄).
  def grad(:triangular_solve, [a, b, opts], x, g) do
    lower = opts[:lower]
    left = opts[:left_side]
    transform = opts[:transform_a]
    vector? = Nx.rank(b) == Nx.rank(a) - 1
    as_matrix = fn t -> if vector?, do: Nx.new_axis(t, if(left, do: -1, else: -2)), else: t end
    {xm, gm} = {as_matrix.(x), as_matrix.(g)}
    flipped = if transform == :transpose, do: :none, else: :transpose

    gb =
      Nx.LinAlg.triangular_solve(conj(a), gm, lower: lower, left_side: left, transform_a: flipped)

    g_op =
      if left,
        do: Nx.negate(matmul(gb, adjoint(xm))),
        else: Nx.negate(matmul(adjoint(xm), gb))

    ga = if transform == :transpose, do: transpose(g_op), else: g_op
    ga = if lower, do: Nx.tril(ga), else: Nx.triu(ga)
    gb = if vector?, do: Nx.reshape(gb, b.shape), else: gb
    [{a, ga}, {b, gb}]
  end

  # dA = P (dL U + L dU), so L^-1 P^T dA U^-1 = L^-1 dL + dU U^-1 splits into
  # a strictly lower part (dL, L being unit lower triangular) and an upper
  # part (dU). P is piecewise constant and gets no gradient.
  def grad(:lu, [templates, a, _opts], ans, [_gp, gl, gu]) do
    if gl == nil and gu == nil do
      []
    else
      {p, l, u} = Expr.tuple(ans, Tuple.to_list(templates))
      gl = gl || Grad.zeros(l)
      gu = gu || Grad.zeros(u)
      inner = Nx.add(Nx.tril(matmul(adjoint(l), gl), k: -1), Nx.triu(matmul(gu, adjoint(u))))
      y = Nx.LinAlg.triangular_solve(conj(l), inner, lower: true, transform_a: :transpose)

      z =
        Nx.LinAlg.triangular_solve(conj(u), y,
          lower: false,
          left_side: false,
          transform_a: :transpose
        )

      p = Nx.as_type(p, Nx.Type.to_floating(p.type))
      [{a, matmul(p, z)}]
    end
  end

  def grad(_op, _args, _ans, _g), do: nil

  ## Blocks

  defp block(:solve, [a, b], x, g) do
    vector? = Nx.rank(b) == Nx.rank(a) - 1
    {xm, gm} = if vector?, do: {Nx.new_axis(x, -1), Nx.new_axis(g, -1)}, else: {x, g}
    gb = Nx.LinAlg.solve(adjoint(a), gm)
    ga = Nx.negate(matmul(gb, adjoint(xm)))
    gb = if vector?, do: Nx.reshape(gb, b.shape), else: gb
    [{a, ga}, {b, gb}]
  end

  defp block(:invert, [a], y, g) do
    y_h = adjoint(y)
    [{a, Nx.negate(matmul(matmul(y_h, g), y_h))}]
  end

  defp block(:determinant, [a], d, g) do
    scale = g |> Nx.multiply(conj(d)) |> Nx.new_axis(-1) |> Nx.new_axis(-1)
    [{a, Nx.multiply(scale, adjoint(Nx.LinAlg.invert(a)))}]
  end

  # dA = dL L^H + L dL^H gives L^-1 dA L^-H = S + S^H with S = L^-1 dL lower
  # triangular, so S = Φ(L^-1 dA L^-H) and <L̄, dL> = <L^-H Φ(L^H L̄) L^-1, dA>.
  # Only the lower triangle of L̄ counts (the upper one of L is zero).
  defp block(:cholesky, [a], l, gl) do
    n = last_dim(l)
    product = matmul(adjoint(l), Nx.tril(gl))
    phi = Nx.subtract(Nx.tril(product), Nx.multiply(product, Nx.multiply(eye(n), 0.5)))
    left = Nx.LinAlg.triangular_solve(conj(l), phi, lower: true, transform_a: :transpose)
    [{a, Nx.LinAlg.triangular_solve(l, left, lower: true, left_side: false)}]
  end

  defp block(:qr, [a, opts], {q, r}, [gq, gr]) do
    {m, n} = matrix_dims(a)

    if opts[:mode] == :complete and m > n do
      raise ArgumentError,
            "cannot compute the gradient of Nx.LinAlg.qr/2 with mode: :complete for a matrix " <>
              "with more rows than columns (#{m} > #{n}): the last #{m - n} columns of q are " <>
              "not determined by the input; use mode: :reduced"
    end

    gq = gq || Grad.zeros(q)
    gr = gr || Grad.zeros(r)

    if m >= n do
      [{a, qr_grad(q, r, gq, gr)}]
    else
      # A = [X | Y] with X square: X = Q U is a square QR, Y = Q V. V
      # depends on Q, which adds Y V̄^H to Q̄.
      {u, _v} = split_columns(r, m)
      {gu, gv} = split_columns(gr, m)
      {_x, y} = split_columns(a, m)
      gq = Nx.add(gq, matmul(y, adjoint(gv)))
      gx = qr_grad(q, u, gq, gu)
      [{a, Nx.concatenate([gx, matmul(q, gv)], axis: -1)}]
    end
  end

  defp block(:eigh, [a, _opts], {w, v}, [gw, gv]) do
    diagonal = if gw, do: gw, else: Grad.zeros(w)

    inner =
      if gv do
        # F[i, j] = 1 / (w[j] - w[i]), zero on the diagonal and for ties
        diff = Nx.subtract(Nx.new_axis(w, -2), Nx.new_axis(w, -1))
        f = safe_reciprocal(diff)
        coupling = Nx.multiply(f, matmul(adjoint(v), gv))
        Nx.add(coupling, Nx.multiply(eye(last_dim(w)), Nx.new_axis(diagonal, -1)))
      else
        Nx.multiply(eye(last_dim(w)), Nx.new_axis(diagonal, -1))
      end

    [{a, matmul(matmul(v, inner), adjoint(v))}]
  end

  defp block(:svd, [a, _opts], {u, s, vt}, [gu, gs, gvt]) do
    {m, n} = matrix_dims(a)
    k = min(m, n)
    u = keep_columns(u, k)
    vt = keep_rows(vt, k)
    gu = gu && keep_columns(gu, k)
    gvt = gvt && keep_rows(gvt, k)
    [{a, svd_grad({u, s, vt}, {gu, gs, gvt}, m, n, k)}]
  end

  ## qr

  # A = Q R, Q^H Q = I, R upper triangular and square (m >= n):
  # Q^H dA R^-1 = C + dR R^-1 with C = Q^H dQ anti-Hermitian and dR R^-1
  # upper triangular, so C is determined by the strictly lower part of
  # X = Q^H dA R^-1, and dQ = (I - Q Q^H) dA R^-1 + Q C. Collecting the
  # terms of <Q̄, dQ> + <R̄, dR> gives
  #
  #     Ā = (Q̄ + Q copy(M)) R^-H,   M = R̄ R^H - Q^H Q̄
  #
  # where copy(M) is the Hermitian matrix with the upper triangle of M.
  defp qr_grad(q, r, gq, gr) do
    mm = Nx.subtract(matmul(gr, adjoint(r)), matmul(adjoint(q), gq))
    copied = Nx.add(Nx.triu(mm), adjoint(Nx.triu(mm, k: 1)))
    b = Nx.add(gq, matmul(q, copied))

    Nx.LinAlg.triangular_solve(conj(r), b, lower: false, left_side: false, transform_a: :transpose)
  end

  ## svd

  # A = U S V^T (real), k = min(m, n), U {m, k}, V {n, k}, singular values
  # distinct and nonzero:
  #
  #     Ā = U (diag(S̄) + J S + S K) V^T
  #         + (I - U U^T) Ū S^-1 V^T + U S^-1 V̄^T (I - V V^T)
  #
  # with J = F ∘ (U^T Ū - Ū^T U), K = F ∘ (V^T V̄ - V̄^T V) and
  # F[i, j] = 1 / (s[j]^2 - s[i]^2) off the diagonal. The projections vanish
  # for the square side(s) and are skipped there.
  defp svd_grad({u, s, vt}, {gu, gs, gvt}, m, n, k) do
    f =
      if gu || gvt do
        squares = Nx.multiply(s, s)
        safe_reciprocal(Nx.subtract(Nx.new_axis(squares, -2), Nx.new_axis(squares, -1)))
      end

    row_s = Nx.new_axis(s, -2)
    col_s = Nx.new_axis(s, -1)
    diagonal = if gs, do: Nx.multiply(eye(k), Nx.new_axis(gs, -1)), else: Grad.zeros(f || eye(k))

    inner =
      if gu do
        utgu = matmul(adjoint(u), gu)
        j = Nx.multiply(f, Nx.subtract(utgu, adjoint(utgu)))
        Nx.add(diagonal, Nx.multiply(j, row_s))
      else
        diagonal
      end

    inner =
      if gvt do
        # V^T V̄ = vt gvt^T
        vtgv = matmul(vt, adjoint(gvt))
        kk = Nx.multiply(f, Nx.subtract(vtgv, adjoint(vtgv)))
        Nx.add(inner, Nx.multiply(col_s, kk))
      else
        inner
      end

    ga = matmul(matmul(u, inner), vt)

    ga =
      if gu && m > k do
        projected = Nx.subtract(gu, matmul(u, matmul(adjoint(u), gu)))
        Nx.add(ga, matmul(Nx.divide(projected, row_s), vt))
      else
        ga
      end

    if gvt && n > k do
      projected = Nx.subtract(gvt, matmul(matmul(gvt, adjoint(vt)), vt))
      Nx.add(ga, matmul(u, Nx.divide(projected, col_s)))
    else
      ga
    end
  end

  ## Helpers

  defp conj(%{type: {:c, _}} = t), do: Nx.conjugate(t)
  defp conj(t), do: t

  defp adjoint(t), do: Nx.LinAlg.adjoint(t)

  defp transpose(t) do
    rank = Nx.rank(t)
    Nx.transpose(t, axes: Enum.to_list(0..(rank - 3)//1) ++ [rank - 1, rank - 2])
  end

  # Matrix product over the last two axes, batched over the others.
  defp matmul(a, b) do
    rank = Nx.rank(a)
    batch = Enum.to_list(0..(rank - 3)//1)
    Nx.dot(a, [rank - 1], batch, b, [rank - 2], batch)
  end

  defp last_dim(t), do: elem(t.shape, Nx.rank(t) - 1)

  defp matrix_dims(t) do
    rank = Nx.rank(t)
    {elem(t.shape, rank - 2), elem(t.shape, rank - 1)}
  end

  defp eye(n) do
    rows = Nx.iota({n, n}, axis: 0, backend: Expr)
    cols = Nx.iota({n, n}, axis: 1, backend: Expr)
    Nx.equal(rows, cols)
  end

  # 1 / x off the diagonal where x is not zero, zero elsewhere.
  defp safe_reciprocal(x) do
    n = last_dim(x)
    zero? = Nx.logical_or(Nx.equal(x, 0), eye(n))
    Grad.select(zero?, 0, Nx.divide(1, Grad.select(zero?, 1, x)))
  end

  defp split_columns(t, size) do
    columns = last_dim(t)

    {Nx.slice_along_axis(t, 0, size, axis: -1),
     Nx.slice_along_axis(t, size, columns - size, axis: -1)}
  end

  defp keep_columns(t, k) do
    if last_dim(t) == k, do: t, else: Nx.slice_along_axis(t, 0, k, axis: -1)
  end

  defp keep_rows(t, k) do
    rank = Nx.rank(t)
    if elem(t.shape, rank - 2) == k, do: t, else: Nx.slice_along_axis(t, 0, k, axis: -2)
  end
end
