defmodule Nx.LinAlg do
  @moduledoc """
  Linear algebra: factorizations (Cholesky, QR, LU, eigen- and singular
  value decompositions), linear systems, inverses, norms and ranks.

  Matrices live in the last two axes of a tensor; any leading axes are
  batch axes, and every matrix of the batch is processed on its own.
  Integer inputs are converted to floating point (f32); the result types
  follow `Nx.Type.to_floating/1` (so f16, bf16 and f64 are kept, and
  complex types stay complex).

  Composite operations go through the backend's `c:Nx.Backend.block/4`:
  `Nx.Torch.Backend` answers them with LibTorch's `linalg` routines, and
  other backends (such as `Nx.Defn.Expr` inside `defn`) get default
  implementations written with other `Nx` functions where that is
  practical (`eigh/2` and `svd/2`, and what is built on them, have none).

  Singular or non-positive-definite inputs never crash: `cholesky/1` and
  `invert/1` give NaN for such matrices, `determinant/1` gives zero and
  `solve/2` and `triangular_solve/3` raise an `ArgumentError`.
  """

  alias Nx.Tensor, as: T

  defguardp vectorized(t)
            when is_struct(t, T) and :erlang.map_get(:vectorized_axes, t) != []

  alias Nx.LinAlg.Defaults

  @doc """
  The adjoint (conjugate transpose) of a matrix or a batch of matrices:
  the last two axes are swapped and complex elements conjugated.

  ## Examples

      iex> Nx.LinAlg.adjoint(Nx.tensor([[1, 2, 3], [4, 5, 6]]))
      #Nx.Tensor<
        s32[3][2]
        [
          [1, 4],
          [2, 5],
          [3, 6]
        ]
      >

      iex> Nx.LinAlg.adjoint(Nx.tensor([[Complex.new(1, 1), 2], [0, Complex.new(0, -3)]]))
      #Nx.Tensor<
        c64[2][2]
        [
          [1.0-1.0i, 0.0-0.0i],
          [2.0-0.0i, 0.0+3.0i]
        ]
      >
  """
  @spec adjoint(Nx.t()) :: Nx.Tensor.t()
  def adjoint(tensor) do
    %T{shape: shape, type: type} = tensor = Nx.to_tensor(tensor)
    rank = tuple_size(shape)

    transposed =
      if rank > 2 do
        Nx.transpose(tensor, axes: Enum.to_list(0..(rank - 3)) ++ [rank - 1, rank - 2])
      else
        Nx.transpose(tensor)
      end

    if Nx.Type.complex?(type), do: Nx.conjugate(transposed), else: transposed
  end

  @doc """
  The Cholesky factor `L` of Hermitian positive-definite matrices: the
  lower triangular matrix with `L . adjoint(L) = A`.

  Only the lower triangle of the input is read. A matrix that is not
  positive-definite gives a factor full of NaN.

  ## Examples

      iex> Nx.LinAlg.cholesky(Nx.tensor([[4.0, 2.0], [2.0, 5.0]]))
      #Nx.Tensor<
        f32[2][2]
        [
          [2.0, 0.0],
          [1.0, 2.0]
        ]
      >

      iex> Nx.LinAlg.cholesky(Nx.tensor([[[9, 3], [3, 5]], [[1, 0], [0, 16]]]))
      #Nx.Tensor<
        f32[2][2][2]
        [
          [
            [3.0, 0.0],
            [1.0, 2.0]
          ],
          [
            [1.0, 0.0],
            [0.0, 4.0]
          ]
        ]
      >

      iex> Nx.LinAlg.cholesky(Nx.tensor([[1.0, -2.0], [-2.0, 1.0]]))
      #Nx.Tensor<
        f32[2][2]
        [
          [NaN, NaN],
          [NaN, NaN]
        ]
      >

  ## Error cases

      iex> Nx.LinAlg.cholesky(Nx.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
      ** (ArgumentError) tensor must be a square matrix or a batch of square matrices, got shape: {2, 3}
  """
  @spec cholesky(Nx.t()) :: Nx.Tensor.t()
  def cholesky(tensor) when vectorized(tensor), do: batched(tensor, &cholesky/1)

  def cholesky(tensor) do
    %T{type: type, shape: shape, names: names} = tensor = matrix_input(tensor)
    {shape, names} = Nx.Shape.cholesky(shape, names)
    out = %{tensor | type: Nx.Type.to_floating(type), shape: shape, names: names}
    Nx.Block.run(:cholesky, out, [tensor], &Defaults.cholesky/1)
  end

  @doc """
  A norm of a vector or a matrix.

  ## Options

    * `:ord` - which norm (see the table below; `nil` by default)
    * `:axes` - the axes to compute element-wise norms over (all by
      default); for matrices with `:inf`, `:neg_inf`, `1` and `-1` it
      selects the axes of the final reduction
    * `:keep_axes` - keep the reduced axes with size 1 (default `false`)

  | `:ord`       | vectors                      | matrices                          |
  | ------------ | ---------------------------- | --------------------------------- |
  | `nil`        | Euclidean norm               | Frobenius norm                    |
  | `:frobenius` | -                            | Frobenius norm                    |
  | `:nuclear`   | -                            | sum of the singular values        |
  | `:inf`       | largest absolute value       | largest row sum of `abs`          |
  | `:neg_inf`   | smallest absolute value      | smallest row sum of `abs`         |
  | `0`          | number of non-zero elements  | -                                 |
  | `1`, `-1`    | `sum(abs(x) ** p) ** (1/p)`  | largest (smallest) column sum     |
  | `2`          | Euclidean norm               | Frobenius norm (as in Nx)         |
  | `-2`         | `sum(abs(x) ** p) ** (1/p)`  | smallest singular value           |
  | other `p`    | `sum(abs(x) ** p) ** (1/p)`  | -                                 |

  The result is a real floating-point tensor.

  ## Examples

      iex> Nx.LinAlg.norm(Nx.tensor([6, 8]))
      #Nx.Tensor<
        f32
        10.0
      >

      iex> Nx.LinAlg.norm(Nx.tensor([1, -2, 0, 4]), ord: 0)
      #Nx.Tensor<
        f32
        3.0
      >

      iex> Nx.LinAlg.norm(Nx.tensor([1, -5, 3]), ord: :inf)
      #Nx.Tensor<
        f32
        5.0
      >

      iex> Nx.LinAlg.norm(Nx.tensor([[1, -2], [3, 4]]), ord: 1)
      #Nx.Tensor<
        f32
        6.0
      >

      iex> Nx.LinAlg.norm(Nx.tensor([[1, -2], [3, 4]]), ord: :neg_inf)
      #Nx.Tensor<
        f32
        3.0
      >

      iex> Nx.LinAlg.norm(Nx.tensor([[2, 0, 0], [0, -3, 0], [0, 0, 5]]), ord: :nuclear)
      #Nx.Tensor<
        f32
        10.0
      >

      iex> Nx.LinAlg.norm(Nx.tensor([[3, 4], [5, 12]]), axes: [1])
      #Nx.Tensor<
        f32[2]
        [5.0, 13.0]
      >

      iex> Nx.LinAlg.norm(Nx.tensor([[Complex.new(3, 4), 0], [0, 0]]))
      #Nx.Tensor<
        f32
        5.0
      >

  ## Error cases

      iex> Nx.LinAlg.norm(Nx.tensor([1, 2]), ord: :frobenius)
      ** (ArgumentError) expected a 2-D tensor for ord: :frobenius, got a 1-D tensor

      iex> Nx.LinAlg.norm(Nx.tensor([[1, 2], [3, 4]]), ord: 3)
      ** (ArgumentError) invalid :ord for 2-D tensor, got: 3

      iex> Nx.LinAlg.norm(Nx.iota({2, 2, 2}))
      ** (ArgumentError) expected 1-D or 2-D tensor, got tensor with shape {2, 2, 2}
  """
  @spec norm(Nx.t(), keyword) :: Nx.Tensor.t()
  def norm(tensor, opts \\ [])

  def norm(tensor, opts) when vectorized(tensor),
    do: Nx.Vectorize.map_entries([tensor], fn [t] -> norm(t, opts) end)

  def norm(tensor, opts) do
    opts = Keyword.validate!(opts, [:ord, :axes, :keep_axes])
    %T{shape: shape} = t = matrix_input(tensor, 1)
    rank = tuple_size(shape)

    unless rank in [1, 2] do
      raise ArgumentError, "expected 1-D or 2-D tensor, got tensor with shape #{inspect(shape)}"
    end

    axes_opts = Keyword.take(opts, [:axes, :keep_axes]) |> Enum.reject(&(elem(&1, 1) == nil))

    case opts[:ord] do
      nil ->
        p_norm(t, 2, axes_opts)

      :frobenius when rank == 1 ->
        raise ArgumentError, "expected a 2-D tensor for ord: :frobenius, got a 1-D tensor"

      :frobenius ->
        p_norm(t, 2, axes_opts)

      :nuclear when rank == 2 ->
        {_u, s, _vt} = svd(t, full_matrices?: false)
        Nx.sum(s)

      :nuclear ->
        raise ArgumentError, "nuclear norm not supported for rank != 2"

      ord when ord in [:inf, :neg_inf] ->
        inf_norm(t, ord, axes_opts)

      ord when is_integer(ord) ->
        integer_norm(t, ord, axes_opts)

      ord ->
        raise ArgumentError, "unknown ord #{inspect(ord)}"
    end
  end

  defp inf_norm(%T{shape: shape, type: type} = t, ord, opts) do
    abs = Nx.abs(t)
    abs = if tuple_size(shape) == 2, do: Nx.sum(abs, axes: [1]), else: abs
    reduced = if ord == :inf, do: Nx.reduce_max(abs, opts), else: Nx.reduce_min(abs, opts)
    Nx.as_type(reduced, Nx.Type.to_real(type))
  end

  defp integer_norm(%T{shape: {_}, type: type} = t, 0, opts) do
    t |> Nx.not_equal(0) |> Nx.sum(opts) |> Nx.as_type(Nx.Type.to_real(type))
  end

  defp integer_norm(%T{shape: {_, _}, type: type} = t, ord, opts) when ord in [1, -1] do
    sums = t |> Nx.abs() |> Nx.sum(axes: [0])
    reduced = if ord == 1, do: Nx.reduce_max(sums, opts), else: Nx.reduce_min(sums, opts)
    Nx.as_type(reduced, Nx.Type.to_real(type))
  end

  defp integer_norm(%T{shape: {_, _}} = t, -2, opts) do
    {_u, s, _vt} = svd(t, full_matrices?: false)
    Nx.reduce_min(s, opts)
  end

  defp integer_norm(%T{shape: {_, _}}, ord, _opts) when ord != 2 do
    raise ArgumentError, "invalid :ord for 2-D tensor, got: #{inspect(ord)}"
  end

  defp integer_norm(t, ord, opts), do: p_norm(t, ord, opts)

  # (sum |x|^p)^(1/p), scaled by the largest |x| so that large values or large p do not
  # overflow.
  defp p_norm(%T{type: type} = t, ord, opts) do
    abs = Nx.abs(t)
    kept = Keyword.put(opts, :keep_axes, true)
    scale = Nx.reduce_max(abs, kept)
    scale = Nx.select(Nx.greater(scale, 0), scale, 1)
    inv_ord = Nx.tensor(1 / ord, type: Nx.Type.to_real(Nx.Type.to_floating(type)))

    result =
      abs
      |> Nx.divide(scale)
      |> Nx.pow(ord)
      |> Nx.sum(kept)
      |> Nx.pow(inv_ord)
      |> Nx.multiply(scale)

    if opts[:keep_axes] do
      result
    else
      case opts[:axes] do
        nil -> Nx.reshape(result, {})
        axes -> Nx.squeeze(result, axes: axes)
      end
    end
  end

  @doc """
  Solves `op(a) . x = b` (or `x . op(a) = b`) for `x`, where `a` is a
  triangular matrix (or a batch of them) and `op(a)` is `a` or its
  transpose.

  `b` is a vector of length `n` (or a batch of them), or a matrix with
  `n` rows (`n` columns when `left_side: false`), with the same batch axes
  as `a`. Only the triangle of `a` named by `:lower` is read. A zero on
  the diagonal raises.

  ## Options

    * `:lower` - whether `a` is lower triangular (default `true`)
    * `:left_side` - solve `op(a) . x = b` when `true` (the default),
      `x . op(a) = b` otherwise
    * `:transform_a` - `:none` (the default) or `:transpose`

  ## Examples

      iex> a = Nx.tensor([[2, 0, 0], [1, 1, 0], [0, 2, 4]])
      iex> Nx.LinAlg.triangular_solve(a, Nx.tensor([2, 3, 10]))
      #Nx.Tensor<
        f32[3]
        [1.0, 2.0, 1.5]
      >

      iex> a = Nx.tensor([[1, 1], [0, 2]], type: :f64)
      iex> Nx.LinAlg.triangular_solve(a, Nx.tensor([[3, 1], [4, 2]]), lower: false)
      #Nx.Tensor<
        f64[2][2]
        [
          [1.0, 0.0],
          [2.0, 1.0]
        ]
      >

      iex> a = Nx.tensor([[1, 0], [2, 1]])
      iex> Nx.LinAlg.triangular_solve(a, Nx.tensor([[5, 1]]), left_side: false)
      #Nx.Tensor<
        f32[1][2]
        [
          [3.0, 1.0]
        ]
      >

      iex> a = Nx.tensor([[1, 0], [2, 1]])
      iex> Nx.LinAlg.triangular_solve(a, Nx.tensor([5, 1]), transform_a: :transpose)
      #Nx.Tensor<
        f32[2]
        [3.0, 1.0]
      >

  ## Error cases

      iex> Nx.LinAlg.triangular_solve(Nx.tensor([[1, 0], [1, 0]]), Nx.tensor([1, 2]))
      ** (ArgumentError) can't solve for singular matrix

      iex> Nx.LinAlg.triangular_solve(Nx.tensor([[1, 0], [1, 1]]), Nx.tensor([1, 2, 3]))
      ** (ArgumentError) incompatible dimensions for a and b on triangular solve

      iex> Nx.LinAlg.triangular_solve(Nx.tensor([[1, 0], [1, 1]]), Nx.tensor([1, 2]), transform_a: :other)
      ** (ArgumentError) invalid value for :transform_a option, expected :none, :transpose, or :conjugate, got: :other
  """
  @spec triangular_solve(Nx.t(), Nx.t(), keyword) :: Nx.Tensor.t()
  def triangular_solve(a, b, opts \\ [])

  def triangular_solve(a, b, opts) when vectorized(a) or vectorized(b),
    do: Nx.Vectorize.map_entries([a, b], fn [a, b] -> triangular_solve(a, b, opts) end)

  def triangular_solve(a, b, opts) do
    opts = Keyword.validate!(opts, lower: true, left_side: true, transform_a: :none)

    case opts[:transform_a] do
      t when t in [:none, :transpose] ->
        :ok

      :conjugate ->
        raise ArgumentError, "complex numbers not supported yet"

      t ->
        raise ArgumentError,
              "invalid value for :transform_a option, expected :none, :transpose, or :conjugate, " <>
                "got: #{inspect(t)}"
    end

    %T{shape: a_shape, type: a_type} = a = matrix_input(a, 0)
    %T{shape: b_shape, type: b_type} = b = matrix_input(b, 0)
    :ok = Nx.Shape.triangular_solve(a_shape, b_shape, opts[:left_side])
    out = %{b | type: Nx.Type.to_floating(Nx.Type.merge(a_type, b_type))}
    Nx.Block.backend([a, b]).triangular_solve(out, a, b, opts)
  end

  @doc """
  Solves the linear system `a . x = b` for square matrices `a` (or a batch
  of them).

  `b` is a vector of length `n` or a matrix with `n` rows (with the same
  batch axes as `a`); `x` has the shape of `b`. Singular systems raise.

  ## Examples

      iex> a = Nx.tensor([[2, 1], [1, 3]])
      iex> Nx.LinAlg.solve(a, Nx.tensor([3, 5])) |> Nx.round()
      #Nx.Tensor<
        f32[2]
        [1.0, 1.0]
      >

      iex> a = Nx.tensor([[[2, 0], [0, 4]], [[1, 1], [0, 1]]], type: :f64)
      iex> b = Nx.tensor([[[2, 4], [8, 4]], [[3, 2], [1, 1]]])
      iex> Nx.LinAlg.solve(a, b)
      #Nx.Tensor<
        f64[2][2][2]
        [
          [
            [1.0, 2.0],
            [2.0, 1.0]
          ],
          [
            [2.0, 1.0],
            [1.0, 1.0]
          ]
        ]
      >

  ## Error cases

      iex> Nx.LinAlg.solve(Nx.tensor([[1, 2], [2, 4]]), Nx.tensor([1, 1]))
      ** (ArgumentError) can't solve for singular matrix

      iex> Nx.LinAlg.solve(Nx.tensor([[1, 0], [0, 1]]), Nx.tensor([1, 2, 3]))
      ** (ArgumentError) `b` tensor has incompatible dimensions, expected {2, 2} or {2}, got: {3}
  """
  @spec solve(Nx.t(), Nx.t()) :: Nx.Tensor.t()
  def solve(a, b) when vectorized(a) or vectorized(b) do
    Nx.Vectorize.apply_all([a, b], [broadcast: true], fn [a, b], _ -> solve(a, b) end)
  end

  def solve(a, b) do
    %T{shape: a_shape, type: a_type} = a = matrix_input(a, 0)
    %T{shape: b_shape, type: b_type} = b = matrix_input(b, 0)
    shape = Nx.Shape.solve(a_shape, b_shape)
    type = Nx.Type.to_floating(Nx.Type.merge(a_type, b_type))
    out = %{b | type: type, shape: shape, names: nil_names(shape)}
    Nx.Block.run(:solve, out, [a, b], &Defaults.solve/2)
  end

  @doc """
  The inverse of square matrices (or of a batch of them). Singular
  matrices give NaN; use `pinv/2` for non-square or singular matrices.

  ## Examples

      iex> Nx.LinAlg.invert(Nx.tensor([[2, 0], [1, 1]]))
      #Nx.Tensor<
        f32[2][2]
        [
          [0.5, 0.0],
          [-0.5, 1.0]
        ]
      >

      iex> Nx.LinAlg.invert(Nx.tensor([[[4.0, 0.0], [0.0, 2.0]], [[1.0, 2.0], [2.0, 4.0]]]))
      #Nx.Tensor<
        f32[2][2][2]
        [
          [
            [0.25, 0.0],
            [0.0, 0.5]
          ],
          [
            [NaN, NaN],
            [NaN, NaN]
          ]
        ]
      >

  ## Error cases

      iex> Nx.LinAlg.invert(Nx.tensor([[1, 2, 3], [4, 5, 6]]))
      ** (ArgumentError) invert/1 expects a square matrix or a batch of square matrices, got tensor with shape: {2, 3}
  """
  @spec invert(Nx.t()) :: Nx.Tensor.t()
  def invert(tensor) when vectorized(tensor), do: batched(tensor, &invert/1)

  def invert(tensor) do
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)

    case Tuple.to_list(shape) |> Enum.split(-2) do
      {_, [n, n]} ->
        :ok

      _ ->
        raise ArgumentError,
              "invert/1 expects a square matrix or a batch of square matrices, " <>
                "got tensor with shape: #{inspect(shape)}"
    end

    out = %{tensor | type: Nx.Type.to_floating(type), names: nil_names(shape)}
    Nx.Block.run(:invert, out, [tensor], &Defaults.invert/1)
  end

  @doc """
  The QR decomposition of a matrix `{..., m, n}`: `{q, r}` with `q` having
  orthonormal columns, `r` upper triangular and `q . r = a`.

  ## Options

    * `:mode` - `:reduced` (the default: `q` is `{..., m, k}` and `r`
      `{..., k, n}` with `k = min(m, n)`) or `:complete` (`q` is
      `{..., m, m}` and `r` `{..., m, n}`)
    * `:eps` - accepted for compatibility with Nx's default
      implementation (default `1.0e-10`)

  The signs of the columns of `q` (and rows of `r`) are those of
  Householder reflections as LAPACK computes them.

  ## Examples

      iex> {q, r} = Nx.LinAlg.qr(Nx.tensor([[3.0, 1.0], [4.0, 2.0]]))
      iex> Nx.round(Nx.multiply(q, 5))
      #Nx.Tensor<
        f32[2][2]
        [
          [-3.0, -4.0],
          [-4.0, 3.0]
        ]
      >
      iex> Nx.round(Nx.multiply(r, 5))
      #Nx.Tensor<
        f32[2][2]
        [
          [-25.0, -11.0],
          [0.0, 2.0]
        ]
      >

      iex> {q, r} = Nx.LinAlg.qr(Nx.iota({3, 2}), mode: :complete)
      iex> {Nx.shape(q), Nx.shape(r)}
      {{3, 3}, {3, 2}}

  ## Error cases

      iex> Nx.LinAlg.qr(Nx.tensor([1, 2]))
      ** (ArgumentError) tensor must have at least rank 2, got rank 1 with shape {2}

      iex> Nx.LinAlg.qr(Nx.eye(2), mode: :full)
      ** (ArgumentError) invalid :mode received. Expected one of [:reduced, :complete], received: :full
  """
  @spec qr(Nx.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  def qr(tensor, opts \\ [])

  def qr(tensor, opts) when vectorized(tensor),
    do: batched(tensor, &qr(&1, opts))

  def qr(tensor, opts) do
    opts = Keyword.validate!(opts, mode: :reduced, eps: 1.0e-10)
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)

    unless opts[:mode] in [:reduced, :complete] do
      raise ArgumentError,
            "invalid :mode received. Expected one of [:reduced, :complete], " <>
              "received: #{inspect(opts[:mode])}"
    end

    {q_shape, r_shape} = Nx.Shape.qr(shape, opts)
    type = Nx.Type.to_floating(type)
    q = %{tensor | type: type, shape: q_shape, names: nil_names(q_shape)}
    r = %{tensor | type: type, shape: r_shape, names: nil_names(r_shape)}
    Nx.Block.run(:qr, {q, r}, [tensor, opts], &Defaults.qr/2)
  end

  @doc """
  The Moore-Penrose pseudo-inverse of a number, a vector or a matrix (or a
  batch of matrices `{..., m, n}`, giving `{..., n, m}`).

  Singular values smaller than `:eps` count as zero, so the
  pseudo-inverse of zero is zero.

  ## Options

    * `:eps` - the threshold below which singular values are dropped
      (default `1.0e-10`)

  ## Examples

      iex> Nx.LinAlg.pinv(4)
      #Nx.Tensor<
        f32
        0.25
      >

      iex> Nx.LinAlg.pinv(Nx.tensor([0, 3, 4]))
      #Nx.Tensor<
        f32[3]
        [0.0, 0.12, 0.16]
      >

      iex> Nx.LinAlg.pinv(Nx.tensor([[2, 0], [0, 0], [0, 0]]))
      #Nx.Tensor<
        f32[2][3]
        [
          [0.5, 0.0, 0.0],
          [0.0, 0.0, 0.0]
        ]
      >
  """
  @spec pinv(Nx.t(), keyword) :: Nx.Tensor.t()
  def pinv(tensor, opts \\ [])

  def pinv(tensor, opts) when vectorized(tensor),
    do: batched(tensor, &pinv(&1, opts))

  def pinv(tensor, opts) do
    opts = Keyword.validate!(opts, eps: 1.0e-10)
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)
    type = Nx.Type.to_floating(type)

    case tuple_size(shape) do
      rank when rank < 2 ->
        zero? = Nx.all(Nx.less_equal(Nx.abs(tensor), opts[:eps]))
        t = Nx.as_type(tensor, type)

        value =
          if rank == 0,
            do: Nx.divide(1, t),
            else: Nx.divide(adjoint(t), Nx.pow(norm(t), 2))

        Nx.select(zero?, Nx.broadcast(Nx.tensor(0, type: type), shape), value)

      rank ->
        {batch, [m, n]} = shape |> Tuple.to_list() |> Enum.split(-2)
        out_shape = List.to_tuple(batch ++ [n, m])
        out = %{tensor | type: type, shape: out_shape, names: List.duplicate(nil, rank)}
        Nx.Block.run(:pinv, out, [tensor, opts], &Defaults.pinv/2)
    end
  end

  @doc """
  The eigenvalues and eigenvectors of Hermitian (real symmetric) matrices,
  as `{eigenvalues, eigenvectors}`: `a . v[.., j] = w[j] * v[.., j]` for
  each column `j` of the eigenvectors.

  Eigenvalues come in ascending order. Only the lower triangle of the
  input is read.

  ## Options

    * `:max_iter` and `:eps` - accepted for compatibility with Nx's
      iterative default implementation (defaults `1_000` and `1.0e-4`);
      LibTorch computes the decomposition directly

  ## Examples

      iex> {w, v} = Nx.LinAlg.eigh(Nx.tensor([[2, 0], [0, 1]]))
      iex> w
      #Nx.Tensor<
        f32[2]
        [1.0, 2.0]
      >
      iex> Nx.abs(v)
      #Nx.Tensor<
        f32[2][2]
        [
          [0.0, 1.0],
          [1.0, 0.0]
        ]
      >

      iex> {w, _v} = Nx.LinAlg.eigh(Nx.tensor([[[2.0, 1.0], [1.0, 2.0]], [[5.0, 0.0], [0.0, -1.0]]]))
      iex> Nx.round(w)
      #Nx.Tensor<
        f32[2][2]
        [
          [1.0, 3.0],
          [-1.0, 5.0]
        ]
      >

  ## Error cases

      iex> Nx.LinAlg.eigh(Nx.tensor([[1, 2, 3], [4, 5, 6]]))
      ** (ArgumentError) tensor must be a square matrix or a batch of square matrices, got shape: {2, 3}
  """
  @spec eigh(Nx.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t()}
  def eigh(tensor, opts \\ [])

  def eigh(tensor, opts) when vectorized(tensor),
    do: batched(tensor, &eigh(&1, opts))

  def eigh(tensor, opts) do
    opts = Keyword.validate!(opts, max_iter: 1_000, eps: 1.0e-4)
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)
    {values_shape, vectors_shape} = Nx.Shape.eigh(shape)
    type = Nx.Type.to_floating(type)
    values = %{tensor | type: type, shape: values_shape, names: nil_names(values_shape)}
    vectors = %{tensor | type: type, shape: vectors_shape, names: nil_names(vectors_shape)}
    Nx.Block.run(:eigh, {values, vectors}, [tensor, opts], &Defaults.eigh/2)
  end

  @doc """
  The singular value decomposition of a matrix `{..., m, n}`:
  `{u, s, vt}` with `u . diag(s) . vt = a`, the singular values `s` in
  descending order and `u`, `vt` with orthonormal columns and rows.

  ## Options

    * `:full_matrices?` - when `true` (the default) `u` is `{..., m, m}`
      and `vt` `{..., n, n}`; otherwise they are `{..., m, k}` and
      `{..., k, n}`, with `k = min(m, n)`
    * `:max_iter` - accepted for compatibility (default `100`)

  ## Examples

      iex> {u, s, vt} = Nx.LinAlg.svd(Nx.tensor([[0, 2], [3, 0]]))
      iex> s
      #Nx.Tensor<
        f32[2]
        [3.0, 2.0]
      >
      iex> Nx.abs(u)
      #Nx.Tensor<
        f32[2][2]
        [
          [0.0, 1.0],
          [1.0, 0.0]
        ]
      >
      iex> Nx.abs(vt)
      #Nx.Tensor<
        f32[2][2]
        [
          [1.0, 0.0],
          [0.0, 1.0]
        ]
      >

      iex> {u, s, vt} = Nx.LinAlg.svd(Nx.iota({4, 2}), full_matrices?: false)
      iex> {Nx.shape(u), Nx.shape(s), Nx.shape(vt)}
      {{4, 2}, {2}, {2, 2}}

  ## Error cases

      iex> Nx.LinAlg.svd(Nx.tensor([[Complex.new(1, 1)]]))
      ** (ArgumentError) Nx.LinAlg.svd/2 is not yet implemented for complex inputs
  """
  @spec svd(Nx.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t(), Nx.Tensor.t()}
  def svd(tensor, opts \\ [])

  def svd(tensor, opts) when vectorized(tensor),
    do: batched(tensor, &svd(&1, opts))

  def svd(tensor, opts) do
    opts = Keyword.validate!(opts, max_iter: 100, full_matrices?: true)
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)
    complex_not_supported!(type, "svd")
    {u_shape, s_shape, vt_shape} = Nx.Shape.svd(shape, opts)
    type = Nx.Type.to_floating(type)
    u = %{tensor | type: type, shape: u_shape, names: nil_names(u_shape)}
    s = %{tensor | type: type, shape: s_shape, names: nil_names(s_shape)}
    vt = %{tensor | type: type, shape: vt_shape, names: nil_names(vt_shape)}
    Nx.Block.run(:svd, {u, s, vt}, [tensor, opts], &Defaults.svd/2)
  end

  @doc """
  The LU decomposition with partial pivoting of square matrices (or of a
  batch of them): `{p, l, u}` with `p . l . u = a`, `p` a permutation
  matrix (in the input's type), `l` unit lower triangular and `u` upper
  triangular.

  ## Options

    * `:eps` - accepted for compatibility (default `1.0e-10`)

  ## Examples

      iex> {p, l, u} = Nx.LinAlg.lu(Nx.tensor([[1, 2], [4, 2]]))
      iex> p
      #Nx.Tensor<
        s32[2][2]
        [
          [0, 1],
          [1, 0]
        ]
      >
      iex> l
      #Nx.Tensor<
        f32[2][2]
        [
          [1.0, 0.0],
          [0.25, 1.0]
        ]
      >
      iex> u
      #Nx.Tensor<
        f32[2][2]
        [
          [4.0, 2.0],
          [0.0, 1.5]
        ]
      >

  ## Error cases

      iex> Nx.LinAlg.lu(Nx.tensor([[1, 2, 3], [4, 5, 6]]))
      ** (ArgumentError) tensor must be a square matrix or a batch of square matrices, got shape: {2, 3}
  """
  @spec lu(Nx.t(), keyword) :: {Nx.Tensor.t(), Nx.Tensor.t(), Nx.Tensor.t()}
  def lu(tensor, opts \\ [])

  def lu(tensor, opts) when vectorized(tensor),
    do: batched(tensor, &lu(&1, opts))

  def lu(tensor, opts) do
    opts = Keyword.validate!(opts, eps: 1.0e-10)
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)
    {p_shape, l_shape, u_shape} = Nx.Shape.lu(shape)
    names = nil_names(shape)
    float = Nx.Type.to_floating(type)
    p = %{tensor | type: type, shape: p_shape, names: names}
    l = %{tensor | type: float, shape: l_shape, names: names}
    u = %{tensor | type: float, shape: u_shape, names: names}
    Nx.Block.backend([tensor]).lu({p, l, u}, tensor, opts)
  end

  @doc """
  Raises square matrices (or a batch of them) to an integer power by
  repeated squaring. Power `0` gives the identity (in the input's type);
  negative powers invert first.

  ## Examples

      iex> Nx.LinAlg.matrix_power(Nx.tensor([[1, 1], [1, 0]]), 10)
      #Nx.Tensor<
        s32[2][2]
        [
          [89, 55],
          [55, 34]
        ]
      >

      iex> Nx.LinAlg.matrix_power(Nx.tensor([[2.0, 0.0], [0.0, 4.0]]), -2)
      #Nx.Tensor<
        f32[2][2]
        [
          [0.25, 0.0],
          [0.0, 0.0625]
        ]
      >

      iex> Nx.LinAlg.matrix_power(Nx.iota({2, 2, 2}), 0)
      #Nx.Tensor<
        s32[2][2][2]
        [
          [
            [1, 0],
            [0, 1]
          ],
          [
            [1, 0],
            [0, 1]
          ]
        ]
      >

  ## Error cases

      iex> Nx.LinAlg.matrix_power(Nx.iota({2, 3}), 2)
      ** (ArgumentError) matrix_power/2 expects a square matrix or a batch of square matrices, got tensor with shape: {2, 3}
  """
  @spec matrix_power(Nx.t(), integer) :: Nx.Tensor.t()
  def matrix_power(tensor, power) when vectorized(tensor) and is_integer(power),
    do: batched(tensor, &matrix_power(&1, power))

  def matrix_power(tensor, power) when is_integer(power) and power < 0 do
    %T{shape: shape} = tensor = matrix_input(tensor, 0)
    :ok = Nx.Shape.matrix_power(shape)
    matrix_power(invert(tensor), -power)
  end

  def matrix_power(tensor, 0) do
    %T{shape: shape, type: type} = matrix_input(tensor, 0)
    :ok = Nx.Shape.matrix_power(shape)
    Nx.eye(shape, type: type)
  end

  def matrix_power(tensor, power) when is_integer(power) do
    %T{shape: shape} = tensor = matrix_input(tensor, 0)
    :ok = Nx.Shape.matrix_power(shape)
    rank = tuple_size(shape)
    batch = Enum.to_list(0..(rank - 3)//1)
    mul = &Nx.dot(&1, [rank - 1], batch, &2, [rank - 2], batch)

    # square-and-multiply over the bits of the power, lowest first
    {result, _} =
      power
      |> Integer.digits(2)
      |> Enum.reverse()
      |> Enum.with_index()
      |> Enum.reduce({nil, tensor}, fn {bit, index}, {acc, square} ->
        acc = if bit == 1, do: if(acc, do: mul.(acc, square), else: square), else: acc
        last? = index == length(Integer.digits(power, 2)) - 1
        {acc, if(last?, do: square, else: mul.(square, square))}
      end)

    result
  end

  @doc """
  The determinant of square matrices (or of a batch of them). Singular
  matrices give zero.

  ## Examples

      iex> Nx.LinAlg.determinant(Nx.tensor([[1, 2], [3, 4]]))
      #Nx.Tensor<
        f32
        -2.0
      >

      iex> Nx.LinAlg.determinant(Nx.tensor([[[2, 0, 0], [0, 3, 0], [0, 0, 4]], [[1, 2, 3], [2, 4, 6], [0, 1, 1]]]))
      #Nx.Tensor<
        f32[2]
        [24.0, 0.0]
      >

      iex> Nx.LinAlg.determinant(Nx.tensor([[Complex.new(0, 1), 0], [0, 2]]))
      #Nx.Tensor<
        c64
        0.0+2.0i
      >

  ## Error cases

      iex> Nx.LinAlg.determinant(Nx.tensor([[1, 2, 3], [4, 5, 6]]))
      ** (ArgumentError) determinant/1 expects a square tensor, got tensor with shape: [2, 3]
  """
  @spec determinant(Nx.t()) :: Nx.Tensor.t()
  def determinant(tensor) when vectorized(tensor), do: batched(tensor, &determinant/1)

  def determinant(tensor) do
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)
    {batch, matrix} = shape |> Tuple.to_list() |> Enum.split(-2)

    case matrix do
      [n, n] ->
        :ok

      other ->
        raise ArgumentError,
              "determinant/1 expects a square tensor, got tensor with shape: #{inspect(other)}"
    end

    out_shape = List.to_tuple(batch)

    out = %{
      tensor
      | type: Nx.Type.to_floating(type),
        shape: out_shape,
        names: nil_names(out_shape)
    }

    Nx.Block.run(:determinant, out, [tensor], &Defaults.determinant/1)
  end

  @doc """
  The rank of a matrix: the number of singular values larger than
  `eps * max(m, n) * largest singular value`, as a `u32` scalar.

  ## Options

    * `:eps` - the relative tolerance (default `1.0e-7`)

  ## Examples

      iex> Nx.LinAlg.matrix_rank(Nx.tensor([[1, 2], [2, 4]]))
      #Nx.Tensor<
        u32
        1
      >

      iex> Nx.LinAlg.matrix_rank(Nx.tensor([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 2]]))
      #Nx.Tensor<
        u32
        3
      >

  ## Error cases

      iex> Nx.LinAlg.matrix_rank(Nx.tensor([1, 2]))
      ** (ArgumentError) tensor must have rank 2, got rank 1 with shape {2}

      iex> Nx.LinAlg.matrix_rank(Nx.tensor([[Complex.new(0, 1)]]))
      ** (ArgumentError) Nx.LinAlg.matrix_rank/2 is not yet implemented for complex inputs
  """
  @spec matrix_rank(Nx.t(), keyword) :: Nx.Tensor.t()
  def matrix_rank(tensor, opts \\ [])

  def matrix_rank(tensor, opts) when vectorized(tensor),
    do: Nx.Vectorize.map_entries([tensor], fn [t] -> matrix_rank(t, opts) end)

  def matrix_rank(tensor, opts) do
    opts = Keyword.validate!(opts, eps: 1.0e-7)
    %T{shape: shape, type: type} = tensor = matrix_input(tensor, 0)
    complex_not_supported!(type, "matrix_rank")

    if tuple_size(shape) != 2 do
      raise ArgumentError,
            "tensor must have rank 2, got rank #{tuple_size(shape)} with shape #{inspect(shape)}"
    end

    out = %{tensor | type: {:u, 32}, shape: {}, names: []}
    Nx.Block.run(:matrix_rank, out, [tensor, opts], &Defaults.matrix_rank/2)
  end

  @doc """
  The least-squares solution `x` of `a . x = b` for a matrix `a` of
  `{m, n}` and a vector `b` of `{m}`: the `x` of smallest norm that
  minimizes `norm(a . x - b)`, computed as `pinv(a) . b`.

  ## Options

    * `:eps` - the threshold below which singular values of `a` are
      dropped (default `1.0e-15`)

  ## Examples

      iex> Nx.LinAlg.least_squares(Nx.tensor([[1, 0], [0, 2]]), Nx.tensor([3, 4]))
      #Nx.Tensor<
        f32[2]
        [3.0, 2.0]
      >

      iex> a = Nx.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], type: :f64)
      iex> Nx.LinAlg.least_squares(a, Nx.tensor([1.0, 3.0, 5.0], type: :f64)) |> Nx.round()
      #Nx.Tensor<
        f64[2]
        [1.0, 2.0]
      >

  ## Error cases

      iex> Nx.LinAlg.least_squares(Nx.tensor([1, 2]), Nx.tensor([1, 2]))
      ** (ArgumentError) tensor of 1st argument must have rank 2, got rank 1 with shape {2}

      iex> Nx.LinAlg.least_squares(Nx.tensor([[1, 2], [3, 4]]), Nx.tensor([[1], [2]]))
      ** (ArgumentError) tensor of 2nd argument must have rank 1, got rank 2 with shape {2, 1}

      iex> Nx.LinAlg.least_squares(Nx.tensor([[1, 2], [3, 4]]), Nx.tensor([1, 2, 3]))
      ** (ArgumentError) the number of rows of the matrix as the 1st argument and the number of columns of the vector as the 2nd argument must be the same, got 1st argument shape {2, 2} and 2nd argument shape {3}
  """
  @spec least_squares(Nx.t(), Nx.t(), keyword) :: Nx.Tensor.t()
  def least_squares(a, b, opts \\ [])

  def least_squares(a, b, opts) when vectorized(a) or vectorized(b),
    do: Nx.Vectorize.map_entries([a, b], fn [a, b] -> least_squares(a, b, opts) end)

  def least_squares(a, b, opts) do
    opts = Keyword.validate!(opts, eps: 1.0e-15)
    %T{shape: a_shape, type: a_type} = a = matrix_input(a, 0)
    %T{shape: b_shape, type: b_type} = b = matrix_input(b, 0)
    complex_not_supported!(a_type, "least_squares")
    complex_not_supported!(b_type, "least_squares")

    if tuple_size(a_shape) != 2 do
      raise ArgumentError,
            "tensor of 1st argument must have rank 2, got rank #{tuple_size(a_shape)} " <>
              "with shape #{inspect(a_shape)}"
    end

    if tuple_size(b_shape) != 1 do
      raise ArgumentError,
            "tensor of 2nd argument must have rank 1, got rank #{tuple_size(b_shape)} " <>
              "with shape #{inspect(b_shape)}"
    end

    {m, n} = a_shape

    if b_shape != {m} do
      raise ArgumentError,
            "the number of rows of the matrix as the 1st argument and " <>
              "the number of columns of the vector as the 2nd argument must be the same, " <>
              "got 1st argument shape #{inspect(a_shape)} and 2nd argument shape #{inspect(b_shape)}"
    end

    type = Nx.Type.merge(Nx.Type.to_floating(a_type), b_type) |> Nx.Type.to_floating()
    out = %{b | type: type, shape: {n}, names: [nil]}
    Nx.Block.run(:least_squares, out, [a, b, opts], &Defaults.least_squares/3)
  end

  ## Helpers

  # Tensors (numbers are converted). Vectorized inputs never get here: the functions
  # that batch over leading axes take them devectorized, the others entry by entry.
  defp matrix_input(tensor, _min_rank \\ 0), do: Nx.to_tensor(tensor)

  # The vectorized axes are batch axes of the devectorized tensor.
  defp batched(tensor, fun), do: Nx.Vectorize.apply(tensor, fn t, _ -> fun.(t) end)

  defp nil_names(shape), do: List.duplicate(nil, tuple_size(shape))

  defp complex_not_supported!({:c, _}, name) do
    raise ArgumentError, "Nx.LinAlg.#{name}/2 is not yet implemented for complex inputs"
  end

  defp complex_not_supported!(_type, _name), do: :ok
end
