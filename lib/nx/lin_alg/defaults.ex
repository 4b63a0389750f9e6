defmodule Nx.LinAlg.Defaults do
  # The default implementations of Nx.LinAlg's composite operations, for backends without
  # their own (see Nx.Block): written with other Nx functions only, so that they also trace
  # inside defn. Loops run over the (static) matrix size and unroll, which suits small
  # matrices. eigh/2 and svd/2 have no default implementation.
  @moduledoc false

  alias Nx.Tensor, as: T

  # Batched matrix product over the last two axes (`b` may be a batch of vectors).
  defp matmul(%T{shape: sa} = a, %T{shape: sb} = b) do
    rank = tuple_size(sa)
    batch = Enum.to_list(0..(rank - 3)//1)
    b_axis = if tuple_size(sb) == rank, do: rank - 2, else: rank - 2
    Nx.dot(a, [rank - 1], batch, b, [b_axis], batch)
  end

  defp dims(%T{shape: shape}) do
    rank = tuple_size(shape)
    {elem(shape, rank - 2), elem(shape, rank - 1)}
  end

  defp floating(%T{type: type} = t), do: Nx.as_type(t, Nx.Type.to_floating(type))

  # Nx.select takes its shape from the predicate: broadcast it to the values' shape first.
  defp where(pred, %T{shape: shape} = on_true, on_false),
    do: Nx.select(Nx.broadcast(pred, shape), on_true, on_false)

  defp conj(%T{type: {:c, _}} = t), do: Nx.conjugate(t)
  defp conj(t), do: t

  # Element j of the last axis, with that axis removed.
  defp at(t, j, axis), do: t |> Nx.slice_along_axis(j, 1, axis: axis) |> Nx.squeeze(axes: [axis])

  @doc false
  def cholesky(a) do
    a = floating(a)
    {n, _} = dims(a)
    positions = Nx.iota({n})

    columns =
      Enum.reduce(0..(n - 1)//1, [], fn j, columns ->
        a_col = at(a, j, -1)

        {sub, dot} =
          case columns do
            [] ->
              {Nx.multiply(at(a_col, 0, -1), 0), Nx.multiply(a_col, 0)}

            _ ->
              l = Nx.stack(Enum.reverse(columns), axis: -1)
              row = at(l, j, -2)

              {Nx.sum(Nx.multiply(row, conj(row)), axes: [-1]),
               Nx.sum(Nx.multiply(l, Nx.new_axis(conj(row), -2)), axes: [-1])}
          end

        d = Nx.sqrt(Nx.subtract(at(a_col, j, -1), sub))
        below = Nx.divide(Nx.subtract(a_col, dot), Nx.new_axis(d, -1))
        zero = Nx.multiply(below, 0)

        column =
          where(
            Nx.greater(positions, j),
            below,
            where(Nx.equal(positions, j), Nx.add(zero, Nx.new_axis(d, -1)), zero)
          )

        [column | columns]
      end)

    Nx.stack(Enum.reverse(columns), axis: -1)
  end

  @doc false
  def qr(a, opts) do
    a = floating(a)
    %T{shape: shape, type: type} = a
    {m, n} = dims(a)
    k = min(m, n)
    rank = tuple_size(shape)
    batch = shape |> Tuple.to_list() |> Enum.take(rank - 2)
    eye = Nx.eye(List.to_tuple(batch ++ [m, m]), type: type)
    positions = Nx.iota({m})

    {q, r} =
      Enum.reduce(0..(k - 1)//1, {eye, a}, fn j, {q, r} ->
        if m - j <= 1 and not match?({:c, _}, type) do
          {q, r}
        else
          column = at(r, j, -1)
          x = where(Nx.greater_equal(positions, j), column, Nx.multiply(column, 0))
          alpha = at(x, j, -1)
          norm_x = Nx.sqrt(Nx.sum(Nx.abs(Nx.multiply(x, conj(x))), axes: [-1]))
          abs_alpha = Nx.abs(alpha)

          phase =
            Nx.select(
              Nx.equal(abs_alpha, 0),
              1,
              Nx.divide(alpha, Nx.select(Nx.equal(abs_alpha, 0), 1, abs_alpha))
            )

          e_j = Nx.equal(positions, j)

          v =
            Nx.add(
              x,
              where(
                e_j,
                Nx.add(Nx.multiply(x, 0), Nx.new_axis(Nx.multiply(phase, norm_x), -1)),
                Nx.multiply(x, 0)
              )
            )

          norm_v = Nx.sqrt(Nx.sum(Nx.abs(Nx.multiply(v, conj(v))), axes: [-1]))
          v = Nx.divide(v, Nx.new_axis(Nx.select(Nx.equal(norm_v, 0), 1, norm_v), -1))

          reflector =
            Nx.subtract(
              Nx.eye(List.to_tuple(batch ++ [m, m]), type: type),
              Nx.multiply(2, Nx.multiply(Nx.new_axis(v, -1), Nx.new_axis(conj(v), -2)))
            )

          {matmul(q, reflector), matmul(reflector, r)}
        end
      end)

    r = Nx.triu(r)

    if opts[:mode] == :complete do
      {q, r}
    else
      {Nx.slice_along_axis(q, 0, k, axis: -1), Nx.slice_along_axis(r, 0, k, axis: -2)}
    end
  end

  @doc false
  def solve(a, b) do
    {p, l, u} = Nx.LinAlg.lu(a)
    p = floating(p)
    pt_b = matmul(Nx.LinAlg.adjoint(p), b)
    y = Nx.LinAlg.triangular_solve(l, pt_b, lower: true)
    Nx.LinAlg.triangular_solve(u, y, lower: false)
  end

  @doc false
  def determinant(%T{shape: shape} = a) do
    {n, _} = dims(a)
    {p, _l, u} = Nx.LinAlg.lu(a)
    diagonal = Nx.sum(Nx.multiply(u, Nx.eye(shape, type: u.type)), axes: [-1])
    product = Nx.product(diagonal, axes: [-1])

    # the sign of the permutation: (-1) to the number of its inversions
    sigma = Nx.argmax(p, axis: -1)
    upper = Nx.less(Nx.iota({n, n}, axis: 0), Nx.iota({n, n}, axis: 1))
    inversions = Nx.greater(Nx.new_axis(sigma, -1), Nx.new_axis(sigma, -2))
    count = Nx.sum(Nx.logical_and(inversions, upper), axes: [-2, -1]) |> Nx.as_type({:s, 32})
    sign = Nx.subtract(1, Nx.multiply(2, Nx.remainder(count, 2)))
    Nx.multiply(product, sign)
  end

  @doc false
  def invert(%T{shape: shape, type: type} = a) do
    solve(a, Nx.eye(shape, type: Nx.Type.to_floating(type)))
  end

  @doc false
  def eigh(%T{data: %backend{}}, _opts), do: no_default!(:eigh, backend)

  @doc false
  def svd(%T{data: %backend{}}, _opts), do: no_default!(:svd, backend)

  defp no_default!(name, backend) do
    raise ArgumentError,
          "Nx.LinAlg.#{name}/2 has no default implementation and #{inspect(backend)} " <>
            "does not implement it; run it on Nx.Torch.Backend"
  end

  @doc false
  def pinv(t, opts) do
    {u, s, vt} = Nx.LinAlg.svd(t, full_matrices?: false)
    small = Nx.less(Nx.abs(s), opts[:eps])
    s_inv = Nx.select(small, 0, Nx.divide(1, Nx.select(small, 1, s)))
    matmul(Nx.LinAlg.adjoint(vt), Nx.multiply(Nx.new_axis(s_inv, -1), Nx.LinAlg.adjoint(u)))
  end

  @doc false
  def matrix_rank(%T{shape: {m, n}} = t, opts) do
    {_u, s, _vt} = Nx.LinAlg.svd(t)
    tolerance = Nx.multiply(opts[:eps] * max(m, n), Nx.reduce_max(s))
    Nx.sum(Nx.greater(s, tolerance))
  end

  @doc false
  def least_squares(a, b, opts) do
    a |> Nx.LinAlg.pinv(eps: opts[:eps]) |> Nx.dot(b)
  end
end
